//! `strongroom_result`: the one mapping from the core's error kinds to C
//! result codes (`shared/STYLE.md`, rules 1 and 17).

use alloc::ffi::CString;
use core::ffi::c_char;

use strongroom::ErrorKind;
use strongroom::store::StoreError;

/// The result of every fallible function. 0 is success; 1-199 are the
/// core's error kinds with their stable numbers (`docs/ERRORS.md`); 200-299
/// are this layer's own. Numbers are never changed or reused.
/// `strongroom_result_name` and `strongroom_result_message` describe each.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum strongroom_result {
    /// Success.
    Ok = 0,
    /// Ciphertext altered, wrong key or context, truncated body (one result
    /// for all of them, by design).
    AuthenticationFailed = 1,
    /// No key with that name.
    UnknownKeyName = 2,
    /// No key with the id a header names.
    UnknownKeyId = 3,
    /// The key has no such version.
    UnknownKeyVersion = 4,
    /// The version is disabled.
    VersionDisabled = 5,
    /// The version was destroyed.
    VersionDestroyed = 6,
    /// Below the key's minimum decryption version.
    VersionBelowMinimum = 7,
    /// The primary version cannot be disabled or destroyed.
    PrimaryVersion = 8,
    /// The key name or id is taken.
    KeyExists = 9,
    /// Not a well-formed strongroom object.
    Malformed = 10,
    /// Unknown format version.
    UnsupportedFormat = 11,
    /// A length or count past a documented bound.
    TooLarge = 12,
    /// An argument was rejected (a bad key name, a context key, ...).
    InvalidArgument = 13,
    /// The caller's output buffer is too small (see the size functions).
    BufferTooSmall = 14,
    /// The operating system's random number generator failed.
    RandomnessUnavailable = 15,
    /// An external root (PKCS#11, a callback provider) failed.
    KeyProvider = 16,
    /// Key pages could not be locked, and that was required.
    MemoryNotLocked = 17,
    /// A file operation failed.
    Io = 100,
    /// The keyring file does not exist.
    NotFound = 101,
    /// The keyring file exists already.
    AlreadyExists = 102,
    /// A secret file (key file, passphrase file) is readable by others, a
    /// symbolic link, not a regular file, or owned by another user.
    InsecurePermissions = 103,
    /// Another process holds the keyring's lock.
    Locked = 104,
    /// The keyring file is older than one already recorded for it.
    Rollback = 105,
    /// A required pointer was NULL (or NULL with a non-zero length).
    NullPointer = 200,
    /// A panic was caught at the boundary (a bug: please report it).
    Panic = 201,
    /// A handle that is not live, or not of the kind the function takes.
    InvalidHandle = 202,
    /// A string argument is not UTF-8.
    InvalidUtf8 = 203,
    /// An output buffer overlaps an input buffer.
    BufferOverlap = 204,
    /// A length no buffer can have (above `PTRDIFF_MAX`).
    InvalidLength = 205,
    /// An error kind this build of the library does not know (never
    /// expected: the core and this layer are built together).
    UnknownError = 206,
}

impl strongroom_result {
    /// Every result, in number order.
    pub const ALL: &'static [Self] = &[
        Self::Ok,
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
        Self::NullPointer,
        Self::Panic,
        Self::InvalidHandle,
        Self::InvalidUtf8,
        Self::BufferOverlap,
        Self::InvalidLength,
        Self::UnknownError,
    ];

    /// The result for a core error kind: the same number.
    pub fn from_kind(kind: ErrorKind) -> Self {
        Self::ALL
            .iter()
            .copied()
            .find(|r| *r as u32 == u32::from(kind.code()))
            .unwrap_or(Self::UnknownError)
    }

    /// The result's stable `snake_case` name.
    pub fn name(self) -> &'static str {
        match ErrorKind::from_code(self as u16) {
            Some(kind) => kind.name(),
            None => match self {
                Self::Ok => "ok",
                Self::NullPointer => "null_pointer",
                Self::Panic => "panic",
                Self::InvalidHandle => "invalid_handle",
                Self::InvalidUtf8 => "invalid_utf8",
                Self::BufferOverlap => "buffer_overlap",
                Self::InvalidLength => "invalid_length",
                _ => "unknown_error",
            },
        }
    }

    /// A one-line description, NUL-terminated, static.
    fn message(self) -> &'static str {
        match self {
            Self::Ok => "success\0",
            Self::AuthenticationFailed => {
                "authentication failed: the data was altered, or the key or context is wrong\0"
            }
            Self::UnknownKeyName => "no key with that name\0",
            Self::UnknownKeyId => "no key with the id the header names\0",
            Self::UnknownKeyVersion => "the key has no such version\0",
            Self::VersionDisabled => "the key version is disabled\0",
            Self::VersionDestroyed => "the key version was destroyed\0",
            Self::VersionBelowMinimum => {
                "the key version is below the minimum decryption version\0"
            }
            Self::PrimaryVersion => "the primary version cannot be disabled or destroyed\0",
            Self::KeyExists => "a key with that name or id exists already\0",
            Self::Malformed => "not a well-formed strongroom object\0",
            Self::UnsupportedFormat => "unsupported format version\0",
            Self::TooLarge => "a length or count is past its documented bound\0",
            Self::InvalidArgument => "an argument was rejected\0",
            Self::BufferTooSmall => "the output buffer is too small\0",
            Self::RandomnessUnavailable => "the operating system's random generator failed\0",
            Self::KeyProvider => "the key provider (PKCS#11, callbacks) failed\0",
            Self::MemoryNotLocked => "key memory could not be locked, and that was required\0",
            Self::Io => "a file operation failed\0",
            Self::NotFound => "the keyring file does not exist\0",
            Self::AlreadyExists => "the keyring file exists already\0",
            Self::InsecurePermissions => {
                "a secret file is accessible by others, a symbolic link, or owned by another user (chmod 600)\0"
            }
            Self::Locked => "another process holds the keyring's lock\0",
            Self::Rollback => {
                "the keyring file is older than one already recorded for it (a restored copy)\0"
            }
            Self::NullPointer => "a required pointer was NULL\0",
            Self::Panic => "internal error: a panic was caught at the C boundary\0",
            Self::InvalidHandle => "not a live handle of the expected kind\0",
            Self::InvalidUtf8 => "a string argument is not UTF-8\0",
            Self::BufferOverlap => "an output buffer overlaps an input buffer\0",
            Self::InvalidLength => "a length is larger than any buffer can be\0",
            Self::UnknownError => "an error this build does not know\0",
        }
    }
}

impl From<strongroom::Error> for strongroom_result {
    fn from(e: strongroom::Error) -> Self {
        Self::from_kind(e.kind())
    }
}

impl From<StoreError> for strongroom_result {
    fn from(e: StoreError) -> Self {
        Self::from_kind(e.kind())
    }
}

/// A static, NUL-terminated description of `result` (never free it); an
/// unknown number gives "unknown result code".
#[unsafe(no_mangle)]
pub extern "C" fn strongroom_result_message(result: u32) -> *const c_char {
    let text = strongroom_result::ALL
        .iter()
        .find(|r| **r as u32 == result)
        .map_or("unknown result code\0", |r| r.message());
    text.as_ptr().cast()
}

/// The stable `snake_case` name of `result` (`"authentication_failed"`,
/// the names of `docs/ERRORS.md`), static and NUL-terminated; an unknown
/// number gives `"unknown"`.
#[unsafe(no_mangle)]
pub extern "C" fn strongroom_result_name(result: u32) -> *const c_char {
    static NAMES: std::sync::OnceLock<Vec<(u32, CString)>> = std::sync::OnceLock::new();
    let names = NAMES.get_or_init(|| {
        strongroom_result::ALL
            .iter()
            .filter_map(|r| CString::new(r.name()).ok().map(|c| (*r as u32, c)))
            .collect()
    });
    names
        .iter()
        .find(|(code, _)| *code == result)
        .map_or(c"unknown".as_ptr(), |(_, name)| name.as_ptr())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_core_kind_keeps_its_number_and_name() {
        for kind in ErrorKind::ALL {
            let r = strongroom_result::from_kind(*kind);
            assert_ne!(r, strongroom_result::UnknownError, "{kind:?} unmapped");
            assert_eq!(r as u32, u32::from(kind.code()));
            assert_eq!(r.name(), kind.name());
        }
        // This layer's own numbers are frozen too.
        let own: Vec<(u32, &str)> = strongroom_result::ALL
            .iter()
            .filter(|r| **r as u32 >= 200)
            .map(|r| (*r as u32, r.name()))
            .collect();
        assert_eq!(
            own,
            [
                (200, "null_pointer"),
                (201, "panic"),
                (202, "invalid_handle"),
                (203, "invalid_utf8"),
                (204, "buffer_overlap"),
                (205, "invalid_length"),
                (206, "unknown_error"),
            ]
        );
        // Every result has a message ending in one NUL.
        for r in strongroom_result::ALL {
            let m = r.message();
            assert!(m.ends_with('\0') && m.matches('\0').count() == 1, "{r:?}");
        }
    }
}
