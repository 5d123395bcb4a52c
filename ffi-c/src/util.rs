//! The boundary: panics caught, pointers and lengths checked, out-params
//! written only on success.

use core::panic::AssertUnwindSafe;
use std::panic::catch_unwind;

use crate::result::strongroom_result;

/// Runs `body` inside the panic boundary: `Ok` is `STRONGROOM_RESULT_OK`,
/// an error its code, a panic `STRONGROOM_RESULT_PANIC`.
pub(crate) fn boundary(body: impl FnOnce() -> Result<(), strongroom_result>) -> strongroom_result {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => strongroom_result::Ok,
        Ok(Err(e)) => e,
        Err(_) => strongroom_result::Panic,
    }
}

/// As [`boundary`] for functions that return a value, not a result: a
/// panic gives `fallback`.
pub(crate) fn boundary_value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

/// The input buffer `(ptr, len)`: empty when `len` is 0 (any `ptr`).
///
/// # Safety
/// A non-NULL `ptr` points to `len` readable bytes that stay valid and
/// unchanged for the returned lifetime (the header's buffer contract).
pub(crate) unsafe fn input<'a>(ptr: *const u8, len: usize) -> Result<&'a [u8], strongroom_result> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(strongroom_result::NullPointer);
    }
    if len > isize::MAX as usize {
        return Err(strongroom_result::InvalidLength);
    }
    // SAFETY: non-NULL, `len` <= isize::MAX, and `len` readable bytes by
    // the caller's contract.
    Ok(unsafe { core::slice::from_raw_parts(ptr, len) })
}

/// A UTF-8 string argument `(ptr, len)` (no terminator needed).
///
/// # Safety
/// As [`input`].
pub(crate) unsafe fn text<'a>(ptr: *const u8, len: usize) -> Result<&'a str, strongroom_result> {
    // SAFETY: forwarded with the caller's contract.
    let bytes = unsafe { input(ptr, len) }?;
    core::str::from_utf8(bytes).map_err(|_| strongroom_result::InvalidUtf8)
}

/// The output buffer `(ptr, cap)`, which must not overlap `inputs`.
///
/// # Safety
/// A non-NULL `ptr` points to `cap` writable bytes, not otherwise
/// referenced during the call.
pub(crate) unsafe fn output<'a>(
    ptr: *mut u8,
    cap: usize,
    inputs: &[&[u8]],
) -> Result<&'a mut [u8], strongroom_result> {
    if cap == 0 {
        return Ok(&mut []);
    }
    if ptr.is_null() {
        return Err(strongroom_result::NullPointer);
    }
    if cap > isize::MAX as usize {
        return Err(strongroom_result::InvalidLength);
    }
    let (start, end) = (ptr as usize, (ptr as usize).saturating_add(cap));
    for i in inputs {
        let (s, e) = (i.as_ptr() as usize, i.as_ptr() as usize + i.len());
        if !i.is_empty() && s < end && start < e {
            return Err(strongroom_result::BufferOverlap);
        }
    }
    // SAFETY: non-NULL, `cap` <= isize::MAX, writable and unaliased by the
    // caller's contract (and checked against every input above).
    Ok(unsafe { core::slice::from_raw_parts_mut(ptr, cap) })
}

/// Checks an out-pointer before any work, so that a NULL one fails without
/// side effects.
pub(crate) fn out_ptr<T>(ptr: *mut T) -> Result<(), strongroom_result> {
    if ptr.is_null() {
        Err(strongroom_result::NullPointer)
    } else {
        Ok(())
    }
}

/// Writes an out-parameter (only on success).
///
/// # Safety
/// `ptr` was checked with [`out_ptr`] and points to a writable `T`.
pub(crate) unsafe fn write<T>(ptr: *mut T, value: T) {
    // SAFETY: non-NULL (checked) and writable by the caller's contract;
    // `write` does not drop the uninitialised old value.
    unsafe { ptr.write(value) }
}

/// A standalone key (a data key, a derived key) `(key, key_len)`: exactly
/// 32 bytes, or `INVALID_ARGUMENT`.
///
/// # Safety
/// As [`input`].
pub(crate) unsafe fn standalone_key(
    key: *const u8,
    key_len: usize,
) -> Result<strongroom::KeyMaterial, strongroom_result> {
    // SAFETY: forwarded.
    let bytes = unsafe { input(key, key_len) }?;
    strongroom::KeyMaterial::from_slice(bytes).map_err(|_| strongroom_result::InvalidArgument)
}

/// Finishes a call that wrote plaintext into the caller's `dst`: on
/// success writes the count to `out_len`; on failure wipes `dst`, so no
/// decrypted byte is left behind.
///
/// # Safety
/// `out_len` was checked with [`out_ptr`] and is writable.
pub(crate) unsafe fn plaintext_out<E: Into<strongroom_result>>(
    dst: &mut [u8],
    out_len: *mut usize,
    result: Result<usize, E>,
) -> Result<(), strongroom_result> {
    match result {
        Ok(n) => {
            // SAFETY: checked and writable by the caller's contract.
            unsafe { write(out_len, n) };
            Ok(())
        }
        Err(e) => {
            zeroize::Zeroize::zeroize(dst);
            Err(e.into())
        }
    }
}

/// The key names of a recipient list: `count` (1 to 16) names given as
/// parallel arrays `names[i]` of `name_lens[i]` bytes (UTF-8).
///
/// # Safety
/// Each array holds `count` readable entries, each name its length's
/// readable bytes.
pub(crate) unsafe fn key_names<'a>(
    names: *const *const u8,
    name_lens: *const usize,
    count: usize,
) -> Result<Vec<&'a str>, strongroom_result> {
    // At most 16 recipients (FORMAT.md 7.2).
    // SAFETY: the caller's contract, passed on.
    unsafe { text_array(names, name_lens, count) }
}

/// 1 to 16 UTF-8 strings given as parallel arrays `ptrs[i]` of `lens[i]`
/// bytes (recipient names, blind-index field values).
///
/// # Safety
/// As [`key_names`].
pub(crate) unsafe fn text_array<'a>(
    ptrs: *const *const u8,
    lens: *const usize,
    count: usize,
) -> Result<Vec<&'a str>, strongroom_result> {
    if count == 0 || count > 16 {
        return Err(strongroom_result::InvalidArgument);
    }
    if ptrs.is_null() || lens.is_null() {
        return Err(strongroom_result::NullPointer);
    }
    // SAFETY: `count` readable entries in each array (caller contract).
    let (ptrs, lens) = unsafe {
        (
            core::slice::from_raw_parts(ptrs, count),
            core::slice::from_raw_parts(lens, count),
        )
    };
    ptrs.iter()
        .zip(lens)
        // SAFETY: each string points to its length's readable bytes.
        .map(|(p, l)| unsafe { text(*p, *l) })
        .collect()
}
