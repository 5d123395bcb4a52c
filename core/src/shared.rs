//! [`SharedKeyring`]: one keyring for all of a service's threads (`std`).
//!
//! Readers take a snapshot (an `Arc<Keyring>`, under a lock held only for
//! the pointer copy) and work on it without any lock. An update copies the
//! keyring, changes the copy, saves it when the keyring lives in a file, and
//! swaps the pointer: a rotation never waits for an encrypt, a decrypt or an
//! open stream, and none of them waits for a rotation. Updates are
//! serialised among themselves (and, through the store's file lock, with
//! other processes).
//!
//! A snapshot keeps the key material it was taken with until it is dropped:
//! after a destroy, an operation already running finishes under the old
//! snapshot; the next one sees the destroy. Streams keep their snapshot
//! only until their header is opened.

use alloc::sync::Arc;
use core::fmt;
use core::time::Duration;
use std::os::unix::fs::MetadataExt;
use std::sync::{Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Instant;

use crate::audit::AuditContext;
use crate::keyring::Keyring;
use crate::store::{KeyringStore, StoreError};

/// A thread-safe keyring handle for services (shared: `Send + Sync`; wrap
/// it in an `Arc` and give every thread a clone).
///
/// In memory ([`SharedKeyring::new`]) or backed by a keyring file
/// ([`SharedKeyring::load`]). With a file, [`SharedKeyring::update`] goes
/// through the store (lock, load, change, save, then swap), so rotations
/// made by two processes never lose each other's versions, and
/// [`SharedKeyring::reload_if_changed`] (or [`SharedKeyring::set_auto_reload`])
/// picks up changes another process wrote.
///
/// # Example
/// ```
/// use std::sync::Arc;
/// use strongroom::{EncryptionContext, Keyring, SharedKeyring};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut keyring = Keyring::new();
/// keyring.create_key("pii")?;
/// let shared = Arc::new(SharedKeyring::new(keyring));
/// let ctx = EncryptionContext::new().with("column", "email")?;
///
/// let worker = {
///     let (shared, ctx) = (shared.clone(), ctx.clone());
///     std::thread::spawn(move || shared.current().encrypt_record("pii", b"ada@example.com", &ctx))
/// };
/// let v2 = shared.update(|k| k.rotate("pii"))?;
/// let record = worker.join().expect("worker")?;
/// assert_eq!(v2, 2);
/// let plain = shared.current().decrypt_record(&record, &ctx)?;
/// assert_eq!(plain.expose_secret(), b"ada@example.com");
/// # Ok(())
/// # }
/// ```
pub struct SharedKeyring {
    current: RwLock<Arc<Keyring>>,
    writer: Mutex<WriterState>,
    store: Option<KeyringStore>,
}

/// What only an updater or a reloader touches.
#[derive(Default)]
struct WriterState {
    /// The keyring file as last loaded or saved.
    stamp: Option<FileStamp>,
    auto_reload: Option<Duration>,
    last_check: Option<Instant>,
}

/// What changes when a keyring file is replaced (it is renamed into place,
/// so the inode changes on every save).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileStamp {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: i64,
    mtime_nsec: i64,
}

impl FileStamp {
    fn of(store: &KeyringStore) -> Option<Self> {
        let m = std::fs::metadata(store.path()).ok()?;
        Some(Self {
            dev: m.dev(),
            ino: m.ino(),
            len: m.len(),
            mtime: m.mtime(),
            mtime_nsec: m.mtime_nsec(),
        })
    }
}

impl fmt::Debug for SharedKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedKeyring")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl SharedKeyring {
    /// An in-memory shared keyring.
    pub fn new(keyring: Keyring) -> Self {
        Self {
            current: RwLock::new(Arc::new(keyring)),
            writer: Mutex::new(WriterState::default()),
            store: None,
        }
    }

    /// A shared keyring backed by the keyring file of `store` (loaded now).
    /// Set the store's audit context first: it is attached to every keyring
    /// loaded from then on.
    ///
    /// # Errors
    /// As [`KeyringStore::load`].
    pub fn load(store: KeyringStore) -> Result<Self, StoreError> {
        let stamp = FileStamp::of(&store);
        let keyring = store.load()?;
        Ok(Self {
            current: RwLock::new(Arc::new(keyring)),
            writer: Mutex::new(WriterState {
                stamp,
                ..WriterState::default()
            }),
            store: Some(store),
        })
    }

    /// The keyring as of now: a snapshot to encrypt and decrypt with. Cheap
    /// (a pointer copy); hold it for one operation, not for a service's
    /// life, or it keeps old key material alive.
    ///
    /// With [`SharedKeyring::set_auto_reload`], first checks the keyring file
    /// (at most once per interval; a reload error leaves the current keyring
    /// in place and is reported by the next explicit reload).
    pub fn current(&self) -> Arc<Keyring> {
        self.maybe_auto_reload();
        self.snapshot()
    }

    fn snapshot(&self) -> Arc<Keyring> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn swap(&self, keyring: Keyring) {
        let fresh = Arc::new(keyring);
        let old = core::mem::replace(
            &mut *self.current.write().unwrap_or_else(PoisonError::into_inner),
            fresh,
        );
        // The old snapshot's material is wiped when its last user drops it,
        // outside the lock.
        drop(old);
    }

    fn writer(&self) -> MutexGuard<'_, WriterState> {
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Changes the keyring: copies it, applies `change` to the copy, saves
    /// it (file-backed: under the file lock, on top of the file's current
    /// contents, not this process's copy), then makes it current. Readers
    /// and streams are never blocked; if `change` or the save fails, nothing
    /// changes.
    ///
    /// # Errors
    /// [`StoreError::Rejected`] with `change`'s error; with a file, as
    /// [`KeyringStore::update`].
    pub fn update<T>(
        &self,
        change: impl FnOnce(&mut Keyring) -> crate::Result<T>,
    ) -> Result<T, StoreError> {
        let mut writer = self.writer();
        match &self.store {
            None => {
                let mut next = self.snapshot().duplicate().map_err(StoreError::Rejected)?;
                let out = change(&mut next).map_err(StoreError::Rejected)?;
                self.swap(next);
                Ok(out)
            }
            Some(store) => {
                let (out, saved) = store.update_keyring(true, change)?;
                writer.stamp = FileStamp::of(store);
                self.swap(saved);
                Ok(out)
            }
        }
    }

    /// Sends audit events to `audit` from now on: those of the current
    /// keyring and of every keyring loaded or saved later (with a file:
    /// through the store, as [`KeyringStore::set_audit`]). Streams opened
    /// before keep the context they had.
    ///
    /// # Errors
    /// [`StoreError::Rejected`] if the current keyring cannot be copied
    /// (it always can; the copy re-checks every key).
    pub fn set_audit(&self, audit: Arc<AuditContext>) -> Result<(), StoreError> {
        let _writer = self.writer();
        if let Some(store) = &self.store {
            store.set_audit_shared(Some(audit.clone()));
        }
        let mut next = self.snapshot().duplicate().map_err(StoreError::Rejected)?;
        next.set_audit(audit);
        self.swap(next);
        Ok(())
    }

    /// Loads the keyring file again and makes it current (no-op in memory).
    ///
    /// # Errors
    /// As [`KeyringStore::load`]; the current keyring stays on error.
    pub fn reload(&self) -> Result<(), StoreError> {
        let mut writer = self.writer();
        self.reload_locked(&mut writer)
    }

    fn reload_locked(&self, writer: &mut WriterState) -> Result<(), StoreError> {
        let Some(store) = &self.store else {
            return Ok(());
        };
        // Stamp first: a save that lands during the load is seen next time.
        let stamp = FileStamp::of(store);
        let keyring = store.load()?;
        writer.stamp = stamp;
        self.swap(keyring);
        Ok(())
    }

    /// Reloads if the keyring file changed since it was last loaded or saved
    /// here (a `stat`, no read, when it did not). Returns whether it
    /// reloaded.
    ///
    /// # Errors
    /// As [`SharedKeyring::reload`].
    pub fn reload_if_changed(&self) -> Result<bool, StoreError> {
        let mut writer = self.writer();
        self.reload_if_changed_locked(&mut writer)
    }

    fn reload_if_changed_locked(&self, writer: &mut WriterState) -> Result<bool, StoreError> {
        let Some(store) = &self.store else {
            return Ok(false);
        };
        if FileStamp::of(store) == writer.stamp {
            return Ok(false);
        }
        self.reload_locked(writer).map(|()| true)
    }

    /// Makes [`SharedKeyring::current`] check the keyring file for changes
    /// at most once per `every` (`None`: never, the default).
    pub fn set_auto_reload(&self, every: Option<Duration>) {
        let mut writer = self.writer();
        writer.auto_reload = every;
        writer.last_check = None;
    }

    fn maybe_auto_reload(&self) {
        if self.store.is_none() {
            return;
        }
        // Another thread updating or reloading: use what is current.
        let Ok(mut writer) = self.writer.try_lock() else {
            return;
        };
        let Some(every) = writer.auto_reload else {
            return;
        };
        let now = Instant::now();
        if writer
            .last_check
            .is_some_and(|t| now.duration_since(t) < every)
        {
            return;
        }
        writer.last_check = Some(now);
        let _ = self.reload_if_changed_locked(&mut writer);
    }

    /// The keyring store, for a file-backed keyring.
    pub fn store(&self) -> Option<&KeyringStore> {
        self.store.as_ref()
    }
}
