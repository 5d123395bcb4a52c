//! Keyring files on disk (`std`): sealed keyrings written atomically under
//! an advisory lock, with owner-only permissions, and key files for the
//! key-file root.
//!
//! **Atomic replace.** A save writes a temp file in the same directory
//! (created exclusively, mode 0600), fsyncs it, renames it over the keyring
//! file and fsyncs the directory. A crash at any point leaves either the old
//! file or the new one, never a mix; a leftover temp file is ignored (and is
//! sealed like the real file, so it holds no plaintext key material).
//!
//! **Lock.** [`KeyringStore::update`] holds an exclusive advisory lock on
//! `<file>.lock` across load, change and save, so two processes rotating
//! the same keyring cannot lose each other's versions. Readers need no
//! lock: they see the old or the new file, never a partial one.
//!
//! **Fault injection.** Every file operation goes through an internal
//! `FileOps` trait, so the unit tests (`store/fault_tests.rs`) can fail or
//! "crash" any step; production uses the real file system.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::audit::{AuditAction, AuditContext, AuditObject, HoldingSink};
pub use crate::disk::StoreError;
use crate::disk::{self, io_err, read_bounded};
use crate::keyring::Keyring;
use crate::keyring_file::{self, KeyringFileInfo, MAX_KEYRING_FILE_LEN};
use crate::root::KeyProvider;

/// The file operations a store performs, one method per step, so that a
/// test can fail or "crash" any of them.
pub(crate) trait FileOps: Send + Sync {
    /// Creates a new file (fails if it exists) with mode 0600.
    ///
    /// # Errors
    /// The OS error.
    fn create_new(&self, path: &Path) -> io::Result<File>;
    /// Writes all of `bytes`.
    ///
    /// # Errors
    /// The OS error.
    fn write_all(&self, file: &mut File, bytes: &[u8]) -> io::Result<()>;
    /// Flushes the file to stable storage.
    ///
    /// # Errors
    /// The OS error.
    fn sync(&self, file: &File) -> io::Result<()>;
    /// Closes the file.
    ///
    /// # Errors
    /// The OS error.
    fn close(&self, file: File) -> io::Result<()>;
    /// Renames `from` over `to` atomically.
    ///
    /// # Errors
    /// The OS error.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Flushes a directory's entries to stable storage.
    ///
    /// # Errors
    /// The OS error.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
    /// Removes a file.
    ///
    /// # Errors
    /// The OS error.
    fn remove(&self, path: &Path) -> io::Result<()>;
}

/// The real file system.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct OsFileOps;

impl FileOps for OsFileOps {
    fn create_new(&self, path: &Path) -> io::Result<File> {
        disk::create_private(path)
    }
    fn write_all(&self, file: &mut File, bytes: &[u8]) -> io::Result<()> {
        file.write_all(bytes)
    }
    fn sync(&self, file: &File) -> io::Result<()> {
        file.sync_all()
    }
    fn close(&self, file: File) -> io::Result<()> {
        drop(file);
        Ok(())
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        fs::rename(from, to)
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        File::open(dir)?.sync_all()
    }
    fn remove(&self, path: &Path) -> io::Result<()> {
        fs::remove_file(path)
    }
}

/// A keyring file and the root that seals it.
///
/// Owns its root (an `Arc<dyn KeyProvider>`) and is `Send + Sync`: a
/// service keeps one in its shared state, or inside a
/// [`SharedKeyring`](crate::SharedKeyring). An audit context set with
/// [`KeyringStore::set_audit`] is attached to every keyring it loads, so the
/// sink survives reloads; lifecycle events of an [`KeyringStore::update`]
/// are emitted only once the change is saved.
pub struct KeyringStore {
    path: PathBuf,
    root: Arc<dyn KeyProvider>,
    ops: Arc<dyn FileOps>,
    audit: Option<Arc<AuditContext>>,
}

impl fmt::Debug for KeyringStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyringStore")
            .field("path", &self.path)
            .field("root", &self.root.root_kind())
            .finish_non_exhaustive()
    }
}

impl KeyringStore {
    /// The keyring file at `path`, sealed with `root`.
    pub fn new(path: impl Into<PathBuf>, root: Arc<dyn KeyProvider>) -> Self {
        Self {
            path: path.into(),
            root,
            ops: Arc::new(OsFileOps),
            audit: None,
        }
    }

    /// As [`KeyringStore::new`], with other file operations (fault
    /// injection).
    #[cfg(test)]
    pub(crate) fn with_ops(
        path: impl Into<PathBuf>,
        root: Arc<dyn KeyProvider>,
        ops: Arc<dyn FileOps>,
    ) -> Self {
        Self {
            path: path.into(),
            root,
            ops,
            audit: None,
        }
    }

    /// Sends audit events to `audit`: keyring opens, root changes, and the
    /// events of every keyring this store loads.
    pub fn set_audit(&mut self, audit: Arc<AuditContext>) {
        self.audit = Some(audit);
    }

    /// The keyring file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The root that seals the file.
    pub fn root(&self) -> &Arc<dyn KeyProvider> {
        &self.root
    }

    /// Writes a new keyring file.
    ///
    /// # Errors
    /// [`StoreError::AlreadyExists`]; I/O errors; seal errors.
    pub fn create(&self, keyring: &Keyring) -> Result<(), StoreError> {
        let _lock = self.lock(true)?;
        if self.path.exists() {
            return Err(StoreError::AlreadyExists {
                path: self.path.clone(),
            });
        }
        self.save_locked(keyring, &*self.root)
    }

    /// Reads and opens the keyring file, with this store's audit context
    /// attached. Emits `keyring_opened` (success or failure).
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; I/O errors; [`StoreError::Keyring`] for a
    /// corrupt, truncated or wrong-root file (nothing is partly loaded).
    pub fn load(&self) -> Result<Keyring, StoreError> {
        let result = self.load_quiet();
        self.emit(AuditAction::KeyringOpened, result.as_ref().err());
        result
    }

    fn load_quiet(&self) -> Result<Keyring, StoreError> {
        let bytes = read_bounded(&self.path, MAX_KEYRING_FILE_LEN)?;
        let mut keyring =
            keyring_file::decrypt(&bytes, &*self.root).map_err(|source| StoreError::Keyring {
                path: self.path.clone(),
                source,
            })?;
        if let Some(audit) = &self.audit {
            keyring.set_audit(audit.clone());
        }
        Ok(keyring)
    }

    fn emit(&self, action: AuditAction, error: Option<&StoreError>) {
        if let Some(audit) = &self.audit {
            let kind = error.map(StoreError::kind);
            audit.emit(action, AuditObject::Keyring, None, None, kind);
        }
    }

    /// Loads the keyring under the exclusive lock, applies `change`, and
    /// saves it atomically. If `change` fails, nothing is written.
    ///
    /// The events `change` causes are held back until the save: a saved
    /// change logs them as they happened; a failed save logs each as a
    /// failure with the save's error kind.
    ///
    /// # Errors
    /// As [`KeyringStore::load`]; [`StoreError::Rejected`] with `change`'s
    /// error; I/O errors from the save.
    pub fn update<T>(
        &self,
        change: impl FnOnce(&mut Keyring) -> crate::Result<T>,
    ) -> Result<T, StoreError> {
        self.update_keyring(true, change).map(|(out, _)| out)
    }

    /// As [`KeyringStore::update`], but fails at once with
    /// [`StoreError::Locked`] instead of waiting when another process holds
    /// the lock.
    ///
    /// # Errors
    /// As [`KeyringStore::update`], plus [`StoreError::Locked`].
    pub fn try_update<T>(
        &self,
        change: impl FnOnce(&mut Keyring) -> crate::Result<T>,
    ) -> Result<T, StoreError> {
        self.update_keyring(false, change).map(|(out, _)| out)
    }

    /// As [`KeyringStore::update`], also returning the keyring as saved.
    pub(crate) fn update_keyring<T>(
        &self,
        wait: bool,
        change: impl FnOnce(&mut Keyring) -> crate::Result<T>,
    ) -> Result<(T, Keyring), StoreError> {
        let _lock = self.lock(wait)?;
        let mut keyring = self.load()?;
        let held = Arc::new(HoldingSink::default());
        if let Some(audit) = &self.audit {
            let clock = audit.clone();
            keyring.set_audit(AuditContext::new(held.clone(), move || clock.now()));
        }
        let result = change(&mut keyring).map_err(StoreError::Rejected);
        let saved = match &result {
            Ok(_) => self.save_locked(&keyring, &*self.root),
            Err(_) => Ok(()),
        };
        if let Some(audit) = &self.audit {
            let failure = saved.as_ref().err().map(StoreError::kind);
            for event in held.take() {
                event.replay(audit, failure);
            }
            keyring.set_audit(audit.clone());
        } else {
            keyring.clear_audit();
        }
        saved?;
        Ok((result?, keyring))
    }

    /// Re-seals the keyring under `new_root`; the key material is unchanged.
    /// From then on this store uses `new_root`. Emits `root_changed`.
    ///
    /// # Errors
    /// As [`KeyringStore::update`].
    pub fn change_root(&mut self, new_root: Arc<dyn KeyProvider>) -> Result<(), StoreError> {
        let result = (|| {
            let _lock = self.lock(true)?;
            let keyring = self.load()?;
            self.save_locked(&keyring, &*new_root)
        })();
        self.emit(AuditAction::RootChanged, result.as_ref().err());
        result?;
        self.root = new_root;
        Ok(())
    }

    fn lock(&self, wait: bool) -> Result<File, StoreError> {
        let mut lock_path: OsString = self.path.clone().into_os_string();
        lock_path.push(".lock");
        let lock_path = PathBuf::from(lock_path);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&lock_path)
            .map_err(io_err("open the lock file", &lock_path))?;
        if wait {
            file.lock().map_err(io_err("lock", &lock_path))?;
        } else {
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(StoreError::Locked { path: lock_path });
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(io_err("lock", &lock_path)(e)),
            }
        }
        Ok(file)
    }

    /// Seals and writes atomically; the caller holds the lock.
    fn save_locked(&self, keyring: &Keyring, root: &dyn KeyProvider) -> Result<(), StoreError> {
        let bytes = keyring_file::encrypt(keyring, root, &mut getrandom::SysRng)
            .map_err(StoreError::Rejected)?;
        self.write_atomic(&bytes)
    }

    fn write_atomic(&self, bytes: &[u8]) -> Result<(), StoreError> {
        let dir = disk::dir_of(&self.path);
        let tmp = disk::temp_path_beside(&self.path, "tmp")?;
        let ops = &*self.ops;
        let mut file = ops.create_new(&tmp).map_err(io_err("create", &tmp))?;
        let written = ops
            .write_all(&mut file, bytes)
            .map_err(io_err("write", &tmp))
            .and_then(|()| ops.sync(&file).map_err(io_err("fsync", &tmp)))
            .and_then(|()| ops.close(file).map_err(io_err("close", &tmp)))
            .and_then(|()| {
                ops.rename(&tmp, &self.path)
                    .map_err(io_err("rename into place", &self.path))
            });
        if let Err(e) = written {
            // Best effort: the temp file holds only sealed bytes anyway.
            let _ = ops.remove(&tmp);
            return Err(e);
        }
        // The new file is in place. Temp files that crashed saves left
        // (they may still hold versions destroyed since) go now: we hold
        // the lock, so no other save of this keyring is in flight.
        for stale in self.stale_temp_files() {
            let _ = ops.remove(&stale);
        }
        // A failure here only weakens durability.
        ops.sync_dir(&dir)
            .map_err(io_err("fsync the directory", &dir))
    }

    /// Temp files of this keyring that a crashed save left behind
    /// (`.NAME.<16 hex digits>.tmp` beside it). Each holds an older copy of
    /// the keyring, encrypted under the root, so it can bring destroyed
    /// versions back; the next successful save removes them. Report them
    /// when found (the command line warns).
    pub fn stale_temp_files(&self) -> Vec<PathBuf> {
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let prefix = alloc::format!(".{name}.");
        let Ok(entries) = fs::read_dir(disk::dir_of(&self.path)) else {
            return Vec::new();
        };
        let mut found: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .filter(|e| {
                let file = e.file_name();
                let file = file.to_string_lossy();
                file.strip_prefix(&prefix)
                    .and_then(|rest| rest.strip_suffix(".tmp"))
                    .is_some_and(|hex| {
                        hex.len() == 16 && hex.bytes().all(|b| b.is_ascii_hexdigit())
                    })
            })
            .map(|e| e.path())
            .collect();
        found.sort();
        found
    }
}

/// Reads the public facts of the keyring file at `path` (root kind,
/// Argon2 costs) without any root: what a caller needs to choose the root
/// to open it with.
///
/// # Errors
/// [`StoreError::NotFound`]; I/O errors; [`StoreError::Keyring`] for a
/// file that is not a keyring.
pub fn inspect_file(path: &Path) -> Result<KeyringFileInfo, StoreError> {
    let bytes = read_bounded(path, MAX_KEYRING_FILE_LEN)?;
    keyring_file::inspect(&bytes).map_err(|source| StoreError::Keyring {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod fault_tests;
