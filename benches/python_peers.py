"""strongroom's Python module beside the AEADs Python developers use today,
in one process, interleaved: encrypt+decrypt round trips at 64 B and
1 KiB (ops/s) and at 1 MiB (MB/s).

- strongroom: Keyring.encrypt / decrypt (records: XChaCha20-Poly1305, a
  two-pair context, fresh OS-random nonce) and, at 1 MiB, envelopes.
- cryptography: Fernet (AES-128-CBC + HMAC-SHA256, base64) and
  ChaCha20Poly1305 with a fresh os.urandom(12) nonce per message.
- tink: AEAD XCHACHA20_POLY1305 primitive.
- PyNaCl: SecretBox (XSalsa20-Poly1305, random nonce).

Each measurement runs for about --seconds; each round measures every
library once, in turn; the figure is the median over --rounds rounds.
Run: benches/python_peers.sh (makes the venv), or python python_peers.py
with strongroom, cryptography, tink and pynacl installed."""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from typing import Callable, Dict, List, Tuple

import strongroom

Roundtrip = Callable[[bytes], bytes]


def peers() -> Dict[str, Roundtrip]:
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

    k = strongroom.Keyring()
    k.create_key("pii")
    ctx = {"table": "customers", "column": "email"}

    def sr_record(m: bytes) -> bytes:
        return k.decrypt(k.encrypt("pii", m, ctx), ctx)

    def sr_envelope(m: bytes) -> bytes:
        return k.decrypt_envelope(k.encrypt_envelope("pii", m, ctx), ctx)

    fernet = Fernet(Fernet.generate_key())

    def fernet_rt(m: bytes) -> bytes:
        return fernet.decrypt(fernet.encrypt(m))

    chacha = ChaCha20Poly1305(ChaCha20Poly1305.generate_key())
    aad = b"customers/email"

    def chacha_rt(m: bytes) -> bytes:
        nonce = os.urandom(12)
        return chacha.decrypt(nonce, chacha.encrypt(nonce, m, aad), aad)

    import tink
    from tink import aead

    aead.register()
    handle = tink.new_keyset_handle(aead.aead_key_templates.XCHACHA20_POLY1305)
    primitive = handle.primitive(aead.Aead)

    def tink_rt(m: bytes) -> bytes:
        return primitive.decrypt(primitive.encrypt(m, aad), aad)

    import nacl.secret
    import nacl.utils

    box = nacl.secret.SecretBox(nacl.utils.random(nacl.secret.SecretBox.KEY_SIZE))

    def nacl_rt(m: bytes) -> bytes:
        return box.decrypt(box.encrypt(m))

    return {
        "strongroom record": sr_record,
        "strongroom envelope": sr_envelope,
        "cryptography ChaCha20Poly1305": chacha_rt,
        "cryptography Fernet": fernet_rt,
        "tink XChaCha20-Poly1305": tink_rt,
        "PyNaCl SecretBox": nacl_rt,
    }


def measure(f: Roundtrip, msg: bytes, seconds: float) -> float:
    """Round trips per second."""
    assert f(msg) == msg
    n, t0 = 0, time.perf_counter()
    batch = 1
    while True:
        for _ in range(batch):
            f(msg)
        n += batch
        dt = time.perf_counter() - t0
        if dt >= seconds:
            return n / dt
        batch = min(batch * 2, 4096)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=0.4)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--json", action="store_true", help="one JSON line per (size, library): median ops/s")
    args = ap.parse_args()
    libs = peers()
    sizes = [("64 B", 64), ("1 KiB", 1024), ("1 MiB", 1 << 20)]
    results: Dict[Tuple[str, str], List[float]] = {}
    for _ in range(args.rounds):
        for label, size in sizes:
            msg = os.urandom(size)
            for name, f in libs.items():
                if name == "strongroom envelope" and size < (1 << 20):
                    continue
                results.setdefault((label, name), []).append(measure(f, msg, args.seconds))
    if args.json:
        import json
        for (label, name), rates in sorted(results.items()):
            print(json.dumps({"python": platform.python_version(), "size": label, "library": name,
                              "ops_per_s": statistics.median(rates), "rounds": args.rounds}))
        return
    print(f"python_peers: Python {platform.python_version()}, {platform.machine()}, "
          f"{os.cpu_count()} CPUs, median of {args.rounds} interleaved rounds of ~{args.seconds}s")
    for label, size in sizes:
        base = statistics.median(results[(label, "strongroom record")])
        print(f"\n{label}: encrypt+decrypt round trips")
        for name in libs:
            if (label, name) not in results:
                continue
            rate = statistics.median(results[(label, name)])
            fig = f"{rate * size / 1e6:9.1f} MB/s" if size >= (1 << 20) else f"{rate:10.0f} ops/s"
            print(f"  {name:32s} {fig}   strongroom record / this: {base / rate:5.2f}x")


if __name__ == "__main__":
    main()
