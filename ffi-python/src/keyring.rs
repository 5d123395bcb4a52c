//! `strongroom.Keyring`: the shared keyring, in memory or file-backed.

use alloc::sync::Arc;
use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};
use strongroom::audit::AuditContext;
use strongroom::envelope::{self, DEFAULT_CHUNK_SIZE, Identity, Recipient};
use strongroom::file::{self, AtomicFile};
use strongroom::root::{KeyProvider, PassphraseRoot, load_key_file};
use strongroom::store::KeyringStore;
use strongroom::{ErrorKind, SharedKeyring, Timestamp};
use zeroize::Zeroizing;

use crate::audit::PySink;
use crate::blind_index::{BlindIndex, value_of, value_out};
use crate::buffer::Input;
use crate::io::{Endpoint, ErrorSlot, PyFile, SeekReader, Source, stream_err};
use crate::provider::PyProvider;
use crate::{
    DETACH_THRESHOLD, context_of, core_err, decrypt_into_buffer, decrypt_secret, invalid, make,
    maybe_detach, raise, record_of, record_out, store_err,
};

/// A keyring shared by every thread of the process: encrypt and decrypt
/// from any number of threads while another rotates. In memory
/// (`Keyring()`) or backed by a keyring file (`Keyring.open_*`,
/// `Keyring.create_*`), whose every change is saved atomically before it
/// takes effect.
#[pyclass(frozen, module = "strongroom")]
pub(crate) struct Keyring {
    inner: Arc<SharedKeyring>,
}

fn open_store(
    py: Python<'_>,
    path: PathBuf,
    root: Arc<dyn KeyProvider>,
    create: bool,
) -> PyResult<Keyring> {
    let shared = py
        .detach(|| {
            let store = KeyringStore::new(path, root);
            if create {
                store.create(&strongroom::Keyring::new())?;
            }
            SharedKeyring::load(store)
        })
        .map_err(store_err)?;
    Ok(Keyring {
        inner: Arc::new(shared),
    })
}

/// Seconds since the Unix epoch of a `datetime` (None: now).
fn timestamp(when: Option<&Bound<'_, PyAny>>) -> PyResult<Timestamp> {
    match when {
        None => Ok(Timestamp::now()),
        Some(w) if w.is_none() => Ok(Timestamp::now()),
        Some(w) => {
            let s: f64 = w.call_method0("timestamp")?.extract()?;
            if !(0.0..=1.0e15).contains(&s) {
                return Err(invalid("a time before 1970 or too far ahead"));
            }
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "checked to be in 0..=1e15 just above"
            )]
            Ok(Timestamp::from_unix_seconds(s as u64))
        }
    }
}

/// The key names an envelope is for: one `str` or a sequence of them.
fn names_of(names: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    if let Ok(s) = names.cast::<PyString>() {
        return Ok(vec![s.extract::<String>()?]);
    }
    names.extract()
}

impl Keyring {
    /// Applies `f` to the keyring (saved first when file-backed; run again
    /// after a lost check-and-set on a KV keyring) with the
    /// GIL released: the one path every key change takes.
    fn change<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnMut(&mut strongroom::Keyring) -> strongroom::Result<T> + Send,
    ) -> PyResult<T> {
        let k = self.inner.clone();
        py.detach(move || k.update(f)).map_err(store_err)
    }

    fn key_info_object<'py>(
        py: Python<'py>,
        info: &strongroom::KeyInfo,
    ) -> PyResult<Bound<'py, PyAny>> {
        let versions: Vec<(u32, &str, u64)> = info
            .versions
            .iter()
            .map(|v| (v.version, v.state.name(), v.created.as_unix_seconds()))
            .collect();
        make(
            py,
            "_make_key_info",
            (
                info.name.as_str(),
                info.key_id.as_u32(),
                info.created.as_unix_seconds(),
                info.primary_version,
                info.min_decryption_version,
                info.rotation_period_seconds,
                versions,
            ),
        )
    }
}

#[pymethods]
impl Keyring {
    /// An empty in-memory keyring.
    #[new]
    fn new() -> Self {
        Self {
            inner: Arc::new(SharedKeyring::new(strongroom::Keyring::new())),
        }
    }

    /// Opens the keyring file at `path`, sealed by the key file at
    /// `key_file` (mode 0600, owned by this user, 32 bytes or 64 hex digits).
    #[staticmethod]
    fn open_key_file(py: Python<'_>, path: PathBuf, key_file: PathBuf) -> PyResult<Self> {
        let root = load_key_file(&key_file).map_err(store_err)?;
        open_store(py, path, Arc::new(root), false)
    }

    /// Creates an empty keyring file at `path` sealed by `key_file`, and
    /// opens it (never replaces an existing file).
    #[staticmethod]
    fn create_key_file(py: Python<'_>, path: PathBuf, key_file: PathBuf) -> PyResult<Self> {
        let root = load_key_file(&key_file).map_err(store_err)?;
        open_store(py, path, Arc::new(root), true)
    }

    /// Opens the keyring file at `path`, sealed by an OpenBao/Vault
    /// transit key (the file names the mount and key). The server and
    /// credentials come from the keyword arguments, and otherwise from the
    /// environment (`VAULT_ADDR`, `VAULT_TOKEN`, `VAULT_TOKEN_FILE`,
    /// `VAULT_ROLE_ID` + `VAULT_SECRET_ID_FILE`, `VAULT_NAMESPACE`,
    /// `VAULT_CACERT`, or their `BAO_` forms); `docs/VAULT.md`.
    #[cfg(feature = "vault")]
    #[staticmethod]
    #[pyo3(signature = (path, *, address=None, token=None, token_file=None, role_id=None, secret_id_file=None, namespace=None, ca_cert=None))]
    #[allow(
        clippy::too_many_arguments,
        reason = "the Python signature, keyword arguments"
    )]
    fn open_vault_transit(
        py: Python<'_>,
        path: PathBuf,
        address: Option<String>,
        token: Option<Bound<'_, PyAny>>,
        token_file: Option<PathBuf>,
        role_id: Option<String>,
        secret_id_file: Option<PathBuf>,
        namespace: Option<String>,
        ca_cert: Option<PathBuf>,
    ) -> PyResult<Self> {
        let vault = crate::vault::connect(
            py,
            crate::vault::Conn {
                address,
                token,
                token_file,
                role_id,
                secret_id_file,
                namespace,
                ca_cert,
            },
        )?;
        let info = strongroom::store::inspect_file(&path).map_err(store_err)?;
        let (mount, key) =
            strongroom::vault::TransitRoot::parse_params(&info.root_params).map_err(core_err)?;
        let root = strongroom::vault::TransitRoot::new(vault, &mount, &key).map_err(core_err)?;
        open_store(py, path, Arc::new(root), false)
    }

    /// Creates an empty keyring file at `path` sealed by the transit key
    /// `transit_key` of the engine at `mount`, and opens it. The server and
    /// credentials as for `open_vault_transit`.
    #[cfg(feature = "vault")]
    #[staticmethod]
    #[pyo3(signature = (path, transit_key, *, mount="transit", address=None, token=None, token_file=None, role_id=None, secret_id_file=None, namespace=None, ca_cert=None))]
    #[allow(
        clippy::too_many_arguments,
        reason = "the Python signature, keyword arguments"
    )]
    fn create_vault_transit(
        py: Python<'_>,
        path: PathBuf,
        transit_key: &str,
        mount: &str,
        address: Option<String>,
        token: Option<Bound<'_, PyAny>>,
        token_file: Option<PathBuf>,
        role_id: Option<String>,
        secret_id_file: Option<PathBuf>,
        namespace: Option<String>,
        ca_cert: Option<PathBuf>,
    ) -> PyResult<Self> {
        let vault = crate::vault::connect(
            py,
            crate::vault::Conn {
                address,
                token,
                token_file,
                role_id,
                secret_id_file,
                namespace,
                ca_cert,
            },
        )?;
        let root =
            strongroom::vault::TransitRoot::new(vault, mount, transit_key).map_err(core_err)?;
        open_store(py, path, Arc::new(root), true)
    }

    /// Opens the keyring kept in the KV v2 secret `<kv_mount>/data/<kv_path>`
    /// of an OpenBao/Vault server, sealed by the transit key its newest
    /// version names: the keyring every instance of a service shares. Key
    /// changes write with check-and-set (retrying when another instance
    /// wrote first); `reload_if_changed` and `set_auto_reload` pick up what
    /// other instances wrote. The server and credentials as for
    /// `open_vault_transit`; `docs/VAULT.md`.
    #[cfg(feature = "vault")]
    #[staticmethod]
    #[pyo3(signature = (kv_path, *, kv_mount="secret", address=None, token=None, token_file=None, role_id=None, secret_id_file=None, namespace=None, ca_cert=None))]
    #[allow(
        clippy::too_many_arguments,
        reason = "the Python signature, keyword arguments"
    )]
    fn open_vault_kv(
        py: Python<'_>,
        kv_path: &str,
        kv_mount: &str,
        address: Option<String>,
        token: Option<Bound<'_, PyAny>>,
        token_file: Option<PathBuf>,
        role_id: Option<String>,
        secret_id_file: Option<PathBuf>,
        namespace: Option<String>,
        ca_cert: Option<PathBuf>,
    ) -> PyResult<Self> {
        let vault = crate::vault::connect(
            py,
            crate::vault::Conn {
                address,
                token,
                token_file,
                role_id,
                secret_id_file,
                namespace,
                ca_cert,
            },
        )?;
        let shared = py
            .detach(|| {
                let store = strongroom::vault::KvStore::open_transit(vault, kv_mount, kv_path)
                    .map_err(strongroom::store::StoreError::Remote)?;
                SharedKeyring::load_kv(store)
            })
            .map_err(store_err)?;
        Ok(Self {
            inner: Arc::new(shared),
        })
    }

    /// Creates an empty keyring in the KV v2 secret
    /// `<kv_mount>/data/<kv_path>` (refused if the secret exists), sealed
    /// by the transit key `transit_key` of the engine at `transit_mount`,
    /// and opens it. The server and credentials as for `open_vault_transit`.
    #[cfg(feature = "vault")]
    #[staticmethod]
    #[pyo3(signature = (kv_path, transit_key, *, transit_mount="transit", kv_mount="secret", address=None, token=None, token_file=None, role_id=None, secret_id_file=None, namespace=None, ca_cert=None))]
    #[allow(
        clippy::too_many_arguments,
        reason = "the Python signature, keyword arguments"
    )]
    fn create_vault_kv(
        py: Python<'_>,
        kv_path: &str,
        transit_key: &str,
        transit_mount: &str,
        kv_mount: &str,
        address: Option<String>,
        token: Option<Bound<'_, PyAny>>,
        token_file: Option<PathBuf>,
        role_id: Option<String>,
        secret_id_file: Option<PathBuf>,
        namespace: Option<String>,
        ca_cert: Option<PathBuf>,
    ) -> PyResult<Self> {
        use strongroom::store::StoreError;
        let vault = crate::vault::connect(
            py,
            crate::vault::Conn {
                address,
                token,
                token_file,
                role_id,
                secret_id_file,
                namespace,
                ca_cert,
            },
        )?;
        let shared = py
            .detach(|| {
                let root =
                    strongroom::vault::TransitRoot::new(vault.clone(), transit_mount, transit_key)
                        .map_err(StoreError::Rejected)?;
                let store =
                    strongroom::vault::KvStore::new(vault, kv_mount, kv_path, Arc::new(root))
                        .map_err(StoreError::Rejected)?;
                store
                    .create(&strongroom::Keyring::new())
                    .map_err(StoreError::Remote)?;
                SharedKeyring::load_kv(store)
            })
            .map_err(store_err)?;
        Ok(Self {
            inner: Arc::new(shared),
        })
    }

    /// Opens the keyring file at `path`, sealed by `passphrase` (Argon2id;
    /// the GIL is released while it runs).
    #[staticmethod]
    fn open_passphrase(
        py: Python<'_>,
        path: PathBuf,
        passphrase: &Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        let p = Input::new(passphrase, 0)?;
        let root = PassphraseRoot::new(p.as_slice());
        open_store(py, path, Arc::new(root), false)
    }

    /// Creates an empty keyring file at `path` sealed by `passphrase`.
    #[staticmethod]
    fn create_passphrase(
        py: Python<'_>,
        path: PathBuf,
        passphrase: &Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        let p = Input::new(passphrase, 0)?;
        if p.as_slice().is_empty() {
            return Err(invalid("an empty passphrase"));
        }
        let root = PassphraseRoot::new(p.as_slice());
        open_store(py, path, Arc::new(root), true)
    }

    /// Opens the keyring file at `path`, sealed by `provider`: any object
    /// with `wrap(key: bytearray, aad: bytes) -> bytes` and
    /// `unwrap(wrapped: bytes, aad: bytes) -> bytes` (an external KMS).
    /// See `strongroom.KeyProvider`.
    #[staticmethod]
    fn open_provider(py: Python<'_>, path: PathBuf, provider: &Bound<'_, PyAny>) -> PyResult<Self> {
        let root = PyProvider::new(provider)?;
        open_store(py, path, Arc::new(root), false)
    }

    /// Creates an empty keyring file at `path` sealed by `provider`.
    #[staticmethod]
    fn create_provider(
        py: Python<'_>,
        path: PathBuf,
        provider: &Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        let root = PyProvider::new(provider)?;
        open_store(py, path, Arc::new(root), true)
    }

    /// Opens the keyring file at `path`, sealed by a key of the PKCS#11
    /// token labelled `token_label` in `module` (the token's `.so`),
    /// logging in with `pin`. New saves seal with the key `key_label`.
    #[staticmethod]
    #[cfg(feature = "pkcs11")]
    fn open_pkcs11(
        py: Python<'_>,
        path: PathBuf,
        module: PathBuf,
        token_label: &str,
        pin: &str,
        key_label: &str,
    ) -> PyResult<Self> {
        let root = py
            .detach(|| {
                strongroom::pkcs11::Pkcs11Root::connect(&module, token_label, pin, key_label)
            })
            .map_err(core_err)?;
        open_store(py, path, Arc::new(root), false)
    }

    /// Creates an empty keyring file at `path` sealed by the PKCS#11 key
    /// `key_label`, first creating that key in the token when `create_key`
    /// (AES-256, sensitive, never extractable).
    #[staticmethod]
    #[cfg(feature = "pkcs11")]
    #[pyo3(signature = (path, module, token_label, pin, key_label, create_key=true))]
    fn create_pkcs11(
        py: Python<'_>,
        path: PathBuf,
        module: PathBuf,
        token_label: &str,
        pin: &str,
        key_label: &str,
        create_key: bool,
    ) -> PyResult<Self> {
        let root = py
            .detach(|| {
                let r =
                    strongroom::pkcs11::Pkcs11Root::connect(&module, token_label, pin, key_label)?;
                if create_key {
                    r.create_key()?;
                }
                Ok::<_, strongroom::Error>(r)
            })
            .map_err(core_err)?;
        open_store(py, path, Arc::new(root), true)
    }

    /// The keyring file's path (None in memory).
    #[getter]
    fn path(&self) -> Option<PathBuf> {
        self.inner.store().map(|s| s.path().to_path_buf())
    }

    /// Reads the keyring file again (changes saved by other processes).
    fn reload(&self, py: Python<'_>) -> PyResult<()> {
        let k = self.inner.clone();
        py.detach(move || k.reload()).map_err(store_err)
    }

    /// Reloads if the keyring changed since this process last loaded or
    /// saved it (a file: a `stat`; KV: one read of the secret's metadata).
    /// Returns whether it reloaded. No-op (False) in memory.
    fn reload_if_changed(&self, py: Python<'_>) -> PyResult<bool> {
        let k = self.inner.clone();
        py.detach(move || k.reload_if_changed()).map_err(store_err)
    }

    /// Checks for a newer keyring at most once per `every` (a `timedelta`
    /// or seconds, more than 0), from the next operation on; None stops
    /// it. A file is checked by the operation itself (a `stat`); a KV
    /// keyring by a background thread, so no operation waits for the
    /// server. A failed check keeps the keyring in memory (see
    /// `staleness`).
    fn set_auto_reload(&self, every: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let every = match every {
            None => None,
            Some(e) if e.is_none() => None,
            Some(e) => {
                let s: f64 = if e.hasattr("total_seconds")? {
                    e.call_method0("total_seconds")?.extract()?
                } else {
                    e.extract()?
                };
                if !(s > 0.0 && s <= 1.0e9) {
                    return Err(invalid("an interval of more than 0 seconds"));
                }
                Some(core::time::Duration::from_secs_f64(s))
            }
        };
        self.inner.set_auto_reload(every);
        Ok(())
    }

    /// Seconds since the keyring was last known to be the newest one
    /// (loaded, saved, or checked unchanged); it grows while reloads fail.
    /// None in memory. Alert on it (`docs/VAULT.md`).
    #[getter]
    fn staleness(&self) -> Option<f64> {
        self.inner.staleness().map(|d| d.as_secs_f64())
    }

    /// Sends every audit event (`strongroom.AuditEvent`) to `callback`
    /// from now on; None stops them. The callback runs on the thread that
    /// did the operation, possibly several at once; an exception it raises
    /// is reported by `sys.unraisablehook` and does not fail the
    /// operation. It must not change this keyring (a key change holds the
    /// keyring's writer lock while its events are delivered).
    /// `strongroom.logging_audit()` makes one that logs.
    fn set_audit(&self, py: Python<'_>, callback: Option<Bound<'_, PyAny>>) -> PyResult<()> {
        let sink = match callback {
            Some(cb) if !cb.is_none() => {
                if !cb.is_callable() {
                    return Err(pyo3::exceptions::PyTypeError::new_err(
                        "the audit callback is not callable",
                    ));
                }
                PySink::new(Some(cb.unbind()))
            }
            _ => PySink::new(None),
        };
        let ctx = AuditContext::with_system_clock(Arc::new(sink));
        let k = self.inner.clone();
        py.detach(move || k.set_audit(ctx)).map_err(store_err)
    }

    /// Creates the key `name` with one version; returns its key id.
    fn create_key(&self, py: Python<'_>, name: &str) -> PyResult<u32> {
        self.change(py, |kr| kr.create_key(name))
            .map(|id| id.as_u32())
    }

    /// Adds a new primary version to `name`; returns its number.
    fn rotate(&self, py: Python<'_>, name: &str) -> PyResult<u32> {
        self.change(py, |kr| kr.rotate(name))
    }

    /// Disables a version (reversible).
    fn disable(&self, py: Python<'_>, name: &str, version: u32) -> PyResult<()> {
        self.change(py, |kr| kr.disable_version(name, version))
    }

    /// Enables a disabled version.
    fn enable(&self, py: Python<'_>, name: &str, version: u32) -> PyResult<()> {
        self.change(py, |kr| kr.enable_version(name, version))
    }

    /// Destroys a version: every ciphertext under it stops decrypting.
    fn destroy(&self, py: Python<'_>, name: &str, version: u32) -> PyResult<()> {
        self.change(py, |kr| kr.destroy_version(name, version))
    }

    /// Refuses to decrypt data under versions below `version`.
    fn set_min_decryption_version(&self, py: Python<'_>, name: &str, version: u32) -> PyResult<()> {
        self.change(py, |kr| kr.set_min_decryption_version(name, version))
    }

    /// Imports a key with known material (a migration, a known-answer
    /// test): `versions` is a list of `(state, material)` for versions 1,
    /// 2, ... where state is "enabled", "disabled" or "destroyed" and
    /// material 32 bytes (None when destroyed).
    #[pyo3(signature = (name, key_id, versions, primary_version, min_decryption_version=1))]
    fn import_key(
        &self,
        py: Python<'_>,
        name: &str,
        key_id: u32,
        versions: Vec<(String, Option<Bound<'_, PyAny>>)>,
        primary_version: u32,
        min_decryption_version: u32,
    ) -> PyResult<()> {
        use strongroom::{KeyId, KeyImport, KeyMaterial, VersionImport, VersionState};
        let mut imports = Vec::with_capacity(versions.len());
        for (state, material) in &versions {
            let state = VersionState::ALL
                .iter()
                .copied()
                .find(|s| s.name() == state)
                .ok_or_else(|| invalid(&format!("unknown state {state:?}")))?;
            let material = match material {
                Some(m) => Some(
                    KeyMaterial::from_slice(Input::new(m, usize::MAX)?.as_slice())
                        .map_err(core_err)?,
                ),
                None => None,
            };
            imports.push(VersionImport::new(
                state,
                Timestamp::from_unix_seconds(0),
                material,
            ));
        }
        let mut import = KeyImport::new(
            name,
            KeyId::from_u32(key_id),
            Timestamp::from_unix_seconds(0),
            imports,
        );
        import.primary_version = primary_version;
        import.min_decryption_version = min_decryption_version;
        // A copy per attempt: a KV keyring's change runs again after a lost
        // check-and-set.
        self.change(py, |kr| kr.import_key(import.try_clone()?))
    }

    /// Sets the rotation period of `name` (a `timedelta` or seconds; at
    /// least one second), or clears it (None).
    fn set_rotation_period(
        &self,
        py: Python<'_>,
        name: &str,
        period: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let seconds = match period {
            None => None,
            Some(p) if p.is_none() => None,
            Some(p) => {
                let s: f64 = if p.hasattr("total_seconds")? {
                    p.call_method0("total_seconds")?.extract()?
                } else {
                    p.extract()?
                };
                if !(1.0..=1.0e15).contains(&s) {
                    return Err(invalid("a rotation period of at least one second"));
                }
                #[allow(
                    clippy::cast_possible_truncation,
                    clippy::cast_sign_loss,
                    reason = "checked to be in 1..=1e15 just above"
                )]
                Some(s as u64)
            }
        };
        self.change(py, |kr| kr.set_rotation_period(name, seconds))
    }

    /// The names of the keys whose primary version is at least one
    /// rotation period old at `now` (a timezone-aware `datetime`; None:
    /// now).
    #[pyo3(signature = (now=None))]
    fn keys_due_for_rotation(&self, now: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<String>> {
        let now = timestamp(now)?;
        Ok(self
            .inner
            .current()
            .keys_due_for_rotation(now)
            .into_iter()
            .map(str::to_owned)
            .collect())
    }

    /// The key names, in order.
    fn key_names(&self) -> Vec<String> {
        self.inner
            .current()
            .keys()
            .into_iter()
            .map(|k| k.name)
            .collect()
    }

    /// The primary version of `name`.
    fn primary_version(&self, name: &str) -> PyResult<u32> {
        self.inner
            .current()
            .key_info(name)
            .map(|i| i.primary_version)
            .map_err(core_err)
    }

    /// The metadata of `name` (`strongroom.KeyInfo`, with `datetime`s).
    fn key_info<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
        let info = self.inner.current().key_info(name).map_err(core_err)?;
        Self::key_info_object(py, &info)
    }

    /// The metadata of every key, in name order.
    fn keys<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyAny>>> {
        self.inner
            .current()
            .keys()
            .iter()
            .map(|i| Self::key_info_object(py, i))
            .collect()
    }

    /// Encrypts `plaintext` (any bytes-like object) into a record under the
    /// primary version of `name`, bound to `context` (a `Mapping[str, str]`).
    /// Returns `bytes`, or with `text=True` the text form (a `str`,
    /// `"sr1:..."`, for text columns); every method that takes a record
    /// takes either.
    #[pyo3(signature = (name, plaintext, context=None, *, text=false))]
    fn encrypt<'py>(
        &self,
        py: Python<'py>,
        name: &str,
        plaintext: &Bound<'py, PyAny>,
        context: Option<&Bound<'py, PyAny>>,
        text: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (pt, ctx) = (
            Input::new(plaintext, DETACH_THRESHOLD)?,
            context_of(context)?,
        );
        let pt = pt.as_slice();
        let k = self.inner.current();
        let sealed =
            maybe_detach(py, pt.len(), || k.encrypt_record(name, pt, &ctx)).map_err(core_err)?;
        Ok(record_out(py, &sealed, text))
    }

    /// Decrypts a record with `context`. The returned `bytes` cannot be
    /// wiped by anyone (Python gives no way to): see `decrypt_into` and
    /// `decrypt_secret`.
    #[pyo3(signature = (record, context=None))]
    fn decrypt<'py>(
        &self,
        py: Python<'py>,
        record: &Bound<'py, PyAny>,
        context: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let ((rec, _), ctx) = (record_of(record, DETACH_THRESHOLD)?, context_of(context)?);
        let rec = rec.as_slice();
        let k = self.inner.current();
        let plain =
            maybe_detach(py, rec.len(), || k.decrypt_record(rec, &ctx)).map_err(core_err)?;
        Ok(PyBytes::new(py, plain.expose_secret()))
    }

    /// Decrypts a record into `buffer` (a writable bytes-like object at
    /// least as long as the plaintext); returns the plaintext length. On
    /// any failure the buffer is zeroed: it never holds a decrypted byte.
    #[pyo3(signature = (record, buffer, context=None))]
    fn decrypt_into(
        &self,
        record: &Bound<'_, PyAny>,
        buffer: &Bound<'_, PyAny>,
        context: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<usize> {
        // Copied unless `bytes`: the input could be the output buffer itself.
        let ((rec, _), ctx) = (record_of(record, 0)?, context_of(context)?);
        let k = self.inner.current();
        decrypt_into_buffer(buffer, |dst| {
            k.decrypt_record_into(rec.as_slice(), &ctx, dst)
        })
    }

    /// Decrypts a record into a `strongroom.SecretBytes`, which can be
    /// wiped (and is, on leaving a `with` block).
    #[pyo3(signature = (record, context=None))]
    fn decrypt_secret<'py>(
        &self,
        py: Python<'py>,
        record: &Bound<'py, PyAny>,
        context: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let ((rec, _), ctx) = (record_of(record, usize::MAX)?, context_of(context)?);
        let len = strongroom::inspect_record(rec.as_slice())
            .map_err(core_err)?
            .plaintext_len;
        let k = self.inner.current();
        decrypt_secret(py, len, |dst| {
            k.decrypt_record_into(rec.as_slice(), &ctx, dst)
        })
    }

    /// Re-encrypts a record under its key's primary version (same context);
    /// returns it unchanged when it is at the primary already, in the form
    /// it came in (`bytes`, or text as a `str`).
    #[pyo3(signature = (record, context=None))]
    fn rewrap<'py>(
        &self,
        py: Python<'py>,
        record: &Bound<'py, PyAny>,
        context: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let ((rec, text), ctx) = (record_of(record, DETACH_THRESHOLD)?, context_of(context)?);
        let rec = rec.as_slice();
        let k = self.inner.current();
        let moved = maybe_detach(py, rec.len(), || k.rewrap_record(rec, &ctx)).map_err(core_err)?;
        Ok(record_out(py, moved.as_deref().unwrap_or(rec), text))
    }

    /// Encrypts `data` into an envelope for the primary version of `names`
    /// (one key name, or a sequence of up to 16: any of them opens it).
    #[pyo3(signature = (names, data, context=None, chunk_size=DEFAULT_CHUNK_SIZE))]
    fn encrypt_envelope<'py>(
        &self,
        py: Python<'py>,
        names: &Bound<'py, PyAny>,
        data: &Bound<'py, PyAny>,
        context: Option<&Bound<'py, PyAny>>,
        chunk_size: u32,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let names = names_of(names)?;
        let (pt, ctx) = (Input::new(data, DETACH_THRESHOLD)?, context_of(context)?);
        let pt = pt.as_slice();
        let k = self.inner.current();
        let len = envelope::encrypted_len(pt.len() as u64, chunk_size, names.len(), &ctx)
            .map_err(core_err)
            .and_then(|n| {
                usize::try_from(n)
                    .map_err(|_| raise(ErrorKind::TooLarge, "the envelope is too large".into()))
            })?;
        // Sealed straight into the `bytes` object returned (no staging copy).
        PyBytes::new_with(py, len, |dst| {
            let n = maybe_detach(py, pt.len(), || {
                let recipients: Vec<Recipient<'_>> = names
                    .iter()
                    .map(|name| Recipient::Key { keyring: &k, name })
                    .collect();
                envelope::encrypt_into(
                    &recipients,
                    pt,
                    &ctx,
                    chunk_size,
                    &mut strongroom::FastRng,
                    dst,
                )
            })
            .map_err(core_err)?;
            if n == len {
                Ok(())
            } else {
                Err(raise(
                    ErrorKind::Malformed,
                    "the envelope length differs from the computed one".into(),
                ))
            }
        })
    }

    /// Decrypts a whole envelope (every chunk authenticated first).
    #[pyo3(signature = (data, context=None))]
    fn decrypt_envelope<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
        context: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let (env, ctx) = (Input::new(data, DETACH_THRESHOLD)?, context_of(context)?);
        let env = env.as_slice();
        let k = self.inner.current();
        let len = envelope::inspect(env).map_err(core_err).and_then(|info| {
            usize::try_from(info.plaintext_len)
                .map_err(|_| raise(ErrorKind::TooLarge, "the envelope is too large".into()))
        })?;
        // Straight into the `bytes` object returned (no staging copy):
        // nothing else can see it until it is returned, so the GIL can be
        // released while it is written, and on failure it is zeroed (the
        // core leaves no plaintext there either) and dropped.
        PyBytes::new_with(py, len, |dst| {
            let n = maybe_detach(py, len, || {
                envelope::decrypt_into(Identity::Keyring(&k), env, &ctx, dst)
            })
            .map_err(|e| {
                zeroize::Zeroize::zeroize(&mut *dst);
                core_err(e)
            })?;
            if n == len {
                Ok(())
            } else {
                zeroize::Zeroize::zeroize(&mut *dst);
                Err(raise(
                    ErrorKind::Malformed,
                    "the plaintext length differs from the header's".into(),
                ))
            }
        })
    }

    /// Decrypts an envelope into `buffer`; returns the plaintext length.
    /// On any failure the buffer is zeroed.
    #[pyo3(signature = (data, buffer, context=None))]
    fn decrypt_envelope_into(
        &self,
        data: &Bound<'_, PyAny>,
        buffer: &Bound<'_, PyAny>,
        context: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<usize> {
        // Copied unless `bytes`: the input could be the output buffer itself.
        let (env, ctx) = (Input::new(data, 0)?, context_of(context)?);
        let k = self.inner.current();
        decrypt_into_buffer(buffer, |dst| {
            envelope::decrypt_into(Identity::Keyring(&k), env.as_slice(), &ctx, dst)
        })
    }

    /// Decrypts an envelope into a wipeable `strongroom.SecretBytes`.
    #[pyo3(signature = (data, context=None))]
    fn decrypt_envelope_secret<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
        context: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (env, ctx) = (Input::new(data, usize::MAX)?, context_of(context)?);
        let info = envelope::inspect(env.as_slice()).map_err(core_err)?;
        let len = usize::try_from(info.plaintext_len)
            .map_err(|_| raise(ErrorKind::TooLarge, "the envelope is too large".into()))?;
        let k = self.inner.current();
        decrypt_secret(py, len, |dst| {
            envelope::decrypt_into(Identity::Keyring(&k), env.as_slice(), &ctx, dst)
        })
    }

    /// Rewraps an envelope: each recipient whose key is in this keyring is
    /// wrapped again under that key's primary version; the body bytes are
    /// unchanged. Returns the new envelope.
    #[pyo3(signature = (data, context=None))]
    fn rewrap_envelope<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
        context: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let env = Input::new(data, DETACH_THRESHOLD)?;
        let env = env.as_slice();
        // The header carries the context; a caller's context must match it.
        let stored = envelope::inspect(env).map_err(core_err)?.context;
        let ctx = match context {
            Some(c) if !c.is_none() => context_of(Some(c))?,
            _ => Arc::new(stored),
        };
        let k = self.inner.current();
        let out = maybe_detach(py, env.len(), || {
            envelope::rewrap(&k, env, &ctx, &mut strongroom::FastRng)
        })
        .map_err(core_err)?;
        Ok(PyBytes::new(py, &out))
    }

    /// Opens an envelope for random access: `source` is a path or a
    /// seekable binary file object. Returns a `strongroom.EnvelopeReader`
    /// (an `io.RawIOBase`); only the chunks a read covers are read and
    /// authenticated.
    #[pyo3(signature = (source, context=None))]
    fn open_envelope<'py>(
        &self,
        py: Python<'py>,
        source: &Bound<'py, PyAny>,
        context: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (src, ctx) = (Endpoint::of(source)?, context_of(context)?);
        let reader = SeekReader::open(py, self.inner.current(), src, &ctx)?;
        py.import("strongroom._io")?
            .getattr("EnvelopeReader")?
            .call1((Bound::new(py, reader)?,))
    }

    /// A new 32-byte data key under the primary version of `name`, bound to
    /// `context`: `(key, wrapped)`. Store `wrapped` beside the data;
    /// deleting it shreds the data. `key` is `bytes`, which cannot be wiped.
    #[pyo3(signature = (name, context=None))]
    fn generate_data_key<'py>(
        &self,
        py: Python<'py>,
        name: &str,
        context: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
        let ctx = context_of(context)?;
        let (key, wrapped) = self
            .inner
            .current()
            .generate_data_key(name, &ctx)
            .map_err(core_err)?
            .into_parts();
        Ok((
            PyBytes::new(py, key.expose_secret()),
            PyBytes::new(py, &wrapped),
        ))
    }

    /// Unwraps a data key made by `generate_data_key` (the same context).
    #[pyo3(signature = (wrapped, context=None))]
    fn unwrap_data_key<'py>(
        &self,
        py: Python<'py>,
        wrapped: &Bound<'py, PyAny>,
        context: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let (blob, ctx) = (Input::new(wrapped, usize::MAX)?, context_of(context)?);
        let key = self
            .inner
            .current()
            .unwrap_data_key(blob.as_slice(), &ctx)
            .map_err(core_err)?;
        Ok(PyBytes::new(py, key.expose_secret()))
    }

    /// Rewraps a data key under the primary version of its key (the same
    /// context): the key itself, and the data under it, are unchanged.
    #[pyo3(signature = (wrapped, context=None))]
    fn rewrap_data_key<'py>(
        &self,
        py: Python<'py>,
        wrapped: &Bound<'py, PyAny>,
        context: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let (blob, ctx) = (Input::new(wrapped, usize::MAX)?, context_of(context)?);
        let moved = self
            .inner
            .current()
            .rewrap_data_key_with(blob.as_slice(), &ctx, &mut strongroom::FastRng)
            .map_err(core_err)?;
        Ok(PyBytes::new(py, &moved))
    }

    /// The blind-index value of `values` (one `str` per field of `index`,
    /// in order) under the primary version of the index's key: what to
    /// store beside the encrypted field. `bytes`, or with `text=True` the
    /// `"sbi1:..."` text. The GIL is released for a slow index.
    #[pyo3(signature = (index, *values, version=None, text=false))]
    fn blind_index<'py>(
        &self,
        py: Python<'py>,
        index: &BlindIndex,
        values: Vec<String>,
        version: Option<u32>,
        text: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        // PII: the extracted copies are wiped when done (the Python
        // strings themselves cannot be).
        let values: Vec<Zeroizing<String>> = values.into_iter().map(Zeroizing::new).collect();
        let refs: Vec<&str> = values.iter().map(|v| v.as_str()).collect();
        let (k, def) = (self.inner.current(), &index.inner.0);
        let slow = def.slow().is_some();
        let value = maybe_detach(py, if slow { usize::MAX } else { 0 }, || match version {
            Some(v) => k.blind_index_version(def, v, &refs),
            None => k.blind_index(def, &refs),
        })
        .map_err(core_err)?;
        Ok(value_out(py, &value, text))
    }

    /// Every value to query for `values`: one per version of the index's
    /// key that can still decrypt, the primary first, so that
    /// `WHERE idx IN (...)` finds rows indexed before and after a rotation.
    #[pyo3(signature = (index, *values, text=false))]
    fn blind_index_lookup<'py>(
        &self,
        py: Python<'py>,
        index: &BlindIndex,
        values: Vec<String>,
        text: bool,
    ) -> PyResult<Vec<Bound<'py, PyAny>>> {
        // PII: the extracted copies are wiped when done (the Python
        // strings themselves cannot be).
        let values: Vec<Zeroizing<String>> = values.into_iter().map(Zeroizing::new).collect();
        let refs: Vec<&str> = values.iter().map(|v| v.as_str()).collect();
        let (k, def) = (self.inner.current(), &index.inner.0);
        let slow = def.slow().is_some();
        let found = maybe_detach(py, if slow { usize::MAX } else { 0 }, || {
            k.blind_index_lookup(def, &refs)
        })
        .map_err(core_err)?;
        Ok(found.iter().map(|v| value_out(py, v, text)).collect())
    }

    /// Whether a stored value (bytes or text) was computed under the
    /// primary version of the index's key; a row whose value is not is due
    /// for `rewrap_indexed`.
    fn index_value_is_current(
        &self,
        index: &BlindIndex,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        let def = &index.inner.0;
        let value = value_of(def, value)?;
        self.inner
            .current()
            .index_value_is_current(def, &value)
            .map_err(core_err)
    }

    /// Rewraps a record to its key's primary version and computes the
    /// index value of its plaintext (UTF-8) under `index` (one field):
    /// `(record, value)`, the record unchanged when it was at the primary
    /// already, each in the form given (`text=True` for the value's text).
    #[pyo3(signature = (index, record, context=None, *, text=false))]
    fn rewrap_indexed<'py>(
        &self,
        py: Python<'py>,
        index: &BlindIndex,
        record: &Bound<'py, PyAny>,
        context: Option<&Bound<'py, PyAny>>,
        text: bool,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
        let ((rec, record_text), ctx) =
            (record_of(record, DETACH_THRESHOLD)?, context_of(context)?);
        let rec = rec.as_slice();
        let (k, def) = (self.inner.current(), &index.inner.0);
        let done = maybe_detach(py, usize::MAX, || k.rewrap_record_indexed(def, rec, &ctx))
            .map_err(core_err)?;
        Ok((
            record_out(py, done.record.as_deref().unwrap_or(rec), record_text),
            value_out(py, &done.index, text),
        ))
    }

    /// Derives the 32-byte key for `context` from version `version` of
    /// `name` (None: the primary): `(key, version)`.
    #[pyo3(signature = (name, context=None, version=None))]
    fn derive_key<'py>(
        &self,
        py: Python<'py>,
        name: &str,
        context: Option<&Bound<'py, PyAny>>,
        version: Option<u32>,
    ) -> PyResult<(Bound<'py, PyBytes>, u32)> {
        let ctx = context_of(context)?;
        let k = self.inner.current();
        let derived = match version {
            Some(v) => k.derive_key_version(name, v, &ctx),
            None => k.derive_key(name, &ctx),
        }
        .map_err(core_err)?;
        Ok((
            PyBytes::new(py, derived.key().expose_secret()),
            derived.version(),
        ))
    }

    /// Encrypts `input` into an envelope written to `output`, each a path
    /// or a binary file object; returns the plaintext length. An output
    /// path is written whole or not at all (mode 0600, never replaced
    /// unless complete). The GIL is released; a file object is called
    /// with it taken back for each read or write.
    #[pyo3(signature = (names, input, output, context=None, chunk_size=DEFAULT_CHUNK_SIZE, threads=1))]
    #[allow(
        clippy::too_many_arguments,
        reason = "the Python signature, keyword arguments with defaults"
    )]
    fn encrypt_file(
        &self,
        py: Python<'_>,
        names: &Bound<'_, PyAny>,
        input: &Bound<'_, PyAny>,
        output: &Bound<'_, PyAny>,
        context: Option<&Bound<'_, PyAny>>,
        chunk_size: u32,
        threads: usize,
    ) -> PyResult<u64> {
        let names = names_of(names)?;
        let (src, dst, ctx) = (
            Endpoint::of(input)?,
            Endpoint::of(output)?,
            context_of(context)?,
        );
        let k = self.inner.current();
        let error = ErrorSlot::default();
        let result = py.detach(|| {
            let recipients: Vec<Recipient<'_>> = names
                .iter()
                .map(|name| Recipient::Key { keyring: &k, name })
                .collect();
            match (src, dst) {
                (Endpoint::Path(i), Endpoint::Path(o)) => file::encrypt_file(
                    &recipients,
                    &i,
                    &o,
                    &ctx,
                    chunk_size,
                    threads,
                    &mut strongroom::FastRng,
                )
                .map_err(Failure::Store),
                (src, dst) => {
                    let mut reader = Source::open(src, &error).map_err(Failure::Io)?;
                    let mut seal = |w: Box<dyn std::io::Write + Send + '_>| {
                        let mut writer = envelope::EnvelopeWriter::new(
                            w,
                            &recipients,
                            &ctx,
                            chunk_size,
                            &mut strongroom::FastRng,
                        )?
                        .with_threads(threads)?;
                        let n = file::copy_wiped(&mut reader, &mut writer)?;
                        writer.finish()?;
                        Ok::<_, std::io::Error>(n)
                    };
                    match dst {
                        Endpoint::Path(o) => {
                            let mut out = AtomicFile::create(&o).map_err(Failure::Store)?;
                            let n = seal(Box::new(&mut out)).map_err(Failure::Io)?;
                            out.commit().map_err(Failure::Store)?;
                            Ok(n)
                        }
                        Endpoint::Object(o) => {
                            let mut out = PyFile::new(o, error.clone());
                            let n = seal(Box::new(&mut out)).map_err(Failure::Io)?;
                            std::io::Write::flush(&mut out).map_err(Failure::Io)?;
                            Ok(n)
                        }
                    }
                }
            }
        });
        result.map_err(|f| f.into_py(&error))
    }

    /// Decrypts the envelope in `input` (a path or a binary file object)
    /// into `output` (a path or a writable binary file object); returns
    /// the plaintext length. An output path appears only once every chunk
    /// has authenticated. A file object receives each chunk once it has
    /// authenticated; if a later chunk fails, what was written is
    /// overwritten with zeros and truncated away when the object can seek,
    /// and the error is raised (pass a path for all-or-nothing output).
    #[pyo3(signature = (input, output, context=None, threads=1))]
    fn decrypt_file(
        &self,
        py: Python<'_>,
        input: &Bound<'_, PyAny>,
        output: &Bound<'_, PyAny>,
        context: Option<&Bound<'_, PyAny>>,
        threads: usize,
    ) -> PyResult<u64> {
        let (src, dst, ctx) = (
            Endpoint::of(input)?,
            Endpoint::of(output)?,
            context_of(context)?,
        );
        let k = self.inner.current();
        let error = ErrorSlot::default();
        let result = py.detach(|| match (src, dst) {
            (Endpoint::Path(i), Endpoint::Path(o)) => {
                file::decrypt_file(k, &i, &o, &ctx, threads).map_err(Failure::Store)
            }
            (src, dst) => {
                let reader = Source::open(src, &error).map_err(Failure::Io)?;
                let mut plain = envelope::EnvelopeReader::new(reader, k, &ctx)
                    .with_threads(threads)
                    .map_err(Failure::Io)?;
                match dst {
                    Endpoint::Path(o) => {
                        let mut out = AtomicFile::create(&o).map_err(Failure::Store)?;
                        let n = file::copy_wiped(&mut plain, &mut out).map_err(Failure::Io)?;
                        out.commit().map_err(Failure::Store)?;
                        Ok(n)
                    }
                    Endpoint::Object(o) => {
                        let mut out = PyFile::new(o, error.clone());
                        let start = out.position();
                        let copied = file::copy_wiped(&mut plain, &mut out)
                            .and_then(|n| std::io::Write::flush(&mut out).map(|()| n));
                        copied.map_err(|e| {
                            out.scrub(start);
                            Failure::Io(e)
                        })
                    }
                }
            }
        });
        result.map_err(|f| f.into_py(&error))
    }
}

/// A failed file operation, turned into a Python exception with the GIL.
enum Failure {
    Store(strongroom::store::StoreError),
    Io(std::io::Error),
}

impl Failure {
    fn into_py(self, error: &ErrorSlot) -> PyErr {
        match self {
            Self::Store(e) => store_err(e),
            Self::Io(e) => stream_err(&e, error),
        }
    }
}
