"""The Python side of the C / Rust / Python interop matrix
(scripts/interop-matrix.sh): ``interop.py make DIR`` writes records and
envelopes made in Python (python-*.sr) under the keyring file the C side
created in DIR; ``interop.py check DIR PRODUCER...`` decrypts each
producer's, byte-exact. Not a pytest module: the matrix script runs it
with the wheel installed."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Dict

import strongroom

SIZES = [0, 1, 63, 64, 65, 192, 10 << 20]
RECORD_SIZES = [0, 1, 63, 64, 65, 192, 1 << 20]


def pattern(size: int) -> bytes:
    return bytes((i * 131 + size * 7 + 3) & 0xFF for i in range(size))


def context(with_: int) -> Dict[str, str]:
    return {"tenant": "acme", "purpose": "interop"} if with_ else {}


def make(d: Path) -> int:
    k = strongroom.Keyring.open_key_file(d / "keyring.srk", d / "root.key")
    made = 0
    for with_ in (0, 1):
        ctx = context(with_)
        for size, record_size in zip(SIZES, RECORD_SIZES):
            pt = pattern(size)
            chunk = 65536 if size > 1000 else 64
            for r in (1, 2):
                env = k.encrypt_envelope(["a", "b"][:r], pt, ctx, chunk_size=chunk)
                (d / f"python-env-{size}-{r}-{with_}.sr").write_bytes(env)
                made += 1
            rec = k.encrypt("a", pattern(record_size), ctx)
            (d / f"python-rec-{record_size}-{with_}.sr").write_bytes(rec)
            made += 1
    print(f"interop: Python made {made} records and envelopes")
    return made


def check(d: Path, producer: str) -> int:
    k = strongroom.Keyring.open_key_file(d / "keyring.srk", d / "root.key")
    checked = 0
    for with_ in (0, 1):
        ctx = context(with_)
        for size, record_size in zip(SIZES, RECORD_SIZES):
            for r in (1, 2):
                data = (d / f"{producer}-env-{size}-{r}-{with_}.sr").read_bytes()
                assert k.decrypt_envelope(data, ctx) == pattern(size), (producer, size, r)
                assert len(strongroom.inspect_envelope(data).recipients) == r
                checked += 1
            data = (d / f"{producer}-rec-{record_size}-{with_}.sr").read_bytes()
            assert k.decrypt(data, ctx) == pattern(record_size), (producer, record_size)
            checked += 1
    print(f"interop: {producer} -> Python: {checked} records and envelopes decrypted, byte-exact")
    return checked


def main() -> int:
    want = len(SIZES) * 3 * 2
    if len(sys.argv) >= 3 and sys.argv[1] == "make":
        return 0 if make(Path(sys.argv[2])) == want else 1
    if len(sys.argv) >= 4 and sys.argv[1] == "check":
        ok = all(check(Path(sys.argv[2]), p) == want for p in sys.argv[3:])
        return 0 if ok else 1
    print("usage: interop.py make DIR | interop.py check DIR PRODUCER...", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
