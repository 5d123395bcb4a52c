#!/usr/bin/env bash
# Mutation testing of the security-critical modules (issue #17), with
# cargo-mutants (installed if missing: about 2.5 minutes here). Every
# mutant must be caught by a test or listed, with its reason, in
# tests/mutants/equivalent.txt.
#
#   bash scripts/mutants.sh           the whole set (hours: each mutant
#                                     rebuilds the core and runs its suite,
#                                     40-90 s here; 7 mutants took 8 min)
#   bash scripts/mutants.sh --subset  the part the test command runs in CI
#   bash scripts/mutants.sh --in-diff BASE   only code changed since BASE
#   bash scripts/mutants.sh --file core/src/aead.rs   one file of the set
#   extra arguments go to cargo-mutants (e.g. -j 2)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-mutants >/dev/null || cargo install --locked cargo-mutants@27.1.0

# The security-critical modules: AEAD, KDF, record and envelope parsing,
# the stream, the context encoding, the keyring-file format and store, key
# lookup and version-state policy, the secret types, the verdicts.
all_files=(
    core/src/aead.rs core/src/kdf.rs core/src/record.rs
    core/src/envelope.rs core/src/envelope/header.rs core/src/envelope/stream.rs
    core/src/envelope/armor.rs core/src/context.rs core/src/keyring_file.rs
    core/src/store.rs core/src/keyring.rs core/src/keyring/encoding.rs
    core/src/secret.rs core/src/ct.rs core/src/random.rs core/src/datakey.rs
)
# In CI: the verdicts and the randomness check, against the tests that
# exercise them (the whole suite per mutant would not fit the budget).
subset_files=(core/src/ct.rs core/src/random.rs)
subset_tests=(--lib --test envelope --test tamper --test keyring --test golden)
# The whole set runs the core's unit and integration tests (not the
# doctests, which compile one binary each) but for the slowest, which
# exercise no module in the list and would double each mutant's time: the
# blind index's domain-separation sweep (17 s) and false-positive rate, and
# the OpenBao tests (they need a server).
all_skips=(--lib --tests -- --skip names_keys_and_versions_separate_domains
    --skip false_positive_rate_is_the_predicted_one --skip vault)

excludes=()
while IFS= read -r line; do
    re=${line%%  #*}
    re=${re%"${re##*[![:space:]]}"}
    [ -n "${re// /}" ] && [ "${line:0:1}" != "#" ] && excludes+=(--exclude-re "$re")
done < tests/mutants/equivalent.txt

mode=all
args=()
picked=()
while [ $# -gt 0 ]; do
    case "$1" in
        --subset) mode=subset ;;
        --in-diff) mode=diff; base=$2; shift ;;
        --file) picked+=("$2"); shift ;;
        *) args+=("$1") ;;
    esac
    shift
done
# A campaign split over sessions: `--file F` (repeatable) runs only those
# of the whole set, and MUTANTS_OUT keeps each part's results apart.
if [ "${#picked[@]}" -gt 0 ]; then
    for f in "${picked[@]}"; do
        [[ " ${all_files[*]} " == *" $f "* ]] || { echo "mutants: $f is not in the set" >&2; exit 1; }
    done
    all_files=("${picked[@]}")
fi
out=${MUTANTS_OUT:-target/mutants}
mkdir -p "$out"
# cargo-mutants exits 2 when a mutant is missed and 3 on a timeout; the
# counts below decide.
rc=0
case "$mode" in
    all)
        files=(); for f in "${all_files[@]}"; do files+=(-f "$f"); done
        cargo mutants --no-shuffle -o "$out" "${files[@]}" "${excludes[@]}" "${args[@]}" \
            -- "${all_skips[@]}" || rc=$? ;;
    subset)
        files=(); for f in "${subset_files[@]}"; do files+=(-f "$f"); done
        cargo mutants --no-shuffle -o "$out" "${files[@]}" "${excludes[@]}" "${args[@]}" \
            -- "${subset_tests[@]}" || rc=$? ;;
    diff)
        git diff "$base" -- core/src > "$out/diff.patch"
        cargo mutants --no-shuffle -o "$out" --in-diff "$out/diff.patch" "${excludes[@]}" "${args[@]}" \
            -- "${all_skips[@]}" || rc=$? ;;
esac
case "$rc" in 0 | 2 | 3) ;; *) echo "mutants: cargo-mutants failed (exit $rc)" >&2; exit 1 ;; esac
caught=$(wc -l < "$out/mutants.out/caught.txt")
missed=$(wc -l < "$out/mutants.out/missed.txt")
timeout=$(wc -l < "$out/mutants.out/timeout.txt")
unviable=$(wc -l < "$out/mutants.out/unviable.txt")
echo "mutants ($mode): $caught caught, $missed missed, $timeout timed out, $unviable unviable"
[ "$((caught + timeout))" -gt 0 ] || { echo "mutants: nothing was tested" >&2; exit 1; }
[ "$missed" -eq 0 ] || { cat "$out/mutants.out/missed.txt" >&2; exit 1; }
