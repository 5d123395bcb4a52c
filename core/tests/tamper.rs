//! Every single-bit flip and every truncation of a reference record, binary
//! and text form, is rejected, and no rejected attempt leaves plaintext in
//! the caller's output buffer.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

mod common;

use common::{TEST_KEY_ID, keyring_at_version};
use strongroom::{EncryptionContext, Error, KeyId, Keyring, SysRng};

const PLAINTEXT: &[u8] = b"PLAINTEXT: 4111 1111 1111 1111, exp 12/29, jane.doe@example.com";

fn setup() -> (Keyring, EncryptionContext, Vec<u8>) {
    // Four versions so that flips in the version field can land on a real,
    // enabled version: that must still fail (as an authentication failure).
    let keyring = keyring_at_version("k", 4);
    let ctx = EncryptionContext::from_pairs([("tenant", "acme"), ("field", "card")]).unwrap();
    let record = keyring
        .encrypt_record_with("k", PLAINTEXT, &ctx, &mut SysRng)
        .unwrap();
    assert_eq!(
        keyring
            .decrypt_record(&record, &ctx)
            .unwrap()
            .expose_secret(),
        PLAINTEXT
    );
    (keyring, ctx, record)
}

/// Decrypts into a buffer pre-filled with 0xEE and checks the contract:
/// on error the buffer holds no plaintext (only 0xEE or zeros).
fn attempt(keyring: &Keyring, record: &[u8], ctx: &EncryptionContext) -> Result<(), Error> {
    let mut out = [0xEEu8; 256];
    let result = keyring.decrypt_record_into(record, ctx, &mut out);
    if result.is_err() {
        assert!(
            out.iter().all(|b| *b == 0xEE || *b == 0),
            "output buffer changed on failure"
        );
    }
    result.map(|_| ())
}

#[test]
fn every_bit_flip_and_truncation_of_a_binary_record_is_rejected() {
    let (keyring, ctx, record) = setup();
    let (mut attempts, mut accepted) = (0usize, 0usize);
    let mut kinds = std::collections::BTreeMap::<String, usize>::new();
    for i in 0..record.len() * 8 {
        let mut r = record.clone();
        r[i / 8] ^= 1 << (i % 8);
        attempts += 1;
        match attempt(&keyring, &r, &ctx) {
            Ok(()) => accepted += 1,
            Err(e) => *kinds.entry(kind(&e)).or_default() += 1,
        }
    }
    for n in 0..record.len() {
        attempts += 1;
        match attempt(&keyring, &record[..n], &ctx) {
            Ok(()) => accepted += 1,
            Err(e) => *kinds.entry(kind(&e)).or_default() += 1,
        }
    }
    // Flipped context bytes: every single-bit change of the context's values.
    let mut context_flips = 0;
    for (i, _) in "acme".char_indices() {
        for bit in 0..7 {
            let flipped: String = "acme"
                .char_indices()
                .map(|(j, d)| {
                    if i == j {
                        (d as u8 ^ (1 << bit)) as char
                    } else {
                        d
                    }
                })
                .collect();
            let ctx2 =
                EncryptionContext::from_pairs([("tenant", flipped.as_str()), ("field", "card")])
                    .unwrap();
            attempts += 1;
            context_flips += 1;
            match attempt(&keyring, &record, &ctx2) {
                Ok(()) => accepted += 1,
                Err(e) => assert_eq!(e, Error::AuthenticationFailed),
            }
        }
    }
    println!(
        "tamper (binary record, {} bytes): {attempts} attempts ({} bit flips, {} truncations, {context_flips} context flips), {accepted} accepted; rejections by kind: {kinds:?}",
        record.len(),
        record.len() * 8,
        record.len()
    );
    assert_eq!(accepted, 0);
    // The flips inside nonce, body and tag are authentication failures.
    assert!(kinds["authentication_failed"] >= (record.len() - 9) * 8);
}

#[test]
fn every_bit_flip_and_truncation_of_a_text_record_is_rejected() {
    let (keyring, ctx, record) = setup();
    let text = strongroom::record::to_text(&record);
    let bytes = text.as_bytes();
    let (mut attempts, mut accepted, mut not_utf8) = (0usize, 0usize, 0usize);
    for i in 0..bytes.len() * 8 {
        let mut b = bytes.to_vec();
        b[i / 8] ^= 1 << (i % 8);
        attempts += 1;
        // The text API takes &str: a flip that breaks UTF-8 is rejected at
        // the type boundary, which counts as rejected.
        let Ok(t) = std::str::from_utf8(&b) else {
            not_utf8 += 1;
            continue;
        };
        if strongroom::record::from_text(t)
            .and_then(|r| keyring.decrypt_record(&r, &ctx))
            .is_ok()
        {
            accepted += 1;
        }
    }
    for n in 0..text.len() {
        attempts += 1;
        if strongroom::record::from_text(&text[..n])
            .and_then(|r| keyring.decrypt_record(&r, &ctx))
            .is_ok()
        {
            accepted += 1;
        }
    }
    println!(
        "tamper (text record, {} chars): {attempts} attempts ({} bit flips of which {not_utf8} not UTF-8, {} truncations), {accepted} accepted",
        text.len(),
        bytes.len() * 8,
        text.len()
    );
    assert_eq!(accepted, 0);
    assert!(
        strongroom::record::from_text(&text)
            .and_then(|r| keyring.decrypt_record(&r, &ctx))
            .is_ok()
    );
}

#[test]
fn wrong_key_material_with_the_same_id_is_an_authentication_failure() {
    let (_, ctx, record) = setup();
    // Same key id, same versions, other material: the header resolves, the
    // AEAD refuses, and the error says nothing more than that.
    let t = common::T0;
    let versions = (0..4)
        .map(|_| {
            let m = strongroom::KeyMaterial::from_slice(&[0x77; 32]).unwrap();
            strongroom::VersionImport::new(strongroom::VersionState::Enabled, t, Some(m))
        })
        .collect();
    let import = strongroom::KeyImport::new("k", KeyId::from_u32(TEST_KEY_ID), t, versions);
    let mut other = Keyring::new();
    other.import_key(import).unwrap();
    assert_eq!(
        other.decrypt_record(&record, &ctx).unwrap_err(),
        Error::AuthenticationFailed
    );
}

fn kind(e: &Error) -> String {
    e.kind().name().to_string()
}
