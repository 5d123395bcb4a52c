"""The rest of the Python API: buffer-protocol inputs, wipeable output,
metadata, envelopes, streaming over paths and file objects, the seekable
reader, audit, key providers, PKCS#11 and fork."""

from __future__ import annotations

import array
import gc
import io
import logging
import mmap
import multiprocessing
import os
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, List

import pytest

import strongroom

CTX = {"table": "customers", "column": "email", "row": "1001"}


@pytest.fixture
def keyring() -> strongroom.Keyring:
    k = strongroom.Keyring()
    k.create_key("pii")
    return k


def test_any_buffer_protocol_object_is_an_input(keyring: strongroom.Keyring, tmp_path: Path) -> None:
    data = b"ada@example.com"
    inputs: List[Any] = [data, bytearray(data), memoryview(data), array.array("B", data)]
    inputs.append(memoryview(b"xx" + data + b"yy")[2:-2])
    with open(tmp_path / "m", "wb") as f:
        f.write(data)
    with open(tmp_path / "m", "rb") as f:
        m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        inputs.append(m)
        for x in inputs:
            record = keyring.encrypt("pii", x, CTX)
            assert keyring.decrypt(record, CTX) == data
            assert keyring.decrypt(memoryview(record), CTX) == data
            assert keyring.decrypt(bytearray(record), CTX) == data
        m.close()
    # Over the GIL-release threshold a mutable input is copied first; the
    # result is the same.
    big = bytearray(os.urandom(100_000))
    assert keyring.decrypt(keyring.encrypt("pii", big), None) == big
    with pytest.raises(TypeError):
        keyring.encrypt("pii", "a str is not bytes")  # type: ignore[call-overload]
    with pytest.raises((TypeError, BufferError)):
        keyring.encrypt("pii", memoryview(bytes(range(10)))[::2])
    with pytest.raises(TypeError):
        keyring.encrypt("pii", 12345)  # type: ignore[call-overload]


def test_decrypt_into_leaves_no_plaintext_on_any_failure(keyring: strongroom.Keyring) -> None:
    secret = b"4111 1111 1111 1111"
    record = keyring.encrypt("pii", secret, CTX)
    out = bytearray(64)
    n = keyring.decrypt_into(record, out, CTX)
    assert bytes(out[:n]) == secret
    with pytest.raises(strongroom.BufferTooSmall):
        keyring.decrypt_into(record, bytearray(5), CTX)
    with pytest.raises(TypeError):
        keyring.decrypt_into(record, bytes(64), CTX)
    # The tamper sweep: every byte of the record flipped, every truncation,
    # a wrong context. The buffer starts full of a marker each time and
    # must end holding no plaintext byte (it is zeroed).
    cases = []
    for i in range(len(record)):
        r = bytearray(record)
        r[i] ^= 0x01
        cases.append((bytes(r), CTX))
    cases += [(record[:i], CTX) for i in range(len(record))]
    cases.append((record, {"table": "orders"}))
    failed = 0
    for rec, ctx in cases:
        buf = bytearray(b"\xaa" * 64)
        with pytest.raises(strongroom.Error):
            keyring.decrypt_into(rec, buf, ctx)
        assert buf == bytearray(64), "plaintext or marker left after a failure"
        failed += 1
    assert failed == 2 * len(record) + 1
    # The same for envelopes.
    env = keyring.encrypt_envelope("pii", secret * 10, CTX, chunk_size=64)
    for i in range(0, len(env), 7):
        e = bytearray(env)
        e[i] ^= 0x80
        buf = bytearray(b"\xaa" * 256)
        with pytest.raises(strongroom.Error):
            keyring.decrypt_envelope_into(bytes(e), buf, CTX)
        assert buf == bytearray(256)
    buf = bytearray(256)
    assert keyring.decrypt_envelope_into(env, buf, CTX) == len(secret) * 10
    # The record's own buffer as the output: the input is read first.
    same = bytearray(record)
    assert keyring.decrypt_into(same, same, CTX) == len(secret)
    assert bytes(same[: len(secret)]) == secret


def test_secret_bytes_can_be_wiped(keyring: strongroom.Keyring) -> None:
    record = keyring.encrypt("pii", b"top secret", CTX)
    s = keyring.decrypt_secret(record, CTX)
    assert isinstance(s, strongroom.SecretBytes)
    assert len(s) == 10 and s == b"top secret" and bytes(s.view()) == b"top secret"
    assert "top secret" not in repr(s)
    view = s.view()
    s.wipe()
    assert bytes(view) == bytes(10)
    with keyring.decrypt_secret(record, CTX) as t:
        inner = t.view()
        assert inner.tobytes() == b"top secret"
    assert inner.tobytes() == bytes(10)
    env = keyring.encrypt_envelope("pii", b"envelope secret", CTX)
    with keyring.decrypt_envelope_secret(env, CTX) as e:
        assert e == b"envelope secret"
    with pytest.raises(strongroom.AuthenticationError):
        keyring.decrypt_secret(record, {"row": "2"})
    if sys.version_info >= (3, 12):
        assert bytes(memoryview(keyring.decrypt_secret(record, CTX))) == b"top secret"  # type: ignore[arg-type]


def test_metadata_is_frozen_with_datetimes_and_rotation_due(keyring: strongroom.Keyring) -> None:
    before = datetime.now(timezone.utc) - timedelta(seconds=2)
    keyring.rotate("pii")
    keyring.disable("pii", 1)
    info = keyring.key_info("pii")
    assert isinstance(info, strongroom.KeyInfo)
    assert info.name == "pii" and info.primary_version == 2 and info.min_decryption_version == 1
    assert info.created.tzinfo is not None and info.created >= before
    assert [(v.version, v.state) for v in info.versions] == [(1, "disabled"), (2, "enabled")]
    assert info.rotation_period is None and info.rotation_due is None
    with pytest.raises(AttributeError):
        info.name = "other"  # type: ignore[misc]
    assert keyring.keys_due_for_rotation() == []
    keyring.set_rotation_period("pii", timedelta(days=90))
    info = keyring.key_info("pii")
    assert info.rotation_period == timedelta(days=90)
    assert info.rotation_due is not None
    assert info.rotation_due - info.versions[1].created == timedelta(days=90)
    assert keyring.keys_due_for_rotation() == []
    later = datetime.now(timezone.utc) + timedelta(days=91)
    assert keyring.keys_due_for_rotation(later) == ["pii"]
    keyring.create_key("other")
    keyring.set_rotation_period("other", 3600)
    assert keyring.keys_due_for_rotation(later) == ["other", "pii"]
    keyring.set_rotation_period("other", None)
    assert [k.name for k in keyring.keys()] == ["other", "pii"]
    with pytest.raises(strongroom.InvalidArgument):
        keyring.set_rotation_period("pii", 0)
    with pytest.raises(strongroom.KeyNotFound):
        keyring.key_info("nope")
    r = strongroom.inspect_record(keyring.encrypt("pii", b"abc"))
    assert (r.key_id, r.key_version, r.plaintext_len, r.standalone) == (info.key_id, 2, 3, False)


def test_envelopes_for_several_keys_inspect_and_rewrap(keyring: strongroom.Keyring) -> None:
    keyring.create_key("backup")
    env = keyring.encrypt_envelope(["pii", "backup"], b"x" * 1000, CTX, chunk_size=256)
    info = strongroom.inspect_envelope(env)
    assert isinstance(info, strongroom.EnvelopeInfo)
    assert (info.chunk_size, info.chunk_count, info.plaintext_len) == (256, 4, 1000)
    assert dict(info.context) == CTX
    ids = {keyring.key_info(n).key_id for n in ("pii", "backup")}
    assert {r.key_id for r in info.recipients} == ids
    assert {r.version for r in info.recipients} == {1}
    keyring.rotate("pii")
    moved = keyring.rewrap_envelope(env)
    assert moved[info.header_len :] != b"" and moved.endswith(env[info.header_len :])
    versions = {r.key_id: r.version for r in strongroom.inspect_envelope(moved).recipients}
    assert versions[keyring.key_info("pii").key_id] == 2
    keyring.destroy("pii", 1)
    assert keyring.decrypt_envelope(moved, CTX) == b"x" * 1000
    with pytest.raises(strongroom.AuthenticationError):
        keyring.rewrap_envelope(env, {"table": "other"})
    key = os.urandom(32)
    sealed = strongroom.encrypt_envelope_with_key(key, b"standalone", CTX)
    assert strongroom.inspect_envelope(sealed).recipients[0].key_id is None
    assert strongroom.decrypt_envelope_with_key(key, sealed, CTX) == b"standalone"


class Exploding(io.BytesIO):
    """A file object whose write fails after a few calls."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def write(self, b: Any) -> int:
        self.calls += 1
        if self.calls > 2:
            raise OSError(28, "No space left on device")
        return super().write(b)


def test_streaming_over_paths_and_file_objects(keyring: strongroom.Keyring, tmp_path: Path) -> None:
    data = os.urandom(200_000)
    src = tmp_path / "plain"
    src.write_bytes(data)
    out = io.BytesIO()
    assert keyring.encrypt_file("pii", io.BytesIO(data), out, CTX, chunk_size=4096) == len(data)
    sealed = out.getvalue()
    assert keyring.decrypt_envelope(sealed, CTX) == data
    # Every pairing of path and object, both ways.
    keyring.encrypt_file("pii", src, tmp_path / "a.sr", CTX, chunk_size=4096)
    back = io.BytesIO()
    assert keyring.decrypt_file(open(tmp_path / "a.sr", "rb"), back, CTX) == len(data)
    assert back.getvalue() == data
    assert keyring.decrypt_file(io.BytesIO(sealed), tmp_path / "b", CTX) == len(data)
    assert (tmp_path / "b").read_bytes() == data
    with open(src, "rb") as f:
        keyring.encrypt_file("pii", f, str(tmp_path / "c.sr"), CTX)
    assert keyring.decrypt_file(str(tmp_path / "c.sr"), tmp_path / "c", CTX) == len(data)
    assert (tmp_path / "c").read_bytes() == data
    # A tampered last chunk: a file object gets earlier chunks as they
    # authenticate, then they are zeroed and truncated away; a path output
    # never appears.
    bad = bytearray(sealed)
    bad[-3] ^= 1
    sink = io.BytesIO(b"prefix:")
    sink.seek(0, io.SEEK_END)
    with pytest.raises(strongroom.AuthenticationError):
        keyring.decrypt_file(io.BytesIO(bytes(bad)), sink, CTX)
    assert sink.getvalue() == b"prefix:"
    with pytest.raises(strongroom.AuthenticationError):
        keyring.decrypt_file(io.BytesIO(bytes(bad)), tmp_path / "never", CTX)
    assert not (tmp_path / "never").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    # The file object's own exception comes through as it is.
    with pytest.raises(OSError) as e:
        keyring.encrypt_file("pii", io.BytesIO(data), Exploding(), CTX, chunk_size=1024)
    assert e.value.errno == 28
    with pytest.raises(TypeError):
        keyring.encrypt_file("pii", data, io.BytesIO(), CTX)  # type: ignore[arg-type]
    with pytest.raises(strongroom.KeyringIOError):
        keyring.decrypt_file(tmp_path / "missing.sr", io.BytesIO(), CTX)


def test_the_envelope_reader_seeks_like_a_file(keyring: strongroom.Keyring, tmp_path: Path) -> None:
    data = os.urandom(10_000)
    path = tmp_path / "r.sr"
    keyring.encrypt_file("pii", io.BytesIO(data), path, CTX, chunk_size=512)
    sealed = path.read_bytes()
    for source in (path, io.BytesIO(sealed)):
        with keyring.open_envelope(source, CTX) as r:
            assert isinstance(r, io.RawIOBase) and r.seekable() and r.readable()
            assert r.size == len(data)
            for pos, n in [(0, 10), (511, 2), (512, 512), (9990, 100), (4000, 3000), (10_000, 5)]:
                assert r.seek(pos) == pos
                assert r.read(n) == data[pos : pos + n]
                assert r.tell() == min(pos + n, len(data))
            r.seek(-20, io.SEEK_END)
            assert r.read() == data[-20:]
            r.seek(100)
            r.seek(50, io.SEEK_CUR)
            buf = bytearray(30)
            assert r.readinto(buf) == 30 and bytes(buf) == data[150:180]
            r.seek(0)
            assert r.read() == data
        assert r.closed
        with pytest.raises(ValueError):
            r.read(1)
    buffered = io.BufferedReader(keyring.open_envelope(path, CTX))
    assert buffered.read(700) == data[:700]
    # An altered chunk fails only the reads that cover it.
    header = strongroom.inspect_envelope(sealed).header_len
    bad = bytearray(sealed)
    bad[header + 3 * (512 + 16) + 5] ^= 1
    r = keyring.open_envelope(io.BytesIO(bytes(bad)), CTX)
    assert r.read(1024) == data[:1024]
    with pytest.raises(strongroom.AuthenticationError):
        r.seek(3 * 512 + 10)
        r.read(4)
    r.seek(5 * 512)
    assert r.read(10) == data[2560:2570]
    r.close()
    with pytest.raises(strongroom.AuthenticationError):
        keyring.open_envelope(path, {"row": "2"})
    with pytest.raises(strongroom.MalformedInput):
        keyring.open_envelope(io.BytesIO(b"not an envelope at all, not at all"), CTX)


def test_audit_events_to_a_callable_and_to_logging(
    keyring: strongroom.Keyring, caplog: pytest.LogCaptureFixture
) -> None:
    events: List[strongroom.AuditEvent] = []
    keyring.set_audit(events.append)
    record = keyring.encrypt("pii", b"audited", CTX)
    keyring.decrypt(record, CTX)
    with pytest.raises(strongroom.AuthenticationError):
        keyring.decrypt(record, {"row": "9"})
    keyring.rotate("pii")
    got = [(e.action, e.object, e.key_name, e.version, e.error) for e in events]
    assert got[0] == ("encrypt", "record", "pii", 1, None)
    assert got[1][:2] == ("decrypt", "record") and got[1][4] is None
    assert got[2][0] == "decrypt" and got[2][4] == "authentication_failed"
    assert got[3] == ("key_rotated", "key", "pii", 2, None)
    assert all(e.time.tzinfo is not None for e in events)
    assert not events[2].succeeded and events[0].succeeded
    for e in events:
        assert "audited" not in repr(e) and "1001" not in repr(e)
    keyring.set_audit(strongroom.logging_audit())
    with caplog.at_level(logging.INFO, logger="strongroom.audit"):
        keyring.encrypt("pii", b"x", CTX)
        with pytest.raises(strongroom.AuthenticationError):
            keyring.decrypt(record, {})
    msgs = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert (logging.INFO, "strongroom audit: action=encrypt object=record key=pii "
            f"key_id={keyring.key_info('pii').key_id} version=2 outcome=ok") in msgs
    assert any(lvl == logging.WARNING and "outcome=authentication_failed" in m for lvl, m in msgs)
    # A callback that raises is reported, and the operation still works.
    seen: List[Any] = []
    old_hook = sys.unraisablehook
    sys.unraisablehook = seen.append
    try:
        keyring.set_audit(lambda e: 1 / 0)
        assert keyring.decrypt(keyring.encrypt("pii", b"ok"), None) == b"ok"
    finally:
        sys.unraisablehook = old_hook
    assert len(seen) == 2 and isinstance(seen[0].exc_value, ZeroDivisionError)
    keyring.set_audit(None)
    with pytest.raises(TypeError):
        keyring.set_audit(42)  # type: ignore[arg-type]


class ToyKms:
    """A key provider as a KMS client would be: wraps with its own key
    (here a strongroom standalone record, with the header as context)."""

    params = b"kms-key-id:test-1"

    def __init__(self, key: bytes) -> None:
        self.key = key
        self.calls: Dict[str, int] = {"wrap": 0, "unwrap": 0}

    def wrap(self, key: bytearray, aad: bytes) -> bytes:
        self.calls["wrap"] += 1
        assert isinstance(key, bytearray) and len(key) == 32
        return strongroom.encrypt_with_key(self.key, key, {"aad": aad.hex()})

    def unwrap(self, wrapped: bytes, aad: bytes) -> bytes:
        self.calls["unwrap"] += 1
        return strongroom.decrypt_with_key(self.key, wrapped, {"aad": aad.hex()})


class BrokenKms(ToyKms):
    def unwrap(self, wrapped: bytes, aad: bytes) -> bytes:
        raise RuntimeError("the KMS is down; token=hunter2")


def test_a_python_key_provider_seals_a_keyring_file(tmp_path: Path) -> None:
    kms = ToyKms(os.urandom(32))
    path = tmp_path / "kr.srk"
    k = strongroom.Keyring.create_provider(path, kms)
    k.create_key("pii")
    record = k.encrypt("pii", b"under a kms")
    assert kms.calls["wrap"] >= 2
    again = strongroom.Keyring.open_provider(path, kms)
    assert again.decrypt(record) == b"under a kms"
    assert kms.params in path.read_bytes()
    with pytest.raises(strongroom.AuthenticationError):
        strongroom.Keyring.open_provider(path, ToyKms(os.urandom(32)))
    with pytest.raises(strongroom.KeyProviderError) as e:
        strongroom.Keyring.open_provider(path, BrokenKms(kms.key))
    assert "RuntimeError" in str(e.value) and "hunter2" not in str(e.value)
    with pytest.raises(TypeError):
        strongroom.Keyring.open_provider(path, object())  # type: ignore[arg-type]


def test_pkcs11_root_with_softhsm(tmp_path: Path) -> None:
    module = os.environ.get("STRONGROOM_TEST_PKCS11_MODULE")
    if not module:
        if os.environ.get("STRONGROOM_REQUIRE_PKCS11") == "1":
            pytest.fail("STRONGROOM_REQUIRE_PKCS11=1 but no STRONGROOM_TEST_PKCS11_MODULE")
        pytest.skip("no SoftHSM2 token set up (scripts/python-tests.sh sets one up)")
    assert strongroom.PKCS11
    token, pin = os.environ["STRONGROOM_TEST_PKCS11_TOKEN"], os.environ["STRONGROOM_TEST_PKCS11_PIN"]
    path = tmp_path / "hsm.srk"
    label = f"python-{os.getpid()}"
    k = strongroom.Keyring.create_pkcs11(path, module, token, pin, label)
    k.create_key("pii")
    record = k.encrypt("pii", b"sealed by a token")
    again = strongroom.Keyring.open_pkcs11(path, module, token, pin, label)
    assert again.decrypt(record) == b"sealed by a token"
    with pytest.raises(strongroom.KeyProviderError) as e:
        strongroom.Keyring.open_pkcs11(path, module, token, "0000", label)
    assert "0000" not in str(e.value)


def _child(conn: Any, record: bytes) -> None:
    k = _FORK_KEYRING
    out = [k.encrypt("pii", b"same plaintext", CTX) for _ in range(20)]
    conn.send((out, k.decrypt(record, CTX)))
    conn.close()


_FORK_KEYRING: Any = None


def test_fork_children_work_and_never_reuse_nonces(keyring: strongroom.Keyring) -> None:
    global _FORK_KEYRING
    _FORK_KEYRING = keyring
    ctx = multiprocessing.get_context("fork")
    parent_record = keyring.encrypt("pii", b"from the parent", CTX)
    records = [keyring.encrypt("pii", b"same plaintext", CTX) for _ in range(20)]
    procs = []
    for _ in range(4):
        a, b = ctx.Pipe()
        p = ctx.Process(target=_child, args=(b, parent_record))
        p.start()
        procs.append((p, a))
    for p, a in procs:
        out, plain = a.recv()
        p.join(30)
        assert p.exitcode == 0
        assert plain == b"from the parent"
        records += out
    # Records are header (9 bytes) then a 24-byte nonce (FORMAT.md 4).
    nonces = {r[9:33] for r in records}
    assert len(records) == 100 and len(nonces) == 100
    for r in records:
        assert keyring.decrypt(r, CTX) == b"same plaintext"
    gc.collect()


def test_every_public_name_has_a_docstring() -> None:
    missing = []
    for name in strongroom.__all__:
        obj = getattr(strongroom, name)
        if name.startswith("__") or isinstance(obj, (bool, str)):
            continue
        if not (obj.__doc__ or "").strip():
            missing.append(name)
        if isinstance(obj, type):
            for attr, member in vars(obj).items():
                if attr.startswith("_") or not callable(member) and not isinstance(member, property):
                    continue
                if not (getattr(member, "__doc__", None) or "").strip():
                    missing.append(f"{name}.{attr}")
    assert missing == []


def test_data_keys_rewrap_to_the_primary(keyring: strongroom.Keyring) -> None:
    key, wrapped = keyring.generate_data_key("pii", {"customer": "9"})
    kid = keyring.key_info("pii").key_id
    assert strongroom.inspect_data_key(wrapped) == (kid, 1)
    keyring.rotate("pii")
    moved = keyring.rewrap_data_key(wrapped, {"customer": "9"})
    assert strongroom.inspect_data_key(moved) == (kid, 2)
    keyring.destroy("pii", 1)
    assert keyring.unwrap_data_key(moved, {"customer": "9"}) == key
    with pytest.raises(strongroom.KeyDestroyed):
        keyring.unwrap_data_key(wrapped, {"customer": "9"})
    with pytest.raises(strongroom.AuthenticationError):
        keyring.rewrap_data_key(moved, {"customer": "8"})
    with pytest.raises(strongroom.MalformedInput):
        strongroom.inspect_data_key(b"short")


def test_text_form_records_for_text_columns(keyring: strongroom.Keyring) -> None:
    text = keyring.encrypt("pii", b"ada@example.com", CTX, text=True)
    assert isinstance(text, str) and text.startswith("sr1:")
    assert keyring.decrypt(text, CTX) == b"ada@example.com"
    assert strongroom.inspect_record(text).plaintext_len == 15
    buf = bytearray(15)
    assert keyring.decrypt_into(text, buf, CTX) == 15 and buf == b"ada@example.com"
    keyring.rotate("pii")
    moved = keyring.rewrap(text, CTX)
    assert isinstance(moved, str) and moved != text
    assert keyring.rewrap(moved, CTX) == moved
    assert isinstance(keyring.rewrap(strongroom.from_text(text), CTX), bytes)
    key = os.urandom(32)
    t = strongroom.encrypt_with_key(key, b"standalone", text=True)
    assert strongroom.decrypt_with_key(key, t) == b"standalone"
    with pytest.raises(strongroom.MalformedInput):
        keyring.decrypt("not a record", CTX)
    with pytest.raises(strongroom.MalformedInput):
        keyring.decrypt(text[:-2] + "!!", CTX)


def test_the_remaining_exception_paths(keyring: strongroom.Keyring, tmp_path: Path) -> None:
    record = bytearray(keyring.encrypt("pii", b"x"))
    record[0] = 0x7F
    with pytest.raises(strongroom.UnsupportedFormat) as unsupported:
        keyring.decrypt(bytes(record))
    assert unsupported.value.kind == "unsupported_format"
    assert isinstance(unsupported.value, strongroom.MalformedInput)
    with pytest.raises(strongroom.TooLarge):
        keyring.encrypt("pii", b"x", {"k": "v" * 100_000})
    with pytest.raises(strongroom.KeyNotFound) as unknown:
        strongroom.Keyring().decrypt(keyring.encrypt("pii", b"x"))
    assert unknown.value.kind == "unknown_key_id"
    # A passphrase keyring: a wrong passphrase; a restored older copy.
    path = tmp_path / "p.srk"
    k = strongroom.Keyring.create_passphrase(path, b"correct horse")
    k.create_key("a")
    older = path.read_bytes()
    k.rotate("a")
    with pytest.raises(strongroom.AuthenticationError):
        strongroom.Keyring.open_passphrase(path, bytearray(b"wrong horse"))
    with pytest.raises(strongroom.InvalidArgument):
        strongroom.Keyring.create_passphrase(tmp_path / "q.srk", b"")
    path.write_bytes(older)
    with pytest.raises(strongroom.KeyringRollback) as rollback:
        strongroom.Keyring.open_passphrase(path, b"correct horse")
    assert rollback.value.kind == "rollback" and rollback.value.code == 105
    assert k.path is not None and str(k.path) == str(path)


def test_a_rust_panic_is_an_exception_not_a_crash() -> None:
    from strongroom import _strongroom

    with pytest.raises(BaseException) as e:
        _strongroom._test_panic()
    assert type(e.value).__name__ == "PanicException"
    assert "on purpose" in str(e.value)
    k = strongroom.Keyring()
    k.create_key("still-works")
    assert k.decrypt(k.encrypt("still-works", b"ok")) == b"ok"


class MyStr(str):
    """A str subclass: never taken from the context cache."""


def test_the_context_cache_never_serves_a_changed_context() -> None:
    """The binding reuses the last context when the dict holds the very
    same string objects; any change of a key, a value, the order or the
    number of pairs, and str subclasses, build it anew."""
    k = strongroom.Keyring()
    k.create_key("pii")
    table, column, email, phone = "customers", "column", "email", "phone"
    ctx = {"table": table, column: email}
    rec = k.encrypt("pii", b"ada", ctx)
    assert k.decrypt(rec, ctx) == b"ada"
    # The same text in other objects: the same context.
    same_text = {"".join(["tab", "le"]): "".join(["custo", "mers"]), column: email}
    assert k.decrypt(rec, same_text) == b"ada"
    for changed in (
        {"table": table, column: phone},
        {"table": table},
        {"table": table, column: email, "extra": "x"},
        {"table": MyStr("other"), column: email},
    ):
        k.decrypt(rec, ctx)  # the cache now holds ctx
        with pytest.raises(strongroom.AuthenticationError):
            k.decrypt(rec, changed)
    # The dict itself changed in place between calls.
    k.decrypt(rec, ctx)
    ctx[column] = phone
    with pytest.raises(strongroom.AuthenticationError):
        k.decrypt(rec, ctx)
    ctx[column] = email
    assert k.decrypt(rec, ctx) == b"ada"
    # A subclass with the same text is the same context (built, not cached).
    sub = {"table": MyStr(table), column: MyStr(email)}
    assert k.decrypt(rec, sub) == b"ada"
    assert k.decrypt(rec, sub) == b"ada"
    # Order does not change the canonical context.
    assert k.decrypt(rec, {column: email, "table": table}) == b"ada"
