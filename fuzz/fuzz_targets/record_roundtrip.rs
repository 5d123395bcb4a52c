//! Structured round trip: any plaintext and context encrypt, decrypt back to
//! the same bytes, are left alone by a rewrap (they are under the primary
//! already), and refuse a different context.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strongroom::{EncryptionContext, record};

fuzz_target!(|input: (Vec<u8>, Vec<(String, String)>, bool)| {
    let (plaintext, pairs, text) = input;
    let Ok(ctx) = EncryptionContext::from_pairs(pairs.iter().map(|(k, v)| (k, v))) else {
        return;
    };
    let keyring = strongroom_fuzz::keyring();
    if text {
        let column = record::to_text(&keyring.encrypt_record("fuzz", &plaintext, &ctx).unwrap());
        let binary = record::from_text(&column).unwrap();
        assert_eq!(
            keyring
                .decrypt_record(&binary, &ctx)
                .unwrap()
                .expose_secret(),
            &plaintext[..]
        );
        // Already under the primary: authenticated, left as it is.
        assert_eq!(keyring.rewrap_record(&binary, &ctx).unwrap(), None);
    } else {
        let record = keyring.encrypt_record("fuzz", &plaintext, &ctx).unwrap();
        assert_eq!(
            keyring
                .decrypt_record(&record, &ctx)
                .unwrap()
                .expose_secret(),
            &plaintext[..]
        );
        let other = ctx.clone().with("fuzz-extra", "x");
        if let Ok(other) = other {
            assert!(keyring.decrypt_record(&record, &other).is_err());
        }
    }
});
