//! Keyring files sealed by a key inside a PKCS#11 token (an HSM; SoftHSM2
//! in the tests): the root key never leaves the token (FORMAT.md 10.3).

use alloc::sync::Arc;

use strongroom::pkcs11::Pkcs11Root;
use strongroom::root::KeyProvider;

use crate::keyring::{open_or_create, path, publish, strongroom_keyring};
use crate::result::strongroom_result;
use crate::util::{boundary, input, out_ptr, text};

/// The token root from the C arguments.
///
/// # Safety
/// Each pointer points to its length's readable bytes.
#[allow(
    clippy::too_many_arguments,
    reason = "the C functions' (pointer, length) pairs"
)]
unsafe fn root(
    module: *const u8,
    module_len: usize,
    token: *const u8,
    token_len: usize,
    pin: *const u8,
    pin_len: usize,
    key_label: *const u8,
    key_label_len: usize,
) -> Result<Pkcs11Root, strongroom_result> {
    // SAFETY: forwarded.
    let (module, token, pin, key) = unsafe {
        (
            path(module, module_len)?,
            text(token, token_len)?,
            input(pin, pin_len)?,
            text(key_label, key_label_len)?,
        )
    };
    let pin = core::str::from_utf8(pin).map_err(|_| strongroom_result::InvalidUtf8)?;
    Ok(Pkcs11Root::connect(module, token, pin, key)?)
}

/// Opens the keyring file at `path`, sealed by a key in the PKCS#11 token
/// labelled `token` of the module at `module` (the token's `.so`), logging
/// in with `pin` (not kept in memory beyond the library's use of it, never
/// in messages). New saves seal with the key labelled `key_label`; opening
/// uses the key the file names. Strings are UTF-8, not NUL-terminated.
///
/// Returns `OK`; `KEY_PROVIDER` (the module, token, PIN or key: the message
/// of `strongroom_result_message` is generic; a wrong PIN is KEY_PROVIDER);
/// `AUTHENTICATION_FAILED`; `INVALID_ARGUMENT` for a file sealed by another
/// kind of root; `NOT_FOUND`; `IO`; `MALFORMED`; `ROLLBACK` (the token
/// records the newest generation); `NULL_POINTER`; `INVALID_UTF8`.
///
/// # Safety
/// Each pointer points to its length's readable bytes; `out` is writable.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_keyring_open_pkcs11(
    path: *const u8,
    path_len: usize,
    module: *const u8,
    module_len: usize,
    token: *const u8,
    token_len: usize,
    pin: *const u8,
    pin_len: usize,
    key_label: *const u8,
    key_label_len: usize,
    out: *mut *mut strongroom_keyring,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out)?;
        // SAFETY: the caller's pointer contracts.
        let (p, r) = unsafe {
            (
                self::path(path, path_len)?,
                root(
                    module,
                    module_len,
                    token,
                    token_len,
                    pin,
                    pin_len,
                    key_label,
                    key_label_len,
                )?,
            )
        };
        let r: Arc<dyn KeyProvider> = Arc::new(r);
        publish(out, open_or_create(p, r, false)?);
        Ok(())
    })
}

/// Creates a new, empty keyring file at `path` sealed by the token key
/// `key_label` (first creating that key in the token when `create_key` is
/// true: AES-256, sensitive, never extractable), and opens it. Never
/// replaces an existing file.
///
/// Returns as `strongroom_keyring_open_pkcs11`, plus `ALREADY_EXISTS`.
///
/// # Safety
/// As `strongroom_keyring_open_pkcs11`.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_keyring_create_pkcs11(
    path: *const u8,
    path_len: usize,
    module: *const u8,
    module_len: usize,
    token: *const u8,
    token_len: usize,
    pin: *const u8,
    pin_len: usize,
    key_label: *const u8,
    key_label_len: usize,
    create_key: bool,
    out: *mut *mut strongroom_keyring,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out)?;
        // SAFETY: the caller's pointer contracts.
        let (p, r) = unsafe {
            (
                self::path(path, path_len)?,
                root(
                    module,
                    module_len,
                    token,
                    token_len,
                    pin,
                    pin_len,
                    key_label,
                    key_label_len,
                )?,
            )
        };
        if p.exists() {
            return Err(strongroom_result::AlreadyExists);
        }
        if create_key {
            r.create_key()?;
        }
        let r: Arc<dyn KeyProvider> = Arc::new(r);
        publish(out, open_or_create(p, r, true)?);
        Ok(())
    })
}
