//! Nonce uniqueness at volume (issue #17 point 5, issue #15's generator):
//! records under one key, every nonce collected and compared, with the
//! per-thread `FastRng` (what `encrypt_record` uses) and with the OS
//! generator (`SysRng`, through `encrypt_record_with`). 2^16 each in the
//! default run; 2^24 each in the `--ignored` run:
//!
//! ```sh
//! cargo test --release -p strongroom --test nonce_volume -- --ignored --nocapture
//! ```
//!
//! A 192-bit random nonce repeats among 2^24 with probability about
//! 2^-145, so any repeat is a generator fault, not chance.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

use strongroom::{EncryptionContext, Keyring, SysRng};

/// The nonce of a record (FORMAT.md 4: after the 9-byte header).
fn nonce(record: &[u8]) -> [u8; 24] {
    record[9..33].try_into().unwrap()
}

/// Encrypts `n` records (alternately from two threads when `threads` is
/// 2, so that two generators run) and returns how many nonces repeated.
fn repeats(n: usize, os: bool, threads: usize) -> usize {
    let mut keyring = Keyring::new();
    keyring.create_key("k").unwrap();
    let ctx = EncryptionContext::new().with("t", "nonces").unwrap();
    let per = n / threads;
    let mut all: Vec<[u8; 24]> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let (keyring, ctx) = (&keyring, &ctx);
                s.spawn(move || {
                    let mut v = Vec::with_capacity(per);
                    for i in 0..per {
                        let pt = (i as u64).to_le_bytes();
                        let r = if os {
                            keyring.encrypt_record_with("k", &pt, ctx, &mut SysRng)
                        } else {
                            keyring.encrypt_record("k", &pt, ctx)
                        };
                        v.push(nonce(&r.unwrap()));
                    }
                    v
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert_eq!(all.len(), per * threads);
    all.sort_unstable();
    let before = all.len();
    all.dedup();
    before - all.len()
}

#[test]
fn two_to_the_16_records_have_distinct_nonces() {
    for (os, name) in [(false, "FastRng"), (true, "SysRng")] {
        let n = 1 << 16;
        assert_eq!(repeats(n, os, 2), 0, "{name}");
        println!("nonces: {n} records under one key from 2 threads ({name}), 0 repeated");
    }
}

#[test]
#[ignore = "2^24 records per generator: about a minute in release; run by hand or a campaign"]
fn two_to_the_24_records_have_distinct_nonces() {
    for (os, name) in [(false, "FastRng"), (true, "SysRng")] {
        let n = 1 << 24;
        let start = std::time::Instant::now();
        assert_eq!(repeats(n, os, 2), 0, "{name}");
        println!(
            "nonces: {n} records (2^24) under one key from 2 threads ({name}), 0 repeated, {:.1} s",
            start.elapsed().as_secs_f64()
        );
    }
}
