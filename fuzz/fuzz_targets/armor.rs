//! Arbitrary bytes as an armored envelope (FORMAT.md 12): decoding is
//! strict, so anything that decodes re-armors to the identical text; the
//! streaming reader, read in small pieces, agrees with the whole-buffer
//! decoder; and what decodes goes on to the envelope parser.
#![no_main]

use std::io::Read;

use libfuzzer_sys::fuzz_target;
use strongroom::EncryptionContext;
use strongroom::envelope::{self, ArmorReader, armor, dearmor};

fuzz_target!(|data: &[u8]| {
    let whole = dearmor(data);
    let mut streamed = Vec::new();
    let mut reader = ArmorReader::new(data);
    let mut buf = [0u8; 7];
    let streamed_ok = loop {
        match reader.read(&mut buf) {
            Ok(0) => break true,
            Ok(n) => streamed.extend_from_slice(&buf[..n]),
            Err(_) => break false,
        }
    };
    assert_eq!(whole.is_ok(), streamed_ok);
    let Ok(decoded) = whole else { return };
    assert_eq!(decoded, streamed);
    assert_eq!(armor(&decoded).as_bytes(), data);
    let keyring = strongroom_fuzz::keyring();
    let _ = envelope::decrypt(
        envelope::Identity::Keyring(&keyring),
        &decoded,
        &EncryptionContext::new(),
    );
});
