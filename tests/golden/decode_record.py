#!/usr/bin/env python3
"""An independent record-v1 decoder, written from docs/FORMAT.md alone.

It shares no code with the Rust core: ChaCha20-Poly1305 comes from
pyca/cryptography (OpenSSL), HChaCha20 and the strict base64url decoder are
written here from their specifications. It runs every golden vector under
tests/golden/record/ and checks that it reaches the same result and the same
plaintext.

    python3 tests/golden/decode_record.py        # exits non-zero on mismatch
"""

from __future__ import annotations

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


def main() -> int:
    root = Path(__file__).resolve().parent / "record"
    files = sorted(root.glob("*.json"))
    mismatches = 0
    for path in files:
        v = json.loads(path.read_text(encoding="utf-8"))
        try:
            if "record_hex" in v:
                pt = decrypt_record(bytes.fromhex(v["record_hex"]), v["keyring"], v["context"])
            else:
                pt = decrypt_text(v["record_text"], v["keyring"], v["context"])
            result = "ok"
        except Reject as r:
            pt, result = None, r.result
        good = result == v["result"] and (result != "ok" or pt.hex() == v["plaintext_hex"])
        if not good:
            mismatches += 1
            print(f"MISMATCH {path.name}: got {result}, want {v['result']}", file=sys.stderr)
    passed = len(files) - mismatches
    print(f"independent decoder (FORMAT.md + pyca/cryptography): {passed} passed, {mismatches} failed")
    return 1 if mismatches or not files else 0


if __name__ == "__main__":
    sys.exit(main())
