//! Arbitrary bytes as an envelope opened by a keyring that knows the key id
//! the fuzzer may guess: whole and by chunk. Forged bytes cannot carry a
//! valid commitment, so what opens is one of the seeds' valid envelopes
//! (or a fuzzer's copy of one), and one bit flipped anywhere in it stops
//! it opening; its chunk 0 opens to the start of the whole plaintext.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strongroom::EncryptionContext;
use strongroom::envelope::{self, Identity};

fuzz_target!(|data: &[u8]| {
    let keyring = strongroom_fuzz::keyring();
    let ctx = EncryptionContext::new();
    let id = Identity::Keyring(&keyring);
    let whole = envelope::decrypt(id, data, &ctx);
    let chunks: Vec<_> = (0..3)
        .map(|i| envelope::decrypt_chunk(id, data, &ctx, i))
        .collect();
    // A damaged later chunk leaves chunk 0 opening: nothing to assert
    // about chunks of an envelope that does not open as a whole.
    let Ok(plaintext) = whole else {
        return;
    };
    let first = chunks[0].as_ref().unwrap();
    assert!(plaintext.expose_secret().starts_with(first.expose_secret()));
    // One bit flipped in each byte in turn (at most 512 positions).
    let step = data.len().div_ceil(512).max(1);
    for i in (0..data.len()).step_by(step) {
        let mut m = data.to_vec();
        m[i] ^= 0x80;
        assert!(
            envelope::decrypt(id, &m, &ctx).is_err(),
            "byte {i} flipped still opens"
        );
    }
});
