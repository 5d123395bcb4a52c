//! Arbitrary bytes as a canonical encryption-context encoding: the parser
//! accepts only canonical encodings, so what parses re-encodes identically.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strongroom::EncryptionContext;

fuzz_target!(|data: &[u8]| {
    if let Ok(ctx) = EncryptionContext::from_canonical_bytes(data) {
        assert_eq!(ctx.to_canonical_bytes(), data);
        assert_eq!(ctx.encoded_len(), data.len());
    }
});
