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

# Three committed lists, one `regex  # reason` per line, each regex matched
# against the mutant's name as `cargo mutants --list` prints it:
# - tests/mutants/equivalent.txt: mutants no test can tell from the code;
# - tests/mutants/no_std.txt: mutants of code compiled only without `std`,
#   which the default build leaves out; they are tested in a pass of their
#   own with --no-default-features against the unit tests, and must be
#   caught;
# - tests/mutants/fuzzing.txt: mutants of code compiled only under
#   `--cfg fuzzing` (the fuzz targets' re-encoders), likewise tested in a
#   pass of their own built with that cfg, against the unit tests.
read_list() {
    local line re
    while IFS= read -r line; do
        [ "${line:0:1}" = "#" ] && continue
        re=${line%%  #*}
        re=${re%"${re##*[![:space:]]}"}
        [ -n "${re// /}" ] && printf '%s\n' "$re"
    done < "$1"
}
mapfile -t equivalent < <(read_list tests/mutants/equivalent.txt)
mapfile -t no_std < <(read_list tests/mutants/no_std.txt)
mapfile -t fuzzing < <(read_list tests/mutants/fuzzing.txt)
excludes=()
for re in "${equivalent[@]}" "${no_std[@]}" "${fuzzing[@]}"; do excludes+=(--exclude-re "$re"); done

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
whole=(); for f in "${all_files[@]}"; do whole+=(-f "$f"); done
case "$mode" in
    all)
        cargo mutants --no-shuffle -o "$out" "${whole[@]}" "${excludes[@]}" "${args[@]}" \
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
count() { if [ -f "$1" ]; then wc -l < "$1"; else echo 0; fi; }
caught=$(count "$out/mutants.out/caught.txt")
missed=$(count "$out/mutants.out/missed.txt")
timeout=$(count "$out/mutants.out/timeout.txt")
unviable=$(count "$out/mutants.out/unviable.txt")
missed_list=$(cat "$out/mutants.out/missed.txt" 2>/dev/null || true)

# extra_pass NAME FLAGS LIST [CARGO-MUTANTS ARGS...]: a pass of its own for
# code the default build leaves out: the mutants of these files that the
# array LIST names, built with RUSTFLAGS=FLAGS and the extra arguments,
# against the unit tests, written under $out/NAME; its counts join the
# totals.
extra_pass() {
    local name=$1 flags=$2; shift 2
    local -n list=$1; shift
    local only=() re rc=0
    [ "${#list[@]}" -gt 0 ] || return 0
    for re in "${list[@]}"; do only+=(--re "$re"); done
    [ -n "$(cargo mutants --list "${whole[@]}" "${only[@]}")" ] || return 0
    RUSTFLAGS="$flags" cargo mutants --no-shuffle -o "$out/$name" "${whole[@]}" "${only[@]}" \
        "$@" "${args[@]}" -- --lib || rc=$?
    case "$rc" in 0 | 2 | 3) ;; *) echo "mutants: cargo-mutants failed (exit $rc)" >&2; exit 1 ;; esac
    caught=$((caught + $(count "$out/$name/mutants.out/caught.txt")))
    missed=$((missed + $(count "$out/$name/mutants.out/missed.txt")))
    timeout=$((timeout + $(count "$out/$name/mutants.out/timeout.txt")))
    unviable=$((unviable + $(count "$out/$name/mutants.out/unviable.txt")))
    missed_list+=$'\n'$(cat "$out/$name/mutants.out/missed.txt" 2>/dev/null || true)
}
if [ "$mode" = all ]; then
    extra_pass no_std "${RUSTFLAGS:-}" no_std --no-default-features
    extra_pass fuzzing "${RUSTFLAGS:+$RUSTFLAGS }--cfg fuzzing" fuzzing
fi
if [ "$mode" = all ] && [ "${#picked[@]}" -eq 0 ]; then
    # Every entry of the three lists still names a mutant: a stale entry (the
    # code moved or changed) would silently exclude nothing or the wrong thing.
    for re in "${equivalent[@]}" "${no_std[@]}" "${fuzzing[@]}"; do
        [ -n "$(cargo mutants --list "${whole[@]}" --re "$re")" ] \
            || { echo "mutants: list entry names no mutant: $re" >&2; exit 1; }
    done
fi
echo "mutants ($mode): $caught caught, $missed missed, $timeout timed out, $unviable unviable (${#equivalent[@]} equivalent entries excluded)"
[ "$((caught + timeout))" -gt 0 ] || { echo "mutants: nothing was tested" >&2; exit 1; }
[ "$missed" -eq 0 ] || { echo "$missed_list" >&2; exit 1; }
