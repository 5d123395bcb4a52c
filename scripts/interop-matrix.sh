#!/usr/bin/env bash
# The 9-pair interop matrix (issues #12, #13): records and envelopes made
# in C, Rust and Python, each decrypted by all three, byte-exact. Sizes 0,
# 1, chunk-1, chunk, chunk+1, 3 chunks and 10 MiB; 1 and 2 recipients;
# with and without a context: 42 objects per producer, checked 3 times.
# The C side runs under ASan + UBSan. Needs the wheel that
# scripts/python-tests.sh built. Called by scripts/test-all.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --locked -q -p strongroom-ffi --features test-hooks
wheel=$(ls target/python/wheels/strongroom-*-abi3-*.whl 2>/dev/null | head -n 1)
[ -n "$wheel" ] || { echo "interop-matrix: no wheel; run scripts/python-tests.sh first" >&2; exit 1; }
out=target/interop
rm -rf "$out"
mkdir -p "$out/lib" "$out/files"
ln -s "$PWD/target/debug/libstrongroom_ffi.so" "$out/lib/libstrongroom.so.0"
ln -s libstrongroom.so.0 "$out/lib/libstrongroom.so"
gcc -std=c99 -Wall -Wextra -Werror -pedantic -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
    tests/c/interop.c -o "$out/interop" -Iinclude -Itests/c -L"$out/lib" -lstrongroom \
    -Wl,-rpath,"$PWD/$out/lib" -lpthread
venv="$out/venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "$wheel"

export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1
export STRONGROOM_INTEROP_DIR="$PWD/$out/files" STRONGROOM_INTEROP_PRODUCERS=c,rust,python
rust() {
    cargo test --locked -q -p strongroom-ffi --test interop -- --ignored --exact "$1" --nocapture 2>&1 |
        tee "$out/$1.txt" | grep -E '^interop: ' || true
    grep -q '^test result: ok. 1 passed' "$out/$1.txt" || {
        echo "interop-matrix: the Rust side ($1) failed" >&2; cat "$out/$1.txt" >&2; exit 1; }
}
"$out/interop" make "$STRONGROOM_INTEROP_DIR"
rust rust_make
"$venv/bin/python" ffi-python/tests/interop.py make "$STRONGROOM_INTEROP_DIR"
"$out/interop" check "$STRONGROOM_INTEROP_DIR" c rust python
rust rust_check
"$venv/bin/python" ffi-python/tests/interop.py check "$STRONGROOM_INTEROP_DIR" c rust python
echo "interop-matrix: 9 pairs (C, Rust, Python -> C, Rust, Python), 42 objects each, all byte-exact"
