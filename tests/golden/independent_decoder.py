#!/usr/bin/env python3
"""An independent decoder for strongroom's formats, written from
docs/FORMAT.md alone: records (sections 4-5), envelopes (7), wrapped data
keys (8) and derived keys (9).

It shares no code with the Rust core: ChaCha20-Poly1305 comes from
pyca/cryptography (OpenSSL), HKDF from Python's hmac module, and HChaCha20
and the strict base64url decoder are written here from their
specifications. It runs every golden vector under tests/golden/ and checks
that it reaches the same result and the same plaintext.

    python3 tests/golden/independent_decoder.py   # exits non-zero on mismatch
"""

from __future__ import annotations

import hashlib
import hmac
import json
import struct
import sys
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

# FORMAT.md 4.1, 4.2, 5
FORMAT_V1 = 0x01
OVERHEAD = 49
MAX_PLAINTEXT = 1048576
MAX_RECORD = OVERHEAD + MAX_PLAINTEXT
AAD_LABEL = b"strongroom/record/v1"
TEXT_PREFIX = "sr1:"
MAX_TEXT = 4 + 4 * -(-MAX_RECORD // 3)
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


class Reject(Exception):
    """A FORMAT.md result other than ok."""

    def __init__(self, result: str):
        super().__init__(result)
        self.result = result


# --- primitives -------------------------------------------------------------

def _rotl(v: int, c: int) -> int:
    return ((v << c) & 0xFFFFFFFF) | (v >> (32 - c))


def _quarter(s: list[int], a: int, b: int, c: int, d: int) -> None:
    s[a] = (s[a] + s[b]) & 0xFFFFFFFF; s[d] = _rotl(s[d] ^ s[a], 16)
    s[c] = (s[c] + s[d]) & 0xFFFFFFFF; s[b] = _rotl(s[b] ^ s[c], 12)
    s[a] = (s[a] + s[b]) & 0xFFFFFFFF; s[d] = _rotl(s[d] ^ s[a], 8)
    s[c] = (s[c] + s[d]) & 0xFFFFFFFF; s[b] = _rotl(s[b] ^ s[c], 7)


def hchacha20(key: bytes, nonce16: bytes) -> bytes:
    """draft-irtf-cfrg-xchacha-03 section 2.2."""
    s = list(struct.unpack("<4I", b"expand 32-byte k"))
    s += list(struct.unpack("<8I", key)) + list(struct.unpack("<4I", nonce16))
    for _ in range(10):
        _quarter(s, 0, 4, 8, 12); _quarter(s, 1, 5, 9, 13)
        _quarter(s, 2, 6, 10, 14); _quarter(s, 3, 7, 11, 15)
        _quarter(s, 0, 5, 10, 15); _quarter(s, 1, 6, 11, 12)
        _quarter(s, 2, 7, 8, 13); _quarter(s, 3, 4, 9, 14)
    return struct.pack("<8I", *(s[0:4] + s[12:16]))


def xchacha20poly1305_decrypt(key: bytes, nonce: bytes, sealed: bytes, aad: bytes) -> bytes:
    """FORMAT.md 4.3."""
    subkey = hchacha20(key, nonce[:16])
    return ChaCha20Poly1305(subkey).decrypt(b"\x00" * 4 + nonce[16:], sealed, aad)


def hkdf_extract(salt: bytes, ikm: bytes) -> bytes:
    """RFC 5869 2.2 (an empty salt is HashLen zeros)."""
    return hmac.new(salt or b"\x00" * 32, ikm, hashlib.sha256).digest()


def hkdf_expand32(prk: bytes, info: bytes) -> bytes:
    """RFC 5869 2.3 for L = 32: one block."""
    return hmac.new(prk, info + b"\x01", hashlib.sha256).digest()


def b64url_decode_strict(s: str) -> bytes:
    """FORMAT.md 5: unpadded, canonical base64url only."""
    if len(s) % 4 == 1:
        raise Reject("malformed")
    bits = acc = 0
    out = bytearray()
    for ch in s:
        i = B64URL.find(ch)
        if i < 0:
            raise Reject("malformed")
        acc = (acc << 6) | i
        bits += 6
        if bits >= 8:
            bits -= 8
            out.append((acc >> bits) & 0xFF)
    if acc & ((1 << bits) - 1):
        raise Reject("malformed")  # non-zero unused bits
    return bytes(out)


# --- format -----------------------------------------------------------------

def context_encoding(ctx: dict[str, str]) -> bytes:
    """FORMAT.md 2.2."""
    items = sorted(((k.encode(), v.encode()) for k, v in ctx.items()), key=lambda kv: kv[0])
    out = struct.pack(">H", len(items))
    for k, v in items:
        out += struct.pack(">H", len(k)) + k + struct.pack(">H", len(v)) + v
    return out


def lookup(keyring: list[dict], key_id: int, version: int) -> bytes:
    """FORMAT.md 3.1."""
    key = next((k for k in keyring if int(k["key_id"], 16) == key_id), None)
    if key is None:
        raise Reject("unknown_key_id")
    versions = {v["version"]: v for v in key["versions"]}
    if version not in versions:
        raise Reject("unknown_key_version")
    v = versions[version]
    if v["state"] == "destroyed":
        raise Reject("version_destroyed")
    if version < key["min_decryption_version"]:
        raise Reject("version_below_minimum")
    if v["state"] == "disabled":
        raise Reject("version_disabled")
    return bytes.fromhex(v["key_hex"])


def decrypt_record(record: bytes, keyring: list[dict], ctx: dict[str, str]) -> bytes:
    """FORMAT.md 4.5, in its order."""
    if not record:
        raise Reject("malformed")
    if record[0] != FORMAT_V1:
        raise Reject("unsupported_format")
    if len(record) < OVERHEAD:
        raise Reject("malformed")
    if len(record) > MAX_RECORD:
        raise Reject("too_large")
    header = record[:9]
    key_id, version = struct.unpack(">II", header[1:9])
    if key_id == 0 or version == 0:
        raise Reject("malformed")
    key = lookup(keyring, key_id, version)
    aad = AAD_LABEL + header + context_encoding(ctx)
    try:
        return xchacha20poly1305_decrypt(key, record[9:33], record[33:], aad)
    except InvalidTag:
        raise Reject("authentication_failed") from None


def decrypt_text(text: str, keyring: list[dict], ctx: dict[str, str]) -> bytes:
    """FORMAT.md 5."""
    if len(text) > MAX_TEXT:
        raise Reject("too_large")
    if not text.startswith(TEXT_PREFIX):
        raise Reject("malformed")
    return decrypt_record(b64url_decode_strict(text[len(TEXT_PREFIX):]), keyring, ctx)


# --- envelope (FORMAT.md 7) -------------------------------------------------

MAGIC = b"SREN"
WRAP_LABEL = b"strongroom/envelope/v1/wrap"
COMMIT_LABEL = b"strongroom/envelope/v1/commitment"
PAYLOAD_LABEL = b"strongroom/envelope/v1/payload"


def parse_context(data: bytes) -> dict[str, str]:
    """FORMAT.md 2.3, strictly."""
    if len(data) > 8192 or len(data) < 2:
        raise Reject("malformed")
    (count,) = struct.unpack(">H", data[:2])
    if count > 64:
        raise Reject("malformed")
    at, out, prev = 2, {}, None
    for _ in range(count):
        strings = []
        for _ in range(2):
            if at + 2 > len(data):
                raise Reject("malformed")
            (n,) = struct.unpack(">H", data[at:at + 2])
            at += 2
            if at + n > len(data):
                raise Reject("malformed")
            try:
                strings.append(data[at:at + n].decode("utf-8"))
            except UnicodeDecodeError:
                raise Reject("malformed") from None
            at += n
        k, v = strings
        kb = k.encode()
        if not kb or len(kb) > 256 or len(v.encode()) > 1024 or (prev is not None and kb <= prev):
            raise Reject("malformed")
        prev = kb
        out[k] = v
    if at != len(data):
        raise Reject("malformed")
    return out


def parse_envelope(env: bytes):
    """FORMAT.md 7.3 steps 1-10, in order."""
    if env[:min(4, len(env))] != MAGIC[:min(4, len(env))]:
        raise Reject("malformed")
    if len(env) < 5:
        raise Reject("malformed")
    if env[4] != 0x01:
        raise Reject("unsupported_format")
    if len(env) < 9:
        raise Reject("malformed")
    (chunk_size,) = struct.unpack(">I", env[5:9])
    if not 64 <= chunk_size <= 16777216:
        raise Reject("malformed")
    if len(env) < 43:
        raise Reject("malformed")
    (ctx_len,) = struct.unpack(">H", env[41:43])
    if not 2 <= ctx_len <= 8192:
        raise Reject("malformed")
    if len(env) < 44 + ctx_len:
        raise Reject("malformed")
    count = env[43 + ctx_len]
    if not 1 <= count <= 16:
        raise Reject("malformed")
    header_len = 44 + ctx_len + 80 * count + 32
    if len(env) < header_len:
        raise Reject("malformed")
    context = parse_context(env[43:43 + ctx_len])
    recipients, seen = [], set()
    for i in range(count):
        e = env[44 + ctx_len + 80 * i:44 + ctx_len + 80 * (i + 1)]
        key_id, version = struct.unpack(">II", e[:8])
        if (key_id == 0) != (version == 0):
            raise Reject("malformed")
        if key_id and key_id in seen:
            raise Reject("malformed")
        if key_id:
            seen.add(key_id)
        recipients.append((key_id, version, e[8:32], e[32:80], e[:8]))
    body = env[header_len:]
    sealed = chunk_size + 16
    if not body:
        raise Reject("malformed")
    n = -(-len(body) // sealed)
    last_len = len(body) - (n - 1) * sealed
    if last_len < 16 or (n > 1 and last_len == 16):
        raise Reject("malformed")
    return {
        "fixed": env[:43 + ctx_len],
        "salt": env[9:41],
        "chunk_size": chunk_size,
        "context": context,
        "recipients": recipients,
        "committed": env[:header_len - 32],
        "commitment": env[header_len - 32:header_len],
        "body": body,
    }


def unwrap_dk(rec, material: bytes, fixed: bytes) -> bytes:
    key_id, version, nonce, wrapped, id_version = rec
    try:
        return xchacha20poly1305_decrypt(material, nonce, wrapped, WRAP_LABEL + fixed + id_version)
    except InvalidTag:
        raise Reject("authentication_failed") from None


def decrypt_envelope(env: bytes, ctx: dict[str, str], keyring=None, standalone: bytes | None = None) -> bytes:
    """FORMAT.md 7.6, in order."""
    h = parse_envelope(env)
    if context_encoding(h["context"]) != context_encoding(ctx):
        raise Reject("authentication_failed")
    dk, first_error = None, None
    for rec in h["recipients"]:
        key_id, version = rec[0], rec[1]
        try:
            if keyring is not None:
                if key_id == 0 or not any(int(k["key_id"], 16) == key_id for k in keyring):
                    continue
                dk = unwrap_dk(rec, lookup(keyring, key_id, version), h["fixed"])
            else:
                if key_id != 0:
                    continue
                dk = unwrap_dk(rec, standalone, h["fixed"])
            break
        except Reject as r:
            first_error = first_error or r
    if dk is None:
        raise first_error or Reject("unknown_key_id")
    prk = hkdf_extract(h["salt"], dk)
    if not hmac.compare_digest(hkdf_expand32(prk, COMMIT_LABEL + h["committed"]), h["commitment"]):
        raise Reject("authentication_failed")
    payload = hkdf_expand32(prk, PAYLOAD_LABEL + h["fixed"])
    sealed = h["chunk_size"] + 16
    body = h["body"]
    chunks = [body[i:i + sealed] for i in range(0, len(body), sealed)]
    out = b""
    for i, chunk in enumerate(chunks):
        last = 1 if i == len(chunks) - 1 else 0
        nonce = b"\x00" * 15 + struct.pack(">Q", i) + bytes([last])
        try:
            out += xchacha20poly1305_decrypt(payload, nonce, chunk, b"")
        except InvalidTag:
            raise Reject("authentication_failed") from None
    return out


# --- wrapped data keys (FORMAT.md 8) and derived keys (9) --------------------

def unwrap_data_key(blob: bytes, keyring: list[dict], ctx: dict[str, str]) -> bytes:
    if not blob:
        raise Reject("malformed")
    if blob[0] != 0x02:
        raise Reject("unsupported_format")
    if len(blob) != 81:
        raise Reject("malformed")
    key_id, version = struct.unpack(">II", blob[1:9])
    if key_id == 0 or version == 0:
        raise Reject("malformed")
    material = lookup(keyring, key_id, version)
    aad = b"strongroom/datakey/v1" + blob[:9] + context_encoding(ctx)
    try:
        return xchacha20poly1305_decrypt(material, blob[9:33], blob[33:], aad)
    except InvalidTag:
        raise Reject("authentication_failed") from None


def derive_key(keyring: list[dict], name: str, version: int, ctx: dict[str, str]) -> bytes:
    key = next(k for k in keyring if k["name"] == name)
    key_id = int(key["key_id"], 16)
    material = lookup(keyring, key_id, version)
    info = b"strongroom/derive/v1" + struct.pack(">II", key_id, version) + context_encoding(ctx)
    return hkdf_expand32(hkdf_extract(b"", material), info)


def run_vector(v: dict) -> bytes:
    if v["format"] == "record-v1":
        if "record_hex" in v:
            return decrypt_record(bytes.fromhex(v["record_hex"]), v["keyring"], v["context"])
        return decrypt_text(v["record_text"], v["keyring"], v["context"])
    env = bytes.fromhex(v["envelope_hex"])
    if v["opener"] == "keyring":
        return decrypt_envelope(env, v["context"], keyring=v["keyring"])
    if v["opener"] == "data_key":
        d = v["data_key"]
        key = unwrap_data_key(bytes.fromhex(d["wrapped_hex"]), v["keyring"], d["context"])
    else:
        d = v["derived_key"]
        key = derive_key(v["keyring"], d["key_name"], d["version"], d["context"])
    return decrypt_envelope(env, v["context"], standalone=key)


def main() -> int:
    root = Path(__file__).resolve().parent
    files = sorted(root.glob("record/*.json")) + sorted(root.glob("envelope/*.json"))
    mismatches = 0
    for path in files:
        v = json.loads(path.read_text(encoding="utf-8"))
        try:
            pt = run_vector(v)
            result = "ok"
        except Reject as r:
            pt, result = None, r.result
        good = result == v["result"] and (result != "ok" or pt.hex() == v["plaintext_hex"])
        if not good:
            mismatches += 1
            print(f"MISMATCH {path.parent.name}/{path.name}: got {result}, want {v['result']}", file=sys.stderr)
    passed = len(files) - mismatches
    print(f"independent decoder (FORMAT.md + pyca/cryptography): {passed} passed, {mismatches} failed")
    return 1 if mismatches or not files else 0


if __name__ == "__main__":
    sys.exit(main())
