//! The Python module `strongroom._strongroom` (re-exported by the
//! `strongroom` package): types and errors translated, every operation done
//! by the core (`shared/STYLE.md`, rules 1 and 12).
//!
//! Errors are raised as the classes of `strongroom/exceptions.py`, chosen
//! here by the core's stable error number ([`raise`], the one mapping
//! point). A Rust panic becomes pyo3's `PanicException`, never a crash.
//! Work over [`DETACH_THRESHOLD`] bytes, and every file and KDF operation,
//! runs with the GIL released.
//!
//! Inputs are any buffer-protocol object, borrowed without a copy
//! ([`buffer::Input`]). Metadata comes back as the frozen dataclasses of
//! `strongroom/_types.py`, built there from plain values.

extern crate alloc;

mod audit;
mod blind_index;
mod buffer;
mod io;
mod keyring;
mod provider;
#[cfg(feature = "vault")]
mod vault;

use alloc::sync::Arc;
use pyo3::prelude::*;
use std::sync::{Mutex, OnceLock};

use pyo3::types::{PyBytes, PyDict, PyString};
use strongroom::envelope::{self, Identity};
use strongroom::store::StoreError;
use strongroom::{EncryptionContext, ErrorKind, KeyMaterial, record};

use crate::buffer::{Input, Output};

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

fn invalid(message: &str) -> PyErr {
    raise(ErrorKind::InvalidArgument, message.into())
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

/// A context from a `Mapping[str, str]` (or None: empty).
fn context_of(ctx: Option<&Bound<'_, PyAny>>) -> PyResult<Arc<EncryptionContext>> {
    let Some(ctx) = ctx.filter(|c| !c.is_none()) else {
        return Ok(empty_context());
    };
    // A dict is read as it is; any other mapping through a dict copy.
    let dict = match ctx.cast::<PyDict>() {
        Ok(d) => d.clone(),
        Err(_) => {
            let d = PyDict::new(ctx.py());
            d.call_method1("update", (ctx,))?;
            d
        }
    };
    // `try_lock` only, and never held while Python code could run: a
    // finaliser run by the garbage collector mid-call may call back in.
    if let Ok(last) = LAST_CONTEXT.try_lock()
        && let Some(hit) = last.as_ref().filter(|c| c.matches(&dict))
    {
        return Ok(Arc::clone(&hit.context));
    }
    let mut out = EncryptionContext::new();
    let mut objects = Vec::with_capacity(dict.len());
    let mut cacheable = true;
    for (k, v) in dict.iter() {
        let (ks, vs): (String, String) = (k.extract()?, v.extract()?);
        out.insert(&ks, &vs).map_err(core_err)?;
        cacheable &= k.is_exact_instance_of::<PyString>() && v.is_exact_instance_of::<PyString>();
        objects.push((k.unbind(), v.unbind()));
    }
    let context = Arc::new(out);
    if let Ok(mut last) = LAST_CONTEXT.try_lock() {
        *last = cacheable.then(|| CachedContext {
            objects,
            context: Arc::clone(&context),
        });
    }
    Ok(context)
}

/// The context of the last call, with the `str` objects it was built from.
/// Applications pass the same context on every call of a column, usually
/// as a dict of the same string objects (literals, or names kept in a
/// module): when every key and value of the dict is, in order, the very
/// object the cached context was built from, the context is the cached
/// one. Python strings are immutable and the cache holds a reference to
/// each, so the same object always has the same text. Building it anew
/// (four string copies and a map per two-pair context) was a seventh of a
/// 64-byte record round trip.
struct CachedContext {
    objects: Vec<(Py<PyAny>, Py<PyAny>)>,
    context: Arc<EncryptionContext>,
}

impl CachedContext {
    fn matches(&self, dict: &Bound<'_, PyDict>) -> bool {
        dict.len() == self.objects.len()
            && dict
                .iter()
                .zip(&self.objects)
                .all(|((k, v), (ck, cv))| k.is(ck) && v.is(cv))
    }
}

static LAST_CONTEXT: Mutex<Option<CachedContext>> = Mutex::new(None);

fn empty_context() -> Arc<EncryptionContext> {
    static EMPTY: OnceLock<Arc<EncryptionContext>> = OnceLock::new();
    Arc::clone(EMPTY.get_or_init(|| Arc::new(EncryptionContext::new())))
}

/// Runs `f` with the GIL released when `len` is over the threshold.
fn maybe_detach<T: Send>(py: Python<'_>, len: usize, f: impl FnOnce() -> T + Send) -> T {
    if len > DETACH_THRESHOLD {
        py.detach(f)
    } else {
        f()
    }
}

/// A record argument: any bytes-like object, or the text form as a `str`
/// (`"sr1:..."`, FORMAT.md 5). Also says whether it was text.
fn record_of<'py>(obj: &Bound<'py, PyAny>, detach_over: usize) -> PyResult<(Input<'py>, bool)> {
    if let Ok(s) = obj.cast::<pyo3::types::PyString>() {
        let rec = record::from_text(&s.extract::<String>()?).map_err(core_err)?;
        return Ok((Input::Copy(zeroize::Zeroizing::new(rec)), true));
    }
    Ok((Input::new(obj, detach_over)?, false))
}

/// A record as `bytes`, or as its text form when `text`.
fn record_out<'py>(py: Python<'py>, record: &[u8], text: bool) -> Bound<'py, PyAny> {
    if text {
        pyo3::types::PyString::new(py, &record::to_text(record)).into_any()
    } else {
        PyBytes::new(py, record).into_any()
    }
}

/// A standalone key (32 bytes) from a buffer.
fn standalone_key(key: &Bound<'_, PyAny>) -> PyResult<KeyMaterial> {
    KeyMaterial::from_slice(Input::new(key, usize::MAX)?.as_slice()).map_err(core_err)
}

/// An object of `strongroom._types`, built by its constructor `name`.
fn make<'py>(
    py: Python<'py>,
    name: &str,
    args: impl pyo3::call::PyCallArgs<'py>,
) -> PyResult<Bound<'py, PyAny>> {
    py.import("strongroom._types")?.getattr(name)?.call1(args)
}

/// Decrypts into the caller's writable buffer with `decrypt` (which the
/// core guarantees leaves no plaintext on failure); on failure the whole
/// buffer is zeroed as well, as the C API does. Runs with the GIL held:
/// no Python thread can see the buffer mid-write.
fn decrypt_into_buffer(
    buffer: &Bound<'_, PyAny>,
    decrypt: impl FnOnce(&mut [u8]) -> strongroom::Result<usize>,
) -> PyResult<usize> {
    let mut out = Output::new(buffer)?;
    let dst = out.as_mut_slice();
    decrypt(dst).map_err(|e| {
        zeroize::Zeroize::zeroize(dst);
        core_err(e)
    })
}

/// A `SecretBytes` of `len` bytes filled by `decrypt`.
fn decrypt_secret<'py>(
    py: Python<'py>,
    len: usize,
    decrypt: impl FnOnce(&mut [u8]) -> strongroom::Result<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    let secret = make(py, "SecretBytes", (len,))?;
    let n = decrypt_into_buffer(&secret.getattr("_buf")?, decrypt)?;
    if n != len {
        return Err(raise(
            ErrorKind::Malformed,
            "the plaintext length differs from the header's".into(),
        ));
    }
    Ok(secret)
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
    let key = standalone_key(key)?;
    let ((rec, _), ctx) = (record_of(record, usize::MAX)?, context_of(context)?);
    let plain = record::decrypt_with_key(&key, rec.as_slice(), &ctx).map_err(core_err)?;
    Ok(PyBytes::new(py, plain.expose_secret()))
}

/// Encrypts a record under a standalone key of 32 bytes (as its text
/// form, a `str`, when `text`).
#[pyfunction]
#[pyo3(signature = (key, plaintext, context=None, *, text=false))]
fn encrypt_with_key<'py>(
    py: Python<'py>,
    key: &Bound<'py, PyAny>,
    plaintext: &Bound<'py, PyAny>,
    context: Option<&Bound<'py, PyAny>>,
    text: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let key = standalone_key(key)?;
    let (pt, ctx) = (Input::new(plaintext, usize::MAX)?, context_of(context)?);
    let sealed = record::encrypt_with_key(&key, pt.as_slice(), &ctx, &mut strongroom::FastRng)
        .map_err(core_err)?;
    Ok(record_out(py, &sealed, text))
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
    let key = standalone_key(key)?;
    let (env, ctx) = (Input::new(data, DETACH_THRESHOLD)?, context_of(context)?);
    let env = env.as_slice();
    let plain = maybe_detach(py, env.len(), || {
        envelope::decrypt(Identity::Standalone(&key), env, &ctx)
    })
    .map_err(core_err)?;
    Ok(PyBytes::new(py, plain.expose_secret()))
}

/// Encrypts `data` into an envelope for a standalone key of 32 bytes.
#[pyfunction]
#[pyo3(signature = (key, data, context=None, chunk_size=envelope::DEFAULT_CHUNK_SIZE))]
fn encrypt_envelope_with_key<'py>(
    py: Python<'py>,
    key: &Bound<'py, PyAny>,
    data: &Bound<'py, PyAny>,
    context: Option<&Bound<'py, PyAny>>,
    chunk_size: u32,
) -> PyResult<Bound<'py, PyBytes>> {
    let key = standalone_key(key)?;
    let (pt, ctx) = (Input::new(data, DETACH_THRESHOLD)?, context_of(context)?);
    let pt = pt.as_slice();
    let sealed = maybe_detach(py, pt.len(), || {
        let recipients = [envelope::Recipient::Standalone(&key)];
        envelope::encrypt(&recipients, pt, &ctx, chunk_size, &mut strongroom::FastRng)
    })
    .map_err(core_err)?;
    Ok(PyBytes::new(py, &sealed))
}

/// The text form of a binary record (`sr1:...`, FORMAT.md 5).
#[pyfunction]
fn to_text(record: &Bound<'_, PyAny>) -> PyResult<String> {
    let rec = Input::new(record, usize::MAX)?;
    strongroom::inspect_record(rec.as_slice()).map_err(core_err)?;
    Ok(record::to_text(rec.as_slice()))
}

/// The binary record of a text-form record.
#[pyfunction]
fn from_text<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyBytes>> {
    let rec = record::from_text(text).map_err(core_err)?;
    Ok(PyBytes::new(py, &rec))
}

/// A record's public header (`RecordInfo`): which key and version, how
/// long the plaintext is. Nothing is decrypted or authenticated.
#[pyfunction]
fn inspect_record<'py>(py: Python<'py>, record: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let (rec, _) = record_of(record, usize::MAX)?;
    let h = strongroom::inspect_record(rec.as_slice()).map_err(core_err)?;
    make(
        py,
        "RecordInfo",
        (h.key_id.as_u32(), h.key_version, h.plaintext_len),
    )
}

/// Which key and version a wrapped data key is under: `(key_id,
/// version)`. Nothing is unwrapped.
#[pyfunction]
fn inspect_data_key(wrapped: &Bound<'_, PyAny>) -> PyResult<(u32, u32)> {
    let blob = Input::new(wrapped, usize::MAX)?;
    let kv = strongroom::datakey::inspect_wrapped_key(blob.as_slice()).map_err(core_err)?;
    Ok((kv.key_id.as_u32(), kv.version))
}

/// The `EnvelopeInfo` of the core's envelope facts.
fn envelope_info<'py>(
    py: Python<'py>,
    info: &envelope::EnvelopeInfo,
) -> PyResult<Bound<'py, PyAny>> {
    let context: Vec<(&str, &str)> = info.context.iter().collect();
    let recipients: Vec<Option<(u32, u32)>> = info
        .recipients
        .iter()
        .map(|r| r.key.map(|k| (k.key_id.as_u32(), k.version)))
        .collect();
    make(
        py,
        "_make_envelope_info",
        (
            info.format,
            info.chunk_size,
            context,
            recipients,
            info.header_len,
            info.chunk_count,
            info.plaintext_len,
        ),
    )
}

/// An envelope's public header (`EnvelopeInfo`): chunking, context,
/// recipients, lengths. Nothing is decrypted or authenticated.
#[pyfunction]
fn inspect_envelope<'py>(py: Python<'py>, data: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let env = Input::new(data, usize::MAX)?;
    let info = envelope::inspect(env.as_slice()).map_err(core_err)?;
    envelope_info(py, &info)
}

/// Panics inside the module, for the test that a panic is raised as
/// pyo3's `PanicException` and never aborts the interpreter.
#[pyfunction]
fn _test_panic() {
    #[allow(clippy::panic, reason = "the point of the function")]
    {
        panic!("strongroom._test_panic: a panic on purpose")
    }
}

#[pymodule]
fn _strongroom(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<keyring::Keyring>()?;
    m.add_class::<blind_index::BlindIndex>()?;
    m.add_function(wrap_pyfunction!(blind_index::recommended_index_bits, m)?)?;
    m.add_function(wrap_pyfunction!(blind_index::expected_false_positives, m)?)?;
    m.add_class::<io::SeekReader>()?;
    m.add_function(wrap_pyfunction!(to_text, m)?)?;
    m.add_function(wrap_pyfunction!(from_text, m)?)?;
    m.add_function(wrap_pyfunction!(_error_kinds, m)?)?;
    m.add_function(wrap_pyfunction!(_test_panic, m)?)?;
    m.add_function(wrap_pyfunction!(encrypt_with_key, m)?)?;
    m.add_function(wrap_pyfunction!(decrypt_with_key, m)?)?;
    m.add_function(wrap_pyfunction!(encrypt_envelope_with_key, m)?)?;
    m.add_function(wrap_pyfunction!(decrypt_envelope_with_key, m)?)?;
    m.add_function(wrap_pyfunction!(inspect_record, m)?)?;
    m.add_function(wrap_pyfunction!(inspect_envelope, m)?)?;
    m.add_function(wrap_pyfunction!(inspect_data_key, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("PKCS11", cfg!(feature = "pkcs11"))?;
    Ok(())
}
