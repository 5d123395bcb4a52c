//! The **keyring file** format: the whole keyring, encrypted at rest under
//! a random sealing key that a root of trust ([`crate::root`]) wraps
//! (FORMAT.md 10).
//!
//! ```text
//! "SRKR" 0x01 | root_kind u8 | params_len u16 | params | wrapped_len u16 | wrapped | nonce[24] | payload ct || tag
//! wrapped  = root.wrap(sealing key, aad = ROOT_LABEL || bytes before wrapped_len)
//! payload  = XChaCha20-Poly1305(sealing key, nonce, PAYLOAD_LABEL || bytes before nonce, keyring encoding)
//! ```
//!
//! Changing the root re-encrypts the same key material under another root.
//! Parsing is bounded: files over [`MAX_KEYRING_FILE_LEN`], parameter blocks
//! over 1 KiB and Argon2 costs above [`Argon2Params`]'s maxima are rejected
//! before any KDF runs or any large buffer is allocated. Files on disk,
//! written atomically under a lock, are [`crate::store`].

use alloc::vec::Vec;

use rand_core::TryCryptoRng;

use crate::aead::{self, Algorithm, TAG_LEN, XNONCE_LEN};
use crate::audit::{AuditAction, AuditObject};
use crate::error::{Error, Result};
use crate::key_id::KeyId;
use crate::keyring::Keyring;
use crate::random;
use crate::root::{Argon2Params, KeyProvider, PassphraseRoot, RootKind};
use crate::secret::{KeyMaterial, SecretBytes};

/// Magic of a keyring file, "SRKR".
pub const KEYRING_FILE_MAGIC: [u8; 4] = *b"SRKR";
/// Format byte of keyring file version 1.
pub const KEYRING_FILE_FORMAT_V1: u8 = 0x01;
/// Largest keyring file accepted or produced (16 MiB).
pub const MAX_KEYRING_FILE_LEN: usize = 16 << 20;
/// Largest root parameter block or wrapped sealing key.
pub const MAX_ROOT_FIELD_LEN: usize = 1024;

/// Associated-data label of the sealing-key wrap (FORMAT.md 10.2).
const ROOT_LABEL: &[u8] = b"strongroom/keyring/v1/root";
/// Associated-data label of the payload (FORMAT.md 10.1).
const PAYLOAD_LABEL: &[u8] = b"strongroom/keyring/v1/payload";

/// Public facts of a keyring file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyringFileInfo {
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

/// Parses a keyring file strictly (FORMAT.md 10.5), before any KDF.
fn parse(bytes: &[u8]) -> Result<Parsed<'_>> {
    if bytes.len() > MAX_KEYRING_FILE_LEN {
        return Err(Error::TooLarge {
            what: "sealed keyring length",
            max: MAX_KEYRING_FILE_LEN,
        });
    }
    if bytes.len() < 4 || bytes[..4] != KEYRING_FILE_MAGIC {
        return Err(malformed("not a strongroom keyring file (bad magic)"));
    }
    let format = *bytes.get(4).ok_or(malformed("keyring file is truncated"))?;
    if format != KEYRING_FILE_FORMAT_V1 {
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

/// Reads a keyring file's public facts (no root needed).
///
/// # Errors
/// As [`decrypt`]'s structural errors.
pub fn inspect(bytes: &[u8]) -> Result<KeyringFileInfo> {
    let p = parse(bytes)?;
    let argon2 = match p.kind {
        RootKind::Passphrase => Some(PassphraseRoot::parse_params(p.params)?.0),
        _ => None,
    };
    Ok(KeyringFileInfo {
        root_kind: p.kind,
        argon2,
        len: bytes.len(),
    })
}

/// Encrypts `keyring` into a keyring file under `root`.
///
/// # Errors
/// [`Error::TooLarge`] past [`MAX_KEYRING_FILE_LEN`]; the root's errors;
/// [`Error::RandomnessUnavailable`].
pub fn encrypt<R: TryCryptoRng + ?Sized>(
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
    out.extend_from_slice(&KEYRING_FILE_MAGIC);
    out.push(KEYRING_FILE_FORMAT_V1);
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
    if total > MAX_KEYRING_FILE_LEN {
        return Err(Error::TooLarge {
            what: "sealed keyring length",
            max: MAX_KEYRING_FILE_LEN,
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

/// Decrypts a keyring file with `root`.
///
/// # Errors
/// Structural: [`Error::Malformed`], [`Error::UnsupportedFormat`],
/// [`Error::TooLarge`] (file size, Argon2 costs); [`Error::InvalidArgument`]
/// when `root` is not the kind the file was sealed with;
/// [`Error::AuthenticationFailed`] for a wrong passphrase or key, or an
/// altered file.
pub fn decrypt(bytes: &[u8], root: &dyn KeyProvider) -> Result<Keyring> {
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
    /// [`Error::UnknownKeyName`]; as [`encrypt`].
    pub fn export_key_with<R: TryCryptoRng + ?Sized>(
        &self,
        name: &str,
        root: &dyn KeyProvider,
        rng: &mut R,
    ) -> Result<Vec<u8>> {
        let r = self
            .copy_of_key(name)
            .and_then(|single| encrypt(&single, root, rng));
        let key = self.key_ref(name, None);
        self.audited(AuditAction::KeyExported, AuditObject::Key, key, r)
    }

    /// Imports the key in a backup made by [`Keyring::export_key_with`].
    ///
    /// # Errors
    /// As [`decrypt`]; [`Error::KeyExists`] if the name or id is taken here;
    /// [`Error::Malformed`] if the backup does not hold exactly one key.
    pub fn import_key_backup(&mut self, backup: &[u8], root: &dyn KeyProvider) -> Result<KeyId> {
        let mut single = decrypt(backup, root)?;
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
