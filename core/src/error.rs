//! The core's one error type.
//!
//! Every authentication failure (bad tag, wrong key material, wrong
//! encryption context, a truncated or spliced body) is the single opaque
//! [`Error::AuthenticationFailed`]. The other variants describe only public
//! facts: what a header says, what the caller asked for, what the keyring's
//! metadata holds. No variant ever carries secret bytes or plaintext.

use alloc::string::String;
use core::fmt;

use crate::keyring::KeyId;

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

impl core::error::Error for Error {}

/// Shorthand for results with the core's [`Error`].
pub type Result<T> = core::result::Result<T, Error>;
