#!/usr/bin/env bash
# Constant time by memcheck taint (issue #17): core/tests/ct_taint.rs marks
# keys undefined and runs records, envelopes, data keys, derived keys and
# blind indexes under valgrind; every branch or address on secret-derived
# data fails the run, except the verdicts listed in tests/ct/ct.supp. Then
# the positive control (a branch on a key byte) must be reported.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(cargo test --locked -q -p strongroom --test ct_taint --no-run --message-format=json |
    python3 -c 'import json, sys
exes = [json.loads(l).get("executable") for l in sys.stdin if l.startswith("{")]
print([e for e in exes if e][-1])')
log=target/ct-taint.txt
valgrind --error-exitcode=1 -v --num-callers=30 --suppressions=tests/ct/ct.supp \
    "$bin" secrets_drive_no_branch_and_no_address --exact --nocapture --test-threads=1 > "$log" 2>&1 || {
    cat "$log" >&2
    echo "ct-taint: memcheck found a branch or address on secret data (above)" >&2
    exit 1
}
grep -q 'under valgrind: yes' "$log"
grep -q 'ERROR SUMMARY: 0 errors' "$log"
grep -oE 'ct taint: [0-9]+ operations.*' "$log"
grep -E 'used_suppression' "$log" | sed 's/^--[0-9]*-- /ct taint: /'
echo "ct taint: $(grep -o 'ERROR SUMMARY: 0 errors[^(]*' "$log" | head -1)"
control=target/ct-taint-control.txt
if STRONGROOM_CT_CONTROL=1 valgrind --error-exitcode=1 --num-callers=30 --suppressions=tests/ct/ct.supp \
    "$bin" control_a_branch_on_a_key_is_reported --exact --nocapture --test-threads=1 > "$control" 2>&1; then
    cat "$control" >&2
    echo "ct-taint: the control's branch on a key byte was not reported: the taint run proves nothing" >&2
    exit 1
fi
grep -q 'Conditional jump or move depends on uninitialised value' "$control"
grep -q 'control_a_branch_on_a_key_is_reported' "$control"
echo "ct taint control: memcheck reported the branch on a key byte, as it must"
