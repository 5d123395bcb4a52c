#!/usr/bin/env python3
"""Times libargon2 (through argon2-cffi): Argon2id v1.3, 32-byte output, at
strongroom's default passphrase parameters (64 MiB, 3 passes, 4 lanes) or
at the ones given.

    python3 -m venv /tmp/a2 && /tmp/a2/bin/pip install argon2-cffi
    /tmp/a2/bin/python benches/argon2_peer.py              # 65536 3 4, a sentence
    /tmp/a2/bin/python benches/argon2_peer.py 19456 2 1 5  # m t p runs, one JSON line
"""
import json
import statistics
import sys
import time
from importlib.metadata import version

from argon2.low_level import Type, hash_secret_raw

m, t, p = (int(x) for x in sys.argv[1:4]) if len(sys.argv) >= 4 else (65536, 3, 4)
count = int(sys.argv[4]) if len(sys.argv) >= 5 else 12
runs = []
for _ in range(count + 2):
    start = time.perf_counter()
    hash_secret_raw(b"correct horse battery staple", b"0123456789abcdef", time_cost=t,
                    memory_cost=m, parallelism=p, hash_len=32, type=Type.ID)
    runs.append(time.perf_counter() - start)
runs = runs[2:]  # warm-up
if len(sys.argv) >= 4:
    print(json.dumps({"what": f"argon2id m={m} KiB t={t} p={p}", "peer_ms": round(statistics.median(runs) * 1000, 1),
                      "runs": len(runs), "peer": f"libargon2 (argon2-cffi {version('argon2-cffi')})"}))
else:
    print(f"libargon2 (argon2-cffi {version('argon2-cffi')}): median {statistics.median(runs) * 1000:.1f} ms "
          f"over {len(runs)} runs (min {min(runs) * 1000:.1f}, max {max(runs) * 1000:.1f})")
