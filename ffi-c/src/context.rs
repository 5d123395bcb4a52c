//! `strongroom_context`: an encryption context (FORMAT.md 2).

use core::fmt;

use strongroom::EncryptionContext;

use crate::handle::{self, Kind};
use crate::result::strongroom_result;
use crate::util::{boundary, boundary_value, out_ptr, text, write};

/// An encryption context: string pairs bound to a ciphertext, needed again,
/// identical, to decrypt (FORMAT.md 2). Not secret.
///
/// Exclusive while it is being built (`strongroom_context_add`); once
/// built, any number of threads may pass it to encrypt and decrypt calls
/// at the same time. Free it with `strongroom_context_free`.
pub struct strongroom_context {
    pub(crate) inner: EncryptionContext,
}

impl fmt::Debug for strongroom_context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("strongroom_context")
            .field("pairs", &self.inner.len())
            .finish()
    }
}

/// The context behind `ctx`; NULL is the empty context.
///
/// # Safety
/// `ctx` is NULL or a handle from this library.
pub(crate) unsafe fn context_or_empty(
    ctx: *const strongroom_context,
    empty: &EncryptionContext,
) -> Result<&EncryptionContext, strongroom_result> {
    if ctx.is_null() {
        return Ok(empty);
    }
    // SAFETY: checked against the registry first.
    unsafe { handle::get(ctx, Kind::Context) }.map(|c| &c.inner)
}

/// Makes an empty context in `*out`.
///
/// Returns `STRONGROOM_RESULT_OK`, or `NULL_POINTER` if `out` is NULL.
///
/// # Safety
/// `out` is NULL or writable.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_context_new(
    out: *mut *mut strongroom_context,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out)?;
        let h = handle::register(
            strongroom_context {
                inner: EncryptionContext::new(),
            },
            Kind::Context,
        );
        // SAFETY: checked non-NULL above.
        unsafe { write(out, h) };
        Ok(())
    })
}

/// Adds the pair `key = value` (UTF-8, not NUL-terminated) to `ctx`.
///
/// Returns `OK`; `INVALID_ARGUMENT` for an empty or duplicate key or a
/// context past its bounds (FORMAT.md 2.1: 64 pairs, keys 1-256 bytes,
/// values up to 1024); `INVALID_UTF8`; `NULL_POINTER`; `INVALID_HANDLE`.
///
/// # Safety
/// `ctx` is a live context used by no other thread during the call; `key`
/// and `value` point to `key_len` and `value_len` readable bytes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_context_add(
    ctx: *mut strongroom_context,
    key: *const u8,
    key_len: usize,
    value: *const u8,
    value_len: usize,
) -> strongroom_result {
    boundary(|| {
        // SAFETY: the caller's buffer contract; the handle is checked.
        let (key, value) = unsafe { (text(key, key_len)?, text(value, value_len)?) };
        // SAFETY: checked against the registry; exclusive by contract.
        let c = unsafe { handle::get_mut(ctx, Kind::Context) }?;
        c.inner.insert(key, value)?;
        Ok(())
    })
}

/// Makes a context from `count` pairs given as parallel arrays: `keys[i]`
/// of `key_lens[i]` bytes, `values[i]` of `value_lens[i]` bytes (UTF-8,
/// not NUL-terminated). With `count` 0 the arrays may be NULL.
///
/// Returns as `strongroom_context_add`; `*out` is written only on success.
///
/// # Safety
/// Each array holds `count` readable entries, each entry `len` readable
/// bytes; `out` is writable.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_context_from_arrays(
    keys: *const *const u8,
    key_lens: *const usize,
    values: *const *const u8,
    value_lens: *const usize,
    count: usize,
    out: *mut *mut strongroom_context,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out)?;
        if count > 64 {
            return Err(strongroom_result::InvalidArgument);
        }
        let array = |p: *const *const u8| -> Result<&[*const u8], strongroom_result> {
            if count == 0 {
                return Ok(&[]);
            }
            if p.is_null() {
                return Err(strongroom_result::NullPointer);
            }
            // SAFETY: `count` readable entries by the caller's contract.
            Ok(unsafe { core::slice::from_raw_parts(p, count) })
        };
        let lens = |p: *const usize| -> Result<&[usize], strongroom_result> {
            if count == 0 {
                return Ok(&[]);
            }
            if p.is_null() {
                return Err(strongroom_result::NullPointer);
            }
            // SAFETY: `count` readable entries by the caller's contract.
            Ok(unsafe { core::slice::from_raw_parts(p, count) })
        };
        let (k, kl, v, vl) = (
            array(keys)?,
            lens(key_lens)?,
            array(values)?,
            lens(value_lens)?,
        );
        let mut inner = EncryptionContext::new();
        for i in 0..count {
            // SAFETY: each entry points to its length's readable bytes.
            let (key, value) = unsafe { (text(k[i], kl[i])?, text(v[i], vl[i])?) };
            inner.insert(key, value)?;
        }
        let h = handle::register(strongroom_context { inner }, Kind::Context);
        // SAFETY: checked non-NULL above.
        unsafe { write(out, h) };
        Ok(())
    })
}

/// Frees a context. NULL, or a context freed already, does nothing.
///
/// # Safety
/// No other thread uses `ctx` any more.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_context_free(ctx: *mut strongroom_context) {
    boundary_value((), || {
        // SAFETY: the handle is checked against the registry.
        unsafe { handle::free(ctx, Kind::Context) }
    });
}
