//! [`KeyId`]: a key's public 32-bit identifier, and [`KeyVersion`]: a key id
//! with one of its versions, as ciphertext headers name them.

use core::fmt;

/// A key's public 32-bit identifier, carried in ciphertext headers.
/// Random, non-zero, unique within a keyring. Displayed as 8 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId(pub(crate) u32);

impl KeyId {
    /// A key id from its numeric value.
    pub const fn from_u32(id: u32) -> Self {
        Self(id)
    }

    /// The numeric value.
    pub const fn as_u32(self) -> u32 {
        self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08x}", self.0)
    }
}

/// One version of one key: what a record, a wrapped data key or an envelope
/// recipient names in its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyVersion {
    /// The key.
    pub key_id: KeyId,
    /// The version, from 1.
    pub version: u32,
}

impl KeyVersion {
    /// Key `key_id`, version `version`.
    pub const fn new(key_id: KeyId, version: u32) -> Self {
        Self { key_id, version }
    }
}

impl fmt::Display for KeyVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} v{}", self.key_id, self.version)
    }
}
