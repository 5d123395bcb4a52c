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
//! - a refill runs ChaCha20 (nonce 0, counter 0) under the key for 256
//!   bytes: the first 32 replace the key at once, the other 224 are a
//!   buffer of output, also in locked slots, served front to back and
//!   zeroed as it is served (so neither a key nor a buffer
//!   read later can give back output already served). One refill serves
//!   nine record nonces; running ChaCha20 once per nonce was a tenth of a
//!   64-byte record round trip;
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

use crate::secret::{KEY_LEN, KeyMaterial};

/// Output bytes after which a thread's key is replaced from the OS.
pub const RESEED_AFTER: u64 = 1 << 20;

/// Locked 32-byte slots that hold served-ahead output.
const BUF_SLOTS: usize = 7;
/// Bytes of output one ChaCha20 run buffers (its first 32 are the next key).
const BUF_LEN: usize = BUF_SLOTS * KEY_LEN;

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
    /// Output not yet served, at the end of the buffer (`BUF_LEN - avail`
    /// onwards); the bytes before it have been served and are zero.
    buf: [KeyMaterial; BUF_SLOTS],
    avail: usize,
    epoch: u64,
    served: u64,
}

impl State {
    fn new(key: KeyMaterial, epoch: u64) -> Self {
        Self {
            key,
            buf: core::array::from_fn(|_| KeyMaterial::from_fn(|_| {})),
            avail: 0,
            epoch,
            served: 0,
        }
    }

    /// One ChaCha20 run: a new key and a full buffer; the old key is
    /// overwritten at once.
    fn refill(&mut self) {
        let mut block = Zeroizing::new([0u8; KEY_LEN + BUF_LEN]);
        // The cipher wipes its own key copy on drop (chacha20's `zeroize`
        // feature).
        ChaCha20::new(self.key.expose_secret().into(), &[0u8; 12].into())
            .apply_keystream(&mut block[..]);
        let (next, out) = block.split_at(KEY_LEN);
        self.key.expose_secret_mut().copy_from_slice(next);
        for (slot, bytes) in self.buf.iter_mut().zip(out.chunks_exact(KEY_LEN)) {
            slot.expose_secret_mut().copy_from_slice(bytes);
        }
        self.avail = BUF_LEN;
    }

    /// Serves `dst` from the buffer, refilling it as it runs out.
    fn take(&mut self, mut dst: &mut [u8]) {
        while !dst.is_empty() {
            if self.avail == 0 {
                self.refill();
            }
            let pos = BUF_LEN - self.avail;
            let (slot, offset) = (pos / KEY_LEN, pos % KEY_LEN);
            let n = (KEY_LEN - offset).min(dst.len());
            let Some(src) = self
                .buf
                .get_mut(slot)
                .and_then(|s| s.expose_secret_mut().get_mut(offset..offset + n))
            else {
                // Unreachable: `pos < BUF_LEN` and `n` stops at the slot's end.
                self.avail = 0;
                continue;
            };
            let (head, rest) = dst.split_at_mut(n);
            head.copy_from_slice(src);
            src.zeroize();
            self.avail -= n;
            self.served = self.served.saturating_add(n as u64);
            dst = rest;
        }
    }
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
                // Drop the old key and buffer first (they wipe themselves),
                // then seed anew.
                *slot = None;
                let key = KeyMaterial::try_from_fn(seed)?;
                *slot = Some(State::new(key, epoch));
            }
            let state = slot.as_mut().ok_or(RandomnessUnavailable)?;
            state.take(dst);
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

    /// Served bytes leave the buffer at once: every byte before the unserved
    /// part is zero, after requests that end inside a slot, on a slot's
    /// edge and across a refill; and what is served matches no later
    /// buffer content.
    #[test]
    fn served_output_is_erased_from_the_buffer() {
        fresh();
        let mut served = alloc::vec::Vec::new();
        for len in [24usize, 8, 32, 100, 60, 224, 3, 500] {
            let mut out = alloc::vec![0u8; len];
            FastRng.try_fill_bytes(&mut out).unwrap();
            served.extend_from_slice(&out);
            STATE.with(|s| {
                let s = s.borrow();
                let s = s.as_ref().unwrap();
                let buf: alloc::vec::Vec<u8> = s
                    .buf
                    .iter()
                    .flat_map(|k| k.expose_secret().iter().copied())
                    .collect();
                let pos = BUF_LEN - s.avail;
                assert!(buf[..pos].iter().all(|&b| b == 0), "served bytes kept");
                assert!(s.avail == 0 || buf[pos..].iter().any(|&b| b != 0));
                for w in served.windows(8).step_by(8) {
                    assert!(
                        !buf[pos..].windows(8).any(|b| b == w),
                        "output served twice"
                    );
                }
            });
        }
        assert_eq!(served.len(), 951);
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
