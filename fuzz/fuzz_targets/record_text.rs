//! Arbitrary bytes as a text-form record: decoding is strict, so anything
//! that decodes re-encodes to the identical text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strongroom::{EncryptionContext, inspect_record, record};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let keyring = strongroom_fuzz::keyring();
    let ctx = EncryptionContext::new();
    let Ok(decoded) = record::from_text(text) else {
        return;
    };
    // What decodes came from canonical base64, and re-encodes identically.
    let b64 = text.strip_prefix("sr1:").unwrap();
    assert_eq!(base64_decode(b64), decoded);
    assert_eq!(record::to_text(&decoded), text);
    let _ = keyring.decrypt_record(&decoded, &ctx);
    let _ = inspect_record(&decoded);
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
