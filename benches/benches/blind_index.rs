//! Blind-index values per second (FORMAT.md 13): a fast email index (trim,
//! NFC, case folding; HKDF for the index key, then HMAC-SHA256), the lookup
//! of that index during a rotation (two versions), and a slow SSN index at
//! the recommended Argon2id parameters (19 MiB, t=2, p=1). BENCHMARKS.md
//! gives the figures and the peer (HMAC-SHA256 alone).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use strongroom::{BlindIndex, Keyring, Transform};

fn blind_index(c: &mut Criterion) {
    let mut keyring = Keyring::new();
    keyring.create_key("pii").unwrap();
    let email = BlindIndex::new(
        "customers.email_idx",
        "pii",
        32,
        &[Transform::Trim, Transform::Nfc, Transform::Casefold],
    )
    .unwrap();
    let raw = BlindIndex::new("customers.raw_idx", "pii", 32, &[]).unwrap();
    let ssn = BlindIndex::builder("customers.ssn_idx", "pii")
        .bits(16)
        .slow(BlindIndex::SLOW_DEFAULT)
        .field("ssn", &[Transform::Digits])
        .build()
        .unwrap();
    let mut group = c.benchmark_group("blind_index");
    group.throughput(Throughput::Elements(1));
    group.bench_function("fast_email_value", |b| {
        b.iter(|| {
            keyring
                .blind_index(&email, &["Ada.Lovelace@Example.com"])
                .unwrap()
        });
    });
    group.bench_function("fast_value_no_transforms", |b| {
        b.iter(|| {
            keyring
                .blind_index(&raw, &["ada.lovelace@example.com"])
                .unwrap()
        });
    });
    let mut rotated = Keyring::new();
    rotated.create_key("pii").unwrap();
    rotated.rotate("pii").unwrap();
    group.bench_function("fast_email_lookup_two_versions", |b| {
        b.iter(|| {
            rotated
                .blind_index_lookup(&email, &["Ada.Lovelace@Example.com"])
                .unwrap()
        });
    });
    group.sample_size(10);
    group.bench_function("slow_ssn_value_19MiB_t2_p1", |b| {
        b.iter(|| keyring.blind_index(&ssn, &["078-05-1120"]).unwrap());
    });
    group.finish();
}

criterion_group!(benches, blind_index);
criterion_main!(benches);
