//! Arbitrary bytes as a binary record: parse, inspect and decrypt must never
//! panic, must agree with each other, and must leave a caller's buffer
//! free of plaintext on failure; what parses re-encodes to the identical
//! bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strongroom::{EncryptionContext, inspect_record};

fuzz_target!(|data: &[u8]| {
    let keyring = strongroom_fuzz::keyring();
    let ctx = EncryptionContext::new();
    let inspected = inspect_record(data);
    let decrypted = keyring.decrypt_record(data, &ctx);
    let again = strongroom::fuzzing::record(data);
    assert_eq!(again.is_some(), inspected.is_ok());
    if let Some(again) = again {
        assert_eq!(again, data);
    }
    if inspected.is_err() {
        assert!(decrypted.is_err());
    }
    if let Ok(pt) = &decrypted {
        assert_eq!(pt.len(), inspected.as_ref().unwrap().plaintext_len);
    }
    let mut out = vec![0xEEu8; data.len()];
    match keyring.decrypt_record_into(data, &ctx, &mut out) {
        Ok(n) => assert_eq!(
            Some(&out[..n]),
            decrypted.as_ref().ok().map(|p| p.expose_secret())
        ),
        Err(_) => assert!(out.iter().all(|b| *b == 0 || *b == 0xEE)),
    }
});
