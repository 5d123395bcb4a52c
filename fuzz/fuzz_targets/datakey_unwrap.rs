//! Arbitrary bytes as a wrapped data key: never panics, never unwraps.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strongroom::{EncryptionContext, datakey};

fuzz_target!(|data: &[u8]| {
    let keyring = strongroom_fuzz::keyring();
    let _ = datakey::inspect_wrapped_key(data);
    assert!(
        keyring
            .unwrap_data_key(data, &EncryptionContext::new())
            .is_err()
    );
});
