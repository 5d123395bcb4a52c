//! Record encrypt + decrypt through the Rust API, timed: the baseline of
//! `benches/c_overhead.sh` (the same loop as `benches/c/record_roundtrip.c`,
//! through a shared keyring as the C API uses). Prints
//! "rust <size> <ns per round trip>" for 64 B and 1 KiB.
#![allow(clippy::unwrap_used)]

use std::time::Instant;

use strongroom::{EncryptionContext, Keyring, SharedKeyring};

fn main() {
    let iterations: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let mut keyring = Keyring::new();
    keyring.create_key("pii").unwrap();
    let shared = SharedKeyring::new(keyring);
    let ctx = EncryptionContext::new()
        .with("table", "customers")
        .unwrap()
        .with("column", "email")
        .unwrap();
    let plain = [0x61u8; 1024];
    for size in [64usize, 1024] {
        let start = Instant::now();
        for _ in 0..iterations {
            let current = shared.current();
            let rec = current.encrypt_record("pii", &plain[..size], &ctx).unwrap();
            let out = shared.current().decrypt_record(&rec, &ctx).unwrap();
            core::hint::black_box(out);
        }
        let ns = start.elapsed().as_nanos() as f64 / f64::from(iterations);
        println!("rust {size} {ns:.0}");
    }
}
