//! **Derived keys**: HKDF-SHA256 of a key version and a context
//! (FORMAT.md 9), for per-tenant isolation without storing anything. A
//! derived key is a standalone key: ciphertexts under it carry key id 0.
//! Derive again from the same version to decrypt after a rotation.

use alloc::vec::Vec;
use core::fmt;

use crate::audit::{AuditAction, AuditObject};
use crate::context::EncryptionContext;
use crate::error::Result;
use crate::kdf::Prk;
use crate::key_id::KeyId;
use crate::keyring::Keyring;
use crate::secret::KeyMaterial;

/// HKDF info label of a derived key (FORMAT.md 9).
const DERIVE_LABEL: &[u8] = b"strongroom/derive/v1";

/// A key derived from a key version for a context.
pub struct DerivedKey {
    key_id: KeyId,
    version: u32,
    material: KeyMaterial,
}

impl DerivedKey {
    /// The parent key's id.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The parent version it was derived from: derive from the same version
    /// again to decrypt after a rotation.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The derived key, usable wherever a standalone key is.
    pub fn key(&self) -> &KeyMaterial {
        &self.material
    }
}

impl fmt::Debug for DerivedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DerivedKey")
            .field("key_id", &self.key_id)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl Keyring {
    /// The key derived from the primary version of `name` for `context`
    /// (FORMAT.md 9).
    ///
    /// # Errors
    /// [`Error::UnknownKeyName`](crate::Error::UnknownKeyName).
    pub fn derive_key(&self, name: &str, context: &EncryptionContext) -> Result<DerivedKey> {
        let (_, version, _) = self.primary(name)?;
        self.derive_key_version(name, version, context)
    }

    /// The key derived from version `version` of `name` for `context`;
    /// the version must be usable for decryption.
    ///
    /// # Errors
    /// [`Error::UnknownKeyName`](crate::Error::UnknownKeyName) and the version-state errors of
    /// [`Keyring::decrypt_record`].
    pub fn derive_key_version(
        &self,
        name: &str,
        version: u32,
        context: &EncryptionContext,
    ) -> Result<DerivedKey> {
        let r = self.derive_quiet(name, version, context);
        let key_ref = self.key_ref(name, Some(version));
        self.audited(AuditAction::Derive, AuditObject::Key, key_ref, r)
    }

    fn derive_quiet(
        &self,
        name: &str,
        version: u32,
        context: &EncryptionContext,
    ) -> Result<DerivedKey> {
        let id = self.key_id(name)?;
        let material = self.decryption_material(id, version)?;
        let mut info = Vec::with_capacity(8 + context.encoded_len());
        info.extend_from_slice(&id.as_u32().to_be_bytes());
        info.extend_from_slice(&version.to_be_bytes());
        context.encode_into(&mut info);
        let prk = Prk::extract(&[], material.expose_secret());
        Ok(DerivedKey {
            key_id: id,
            version,
            material: prk.expand_key(&[DERIVE_LABEL, &info]),
        })
    }
}
