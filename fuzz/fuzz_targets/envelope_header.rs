//! Arbitrary bytes as an envelope: `inspect` never panics, and what it
//! accepts is self-consistent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strongroom::envelope;

fuzz_target!(|data: &[u8]| {
    if let Ok(info) = envelope::inspect(data) {
        assert!(info.header_len <= data.len());
        assert!((1..=envelope::MAX_RECIPIENTS).contains(&info.recipients.len()));
        assert!(info.chunk_count >= 1);
        let body = (data.len() - info.header_len) as u64;
        assert_eq!(info.plaintext_len + 16 * info.chunk_count, body);
    }
});
