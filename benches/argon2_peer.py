#!/usr/bin/env python3
"""Times libargon2 (through argon2-cffi) at strongroom's default passphrase
parameters: Argon2id v1.3, 64 MiB, 3 passes, 4 lanes, 32-byte output.

    python3 -m venv /tmp/a2 && /tmp/a2/bin/pip install argon2-cffi
    /tmp/a2/bin/python benches/argon2_peer.py
"""
import statistics
import time
from importlib.metadata import version

from argon2.low_level import Type, hash_secret_raw

runs = []
for _ in range(12):
    t = time.perf_counter()
    hash_secret_raw(b"correct horse battery staple", b"0123456789abcdef", time_cost=3,
                    memory_cost=65536, parallelism=4, hash_len=32, type=Type.ID)
    runs.append(time.perf_counter() - t)
runs = runs[2:]  # warm-up
print(f"libargon2 (argon2-cffi {version('argon2-cffi')}): median {statistics.median(runs) * 1000:.1f} ms "
      f"over {len(runs)} runs (min {min(runs) * 1000:.1f}, max {max(runs) * 1000:.1f})")
