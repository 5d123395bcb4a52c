//! `strongroom_blind_index`: blind indexes (FORMAT.md 13), to find an
//! encrypted field by equality (`WHERE email_idx IN (...)`).

use core::fmt;

use strongroom::blind_index::{BlindIndex, IndexValue};
use strongroom::root::Argon2Params;
use strongroom::{EncryptionContext, Transform};
use zeroize::Zeroizing;

use crate::buffer::strongroom_buffer;
use crate::context::{context_or_empty, strongroom_context};
use crate::handle::{self, Kind};
use crate::keyring::{keyring, strongroom_keyring};
use crate::result::strongroom_result;
use crate::util::{boundary, boundary_value, input, out_ptr, text, text_array, write};

/// A blind-index definition: its name, the keyring key it derives from,
/// its width, its fields with their transforms, and whether it is slow.
///
/// Exclusive while it is being built (`strongroom_blind_index_add_field`,
/// `strongroom_blind_index_set_slow`); once built, any number of threads
/// may use it at the same time. Free it with `strongroom_blind_index_free`.
pub struct strongroom_blind_index {
    name: String,
    key_name: String,
    bits: u16,
    slow: Option<Argon2Params>,
    fields: Vec<(String, Vec<Transform>)>,
    /// The checked definition, once it has a field.
    built: Option<BlindIndex>,
}

impl fmt::Debug for strongroom_blind_index {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("strongroom_blind_index")
            .field("name", &self.name)
            .field("bits", &self.bits)
            .field("fields", &self.fields.len())
            .finish()
    }
}

impl strongroom_blind_index {
    /// The definition with these parts, checked.
    fn build(
        &self,
        slow: Option<Argon2Params>,
        fields: &[(String, Vec<Transform>)],
    ) -> Result<BlindIndex, strongroom::Error> {
        let mut b = BlindIndex::builder(&self.name, &self.key_name).bits(self.bits);
        if let Some(p) = slow {
            b = b.slow(p);
        }
        for (name, ts) in fields {
            b = b.field(name, ts);
        }
        b.build()
    }
}

/// The checked definition behind a handle: `INVALID_ARGUMENT` until it has
/// a field.
///
/// # Safety
/// `index` is a handle from this library.
unsafe fn definition<'a>(
    index: *const strongroom_blind_index,
) -> Result<&'a BlindIndex, strongroom_result> {
    // SAFETY: checked against the registry first.
    let i = unsafe { handle::get(index, Kind::BlindIndex) }?;
    i.built.as_ref().ok_or(strongroom_result::InvalidArgument)
}

/// Starts a definition named `name` on the keyring key `key_name`, `bits`
/// wide (1 to 256; see `strongroom_blind_index_recommended_bits`), fast,
/// with no field yet. Names follow the rules of key names.
///
/// Returns `OK`; `INVALID_ARGUMENT` for a bad name or width;
/// `INVALID_UTF8`; `NULL_POINTER`.
///
/// # Safety
/// `name` and `key_name` point to their lengths' readable bytes; `out` is
/// writable.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_blind_index_new(
    name: *const u8,
    name_len: usize,
    key_name: *const u8,
    key_name_len: usize,
    bits: u16,
    out: *mut *mut strongroom_blind_index,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out)?;
        // SAFETY: the caller's buffer contract.
        let (name, key_name) = unsafe { (text(name, name_len)?, text(key_name, key_name_len)?) };
        // Checks the names and the width now, with a placeholder field.
        BlindIndex::new(name, key_name, bits, &[])?;
        let h = handle::register(
            strongroom_blind_index {
                name: name.into(),
                key_name: key_name.into(),
                bits,
                slow: None,
                fields: Vec::new(),
                built: None,
            },
            Kind::BlindIndex,
        );
        // SAFETY: checked non-NULL above.
        unsafe { write(out, h) };
        Ok(())
    })
}

/// Adds a field named `field` (the rules of key names) with its
/// transforms, a comma-separated list of `trim`, `nfc`, `casefold`,
/// `digits`, `first:N`, `last:N` applied in order (empty: none). Values
/// are passed in the order fields were added.
///
/// Returns `OK`; `INVALID_ARGUMENT` for a bad or repeated field name, an
/// unknown transform, a 17th field or a 17th transform; `INVALID_UTF8`;
/// `NULL_POINTER`; `INVALID_HANDLE`. On error the definition is unchanged.
///
/// # Safety
/// `index` is a live definition used by no other thread during the call;
/// `field` and `transforms` point to their lengths' readable bytes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_blind_index_add_field(
    index: *mut strongroom_blind_index,
    field: *const u8,
    field_len: usize,
    transforms: *const u8,
    transforms_len: usize,
) -> strongroom_result {
    boundary(|| {
        // SAFETY: the caller's buffer contract.
        let (field, list) = unsafe { (text(field, field_len)?, text(transforms, transforms_len)?) };
        // SAFETY: checked against the registry; exclusive by contract.
        let i = unsafe { handle::get_mut(index, Kind::BlindIndex) }?;
        let ts = if list.is_empty() {
            Vec::new()
        } else {
            list.split(',')
                .map(Transform::parse)
                .collect::<Result<Vec<_>, _>>()?
        };
        let mut fields = i.fields.clone();
        fields.push((field.into(), ts));
        let built = i.build(i.slow, &fields)?;
        i.fields = fields;
        i.built = Some(built);
        Ok(())
    })
}

/// Makes the index slow: Argon2id with `m_cost_kib`, `t_cost`, `p_cost`
/// before the HMAC (FORMAT.md 13.4), for fields with few possible values
/// (19456, 2, 1 is the recommended minimum).
///
/// Returns `OK`; `INVALID_ARGUMENT` for parameters out of bounds;
/// `INVALID_HANDLE`. On error the definition is unchanged.
///
/// # Safety
/// `index` is a live definition used by no other thread during the call.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_blind_index_set_slow(
    index: *mut strongroom_blind_index,
    m_cost_kib: u32,
    t_cost: u32,
    p_cost: u32,
) -> strongroom_result {
    boundary(|| {
        // SAFETY: checked against the registry; exclusive by contract.
        let i = unsafe { handle::get_mut(index, Kind::BlindIndex) }?;
        let p = Argon2Params {
            m_cost_kib,
            t_cost,
            p_cost,
        };
        if !p.is_within_bounds() {
            return Err(strongroom_result::InvalidArgument);
        }
        if !i.fields.is_empty() {
            i.built = Some(i.build(Some(p), &i.fields)?);
        }
        i.slow = Some(p);
        Ok(())
    })
}

/// The length of the definition's binary values (5 + ceil(bits / 8)), or
/// 0 for an invalid handle.
///
/// # Safety
/// `index` is NULL or a handle from this library.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_blind_index_value_len(
    index: *const strongroom_blind_index,
) -> usize {
    boundary_value(0, || {
        // SAFETY: checked against the registry first.
        unsafe { handle::get(index, Kind::BlindIndex) }
            .map(|i| 5 + usize::from(i.bits).div_ceil(8))
            .unwrap_or(0)
    })
}

/// Frees a definition. NULL, or one freed already, does nothing.
///
/// # Safety
/// `index` is NULL or a handle from this library, used by no other thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_blind_index_free(index: *mut strongroom_blind_index) {
    boundary_value((), || {
        // SAFETY: the handle is checked against the registry.
        unsafe { handle::free(index, Kind::BlindIndex) }
    });
}

/// The field values: `count` UTF-8 strings, copied into wiping buffers
/// (they are PII).
///
/// # Safety
/// As [`text_array`].
unsafe fn values(
    ptrs: *const *const u8,
    lens: *const usize,
    count: usize,
) -> Result<Vec<Zeroizing<String>>, strongroom_result> {
    // SAFETY: the caller's contract, passed on.
    let texts = unsafe { text_array(ptrs, lens, count) }?;
    Ok(texts
        .into_iter()
        .map(|t| Zeroizing::new(String::from(t)))
        .collect())
}

/// The blind-index value of `count` field values (`values[i]` of
/// `value_lens[i]` bytes, UTF-8, in field order) under version `version`
/// of the index's key, or its primary version when `version` is 0: what to
/// store beside the encrypted field. The binary value goes to `*out`
/// (`strongroom_blind_index_value_len` bytes).
///
/// Returns `OK`; `INVALID_ARGUMENT` for a definition with no field or the
/// wrong number of values; `TOO_LARGE` for a value over 65535 bytes;
/// `UNKNOWN_KEY_NAME`; `UNKNOWN_KEY_VERSION`, `VERSION_DISABLED`,
/// `VERSION_DESTROYED`, `VERSION_BELOW_MINIMUM`; `INVALID_UTF8`;
/// `NULL_POINTER`; `INVALID_HANDLE`.
///
/// # Safety
/// `keyring` and `index` are live handles; `values` and `value_lens` hold
/// `count` readable entries, each value its length's readable bytes; `out`
/// is writable.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_keyring_blind_index(
    keyring: *const strongroom_keyring,
    index: *const strongroom_blind_index,
    values: *const *const u8,
    value_lens: *const usize,
    count: usize,
    version: u32,
    out: *mut *mut strongroom_buffer,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out)?;
        // SAFETY: the caller's pointer contracts; handles are checked.
        let (k, def, vals) = unsafe {
            (
                self::keyring(keyring)?,
                definition(index)?,
                self::values(values, value_lens, count)?,
            )
        };
        let refs: Vec<&str> = vals.iter().map(|v| v.as_str()).collect();
        let k = k.current();
        let value = match version {
            0 => k.blind_index(def, &refs)?,
            v => k.blind_index_version(def, v, &refs)?,
        };
        // SAFETY: checked non-NULL above.
        unsafe { write(out, strongroom_buffer::public(value.as_bytes().to_vec())) };
        Ok(())
    })
}

/// Every value to query for the field values: one per version of the
/// index's key that can still decrypt, the primary first, concatenated in
/// `*out` (each `strongroom_blind_index_value_len` bytes; their number to
/// `*out_count`). A row stored under any of those versions matches one.
///
/// Returns as `strongroom_keyring_blind_index`.
///
/// # Safety
/// As `strongroom_keyring_blind_index`; `out_count` is writable.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_keyring_blind_index_lookup(
    keyring: *const strongroom_keyring,
    index: *const strongroom_blind_index,
    values: *const *const u8,
    value_lens: *const usize,
    count: usize,
    out: *mut *mut strongroom_buffer,
    out_count: *mut usize,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out)?;
        out_ptr(out_count)?;
        // SAFETY: the caller's pointer contracts; handles are checked.
        let (k, def, vals) = unsafe {
            (
                self::keyring(keyring)?,
                definition(index)?,
                self::values(values, value_lens, count)?,
            )
        };
        let refs: Vec<&str> = vals.iter().map(|v| v.as_str()).collect();
        let found = k.current().blind_index_lookup(def, &refs)?;
        let bytes: Vec<u8> = found.iter().flat_map(|v| v.as_bytes().to_vec()).collect();
        // SAFETY: both checked non-NULL above.
        unsafe {
            write(out, strongroom_buffer::public(bytes));
            write(out_count, found.len());
        }
        Ok(())
    })
}

/// Rewraps `record` to its key's primary version (as
/// `strongroom_record_rewrap`) and computes the index value of its
/// plaintext (UTF-8) under `index` (one field): the record to `*out_record`
/// (a copy when it was at the primary already), the value to `*out_value`.
///
/// Returns as `strongroom_record_rewrap`; `INVALID_ARGUMENT` for an index
/// of several fields or a plaintext that is not UTF-8.
///
/// # Safety
/// As `strongroom_record_rewrap`; `index` is a live handle; `out_value` is
/// writable.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_record_rewrap_indexed(
    keyring: *const strongroom_keyring,
    index: *const strongroom_blind_index,
    record: *const u8,
    record_len: usize,
    ctx: *const strongroom_context,
    out_record: *mut *mut strongroom_buffer,
    out_value: *mut *mut strongroom_buffer,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out_record)?;
        out_ptr(out_value)?;
        let empty = EncryptionContext::new();
        // SAFETY: the caller's pointer contracts; handles are checked.
        let (k, def, rec, ctx) = unsafe {
            (
                self::keyring(keyring)?,
                definition(index)?,
                input(record, record_len)?,
                context_or_empty(ctx, &empty)?,
            )
        };
        let done = k.current().rewrap_record_indexed(def, rec, ctx)?;
        let bytes = done.record.unwrap_or_else(|| rec.to_vec());
        // SAFETY: both checked non-NULL above.
        unsafe {
            write(out_record, strongroom_buffer::public(bytes));
            write(
                out_value,
                strongroom_buffer::public(done.index.as_bytes().to_vec()),
            );
        }
        Ok(())
    })
}

/// Checks a stored binary value of `index` (FORMAT.md 13.5) and writes the
/// key version it was computed under to `*out_version`.
///
/// Returns `OK`; `MALFORMED`; `UNSUPPORTED_FORMAT`; `INVALID_ARGUMENT`
/// for a definition with no field; `NULL_POINTER`; `INVALID_HANDLE`.
///
/// # Safety
/// `index` is a live handle; `value` points to `value_len` readable bytes;
/// `out_version` is writable.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_blind_index_value_version(
    index: *const strongroom_blind_index,
    value: *const u8,
    value_len: usize,
    out_version: *mut u32,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out_version)?;
        // SAFETY: the caller's pointer contracts; the handle is checked.
        let (def, bytes) = unsafe { (definition(index)?, input(value, value_len)?) };
        let v = IndexValue::parse(def, bytes)?;
        // SAFETY: checked non-NULL above.
        unsafe { write(out_version, v.version()) };
        Ok(())
    })
}

/// The text form of a binary value of `index` (`sbi1:` and unpadded
/// base64url, FORMAT.md 13.6), NUL-free, in `*out`, for text columns.
///
/// Returns as `strongroom_blind_index_value_version`.
///
/// # Safety
/// As `strongroom_blind_index_value_version`; `out` is writable.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_blind_index_value_to_text(
    index: *const strongroom_blind_index,
    value: *const u8,
    value_len: usize,
    out: *mut *mut strongroom_buffer,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out)?;
        // SAFETY: the caller's pointer contracts; the handle is checked.
        let (def, bytes) = unsafe { (definition(index)?, input(value, value_len)?) };
        let v = IndexValue::parse(def, bytes)?;
        // SAFETY: checked non-NULL above.
        unsafe { write(out, strongroom_buffer::public(v.to_text().into_bytes())) };
        Ok(())
    })
}

/// Parses the text form of a value of `index` (FORMAT.md 13.6), strictly,
/// to its binary value in `*out`.
///
/// Returns `OK`; `MALFORMED` for a missing prefix, non-canonical base64url
/// or a text longer than any value; then as
/// `strongroom_blind_index_value_version`.
///
/// # Safety
/// `index` is a live handle; `text` points to `text_len` readable bytes;
/// `out` is writable.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_blind_index_value_from_text(
    index: *const strongroom_blind_index,
    text: *const u8,
    text_len: usize,
    out: *mut *mut strongroom_buffer,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out)?;
        // SAFETY: the caller's pointer contracts; the handle is checked.
        let (def, t) = unsafe { (definition(index)?, self::text(text, text_len)?) };
        let v = IndexValue::from_text(def, t)?;
        // SAFETY: checked non-NULL above.
        unsafe { write(out, strongroom_buffer::public(v.as_bytes().to_vec())) };
        Ok(())
    })
}

/// The smallest width at which a lookup among `rows` rows expects at most
/// `false_positives` rows matching by coincidence (rows / 2^bits); 0 when
/// `false_positives` is not a finite number above 0.
#[unsafe(no_mangle)]
pub extern "C" fn strongroom_blind_index_recommended_bits(rows: u64, false_positives: f64) -> u16 {
    boundary_value(0, || {
        strongroom::blind_index::recommended_bits(rows, false_positives).unwrap_or(0)
    })
}
