//! Streaming envelopes (FORMAT.md 7): push input in pieces of any size, get
//! output into the caller's buffers, sized by the `_bound` functions.

use core::fmt;

use strongroom::EncryptionContext;
use strongroom::envelope::{DEFAULT_CHUNK_SIZE, EnvelopeDecryptor, EnvelopeEncryptor, Recipient};

use crate::buffer::strongroom_buffer;
use crate::context::{context_or_empty, strongroom_context};
use crate::handle::{self, Kind};
use crate::keyring::{keyring, strongroom_keyring};
use crate::result::strongroom_result;
use crate::util::{
    boundary, boundary_value, input, key_names, out_ptr, output, plaintext_out, write,
};

/// An envelope being encrypted piece by piece. It holds the envelope's
/// payload key (wiped when freed), not the keyring, and refuses to go on
/// in a process other than the one that made it (after `fork()`).
///
/// Exclusive: one thread at a time. Free it with
/// `strongroom_envelope_encryptor_free` (an unfinished envelope is simply
/// incomplete: it does not decrypt).
pub struct strongroom_envelope_encryptor {
    inner: EnvelopeEncryptor,
}

impl fmt::Debug for strongroom_envelope_encryptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("strongroom_envelope_encryptor")
            .finish_non_exhaustive()
    }
}

/// An envelope being decrypted piece by piece: plaintext is released only
/// chunk by chunk, each after it authenticates; the end of the envelope is
/// authenticated by `strongroom_envelope_decryptor_finish`, so a caller that
/// needs all-or-nothing must not act on the output before that succeeds.
/// Once the header is opened it holds the payload key only (wiped when
/// freed), not the keyring.
///
/// Exclusive: one thread at a time. Free it with
/// `strongroom_envelope_decryptor_free`.
pub struct strongroom_envelope_decryptor {
    inner: EnvelopeDecryptor,
}

impl fmt::Debug for strongroom_envelope_decryptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("strongroom_envelope_decryptor")
            .finish_non_exhaustive()
    }
}

/// Starts an envelope for the primary versions of `count` keys (1-16),
/// `names[i]` of `name_lens[i]` bytes, bound to `ctx` (NULL: empty), in
/// chunks of `chunk_size` bytes (0: 64 KiB). The envelope's header goes to
/// `*out_header` (write it first), the encryptor to `*out_encryptor`.
///
/// Returns `OK`; `UNKNOWN_KEY_NAME`; `INVALID_ARGUMENT` for a count outside
/// 1-16, a key named twice or a chunk size outside 64 B - 16 MiB;
/// `RANDOMNESS_UNAVAILABLE`; `NULL_POINTER`; `INVALID_UTF8`;
/// `INVALID_HANDLE`.
///
/// # Safety
/// `keyring` is a live handle; `ctx` NULL or a live context; `names` and
/// `name_lens` hold `count` entries, each name its length's readable bytes;
/// both outs are writable.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_envelope_encryptor_new(
    keyring: *const strongroom_keyring,
    names: *const *const u8,
    name_lens: *const usize,
    count: usize,
    ctx: *const strongroom_context,
    chunk_size: u32,
    out_encryptor: *mut *mut strongroom_envelope_encryptor,
    out_header: *mut *mut strongroom_buffer,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out_encryptor)?;
        out_ptr(out_header)?;
        let empty = EncryptionContext::new();
        // SAFETY: the caller's pointer contracts; handles are checked.
        let (k, ctx) = unsafe { (self::keyring(keyring)?, context_or_empty(ctx, &empty)?) };
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
        let chunk = if chunk_size == 0 {
            DEFAULT_CHUNK_SIZE
        } else {
            chunk_size
        };
        let (inner, header) =
            EnvelopeEncryptor::new(&recipients, ctx, chunk, &mut strongroom::FastRng)?;
        let enc = handle::register(strongroom_envelope_encryptor { inner }, Kind::Encryptor);
        // SAFETY: both checked non-NULL above.
        unsafe {
            write(out_header, strongroom_buffer::public(header));
            write(out_encryptor, enc);
        }
        Ok(())
    })
}

/// The most bytes `strongroom_envelope_encryptor_update` writes for
/// `input_len` more plaintext bytes; 0 for an invalid handle.
///
/// # Safety
/// `encryptor` is NULL or a handle from this library.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_envelope_encryptor_update_bound(
    encryptor: *const strongroom_envelope_encryptor,
    input_len: usize,
) -> usize {
    boundary_value(0, || {
        // SAFETY: checked against the registry.
        unsafe { handle::get(encryptor, Kind::Encryptor) }
            .map_or(0, |e| e.inner.update_output_bound(input_len))
    })
}

/// Encrypts `input` (any length, also 0); sealed chunks go to `out` (at
/// least `strongroom_envelope_encryptor_update_bound` bytes), their length
/// to `*out_len`.
///
/// Returns `OK`; `BUFFER_TOO_SMALL` (nothing consumed; not sticky);
/// `BUFFER_OVERLAP`; `INVALID_ARGUMENT` after `_finish`, or in a process
/// forked from the one that made the encryptor; `NULL_POINTER`;
/// `INVALID_LENGTH`; `INVALID_HANDLE`.
///
/// # Safety
/// `encryptor` is a live handle used by no other thread; the buffers point
/// to their lengths' bytes; `out_len` is writable.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_envelope_encryptor_update(
    encryptor: *mut strongroom_envelope_encryptor,
    input: *const u8,
    input_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out_len)?;
        // SAFETY: the caller's contracts; the handle is checked.
        let (e, pt) = unsafe {
            (
                handle::get_mut(encryptor, Kind::Encryptor)?,
                self::input(input, input_len)?,
            )
        };
        // SAFETY: `out_cap` writable bytes, checked against the input.
        let dst = unsafe { output(out, out_cap, &[pt]) }?;
        let n = e.inner.update_into(pt, dst)?;
        // SAFETY: checked non-NULL above.
        unsafe { write(out_len, n) };
        Ok(())
    })
}

/// The most bytes `strongroom_envelope_encryptor_finish` writes; 0 for an
/// invalid handle.
///
/// # Safety
/// `encryptor` is NULL or a handle from this library.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_envelope_encryptor_finish_bound(
    encryptor: *const strongroom_envelope_encryptor,
) -> usize {
    boundary_value(0, || {
        // SAFETY: checked against the registry.
        unsafe { handle::get(encryptor, Kind::Encryptor) }
            .map_or(0, |e| e.inner.finish_output_bound())
    })
}

/// Seals the last chunk into `out` (at least
/// `strongroom_envelope_encryptor_finish_bound` bytes); its length goes to
/// `*out_len`. The envelope is complete once this is written.
///
/// Returns as `strongroom_envelope_encryptor_update`.
///
/// # Safety
/// As `strongroom_envelope_encryptor_update`.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_envelope_encryptor_finish(
    encryptor: *mut strongroom_envelope_encryptor,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out_len)?;
        // SAFETY: the handle is checked; `out_cap` writable bytes.
        let (e, dst) = unsafe {
            (
                handle::get_mut(encryptor, Kind::Encryptor)?,
                output(out, out_cap, &[])?,
            )
        };
        let n = e.inner.finish_into(dst)?;
        // SAFETY: checked non-NULL above.
        unsafe { write(out_len, n) };
        Ok(())
    })
}

/// Frees an encryptor and wipes its payload key. NULL, or an encryptor
/// freed already, does nothing.
///
/// # Safety
/// No other thread uses `encryptor` any more.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_envelope_encryptor_free(
    encryptor: *mut strongroom_envelope_encryptor,
) {
    boundary_value((), || {
        // SAFETY: checked against the registry.
        unsafe { handle::free(encryptor, Kind::Encryptor) }
    });
}

/// Starts decrypting an envelope with the keyring as it is now (a snapshot:
/// rotations afterwards do not affect this stream) and `ctx` (NULL: empty).
///
/// Returns `OK`; `NULL_POINTER`; `INVALID_HANDLE`.
///
/// # Safety
/// `keyring` is a live handle; `ctx` NULL or a live context; `out` is
/// writable.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_envelope_decryptor_new(
    keyring: *const strongroom_keyring,
    ctx: *const strongroom_context,
    out: *mut *mut strongroom_envelope_decryptor,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out)?;
        let empty = EncryptionContext::new();
        // SAFETY: handles are checked against the registry.
        let (k, ctx) = unsafe { (self::keyring(keyring)?, context_or_empty(ctx, &empty)?) };
        let inner = EnvelopeDecryptor::new(k.current(), ctx);
        let d = handle::register(strongroom_envelope_decryptor { inner }, Kind::Decryptor);
        // SAFETY: checked non-NULL above.
        unsafe { write(out, d) };
        Ok(())
    })
}

/// The most plaintext `strongroom_envelope_decryptor_update` writes for
/// `input_len` more envelope bytes; 0 for an invalid handle.
///
/// # Safety
/// `decryptor` is NULL or a handle from this library.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_envelope_decryptor_update_bound(
    decryptor: *const strongroom_envelope_decryptor,
    input_len: usize,
) -> usize {
    boundary_value(0, || {
        // SAFETY: checked against the registry.
        unsafe { handle::get(decryptor, Kind::Decryptor) }
            .map_or(0, |d| d.inner.update_output_bound(input_len))
    })
}

/// Feeds `input` (any piece of the envelope, also 0 bytes); plaintext of
/// every chunk that authenticates goes to `out` (at least
/// `strongroom_envelope_decryptor_update_bound` bytes), its length to
/// `*out_len`. On any failure `out` is wiped (zeroed), and the decryptor
/// refuses all further input.
///
/// Returns `OK`; `AUTHENTICATION_FAILED`; `UNKNOWN_KEY_ID`;
/// `VERSION_DISABLED`, `VERSION_DESTROYED`, `VERSION_BELOW_MINIMUM`;
/// `MALFORMED`; `UNSUPPORTED_FORMAT`; `TOO_LARGE`; `BUFFER_TOO_SMALL`
/// (nothing consumed; not sticky); `BUFFER_OVERLAP`; `NULL_POINTER`;
/// `INVALID_LENGTH`; `INVALID_HANDLE`.
///
/// # Safety
/// `decryptor` is a live handle used by no other thread; the buffers point
/// to their lengths' bytes; `out_len` is writable.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_envelope_decryptor_update(
    decryptor: *mut strongroom_envelope_decryptor,
    input: *const u8,
    input_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out_len)?;
        // SAFETY: the caller's contracts; the handle is checked.
        let (d, bytes) = unsafe {
            (
                handle::get_mut(decryptor, Kind::Decryptor)?,
                self::input(input, input_len)?,
            )
        };
        // SAFETY: `out_cap` writable bytes, checked against the input.
        let dst = unsafe { output(out, out_cap, &[bytes]) }?;
        let result = d.inner.update_into(bytes, dst);
        // SAFETY: `out_len` checked non-NULL above.
        unsafe { plaintext_out(dst, out_len, result) }
    })
}

/// The most plaintext `strongroom_envelope_decryptor_finish` writes; 0 for
/// an invalid handle.
///
/// # Safety
/// `decryptor` is NULL or a handle from this library.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_envelope_decryptor_finish_bound(
    decryptor: *const strongroom_envelope_decryptor,
) -> usize {
    boundary_value(0, || {
        // SAFETY: checked against the registry.
        unsafe { handle::get(decryptor, Kind::Decryptor) }
            .map_or(0, |d| d.inner.finish_output_bound())
    })
}

/// Ends the envelope: the last chunk is authenticated as the last (a
/// truncated envelope fails here) and its plaintext goes to `out` (at
/// least `strongroom_envelope_decryptor_finish_bound` bytes). Only when
/// this returns `OK` is the whole plaintext authentic. On failure `out` is
/// wiped.
///
/// Returns as `strongroom_envelope_decryptor_update`.
///
/// # Safety
/// As `strongroom_envelope_decryptor_update`.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_envelope_decryptor_finish(
    decryptor: *mut strongroom_envelope_decryptor,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out_len)?;
        // SAFETY: the handle is checked; `out_cap` writable bytes.
        let (d, dst) = unsafe {
            (
                handle::get_mut(decryptor, Kind::Decryptor)?,
                output(out, out_cap, &[])?,
            )
        };
        let result = d.inner.finish_into(dst);
        // SAFETY: `out_len` checked non-NULL above.
        unsafe { plaintext_out(dst, out_len, result) }
    })
}

/// Frees a decryptor and wipes its payload key and buffered bytes. NULL,
/// or a decryptor freed already, does nothing.
///
/// # Safety
/// No other thread uses `decryptor` any more.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_envelope_decryptor_free(
    decryptor: *mut strongroom_envelope_decryptor,
) {
    boundary_value((), || {
        // SAFETY: checked against the registry.
        unsafe { handle::free(decryptor, Kind::Decryptor) }
    });
}
