//! Random access into an envelope file: read any range of the plaintext,
//! decrypting (and authenticating) only the chunks it covers.

use core::fmt;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

use strongroom::EncryptionContext;
use strongroom::envelope::{EnvelopeSeekReader, Identity};

use crate::context::{context_or_empty, strongroom_context};
use crate::handle::{self, Kind};
use crate::keyring::{keyring, path, strongroom_keyring};
use crate::result::strongroom_result;
use crate::util::{boundary, boundary_value, out_ptr, output, plaintext_out, write};

/// An envelope file opened for random access. It holds the open file and
/// the envelope's payload key (wiped when freed), not the keyring.
///
/// Exclusive: one thread at a time. Free it with
/// `strongroom_envelope_reader_free`.
pub struct strongroom_envelope_reader {
    inner: EnvelopeSeekReader<File>,
}

impl fmt::Debug for strongroom_envelope_reader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("strongroom_envelope_reader")
            .finish_non_exhaustive()
    }
}

/// The result for an error of the reader: the core's error it carries, or
/// `IO`.
fn from_io(e: &io::Error) -> strongroom_result {
    e.get_ref()
        .and_then(|i| i.downcast_ref::<strongroom::Error>())
        .map_or(strongroom_result::Io, |core| core.clone().into())
}

/// Opens the envelope file at `path` (UTF-8, not NUL-terminated) with the
/// keyring as it is now and `ctx` (NULL: empty): the header is read and
/// opened now; chunks are decrypted as they are read.
///
/// Returns `OK`; `UNKNOWN_KEY_ID`; `VERSION_*`; `AUTHENTICATION_FAILED`;
/// `MALFORMED`; `UNSUPPORTED_FORMAT`; `IO`; `NULL_POINTER`; `INVALID_UTF8`;
/// `INVALID_HANDLE`.
///
/// # Safety
/// `keyring` is a live handle; `ctx` NULL or a live context; `path` points
/// to `path_len` readable bytes; `out` is writable.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_envelope_reader_open(
    keyring: *const strongroom_keyring,
    path: *const u8,
    path_len: usize,
    ctx: *const strongroom_context,
    out: *mut *mut strongroom_envelope_reader,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out)?;
        let empty = EncryptionContext::new();
        // SAFETY: the caller's pointer contracts; handles are checked.
        let (k, p, ctx) = unsafe {
            (
                self::keyring(keyring)?,
                self::path(path, path_len)?,
                context_or_empty(ctx, &empty)?,
            )
        };
        let file = File::open(p).map_err(|_| strongroom_result::Io)?;
        let current = k.current();
        let inner = EnvelopeSeekReader::new(file, Identity::Keyring(&current), ctx)
            .map_err(|e| from_io(&e))?;
        let r = handle::register(strongroom_envelope_reader { inner }, Kind::Reader);
        // SAFETY: checked non-NULL above.
        unsafe { write(out, r) };
        Ok(())
    })
}

/// The plaintext length of the opened envelope; 0 for an invalid handle.
///
/// # Safety
/// `reader` is NULL or a handle from this library.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_envelope_reader_len(
    reader: *const strongroom_envelope_reader,
) -> u64 {
    boundary_value(0, || {
        // SAFETY: checked against the registry.
        unsafe { handle::get(reader, Kind::Reader) }.map_or(0, |r| r.inner.len())
    })
}

/// Reads plaintext from `offset` into `out` (up to `out_cap` bytes, fewer
/// only at the end of the plaintext); writes the count to `*out_read`
/// (0 at or past the end). Every chunk it covers is authenticated before
/// any of its bytes is written; on failure `out` is wiped.
///
/// Returns `OK`; `AUTHENTICATION_FAILED` (an altered or truncated chunk);
/// `IO`; `NULL_POINTER`; `INVALID_LENGTH`; `INVALID_HANDLE`.
///
/// # Safety
/// `reader` is a live handle used by no other thread; `out` points to
/// `out_cap` writable bytes; `out_read` is writable.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_envelope_reader_read_at(
    reader: *mut strongroom_envelope_reader,
    offset: u64,
    out: *mut u8,
    out_cap: usize,
    out_read: *mut usize,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out_read)?;
        // SAFETY: checked against the registry; `out_cap` writable bytes.
        let (r, dst) = unsafe {
            (
                handle::get_mut(reader, Kind::Reader)?,
                output(out, out_cap, &[])?,
            )
        };
        let result = (|| -> io::Result<usize> {
            if offset >= r.inner.len() {
                return Ok(0);
            }
            r.inner.seek(SeekFrom::Start(offset))?;
            let mut filled = 0;
            while filled < dst.len() {
                match r.inner.read(&mut dst[filled..]) {
                    Ok(0) => break,
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(filled)
        })();
        // SAFETY: `out_read` checked non-NULL above.
        unsafe { plaintext_out(dst, out_read, result.map_err(|e| from_io(&e))) }
    })
}

/// Closes the file and wipes the payload key. NULL, or a reader freed
/// already, does nothing.
///
/// # Safety
/// No other thread uses `reader` any more.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_envelope_reader_free(reader: *mut strongroom_envelope_reader) {
    boundary_value((), || {
        // SAFETY: checked against the registry.
        unsafe { handle::free(reader, Kind::Reader) }
    });
}
