//! Audit events to a Python callable (`Keyring.set_audit`).

use pyo3::prelude::*;
use strongroom::audit::{AuditEvent, AuditSink};

use crate::make;

/// Calls the callback with a `strongroom.AuditEvent` for each event; None
/// drops them.
pub(crate) struct PySink {
    callback: Option<Py<PyAny>>,
}

impl PySink {
    pub(crate) fn new(callback: Option<Py<PyAny>>) -> Self {
        Self { callback }
    }
}

impl AuditSink for PySink {
    fn record(&self, event: &AuditEvent<'_>) {
        let Some(callback) = &self.callback else {
            return;
        };
        Python::attach(|py| {
            let cb = callback.bind(py);
            let made = make(
                py,
                "_make_audit_event",
                (
                    event.time.as_unix_seconds(),
                    event.action.name(),
                    event.action.code(),
                    event.object.name(),
                    event.key_name,
                    event.key_id.map(|k| k.as_u32()),
                    event.version,
                    event.error.map(|e| e.name()),
                ),
            );
            if let Err(e) = made.and_then(|ev| cb.call1((ev,))) {
                e.write_unraisable(py, Some(cb));
            }
        });
    }
}
