//! The generation file beside a keyring (FORMAT.md 10.6): arbitrary bytes
//! never panic, and whatever parses is canonical: writing the parsed
//! lineage back gives exactly the input bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strongroom::keyring_file;

fuzz_target!(|data: &[u8]| {
    if let Ok(lineage) = keyring_file::parse_generation_file(data) {
        assert!(lineage.generation >= 1);
        assert_eq!(
            keyring_file::generation_file_bytes(lineage).as_bytes(),
            data
        );
    }
});
