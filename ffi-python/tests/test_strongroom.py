"""The Python module as an application uses it: records, envelopes, key
rotation, disable and destroy, keyring files, and the exception classes
(each carrying the core's stable kind), with tampered and truncated input
and 8 threads sharing one keyring while another rotates."""

import os
import threading

import pytest

import strongroom
from strongroom import _strongroom

CTX = {"table": "customers", "column": "email", "row": "1001"}


@pytest.fixture
def keyring():
    k = strongroom.Keyring()
    k.create_key("pii")
    return k


def test_record_round_trip_with_context_and_text_form(keyring):
    record = keyring.encrypt("pii", b"ada@example.com", CTX)
    assert len(record) == len(b"ada@example.com") + 49
    assert keyring.decrypt(record, CTX) == b"ada@example.com"
    assert keyring.decrypt(bytearray(record), CTX) == b"ada@example.com"
    assert keyring.decrypt(memoryview(record), CTX) == b"ada@example.com"
    text = strongroom.to_text(record)
    assert text.startswith("sr1:")
    assert strongroom.from_text(text) == record


def test_every_failure_is_a_strongroom_error_with_its_kind(keyring):
    record = keyring.encrypt("pii", b"secret", CTX)
    with pytest.raises(strongroom.AuthenticationError) as e:
        keyring.decrypt(record, {"table": "orders"})
    assert e.value.kind == "authentication_failed" and e.value.code == 1
    tampered = bytearray(record)
    tampered[-1] ^= 1
    with pytest.raises(strongroom.AuthenticationError):
        keyring.decrypt(bytes(tampered), CTX)
    with pytest.raises(strongroom.MalformedInput):
        keyring.decrypt(record[:20], CTX)
    with pytest.raises(strongroom.MalformedInput):
        strongroom.from_text("sr1:not base64!")
    with pytest.raises(strongroom.KeyNotFound) as e:
        keyring.encrypt("nope", b"x")
    assert e.value.kind == "unknown_key_name"
    with pytest.raises(strongroom.KeyExists):
        keyring.create_key("pii")
    with pytest.raises(strongroom.InvalidArgument):
        keyring.create_key("")
    with pytest.raises(strongroom.InvalidArgument):
        keyring.encrypt("pii", b"x", {"": "empty key"})
    with pytest.raises(TypeError):
        keyring.encrypt("pii", "a str is not bytes")


def test_every_core_kind_has_its_class():
    kinds = _strongroom._error_kinds()
    assert len(kinds) >= 23
    for code, name, cls in kinds:
        klass = getattr(strongroom.exceptions, cls)
        assert issubclass(klass, strongroom.Error), (code, name, cls)


def test_rotation_disable_destroy_and_rewrap(keyring):
    old = keyring.encrypt("pii", b"v1 data", CTX)
    assert keyring.rotate("pii") == 2
    new = keyring.encrypt("pii", b"v2 data", CTX)
    assert keyring.decrypt(old, CTX) == b"v1 data"
    moved = keyring.rewrap(old, CTX)
    assert moved != old and keyring.decrypt(moved, CTX) == b"v1 data"
    assert keyring.rewrap(new, CTX) == new
    with pytest.raises(strongroom.PrimaryVersionError):
        keyring.destroy("pii", 2)
    keyring.disable("pii", 1)
    with pytest.raises(strongroom.KeyDisabled):
        keyring.decrypt(old, CTX)
    keyring.enable("pii", 1)
    keyring.destroy("pii", 1)
    with pytest.raises(strongroom.KeyDestroyed) as e:
        keyring.decrypt(old, CTX)
    assert e.value.kind == "version_destroyed"
    assert keyring.decrypt(moved, CTX) == b"v1 data"


def test_envelopes_of_any_size(keyring):
    for size in [0, 1, 63, 64, 65, 192, 300_000]:
        data = os.urandom(size)
        env = keyring.encrypt_envelope("pii", data, CTX, chunk_size=64 if size < 1000 else 65536)
        assert keyring.decrypt_envelope(env, CTX) == data
        # One byte short: the last tag fails, or the body's layout no longer
        # fits the chunk size, which is malformed (FORMAT.md 7.6; the exact
        # result per size is the Rust golden vectors' to pin down).
        with pytest.raises((strongroom.AuthenticationError, strongroom.MalformedInput)):
            keyring.decrypt_envelope(env[:-1], CTX)
        altered = bytearray(env)
        altered[len(env) // 2] ^= 1
        with pytest.raises(strongroom.Error):
            keyring.decrypt_envelope(bytes(altered), CTX)


def test_keyring_files_under_a_key_file(tmp_path):
    key = tmp_path / "root.key"
    fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, bytes(range(32)))  # TEST KEY
    os.close(fd)
    path = tmp_path / "keyring.srk"
    with pytest.raises(strongroom.KeyringNotFound):
        strongroom.Keyring.open_key_file(path, key)
    k = strongroom.Keyring.create_key_file(path, key)
    k.create_key("files")
    record = k.encrypt("files", b"persisted")
    with pytest.raises(strongroom.KeyringExists):
        strongroom.Keyring.create_key_file(path, key)
    again = strongroom.Keyring.open_key_file(path, key)
    assert again.key_names() == ["files"]
    assert again.decrypt(record) == b"persisted"
    k.rotate("files")
    assert again.primary_version("files") == 1
    again.reload()
    assert again.primary_version("files") == 2
    os.chmod(key, 0o644)
    with pytest.raises(strongroom.InsecurePermissions):
        strongroom.Keyring.open_key_file(path, key)


def test_eight_threads_share_a_keyring_while_one_rotates(keyring):
    errors = []

    def work(n):
        try:
            for i in range(500):
                data = f"{n}-{i}".encode()
                assert keyring.decrypt(keyring.encrypt("pii", data, CTX), CTX) == data
        except Exception as e:  # noqa: BLE001 - collected and asserted below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for _ in range(50):
        keyring.rotate("pii")
    for t in threads:
        t.join()
    assert errors == []
    assert keyring.primary_version("pii") == 51
