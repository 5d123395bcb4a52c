//! The C ABI of strongroom: `libstrongroom.so` / `libstrongroom.a` and
//! `include/strongroom.h` (generated from this crate by cbindgen).
//!
//! This crate translates types and errors and calls the core; it holds no
//! cryptography and no format logic (`shared/STYLE.md`, rule 1).
//!
//! # Conventions (also at the top of the header)
//!
//! - Names are `strongroom_<object>_<verb>`. Parameters come in the order
//!   object, inputs, outputs. Buffers are `(pointer, size_t)` pairs; a
//!   pointer may be NULL only when its length is 0.
//! - Every function that can fail returns a `strongroom_result`
//!   (`STRONGROOM_RESULT_OK` is 0; the other numbers are the core's stable
//!   error numbers, `docs/ERRORS.md`, plus 200-299 for this layer) and is
//!   marked `warn_unused_result`. Out-parameters are written only on
//!   success.
//! - Handles are opaque. Each is *shared* (`const *`: usable from many
//!   threads at once) or *exclusive* (`*`: one thread at a time), as its
//!   documentation says. `_free(NULL)` does nothing; so does `_free` of a
//!   pointer that is not a live handle of that kind (a double free): every
//!   handle is registered while it lives, and every function checks the
//!   handles it is given against the registry. A freed handle's memory is
//!   kept for the next 4096 frees, so its address is not handed out again
//!   meanwhile and the stale handle is recognised.
//! - Every entry point runs inside a panic boundary: a panic becomes
//!   `STRONGROOM_RESULT_PANIC`, never an abort or an unwind into C.
//! - Buffers the library hands out are `strongroom_buffer` handles, wiped
//!   when freed. Decrypted output is never left in a caller's buffer on
//!   failure: it is wiped (the `_into` functions) or never written.
#![allow(non_camel_case_types, unsafe_code)]
// The exported functions are `unsafe extern "C"`: their callers (C) must
// uphold the pointer contracts the header states. Each one checks what it
// can (NULL, lengths, handle kinds) before it touches memory.

extern crate alloc;

pub mod audit;
pub mod blind_index;
pub mod buffer;
pub mod context;
pub mod envelope;
pub mod files;
mod handle;
pub mod keyring;
pub mod keys;
pub mod pkcs11;
pub mod provider;
pub mod reader;
pub mod record;
pub mod result;
pub mod stream;
mod util;

pub use buffer::strongroom_buffer;
pub use context::strongroom_context;
pub use keyring::{strongroom_key_info, strongroom_keyring, strongroom_version_info};
pub use result::strongroom_result;

use core::ffi::c_char;

/// The library version, as a NUL-terminated string such as `"0.1.0"`
/// (static storage; never free it). The header's `STRONGROOM_VERSION_*`
/// macros give the version the caller was compiled against.
#[unsafe(no_mangle)]
pub extern "C" fn strongroom_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// Panics inside the boundary: for the C tests of the boundary only
/// (feature `test-hooks`; not in the header, not in installed libraries).
#[cfg(feature = "test-hooks")]
#[unsafe(no_mangle)]
#[must_use]
pub extern "C" fn strongroom_test_panic() -> strongroom_result {
    util::boundary(|| -> Result<(), strongroom_result> {
        #[allow(clippy::panic)]
        {
            panic!("strongroom_test_panic: a panic inside the boundary, on purpose")
        }
    })
}

/// The number of live handles (feature `test-hooks`): the C tests check it
/// returns to 0 once they have freed everything.
#[cfg(feature = "test-hooks")]
#[unsafe(no_mangle)]
pub extern "C" fn strongroom_test_live_handles() -> usize {
    util::boundary_value(usize::MAX, handle::live_count)
}
