//! The caller-buffer streaming API (what the C ABI calls): encrypt and
//! decrypt into fixed buffers sized by the bound functions, the exact
//! envelope length, and a too-small buffer that changes nothing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

mod common;

use std::sync::Arc;

use common::{SeededRng, keyring_at_version};
use strongroom::envelope::{self, EnvelopeDecryptor, EnvelopeEncryptor, MAX_RECIPIENTS, Recipient};
use strongroom::rand_core::TryRng;
use strongroom::{EncryptionContext, Error, Keyring, SysRng};

fn ctx() -> EncryptionContext {
    EncryptionContext::new()
        .with("file", "dump.sql")
        .unwrap()
        .with("tenant", "acme")
        .unwrap()
}

fn data(len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    SeededRng::new(len as u64).try_fill_bytes(&mut out).unwrap();
    out
}

/// Encrypts through `update_into`/`finish_into` with buffers of exactly the
/// bound, pushing `piece` bytes at a time.
fn encrypt_into(keyring: &Keyring, pt: &[u8], chunk: u32, piece: usize) -> Vec<u8> {
    let recipients = [Recipient::Key { keyring, name: "k" }];
    let (mut enc, header) =
        EnvelopeEncryptor::new(&recipients, &ctx(), chunk, &mut SysRng).unwrap();
    let mut out = header;
    for p in pt.chunks(piece.max(1)) {
        let mut buf = vec![0u8; enc.update_output_bound(p.len())];
        let n = enc.update_into(p, &mut buf).unwrap();
        out.extend_from_slice(&buf[..n]);
    }
    let mut buf = vec![0u8; enc.finish_output_bound()];
    let n = enc.finish_into(&mut buf).unwrap();
    assert_eq!(n, buf.len(), "finish writes exactly its bound");
    out.extend_from_slice(&buf[..n]);
    // Finished: more input is refused.
    assert!(matches!(
        enc.update_into(b"x", &mut [0u8; 1024]),
        Err(Error::InvalidArgument { .. })
    ));
    out
}

fn decrypt_into(keyring: &Arc<Keyring>, envelope: &[u8], piece: usize) -> Vec<u8> {
    let mut dec = EnvelopeDecryptor::new(keyring.clone(), &ctx());
    let mut out = Vec::new();
    for p in envelope.chunks(piece.max(1)) {
        let mut buf = vec![0u8; dec.update_output_bound(p.len())];
        let n = dec.update_into(p, &mut buf).unwrap();
        out.extend_from_slice(&buf[..n]);
    }
    let mut buf = vec![0u8; dec.finish_output_bound()];
    let n = dec.finish_into(&mut buf).unwrap();
    out.extend_from_slice(&buf[..n]);
    out
}

#[test]
fn fixed_buffers_round_trip_at_every_split_and_the_length_is_exact() {
    let keyring = Arc::new(keyring_at_version("k", 1));
    let mut cases = 0;
    for (len, chunk) in [
        (0usize, 64u32),
        (1, 64),
        (64, 64),
        (65, 64),
        (1000, 64),
        (70_000, 65_536),
        (200_000, 4096),
    ] {
        let pt = data(len);
        for piece in [1usize, 63, 64, 65, 4097, 1 << 20] {
            if len > 10_000 && piece < 64 {
                continue;
            }
            let env = encrypt_into(&keyring, &pt, chunk, piece);
            let exact = envelope::encrypted_len(len as u64, chunk, 1, &ctx()).unwrap();
            assert_eq!(env.len() as u64, exact, "len {len} chunk {chunk}");
            let one_shot = envelope::encrypt(
                &[Recipient::Key {
                    keyring: &keyring,
                    name: "k",
                }],
                &pt,
                &ctx(),
                chunk,
                &mut SysRng,
            )
            .unwrap();
            assert_eq!(one_shot.len() as u64, exact);
            assert_eq!(
                common::decrypt_envelope(&keyring, &env, &ctx())
                    .unwrap()
                    .expose_secret(),
                &pt[..]
            );
            for dpiece in [1usize, 80, 4113, 1 << 20] {
                if env.len() > 10_000 && dpiece < 64 {
                    continue;
                }
                assert_eq!(decrypt_into(&keyring, &env, dpiece), pt);
                cases += 1;
            }
        }
    }
    println!(
        "caller buffers: {cases} encrypt/decrypt splits round-tripped; every length matched encrypted_len"
    );
}

#[test]
fn encrypted_len_counts_recipients_and_context() {
    let keyrings: Vec<Keyring> = (0..MAX_RECIPIENTS as u32)
        .map(|i| {
            let mut k = Keyring::new();
            k.create_key(&format!("k{i}")).unwrap();
            k
        })
        .collect();
    let names: Vec<String> = (0..MAX_RECIPIENTS).map(|i| format!("k{i}")).collect();
    for n in [1usize, 2, MAX_RECIPIENTS] {
        let recipients: Vec<Recipient<'_>> = keyrings[..n]
            .iter()
            .zip(&names)
            .map(|(keyring, name)| Recipient::Key { keyring, name })
            .collect();
        let env = envelope::encrypt(&recipients, b"hello", &ctx(), 64, &mut SysRng).unwrap();
        assert_eq!(
            env.len() as u64,
            envelope::encrypted_len(5, 64, n, &ctx()).unwrap()
        );
    }
    assert!(envelope::encrypted_len(5, 64, 0, &ctx()).is_err());
    assert!(envelope::encrypted_len(5, 64, MAX_RECIPIENTS + 1, &ctx()).is_err());
    assert!(envelope::encrypted_len(5, 63, 1, &ctx()).is_err());
    assert!(matches!(
        envelope::encrypted_len(u64::MAX, 64, 1, &ctx()),
        Err(Error::TooLarge { .. })
    ));
}

#[test]
fn a_short_buffer_is_refused_first_and_changes_nothing() {
    let keyring = Arc::new(keyring_at_version("k", 1));
    let pt = data(10_000);
    let recipients = [Recipient::Key {
        keyring: &keyring,
        name: "k",
    }];
    let (mut enc, header) = EnvelopeEncryptor::new(&recipients, &ctx(), 1024, &mut SysRng).unwrap();
    let mut env = header;
    let bound = enc.update_output_bound(pt.len());
    assert_eq!(bound, 9 * (1024 + 16));
    let mut small = vec![0u8; bound - 1];
    assert_eq!(
        enc.update_into(&pt, &mut small),
        Err(Error::BufferTooSmall { needed: bound })
    );
    assert!(small.iter().all(|b| *b == 0), "short buffer was written");
    // The same call with room works, as if the refused one never happened.
    let mut buf = vec![0u8; bound];
    let n = enc.update_into(&pt, &mut buf).unwrap();
    env.extend_from_slice(&buf[..n]);
    let need = enc.finish_output_bound();
    assert_eq!(
        enc.finish_into(&mut vec![0u8; need - 1]),
        Err(Error::BufferTooSmall { needed: need })
    );
    let mut buf = vec![0u8; need];
    let n = enc.finish_into(&mut buf).unwrap();
    env.extend_from_slice(&buf[..n]);

    let mut dec = EnvelopeDecryptor::new(keyring.clone(), &ctx());
    let bound = dec.update_output_bound(env.len());
    assert_eq!(
        dec.update_into(&env, &mut vec![0u8; bound - 1]),
        Err(Error::BufferTooSmall { needed: bound })
    );
    // Not sticky: the stream goes on.
    let mut out = vec![0u8; bound];
    let n = dec.update_into(&env, &mut out).unwrap();
    let mut plain = out[..n].to_vec();
    let mut last = vec![0u8; dec.finish_output_bound()];
    let m = dec.finish_into(&mut last).unwrap();
    plain.extend_from_slice(&last[..m]);
    assert_eq!(plain, pt);
}

#[test]
fn a_failing_chunk_releases_only_the_valid_prefix_into_the_buffer() {
    let keyring = Arc::new(keyring_at_version("k", 1));
    let pt = data(64 * 5);
    let mut env = encrypt_into(&keyring, &pt, 64, 1000);
    let header_len = env.len() - 5 * (64 + 16);
    // Flip a byte in chunk 2: chunks 0 and 1 are released, then the error.
    env[header_len + 2 * 80 + 3] ^= 1;
    let mut dec = EnvelopeDecryptor::new(keyring.clone(), &ctx());
    let mut out = vec![0u8; dec.update_output_bound(env.len())];
    assert_eq!(
        dec.update_into(&env, &mut out),
        Err(Error::AuthenticationFailed)
    );
    assert_eq!(&out[..128], &pt[..128]);
    assert!(
        out[128..].iter().all(|b| *b == 0),
        "unauthenticated bytes released"
    );
    // Sticky.
    assert_eq!(
        dec.finish_into(&mut [0u8; 0]),
        Err(Error::AuthenticationFailed)
    );
}

#[test]
fn one_shot_calls_have_caller_buffer_forms() {
    let keyring = keyring_at_version("k", 1);
    let recipients = [Recipient::Key {
        keyring: &keyring,
        name: "k",
    }];
    for len in [0usize, 1, 64, 65, 5000] {
        let pt = data(len);
        let exact = envelope::encrypted_len(len as u64, 64, 1, &ctx()).unwrap() as usize;
        let mut short = vec![0u8; exact - 1];
        assert_eq!(
            envelope::encrypt_into(&recipients, &pt, &ctx(), 64, &mut SysRng, &mut short),
            Err(Error::BufferTooSmall { needed: exact })
        );
        // A buffer of exactly the length is enough.
        let mut fit = vec![0u8; exact];
        let n =
            envelope::encrypt_into(&recipients, &pt, &ctx(), 64, &mut SysRng, &mut fit).unwrap();
        assert_eq!(n, exact);
        let mut buf = vec![0u8; exact + 7];
        let n =
            envelope::encrypt_into(&recipients, &pt, &ctx(), 64, &mut SysRng, &mut buf).unwrap();
        assert_eq!(n, exact);
        let env = &buf[..n];
        let identity = envelope::Identity::Keyring(&keyring);
        let mut plain = vec![0u8; len + 3];
        let m = envelope::decrypt_into(identity, env, &ctx(), &mut plain).unwrap();
        assert_eq!(&plain[..m], &pt[..]);
        if len > 0 {
            let mut small = vec![0u8; len - 1];
            assert_eq!(
                envelope::decrypt_into(identity, env, &ctx(), &mut small),
                Err(Error::BufferTooSmall { needed: len })
            );
        }
        // A bad last chunk: nothing released, the buffer wiped.
        if len > 64 {
            let mut bad = env.to_vec();
            let last = bad.len() - 1;
            bad[last] ^= 1;
            let mut out = vec![0u8; len];
            assert_eq!(
                envelope::decrypt_into(identity, &bad, &ctx(), &mut out),
                Err(Error::AuthenticationFailed)
            );
            assert!(
                out.iter().all(|b| *b == 0),
                "plaintext left after a failure"
            );
        }
    }
}
