//! An external root of trust in Python: any object with `wrap` and
//! `unwrap` (a KMS client), as the core's `KeyProvider` (root kind 4,
//! FORMAT.md 10.3).

use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes};
use strongroom::root::{KeyProvider, RootKind};
use strongroom::{Error, KeyMaterial};

use crate::buffer::Input;
use crate::invalid;

/// At most this many bytes of `params` and of a wrapped key (FORMAT.md 10.3).
const MAX_PROVIDER_BYTES: usize = 1024;

/// The provider the core calls; it takes the GIL for each call.
pub(crate) struct PyProvider {
    obj: Py<PyAny>,
    params: Vec<u8>,
}

impl PyProvider {
    /// Checks that `obj` has callable `wrap` and `unwrap`; reads its
    /// optional `params` (public bytes for the file header, at most 1024).
    pub(crate) fn new(obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        for m in ["wrap", "unwrap"] {
            if !obj.getattr(m).is_ok_and(|f| f.is_callable()) {
                return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                    "a key provider needs a callable {m}()"
                )));
            }
        }
        let params = match obj.getattr("params") {
            Ok(p) if !p.is_none() => Input::new(&p, usize::MAX)?.as_slice().to_vec(),
            _ => Vec::new(),
        };
        if params.len() > MAX_PROVIDER_BYTES {
            return Err(invalid("a key provider's params are over 1024 bytes"));
        }
        Ok(Self {
            obj: obj.clone().unbind(),
            params,
        })
    }
}

/// The core's error for an exception the provider raised: its own
/// `AuthenticationError` means a wrong key or altered data; anything else
/// is a provider failure, named by type only (a message may hold anything).
fn failure(py: Python<'_>, what: &str, e: &PyErr) -> Error {
    let auth = py
        .import("strongroom.exceptions")
        .and_then(|m| m.getattr("AuthenticationError"))
        .is_ok_and(|cls| e.value(py).is_instance(&cls).unwrap_or(false));
    if auth {
        return Error::AuthenticationFailed;
    }
    let name = e
        .get_type(py)
        .name()
        .map_or_else(|_| "an exception".to_owned(), |n| n.to_string());
    Error::KeyProvider {
        message: format!("the key provider's {what}() raised {name}"),
    }
}

fn bad(what: &str, why: &str) -> Error {
    Error::KeyProvider {
        message: format!("the key provider's {what}() {why}"),
    }
}

/// Copies the bytes-like result out; zeroes it when it is a `bytearray`.
fn take(what: &str, out: &Bound<'_, PyAny>) -> strongroom::Result<zeroize::Zeroizing<Vec<u8>>> {
    let copy = Input::new(out, usize::MAX)
        .map(|b| zeroize::Zeroizing::new(b.as_slice().to_vec()))
        .map_err(|_| bad(what, "did not return a bytes-like object"))?;
    if let Ok(ba) = out.cast::<PyByteArray>() {
        // SAFETY: the GIL is held and no Python code runs before this
        // returns; nothing resizes the array meanwhile.
        zeroize::Zeroize::zeroize(unsafe { ba.as_bytes_mut() });
    }
    Ok(copy)
}

impl KeyProvider for PyProvider {
    fn root_kind(&self) -> RootKind {
        RootKind::External
    }

    fn new_params(&self, _random: &[u8; 16]) -> strongroom::Result<Vec<u8>> {
        Ok(self.params.clone())
    }

    fn wrap(
        &self,
        _params: &[u8],
        key: &KeyMaterial,
        aad: &[u8],
        _nonce: &[u8; 24],
    ) -> strongroom::Result<Vec<u8>> {
        Python::attach(|py| {
            let k = PyByteArray::new(py, key.expose_secret());
            let r = self
                .obj
                .bind(py)
                .call_method1("wrap", (&k, PyBytes::new(py, aad)));
            // SAFETY: as in `take`: the GIL is held, no Python code runs.
            zeroize::Zeroize::zeroize(unsafe { k.as_bytes_mut() });
            let out = take("wrap", &r.map_err(|e| failure(py, "wrap", &e))?)?;
            if out.is_empty() || out.len() > MAX_PROVIDER_BYTES {
                return Err(bad("wrap", "returned an empty or over-1024-byte result"));
            }
            Ok(out.to_vec())
        })
    }

    fn unwrap(
        &self,
        _params: &[u8],
        wrapped: &[u8],
        aad: &[u8],
    ) -> strongroom::Result<KeyMaterial> {
        Python::attach(|py| {
            let r = self
                .obj
                .bind(py)
                .call_method1("unwrap", (PyBytes::new(py, wrapped), PyBytes::new(py, aad)));
            let out = take("unwrap", &r.map_err(|e| failure(py, "unwrap", &e))?)?;
            KeyMaterial::from_slice(&out).map_err(|_| bad("unwrap", "did not return 32 bytes"))
        })
    }
}
