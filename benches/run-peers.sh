#!/usr/bin/env bash
# Every comparison of issue #15 that can run here, in one run, each
# strongroom figure beside its peer measured in the same run (interleaved
# rounds, medians), written as one table: peer, strongroom, ratio, target,
# met or not, machine, date. Not part of the test command (timings never
# gate a test); BENCHMARKS.md keeps the latest table.
#
#   bash benches/run-peers.sh                # ~10 minutes on 2 cores
#   ROUNDS=3 FILE_MIB=128 bash benches/run-peers.sh   # quicker, noisier
#
# Needs what scripts/setup.sh installs (age, GNU time, Python venvs); the
# Python rows build the wheel if scripts/python-tests.sh has not.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
FILE_MIB=${FILE_MIB:-256}
out=target/bench
mkdir -p "$out"
raw="$out/peers.jsonl"
: > "$raw"

cargo build --release --locked -q -p strongroom-benches --bin peers
cargo build --release --locked -q -p strongroom-cli
peers=target/release/peers
venv=target/venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check 'argon2-cffi>=21'

echo "run-peers: in-process records and envelopes, Argon2, $ROUNDS interleaved rounds" >&2
for _ in $(seq "$ROUNDS"); do
    "$peers" 5 >> "$raw"
    "$peers" argon2 3 >> "$raw"
    "$venv/bin/python" benches/argon2_peer.py 65536 3 4 3 >> "$raw"
    "$venv/bin/python" benches/argon2_peer.py 19456 2 1 3 >> "$raw"
done

echo "run-peers: files, $FILE_MIB MiB in /dev/shm (strongroom, age, cat)" >&2
SIZE_MIB=$FILE_MIB REPEAT=$ROUNDS bash benches/files_vs_age.sh > "$out/files.md"

echo "run-peers: the CLI on a 1 KiB file, process start to exit, vs age" >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
head -c 1024 /dev/urandom > "$work/small"
head -c 32 /dev/urandom > "$work/root.key"
chmod 600 "$work/root.key"
age-keygen -o "$work/age.key" 2>/dev/null
recipient=$(age-keygen -y "$work/age.key")
STRONGROOM_KEYRING="$work/k.srk" target/release/strongroom keyring init --key-file "$work/root.key" --key files >/dev/null
python3 - "$work" "$recipient" "$((ROUNDS * 20))" >> "$raw" <<'PY'
import json, os, statistics, subprocess, sys, time
work, recipient, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
env = dict(os.environ, STRONGROOM_KEYRING=f"{work}/k.srk")
sr = ["target/release/strongroom", "encrypt", "--key-file", f"{work}/root.key", "--key", "files",
      "-o", f"{work}/small.sr", f"{work}/small"]
age = ["age", "-r", recipient, "-o", f"{work}/small.age", f"{work}/small"]
def once(cmd):
    for f in (f"{work}/small.sr", f"{work}/small.age"):
        if os.path.exists(f):
            os.remove(f)
    t = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t
a, b = [], []
for _ in range(n):
    a.append(once(sr)); b.append(once(age))
print(json.dumps({"what": "cli 1 KiB encrypt", "strongroom_s": statistics.median(a), "peer_s": statistics.median(b)}))
PY

echo "run-peers: Python (the wheel, built now, beside cryptography, tink, PyNaCl, Fernet)" >&2
tools=target/python/build-venv
[ -x "$tools/bin/python" ] || python3 -m venv "$tools"
"$tools/bin/pip" install --quiet --disable-pip-version-check 'maturin>=1.16,<2'
rm -rf target/python/wheels
"$tools/bin/maturin" build --release --locked --quiet -m ffi-python/Cargo.toml --out target/python/wheels >/dev/null 2>&1
bash benches/python_peers.sh --rounds "$ROUNDS" --json >> "$raw"
echo "run-peers: the C ABI beside the Rust API" >&2
bash benches/c_overhead.sh 100000 "$ROUNDS" > "$out/c.md"

python3 benches/peers_table.py "$raw" "$out/files.md" "$out/c.md" | tee "$out/peers.md"
