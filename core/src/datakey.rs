//! **Data keys**: keys that live outside the keyring, wrapped by it.
//!
//! A data key is a fresh random key handed out with its wrapped form (a
//! small blob, FORMAT.md 8), as Vault's `datakey` endpoint does. Keep one
//! per data subject (a customer, a tenant, a file), encrypt that subject's
//! records and envelopes under it with [`crate::record::encrypt_with_key`]
//! or [`crate::envelope::Recipient::Standalone`], and store only the blob.
//! Deleting the blob shreds the subject, including copies in backups.
//! Data keys are standalone keys: ciphertexts under them carry key id 0.
//! Derived keys, the other standalone kind, are in [`crate::derived`].

use alloc::vec::Vec;
use core::fmt;

use rand_core::TryCryptoRng;

use crate::aead::{self, Algorithm, TAG_LEN, XNONCE_LEN};
use crate::audit::{AuditAction, AuditObject};
use crate::context::EncryptionContext;
use crate::error::{Error, Result};
use crate::key_id::{KeyId, KeyVersion};
use crate::keyring::Keyring;
use crate::random;
use crate::secret::{KEY_LEN, KeyMaterial};

/// Format byte of a wrapped data key, version 1 (FORMAT.md 8).
pub const WRAPPED_KEY_FORMAT_V1: u8 = 0x02;
/// Length of a wrapped data key.
pub const WRAPPED_KEY_LEN: usize = 9 + XNONCE_LEN + KEY_LEN + TAG_LEN;

/// Associated-data label of a wrapped data key (FORMAT.md 8).
const DATA_KEY_LABEL: &[u8] = b"strongroom/datakey/v1";

/// A fresh data key with its wrapped form, from
/// [`Keyring::generate_data_key_with`]: encrypt under [`DataKey::key`], store
/// [`DataKey::wrapped`] beside the data, and let the key go.
///
/// # Security
/// The key is wiped on drop; `Debug` shows only which key version wraps it.
pub struct DataKey {
    key: KeyMaterial,
    wrapped: Vec<u8>,
}

impl DataKey {
    /// The data key, usable wherever a standalone key is.
    pub fn key(&self) -> &KeyMaterial {
        &self.key
    }

    /// The wrapped form (FORMAT.md 8): public, safe to store.
    pub fn wrapped(&self) -> &[u8] {
        &self.wrapped
    }

    /// The key and the wrapped form, apart.
    pub fn into_parts(self) -> (KeyMaterial, Vec<u8>) {
        (self.key, self.wrapped)
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataKey")
            .field("wrapped_by", &parse_blob(&self.wrapped).ok())
            .finish_non_exhaustive()
    }
}

/// Parses a wrapped data key strictly (FORMAT.md 8): exact length, format
/// byte, non-zero key id and version.
fn parse_blob(blob: &[u8]) -> Result<KeyVersion> {
    match blob.first() {
        None => {
            return Err(Error::Malformed {
                reason: "empty wrapped key",
            });
        }
        Some(&b) if b != WRAPPED_KEY_FORMAT_V1 => {
            return Err(Error::UnsupportedFormat { version: b });
        }
        Some(_) => {}
    }
    if blob.len() != WRAPPED_KEY_LEN {
        return Err(Error::Malformed {
            reason: "wrapped key has the wrong length",
        });
    }
    let id = u32::from_be_bytes([blob[1], blob[2], blob[3], blob[4]]);
    let version = u32::from_be_bytes([blob[5], blob[6], blob[7], blob[8]]);
    if id == 0 || version == 0 {
        return Err(Error::Malformed {
            reason: "wrapped key names key id 0 or version 0",
        });
    }
    Ok(KeyVersion::new(KeyId::from_u32(id), version))
}

/// The key a wrapped data key names, for audit events.
fn blob_ref(blob: &[u8]) -> Option<(KeyId, Option<u32>)> {
    parse_blob(blob).ok().map(|k| (k.key_id, Some(k.version)))
}

/// Reads which key and version a wrapped data key is under.
///
/// # Errors
/// [`Error::Malformed`], [`Error::UnsupportedFormat`].
pub fn inspect_wrapped_key(blob: &[u8]) -> Result<KeyVersion> {
    parse_blob(blob)
}

/// The wrapped key `parse_blob` accepted, written back from its parsed key
/// and version by the FORMAT.md 8 layout (fuzz targets only).
#[cfg(fuzzing)]
pub(crate) fn reencode(blob: &[u8]) -> Option<Vec<u8>> {
    let k = parse_blob(blob).ok()?;
    let mut out = Vec::with_capacity(WRAPPED_KEY_LEN);
    out.push(WRAPPED_KEY_FORMAT_V1);
    out.extend_from_slice(&k.key_id.as_u32().to_be_bytes());
    out.extend_from_slice(&k.version.to_be_bytes());
    out.extend_from_slice(blob.get(9..)?);
    Some(out)
}

impl Keyring {
    /// A fresh data key and its wrapped form under the primary version of
    /// key `name`, bound to `context`.
    ///
    /// # Errors
    /// [`Error::UnknownKeyName`]; [`Error::RandomnessUnavailable`].
    pub fn generate_data_key_with<R: TryCryptoRng + ?Sized>(
        &self,
        name: &str,
        context: &EncryptionContext,
        rng: &mut R,
    ) -> Result<DataKey> {
        let key = KeyMaterial::generate(rng)?;
        let wrapped = self.wrap_data_key_with(name, &key, context, rng)?;
        Ok(DataKey { key, wrapped })
    }

    /// Wraps an existing key under the primary version of key `name`.
    ///
    /// # Errors
    /// As [`Keyring::generate_data_key_with`].
    pub fn wrap_data_key_with<R: TryCryptoRng + ?Sized>(
        &self,
        name: &str,
        key: &KeyMaterial,
        context: &EncryptionContext,
        rng: &mut R,
    ) -> Result<Vec<u8>> {
        let r = self.wrap_quiet(name, key, context, rng);
        self.audited_lazy(
            AuditAction::Encrypt,
            AuditObject::DataKey,
            || self.primary_ref(name),
            r,
        )
    }

    fn wrap_quiet<R: TryCryptoRng + ?Sized>(
        &self,
        name: &str,
        key: &KeyMaterial,
        context: &EncryptionContext,
        rng: &mut R,
    ) -> Result<Vec<u8>> {
        let (id, version, material) = self.primary(name)?;
        let mut blob = alloc::vec![0u8; WRAPPED_KEY_LEN];
        blob[0] = WRAPPED_KEY_FORMAT_V1;
        blob[1..5].copy_from_slice(&id.as_u32().to_be_bytes());
        blob[5..9].copy_from_slice(&version.to_be_bytes());
        let (header, rest) = blob.split_at_mut(9);
        let (nonce, rest) = rest.split_at_mut(XNONCE_LEN);
        let (body, tag) = rest.split_at_mut(KEY_LEN);
        random::fill(rng, nonce)?;
        body.copy_from_slice(key.expose_secret());
        let aad = aead::associated_data(DATA_KEY_LABEL, &[header], Some(context));
        let t = aead::encrypt_in_place(Algorithm::XChaCha20Poly1305, material, nonce, &aad, body)
            .map_err(|_| Error::AuthenticationFailed)?;
        tag.copy_from_slice(&t);
        Ok(blob)
    }

    /// Unwraps a data key.
    ///
    /// # Errors
    /// Structural: [`Error::Malformed`], [`Error::UnsupportedFormat`]; the
    /// key lookup and version-state errors of [`Keyring::decrypt_record`];
    /// [`Error::AuthenticationFailed`] for a wrong context or altered blob.
    pub fn unwrap_data_key(&self, blob: &[u8], context: &EncryptionContext) -> Result<KeyMaterial> {
        let r = self.unwrap_quiet(blob, context);
        self.audited_lazy(
            AuditAction::Decrypt,
            AuditObject::DataKey,
            || blob_ref(blob),
            r,
        )
    }

    fn unwrap_quiet(&self, blob: &[u8], context: &EncryptionContext) -> Result<KeyMaterial> {
        let KeyVersion {
            key_id: id,
            version,
        } = parse_blob(blob)?;
        let material = self.decryption_material(id, version)?;
        let aad = aead::associated_data(DATA_KEY_LABEL, &[&blob[..9]], Some(context));
        let nonce = &blob[9..9 + XNONCE_LEN];
        let body = &blob[9 + XNONCE_LEN..9 + XNONCE_LEN + KEY_LEN];
        let tag = &blob[9 + XNONCE_LEN + KEY_LEN..];
        KeyMaterial::try_from_fn(|out| {
            out.copy_from_slice(body);
            aead::decrypt_in_place(
                Algorithm::XChaCha20Poly1305,
                material,
                nonce,
                &aad,
                out,
                tag,
            )
            .map_err(|_| Error::AuthenticationFailed)
        })
    }

    /// Rewraps a data key under the primary version of its key (the key
    /// itself, and everything under it, is unchanged).
    ///
    /// # Errors
    /// As [`Keyring::unwrap_data_key`].
    pub fn rewrap_data_key_with<R: TryCryptoRng + ?Sized>(
        &self,
        blob: &[u8],
        context: &EncryptionContext,
        rng: &mut R,
    ) -> Result<Vec<u8>> {
        let r = (|| {
            let id = parse_blob(blob)?.key_id;
            let dk = self.unwrap_quiet(blob, context)?;
            let name = self.key_name(id)?;
            self.wrap_quiet(name, &dk, context, rng)
        })();
        self.audited_lazy(
            AuditAction::Rewrap,
            AuditObject::DataKey,
            || blob_ref(blob),
            r,
        )
    }
}

#[cfg(feature = "std")]
impl Keyring {
    /// [`Keyring::generate_data_key_with`] with this thread's [`crate::FastRng`]
    /// (the OS RNG off Unix).
    ///
    /// # Errors
    /// As [`Keyring::generate_data_key_with`].
    pub fn generate_data_key(&self, name: &str, context: &EncryptionContext) -> Result<DataKey> {
        self.generate_data_key_with(name, context, &mut crate::keyring::HotRng::default())
    }
}
