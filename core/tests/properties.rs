//! Property tests: round trips for arbitrary plaintexts and contexts, and
//! decryption that never panics (and never accepts) on arbitrary input.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

mod common;

use std::collections::BTreeMap;

use common::keyring_at_version;
use proptest::prelude::*;
use strongroom::{EncryptionContext, Keyring, inspect_record};

fn context_strategy() -> impl Strategy<Value = BTreeMap<String, String>> {
    prop::collection::btree_map("[a-z0-9\\-_./é]{1,16}", "\\PC{0,24}", 0..6)
}

fn context(pairs: &BTreeMap<String, String>) -> EncryptionContext {
    // Insert in reverse to exercise order independence.
    EncryptionContext::from_pairs(pairs.iter().rev()).unwrap()
}

fn keyring() -> Keyring {
    keyring_at_version("k", 2)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn binary_round_trip(plaintext in prop::collection::vec(any::<u8>(), 0..2048), pairs in context_strategy()) {
        let keyring = keyring();
        let ctx = context(&pairs);
        let record = keyring.encrypt_record("k", &plaintext, &ctx).unwrap();
        prop_assert_eq!(record.len(), strongroom::record::record_len(plaintext.len()));
        let header = inspect_record(&record).unwrap();
        prop_assert_eq!(header.key_version, 2);
        prop_assert_eq!(header.plaintext_len, plaintext.len());
        let back = keyring.decrypt_record(&record, &ctx).unwrap();
        prop_assert_eq!(back.expose_secret(), &plaintext[..]);
        // Already under the primary: authenticated, not re-encrypted.
        prop_assert_eq!(keyring.rewrap_record(&record, &ctx).unwrap(), None);
        // After a rotation it moves, and still decrypts.
        let mut keyring = keyring;
        keyring.rotate("k").unwrap();
        let rewrapped = keyring.rewrap_record(&record, &ctx).unwrap().unwrap();
        prop_assert_eq!(inspect_record(&rewrapped).unwrap().key_version, 3);
        let again = keyring.decrypt_record(&rewrapped, &ctx).unwrap();
        prop_assert_eq!(again.expose_secret(), &plaintext[..]);
    }

    #[test]
    fn text_round_trip(plaintext in prop::collection::vec(any::<u8>(), 0..512), pairs in context_strategy()) {
        let keyring = keyring();
        let ctx = context(&pairs);
        let text = keyring.encrypt_record("k", &plaintext, &ctx).map(|r| strongroom::record::to_text(&r)).unwrap();
        prop_assert!(text.starts_with("sr1:"));
        prop_assert!(text[4..].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        let back = strongroom::record::from_text(&text).and_then(|r| keyring.decrypt_record(&r, &ctx)).unwrap();
        prop_assert_eq!(back.expose_secret(), &plaintext[..]);
    }

    #[test]
    fn a_different_context_never_decrypts(
        plaintext in prop::collection::vec(any::<u8>(), 0..64),
        a in context_strategy(),
        b in context_strategy(),
    ) {
        prop_assume!(a != b);
        let keyring = keyring();
        let record = keyring.encrypt_record("k", &plaintext, &context(&a)).unwrap();
        prop_assert_eq!(
            keyring.decrypt_record(&record, &context(&b)).unwrap_err(),
            strongroom::Error::AuthenticationFailed
        );
    }

    #[test]
    fn decrypt_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let keyring = keyring();
        let ctx = EncryptionContext::new();
        // Arbitrary bytes cannot carry a valid tag.
        prop_assert!(keyring.decrypt_record(&bytes, &ctx).is_err());
        let _ = inspect_record(&bytes);
        let mut out = [0u8; 300];
        prop_assert!(keyring.decrypt_record_into(&bytes, &ctx, &mut out).is_err());
        prop_assert!(out.iter().all(|b| *b == 0));
    }

    #[test]
    fn decrypt_never_panics_on_plausible_headers(
        version in 0u32..4,
        body in prop::collection::vec(any::<u8>(), 40..120),
    ) {
        // Headers that name the real key id, so parsing reaches the AEAD.
        let keyring = keyring();
        let mut bytes = vec![1u8];
        bytes.extend_from_slice(&common::TEST_KEY_ID.to_be_bytes());
        bytes.extend_from_slice(&version.to_be_bytes());
        bytes.extend_from_slice(&body);
        prop_assert!(keyring.decrypt_record(&bytes, &EncryptionContext::new()).is_err());
    }

    #[test]
    fn text_decrypt_never_panics(text in "\\PC{0,200}", b64 in "[A-Za-z0-9_\\-=+/]{0,200}") {
        let keyring = keyring();
        let ctx = EncryptionContext::new();
        prop_assert!(strongroom::record::from_text(&text).and_then(|r| keyring.decrypt_record(&r, &ctx)).is_err());
        let prefixed = format!("sr1:{b64}");
        prop_assert!(strongroom::record::from_text(&prefixed).and_then(|r| keyring.decrypt_record(&r, &ctx)).is_err());
        let _ = strongroom::record::from_text(&prefixed).and_then(|r| inspect_record(&r));
    }

    #[test]
    fn context_encoding_round_trips(pairs in context_strategy()) {
        let ctx = context(&pairs);
        let bytes = ctx.to_canonical_bytes();
        prop_assert_eq!(bytes.len(), ctx.encoded_len());
        let back = EncryptionContext::from_canonical_bytes(&bytes).unwrap();
        prop_assert_eq!(&back, &ctx);
    }
}
