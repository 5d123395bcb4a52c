//! Audit events: who used which key, when, and how it went. Never secret
//! data, never plaintext: an event carries only names, ids, versions, an
//! action, an outcome, a public error kind and a time.
//!
//! Attach a sink with [`Keyring::set_audit`]; every lifecycle operation and
//! every encrypt, decrypt (success or failure) and rewrap through that
//! keyring then emits exactly one event. With `std`,
//! [`JsonLinesSink`] appends events to a file, one JSON object per line.

use alloc::boxed::Box;
use core::fmt;

use crate::error::Error;
use crate::keyring::{KeyId, Keyring};
use crate::time::Timestamp;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuditAction {
    /// A key was created.
    KeyCreated,
    /// A key was imported (from a backup or with known material).
    KeyImported,
    /// A key got a new primary version.
    KeyRotated,
    /// A version was enabled.
    VersionEnabled,
    /// A version was disabled.
    VersionDisabled,
    /// A version was destroyed.
    VersionDestroyed,
    /// The minimum decryption version changed.
    MinDecryptionVersionChanged,
    /// The rotation period changed.
    RotationPeriodChanged,
    /// Data was encrypted (or a data key wrapped).
    Encrypt,
    /// Data was decrypted (or a data key unwrapped); see the outcome.
    Decrypt,
    /// Ciphertext moved to the primary version.
    Rewrap,
    /// A key was derived from a version.
    Derive,
}

impl AuditAction {
    /// The event's name in logs.
    pub const fn name(self) -> &'static str {
        match self {
            Self::KeyCreated => "key_created",
            Self::KeyImported => "key_imported",
            Self::KeyRotated => "key_rotated",
            Self::VersionEnabled => "version_enabled",
            Self::VersionDisabled => "version_disabled",
            Self::VersionDestroyed => "version_destroyed",
            Self::MinDecryptionVersionChanged => "min_decryption_version_changed",
            Self::RotationPeriodChanged => "rotation_period_changed",
            Self::Encrypt => "encrypt",
            Self::Decrypt => "decrypt",
            Self::Rewrap => "rewrap",
            Self::Derive => "derive",
        }
    }
}

/// What kind of object the action touched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuditObject {
    /// The key itself (lifecycle actions).
    Key,
    /// A record.
    Record,
    /// An envelope.
    Envelope,
    /// A wrapped data key.
    DataKey,
}

impl AuditObject {
    /// The object's name in logs.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Key => "key",
            Self::Record => "record",
            Self::Envelope => "envelope",
            Self::DataKey => "data_key",
        }
    }
}

/// One audit event.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuditEvent<'a> {
    /// When (from the clock given to [`Keyring::set_audit`]).
    pub time: Timestamp,
    /// What happened.
    pub action: AuditAction,
    /// To what.
    pub object: AuditObject,
    /// The key's name, when known.
    pub key_name: Option<&'a str>,
    /// The key's id, when known.
    pub key_id: Option<KeyId>,
    /// The version involved, when known.
    pub version: Option<u32>,
    /// `None` on success; on failure the public error kind (for example
    /// `"authentication_failed"`, `"version_destroyed"`).
    pub error: Option<&'static str>,
}

impl AuditEvent<'_> {
    /// Whether the action succeeded.
    pub fn succeeded(&self) -> bool {
        self.error.is_none()
    }
}

/// Where audit events go. Implementations must not block for long: they
/// run inside every keyring operation.
pub trait AuditSink: Send + Sync {
    /// Records one event.
    fn record(&self, event: &AuditEvent<'_>);
}

/// The public kind of an error, as audit events and golden vectors name it.
pub fn error_kind(e: &Error) -> &'static str {
    match e {
        Error::AuthenticationFailed => "authentication_failed",
        Error::UnknownKeyName { .. } => "unknown_key_name",
        Error::UnknownKeyId { .. } => "unknown_key_id",
        Error::UnknownKeyVersion { .. } => "unknown_key_version",
        Error::VersionDisabled { .. } => "version_disabled",
        Error::VersionDestroyed { .. } => "version_destroyed",
        Error::VersionBelowMinimum { .. } => "version_below_minimum",
        Error::PrimaryVersion { .. } => "primary_version",
        Error::KeyExists { .. } => "key_exists",
        Error::Malformed { .. } => "malformed",
        Error::UnsupportedFormat { .. } => "unsupported_format",
        Error::TooLarge { .. } => "too_large",
        Error::InvalidArgument { .. } => "invalid_argument",
        Error::BufferTooSmall { .. } => "buffer_too_small",
        Error::RandomnessUnavailable => "randomness_unavailable",
        Error::MemoryNotLocked { .. } => "memory_not_locked",
        Error::KeyProvider { .. } => "key_provider",
    }
}

/// A sink and its clock, held by a keyring.
pub(crate) struct Audit {
    sink: Box<dyn AuditSink>,
    clock: fn() -> Timestamp,
}

impl fmt::Debug for Audit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Audit")
    }
}

impl Keyring {
    /// Sends audit events to `sink`, stamped by `clock`. Replaces any
    /// previous sink.
    pub fn set_audit(&mut self, sink: Box<dyn AuditSink>, clock: fn() -> Timestamp) {
        self.audit = Some(Audit { sink, clock });
    }

    /// Stops sending audit events.
    pub fn clear_audit(&mut self) {
        self.audit = None;
    }

    /// Emits one event (no-op without a sink). `key` is the id and version
    /// involved, when known; the name is looked up from the id.
    pub(crate) fn emit(
        &self,
        action: AuditAction,
        object: AuditObject,
        key: Option<(KeyId, Option<u32>)>,
        error: Option<&Error>,
    ) {
        let Some(audit) = &self.audit else { return };
        let key_id = key.map(|(id, _)| id).filter(|id| id.as_u32() != 0);
        let event = AuditEvent {
            time: (audit.clock)(),
            action,
            object,
            key_name: key_id.and_then(|id| self.key_name(id).ok()),
            key_id,
            version: key.and_then(|(_, v)| v),
            error: error.map(error_kind),
        };
        audit.sink.record(&event);
    }

    /// Emits the event for `result` and passes it on.
    pub(crate) fn audited<T>(
        &self,
        action: AuditAction,
        object: AuditObject,
        key: Option<(KeyId, Option<u32>)>,
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
        key: impl FnOnce() -> Option<(KeyId, Option<u32>)>,
        result: crate::Result<T>,
    ) -> crate::Result<T> {
        if self.audit.is_some() {
            self.emit(action, object, key(), result.as_ref().err());
        }
        result
    }
}

#[cfg(all(feature = "std", unix))]
mod jsonl {
    use alloc::string::String;
    use std::fs::{File, OpenOptions};
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    use std::path::Path;
    use std::sync::Mutex;

    use super::{AuditEvent, AuditSink};

    /// Appends audit events to a file as JSON lines (created with mode
    /// 0600). Write errors are counted, not raised: see
    /// [`JsonLinesSink::write_errors`].
    #[derive(Debug)]
    pub struct JsonLinesSink {
        file: Mutex<File>,
        errors: core::sync::atomic::AtomicU64,
    }

    impl JsonLinesSink {
        /// Opens (or creates) the log for appending.
        ///
        /// # Errors
        /// The OS error.
        pub fn open(path: &Path) -> std::io::Result<Self> {
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o600)
                .open(path)?;
            Ok(Self {
                file: Mutex::new(file),
                errors: core::sync::atomic::AtomicU64::new(0),
            })
        }

        /// How many events could not be written.
        pub fn write_errors(&self) -> u64 {
            self.errors.load(core::sync::atomic::Ordering::Relaxed)
        }
    }

    /// One event as a JSON object. Every string in it is a key name
    /// (restricted ASCII) or a fixed identifier, so no escaping is needed
    /// beyond what `{:?}` of an ASCII string gives.
    pub(crate) fn to_json(e: &AuditEvent<'_>) -> String {
        use core::fmt::Write as _;
        let mut s = String::with_capacity(160);
        let _ = write!(
            s,
            "{{\"time\":{},\"action\":\"{}\",\"object\":\"{}\"",
            e.time.as_unix_seconds(),
            e.action.name(),
            e.object.name()
        );
        if let Some(name) = e.key_name {
            let _ = write!(s, ",\"key\":{name:?}");
        }
        if let Some(id) = e.key_id {
            let _ = write!(s, ",\"key_id\":\"{id}\"");
        }
        if let Some(v) = e.version {
            let _ = write!(s, ",\"version\":{v}");
        }
        let _ = write!(
            s,
            ",\"outcome\":\"{}\"",
            if e.succeeded() { "success" } else { "failure" }
        );
        if let Some(kind) = e.error {
            let _ = write!(s, ",\"error\":\"{kind}\"");
        }
        s.push('}');
        s
    }

    impl AuditSink for JsonLinesSink {
        fn record(&self, event: &AuditEvent<'_>) {
            let mut line = to_json(event);
            line.push('\n');
            let ok = self
                .file
                .lock()
                .map(|mut f| f.write_all(line.as_bytes()).is_ok())
                .unwrap_or(false);
            if !ok {
                self.errors
                    .fetch_add(1, core::sync::atomic::Ordering::Relaxed);
            }
        }
    }
}

#[cfg(all(feature = "std", unix))]
pub use jsonl::JsonLinesSink;
