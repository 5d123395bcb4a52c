//! The **record** format: compact ciphertexts for database columns and
//! tokens, encrypted directly under a key version with XChaCha20-Poly1305
//! and a random 192-bit nonce.
//!
//! Normative layout: `docs/FORMAT.md`, sections 4 and 5. In short:
//!
//! ```text
//! 0x01 | key_id u32be | key_version u32be | nonce[24] | ciphertext[n] | tag[16]
//! aad = "strongroom/record/v1" | bytes 0..9 | canonical(context)
//! text form = "sr1:" base64url-unpadded(record)
//! ```
//!
//! Each operation has a caller-buffer core (`*_into`) that allocates
//! nothing secret, and an allocating helper on top.

use alloc::string::String;
use alloc::vec::Vec;

use base64ct::{Base64UrlUnpadded, Encoding};
use rand_core::TryCryptoRng;
use zeroize::Zeroize;

use crate::aead::{self, AeadError, Algorithm, TAG_LEN, XNONCE_LEN};
use crate::audit::{AuditAction, AuditObject};
use crate::context::EncryptionContext;
use crate::error::{Error, Result};
use crate::keyring::{KeyId, Keyring};
use crate::random;
use crate::secret::{KeyMaterial, SecretBytes};

/// Format byte of record version 1 (FORMAT.md 4.1).
pub const RECORD_FORMAT_V1: u8 = 0x01;
/// Length of the authenticated header: format, key id, key version.
pub const RECORD_HEADER_LEN: usize = 9;
/// Bytes a record adds to its plaintext: header, nonce, tag.
pub const RECORD_OVERHEAD: usize = RECORD_HEADER_LEN + XNONCE_LEN + TAG_LEN;
/// Largest plaintext a record may hold (1 MiB). Larger data belongs in an
/// envelope.
pub const MAX_RECORD_PLAINTEXT_LEN: usize = 1 << 20;
/// Largest binary record.
pub const MAX_RECORD_LEN: usize = RECORD_OVERHEAD + MAX_RECORD_PLAINTEXT_LEN;
/// Prefix of the text form of record version 1.
pub const RECORD_TEXT_PREFIX: &str = "sr1:";
/// Largest text-form record.
pub const MAX_RECORD_TEXT_LEN: usize = RECORD_TEXT_PREFIX.len() + MAX_RECORD_LEN.div_ceil(3) * 4;

/// Domain-separation label that starts every record's associated data.
const RECORD_AAD_LABEL: &[u8] = b"strongroom/record/v1";

/// The public facts a record's header states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordHeader {
    /// The key the record was encrypted under (0 for a standalone key).
    pub key_id: KeyId,
    /// The version of that key (0 for a standalone key).
    pub key_version: u32,
    /// Length of the plaintext inside.
    pub plaintext_len: usize,
}

impl RecordHeader {
    /// Whether the record is under a standalone key (a data key or a
    /// derived key) rather than a keyring key version.
    pub fn is_standalone(&self) -> bool {
        self.key_id.as_u32() == 0
    }
}

/// Length of the record that a plaintext of `plaintext_len` bytes becomes.
pub const fn record_len(plaintext_len: usize) -> usize {
    plaintext_len.saturating_add(RECORD_OVERHEAD)
}

/// A parsed, not yet authenticated, record.
struct Parsed<'a> {
    header: RecordHeader,
    header_bytes: &'a [u8],
    nonce: &'a [u8],
    body: &'a [u8],
    tag: &'a [u8],
}

/// Parses a binary record strictly: FORMAT.md 4.5 steps 1-5, in order.
fn parse(record: &[u8]) -> Result<Parsed<'_>> {
    let Some(&format) = record.first() else {
        return Err(Error::Malformed {
            reason: "empty record",
        });
    };
    if format != RECORD_FORMAT_V1 {
        return Err(Error::UnsupportedFormat { version: format });
    }
    if record.len() < RECORD_OVERHEAD {
        return Err(Error::Malformed {
            reason: "record is shorter than its fixed overhead",
        });
    }
    if record.len() > MAX_RECORD_LEN {
        return Err(Error::TooLarge {
            what: "record length",
            max: MAX_RECORD_LEN,
        });
    }
    let (header_bytes, rest) = record.split_at(RECORD_HEADER_LEN);
    let (nonce, rest) = rest.split_at(XNONCE_LEN);
    let (body, tag) = rest.split_at(rest.len() - TAG_LEN);
    let key_id = u32::from_be_bytes([
        header_bytes[1],
        header_bytes[2],
        header_bytes[3],
        header_bytes[4],
    ]);
    let key_version = u32::from_be_bytes([
        header_bytes[5],
        header_bytes[6],
        header_bytes[7],
        header_bytes[8],
    ]);
    // Both zero: a standalone-key record (FORMAT.md 4.7). One zero alone
    // is never valid.
    if (key_id == 0) != (key_version == 0) {
        return Err(Error::Malformed {
            reason: "record names key id 0 or key version 0 alone",
        });
    }
    Ok(Parsed {
        header: RecordHeader {
            key_id: KeyId::from_u32(key_id),
            key_version,
            plaintext_len: body.len(),
        },
        header_bytes,
        nonce,
        body,
        tag,
    })
}

/// Reads a record's public header without decrypting anything.
///
/// # Errors
/// [`Error::UnsupportedFormat`], [`Error::Malformed`], [`Error::TooLarge`].
pub fn inspect_record(record: &[u8]) -> Result<RecordHeader> {
    parse(record).map(|p| p.header)
}

/// The record `parse` accepted, written back from its parsed fields by the
/// FORMAT.md 4.1 layout (the fuzz targets' canonical re-encoding check).
#[cfg(fuzzing)]
pub(crate) fn reencode(record: &[u8]) -> Option<Vec<u8>> {
    let p = parse(record).ok()?;
    let mut out = Vec::with_capacity(record.len());
    out.push(RECORD_FORMAT_V1);
    out.extend_from_slice(&p.header.key_id.as_u32().to_be_bytes());
    out.extend_from_slice(&p.header.key_version.to_be_bytes());
    out.extend_from_slice(p.nonce);
    out.extend_from_slice(p.body);
    out.extend_from_slice(p.tag);
    Some(out)
}

/// Encodes a binary record in the text form (FORMAT.md 5: `sr1:` +
/// unpadded base64url), for columns that hold strings. The text form is a
/// codec beside the binary one: encrypt, then `to_text`; `from_text`, then
/// decrypt.
///
/// # Example
/// ```
/// # #[cfg(feature = "std")]
/// use strongroom::{EncryptionContext, Keyring, record};
/// # #[cfg(not(feature = "std"))] fn main() {}
/// # #[cfg(feature = "std")]
/// # fn main() -> Result<(), strongroom::Error> {
/// let mut keyring = Keyring::new();
/// keyring.create_key("pii")?;
/// let ctx = EncryptionContext::new().with("column", "email")?;
/// let column = record::to_text(&keyring.encrypt_record("pii", b"ada@example.com", &ctx)?);
/// assert!(column.starts_with("sr1:"));
/// let plain = keyring.decrypt_record(&record::from_text(&column)?, &ctx)?;
/// assert_eq!(plain.expose_secret(), b"ada@example.com");
/// # Ok(())
/// # }
/// ```
pub fn to_text(record: &[u8]) -> String {
    let mut out = String::with_capacity(RECORD_TEXT_PREFIX.len() + record.len().div_ceil(3) * 4);
    out.push_str(RECORD_TEXT_PREFIX);
    out.push_str(&Base64UrlUnpadded::encode_string(record));
    out
}

/// Decodes the text form (FORMAT.md 5) to the binary record, strictly: the
/// exact prefix, canonical unpadded base64url, within
/// [`MAX_RECORD_TEXT_LEN`]. Checks the encoding only; decrypting checks the
/// record.
///
/// # Errors
/// [`Error::Malformed`] for a bad prefix or base64; [`Error::TooLarge`]
/// past [`MAX_RECORD_TEXT_LEN`] (checked before decoding).
pub fn from_text(text: &str) -> Result<Vec<u8>> {
    if text.len() > MAX_RECORD_TEXT_LEN {
        return Err(Error::TooLarge {
            what: "text record length",
            max: MAX_RECORD_TEXT_LEN,
        });
    }
    let Some(b64) = text.strip_prefix(RECORD_TEXT_PREFIX) else {
        return Err(Error::Malformed {
            reason: "text record does not start with \"sr1:\"",
        });
    };
    Base64UrlUnpadded::decode_vec(b64).map_err(|_| Error::Malformed {
        reason: "text record is not canonical unpadded base64url",
    })
}

impl Keyring {
    /// Encrypts `plaintext` under the primary version of key `name` into
    /// `out`, returning the record length ([`record_len`]).
    ///
    /// # Errors
    /// [`Error::UnknownKeyName`]; [`Error::TooLarge`] past
    /// [`MAX_RECORD_PLAINTEXT_LEN`]; [`Error::BufferTooSmall`];
    /// [`Error::RandomnessUnavailable`]. On error `out` is left zeroed where
    /// it was written.
    ///
    /// # Security
    /// The nonce is 24 fresh random bytes; a failing RNG fails the call.
    pub fn encrypt_record_into<R: TryCryptoRng + ?Sized>(
        &self,
        name: &str,
        plaintext: &[u8],
        context: &EncryptionContext,
        rng: &mut R,
        out: &mut [u8],
    ) -> Result<usize> {
        let r = self.primary(name).and_then(|(id, version, material)| {
            seal_into(id.as_u32(), version, material, plaintext, context, rng, out)
        });
        self.audited_lazy(
            AuditAction::Encrypt,
            AuditObject::Record,
            || self.primary_ref(name),
            r,
        )
    }

    /// Encrypts into a new vector without an audit event.
    pub(crate) fn encrypt_quiet<R: TryCryptoRng + ?Sized>(
        &self,
        name: &str,
        plaintext: &[u8],
        context: &EncryptionContext,
        rng: &mut R,
    ) -> Result<Vec<u8>> {
        let (key_id, version, material) = self.primary(name)?;
        seal_to_vec(key_id.as_u32(), version, material, plaintext, context, rng)
    }

    /// Encrypts `plaintext` under the primary version of key `name`.
    ///
    /// # Errors
    /// As [`Keyring::encrypt_record_into`], without `BufferTooSmall`.
    pub fn encrypt_record_with<R: TryCryptoRng + ?Sized>(
        &self,
        name: &str,
        plaintext: &[u8],
        context: &EncryptionContext,
        rng: &mut R,
    ) -> Result<Vec<u8>> {
        let r = self.encrypt_quiet(name, plaintext, context, rng);
        self.audited_lazy(
            AuditAction::Encrypt,
            AuditObject::Record,
            || self.primary_ref(name),
            r,
        )
    }

    /// Decrypts a record into `out`, returning the plaintext length. The
    /// key is found by the header's key id; the version's state is checked
    /// before any cryptography runs.
    ///
    /// # Errors
    /// Structural: [`Error::UnsupportedFormat`], [`Error::Malformed`],
    /// [`Error::TooLarge`]. Keyring facts: [`Error::UnknownKeyId`],
    /// [`Error::UnknownKeyVersion`], [`Error::VersionDestroyed`],
    /// [`Error::VersionBelowMinimum`], [`Error::VersionDisabled`].
    /// [`Error::BufferTooSmall`]. Anything else, including a wrong context:
    /// [`Error::AuthenticationFailed`].
    ///
    /// # Security
    /// On any error, `out` holds no plaintext: it is untouched, or zeroed
    /// where it was written.
    pub fn decrypt_record_into(
        &self,
        record: &[u8],
        context: &EncryptionContext,
        out: &mut [u8],
    ) -> Result<usize> {
        let r = self.decrypt_into_quiet(record, context, out);
        self.audited_lazy(
            AuditAction::Decrypt,
            AuditObject::Record,
            || header_ref(record),
            r,
        )
    }

    fn decrypt_into_quiet(
        &self,
        record: &[u8],
        context: &EncryptionContext,
        out: &mut [u8],
    ) -> Result<usize> {
        let parsed = parse(record)?;
        let header = parsed.header;
        if header.is_standalone() {
            return Err(Error::Malformed {
                reason: "record is under a standalone key; decrypt it with that key",
            });
        }
        let material = self.decryption_material(header.key_id, header.key_version)?;
        open_into(&parsed, material, context, out)
    }

    /// Decrypts into a wiping container without an audit event.
    pub(crate) fn decrypt_quiet(
        &self,
        record: &[u8],
        context: &EncryptionContext,
    ) -> Result<SecretBytes> {
        let header = inspect_record(record)?;
        let mut out = SecretBytes::zeroed(header.plaintext_len);
        let n = self.decrypt_into_quiet(record, context, out.expose_secret_mut())?;
        out.truncate(n);
        Ok(out)
    }

    /// Decrypts a record; the plaintext comes back in a wiping container.
    ///
    /// # Errors
    /// As [`Keyring::decrypt_record_into`], without `BufferTooSmall`.
    pub fn decrypt_record(
        &self,
        record: &[u8],
        context: &EncryptionContext,
    ) -> Result<SecretBytes> {
        let r = self.decrypt_quiet(record, context);
        self.audited_lazy(
            AuditAction::Decrypt,
            AuditObject::Record,
            || header_ref(record),
            r,
        )
    }

    /// Re-encrypts a record under the primary version of its key, inside the
    /// library; the intermediate plaintext is wiped. The context stays the
    /// same. A record already under the primary version is authenticated
    /// (so a wrong context still fails) but not re-encrypted: that is
    /// `Ok(None)`, and a batch rewrap of a table writes back only the rows
    /// that moved.
    ///
    /// # Errors
    /// As [`Keyring::decrypt_record_into`] and
    /// [`Keyring::encrypt_record_into`].
    pub fn rewrap_record_with<R: TryCryptoRng + ?Sized>(
        &self,
        record: &[u8],
        context: &EncryptionContext,
        rng: &mut R,
    ) -> Result<Option<Vec<u8>>> {
        let r = self.rewrap_quiet(record, context, rng);
        self.audited_lazy(
            AuditAction::Rewrap,
            AuditObject::Record,
            || header_ref(record),
            r,
        )
    }

    fn rewrap_quiet<R: TryCryptoRng + ?Sized>(
        &self,
        record: &[u8],
        context: &EncryptionContext,
        rng: &mut R,
    ) -> Result<Option<Vec<u8>>> {
        let header = inspect_record(record)?;
        let plaintext = self.decrypt_quiet(record, context)?;
        let name = self.key_name(header.key_id)?;
        let (_, primary, _) = self.primary(name)?;
        if header.key_version == primary {
            return Ok(None);
        }
        self.encrypt_quiet(name, plaintext.expose_secret(), context, rng)
            .map(Some)
    }
}

#[cfg(feature = "std")]
impl Keyring {
    /// [`Keyring::encrypt_record_with`] with this thread's [`crate::FastRng`]
    /// (the OS RNG off Unix).
    ///
    /// # Errors
    /// As [`Keyring::encrypt_record_with`].
    pub fn encrypt_record(
        &self,
        name: &str,
        plaintext: &[u8],
        context: &EncryptionContext,
    ) -> Result<Vec<u8>> {
        self.encrypt_record_with(
            name,
            plaintext,
            context,
            &mut crate::keyring::HotRng::default(),
        )
    }

    /// [`Keyring::rewrap_record_with`] with this thread's [`crate::FastRng`]
    /// (the OS RNG off Unix).
    ///
    /// # Errors
    /// As [`Keyring::rewrap_record_with`].
    pub fn rewrap_record(
        &self,
        record: &[u8],
        context: &EncryptionContext,
    ) -> Result<Option<Vec<u8>>> {
        self.rewrap_record_with(record, context, &mut crate::keyring::HotRng::default())
    }
}

/// Seals a record under `material` with the given header ids
/// (FORMAT.md 4.4). On error `out` is left zeroed where it was written.
fn seal_into<R: TryCryptoRng + ?Sized>(
    key_id: u32,
    version: u32,
    material: &KeyMaterial,
    plaintext: &[u8],
    context: &EncryptionContext,
    rng: &mut R,
    out: &mut [u8],
) -> Result<usize> {
    if plaintext.len() > MAX_RECORD_PLAINTEXT_LEN {
        return Err(Error::TooLarge {
            what: "record plaintext length",
            max: MAX_RECORD_PLAINTEXT_LEN,
        });
    }
    let total = record_len(plaintext.len());
    let Some(out) = out.get_mut(..total) else {
        return Err(Error::BufferTooSmall { needed: total });
    };
    let (header, rest) = out.split_at_mut(RECORD_HEADER_LEN);
    let (nonce, rest) = rest.split_at_mut(XNONCE_LEN);
    let (body, tag) = rest.split_at_mut(plaintext.len());
    header[0] = RECORD_FORMAT_V1;
    header[1..5].copy_from_slice(&key_id.to_be_bytes());
    header[5..9].copy_from_slice(&version.to_be_bytes());
    random::fill(rng, nonce).inspect_err(|_| out_wipe(header, nonce))?;
    body.copy_from_slice(plaintext);
    let sealed = aead::with_associated_data(RECORD_AAD_LABEL, &[header], Some(context), |aad| {
        aead::encrypt_in_place(Algorithm::XChaCha20Poly1305, material, nonce, aad, body)
    });
    match sealed {
        Ok(t) => {
            tag.copy_from_slice(&t);
            Ok(total)
        }
        // Only the primitive's length limit (256 GiB) can fail here,
        // which the bound above rules out; still, fail closed.
        Err(_) => {
            body.zeroize();
            out_wipe(header, nonce);
            Err(Error::TooLarge {
                what: "record plaintext length",
                max: MAX_RECORD_PLAINTEXT_LEN,
            })
        }
    }
}

/// Verifies and decrypts a parsed record into `out` (FORMAT.md 4.5 step 7).
/// On error `out` holds no plaintext.
fn open_into(
    parsed: &Parsed<'_>,
    material: &KeyMaterial,
    context: &EncryptionContext,
    out: &mut [u8],
) -> Result<usize> {
    let n = parsed.body.len();
    let Some(out) = out.get_mut(..n) else {
        return Err(Error::BufferTooSmall { needed: n });
    };
    out.copy_from_slice(parsed.body);
    let opened = aead::with_associated_data(
        RECORD_AAD_LABEL,
        &[parsed.header_bytes],
        Some(context),
        |aad| {
            aead::decrypt_in_place(
                Algorithm::XChaCha20Poly1305,
                material,
                parsed.nonce,
                aad,
                out,
                parsed.tag,
            )
        },
    );
    match opened {
        Ok(()) => Ok(n),
        Err(AeadError::NonceLength | AeadError::TagLength | AeadError::Authentication) => {
            out.zeroize();
            Err(Error::AuthenticationFailed)
        }
    }
}

/// Encrypts a record under a standalone key (a data key or a derived key):
/// key id and version 0 in the header (FORMAT.md 4.7).
///
/// # Errors
/// [`Error::TooLarge`] past [`MAX_RECORD_PLAINTEXT_LEN`];
/// [`Error::RandomnessUnavailable`].
pub fn encrypt_with_key<R: TryCryptoRng + ?Sized>(
    key: &KeyMaterial,
    plaintext: &[u8],
    context: &EncryptionContext,
    rng: &mut R,
) -> Result<Vec<u8>> {
    seal_to_vec(0, 0, key, plaintext, context, rng)
}

/// [`seal_into`] into a new vector of exactly the record's length.
fn seal_to_vec<R: TryCryptoRng + ?Sized>(
    key_id: u32,
    version: u32,
    material: &KeyMaterial,
    plaintext: &[u8],
    context: &EncryptionContext,
    rng: &mut R,
) -> Result<Vec<u8>> {
    if plaintext.len() > MAX_RECORD_PLAINTEXT_LEN {
        return Err(Error::TooLarge {
            what: "record plaintext length",
            max: MAX_RECORD_PLAINTEXT_LEN,
        });
    }
    let mut out = alloc::vec![0u8; record_len(plaintext.len())];
    seal_into(key_id, version, material, plaintext, context, rng, &mut out)?;
    Ok(out)
}

/// Decrypts a standalone-key record.
///
/// # Errors
/// As [`Keyring::decrypt_record`]; [`Error::Malformed`] for a record under
/// a keyring key.
pub fn decrypt_with_key(
    key: &KeyMaterial,
    record: &[u8],
    context: &EncryptionContext,
) -> Result<SecretBytes> {
    let parsed = parse(record)?;
    if !parsed.header.is_standalone() {
        return Err(Error::Malformed {
            reason: "record is under a keyring key; decrypt it with the keyring",
        });
    }
    let mut out = SecretBytes::zeroed(parsed.body.len());
    open_into(&parsed, key, context, out.expose_secret_mut())?;
    Ok(out)
}

/// The key a record's header names, for audit events.
fn header_ref(record: &[u8]) -> Option<(KeyId, Option<u32>)> {
    inspect_record(record)
        .ok()
        .map(|h| (h.key_id, Some(h.key_version)))
}

fn out_wipe(header: &mut [u8], nonce: &mut [u8]) {
    header.zeroize();
    nonce.zeroize();
}

#[cfg(test)]
mod tests {
    use alloc::string::String;
    use alloc::vec;

    use super::*;

    /// An RNG that always fails.
    struct Down;

    impl rand_core::TryRng for Down {
        type Error = core::convert::Infallible;
        fn try_next_u32(&mut self) -> core::result::Result<u32, Self::Error> {
            unreachable!()
        }
        fn try_next_u64(&mut self) -> core::result::Result<u64, Self::Error> {
            unreachable!()
        }
        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> core::result::Result<(), Self::Error> {
            // All zero: what `random::fill` refuses as a failed source.
            dst.fill(0);
            Ok(())
        }
    }

    impl rand_core::TryCryptoRng for Down {}

    /// Both sealing paths admit exactly MAX_RECORD_PLAINTEXT_LEN bytes and
    /// refuse one more; a failed seal into a caller's buffer leaves neither
    /// the header nor the nonce there. (cargo-mutants: '>' turned '>=' or
    /// '==' in both bounds, and the wipe dropped, survived without it.)
    #[test]
    fn both_seals_admit_the_largest_plaintext_and_wipe_on_failure() {
        let key = KeyMaterial::from_slice(&[9; 32]).unwrap(); // TEST KEY MATERIAL
        let ctx = EncryptionContext::new();
        let rng = &mut getrandom::SysRng;
        let largest = vec![1u8; MAX_RECORD_PLAINTEXT_LEN];
        let r = encrypt_with_key(&key, &largest, &ctx, rng).unwrap();
        assert_eq!(r.len(), MAX_RECORD_LEN);
        assert_eq!(
            decrypt_with_key(&key, &r, &ctx).unwrap().expose_secret(),
            &largest[..]
        );
        let over = vec![1u8; MAX_RECORD_PLAINTEXT_LEN + 1];
        assert!(matches!(
            encrypt_with_key(&key, &over, &ctx, rng),
            Err(Error::TooLarge { .. })
        ));
        let mut out = vec![0u8; MAX_RECORD_LEN + 1];
        assert_eq!(
            seal_into(0, 0, &key, &largest, &ctx, rng, &mut out).unwrap(),
            MAX_RECORD_LEN
        );
        assert!(matches!(
            seal_into(0, 0, &key, &over, &ctx, rng, &mut out),
            Err(Error::TooLarge { .. })
        ));
        let mut out = vec![0xAAu8; 100];
        assert!(seal_into(7, 1, &key, b"x", &ctx, &mut Down, &mut out).is_err());
        assert!(
            out[..RECORD_HEADER_LEN + XNONCE_LEN]
                .iter()
                .all(|b| *b == 0)
        );
    }

    /// The text form's length bound (FORMAT.md 5) admits the text of the
    /// largest record and refuses one character more before decoding.
    /// (cargo-mutants: the bound's arithmetic, and `>` turned `>=` or
    /// `==`, survived without it.)
    #[test]
    fn the_text_bound_admits_the_largest_record() {
        // FORMAT.md 5: `4 + 4 * ceil(1048625 / 3)` = 1398172 characters.
        assert_eq!(MAX_RECORD_TEXT_LEN, 1_398_172);
        let largest = alloc::vec![0x5au8; MAX_RECORD_LEN];
        let text = to_text(&largest);
        assert!(text.len() <= MAX_RECORD_TEXT_LEN);
        assert_eq!(from_text(&text).unwrap(), largest);
        // At the bound itself: decoded (four-character groups of 'A').
        let mut at_bound = String::from(RECORD_TEXT_PREFIX);
        at_bound.extend(core::iter::repeat_n(
            'A',
            MAX_RECORD_TEXT_LEN - RECORD_TEXT_PREFIX.len(),
        ));
        assert_eq!(at_bound.len(), MAX_RECORD_TEXT_LEN);
        assert!(from_text(&at_bound).is_ok());
        at_bound.push('A');
        assert!(matches!(from_text(&at_bound), Err(Error::TooLarge { .. })));
    }
}
