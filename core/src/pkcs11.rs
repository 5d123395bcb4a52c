//! The PKCS#11 root (feature `pkcs11`): a non-extractable AES-256 key inside
//! a token (an HSM, or SoftHSM2 in tests) wraps the keyring's sealing key
//! with AES-GCM, bound to the file header (FORMAT.md 10.3).
//!
//! `params` in the file name the token and the key (public labels), so a
//! file records which token key sealed it; `wrapped` is
//! `iv (12) || AES-GCM ciphertext (32) || tag (16)`, the IV taken from the
//! fresh nonce the core supplies. The PIN is held as a secret string and
//! never appears in errors.

use alloc::string::String;
use alloc::vec::Vec;
use std::format;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::RvError;
use cryptoki::mechanism::Mechanism;
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use zeroize::Zeroize;

use crate::error::{Error, Result};
use crate::root::{KeyProvider, Retirement, RootKind};
use crate::secret::{KEY_LEN, KeyMaterial};

/// Length of the `wrapped` field this root writes.
const WRAPPED_LEN: usize = 12 + KEY_LEN + 16;

fn provider_error(message: String) -> Error {
    Error::KeyProvider { message }
}

fn describe(e: &cryptoki::error::Error) -> String {
    match e {
        cryptoki::error::Error::Pkcs11(RvError::PinIncorrect, _) => {
            "PKCS#11 login failed: wrong PIN".into()
        }
        cryptoki::error::Error::Pkcs11(RvError::PinLocked, _) => {
            "PKCS#11 login failed: the PIN is locked".into()
        }
        cryptoki::error::Error::Pkcs11(
            RvError::EncryptedDataInvalid | RvError::EncryptedDataLenRange,
            _,
        ) => "PKCS#11 unwrap failed: authentication failed".into(),
        other => format!("PKCS#11 error: {other}"),
    }
}

/// One initialised context per module for the whole process: PKCS#11
/// initialisation is process-wide, so a second `C_Initialize` fails and a
/// `C_Finalize` from one owner would break the others.
fn shared_context(module: &Path) -> Result<Pkcs11> {
    static CONTEXTS: Mutex<Vec<(PathBuf, Pkcs11)>> = Mutex::new(Vec::new());
    let mut contexts = CONTEXTS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((_, ctx)) = contexts.iter().find(|(p, _)| p == module) {
        return Ok(ctx.clone());
    }
    let ctx = Pkcs11::new(module).map_err(|e| {
        provider_error(format!(
            "cannot load PKCS#11 module {}: {e}",
            module.display()
        ))
    })?;
    ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
        .map_err(|e| provider_error(describe(&e)))?;
    contexts.push((module.to_path_buf(), ctx.clone()));
    Ok(ctx)
}

/// A root key held in a PKCS#11 token.
pub struct Pkcs11Root {
    ctx: Pkcs11,
    slot: Slot,
    pin: AuthPin,
    token_label: String,
    key_label: String,
}

impl core::fmt::Debug for Pkcs11Root {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Pkcs11Root")
            .field("token", &self.token_label)
            .field("key", &self.key_label)
            .finish_non_exhaustive()
    }
}

impl Pkcs11Root {
    /// Loads the PKCS#11 `module`, finds the token labelled `token_label`
    /// and checks that `pin` logs in. New seals use the AES key labelled
    /// `key_label`.
    ///
    /// # Errors
    /// [`Error::KeyProvider`] naming what failed (module, token, PIN).
    pub fn connect(module: &Path, token_label: &str, pin: &str, key_label: &str) -> Result<Self> {
        let ctx = shared_context(module)?;
        let slots = ctx
            .get_slots_with_token()
            .map_err(|e| provider_error(describe(&e)))?;
        let slot = slots
            .into_iter()
            .find(|s| {
                ctx.get_token_info(*s)
                    .is_ok_and(|t| t.label().trim_end() == token_label)
            })
            .ok_or_else(|| provider_error(format!("no PKCS#11 token labelled {token_label:?}")))?;
        let root = Self {
            ctx,
            slot,
            pin: AuthPin::new(pin.into()),
            token_label: token_label.into(),
            key_label: key_label.into(),
        };
        root.session()?;
        Ok(root)
    }

    /// Creates the AES-256 key `key_label` in the token: a token object,
    /// sensitive and never extractable, usable only to encrypt and decrypt.
    ///
    /// # Errors
    /// [`Error::KeyProvider`] if it exists already or the token refuses.
    pub fn create_key(&self) -> Result<()> {
        let session = self.session()?;
        if self.find_key(&session, &self.key_label).is_ok() {
            return Err(provider_error(format!(
                "a key labelled {:?} exists already",
                self.key_label
            )));
        }
        let template = [
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::KeyType(KeyType::AES),
            Attribute::ValueLen(32.into()),
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Encrypt(true),
            Attribute::Decrypt(true),
            Attribute::Label(self.key_label.as_bytes().to_vec()),
        ];
        session
            .generate_key(&Mechanism::AesKeyGen, &template)
            .map(|_| ())
            .map_err(|e| provider_error(describe(&e)))
    }

    fn session(&self) -> Result<Session> {
        let session = self
            .ctx
            .open_rw_session(self.slot)
            .map_err(|e| provider_error(describe(&e)))?;
        match session.login(UserType::User, Some(&self.pin)) {
            Ok(()) | Err(cryptoki::error::Error::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {
                Ok(session)
            }
            Err(e) => Err(provider_error(describe(&e))),
        }
    }

    fn find_key(&self, session: &Session, label: &str) -> Result<ObjectHandle> {
        let found = session
            .find_objects(&[
                Attribute::Class(ObjectClass::SECRET_KEY),
                Attribute::Label(label.as_bytes().to_vec()),
            ])
            .map_err(|e| provider_error(describe(&e)))?;
        found.into_iter().next().ok_or_else(|| {
            provider_error(format!(
                "no key labelled {label:?} in PKCS#11 token {:?}",
                self.token_label
            ))
        })
    }

    /// The label of the data object that records the newest generation of
    /// keyring `keyring_id` in this token (FORMAT.md 10.6).
    fn generation_label(keyring_id: &[u8; 16]) -> Vec<u8> {
        let mut label = b"strongroom-generation/".to_vec();
        for b in keyring_id {
            label.extend_from_slice(format!("{b:02x}").as_bytes());
        }
        label
    }

    /// Every generation record of this label, with its value.
    fn generation_records(
        &self,
        session: &Session,
        label: &[u8],
    ) -> Result<Vec<(ObjectHandle, u64)>> {
        let err = |e: cryptoki::error::Error| provider_error(describe(&e));
        let found = session
            .find_objects(&[
                Attribute::Class(ObjectClass::DATA),
                Attribute::Label(label.to_vec()),
            ])
            .map_err(err)?;
        let mut records = Vec::with_capacity(found.len());
        for handle in found {
            let attrs = session
                .get_attributes(handle, &[AttributeType::Value])
                .map_err(err)?;
            let value = attrs.into_iter().find_map(|a| match a {
                Attribute::Value(v) => Some(v),
                _ => None,
            });
            let bytes: [u8; 8] = value
                .as_deref()
                .and_then(|v| v.try_into().ok())
                .ok_or_else(|| {
                    provider_error("the token's generation record is not 8 bytes".into())
                })?;
            records.push((handle, u64::from_be_bytes(bytes)));
        }
        Ok(records)
    }

    /// Token and key labels from a file's parameters.
    fn parse_params(params: &[u8]) -> Result<(&str, &str)> {
        let bad = || Error::Malformed {
            reason: "PKCS#11 parameters are malformed",
        };
        let (&tl, rest) = params.split_first().ok_or_else(bad)?;
        let (token, rest) = rest.split_at_checked(usize::from(tl)).ok_or_else(bad)?;
        let (&kl, rest) = rest.split_first().ok_or_else(bad)?;
        let (key, rest) = rest.split_at_checked(usize::from(kl)).ok_or_else(bad)?;
        if !rest.is_empty() {
            return Err(bad());
        }
        let s = |b| core::str::from_utf8(b).map_err(|_| bad());
        Ok((s(token)?, s(key)?))
    }
}

impl KeyProvider for Pkcs11Root {
    fn root_kind(&self) -> RootKind {
        RootKind::Pkcs11
    }

    fn new_params(&self, _random: &[u8; 16]) -> Result<Vec<u8>> {
        let (t, k) = (self.token_label.as_bytes(), self.key_label.as_bytes());
        let (tl, kl) = (u8::try_from(t.len()), u8::try_from(k.len()));
        let (Ok(tl), Ok(kl)) = (tl, kl) else {
            return Err(Error::InvalidArgument {
                reason: "PKCS#11 labels are at most 255 bytes",
            });
        };
        let mut out = Vec::with_capacity(2 + t.len() + k.len());
        out.push(tl);
        out.extend_from_slice(t);
        out.push(kl);
        out.extend_from_slice(k);
        Ok(out)
    }

    fn wrap(
        &self,
        params: &[u8],
        key: &KeyMaterial,
        aad: &[u8],
        nonce: &[u8; 24],
    ) -> Result<Vec<u8>> {
        let (_, key_label) = Self::parse_params(params)?;
        let session = self.session()?;
        let handle = self.find_key(&session, key_label)?;
        let mut iv = [0u8; 12];
        iv.copy_from_slice(&nonce[..12]);
        let params =
            GcmParams::new(&mut iv, aad, 128.into()).map_err(|e| provider_error(describe(&e)))?;
        let sealed = session
            .encrypt(&Mechanism::AesGcm(params), handle, key.expose_secret())
            .map_err(|e| provider_error(describe(&e)))?;
        let mut out = Vec::with_capacity(WRAPPED_LEN);
        out.extend_from_slice(&nonce[..12]);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    fn unwrap(&self, params: &[u8], wrapped: &[u8], aad: &[u8]) -> Result<KeyMaterial> {
        let (_, key_label) = Self::parse_params(params)?;
        if wrapped.len() != WRAPPED_LEN {
            return Err(Error::Malformed {
                reason: "PKCS#11-wrapped sealing key has the wrong length",
            });
        }
        let session = self.session()?;
        let handle = self.find_key(&session, key_label)?;
        let mut iv = [0u8; 12];
        iv.copy_from_slice(&wrapped[..12]);
        let params =
            GcmParams::new(&mut iv, aad, 128.into()).map_err(|e| provider_error(describe(&e)))?;
        let mut plain = session
            .decrypt(&Mechanism::AesGcm(params), handle, &wrapped[12..])
            .map_err(|_| Error::AuthenticationFailed)?;
        let key = KeyMaterial::from_slice(&plain);
        plain.zeroize();
        key
    }

    /// Reads the token's data objects `strongroom-generation/<keyring id
    /// in hex>` (8-byte big-endian generations); the highest counts.
    fn recorded_generation(&self, keyring_id: &[u8; 16]) -> Result<Option<u64>> {
        let session = self.session()?;
        let records = self.generation_records(&session, &Self::generation_label(keyring_id))?;
        Ok(records.into_iter().map(|(_, g)| g).max())
    }

    /// Raises the token's generation record, never lowers it. Tokens may
    /// refuse to change a data object's value, so a new object is created
    /// first and the lower ones destroyed after: a crash in between leaves
    /// two records, and the higher one counts.
    fn record_generation(&self, keyring_id: &[u8; 16], generation: u64) -> Result<()> {
        let session = self.session()?;
        let label = Self::generation_label(keyring_id);
        let records = self.generation_records(&session, &label)?;
        if records.iter().any(|&(_, g)| g >= generation) {
            return Ok(());
        }
        let err = |e: cryptoki::error::Error| provider_error(describe(&e));
        session
            .create_object(&[
                Attribute::Class(ObjectClass::DATA),
                Attribute::Token(true),
                Attribute::Private(true),
                Attribute::Application(b"strongroom".to_vec()),
                Attribute::Label(label),
                Attribute::Value(generation.to_be_bytes().to_vec()),
            ])
            .map_err(err)?;
        for (handle, _) in records {
            session.destroy_object(handle).map_err(err)?;
        }
        Ok(())
    }

    /// Destroys this root's token key: no keyring file sealed under it
    /// opens again.
    fn retire(&self) -> Result<Retirement> {
        let session = self.session()?;
        let handle = self.find_key(&session, &self.key_label)?;
        session
            .destroy_object(handle)
            .map_err(|e| provider_error(describe(&e)))?;
        Ok(Retirement::Destroyed)
    }
}
