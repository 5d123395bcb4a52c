//! Record encrypt/decrypt beside one raw XChaCha20-Poly1305 call with a fresh
//! random nonce over the same bytes: the peer is the primitive itself, so the
//! ratio is the cost of the format (header, AAD assembly, key lookup).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use strongroom::{EncryptionContext, Keyring};

const SIZES: [usize; 2] = [64, 1024];

fn context() -> EncryptionContext {
    EncryptionContext::from_pairs([("table", "customers"), ("column", "email")]).unwrap()
}

fn record(c: &mut Criterion) {
    let mut keyring = Keyring::new();
    keyring.create_key("pii").unwrap();
    let ctx = context();
    let aad = ctx.to_canonical_bytes();
    let mut key = Key::default();
    getrandom::fill(&mut key).unwrap();
    let raw = XChaCha20Poly1305::new(&key);

    let mut group = c.benchmark_group("record");
    for size in SIZES {
        let plaintext = vec![0x5a_u8; size];
        group.throughput(Throughput::Bytes(size as u64));

        group.bench_with_input(
            BenchmarkId::new("strongroom_encrypt", size),
            &plaintext,
            |b, pt| {
                b.iter(|| keyring.encrypt_record("pii", pt, &ctx).unwrap());
            },
        );
        group.bench_with_input(
            BenchmarkId::new("raw_xchacha_encrypt", size),
            &plaintext,
            |b, pt| {
                b.iter(|| {
                    let nonce = random_nonce();
                    let ct = raw.encrypt(&nonce, Payload { msg: pt, aad: &aad }).unwrap();
                    (nonce, ct)
                });
            },
        );

        let record = keyring.encrypt_record("pii", &plaintext, &ctx).unwrap();
        group.bench_with_input(
            BenchmarkId::new("strongroom_decrypt", size),
            &record,
            |b, r| {
                b.iter(|| keyring.decrypt_record(r, &ctx).unwrap());
            },
        );
        let nonce = random_nonce();
        let sealed = raw
            .encrypt(
                &nonce,
                Payload {
                    msg: &plaintext,
                    aad: &aad,
                },
            )
            .unwrap();
        group.bench_with_input(
            BenchmarkId::new("raw_xchacha_decrypt", size),
            &sealed,
            |b, s| {
                b.iter(|| raw.decrypt(&nonce, Payload { msg: s, aad: &aad }).unwrap());
            },
        );
    }
    group.finish();
}

/// A fresh random nonce from the OS, as strongroom draws one per record.
fn random_nonce() -> XNonce {
    let mut nonce = XNonce::default();
    getrandom::fill(&mut nonce).unwrap();
    nonce
}

criterion_group!(benches, record);
criterion_main!(benches);
