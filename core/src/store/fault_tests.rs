//! Fault injection into the keyring store's file operations: a fault or a
//! crash at every step of every update leaves the state before or after,
//! never a corrupt file; a save that fails logs its events as failures.
//! A unit test (not an integration test) so that the file-operation hook
//! [`FileOps`] stays out of the public API.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

use super::test_common as common;

use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;
use std::println;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use common::{SeededRng, T0, keyring_with};

use super::{FileOps, KeyringStore, OsFileOps};
use crate::audit::{AuditContext, AuditEvent, AuditSink};
use crate::root::{KeyFileRoot, KeyProvider};
use crate::{KeyMaterial, Keyring, VersionState};

/// TEST KEY MATERIAL: the key-file root used by these tests.
fn root() -> Arc<dyn KeyProvider> {
    common::key_file_root(0x33)
}

/// File operations that fail (or "crash": fail this and every later
/// operation, so no cleanup happens) at operation number `fail_at`.
struct FaultyOps {
    fail_at: usize,
    crash: bool,
    count: AtomicUsize,
    crashed: AtomicBool,
}

impl FaultyOps {
    fn new(fail_at: usize, crash: bool) -> Self {
        Self {
            fail_at,
            crash,
            count: AtomicUsize::new(0),
            crashed: AtomicBool::new(false),
        }
    }

    fn step(&self) -> io::Result<()> {
        if self.crashed.load(Ordering::SeqCst) {
            return Err(io::Error::other("crashed"));
        }
        if self.count.fetch_add(1, Ordering::SeqCst) == self.fail_at {
            if self.crash {
                self.crashed.store(true, Ordering::SeqCst);
            }
            return Err(io::Error::other("injected fault"));
        }
        Ok(())
    }
}

impl FileOps for FaultyOps {
    fn create_new(&self, path: &Path) -> io::Result<File> {
        self.step()?;
        OsFileOps.create_new(path)
    }
    fn write_all(&self, file: &mut File, bytes: &[u8]) -> io::Result<()> {
        if let Err(e) = self.step() {
            // A torn write: half the bytes reach the file.
            let _ = file.write_all(&bytes[..bytes.len() / 2]);
            return Err(e);
        }
        OsFileOps.write_all(file, bytes)
    }
    fn sync(&self, file: &File) -> io::Result<()> {
        self.step()?;
        OsFileOps.sync(file)
    }
    fn close(&self, file: File) -> io::Result<()> {
        self.step()?;
        OsFileOps.close(file)
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.step()?;
        OsFileOps.rename(from, to)
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        self.step()?;
        OsFileOps.sync_dir(dir)
    }
    fn remove(&self, path: &Path) -> io::Result<()> {
        self.step()?;
        OsFileOps.remove(path)
    }
}

type Change = fn(&mut Keyring) -> crate::Result<()>;

#[test]
fn a_fault_or_crash_at_every_step_leaves_the_state_before_or_after() {
    let changes: [(&str, Change); 4] = [
        ("create key", |k| {
            k.create_key_with("new", &mut SeededRng::new(7), T0)
                .map(|_| ())
        }),
        ("rotate", |k| {
            k.rotate_with("k", &mut SeededRng::new(8), T0).map(|_| ())
        }),
        ("disable", |k| k.disable_version("k", 1)),
        ("destroy", |k| k.destroy_version("k", 1)),
    ];
    // The keyring file: create, write, fsync, close, rename; its generation
    // file: the same five; then fsync the directory.
    let steps = 11;
    let (mut cases, mut before_count, mut after_count) = (0, 0, 0);
    let dir = common::fresh_dir("faults");
    let root = root();
    let new_root: Arc<dyn KeyProvider> = Arc::new(KeyFileRoot::new(
        &KeyMaterial::from_slice(&[0x55; 32]).unwrap(),
    ));
    for op in 0..=changes.len() {
        for fail_at in 0..=steps {
            for crash in [false, true] {
                let path = dir.join(format!("k-{op}-{fail_at}-{crash}.srk"));
                let base = keyring_with("k", &[VersionState::Enabled; 2], 2, 1);
                KeyringStore::new(&path, root.clone())
                    .create(&base)
                    .unwrap();
                let before = KeyringStore::new(&path, root.clone()).load().unwrap();
                let mut faulty = KeyringStore::with_ops(
                    &path,
                    root.clone(),
                    Arc::new(FaultyOps::new(fail_at, crash)),
                );
                // What the state must be if the change lands.
                let mut after = KeyringStore::new(&path, root.clone()).load().unwrap();
                let result = if op < changes.len() {
                    (changes[op].1)(&mut after).unwrap();
                    faulty.update(changes[op].1)
                } else {
                    faulty.change_root(new_root.clone())
                };
                assert_eq!(
                    result.is_ok(),
                    fail_at == steps,
                    "op {op} step {fail_at}: {result:?}"
                );
                // Reopen with the real file system: before or after, never corrupt.
                let old = KeyringStore::new(&path, root.clone()).load();
                let reopened = match (op < changes.len(), old) {
                    (_, Ok(k)) => k,
                    (false, Err(_)) => KeyringStore::new(&path, new_root.clone())
                        .load()
                        .expect("change root: neither root opens"),
                    (true, Err(e)) => {
                        panic!("op {op} step {fail_at} crash {crash}: keyring unreadable: {e}")
                    }
                };
                let is_before = common::same_contents(&reopened, &before)
                    && KeyringStore::new(&path, root.clone()).load().is_ok();
                let is_after = if op < changes.len() {
                    common::same_contents(&reopened, &after)
                } else {
                    common::same_contents(&reopened, &before)
                        && KeyringStore::new(&path, new_root.clone()).load().is_ok()
                };
                assert!(
                    is_before || is_after,
                    "op {op} step {fail_at} crash {crash}: neither before nor after"
                );
                // A step before the rename must leave "before"; the rename or later, "after".
                assert_eq!(
                    is_after && !is_before,
                    fail_at >= 5,
                    "op {op} step {fail_at} crash {crash}"
                );
                if is_before {
                    before_count += 1
                } else {
                    after_count += 1
                }
                cases += 1;
            }
        }
    }
    // Key material never reaches any file in raw form: not the keyring
    // files, not the temp files crashes left behind.
    let (mut files, mut leftovers) = (0, 0);
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = fs::read(&path).unwrap();
        files += 1;
        leftovers += usize::from(path.to_string_lossy().ends_with(".tmp"));
        for v in 1..=2 {
            assert!(
                !bytes.windows(32).any(|w| w == common::test_material(v)),
                "{}",
                path.display()
            );
        }
    }
    println!(
        "crash consistency: scanned {files} files ({leftovers} temp files left by crashes) for key material: 0 found"
    );
    assert!(
        leftovers > 0,
        "no crash left a temp file: the scan saw none"
    );
    println!(
        "crash consistency: {cases} runs (create key, rotate, disable, destroy, change root x 12 fault points x fail/crash): {before_count} left the state before, {after_count} the state after, 0 corrupt"
    );
    // The next successful save of each keyring removes its leftovers (they
    // hold older copies that could bring destroyed versions back).
    let (mut reported, mut keyrings) = (0, 0);
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "srk") {
            keyrings += 1;
            // A change-root case may have left the file under either root.
            let mut store = KeyringStore::new(&path, root.clone());
            if store.load().is_err() {
                store = KeyringStore::new(&path, new_root.clone());
            }
            reported += store.stale_temp_files().len();
            store.update(|_| Ok(())).unwrap();
            assert!(store.stale_temp_files().is_empty(), "{}", path.display());
        }
    }
    let left = fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .to_string_lossy()
                .ends_with(".tmp")
        })
        .count();
    println!(
        "crash consistency: {reported} stale temp files reported across {keyrings} keyrings; after one save each, {left} left"
    );
    assert_eq!(reported, leftovers);
    assert_eq!(left, 0);
    fs::remove_dir_all(&dir).ok();
}

/// Fails every write with "no space left on device".
struct DiskFull;

impl FileOps for DiskFull {
    fn create_new(&self, path: &std::path::Path) -> std::io::Result<std::fs::File> {
        OsFileOps.create_new(path)
    }
    fn write_all(&self, _: &mut std::fs::File, _: &[u8]) -> std::io::Result<()> {
        Err(std::io::Error::from_raw_os_error(28))
    }
    fn sync(&self, file: &std::fs::File) -> std::io::Result<()> {
        OsFileOps.sync(file)
    }
    fn close(&self, file: std::fs::File) -> std::io::Result<()> {
        OsFileOps.close(file)
    }
    fn rename(&self, from: &std::path::Path, to: &std::path::Path) -> std::io::Result<()> {
        OsFileOps.rename(from, to)
    }
    fn sync_dir(&self, dir: &std::path::Path) -> std::io::Result<()> {
        OsFileOps.sync_dir(dir)
    }
    fn remove(&self, path: &std::path::Path) -> std::io::Result<()> {
        OsFileOps.remove(path)
    }
}

/// Collects events as `action key version outcome` lines.
#[derive(Default)]
struct Capture(Mutex<Vec<String>>);

impl AuditSink for Capture {
    fn record(&self, e: &AuditEvent<'_>) {
        let line = format!(
            "{} v{} {}",
            e.action.name(),
            e.version.map_or("-".to_string(), |v| v.to_string()),
            e.error.map_or("ok", |k| k.name())
        );
        self.0.lock().unwrap().push(line);
    }
}

#[test]
fn a_save_that_fails_logs_its_events_as_failures() {
    let dir = common::fresh_dir("disk-full");
    let path = dir.join("keyring.srk");
    let base = keyring_with("k", &[VersionState::Enabled], 1, 1);
    KeyringStore::new(&path, root()).create(&base).unwrap();
    let capture = Arc::new(Capture::default());
    let audit = AuditContext::new(capture.clone(), || T0);
    let mut full = KeyringStore::with_ops(&path, root(), Arc::new(DiskFull));
    full.set_audit(audit.clone());
    let err = full.update(|k| k.rotate_with("k", &mut SeededRng::new(1), T0));
    assert_eq!(err.unwrap_err().kind(), crate::ErrorKind::Io);
    // The file still has version 1 only, and no event claims otherwise.
    let mut store = KeyringStore::new(&path, root());
    store.set_audit(audit);
    assert_eq!(
        store.load().unwrap().key_info("k").unwrap().primary_version,
        1
    );
    store
        .update(|k| k.rotate_with("k", &mut SeededRng::new(1), T0))
        .unwrap();
    let got = capture.0.lock().unwrap().clone();
    assert_eq!(
        got,
        [
            "keyring_opened v- ok",
            "key_rotated v2 io",
            "keyring_opened v- ok",
            "keyring_opened v- ok",
            "key_rotated v2 ok",
        ],
        "{got:#?}"
    );
    fs::remove_dir_all(&dir).ok();
}
