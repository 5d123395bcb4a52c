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
                // No plaintext on failure: the portable backend leaves the
                // ciphertext, the fast one zeroes the buffer; a length
                // error touches nothing.
                if FAST && iv.len() == alg.nonce_len() {
                    assert!(
                        buf.iter().all(|&b| b == 0),
                        "tcId {}: plaintext left",
                        case.id
                    );
                } else {
                    assert_eq!(buf, ct, "tcId {}: buffer changed on failure", case.id);
                }
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

/// The fast backend (when built in) and the portable one give the same
/// bytes and the same verdicts: every Wycheproof case of both algorithms,
/// then random keys, nonces, associated data (0 to 300 bytes) and
/// messages from 0 bytes to just over three 64 KiB envelope chunks, each
/// sealed by one and opened by the other, and refused by both after one
/// flipped bit. Without the fast backend, this checks the portable one
/// against itself and says so.
#[test]
fn backends_agree() {
    let (mut wycheproof, mut random) = (0, 0);
    for (name, alg) in [
        ("chacha20_poly1305_test.json", Algorithm::ChaCha20Poly1305),
        ("xchacha20_poly1305_test.json", Algorithm::XChaCha20Poly1305),
    ] {
        let file = WycheproofFile::<Case>::load(name);
        for case in file.cases() {
            let h = |s: &str| hex::decode(s).expect("hex");
            let (key, iv, aad, msg) = (h(&case.key), h(&case.iv), h(&case.aad), h(&case.msg));
            if iv.len() != alg.nonce_len() {
                continue;
            }
            let key = KeyMaterial::from_slice(&key).unwrap();
            let (mut a, mut b) = (msg.clone(), msg.clone());
            let ta = portable::seal(alg, &key, &iv, &aad, &mut a).unwrap();
            let tb = encrypt_in_place(alg, &key, &iv, &aad, &mut b).unwrap();
            assert_eq!((a.clone(), ta), (b, tb), "{name} tcId {}", case.id);
            let (ct, tag) = (h(&case.ct), h(&case.tag));
            let tag: [u8; TAG_LEN] = tag.try_into().unwrap();
            let (mut pa, mut pb) = (ct.clone(), ct.clone());
            let ra = portable::open(alg, &key, &iv, &aad, &mut pa, &tag);
            let rb = decrypt_in_place(alg, &key, &iv, &aad, &mut pb, &tag);
            assert_eq!(ra.is_ok(), rb.is_ok(), "{name} tcId {} verdict", case.id);
            if ra.is_ok() {
                assert_eq!(pa, pb, "{name} tcId {} plaintext", case.id);
            }
            wycheproof += 1;
        }
    }
    let mut rng = XorShift(0x5eed_0123_4567_89ab);
    let sizes = [
        0usize, 1, 15, 16, 17, 63, 64, 65, 255, 256, 1024, 65_536, 65_537, 131_072, 196_608,
        196_625,
    ];
    for (i, &n) in sizes.iter().chain(core::iter::repeat_n(&0, 24)).enumerate() {
        let n = if i >= sizes.len() {
            (rng.next_u32() as usize) % 200_000
        } else {
            n
        };
        let alg = if i % 3 == 0 {
            Algorithm::ChaCha20Poly1305
        } else {
            Algorithm::XChaCha20Poly1305
        };
        let mut key = [0u8; 32];
        rng.fill_bytes(&mut key);
        let key = KeyMaterial::from_slice(&key).unwrap();
        let mut nonce = alloc::vec![0u8; alg.nonce_len()];
        rng.fill_bytes(&mut nonce);
        let mut aad = alloc::vec![0u8; (rng.next_u32() % 301) as usize];
        rng.fill_bytes(&mut aad);
        let mut msg = alloc::vec![0u8; n];
        rng.fill_bytes(&mut msg);
        let (mut a, mut b) = (msg.clone(), msg.clone());
        let ta = portable::seal(alg, &key, &nonce, &aad, &mut a).unwrap();
        let tb = encrypt_in_place(alg, &key, &nonce, &aad, &mut b).unwrap();
        assert_eq!(ta, tb, "size {n}: tags differ");
        assert!(a == b, "size {n}: ciphertexts differ");
        // Each opens the other's output.
        let mut pa = b.clone();
        portable::open(alg, &key, &nonce, &aad, &mut pa, &tb).unwrap();
        let mut pb = a.clone();
        decrypt_in_place(alg, &key, &nonce, &aad, &mut pb, &ta).unwrap();
        assert!(pa == msg && pb == msg, "size {n}: round trip");
        // One flipped bit (in the message, or in the tag when it is empty)
        // is refused by both, leaving no plaintext.
        let (mut fa, mut fb, mut tag) = (a.clone(), a.clone(), ta);
        if n > 0 {
            let at = (rng.next_u32() as usize) % n;
            fa[at] ^= 1;
            fb[at] ^= 1;
        } else {
            tag[0] ^= 0x80;
        }
        let before = fa.clone();
        assert!(portable::open(alg, &key, &nonce, &aad, &mut fa, &tag).is_err());
        assert!(decrypt_in_place(alg, &key, &nonce, &aad, &mut fb, &tag).is_err());
        assert!(fa == before, "portable: buffer changed on failure");
        assert!(
            !FAST || fb.iter().all(|&x| x == 0),
            "fast: plaintext left on failure"
        );
        random += 1;
    }
    println!(
        "aead backends ({}): {wycheproof} Wycheproof cases and {random} random messages (0 B to 196625 B, random AAD) agree byte for byte",
        if FAST {
            "fast ring vs portable RustCrypto"
        } else {
            "portable only: no fast backend in this build"
        }
    );
    assert!(wycheproof >= 600 && random == 40);
}

/// Test inputs only (not a CSPRNG): xorshift64*.
struct XorShift(u64);

impl XorShift {
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }
    fn fill_bytes(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

/// The stack-built associated data is byte for byte the heap-built one, on
/// both sides of the stack buffer's size (context values from empty to past
/// `STACK_AAD_LEN`), and without a context.
#[test]
fn stack_associated_data_matches_the_heap_built_one() {
    let label = b"strongroom/record/v1";
    let header = [1u8, 0, 0, 0, 7, 0, 0, 0, 2];
    let mut sizes_seen = alloc::collections::BTreeSet::new();
    for value_len in 0..300 {
        let value: String = core::iter::repeat_n('v', value_len).collect();
        let ctx = EncryptionContext::new()
            .with("table", "t")
            .and_then(|c| c.with("column", &value))
            .unwrap_or_else(|e| panic!("context: {e}"));
        let heap = associated_data(label, &[&header], Some(&ctx));
        let stack = with_associated_data(label, &[&header], Some(&ctx), <[u8]>::to_vec);
        assert_eq!(stack, heap, "value length {value_len}");
        sizes_seen.insert(heap.len().cmp(&STACK_AAD_LEN));
    }
    assert_eq!(sizes_seen.len(), 3, "below, at and above the stack buffer");
    let heap = associated_data(label, &[&header, b"more"], None);
    let stack = with_associated_data(label, &[&header, b"more"], None, <[u8]>::to_vec);
    assert_eq!(stack, heap);
    // Each length term matters: an empty label, no context, and parts past
    // the stack buffer, where a length summed wrong would pick the stack
    // and lose bytes.
    let long = [0x5au8; 300];
    let one = EncryptionContext::new()
        .with("k", "v")
        .unwrap_or_else(|e| panic!("{e}"));
    for (label, parts, ctx) in [
        (&b""[..], &[&long[..]][..], None),
        (&b"l"[..], &[&long[..]][..], None),
        (&b""[..], &[&long[..]][..], Some(&one)),
        (&label[..], &[&long[..200], &long[..100]][..], None),
    ] {
        let heap = associated_data(label, parts, ctx);
        let stack = with_associated_data(label, parts, ctx, <[u8]>::to_vec);
        assert_eq!(
            stack,
            heap,
            "label {} bytes, context {}",
            label.len(),
            ctx.is_some()
        );
    }
}
