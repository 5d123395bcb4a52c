#!/usr/bin/env bash
# Installs the C library under PREFIX (default /usr/local), as a C library
# is installed:
#   PREFIX/include/strongroom.h
#   PREFIX/lib/libstrongroom.so.0.1.0, libstrongroom.so.0, libstrongroom.so
#   PREFIX/lib/libstrongroom.a
#   PREFIX/lib/pkgconfig/strongroom.pc         (shared)
#   PREFIX/lib/pkgconfig/strongroom-static.pc  (static)
# Then: cc app.c $(pkg-config --cflags --libs strongroom)
#   or: cc app.c $(pkg-config --cflags --libs strongroom-static)
# Plain cargo and cp: no cargo-c (a 3-17 minute `cargo install`).
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${1:-/usr/local}
mkdir -p "$prefix"
prefix=$(cd "$prefix" && pwd)

cargo build --release --locked -q -p strongroom-ffi
version=$(sed -n 's/^#define STRONGROOM_VERSION_STRING "\(.*\)"/\1/p' include/strongroom.h)
major=${version%%.*}
lib="$prefix/lib"
mkdir -p "$prefix/include" "$lib/pkgconfig"
install -m 0644 include/strongroom.h "$prefix/include/strongroom.h"
install -m 0755 target/release/libstrongroom_ffi.so "$lib/libstrongroom.so.$version"
ln -sf "libstrongroom.so.$version" "$lib/libstrongroom.so.$major"
ln -sf "libstrongroom.so.$major" "$lib/libstrongroom.so"
install -m 0644 target/release/libstrongroom_ffi.a "$lib/libstrongroom.a"

# What a static Rust library needs from the system on Linux with glibc
# (rustc --print native-static-libs); the static link in
# scripts/c-install-check.sh proves the list.
static_libs="-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc"
cat > "$lib/pkgconfig/strongroom.pc" <<PC
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: strongroom
Description: Envelope encryption under a versioned keyring (shared library)
Version: $version
Cflags: -I\${includedir}
Libs: -L\${libdir} -Wl,-rpath,\${libdir} -lstrongroom
PC
cat > "$lib/pkgconfig/strongroom-static.pc" <<PC
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: strongroom-static
Description: Envelope encryption under a versioned keyring (static library)
Version: $version
Cflags: -I\${includedir}
Libs: \${libdir}/libstrongroom.a $static_libs
PC
echo "install-c: strongroom $version installed under $prefix"
