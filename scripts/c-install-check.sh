#!/usr/bin/env bash
# The install step and the README's C example (issue #12): installs the
# library under a temporary prefix, then compiles the README's ```c block
# with `pkg-config --cflags --libs strongroom` (shared) and
# `... strongroom-static` (static) and runs both.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix="$PWD/target/c-prefix"
rm -rf "$prefix"
bash scripts/install-c.sh "$prefix"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
src="$prefix/readme-example.c"
awk '/^```c$/ {on=1; next} /^```$/ {if (on) exit} on {print}' README.md > "$src"
[ -s "$src" ] || { echo "c-install-check: no \`\`\`c block in README.md" >&2; exit 1; }
# shellcheck disable=SC2046
cc -std=c99 -Wall -Wextra -Werror "$src" -o "$prefix/example-shared" $(pkg-config --cflags --libs strongroom)
# shellcheck disable=SC2046
cc -std=c99 -Wall -Wextra -Werror "$src" -o "$prefix/example-static" $(pkg-config --cflags --libs strongroom-static)
if readelf -d "$prefix/example-static" | grep -q 'libstrongroom'; then
    echo "c-install-check: the static example links libstrongroom dynamically" >&2
    exit 1
fi
readelf -d "$prefix/example-shared" | grep -q 'NEEDED.*libstrongroom.so.0' || {
    echo "c-install-check: the shared example does not need libstrongroom.so.0" >&2
    exit 1
}
echo "c-install-check: shared: $("$prefix/example-shared")"
echo "c-install-check: static: $("$prefix/example-static")"
