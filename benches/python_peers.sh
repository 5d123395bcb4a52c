#!/usr/bin/env bash
# Runs benches/python_peers.py in a venv with the wheel built by
# scripts/python-tests.sh (or built here) and the peers from PyPI:
# cryptography, tink, PyNaCl. Args go to the script (--seconds, --rounds).
set -euo pipefail
cd "$(dirname "$0")/.."
wheel=$(ls target/python/wheels/strongroom-*-abi3-*.whl 2>/dev/null | head -n 1)
if [ -z "$wheel" ]; then
    bash scripts/python-tests.sh >/dev/null
    wheel=$(ls target/python/wheels/strongroom-*-abi3-*.whl | head -n 1)
fi
venv=target/python/bench-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check --force-reinstall --no-deps "$wheel"
"$venv/bin/pip" install --quiet --disable-pip-version-check 'cryptography>=42' tink pynacl
"$venv/bin/python" benches/python_peers.py "$@"
