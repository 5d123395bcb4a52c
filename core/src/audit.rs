//! Audit events: who used which key, when, and how it went. Never secret
//! data, never plaintext: an event carries only names, ids, versions, an
//! action, an outcome, a public error kind and a time.
//!
//! Attach a sink with [`Keyring::set_audit`](crate::Keyring::set_audit); every lifecycle operation and
//! every encrypt, decrypt (success or failure) and rewrap through that
//! keyring then emits exactly one event. With `std`,
//! [`JsonLinesSink`] appends events to a file, one JSON object per line.

use alloc::boxed::Box;
#[cfg(all(feature = "std", unix))]
use alloc::string::String;
use alloc::sync::Arc;
#[cfg(all(feature = "std", unix))]
use alloc::vec::Vec;
use core::fmt;

use crate::error::ErrorKind;
use crate::key_id::KeyId;
use crate::time::Timestamp;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[repr(u8)]
pub enum AuditAction {
    /// A key was created.
    KeyCreated = 1,
    /// A key was imported (from a backup or with known material).
    KeyImported = 2,
    /// A key got a new primary version.
    KeyRotated = 3,
    /// A version was enabled.
    VersionEnabled = 4,
    /// A version was disabled.
    VersionDisabled = 5,
    /// A version was destroyed.
    VersionDestroyed = 6,
    /// The minimum decryption version changed.
    MinDecryptionVersionChanged = 7,
    /// The rotation period changed.
    RotationPeriodChanged = 8,
    /// Data was encrypted (or a data key wrapped).
    Encrypt = 9,
    /// Data was decrypted (or a data key unwrapped); see the outcome.
    Decrypt = 10,
    /// Ciphertext moved to the primary version.
    Rewrap = 11,
    /// A key was derived from a version.
    Derive = 12,
    /// A key's material left the keyring in a backup
    /// ([`Keyring::export_key_with`](crate::Keyring::export_key_with)).
    KeyExported = 13,
    /// A keyring file was sealed again under another root.
    RootChanged = 14,
    /// A keyring file was read and opened (or failed to open).
    KeyringOpened = 15,
    /// A root was retired after a root change: a PKCS#11 token key
    /// destroyed, or a passphrase or key file handed to the operator to
    /// destroy.
    RootRetired = 16,
    /// A keyring file older than the newest one seen was accepted on
    /// purpose (a deliberate restore) and became the newest.
    RestoreAccepted = 17,
}

impl AuditAction {
    /// Every action, in number order.
    pub const ALL: &'static [AuditAction] = &[
        Self::KeyCreated,
        Self::KeyImported,
        Self::KeyRotated,
        Self::VersionEnabled,
        Self::VersionDisabled,
        Self::VersionDestroyed,
        Self::MinDecryptionVersionChanged,
        Self::RotationPeriodChanged,
        Self::Encrypt,
        Self::Decrypt,
        Self::Rewrap,
        Self::Derive,
        Self::KeyExported,
        Self::RootChanged,
        Self::KeyringOpened,
        Self::RootRetired,
        Self::RestoreAccepted,
    ];

    /// The stable number (never reused; see `docs/AUDIT.md`).
    pub const fn code(self) -> u8 {
        self as u8
    }

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
            Self::KeyExported => "key_exported",
            Self::RootChanged => "root_changed",
            Self::KeyringOpened => "keyring_opened",
            Self::RootRetired => "root_retired",
            Self::RestoreAccepted => "restore_accepted",
        }
    }
}

/// What kind of object the action touched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[repr(u8)]
pub enum AuditObject {
    /// The key itself (lifecycle actions).
    Key = 1,
    /// A record.
    Record = 2,
    /// An envelope.
    Envelope = 3,
    /// A wrapped data key.
    DataKey = 4,
    /// A whole keyring (file opens, root changes).
    Keyring = 5,
    /// A blind index value (FORMAT.md 13), computed from a key version.
    BlindIndex = 6,
}

impl AuditObject {
    /// Every object kind, in number order.
    pub const ALL: &'static [AuditObject] = &[
        Self::Key,
        Self::Record,
        Self::Envelope,
        Self::DataKey,
        Self::Keyring,
        Self::BlindIndex,
    ];

    /// The stable number (never reused; see `docs/AUDIT.md`).
    pub const fn code(self) -> u8 {
        self as u8
    }

    /// The object's name in logs.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Key => "key",
            Self::Record => "record",
            Self::Envelope => "envelope",
            Self::DataKey => "data_key",
            Self::Keyring => "keyring",
            Self::BlindIndex => "blind_index",
        }
    }
}

/// One audit event.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuditEvent<'a> {
    /// When (from the [`AuditContext`]'s clock).
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
    /// [`ErrorKind::AuthenticationFailed`], logged as its name).
    pub error: Option<ErrorKind>,
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

/// A sink and the clock that stamps its events.
///
/// Attach one to a keyring ([`Keyring::set_audit`](crate::Keyring::set_audit))
/// or to a keyring store, which attaches it to every keyring it loads, so
/// that the sink survives reloads. Streams opened from a keyring keep an
/// `Arc` to it and log through it after the keyring is gone.
///
/// Shared (`Send + Sync`): one context serves every thread.
pub struct AuditContext {
    sink: Arc<dyn AuditSink>,
    clock: Box<dyn Fn() -> Timestamp + Send + Sync>,
}

impl fmt::Debug for AuditContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuditContext")
    }
}

impl AuditContext {
    /// Events go to `sink`, stamped by `clock` (no_std: the caller's clock).
    pub fn new(
        sink: Arc<dyn AuditSink>,
        clock: impl Fn() -> Timestamp + Send + Sync + 'static,
    ) -> Arc<Self> {
        Arc::new(Self {
            sink,
            clock: Box::new(clock),
        })
    }

    /// Events go to `sink`, stamped by the system clock.
    #[cfg(feature = "std")]
    pub fn with_system_clock(sink: Arc<dyn AuditSink>) -> Arc<Self> {
        Self::new(sink, Timestamp::now)
    }

    /// The current time by this context's clock.
    pub fn now(&self) -> Timestamp {
        (self.clock)()
    }

    /// Sends one event to the sink.
    pub fn record(&self, event: &AuditEvent<'_>) {
        self.sink.record(event);
    }

    /// Builds and sends one event stamped now.
    pub(crate) fn emit(
        &self,
        action: AuditAction,
        object: AuditObject,
        key_name: Option<&str>,
        key: Option<KeyVersionRef>,
        error: Option<ErrorKind>,
    ) {
        let key_id = key.map(|(id, _)| id).filter(|id| id.as_u32() != 0);
        self.record(&AuditEvent {
            time: self.now(),
            action,
            object,
            key_name: key_id.and(key_name),
            key_id,
            version: key.and_then(|(_, v)| v),
            error,
        });
    }
}

/// A key id and, when known, a version: what an event names.
pub(crate) type KeyVersionRef = (KeyId, Option<u32>);

/// An event with owned fields, held back until the change it reports is
/// saved (see the keyring store).
#[cfg(all(feature = "std", unix))]
#[derive(Debug, Clone)]
pub(crate) struct HeldEvent {
    time: Timestamp,
    action: AuditAction,
    object: AuditObject,
    key_name: Option<String>,
    key_id: Option<KeyId>,
    version: Option<u32>,
    error: Option<ErrorKind>,
}

#[cfg(all(feature = "std", unix))]
impl HeldEvent {
    /// The event, with `failure` as its outcome if it succeeded but what it
    /// reports was then not saved.
    pub(crate) fn replay(&self, to: &AuditContext, failure: Option<ErrorKind>) {
        to.record(&AuditEvent {
            time: self.time,
            action: self.action,
            object: self.object,
            key_name: self.key_name.as_deref(),
            key_id: self.key_id,
            version: self.version,
            error: self.error.or(failure),
        });
    }
}

/// A sink that holds events in memory, in order (for deferring them).
#[cfg(all(feature = "std", unix))]
#[derive(Debug, Default)]
pub(crate) struct HoldingSink {
    events: std::sync::Mutex<Vec<HeldEvent>>,
}

#[cfg(all(feature = "std", unix))]
impl HoldingSink {
    /// The events held so far, in order.
    pub(crate) fn take(&self) -> Vec<HeldEvent> {
        let mut events = self
            .events
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        core::mem::take(&mut *events)
    }
}

#[cfg(all(feature = "std", unix))]
impl AuditSink for HoldingSink {
    fn record(&self, e: &AuditEvent<'_>) {
        let held = HeldEvent {
            time: e.time,
            action: e.action,
            object: e.object,
            key_name: e.key_name.map(String::from),
            key_id: e.key_id,
            version: e.version,
            error: e.error,
        };
        self.events
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(held);
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
        /// Members added to every event (`,"k":"v"...`), already encoded.
        extra: String,
    }

    /// `s` as a JSON string literal: quotes, backslashes and control
    /// characters escaped, so a path or a user name from anywhere cannot
    /// break the line's JSON.
    fn json_string(s: &str) -> String {
        use core::fmt::Write as _;
        let mut out = String::with_capacity(s.len() + 2);
        out.push('"');
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c if (c as u32) < 0x20 || c == '\u{7f}' => {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                }
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }

    impl JsonLinesSink {
        /// Opens (or creates) the log for appending.
        ///
        /// # Errors
        /// The OS error.
        pub fn open(path: &Path) -> std::io::Result<Self> {
            // O_NOFOLLOW: a symbolic link planted at the log's path must not
            // send events (or the append) somewhere else.
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW)
                .open(path)?;
            Ok(Self {
                file: Mutex::new(file),
                errors: core::sync::atomic::AtomicU64::new(0),
                extra: String::new(),
            })
        }

        /// Adds `"key": "value"` to every event this sink writes (who ran
        /// the command, say). `key` should not be one of the event's own
        /// names (`docs/AUDIT.md`); the value is escaped.
        #[must_use]
        pub fn with_string(mut self, key: &str, value: &str) -> Self {
            self.extra.push(',');
            self.extra.push_str(&json_string(key));
            self.extra.push(':');
            self.extra.push_str(&json_string(value));
            self
        }

        /// Adds `"key": ["value", ...]` to every event this sink writes
        /// (the files a command worked on, say).
        #[must_use]
        pub fn with_strings(mut self, key: &str, values: &[&str]) -> Self {
            self.extra.push(',');
            self.extra.push_str(&json_string(key));
            self.extra.push_str(":[");
            for (i, v) in values.iter().enumerate() {
                if i > 0 {
                    self.extra.push(',');
                }
                self.extra.push_str(&json_string(v));
            }
            self.extra.push(']');
            self
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
            if !self.extra.is_empty() {
                line.pop();
                line.push_str(&self.extra);
                line.push('}');
            }
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
