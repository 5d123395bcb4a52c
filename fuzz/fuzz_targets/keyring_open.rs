//! The keyring file parser: arbitrary bytes as a sealed keyring, and
//! arbitrary bytes as the *payload* of a correctly sealed one (sealed here
//! by hand with a known key file, FORMAT.md 10), so the payload decoder is
//! fuzzed behind the authentication too. Never panics; what opens re-seals
//! to the same contents, and its lineage is the one `inspect` reads.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strongroom::keyring_file;
use strongroom::root::KeyFileRoot;
use strongroom::{KeyMaterial, SysRng};

const FILE_KEY: [u8; 32] = [0x4b; 32]; // TEST KEY MATERIAL

fuzz_target!(|input: (bool, Vec<u8>)| {
    let (as_payload, data) = input;
    let root = KeyFileRoot::new(&KeyMaterial::from_slice(&FILE_KEY).unwrap());
    let file = if as_payload {
        strongroom_fuzz::hand_sealed(&data, &FILE_KEY)
    } else {
        data
    };
    let info = keyring_file::inspect(&file);
    if let Ok((keyring, lineage)) = keyring_file::open(&file, &root) {
        // What opens, inspects, with the same (authenticated) lineage.
        assert_eq!(info.unwrap().lineage, lineage);
        let again = keyring_file::decrypt(
            &keyring_file::encrypt(&keyring, &root, &mut SysRng).unwrap(),
            &root,
        )
        .unwrap();
        assert!(strongroom_fuzz::same_contents(&again, &keyring));
    }
});
