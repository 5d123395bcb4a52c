//! The numbers that cross a boundary (C result codes, Python exceptions,
//! audit logs, keyring files) are frozen here: adding a row is fine;
//! changing or reusing a number or a name fails this test.
#![allow(
    clippy::std_instead_of_alloc,
    clippy::std_instead_of_core,
    clippy::unwrap_used,
    clippy::panic
)]

use strongroom::audit::{AuditAction, AuditObject};
use strongroom::root::RootKind;
use strongroom::{Error, ErrorKind, KeyId, VersionState};

#[test]
fn audit_actions_are_frozen() {
    let frozen: &[(u8, &str)] = &[
        (1, "key_created"),
        (2, "key_imported"),
        (3, "key_rotated"),
        (4, "version_enabled"),
        (5, "version_disabled"),
        (6, "version_destroyed"),
        (7, "min_decryption_version_changed"),
        (8, "rotation_period_changed"),
        (9, "encrypt"),
        (10, "decrypt"),
        (11, "rewrap"),
        (12, "derive"),
        (13, "key_exported"),
        (14, "root_changed"),
        (15, "keyring_opened"),
        (16, "root_retired"),
        (17, "restore_accepted"),
    ];
    let table: Vec<(u8, &str)> = AuditAction::ALL
        .iter()
        .map(|a| (a.code(), a.name()))
        .collect();
    assert_eq!(&table[..frozen.len()], frozen, "renumbered or renamed");
    assert_unique(table.iter().map(|(c, _)| u16::from(*c)));
}

#[test]
fn audit_objects_are_frozen() {
    let frozen: &[(u8, &str)] = &[
        (1, "key"),
        (2, "record"),
        (3, "envelope"),
        (4, "data_key"),
        (5, "keyring"),
    ];
    let table: Vec<(u8, &str)> = AuditObject::ALL
        .iter()
        .map(|a| (a.code(), a.name()))
        .collect();
    assert_eq!(&table[..frozen.len()], frozen);
    assert_unique(table.iter().map(|(c, _)| u16::from(*c)));
}

#[test]
fn version_states_are_frozen() {
    let frozen: &[(u8, &str)] = &[(1, "enabled"), (2, "disabled"), (3, "destroyed")];
    let table: Vec<(u8, &str)> = VersionState::ALL
        .iter()
        .map(|s| (s.code(), s.name()))
        .collect();
    assert_eq!(&table[..frozen.len()], frozen);
    for s in VersionState::ALL {
        assert_eq!(VersionState::from_code(s.code()), Some(*s));
    }
    assert_eq!(VersionState::from_code(0), None);
}

#[test]
fn root_kinds_are_frozen() {
    let frozen: &[(u8, &str)] = &[
        (1, "passphrase"),
        (2, "key file"),
        (3, "PKCS#11 key"),
        (4, "external key provider"),
        (5, "Vault transit key"),
    ];
    let table: Vec<(u8, &str)> = RootKind::ALL
        .iter()
        .map(|k| (k.to_byte(), k.name()))
        .collect();
    assert_eq!(&table[..frozen.len()], frozen);
    for k in RootKind::ALL {
        assert_eq!(RootKind::from_byte(k.to_byte()), Some(*k));
    }
}

/// One value of every `Error` variant. The match below has no wildcard
/// arm inside the crate's view, so a new variant must be added here (the
/// enum is non_exhaustive, so the compiler cannot force it; the count check
/// against `ErrorKind::ALL` does).
fn one_of_each() -> Vec<Error> {
    let id = KeyId::from_u32(7);
    vec![
        Error::AuthenticationFailed,
        Error::UnknownKeyName { name: "k".into() },
        Error::UnknownKeyId { key_id: id },
        Error::UnknownKeyVersion {
            key_id: id,
            version: 2,
        },
        Error::VersionDisabled {
            key_id: id,
            version: 2,
        },
        Error::VersionDestroyed {
            key_id: id,
            version: 2,
        },
        Error::VersionBelowMinimum {
            key_id: id,
            version: 1,
            minimum: 2,
        },
        Error::PrimaryVersion {
            key_id: id,
            version: 2,
        },
        Error::KeyExists { name: "k".into() },
        Error::Malformed { reason: "x" },
        Error::UnsupportedFormat { version: 9 },
        Error::TooLarge { what: "x", max: 1 },
        Error::InvalidArgument { reason: "x" },
        Error::BufferTooSmall { needed: 1 },
        Error::RandomnessUnavailable,
        Error::KeyProvider {
            message: "x".into(),
        },
        Error::MemoryNotLocked {
            locked: false,
            excluded_from_core_dumps: false,
        },
    ]
}

#[test]
fn every_core_error_maps_to_exactly_one_kind() {
    let errors = one_of_each();
    let kinds: Vec<ErrorKind> = errors.iter().map(Error::kind).collect();
    assert_unique(kinds.iter().map(|k| k.code()));
    // The core's kinds are exactly the 1-99 range of the table.
    let core_range: Vec<ErrorKind> = ErrorKind::ALL
        .iter()
        .copied()
        .filter(|k| k.code() < 100)
        .collect();
    assert_eq!(kinds, core_range);
    for (e, k) in errors.iter().zip(&kinds) {
        assert_eq!(ErrorKind::from_code(k.code()), Some(*k), "{e:?}");
        assert_eq!(ErrorKind::from_name(k.name()), Some(*k), "{e:?}");
    }
}

#[cfg(unix)]
#[test]
fn every_store_error_maps_to_one_kind() {
    use std::path::PathBuf;
    use strongroom::store::StoreError;
    let path = PathBuf::from("k.srk");
    let cases = [
        (
            StoreError::Io {
                op: "read",
                path: path.clone(),
                source: std::io::Error::other("x"),
            },
            ErrorKind::Io,
        ),
        (
            StoreError::NotFound { path: path.clone() },
            ErrorKind::NotFound,
        ),
        (
            StoreError::AlreadyExists { path: path.clone() },
            ErrorKind::AlreadyExists,
        ),
        (
            StoreError::InsecurePermissions {
                path: path.clone(),
                mode: 0o644,
            },
            ErrorKind::InsecurePermissions,
        ),
        (StoreError::Locked { path: path.clone() }, ErrorKind::Locked),
        (
            StoreError::Rollback {
                path: path.clone(),
                found: 1,
                newest: 2,
                witness: "this process",
                other_keyring: false,
            },
            ErrorKind::Rollback,
        ),
        (
            StoreError::Keyring {
                path,
                source: Error::AuthenticationFailed,
            },
            ErrorKind::AuthenticationFailed,
        ),
        (
            StoreError::Rejected(Error::KeyExists { name: "k".into() }),
            ErrorKind::KeyExists,
        ),
        (
            StoreError::File {
                path: PathBuf::from("f.sr"),
                source: Error::Malformed { reason: "x" },
            },
            ErrorKind::Malformed,
        ),
    ];
    for (e, kind) in &cases {
        assert_eq!(e.kind(), *kind, "{e}");
    }
}

fn assert_unique(codes: impl Iterator<Item = u16>) {
    let mut seen = std::collections::BTreeSet::new();
    for c in codes {
        assert!(seen.insert(c), "number {c} used twice");
    }
}
