//! The in-memory keyring: named keys, each with versions 1..n.
//!
//! The vocabulary is Tink's and Vault transit's:
//!
//! * a **key** has a name (`"pii"`, `"tenant/acme"`) and a random, non-zero
//!   32-bit **key id** that ciphertext headers carry; lookups from a
//!   ciphertext go by id, never by trying keys;
//! * each key has **versions** 1..n; exactly one is **primary** and new data
//!   is encrypted under it; [`Keyring::rotate_with`] adds a version and makes
//!   it primary, and older versions keep decrypting;
//! * a version is [`VersionState::Enabled`], [`VersionState::Disabled`]
//!   (reversible) or [`VersionState::Destroyed`] (material wiped, data under
//!   it unrecoverable); the primary can be neither disabled nor destroyed;
//! * a key has a **minimum decryption version**; older versions are refused;
//! * a key may have a **rotation period**; [`Keyring::keys_due_for_rotation`]
//!   lists keys whose primary version is older than that.
//!
//! Decryption checks, in this order (the first that applies decides):
//! unknown key id, unknown version, destroyed, below minimum, disabled.

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use rand_core::TryCryptoRng;

mod audit_hooks;
mod encoding;

use crate::audit::{AuditAction, AuditObject};
use crate::error::{Error, Result};
pub use crate::key_id::KeyId;
use crate::random;
use crate::secret::KeyMaterial;
use crate::time::Timestamp;

/// The generator of the hot paths' no-RNG-argument methods (records, data
/// keys, rewraps): the per-thread [`crate::FastRng`] on Unix, the OS
/// generator elsewhere.
#[cfg(all(feature = "std", unix))]
pub(crate) type HotRng = crate::fast_rng::FastRng;
/// The generator of the hot paths' no-RNG-argument methods.
#[cfg(all(feature = "std", not(unix)))]
pub(crate) type HotRng = getrandom::SysRng;

/// Most keys one keyring holds.
pub const MAX_KEYS: usize = 65_536;
/// Most versions one key holds.
pub const MAX_VERSIONS: u32 = 65_536;
/// Longest key name, in bytes.
pub const MAX_KEY_NAME_LEN: usize = 128;

/// The state of one key version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[repr(u8)]
pub enum VersionState {
    /// Decrypts; the primary version also encrypts.
    Enabled = 1,
    /// Kept, but refuses to decrypt until enabled again.
    Disabled = 2,
    /// Material wiped; data under this version is gone for good.
    Destroyed = 3,
}

impl VersionState {
    /// Every state, in number order.
    pub const ALL: &'static [VersionState] = &[Self::Enabled, Self::Disabled, Self::Destroyed];

    /// The stable number: the same byte the keyring file stores
    /// (FORMAT.md 10.4), never reused.
    pub const fn code(self) -> u8 {
        self as u8
    }

    /// The state with this number, if there is one.
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.iter().copied().find(|s| s.code() == code)
    }

    /// A short lower-case name for listings and messages.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Enabled => "enabled",
            Self::Disabled => "disabled",
            Self::Destroyed => "destroyed",
        }
    }
}

impl core::fmt::Display for VersionState {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

struct Version {
    state: VersionState,
    created: Timestamp,
    /// `None` exactly when the version is destroyed.
    material: Option<KeyMaterial>,
}

struct Key {
    name: String,
    created: Timestamp,
    /// `versions[i]` is version `i + 1`.
    versions: Vec<Version>,
    primary: u32,
    min_decryption_version: u32,
    rotation_period_seconds: Option<u64>,
}

impl Key {
    fn version(&self, id: KeyId, version: u32) -> Result<&Version> {
        version
            .checked_sub(1)
            .and_then(|i| self.versions.get(i as usize))
            .ok_or(Error::UnknownKeyVersion {
                key_id: id,
                version,
            })
    }

    fn version_mut(&mut self, id: KeyId, version: u32) -> Result<&mut Version> {
        version
            .checked_sub(1)
            .and_then(|i| self.versions.get_mut(i as usize))
            .ok_or(Error::UnknownKeyVersion {
                key_id: id,
                version,
            })
    }

    fn latest(&self) -> u32 {
        // At most MAX_VERSIONS versions, so this always fits.
        u32::try_from(self.versions.len()).unwrap_or(u32::MAX)
    }
}

/// What the keyring says about one version: metadata only.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VersionInfo {
    /// Version number, from 1.
    pub version: u32,
    /// Its state.
    pub state: VersionState,
    /// When it was created.
    pub created: Timestamp,
}

/// What the keyring says about one key: metadata only, never material.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyInfo {
    /// The key's name.
    pub name: String,
    /// The key's id.
    pub key_id: KeyId,
    /// When the key was created.
    pub created: Timestamp,
    /// The version new data is encrypted under.
    pub primary_version: u32,
    /// Versions below this refuse to decrypt.
    pub min_decryption_version: u32,
    /// Rotation period in seconds, if one is set.
    pub rotation_period_seconds: Option<u64>,
    /// Every version, oldest first.
    pub versions: Vec<VersionInfo>,
}

/// One version handed to [`Keyring::import_key`].
#[derive(Debug)]
#[non_exhaustive]
pub struct VersionImport {
    /// Its state.
    pub state: VersionState,
    /// When it was created.
    pub created: Timestamp,
    /// Its material; must be `None` exactly when `state` is `Destroyed`.
    pub material: Option<KeyMaterial>,
}

impl VersionImport {
    /// A version with material (enabled or disabled) or, with `None`, a
    /// destroyed one.
    pub fn new(state: VersionState, created: Timestamp, material: Option<KeyMaterial>) -> Self {
        Self {
            state,
            created,
            material,
        }
    }
}

/// A whole key with known material, handed to [`Keyring::import_key`]: for
/// moving a key between keyrings and for building keyrings from test vectors.
#[derive(Debug)]
#[non_exhaustive]
pub struct KeyImport {
    /// The key's name.
    pub name: String,
    /// The key's id (non-zero).
    pub key_id: KeyId,
    /// When the key was created.
    pub created: Timestamp,
    /// Versions 1..n in order.
    pub versions: Vec<VersionImport>,
    /// Which version is primary (must be enabled).
    pub primary_version: u32,
    /// Minimum decryption version (1 ..= primary).
    pub min_decryption_version: u32,
    /// Rotation period in seconds (non-zero), if any.
    pub rotation_period_seconds: Option<u64>,
}

impl KeyImport {
    /// A copy, material included (into memory of its own, wiped on drop):
    /// for a change that may run more than once, such as
    /// [`SharedKeyring::update`](crate::SharedKeyring::update) on a KV
    /// keyring.
    ///
    /// # Errors
    /// As [`KeyMaterial::from_slice`].
    pub fn try_clone(&self) -> Result<Self> {
        let mut versions = Vec::with_capacity(self.versions.len());
        for v in &self.versions {
            let material = match &v.material {
                Some(m) => Some(KeyMaterial::from_slice(m.expose_secret())?),
                None => None,
            };
            versions.push(VersionImport::new(v.state, v.created, material));
        }
        Ok(Self {
            name: self.name.clone(),
            key_id: self.key_id,
            created: self.created,
            versions,
            primary_version: self.primary_version,
            min_decryption_version: self.min_decryption_version,
            rotation_period_seconds: self.rotation_period_seconds,
        })
    }

    /// A key whose latest version is primary, with minimum decryption
    /// version 1 and no rotation period; adjust the public fields as needed.
    pub fn new(
        name: &str,
        key_id: KeyId,
        created: Timestamp,
        versions: Vec<VersionImport>,
    ) -> Self {
        let latest = u32::try_from(versions.len()).unwrap_or(u32::MAX);
        Self {
            name: name.to_string(),
            key_id,
            created,
            versions,
            primary_version: latest,
            min_decryption_version: 1,
            rotation_period_seconds: None,
        }
    }
}

/// An in-memory keyring.
///
/// # Security
/// Holds key material; it is wiped when versions are destroyed and when the
/// keyring is dropped. `Debug` shows metadata only. There is no `Clone`.
#[derive(Default)]
pub struct Keyring {
    keys: BTreeMap<KeyId, Key>,
    names: BTreeMap<String, KeyId>,
    pub(crate) audit: Option<alloc::sync::Arc<crate::audit::AuditContext>>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.keys()).finish()
    }
}

impl Keyring {
    /// An empty keyring.
    pub fn new() -> Self {
        Self::default()
    }

    /// Creates a key with a fresh random id and version 1 as primary.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a bad name (1 to 128 bytes of ASCII
    /// letters, digits, `-`, `_`, `.`, `/`; starting with a letter or digit;
    /// no empty path segment); [`Error::KeyExists`];
    /// [`Error::TooLarge`] past [`MAX_KEYS`];
    /// [`Error::RandomnessUnavailable`].
    pub fn create_key_with<R: TryCryptoRng + ?Sized>(
        &mut self,
        name: &str,
        rng: &mut R,
        now: Timestamp,
    ) -> Result<KeyId> {
        let r = self.create_key_inner(name, rng, now);
        let key = r.as_ref().ok().map(|id| (*id, Some(1)));
        self.audited(AuditAction::KeyCreated, AuditObject::Key, key, r)
    }

    fn create_key_inner<R: TryCryptoRng + ?Sized>(
        &mut self,
        name: &str,
        rng: &mut R,
        now: Timestamp,
    ) -> Result<KeyId> {
        self.check_new_name(name)?;
        let id = self.fresh_key_id(rng)?;
        let material = KeyMaterial::generate(rng)?;
        let key = Key {
            name: name.to_string(),
            created: now,
            versions: alloc::vec![Version {
                state: VersionState::Enabled,
                created: now,
                material: Some(material),
            }],
            primary: 1,
            min_decryption_version: 1,
            rotation_period_seconds: None,
        };
        self.names.insert(key.name.clone(), id);
        self.keys.insert(id, key);
        Ok(id)
    }

    /// Adds a new version to a key and makes it primary. Returns the new
    /// version number. Older versions keep their states.
    ///
    /// # Errors
    /// [`Error::UnknownKeyName`]; [`Error::TooLarge`] past
    /// [`MAX_VERSIONS`]; [`Error::RandomnessUnavailable`].
    pub fn rotate_with<R: TryCryptoRng + ?Sized>(
        &mut self,
        name: &str,
        rng: &mut R,
        now: Timestamp,
    ) -> Result<u32> {
        let r = self.rotate_inner(name, rng, now);
        let key = self.key_ref(name, r.as_ref().ok().copied());
        self.audited(AuditAction::KeyRotated, AuditObject::Key, key, r)
    }

    fn rotate_inner<R: TryCryptoRng + ?Sized>(
        &mut self,
        name: &str,
        rng: &mut R,
        now: Timestamp,
    ) -> Result<u32> {
        let key = self.key_mut(name)?;
        let next = key.latest() + 1;
        if next > MAX_VERSIONS {
            return Err(Error::TooLarge {
                what: "versions per key",
                max: MAX_VERSIONS as usize,
            });
        }
        let material = KeyMaterial::generate(rng)?;
        key.versions.push(Version {
            state: VersionState::Enabled,
            created: now,
            material: Some(material),
        });
        key.primary = next;
        Ok(next)
    }

    /// Disables a version: it stops decrypting until enabled again.
    ///
    /// # Errors
    /// [`Error::UnknownKeyName`], [`Error::UnknownKeyVersion`],
    /// [`Error::PrimaryVersion`], [`Error::VersionDestroyed`].
    pub fn disable_version(&mut self, name: &str, version: u32) -> Result<()> {
        let r = self
            .non_primary_version_mut(name, version)
            .map(|v| v.state = VersionState::Disabled);
        let key = self.key_ref(name, Some(version));
        self.audited(AuditAction::VersionDisabled, AuditObject::Key, key, r)
    }

    /// Enables a disabled version (enabling an enabled one is a no-op).
    ///
    /// # Errors
    /// [`Error::UnknownKeyName`], [`Error::UnknownKeyVersion`],
    /// [`Error::VersionDestroyed`].
    pub fn enable_version(&mut self, name: &str, version: u32) -> Result<()> {
        let r = self.enable_inner(name, version);
        let key = self.key_ref(name, Some(version));
        self.audited(AuditAction::VersionEnabled, AuditObject::Key, key, r)
    }

    fn enable_inner(&mut self, name: &str, version: u32) -> Result<()> {
        let id = self.key_id(name)?;
        let key = self.key_mut(name)?;
        let v = key.version_mut(id, version)?;
        if v.state == VersionState::Destroyed {
            return Err(Error::VersionDestroyed {
                key_id: id,
                version,
            });
        }
        v.state = VersionState::Enabled;
        Ok(())
    }

    /// Destroys a version: wipes its material now. Everything encrypted
    /// under it becomes unrecoverable and reports
    /// [`Error::VersionDestroyed`]. Irreversible.
    ///
    /// # Errors
    /// [`Error::UnknownKeyName`], [`Error::UnknownKeyVersion`],
    /// [`Error::PrimaryVersion`], [`Error::VersionDestroyed`] if it already
    /// was.
    pub fn destroy_version(&mut self, name: &str, version: u32) -> Result<()> {
        let r = self.non_primary_version_mut(name, version).map(|v| {
            v.state = VersionState::Destroyed;
            // Dropping the KeyMaterial wipes it.
            v.material = None;
        });
        let key = self.key_ref(name, Some(version));
        self.audited(AuditAction::VersionDestroyed, AuditObject::Key, key, r)
    }

    /// Sets the minimum decryption version (1 ..= primary). Lowering it
    /// again is allowed; destroyed versions stay destroyed.
    ///
    /// # Errors
    /// [`Error::UnknownKeyName`]; [`Error::InvalidArgument`] outside
    /// 1 ..= primary.
    pub fn set_min_decryption_version(&mut self, name: &str, version: u32) -> Result<()> {
        let r = self.key_mut(name).and_then(|key| {
            if version == 0 || version > key.primary {
                return Err(Error::InvalidArgument {
                    reason: "minimum decryption version must be between 1 and the primary version",
                });
            }
            key.min_decryption_version = version;
            Ok(())
        });
        let key = self.key_ref(name, Some(version));
        self.audited(
            AuditAction::MinDecryptionVersionChanged,
            AuditObject::Key,
            key,
            r,
        )
    }

    /// Sets or clears a key's rotation period, in seconds.
    ///
    /// # Errors
    /// [`Error::UnknownKeyName`]; [`Error::InvalidArgument`] for a zero
    /// period.
    pub fn set_rotation_period(&mut self, name: &str, seconds: Option<u64>) -> Result<()> {
        let r = if seconds == Some(0) {
            Err(Error::InvalidArgument {
                reason: "rotation period must be at least one second",
            })
        } else {
            self.key_mut(name)
                .map(|k| k.rotation_period_seconds = seconds)
        };
        let key = self.key_ref(name, None);
        self.audited(AuditAction::RotationPeriodChanged, AuditObject::Key, key, r)
    }

    /// The (id, primary version) an audit event names for key `name`.
    pub(crate) fn primary_ref(&self, name: &str) -> Option<(KeyId, Option<u32>)> {
        self.primary(name).ok().map(|(id, v, _)| (id, Some(v)))
    }

    /// The (id, version) an audit event names for key `name`, if it exists.
    pub(crate) fn key_ref(&self, name: &str, version: Option<u32>) -> Option<(KeyId, Option<u32>)> {
        self.key_id(name).ok().map(|id| (id, version))
    }

    /// Names of the keys whose primary version is at least one rotation
    /// period old at `now`, in name order.
    pub fn keys_due_for_rotation(&self, now: Timestamp) -> Vec<&str> {
        self.names
            .iter()
            .filter_map(|(name, id)| {
                let key = self.keys.get(id)?;
                let period = key.rotation_period_seconds?;
                let primary = key.version(*id, key.primary).ok()?;
                let due = primary.created.as_unix_seconds().saturating_add(period);
                (now.as_unix_seconds() >= due).then_some(name.as_str())
            })
            .collect()
    }

    /// Metadata for one key.
    ///
    /// # Errors
    /// [`Error::UnknownKeyName`].
    pub fn key_info(&self, name: &str) -> Result<KeyInfo> {
        let id = self.key_id(name)?;
        self.keys
            .get(&id)
            .map(|key| info(id, key))
            .ok_or_else(|| unknown_name(name))
    }

    /// Metadata for every key, in name order.
    pub fn keys(&self) -> Vec<KeyInfo> {
        self.names
            .values()
            .filter_map(|id| self.keys.get(id).map(|key| info(*id, key)))
            .collect()
    }

    /// The id of the key with this name.
    ///
    /// # Errors
    /// [`Error::UnknownKeyName`].
    pub fn key_id(&self, name: &str) -> Result<KeyId> {
        self.names
            .get(name)
            .copied()
            .ok_or_else(|| unknown_name(name))
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the keyring has no keys.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Adds a key with known material and metadata, after checking that it
    /// is consistent. For moving keys between keyrings and for test vectors;
    /// new keys should come from [`Keyring::create_key_with`].
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a bad name, a zero key id, no
    /// versions, material present on a destroyed version or missing on
    /// another, a primary that is not an enabled version, or a minimum
    /// decryption version outside 1 ..= primary; [`Error::KeyExists`] for a
    /// taken name or id; [`Error::TooLarge`] past the bounds.
    pub fn import_key(&mut self, import: KeyImport) -> Result<()> {
        let id = import.key_id;
        let primary = import.primary_version;
        let r = self.import_key_inner(import);
        let key = r.as_ref().ok().map(|()| (id, Some(primary)));
        self.audited(AuditAction::KeyImported, AuditObject::Key, key, r)
    }

    /// [`Keyring::import_key`] without an audit event (for decoding files).
    pub(crate) fn import_key_inner(&mut self, import: KeyImport) -> Result<()> {
        self.check_new_name(&import.name)?;
        let id = import.key_id;
        if id.0 == 0 {
            return Err(invalid("key id 0 is reserved"));
        }
        if self.keys.contains_key(&id) {
            return Err(Error::KeyExists { name: import.name });
        }
        let count = import.versions.len();
        if count == 0 {
            return Err(invalid("a key needs at least one version"));
        }
        if count > MAX_VERSIONS as usize {
            return Err(Error::TooLarge {
                what: "versions per key",
                max: MAX_VERSIONS as usize,
            });
        }
        for v in &import.versions {
            let destroyed = v.state == VersionState::Destroyed;
            if destroyed == v.material.is_some() {
                return Err(invalid(
                    "a destroyed version has no material and every other version has material",
                ));
            }
        }
        let primary_state = import
            .primary_version
            .checked_sub(1)
            .and_then(|i| import.versions.get(i as usize))
            .map(|v| v.state);
        if primary_state != Some(VersionState::Enabled) {
            return Err(invalid("the primary version must exist and be enabled"));
        }
        if import.min_decryption_version == 0
            || import.min_decryption_version > import.primary_version
        {
            return Err(invalid(
                "minimum decryption version must be between 1 and the primary version",
            ));
        }
        if import.rotation_period_seconds == Some(0) {
            return Err(invalid("rotation period must be at least one second"));
        }
        let key = Key {
            name: import.name,
            created: import.created,
            versions: import
                .versions
                .into_iter()
                .map(|v| Version {
                    state: v.state,
                    created: v.created,
                    material: v.material,
                })
                .collect(),
            primary: import.primary_version,
            min_decryption_version: import.min_decryption_version,
            rotation_period_seconds: import.rotation_period_seconds,
        };
        self.names.insert(key.name.clone(), id);
        self.keys.insert(id, key);
        Ok(())
    }

    /// The primary version of a key, for encryption.
    pub(crate) fn primary(&self, name: &str) -> Result<(KeyId, u32, &KeyMaterial)> {
        let id = self.key_id(name)?;
        let key = self.keys.get(&id).ok_or_else(|| unknown_name(name))?;
        let v = key.version(id, key.primary)?;
        // Invariant: the primary is enabled and so has material.
        let material = v.material.as_ref().ok_or(Error::VersionDestroyed {
            key_id: id,
            version: key.primary,
        })?;
        Ok((id, key.primary, material))
    }

    /// The material of a version, for decryption, after every state check
    /// in the order of FORMAT.md 3.1.
    pub(crate) fn decryption_material(&self, id: KeyId, version: u32) -> Result<&KeyMaterial> {
        let key = self
            .keys
            .get(&id)
            .ok_or(Error::UnknownKeyId { key_id: id })?;
        let v = key.version(id, version)?;
        match v.state {
            VersionState::Destroyed => {
                return Err(Error::VersionDestroyed {
                    key_id: id,
                    version,
                });
            }
            _ if version < key.min_decryption_version => {
                return Err(Error::VersionBelowMinimum {
                    key_id: id,
                    version,
                    minimum: key.min_decryption_version,
                });
            }
            VersionState::Disabled => {
                return Err(Error::VersionDisabled {
                    key_id: id,
                    version,
                });
            }
            VersionState::Enabled => {}
        }
        v.material.as_ref().ok_or(Error::VersionDestroyed {
            key_id: id,
            version,
        })
    }

    /// A keyring holding a copy of key `name` alone (for backups).
    pub(crate) fn copy_of_key(&self, name: &str) -> Result<Keyring> {
        let id = self.key_id(name)?;
        let mut single = Keyring::new();
        single.import_key_inner(self.copy_import(id)?)?;
        Ok(single)
    }

    /// A copy of the whole keyring, material and audit context included,
    /// for copy-on-write updates of a shared keyring. The material is copied
    /// into fresh wiping containers.
    #[cfg(any(all(feature = "std", unix), test))]
    pub(crate) fn duplicate(&self) -> Result<Keyring> {
        let mut copy = Keyring::new();
        for id in self.keys.keys() {
            copy.import_key_inner(self.copy_import(*id)?)?;
        }
        copy.audit.clone_from(&self.audit);
        Ok(copy)
    }

    /// Key `id` as an import, with copies of its material.
    fn copy_import(&self, id: KeyId) -> Result<KeyImport> {
        let key = self
            .keys
            .get(&id)
            .ok_or(Error::UnknownKeyId { key_id: id })?;
        let mut versions = Vec::with_capacity(key.versions.len());
        for v in &key.versions {
            let material = match &v.material {
                Some(m) => Some(KeyMaterial::from_slice(m.expose_secret())?),
                None => None,
            };
            versions.push(VersionImport::new(v.state, v.created, material));
        }
        let mut import = KeyImport::new(&key.name, id, key.created, versions);
        import.primary_version = key.primary;
        import.min_decryption_version = key.min_decryption_version;
        import.rotation_period_seconds = key.rotation_period_seconds;
        Ok(import)
    }

    /// Removes key `name` and returns it as an import (for backups).
    pub(crate) fn take_key(&mut self, name: &str) -> Result<KeyImport> {
        let id = self.key_id(name)?;
        let key = self.keys.remove(&id).ok_or_else(|| unknown_name(name))?;
        self.names.remove(name);
        let versions = key
            .versions
            .into_iter()
            .map(|v| VersionImport::new(v.state, v.created, v.material))
            .collect();
        let mut import = KeyImport::new(&key.name, id, key.created, versions);
        import.primary_version = key.primary;
        import.min_decryption_version = key.min_decryption_version;
        import.rotation_period_seconds = key.rotation_period_seconds;
        Ok(import)
    }

    /// The name of the key with this id.
    pub(crate) fn key_name(&self, id: KeyId) -> Result<&str> {
        self.keys
            .get(&id)
            .map(|k| k.name.as_str())
            .ok_or(Error::UnknownKeyId { key_id: id })
    }

    fn key_mut(&mut self, name: &str) -> Result<&mut Key> {
        let id = self.key_id(name)?;
        self.keys.get_mut(&id).ok_or_else(|| unknown_name(name))
    }

    fn non_primary_version_mut(&mut self, name: &str, version: u32) -> Result<&mut Version> {
        let id = self.key_id(name)?;
        let key = self.key_mut(name)?;
        if version == key.primary {
            return Err(Error::PrimaryVersion {
                key_id: id,
                version,
            });
        }
        let v = key.version_mut(id, version)?;
        if v.state == VersionState::Destroyed {
            return Err(Error::VersionDestroyed {
                key_id: id,
                version,
            });
        }
        Ok(v)
    }

    fn check_new_name(&self, name: &str) -> Result<()> {
        validate_name(name)?;
        if self.names.contains_key(name) {
            return Err(Error::KeyExists {
                name: name.to_string(),
            });
        }
        if self.keys.len() >= MAX_KEYS {
            return Err(Error::TooLarge {
                what: "keys per keyring",
                max: MAX_KEYS,
            });
        }
        Ok(())
    }

    fn fresh_key_id<R: TryCryptoRng + ?Sized>(&self, rng: &mut R) -> Result<KeyId> {
        // With at most 2^16 keys among 2^32 ids, 16 collisions in a row mean
        // the RNG is broken, not unlucky.
        for _ in 0..16 {
            let id = KeyId(random::nonzero_u32(rng)?);
            if !self.keys.contains_key(&id) {
                return Ok(id);
            }
        }
        Err(Error::RandomnessUnavailable)
    }
}

#[cfg(feature = "std")]
impl Keyring {
    /// [`Keyring::create_key_with`] with the OS RNG and the system clock.
    ///
    /// # Errors
    /// As [`Keyring::create_key_with`].
    pub fn create_key(&mut self, name: &str) -> Result<KeyId> {
        self.create_key_with(name, &mut getrandom::SysRng, Timestamp::now())
    }

    /// [`Keyring::rotate_with`] with the OS RNG and the system clock.
    ///
    /// # Errors
    /// As [`Keyring::rotate_with`].
    pub fn rotate(&mut self, name: &str) -> Result<u32> {
        self.rotate_with(name, &mut getrandom::SysRng, Timestamp::now())
    }
}

fn info(id: KeyId, key: &Key) -> KeyInfo {
    KeyInfo {
        name: key.name.clone(),
        key_id: id,
        created: key.created,
        primary_version: key.primary,
        min_decryption_version: key.min_decryption_version,
        rotation_period_seconds: key.rotation_period_seconds,
        versions: key
            .versions
            .iter()
            .zip(1u32..)
            .map(|(v, n)| VersionInfo {
                version: n,
                state: v.state,
                created: v.created,
            })
            .collect(),
    }
}

fn unknown_name(name: &str) -> Error {
    Error::UnknownKeyName {
        name: name.to_string(),
    }
}

fn invalid(reason: &'static str) -> Error {
    Error::InvalidArgument { reason }
}

pub(crate) fn validate_name(name: &str) -> Result<()> {
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes.len() > MAX_KEY_NAME_LEN {
        return Err(invalid("key names are 1 to 128 bytes long"));
    }
    let allowed = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/');
    if !bytes.iter().all(allowed) {
        return Err(invalid(
            "key names use only ASCII letters, digits, '-', '_', '.' and '/'",
        ));
    }
    if !bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        || bytes.ends_with(b"/")
        || name.contains("//")
    {
        return Err(invalid(
            "key names start with a letter or digit and have no empty '/' segment",
        ));
    }
    Ok(())
}
