//! The OpenBao/Vault connection behind `Keyring.open_vault_transit` and
//! `Keyring.create_vault_transit`.

use alloc::sync::Arc;
use std::path::PathBuf;

use pyo3::prelude::*;
use strongroom::vault::{Vault, VaultConfig};

use crate::buffer::Input;
use crate::{core_err, invalid};

/// The keyword arguments; each one given overrides the environment.
pub(crate) struct Conn<'py> {
    pub(crate) address: Option<String>,
    pub(crate) token: Option<Bound<'py, PyAny>>,
    pub(crate) token_file: Option<PathBuf>,
    pub(crate) role_id: Option<String>,
    pub(crate) secret_id_file: Option<PathBuf>,
    pub(crate) namespace: Option<String>,
    pub(crate) ca_cert: Option<PathBuf>,
}

/// Connects (the GIL released: an AppRole login talks to the server).
pub(crate) fn connect(py: Python<'_>, c: Conn<'_>) -> PyResult<Arc<Vault>> {
    let mut config = match &c.address {
        Some(a) => VaultConfig::new(a),
        None => VaultConfig::from_env().map_err(core_err)?,
    };
    if let Some(t) = &c.token {
        // A str or a bytes-like token, never kept in a Python object of ours.
        let text: String = if let Ok(s) = t.extract::<String>() {
            s
        } else {
            let b = Input::new(t, usize::MAX)?;
            core::str::from_utf8(b.as_slice())
                .map_err(|_| invalid("the token is not UTF-8"))?
                .into()
        };
        let text = zeroize::Zeroizing::new(text);
        config = config.with_token(&text);
    }
    if let Some(f) = c.token_file {
        config = config.with_token_file(f);
    }
    match (c.role_id, c.secret_id_file) {
        (Some(r), Some(f)) => config = config.with_approle(&r, f),
        (None, None) => {}
        _ => return Err(invalid("role_id and secret_id_file go together")),
    }
    if let Some(n) = &c.namespace {
        config = config.with_namespace(n);
    }
    if let Some(ca) = c.ca_cert {
        config = config.with_ca_cert(ca);
    }
    let vault = py
        .detach(|| Vault::connect(config))
        .map_err(|e| core_err(e.into()))?;
    Ok(Arc::new(vault))
}
