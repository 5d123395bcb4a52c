//! Arbitrary bytes as a wrapped data key: never panics, never unwraps, and
//! what parses re-encodes to the identical bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strongroom::{EncryptionContext, datakey};

fuzz_target!(|data: &[u8]| {
    let keyring = strongroom_fuzz::keyring();
    let inspected = datakey::inspect_wrapped_key(data);
    let again = strongroom::fuzzing::wrapped_key(data);
    assert_eq!(inspected.is_ok(), again.is_some());
    if let Some(again) = again {
        assert_eq!(again, data);
    }
    assert!(
        keyring
            .unwrap_data_key(data, &EncryptionContext::new())
            .is_err()
    );
});
