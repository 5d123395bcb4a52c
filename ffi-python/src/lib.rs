//! The Python module `strongroom._strongroom` (re-exported by the
//! `strongroom` package): types and errors translated, every operation done
//! by the core (`shared/STYLE.md`, rules 1 and 12).
//!
//! Errors are raised as the classes of `strongroom/exceptions.py`, chosen
//! here by the core's stable error number ([`raise`], the one mapping
//! point). A Rust panic becomes pyo3's `PanicException`, never a crash.
//! Work over [`DETACH_THRESHOLD`] bytes, and every file and KDF operation,
//! runs with the GIL released.

extern crate alloc;

use alloc::sync::Arc;
use std::path::PathBuf;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyMemoryView};
use strongroom::envelope::{self, DEFAULT_CHUNK_SIZE, Identity, Recipient};
use strongroom::root::{KeyProvider, PassphraseRoot, load_key_file};
use strongroom::store::{KeyringStore, StoreError};
use strongroom::{EncryptionContext, ErrorKind, SharedKeyring, record};
use zeroize::Zeroizing;

/// Inputs larger than this are processed with the GIL released.
const DETACH_THRESHOLD: usize = 16 * 1024;

/// The exception class for a kind (in `strongroom.exceptions`).
fn class_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::AuthenticationFailed => "AuthenticationError",
        ErrorKind::UnknownKeyName | ErrorKind::UnknownKeyId | ErrorKind::UnknownKeyVersion => {
            "KeyNotFound"
        }
        ErrorKind::VersionDisabled | ErrorKind::VersionBelowMinimum => "KeyDisabled",
        ErrorKind::VersionDestroyed => "KeyDestroyed",
        ErrorKind::PrimaryVersion => "PrimaryVersionError",
        ErrorKind::KeyExists => "KeyExists",
        ErrorKind::Malformed => "MalformedInput",
        ErrorKind::UnsupportedFormat => "UnsupportedFormat",
        ErrorKind::TooLarge => "TooLarge",
        ErrorKind::InvalidArgument => "InvalidArgument",
        ErrorKind::BufferTooSmall => "BufferTooSmall",
        ErrorKind::RandomnessUnavailable => "RandomnessUnavailable",
        ErrorKind::KeyProvider => "KeyProviderError",
        ErrorKind::MemoryNotLocked => "MemoryNotLocked",
        ErrorKind::Io => "KeyringIOError",
        ErrorKind::NotFound => "KeyringNotFound",
        ErrorKind::AlreadyExists => "KeyringExists",
        ErrorKind::InsecurePermissions => "InsecurePermissions",
        ErrorKind::Locked => "KeyringLocked",
        ErrorKind::Rollback => "KeyringRollback",
        _ => "Error",
    }
}

/// The one mapping point: a core error kind and message as the Python
/// exception of its class, carrying `kind` (the stable name) and `code`.
fn raise(kind: ErrorKind, message: String) -> PyErr {
    Python::attach(|py| {
        let made = py
            .import("strongroom.exceptions")
            .and_then(|m| m.getattr(class_name(kind)))
            .and_then(|cls| cls.call1((message.clone(), kind.name(), kind.code())));
        match made {
            Ok(exc) => PyErr::from_value(exc),
            Err(e) => e,
        }
    })
}

fn core_err(e: strongroom::Error) -> PyErr {
    raise(e.kind(), e.to_string())
}

fn store_err(e: StoreError) -> PyErr {
    raise(e.kind(), e.to_string())
}

/// `(code, name, class)` for every error kind: the exceptions module checks
/// its classes against it at import.
#[pyfunction]
fn _error_kinds() -> Vec<(u16, &'static str, &'static str)> {
    ErrorKind::ALL
        .iter()
        .map(|k| (k.code(), k.name(), class_name(*k)))
        .collect()
}

/// The bytes of a `bytes`, `bytearray` or `memoryview` argument, copied
/// into a buffer that is wiped when dropped (the stable ABI this wheel uses
/// has no buffer protocol before Python 3.11, so there is no zero-copy
/// view; a `memoryview` goes through `tobytes`, a copy Python keeps).
fn bytes_of(obj: &Bound<'_, PyAny>) -> PyResult<Zeroizing<Vec<u8>>> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(Zeroizing::new(b.as_bytes().to_vec()));
    }
    if let Ok(b) = obj.cast::<PyByteArray>() {
        return Ok(Zeroizing::new(b.to_vec()));
    }
    if obj.cast::<PyMemoryView>().is_ok() {
        let b = obj.call_method0("tobytes")?;
        return Ok(Zeroizing::new(b.cast::<PyBytes>()?.as_bytes().to_vec()));
    }
    Err(PyTypeError::new_err(
        "expected bytes, bytearray or memoryview",
    ))
}

/// A context from a `Mapping[str, str]` (or None: empty).
fn context_of(ctx: Option<&Bound<'_, PyAny>>) -> PyResult<EncryptionContext> {
    let mut out = EncryptionContext::new();
    let Some(ctx) = ctx else { return Ok(out) };
    if ctx.is_none() {
        return Ok(out);
    }
    let dict = PyDict::new(ctx.py());
    dict.call_method1("update", (ctx,))?;
    for (k, v) in dict.iter() {
        let (k, v): (String, String) = (k.extract()?, v.extract()?);
        out.insert(&k, &v).map_err(core_err)?;
    }
    Ok(out)
}

/// Runs `f` with the GIL released when `len` is over the threshold.
fn maybe_detach<T: Send>(py: Python<'_>, len: usize, f: impl FnOnce() -> T + Send) -> T {
    if len > DETACH_THRESHOLD {
        py.detach(f)
    } else {
        f()
    }
}

/// A keyring shared by every thread of the process: encrypt and decrypt
/// from any number of threads while another rotates. In memory
/// (`Keyring()`) or backed by a keyring file (`Keyring.open_key_file`,
/// `Keyring.create_key_file`, `..._passphrase`), whose every change is
/// saved atomically before it takes effect.
#[pyclass(frozen, module = "strongroom")]
struct Keyring {
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

impl Keyring {
    /// Applies `f` to the keyring (saved first when file-backed) with the
    /// GIL released: the one path every key change takes.
    fn change<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut strongroom::Keyring) -> strongroom::Result<T> + Send,
    ) -> PyResult<T> {
        let k = self.inner.clone();
        py.detach(move || k.update(f)).map_err(store_err)
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

    /// Opens the keyring file at `path`, sealed by `passphrase` (Argon2id;
    /// the GIL is released while it runs).
    #[staticmethod]
    fn open_passphrase(
        py: Python<'_>,
        path: PathBuf,
        passphrase: &Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        let p = bytes_of(passphrase)?;
        open_store(py, path, Arc::new(PassphraseRoot::new(&p)), false)
    }

    /// Creates an empty keyring file at `path` sealed by `passphrase`.
    #[staticmethod]
    fn create_passphrase(
        py: Python<'_>,
        path: PathBuf,
        passphrase: &Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        let p = bytes_of(passphrase)?;
        if p.is_empty() {
            return Err(raise(
                ErrorKind::InvalidArgument,
                "an empty passphrase".into(),
            ));
        }
        open_store(py, path, Arc::new(PassphraseRoot::new(&p)), true)
    }

    /// Reads the keyring file again (changes saved by other processes).
    fn reload(&self, py: Python<'_>) -> PyResult<()> {
        let k = self.inner.clone();
        py.detach(move || k.reload()).map_err(store_err)
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

    /// Encrypts `plaintext` into a record under the primary version of
    /// `name`, bound to `context` (a `Mapping[str, str]`).
    #[pyo3(signature = (name, plaintext, context=None))]
    fn encrypt<'py>(
        &self,
        py: Python<'py>,
        name: &str,
        plaintext: &Bound<'py, PyAny>,
        context: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let (pt, ctx) = (bytes_of(plaintext)?, context_of(context)?);
        let k = self.inner.current();
        let sealed =
            maybe_detach(py, pt.len(), || k.encrypt_record(name, &pt, &ctx)).map_err(core_err)?;
        Ok(PyBytes::new(py, &sealed))
    }

    /// Decrypts a record with `context`. The returned `bytes` cannot be
    /// wiped by anyone (Python gives no way to).
    #[pyo3(signature = (record, context=None))]
    fn decrypt<'py>(
        &self,
        py: Python<'py>,
        record: &Bound<'py, PyAny>,
        context: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let (rec, ctx) = (bytes_of(record)?, context_of(context)?);
        let k = self.inner.current();
        let plain =
            maybe_detach(py, rec.len(), || k.decrypt_record(&rec, &ctx)).map_err(core_err)?;
        Ok(PyBytes::new(py, plain.expose_secret()))
    }

    /// Re-encrypts a record under its key's primary version (same context);
    /// returns it unchanged when it is at the primary already.
    #[pyo3(signature = (record, context=None))]
    fn rewrap<'py>(
        &self,
        py: Python<'py>,
        record: &Bound<'py, PyAny>,
        context: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let (rec, ctx) = (bytes_of(record)?, context_of(context)?);
        let k = self.inner.current();
        let moved = k.rewrap_record(&rec, &ctx).map_err(core_err)?;
        Ok(PyBytes::new(py, moved.as_deref().unwrap_or(&rec[..])))
    }

    /// Encrypts `data` into an envelope for the primary version of `name`.
    #[pyo3(signature = (name, data, context=None, chunk_size=DEFAULT_CHUNK_SIZE))]
    fn encrypt_envelope<'py>(
        &self,
        py: Python<'py>,
        name: &str,
        data: &Bound<'py, PyAny>,
        context: Option<&Bound<'py, PyAny>>,
        chunk_size: u32,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let (pt, ctx) = (bytes_of(data)?, context_of(context)?);
        let k = self.inner.current();
        let sealed = maybe_detach(py, pt.len(), || {
            let recipients = [Recipient::Key { keyring: &k, name }];
            envelope::encrypt(&recipients, &pt, &ctx, chunk_size, &mut strongroom::SysRng)
        })
        .map_err(core_err)?;
        Ok(PyBytes::new(py, &sealed))
    }

    /// Decrypts a whole envelope (every chunk authenticated first).
    #[pyo3(signature = (data, context=None))]
    fn decrypt_envelope<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
        context: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let (env, ctx) = (bytes_of(data)?, context_of(context)?);
        let k = self.inner.current();
        let plain = maybe_detach(py, env.len(), || {
            envelope::decrypt(Identity::Keyring(&k), &env, &ctx)
        })
        .map_err(core_err)?;
        Ok(PyBytes::new(py, plain.expose_secret()))
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
        use strongroom::{KeyId, KeyImport, KeyMaterial, Timestamp, VersionImport, VersionState};
        let mut imports = Vec::with_capacity(versions.len());
        for (state, material) in &versions {
            let state = VersionState::ALL
                .iter()
                .copied()
                .find(|s| s.name() == state)
                .ok_or_else(|| {
                    raise(
                        ErrorKind::InvalidArgument,
                        format!("unknown state {state:?}"),
                    )
                })?;
            let material = match material {
                Some(m) => Some(KeyMaterial::from_slice(&bytes_of(m)?).map_err(core_err)?),
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
        self.change(py, |kr| kr.import_key(import))
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
        let (blob, ctx) = (bytes_of(wrapped)?, context_of(context)?);
        let key = self
            .inner
            .current()
            .unwrap_data_key(&blob, &ctx)
            .map_err(core_err)?;
        Ok(PyBytes::new(py, key.expose_secret()))
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

    /// Encrypts the file `input` into an envelope file `output` (written
    /// whole or not at all, mode 0600), with the GIL released.
    #[pyo3(signature = (name, input, output, context=None, chunk_size=DEFAULT_CHUNK_SIZE, threads=1))]
    #[allow(
        clippy::too_many_arguments,
        reason = "the Python signature, keyword arguments with defaults"
    )]
    fn encrypt_file(
        &self,
        py: Python<'_>,
        name: &str,
        input: PathBuf,
        output: PathBuf,
        context: Option<&Bound<'_, PyAny>>,
        chunk_size: u32,
        threads: usize,
    ) -> PyResult<u64> {
        let ctx = context_of(context)?;
        let k = self.inner.current();
        py.detach(|| {
            let recipients = [Recipient::Key { keyring: &k, name }];
            strongroom::file::encrypt_file(
                &recipients,
                &input,
                &output,
                &ctx,
                chunk_size,
                threads,
                &mut strongroom::SysRng,
            )
        })
        .map_err(store_err)
    }

    /// Decrypts the envelope file `input` into `output`, which appears only
    /// once every chunk has authenticated; the GIL is released.
    #[pyo3(signature = (input, output, context=None, threads=1))]
    fn decrypt_file(
        &self,
        py: Python<'_>,
        input: PathBuf,
        output: PathBuf,
        context: Option<&Bound<'_, PyAny>>,
        threads: usize,
    ) -> PyResult<u64> {
        let ctx = context_of(context)?;
        let k = self.inner.current();
        py.detach(|| strongroom::file::decrypt_file(k, &input, &output, &ctx, threads))
            .map_err(store_err)
    }
}

/// Decrypts a record under a standalone key (a data key or a derived key).
#[pyfunction]
#[pyo3(signature = (key, record, context=None))]
fn decrypt_with_key<'py>(
    py: Python<'py>,
    key: &Bound<'py, PyAny>,
    record: &Bound<'py, PyAny>,
    context: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyBytes>> {
    let key = strongroom::KeyMaterial::from_slice(&bytes_of(key)?).map_err(core_err)?;
    let (rec, ctx) = (bytes_of(record)?, context_of(context)?);
    let plain = record::decrypt_with_key(&key, &rec, &ctx).map_err(core_err)?;
    Ok(PyBytes::new(py, plain.expose_secret()))
}

/// Encrypts a record under a standalone key of 32 bytes.
#[pyfunction]
#[pyo3(signature = (key, plaintext, context=None))]
fn encrypt_with_key<'py>(
    py: Python<'py>,
    key: &Bound<'py, PyAny>,
    plaintext: &Bound<'py, PyAny>,
    context: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyBytes>> {
    let key = strongroom::KeyMaterial::from_slice(&bytes_of(key)?).map_err(core_err)?;
    let (pt, ctx) = (bytes_of(plaintext)?, context_of(context)?);
    let sealed =
        record::encrypt_with_key(&key, &pt, &ctx, &mut strongroom::SysRng).map_err(core_err)?;
    Ok(PyBytes::new(py, &sealed))
}

/// Decrypts an envelope under a standalone key of 32 bytes.
#[pyfunction]
#[pyo3(signature = (key, data, context=None))]
fn decrypt_envelope_with_key<'py>(
    py: Python<'py>,
    key: &Bound<'py, PyAny>,
    data: &Bound<'py, PyAny>,
    context: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyBytes>> {
    let key = strongroom::KeyMaterial::from_slice(&bytes_of(key)?).map_err(core_err)?;
    let (env, ctx) = (bytes_of(data)?, context_of(context)?);
    let plain = maybe_detach(py, env.len(), || {
        envelope::decrypt(Identity::Standalone(&key), &env, &ctx)
    })
    .map_err(core_err)?;
    Ok(PyBytes::new(py, plain.expose_secret()))
}

/// The text form of a binary record (`sr1:...`, FORMAT.md 5).
#[pyfunction]
fn to_text(record: &Bound<'_, PyAny>) -> PyResult<String> {
    let rec = bytes_of(record)?;
    strongroom::inspect_record(&rec).map_err(core_err)?;
    Ok(record::to_text(&rec))
}

/// The binary record of a text-form record.
#[pyfunction]
fn from_text<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyBytes>> {
    let rec = record::from_text(text).map_err(core_err)?;
    Ok(PyBytes::new(py, &rec))
}

#[pymodule]
fn _strongroom(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Keyring>()?;
    m.add_function(wrap_pyfunction!(to_text, m)?)?;
    m.add_function(wrap_pyfunction!(from_text, m)?)?;
    m.add_function(wrap_pyfunction!(_error_kinds, m)?)?;
    m.add_function(wrap_pyfunction!(encrypt_with_key, m)?)?;
    m.add_function(wrap_pyfunction!(decrypt_with_key, m)?)?;
    m.add_function(wrap_pyfunction!(decrypt_envelope_with_key, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
