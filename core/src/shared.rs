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
#[cfg(feature = "vault")]
use core::sync::atomic::{AtomicBool, Ordering};
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
/// In memory ([`SharedKeyring::new`]), backed by a keyring file
/// ([`SharedKeyring::load`]), or kept in a Vault / OpenBao KV v2 secret
/// (`SharedKeyring::load_kv`, feature `vault`). With a file, [`SharedKeyring::update`] goes
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
    inner: Arc<Inner>,
}

/// The handle's state, shared with a background reload (KV) when there is
/// one.
struct Inner {
    current: RwLock<Arc<Keyring>>,
    writer: Mutex<WriterState>,
    backing: Backing,
    /// A background reload is running (KV only).
    #[cfg(feature = "vault")]
    reloading: AtomicBool,
}

/// Where the keyring lives.
enum Backing {
    Memory,
    File(KeyringStore),
    #[cfg(feature = "vault")]
    Kv(crate::vault::KvStore),
}

/// What only an updater or a reloader touches.
#[derive(Default)]
struct WriterState {
    /// The keyring file as last loaded or saved.
    stamp: Option<FileStamp>,
    /// The KV keyring's lineage as last loaded or written: a reload never
    /// goes back from it.
    #[cfg(feature = "vault")]
    kv_seen: Option<crate::keyring_file::Lineage>,
    auto_reload: Option<Duration>,
    last_check: Option<Instant>,
    /// When the keyring was last known to be the newest (loaded, saved, or
    /// checked unchanged).
    confirmed: Option<Instant>,
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
        let mut d = f.debug_struct("SharedKeyring");
        match &self.inner.backing {
            Backing::Memory => d.field("store", &"memory"),
            Backing::File(store) => d.field("store", store),
            #[cfg(feature = "vault")]
            Backing::Kv(store) => d.field("store", store),
        };
        d.finish_non_exhaustive()
    }
}

impl SharedKeyring {
    fn with(keyring: Keyring, backing: Backing, writer: WriterState) -> Self {
        Self {
            inner: Arc::new(Inner {
                current: RwLock::new(Arc::new(keyring)),
                writer: Mutex::new(writer),
                backing,
                #[cfg(feature = "vault")]
                reloading: AtomicBool::new(false),
            }),
        }
    }

    /// An in-memory shared keyring.
    pub fn new(keyring: Keyring) -> Self {
        Self::with(keyring, Backing::Memory, WriterState::default())
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
        let writer = WriterState {
            stamp,
            confirmed: Some(Instant::now()),
            ..WriterState::default()
        };
        Ok(Self::with(keyring, Backing::File(store), writer))
    }

    /// A shared keyring kept in a Vault / OpenBao KV v2 secret (feature
    /// `vault`), loaded now: every instance of a service opens the same
    /// one. [`SharedKeyring::update`] writes with check-and-set (retrying
    /// when another instance wrote first), and
    /// [`SharedKeyring::reload_if_changed`] (or
    /// [`SharedKeyring::set_auto_reload`], which checks in the background
    /// so that [`SharedKeyring::current`] never waits for the server) picks
    /// up what other instances wrote. A reload never goes back to an older
    /// generation or to another keyring. Set the store's audit context
    /// first.
    ///
    /// # Errors
    /// [`StoreError::Remote`] with the store's error (server, permission,
    /// missing secret, rollback, root).
    #[cfg(feature = "vault")]
    pub fn load_kv(store: crate::vault::KvStore) -> Result<Self, StoreError> {
        let (keyring, lineage) = store.load_versioned().map_err(StoreError::Remote)?;
        let writer = WriterState {
            kv_seen: Some(lineage),
            confirmed: Some(Instant::now()),
            ..WriterState::default()
        };
        Ok(Self::with(keyring, Backing::Kv(store), writer))
    }

    /// The keyring as of now: a snapshot to encrypt and decrypt with. Cheap
    /// (a pointer copy); hold it for one operation, not for a service's
    /// life, or it keeps old key material alive.
    ///
    /// With [`SharedKeyring::set_auto_reload`], first checks for a newer
    /// keyring (at most once per interval; a reload error leaves the
    /// current keyring in place and is reported by the next explicit
    /// reload). A keyring file is checked here (a `stat`); a KV keyring is
    /// checked by a background thread, so this never waits for the server.
    pub fn current(&self) -> Arc<Keyring> {
        self.maybe_auto_reload();
        self.inner.snapshot()
    }

    /// Changes the keyring: copies it, applies `change` to the copy, saves
    /// it (file-backed: under the file lock, on top of the file's current
    /// contents, not this process's copy; KV: on top of the newest KV
    /// version, with check-and-set), then makes it current. Readers and
    /// streams are never blocked; if `change` or the save fails, nothing
    /// changes.
    ///
    /// `change` runs once, except for a KV keyring where another instance
    /// wrote first: it then runs again on the newer keyring (so it must not
    /// depend on having run before).
    ///
    /// # Errors
    /// [`StoreError::Rejected`] with `change`'s error; with a file, as
    /// [`KeyringStore::update`]; with KV, [`StoreError::Remote`].
    pub fn update<T>(
        &self,
        mut change: impl FnMut(&mut Keyring) -> crate::Result<T>,
    ) -> Result<T, StoreError> {
        let inner = &*self.inner;
        let mut writer = inner.writer();
        match &inner.backing {
            Backing::Memory => {
                let mut next = inner.snapshot().duplicate().map_err(StoreError::Rejected)?;
                let out = change(&mut next).map_err(StoreError::Rejected)?;
                inner.swap(next);
                Ok(out)
            }
            Backing::File(store) => {
                let (out, saved) = store.update_keyring(true, change)?;
                writer.stamp = FileStamp::of(store);
                writer.confirmed = Some(Instant::now());
                inner.swap(saved);
                Ok(out)
            }
            #[cfg(feature = "vault")]
            Backing::Kv(store) => {
                let (out, saved, lineage) = store.update_keyring(change)?;
                Inner::check_lineage(store, &writer, lineage)?;
                writer.kv_seen = Some(lineage);
                writer.confirmed = Some(Instant::now());
                inner.swap(saved);
                Ok(out)
            }
        }
    }

    /// Sends audit events to `audit` from now on: those of the current
    /// keyring and of every keyring loaded or saved later (with a file or
    /// KV: through the store, as [`KeyringStore::set_audit`]). Streams opened
    /// before keep the context they had.
    ///
    /// # Errors
    /// [`StoreError::Rejected`] if the current keyring cannot be copied
    /// (it always can; the copy re-checks every key).
    pub fn set_audit(&self, audit: Arc<AuditContext>) -> Result<(), StoreError> {
        let inner = &*self.inner;
        let _writer = inner.writer();
        match &inner.backing {
            Backing::Memory => {}
            Backing::File(store) => store.set_audit_shared(Some(audit.clone())),
            #[cfg(feature = "vault")]
            Backing::Kv(store) => store.set_audit_shared(Some(audit.clone())),
        }
        let mut next = inner.snapshot().duplicate().map_err(StoreError::Rejected)?;
        next.set_audit(audit);
        inner.swap(next);
        Ok(())
    }

    /// Loads the keyring again and makes it current (no-op in memory).
    ///
    /// # Errors
    /// As [`KeyringStore::load`], or [`StoreError::Remote`] for KV (and
    /// [`StoreError::Rollback`] when the KV keyring went back to an older
    /// generation or became another keyring); the current keyring stays on
    /// error.
    pub fn reload(&self) -> Result<(), StoreError> {
        let mut writer = self.inner.writer();
        self.inner.reload_locked(&mut writer)
    }

    /// Reloads if the keyring changed since it was last loaded or saved
    /// here (a file: a `stat`, no read; KV: one read of the secret's
    /// metadata, no keyring opened). Returns whether it reloaded.
    ///
    /// # Errors
    /// As [`SharedKeyring::reload`].
    pub fn reload_if_changed(&self) -> Result<bool, StoreError> {
        let mut writer = self.inner.writer();
        self.inner.reload_if_changed_locked(&mut writer)
    }

    /// Makes [`SharedKeyring::current`] check for a newer keyring at most
    /// once per `every` (`None`: never, the default).
    pub fn set_auto_reload(&self, every: Option<Duration>) {
        let mut writer = self.inner.writer();
        writer.auto_reload = every;
        writer.last_check = None;
    }

    /// How long ago the keyring was last known to be the newest one: loaded,
    /// saved, or checked and found unchanged. It grows while reloads fail
    /// (a KV server that is unreachable): the keyring in memory keeps
    /// working, but does not see rotations or destroys made elsewhere. A
    /// service alerts on it (`docs/VAULT.md`). `None` for an in-memory
    /// keyring.
    pub fn staleness(&self) -> Option<Duration> {
        if matches!(self.inner.backing, Backing::Memory) {
            return None;
        }
        let confirmed = self.inner.writer().confirmed?;
        Some(confirmed.elapsed())
    }

    fn maybe_auto_reload(&self) {
        let inner = &self.inner;
        if matches!(inner.backing, Backing::Memory) {
            return;
        }
        // Another thread updating or reloading: use what is current.
        let Ok(mut writer) = inner.writer.try_lock() else {
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
        match &inner.backing {
            #[cfg(feature = "vault")]
            Backing::Kv(_) => {
                drop(writer);
                Inner::reload_in_background(inner);
            }
            _ => {
                let _ = inner.reload_if_changed_locked(&mut writer);
            }
        }
    }

    /// The keyring store, for a file-backed keyring.
    pub fn store(&self) -> Option<&KeyringStore> {
        match &self.inner.backing {
            Backing::File(store) => Some(store),
            _ => None,
        }
    }

    /// The KV store, for a keyring kept in Vault / OpenBao.
    #[cfg(feature = "vault")]
    pub fn kv_store(&self) -> Option<&crate::vault::KvStore> {
        match &self.inner.backing {
            Backing::Kv(store) => Some(store),
            _ => None,
        }
    }
}

impl Inner {
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

    fn reload_locked(&self, writer: &mut WriterState) -> Result<(), StoreError> {
        match &self.backing {
            Backing::Memory => Ok(()),
            Backing::File(store) => {
                // Stamp first: a save that lands during the load is seen
                // next time.
                let stamp = FileStamp::of(store);
                let keyring = store.load()?;
                writer.stamp = stamp;
                writer.confirmed = Some(Instant::now());
                self.swap(keyring);
                Ok(())
            }
            #[cfg(feature = "vault")]
            Backing::Kv(store) => {
                let (keyring, lineage) = store.load_versioned().map_err(StoreError::Remote)?;
                Self::check_lineage(store, writer, lineage)?;
                writer.kv_seen = Some(lineage);
                writer.confirmed = Some(Instant::now());
                self.swap(keyring);
                Ok(())
            }
        }
    }

    fn reload_if_changed_locked(&self, writer: &mut WriterState) -> Result<bool, StoreError> {
        match &self.backing {
            Backing::Memory => Ok(false),
            Backing::File(store) => {
                if FileStamp::of(store) == writer.stamp {
                    writer.confirmed = Some(Instant::now());
                    return Ok(false);
                }
                self.reload_locked(writer).map(|()| true)
            }
            #[cfg(feature = "vault")]
            Backing::Kv(store) => {
                let version = store.current_version().map_err(StoreError::Remote)?;
                if writer.kv_seen.is_some_and(|l| l.generation == version) {
                    writer.confirmed = Some(Instant::now());
                    return Ok(false);
                }
                self.reload_locked(writer).map(|()| true)
            }
        }
    }

    /// Refuses a KV keyring older than, or another keyring than, the one
    /// this handle saw last.
    #[cfg(feature = "vault")]
    fn check_lineage(
        store: &crate::vault::KvStore,
        writer: &WriterState,
        lineage: crate::keyring_file::Lineage,
    ) -> Result<(), StoreError> {
        let Some(seen) = writer.kv_seen else {
            return Ok(());
        };
        let other_keyring = seen.keyring_id != lineage.keyring_id;
        if other_keyring || lineage.generation < seen.generation {
            return Err(StoreError::Rollback {
                path: store.location().into(),
                found: lineage.generation,
                newest: seen.generation,
                witness: "this process",
                other_keyring,
            });
        }
        Ok(())
    }

    /// Starts one background check for a newer KV keyring, unless one is
    /// running. Its error is dropped (the keyring in memory stays, and
    /// [`SharedKeyring::staleness`] keeps growing).
    #[cfg(feature = "vault")]
    fn reload_in_background(inner: &Arc<Self>) {
        if inner.reloading.swap(true, Ordering::AcqRel) {
            return;
        }
        let task = inner.clone();
        let spawned = std::thread::Builder::new()
            .name("strongroom-reload".into())
            .spawn(move || {
                {
                    let mut writer = task.writer();
                    let _ = task.reload_if_changed_locked(&mut writer);
                }
                task.reloading.store(false, Ordering::Release);
            });
        if spawned.is_err() {
            inner.reloading.store(false, Ordering::Release);
        }
    }
}
