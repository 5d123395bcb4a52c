//! Envelope encrypt/decrypt (default 64 KiB chunks) beside one raw
//! XChaCha20-Poly1305 call over the same bytes with a fresh random nonce:
//! the ratio is the cost of the envelope (data key, wrap, HKDF, commitment,
//! per-chunk nonces and tags).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

extern crate alloc;

use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{Key, Tag, XChaCha20Poly1305, XNonce};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use strongroom::envelope::{DEFAULT_CHUNK_SIZE, EnvelopeDecryptor, EnvelopeEncryptor, Recipient};
use strongroom::{EncryptionContext, Keyring, SecretBytes, SysRng};

const SIZES: [usize; 4] = [1 << 10, 64 << 10, 1 << 20, 16 << 20];

fn envelope(c: &mut Criterion) {
    let mut keyring = Keyring::new();
    keyring.create_key("files").unwrap();
    let ctx = EncryptionContext::new().with("path", "bench.bin").unwrap();
    let mut key = Key::default();
    getrandom::fill(&mut key).unwrap();
    let raw = XChaCha20Poly1305::new(&key);

    let mut group = c.benchmark_group("envelope");
    for size in SIZES {
        let plaintext = vec![0x5a_u8; size];
        group.throughput(Throughput::Bytes(size as u64));
        if size >= 1 << 20 {
            group.sample_size(10);
        }
        group.bench_with_input(
            BenchmarkId::new("strongroom_encrypt", size),
            &plaintext,
            |b, pt| {
                b.iter(|| encrypt_envelope(&keyring, "files", pt, &ctx).unwrap());
            },
        );
        group.bench_with_input(
            BenchmarkId::new("raw_xchacha_encrypt", size),
            &plaintext,
            |b, pt| {
                b.iter(|| {
                    let mut nonce = XNonce::default();
                    getrandom::fill(&mut nonce).unwrap();
                    let mut buf = pt.clone();
                    let tag: Tag = raw
                        .encrypt_inout_detached(&nonce, b"", buf.as_mut_slice().into())
                        .unwrap();
                    (buf, tag)
                });
            },
        );
        let sealed = encrypt_envelope(&keyring, "files", &plaintext, &ctx).unwrap();
        group.bench_with_input(
            BenchmarkId::new("strongroom_decrypt", size),
            &sealed,
            |b, s| {
                b.iter(|| decrypt_envelope(&keyring, s, &ctx).unwrap());
            },
        );
        let mut nonce = XNonce::default();
        getrandom::fill(&mut nonce).unwrap();
        let mut ct = plaintext.clone();
        let tag = raw
            .encrypt_inout_detached(&nonce, b"", ct.as_mut_slice().into())
            .unwrap();
        group.bench_with_input(
            BenchmarkId::new("raw_xchacha_decrypt", size),
            &ct,
            |b, ct| {
                b.iter(|| {
                    let mut buf = ct.clone();
                    raw.decrypt_inout_detached(&nonce, b"", buf.as_mut_slice().into(), &tag)
                        .unwrap();
                    buf
                });
            },
        );
    }
    group.finish();
}

/// The streaming encryptor and decryptor on 16 MiB in memory (no I/O), on
/// one thread and on two: the CPU side of the parallel chunk path.
fn threads(c: &mut Criterion) {
    let mut keyring = Keyring::new();
    keyring.create_key("files").unwrap();
    let keyring = alloc::sync::Arc::new(keyring);
    let ctx = EncryptionContext::new();
    let plaintext = vec![0x5a_u8; 16 << 20];
    let recipients = [Recipient::Key {
        keyring: &keyring,
        name: "files",
    }];
    let seal = |threads: usize| {
        let (mut enc, mut out) =
            EnvelopeEncryptor::new(&recipients, &ctx, DEFAULT_CHUNK_SIZE, &mut SysRng).unwrap();
        enc.set_threads(threads).unwrap();
        // Fed in 64 KiB writes, as a file copy would.
        for piece in plaintext.chunks(64 << 10) {
            enc.update(piece, &mut out).unwrap();
        }
        enc.finish(&mut out).unwrap();
        out
    };
    let sealed = seal(1);
    let mut group = c.benchmark_group("envelope_threads");
    group.throughput(Throughput::Bytes(plaintext.len() as u64));
    group.sample_size(10);
    for threads in [1, 2] {
        group.bench_function(BenchmarkId::new("encrypt_16MiB", threads), |b| {
            b.iter(|| seal(threads));
        });
        group.bench_function(BenchmarkId::new("decrypt_16MiB", threads), |b| {
            b.iter(|| {
                let mut dec = EnvelopeDecryptor::new(keyring.clone(), &ctx);
                dec.set_threads(threads).unwrap();
                // Consumed and cleared after each write, as EnvelopeReader
                // does, so the output buffer stays one batch long.
                let mut out = SecretBytes::new();
                let mut total = 0;
                for piece in sealed.chunks(64 << 10) {
                    dec.update(piece, &mut out).unwrap();
                    total += out.len();
                    out.clear();
                }
                dec.finish(&mut out).unwrap();
                total + out.len()
            });
        });
    }
    group.finish();
}

criterion_group!(benches, envelope, threads);
criterion_main!(benches);

fn encrypt_envelope(
    keyring: &Keyring,
    name: &str,
    pt: &[u8],
    ctx: &EncryptionContext,
) -> Result<Vec<u8>, strongroom::Error> {
    strongroom::envelope::encrypt(
        &[Recipient::Key { keyring, name }],
        pt,
        ctx,
        DEFAULT_CHUNK_SIZE,
        &mut SysRng,
    )
}

fn decrypt_envelope(
    keyring: &Keyring,
    sealed: &[u8],
    ctx: &EncryptionContext,
) -> Result<SecretBytes, strongroom::Error> {
    strongroom::envelope::decrypt(
        strongroom::envelope::Identity::Keyring(keyring),
        sealed,
        ctx,
    )
}
