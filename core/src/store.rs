//! Keyring files on disk (`std`): sealed keyrings written atomically under
//! an advisory lock, with owner-only permissions, and key files for the
//! key-file root.
//!
//! **Atomic replace.** A save writes a temp file in the same directory
//! (created exclusively, mode 0600), fsyncs it, renames it over the keyring
//! file and fsyncs the directory. A crash at any point leaves either the old
//! file or the new one, never a mix; a leftover temp file is sealed like the
//! real file, so it holds no plaintext key material, and the next
//! successful save removes it.
//!
//! **Rollback.** Every save raises the file's generation
//! ([`Lineage`]) and records it three ways: in the store (this process),
//! in `<file>.generation` beside the keyring, and in the root where the
//! root can hold a record (a PKCS#11 token). A load refuses a file older
//! than any record, or another keyring than the one recorded, with
//! [`StoreError::Rollback`]; [`KeyringStore::accept_restore`] accepts one on
//! purpose. The generation file stops restores and mistakes, not an
//! attacker who can write the directory (they can replace it too): against
//! that, only a root change ([`KeyringStore::update_with_new_root`]) makes
//! older copies useless.
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
use std::sync::{Mutex, RwLock};

use crate::audit::{AuditAction, AuditContext, AuditObject, HoldingSink};
pub use crate::disk::StoreError;
use crate::disk::{self, io_err, read_bounded};
use crate::keyring::Keyring;
use crate::keyring_file::{self, KeyringFileInfo, Lineage, MAX_KEYRING_FILE_LEN};
use crate::root::{KeyProvider, Retirement, RootKind};

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
    /// Behind a lock so that a shared keyring can set it through `&self`.
    audit: RwLock<Option<Arc<AuditContext>>>,
    /// The newest lineage this store has loaded or saved (the in-process
    /// rollback record).
    seen: Mutex<Option<Lineage>>,
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
            audit: RwLock::new(None),
            seen: Mutex::new(None),
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
            audit: RwLock::new(None),
            seen: Mutex::new(None),
        }
    }

    /// Sends audit events to `audit`: keyring opens, root changes, and the
    /// events of every keyring this store loads.
    pub fn set_audit(&mut self, audit: Arc<AuditContext>) {
        self.set_audit_shared(Some(audit));
    }

    /// As [`KeyringStore::set_audit`], through a shared reference (for
    /// [`SharedKeyring::set_audit`](crate::SharedKeyring::set_audit)).
    pub(crate) fn set_audit_shared(&self, audit: Option<Arc<AuditContext>>) {
        *self
            .audit
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = audit;
    }

    /// The audit context, if one is set.
    fn audit(&self) -> Option<Arc<AuditContext>> {
        self.audit
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
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
        let lineage = Lineage::new(&mut getrandom::SysRng).map_err(StoreError::Rejected)?;
        self.save_locked(keyring, &*self.root, lineage)
            .map_err(|(e, _)| e)
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
        self.load_checked().map(|(keyring, _, _)| keyring)
    }

    /// Reads, opens and checks the file against every rollback record;
    /// returns the keyring, its lineage and the file's bytes.
    fn load_checked(&self) -> Result<(Keyring, Option<Lineage>, Vec<u8>), StoreError> {
        let (mut keyring, lineage, bytes) = self.open_file(&*self.root)?;
        self.check_rollback(lineage)?;
        self.remember(lineage);
        if let Some(audit) = &self.audit() {
            keyring.set_audit(audit.clone());
        }
        Ok((keyring, lineage, bytes))
    }

    fn open_file(
        &self,
        root: &dyn KeyProvider,
    ) -> Result<(Keyring, Option<Lineage>, Vec<u8>), StoreError> {
        let bytes = read_bounded(&self.path, MAX_KEYRING_FILE_LEN)?;
        let (keyring, lineage) =
            keyring_file::open(&bytes, root).map_err(|source| StoreError::Keyring {
                path: self.path.clone(),
                source,
            })?;
        Ok((keyring, lineage, bytes))
    }

    /// The generation file beside the keyring: `<file>.generation`
    /// (FORMAT.md 10.6).
    pub fn generation_file(&self) -> PathBuf {
        let mut p: OsString = self.path.clone().into_os_string();
        p.push(".generation");
        PathBuf::from(p)
    }

    /// The newest lineage this store has loaded or saved in this process.
    pub fn newest_seen(&self) -> Option<Lineage> {
        *self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn remember(&self, lineage: Option<Lineage>) {
        let Some(new) = lineage else { return };
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let newer = seen
            .is_none_or(|old| old.keyring_id != new.keyring_id || new.generation > old.generation);
        if newer {
            *seen = Some(new);
        }
    }

    /// Every record of the newest generation: this process's, the
    /// generation file's, and the root's own (a PKCS#11 token) for the
    /// file's keyring id and for every recorded id.
    fn rollback_records(
        &self,
        file: Option<Lineage>,
    ) -> Result<Vec<(Lineage, &'static str)>, StoreError> {
        let mut records = Vec::new();
        if let Some(seen) = self.newest_seen() {
            records.push((seen, "this process"));
        }
        if let Some(on_disk) = read_generation_file(&self.generation_file())? {
            records.push((on_disk, "the generation file"));
        }
        let mut ids: Vec<[u8; 16]> = records.iter().map(|(l, _)| l.keyring_id).collect();
        ids.extend(file.map(|l| l.keyring_id));
        ids.sort_unstable();
        ids.dedup();
        for keyring_id in ids {
            let recorded = self
                .root
                .recorded_generation(&keyring_id)
                .map_err(StoreError::Rejected)?;
            if let Some(generation) = recorded {
                let lineage = Lineage {
                    keyring_id,
                    generation,
                };
                records.push((lineage, "the PKCS#11 token"));
            }
        }
        Ok(records)
    }

    /// Refuses a file older than, or another keyring than, a record.
    fn check_rollback(&self, file: Option<Lineage>) -> Result<(), StoreError> {
        for (record, witness) in self.rollback_records(file)? {
            let refuse = |found: u64, other_keyring: bool| StoreError::Rollback {
                path: self.path.clone(),
                found,
                newest: record.generation,
                witness,
                other_keyring,
            };
            match file {
                // A version-1 file after a version-2 save: older.
                None => return Err(refuse(0, false)),
                Some(f) if f.keyring_id != record.keyring_id => {
                    // A token's record is for its own id only.
                    if witness != "the PKCS#11 token" {
                        return Err(refuse(f.generation, true));
                    }
                }
                Some(f) if f.generation < record.generation => {
                    return Err(refuse(f.generation, false));
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    fn emit(&self, action: AuditAction, error: Option<&StoreError>) {
        if let Some(audit) = &self.audit() {
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
        let (keyring, lineage, _) = self.load_checked_emitting()?;
        self.change_and_save(keyring, lineage, &*self.root, change)
    }

    fn load_checked_emitting(&self) -> Result<(Keyring, Option<Lineage>, Vec<u8>), StoreError> {
        let result = self.load_checked();
        self.emit(AuditAction::KeyringOpened, result.as_ref().err());
        result
    }

    /// Applies `change` with its events held back, saves under `root` at
    /// the next generation, then replays the events: as they happened if
    /// the file was replaced, as failures if it was not.
    fn change_and_save<T>(
        &self,
        mut keyring: Keyring,
        lineage: Option<Lineage>,
        root: &dyn KeyProvider,
        change: impl FnOnce(&mut Keyring) -> crate::Result<T>,
    ) -> Result<(T, Keyring), StoreError> {
        let held = Arc::new(HoldingSink::default());
        if let Some(audit) = &self.audit() {
            let clock = audit.clone();
            keyring.set_audit(AuditContext::new(held.clone(), move || clock.now()));
        }
        let result = change(&mut keyring).map_err(StoreError::Rejected);
        let saved = match &result {
            Ok(_) => self
                .next_lineage(lineage)
                .map_err(|e| (e, false))
                .and_then(|next| self.save_locked(&keyring, root, next)),
            Err(_) => Ok(()),
        };
        if let Some(audit) = &self.audit() {
            // Once the file is replaced the change has happened, even if
            // recording its generation failed afterwards.
            let failure = match &saved {
                Err((e, false)) => Some(e.kind()),
                _ => None,
            };
            for event in held.take() {
                event.replay(audit, failure);
            }
            keyring.set_audit(audit.clone());
        } else {
            keyring.clear_audit();
        }
        saved.map_err(|(e, _)| e)?;
        Ok((result?, keyring))
    }

    /// The lineage of the next save: the loaded file's next generation (a
    /// version-1 file gets a new id at generation 1).
    fn next_lineage(&self, loaded: Option<Lineage>) -> Result<Lineage, StoreError> {
        match loaded {
            Some(l) => l.next(),
            None => Lineage::new(&mut getrandom::SysRng),
        }
        .map_err(StoreError::Rejected)
    }

    /// Re-seals the keyring under `new_root`; the key material is unchanged.
    /// From then on this store uses `new_root`. Emits `root_changed`.
    ///
    /// The old root still opens every earlier copy of the file; to make
    /// those copies useless, use [`KeyringStore::update_with_new_root`].
    ///
    /// # Errors
    /// As [`KeyringStore::update`].
    pub fn change_root(&mut self, new_root: Arc<dyn KeyProvider>) -> Result<(), StoreError> {
        let result = (|| {
            let _lock = self.lock(true)?;
            let (keyring, lineage, _) = self.load_checked_emitting()?;
            self.change_and_save(keyring, lineage, &*new_root, |_| Ok(()))
                .map(|_| ())
        })();
        self.emit(AuditAction::RootChanged, result.as_ref().err());
        result?;
        self.root = new_root;
        Ok(())
    }

    /// Applies `change` (typically destroying versions) and re-seals the
    /// keyring under `new_root` in one save, then retires the old root, so
    /// that no earlier copy of the keyring file (a backup, a snapshot) can
    /// bring back what `change` destroyed:
    ///
    /// - a PKCS#11 root destroys its token key ([`Retirement::Destroyed`]):
    ///   no earlier copy opens again;
    /// - a passphrase or key file can't destroy itself
    ///   ([`Retirement::ByOperator`]): earlier copies open under it until
    ///   the operator destroys it and its copies, and hands `new_root` to
    ///   every user of the keyring.
    ///
    /// Refused, with nothing written, when `new_root` opens the current
    /// file too (the same passphrase, key file or token key). The old root
    /// is retired only after the new file has been read back and opened
    /// with `new_root`. Emits `root_changed` and `root_retired`. From then
    /// on this store uses `new_root`.
    ///
    /// # Errors
    /// As [`KeyringStore::update`]; [`StoreError::Rejected`] with
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for a
    /// `new_root` that opens the current file; the old root's error if it
    /// cannot be retired (the keyring is then saved under `new_root`
    /// already, and this store uses it).
    pub fn update_with_new_root<T>(
        &mut self,
        new_root: Arc<dyn KeyProvider>,
        change: impl FnOnce(&mut Keyring) -> crate::Result<T>,
    ) -> Result<(T, Retirement), StoreError> {
        let saved = (|| {
            let _lock = self.lock(true)?;
            let (keyring, lineage, bytes) = self.load_checked_emitting()?;
            if self.same_root_key(&bytes, &*new_root) {
                return Err(StoreError::Rejected(crate::Error::InvalidArgument {
                    reason: "the new root opens the current keyring file too: choose another \
                             passphrase, key file or token key",
                }));
            }
            let (out, _) = self.change_and_save(keyring, lineage, &*new_root, change)?;
            // Read it back before the old root goes.
            self.open_file(&*new_root)?;
            Ok(out)
        })();
        self.emit(AuditAction::RootChanged, saved.as_ref().err());
        let out = saved?;
        let old_root = core::mem::replace(&mut self.root, new_root);
        let retired = old_root.retire().map_err(StoreError::Rejected);
        self.emit(AuditAction::RootRetired, retired.as_ref().err());
        Ok((out, retired?))
    }

    /// Whether `new_root` seals with the secret that sealed `current` (the
    /// file's bytes): then retiring the old root would retire the new one.
    /// A PKCS#11 root unwraps with the key its file names, so any root on
    /// the token opens the file: there, the same token and key labels tell.
    /// Other roots: whether `new_root` opens the file.
    fn same_root_key(&self, current: &[u8], new_root: &dyn KeyProvider) -> bool {
        if self.root.root_kind() == RootKind::Pkcs11 && new_root.root_kind() == RootKind::Pkcs11 {
            let probe = [0u8; 16];
            return match (self.root.new_params(&probe), new_root.new_params(&probe)) {
                (Ok(a), Ok(b)) => a == b,
                _ => true,
            };
        }
        keyring_file::decrypt(current, new_root).is_ok()
    }

    /// Accepts the keyring file as it is, even if it is older than the
    /// newest generation recorded (a deliberate restore of a backup), and
    /// saves it at once as the newest: one generation above every record,
    /// so the records follow it. Emits `restore_accepted`. Returns the
    /// file's lineage before (`None` for a version-1 file) and after.
    ///
    /// Only for a restore the operator means: the restored copy brings back
    /// every version destroyed since it was made.
    ///
    /// # Errors
    /// As [`KeyringStore::load`], without the rollback check; save errors.
    pub fn accept_restore(&self) -> Result<(Option<Lineage>, Lineage), StoreError> {
        let result = (|| {
            let _lock = self.lock(true)?;
            let (keyring, lineage, _) = self.open_file(&*self.root)?;
            // A damaged generation file is overwritten, not trusted.
            let records = self.rollback_records(lineage).or_else(|e| match e {
                StoreError::Keyring { .. } => Ok(Vec::new()),
                other => Err(other),
            })?;
            let newest = records
                .iter()
                .map(|(l, _)| l.generation)
                .chain(lineage.map(|l| l.generation))
                .max()
                .unwrap_or(0);
            let keyring_id = match lineage {
                Some(l) => l.keyring_id,
                None => {
                    Lineage::new(&mut getrandom::SysRng)
                        .map_err(StoreError::Rejected)?
                        .keyring_id
                }
            };
            let next = Lineage {
                keyring_id,
                generation: newest,
            }
            .next()
            .map_err(StoreError::Rejected)?;
            // Forget this process's record of another lineage.
            *self
                .seen
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
            self.save_locked(&keyring, &*self.root, next)
                .map_err(|(e, _)| e)?;
            Ok((lineage, next))
        })();
        self.emit(AuditAction::RestoreAccepted, result.as_ref().err());
        result
    }

    fn lock(&self, wait: bool) -> Result<File, StoreError> {
        let mut lock_path: OsString = self.path.clone().into_os_string();
        lock_path.push(".lock");
        let lock_path = PathBuf::from(lock_path);
        // O_NOFOLLOW: a symbolic link planted at the lock's path is
        // refused, not followed (it could create or lock another file).
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
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

    /// Seals at `lineage` and writes atomically; the caller holds the
    /// lock. Then records the generation beside the file and in the root.
    /// An error says whether the keyring file was replaced before it
    /// happened (`true`: the change is saved, its record is not).
    fn save_locked(
        &self,
        keyring: &Keyring,
        root: &dyn KeyProvider,
        lineage: Lineage,
    ) -> Result<(), (StoreError, bool)> {
        let bytes = keyring_file::encrypt_as(keyring, root, lineage, &mut getrandom::SysRng)
            .map_err(|e| (StoreError::Rejected(e), false))?;
        self.write_atomic(&self.path, &bytes)
            .map_err(|e| (e, false))?;
        // Committed: the new file is in place.
        self.remember(Some(lineage));
        // Temp files that crashed saves left (they may still hold versions
        // destroyed since) go now: we hold the lock, so no other save of
        // this keyring is in flight.
        for stale in self.stale_temp_files() {
            let _ = self.ops.remove(&stale);
        }
        let generation_file = self.generation_file();
        let dir = disk::dir_of(&self.path);
        self.write_atomic(
            &generation_file,
            keyring_file::generation_file_bytes(lineage).as_bytes(),
        )
        .and_then(|()| {
            self.ops
                .sync_dir(&dir)
                .map_err(io_err("fsync the directory", &dir))
        })
        .and_then(|()| {
            root.record_generation(&lineage.keyring_id, lineage.generation)
                .map_err(StoreError::Rejected)
        })
        .map_err(|e| (e, true))
    }

    /// Writes `bytes` to a new temp file beside `target`, fsyncs it and
    /// renames it over `target`.
    fn write_atomic(&self, target: &Path, bytes: &[u8]) -> Result<(), StoreError> {
        // A symbolic link is followed, so the file it names is updated (and
        // the link stays); the new file keeps the old one's owner, group
        // and mode, so a change made as root leaves a service's keyring
        // its own.
        let target = &crate::file::resolve(target)?;
        let keep = fs::metadata(target).ok();
        let tmp = disk::temp_path_beside(target, "tmp")?;
        let ops = &*self.ops;
        let mut file = ops.create_new(&tmp).map_err(io_err("create", &tmp))?;
        if let Some(m) = keep {
            use std::os::unix::fs::{MetadataExt, PermissionsExt};
            let kept = std::os::unix::fs::fchown(&file, Some(m.uid()), Some(m.gid()))
                .map_err(io_err("keep the owner and group of", target))
                .and_then(|()| {
                    file.set_permissions(fs::Permissions::from_mode(m.mode() & 0o7777))
                        .map_err(io_err("keep the mode of", target))
                });
            if let Err(e) = kept {
                drop(file);
                let _ = ops.remove(&tmp);
                return Err(e);
            }
        }
        let written = ops
            .write_all(&mut file, bytes)
            .map_err(io_err("write", &tmp))
            .and_then(|()| ops.sync(&file).map_err(io_err("fsync", &tmp)))
            .and_then(|()| ops.close(file).map_err(io_err("close", &tmp)))
            .and_then(|()| {
                ops.rename(&tmp, target)
                    .map_err(io_err("rename into place", target))
            });
        if let Err(e) = written {
            // Best effort: the temp file holds only sealed bytes anyway.
            let _ = ops.remove(&tmp);
            return Err(e);
        }
        Ok(())
    }

    /// Temp files of this keyring that a crashed save left behind
    /// (`.NAME.<16 hex digits>.tmp` beside it, and
    /// `.NAME.generation.<16 hex digits>.tmp` for its generation file).
    /// Each of the first kind holds an older copy of the keyring, encrypted
    /// under the root, so it can bring destroyed versions back; the next
    /// successful save removes them all. Report them when found (the
    /// command line warns).
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
        let random_part = |hex: &str| hex.len() == 16 && hex.bytes().all(|b| b.is_ascii_hexdigit());
        let mut found: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .filter(|e| {
                let file = e.file_name();
                let file = file.to_string_lossy();
                file.strip_prefix(&prefix)
                    .and_then(|rest| rest.strip_suffix(".tmp"))
                    .is_some_and(|rest| {
                        random_part(rest)
                            || rest.strip_prefix("generation.").is_some_and(random_part)
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

/// Reads the generation file (FORMAT.md 10.6); `None` if there is none.
fn read_generation_file(path: &Path) -> Result<Option<Lineage>, StoreError> {
    let bytes = match read_bounded(path, keyring_file::MAX_GENERATION_FILE_LEN) {
        Ok(b) => b,
        Err(StoreError::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    keyring_file::parse_generation_file(&bytes)
        .map(Some)
        .map_err(|source| StoreError::Keyring {
            path: path.to_path_buf(),
            source,
        })
}

#[cfg(test)]
mod fault_tests;
/// The core's test helpers (`core/tests/common`), shared by the unit
/// tests below.
#[cfg(test)]
#[path = "../tests/common/mod.rs"]
mod test_common;
#[cfg(test)]
mod unit_tests;
