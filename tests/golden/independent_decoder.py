#!/usr/bin/env python3
"""An independent decoder for strongroom's formats, written from
docs/FORMAT.md alone: records (sections 4-5), envelopes (7), wrapped data
keys (8), derived keys (9), keyring files (10, with the transit root of
10.3 against a recorded exchange), the generation file (10.6), the
armored envelope (12) and blind index values (13).

It shares no code with the Rust core: ChaCha20-Poly1305 comes from
pyca/cryptography (OpenSSL), Argon2id from argon2-cffi (the reference C
implementation), HKDF from Python's hmac module, and HChaCha20 and the
strict base64url decoder are written here from their specifications. It runs every golden vector under tests/golden/ and checks
that it reaches the same result and the same plaintext.

    python3 tests/golden/independent_decoder.py   # exits non-zero on mismatch
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import struct
import sys
import unicodedata
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


def decrypt_record(record: bytes, keyring: list[dict], ctx: dict[str, str],
                   standalone: bytes | None = None) -> bytes:
    """FORMAT.md 4.5, in its order; with `standalone`, as a standalone-key
    decoder (4.7)."""
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
    both_zero = key_id == 0 and version == 0
    if (key_id == 0) != (version == 0):
        raise Reject("malformed")
    if standalone is None:
        if both_zero:
            raise Reject("malformed")
        key = lookup(keyring, key_id, version)
    else:
        if not both_zero:
            raise Reject("malformed")
        key = standalone
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


# --- keyring files (FORMAT.md 10) ------------------------------------------

KEYRING_MAGIC = b"SRKR"
MAX_KEYRING_FILE = 16 << 20
ROOT_KINDS = {1: "passphrase", 2: "key_file", 3: "pkcs11", 4: "external", 5: "vault_transit"}
STATES = {1: "enabled", 2: "disabled", 3: "destroyed"}


def argon2id(passphrase: bytes, salt: bytes, m: int, t: int, p: int) -> bytes:
    """RFC 9106 Argon2id, version 0x13, 32-byte output (FORMAT.md 10.3)."""
    from argon2.low_level import Type, hash_secret_raw

    return hash_secret_raw(passphrase, salt, time_cost=t, memory_cost=m, parallelism=p,
                           hash_len=32, type=Type.ID, version=19)


class Cursor:
    """Reads the keyring encoding; running out of bytes is malformed."""

    def __init__(self, data: bytes):
        self.data, self.at = data, 0

    def take(self, n: int) -> bytes:
        if self.at + n > len(self.data):
            raise Reject("malformed")
        out = self.data[self.at:self.at + n]
        self.at += n
        return out

    def u8(self) -> int:
        return self.take(1)[0]

    def u32(self) -> int:
        return struct.unpack(">I", self.take(4))[0]

    def u64(self) -> int:
        return struct.unpack(">Q", self.take(8))[0]


def parse_keyring_encoding(data: bytes) -> list[dict]:
    """FORMAT.md 10.4, with the checks of section 3."""
    c = Cursor(data)
    if c.u8() != 0x01:
        raise Reject("unsupported_format")
    count = c.u32()
    if count > 65536 or count > (len(data) - c.at):
        raise Reject("malformed")
    keys, names, ids = [], [], set()
    for _ in range(count):
        try:
            name = c.take(c.u8()).decode("ascii")
        except UnicodeDecodeError:
            raise Reject("malformed") from None
        if names and name.encode() <= names[-1].encode():
            raise Reject("malformed")
        key_id = c.u32()
        if key_id == 0 or key_id in ids:
            raise Reject("malformed")
        created, primary, minimum = c.u64(), c.u32(), c.u32()
        period = c.u64()
        n = c.u32()
        if not 1 <= n <= 65536 or n > len(data) - c.at:
            raise Reject("malformed")
        versions = []
        for version in range(1, n + 1):
            state = STATES.get(c.u8())
            if state is None:
                raise Reject("malformed")
            v_created = c.u64()
            key_hex = None if state == "destroyed" else c.take(32).hex()
            versions.append({"version": version, "state": state, "created": v_created, "key_hex": key_hex})
        if not 1 <= primary <= n or versions[primary - 1]["state"] != "enabled":
            raise Reject("malformed")
        if not 1 <= minimum <= primary:
            raise Reject("malformed")
        names.append(name)
        ids.add(key_id)
        keys.append({"name": name, "key_id": f"{key_id:08x}", "created": created,
                     "primary_version": primary, "min_decryption_version": minimum,
                     "rotation_period_seconds": period or None, "versions": versions})
    if c.at != len(data):
        raise Reject("malformed")
    return keys


TRANSIT_NAME = re.compile(rb"[A-Za-z0-9._-]+")
TRANSIT_MOUNT = re.compile(rb"[A-Za-z0-9._/-]+")


def parse_transit_params(params: bytes) -> tuple[bytes, bytes]:
    """FORMAT.md 10.3, root kind 5: `params` as (mount, key_name)."""
    if not params:
        raise Reject("malformed")
    m = params[0]
    if len(params) < 2 + m:
        raise Reject("malformed")
    mount, k = params[1:1 + m], params[1 + m]
    key = params[2 + m:]
    if len(key) != k or not 1 <= m <= 255 or not 1 <= k <= 255:
        raise Reject("malformed")
    if (not TRANSIT_MOUNT.fullmatch(mount) or mount.startswith(b"/") or mount.endswith(b"/")
            or not TRANSIT_NAME.fullmatch(key)):
        raise Reject("malformed")
    return mount, key


def transit_unwrap(params: bytes, wrapped: bytes, root_aad: bytes, exchange: dict) -> bytes:
    """FORMAT.md 10.3, root kind 5. The engine is an oracle: the vector
    records the one decrypt request it answers, and any other request gets
    the engine's refusal (`message authentication failed`)."""
    mount, key = parse_transit_params(params)
    if (not wrapped.startswith(b"vault:v")
            or any(b < 0x21 or b > 0x7E or b in b'"\\' for b in wrapped)):
        raise Reject("malformed")
    request = (f"{mount.decode()}/decrypt/{key.decode()}", wrapped.decode(),
               base64.b64encode(root_aad).decode())
    if request != (exchange["path"], exchange["ciphertext"], exchange["associated_data"]):
        raise InvalidTag()
    try:
        sealing_key = base64.b64decode(exchange["plaintext"], validate=True)
    except ValueError:
        raise Reject("malformed") from None
    if len(sealing_key) != 32:
        raise Reject("malformed")
    return sealing_key


def open_keyring_file(data: bytes, root: dict) -> tuple[list[dict], dict | None]:
    """FORMAT.md 10.5, in order: the keys and, for version 2, the lineage."""
    if len(data) > MAX_KEYRING_FILE:
        raise Reject("too_large")
    if len(data) < 4 or data[:4] != KEYRING_MAGIC:
        raise Reject("malformed")
    if len(data) < 5:
        raise Reject("malformed")
    version = data[4]
    if version not in (1, 2):
        raise Reject("unsupported_format")
    if len(data) < 6 or data[5] not in ROOT_KINDS:
        raise Reject("malformed")
    kind = ROOT_KINDS[data[5]]
    # 10.1: version 2 has keyring_id (16) and generation (8) before params_len.
    at, lineage = 6, None
    if version == 2:
        if len(data) < 30:
            raise Reject("malformed")
        generation = struct.unpack(">Q", data[22:30])[0]
        if generation == 0:
            raise Reject("malformed")
        lineage = {"keyring_id_hex": data[6:22].hex(), "generation": generation}
        at = 30
    if len(data) < at + 2:
        raise Reject("malformed")
    p_len = struct.unpack(">H", data[at:at + 2])[0]
    e = at + 2 + p_len  # the parameter end E
    if p_len > 1024 or len(data) < e + 2:
        raise Reject("malformed")
    params = data[at + 2:e]
    w_len = struct.unpack(">H", data[e:e + 2])[0]
    end = e + 2 + w_len
    if w_len > 1024 or len(data) < end + 24 + 16:
        raise Reject("malformed")
    wrapped, header = data[e + 2:end], data[:end]
    nonce, payload = data[end:end + 24], data[end + 24:]
    if root["kind"] != kind:
        raise Reject("invalid_argument")
    if kind == "passphrase":
        if p_len != 28:
            raise Reject("malformed")
        m, t, p = struct.unpack(">III", params[:12])
        if not (1 <= p <= 16 and 1 <= t <= 16 and 8 * p <= m <= 1048576):
            raise Reject("too_large")
        if w_len != 72:
            raise Reject("malformed")
        kek = argon2id(bytes.fromhex(root["passphrase_hex"]), params[12:28], m, t, p)
    elif kind == "key_file":
        if p_len != 0 or w_len != 72:
            raise Reject("malformed")
        kek = hkdf_expand32(hkdf_extract(b"", bytes.fromhex(root["key_hex"])),
                            b"strongroom/keyring/v1/keyfile")
    label = b"strongroom/keyring/v%d/" % version
    root_aad = label + b"root" + data[:e]
    try:
        if kind == "vault_transit":
            sealing_key = transit_unwrap(params, wrapped, root_aad, root["exchange"])
        else:
            sealing_key = xchacha20poly1305_decrypt(kek, wrapped[:24], wrapped[24:], root_aad)
        plain = xchacha20poly1305_decrypt(
            sealing_key, nonce, payload, label + b"payload" + header)
    except InvalidTag:
        raise Reject("authentication_failed") from None
    return parse_keyring_encoding(plain), lineage


GENERATION_FILE = re.compile(
    rb"strongroom keyring generation v1\nkeyring_id ([0-9a-f]{32})\ngeneration ([1-9][0-9]*)\n")
MAX_GENERATION_FILE = 128


def parse_generation_file(data: bytes) -> dict:
    """FORMAT.md 10.6, item 2: the generation file beside a keyring, as
    the lineage it records. Anything else is `malformed`."""
    if len(data) > MAX_GENERATION_FILE:
        raise Reject("malformed")
    match = GENERATION_FILE.fullmatch(data)
    if not match:
        raise Reject("malformed")
    generation = int(match.group(2))
    if generation > 2**64 - 1:
        raise Reject("malformed")
    return {"keyring_id_hex": match.group(1).decode(), "generation": generation}


B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def dearmor(text: str) -> bytes:
    """FORMAT.md 12.2, step by step."""
    data = text.encode("latin-1") if all(ord(c) < 256 for c in text) else b"\xff"
    if not data.endswith(b"\n"):
        raise Reject("malformed")  # step 4: a last line with no LF
    lines = data[:-1].split(b"\n")
    if lines[0] != b"-----BEGIN STRONGROOM ENVELOPE-----":
        raise Reject("malformed")  # step 1
    out = b""
    body = 0
    last = False
    for i, line in enumerate(lines[1:], 1):
        if line == b"-----END STRONGROOM ENVELOPE-----":
            if body == 0 or i != len(lines) - 1:
                raise Reject("malformed")  # step 3
            return out
        if len(line) > 64 or last:
            raise Reject("malformed")  # steps 2 and 4
        if len(line) < 4 or len(line) % 4:
            raise Reject("malformed")
        chars = line.decode("latin-1")
        pad = len(chars) - len(chars.rstrip("="))
        if pad > 2 or any(c not in B64_ALPHABET for c in chars.rstrip("=")):
            raise Reject("malformed")
        # Canonical: the unused low bits before the padding are zero.
        if pad:
            unused = {1: 2, 2: 4}[pad]
            v = B64_ALPHABET.index(chars.rstrip("=")[-1])
            if v & ((1 << unused) - 1):
                raise Reject("malformed")
        out += base64.b64decode(chars, validate=True)
        body += 1
        last = len(line) < 64 or pad > 0
    raise Reject("malformed")  # no END line


# --- blind indexes (FORMAT.md 13) ---------------------------------------------

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,127}")
TRANSFORM_CODES = {"trim": 1, "nfc": 2, "casefold": 3, "digits": 4, "first": 5, "last": 6}
WHITE_SPACE = set(chr(c) for c in [*range(0x09, 0x0E), 0x20, 0x85, 0xA0, 0x1680,
                                    *range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F,
                                    0x205F, 0x3000])


def valid_name(name: str) -> bool:
    """Section 3's name rules (index, key and field names alike)."""
    return (NAME_RE.fullmatch(name) is not None and not name.endswith("/")
            and "//" not in name)


def parse_transform(text: str) -> tuple[int, int | None]:
    if text in ("trim", "nfc", "casefold", "digits"):
        return TRANSFORM_CODES[text], None
    kind, sep, n = text.partition(":")
    if (sep and kind in ("first", "last") and re.fullmatch(r"[1-9][0-9]{0,4}", n)
            and int(n) <= 65535):
        return TRANSFORM_CODES[kind], int(n)
    raise Reject("invalid_argument")


def index_definition(index: dict) -> tuple[bytes, list[list[tuple[int, int | None]]]]:
    """13.1 checks and the 13.2 encoding; also the parsed transforms."""
    bits, slow, fields = index["bits"], index["slow"], index["fields"]
    if not (valid_name(index["name"]) and valid_name(index["key_name"])):
        raise Reject("invalid_argument")
    if not 1 <= bits <= 256 or not 1 <= len(fields) <= 16:
        raise Reject("invalid_argument")
    names = [f["name"] for f in fields]
    if len(set(names)) != len(names) or not all(valid_name(n) for n in names):
        raise Reject("invalid_argument")
    out = struct.pack(">H", len(index["name"])) + index["name"].encode() + struct.pack(">H", bits)
    if slow is None:
        out += b"\x00"
    else:
        m, t, p = slow["m_cost_kib"], slow["t_cost"], slow["p_cost"]
        if not (1 <= p <= 16 and 1 <= t <= 16 and 8 * p <= m <= 1048576):
            raise Reject("invalid_argument")
        out += b"\x01" + struct.pack(">III", m, t, p)
    out += bytes([len(fields)])
    parsed = []
    for f in fields:
        if len(f["transforms"]) > 16:
            raise Reject("invalid_argument")
        ts = [parse_transform(t) for t in f["transforms"]]
        parsed.append(ts)
        out += struct.pack(">H", len(f["name"])) + f["name"].encode() + bytes([len(ts)])
        for code, n in ts:
            out += bytes([code]) + (b"" if n is None else struct.pack(">H", n))
    return out, parsed


def apply_transform(code: int, n: int | None, s: str) -> str:
    """13.3. Python's casefold is CaseFolding.txt C + F."""
    if code == 1:
        start, end = 0, len(s)
        while start < end and s[start] in WHITE_SPACE:
            start += 1
        while end > start and s[end - 1] in WHITE_SPACE:
            end -= 1
        return s[start:end]
    if code == 2:
        return unicodedata.normalize("NFC", s)
    if code == 3:
        return unicodedata.normalize("NFC", unicodedata.normalize("NFD", s).casefold())
    if code == 4:
        return "".join(c for c in s if "0" <= c <= "9")
    if code == 5:
        return s[:n]
    return s[-n:] if n < len(s) else s


def blind_index_value(index: dict, keyring: list[dict], version: int, inputs: list[str]) -> bytes:
    """13.7: the value of `inputs` under `version`."""
    definition, transforms = index_definition(index)
    if len(inputs) != len(transforms):
        raise Reject("invalid_argument")
    if any(len(x.encode()) > 65535 for x in inputs):
        raise Reject("too_large")
    key = next((k for k in keyring if k["name"] == index["key_name"]), None)
    if key is None:
        raise Reject("unknown_key_name")
    key_id = int(key["key_id"], 16)
    material = lookup(keyring, key_id, version)
    encoding = bytes([len(inputs)])
    for x, ts in zip(inputs, transforms):
        for code, n in ts:
            x = apply_transform(code, n, x)
        t = x.encode()
        encoding += struct.pack(">I", len(t)) + t
    info = b"strongroom/blind-index/v1" + struct.pack(">II", key_id, version) + definition
    index_key = hkdf_expand32(hkdf_extract(b"", material), info)
    if index["slow"] is None:
        tag = hmac.new(index_key, encoding, hashlib.sha256).digest()
    else:
        slow = index["slow"]
        stretched = argon2id(encoding, index_key, slow["m_cost_kib"], slow["t_cost"], slow["p_cost"])
        tag = hmac.new(index_key, stretched, hashlib.sha256).digest()
    bits = index["bits"]
    value = bytearray(b"\x03" + struct.pack(">I", version) + tag[: -(-bits // 8)])
    if bits % 8:
        value[-1] &= (0xFF << (8 - bits % 8)) & 0xFF
    return bytes(value)


def parse_index_value(index: dict, data: bytes) -> bytes:
    """13.5."""
    bits = index["bits"]
    if not data:
        raise Reject("malformed")
    if data[0] != 0x03:
        raise Reject("unsupported_format")
    if len(data) != 5 + -(-bits // 8):
        raise Reject("malformed")
    if struct.unpack(">I", data[1:5])[0] == 0:
        raise Reject("malformed")
    if bits % 8 and data[-1] & (0xFF >> (bits % 8)):
        raise Reject("malformed")
    return data


def parse_index_text(index: dict, text: str) -> bytes:
    """13.6."""
    if len(text) > 55 or not text.startswith("sbi1:"):
        raise Reject("malformed")
    return parse_index_value(index, b64url_decode_strict(text[5:]))


def index_value_text(value: bytes) -> str:
    return "sbi1:" + base64.urlsafe_b64encode(value).decode().rstrip("=")


def run_blind_index(v: dict) -> bytes:
    index = v["index"]
    if v["operation"] == "parse":
        definition, _ = index_definition(index)
        if definition.hex() != v["definition_hex"]:
            raise Reject("definition_mismatch")
        if "value_text" in v:
            return parse_index_text(index, v["value_text"])
        return parse_index_value(index, bytes.fromhex(v["value_hex"]))
    inputs = v["inputs"]
    if "inputs_repeat" in v:
        inputs = [x * n for x, n in zip(inputs, v["inputs_repeat"])]
    value = blind_index_value(index, v["keyring"], v["version"], inputs)
    if index_definition(index)[0].hex() != v["definition_hex"]:
        raise Reject("definition_mismatch")
    if index_value_text(value) != v["value_text"]:
        raise Reject("text_mismatch")
    return value


KEYRING_FORMATS = ("keyring-file-v1", "keyring-file-v2")


def run_vector(v: dict) -> bytes:
    if v["format"] == "blind-index-v1":
        return run_blind_index(v)
    if v["format"] == "armor-v1":
        return dearmor(v["armored"])
    if v["format"] in KEYRING_FORMATS:
        # A transit-sealed file's vector records the engine's exchange.
        root = v["root"] if "root" in v else {"kind": "vault_transit", "exchange": v["exchange"]}
        keys, lineage = open_keyring_file(bytes.fromhex(v["file_hex"]), root)
        return json.dumps([keys, lineage], sort_keys=True).encode()
    if v["format"] == "datakey-v1":
        return unwrap_data_key(bytes.fromhex(v["wrapped_hex"]), v["keyring"], v["context"])
    if v["format"] == "record-v1":
        standalone = v.get("standalone_key_hex")
        standalone = None if standalone is None else bytes.fromhex(standalone)
        if "record_hex" in v:
            record = bytes.fromhex(v["record_hex"])
            if "record_pad_to" in v:
                record += bytes(v["record_pad_to"] - len(record))
            return decrypt_record(record, v["keyring"], v["context"], standalone)
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
    files = (sorted(root.glob("record/*.json")) + sorted(root.glob("envelope/*.json"))
             + sorted(root.glob("datakey/*.json")) + sorted(root.glob("keyring/*.json"))
             + sorted(root.glob("keyring_transit/*.json"))
             + sorted(root.glob("armor/*.json")) + sorted(root.glob("blind_index/*.json")))
    mismatches = 0
    for path in files:
        v = json.loads(path.read_text(encoding="utf-8"))
        try:
            pt = run_vector(v)
            result = "ok"
        except Reject as r:
            pt, result = None, r.result
        if v["format"] in KEYRING_FORMATS:
            expected = json.dumps([v.get("keyring"), v.get("lineage")], sort_keys=True).encode()
            good = result == v["result"] and (result != "ok" or pt == expected)
        else:
            want = {"datakey-v1": v.get("data_key_hex"), "armor-v1": v.get("envelope_hex"),
                    "blind-index-v1": v.get("value_hex")}.get(
                v["format"], v.get("plaintext_hex"))
            good = result == v["result"] and (result != "ok" or pt.hex() == want)
        if not good:
            mismatches += 1
            print(f"MISMATCH {path.parent.name}/{path.name}: got {result}, want {v['result']}", file=sys.stderr)
    passed = len(files) - mismatches
    print(f"independent decoder (FORMAT.md + pyca/cryptography + argon2-cffi): {passed} passed, {mismatches} failed")
    return 1 if mismatches or not files else 0


if __name__ == "__main__":
    sys.exit(main())
