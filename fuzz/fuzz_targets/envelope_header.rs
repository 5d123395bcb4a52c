//! Arbitrary bytes as an envelope: `inspect` never panics, what it accepts
//! is self-consistent, and a header that parses re-encodes to the
//! identical bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strongroom::envelope;

fuzz_target!(|data: &[u8]| {
    let header = strongroom::fuzzing::envelope_header(data);
    if let Some(h) = &header {
        assert_eq!(h[..], data[..h.len()]);
    }
    if let Ok(info) = envelope::inspect(data) {
        assert_eq!(header.map(|h| h.len()), Some(info.header_len));
        assert!(info.header_len <= data.len());
        assert!((1..=envelope::MAX_RECIPIENTS).contains(&info.recipients.len()));
        assert!(info.chunk_count >= 1);
        let body = (data.len() - info.header_len) as u64;
        assert_eq!(info.plaintext_len + 16 * info.chunk_count, body);
    }
});
