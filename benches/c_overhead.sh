#!/usr/bin/env bash
# The C ABI's overhead (issue #12): record encrypt + decrypt at 64 B and
# 1 KiB through the C API (benches/c/record_roundtrip.c, against the
# installed shared library) and through the Rust API
# (benches/src/bin/record_roundtrip.rs), both release builds, run
# interleaved ROUNDS times (default 5) in one run; prints the medians and
# the overhead. Rerun: bash benches/c_overhead.sh [ITERATIONS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
iterations=${1:-100000}
rounds=${2:-5}
prefix="$PWD/target/c-bench"
bash scripts/install-c.sh "$prefix" >/dev/null
cargo build --release --locked -q -p strongroom-benches --bin record_roundtrip
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
# shellcheck disable=SC2046
cc -std=c99 -O2 -Wall -Wextra -Werror benches/c/record_roundtrip.c -o "$prefix/record_roundtrip" \
    $(pkg-config --cflags --libs strongroom)
results="$prefix/results.txt"
: > "$results"
for _ in $(seq "$rounds"); do
    "$prefix/record_roundtrip" "$iterations" >> "$results"
    target/release/record_roundtrip "$iterations" >> "$results"
done
echo "C ABI overhead: record encrypt+decrypt, $iterations iterations x $rounds interleaved rounds, $(nproc) cores"
echo "| size | Rust API (ns) | C API (ns) | overhead |"
echo "| --- | --- | --- | --- |"
for size in 64 1024; do
    med() { awk -v l="$1" -v s="$size" '$1 == l && $2 == s {print $3}' "$results" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
    r=$(med rust)
    c=$(med c)
    awk -v s="$size" -v r="$r" -v c="$c" 'BEGIN {printf "| %d B | %d | %d | %+.1f%% |\n", s, r, c, (c - r) * 100 / r}'
done
