//! The keyring file parser: arbitrary bytes as a sealed keyring, and
//! arbitrary bytes as the *payload* of a correctly sealed one (sealed here
//! by hand with a known key file, FORMAT.md 10), so the payload decoder is
//! fuzzed behind the authentication too. Never panics; what parses
//! re-encodes to the identical bytes (file structure and payload); what
//! opens re-seals to the same contents, and its lineage is the one
//! `inspect` reads.
//!
//! Input: byte 0 picks the mode (low bit 1: the rest is a payload to seal;
//! 0: the rest is a file), the rest is the data. A plain byte layout, not
//! `arbitrary`'s, so the committed seeds (fuzz/seeds/keyring_open) keep
//! their meaning across library versions.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strongroom::keyring_file;
use strongroom::root::KeyFileRoot;
use strongroom::{KeyMaterial, SysRng};

const FILE_KEY: [u8; 32] = [0x4b; 32]; // TEST KEY MATERIAL

fuzz_target!(|input: &[u8]| {
    let Some((&mode, data)) = input.split_first() else {
        return;
    };
    let as_payload = mode & 1 == 1;
    let root = KeyFileRoot::new(&KeyMaterial::from_slice(&FILE_KEY).unwrap());
    let file = if as_payload {
        strongroom_fuzz::hand_sealed(data, &FILE_KEY)
    } else {
        data.to_vec()
    };
    let info = keyring_file::inspect(&file);
    match strongroom::fuzzing::keyring_file(&file) {
        Some(again) => assert_eq!(again, file),
        None => assert!(info.is_err()),
    }
    let payload = as_payload.then(|| strongroom::fuzzing::keyring_payload(data));
    if let Some(Some(again)) = &payload {
        assert_eq!(again[..], data[..]);
    }
    if let Ok((keyring, lineage)) = keyring_file::open(&file, &root) {
        // What opens, inspects, with the same (authenticated) lineage.
        assert_eq!(info.unwrap().lineage, lineage);
        // A payload the file opened with is one the decoder accepts.
        assert!(!matches!(payload, Some(None)));
        let again = keyring_file::decrypt(
            &keyring_file::encrypt(&keyring, &root, &mut SysRng).unwrap(),
            &root,
        )
        .unwrap();
        assert!(strongroom_fuzz::same_contents(&again, &keyring));
    }
});
