//! The incremental decryptor fed at arbitrary boundaries agrees with the
//! in-memory decryptor on any input, including valid envelopes the target
//! builds itself; so does its caller-buffer form (`update_into` into
//! buffers of exactly the bound), which never writes past the bound.
//!
//! Input: byte 0, low bit 1 to encrypt the data first (a valid envelope
//! of it) or 0 to take the data as an envelope; byte 1, the number k of
//! split bytes that follow (mod 64); then k split bytes, each a piece
//! length minus one; the rest is the data. A plain byte layout, not
//! `arbitrary`'s, so the committed seeds (fuzz/seeds/envelope_stream) keep
//! their meaning across library versions.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strongroom::envelope::{self, EnvelopeDecryptor, Recipient};
use strongroom::{EncryptionContext, SecretBytes, SysRng};

fuzz_target!(|input: &[u8]| {
    let [flags, k, rest @ ..] = input else {
        return;
    };
    let build = flags & 1 == 1;
    let (splits, bytes) = rest.split_at(usize::from(k % 64).min(rest.len()));
    let keyring = std::sync::Arc::new(strongroom_fuzz::keyring());
    let ctx = EncryptionContext::new();
    let sealed = if build {
        let r = [Recipient::Key {
            keyring: &keyring,
            name: "fuzz",
        }];
        envelope::encrypt(&r, bytes, &ctx, 64, &mut SysRng).unwrap()
    } else {
        bytes.to_vec()
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
    // The same input through the caller-buffer path, same splits.
    let mut d2 = EnvelopeDecryptor::new(keyring.clone(), &ctx);
    let mut out2 = Vec::new();
    let mut rest: &[u8] = &sealed;
    let mut result2 = Ok(());
    for s in splits.iter().chain(std::iter::once(&255u8)) {
        let n = (usize::from(*s) + 1).min(rest.len());
        let (now, later) = rest.split_at(n);
        let mut buf = vec![0u8; d2.update_output_bound(now.len())];
        result2 = d2
            .update_into(now, &mut buf)
            .map(|w| out2.extend_from_slice(&buf[..w]));
        rest = later;
        if result2.is_err() || rest.is_empty() {
            break;
        }
    }
    if result2.is_ok() && !rest.is_empty() {
        let mut buf = vec![0u8; d2.update_output_bound(rest.len())];
        result2 = d2
            .update_into(rest, &mut buf)
            .map(|w| out2.extend_from_slice(&buf[..w]));
    }
    if result2.is_ok() {
        let mut buf = vec![0u8; d2.finish_output_bound()];
        result2 = d2
            .finish_into(&mut buf)
            .map(|w| out2.extend_from_slice(&buf[..w]));
    }
    assert_eq!(result.is_ok(), result2.is_ok());
    match whole {
        Ok(pt) => {
            assert!(result.is_ok());
            assert_eq!(out.expose_secret(), pt.expose_secret());
            assert_eq!(&out2[..], pt.expose_secret());
            if build {
                assert_eq!(pt.expose_secret(), bytes);
            }
        }
        Err(_) => assert!(result.is_err()),
    }
});
