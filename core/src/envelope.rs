//! The **envelope** format: blobs and files of any size, under a fresh data
//! key per envelope that is wrapped for one or more recipients, with a key
//! commitment and a body of STREAM chunks.
//!
//! Normative layout: `docs/FORMAT.md` section 8. In short:
//!
//! ```text
//! "SREN" 0x01 | chunk_size u32 | salt[32] | ctx_len u16 | ctx | n u8
//!   | n x (key_id u32 | version u32 | nonce[24] | wrapped dk[32] | tag[16])
//!   | commitment[32] | chunk_0 | chunk_1 | ...
//! prk        = HKDF-Extract(salt, dk)
//! commitment = HKDF-Expand(prk, COMMIT_LABEL || header before commitment)
//! payload    = HKDF-Expand(prk, PAYLOAD_LABEL || fixed header)
//! ```
//!
//! The payload key depends only on the *fixed* header (magic to context),
//! so rewrapping (new recipients, new commitment) never touches the body.
//! The commitment covers the whole header including every recipient, so it
//! is both the key commitment and the header's authenticator; it is checked
//! in constant time before any chunk is decrypted.

#[cfg(feature = "std")]
mod armor;
mod header;
#[cfg(fuzzing)]
pub(crate) use header::reencode as header_reencode;
#[cfg(feature = "std")]
mod io;
mod stream;

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use rand_core::TryCryptoRng;
use subtle::ConstantTimeEq;

#[cfg(feature = "std")]
pub use armor::{
    ARMOR_BEGIN, ARMOR_END, ARMOR_LINE_LEN, ArmorReader, ArmorWriter, armor, dearmor, is_armored,
};
pub use header::{
    DEFAULT_CHUNK_SIZE, ENVELOPE_FORMAT_V1, ENVELOPE_MAGIC, MAX_CHUNK_SIZE, MAX_HEADER_LEN,
    MAX_RECIPIENTS, MIN_CHUNK_SIZE,
};
#[cfg(feature = "std")]
pub use io::{EnvelopeReader, EnvelopeSeekReader, EnvelopeWriter};
pub use stream::{EnvelopeDecryptor, EnvelopeEncryptor, MAX_BATCH_BYTES, MAX_THREADS};

use crate::aead::{self, Algorithm, TAG_LEN};
use crate::audit::{AuditAction, AuditContext, AuditObject};
use crate::context::EncryptionContext;
use crate::error::{Error, ErrorKind, Result};
use crate::kdf::Prk;
use crate::key_id::{KeyId, KeyVersion};
use crate::keyring::Keyring;
use crate::random;
use crate::secret::{KEY_LEN, KeyMaterial, SecretBytes};
use header::{COMMITMENT_LEN, Header, RecipientEntry, SALT_LEN};

/// Associated-data label of every data-key wrap (FORMAT.md 7.2).
const WRAP_LABEL: &[u8] = b"strongroom/envelope/v1/wrap";
/// HKDF info label of the key commitment (FORMAT.md 7.4).
const COMMIT_LABEL: &[u8] = b"strongroom/envelope/v1/commitment";
/// HKDF info label of the payload key (FORMAT.md 7.4).
const PAYLOAD_LABEL: &[u8] = b"strongroom/envelope/v1/payload";

/// Who an envelope's data key is wrapped for.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Recipient<'a> {
    /// The primary version of a key in a keyring.
    Key {
        /// The keyring holding the key.
        keyring: &'a Keyring,
        /// The key's name.
        name: &'a str,
    },
    /// A standalone key: a data key or a derived key (id 0, version 0 on
    /// the wire).
    Standalone(&'a KeyMaterial),
}

/// What unwraps an envelope's data key: the decryption side of a
/// [`Recipient`] (age calls it an identity).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Identity<'a> {
    /// A keyring: recipients are looked up by key id.
    Keyring(&'a Keyring),
    /// A standalone key: tried on the standalone recipients.
    Standalone(&'a KeyMaterial),
}

/// An [`Identity`] that owns what it holds, for objects that live longer
/// than one call (the streaming decryptor and reader): a shared keyring
/// snapshot, or a standalone key. The stream keeps it only until the header
/// is opened, then holds just the payload key.
///
/// A borrowed [`Identity`] cannot stand in: a stream that kept one would
/// borrow the keyring for its whole life, which a C handle or a Python
/// object cannot do. `core/tests/shape.rs` asserts `Send + 'static` for
/// every long-lived type; the same check rejects a borrowing one:
///
/// ```compile_fail,E0597
/// fn exclusive<T: Send + 'static>(_: T) {}
/// let keyring = strongroom::Keyring::new();
/// exclusive(strongroom::envelope::Identity::Keyring(&keyring));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum OwnedIdentity {
    /// A keyring (for example [`crate::SharedKeyring::current`]).
    Keyring(Arc<Keyring>),
    /// A standalone key: a data key or a derived key.
    Standalone(KeyMaterial),
}

impl OwnedIdentity {
    /// The borrowed form, for one call.
    pub fn as_identity(&self) -> Identity<'_> {
        match self {
            Self::Keyring(k) => Identity::Keyring(k),
            Self::Standalone(m) => Identity::Standalone(m),
        }
    }
}

impl From<Arc<Keyring>> for OwnedIdentity {
    fn from(keyring: Arc<Keyring>) -> Self {
        Self::Keyring(keyring)
    }
}

impl From<KeyMaterial> for OwnedIdentity {
    fn from(key: KeyMaterial) -> Self {
        Self::Standalone(key)
    }
}

/// What a long-lived stream keeps for its one audit trail: the keyring's
/// audit context, and the key that opened (or could have opened) the
/// header, with its name, so events name it after the keyring is gone.
#[derive(Debug, Default)]
pub(crate) struct StreamAudit {
    audit: Option<Arc<AuditContext>>,
    key: Option<(KeyId, u32)>,
    key_name: Option<String>,
}

impl StreamAudit {
    /// The audit trail of a stream opened with `identity`.
    pub(crate) fn new(identity: &Identity<'_>) -> Self {
        Self {
            audit: match identity {
                Identity::Keyring(k) => k.audit().cloned(),
                Identity::Standalone(_) => None,
            },
            ..Self::default()
        }
    }

    /// Records the key that opened the header (found in `identity`).
    pub(crate) fn opened_by(&mut self, identity: &Identity<'_>, key: Option<(KeyId, u32)>) {
        self.key = key;
        if let (Identity::Keyring(k), Some((id, _))) = (identity, key) {
            self.key_name = k.key_name(id).ok().map(String::from);
        }
    }

    /// Emits a `decrypt` event for the envelope (`None`: success).
    pub(crate) fn decrypt(&self, error: Option<ErrorKind>) {
        if let Some(audit) = &self.audit {
            let key = self.key.map(|(id, v)| (id, Some(v)));
            let name = self.key_name.as_deref();
            audit.emit(
                AuditAction::Decrypt,
                AuditObject::Envelope,
                name,
                key,
                error,
            );
        }
    }
}

/// One recipient as the header states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecipientInfo {
    /// Key id and version, or `None` for a standalone key.
    pub key: Option<KeyVersion>,
}

/// The public facts of an envelope: no secret, nothing decrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EnvelopeInfo {
    /// Format byte.
    pub format: u8,
    /// Plaintext bytes per chunk.
    pub chunk_size: u32,
    /// The encryption context stored in the header.
    pub context: EncryptionContext,
    /// The recipients, in header order.
    pub recipients: Vec<RecipientInfo>,
    /// Header length in bytes.
    pub header_len: usize,
    /// Number of body chunks.
    pub chunk_count: u64,
    /// Plaintext length in bytes.
    pub plaintext_len: u64,
}

/// The exact length of the envelope that [`encrypt`] (or a streaming
/// [`EnvelopeEncryptor`]) makes of `plaintext_len` bytes with `chunk_size`,
/// `recipients` recipients and `context`: for sizing a caller's buffer.
///
/// # Errors
/// [`Error::InvalidArgument`] for a chunk size or recipient count that
/// [`encrypt`] refuses; [`Error::TooLarge`] if the length overflows `u64`.
pub fn encrypted_len(
    plaintext_len: u64,
    chunk_size: u32,
    recipients: usize,
    context: &EncryptionContext,
) -> Result<u64> {
    check_shape(chunk_size, recipients)?;
    let chunks = plaintext_len.div_ceil(u64::from(chunk_size)).max(1);
    let header = header::header_len_for(context.encoded_len(), recipients) as u64;
    chunks
        .checked_mul(TAG_LEN as u64)
        .and_then(|tags| tags.checked_add(plaintext_len))
        .and_then(|body| body.checked_add(header))
        .ok_or(Error::TooLarge {
            what: "envelope length",
            max: usize::MAX,
        })
}

/// The chunk-size and recipient-count rules of a new envelope.
fn check_shape(chunk_size: u32, recipients: usize) -> Result<()> {
    if !(MIN_CHUNK_SIZE..=MAX_CHUNK_SIZE).contains(&chunk_size) {
        return Err(Error::InvalidArgument {
            reason: "chunk size must be between 64 bytes and 16 MiB",
        });
    }
    if recipients == 0 || recipients > MAX_RECIPIENTS {
        return Err(Error::InvalidArgument {
            reason: "an envelope has 1 to 16 recipients",
        });
    }
    Ok(())
}

/// Reads an envelope's public facts, checking header and body layout.
///
/// # Errors
/// [`Error::Malformed`], [`Error::UnsupportedFormat`].
pub fn inspect(envelope: &[u8]) -> Result<EnvelopeInfo> {
    inspect_header(envelope, envelope.len() as u64)
}

/// As [`inspect`], from the start of an envelope (at least its header,
/// at most [`MAX_HEADER_LEN`] bytes are needed) and its total length, so a
/// large file need not be read.
///
/// # Errors
/// [`Error::Malformed`], [`Error::UnsupportedFormat`].
pub fn inspect_header(prefix: &[u8], total_len: u64) -> Result<EnvelopeInfo> {
    let (header, header_len) = header::parse(prefix)?;
    let body_len = total_len
        .checked_sub(header_len as u64)
        .ok_or(Error::Malformed {
            reason: "envelope is shorter than its header",
        })?;
    let chunk_count = stream::chunk_count(body_len, header.chunk_size)?;
    Ok(EnvelopeInfo {
        format: ENVELOPE_FORMAT_V1,
        chunk_size: header.chunk_size,
        recipients: header
            .recipients
            .iter()
            .map(|r| RecipientInfo {
                key: r.key.map(|(id, v)| KeyVersion::new(id, v)),
            })
            .collect(),
        context: header.context,
        header_len,
        chunk_count,
        plaintext_len: body_len - chunk_count * TAG_LEN as u64,
    })
}

/// Encrypts `plaintext` into one envelope for `recipients`.
///
/// # Errors
/// As [`EnvelopeEncryptor::new`].
///
/// # Example
/// ```
/// # #[cfg(feature = "std")]
/// use strongroom::envelope::{self, Identity, Recipient, DEFAULT_CHUNK_SIZE};
/// # #[cfg(feature = "std")]
/// use strongroom::{EncryptionContext, Keyring, SysRng};
/// # #[cfg(not(feature = "std"))] fn main() {}
/// # #[cfg(feature = "std")]
/// # fn main() -> Result<(), strongroom::Error> {
/// let mut keyring = Keyring::new();
/// keyring.create_key("files")?;
/// let ctx = EncryptionContext::new().with("path", "exports/customers.csv")?;
/// let sealed = envelope::encrypt(
///     &[Recipient::Key { keyring: &keyring, name: "files" }],
///     b"id,email\n1,ada@example.com\n",
///     &ctx,
///     DEFAULT_CHUNK_SIZE,
///     &mut SysRng,
/// )?;
/// let opened = envelope::decrypt(Identity::Keyring(&keyring), &sealed, &ctx)?;
/// assert_eq!(opened.expose_secret(), b"id,email\n1,ada@example.com\n");
/// # Ok(())
/// # }
/// ```
pub fn encrypt<R: TryCryptoRng + ?Sized>(
    recipients: &[Recipient<'_>],
    plaintext: &[u8],
    context: &EncryptionContext,
    chunk_size: u32,
    rng: &mut R,
) -> Result<Vec<u8>> {
    let len = encrypted_len(
        plaintext.len() as u64,
        chunk_size,
        recipients.len(),
        context,
    )?;
    let (mut encryptor, mut out) =
        EnvelopeEncryptor::with_size_hint(recipients, context, chunk_size, plaintext.len(), rng)?;
    out.reserve(usize::try_from(len).unwrap_or(0).saturating_sub(out.len()));
    encryptor.update(plaintext, &mut out)?;
    encryptor.finish(&mut out)?;
    Ok(out)
}

/// As [`encrypt`], into a caller's buffer of at least [`encrypted_len`]
/// bytes; returns the envelope's length. The same streaming core writes
/// both.
///
/// # Errors
/// [`Error::BufferTooSmall`], checked before anything else is done (no key
/// is used, no event is logged); as [`EnvelopeEncryptor::new`].
pub fn encrypt_into<R: TryCryptoRng + ?Sized>(
    recipients: &[Recipient<'_>],
    plaintext: &[u8],
    context: &EncryptionContext,
    chunk_size: u32,
    rng: &mut R,
    out: &mut [u8],
) -> Result<usize> {
    let len = encrypted_len(
        plaintext.len() as u64,
        chunk_size,
        recipients.len(),
        context,
    )?;
    let needed = usize::try_from(len).map_err(|_| Error::TooLarge {
        what: "envelope length",
        max: usize::MAX,
    })?;
    if out.len() < needed {
        return Err(Error::BufferTooSmall { needed });
    }
    let (mut encryptor, header) =
        EnvelopeEncryptor::with_size_hint(recipients, context, chunk_size, plaintext.len(), rng)?;
    let (head, body) = out.split_at_mut(header.len());
    head.copy_from_slice(&header);
    let n = encryptor.update_into(plaintext, body)?;
    let m = encryptor.finish_into(&mut body[n..])?;
    Ok(header.len() + n + m)
}

/// Decrypts a whole envelope. Nothing is returned unless every chunk
/// authenticates.
///
/// # Errors
/// Structural: [`Error::Malformed`], [`Error::UnsupportedFormat`]. Keys:
/// [`Error::UnknownKeyId`] (no recipient is known to the identity) and the
/// version-state errors of [`Keyring::decrypt_record`]. A different
/// context, wrong key material, a failed commitment, any altered byte:
/// [`Error::AuthenticationFailed`].
pub fn decrypt(
    identity: Identity<'_>,
    envelope: &[u8],
    context: &EncryptionContext,
) -> Result<SecretBytes> {
    let mut out = match inspect(envelope) {
        // The layout rules bound the plaintext by the envelope's length.
        Ok(info) => SecretBytes::zeroed(usize::try_from(info.plaintext_len).unwrap_or(0)),
        Err(_) => SecretBytes::new(),
    };
    let n = decrypt_into(identity, envelope, context, out.expose_secret_mut())?;
    out.truncate(n);
    Ok(out)
}

/// As [`decrypt`], into a caller's buffer of at least the plaintext length
/// ([`inspect`]'s `plaintext_len`); returns that length.
///
/// # Errors
/// As [`decrypt`]; [`Error::BufferTooSmall`] (checked after the header is
/// parsed, before any key is used).
///
/// # Security
/// On any error `out` holds no plaintext: untouched, or wiped where it was
/// written.
pub fn decrypt_into(
    identity: Identity<'_>,
    envelope: &[u8],
    context: &EncryptionContext,
    out: &mut [u8],
) -> Result<usize> {
    let mut opened_by = None;
    let result = decrypt_quiet(&identity, envelope, context, out, &mut opened_by);
    audit_opener(&identity, AuditAction::Decrypt, envelope, opened_by, result)
}

fn decrypt_quiet(
    identity: &Identity<'_>,
    envelope: &[u8],
    context: &EncryptionContext,
    out: &mut [u8],
    opened_by: &mut Option<(KeyId, u32)>,
) -> Result<usize> {
    let (header, header_len) = header::parse(envelope)?;
    let body = &envelope[header_len..];
    let count = stream::chunk_count(body.len() as u64, header.chunk_size)?;
    let len = body.len() - count as usize * TAG_LEN;
    if out.len() < len {
        return Err(Error::BufferTooSmall { needed: len });
    }
    let (payload, by) = open_header_by(identity, &header, context)?;
    *opened_by = by;
    let sealed = header.chunk_size as usize + TAG_LEN;
    let mut written = 0;
    for (index, chunk) in (0u64..).zip(body.chunks(sealed)) {
        let n = chunk.len() - TAG_LEN;
        let buf = &mut out[written..written + n];
        buf.copy_from_slice(&chunk[..n]);
        if let Err(e) = stream::open_chunk(&payload, index, index + 1 == count, buf, &chunk[n..]) {
            // All or nothing: wipe what earlier chunks released.
            zeroize::Zeroize::zeroize(&mut out[..written + n]);
            return Err(e);
        }
        written += n;
    }
    Ok(written)
}

/// Decrypts chunk `index` alone (random access): opens the header, then
/// authenticates and decrypts only that chunk.
///
/// # Errors
/// As [`decrypt`], plus [`Error::InvalidArgument`] for an index past the
/// last chunk.
pub fn decrypt_chunk(
    identity: Identity<'_>,
    envelope: &[u8],
    context: &EncryptionContext,
    index: u64,
) -> Result<SecretBytes> {
    let mut opened_by = None;
    let result = decrypt_chunk_quiet(&identity, envelope, context, index, &mut opened_by);
    audit_opener(&identity, AuditAction::Decrypt, envelope, opened_by, result)
}

fn decrypt_chunk_quiet(
    identity: &Identity<'_>,
    envelope: &[u8],
    context: &EncryptionContext,
    index: u64,
    opened_by: &mut Option<(KeyId, u32)>,
) -> Result<SecretBytes> {
    let (header, header_len) = header::parse(envelope)?;
    let body = &envelope[header_len..];
    let count = stream::chunk_count(body.len() as u64, header.chunk_size)?;
    if index >= count {
        return Err(Error::InvalidArgument {
            reason: "chunk index past the last chunk",
        });
    }
    let (payload, by) = open_header_by(identity, &header, context)?;
    *opened_by = by;
    let sealed = header.chunk_size as u64 + TAG_LEN as u64;
    let start = usize::try_from(index * sealed).map_err(|_| Error::InvalidArgument {
        reason: "chunk index past the last chunk",
    })?;
    let end = (start + sealed as usize).min(body.len());
    let chunk = &body[start..end];
    let n = chunk.len() - TAG_LEN;
    let mut out = SecretBytes::from_slice(&chunk[..n]);
    stream::open_chunk(
        &payload,
        index,
        index + 1 == count,
        out.expose_secret_mut(),
        &chunk[n..],
    )
    .inspect_err(|_| out.clear())?;
    Ok(out)
}

/// Rewraps an envelope: every recipient whose key is in `keyring` is
/// wrapped again under that key's primary version; other recipients are
/// kept. Returns the new envelope; every body byte is unchanged.
///
/// # Errors
/// As [`decrypt`] for opening the header (the body is not read).
pub fn rewrap<R: TryCryptoRng + ?Sized>(
    keyring: &Keyring,
    envelope: &[u8],
    context: &EncryptionContext,
    rng: &mut R,
) -> Result<Vec<u8>> {
    let (mut out, header_len) = rewrap_header(keyring, envelope, context, rng)?;
    out.extend_from_slice(&envelope[header_len..]);
    Ok(out)
}

/// Adds a recipient (a new wrapped copy of the data key). The body is
/// unchanged.
///
/// # Errors
/// As [`decrypt`] for opening; [`Error::InvalidArgument`] if the key is
/// already a recipient or there would be more than [`MAX_RECIPIENTS`].
pub fn add_recipient<R: TryCryptoRng + ?Sized>(
    identity: Identity<'_>,
    envelope: &[u8],
    context: &EncryptionContext,
    recipient: Recipient<'_>,
    rng: &mut R,
) -> Result<Vec<u8>> {
    edit(identity, envelope, context, rng, |header, dk, rng| {
        if header.recipients.len() >= MAX_RECIPIENTS {
            return Err(Error::InvalidArgument {
                reason: "an envelope has at most 16 recipients",
            });
        }
        let entry = wrap(&recipient, dk, &header.fixed, rng)?;
        check_new_recipient(&header.recipients, &entry)?;
        header.recipients.push(entry);
        Ok(())
    })
}

/// Removes the recipient for `key_id` (`None`: every standalone recipient).
/// The body is unchanged.
///
/// # Errors
/// As [`decrypt`] for opening; [`Error::InvalidArgument`] if no recipient
/// matches or none would remain.
pub fn remove_recipient<R: TryCryptoRng + ?Sized>(
    identity: Identity<'_>,
    envelope: &[u8],
    context: &EncryptionContext,
    key_id: Option<KeyId>,
    rng: &mut R,
) -> Result<Vec<u8>> {
    edit(identity, envelope, context, rng, |header, _, _| {
        let before = header.recipients.len();
        header
            .recipients
            .retain(|r| r.key.map(|(id, _)| id) != key_id);
        if header.recipients.len() == before {
            return Err(Error::InvalidArgument {
                reason: "no such recipient",
            });
        }
        if header.recipients.is_empty() {
            return Err(Error::InvalidArgument {
                reason: "an envelope needs at least one recipient",
            });
        }
        Ok(())
    })
}

/// Opens the header of `envelope`, lets `change` edit its recipients, then
/// writes a new commitment. Returns new header followed by the old body.
fn edit<R: TryCryptoRng + ?Sized>(
    identity: Identity<'_>,
    envelope: &[u8],
    context: &EncryptionContext,
    rng: &mut R,
    change: impl FnOnce(&mut Header, &KeyMaterial, &mut R) -> Result<()>,
) -> Result<Vec<u8>> {
    let (mut out, header_len) = edit_header(identity, envelope, context, rng, change)?;
    out.extend_from_slice(&envelope[header_len..]);
    Ok(out)
}

/// As [`edit`] on the header alone: `prefix` holds at least the header;
/// returns the new header and the old header's length (the body starts
/// there, and is not needed).
fn edit_header<R: TryCryptoRng + ?Sized>(
    identity: Identity<'_>,
    prefix: &[u8],
    context: &EncryptionContext,
    rng: &mut R,
    change: impl FnOnce(&mut Header, &KeyMaterial, &mut R) -> Result<()>,
) -> Result<(Vec<u8>, usize)> {
    let mut opened_by = None;
    let result = (|| {
        let (mut header, header_len) = header::parse(prefix)?;
        let (dk, by) = open_data_key(&identity, &header, context)?;
        opened_by = by;
        change(&mut header, &dk, rng)?;
        header.commitment = commitment(&Prk::extract(&header.salt, dk.expose_secret()), &header);
        Ok((header.to_bytes(), header_len))
    })();
    audit_opener(&identity, AuditAction::Rewrap, prefix, opened_by, result)
}

/// Rewraps the header at the start of `prefix` (see [`rewrap`]) without
/// the body: for rewriting the header of a large file. Returns the new
/// header and the length of the old one; the body bytes that follow the
/// old header follow the new one unchanged.
///
/// # Errors
/// As [`rewrap`].
pub fn rewrap_header<R: TryCryptoRng + ?Sized>(
    keyring: &Keyring,
    prefix: &[u8],
    context: &EncryptionContext,
    rng: &mut R,
) -> Result<(Vec<u8>, usize)> {
    edit_header(
        Identity::Keyring(keyring),
        prefix,
        context,
        rng,
        |header, dk, rng| rewrap_recipients(keyring, header, dk, rng),
    )
}

/// Replaces every recipient whose key is in `keyring` with a wrap under
/// that key's primary version.
fn rewrap_recipients<R: TryCryptoRng + ?Sized>(
    keyring: &Keyring,
    header: &mut Header,
    dk: &KeyMaterial,
    rng: &mut R,
) -> Result<()> {
    for i in 0..header.recipients.len() {
        let Some((id, _)) = header.recipients[i].key else {
            continue;
        };
        let Ok(name) = keyring.key_name(id) else {
            continue;
        };
        let recipient = Recipient::Key { keyring, name };
        header.recipients[i] = wrap(&recipient, dk, &header.fixed, rng)?;
    }
    Ok(())
}

/// A new header for `recipients` and the payload key for its body.
fn new_header<R: TryCryptoRng + ?Sized>(
    recipients: &[Recipient<'_>],
    context: &EncryptionContext,
    chunk_size: u32,
    rng: &mut R,
) -> Result<(Header, KeyMaterial)> {
    check_shape(chunk_size, recipients.len())?;
    let dk = KeyMaterial::generate(rng)?;
    let mut salt = [0u8; SALT_LEN];
    random::fill(rng, &mut salt)?;
    let fixed = Header::fixed_part(chunk_size, &salt, context);
    let mut entries: Vec<RecipientEntry> = Vec::with_capacity(recipients.len());
    for r in recipients {
        let entry = wrap(r, &dk, &fixed, rng).inspect_err(|e| {
            if let Recipient::Key { keyring, name } = r {
                let key = keyring.key_ref(name, None);
                keyring.emit(AuditAction::Encrypt, AuditObject::Envelope, key, Some(e));
            }
        })?;
        check_new_recipient(&entries, &entry)?;
        entries.push(entry);
    }
    let mut header = Header {
        fixed,
        chunk_size,
        salt,
        context: context.clone(),
        recipients: entries,
        commitment: [0; COMMITMENT_LEN],
    };
    let prk = Prk::extract(&salt, dk.expose_secret());
    header.commitment = commitment(&prk, &header);
    let payload = prk.expand_key(&[PAYLOAD_LABEL, &header.fixed]);
    for (r, entry) in recipients.iter().zip(&header.recipients) {
        if let Recipient::Key { keyring, .. } = r {
            let key = entry.key.map(|(id, v)| (id, Some(v)));
            keyring.emit(AuditAction::Encrypt, AuditObject::Envelope, key, None);
        }
    }
    Ok((header, payload))
}

fn check_new_recipient(existing: &[RecipientEntry], entry: &RecipientEntry) -> Result<()> {
    if let Some((id, _)) = entry.key
        && existing
            .iter()
            .any(|r| r.key.is_some_and(|(other, _)| other == id))
    {
        return Err(Error::InvalidArgument {
            reason: "the same key is a recipient twice",
        });
    }
    Ok(())
}

/// The commitment of FORMAT.md 7.4 over everything before it.
fn commitment(prk: &Prk, header: &Header) -> [u8; COMMITMENT_LEN] {
    let mut out = [0u8; COMMITMENT_LEN];
    // 32 bytes is within HKDF's limit.
    let _ = prk.expand(&[COMMIT_LABEL, &header.committed_part()], &mut out);
    out
}

/// Associated data of one wrap (FORMAT.md 7.2).
fn wrap_aad(fixed: &[u8], id_version: &[u8; 8]) -> Vec<u8> {
    aead::associated_data(WRAP_LABEL, &[fixed, id_version], None)
}

/// Wraps the data key for one recipient.
fn wrap<R: TryCryptoRng + ?Sized>(
    recipient: &Recipient<'_>,
    dk: &KeyMaterial,
    fixed: &[u8],
    rng: &mut R,
) -> Result<RecipientEntry> {
    let (key, material) = match recipient {
        Recipient::Key { keyring, name } => {
            let (id, version, material) = keyring.primary(name)?;
            (Some((id, version)), material)
        }
        Recipient::Standalone(material) => (None, *material),
    };
    let mut entry = RecipientEntry {
        key,
        nonce: [0; 24],
        wrapped: [0; KEY_LEN + TAG_LEN],
    };
    random::fill(rng, &mut entry.nonce)?;
    let aad = wrap_aad(fixed, &entry.id_version_bytes());
    let (body, tag) = entry.wrapped.split_at_mut(KEY_LEN);
    body.copy_from_slice(dk.expose_secret());
    let t = aead::encrypt_in_place(
        Algorithm::XChaCha20Poly1305,
        material,
        &entry.nonce,
        &aad,
        body,
    )
    .map_err(|_| Error::AuthenticationFailed)?;
    tag.copy_from_slice(&t);
    Ok(entry)
}

/// Unwraps one recipient's copy of the data key.
fn unwrap(entry: &RecipientEntry, material: &KeyMaterial, fixed: &[u8]) -> Result<KeyMaterial> {
    let aad = wrap_aad(fixed, &entry.id_version_bytes());
    let (body, tag) = entry.wrapped.split_at(KEY_LEN);
    KeyMaterial::try_from_fn(|out| {
        out.copy_from_slice(body);
        aead::decrypt_in_place(
            Algorithm::XChaCha20Poly1305,
            material,
            &entry.nonce,
            &aad,
            out,
            tag,
        )
        .map_err(|_| Error::AuthenticationFailed)
    })
}

/// The data key of a header: context check, then recipient unwrap, then
/// the commitment, in constant time (FORMAT.md 7.6 steps 2-4).
fn open_data_key(
    identity: &Identity<'_>,
    header: &Header,
    context: &EncryptionContext,
) -> Result<(KeyMaterial, Option<(KeyId, u32)>)> {
    if header.context != *context {
        return Err(Error::AuthenticationFailed);
    }
    let (dk, opened_by) = unwrap_any(identity, header)?;
    let prk = Prk::extract(&header.salt, dk.expose_secret());
    let expected = commitment(&prk, header);
    crate::ct::verdict(
        expected.ct_eq(&header.commitment),
        Error::AuthenticationFailed,
    )?;
    Ok((dk, opened_by))
}

/// Opens a header: the payload key for its body.
#[cfg(test)]
fn open_header(
    identity: &Identity<'_>,
    header: &Header,
    context: &EncryptionContext,
) -> Result<KeyMaterial> {
    open_header_by(identity, header, context).map(|(payload, _)| payload)
}

/// As [`open_header`], also naming the recipient key that opened it.
fn open_header_by(
    identity: &Identity<'_>,
    header: &Header,
    context: &EncryptionContext,
) -> Result<(KeyMaterial, Option<(KeyId, u32)>)> {
    let (dk, opened_by) = open_data_key(identity, header, context)?;
    let prk = Prk::extract(&header.salt, dk.expose_secret());
    Ok((prk.expand_key(&[PAYLOAD_LABEL, &header.fixed]), opened_by))
}

/// Emits an audit event on the identity's keyring (standalone keys have no
/// keyring and no audit trail). Names the key that opened the header, or
/// on failure the first keyring recipient it could have used.
fn audit_opener<T>(
    identity: &Identity<'_>,
    action: AuditAction,
    envelope: &[u8],
    opened_by: Option<(KeyId, u32)>,
    result: Result<T>,
) -> Result<T> {
    let Identity::Keyring(keyring) = identity else {
        return result;
    };
    let key = opened_by.or_else(|| {
        let (header, _) = header::parse(envelope).ok()?;
        header
            .recipients
            .iter()
            .find_map(|r| r.key.filter(|(id, _)| keyring.key_name(*id).is_ok()))
    });
    keyring.audited(
        action,
        AuditObject::Envelope,
        key.map(|(id, v)| (id, Some(v))),
        result,
    )
}

/// Tries the recipients the identity can look up, in header order. Keys are
/// found by id; the first success wins; otherwise the first error.
fn unwrap_any(
    identity: &Identity<'_>,
    header: &Header,
) -> Result<(KeyMaterial, Option<(KeyId, u32)>)> {
    let mut first_error: Option<Error> = None;
    for entry in &header.recipients {
        let attempt = match (identity, entry.key) {
            (Identity::Keyring(keyring), Some((id, version))) => {
                if keyring.key_name(id).is_err() {
                    continue;
                }
                keyring
                    .decryption_material(id, version)
                    .and_then(|m| unwrap(entry, m, &header.fixed))
            }
            (Identity::Standalone(material), None) => unwrap(entry, material, &header.fixed),
            _ => continue,
        };
        match attempt {
            Ok(dk) => return Ok((dk, entry.key)),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error.unwrap_or_else(|| Error::UnknownKeyId {
        key_id: header
            .recipients
            .first()
            .and_then(|r| r.key.map(|(id, _)| id))
            .unwrap_or(KeyId::from_u32(0)),
    }))
}

#[cfg(test)]
mod tests;
