//! Arbitrary bytes as a text-form record: decoding is strict, so anything
//! that decodes re-encodes to the identical text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strongroom::{EncryptionContext, inspect_record, inspect_record_text, record_to_text};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let keyring = strongroom_fuzz::keyring();
    let ctx = EncryptionContext::new();
    let _ = keyring.decrypt_record_text(text, &ctx);
    if let Ok(header) = inspect_record_text(text) {
        // A header that parses came from canonical base64 of a record.
        let b64 = text.strip_prefix("sr1:").unwrap();
        let bytes = base64_decode(b64);
        assert_eq!(record_to_text(&bytes), text);
        assert_eq!(inspect_record(&bytes).unwrap(), header);
    }
});

fn base64_decode(s: &str) -> Vec<u8> {
    // Minimal independent decoder for the check above.
    let val = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'-' => 62,
            b'_' => 63,
            _ => panic!("not base64url"),
        }
    };
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        acc = (acc << 6) | val(c);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}
