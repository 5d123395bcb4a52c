//! Canonical re-encoding, for the fuzz targets (issue #17). Compiled only
//! under `--cfg fuzzing`, which cargo-fuzz sets for every crate it builds;
//! never part of the library's API.
//!
//! Each function parses with the library's own strict parser and writes
//! what it parsed back out: with the encoder's own writer where there is
//! one (envelope header, keyring payload), by the FORMAT.md layout from the
//! parsed fields where the writer is inline in an encryption function
//! (record, wrapped key, keyring file). `None` means the parser refused.
//! A target asserts that what a parser accepts re-encodes to exactly its
//! input, so no object has two encodings that parse.
#![doc(hidden)]

use alloc::vec::Vec;

/// A binary record (FORMAT.md 4).
pub fn record(bytes: &[u8]) -> Option<Vec<u8>> {
    crate::record::reencode(bytes)
}

/// The header at the start of an envelope (FORMAT.md 7.1).
pub fn envelope_header(bytes: &[u8]) -> Option<Vec<u8>> {
    crate::envelope::header_reencode(bytes)
}

/// A wrapped data key (FORMAT.md 8).
pub fn wrapped_key(bytes: &[u8]) -> Option<Vec<u8>> {
    crate::datakey::reencode(bytes)
}

/// A keyring file's structure (FORMAT.md 10.2), before any decryption.
pub fn keyring_file(bytes: &[u8]) -> Option<Vec<u8>> {
    crate::keyring_file::reencode(bytes)
}

/// A decrypted keyring payload (FORMAT.md 10.4).
pub fn keyring_payload(bytes: &[u8]) -> Option<Vec<u8>> {
    crate::Keyring::reencode(bytes)
}

/// The payload a keyring encodes to, for seeds of the payload decoder
/// (fuzz/examples/make_seeds.rs; test keyrings only).
pub fn keyring_payload_of(keyring: &crate::Keyring) -> Vec<u8> {
    keyring.encode().expose_secret().to_vec()
}

/// The re-encoders themselves, on objects the library made and on inputs
/// each parser refuses. Compiled only under `--cfg fuzzing`: the mutation
/// run's fuzzing pass (scripts/mutants.sh, tests/mutants/fuzzing.txt) runs
/// these against the re-encoders' mutants, which the default build leaves
/// out.
#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

    use crate::envelope::{self, Recipient};
    use crate::root::{Argon2Params, KeyFileRoot, PassphraseRoot};
    use crate::{EncryptionContext, KeyMaterial, Keyring, SysRng, keyring_file};

    fn keyring() -> Keyring {
        let mut keyring = Keyring::new();
        keyring.create_key("k").unwrap();
        keyring.rotate("k").unwrap();
        keyring
    }

    fn ctx() -> EncryptionContext {
        EncryptionContext::from_pairs([("row", "7")]).unwrap()
    }

    /// `valid` re-encodes to exactly `expected`; `refused` to nothing.
    fn check(
        what: &str,
        reencode: fn(&[u8]) -> Option<Vec<u8>>,
        valid: &[u8],
        expected: &[u8],
        refused: &[u8],
    ) {
        assert_eq!(reencode(valid).as_deref(), Some(expected), "{what}");
        assert_eq!(reencode(refused), None, "{what}");
    }

    #[test]
    fn records_wrapped_keys_and_headers_reencode_to_themselves() {
        let keyring = keyring();
        let record = keyring
            .encrypt_record("k", b"ada@example.com", &ctx())
            .unwrap();
        let mut unsupported = record.clone();
        unsupported[0] = 0xFF;
        check("record", super::record, &record, &record, &unsupported);

        let blob = keyring
            .generate_data_key("k", &ctx())
            .unwrap()
            .into_parts()
            .1;
        let short = &blob[..blob.len() - 1];
        check("wrapped key", super::wrapped_key, &blob, &blob, short);

        let sealed = envelope::encrypt(
            &[Recipient::Key {
                keyring: &keyring,
                name: "k",
            }],
            &[7u8; 300],
            &ctx(),
            64,
            &mut SysRng,
        )
        .unwrap();
        let header_len = envelope::inspect(&sealed).unwrap().header_len;
        assert!(header_len < sealed.len());
        let header = &sealed[..header_len];
        check(
            "envelope header",
            super::envelope_header,
            &sealed,
            header,
            &sealed[..8],
        );
    }

    #[test]
    fn keyring_files_and_payloads_reencode_to_themselves() {
        let keyring = keyring();
        let key = KeyMaterial::from_slice(&[0x42; 32]).unwrap();
        let file = keyring_file::encrypt(&keyring, &KeyFileRoot::new(&key), &mut SysRng).unwrap();
        check(
            "key-file keyring file",
            super::keyring_file,
            &file,
            &file,
            &file[..40],
        );

        // A passphrase root's parameter block is rebuilt from its costs, so
        // costs out of bounds, which the file's structure does not check,
        // re-encode to nothing.
        let cheap = Argon2Params {
            m_cost_kib: 8,
            t_cost: 1,
            p_cost: 1,
        };
        let root = PassphraseRoot::with_params(b"correct horse", cheap);
        let file = keyring_file::encrypt(&keyring, &root, &mut SysRng).unwrap();
        // v2: magic, format, kind, id[16], generation u64, params_len u16,
        // then the costs: m, t, p (FORMAT.md 10.2, 10.3).
        assert_eq!(&file[32..44], &[0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, 1]);
        let mut no_lanes = file.clone();
        no_lanes[43] = 0;
        assert!(keyring_file::inspect(&no_lanes).is_err());
        check(
            "passphrase keyring file",
            super::keyring_file,
            &file,
            &file,
            &no_lanes,
        );

        let payload = super::keyring_payload_of(&keyring);
        let short = &payload[..payload.len() - 1];
        check(
            "keyring payload",
            super::keyring_payload,
            &payload,
            &payload,
            short,
        );
    }
}
