//! Shared set-up for the fuzz targets: a keyring with fixed, clearly fake
//! test keys, so that fuzzed headers can name real key ids and versions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use strongroom::{KeyId, KeyImport, KeyMaterial, Keyring, Timestamp, VersionImport, VersionState};

// The core's test helpers, shared rather than copied: `same_contents`
// compares two keyrings through the public API; `hand_sealed` builds a
// keyring file from FORMAT.md 10 around any payload.
#[path = "../../core/tests/common/mod.rs"]
mod common;
pub use common::{SeededRng, hand_sealed, same_contents};

/// Key id of the fuzz keyring's key "fuzz" (TEST DATA).
pub const FUZZ_KEY_ID: u32 = 0x0102_0304;

/// A keyring whose key "fuzz" has versions 1 (destroyed), 2 (disabled),
/// 3 (enabled) and 4 (enabled, primary), minimum decryption version 2.
pub fn keyring() -> Keyring {
    keyring_with_primary(4)
}

/// [`keyring`] with version `primary` (3 or 4) primary: the seeds use 3
/// to make objects under an enabled version that is not the primary.
pub fn keyring_with_primary(primary: u32) -> Keyring {
    let t = Timestamp::from_unix_seconds(1_700_000_000);
    let material = |b: u8| Some(KeyMaterial::from_slice(&[b; 32]).unwrap());
    let versions = vec![
        VersionImport::new(VersionState::Destroyed, t, None),
        VersionImport::new(VersionState::Disabled, t, material(2)),
        VersionImport::new(VersionState::Enabled, t, material(3)),
        VersionImport::new(VersionState::Enabled, t, material(4)),
    ];
    let mut import = KeyImport::new("fuzz", KeyId::from_u32(FUZZ_KEY_ID), t, versions);
    import.min_decryption_version = 2;
    import.primary_version = primary;
    let mut keyring = Keyring::new();
    keyring.import_key(import).unwrap();
    keyring
}
