//! Whole files, with the core's file operations (`strongroom::file`): the
//! output appears only when complete (decrypt: only once every chunk has
//! authenticated), with mode 0600; a failure leaves nothing there.

use strongroom::EncryptionContext;
use strongroom::envelope::{DEFAULT_CHUNK_SIZE, Recipient};
use strongroom::file;

use crate::context::{context_or_empty, strongroom_context};
use crate::keyring::{keyring, path, strongroom_keyring};
use crate::result::strongroom_result;
use crate::util::{boundary, text, write};

fn threads(n: u32) -> usize {
    usize::try_from(n.max(1)).unwrap_or(1)
}

/// Encrypts the file at `input_path` into an envelope file at
/// `output_path` (replaced if it exists: it is named as the output) for the
/// primary version of the key `name`, bound to `ctx` (NULL: empty), in
/// chunks of `chunk_size` (0: 64 KiB) on up to `threads` threads (0 or 1:
/// this thread; at most 64). Paths are UTF-8 bytes, not NUL-terminated.
///
/// Returns `OK`; `UNKNOWN_KEY_NAME`; `INVALID_ARGUMENT` (chunk size, thread
/// count, an empty path); `IO`; `RANDOMNESS_UNAVAILABLE`; `NULL_POINTER`;
/// `INVALID_UTF8`; `INVALID_HANDLE`.
///
/// # Safety
/// `keyring` is a live handle; `ctx` NULL or a live context; the buffers
/// point to their lengths' readable bytes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_file_encrypt(
    keyring: *const strongroom_keyring,
    name: *const u8,
    name_len: usize,
    input_path: *const u8,
    input_path_len: usize,
    output_path: *const u8,
    output_path_len: usize,
    ctx: *const strongroom_context,
    chunk_size: u32,
    threads: u32,
) -> strongroom_result {
    boundary(|| {
        let empty = EncryptionContext::new();
        // SAFETY: the caller's pointer contracts; handles are checked.
        let (k, name, input, output, ctx) = unsafe {
            (
                self::keyring(keyring)?,
                text(name, name_len)?,
                path(input_path, input_path_len)?,
                path(output_path, output_path_len)?,
                context_or_empty(ctx, &empty)?,
            )
        };
        let current = k.current();
        let recipients = [Recipient::Key {
            keyring: &current,
            name,
        }];
        let chunk = if chunk_size == 0 {
            DEFAULT_CHUNK_SIZE
        } else {
            chunk_size
        };
        file::encrypt_file(
            &recipients,
            input,
            output,
            ctx,
            chunk,
            self::threads(threads),
            &mut strongroom::FastRng,
        )?;
        Ok(())
    })
}

/// Decrypts the envelope file at `input_path` into `output_path`, which
/// appears only once the whole envelope has authenticated (a truncated or
/// altered envelope leaves nothing, not even a prefix); `threads` as for
/// `strongroom_file_encrypt`.
///
/// Returns `OK`; `AUTHENTICATION_FAILED`; `UNKNOWN_KEY_ID`;
/// `VERSION_DISABLED`, `VERSION_DESTROYED`, `VERSION_BELOW_MINIMUM`;
/// `MALFORMED`; `UNSUPPORTED_FORMAT`; `INVALID_ARGUMENT`; `IO`;
/// `NULL_POINTER`; `INVALID_UTF8`; `INVALID_HANDLE`.
///
/// # Safety
/// As `strongroom_file_encrypt`.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_file_decrypt(
    keyring: *const strongroom_keyring,
    input_path: *const u8,
    input_path_len: usize,
    output_path: *const u8,
    output_path_len: usize,
    ctx: *const strongroom_context,
    threads: u32,
) -> strongroom_result {
    boundary(|| {
        let empty = EncryptionContext::new();
        // SAFETY: the caller's pointer contracts; handles are checked.
        let (k, input, output, ctx) = unsafe {
            (
                self::keyring(keyring)?,
                path(input_path, input_path_len)?,
                path(output_path, output_path_len)?,
                context_or_empty(ctx, &empty)?,
            )
        };
        file::decrypt_file(k.current(), input, output, ctx, self::threads(threads))?;
        Ok(())
    })
}

/// Moves the envelope file at `path` to the primary versions of its keys,
/// in place: only the header is rewritten (atomically), the body bytes are
/// copied unchanged. Writes the number of recipients moved to `*out_moved`
/// (may be NULL); 0 means the file was at the primary versions already and
/// was left untouched.
///
/// Returns `OK`; `UNKNOWN_KEY_ID`; `VERSION_*`; `MALFORMED`; `IO`;
/// `NULL_POINTER`; `INVALID_UTF8`; `INVALID_HANDLE`.
///
/// # Safety
/// `keyring` is a live handle; `path` points to `path_len` readable bytes;
/// `out_moved` is NULL or writable.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_file_rewrap(
    keyring: *const strongroom_keyring,
    path: *const u8,
    path_len: usize,
    out_moved: *mut usize,
) -> strongroom_result {
    boundary(|| {
        // SAFETY: the caller's pointer contracts; the handle is checked.
        let (k, p) = unsafe { (self::keyring(keyring)?, self::path(path, path_len)?) };
        let moves = file::rewrap_envelope_file(&k.current(), p, &mut strongroom::FastRng)?;
        if !out_moved.is_null() {
            // SAFETY: non-NULL and writable by contract.
            unsafe { write(out_moved, moves.len()) };
        }
        Ok(())
    })
}
