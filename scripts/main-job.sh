#!/usr/bin/env bash
# The main job, end to end, with the strongroom command line and an embedded
# default (a local keyring file sealed by a key file; no external service):
# create a keyring in a temp dir, encrypt a PII CSV and a large file, rotate,
# rewrap, decrypt, destroy the old version, and show the result.
#
#   LARGE_MIB=N   size of the large file (default 64)
set -euo pipefail
cd "$(dirname "$0")/.."

LARGE_MIB=${LARGE_MIB:-64}
cargo build --quiet --release -p strongroom-cli
sr="$PWD/target/release/strongroom"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

say() { printf '\n$ %s\n' "$*"; }

# The root of trust: a 32-byte key file, owner-only (like a mounted secret).
(umask 077 && head -c 32 /dev/urandom > root.key)
export STRONGROOM_KEYRING="$work/keyring.srk" STRONGROOM_KEY_FILE="$work/root.key"

say "strongroom keyring init --key pii"; "$sr" keyring init --key pii
say "strongroom key create files --rotate-every-days 90"; "$sr" key create files --rotate-every-days 90

# Sample data: a CSV with PII, and a large binary file.
{
    echo "id,name,email,ssn"
    for i in $(seq 1 1000); do echo "$i,Customer $i,customer$i@example.com,078-05-$(printf %04d "$i")"; done
} > customers.csv
head -c $((LARGE_MIB * 1024 * 1024)) /dev/urandom > backup.tar

say "strongroom encrypt (customers.csv, backup.tar)"
"$sr" encrypt --key pii --context table=customers -o customers.csv.sr customers.csv
"$sr" encrypt --key files --context file=backup.tar -o backup.tar.sr backup.tar
cp backup.tar.sr old-copy-of-backup.tar.sr   # a copy nobody will rewrap
"$sr" inspect customers.csv.sr

say "strongroom key rotate pii && strongroom key rotate files"
"$sr" key rotate pii
"$sr" key rotate files

say "strongroom rewrap customers.csv.sr backup.tar.sr   # header only"
"$sr" rewrap customers.csv.sr backup.tar.sr

say "strongroom key destroy --yes pii 1 && strongroom key destroy --yes files 1"
"$sr" key destroy --yes pii 1
"$sr" key destroy --yes files 1
"$sr" key list

say "strongroom decrypt (both files, after the old versions are gone)"
"$sr" decrypt --context table=customers -o customers.out customers.csv.sr
"$sr" decrypt --context file=backup.tar -o backup.out backup.tar.sr
cmp customers.csv customers.out && echo "customers.csv: decrypted byte for byte ($(wc -l < customers.out) lines)"
cmp backup.tar backup.out && echo "backup.tar: decrypted byte for byte (${LARGE_MIB} MiB)"

say "strongroom decrypt old-copy-of-backup.tar.sr   # still under the destroyed version"
if "$sr" decrypt --context file=backup.tar -o old.out old-copy-of-backup.tar.sr; then
    echo "main job: FAILED: data under a destroyed version still decrypted" >&2
    exit 1
fi
[ ! -e old.out ] || { echo "main job: FAILED: partial output left behind" >&2; exit 1; }
echo
echo "main job: done. Rewrapped files decrypt; the unrewrapped copy under the destroyed version is unrecoverable."
