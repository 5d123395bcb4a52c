//! Generates the C header from this crate's source (cbindgen, pinned in
//! Cargo.toml) into `$OUT_DIR/strongroom.h`; `tests/header.rs` compares it
//! with the committed `include/strongroom.h`. Also gives the shared
//! library its soname.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::env;
use std::path::PathBuf;

const PREAMBLE: &str = r#"
/*
 * strongroom: envelope encryption under a versioned keyring (C ABI).
 *
 * Conventions
 * - Functions are strongroom_<object>_<verb>. Parameters: object, inputs,
 *   outputs. Buffers are (pointer, size_t) pairs; a pointer may be NULL
 *   only when its length is 0. Strings are UTF-8 with an explicit length
 *   and no NUL terminator needed.
 * - Every function that can fail returns a strongroom_result
 *   (STRONGROOM_RESULT_OK is 0) and is marked warn_unused_result;
 *   strongroom_result_message() describes a code. Out-parameters are
 *   written only on success. The documentation below names results
 *   without their STRONGROOM_RESULT_ prefix (OK, NULL_POINTER, ...).
 * - Handles are opaque. Shared handles (strongroom_keyring; a built
 *   strongroom_context) may be used from many threads at once; exclusive
 *   ones (a strongroom_buffer, a context being built) by one thread at a
 *   time. Each handle documents which it is.
 * - Every handle is freed by its _free function. _free(NULL) does nothing,
 *   and so does a second _free of the same handle. Functions given a freed
 *   handle return STRONGROOM_RESULT_INVALID_HANDLE (a freed handle's
 *   address is not reused for the next 4096 frees, so it is never taken
 *   for a new handle).
 * - Memory the library hands out (strongroom_buffer) is wiped when freed.
 *   On failure, decrypted output is never left in a caller's buffer.
 * - A panic inside the library is caught at the boundary and returned as
 *   STRONGROOM_RESULT_PANIC; it never unwinds into C or aborts.
 */

#define STRONGROOM_VERSION_MAJOR @MAJOR@
#define STRONGROOM_VERSION_MINOR @MINOR@
#define STRONGROOM_VERSION_PATCH @PATCH@
#define STRONGROOM_VERSION_STRING "@VERSION@"

#if defined(__GNUC__) || defined(__clang__)
#define STRONGROOM_MUST_USE __attribute__((warn_unused_result))
#else
#define STRONGROOM_MUST_USE
#endif
"#;

fn main() {
    let crate_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let out = PathBuf::from(env::var("OUT_DIR").unwrap()).join("strongroom.h");
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=build.rs");
    // The soname the install step's file names follow (scripts/install-c.sh).
    let major = env::var("CARGO_PKG_VERSION_MAJOR").unwrap();
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libstrongroom.so.{major}");

    let preamble = PREAMBLE
        .replace("@MAJOR@", &major)
        .replace("@MINOR@", &env::var("CARGO_PKG_VERSION_MINOR").unwrap())
        .replace("@PATCH@", &env::var("CARGO_PKG_VERSION_PATCH").unwrap())
        .replace("@VERSION@", &env::var("CARGO_PKG_VERSION").unwrap());
    let mut config =
        cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("ffi-c/cbindgen.toml");
    config.after_includes = Some(preamble);
    cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen could not generate the header")
        .write_to_file(&out);
}
