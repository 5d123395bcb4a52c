//! Envelope header: layout, strict parsing, serialisation (FORMAT.md 7.1-7.3).

use alloc::vec::Vec;

use crate::context::{EncryptionContext, MAX_CONTEXT_ENCODED_LEN};
use crate::error::{Error, Result};
use crate::keyring::KeyId;

/// The envelope magic, "SREN".
pub const ENVELOPE_MAGIC: [u8; 4] = *b"SREN";
/// Format byte of envelope version 1.
pub const ENVELOPE_FORMAT_V1: u8 = 0x01;
/// Default plaintext bytes per chunk (64 KiB).
pub const DEFAULT_CHUNK_SIZE: u32 = 65_536;
/// Smallest allowed chunk size.
pub const MIN_CHUNK_SIZE: u32 = 64;
/// Largest allowed chunk size (16 MiB).
pub const MAX_CHUNK_SIZE: u32 = 1 << 24;
/// Most recipients (wrapped copies of the data key) one envelope may carry.
pub const MAX_RECIPIENTS: usize = 16;
/// Length of one recipient entry.
pub(crate) const RECIPIENT_LEN: usize = 4 + 4 + 24 + 32 + 16;
/// Length of the key commitment.
pub(crate) const COMMITMENT_LEN: usize = 32;
/// Length of the per-envelope salt.
pub(crate) const SALT_LEN: usize = 32;
/// Offset of the context length field.
const CONTEXT_LEN_OFFSET: usize = 41;
/// Largest possible header.
pub const MAX_HEADER_LEN: usize = CONTEXT_LEN_OFFSET
    + 2
    + MAX_CONTEXT_ENCODED_LEN
    + 1
    + MAX_RECIPIENTS * RECIPIENT_LEN
    + COMMITMENT_LEN;

/// The length of a header with a context of `context_len` encoded bytes
/// and `recipients` recipients (FORMAT.md 7.1).
pub(crate) const fn header_len_for(context_len: usize, recipients: usize) -> usize {
    CONTEXT_LEN_OFFSET + 2 + context_len + 1 + recipients * RECIPIENT_LEN + COMMITMENT_LEN
}

/// One wrapped copy of the data key.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct RecipientEntry {
    /// `None` for a standalone key (id 0, version 0 on the wire).
    pub(crate) key: Option<(KeyId, u32)>,
    pub(crate) nonce: [u8; 24],
    /// Wrapped data key (32 bytes) followed by the tag (16 bytes).
    pub(crate) wrapped: [u8; 48],
}

impl RecipientEntry {
    pub(crate) fn id_version_bytes(&self) -> [u8; 8] {
        let (id, v) = self.key.map_or((0, 0), |(id, v)| (id.as_u32(), v));
        let mut out = [0u8; 8];
        out[..4].copy_from_slice(&id.to_be_bytes());
        out[4..].copy_from_slice(&v.to_be_bytes());
        out
    }
}

/// A parsed header. `fixed` is bytes 0 .. 43 + L, the part the payload key
/// and every wrap are bound to.
#[derive(Clone)]
pub(crate) struct Header {
    pub(crate) fixed: Vec<u8>,
    pub(crate) chunk_size: u32,
    pub(crate) salt: [u8; SALT_LEN],
    pub(crate) context: EncryptionContext,
    pub(crate) recipients: Vec<RecipientEntry>,
    pub(crate) commitment: [u8; COMMITMENT_LEN],
}

impl Header {
    /// The fixed part for a new envelope.
    pub(crate) fn fixed_part(
        chunk_size: u32,
        salt: &[u8; SALT_LEN],
        context: &EncryptionContext,
    ) -> Vec<u8> {
        let mut fixed = Vec::with_capacity(CONTEXT_LEN_OFFSET + 2 + context.encoded_len());
        fixed.extend_from_slice(&ENVELOPE_MAGIC);
        fixed.push(ENVELOPE_FORMAT_V1);
        fixed.extend_from_slice(&chunk_size.to_be_bytes());
        fixed.extend_from_slice(salt);
        let len = u16::try_from(context.encoded_len()).unwrap_or(u16::MAX);
        fixed.extend_from_slice(&len.to_be_bytes());
        context.encode_into(&mut fixed);
        fixed
    }

    /// Header bytes up to (not including) the commitment: what the
    /// commitment covers.
    pub(crate) fn committed_part(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len());
        out.extend_from_slice(&self.fixed);
        // At most MAX_RECIPIENTS, checked when built or parsed.
        out.push(u8::try_from(self.recipients.len()).unwrap_or(u8::MAX));
        for r in &self.recipients {
            out.extend_from_slice(&r.id_version_bytes());
            out.extend_from_slice(&r.nonce);
            out.extend_from_slice(&r.wrapped);
        }
        out
    }

    /// The serialised header.
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.committed_part();
        out.extend_from_slice(&self.commitment);
        out
    }

    /// Serialised length.
    pub(crate) fn len(&self) -> usize {
        header_len_for(
            self.fixed.len() - CONTEXT_LEN_OFFSET - 2,
            self.recipients.len(),
        )
    }
}

fn malformed(reason: &'static str) -> Error {
    Error::Malformed { reason }
}

fn be_u32(bytes: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    if let Some(s) = bytes.get(at..at + 4) {
        b.copy_from_slice(s);
    }
    u32::from_be_bytes(b)
}

/// How long the header at the start of `bytes` is, if `bytes` holds enough
/// to tell: `Ok(None)` means "need more bytes". Checks every rule that the
/// bytes seen so far allow (FORMAT.md 7.3, steps 1-7), so a stream can be
/// refused as early as possible.
pub(crate) fn header_len(bytes: &[u8]) -> Result<Option<usize>> {
    let prefix = bytes.len().min(4);
    if bytes[..prefix] != ENVELOPE_MAGIC[..prefix] {
        return Err(malformed("not a strongroom envelope (bad magic)"));
    }
    let Some(&version) = bytes.get(4) else {
        return Ok(None);
    };
    if version != ENVELOPE_FORMAT_V1 {
        return Err(Error::UnsupportedFormat { version });
    }
    if bytes.len() < 9 {
        return Ok(None);
    }
    let chunk_size = be_u32(bytes, 5);
    if !(MIN_CHUNK_SIZE..=MAX_CHUNK_SIZE).contains(&chunk_size) {
        return Err(malformed("chunk size out of bounds"));
    }
    let Some(len_bytes) = bytes.get(CONTEXT_LEN_OFFSET..CONTEXT_LEN_OFFSET + 2) else {
        return Ok(None);
    };
    let context_len = usize::from(u16::from_be_bytes([len_bytes[0], len_bytes[1]]));
    if !(2..=MAX_CONTEXT_ENCODED_LEN).contains(&context_len) {
        return Err(malformed("context length out of bounds"));
    }
    let count_at = CONTEXT_LEN_OFFSET + 2 + context_len;
    let Some(&count) = bytes.get(count_at) else {
        return Ok(None);
    };
    let count = usize::from(count);
    if count == 0 || count > MAX_RECIPIENTS {
        return Err(malformed("recipient count out of bounds"));
    }
    let total = count_at + 1 + count * RECIPIENT_LEN + COMMITMENT_LEN;
    Ok((bytes.len() >= total).then_some(total))
}

/// Parses the header at the start of `bytes` strictly (FORMAT.md 7.3).
/// Returns the header and its length; the rest of `bytes` is the body.
pub(crate) fn parse(bytes: &[u8]) -> Result<(Header, usize)> {
    let Some(total) = header_len(bytes)? else {
        return Err(malformed("envelope header is truncated"));
    };
    let context_len = usize::from(u16::from_be_bytes([bytes[41], bytes[42]]));
    let fixed_len = CONTEXT_LEN_OFFSET + 2 + context_len;
    let context =
        EncryptionContext::from_canonical_bytes(&bytes[CONTEXT_LEN_OFFSET + 2..fixed_len])
            .map_err(|_| malformed("envelope context is not a canonical encoding"))?;
    let mut salt = [0u8; SALT_LEN];
    salt.copy_from_slice(&bytes[9..41]);
    let count = usize::from(bytes[fixed_len]);
    let mut recipients: Vec<RecipientEntry> = Vec::with_capacity(count);
    let mut at = fixed_len + 1;
    for _ in 0..count {
        let entry = &bytes[at..at + RECIPIENT_LEN];
        let (id, version) = (be_u32(entry, 0), be_u32(entry, 4));
        let key = match (id, version) {
            (0, 0) => None,
            (0, _) | (_, 0) => {
                return Err(malformed("recipient names key id 0 or version 0 alone"));
            }
            (id, v) => Some((KeyId::from_u32(id), v)),
        };
        if let Some((id, _)) = key
            && recipients
                .iter()
                .any(|r| r.key.is_some_and(|(other, _)| other == id))
        {
            return Err(malformed("two recipients name the same key id"));
        }
        let mut nonce = [0u8; 24];
        nonce.copy_from_slice(&entry[8..32]);
        let mut wrapped = [0u8; 48];
        wrapped.copy_from_slice(&entry[32..80]);
        recipients.push(RecipientEntry {
            key,
            nonce,
            wrapped,
        });
        at += RECIPIENT_LEN;
    }
    let mut commitment = [0u8; COMMITMENT_LEN];
    commitment.copy_from_slice(&bytes[at..at + COMMITMENT_LEN]);
    let header = Header {
        fixed: bytes[..fixed_len].to_vec(),
        chunk_size: be_u32(bytes, 5),
        salt,
        context,
        recipients,
        commitment,
    };
    Ok((header, total))
}

/// The header `parse` accepted at the start of `bytes`, serialised again
/// by the encoder's own `to_bytes` (fuzz targets only).
#[cfg(fuzzing)]
pub(crate) fn reencode(bytes: &[u8]) -> Option<Vec<u8>> {
    let (header, total) = parse(bytes).ok()?;
    let out = header.to_bytes();
    debug_assert_eq!(out.len(), header.len());
    debug_assert_eq!(total, header.len());
    Some(out)
}
