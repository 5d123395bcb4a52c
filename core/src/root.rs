//! **Roots of trust**: what wraps a keyring file's sealing key.
//!
//! Every root sits behind one trait, [`KeyProvider`]: a passphrase
//! (Argon2id, [`PassphraseRoot`]), a key file (32 bytes, for example a
//! mounted secret, [`KeyFileRoot`]), a PKCS#11 token key (the `pkcs11`
//! feature), or any KMS a caller plugs in. With `std` on Unix,
//! [`load_key_file`] and [`create_key_file`] read and make key files with
//! owner-only permissions. The file format the root protects is
//! [`crate::keyring_file`] (FORMAT.md 10).

use alloc::vec::Vec;
use core::fmt;

use crate::aead::{self, Algorithm, TAG_LEN, XNONCE_LEN};
use crate::error::{Error, Result};
pub use crate::kdf::Argon2Params;
use crate::kdf::{self, Prk};
use crate::secret::{KEY_LEN, KeyMaterial, SecretBytes};

/// HKDF info label turning a key file into a wrapping key (FORMAT.md 10.3).
const KEY_FILE_LABEL: &[u8] = b"strongroom/keyring/v1/keyfile";

/// Which kind of root protects a keyring file (the `root_kind` byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RootKind {
    /// A passphrase, stretched with Argon2id.
    Passphrase,
    /// 32 bytes from a key file.
    KeyFile,
    /// A key inside a PKCS#11 token.
    Pkcs11,
    /// Any other provider (a KMS, a C callback, a Python object).
    External,
    /// A key of an OpenBao or Vault transit engine (FORMAT.md 10.3).
    VaultTransit,
}

impl RootKind {
    /// Every kind, in number order.
    pub const ALL: &'static [RootKind] = &[
        Self::Passphrase,
        Self::KeyFile,
        Self::Pkcs11,
        Self::External,
        Self::VaultTransit,
    ];

    /// The `root_kind` byte (FORMAT.md 10.1): the kind's stable number,
    /// never reused.
    pub const fn to_byte(self) -> u8 {
        match self {
            Self::Passphrase => 1,
            Self::KeyFile => 2,
            Self::Pkcs11 => 3,
            Self::External => 4,
            Self::VaultTransit => 5,
        }
    }

    /// The kind for a `root_kind` byte.
    pub const fn from_byte(b: u8) -> Option<Self> {
        match b {
            1 => Some(Self::Passphrase),
            2 => Some(Self::KeyFile),
            3 => Some(Self::Pkcs11),
            4 => Some(Self::External),
            5 => Some(Self::VaultTransit),
            _ => None,
        }
    }

    /// A short name for messages.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Passphrase => "passphrase",
            Self::KeyFile => "key file",
            Self::Pkcs11 => "PKCS#11 key",
            Self::External => "external key provider",
            Self::VaultTransit => "Vault transit key",
        }
    }
}

impl fmt::Display for RootKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A root of trust that wraps and unwraps a keyring's sealing key.
///
/// Implement it to plug in a KMS or an HSM. `params` are public bytes the
/// provider asks to keep in the file header (a salt, a key label); `aad`
/// must be bound to the wrap (the header up to the parameters), so a
/// wrapped key cannot move to another file.
///
/// Providers are `Send + Sync`: a keyring store owns its root and is shared
/// across a service's threads.
pub trait KeyProvider: Send + Sync {
    /// The kind written to the header.
    fn root_kind(&self) -> RootKind;

    /// Public parameters for a new seal, given 16 fresh random bytes.
    ///
    /// # Errors
    /// Provider-specific.
    fn new_params(&self, random: &[u8; 16]) -> Result<Vec<u8>>;

    /// Wraps `key` (the sealing key). `nonce` is 24 fresh random bytes the
    /// provider may use.
    ///
    /// # Errors
    /// Provider-specific.
    fn wrap(
        &self,
        params: &[u8],
        key: &KeyMaterial,
        aad: &[u8],
        nonce: &[u8; 24],
    ) -> Result<Vec<u8>>;

    /// Unwraps the sealing key.
    ///
    /// # Errors
    /// [`Error::AuthenticationFailed`] for a wrong root; provider-specific
    /// errors otherwise.
    fn unwrap(&self, params: &[u8], wrapped: &[u8], aad: &[u8]) -> Result<KeyMaterial>;

    /// The newest generation of keyring `keyring_id` this root has
    /// recorded, for roots that can keep such a record out of reach of the
    /// file system (the PKCS#11 root keeps a data object in its token). The
    /// default keeps none: `Ok(None)`.
    ///
    /// # Errors
    /// Provider-specific.
    fn recorded_generation(&self, keyring_id: &[u8; 16]) -> Result<Option<u64>> {
        let _ = keyring_id;
        Ok(None)
    }

    /// Records that keyring `keyring_id` was saved at `generation` (called
    /// after every save). The default records nothing.
    ///
    /// # Errors
    /// Provider-specific.
    fn record_generation(&self, keyring_id: &[u8; 16], generation: u64) -> Result<()> {
        let _ = (keyring_id, generation);
        Ok(())
    }

    /// Retires this root once the keyring is sealed under another one, so
    /// that earlier copies of the keyring file stop opening. A root that
    /// can destroy its key does so and returns [`Retirement::Destroyed`];
    /// the default (a passphrase, a key file) can't, and returns
    /// [`Retirement::ByOperator`].
    ///
    /// # Errors
    /// Provider-specific.
    fn retire(&self) -> Result<Retirement> {
        Ok(Retirement::ByOperator)
    }
}

/// What retiring a root did ([`KeyProvider::retire`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Retirement {
    /// The root key is destroyed (a PKCS#11 token key): no earlier copy of
    /// the keyring file opens again.
    Destroyed,
    /// The root is a secret the operator holds (a passphrase, a key file):
    /// every earlier copy of the keyring file opens under it until the
    /// operator destroys it and each of its copies.
    ByOperator,
}

/// Wraps with XChaCha20-Poly1305 under `kek`: `nonce || ciphertext || tag`.
fn xchacha_wrap(
    kek: &KeyMaterial,
    key: &KeyMaterial,
    aad: &[u8],
    nonce: &[u8; 24],
) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(XNONCE_LEN + KEY_LEN + TAG_LEN);
    out.extend_from_slice(nonce);
    out.extend_from_slice(key.expose_secret());
    let tag = aead::encrypt_in_place(
        Algorithm::XChaCha20Poly1305,
        kek,
        nonce,
        aad,
        &mut out[XNONCE_LEN..],
    )
    .map_err(|_| Error::AuthenticationFailed)?;
    out.extend_from_slice(&tag);
    Ok(out)
}

fn xchacha_unwrap(kek: &KeyMaterial, wrapped: &[u8], aad: &[u8]) -> Result<KeyMaterial> {
    if wrapped.len() != XNONCE_LEN + KEY_LEN + TAG_LEN {
        return Err(Error::Malformed {
            reason: "wrapped sealing key has the wrong length",
        });
    }
    let (nonce, rest) = wrapped.split_at(XNONCE_LEN);
    let (body, tag) = rest.split_at(KEY_LEN);
    KeyMaterial::try_from_fn(|out| {
        out.copy_from_slice(body);
        aead::decrypt_in_place(Algorithm::XChaCha20Poly1305, kek, nonce, aad, out, tag)
            .map_err(|_| Error::AuthenticationFailed)
    })
}

/// A passphrase root: the wrapping key is Argon2id(passphrase, salt).
pub struct PassphraseRoot {
    passphrase: SecretBytes,
    params: Argon2Params,
}

impl fmt::Debug for PassphraseRoot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PassphraseRoot")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl PassphraseRoot {
    /// A passphrase root with [`Argon2Params::DEFAULT`] for new seals (files
    /// being opened carry their own parameters).
    pub fn new(passphrase: &[u8]) -> Self {
        Self::with_params(passphrase, Argon2Params::DEFAULT)
    }

    /// A passphrase root with explicit Argon2id costs for new seals.
    pub fn with_params(passphrase: &[u8], params: Argon2Params) -> Self {
        Self {
            passphrase: SecretBytes::from_slice(passphrase),
            params,
        }
    }

    /// Parses and bounds-checks the 28-byte parameter block (FORMAT.md 10.3).
    pub(crate) fn parse_params(params: &[u8]) -> Result<(Argon2Params, &[u8])> {
        if params.len() != 28 {
            return Err(Error::Malformed {
                reason: "passphrase parameters have the wrong length",
            });
        }
        let n =
            |i: usize| u32::from_be_bytes([params[i], params[i + 1], params[i + 2], params[i + 3]]);
        let p = Argon2Params {
            m_cost_kib: n(0),
            t_cost: n(4),
            p_cost: n(8),
        };
        if !p.is_within_bounds() {
            return Err(Error::TooLarge {
                what: "Argon2id parameters (max 1 GiB, 16 passes, 16 lanes)",
                max: Argon2Params::MAX_M_COST_KIB as usize,
            });
        }
        Ok((p, &params[12..]))
    }

    fn kek(&self, params: &[u8]) -> Result<KeyMaterial> {
        let (p, salt) = Self::parse_params(params)?;
        KeyMaterial::try_from_fn(|out| {
            kdf::argon2id(p, self.passphrase.expose_secret(), salt, &[], &[], out).map_err(|_| {
                Error::InvalidArgument {
                    reason: "Argon2id rejected its parameters",
                }
            })
        })
    }
}

/// A passphrase root from a `secrecy` string, with the default costs.
impl From<&secrecy::SecretString> for PassphraseRoot {
    fn from(passphrase: &secrecy::SecretString) -> Self {
        use secrecy::ExposeSecret as _;
        Self::new(passphrase.expose_secret().as_bytes())
    }
}

/// A passphrase root from `secrecy` bytes, with the default costs.
impl From<&secrecy::SecretSlice<u8>> for PassphraseRoot {
    fn from(passphrase: &secrecy::SecretSlice<u8>) -> Self {
        use secrecy::ExposeSecret as _;
        Self::new(passphrase.expose_secret())
    }
}

impl KeyProvider for PassphraseRoot {
    fn root_kind(&self) -> RootKind {
        RootKind::Passphrase
    }

    fn new_params(&self, random: &[u8; 16]) -> Result<Vec<u8>> {
        if !self.params.is_within_bounds() {
            return Err(Error::InvalidArgument {
                reason: "Argon2id parameters out of bounds",
            });
        }
        let mut out = Vec::with_capacity(28);
        out.extend_from_slice(&self.params.m_cost_kib.to_be_bytes());
        out.extend_from_slice(&self.params.t_cost.to_be_bytes());
        out.extend_from_slice(&self.params.p_cost.to_be_bytes());
        out.extend_from_slice(random);
        Ok(out)
    }

    fn wrap(
        &self,
        params: &[u8],
        key: &KeyMaterial,
        aad: &[u8],
        nonce: &[u8; 24],
    ) -> Result<Vec<u8>> {
        xchacha_wrap(&self.kek(params)?, key, aad, nonce)
    }

    fn unwrap(&self, params: &[u8], wrapped: &[u8], aad: &[u8]) -> Result<KeyMaterial> {
        if wrapped.len() != XNONCE_LEN + KEY_LEN + TAG_LEN {
            return Err(Error::Malformed {
                reason: "wrapped sealing key has the wrong length",
            });
        }
        xchacha_unwrap(&self.kek(params)?, wrapped, aad)
    }
}

/// A key-file root: 32 secret bytes (for example a mounted Docker or
/// Kubernetes secret); the wrapping key is HKDF of them.
pub struct KeyFileRoot {
    kek: KeyMaterial,
}

impl fmt::Debug for KeyFileRoot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyFileRoot(<redacted>)")
    }
}

impl KeyFileRoot {
    /// A root from the key file's 32 bytes.
    pub fn new(key: &KeyMaterial) -> Self {
        let prk = Prk::extract(&[], key.expose_secret());
        Self {
            kek: prk.expand_key(&[KEY_FILE_LABEL]),
        }
    }

    /// A root from a key file's contents: exactly 32 raw bytes, or 64 hex
    /// digits with an optional trailing newline.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for anything else.
    pub fn from_file_contents(contents: &[u8]) -> Result<Self> {
        let trimmed = contents.strip_suffix(b"\n").unwrap_or(contents);
        let trimmed = trimmed.strip_suffix(b"\r").unwrap_or(trimmed);
        let key = if contents.len() == KEY_LEN {
            KeyMaterial::from_slice(contents)?
        } else if trimmed.len() == 2 * KEY_LEN {
            KeyMaterial::try_from_fn(|out| {
                for (i, pair) in trimmed.chunks(2).enumerate() {
                    let hex = |c: u8| match c {
                        b'0'..=b'9' => Some(c - b'0'),
                        b'a'..=b'f' => Some(c - b'a' + 10),
                        b'A'..=b'F' => Some(c - b'A' + 10),
                        _ => None,
                    };
                    match (hex(pair[0]), hex(pair[1])) {
                        (Some(h), Some(l)) => out[i] = (h << 4) | l,
                        _ => return Err(()),
                    }
                }
                Ok(())
            })
            .map_err(|()| Error::InvalidArgument {
                reason: "key file must hold 32 raw bytes or 64 hex digits",
            })?
        } else {
            return Err(Error::InvalidArgument {
                reason: "key file must hold 32 raw bytes or 64 hex digits",
            });
        };
        Ok(Self::new(&key))
    }
}

impl KeyProvider for KeyFileRoot {
    fn root_kind(&self) -> RootKind {
        RootKind::KeyFile
    }

    fn new_params(&self, _random: &[u8; 16]) -> Result<Vec<u8>> {
        Ok(Vec::new())
    }

    fn wrap(
        &self,
        params: &[u8],
        key: &KeyMaterial,
        aad: &[u8],
        nonce: &[u8; 24],
    ) -> Result<Vec<u8>> {
        if !params.is_empty() {
            return Err(Error::Malformed {
                reason: "key-file roots have no parameters",
            });
        }
        xchacha_wrap(&self.kek, key, aad, nonce)
    }

    fn unwrap(&self, params: &[u8], wrapped: &[u8], aad: &[u8]) -> Result<KeyMaterial> {
        if !params.is_empty() {
            return Err(Error::Malformed {
                reason: "key-file roots have no parameters",
            });
        }
        xchacha_unwrap(&self.kek, wrapped, aad)
    }
}

#[cfg(all(feature = "std", unix))]
mod key_files {
    use std::io::Write;
    use std::path::Path;

    use super::KeyFileRoot;
    use super::MAX_SECRET_FILE_LEN;
    use crate::disk::{self, StoreError, create_private, io_err};
    use crate::secret::SecretBytes;
    use crate::secret::{KEY_LEN, KeyMaterial};

    /// Loads a key-file root from `path` (for example
    /// `/run/secrets/strongroom`): 32 raw bytes or 64 hex digits, read under
    /// the secret-file rule of [`read_secret_file`] (no symbolic link, a
    /// regular file of this user's, no access for group or others, checked
    /// on the open descriptor), with the fix in the message.
    ///
    /// # Errors
    /// [`StoreError::InsecurePermissions`]; I/O errors;
    /// [`StoreError::Rejected`] for contents of the wrong shape.
    pub fn load_key_file(path: &Path) -> Result<KeyFileRoot, StoreError> {
        let raw = disk::read_secret_file(path, 2 * KEY_LEN + 2)?;
        KeyFileRoot::from_file_contents(raw.expose_secret()).map_err(StoreError::Rejected)
    }

    /// Reads a passphrase or PIN file (at most [`MAX_SECRET_FILE_LEN`]
    /// bytes) under the same rule as key files: not a symbolic link, a
    /// regular file owned by this process's user, no access for group or
    /// others, checked on the open descriptor. The bytes come back whole
    /// (line endings included), in a wiping buffer.
    ///
    /// # Errors
    /// [`StoreError::InsecureSecretFile`], [`StoreError::InsecurePermissions`]
    /// with the fix in the message; [`StoreError::File`] past the size
    /// limit; I/O errors.
    pub fn read_secret_file(path: &Path) -> Result<SecretBytes, StoreError> {
        disk::read_secret_file(path, MAX_SECRET_FILE_LEN)
    }

    /// Creates a new key file at `path` holding 32 random bytes, mode 0600.
    ///
    /// # Errors
    /// I/O errors (including an existing file).
    pub fn create_key_file(path: &Path) -> Result<(), StoreError> {
        let key = KeyMaterial::generate(&mut getrandom::SysRng).map_err(StoreError::Rejected)?;
        let mut file = create_private(path).map_err(io_err("create the key file", path))?;
        file.write_all(key.expose_secret())
            .map_err(io_err("write the key file", path))?;
        file.sync_all().map_err(io_err("fsync the key file", path))
    }
}

#[cfg(all(feature = "std", unix))]
pub use key_files::{create_key_file, load_key_file, read_secret_file};

/// Largest passphrase or PIN file [`read_secret_file`] reads (4 KiB).
#[cfg(all(feature = "std", unix))]
pub const MAX_SECRET_FILE_LEN: usize = 4096;
