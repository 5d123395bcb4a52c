//! `strongroom_keyring`: a shared keyring, in memory or backed by a keyring
//! file, and its key lifecycle.

use alloc::sync::Arc;
use core::ffi::c_char;
use core::fmt;
use std::path::Path;

use strongroom::root::{KeyFileRoot, KeyProvider, PassphraseRoot, load_key_file};
use strongroom::store::KeyringStore;
use strongroom::{Keyring, SharedKeyring, Timestamp};

use crate::handle::{self, Kind};
use crate::result::strongroom_result;
use crate::util::{boundary, boundary_value, input, out_ptr, text, write};

/// A keyring shared by every thread of a service: encrypt and decrypt from
/// any number of threads at once while another rotates; no call waits for
/// a rotation. In memory (`strongroom_keyring_new`) or backed by a keyring
/// file (`strongroom_keyring_open_*` / `_create_*`), whose every change is
/// saved atomically under the file's lock before it takes effect.
///
/// Shared: pass it as `const strongroom_keyring *` to many threads. Free it
/// with `strongroom_keyring_free` once no thread uses it.
pub struct strongroom_keyring {
    pub(crate) inner: SharedKeyring,
}

impl fmt::Debug for strongroom_keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("strongroom_keyring").finish_non_exhaustive()
    }
}

/// The keyring behind a handle.
///
/// # Safety
/// `k` is NULL or a handle from this library, not freed during the call.
pub(crate) unsafe fn keyring<'a>(
    k: *const strongroom_keyring,
) -> Result<&'a SharedKeyring, strongroom_result> {
    // SAFETY: checked against the registry first.
    unsafe { handle::get(k, Kind::Keyring) }.map(|k| &k.inner)
}

pub(crate) fn publish(out: *mut *mut strongroom_keyring, inner: SharedKeyring) {
    let h = handle::register(strongroom_keyring { inner }, Kind::Keyring);
    // SAFETY: every caller checked `out` with `out_ptr` first.
    unsafe { write(out, h) };
}

/// Makes an empty in-memory keyring in `*out`.
///
/// Returns `OK` or `NULL_POINTER`.
///
/// # Safety
/// `out` is NULL or writable.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_keyring_new(
    out: *mut *mut strongroom_keyring,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out)?;
        publish(out, SharedKeyring::new(Keyring::new()));
        Ok(())
    })
}

/// A path argument: UTF-8 bytes, not NUL-terminated.
///
/// # Safety
/// As `util::text`.
pub(crate) unsafe fn path<'a>(ptr: *const u8, len: usize) -> Result<&'a Path, strongroom_result> {
    // SAFETY: forwarded.
    let s = unsafe { text(ptr, len) }?;
    if s.is_empty() {
        return Err(strongroom_result::InvalidArgument);
    }
    Ok(Path::new(s))
}

pub(crate) fn open_or_create(
    keyring_path: &Path,
    root: Arc<dyn KeyProvider>,
    create: bool,
) -> Result<SharedKeyring, strongroom_result> {
    let store = KeyringStore::new(keyring_path, root);
    if create {
        store.create(&Keyring::new())?;
    }
    Ok(SharedKeyring::load(store)?)
}

/// The key-file root of `key_file` (the one secret-file rule: no symbolic
/// link, owned by this user, mode 0600, 32 bytes or 64 hex digits).
fn key_file_root(key_file: &Path) -> Result<Arc<dyn KeyProvider>, strongroom_result> {
    let root: KeyFileRoot = load_key_file(key_file)?;
    Ok(Arc::new(root))
}

/// Opens the keyring file at `path` (UTF-8, `path_len` bytes, no NUL
/// needed), sealed with the key file at `key_file_path`.
///
/// Returns `OK`; `NOT_FOUND`; `IO`; `INSECURE_PERMISSIONS` for a key file
/// that others can read, a symbolic link or another user's file;
/// `INVALID_ARGUMENT` for a key file that is not 32 bytes or 64 hex digits,
/// or a file sealed with another kind of root; `AUTHENTICATION_FAILED` for
/// the wrong key; `MALFORMED`, `UNSUPPORTED_FORMAT`, `TOO_LARGE` for a file
/// that is not a keyring; `ROLLBACK` for an older copy of the file;
/// `INVALID_UTF8`; `NULL_POINTER`.
///
/// # Safety
/// The paths point to their lengths' readable bytes; `out` is writable.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_keyring_open_key_file(
    path: *const u8,
    path_len: usize,
    key_file_path: *const u8,
    key_file_path_len: usize,
    out: *mut *mut strongroom_keyring,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out)?;
        // SAFETY: the caller's buffer contract.
        let (p, kf) = unsafe {
            (
                self::path(path, path_len)?,
                self::path(key_file_path, key_file_path_len)?,
            )
        };
        publish(out, open_or_create(p, key_file_root(kf)?, false)?);
        Ok(())
    })
}

/// Creates a new, empty keyring file at `path`, sealed with the key file at
/// `key_file_path`, and opens it. Never replaces an existing file.
///
/// Returns as `strongroom_keyring_open_key_file`, plus `ALREADY_EXISTS`.
///
/// # Safety
/// As `strongroom_keyring_open_key_file`.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_keyring_create_key_file(
    path: *const u8,
    path_len: usize,
    key_file_path: *const u8,
    key_file_path_len: usize,
    out: *mut *mut strongroom_keyring,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out)?;
        // SAFETY: the caller's buffer contract.
        let (p, kf) = unsafe {
            (
                self::path(path, path_len)?,
                self::path(key_file_path, key_file_path_len)?,
            )
        };
        publish(out, open_or_create(p, key_file_root(kf)?, true)?);
        Ok(())
    })
}

/// Opens the keyring file at `path`, sealed with a passphrase (any bytes,
/// used exactly as given: FORMAT.md 10.3). Runs Argon2id with the costs in
/// the file (the default takes about 0.2-0.4 s and 64 MiB).
///
/// Returns as `strongroom_keyring_open_key_file` (`AUTHENTICATION_FAILED`
/// for a wrong passphrase).
///
/// # Safety
/// The buffers point to their lengths' readable bytes; `out` is writable.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_keyring_open_passphrase(
    path: *const u8,
    path_len: usize,
    passphrase: *const u8,
    passphrase_len: usize,
    out: *mut *mut strongroom_keyring,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out)?;
        // SAFETY: the caller's buffer contract.
        let (p, pass) = unsafe {
            (
                self::path(path, path_len)?,
                input(passphrase, passphrase_len)?,
            )
        };
        let root: Arc<dyn KeyProvider> = Arc::new(PassphraseRoot::new(pass));
        publish(out, open_or_create(p, root, false)?);
        Ok(())
    })
}

/// Creates a new, empty keyring file at `path` sealed with `passphrase`
/// (Argon2id m = 64 MiB, t = 3, p = 4), and opens it.
///
/// Returns as `strongroom_keyring_open_passphrase`, plus `ALREADY_EXISTS`
/// and `INVALID_ARGUMENT` for an empty passphrase.
///
/// # Safety
/// As `strongroom_keyring_open_passphrase`.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_keyring_create_passphrase(
    path: *const u8,
    path_len: usize,
    passphrase: *const u8,
    passphrase_len: usize,
    out: *mut *mut strongroom_keyring,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out)?;
        // SAFETY: the caller's buffer contract.
        let (p, pass) = unsafe {
            (
                self::path(path, path_len)?,
                input(passphrase, passphrase_len)?,
            )
        };
        if pass.is_empty() {
            return Err(strongroom_result::InvalidArgument);
        }
        let root: Arc<dyn KeyProvider> = Arc::new(PassphraseRoot::new(pass));
        publish(out, open_or_create(p, root, true)?);
        Ok(())
    })
}

/// Reads the keyring file again and makes it current (changes saved by
/// other processes); in memory, does nothing.
///
/// Returns `OK`, or the errors of `strongroom_keyring_open_key_file`; on an
/// error the current keyring stays in place.
///
/// # Safety
/// `keyring` is a live handle.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_keyring_reload(
    keyring: *const strongroom_keyring,
) -> strongroom_result {
    boundary(|| {
        // SAFETY: checked against the registry.
        let k = unsafe { self::keyring(keyring) }?;
        k.reload()?;
        Ok(())
    })
}

/// Reloads only if the keyring changed since this process last loaded or
/// saved it (a file: one `stat`; a KV keyring: one read of the secret's
/// metadata). Writes whether it reloaded to `*out_reloaded`; in memory,
/// false.
///
/// Returns as `strongroom_keyring_reload`, plus `NULL_POINTER`.
///
/// # Safety
/// `keyring` is a live handle; `out_reloaded` is writable.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_keyring_reload_if_changed(
    keyring: *const strongroom_keyring,
    out_reloaded: *mut bool,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out_reloaded)?;
        // SAFETY: checked against the registry.
        let k = unsafe { self::keyring(keyring) }?;
        let reloaded = k.reload_if_changed()?;
        // SAFETY: checked non-NULL above.
        unsafe { write(out_reloaded, reloaded) };
        Ok(())
    })
}

/// Makes the keyring check for a newer version at most once every
/// `interval_ms` milliseconds, from its next use on (0: never, the
/// default). A keyring file is checked by the call that uses the keyring
/// (one `stat`); a KV keyring by a background thread, so no call waits for
/// the server. A failed check keeps the keyring in memory; see
/// `strongroom_keyring_staleness_ms`.
///
/// Returns `OK`; `INVALID_HANDLE`.
///
/// # Safety
/// `keyring` is a live handle.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_keyring_set_auto_reload(
    keyring: *const strongroom_keyring,
    interval_ms: u64,
) -> strongroom_result {
    boundary(|| {
        // SAFETY: checked against the registry.
        let k = unsafe { self::keyring(keyring) }?;
        k.set_auto_reload(
            (interval_ms > 0).then(|| core::time::Duration::from_millis(interval_ms)),
        );
        Ok(())
    })
}

/// Writes to `*out_ms` how many milliseconds ago the keyring was last
/// known to be the newest one (loaded, saved, or checked unchanged). It
/// grows while reloads fail, for example while a KV server is unreachable:
/// the keyring keeps working but does not see rotations made elsewhere.
/// Alert on it (`docs/VAULT.md`).
///
/// Returns `OK`; `INVALID_ARGUMENT` for an in-memory keyring (it has no
/// store to be stale against); `NULL_POINTER`; `INVALID_HANDLE`.
///
/// # Safety
/// `keyring` is a live handle; `out_ms` is writable.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_keyring_staleness_ms(
    keyring: *const strongroom_keyring,
    out_ms: *mut u64,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out_ms)?;
        // SAFETY: checked against the registry.
        let k = unsafe { self::keyring(keyring) }?;
        let age = k.staleness().ok_or(strongroom_result::InvalidArgument)?;
        let ms = u64::try_from(age.as_millis()).unwrap_or(u64::MAX);
        // SAFETY: checked non-NULL above.
        unsafe { write(out_ms, ms) };
        Ok(())
    })
}

/// Frees a keyring; its key material is wiped once no call in progress
/// holds it. NULL, or a keyring freed already, does nothing.
///
/// # Safety
/// No other thread uses `keyring` any more.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_keyring_free(keyring: *mut strongroom_keyring) {
    boundary_value((), || {
        // SAFETY: the handle is checked against the registry.
        unsafe { handle::free(keyring, Kind::Keyring) }
    });
}

/// Runs a change of the keyring (saved first when file-backed; run again
/// after a lost check-and-set when kept in KV).
///
/// # Safety
/// `k` is a live keyring handle; `name` points to `name_len` bytes.
unsafe fn change<T>(
    k: *const strongroom_keyring,
    name: *const u8,
    name_len: usize,
    mut f: impl FnMut(&mut Keyring, &str) -> strongroom::Result<T>,
) -> Result<T, strongroom_result> {
    // SAFETY: forwarded; the handle is checked against the registry.
    let (k, name) = unsafe { (self::keyring(k)?, text(name, name_len)?) };
    Ok(k.update(|keyring| f(keyring, name))?)
}

/// Creates the key `name` (UTF-8; FORMAT.md 3: 1-255 bytes of letters,
/// digits and `_-./`) with one version, its primary. Writes its key id to
/// `*out_key_id` (may be NULL if not wanted).
///
/// Returns `OK`; `KEY_EXISTS`; `INVALID_ARGUMENT` for a bad name; the file
/// errors of a file-backed keyring (`IO`, `LOCKED`, `ROLLBACK`, ...).
///
/// # Safety
/// `keyring` is a live handle; `name` points to `name_len` readable bytes;
/// `out_key_id` is NULL or writable.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_keyring_key_create(
    keyring: *const strongroom_keyring,
    name: *const u8,
    name_len: usize,
    out_key_id: *mut u32,
) -> strongroom_result {
    boundary(|| {
        // SAFETY: forwarded.
        let id = unsafe { change(keyring, name, name_len, |k, n| k.create_key(n)) }?;
        if !out_key_id.is_null() {
            // SAFETY: non-NULL and writable by contract.
            unsafe { write(out_key_id, id.as_u32()) };
        }
        Ok(())
    })
}

/// Adds a new primary version to the key `name`; writes its number to
/// `*out_version` (may be NULL). Data encrypted from then on uses it; older
/// versions keep decrypting.
///
/// Returns `OK`; `UNKNOWN_KEY_NAME`; `TOO_LARGE` past 65536 versions; the
/// file errors.
///
/// # Safety
/// As `strongroom_keyring_key_create`.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_keyring_key_rotate(
    keyring: *const strongroom_keyring,
    name: *const u8,
    name_len: usize,
    out_version: *mut u32,
) -> strongroom_result {
    boundary(|| {
        // SAFETY: forwarded.
        let v = unsafe { change(keyring, name, name_len, |k, n| k.rotate(n)) }?;
        if !out_version.is_null() {
            // SAFETY: non-NULL and writable by contract.
            unsafe { write(out_version, v) };
        }
        Ok(())
    })
}

/// Disables a version (reversible): data under it stops decrypting.
///
/// Returns `OK`; `UNKNOWN_KEY_NAME`; `UNKNOWN_KEY_VERSION`;
/// `PRIMARY_VERSION` (rotate first); `VERSION_DESTROYED`; the file
/// errors.
///
/// # Safety
/// `keyring` is a live handle; `name` points to `name_len` readable bytes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_keyring_key_disable(
    keyring: *const strongroom_keyring,
    name: *const u8,
    name_len: usize,
    version: u32,
) -> strongroom_result {
    boundary(|| {
        // SAFETY: forwarded.
        unsafe {
            change(keyring, name, name_len, |k, n| {
                k.disable_version(n, version)
            })
        }
    })
}

/// Enables a disabled version.
///
/// Returns `OK`; `UNKNOWN_KEY_NAME`; `UNKNOWN_KEY_VERSION`;
/// `VERSION_DESTROYED`; the file errors.
///
/// # Safety
/// `keyring` is a live handle; `name` points to `name_len` readable bytes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_keyring_key_enable(
    keyring: *const strongroom_keyring,
    name: *const u8,
    name_len: usize,
    version: u32,
) -> strongroom_result {
    boundary(|| {
        // SAFETY: forwarded.
        unsafe { change(keyring, name, name_len, |k, n| k.enable_version(n, version)) }
    })
}

/// Destroys a version: its material is wiped and every ciphertext under
/// it, wherever copied, no longer decrypts. Earlier copies of the keyring
/// file still hold it until the root changes (FORMAT.md 10.7).
///
/// Returns `OK`; `UNKNOWN_KEY_NAME`; `UNKNOWN_KEY_VERSION`;
/// `PRIMARY_VERSION`; the file errors.
///
/// # Safety
/// `keyring` is a live handle; `name` points to `name_len` readable bytes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_keyring_key_destroy(
    keyring: *const strongroom_keyring,
    name: *const u8,
    name_len: usize,
    version: u32,
) -> strongroom_result {
    boundary(|| {
        // SAFETY: forwarded.
        unsafe {
            change(keyring, name, name_len, |k, n| {
                k.destroy_version(n, version)
            })
        }
    })
}

/// Refuses to decrypt data under versions below `version`.
///
/// Returns `OK`; `UNKNOWN_KEY_NAME`; `UNKNOWN_KEY_VERSION`;
/// `INVALID_ARGUMENT` above the primary; the file errors.
///
/// # Safety
/// `keyring` is a live handle; `name` points to `name_len` readable bytes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_keyring_key_set_min_version(
    keyring: *const strongroom_keyring,
    name: *const u8,
    name_len: usize,
    version: u32,
) -> strongroom_result {
    boundary(|| {
        // SAFETY: forwarded.
        unsafe {
            change(keyring, name, name_len, |k, n| {
                k.set_min_decryption_version(n, version)
            })
        }
    })
}

/// Sets the key's rotation period in seconds (0: none); see
/// `strongroom_keyring_key_is_due`.
///
/// Returns `OK`; `UNKNOWN_KEY_NAME`; the file errors.
///
/// # Safety
/// `keyring` is a live handle; `name` points to `name_len` readable bytes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_keyring_key_set_rotation(
    keyring: *const strongroom_keyring,
    name: *const u8,
    name_len: usize,
    period_seconds: u64,
) -> strongroom_result {
    boundary(|| {
        let period = (period_seconds != 0).then_some(period_seconds);
        // SAFETY: forwarded.
        unsafe {
            change(keyring, name, name_len, |k, n| {
                k.set_rotation_period(n, period)
            })
        }
    })
}

/// Writes to `*out_due` whether the key `name` is due for rotation at
/// `now_unix_seconds` (its rotation period has passed since its primary
/// version was made).
///
/// Returns `OK`; `UNKNOWN_KEY_NAME`; `NULL_POINTER`; `INVALID_HANDLE`.
///
/// # Safety
/// `keyring` is a live handle; `name` points to `name_len` readable bytes;
/// `out_due` is writable.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_keyring_key_is_due(
    keyring: *const strongroom_keyring,
    name: *const u8,
    name_len: usize,
    now_unix_seconds: u64,
    out_due: *mut bool,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out_due)?;
        // SAFETY: forwarded; the handle is checked against the registry.
        let (k, name) = unsafe { (self::keyring(keyring)?, text(name, name_len)?) };
        let current = k.current();
        current.key_info(name)?;
        let due = current
            .keys_due_for_rotation(Timestamp::from_unix_seconds(now_unix_seconds))
            .contains(&name);
        // SAFETY: checked non-NULL above.
        unsafe { write(out_due, due) };
        Ok(())
    })
}

/// Public facts of one key (no key material).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct strongroom_key_info {
    /// The key's name, NUL-terminated (names are at most 255 bytes).
    pub name: [c_char; 256],
    /// The name's length in bytes, without the NUL.
    pub name_len: usize,
    /// The key id written into every ciphertext header.
    pub key_id: u32,
    /// The version new data is encrypted under.
    pub primary_version: u32,
    /// Versions below this one are refused at decryption.
    pub min_decryption_version: u32,
    /// The number of versions (1 to 65536); see
    /// `strongroom_keyring_version_info`.
    pub version_count: u32,
    /// When the key was created, in Unix seconds.
    pub created_unix_seconds: u64,
    /// The rotation period in seconds; 0 for none.
    pub rotation_period_seconds: u64,
}

/// Public facts of one key version.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct strongroom_version_info {
    /// The version number, from 1.
    pub version: u32,
    /// 1 enabled, 2 disabled, 3 destroyed (`docs/ERRORS.md`).
    pub state: u8,
    /// When the version was made, in Unix seconds.
    pub created_unix_seconds: u64,
}

/// Writes the number of keys to `*out_count`. Keys are listed in name
/// order; a key created or renamed by another thread between this call and
/// `strongroom_keyring_key_info` shifts the indices.
///
/// Returns `OK`; `NULL_POINTER`; `INVALID_HANDLE`.
///
/// # Safety
/// `keyring` is a live handle; `out_count` is writable.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_keyring_key_count(
    keyring: *const strongroom_keyring,
    out_count: *mut usize,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out_count)?;
        // SAFETY: checked against the registry.
        let k = unsafe { self::keyring(keyring) }?;
        // SAFETY: checked non-NULL above.
        unsafe { write(out_count, k.current().len()) };
        Ok(())
    })
}

/// Writes the facts of the key at `index` (0-based, name order) to
/// `*out_info`.
///
/// Returns `OK`; `INVALID_ARGUMENT` for an index past the last key;
/// `NULL_POINTER`; `INVALID_HANDLE`.
///
/// # Safety
/// `keyring` is a live handle; `out_info` is writable.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_keyring_key_info(
    keyring: *const strongroom_keyring,
    index: usize,
    out_info: *mut strongroom_key_info,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out_info)?;
        // SAFETY: checked against the registry.
        let k = unsafe { self::keyring(keyring) }?;
        let keys = k.current().keys();
        let key = keys.get(index).ok_or(strongroom_result::InvalidArgument)?;
        let mut name = [0 as c_char; 256];
        for (dst, src) in name.iter_mut().zip(key.name.as_bytes().iter().take(255)) {
            *dst = *src as c_char;
        }
        let info = strongroom_key_info {
            name,
            name_len: key.name.len(),
            key_id: key.key_id.as_u32(),
            primary_version: key.primary_version,
            min_decryption_version: key.min_decryption_version,
            version_count: u32::try_from(key.versions.len()).unwrap_or(u32::MAX),
            created_unix_seconds: key.created.as_unix_seconds(),
            rotation_period_seconds: key.rotation_period_seconds.unwrap_or(0),
        };
        // SAFETY: checked non-NULL above.
        unsafe { write(out_info, info) };
        Ok(())
    })
}

/// Writes the facts of version `version` of the key `name` to
/// `*out_info`.
///
/// Returns `OK`; `UNKNOWN_KEY_NAME`; `UNKNOWN_KEY_VERSION`; `NULL_POINTER`;
/// `INVALID_HANDLE`.
///
/// # Safety
/// `keyring` is a live handle; `name` points to `name_len` readable bytes;
/// `out_info` is writable.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_keyring_version_info(
    keyring: *const strongroom_keyring,
    name: *const u8,
    name_len: usize,
    version: u32,
    out_info: *mut strongroom_version_info,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out_info)?;
        // SAFETY: forwarded; the handle is checked against the registry.
        let (k, name) = unsafe { (self::keyring(keyring)?, text(name, name_len)?) };
        let info = k.current().key_info(name)?;
        let v = info
            .versions
            .iter()
            .find(|v| v.version == version)
            .ok_or(strongroom_result::UnknownKeyVersion)?;
        let out = strongroom_version_info {
            version: v.version,
            state: v.state.code(),
            created_unix_seconds: v.created.as_unix_seconds(),
        };
        // SAFETY: checked non-NULL above.
        unsafe { write(out_info, out) };
        Ok(())
    })
}

/// One version of a key to import (`strongroom_keyring_key_import`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct strongroom_version_import {
    /// 1 enabled, 2 disabled, 3 destroyed.
    pub state: u8,
    /// When the version was made, in Unix seconds.
    pub created_unix_seconds: u64,
    /// 32 bytes of key material (copied into locked memory; wipe your
    /// copy); NULL for a destroyed version.
    pub material: *const u8,
}

/// Imports a key with known material (a migration from another system, a
/// known-answer test): versions 1 to `version_count` in order, `primary`
/// (enabled) and `min_decryption_version` as given.
///
/// Returns `OK`; `KEY_EXISTS` for a name or id already here;
/// `INVALID_ARGUMENT` for a bad name, id 0, a state other than 1-3,
/// material on a destroyed version or none on another, a primary that is
/// not enabled, or a minimum outside 1..primary; `TOO_LARGE` past 65536
/// versions; `NULL_POINTER`; the file errors of a file-backed keyring.
///
/// # Safety
/// `keyring` is a live handle; `name` points to `name_len` readable bytes;
/// `versions` to `version_count` entries, each `material` to 32 readable
/// bytes or NULL.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_keyring_key_import(
    keyring: *const strongroom_keyring,
    name: *const u8,
    name_len: usize,
    key_id: u32,
    created_unix_seconds: u64,
    primary_version: u32,
    min_decryption_version: u32,
    versions: *const strongroom_version_import,
    version_count: usize,
) -> strongroom_result {
    use strongroom::{KeyId, KeyImport, KeyMaterial, VersionImport, VersionState};
    boundary(|| {
        // SAFETY: checked against the registry (before the inputs, so a
        // freed handle is reported as such).
        unsafe { self::keyring(keyring) }?;
        if version_count == 0 || version_count > 65_536 {
            return Err(if version_count == 0 {
                strongroom_result::InvalidArgument
            } else {
                strongroom_result::TooLarge
            });
        }
        if versions.is_null() {
            return Err(strongroom_result::NullPointer);
        }
        // SAFETY: `version_count` readable entries by the caller's contract.
        let entries = unsafe { core::slice::from_raw_parts(versions, version_count) };
        let mut imports = Vec::with_capacity(entries.len());
        for e in entries {
            let state =
                VersionState::from_code(e.state).ok_or(strongroom_result::InvalidArgument)?;
            let material = match (state, e.material.is_null()) {
                (VersionState::Destroyed, true) => None,
                (VersionState::Destroyed, false) | (_, true) => {
                    return Err(strongroom_result::InvalidArgument);
                }
                // SAFETY: 32 readable bytes by the caller's contract.
                (_, false) => Some(KeyMaterial::from_slice(unsafe { input(e.material, 32) }?)?),
            };
            imports.push(VersionImport::new(
                state,
                Timestamp::from_unix_seconds(e.created_unix_seconds),
                material,
            ));
        }
        let mut import = KeyImport::new(
            "",
            KeyId::from_u32(key_id),
            Timestamp::from_unix_seconds(created_unix_seconds),
            Vec::new(),
        );
        import.versions = imports;
        import.primary_version = primary_version;
        import.min_decryption_version = min_decryption_version;
        // SAFETY: forwarded.
        unsafe {
            change(keyring, name, name_len, |k, n| {
                // A copy per attempt: a KV keyring's change runs again
                // after a lost check-and-set.
                let mut attempt = import.try_clone()?;
                attempt.name = n.into();
                k.import_key(attempt)
            })
        }
    })
}

/// Opens a sealed keyring held in memory (a keyring file's bytes, kept for
/// example in a database or a secrets store) with the 32 bytes of its
/// key-file root, as an in-memory keyring: changes stay in this process.
///
/// Returns `OK`; `AUTHENTICATION_FAILED` for the wrong key or altered
/// bytes; `INVALID_ARGUMENT` for a key that is not 32 bytes or bytes sealed
/// by another kind of root; `MALFORMED`; `UNSUPPORTED_FORMAT`; `TOO_LARGE`;
/// `NULL_POINTER`; `INVALID_LENGTH`.
///
/// # Safety
/// The buffers point to their lengths' readable bytes; `out` is writable.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_keyring_open_sealed(
    sealed: *const u8,
    sealed_len: usize,
    root_key: *const u8,
    root_key_len: usize,
    out: *mut *mut strongroom_keyring,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out)?;
        // SAFETY: the caller's buffer contracts.
        let (bytes, key) = unsafe { (input(sealed, sealed_len)?, input(root_key, root_key_len)?) };
        let key = strongroom::KeyMaterial::from_slice(key)
            .map_err(|_| strongroom_result::InvalidArgument)?;
        let keyring = strongroom::keyring_file::decrypt(bytes, &KeyFileRoot::new(&key))?;
        publish(out, SharedKeyring::new(keyring));
        Ok(())
    })
}

/// The transit root on the server the environment names.
fn vault_root(mount: &str, key: &str) -> Result<Arc<dyn KeyProvider>, strongroom_result> {
    let vault = vault_from_env()?;
    Ok(Arc::new(strongroom::vault::TransitRoot::new(
        vault, mount, key,
    )?))
}

/// Opens the keyring file at `path`, sealed by an OpenBao/Vault transit
/// key (the file names the engine's mount and the key; FORMAT.md 10.3).
/// The server and credentials come from the environment: `VAULT_ADDR`;
/// `VAULT_TOKEN`, or `VAULT_TOKEN_FILE`, or `VAULT_ROLE_ID` with
/// `VAULT_SECRET_ID_FILE`; `VAULT_NAMESPACE`; `VAULT_CACERT`; or their
/// `BAO_` forms (`docs/VAULT.md`).
///
/// Returns as `strongroom_keyring_open_key_file`, with
/// `INVALID_ARGUMENT` for no `VAULT_ADDR` or a file sealed otherwise, and
/// `KEY_PROVIDER` for a server that is unreachable, sealed, or refuses
/// the token.
///
/// # Safety
/// `path` points to `path_len` readable bytes; `out` is writable.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_keyring_open_vault_transit(
    path: *const u8,
    path_len: usize,
    out: *mut *mut strongroom_keyring,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out)?;
        // SAFETY: the caller's buffer contract.
        let p = unsafe { self::path(path, path_len)? };
        let info = strongroom::store::inspect_file(p)?;
        let (mount, key) = strongroom::vault::TransitRoot::parse_params(&info.root_params)?;
        publish(out, open_or_create(p, vault_root(&mount, &key)?, false)?);
        Ok(())
    })
}

/// Creates a new, empty keyring file at `path` sealed by the transit key
/// `key` of the engine mounted at `mount` (for example `transit`), and
/// opens it. Never replaces an existing file. The server and credentials
/// as for `strongroom_keyring_open_vault_transit`.
///
/// Returns as `strongroom_keyring_open_vault_transit`, plus
/// `ALREADY_EXISTS`.
///
/// # Safety
/// Each string points to its length's readable bytes; `out` is writable.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_keyring_create_vault_transit(
    path: *const u8,
    path_len: usize,
    mount: *const u8,
    mount_len: usize,
    key: *const u8,
    key_len: usize,
    out: *mut *mut strongroom_keyring,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out)?;
        // SAFETY: the caller's buffer contract.
        let (p, m, k) = unsafe {
            (
                self::path(path, path_len)?,
                text(mount, mount_len)?,
                text(key, key_len)?,
            )
        };
        publish(out, open_or_create(p, vault_root(m, k)?, true)?);
        Ok(())
    })
}

/// The server the environment names.
fn vault_from_env() -> Result<Arc<strongroom::vault::Vault>, strongroom_result> {
    use strongroom::vault::{Vault, VaultConfig};
    let vault = Vault::connect(VaultConfig::from_env()?).map_err(strongroom::Error::from)?;
    Ok(Arc::new(vault))
}

/// Opens the keyring kept in the KV v2 secret `<kv_mount>/data/<kv_path>`
/// (for example mount `secret`) of an OpenBao/Vault server, sealed by the
/// transit key its newest version names: one keyring shared by every
/// instance of a service. Key changes write with check-and-set (retrying
/// when another instance wrote first); `strongroom_keyring_reload`,
/// `strongroom_keyring_reload_if_changed` and
/// `strongroom_keyring_set_auto_reload` pick up what others wrote, never
/// going back to an older generation. The server and credentials come from
/// the environment, as for `strongroom_keyring_open_vault_transit`.
///
/// Returns `OK`; `INVALID_ARGUMENT` for no `VAULT_ADDR`, a bad mount or
/// path, or a keyring sealed by another root; `KEY_PROVIDER` for a server
/// that is unreachable, sealed, refuses the token, or has no secret there
/// (the message names the server and the operation); `MALFORMED` for a
/// keyring written back at a later version (a rollback); `NULL_POINTER`.
///
/// # Safety
/// Each string points to its length's readable bytes; `out` is writable.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_keyring_open_vault_kv(
    kv_mount: *const u8,
    kv_mount_len: usize,
    kv_path: *const u8,
    kv_path_len: usize,
    out: *mut *mut strongroom_keyring,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out)?;
        // SAFETY: the caller's buffer contract.
        let (m, p) = unsafe { (text(kv_mount, kv_mount_len)?, text(kv_path, kv_path_len)?) };
        let store = strongroom::vault::KvStore::open_transit(vault_from_env()?, m, p)?;
        publish(out, SharedKeyring::load_kv(store)?);
        Ok(())
    })
}

/// Creates an empty keyring in the KV v2 secret `<kv_mount>/data/<kv_path>`
/// (refused with `KEY_PROVIDER`, a check-and-set conflict, if the secret
/// exists), sealed by the transit key `transit_key` of the engine mounted
/// at `transit_mount`, and opens it. The server and credentials as for
/// `strongroom_keyring_open_vault_kv`.
///
/// Returns as `strongroom_keyring_open_vault_kv`.
///
/// # Safety
/// Each string points to its length's readable bytes; `out` is writable.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_keyring_create_vault_kv(
    kv_mount: *const u8,
    kv_mount_len: usize,
    kv_path: *const u8,
    kv_path_len: usize,
    transit_mount: *const u8,
    transit_mount_len: usize,
    transit_key: *const u8,
    transit_key_len: usize,
    out: *mut *mut strongroom_keyring,
) -> strongroom_result {
    use strongroom::vault::{KvStore, TransitRoot};
    boundary(|| {
        out_ptr(out)?;
        // SAFETY: the caller's buffer contract.
        let (m, p, tm, tk) = unsafe {
            (
                text(kv_mount, kv_mount_len)?,
                text(kv_path, kv_path_len)?,
                text(transit_mount, transit_mount_len)?,
                text(transit_key, transit_key_len)?,
            )
        };
        let vault = vault_from_env()?;
        let root = TransitRoot::new(vault.clone(), tm, tk)?;
        let store = KvStore::new(vault, m, p, Arc::new(root))?;
        store.create(&Keyring::new())?;
        publish(out, SharedKeyring::load_kv(store)?);
        Ok(())
    })
}
