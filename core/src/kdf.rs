//! The one KDF module: HKDF-SHA256 (RFC 5869), with every derivation in the
//! crate going through here under a named label constant.
//!
//! Labels are ASCII, start with `strongroom/`, and none is a prefix of
//! another (FORMAT.md 1), so no two derivations can collide.

use hkdf::Hkdf;
use sha2::Sha256;

use crate::secret::{KEY_LEN, KeyMaterial};

/// Largest HKDF-SHA256 output (255 blocks of 32 bytes).
#[cfg(test)]
pub(crate) const HKDF_MAX_OUTPUT: usize = 255 * 32;

/// The output length asked for exceeds [`HKDF_MAX_OUTPUT`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OutputTooLong;

/// An extracted pseudorandom key, ready for several expansions. The HMAC
/// state inside is wiped on drop (hkdf's `zeroize` feature).
pub(crate) struct Prk(Hkdf<Sha256>);

impl Prk {
    /// HKDF-Extract. An empty salt is the RFC's "HashLen zero bytes".
    pub(crate) fn extract(salt: &[u8], ikm: &[u8]) -> Self {
        Self(Hkdf::<Sha256>::new(Some(salt), ikm))
    }

    /// HKDF-Expand with `info` the concatenation of `info_parts`.
    pub(crate) fn expand(&self, info_parts: &[&[u8]], out: &mut [u8]) -> Result<(), OutputTooLong> {
        self.0
            .expand_multi_info(info_parts, out)
            .map_err(|_| OutputTooLong)
    }

    /// HKDF-Expand to a 32-byte key, built in place on the heap.
    pub(crate) fn expand_key(&self, info_parts: &[&[u8]]) -> KeyMaterial {
        KeyMaterial::from_fn(|out: &mut [u8; KEY_LEN]| {
            // 32 bytes is always within HKDF-SHA256's output limit.
            let _ = self.expand(info_parts, out);
        })
    }
}

#[cfg(test)]
mod tests;
