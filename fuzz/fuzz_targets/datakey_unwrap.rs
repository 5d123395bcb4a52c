//! Arbitrary bytes as a wrapped data key: never panics; what parses
//! re-encodes to the identical bytes; what unwraps names an enabled
//! version at or above the minimum (fuzz keyring: 3 or 4), and stops
//! unwrapping when any one of its bytes changes (the seeds hold valid
//! wrapped keys, so this runs).
#![no_main]

use libfuzzer_sys::fuzz_target;
use strongroom::{EncryptionContext, datakey};

fuzz_target!(|data: &[u8]| {
    let keyring = strongroom_fuzz::keyring();
    let ctx = EncryptionContext::new();
    let inspected = datakey::inspect_wrapped_key(data);
    let again = strongroom::fuzzing::wrapped_key(data);
    assert_eq!(inspected.is_ok(), again.is_some());
    if let Some(again) = again {
        assert_eq!(again, data);
    }
    if keyring.unwrap_data_key(data, &ctx).is_ok() {
        let named = inspected.unwrap();
        assert_eq!(named.key_id.as_u32(), strongroom_fuzz::FUZZ_KEY_ID);
        assert!(matches!(named.version, 3 | 4));
        for i in 0..data.len() {
            let mut m = data.to_vec();
            m[i] ^= 0x01;
            assert!(
                keyring.unwrap_data_key(&m, &ctx).is_err(),
                "byte {i} flipped still unwraps"
            );
        }
    }
});
