//! Arbitrary bytes as an envelope opened by a keyring that knows the key id
//! the fuzzer may guess: whole, by chunk, and as a wrapped data key blob.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strongroom::EncryptionContext;
use strongroom::envelope::{self, Identity};

fuzz_target!(|data: &[u8]| {
    let keyring = strongroom_fuzz::keyring();
    let ctx = EncryptionContext::new();
    // Forged bytes cannot carry a valid commitment.
    assert!(envelope::decrypt(envelope::Identity::Keyring(&keyring), data, &ctx).is_err());
    for i in 0..3 {
        assert!(envelope::decrypt_chunk(Identity::Keyring(&keyring), data, &ctx, i).is_err());
    }
});
