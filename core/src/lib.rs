// The README's examples use the OS RNG: they are the crate docs with `std`.
#![cfg_attr(feature = "std", doc = include_str!("../../README.md"))]
#![cfg_attr(
    not(feature = "std"),
    doc = "strongroom: embedded secrets encryption (no_std build; see the README)."
)]
#![no_std]
#![deny(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
// Lets the unit tests share tests/common with the integration tests.
#[cfg(test)]
extern crate self as strongroom;
#[cfg(any(feature = "std", test))]
extern crate std;

mod aead;
pub mod audit;
pub mod blind_index;
pub mod context;
mod ct;
pub mod datakey;
pub mod derived;
#[cfg(all(feature = "std", unix))]
mod disk;
pub mod envelope;
pub mod error;
#[cfg(all(feature = "std", unix))]
pub mod fast_rng;
#[cfg(all(feature = "std", unix))]
pub mod file;
#[cfg(fuzzing)]
pub mod fuzzing;
mod kdf;
mod key_id;
pub mod keyring;
pub mod keyring_file;
#[cfg(all(feature = "pkcs11", unix))]
pub mod pkcs11;
mod random;
pub mod record;
pub mod root;
pub mod secret;
#[cfg(all(feature = "std", unix))]
pub mod secure_memory;
#[cfg(all(feature = "std", unix))]
mod shared;
#[cfg(all(feature = "std", unix))]
pub mod store;
#[cfg(test)]
mod test_vectors;
pub mod time;
#[cfg(feature = "vault")]
pub mod vault;

pub use blind_index::{BlindIndex, IndexValue, Transform};
pub use context::EncryptionContext;
pub use datakey::DataKey;
pub use derived::DerivedKey;
pub use error::ErrorKind;
pub use error::{Error, Result};
pub use key_id::{KeyId, KeyVersion};
pub use keyring::{KeyImport, KeyInfo, Keyring, VersionImport, VersionInfo, VersionState};
pub use record::{RecordHeader, inspect_record};
pub use secret::{KEY_LEN, KeyMaterial, SecretBytes};
#[cfg(all(feature = "std", unix))]
pub use shared::SharedKeyring;
pub use time::Timestamp;

/// `secrecy`, whose `ExposeSecret` the secret types implement and whose
/// `SecretString`/`SecretBox` the passphrase root and key material accept
/// (re-exported so callers use the same version as the core).
pub use secrecy;

/// The RNG traits callers implement or pass (re-exported so callers use
/// the same `rand_core` version as the core).
pub use rand_core;

#[cfg(all(feature = "std", unix))]
pub use fast_rng::FastRng;
/// The operating system's CSPRNG (`getrandom`), for the `*_with` methods.
#[cfg(feature = "std")]
pub use getrandom::SysRng;
