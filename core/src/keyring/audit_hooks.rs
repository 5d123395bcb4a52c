//! How a keyring reports to its [`AuditContext`]: one event per operation.

use alloc::sync::Arc;

use super::Keyring;
use crate::audit::{AuditAction, AuditContext, AuditObject, KeyVersionRef};
use crate::error::Error;

impl Keyring {
    /// Sends this keyring's audit events to `audit` (replacing any previous
    /// context). Streams opened from the keyring afterwards log there too.
    pub fn set_audit(&mut self, audit: Arc<AuditContext>) {
        self.audit = Some(audit);
    }

    /// Stops sending audit events.
    pub fn clear_audit(&mut self) {
        self.audit = None;
    }

    /// The audit context attached, if any.
    pub fn audit(&self) -> Option<&Arc<AuditContext>> {
        self.audit.as_ref()
    }

    /// Emits one event (no-op without a sink). `key` is the id and version
    /// involved, when known; the name is looked up from the id.
    pub(crate) fn emit(
        &self,
        action: AuditAction,
        object: AuditObject,
        key: Option<KeyVersionRef>,
        error: Option<&Error>,
    ) {
        let Some(audit) = &self.audit else { return };
        let name = key.and_then(|(id, _)| self.key_name(id).ok());
        audit.emit(action, object, name, key, error.map(Error::kind));
    }

    /// Emits the event for `result` and passes it on.
    pub(crate) fn audited<T>(
        &self,
        action: AuditAction,
        object: AuditObject,
        key: Option<KeyVersionRef>,
        result: crate::Result<T>,
    ) -> crate::Result<T> {
        self.audited_lazy(action, object, || key, result)
    }

    /// As [`Keyring::audited`], working out the key only when a sink is
    /// attached (the hot paths: a second key lookup or header parse per
    /// call would otherwise be paid by every caller).
    pub(crate) fn audited_lazy<T>(
        &self,
        action: AuditAction,
        object: AuditObject,
        key: impl FnOnce() -> Option<KeyVersionRef>,
        result: crate::Result<T>,
    ) -> crate::Result<T> {
        if self.audit.is_some() {
            self.emit(action, object, key(), result.as_ref().err());
        }
        result
    }
}
