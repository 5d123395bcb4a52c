#!/usr/bin/env bash
# Every test strongroom has, in one command (the README's test command and
# what CI runs). Fails on the first failing step.
#
#   FUZZ_SECONDS=N   seconds per fuzz target in the smoke run (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ_SECONDS=${FUZZ_SECONDS:-20}
step() { printf '\n==> %s\n' "$*"; }

step "setup"
bash scripts/setup.sh

step "format"
cargo fmt --all -- --check

step "dependencies and secrets: cargo deny (licences, bans, sources) and no key material committed"
# Offline after the fetch: the advisory database cannot be fetched here
# (deny.toml says how to check advisories where it can).
cargo fetch --locked --quiet
cargo deny --offline check licenses bans sources
python3 scripts/check-secrets.py --self-test
python3 scripts/check-secrets.py

step "clippy (workspace, all targets, std and no_std)"
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo clippy -p strongroom --no-default-features --lib --locked -- -D warnings
cargo clippy -p strongroom --features pkcs11 --all-targets --locked -- -D warnings

step "no_std: core without default features (build and unit tests), and the no_std staticlib probe"
cargo build -p strongroom --no-default-features --locked
# The unit tests and doc tests run without std too (randomness and time
# passed in); integration tests that need the OS RNG or files declare
# `required-features = ["std"]` in core/Cargo.toml.
cargo test -p strongroom --no-default-features --locked 2>&1 | tee target/test-no-std.txt
grep -q '^test result: ok' target/test-no-std.txt
(cd core/no-std-check && cargo build --locked)

step "tests: unit, integration, golden vectors, doc tests"
# --nocapture so the count lines (Wycheproof, tamper, leak scan, ...) print.
cargo test --workspace --locked -- --nocapture 2>&1 | tee target/test-output.txt
if ! grep -q '^test result: ok' target/test-output.txt; then
    echo "test-all: no test result line: did any test run?" >&2
    exit 1
fi

step "PKCS#11 roots ran against a throwaway SoftHSM2 token"
# The CLI enables the core's `pkcs11` feature, so the workspace run above
# built and ran both PKCS#11 tests (library and command line); make sure
# neither was left out.
grep -q '^softhsm2: ' target/test-output.txt
grep -q '^pkcs11 cli: ' target/test-output.txt
grep -E '^softhsm2: |^pkcs11 cli: ' target/test-output.txt

step "OpenBao: the transit root against real dev servers (library tests above, the command line here)"
# The CLI enables the core's `vault` feature too, so the workspace run
# above built and ran core/tests/vault.rs, each test with its own server.
grep -q '^vault: ' target/test-output.txt
grep -E '^vault: ' target/test-output.txt
# And the transit-sealed golden vectors (core/tests/golden_keyring.rs).
grep -E '^golden transit keyring-file vectors: ' target/test-output.txt
bash scripts/vault-tests.sh

step "C ABI: C99 and C++ tests under ASan + UBSan and valgrind, the install step and the README example (the header's freshness ran above)"
bash scripts/c-tests.sh
bash scripts/c-install-check.sh

step "AddressSanitizer: the core's and the CLI's test suites (stable toolchain, -Zsanitizer=address)"
bash scripts/asan-tests.sh
# Its instrumented build (3.4 GB) serves no later step: free the disk now.
# CI shares one disk with whatever else the machine holds; a full disk
# failed a whole run once (stop 24, "No space left on device").
rm -rf target/asan

step "valgrind memcheck: the core's test binaries (docs/ASSURANCE.md lists the four left out and why)"
bash scripts/valgrind-core.sh

step "constant time: memcheck taint run over the core's secret paths, and its positive control"
bash scripts/ct-taint.sh

step "mutation testing: cargo-mutants on the documented subset (docs/ASSURANCE.md; installs cargo-mutants if missing, about 2.5 min)"
bash scripts/mutants.sh --subset

step "Python: one abi3 wheel (maturin), its pytest suite on every Python 3.9+ here"
bash scripts/python-tests.sh

step "interop: the 9-pair matrix, records and envelopes made in C, Rust and Python, decrypted by all three"
bash scripts/interop-matrix.sh

step "golden vectors through the independent Python decoder (FORMAT.md only)"
venv=target/venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
# argon2-cffi: the reference Argon2 for the keyring-file vectors (FORMAT.md 10.3).
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check 'cryptography>=42' 'argon2-cffi>=21'
"$venv/bin/python" tests/golden/independent_decoder.py

step "main job: the README's command (CLI) and the library example"
LARGE_MIB=16 bash scripts/main-job.sh > target/main-job.txt
tail -n 1 target/main-job.txt
cargo run --quiet -p strongroom --example pii_records --locked > target/main-job-example.txt
tail -n 1 target/main-job-example.txt

step "file bench smoke run: strongroom vs age vs cat on 32 MiB (BENCHMARKS.md has the 1 GiB figures)"
# Keeps the bench script working; its timings on 32 MiB mean little.
BENCH_DIR="$PWD/target" SIZE_MIB=32 REPEAT=1 bash benches/files_vs_age.sh > target/files-bench.txt
tail -n 8 target/files-bench.txt

# Keeps the C overhead bench working; its figure on 2,000 iterations means little.
bash benches/c_overhead.sh 2000 1 | tail -n 3

step "re-encoders: the core's unit tests built with --cfg fuzzing (core/src/fuzzing.rs; the mutation run's fuzzing pass relies on them)"
RUSTFLAGS="--cfg fuzzing" CARGO_TARGET_DIR=target/fuzzing-cfg \
    cargo test --locked -p strongroom --lib fuzzing:: 2>&1 | tee target/test-fuzzing-cfg.txt
grep -qE '^test result: ok\. [1-9]' target/test-fuzzing-cfg.txt
# A build of its own, which no later step reads.
rm -rf target/fuzzing-cfg

step "fuzz smoke run: ${FUZZ_SECONDS}s per target"
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    fuzz=(cargo +nightly fuzz)
else
    # cargo-fuzz needs -Z flags; stable accepts them under RUSTC_BOOTSTRAP.
    export RUSTC_BOOTSTRAP=1
    fuzz=(cargo fuzz)
fi
targets=$(cd fuzz && "${fuzz[@]}" list)
[ -n "$targets" ] || { echo "test-all: no fuzz targets" >&2; exit 1; }
(cd fuzz && "${fuzz[@]}" build)
mkdir -p target/fuzz-logs
# Each target starts from its committed seeds (fuzz/seeds, made by
# fuzz/examples/make_seeds.rs) and campaign corpus (fuzz/corpora), all of
# which it runs first, and writes what it finds to fuzz/corpus (not
# committed). RSS cap, per-input timeout and dictionary as the campaign's
# (scripts/fuzz-campaign.sh).
for t in $targets; do
    log="target/fuzz-logs/$t.log"
    mkdir -p "fuzz/corpus/$t" "fuzz/corpora/$t"
    if ! (cd fuzz && ASAN_OPTIONS=quarantine_size_mb=16 "${fuzz[@]}" run "$t" \
        "$PWD/corpus/$t" "$PWD/seeds/$t" "$PWD/corpora/$t" -- \
        -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=256 -malloc_limit_mb=256 -timeout=10 \
        -dict="$PWD/strongroom.dict" -print_final_stats=1) >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        echo "test-all: fuzz target $t failed (log: $log)" >&2
        exit 1
    fi
    runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
    seeds=$(find "fuzz/seeds/$t" "fuzz/corpora/$t" -type f | wc -l)
    echo "fuzz: $t ran $runs inputs in ${FUZZ_SECONDS}s (its $seeds committed seeds first), no crash"
    [ "$runs" -gt 0 ] || { echo "test-all: fuzz target $t executed nothing" >&2; exit 1; }
done

step "differential: the committed fuzz corpora through strongroom and the independent decoder"
"$venv/bin/python" tests/golden/differential.py

step "all tests passed"
