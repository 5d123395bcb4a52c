//! The in-process comparisons of issue #15, interleaved: each round times
//! strongroom and its peer one after the other on the same bytes, and the
//! report is the median over rounds of each, and of their ratio. Prints one
//! JSON object per comparison (`benches/run-peers.sh` makes the table).
//!
//! - record 64 B and 1 KiB, encrypt + decrypt (nonce from the OS RNG, key
//!   lookup, header and context included) vs ring's raw ChaCha20-Poly1305
//!   seal + open of the same bytes with a counter nonce and no RNG;
//! - envelope 1 MiB and 16 MiB in memory, one thread, encrypt and decrypt
//!   vs ring's raw ChaCha20-Poly1305 seal and open over the same bytes (one
//!   call: the fastest the primitive goes).
//!
//! - `peers argon2 [rounds]`: opening an empty passphrase-sealed keyring
//!   (one Argon2id run plus microseconds) at m = 64 MiB, t = 3, p = 4 and at
//!   m = 19 MiB, t = 2, p = 1, milliseconds per open; the libargon2 peer
//!   runs in Python (`benches/argon2_peer.py`), interleaved by
//!   `benches/run-peers.sh`.
//!
//! Usage: `peers [rounds]` (default 15), or `peers argon2 [rounds]`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use core::hint::black_box;
use std::time::Instant;

use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};
use strongroom::envelope::{self, DEFAULT_CHUNK_SIZE, Identity, Recipient};
use strongroom::{EncryptionContext, Keyring, SysRng};

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Seconds per call of `f`, over `n` calls.
fn time(n: u32, mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..n {
        f();
    }
    start.elapsed().as_secs_f64() / f64::from(n)
}

fn ring_key() -> LessSafeKey {
    LessSafeKey::new(UnboundKey::new(&CHACHA20_POLY1305, &[0x42; 32]).unwrap())
}

fn counter_nonce(n: &mut u64) -> Nonce {
    *n += 1;
    let mut b = [0u8; 12];
    b[4..].copy_from_slice(&n.to_be_bytes());
    Nonce::assume_unique_for_key(b)
}

fn report(what: &str, ours: &mut [f64], peer: &mut [f64], ratios: &mut [f64], unit: &str) {
    let (o, p, r) = (median(ours), median(peer), median(ratios));
    println!(
        "{{\"what\": \"{what}\", \"strongroom\": {o:.9}, \"peer\": {p:.9}, \"ratio\": {r:.3}, \"unit\": \"{unit}\", \"rounds\": {}}}",
        ours.len()
    );
}

fn argon2(rounds: usize) {
    use strongroom::keyring_file;
    use strongroom::root::{Argon2Params, PassphraseRoot};
    for (m, t, p) in [(65_536, 3, 4), (19_456, 2, 1)] {
        let params = Argon2Params {
            m_cost_kib: m,
            t_cost: t,
            p_cost: p,
        };
        let root = PassphraseRoot::with_params(b"correct horse battery staple", params);
        let sealed = keyring_file::encrypt(&Keyring::new(), &root, &mut SysRng).unwrap();
        let mut ms: Vec<f64> = (0..rounds)
            .map(|_| {
                time(1, || {
                    black_box(keyring_file::decrypt(&sealed, &root).unwrap());
                }) * 1e3
            })
            .collect();
        println!(
            "{{\"what\": \"argon2id m={m} KiB t={t} p={p} (keyring open)\", \"strongroom_ms\": {:.1}, \"rounds\": {rounds}}}",
            median(&mut ms)
        );
    }
}

fn main() {
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("argon2") {
        args.next();
        argon2(args.next().and_then(|a| a.parse().ok()).unwrap_or(7));
        return;
    }
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(15);
    let mut keyring = Keyring::new();
    keyring.create_key("pii").unwrap();
    let ctx = EncryptionContext::from_pairs([("table", "customers"), ("column", "email")]).unwrap();
    let key = ring_key();
    let mut counter = 0u64;

    for size in [64usize, 1024] {
        let plain = vec![0x61u8; size];
        let n = if size == 64 { 20_000 } else { 10_000 };
        let (mut ours, mut peer, mut ratios) = (vec![], vec![], vec![]);
        for _ in 0..rounds {
            let o = time(n, || {
                let rec = keyring.encrypt_record("pii", &plain, &ctx).unwrap();
                black_box(keyring.decrypt_record(&rec, &ctx).unwrap());
            });
            let p = time(n, || {
                let mut buf = plain.clone();
                let tag = key
                    .seal_in_place_separate_tag(
                        counter_nonce(&mut counter),
                        Aad::from(b"aad"),
                        &mut buf,
                    )
                    .unwrap();
                counter -= 1;
                key.open_in_place_separate_tag(
                    counter_nonce(&mut counter),
                    Aad::from(b"aad"),
                    tag,
                    &mut buf,
                    0..,
                )
                .unwrap();
                black_box(&buf);
            });
            ours.push(o);
            peer.push(p);
            ratios.push(o / p);
        }
        report(
            &format!("record {size} B encrypt+decrypt"),
            &mut ours,
            &mut peer,
            &mut ratios,
            "s",
        );
    }

    for mib in [1usize, 16] {
        let plain = vec![0x5au8; mib << 20];
        let n = if mib == 1 { 20 } else { 2 };
        let recipients = [Recipient::Key {
            keyring: &keyring,
            name: "pii",
        }];
        let sealed =
            envelope::encrypt(&recipients, &plain, &ctx, DEFAULT_CHUNK_SIZE, &mut SysRng).unwrap();
        for (dir, enc) in [("encrypt", true), ("decrypt", false)] {
            let (mut ours, mut peer, mut ratios) = (vec![], vec![], vec![]);
            let mut buf = plain.clone();
            // The peer's decrypt opens a sealed copy of the same bytes.
            let mut raw_sealed = plain.clone();
            let raw_tag = key
                .seal_in_place_separate_tag(
                    Nonce::assume_unique_for_key([7; 12]),
                    Aad::empty(),
                    &mut raw_sealed,
                )
                .unwrap();
            for _ in 0..rounds {
                let o = time(n, || {
                    if enc {
                        black_box(
                            envelope::encrypt(
                                &recipients,
                                &plain,
                                &ctx,
                                DEFAULT_CHUNK_SIZE,
                                &mut SysRng,
                            )
                            .unwrap(),
                        );
                    } else {
                        black_box(
                            envelope::decrypt(Identity::Keyring(&keyring), &sealed, &ctx).unwrap(),
                        );
                    }
                });
                let p = time(n, || {
                    if enc {
                        buf.copy_from_slice(&plain);
                        let _ = black_box(
                            key.seal_in_place_separate_tag(
                                counter_nonce(&mut counter),
                                Aad::empty(),
                                &mut buf,
                            )
                            .unwrap(),
                        );
                    } else {
                        buf.copy_from_slice(&raw_sealed);
                        key.open_in_place_separate_tag(
                            Nonce::assume_unique_for_key([7; 12]),
                            Aad::empty(),
                            raw_tag,
                            &mut buf,
                            0..,
                        )
                        .unwrap();
                    }
                    black_box(&buf);
                });
                // Throughput: bytes per second, and the ratio as ours / peer.
                let bytes = plain.len() as f64;
                ours.push(bytes / o);
                peer.push(bytes / p);
                ratios.push(p / o);
            }
            report(
                &format!("envelope {mib} MiB {dir} (one thread)"),
                &mut ours,
                &mut peer,
                &mut ratios,
                "B/s",
            );
        }
    }
}
