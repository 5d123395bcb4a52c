//! The parameters of a transit-sealed keyring file (FORMAT.md 10.3,
//! `root_kind` 5): arbitrary bytes never panic, and whatever parses is
//! canonical: the two names, length-prefixed again, give exactly the
//! input bytes, and both follow the name rules.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strongroom::vault::TransitRoot;

fn allowed(name: &str, slashes: bool) -> bool {
    (1..=255).contains(&name.len())
        && !name.starts_with('/')
        && !name.ends_with('/')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b) || (slashes && b == b'/'))
}

fuzz_target!(|data: &[u8]| {
    if let Ok((mount, key)) = TransitRoot::parse_params(data) {
        assert!(allowed(&mount, true) && allowed(&key, false));
        let mut again = Vec::with_capacity(data.len());
        again.push(u8::try_from(mount.len()).unwrap());
        again.extend_from_slice(mount.as_bytes());
        again.push(u8::try_from(key.len()).unwrap());
        again.extend_from_slice(key.as_bytes());
        assert_eq!(again, data);
    }
});
