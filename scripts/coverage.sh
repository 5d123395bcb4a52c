#!/usr/bin/env bash
# Line coverage of the core (issue #17 point 6): the core's unit and
# integration tests (default features) under cargo-tarpaulin's LLVM engine,
# which reads the profiles itself and needs no llvm-tools component.
# cargo-tarpaulin is installed if missing (9m50s here, under load). Counts the
# lines of core/src only; prints each file and the total, and fails below
# the issue's target of 90% (COVERAGE_MIN to change it).
#
#   bash scripts/coverage.sh
#
# scripts/fuzz-campaign.sh runs it; the report is target/coverage/.
set -euo pipefail
cd "$(dirname "$0")/.."
min=${COVERAGE_MIN:-90}
command -v cargo-tarpaulin >/dev/null || cargo install cargo-tarpaulin --locked --quiet
mkdir -p target/coverage
# Its own target directory: instrumented builds must not mix with the
# plain ones. The OpenBao tests need a server (scripts/vault-tests.sh) and
# are behind the `vault` feature, off here.
CARGO_TARGET_DIR=target/coverage/build cargo tarpaulin --locked -p strongroom --engine llvm \
    --lib --tests --skip-clean --timeout 600 --out Json --output-dir target/coverage \
    --include-files 'core/src/*' --include-files 'core/src/**/*' \
    > target/coverage/tarpaulin.log 2>&1 || {
    tail -n 40 target/coverage/tarpaulin.log >&2
    echo "coverage: cargo tarpaulin failed (log: target/coverage/tarpaulin.log)" >&2
    exit 1
}
python3 - "$min" <<'PY'
import json, sys
from pathlib import Path
report = json.loads(Path("target/coverage/tarpaulin-report.json").read_text())
files = report["files"]
rows, covered, coverable = [], 0, 0
for f in files:
    path = "/".join(f["path"])
    rel = path[path.find("core/src/"):] if "core/src/" in path else path
    c, n = f["covered"], f["coverable"]
    if n == 0:
        continue
    covered += c
    coverable += n
    rows.append((c / n, rel, c, n))
for share, rel, c, n in sorted(rows):
    print(f"  {100 * share:5.1f}%  {c:5}/{n:<5}  {rel}")
if coverable == 0:
    sys.exit("coverage: no coverable line was measured")
total = 100 * covered / coverable
print(f"coverage: core lines {covered}/{coverable} = {total:.1f}% (target {sys.argv[1]}%)")
sys.exit(0 if total >= float(sys.argv[1]) else 1)
PY
