//! Known-answer tests for the AEAD module: every Wycheproof ChaCha20-Poly1305
//! and XChaCha20-Poly1305 verdict, and the RFC 8439 / XChaCha draft values,
//! all through this module's own length checks.

extern crate std;

use alloc::string::String;
use std::println;

use serde::Deserialize;

use super::*;
use crate::test_vectors::{WycheproofFile, rfc_vectors};

#[derive(Deserialize)]
struct Case {
    #[serde(rename = "tcId")]
    id: u32,
    key: String,
    iv: String,
    aad: String,
    msg: String,
    ct: String,
    tag: String,
    result: String,
}

/// Runs one Wycheproof file; returns (total, valid matched, invalid rejected,
/// rejected at the nonce-length check).
fn run_wycheproof(name: &str, alg: Algorithm) -> (usize, usize, usize, usize) {
    let file = WycheproofFile::<Case>::load(name);
    let (mut total, mut valid, mut invalid, mut nonce_rejects) = (0, 0, 0, 0);
    for case in file.cases() {
        total += 1;
        let h = |s: &str| hex::decode(s).expect("hex");
        let (key, iv, aad, msg, ct, tag) = (
            h(&case.key),
            h(&case.iv),
            h(&case.aad),
            h(&case.msg),
            h(&case.ct),
            h(&case.tag),
        );
        let key = KeyMaterial::from_slice(&key).expect("all Wycheproof ChaCha keys are 256-bit");
        let mut buf = ct.clone();
        let opened = decrypt_in_place(alg, &key, &iv, &aad, &mut buf, &tag);
        match case.result.as_str() {
            "valid" | "acceptable" => {
                assert_eq!(opened, Ok(()), "tcId {} should decrypt", case.id);
                assert_eq!(buf, msg, "tcId {} plaintext", case.id);
                let mut sealed = msg.clone();
                let t = encrypt_in_place(alg, &key, &iv, &aad, &mut sealed).expect("encrypt");
                assert_eq!(sealed, ct, "tcId {} ciphertext", case.id);
                assert_eq!(t.as_slice(), tag.as_slice(), "tcId {} tag", case.id);
                valid += 1;
            }
            "invalid" => {
                assert!(opened.is_err(), "tcId {} must be rejected", case.id);
                assert_eq!(buf, ct, "tcId {}: buffer changed on failure", case.id);
                if iv.len() != alg.nonce_len() {
                    assert_eq!(opened, Err(AeadError::NonceLength), "tcId {}", case.id);
                    let mut m = msg.clone();
                    assert_eq!(
                        encrypt_in_place(alg, &key, &iv, &aad, &mut m),
                        Err(AeadError::NonceLength)
                    );
                    nonce_rejects += 1;
                }
                invalid += 1;
            }
            other => panic!("unknown result {other}"),
        }
    }
    assert_eq!(total, file.number_of_tests, "{name}: every case ran");
    (total, valid, invalid, nonce_rejects)
}

#[test]
fn wycheproof_chacha20_poly1305() {
    let (total, valid, invalid, nonce) =
        run_wycheproof("chacha20_poly1305_test.json", Algorithm::ChaCha20Poly1305);
    println!(
        "wycheproof chacha20_poly1305: {total} cases matched ({valid} valid, {invalid} invalid, {nonce} rejected at the nonce-length check)"
    );
    assert_eq!(total, 325);
}

#[test]
fn wycheproof_xchacha20_poly1305() {
    let (total, valid, invalid, nonce) =
        run_wycheproof("xchacha20_poly1305_test.json", Algorithm::XChaCha20Poly1305);
    println!(
        "wycheproof xchacha20_poly1305: {total} cases matched ({valid} valid, {invalid} invalid, {nonce} rejected at the nonce-length check)"
    );
    assert_eq!(total, 315);
}

#[test]
fn rfc_known_answers() {
    let json = rfc_vectors();
    let mut matched = 0;
    for (name, alg) in [
        ("aead_chacha20_poly1305", Algorithm::ChaCha20Poly1305),
        ("aead_xchacha20_poly1305", Algorithm::XChaCha20Poly1305),
    ] {
        let v = &json[name];
        let h = |field: &str| hex::decode(v[field].as_str().expect(field)).expect("hex");
        let key = KeyMaterial::from_slice(&h("key_hex")).expect("key");
        let mut buf = h("plaintext_hex");
        let tag = encrypt_in_place(alg, &key, &h("nonce_hex"), &h("aad_hex"), &mut buf).unwrap();
        assert_eq!(buf, h("ciphertext_hex"), "{name} ciphertext");
        assert_eq!(tag.as_slice(), h("tag_hex").as_slice(), "{name} tag");
        let mut sealed = buf.clone();
        sealed.extend_from_slice(&tag);
        assert_eq!(sealed, h("sealed_hex"), "{name} sealed form");
        decrypt_in_place(alg, &key, &h("nonce_hex"), &h("aad_hex"), &mut buf, &tag).unwrap();
        assert_eq!(buf, h("plaintext_hex"), "{name} round trip");
        matched += 1;
    }
    println!(
        "rfc vectors: {matched} AEAD known answers matched (RFC 8439 2.8.2, draft-irtf-cfrg-xchacha-03 A.3.1)"
    );
    assert_eq!(matched, 2);
}

#[test]
fn wrong_tag_length_is_a_length_error() {
    let key = KeyMaterial::from_slice(&[7; 32]).unwrap();
    let mut buf = [0u8; 4];
    let r = decrypt_in_place(
        Algorithm::XChaCha20Poly1305,
        &key,
        &[1; 24],
        b"",
        &mut buf,
        &[0; 15],
    );
    assert_eq!(r, Err(AeadError::TagLength));
}
