//! The one AEAD module: every use of an AEAD primitive in the crate goes
//! through here.
//!
//! Formats and public APIs see only these functions, so a faster backend for
//! std targets can replace the RustCrypto implementation inside this file
//! without touching a byte layout or a signature. The interface is detached
//! and in place: the caller owns the buffer, the tag travels separately,
//! lengths are checked here before any primitive is called.
//!
//! Decryption verifies the tag before it writes a single plaintext byte
//! (the RustCrypto ChaCha20-Poly1305 core authenticates, then applies the
//! keystream), so a failed open leaves the buffer holding the ciphertext.

use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce, Tag, XChaCha20Poly1305, XNonce};

use alloc::vec::Vec;

use crate::context::EncryptionContext;
use crate::secret::KeyMaterial;

/// Poly1305 tag length in bytes.
pub(crate) const TAG_LEN: usize = 16;
/// XChaCha20-Poly1305 nonce length in bytes.
pub(crate) const XNONCE_LEN: usize = 24;

/// The AEAD constructions the crate uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Algorithm {
    /// RFC 8439 ChaCha20-Poly1305, 96-bit nonce. Used by no format today;
    /// kept so the Wycheproof and RFC 8439 vectors exercise this module.
    #[cfg_attr(not(test), allow(dead_code))]
    ChaCha20Poly1305,
    /// XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha), 192-bit nonce.
    XChaCha20Poly1305,
}

impl Algorithm {
    /// Required nonce length in bytes.
    pub(crate) const fn nonce_len(self) -> usize {
        match self {
            Self::ChaCha20Poly1305 => 12,
            Self::XChaCha20Poly1305 => XNONCE_LEN,
        }
    }
}

/// Why an AEAD call failed. Callers map `Authentication` to the opaque
/// [`crate::Error::AuthenticationFailed`]; the length variants are
/// programming or parsing errors caught before the primitive runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AeadError {
    /// The nonce is not the algorithm's length.
    NonceLength,
    /// The tag is not [`TAG_LEN`] bytes.
    TagLength,
    /// The tag did not verify (or the message exceeded the primitive's limit).
    Authentication,
}

/// Associated data as every format builds it: a domain-separation label,
/// then the given byte strings, then (if any) the canonical encryption
/// context (FORMAT.md 2.2). One builder so that no format forgets a part.
pub(crate) fn associated_data(
    label: &[u8],
    parts: &[&[u8]],
    context: Option<&EncryptionContext>,
) -> Vec<u8> {
    let len = label.len()
        + parts.iter().map(|p| p.len()).sum::<usize>()
        + context.map_or(0, |c| c.encoded_len());
    let mut aad = Vec::with_capacity(len);
    aad.extend_from_slice(label);
    for part in parts {
        aad.extend_from_slice(part);
    }
    if let Some(context) = context {
        context.encode_into(&mut aad);
    }
    aad
}

fn key_ref(key: &KeyMaterial) -> &Key {
    key.expose_secret().into()
}

/// Encrypts `buf` in place and returns the tag.
pub(crate) fn encrypt_in_place(
    alg: Algorithm,
    key: &KeyMaterial,
    nonce: &[u8],
    aad: &[u8],
    buf: &mut [u8],
) -> Result<[u8; TAG_LEN], AeadError> {
    if nonce.len() != alg.nonce_len() {
        return Err(AeadError::NonceLength);
    }
    // The cipher objects below hold a copy of the key and wipe it on drop
    // (chacha20poly1305's `zeroize` feature).
    let tag = match alg {
        Algorithm::ChaCha20Poly1305 => {
            let nonce = Nonce::try_from(nonce).map_err(|_| AeadError::NonceLength)?;
            ChaCha20Poly1305::new(key_ref(key)).encrypt_inout_detached(&nonce, aad, buf.into())
        }
        Algorithm::XChaCha20Poly1305 => {
            let nonce = XNonce::try_from(nonce).map_err(|_| AeadError::NonceLength)?;
            XChaCha20Poly1305::new(key_ref(key)).encrypt_inout_detached(&nonce, aad, buf.into())
        }
    }
    .map_err(|_| AeadError::Authentication)?;
    let mut out = [0u8; TAG_LEN];
    out.copy_from_slice(tag.as_slice());
    Ok(out)
}

/// Verifies `tag` and, only if it verifies, decrypts `buf` in place.
pub(crate) fn decrypt_in_place(
    alg: Algorithm,
    key: &KeyMaterial,
    nonce: &[u8],
    aad: &[u8],
    buf: &mut [u8],
    tag: &[u8],
) -> Result<(), AeadError> {
    if nonce.len() != alg.nonce_len() {
        return Err(AeadError::NonceLength);
    }
    let tag = Tag::try_from(tag).map_err(|_| AeadError::TagLength)?;
    match alg {
        Algorithm::ChaCha20Poly1305 => {
            let nonce = Nonce::try_from(nonce).map_err(|_| AeadError::NonceLength)?;
            ChaCha20Poly1305::new(key_ref(key)).decrypt_inout_detached(
                &nonce,
                aad,
                buf.into(),
                &tag,
            )
        }
        Algorithm::XChaCha20Poly1305 => {
            let nonce = XNonce::try_from(nonce).map_err(|_| AeadError::NonceLength)?;
            XChaCha20Poly1305::new(key_ref(key)).decrypt_inout_detached(
                &nonce,
                aad,
                buf.into(),
                &tag,
            )
        }
    }
    .map_err(|_| AeadError::Authentication)
}

#[cfg(test)]
mod tests;
