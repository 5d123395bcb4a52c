//! [`FastRng`]: a per-thread ChaCha20 generator seeded from the OS, for the
//! nonces and data keys of the hot paths (`std`, Unix).
//!
//! One `getrandom` call costs more than sealing a 64-byte record, so the
//! record, data-key and envelope paths draw from a userspace generator
//! instead. Its design is the one the BSDs' `arc4random` and Linux's own
//! generator use, with fast key erasure:
//!
//! - each thread has a 32-byte ChaCha20 key, in a locked, no-dump slot
//!   ([`crate::secure_memory`]), seeded from the OS generator on first use;
//! - a request of `n` bytes runs ChaCha20 (nonce 0, counter 0) under the
//!   key for `32 + n` bytes: the first 32 replace the key at once, the
//!   rest are the output (so a key read later cannot give back output
//!   already served);
//! - the key is replaced from the OS after 1 MiB of output
//!   ([`RESEED_AFTER`]) and **after every `fork()`**: a `pthread_atfork`
//!   child handler moves a fork epoch on, and a thread whose key is from
//!   another epoch reseeds before it serves a byte. A child never repeats
//!   its parent's nonces or keys (`core/tests/fork.rs` checks it with a
//!   real `fork()`, the wheel's suite with Python's `multiprocessing`);
//! - a failing OS generator fails the request (and so the encryption):
//!   there is no fallback.
//!
//! Long-term keys (`create_key`, `rotate`, keyring sealing keys) still come
//! straight from the OS generator ([`crate::SysRng`]).

use core::cell::RefCell;
use core::fmt;

use chacha20::ChaCha20;
use chacha20::cipher::{KeyIvInit, StreamCipher};
use rand_core::{TryCryptoRng, TryRng};
use zeroize::{Zeroize, Zeroizing};

use crate::secret::KeyMaterial;

/// Output bytes after which a thread's key is replaced from the OS.
pub const RESEED_AFTER: u64 = 1 << 20;

/// The most bytes one ChaCha20 run serves; larger requests take several.
const SERVE: usize = 224;

/// The OS generator failed (or this thread is exiting and has no
/// generator any more): nothing was produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RandomnessUnavailable;

impl fmt::Display for RandomnessUnavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the OS random number generator is unavailable")
    }
}

impl core::error::Error for RandomnessUnavailable {}

/// The calling thread's generator (see the module docs): a handle with no
/// state of its own, `Copy`, usable wherever a [`TryCryptoRng`] is.
#[derive(Debug, Clone, Copy, Default)]
pub struct FastRng;

struct State {
    key: KeyMaterial,
    epoch: u64,
    served: u64,
}

std::thread_local! {
    static STATE: RefCell<Option<State>> = const { RefCell::new(None) };
}

/// Where seeds come from: the OS (a test swaps in a failing source).
fn seed(key: &mut [u8; 32]) -> Result<(), RandomnessUnavailable> {
    #[cfg(test)]
    if tests::FAIL_SEED.with(core::cell::Cell::get) {
        return Err(RandomnessUnavailable);
    }
    getrandom::fill(key).map_err(|_| RandomnessUnavailable)
}

fn fill(dst: &mut [u8]) -> Result<(), RandomnessUnavailable> {
    let epoch = crate::secure_memory::fork_epoch();
    STATE
        .try_with(|cell| {
            let mut slot = cell.try_borrow_mut().map_err(|_| RandomnessUnavailable)?;
            let stale = slot
                .as_ref()
                .is_none_or(|s| s.epoch != epoch || s.served >= RESEED_AFTER);
            if stale {
                // Drop the old key first (it wipes itself), then seed anew.
                *slot = None;
                let key = KeyMaterial::try_from_fn(seed)?;
                *slot = Some(State {
                    key,
                    epoch,
                    served: 0,
                });
            }
            let state = slot.as_mut().ok_or(RandomnessUnavailable)?;
            let mut block = Zeroizing::new([0u8; 32 + SERVE]);
            for chunk in dst.chunks_mut(SERVE) {
                let run = &mut block[..32 + chunk.len()];
                run.zeroize();
                // The cipher wipes its own key copy on drop (chacha20's
                // `zeroize` feature).
                ChaCha20::new(state.key.expose_secret().into(), &[0u8; 12].into())
                    .apply_keystream(run);
                state.key.expose_secret_mut().copy_from_slice(&run[..32]);
                chunk.copy_from_slice(&run[32..]);
                state.served = state.served.saturating_add(chunk.len() as u64);
            }
            Ok(())
        })
        .map_err(|_| RandomnessUnavailable)?
}

impl TryRng for FastRng {
    type Error = RandomnessUnavailable;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut b = [0u8; 4];
        fill(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut b = [0u8; 8];
        fill(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        fill(dst)
    }
}

impl TryCryptoRng for FastRng {}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use alloc::collections::BTreeSet;
    use core::cell::Cell;

    use super::*;

    std::thread_local! {
        pub(crate) static FAIL_SEED: Cell<bool> = const { Cell::new(false) };
    }

    fn fresh() {
        STATE.with(|s| *s.borrow_mut() = None);
    }

    #[test]
    fn output_is_distinct_and_reseeds_after_its_budget() {
        fresh();
        let mut seen = BTreeSet::new();
        for _ in 0..10_000 {
            let mut n = [0u8; 24];
            FastRng.try_fill_bytes(&mut n).unwrap();
            assert!(seen.insert(n), "a repeated nonce");
        }
        // Large requests run in several pieces; the budget triggers a
        // reseed (served goes back to the size of the last request).
        let mut big = alloc::vec![0u8; (RESEED_AFTER as usize) + 1000];
        FastRng.try_fill_bytes(&mut big).unwrap();
        let served = STATE.with(|s| s.borrow().as_ref().unwrap().served);
        assert!(served >= RESEED_AFTER);
        FastRng.try_fill_bytes(&mut [0u8; 8]).unwrap();
        let served = STATE.with(|s| s.borrow().as_ref().unwrap().served);
        assert_eq!(served, 8, "reseeded after the budget");
        assert!(big.iter().filter(|&&b| b == 0).count() < big.len() / 128);
    }

    #[test]
    fn a_failing_os_generator_fails_every_request_until_it_works() {
        fresh();
        FAIL_SEED.with(|f| f.set(true));
        let mut n = [0u8; 24];
        for _ in 0..100 {
            assert_eq!(FastRng.try_fill_bytes(&mut n), Err(RandomnessUnavailable));
        }
        assert_eq!(n, [0u8; 24], "nothing was produced");
        FAIL_SEED.with(|f| f.set(false));
        FastRng.try_fill_bytes(&mut n).unwrap();
        assert_ne!(n, [0u8; 24]);
    }
}
