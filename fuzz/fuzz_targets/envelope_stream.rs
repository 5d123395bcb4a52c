//! The incremental decryptor fed at arbitrary boundaries agrees with the
//! in-memory decryptor on any input, including valid envelopes the target
//! builds itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strongroom::envelope::{self, EnvelopeDecryptor, Recipient};
use strongroom::{EncryptionContext, SecretBytes, SysRng};

fuzz_target!(|input: (Vec<u8>, Vec<u8>, bool)| {
    let (bytes, splits, build) = input;
    let keyring = std::sync::Arc::new(strongroom_fuzz::keyring());
    let ctx = EncryptionContext::new();
    let sealed = if build {
        let r = [Recipient::Key {
            keyring: &keyring,
            name: "fuzz",
        }];
        envelope::encrypt(&r, &bytes, &ctx, 64, &mut SysRng).unwrap()
    } else {
        bytes.clone()
    };
    let whole = envelope::decrypt(envelope::Identity::Keyring(&keyring), &sealed, &ctx);
    let mut d = EnvelopeDecryptor::new(keyring.clone(), &ctx);
    let mut out = SecretBytes::new();
    let mut rest: &[u8] = &sealed;
    let mut result = Ok(());
    for s in splits.iter().chain(std::iter::once(&255u8)) {
        let n = (usize::from(*s) + 1).min(rest.len());
        let (now, later) = rest.split_at(n);
        result = d.update(now, &mut out);
        rest = later;
        if result.is_err() || rest.is_empty() {
            break;
        }
    }
    if result.is_ok() && !rest.is_empty() {
        result = d.update(rest, &mut out);
    }
    if result.is_ok() {
        result = d.finish(&mut out);
    }
    match whole {
        Ok(pt) => {
            assert!(result.is_ok());
            assert_eq!(out.expose_secret(), pt.expose_secret());
            if build {
                assert_eq!(pt.expose_secret(), &bytes[..]);
            }
        }
        Err(_) => assert!(result.is_err()),
    }
});
