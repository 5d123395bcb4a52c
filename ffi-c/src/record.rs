//! Records (FORMAT.md 4, 5): one field, one ciphertext.

use strongroom::EncryptionContext;
use strongroom::record::{self, MAX_RECORD_PLAINTEXT_LEN, RECORD_OVERHEAD};

use crate::buffer::strongroom_buffer;
use crate::context::{context_or_empty, strongroom_context};
use crate::keyring::{keyring, strongroom_keyring};
use crate::result::strongroom_result;
use crate::util::{boundary, boundary_value, input, out_ptr, output, standalone_key, text, write};

/// The length of the record that encrypting `plaintext_len` bytes makes
/// (`plaintext_len + 49`), for callers who size their own buffers; 0 when
/// `plaintext_len` is past the record limit (1 MiB: use an envelope).
#[unsafe(no_mangle)]
pub extern "C" fn strongroom_record_len(plaintext_len: usize) -> usize {
    boundary_value(0, || {
        if plaintext_len > MAX_RECORD_PLAINTEXT_LEN {
            0
        } else {
            plaintext_len + RECORD_OVERHEAD
        }
    })
}

/// The largest plaintext a record of `record_len` bytes can hold
/// (`record_len - 49`); 0 for a length no record has.
#[unsafe(no_mangle)]
pub extern "C" fn strongroom_record_plaintext_len(record_len: usize) -> usize {
    boundary_value(0, || record_len.saturating_sub(RECORD_OVERHEAD))
}

/// Encrypts `plaintext` under the primary version of the key `name`, bound
/// to `ctx` (NULL: the empty context). The record goes to `*out`.
///
/// Returns `OK`; `UNKNOWN_KEY_NAME`; `TOO_LARGE` past 1 MiB of plaintext;
/// `RANDOMNESS_UNAVAILABLE`; `NULL_POINTER`; `INVALID_UTF8`;
/// `INVALID_HANDLE`.
///
/// # Safety
/// `keyring` is a live handle; `ctx` NULL or a live context; the buffers
/// point to their lengths' readable bytes; `out` is writable.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_record_encrypt(
    keyring: *const strongroom_keyring,
    name: *const u8,
    name_len: usize,
    plaintext: *const u8,
    plaintext_len: usize,
    ctx: *const strongroom_context,
    out: *mut *mut strongroom_buffer,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out)?;
        let empty = EncryptionContext::new();
        // SAFETY: the caller's pointer contracts; handles are checked.
        let (k, name, pt, ctx) = unsafe {
            (
                self::keyring(keyring)?,
                text(name, name_len)?,
                input(plaintext, plaintext_len)?,
                context_or_empty(ctx, &empty)?,
            )
        };
        let sealed = k.current().encrypt_record(name, pt, ctx)?;
        // SAFETY: checked non-NULL above.
        unsafe { write(out, strongroom_buffer::public(sealed)) };
        Ok(())
    })
}

/// Encrypts into the caller's buffer `out` of `out_cap` bytes (at least
/// `strongroom_record_len(plaintext_len)`); writes the record's length to
/// `*out_len`.
///
/// Returns as `strongroom_record_encrypt`, plus `BUFFER_TOO_SMALL` and
/// `BUFFER_OVERLAP` (the output overlaps the plaintext).
///
/// # Safety
/// As `strongroom_record_encrypt`; `out` points to `out_cap` writable
/// bytes; `out_len` is writable.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_record_encrypt_into(
    keyring: *const strongroom_keyring,
    name: *const u8,
    name_len: usize,
    plaintext: *const u8,
    plaintext_len: usize,
    ctx: *const strongroom_context,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out_len)?;
        let empty = EncryptionContext::new();
        // SAFETY: the caller's pointer contracts; handles are checked.
        let (k, name, pt, ctx) = unsafe {
            (
                self::keyring(keyring)?,
                text(name, name_len)?,
                input(plaintext, plaintext_len)?,
                context_or_empty(ctx, &empty)?,
            )
        };
        // SAFETY: `out_cap` writable bytes, checked against the input.
        let dst = unsafe { output(out, out_cap, &[pt]) }?;
        let n = k
            .current()
            .encrypt_record_into(name, pt, ctx, &mut strongroom::FastRng, dst)?;
        // SAFETY: checked non-NULL above.
        unsafe { write(out_len, n) };
        Ok(())
    })
}

/// Decrypts `record` (binary form) with `ctx` (NULL: the empty context);
/// the plaintext goes to `*out`, a buffer wiped when freed.
///
/// Returns `OK`; `AUTHENTICATION_FAILED` (altered, wrong context);
/// `UNKNOWN_KEY_ID`; `UNKNOWN_KEY_VERSION`; `VERSION_DISABLED`;
/// `VERSION_DESTROYED`; `VERSION_BELOW_MINIMUM`; `MALFORMED`;
/// `UNSUPPORTED_FORMAT`; `TOO_LARGE`; `NULL_POINTER`; `INVALID_HANDLE`.
///
/// # Safety
/// As `strongroom_record_encrypt`.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_record_decrypt(
    keyring: *const strongroom_keyring,
    record: *const u8,
    record_len: usize,
    ctx: *const strongroom_context,
    out: *mut *mut strongroom_buffer,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out)?;
        let empty = EncryptionContext::new();
        // SAFETY: the caller's pointer contracts; handles are checked.
        let (k, rec, ctx) = unsafe {
            (
                self::keyring(keyring)?,
                input(record, record_len)?,
                context_or_empty(ctx, &empty)?,
            )
        };
        let plain = k.current().decrypt_record(rec, ctx)?;
        // SAFETY: checked non-NULL above.
        unsafe { write(out, strongroom_buffer::secret(plain)) };
        Ok(())
    })
}

/// Decrypts into the caller's buffer `out` of `out_cap` bytes (at least
/// `strongroom_record_plaintext_len(record_len)`); writes the plaintext's
/// length to `*out_len`. On any failure `out` is left wiped (zeroed).
///
/// Returns as `strongroom_record_decrypt`, plus `BUFFER_TOO_SMALL` and
/// `BUFFER_OVERLAP`.
///
/// # Safety
/// As `strongroom_record_decrypt`; `out` points to `out_cap` writable
/// bytes; `out_len` is writable.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_record_decrypt_into(
    keyring: *const strongroom_keyring,
    record: *const u8,
    record_len: usize,
    ctx: *const strongroom_context,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out_len)?;
        let empty = EncryptionContext::new();
        // SAFETY: the caller's pointer contracts; handles are checked.
        let (k, rec, ctx) = unsafe {
            (
                self::keyring(keyring)?,
                input(record, record_len)?,
                context_or_empty(ctx, &empty)?,
            )
        };
        // SAFETY: `out_cap` writable bytes, checked against the input.
        let dst = unsafe { output(out, out_cap, &[rec]) }?;
        let n = k.current().decrypt_record_into(rec, ctx, dst)?;
        // SAFETY: checked non-NULL above.
        unsafe { write(out_len, n) };
        Ok(())
    })
}

/// Re-encrypts `record` under its key's primary version (same context,
/// fresh nonce). The result goes to `*out`; `*out_changed` says whether it
/// differs (false: the record was at the primary already, and `*out` is a
/// copy of it, authenticated).
///
/// Returns as `strongroom_record_decrypt`.
///
/// # Safety
/// As `strongroom_record_decrypt`; `out_changed` is writable.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_record_rewrap(
    keyring: *const strongroom_keyring,
    record: *const u8,
    record_len: usize,
    ctx: *const strongroom_context,
    out: *mut *mut strongroom_buffer,
    out_changed: *mut bool,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out)?;
        out_ptr(out_changed)?;
        let empty = EncryptionContext::new();
        // SAFETY: the caller's pointer contracts; handles are checked.
        let (k, rec, ctx) = unsafe {
            (
                self::keyring(keyring)?,
                input(record, record_len)?,
                context_or_empty(ctx, &empty)?,
            )
        };
        let rewrapped = k.current().rewrap_record(rec, ctx)?;
        let changed = rewrapped.is_some();
        let bytes = rewrapped.unwrap_or_else(|| rec.to_vec());
        // SAFETY: both checked non-NULL above.
        unsafe {
            write(out, strongroom_buffer::public(bytes));
            write(out_changed, changed);
        }
        Ok(())
    })
}

/// The text form of a binary record (`sr1:` and unpadded base64url,
/// FORMAT.md 5), NUL-free, in `*out`.
///
/// Returns `OK`; `MALFORMED` for input that is not a record;
/// `NULL_POINTER`.
///
/// # Safety
/// `record` points to `record_len` readable bytes; `out` is writable.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_record_to_text(
    record: *const u8,
    record_len: usize,
    out: *mut *mut strongroom_buffer,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out)?;
        // SAFETY: the caller's buffer contract.
        let rec = unsafe { input(record, record_len) }?;
        strongroom::inspect_record(rec)?;
        let t = record::to_text(rec);
        // SAFETY: checked non-NULL above.
        unsafe { write(out, strongroom_buffer::public(t.into_bytes())) };
        Ok(())
    })
}

/// The binary record of a text-form record, in `*out`.
///
/// Returns `OK`; `MALFORMED` for text that is not exactly a canonical text
/// record; `TOO_LARGE`; `INVALID_UTF8`; `NULL_POINTER`.
///
/// # Safety
/// `text` points to `text_len` readable bytes; `out` is writable.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_record_from_text(
    text: *const u8,
    text_len: usize,
    out: *mut *mut strongroom_buffer,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out)?;
        // SAFETY: the caller's buffer contract.
        let t = unsafe { self::text(text, text_len) }?;
        let rec = record::from_text(t)?;
        // SAFETY: checked non-NULL above.
        unsafe { write(out, strongroom_buffer::public(rec)) };
        Ok(())
    })
}

/// Encrypts `plaintext` under a standalone key of 32 bytes (a data key or a
/// derived key; FORMAT.md 4.7), bound to `ctx`; the record goes to `*out`.
///
/// Returns `OK`; `INVALID_ARGUMENT` for a key that is not 32 bytes;
/// `TOO_LARGE`; `RANDOMNESS_UNAVAILABLE`; `NULL_POINTER`.
///
/// # Safety
/// The buffers point to their lengths' readable bytes; `ctx` is NULL or a
/// live context; `out` is writable.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_record_encrypt_with_key(
    key: *const u8,
    key_len: usize,
    plaintext: *const u8,
    plaintext_len: usize,
    ctx: *const strongroom_context,
    out: *mut *mut strongroom_buffer,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out)?;
        let empty = EncryptionContext::new();
        // SAFETY: the caller's pointer contracts; the context is checked.
        let (key, pt, ctx) = unsafe {
            (
                standalone_key(key, key_len)?,
                input(plaintext, plaintext_len)?,
                context_or_empty(ctx, &empty)?,
            )
        };
        let sealed = record::encrypt_with_key(&key, pt, ctx, &mut strongroom::FastRng)?;
        // SAFETY: checked non-NULL above.
        unsafe { write(out, strongroom_buffer::public(sealed)) };
        Ok(())
    })
}

/// Decrypts a record made by `strongroom_record_encrypt_with_key`; the
/// plaintext goes to `*out`.
///
/// Returns `OK`; `AUTHENTICATION_FAILED`; `MALFORMED` (also for a record
/// under a keyring key); `INVALID_ARGUMENT` for a key that is not 32
/// bytes; `NULL_POINTER`.
///
/// # Safety
/// As `strongroom_record_encrypt_with_key`.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_record_decrypt_with_key(
    key: *const u8,
    key_len: usize,
    record: *const u8,
    record_len: usize,
    ctx: *const strongroom_context,
    out: *mut *mut strongroom_buffer,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out)?;
        let empty = EncryptionContext::new();
        // SAFETY: the caller's pointer contracts; the context is checked.
        let (key, rec, ctx) = unsafe {
            (
                standalone_key(key, key_len)?,
                input(record, record_len)?,
                context_or_empty(ctx, &empty)?,
            )
        };
        let plain = record::decrypt_with_key(&key, rec, ctx)?;
        // SAFETY: checked non-NULL above.
        unsafe { write(out, strongroom_buffer::secret(plain)) };
        Ok(())
    })
}
