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

/// HMAC-SHA256 (RFC 2104) under `key` of the concatenation of `parts`. The
/// HMAC state is wiped on drop (hmac's `zeroize` feature) and the tag is
/// returned in a wiping buffer.
pub(crate) fn hmac_sha256(key: &[u8; KEY_LEN], parts: &[&[u8]]) -> zeroize::Zeroizing<[u8; 32]> {
    use hmac::{KeyInit, Mac};
    // RFC 2104 pads a key shorter than the 64-byte block with zeros, so the
    // padded block is the same key, and the infallible constructor takes it.
    let mut block = zeroize::Zeroizing::new([0u8; 64]);
    block[..KEY_LEN].copy_from_slice(key);
    let mut mac = <hmac::Hmac<Sha256> as KeyInit>::new(&(*block).into());
    for part in parts {
        mac.update(part);
    }
    let mut tag = mac.finalize().into_bytes();
    let mut out = zeroize::Zeroizing::new([0u8; 32]);
    out.copy_from_slice(&tag);
    zeroize::Zeroize::zeroize(tag.as_mut_slice());
    out
}

/// Argon2id (RFC 9106, version 0x13) cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Params {
    /// Memory in KiB.
    pub m_cost_kib: u32,
    /// Passes.
    pub t_cost: u32,
    /// Lanes.
    pub p_cost: u32,
}

impl Argon2Params {
    /// The default for new passphrase roots: RFC 9106 section 4's second
    /// recommended option (64 MiB, 3 passes, 4 lanes), for machines where
    /// 2 GiB per derivation is too much. About 0.2-0.4 s on one core here.
    pub const DEFAULT: Self = Self {
        m_cost_kib: 64 * 1024,
        t_cost: 3,
        p_cost: 4,
    };
    /// The most a file may ask for (checked before any work): 1 GiB.
    pub const MAX_M_COST_KIB: u32 = 1024 * 1024;
    /// The most passes a file may ask for.
    pub const MAX_T_COST: u32 = 16;
    /// The most lanes a file may ask for.
    pub const MAX_P_COST: u32 = 16;

    /// Whether the parameters are within the documented bounds (and
    /// Argon2's own: at least 8 KiB per lane, at least one pass).
    pub fn is_within_bounds(&self) -> bool {
        (1..=Self::MAX_P_COST).contains(&self.p_cost)
            && (1..=Self::MAX_T_COST).contains(&self.t_cost)
            && self.m_cost_kib >= 8 * self.p_cost
            && self.m_cost_kib <= Self::MAX_M_COST_KIB
    }
}

/// Argon2id of `password` and `salt` (with optional `secret` and associated
/// `data`) into `out`. The parameters must be within bounds; callers check.
pub(crate) fn argon2id(
    params: Argon2Params,
    password: &[u8],
    salt: &[u8],
    secret: &[u8],
    data: &[u8],
    out: &mut [u8],
) -> Result<(), OutputTooLong> {
    use argon2::{Algorithm, Argon2, AssociatedData, ParamsBuilder, Version};
    let mut builder = ParamsBuilder::new();
    builder
        .m_cost(params.m_cost_kib)
        .t_cost(params.t_cost)
        .p_cost(params.p_cost)
        .output_len(out.len());
    if !data.is_empty() {
        builder.data(AssociatedData::new(data).map_err(|_| OutputTooLong)?);
    }
    let built = builder.build().map_err(|_| OutputTooLong)?;
    let argon = if secret.is_empty() {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, built)
    } else {
        Argon2::new_with_secret(secret, Algorithm::Argon2id, Version::V0x13, built)
            .map_err(|_| OutputTooLong)?
    };
    // The working memory is ours, not the crate's: `hash_password_into`
    // frees its blocks unwiped, and the last blocks rebuild the output (the
    // key that protects a keyring file). These are wiped before release,
    // and with `std` on Unix locked in RAM and kept out of core dumps while
    // the KDF runs (best effort).
    let mut blocks =
        zeroize::Zeroizing::new(alloc::vec![argon2::Block::new(); built_block_count(&argon)]);
    #[cfg(all(feature = "std", unix))]
    let guard = crate::secure_memory::protect_region(
        blocks.as_ptr().cast(),
        core::mem::size_of_val(&blocks[..]),
    );
    let result = lanes::run(params.p_cost, || {
        argon
            .hash_password_into_with_memory(password, salt, out, &mut blocks[..])
            .map_err(|_| OutputTooLong)
    })
    .unwrap_or(Err(OutputTooLong));
    zeroize::Zeroize::zeroize(&mut *blocks);
    #[cfg(all(feature = "std", unix))]
    drop(guard);
    result
}

/// Where Argon2's lanes run.
///
/// With `std`, the `argon2` crate's `parallel` feature computes the lanes
/// of each slice on rayon threads (RFC 9106's parallelism; at p = 4 on the
/// 2-core project machine it took the open of a passphrase keyring from
/// 1.34x libargon2's time to 0.89x, BENCHMARKS.md). Those threads are
/// this call's own, never rayon's global pool: a pool of p threads that
/// this module spawns, and that outlive nothing: when the
/// hash is done the pool is dropped, each thread overwrites the part of
/// its stack where Argon2's compression temporaries were (they hold
/// blocks of the working memory, and the last ones rebuild the output)
/// before it exits, and the call joins every thread before it returns. So
/// no thread is left holding key-derived bytes, and none is left for a
/// `fork()` to inherit (rayon's global pool does not survive one).
#[cfg(feature = "std")]
mod lanes {
    use alloc::vec::Vec;
    use std::sync::Mutex;

    /// Bytes of stack each worker overwrites before it exits: far more than
    /// Argon2's compression and rayon's frames use (a few KiB).
    const SCRUB: usize = 128 * 1024;
    /// Each worker's stack: the scrub plus ample room for the work.
    const STACK: usize = 1024 * 1024;

    #[inline(never)]
    fn scrub_stack() {
        let mut area = [0u8; SCRUB];
        // Volatile writes: not elided although `area` is dead afterwards.
        zeroize::Zeroize::zeroize(&mut area[..]);
        core::hint::black_box(&area);
    }

    /// Runs `f` (which runs the hash) inside a pool of its own; `None` if
    /// the threads could not be started (then nothing ran).
    pub(super) fn run<T: Send>(lanes: u32, f: impl FnOnce() -> T + Send) -> Option<T> {
        // One thread per lane, as libargon2 runs them (the bounds allow at
        // most 16 lanes): on fewer cores the kernel shares them out, which
        // measured no slower than capping the pool at the core count.
        let threads = usize::try_from(lanes).unwrap_or(1).clamp(1, 16);
        let handles = Mutex::new(Vec::with_capacity(threads));
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .spawn_handler(|worker| {
                let handle = std::thread::Builder::new()
                    .name("strongroom-argon2".into())
                    .stack_size(STACK)
                    .spawn(move || {
                        worker.run();
                        scrub_stack();
                    })?;
                handles
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(handle);
                Ok(())
            })
            .build();
        let out = pool.ok().map(|pool| {
            let out = pool.install(f);
            // Dropping the pool ends each worker's loop; each scrubs, exits.
            drop(pool);
            out
        });
        for handle in handles
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
        {
            let _ = handle.join();
        }
        out
    }
}

/// Without `std` the lanes run one after another on the caller's thread.
#[cfg(not(feature = "std"))]
mod lanes {
    pub(super) fn run<T>(_lanes: u32, f: impl FnOnce() -> T) -> Option<T> {
        Some(f())
    }
}

/// The number of 1 KiB blocks Argon2 needs for these parameters.
fn built_block_count(argon: &argon2::Argon2<'_>) -> usize {
    argon.params().block_count()
}

#[cfg(test)]
mod tests;
