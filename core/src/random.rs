//! Randomness from the caller's CSPRNG, with failure made loud.
//!
//! The core never picks an RNG itself: callers pass any
//! [`rand_core::TryCryptoRng`] (with `std`, [`crate::SysRng`] is the OS
//! generator). An RNG error becomes [`Error::RandomnessUnavailable`] and
//! nothing is encrypted. An all-zero block is treated the same way: for the
//! sizes used here (at least 4 bytes of a key id, 24 of a nonce, 32 of a key)
//! a working generator produces one with negligible probability, while a
//! stubbed or broken one produces it all the time.

use rand_core::TryCryptoRng;
use subtle::ConstantTimeEq;

use crate::error::{Error, Result};

/// Fills `buf` from `rng`; fails if the RNG fails or the block is all zeros.
pub(crate) fn fill<R: TryCryptoRng + ?Sized>(rng: &mut R, buf: &mut [u8]) -> Result<()> {
    if rng.try_fill_bytes(buf).is_err() {
        return Err(Error::RandomnessUnavailable);
    }
    let any_set = !buf.iter().fold(0u8, |acc, b| acc | b).ct_eq(&0u8);
    crate::ct::verdict(any_set, Error::RandomnessUnavailable)
}

/// A random non-zero `u32` (for key ids).
pub(crate) fn nonzero_u32<R: TryCryptoRng + ?Sized>(rng: &mut R) -> Result<u32> {
    let mut bytes = [0u8; 4];
    fill(rng, &mut bytes)?;
    Ok(u32::from_be_bytes(bytes))
}
