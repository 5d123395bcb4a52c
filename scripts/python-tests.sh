#!/usr/bin/env bash
# The Python module's tests (issue #13): builds one abi3 wheel with maturin
# (a binary wheel from PyPI, no cargo install), then, for the system
# python3 and every CPython 3.9+ that pyenv has, installs the wheel into a
# fresh venv and runs the pytest suite in ffi-python/tests. Prints which
# interpreters ran; fails if any fails, or if none ran.
set -euo pipefail
cd "$(dirname "$0")/.."
out="$PWD/target/python"
mkdir -p "$out"
tools="$out/build-venv"
[ -x "$tools/bin/python" ] || python3 -m venv "$tools"
"$tools/bin/pip" install --quiet --disable-pip-version-check 'maturin>=1.16,<2'
rm -rf "$out/wheels"
"$tools/bin/maturin" build --release --locked --quiet -m ffi-python/Cargo.toml --out "$out/wheels" 2>&1 | tail -n 3
wheel=$(ls "$out"/wheels/strongroom-*-abi3-*.whl)
echo "python-tests: built $(basename "$wheel")"

# A throwaway SoftHSM2 token for the PKCS#11 test (installed by
# scripts/setup.sh); the test fails rather than skips when this is set.
module=""
for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so; do
    [ -e "$m" ] && module=$m && break
done
[ -n "$module" ] || { echo "python-tests: SoftHSM2 is not installed (scripts/setup.sh)" >&2; exit 1; }
hsm="$out/softhsm"
rm -rf "$hsm" && mkdir -p "$hsm/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$hsm/tokens" > "$hsm/softhsm2.conf"
export SOFTHSM2_CONF="$hsm/softhsm2.conf"
softhsm2-util --init-token --free --label strongroom-py --so-pin 1234 --pin 5678 >/dev/null  # TEST PINs
export STRONGROOM_TEST_PKCS11_MODULE="$module" STRONGROOM_TEST_PKCS11_TOKEN=strongroom-py
export STRONGROOM_TEST_PKCS11_PIN=5678 STRONGROOM_REQUIRE_PKCS11=1

pythons=(python3)
system=$(python3 -c 'import sys; print(sys.version_info[1])')
for v in "$HOME"/.pyenv/versions/3.*/bin/python3; do
    [ -x "$v" ] || continue
    minor=$("$v" -c 'import sys; print(sys.version_info[1])')
    [ "$minor" -ge 9 ] && [ "$minor" != "$system" ] && pythons+=("$v")
done
ran=()
typed=""
for py in "${pythons[@]}"; do
    version=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    venv="$out/venv-$version"
    rm -rf "$venv"
    "$py" -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check pytest hypothesis sqlalchemy "$wheel"
    echo "python-tests: Python $version"
    (cd "$out" && "$venv/bin/python" -m pytest -q -rs -p no:cacheprovider "$OLDPWD/ffi-python/tests")
    ran+=("$version")
    if [ -z "$typed" ]; then
        # The stubs against the runtime, and the tests against the stubs.
        "$venv/bin/pip" install --quiet --disable-pip-version-check mypy
        (cd "$out" && "$venv/bin/python" -m mypy.stubtest strongroom && \
            "$venv/bin/python" -m mypy --strict --no-incremental -p strongroom && \
            "$venv/bin/python" -m mypy --strict --no-incremental "$OLDPWD/ffi-python/tests" "$OLDPWD/ffi-python/examples")
        typed=$version
    fi
done
[ -n "$typed" ] || { echo "python-tests: stubtest and mypy did not run" >&2; exit 1; }
[ "${#ran[@]}" -gt 0 ] || { echo "python-tests: no Python ran" >&2; exit 1; }
echo "python-tests: the wheel passed on Python ${ran[*]}"
