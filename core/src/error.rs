//! The core's one error type.
//!
//! Every authentication failure (bad tag, wrong key material, wrong
//! encryption context, a truncated or spliced body) is the single opaque
//! [`Error::AuthenticationFailed`]. The other variants describe only public
//! facts: what a header says, what the caller asked for, what the keyring's
//! metadata holds. No variant ever carries secret bytes or plaintext.
//!
//! [`ErrorKind`] is the one numbered table of error kinds: audit events,
//! golden vectors, the command line's exit codes, the C result codes and the
//! Python exception classes all come from it. Its numbers and names are
//! frozen by a test: a kind may be added, never renumbered or reused.

use alloc::string::String;
use core::fmt;

use crate::key_id::KeyId;

/// Errors returned by the strongroom core.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The ciphertext did not authenticate: it was altered, truncated, or is
    /// being opened with the wrong key material or encryption context.
    /// Deliberately says nothing more.
    AuthenticationFailed,
    /// No key in the keyring has this name.
    UnknownKeyName {
        /// The name that was asked for (names are not secret).
        name: String,
    },
    /// No key in the keyring has this key id (taken from a ciphertext header).
    UnknownKeyId {
        /// The key id named by the header.
        key_id: KeyId,
    },
    /// The key exists but has no such version.
    UnknownKeyVersion {
        /// The key id.
        key_id: KeyId,
        /// The version asked for.
        version: u32,
    },
    /// The key version exists but is disabled; enabling it makes its data
    /// decryptable again.
    VersionDisabled {
        /// The key id.
        key_id: KeyId,
        /// The disabled version.
        version: u32,
    },
    /// The key version was destroyed: its material is gone and everything
    /// encrypted under it is unrecoverable.
    VersionDestroyed {
        /// The key id.
        key_id: KeyId,
        /// The destroyed version.
        version: u32,
    },
    /// The key version is below the key's minimum decryption version.
    VersionBelowMinimum {
        /// The key id.
        key_id: KeyId,
        /// The version named by the ciphertext.
        version: u32,
        /// The key's minimum decryption version.
        minimum: u32,
    },
    /// The primary version cannot be disabled or destroyed; rotate first.
    PrimaryVersion {
        /// The key id.
        key_id: KeyId,
        /// The primary version.
        version: u32,
    },
    /// A key with this name already exists.
    KeyExists {
        /// The name.
        name: String,
    },
    /// The input is not a well-formed strongroom object of the expected kind.
    Malformed {
        /// What was wrong, in public terms.
        reason: &'static str,
    },
    /// The input names a format version this build does not know.
    UnsupportedFormat {
        /// The format byte found.
        version: u8,
    },
    /// A length or count exceeds a documented bound.
    TooLarge {
        /// What was too large.
        what: &'static str,
        /// The bound.
        max: usize,
    },
    /// An argument was rejected (bad key name, invalid context, a version
    /// number out of range, ...).
    InvalidArgument {
        /// What was wrong.
        reason: &'static str,
    },
    /// The caller's output buffer is too small.
    BufferTooSmall {
        /// How many bytes are needed.
        needed: usize,
    },
    /// The random number generator failed (or returned an all-zero block,
    /// which is treated as a failure). Nothing was encrypted.
    RandomnessUnavailable,
    /// An external key provider (PKCS#11, a KMS) failed; the message names
    /// what (never a PIN or key).
    KeyProvider {
        /// What failed.
        message: String,
    },
    /// Key pages could not be locked in RAM or excluded from core dumps,
    /// and the caller required it.
    MemoryNotLocked {
        /// Whether every key page is locked.
        locked: bool,
        /// Whether every key page is excluded from core dumps.
        excluded_from_core_dumps: bool,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AuthenticationFailed => f.write_str("authentication failed"),
            Self::UnknownKeyName { name } => write!(f, "no key named {name:?} in the keyring"),
            Self::UnknownKeyId { key_id } => write!(f, "no key with id {key_id} in the keyring"),
            Self::UnknownKeyVersion { key_id, version } => {
                write!(f, "key {key_id} has no version {version}")
            }
            Self::VersionDisabled { key_id, version } => {
                write!(f, "key {key_id} version {version} is disabled")
            }
            Self::VersionDestroyed { key_id, version } => write!(
                f,
                "key {key_id} version {version} was destroyed; data under it is unrecoverable"
            ),
            Self::VersionBelowMinimum {
                key_id,
                version,
                minimum,
            } => write!(
                f,
                "key {key_id} version {version} is below the minimum decryption version {minimum}"
            ),
            Self::PrimaryVersion { key_id, version } => write!(
                f,
                "key {key_id} version {version} is the primary version; rotate before disabling or destroying it"
            ),
            Self::KeyExists { name } => write!(f, "a key named {name:?} already exists"),
            Self::Malformed { reason } => write!(f, "malformed input: {reason}"),
            Self::UnsupportedFormat { version } => {
                write!(f, "unsupported format version 0x{version:02x}")
            }
            Self::TooLarge { what, max } => write!(f, "{what} exceeds the limit of {max}"),
            Self::InvalidArgument { reason } => write!(f, "invalid argument: {reason}"),
            Self::BufferTooSmall { needed } => {
                write!(f, "output buffer too small: {needed} bytes needed")
            }
            Self::RandomnessUnavailable => f.write_str("the random number generator failed"),
            Self::KeyProvider { message } => write!(f, "key provider: {message}"),
            Self::MemoryNotLocked {
                locked,
                excluded_from_core_dumps,
            } => write!(
                f,
                "key memory is not protected as required (locked in RAM: {locked}, excluded from core dumps: {excluded_from_core_dumps}); \
                 raise RLIMIT_MEMLOCK (ulimit -l) or grant CAP_IPC_LOCK"
            ),
        }
    }
}

/// The public kind of an error, with a stable number and a stable
/// `snake_case` name.
///
/// Numbers are explicit and never reused: a kind that is retired keeps its
/// number reserved. Ranges: 1-99 the core's [`Error`]; 100-199 the keyring
/// files of the `store` module (`StoreError` with `std`); 200-299 reserved
/// for the bindings' own conditions (a null pointer, a panic caught at the
/// C boundary, ...). 0 is never a kind: the bindings use it for success.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
#[repr(u16)]
pub enum ErrorKind {
    /// [`Error::AuthenticationFailed`].
    AuthenticationFailed = 1,
    /// [`Error::UnknownKeyName`].
    UnknownKeyName = 2,
    /// [`Error::UnknownKeyId`].
    UnknownKeyId = 3,
    /// [`Error::UnknownKeyVersion`].
    UnknownKeyVersion = 4,
    /// [`Error::VersionDisabled`].
    VersionDisabled = 5,
    /// [`Error::VersionDestroyed`].
    VersionDestroyed = 6,
    /// [`Error::VersionBelowMinimum`].
    VersionBelowMinimum = 7,
    /// [`Error::PrimaryVersion`].
    PrimaryVersion = 8,
    /// [`Error::KeyExists`].
    KeyExists = 9,
    /// [`Error::Malformed`].
    Malformed = 10,
    /// [`Error::UnsupportedFormat`].
    UnsupportedFormat = 11,
    /// [`Error::TooLarge`].
    TooLarge = 12,
    /// [`Error::InvalidArgument`].
    InvalidArgument = 13,
    /// [`Error::BufferTooSmall`].
    BufferTooSmall = 14,
    /// [`Error::RandomnessUnavailable`].
    RandomnessUnavailable = 15,
    /// [`Error::KeyProvider`].
    KeyProvider = 16,
    /// [`Error::MemoryNotLocked`].
    MemoryNotLocked = 17,
    /// A file operation failed (the OS error is in the message).
    Io = 100,
    /// The keyring file does not exist.
    NotFound = 101,
    /// The keyring file exists already.
    AlreadyExists = 102,
    /// A secret file is readable or writable by group or others.
    InsecurePermissions = 103,
    /// Another process holds the keyring's lock.
    Locked = 104,
    /// The keyring file is older than one already seen for it (a restored
    /// backup or a rolled-back copy), or a different keyring than the one
    /// recorded for its path.
    Rollback = 105,
}

impl ErrorKind {
    /// Every kind, in number order.
    pub const ALL: &'static [ErrorKind] = &[
        Self::AuthenticationFailed,
        Self::UnknownKeyName,
        Self::UnknownKeyId,
        Self::UnknownKeyVersion,
        Self::VersionDisabled,
        Self::VersionDestroyed,
        Self::VersionBelowMinimum,
        Self::PrimaryVersion,
        Self::KeyExists,
        Self::Malformed,
        Self::UnsupportedFormat,
        Self::TooLarge,
        Self::InvalidArgument,
        Self::BufferTooSmall,
        Self::RandomnessUnavailable,
        Self::KeyProvider,
        Self::MemoryNotLocked,
        Self::Io,
        Self::NotFound,
        Self::AlreadyExists,
        Self::InsecurePermissions,
        Self::Locked,
        Self::Rollback,
    ];

    /// The stable number.
    pub const fn code(self) -> u16 {
        self as u16
    }

    /// The kind with this number, if there is one.
    pub fn from_code(code: u16) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.code() == code)
    }

    /// The stable `snake_case` name (audit logs, golden vectors).
    pub const fn name(self) -> &'static str {
        match self {
            Self::AuthenticationFailed => "authentication_failed",
            Self::UnknownKeyName => "unknown_key_name",
            Self::UnknownKeyId => "unknown_key_id",
            Self::UnknownKeyVersion => "unknown_key_version",
            Self::VersionDisabled => "version_disabled",
            Self::VersionDestroyed => "version_destroyed",
            Self::VersionBelowMinimum => "version_below_minimum",
            Self::PrimaryVersion => "primary_version",
            Self::KeyExists => "key_exists",
            Self::Malformed => "malformed",
            Self::UnsupportedFormat => "unsupported_format",
            Self::TooLarge => "too_large",
            Self::InvalidArgument => "invalid_argument",
            Self::BufferTooSmall => "buffer_too_small",
            Self::RandomnessUnavailable => "randomness_unavailable",
            Self::KeyProvider => "key_provider",
            Self::MemoryNotLocked => "memory_not_locked",
            Self::Io => "io",
            Self::NotFound => "not_found",
            Self::AlreadyExists => "already_exists",
            Self::InsecurePermissions => "insecure_permissions",
            Self::Locked => "locked",
            Self::Rollback => "rollback",
        }
    }

    /// The kind with this name, if there is one.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.name() == name)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Error {
    /// This error's public kind.
    pub const fn kind(&self) -> ErrorKind {
        match self {
            Self::AuthenticationFailed => ErrorKind::AuthenticationFailed,
            Self::UnknownKeyName { .. } => ErrorKind::UnknownKeyName,
            Self::UnknownKeyId { .. } => ErrorKind::UnknownKeyId,
            Self::UnknownKeyVersion { .. } => ErrorKind::UnknownKeyVersion,
            Self::VersionDisabled { .. } => ErrorKind::VersionDisabled,
            Self::VersionDestroyed { .. } => ErrorKind::VersionDestroyed,
            Self::VersionBelowMinimum { .. } => ErrorKind::VersionBelowMinimum,
            Self::PrimaryVersion { .. } => ErrorKind::PrimaryVersion,
            Self::KeyExists { .. } => ErrorKind::KeyExists,
            Self::Malformed { .. } => ErrorKind::Malformed,
            Self::UnsupportedFormat { .. } => ErrorKind::UnsupportedFormat,
            Self::TooLarge { .. } => ErrorKind::TooLarge,
            Self::InvalidArgument { .. } => ErrorKind::InvalidArgument,
            Self::BufferTooSmall { .. } => ErrorKind::BufferTooSmall,
            Self::RandomnessUnavailable => ErrorKind::RandomnessUnavailable,
            Self::KeyProvider { .. } => ErrorKind::KeyProvider,
            Self::MemoryNotLocked { .. } => ErrorKind::MemoryNotLocked,
        }
    }
}

impl core::error::Error for Error {}

/// Shorthand for results with the core's [`Error`].
pub type Result<T> = core::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::ErrorKind;

    /// The frozen table: (number, name). Append new kinds; never change or
    /// reuse a row. The C result codes and Python exceptions depend on it.
    const FROZEN: &[(u16, &str)] = &[
        (1, "authentication_failed"),
        (2, "unknown_key_name"),
        (3, "unknown_key_id"),
        (4, "unknown_key_version"),
        (5, "version_disabled"),
        (6, "version_destroyed"),
        (7, "version_below_minimum"),
        (8, "primary_version"),
        (9, "key_exists"),
        (10, "malformed"),
        (11, "unsupported_format"),
        (12, "too_large"),
        (13, "invalid_argument"),
        (14, "buffer_too_small"),
        (15, "randomness_unavailable"),
        (16, "key_provider"),
        (17, "memory_not_locked"),
        (100, "io"),
        (101, "not_found"),
        (102, "already_exists"),
        (103, "insecure_permissions"),
        (104, "locked"),
        (105, "rollback"),
    ];

    #[test]
    fn error_kind_table_is_frozen() {
        for &(code, name) in FROZEN {
            let kind = ErrorKind::from_code(code).unwrap_or_else(|| panic!("code {code} gone"));
            assert_eq!(kind.name(), name, "code {code} renamed");
            assert_eq!(ErrorKind::from_name(name), Some(kind));
        }
        // Every kind is in the frozen table (a new kind must be added to it),
        // numbers are unique and ascending, none is 0.
        assert_eq!(
            ErrorKind::ALL.len(),
            FROZEN.len(),
            "add new kinds to FROZEN"
        );
        for pair in ErrorKind::ALL.windows(2) {
            assert!(pair[0].code() < pair[1].code());
        }
        assert!(ErrorKind::ALL.iter().all(|k| k.code() != 0));
    }
}
