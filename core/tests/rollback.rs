//! Crypto-shredding that reaches copies of the keyring file (FORMAT.md
//! 10.1, 10.6): every save raises the file's generation; a store refuses an
//! older copy (a restored backup, a snapshot) with an error naming both
//! generations, so a destroyed version stays destroyed; a deliberate
//! restore is accepted only through the audited `accept_restore`; and a
//! destroy with a root change leaves older copies to a root that must be
//! retired. (PKCS#11, where the old root is destroyed, is in `pkcs11.rs`.)
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use common::{keyring_with, test_material};
use strongroom::audit::{AuditContext, AuditEvent, AuditSink};
use strongroom::keyring_file::{self, Lineage};
use strongroom::root::{KeyFileRoot, KeyProvider, Retirement};
use strongroom::store::{KeyringStore, StoreError};
use strongroom::{EncryptionContext, Error, ErrorKind, KeyMaterial, Keyring, VersionState};

/// TEST KEY MATERIAL: the key-file root of these tests.
fn root() -> Arc<dyn KeyProvider> {
    common::key_file_root(0x61)
}

fn ctx() -> EncryptionContext {
    EncryptionContext::new().with("table", "users").unwrap()
}

fn generation(path: &Path) -> u64 {
    let bytes = fs::read(path).unwrap();
    keyring_file::inspect(&bytes)
        .unwrap()
        .lineage
        .unwrap()
        .generation
}

/// A keyring "k" with versions 1 and 2 (primary 2), a record under
/// version 1, and a copy of the file taken at that point.
fn setup(name: &str) -> (PathBuf, PathBuf, Vec<u8>, PathBuf) {
    let dir = common::fresh_dir(name);
    let path = dir.join("keyring.srk");
    let store = KeyringStore::new(&path, root());
    let keyring = keyring_with("k", &[VersionState::Enabled; 2], 2, 1);
    store.create(&keyring).unwrap();
    // A record under version 1: `keyring_with` makes version 1 primary in
    // a one-version copy.
    let v1_only = keyring_with("k", &[VersionState::Enabled], 1, 1);
    let record = v1_only
        .encrypt_record("k", b"ssn 078-05-1120", &ctx())
        .unwrap();
    assert_eq!(
        store
            .load()
            .unwrap()
            .decrypt_record(&record, &ctx())
            .unwrap()
            .expose_secret(),
        b"ssn 078-05-1120"
    );
    let copy = dir.join("backup-of-keyring.srk");
    fs::copy(&path, &copy).unwrap();
    (path, copy, record, dir)
}

#[test]
fn an_older_copy_is_refused_and_destroyed_data_stays_destroyed() {
    let (path, copy, record, dir) = setup("rollback");
    let store = KeyringStore::new(&path, root());
    assert_eq!(generation(&path), 1);
    store.update(|k| k.destroy_version("k", 1)).unwrap();
    assert_eq!(generation(&path), 2);
    let err = store
        .load()
        .unwrap()
        .decrypt_record(&record, &ctx())
        .unwrap_err();
    assert!(matches!(err, Error::VersionDestroyed { .. }), "{err:?}");
    let destroyed = fs::read(&path).unwrap();

    // Put the copy back.
    fs::copy(&copy, &path).unwrap();
    // The same store remembers generation 2 in this process ...
    let in_process = store.load().unwrap_err();
    // ... and a fresh store (another process) has the generation file.
    let fresh = KeyringStore::new(&path, root());
    let from_file = fresh.load().unwrap_err();
    for (err, witness) in [
        (&in_process, "this process"),
        (&from_file, "the generation file"),
    ] {
        assert_eq!(err.kind(), ErrorKind::Rollback);
        let message = err.to_string();
        assert!(
            message.contains("generation 1, older than generation 2")
                && message.contains(witness)
                && message.contains("accept-restore"),
            "{message}"
        );
        println!("rollback refused: {message}");
    }
    // Every way a store hands out a keyring refuses it: the destroyed
    // record stays undecryptable.
    assert!(fresh.update(|_| Ok(())).is_err());
    assert!(
        strongroom::SharedKeyring::load(KeyringStore::new(&path, root())).is_err(),
        "a shared keyring loads the rolled-back file"
    );
    // Nothing was written by the refusals: the copy is still in place.
    assert_eq!(fs::read(&path).unwrap(), fs::read(&copy).unwrap());
    // With the current file back, the record is still destroyed.
    fs::write(&path, &destroyed).unwrap();
    let err = fresh
        .load()
        .unwrap()
        .decrypt_record(&record, &ctx())
        .unwrap_err();
    assert!(matches!(err, Error::VersionDestroyed { .. }));
    fs::remove_dir_all(&dir).ok();
}

/// Collects `action outcome` lines.
#[derive(Default)]
struct Capture(Mutex<Vec<String>>);

impl AuditSink for Capture {
    fn record(&self, e: &AuditEvent<'_>) {
        let line = format!("{} {}", e.action.name(), e.error.map_or("ok", |k| k.name()));
        self.0.lock().unwrap().push(line);
    }
}

#[test]
fn a_deliberate_restore_is_audited_and_becomes_the_newest() {
    let (path, copy, record, dir) = setup("restore");
    let capture = Arc::new(Capture::default());
    let mut store = KeyringStore::new(&path, root());
    store.set_audit(AuditContext::new(capture.clone(), || common::T0));
    store.update(|k| k.destroy_version("k", 1)).unwrap();
    store
        .update(|k| k.set_min_decryption_version("k", 2))
        .unwrap();
    fs::copy(&copy, &path).unwrap();
    assert_eq!(store.load().unwrap_err().kind(), ErrorKind::Rollback);
    let (before, after) = store.accept_restore().unwrap();
    assert_eq!(before.map(|l| l.generation), Some(1));
    assert_eq!(after.generation, 4, "one above the newest seen (3)");
    assert_eq!(generation(&path), 4);
    // Same keyring id as the restored file.
    assert_eq!(before.unwrap().keyring_id, after.keyring_id);
    // The restore brought version 1 back, as the operator asked.
    let keyring = KeyringStore::new(&path, root()).load().unwrap();
    assert_eq!(
        keyring
            .decrypt_record(&record, &ctx())
            .unwrap()
            .expose_secret(),
        b"ssn 078-05-1120"
    );
    let events = capture.0.lock().unwrap().clone();
    assert!(
        events.contains(&"keyring_opened rollback".to_string())
            && events.last().unwrap() == "restore_accepted ok",
        "{events:#?}"
    );
    fs::remove_dir_all(&dir).ok();
}

#[test]
fn another_keyring_at_the_path_and_a_version_1_file_are_refused() {
    let (path, _copy, _record, dir) = setup("other-keyring");
    let store = KeyringStore::new(&path, root());
    store.update(|k| k.rotate("k").map(|_| ())).unwrap();
    // Another keyring under the same root, moved over this one.
    let other = dir.join("other.srk");
    KeyringStore::new(&other, root())
        .create(&keyring_with("k", &[VersionState::Enabled; 3], 3, 1))
        .unwrap();
    fs::copy(&other, &path).unwrap();
    let err = KeyringStore::new(&path, root()).load().unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Rollback {
                other_keyring: true,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("another keyring"), "{err}");
    // A version-1 file (no generation) after version-2 saves: generation 0.
    let v1 = common::hand_built_keyring_file(&[0x61; 32], None, 2, &[], None, &[1, 0, 0, 0, 0]);
    fs::write(&path, &v1).unwrap();
    let err = KeyringStore::new(&path, root()).load().unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Rollback {
                found: 0,
                newest: 2,
                ..
            }
        ),
        "{err:?}"
    );
    fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_version_1_file_opens_and_is_upgraded_by_the_next_save() {
    let dir = common::fresh_dir("upgrade");
    let path = dir.join("keyring.srk");
    // The frozen version-1 golden vector, under its key-file root (0x4b).
    let text = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/golden/keyring/keyring_file_v1_key_file.json"),
    )
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let bytes = hex::decode(v["file_hex"].as_str().unwrap()).unwrap();
    assert_eq!(bytes[4], 1);
    fs::write(&path, &bytes).unwrap();
    let root: Arc<dyn KeyProvider> = Arc::new(KeyFileRoot::new(
        &KeyMaterial::from_slice(&[0x4b; 32]).unwrap(),
    ));
    let store = KeyringStore::new(&path, root.clone());
    let before = store.load().unwrap();
    assert_eq!(store.newest_seen(), None, "a version-1 file has no lineage");
    store.update(|_| Ok(())).unwrap();
    let info = keyring_file::inspect(&fs::read(&path).unwrap()).unwrap();
    assert_eq!(info.format, 2);
    assert_eq!(info.lineage.map(|l| l.generation), Some(1));
    assert!(common::same_contents(&store.load().unwrap(), &before));
    // The old version-1 file is now older than the record.
    fs::write(&path, &bytes).unwrap();
    assert_eq!(
        KeyringStore::new(&path, root).load().unwrap_err().kind(),
        ErrorKind::Rollback
    );
    fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_generation_file_is_exact_and_a_damaged_one_is_refused() {
    let (path, _copy, _record, dir) = setup("generation-file");
    let store = KeyringStore::new(&path, root());
    store.update(|k| k.rotate("k").map(|_| ())).unwrap();
    let lineage = keyring_file::inspect(&fs::read(&path).unwrap())
        .unwrap()
        .lineage
        .unwrap();
    let gen_path = store.generation_file();
    assert_eq!(gen_path, dir.join("keyring.srk.generation"));
    let expected = format!(
        "strongroom keyring generation v1\nkeyring_id {}\ngeneration 2\n",
        hex::encode(lineage.keyring_id)
    );
    assert_eq!(fs::read_to_string(&gen_path).unwrap(), expected);
    for damaged in [
        expected.replace("generation 2", "generation 02"),
        expected.replace("generation 2", "generation 0"),
        expected.replace("keyring_id ", "keyring_id  "),
        expected.trim_end().to_string(),
        expected.to_uppercase(),
        String::new(),
    ] {
        fs::write(&gen_path, &damaged).unwrap();
        let err = KeyringStore::new(&path, root()).load().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Malformed, "{damaged:?}");
        assert!(err.to_string().contains("generation file"), "{err}");
    }
    // accept_restore rewrites a damaged record.
    KeyringStore::new(&path, root()).accept_restore().unwrap();
    assert_eq!(generation(&path), 3);
    KeyringStore::new(&path, root()).load().unwrap();
    fs::remove_dir_all(&dir).ok();
}

#[test]
fn destroy_with_a_root_change_leaves_older_copies_to_the_retired_root() {
    let (path, copy, record, dir) = setup("new-root");
    let old_root = root();
    let mut store = KeyringStore::new(&path, old_root.clone());
    // The same key file as the new root: refused, nothing written.
    let same: Arc<dyn KeyProvider> = common::key_file_root(0x61);
    let before = fs::read(&path).unwrap();
    let err = store
        .update_with_new_root(same, |k| k.destroy_version("k", 1))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
    assert!(err.to_string().contains("new root opens"), "{err}");
    assert_eq!(fs::read(&path).unwrap(), before);

    let new_root = common::key_file_root(0x62);
    let ((), retired) = store
        .update_with_new_root(new_root.clone(), |k| k.destroy_version("k", 1))
        .unwrap();
    assert_eq!(retired, Retirement::ByOperator);
    assert_eq!(generation(&path), 2);
    // The store now uses the new root; the old root no longer opens the file.
    assert!(Arc::ptr_eq(store.root(), &new_root));
    assert!(KeyringStore::new(&path, old_root.clone()).load().is_err());
    let keyring = KeyringStore::new(&path, new_root.clone()).load().unwrap();
    assert!(keyring.decrypt_record(&record, &ctx()).is_err());
    // What the operator must know: the copy still opens under the old
    // root (until they destroy it), never under the new one.
    let old_copy = fs::read(&copy).unwrap();
    let revived = keyring_file::decrypt(&old_copy, old_root.as_ref()).unwrap();
    assert!(revived.decrypt_record(&record, &ctx()).is_ok());
    assert!(keyring_file::decrypt(&old_copy, new_root.as_ref()).is_err());
    // The key material of version 1 is in no file the new root opens.
    let current = fs::read(&path).unwrap();
    assert!(!current.windows(32).any(|w| w == test_material(1)));
    fs::remove_dir_all(&dir).ok();
}

#[test]
fn lineage_generations_only_grow() {
    let l = Lineage {
        keyring_id: [1; 16],
        generation: 1,
    };
    assert_eq!(l.next().unwrap().generation, 2);
    let top = Lineage {
        keyring_id: [1; 16],
        generation: u64::MAX,
    };
    assert!(top.next().is_err());
    let k = Keyring::new();
    let r = KeyFileRoot::new(&KeyMaterial::from_slice(&[1; 32]).unwrap());
    let zero = Lineage {
        keyring_id: [1; 16],
        generation: 0,
    };
    assert!(keyring_file::encrypt_as(&k, &r, zero, &mut strongroom::SysRng).is_err());
}
