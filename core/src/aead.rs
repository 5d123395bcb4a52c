//! The one AEAD module: every use of an AEAD primitive in the crate goes
//! through here.
//!
//! Formats and public APIs see only these functions, so the backend can
//! change without touching a byte layout or a signature. The interface is
//! detached and in place: the caller owns the buffer, the tag travels
//! separately, lengths are checked here before any primitive is called.
//!
//! Two backends compute the same bytes:
//! - **fast** (feature `fast-aead`, on with `std`, on x86_64 and aarch64
//!   Unix): ring's ChaCha20-Poly1305, BoringSSL's assembly chosen at run
//!   time for the CPU (AVX2 here), with HChaCha20 from the `chacha20`
//!   crate for XChaCha20's subkey. ring's key schedule does not wipe
//!   itself, so it lives in a [`crate::secure_memory::Wiped`] for the one
//!   call, and the subkey in a wiping buffer;
//! - **portable** (every other build, `no_std` included): RustCrypto's
//!   `chacha20poly1305`, whose cipher objects wipe their key copy on drop.
//!
//! `tests::backends_agree` runs both on every Wycheproof vector and on
//! random inputs. A failed open leaves no plaintext in the buffer: the
//! portable backend verifies before it decrypts (the buffer keeps the
//! ciphertext), the fast one decrypts and authenticates in one pass and
//! then zeroes the buffer (ring does, and this module does again).

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

/// Associated data up to this length is built on the stack by
/// [`with_associated_data`]: a record's with a context of a few pairs
/// (one heap allocation and free less per seal and per open).
const STACK_AAD_LEN: usize = 256;

/// Runs `f` over the [`associated_data`] of the same parts, built on the
/// stack when it fits in [`STACK_AAD_LEN`] bytes (it holds nothing secret).
pub(crate) fn with_associated_data<T>(
    label: &[u8],
    parts: &[&[u8]],
    context: Option<&EncryptionContext>,
    f: impl FnOnce(&[u8]) -> T,
) -> T {
    let len = label.len()
        + parts.iter().map(|p| p.len()).sum::<usize>()
        + context.map_or(0, |c| c.encoded_len());
    if len > STACK_AAD_LEN {
        return f(&associated_data(label, parts, context));
    }
    let mut buf = [0u8; STACK_AAD_LEN];
    let mut at = 0;
    let mut put = |bytes: &[u8]| {
        // Within `len`, so always within `buf`.
        if let Some(dst) = buf.get_mut(at..at + bytes.len()) {
            dst.copy_from_slice(bytes);
        }
        at += bytes.len();
    };
    put(label);
    for part in parts {
        put(part);
    }
    if let Some(context) = context {
        context.encode_with(&mut put);
    }
    f(buf.get(..at).unwrap_or_default())
}

/// Whether the fast backend is built in.
#[cfg(test)]
#[cfg(all(
    feature = "fast-aead",
    unix,
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
pub(crate) const FAST: bool = true;
/// Whether the fast backend is built in.
#[cfg(test)]
#[cfg(not(all(
    feature = "fast-aead",
    unix,
    any(target_arch = "x86_64", target_arch = "aarch64")
)))]
pub(crate) const FAST: bool = false;

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
    #[cfg(all(
        feature = "fast-aead",
        unix,
        any(target_arch = "x86_64", target_arch = "aarch64")
    ))]
    return fast::seal(alg, key, nonce, aad, buf);
    #[cfg(not(all(
        feature = "fast-aead",
        unix,
        any(target_arch = "x86_64", target_arch = "aarch64")
    )))]
    return portable::seal(alg, key, nonce, aad, buf);
}

/// Verifies `tag` and decrypts `buf` in place; on failure `buf` holds no
/// plaintext.
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
    let tag: &[u8; TAG_LEN] = tag.try_into().map_err(|_| AeadError::TagLength)?;
    #[cfg(all(
        feature = "fast-aead",
        unix,
        any(target_arch = "x86_64", target_arch = "aarch64")
    ))]
    return fast::open(alg, key, nonce, aad, buf, tag);
    #[cfg(not(all(
        feature = "fast-aead",
        unix,
        any(target_arch = "x86_64", target_arch = "aarch64")
    )))]
    return portable::open(alg, key, nonce, aad, buf, tag);
}

/// RustCrypto's `chacha20poly1305`: the portable backend, and the fast
/// one's reference in the tests. Nonce lengths are checked by the caller.
#[cfg_attr(
    all(
        not(test),
        feature = "fast-aead",
        unix,
        any(target_arch = "x86_64", target_arch = "aarch64")
    ),
    allow(dead_code)
)]
mod portable {
    use chacha20poly1305::aead::{AeadInOut, KeyInit};
    use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce, Tag, XChaCha20Poly1305, XNonce};

    use super::{AeadError, Algorithm, TAG_LEN};
    use crate::secret::KeyMaterial;

    fn key_ref(key: &KeyMaterial) -> &Key {
        key.expose_secret().into()
    }

    pub(super) fn seal(
        alg: Algorithm,
        key: &KeyMaterial,
        nonce: &[u8],
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<[u8; TAG_LEN], AeadError> {
        // The cipher objects below hold a copy of the key and wipe it on
        // drop (chacha20poly1305's `zeroize` feature).
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

    pub(super) fn open(
        alg: Algorithm,
        key: &KeyMaterial,
        nonce: &[u8],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), AeadError> {
        let tag = Tag::from(*tag);
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
}

/// ring's ChaCha20-Poly1305, with XChaCha20 built on it as the draft says:
/// subkey = HChaCha20(key, nonce[0..16]), inner nonce = 4 zero bytes ||
/// nonce[16..24]. Nonce lengths are checked by the caller.
#[cfg(all(
    feature = "fast-aead",
    unix,
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
mod fast {
    use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, Tag, UnboundKey};
    use zeroize::{Zeroize, Zeroizing};

    use super::{AeadError, Algorithm, TAG_LEN};
    use crate::secret::KeyMaterial;
    use crate::secure_memory::Wiped;

    /// The ring key for `alg` and `nonce`, and ring's 12-byte nonce.
    fn key_and_nonce(
        alg: Algorithm,
        key: &KeyMaterial,
        nonce: &[u8],
    ) -> Result<(Wiped<LessSafeKey>, Nonce), AeadError> {
        let (unbound, inner) = match alg {
            Algorithm::ChaCha20Poly1305 => {
                let inner: [u8; 12] = nonce.try_into().map_err(|_| AeadError::NonceLength)?;
                let unbound = UnboundKey::new(&CHACHA20_POLY1305, key.expose_secret());
                (unbound, inner)
            }
            Algorithm::XChaCha20Poly1305 => {
                let (head, tail) = nonce.split_at(16);
                let mut derived = chacha20::hchacha::<chacha20::R20>(
                    key.expose_secret().into(),
                    head.try_into().map_err(|_| AeadError::NonceLength)?,
                );
                let mut subkey = Zeroizing::new([0u8; 32]);
                subkey.copy_from_slice(&derived);
                derived.as_mut_slice().zeroize();
                let mut inner = [0u8; 12];
                inner[4..].copy_from_slice(tail);
                (UnboundKey::new(&CHACHA20_POLY1305, &subkey[..]), inner)
            }
        };
        // A 32-byte key always makes a ChaCha20-Poly1305 key.
        let unbound = unbound.map_err(|_| AeadError::Authentication)?;
        Ok((
            Wiped::new(LessSafeKey::new(unbound)),
            Nonce::assume_unique_for_key(inner),
        ))
    }

    pub(super) fn seal(
        alg: Algorithm,
        key: &KeyMaterial,
        nonce: &[u8],
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<[u8; TAG_LEN], AeadError> {
        let (key, nonce) = key_and_nonce(alg, key, nonce)?;
        let tag = key
            .get()
            .seal_in_place_separate_tag(nonce, Aad::from(aad), buf)
            .map_err(|_| AeadError::Authentication)?;
        let mut out = [0u8; TAG_LEN];
        out.copy_from_slice(tag.as_ref());
        Ok(out)
    }

    pub(super) fn open(
        alg: Algorithm,
        key: &KeyMaterial,
        nonce: &[u8],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), AeadError> {
        let (key, nonce) = key_and_nonce(alg, key, nonce)?;
        match key
            .get()
            .open_in_place_separate_tag(nonce, Aad::from(aad), Tag::from(*tag), buf, 0..)
        {
            Ok(_) => Ok(()),
            Err(_) => {
                // ring has zeroed it already; no plaintext stays either way.
                buf.zeroize();
                Err(AeadError::Authentication)
            }
        }
    }
}

#[cfg(test)]
mod tests;
