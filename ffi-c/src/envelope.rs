//! Envelopes in memory (FORMAT.md 7): blobs and files, chunked.

use strongroom::EncryptionContext;
use strongroom::envelope::{self, DEFAULT_CHUNK_SIZE, Identity, Recipient};

use crate::buffer::strongroom_buffer;
use crate::context::{context_or_empty, strongroom_context};
use crate::keyring::{keyring, strongroom_keyring};
use crate::result::strongroom_result;
use crate::util::{boundary, input, key_names, out_ptr, standalone_key, text, write};

/// The chunk size `chunk_size` stands for: 0 is the default (64 KiB).
fn chunk(chunk_size: u32) -> u32 {
    if chunk_size == 0 {
        DEFAULT_CHUNK_SIZE
    } else {
        chunk_size
    }
}

/// Writes to `*out_len` the exact length of the envelope that encrypting
/// `plaintext_len` bytes for `recipients` recipients with `ctx` (NULL:
/// empty) and `chunk_size` (0: 64 KiB) makes.
///
/// Returns `OK`; `INVALID_ARGUMENT` for a chunk size outside 64 B - 16 MiB
/// or a recipient count outside 1-16; `TOO_LARGE`; `NULL_POINTER`.
///
/// # Safety
/// `ctx` is NULL or a live context; `out_len` is writable.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_envelope_encrypted_len(
    plaintext_len: u64,
    chunk_size: u32,
    recipients: usize,
    ctx: *const strongroom_context,
    out_len: *mut u64,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out_len)?;
        let empty = EncryptionContext::new();
        // SAFETY: the handle is checked against the registry.
        let ctx = unsafe { context_or_empty(ctx, &empty) }?;
        let n = envelope::encrypted_len(plaintext_len, chunk(chunk_size), recipients, ctx)?;
        // SAFETY: checked non-NULL above.
        unsafe { write(out_len, n) };
        Ok(())
    })
}

/// Encrypts `plaintext` into an envelope for the primary version of the
/// key `name`, bound to `ctx` (NULL: empty), in chunks of `chunk_size`
/// bytes (0: 64 KiB). The envelope goes to `*out`.
///
/// Returns `OK`; `UNKNOWN_KEY_NAME`; `INVALID_ARGUMENT` for a chunk size
/// outside 64 B - 16 MiB; `RANDOMNESS_UNAVAILABLE`; `NULL_POINTER`;
/// `INVALID_UTF8`; `INVALID_HANDLE`.
///
/// # Safety
/// `keyring` is a live handle; `ctx` NULL or a live context; the buffers
/// point to their lengths' readable bytes; `out` is writable.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_envelope_encrypt(
    keyring: *const strongroom_keyring,
    name: *const u8,
    name_len: usize,
    plaintext: *const u8,
    plaintext_len: usize,
    ctx: *const strongroom_context,
    chunk_size: u32,
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
        let current = k.current();
        let recipients = [Recipient::Key {
            keyring: &current,
            name,
        }];
        let sealed = envelope::encrypt(
            &recipients,
            pt,
            ctx,
            chunk(chunk_size),
            &mut strongroom::FastRng,
        )?;
        // SAFETY: checked non-NULL above.
        unsafe { write(out, strongroom_buffer::public(sealed)) };
        Ok(())
    })
}

/// Decrypts a whole envelope with the keyring and `ctx` (NULL: empty); the
/// plaintext goes to `*out` only if every chunk authenticates.
///
/// Returns `OK`; `AUTHENTICATION_FAILED` (altered, truncated, wrong
/// context); `UNKNOWN_KEY_ID` when no recipient is in the keyring;
/// `VERSION_DISABLED`, `VERSION_DESTROYED`, `VERSION_BELOW_MINIMUM`;
/// `MALFORMED`; `UNSUPPORTED_FORMAT`; `TOO_LARGE`; `NULL_POINTER`;
/// `INVALID_HANDLE`.
///
/// # Safety
/// As `strongroom_envelope_encrypt`.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_envelope_decrypt(
    keyring: *const strongroom_keyring,
    envelope: *const u8,
    envelope_len: usize,
    ctx: *const strongroom_context,
    out: *mut *mut strongroom_buffer,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out)?;
        let empty = EncryptionContext::new();
        // SAFETY: the caller's pointer contracts; handles are checked.
        let (k, env, ctx) = unsafe {
            (
                self::keyring(keyring)?,
                input(envelope, envelope_len)?,
                context_or_empty(ctx, &empty)?,
            )
        };
        let current = k.current();
        let plain = envelope::decrypt(Identity::Keyring(&current), env, ctx)?;
        // SAFETY: checked non-NULL above.
        unsafe { write(out, strongroom_buffer::secret(plain)) };
        Ok(())
    })
}

/// Moves an envelope to the primary versions of its keys: only the header
/// is rewritten, the body bytes are copied unchanged. The result goes to
/// `*out`.
///
/// Returns as `strongroom_envelope_decrypt` (the body is not read, so a
/// damaged body is not detected here).
///
/// # Safety
/// As `strongroom_envelope_decrypt`.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_envelope_rewrap(
    keyring: *const strongroom_keyring,
    envelope: *const u8,
    envelope_len: usize,
    ctx: *const strongroom_context,
    out: *mut *mut strongroom_buffer,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out)?;
        let empty = EncryptionContext::new();
        // SAFETY: the caller's pointer contracts; handles are checked.
        let (k, env, ctx) = unsafe {
            (
                self::keyring(keyring)?,
                input(envelope, envelope_len)?,
                context_or_empty(ctx, &empty)?,
            )
        };
        let current = k.current();
        let moved = envelope::rewrap(&current, env, ctx, &mut strongroom::FastRng)?;
        // SAFETY: checked non-NULL above.
        unsafe { write(out, strongroom_buffer::public(moved)) };
        Ok(())
    })
}

/// Public facts of an envelope's header (no key needed).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct strongroom_envelope_info {
    /// The chunk size in bytes.
    pub chunk_size: u32,
    /// The number of recipients.
    pub recipients: u32,
    /// The plaintext length the envelope's size implies.
    pub plaintext_len: u64,
}

/// Reads the public facts of an envelope into `*out_info`.
///
/// Returns `OK`; `MALFORMED`; `UNSUPPORTED_FORMAT`; `NULL_POINTER`.
///
/// # Safety
/// `envelope` points to `envelope_len` readable bytes; `out_info` is
/// writable.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_envelope_inspect(
    envelope: *const u8,
    envelope_len: usize,
    out_info: *mut strongroom_envelope_info,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out_info)?;
        // SAFETY: the caller's buffer contract.
        let env = unsafe { input(envelope, envelope_len) }?;
        let info = envelope::inspect(env)?;
        let out = strongroom_envelope_info {
            chunk_size: info.chunk_size,
            recipients: u32::try_from(info.recipients.len()).unwrap_or(u32::MAX),
            plaintext_len: info.plaintext_len,
        };
        // SAFETY: checked non-NULL above.
        unsafe { write(out_info, out) };
        Ok(())
    })
}

/// Encrypts `plaintext` into an envelope for the primary versions of
/// `count` keys of the keyring (1 to 16; any one of them decrypts it):
/// `names[i]` of `name_lens[i]` bytes. Otherwise as
/// `strongroom_envelope_encrypt`.
///
/// Returns as `strongroom_envelope_encrypt`, plus `INVALID_ARGUMENT` for a
/// count outside 1-16 or a key named twice.
///
/// # Safety
/// As `strongroom_envelope_encrypt`; `names` and `name_lens` hold `count`
/// readable entries, each name its length's readable bytes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_envelope_encrypt_to(
    keyring: *const strongroom_keyring,
    names: *const *const u8,
    name_lens: *const usize,
    count: usize,
    plaintext: *const u8,
    plaintext_len: usize,
    ctx: *const strongroom_context,
    chunk_size: u32,
    out: *mut *mut strongroom_buffer,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out)?;
        let empty = EncryptionContext::new();
        // SAFETY: the caller's pointer contracts; handles are checked.
        let (k, pt, ctx) = unsafe {
            (
                self::keyring(keyring)?,
                input(plaintext, plaintext_len)?,
                context_or_empty(ctx, &empty)?,
            )
        };
        // SAFETY: the caller's array contract.
        let key_names = unsafe { key_names(names, name_lens, count) }?;
        let current = k.current();
        let recipients: Vec<Recipient<'_>> = key_names
            .iter()
            .map(|name| Recipient::Key {
                keyring: &current,
                name,
            })
            .collect();
        let sealed = envelope::encrypt(
            &recipients,
            pt,
            ctx,
            chunk(chunk_size),
            &mut strongroom::FastRng,
        )?;
        // SAFETY: checked non-NULL above.
        unsafe { write(out, strongroom_buffer::public(sealed)) };
        Ok(())
    })
}

/// Encrypts `plaintext` into an envelope for a standalone key of 32 bytes
/// (a data key or a derived key), bound to `ctx` (NULL: empty), in chunks
/// of `chunk_size` bytes (0: 64 KiB); the envelope goes to `*out`.
///
/// Returns `OK`; `INVALID_ARGUMENT` for a key that is not 32 bytes or a bad
/// chunk size; `RANDOMNESS_UNAVAILABLE`; `NULL_POINTER`; `INVALID_HANDLE`.
///
/// # Safety
/// The buffers point to their lengths' readable bytes; `ctx` is NULL or a
/// live context; `out` is writable.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_envelope_encrypt_with_key(
    key: *const u8,
    key_len: usize,
    plaintext: *const u8,
    plaintext_len: usize,
    ctx: *const strongroom_context,
    chunk_size: u32,
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
        let sealed = envelope::encrypt(
            &[Recipient::Standalone(&key)],
            pt,
            ctx,
            chunk(chunk_size),
            &mut strongroom::FastRng,
        )?;
        // SAFETY: checked non-NULL above.
        unsafe { write(out, strongroom_buffer::public(sealed)) };
        Ok(())
    })
}

/// Decrypts an envelope with a standalone key of 32 bytes; the plaintext
/// goes to `*out` only if every chunk authenticates.
///
/// Returns `OK`; `AUTHENTICATION_FAILED` (altered, or the key is not the
/// standalone recipient's); `UNKNOWN_KEY_ID` when the envelope has no
/// standalone-key recipient; `INVALID_ARGUMENT` for a key that is not 32
/// bytes;
/// `MALFORMED`; `UNSUPPORTED_FORMAT`; `TOO_LARGE`; `NULL_POINTER`.
///
/// # Safety
/// As `strongroom_envelope_encrypt_with_key`.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_envelope_decrypt_with_key(
    key: *const u8,
    key_len: usize,
    envelope: *const u8,
    envelope_len: usize,
    ctx: *const strongroom_context,
    out: *mut *mut strongroom_buffer,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out)?;
        let empty = EncryptionContext::new();
        // SAFETY: the caller's pointer contracts; the context is checked.
        let (key, env, ctx) = unsafe {
            (
                standalone_key(key, key_len)?,
                input(envelope, envelope_len)?,
                context_or_empty(ctx, &empty)?,
            )
        };
        let plain = envelope::decrypt(Identity::Standalone(&key), env, ctx)?;
        // SAFETY: checked non-NULL above.
        unsafe { write(out, strongroom_buffer::secret(plain)) };
        Ok(())
    })
}
