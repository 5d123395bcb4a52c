//! Keyring lifecycle: create, rotate, disable/enable, destroy, minimum
//! decryption version, rotation periods, metadata; the rotation truth table;
//! RNG failure.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

mod common;

use common::{FailingRng, T0, TEST_KEY_ID, ZeroRng, keyring_at_version, keyring_with};
use strongroom::{
    EncryptionContext, Error, KeyId, KeyImport, Keyring, SysRng, Timestamp, VersionImport,
    VersionState,
};

use VersionState::{Destroyed, Disabled, Enabled};

fn ctx() -> EncryptionContext {
    EncryptionContext::new().with("purpose", "test").unwrap()
}

/// Records under versions 1..=4 of the test key, each encrypted while that
/// version was primary.
fn records_per_version() -> Vec<Vec<u8>> {
    (1..=4)
        .map(|v| {
            keyring_at_version("k", v)
                .encrypt_record_with("k", format!("under v{v}").as_bytes(), &ctx(), &mut SysRng)
                .unwrap()
        })
        .collect()
}

/// The specification the truth table checks, written independently of the
/// implementation: first destroyed, then below minimum, then disabled.
fn expected(state: VersionState, version: u32, min: u32) -> Result<(), Error> {
    let key_id = KeyId::from_u32(TEST_KEY_ID);
    match state {
        Destroyed => Err(Error::VersionDestroyed { key_id, version }),
        _ if version < min => Err(Error::VersionBelowMinimum {
            key_id,
            version,
            minimum: min,
        }),
        Disabled => Err(Error::VersionDisabled { key_id, version }),
        _ => Ok(()),
    }
}

#[test]
fn rotation_truth_table() {
    let records = records_per_version();
    let states = [Enabled, Disabled, Destroyed];
    let mut checked = 0;
    // Versions 1..=3 take every state; version 4 is the (enabled) primary.
    for s1 in states {
        for s2 in states {
            for s3 in states {
                for min in 1..=4 {
                    let table = [s1, s2, s3, Enabled];
                    let keyring = keyring_with("k", &table, 4, min);
                    for (i, record) in records.iter().enumerate() {
                        let version = i as u32 + 1;
                        let got = keyring.decrypt_record(record, &ctx());
                        let want = expected(table[i], version, min);
                        match (&got, &want) {
                            (Ok(pt), Ok(())) => {
                                assert_eq!(
                                    pt.expose_secret(),
                                    format!("under v{version}").as_bytes()
                                )
                            }
                            (Err(g), Err(w)) => assert_eq!(g, w),
                            _ => panic!(
                                "states {table:?} min {min} version {version}: got {got:?}, want {want:?}"
                            ),
                        }
                        checked += 1;
                    }
                    // A version the key does not have, and a key it does not know.
                    let v5 = keyring_at_version("k", 5)
                        .encrypt_record_with("k", b"v5", &ctx(), &mut SysRng)
                        .unwrap();
                    assert_eq!(
                        keyring.decrypt_record(&v5, &ctx()).unwrap_err(),
                        Error::UnknownKeyVersion {
                            key_id: KeyId::from_u32(TEST_KEY_ID),
                            version: 5
                        }
                    );
                    checked += 1;
                }
            }
        }
    }
    let mut other = Keyring::new();
    other.create_key("k").unwrap();
    let foreign = other.encrypt_record("k", b"x", &ctx()).unwrap();
    let table = keyring_at_version("k", 4);
    assert!(matches!(
        table.decrypt_record(&foreign, &ctx()),
        Err(Error::UnknownKeyId { .. })
    ));
    checked += 1;
    println!(
        "rotation truth table: {checked} (state x minimum x ciphertext version) cases gave exactly the expected result"
    );
    assert_eq!(checked, 27 * 4 * 5 + 1);
}

#[test]
fn lifecycle_operations_and_their_refusals() {
    let mut keyring = Keyring::new();
    let id = keyring.create_key("tenant/acme").unwrap();
    assert_ne!(id.as_u32(), 0);
    assert_eq!(
        keyring.create_key("tenant/acme").unwrap_err(),
        Error::KeyExists {
            name: "tenant/acme".into()
        }
    );
    for bad in [
        "",
        "/x",
        "x/",
        "a//b",
        "-a",
        "sp ace",
        "ü",
        &"a".repeat(129),
    ] {
        assert!(
            matches!(keyring.create_key(bad), Err(Error::InvalidArgument { .. })),
            "{bad:?}"
        );
    }
    let record_v1 = keyring
        .encrypt_record("tenant/acme", b"one", &ctx())
        .unwrap();
    assert_eq!(keyring.rotate("tenant/acme").unwrap(), 2);
    assert_eq!(keyring.rotate("tenant/acme").unwrap(), 3);
    let info = keyring.key_info("tenant/acme").unwrap();
    assert_eq!(info.primary_version, 3);
    assert_eq!(info.versions.len(), 3);

    // The primary can be neither disabled nor destroyed.
    let primary = Error::PrimaryVersion {
        key_id: id,
        version: 3,
    };
    assert_eq!(
        keyring.disable_version("tenant/acme", 3).unwrap_err(),
        primary
    );
    assert_eq!(
        keyring.destroy_version("tenant/acme", 3).unwrap_err(),
        primary
    );

    // Disable, then enable again: the record comes back.
    keyring.disable_version("tenant/acme", 1).unwrap();
    assert!(matches!(
        keyring.decrypt_record(&record_v1, &ctx()),
        Err(Error::VersionDisabled { version: 1, .. })
    ));
    keyring.enable_version("tenant/acme", 1).unwrap();
    assert_eq!(
        keyring
            .decrypt_record(&record_v1, &ctx())
            .unwrap()
            .expose_secret(),
        b"one"
    );

    // Minimum decryption version: bounded by the primary; lowering works.
    assert!(
        keyring
            .set_min_decryption_version("tenant/acme", 0)
            .is_err()
    );
    assert!(
        keyring
            .set_min_decryption_version("tenant/acme", 4)
            .is_err()
    );
    keyring
        .set_min_decryption_version("tenant/acme", 2)
        .unwrap();
    assert!(matches!(
        keyring.decrypt_record(&record_v1, &ctx()),
        Err(Error::VersionBelowMinimum { minimum: 2, .. })
    ));
    keyring
        .set_min_decryption_version("tenant/acme", 1)
        .unwrap();
    assert!(keyring.decrypt_record(&record_v1, &ctx()).is_ok());

    // Destroy is final: no enable, no second destroy, no disable.
    keyring.destroy_version("tenant/acme", 1).unwrap();
    let destroyed = Error::VersionDestroyed {
        key_id: id,
        version: 1,
    };
    assert_eq!(
        keyring.decrypt_record(&record_v1, &ctx()).unwrap_err(),
        destroyed
    );
    assert_eq!(
        keyring.enable_version("tenant/acme", 1).unwrap_err(),
        destroyed
    );
    assert_eq!(
        keyring.destroy_version("tenant/acme", 1).unwrap_err(),
        destroyed
    );
    assert_eq!(
        keyring.disable_version("tenant/acme", 1).unwrap_err(),
        destroyed
    );
    assert_eq!(
        keyring.key_info("tenant/acme").unwrap().versions[0].state,
        Destroyed
    );

    // Unknown names and versions.
    assert!(matches!(
        keyring.rotate("nope"),
        Err(Error::UnknownKeyName { .. })
    ));
    assert!(matches!(
        keyring.disable_version("tenant/acme", 9),
        Err(Error::UnknownKeyVersion { version: 9, .. })
    ));
    assert!(matches!(
        keyring.encrypt_record("nope", b"", &ctx()),
        Err(Error::UnknownKeyName { .. })
    ));
}

#[test]
fn rotation_period_reports_due_keys() {
    let mut keyring = Keyring::new();
    let day = 24 * 3600;
    let t = |s: u64| Timestamp::from_unix_seconds(1_800_000_000 + s);
    keyring.create_key_with("a", &mut SysRng, t(0)).unwrap();
    keyring.create_key_with("b", &mut SysRng, t(0)).unwrap();
    keyring.create_key_with("c", &mut SysRng, t(0)).unwrap();
    keyring.set_rotation_period("a", Some(90 * day)).unwrap();
    keyring.set_rotation_period("b", Some(30 * day)).unwrap();
    assert!(keyring.set_rotation_period("c", Some(0)).is_err());
    assert!(keyring.keys_due_for_rotation(t(29 * day)).is_empty());
    assert_eq!(keyring.keys_due_for_rotation(t(30 * day)), ["b"]);
    assert_eq!(keyring.keys_due_for_rotation(t(90 * day)), ["a", "b"]);
    // Rotating b restarts its clock; c has no period and is never due.
    keyring.rotate_with("b", &mut SysRng, t(90 * day)).unwrap();
    assert_eq!(keyring.keys_due_for_rotation(t(100 * day)), ["a"]);
    keyring.set_rotation_period("a", None).unwrap();
    assert!(keyring.keys_due_for_rotation(t(100 * day)).is_empty());
    assert!(keyring.keys_due_for_rotation(t(119 * day)).is_empty());
    assert_eq!(keyring.keys_due_for_rotation(t(120 * day)), ["b"]);
}

#[test]
fn metadata_view_has_no_secrets_and_lists_everything() {
    let mut keyring = keyring_with("k", &[Enabled, Disabled, Destroyed, Enabled], 4, 2);
    keyring.set_rotation_period("k", Some(60)).unwrap();
    keyring.create_key_with("other", &mut SysRng, T0).unwrap();
    let keys = keyring.keys();
    assert_eq!(keys.len(), 2);
    let k = keyring.key_info("k").unwrap();
    assert_eq!(k.key_id, KeyId::from_u32(TEST_KEY_ID));
    assert_eq!((k.primary_version, k.min_decryption_version), (4, 2));
    assert_eq!(k.rotation_period_seconds, Some(60));
    let states: Vec<_> = k.versions.iter().map(|v| (v.version, v.state)).collect();
    assert_eq!(
        states,
        [(1, Enabled), (2, Disabled), (3, Destroyed), (4, Enabled)]
    );
    assert_eq!(
        keys.iter().map(|k| k.name.as_str()).collect::<Vec<_>>(),
        ["k", "other"]
    );
}

#[test]
fn import_rejects_inconsistent_keys() {
    let id = KeyId::from_u32(77);
    let m = || Some(strongroom::KeyMaterial::from_slice(&[9; 32]).unwrap());
    let cases: Vec<(&str, KeyImport)> = vec![
        ("no versions", KeyImport::new("a", id, T0, vec![])),
        (
            "destroyed with material",
            KeyImport::new("a", id, T0, vec![VersionImport::new(Destroyed, T0, m())]),
        ),
        (
            "enabled without material",
            KeyImport::new("a", id, T0, vec![VersionImport::new(Enabled, T0, None)]),
        ),
        (
            "disabled primary",
            KeyImport::new("a", id, T0, vec![VersionImport::new(Disabled, T0, m())]),
        ),
        (
            "key id zero",
            KeyImport::new(
                "a",
                KeyId::from_u32(0),
                T0,
                vec![VersionImport::new(Enabled, T0, m())],
            ),
        ),
        (
            "bad name",
            KeyImport::new("a b", id, T0, vec![VersionImport::new(Enabled, T0, m())]),
        ),
    ];
    for (what, import) in cases {
        let mut keyring = Keyring::new();
        assert!(keyring.import_key(import).is_err(), "{what} was accepted");
        assert!(keyring.is_empty(), "{what}: keyring changed on error");
    }
    let mut keyring = Keyring::new();
    let mut import = KeyImport::new("a", id, T0, vec![VersionImport::new(Enabled, T0, m())]);
    import.min_decryption_version = 2;
    assert!(keyring.import_key(import).is_err(), "min above primary");
    keyring
        .import_key(KeyImport::new(
            "a",
            id,
            T0,
            vec![VersionImport::new(Enabled, T0, m())],
        ))
        .unwrap();
    let dup_id = KeyImport::new("b", id, T0, vec![VersionImport::new(Enabled, T0, m())]);
    assert!(matches!(
        keyring.import_key(dup_id),
        Err(Error::KeyExists { .. })
    ));
    assert_eq!(keyring.len(), 1);
}

#[test]
fn failing_rng_fails_loudly_and_changes_nothing() {
    let mut keyring = Keyring::new();
    assert_eq!(
        keyring
            .create_key_with("k", &mut FailingRng, T0)
            .unwrap_err(),
        Error::RandomnessUnavailable
    );
    assert_eq!(
        keyring.create_key_with("k", &mut ZeroRng, T0).unwrap_err(),
        Error::RandomnessUnavailable
    );
    assert!(keyring.is_empty());
    keyring.create_key_with("k", &mut SysRng, T0).unwrap();
    assert_eq!(
        keyring.rotate_with("k", &mut FailingRng, T0).unwrap_err(),
        Error::RandomnessUnavailable
    );
    assert_eq!(
        keyring.rotate_with("k", &mut ZeroRng, T0).unwrap_err(),
        Error::RandomnessUnavailable
    );
    assert_eq!(keyring.key_info("k").unwrap().versions.len(), 1);
    // Encryption: a failed or all-zero nonce never produces a record, and a
    // caller's buffer is left without a header or plaintext.
    let mut out = [0xEEu8; 128];
    let err = keyring
        .encrypt_record_into("k", b"secret", &ctx(), &mut FailingRng, &mut out)
        .unwrap_err();
    assert_eq!(err, Error::RandomnessUnavailable);
    assert!(!out.windows(6).any(|w| w == b"secret"));
    assert_eq!(
        keyring
            .encrypt_record_with("k", b"secret", &ctx(), &mut ZeroRng)
            .unwrap_err(),
        Error::RandomnessUnavailable
    );
    assert_eq!(
        keyring
            .encrypt_record_with("k", b"secret", &ctx(), &mut ZeroRng)
            .map(|r| strongroom::record::to_text(&r))
            .unwrap_err(),
        Error::RandomnessUnavailable
    );
}

#[test]
fn nonces_are_fresh() {
    let keyring = keyring_at_version("k", 1);
    let mut seen = std::collections::HashSet::new();
    for _ in 0..10_000 {
        let r = keyring
            .encrypt_record("k", b"same plaintext", &ctx())
            .unwrap();
        assert!(seen.insert(r[9..33].to_vec()), "repeated nonce");
    }
}

#[test]
fn rewrap_touches_only_records_that_need_it() {
    let mut keyring = Keyring::new();
    keyring.create_key("pii").unwrap();
    let ctx = EncryptionContext::new().with("col", "email").unwrap();
    let old = keyring.encrypt_record("pii", b"a", &ctx).unwrap();
    keyring.rotate("pii").unwrap();
    let new = keyring.encrypt_record("pii", b"b", &ctx).unwrap();
    // At the primary: unchanged, but still authenticated.
    assert_eq!(keyring.rewrap_record(&new, &ctx).unwrap(), None);
    assert_eq!(
        keyring.rewrap_record(&new, &EncryptionContext::new()),
        Err(Error::AuthenticationFailed)
    );
    // Under an older version: moved to the primary.
    let moved = keyring.rewrap_record(&old, &ctx).unwrap().unwrap();
    assert_eq!(strongroom::inspect_record(&moved).unwrap().key_version, 2);
    let text = keyring
        .encrypt_record("pii", b"c", &ctx)
        .map(|r| strongroom::record::to_text(&r))
        .unwrap();
    assert_eq!(
        strongroom::record::from_text(&text)
            .and_then(|r| keyring.rewrap_record(&r, &ctx))
            .map(|o| o.map(|r| strongroom::record::to_text(&r)))
            .unwrap(),
        None
    );
}

#[test]
fn a_key_rotates_up_to_the_last_version_and_no_further() {
    use strongroom::keyring::MAX_VERSIONS;
    // Versions 1 .. MAX-2 destroyed (no material, cheap), MAX-1 primary.
    let mut states = vec![Destroyed; MAX_VERSIONS as usize - 2];
    states.push(Enabled);
    let mut keyring = keyring_with("k", &states, MAX_VERSIONS - 1, MAX_VERSIONS - 1);
    assert_eq!(
        keyring.rotate_with("k", &mut SysRng, T0).unwrap(),
        MAX_VERSIONS
    );
    let err = keyring.rotate_with("k", &mut SysRng, T0).unwrap_err();
    assert!(
        matches!(err, Error::TooLarge { what: "versions per key", max } if max == MAX_VERSIONS as usize),
        "{err:?}"
    );
    let info = keyring.key_info("k").unwrap();
    assert_eq!(
        (info.primary_version, info.versions.len()),
        (MAX_VERSIONS, MAX_VERSIONS as usize)
    );
}

#[test]
fn version_states_and_the_keyring_print_their_metadata_only() {
    assert_eq!(
        [Enabled, Disabled, Destroyed].map(|s| s.to_string()),
        ["enabled", "disabled", "destroyed"]
    );
    let keyring = keyring_with("k", &[Enabled, Disabled], 1, 1);
    let shown = format!("{keyring:?}");
    // The Debug form is the metadata view: each key's info, no material.
    assert_eq!(shown, format!("{:?}", keyring.keys()));
    assert!(
        shown.contains("name: \"k\"") && shown.contains("Disabled"),
        "{shown}"
    );
    // Version 1's material as a byte list would print "32, 33, 34, ...".
    let bytes = format!("{:?}", &common::test_material(1)[..3]);
    assert!(!shown.contains(bytes.trim_matches(['[', ']'])), "{shown}");
}

#[test]
fn an_empty_keyring_says_so() {
    let mut keyring = Keyring::new();
    assert!(keyring.is_empty());
    assert_eq!(keyring.len(), 0);
    keyring.create_key_with("k", &mut SysRng, T0).unwrap();
    assert!(!keyring.is_empty());
    assert_eq!(keyring.len(), 1);
}

#[test]
fn key_names_are_at_most_the_longest_length() {
    use strongroom::keyring::MAX_KEY_NAME_LEN;
    let mut keyring = Keyring::new();
    let longest = "n".repeat(MAX_KEY_NAME_LEN);
    keyring.create_key_with(&longest, &mut SysRng, T0).unwrap();
    assert_eq!(keyring.key_info(&longest).unwrap().name, longest);
    let err = keyring
        .create_key_with(&format!("{longest}n"), &mut SysRng, T0)
        .unwrap_err();
    assert_eq!(
        err,
        Error::InvalidArgument {
            reason: "key names are 1 to 128 bytes long"
        }
    );
    assert_eq!(keyring.len(), 1);
}
