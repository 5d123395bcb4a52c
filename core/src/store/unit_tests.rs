//! The store's small decisions, each at the case that tells it apart
//! (issue #17: these were the store's surviving mutants): the real file
//! operations report the OS's errors, the Debug form, the in-process
//! rollback record across a re-created keyring, the "same root key" check
//! for token roots, the mode a save keeps, and which names count as stale
//! temp files. A unit test, because `FileOps` and `OsFileOps` are private.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

use super::test_common as common;

use alloc::format;
use alloc::sync::Arc;
use alloc::vec::Vec;
use std::fs::{self, File};
use std::os::fd::OwnedFd;
use std::os::unix::fs::PermissionsExt;

use common::{SeededRng, T0, keyring_with};

use super::{FileOps, KeyringStore, OsFileOps};
use crate::root::{KeyFileRoot, KeyProvider, RootKind};
use crate::{Error, KeyMaterial, Result, VersionState};

fn base() -> crate::Keyring {
    keyring_with("k", &[VersionState::Enabled], 1, 1)
}

#[test]
fn the_real_file_operations_report_the_os_errors() {
    let dir = common::fresh_dir("store-unit-ops");
    // fsync on a pipe fails with EINVAL: `sync` must reach the OS.
    let (reader, _writer) = std::io::pipe().unwrap();
    let pipe = File::from(OwnedFd::from(reader));
    let err = OsFileOps.sync(&pipe).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EINVAL), "{err}");
    let file = File::create(dir.join("f")).unwrap();
    OsFileOps.sync(&file).unwrap();
    // A directory that is not there cannot be synced.
    let err = OsFileOps.sync_dir(&dir.join("missing")).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound, "{err}");
    OsFileOps.sync_dir(&dir).unwrap();
    fs::remove_dir_all(&dir).ok();
}

#[test]
fn debug_names_the_path_and_root_kind_only() {
    let store = KeyringStore::new("/srv/app/keyring.srk", common::key_file_root(0x33));
    let shown = format!("{store:?}");
    assert!(shown.starts_with("KeyringStore {"), "{shown}");
    assert!(shown.contains("\"/srv/app/keyring.srk\""), "{shown}");
    assert!(shown.contains("KeyFile"), "{shown}");
    // The key file root's key is 0x33 (51) repeated: no trace of it, as
    // a byte list or in hex.
    assert!(
        !shown.contains("51, 51") && !shown.contains("3333"),
        "{shown}"
    );
}

#[test]
fn a_keyring_created_again_at_the_path_replaces_the_process_record() {
    // An operator deletes a keyring (and its generation file) and creates
    // a new one at the same path with the same store: the new keyring, a
    // different id at generation 1, is now the one this process knows,
    // so it loads. The old record (generation 2) must not outrank it.
    let dir = common::fresh_dir("store-unit-recreate");
    let path = dir.join("keyring.srk");
    let store = KeyringStore::new(&path, common::key_file_root(0x33));
    store.create(&base()).unwrap();
    store
        .update(|k| k.rotate_with("k", &mut SeededRng::new(1), T0))
        .unwrap();
    let old = store.newest_seen().unwrap();
    assert_eq!(old.generation, 2);
    fs::remove_file(&path).unwrap();
    fs::remove_file(store.generation_file()).unwrap();
    store.create(&base()).unwrap();
    let new = store.newest_seen().unwrap();
    assert_ne!(new.keyring_id, old.keyring_id);
    assert_eq!(new.generation, 1);
    assert_eq!(
        store.load().unwrap().key_info("k").unwrap().primary_version,
        1
    );
    fs::remove_dir_all(&dir).ok();
}

/// A stand-in for a PKCS#11 root (no token needed): it unwraps with the
/// key of its token whatever key label it names, as a real token root
/// unwraps with the key the file names, so any root on the token opens the
/// file. Its parameters are its key label; `labels_fail` makes them fail
/// (a label too long for the format).
struct TokenRoot {
    token: KeyFileRoot,
    key_label: &'static str,
    labels_fail: bool,
}

impl TokenRoot {
    fn on_token(token_key: u8, key_label: &'static str, labels_fail: bool) -> Arc<dyn KeyProvider> {
        let key = KeyMaterial::from_slice(&[token_key; 32]).unwrap(); // TEST KEY MATERIAL
        Arc::new(Self {
            token: KeyFileRoot::new(&key),
            key_label,
            labels_fail,
        })
    }
}

impl KeyProvider for TokenRoot {
    fn root_kind(&self) -> RootKind {
        RootKind::Pkcs11
    }
    fn new_params(&self, _random: &[u8; 16]) -> Result<Vec<u8>> {
        if self.labels_fail {
            return Err(Error::InvalidArgument {
                reason: "PKCS#11 labels are at most 255 bytes",
            });
        }
        Ok(self.key_label.as_bytes().to_vec())
    }
    fn wrap(&self, _: &[u8], key: &KeyMaterial, aad: &[u8], nonce: &[u8; 24]) -> Result<Vec<u8>> {
        self.token.wrap(&[], key, aad, nonce)
    }
    fn unwrap(&self, _: &[u8], wrapped: &[u8], aad: &[u8]) -> Result<KeyMaterial> {
        self.token.unwrap(&[], wrapped, aad)
    }
}

/// Creates a keyring sealed with `from`, then changes its root to `to`
/// with `update_with_new_root` (the change that checks for the same key).
fn change_root(
    from: Arc<dyn KeyProvider>,
    to: Arc<dyn KeyProvider>,
) -> core::result::Result<(), super::StoreError> {
    change_root_of_file_made_by(from.clone(), from, to)
}

fn change_root_of_file_made_by(
    maker: Arc<dyn KeyProvider>,
    from: Arc<dyn KeyProvider>,
    to: Arc<dyn KeyProvider>,
) -> core::result::Result<(), super::StoreError> {
    let dir = common::fresh_dir("store-unit-root");
    let path = dir.join("keyring.srk");
    KeyringStore::new(&path, maker).create(&base()).unwrap();
    let mut store = KeyringStore::new(&path, from);
    let changed = store
        .update_with_new_root(to.clone(), |_| Ok(()))
        .map(|_| ());
    if changed.is_ok() {
        // The file is now sealed under the new root.
        KeyringStore::new(&path, to).load().unwrap();
    }
    fs::remove_dir_all(&dir).ok();
    changed
}

#[test]
fn a_root_change_on_one_token_is_judged_by_the_key_labels() {
    // Another key on the same token: it would open the file (the token
    // unwraps with the key the file names), but it is another key.
    change_root(
        TokenRoot::on_token(0x51, "old", false),
        TokenRoot::on_token(0x51, "new", false),
    )
    .unwrap();
    // The same key label: retiring the old root would destroy the new one.
    let err = change_root(
        TokenRoot::on_token(0x51, "same", false),
        TokenRoot::on_token(0x52, "same", false),
    )
    .unwrap_err();
    assert!(
        format!("{err}").contains("opens the current keyring file too"),
        "{err}"
    );
    // Labels that cannot be read: refused, as the same key may be meant.
    let err = change_root(
        TokenRoot::on_token(0x51, "a", false),
        TokenRoot::on_token(0x52, "b", true),
    )
    .unwrap_err();
    assert!(
        format!("{err}").contains("opens the current keyring file too"),
        "{err}"
    );
}

#[test]
fn a_root_change_away_from_a_token_is_judged_by_opening_the_file() {
    // From a token root (whose labels fail once the file is made) to a key
    // file: only the branch for two token roots reads labels, and a key
    // file that does not open the file is another key.
    change_root_of_file_made_by(
        TokenRoot::on_token(0x51, "a", false),
        TokenRoot::on_token(0x51, "a", true),
        common::key_file_root(0x34),
    )
    .unwrap();
    // A key file that opens the file is the same key.
    let err = change_root(common::key_file_root(0x34), common::key_file_root(0x34)).unwrap_err();
    assert!(
        format!("{err}").contains("opens the current keyring file too"),
        "{err}"
    );
}

#[test]
fn a_save_keeps_the_files_mode() {
    let dir = common::fresh_dir("store-unit-mode");
    let path = dir.join("keyring.srk");
    let store = KeyringStore::new(&path, common::key_file_root(0x33));
    store.create(&base()).unwrap();
    for mode in [0o640, 0o600, 0o400] {
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
        store
            .update(|k| k.rotate_with("k", &mut SeededRng::new(1), T0))
            .unwrap();
        let kept = fs::metadata(&path).unwrap().permissions().mode() & 0o7777;
        assert_eq!(kept, mode, "{kept:o} after a save of a {mode:o} file");
    }
    fs::remove_dir_all(&dir).ok();
}

#[test]
fn only_names_with_sixteen_hex_digits_are_stale_temp_files() {
    let dir = common::fresh_dir("store-unit-stale");
    let path = dir.join("keyring.srk");
    let store = KeyringStore::new(&path, common::key_file_root(0x33));
    let stale = [
        ".keyring.srk.0123456789abcdef.tmp",
        ".keyring.srk.generation.FEDCBA9876543210.tmp",
    ];
    let other = [
        ".keyring.srk.0123456789abcde.tmp",   // 15 hex digits
        ".keyring.srk.0123456789abcdef0.tmp", // 17
        ".keyring.srk.0123456789abcdeg.tmp",  // 16, one not hex
        ".keyring.srk.generation.abc.tmp",
        ".keyring.srk.generation.ghijklmnopqrstuv.tmp",
        ".other.srk.0123456789abcdef.tmp",
        "keyring.srk.0123456789abcdef.tmp",
    ];
    for name in stale.iter().chain(&other) {
        fs::write(dir.join(name), b"x").unwrap();
    }
    let mut found: Vec<_> = store
        .stale_temp_files()
        .into_iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    found.sort();
    assert_eq!(found, stale);
    fs::remove_dir_all(&dir).ok();
}
