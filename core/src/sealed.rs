//! The **sealed keyring**: the whole keyring, encrypted at rest under a
//! random sealing key that a *root key* wraps (FORMAT.md 10).
//!
//! ```text
//! "SRKR" 0x01 | root_kind u8 | params_len u16 | params | wrapped_len u16 | wrapped | nonce[24] | payload ct || tag
//! wrapped  = root.wrap(sealing key, aad = ROOT_LABEL || bytes before wrapped_len)
//! payload  = XChaCha20-Poly1305(sealing key, nonce, PAYLOAD_LABEL || bytes before nonce, keyring encoding)
//! ```
//!
//! Every root sits behind one trait, [`KeyProvider`]: a passphrase
//! (Argon2id), a key file (32 bytes, e.g. a mounted secret), a PKCS#11 token
//! key, or any KMS a caller plugs in. Changing the root re-seals the same
//! key material under another root.
//!
//! Parsing is bounded: files over [`MAX_SEALED_LEN`], parameter blocks over
//! 1 KiB and Argon2 costs above [`Argon2Params`]'s maxima are rejected
//! before any KDF runs or any large buffer is allocated.

use alloc::vec::Vec;
use core::fmt;

use rand_core::TryCryptoRng;

use crate::aead::{self, Algorithm, TAG_LEN, XNONCE_LEN};
use crate::audit::{AuditAction, AuditObject};
use crate::error::{Error, Result};
pub use crate::kdf::Argon2Params;
use crate::kdf::{self, Prk};
use crate::key_id::KeyId;
use crate::keyring::Keyring;
use crate::random;
use crate::secret::{KEY_LEN, KeyMaterial, SecretBytes};

/// Magic of a sealed keyring, "SRKR".
pub const SEALED_MAGIC: [u8; 4] = *b"SRKR";
/// Format byte of sealed keyring version 1.
pub const SEALED_FORMAT_V1: u8 = 0x01;
/// Largest sealed keyring accepted or produced (16 MiB).
pub const MAX_SEALED_LEN: usize = 16 << 20;
/// Largest root parameter block or wrapped sealing key.
pub const MAX_ROOT_FIELD_LEN: usize = 1024;

/// Associated-data label of the sealing-key wrap (FORMAT.md 10.2).
const ROOT_LABEL: &[u8] = b"strongroom/keyring/v1/root";
/// Associated-data label of the payload (FORMAT.md 10.1).
const PAYLOAD_LABEL: &[u8] = b"strongroom/keyring/v1/payload";
/// HKDF info label turning a key file into a wrapping key (FORMAT.md 10.3).
const KEY_FILE_LABEL: &[u8] = b"strongroom/keyring/v1/keyfile";

/// Which kind of root key sealed a keyring (the `root_kind` byte).
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
}

impl RootKind {
    /// Every kind, in number order.
    pub const ALL: &'static [RootKind] = &[
        Self::Passphrase,
        Self::KeyFile,
        Self::Pkcs11,
        Self::External,
    ];

    /// The `root_kind` byte (FORMAT.md 10.1): the kind's stable number,
    /// never reused.
    pub const fn to_byte(self) -> u8 {
        match self {
            Self::Passphrase => 1,
            Self::KeyFile => 2,
            Self::Pkcs11 => 3,
            Self::External => 4,
        }
    }

    /// The kind for a `root_kind` byte.
    pub const fn from_byte(b: u8) -> Option<Self> {
        match b {
            1 => Some(Self::Passphrase),
            2 => Some(Self::KeyFile),
            3 => Some(Self::Pkcs11),
            4 => Some(Self::External),
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
    fn parse_params(params: &[u8]) -> Result<(Argon2Params, &[u8])> {
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

/// Public facts of a sealed keyring.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SealedInfo {
    /// The root kind.
    pub root_kind: RootKind,
    /// Argon2id costs, for a passphrase root.
    pub argon2: Option<Argon2Params>,
    /// File length.
    pub len: usize,
}

struct Parsed<'a> {
    kind: RootKind,
    params: &'a [u8],
    wrapped: &'a [u8],
    /// Bytes `0 .. 8 + params_len`: what the root wrap is bound to.
    root_aad_part: &'a [u8],
    /// Bytes before the nonce: what the payload is bound to.
    payload_aad_part: &'a [u8],
    nonce: &'a [u8],
    ciphertext: &'a [u8],
    tag: &'a [u8],
}

fn malformed(reason: &'static str) -> Error {
    Error::Malformed { reason }
}

/// Parses a sealed keyring strictly (FORMAT.md 10.5), before any KDF.
fn parse(bytes: &[u8]) -> Result<Parsed<'_>> {
    if bytes.len() > MAX_SEALED_LEN {
        return Err(Error::TooLarge {
            what: "sealed keyring length",
            max: MAX_SEALED_LEN,
        });
    }
    if bytes.len() < 4 || bytes[..4] != SEALED_MAGIC {
        return Err(malformed("not a strongroom keyring file (bad magic)"));
    }
    let format = *bytes.get(4).ok_or(malformed("keyring file is truncated"))?;
    if format != SEALED_FORMAT_V1 {
        return Err(Error::UnsupportedFormat { version: format });
    }
    let kind_byte = *bytes.get(5).ok_or(malformed("keyring file is truncated"))?;
    let kind = RootKind::from_byte(kind_byte).ok_or(malformed("unknown root kind"))?;
    let u16_at = |at: usize| -> Result<usize> {
        let b = bytes
            .get(at..at + 2)
            .ok_or(malformed("keyring file is truncated"))?;
        Ok(usize::from(u16::from_be_bytes([b[0], b[1]])))
    };
    let params_len = u16_at(6)?;
    if params_len > MAX_ROOT_FIELD_LEN {
        return Err(malformed("root parameters too long"));
    }
    let params_end = 8 + params_len;
    let wrapped_len = u16_at(params_end)?;
    if wrapped_len > MAX_ROOT_FIELD_LEN {
        return Err(malformed("wrapped sealing key too long"));
    }
    let wrapped_end = params_end + 2 + wrapped_len;
    let nonce_end = wrapped_end + XNONCE_LEN;
    if bytes.len() < nonce_end + TAG_LEN {
        return Err(malformed("keyring file is truncated"));
    }
    let (ciphertext, tag) = bytes[nonce_end..].split_at(bytes.len() - nonce_end - TAG_LEN);
    Ok(Parsed {
        kind,
        params: &bytes[8..params_end],
        wrapped: &bytes[params_end + 2..wrapped_end],
        root_aad_part: &bytes[..params_end],
        payload_aad_part: &bytes[..wrapped_end],
        nonce: &bytes[wrapped_end..nonce_end],
        ciphertext,
        tag,
    })
}

fn labelled(label: &[u8], part: &[u8]) -> Vec<u8> {
    aead::associated_data(label, &[part], None)
}

/// Reads a sealed keyring's public facts (no root needed).
///
/// # Errors
/// As [`open`]'s structural errors.
pub fn inspect(bytes: &[u8]) -> Result<SealedInfo> {
    let p = parse(bytes)?;
    let argon2 = match p.kind {
        RootKind::Passphrase => Some(PassphraseRoot::parse_params(p.params)?.0),
        _ => None,
    };
    Ok(SealedInfo {
        root_kind: p.kind,
        argon2,
        len: bytes.len(),
    })
}

/// Seals `keyring` under `root`.
///
/// # Errors
/// [`Error::TooLarge`] past [`MAX_SEALED_LEN`]; the root's errors;
/// [`Error::RandomnessUnavailable`].
pub fn seal<R: TryCryptoRng + ?Sized>(
    keyring: &Keyring,
    root: &dyn KeyProvider,
    rng: &mut R,
) -> Result<Vec<u8>> {
    let mut payload = keyring.encode();
    let sealing_key = KeyMaterial::generate(rng)?;
    let mut salt = [0u8; 16];
    random::fill(rng, &mut salt)?;
    let mut wrap_nonce = [0u8; 24];
    random::fill(rng, &mut wrap_nonce)?;
    let params = root.new_params(&salt)?;
    if params.len() > MAX_ROOT_FIELD_LEN {
        return Err(malformed("root parameters too long"));
    }
    let mut out = Vec::new();
    out.extend_from_slice(&SEALED_MAGIC);
    out.push(SEALED_FORMAT_V1);
    out.push(root.root_kind().to_byte());
    out.extend_from_slice(
        &u16::try_from(params.len())
            .unwrap_or(u16::MAX)
            .to_be_bytes(),
    );
    out.extend_from_slice(&params);
    let wrapped = root.wrap(
        &params,
        &sealing_key,
        &labelled(ROOT_LABEL, &out),
        &wrap_nonce,
    )?;
    if wrapped.len() > MAX_ROOT_FIELD_LEN {
        return Err(malformed("wrapped sealing key too long"));
    }
    out.extend_from_slice(
        &u16::try_from(wrapped.len())
            .unwrap_or(u16::MAX)
            .to_be_bytes(),
    );
    out.extend_from_slice(&wrapped);
    let total = out.len() + XNONCE_LEN + payload.len() + TAG_LEN;
    if total > MAX_SEALED_LEN {
        return Err(Error::TooLarge {
            what: "sealed keyring length",
            max: MAX_SEALED_LEN,
        });
    }
    let aad = labelled(PAYLOAD_LABEL, &out);
    let mut nonce = [0u8; XNONCE_LEN];
    random::fill(rng, &mut nonce)?;
    let tag = aead::encrypt_in_place(
        Algorithm::XChaCha20Poly1305,
        &sealing_key,
        &nonce,
        &aad,
        payload.expose_secret_mut(),
    )
    .map_err(|_| Error::AuthenticationFailed)?;
    out.reserve_exact(total - out.len());
    out.extend_from_slice(&nonce);
    // The payload buffer now holds ciphertext only.
    out.extend_from_slice(payload.expose_secret());
    out.extend_from_slice(&tag);
    Ok(out)
}

/// Opens a sealed keyring with `root`.
///
/// # Errors
/// Structural: [`Error::Malformed`], [`Error::UnsupportedFormat`],
/// [`Error::TooLarge`] (file size, Argon2 costs); [`Error::InvalidArgument`]
/// when `root` is not the kind the file was sealed with;
/// [`Error::AuthenticationFailed`] for a wrong passphrase or key, or an
/// altered file.
pub fn open(bytes: &[u8], root: &dyn KeyProvider) -> Result<Keyring> {
    let p = parse(bytes)?;
    if p.kind != root.root_kind() {
        return Err(Error::InvalidArgument {
            reason: match p.kind {
                RootKind::Passphrase => "the keyring is sealed with a passphrase",
                RootKind::KeyFile => "the keyring is sealed with a key file",
                RootKind::Pkcs11 => "the keyring is sealed with a PKCS#11 key",
                RootKind::External => "the keyring is sealed with an external key provider",
            },
        });
    }
    let sealing_key = root.unwrap(p.params, p.wrapped, &labelled(ROOT_LABEL, p.root_aad_part))?;
    let mut payload = SecretBytes::from_slice(p.ciphertext);
    aead::decrypt_in_place(
        Algorithm::XChaCha20Poly1305,
        &sealing_key,
        p.nonce,
        &labelled(PAYLOAD_LABEL, p.payload_aad_part),
        payload.expose_secret_mut(),
        p.tag,
    )
    .map_err(|_| Error::AuthenticationFailed)?;
    Keyring::decode(payload.expose_secret())
}

impl Keyring {
    /// A backup of one key (every version, its states and metadata), sealed
    /// under `root`, to move the key to another keyring with
    /// [`Keyring::import_key_backup`].
    ///
    /// # Errors
    /// [`Error::UnknownKeyName`]; as [`seal`].
    pub fn export_key_with<R: TryCryptoRng + ?Sized>(
        &self,
        name: &str,
        root: &dyn KeyProvider,
        rng: &mut R,
    ) -> Result<Vec<u8>> {
        let r = self
            .copy_of_key(name)
            .and_then(|single| seal(&single, root, rng));
        let key = self.key_ref(name, None);
        self.audited(AuditAction::KeyExported, AuditObject::Key, key, r)
    }

    /// Imports the key in a backup made by [`Keyring::export_key_with`].
    ///
    /// # Errors
    /// As [`open`]; [`Error::KeyExists`] if the name or id is taken here;
    /// [`Error::Malformed`] if the backup does not hold exactly one key.
    pub fn import_key_backup(&mut self, backup: &[u8], root: &dyn KeyProvider) -> Result<KeyId> {
        let mut single = open(backup, root)?;
        if single.len() != 1 {
            return Err(malformed("a key backup holds exactly one key"));
        }
        let name = single
            .keys()
            .first()
            .map(|k| k.name.clone())
            .ok_or(malformed("empty key backup"))?;
        let import = single.take_key(&name)?;
        let id = import.key_id;
        self.import_key(import)?;
        Ok(id)
    }
}
