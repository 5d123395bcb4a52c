//! Data keys (FORMAT.md 8) and derived keys (FORMAT.md 9): standalone keys
//! for crypto-shredding per data subject and isolation per tenant.

use strongroom::EncryptionContext;

use crate::buffer::strongroom_buffer;
use crate::context::{context_or_empty, strongroom_context};
use crate::keyring::{keyring, strongroom_keyring};
use crate::result::strongroom_result;
use crate::util::{boundary, input, out_ptr, text, write};

/// Makes a random 32-byte data key and wraps it under the primary version
/// of the key `name`, bound to `ctx` (NULL: empty). The key goes to
/// `*out_key` (wiped when freed), its 81-byte wrapped form to
/// `*out_wrapped` (store it beside the data; deleting it shreds the data).
///
/// Returns `OK`; `UNKNOWN_KEY_NAME`; `RANDOMNESS_UNAVAILABLE`;
/// `NULL_POINTER`; `INVALID_UTF8`; `INVALID_HANDLE`.
///
/// # Safety
/// `keyring` is a live handle; `ctx` NULL or a live context; `name` points
/// to `name_len` readable bytes; both outs are writable.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_datakey_generate(
    keyring: *const strongroom_keyring,
    name: *const u8,
    name_len: usize,
    ctx: *const strongroom_context,
    out_key: *mut *mut strongroom_buffer,
    out_wrapped: *mut *mut strongroom_buffer,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out_key)?;
        out_ptr(out_wrapped)?;
        let empty = EncryptionContext::new();
        // SAFETY: the caller's pointer contracts; handles are checked.
        let (k, name, ctx) = unsafe {
            (
                self::keyring(keyring)?,
                text(name, name_len)?,
                context_or_empty(ctx, &empty)?,
            )
        };
        let (key, wrapped) = k.current().generate_data_key(name, ctx)?.into_parts();
        let key = strongroom::SecretBytes::from_slice(key.expose_secret());
        // SAFETY: both checked non-NULL above.
        unsafe {
            write(out_key, strongroom_buffer::secret(key));
            write(out_wrapped, strongroom_buffer::public(wrapped));
        }
        Ok(())
    })
}

/// Unwraps a data key made by `strongroom_datakey_generate`, with the same
/// `ctx`; the key goes to `*out_key` (wiped when freed).
///
/// Returns `OK`; `AUTHENTICATION_FAILED`; `UNKNOWN_KEY_ID`;
/// `UNKNOWN_KEY_VERSION`; `VERSION_DISABLED`; `VERSION_DESTROYED`;
/// `VERSION_BELOW_MINIMUM`; `MALFORMED`; `UNSUPPORTED_FORMAT`;
/// `NULL_POINTER`; `INVALID_HANDLE`.
///
/// # Safety
/// As `strongroom_datakey_generate`; `wrapped` points to `wrapped_len`
/// readable bytes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_datakey_unwrap(
    keyring: *const strongroom_keyring,
    wrapped: *const u8,
    wrapped_len: usize,
    ctx: *const strongroom_context,
    out_key: *mut *mut strongroom_buffer,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out_key)?;
        let empty = EncryptionContext::new();
        // SAFETY: the caller's pointer contracts; handles are checked.
        let (k, blob, ctx) = unsafe {
            (
                self::keyring(keyring)?,
                input(wrapped, wrapped_len)?,
                context_or_empty(ctx, &empty)?,
            )
        };
        let key = k.current().unwrap_data_key(blob, ctx)?;
        let key = strongroom::SecretBytes::from_slice(key.expose_secret());
        // SAFETY: checked non-NULL above.
        unsafe { write(out_key, strongroom_buffer::secret(key)) };
        Ok(())
    })
}

/// Derives the 32-byte key for `ctx` (for example a tenant) from the
/// primary version of the key `name` (FORMAT.md 9); the key goes to
/// `*out_key` (wiped when freed), the version it came from to
/// `*out_version` (record it: after a rotation the primary derives another
/// key).
///
/// Returns `OK`; `UNKNOWN_KEY_NAME`; `NULL_POINTER`; `INVALID_HANDLE`.
///
/// # Safety
/// As `strongroom_datakey_generate`; `out_version` is writable.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_keyring_derive_key(
    keyring: *const strongroom_keyring,
    name: *const u8,
    name_len: usize,
    ctx: *const strongroom_context,
    out_key: *mut *mut strongroom_buffer,
    out_version: *mut u32,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out_key)?;
        out_ptr(out_version)?;
        let empty = EncryptionContext::new();
        // SAFETY: the caller's pointer contracts; handles are checked.
        let (k, name, ctx) = unsafe {
            (
                self::keyring(keyring)?,
                text(name, name_len)?,
                context_or_empty(ctx, &empty)?,
            )
        };
        let derived = k.current().derive_key(name, ctx)?;
        let key = strongroom::SecretBytes::from_slice(derived.key().expose_secret());
        // SAFETY: both checked non-NULL above.
        unsafe {
            write(out_key, strongroom_buffer::secret(key));
            write(out_version, derived.version());
        }
        Ok(())
    })
}

/// Derives the key for `ctx` from version `version` of the key `name` (to
/// open data derived before a rotation).
///
/// Returns as `strongroom_keyring_derive_key`, plus `UNKNOWN_KEY_VERSION`,
/// `VERSION_DISABLED`, `VERSION_DESTROYED`, `VERSION_BELOW_MINIMUM`.
///
/// # Safety
/// As `strongroom_keyring_derive_key`.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_keyring_derive_key_version(
    keyring: *const strongroom_keyring,
    name: *const u8,
    name_len: usize,
    version: u32,
    ctx: *const strongroom_context,
    out_key: *mut *mut strongroom_buffer,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out_key)?;
        let empty = EncryptionContext::new();
        // SAFETY: the caller's pointer contracts; handles are checked.
        let (k, name, ctx) = unsafe {
            (
                self::keyring(keyring)?,
                text(name, name_len)?,
                context_or_empty(ctx, &empty)?,
            )
        };
        let derived = k.current().derive_key_version(name, version, ctx)?;
        let key = strongroom::SecretBytes::from_slice(derived.key().expose_secret());
        // SAFETY: checked non-NULL above.
        unsafe { write(out_key, strongroom_buffer::secret(key)) };
        Ok(())
    })
}
