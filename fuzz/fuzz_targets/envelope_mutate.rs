//! A valid envelope, then mutated (bit flips, truncation, inserted or
//! removed bytes): it decrypts only if the mutation changed nothing, and
//! the incremental decryptor never releases anything but a prefix of the
//! true plaintext.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strongroom::envelope::{self, EnvelopeDecryptor, Recipient};
use strongroom::{EncryptionContext, SecretBytes, SysRng};

fuzz_target!(
    |input: (Vec<u8>, Vec<(u16, u8)>, Option<u16>, Option<(u16, u8)>)| {
        let (plaintext, flips, truncate, insert) = input;
        let keyring = std::sync::Arc::new(strongroom_fuzz::keyring());
        let ctx = EncryptionContext::new();
        let r = [Recipient::Key {
            keyring: &keyring,
            name: "fuzz",
        }];
        let original = envelope::encrypt(&r, &plaintext, &ctx, 64, &mut SysRng).unwrap();
        let mut m = original.clone();
        for (pos, mask) in flips {
            let i = usize::from(pos) % m.len();
            m[i] ^= mask;
        }
        if let Some(t) = truncate {
            m.truncate(usize::from(t) % (m.len() + 1));
        }
        if let Some((pos, byte)) = insert {
            let i = usize::from(pos) % (m.len() + 1);
            m.insert(i, byte);
        }
        let whole = envelope::decrypt(envelope::Identity::Keyring(&keyring), &m, &ctx);
        if m == original {
            assert_eq!(whole.unwrap().expose_secret(), &plaintext[..]);
        } else {
            assert!(whole.is_err(), "a mutated envelope decrypted");
        }
        let mut d = EnvelopeDecryptor::new(keyring.clone(), &ctx);
        let mut out = SecretBytes::new();
        let result = d.update(&m, &mut out).and_then(|()| d.finish(&mut out));
        assert!(
            plaintext.starts_with(out.expose_secret()),
            "released bytes that are not a prefix"
        );
        assert_eq!(result.is_ok(), m == original);
    }
);
