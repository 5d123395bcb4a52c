//! **Blind indexes** (FORMAT.md 13): a keyed, truncated hash of a
//! normalised field, stored beside the encrypted field and queried by
//! equality (`WHERE email_idx = ?`), so a row can be found without
//! decrypting every row.
//!
//! A [`BlindIndex`] is a definition: its name, the keyring key it derives
//! from, its width in bits, its fields with their [`Transform`]s, and
//! whether it is slow (Argon2id, for fields with few possible values). The
//! keyring computes an [`IndexValue`] from it under one key version; the
//! value carries that version.
//!
//! Rotation never breaks search: store [`Keyring::blind_index`] (the
//! primary version) and query with every value of
//! [`Keyring::blind_index_lookup`] (one per version that can still
//! decrypt), so rows indexed before and after a rotation are both found.
//! [`Keyring::rewrap_record_indexed`] moves a row to the primary version and
//! recomputes its index value at once. Destroying a version makes its index
//! values uncomputable, as it makes its records undecryptable.
//!
//! `docs/BLIND_INDEX.md` says what an index leaks and how to size it.

mod casefold_table;
mod transform;

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use base64ct::{Base64UrlUnpadded, Encoding};
use rand_core::TryCryptoRng;
use zeroize::Zeroizing;

pub use transform::{CASE_FOLDING_UNICODE_VERSION, Transform};

use crate::audit::{AuditAction, AuditObject};
use crate::context::EncryptionContext;
use crate::error::{Error, Result};
use crate::kdf::{Argon2Params, Prk, hmac_sha256};
use crate::key_id::KeyId;
use crate::keyring::{Keyring, VersionState};
use crate::record::inspect_record;
use crate::secret::KeyMaterial;

/// The format byte of a binary index value (FORMAT.md 13.5).
pub const INDEX_VALUE_FORMAT: u8 = 0x03;
/// The prefix of the text form of an index value (FORMAT.md 13.6).
pub const INDEX_TEXT_PREFIX: &str = "sbi1:";
/// The widest index: the whole HMAC-SHA256 output.
pub const MAX_INDEX_BITS: u16 = 256;
/// Most fields in one (compound) index.
pub const MAX_INDEX_FIELDS: usize = 16;
/// Most transforms on one field.
pub const MAX_FIELD_TRANSFORMS: usize = 16;
/// Longest field input, in UTF-8 bytes, before its transforms.
pub const MAX_FIELD_INPUT_LEN: usize = 65535;
/// The field name [`BlindIndex::new`] gives its one field.
pub const SINGLE_FIELD_NAME: &str = "value";

/// HKDF info label of an index key (FORMAT.md 13.4).
const INDEX_LABEL: &[u8] = b"strongroom/blind-index/v1";
/// Longest text form: the prefix and the unpadded base64url of the widest
/// value (37 bytes, 50 characters): 55.
const MAX_TEXT_LEN: usize = INDEX_TEXT_PREFIX.len() + ((5 + 32) * 4usize).div_ceil(3);

/// One field of an index: a name (part of the definition, so two indexes
/// that differ only in field names are unrelated) and its transforms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexField {
    name: String,
    transforms: Vec<Transform>,
}

impl IndexField {
    /// The field's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its transforms, in the order they apply.
    pub fn transforms(&self) -> &[Transform] {
        &self.transforms
    }
}

/// A blind-index definition (FORMAT.md 13.2). Changing any part of it (the
/// name, the width, a field, a transform, the slow parameters) gives an
/// unrelated index whose values must all be recomputed.
#[derive(Clone, PartialEq, Eq)]
pub struct BlindIndex {
    name: String,
    key_name: String,
    bits: u16,
    slow: Option<Argon2Params>,
    fields: Vec<IndexField>,
    /// The canonical definition encoding, FORMAT.md 13.2.
    encoding: Vec<u8>,
}

impl fmt::Debug for BlindIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlindIndex")
            .field("name", &self.name)
            .field("key_name", &self.key_name)
            .field("bits", &self.bits)
            .field("slow", &self.slow)
            .field("fields", &self.fields)
            .finish()
    }
}

/// Builds a [`BlindIndex`]: [`BlindIndex::builder`].
#[derive(Debug, Clone)]
pub struct BlindIndexBuilder {
    name: String,
    key_name: String,
    bits: u16,
    slow: Option<Argon2Params>,
    fields: Vec<IndexField>,
}

impl BlindIndexBuilder {
    /// The width in bits, 1 to 256 (default 32); see [`recommended_bits`].
    #[must_use]
    pub fn bits(mut self, bits: u16) -> Self {
        self.bits = bits;
        self
    }

    /// Makes the index slow: Argon2id with these parameters before the
    /// HMAC (FORMAT.md 13.4), for fields with few possible values. See
    /// [`BlindIndex::SLOW_DEFAULT`].
    #[must_use]
    pub fn slow(mut self, params: Argon2Params) -> Self {
        self.slow = Some(params);
        self
    }

    /// Adds a field, in order: a value for each field is passed in this
    /// order when computing.
    #[must_use]
    pub fn field(mut self, name: &str, transforms: &[Transform]) -> Self {
        self.fields.push(IndexField {
            name: name.into(),
            transforms: transforms.to_vec(),
        });
        self
    }

    /// Checks the definition and builds it.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a bad index, key or field name (the
    /// rules of key names, FORMAT.md 3), a repeated field name, a width
    /// outside 1 ..= 256, no field or more than 16, more than 16 transforms
    /// on a field, `first:0`/`last:0`, or Argon2 parameters outside the
    /// bounds of [`Argon2Params::is_within_bounds`].
    pub fn build(self) -> Result<BlindIndex> {
        crate::keyring::validate_name(&self.name)
            .map_err(|_| invalid("index names follow the rules of key names"))?;
        crate::keyring::validate_name(&self.key_name)?;
        if self.bits == 0 || self.bits > MAX_INDEX_BITS {
            return Err(invalid("an index is 1 to 256 bits wide"));
        }
        if self.fields.is_empty() || self.fields.len() > MAX_INDEX_FIELDS {
            return Err(invalid("an index has 1 to 16 fields"));
        }
        if let Some(p) = self.slow
            && !p.is_within_bounds()
        {
            return Err(invalid("slow index Argon2 parameters are out of bounds"));
        }
        for (i, field) in self.fields.iter().enumerate() {
            crate::keyring::validate_name(&field.name)
                .map_err(|_| invalid("field names follow the rules of key names"))?;
            if self.fields[..i].iter().any(|f| f.name == field.name) {
                return Err(invalid("field names are unique in an index"));
            }
            if field.transforms.len() > MAX_FIELD_TRANSFORMS {
                return Err(invalid("a field has at most 16 transforms"));
            }
            for t in &field.transforms {
                t.check()?;
            }
        }
        let encoding = encode_definition(&self.name, self.bits, self.slow, &self.fields);
        Ok(BlindIndex {
            name: self.name,
            key_name: self.key_name,
            bits: self.bits,
            slow: self.slow,
            fields: self.fields,
            encoding,
        })
    }
}

impl BlindIndex {
    /// The slow-index parameters we recommend (RFC 9106 does not fix one;
    /// this is OWASP's Argon2id minimum): 19 MiB, 2 passes, 1 lane, about
    /// 30-60 ms a value on one core here. Raise them if lookups can
    /// afford it.
    pub const SLOW_DEFAULT: Argon2Params = Argon2Params {
        m_cost_kib: 19 * 1024,
        t_cost: 2,
        p_cost: 1,
    };

    /// Starts a definition named `name` on the keyring key `key_name`:
    /// 32 bits, fast, no fields yet.
    pub fn builder(name: &str, key_name: &str) -> BlindIndexBuilder {
        BlindIndexBuilder {
            name: name.into(),
            key_name: key_name.into(),
            bits: 32,
            slow: None,
            fields: Vec::new(),
        }
    }

    /// A fast index over one field (named [`SINGLE_FIELD_NAME`]).
    ///
    /// # Errors
    /// As [`BlindIndexBuilder::build`].
    pub fn new(name: &str, key_name: &str, bits: u16, transforms: &[Transform]) -> Result<Self> {
        Self::builder(name, key_name)
            .bits(bits)
            .field(SINGLE_FIELD_NAME, transforms)
            .build()
    }

    /// The index's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The keyring key it derives from.
    pub fn key_name(&self) -> &str {
        &self.key_name
    }

    /// Its width in bits.
    pub fn bits(&self) -> u16 {
        self.bits
    }

    /// The Argon2id parameters of a slow index.
    pub fn slow(&self) -> Option<Argon2Params> {
        self.slow
    }

    /// Its fields, in order.
    pub fn fields(&self) -> &[IndexField] {
        &self.fields
    }

    /// The length of its binary values (FORMAT.md 13.5).
    pub fn value_len(&self) -> usize {
        5 + usize::from(self.bits).div_ceil(8)
    }

    /// The canonical definition encoding (FORMAT.md 13.2).
    pub fn definition_encoding(&self) -> &[u8] {
        &self.encoding
    }

    /// The input encoding of FORMAT.md 13.3: every field transformed, with
    /// its length. Wiped on drop.
    fn encode_input(&self, values: &[&str]) -> Result<Zeroizing<Vec<u8>>> {
        if values.len() != self.fields.len() {
            return Err(invalid(
                "a blind index takes exactly one value per field of its definition",
            ));
        }
        let mut transformed = Vec::with_capacity(values.len());
        for (value, field) in values.iter().zip(&self.fields) {
            if value.len() > MAX_FIELD_INPUT_LEN {
                return Err(Error::TooLarge {
                    what: "blind index field input",
                    max: MAX_FIELD_INPUT_LEN,
                });
            }
            let mut text = transform::Text::with_capacity(value.len());
            text.push_str(value);
            for t in &field.transforms {
                text = t.apply(text.as_str());
            }
            transformed.push(text);
        }
        let total = 1 + transformed
            .iter()
            .map(|t| 4 + t.as_str().len())
            .sum::<usize>();
        let mut out = Zeroizing::new(Vec::with_capacity(total));
        // At most 16 fields, so the count fits a byte.
        out.push(transformed.len() as u8);
        for t in &transformed {
            // At most 65535 bytes in, and no transform grows a string by
            // more than a small factor, so the length fits a u32.
            out.extend_from_slice(&(t.as_str().len() as u32).to_be_bytes());
            out.extend_from_slice(t.as_str().as_bytes());
        }
        Ok(out)
    }

    /// The value of an encoded input under one version's material.
    fn compute(
        &self,
        key_id: KeyId,
        version: u32,
        material: &KeyMaterial,
        input: &[u8],
    ) -> Result<IndexValue> {
        let prk = Prk::extract(&[], material.expose_secret());
        let index_key = prk.expand_key(&[
            INDEX_LABEL,
            &key_id.as_u32().to_be_bytes(),
            &version.to_be_bytes(),
            &self.encoding,
        ]);
        let key = index_key.expose_secret();
        let tag = match self.slow {
            None => hmac_sha256(key, &[input]),
            Some(params) => {
                let mut stretched = Zeroizing::new([0u8; 32]);
                crate::kdf::argon2id(params, input, key, &[], &[], &mut stretched[..])
                    .map_err(|_| invalid("slow index Argon2 parameters are out of bounds"))?;
                hmac_sha256(key, &[&stretched[..]])
            }
        };
        let n = usize::from(self.bits).div_ceil(8);
        let mut bytes = Vec::with_capacity(5 + n);
        bytes.push(INDEX_VALUE_FORMAT);
        bytes.extend_from_slice(&version.to_be_bytes());
        bytes.extend_from_slice(&tag[..n]);
        if let Some(last) = bytes.last_mut() {
            *last &= last_byte_mask(self.bits);
        }
        Ok(IndexValue { bytes })
    }
}

/// The mask of the used bits of a value's last byte.
fn last_byte_mask(bits: u16) -> u8 {
    match bits % 8 {
        0 => 0xff,
        r => 0xffu8 << (8 - r),
    }
}

fn encode_definition(
    name: &str,
    bits: u16,
    slow: Option<Argon2Params>,
    fields: &[IndexField],
) -> Vec<u8> {
    // Names are at most 128 bytes, counts at most 16: every cast fits.
    let mut out = Vec::new();
    out.extend_from_slice(&(name.len() as u16).to_be_bytes());
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(&bits.to_be_bytes());
    match slow {
        None => out.push(0),
        Some(p) => {
            out.push(1);
            out.extend_from_slice(&p.m_cost_kib.to_be_bytes());
            out.extend_from_slice(&p.t_cost.to_be_bytes());
            out.extend_from_slice(&p.p_cost.to_be_bytes());
        }
    }
    out.push(fields.len() as u8);
    for field in fields {
        out.extend_from_slice(&(field.name.len() as u16).to_be_bytes());
        out.extend_from_slice(field.name.as_bytes());
        out.push(field.transforms.len() as u8);
        for t in &field.transforms {
            out.push(t.code());
            if let Transform::First(n) | Transform::Last(n) = t {
                out.extend_from_slice(&n.to_be_bytes());
            }
        }
    }
    out
}

/// A blind-index value (FORMAT.md 13.5): the key version it was computed
/// under and the truncated tag. Equal inputs under the same definition and
/// version give equal values, byte for byte, in both forms.
///
/// Not secret like a key, but it tells which rows hold equal values:
/// `Debug` shows only the version.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IndexValue {
    bytes: Vec<u8>,
}

impl IndexValue {
    /// The key version it was computed under.
    pub fn version(&self) -> u32 {
        let mut v = [0u8; 4];
        if let Some(b) = self.bytes.get(1..5) {
            v.copy_from_slice(b);
        }
        u32::from_be_bytes(v)
    }

    /// The binary form (FORMAT.md 13.5).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The text form (FORMAT.md 13.6): `sbi1:` and unpadded base64url.
    pub fn to_text(&self) -> String {
        let mut out = String::from(INDEX_TEXT_PREFIX);
        out.push_str(&Base64UrlUnpadded::encode_string(&self.bytes));
        out
    }

    /// Parses a binary value of `index` (FORMAT.md 13.5), strictly.
    ///
    /// # Errors
    /// [`Error::Malformed`] for an empty input, a wrong length for the
    /// index's width, version 0 or set unused bits;
    /// [`Error::UnsupportedFormat`] for another format byte.
    pub fn parse(index: &BlindIndex, bytes: &[u8]) -> Result<Self> {
        let Some(&format) = bytes.first() else {
            return Err(malformed("empty index value"));
        };
        if format != INDEX_VALUE_FORMAT {
            return Err(Error::UnsupportedFormat { version: format });
        }
        if bytes.len() != index.value_len() {
            return Err(malformed(
                "index value length does not match the index width",
            ));
        }
        let value = Self {
            bytes: bytes.to_vec(),
        };
        if value.version() == 0 {
            return Err(malformed("index value names key version 0"));
        }
        if bytes
            .last()
            .is_some_and(|&b| b & !last_byte_mask(index.bits) != 0)
        {
            return Err(malformed("index value has bits set past the index width"));
        }
        Ok(value)
    }

    /// Parses the text form (FORMAT.md 13.6), strictly, then as
    /// [`IndexValue::parse`].
    ///
    /// # Errors
    /// [`Error::Malformed`] for a missing prefix, non-canonical base64url
    /// or a text longer than any value; then as [`IndexValue::parse`].
    pub fn from_text(index: &BlindIndex, text: &str) -> Result<Self> {
        if text.len() > MAX_TEXT_LEN {
            return Err(malformed("text index value is longer than any index value"));
        }
        let Some(b64) = text.strip_prefix(INDEX_TEXT_PREFIX) else {
            return Err(malformed("text index value does not start with \"sbi1:\""));
        };
        let bytes = Base64UrlUnpadded::decode_vec(b64)
            .map_err(|_| malformed("text index value is not canonical unpadded base64url"))?;
        Self::parse(index, &bytes)
    }
}

impl fmt::Debug for IndexValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IndexValue")
            .field("version", &self.version())
            .finish_non_exhaustive()
    }
}

/// The result of [`Keyring::rewrap_record_indexed`].
#[derive(Debug)]
pub struct IndexedRewrap {
    /// The record under the primary version, or `None` when it already was
    /// (store nothing new then).
    pub record: Option<Vec<u8>>,
    /// The index value of the record's plaintext under the index key's
    /// primary version.
    pub index: IndexValue,
}

/// The smallest width at which a lookup among `rows` rows expects at most
/// `false_positives_per_lookup` rows that match by coincidence
/// (`rows / 2^bits`, `docs/BLIND_INDEX.md`).
///
/// # Errors
/// [`Error::InvalidArgument`] unless `false_positives_per_lookup` is a
/// finite number above 0.
pub fn recommended_bits(rows: u64, false_positives_per_lookup: f64) -> Result<u16> {
    if !(false_positives_per_lookup.is_finite() && false_positives_per_lookup > 0.0) {
        return Err(invalid("false positives per lookup must be above 0"));
    }
    let mut expected = rows as f64 / 2.0;
    let mut bits = 1u16;
    while expected > false_positives_per_lookup && bits < MAX_INDEX_BITS {
        expected /= 2.0;
        bits += 1;
    }
    Ok(bits)
}

/// The expected number of rows that match a lookup by coincidence among
/// `rows` rows at `bits` bits, under one key version (`rows / 2^bits`);
/// during a rotation a lookup queries one value per usable version, and
/// the figure adds up over them.
pub fn expected_false_positives(rows: u64, bits: u16) -> f64 {
    let mut expected = rows as f64;
    for _ in 0..bits {
        expected /= 2.0;
    }
    expected
}

impl Keyring {
    /// The index value of `values` (one per field, in definition order)
    /// under the primary version of the index's key: what to store.
    ///
    /// # Errors
    /// [`Error::UnknownKeyName`]; [`Error::InvalidArgument`] for the wrong
    /// number of values; [`Error::TooLarge`] for a value over
    /// [`MAX_FIELD_INPUT_LEN`] bytes.
    pub fn blind_index(&self, index: &BlindIndex, values: &[&str]) -> Result<IndexValue> {
        let r = index.encode_input(values).and_then(|input| {
            let (_, version, _) = self.primary(&index.key_name)?;
            self.index_value_quiet(index, version, &input)
        });
        let key = self.primary_ref(&index.key_name);
        self.audited(AuditAction::Derive, AuditObject::BlindIndex, key, r)
    }

    /// The index value under one version, which must be usable for
    /// decryption (FORMAT.md 3.1).
    ///
    /// # Errors
    /// As [`Keyring::blind_index`], and the version-state errors of
    /// FORMAT.md 3.1.
    pub fn blind_index_version(
        &self,
        index: &BlindIndex,
        version: u32,
        values: &[&str],
    ) -> Result<IndexValue> {
        let r = index
            .encode_input(values)
            .and_then(|input| self.index_value_quiet(index, version, &input));
        let key = self.key_ref(&index.key_name, Some(version));
        self.audited(AuditAction::Derive, AuditObject::BlindIndex, key, r)
    }

    /// Every value to query for `values`: one per version of the index's
    /// key that can still decrypt (enabled, at or above the minimum
    /// decryption version), the primary first, then newest to oldest. A
    /// row stored under any of those versions matches one of them.
    ///
    /// # Errors
    /// As [`Keyring::blind_index`].
    pub fn blind_index_lookup(
        &self,
        index: &BlindIndex,
        values: &[&str],
    ) -> Result<Vec<IndexValue>> {
        let fail = |e| {
            let key = self.primary_ref(&index.key_name);
            self.audited(AuditAction::Derive, AuditObject::BlindIndex, key, Err(e))
        };
        let input = match index.encode_input(values) {
            Ok(input) => input,
            Err(e) => return fail(e),
        };
        let info = match self.key_info(&index.key_name) {
            Ok(info) => info,
            Err(e) => return fail(e),
        };
        let mut versions: Vec<u32> = info
            .versions
            .iter()
            .filter(|v| {
                v.state == VersionState::Enabled
                    && v.version >= info.min_decryption_version
                    && v.version != info.primary_version
            })
            .map(|v| v.version)
            .collect();
        versions.sort_unstable_by(|a, b| b.cmp(a));
        versions.insert(0, info.primary_version);
        let mut out = Vec::with_capacity(versions.len());
        for version in versions {
            let r = self.index_value_quiet(index, version, &input);
            let key = Some((info.key_id, Some(version)));
            out.push(self.audited(AuditAction::Derive, AuditObject::BlindIndex, key, r)?);
        }
        Ok(out)
    }

    /// Whether `value` was computed under the primary version of the
    /// index's key (a row whose value is not current is due for
    /// [`Keyring::rewrap_record_indexed`]).
    ///
    /// # Errors
    /// [`Error::UnknownKeyName`].
    pub fn index_value_is_current(&self, index: &BlindIndex, value: &IndexValue) -> Result<bool> {
        let (_, primary, _) = self.primary(&index.key_name)?;
        Ok(value.version() == primary)
    }

    /// Rewraps a record to its key's primary version (as
    /// [`Keyring::rewrap_record_with`]) and computes the index value of its
    /// plaintext under the index key's primary version, for a one-field
    /// index over that plaintext: the migration step after a rotation.
    /// Logs a `rewrap` and a `derive` event.
    ///
    /// # Errors
    /// As [`Keyring::rewrap_record_with`]; [`Error::InvalidArgument`] for
    /// an index with more than one field or a plaintext that is not UTF-8;
    /// then as [`Keyring::blind_index`]. Nothing is returned on any error.
    pub fn rewrap_record_indexed_with<R: TryCryptoRng + ?Sized>(
        &self,
        index: &BlindIndex,
        record: &[u8],
        context: &EncryptionContext,
        rng: &mut R,
    ) -> Result<IndexedRewrap> {
        let rewrapped = self.rewrap_indexed_quiet(index, record, context, rng);
        let header = inspect_record(record)
            .ok()
            .map(|h| (h.key_id, Some(h.key_version)));
        let r = self.audited(AuditAction::Rewrap, AuditObject::Record, header, rewrapped);
        let (record, value) = r?;
        let key = self.primary_ref(&index.key_name);
        let value = self.audited(AuditAction::Derive, AuditObject::BlindIndex, key, value)?;
        Ok(IndexedRewrap {
            record,
            index: value,
        })
    }

    /// The rewrapped record and, separately, the index value's result, so
    /// each gets its own audit event.
    #[allow(clippy::type_complexity)]
    fn rewrap_indexed_quiet<R: TryCryptoRng + ?Sized>(
        &self,
        index: &BlindIndex,
        record: &[u8],
        context: &EncryptionContext,
        rng: &mut R,
    ) -> Result<(Option<Vec<u8>>, Result<IndexValue>)> {
        if index.fields.len() != 1 {
            return Err(invalid(
                "rewrap_record_indexed takes an index over one field, the record's plaintext",
            ));
        }
        let header = inspect_record(record)?;
        let plaintext = self.decrypt_quiet(record, context)?;
        let text = core::str::from_utf8(plaintext.expose_secret())
            .map_err(|_| invalid("the record's plaintext is not UTF-8"))?;
        let value = self.primary(&index.key_name).and_then(|(_, version, _)| {
            let input = index.encode_input(&[text])?;
            self.index_value_quiet(index, version, &input)
        });
        let name = self.key_name(header.key_id)?;
        let (_, primary, _) = self.primary(name)?;
        let new = if header.key_version == primary {
            None
        } else {
            Some(self.encrypt_quiet(name, plaintext.expose_secret(), context, rng)?)
        };
        Ok((new, value))
    }

    fn index_value_quiet(
        &self,
        index: &BlindIndex,
        version: u32,
        input: &[u8],
    ) -> Result<IndexValue> {
        let id = self.key_id(&index.key_name)?;
        let material = self.decryption_material(id, version)?;
        index.compute(id, version, material, input)
    }
}

#[cfg(feature = "std")]
impl Keyring {
    /// [`Keyring::rewrap_record_indexed_with`] with this thread's [`crate::FastRng`]
    /// (the OS RNG off Unix).
    ///
    /// # Errors
    /// As [`Keyring::rewrap_record_indexed_with`].
    pub fn rewrap_record_indexed(
        &self,
        index: &BlindIndex,
        record: &[u8],
        context: &EncryptionContext,
    ) -> Result<IndexedRewrap> {
        self.rewrap_record_indexed_with(
            index,
            record,
            context,
            &mut crate::keyring::HotRng::default(),
        )
    }
}

fn invalid(reason: &'static str) -> Error {
    Error::InvalidArgument { reason }
}

fn malformed(reason: &'static str) -> Error {
    Error::Malformed { reason }
}

#[cfg(test)]
mod tests;
