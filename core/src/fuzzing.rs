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
