//! The **keyring file** format: the whole keyring, encrypted at rest under
//! a random sealing key that a root of trust ([`crate::root`]) wraps
//! (FORMAT.md 10).
//!
//! ```text
//! v2: "SRKR" 0x02 | root_kind u8 | keyring_id[16] | generation u64 | params_len u16 | params | wrapped_len u16 | wrapped | nonce[24] | payload ct || tag
//! v1: "SRKR" 0x01 | root_kind u8 |                                    params_len u16 | params | wrapped_len u16 | wrapped | nonce[24] | payload ct || tag
//! wrapped  = root.wrap(sealing key, aad = ROOT_LABEL || bytes before wrapped_len)
//! payload  = XChaCha20-Poly1305(sealing key, nonce, PAYLOAD_LABEL || bytes before nonce, keyring encoding)
//! ```
//!
//! Version 2 adds the file's [`Lineage`]: a random keyring id fixed when the
//! keyring is created and a generation that every save raises by one, so a
//! store can refuse an older copy of the file (a restored backup can bring
//! destroyed versions back). Version-1 files still open (generation 0) and
//! are written as version 2 by the next save.
//!
//! Changing the root re-encrypts the same key material under another root.
//! Parsing is bounded: files over [`MAX_KEYRING_FILE_LEN`], parameter blocks
//! over 1 KiB and Argon2 costs above [`Argon2Params`]'s maxima are rejected
//! before any KDF runs or any large buffer is allocated. Files on disk,
//! written atomically under a lock, are [`crate::store`].

use alloc::string::String;
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
/// Format byte of keyring file version 1 (read, never written).
pub const KEYRING_FILE_FORMAT_V1: u8 = 0x01;
/// Format byte of keyring file version 2 (written).
pub const KEYRING_FILE_FORMAT_V2: u8 = 0x02;
/// Largest keyring file accepted or produced (16 MiB).
pub const MAX_KEYRING_FILE_LEN: usize = 16 << 20;
/// Largest root parameter block or wrapped sealing key.
pub const MAX_ROOT_FIELD_LEN: usize = 1024;

/// Associated-data labels of the sealing-key wrap (FORMAT.md 10.2).
const ROOT_LABEL_V1: &[u8] = b"strongroom/keyring/v1/root";
const ROOT_LABEL_V2: &[u8] = b"strongroom/keyring/v2/root";
/// Associated-data labels of the payload (FORMAT.md 10.1).
const PAYLOAD_LABEL_V1: &[u8] = b"strongroom/keyring/v1/payload";
const PAYLOAD_LABEL_V2: &[u8] = b"strongroom/keyring/v2/payload";

/// Which keyring a file holds and how many saves made it (version-2 files).
///
/// The id is 16 random bytes chosen when the keyring file is first written
/// and kept by every later save; the generation starts at 1 and every save
/// raises it by one. Both are public and bound to the file's
/// authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Lineage {
    /// The keyring's id.
    pub keyring_id: [u8; 16],
    /// The save count, at least 1.
    pub generation: u64,
}

impl Lineage {
    /// A new keyring's lineage: a random id, generation 1.
    ///
    /// # Errors
    /// [`Error::RandomnessUnavailable`].
    pub fn new<R: TryCryptoRng + ?Sized>(rng: &mut R) -> Result<Self> {
        let mut keyring_id = [0u8; 16];
        random::fill(rng, &mut keyring_id)?;
        Ok(Self {
            keyring_id,
            generation: 1,
        })
    }

    /// The lineage of the next save: same id, generation one higher.
    ///
    /// # Errors
    /// [`Error::TooLarge`] at generation `u64::MAX`.
    pub fn next(self) -> Result<Self> {
        let generation = self.generation.checked_add(1).ok_or(Error::TooLarge {
            what: "keyring generation",
            max: usize::MAX,
        })?;
        Ok(Self {
            keyring_id: self.keyring_id,
            generation,
        })
    }
}

/// The generation file's first line (FORMAT.md 10.6).
const GENERATION_FILE_HEADER: &str = "strongroom keyring generation v1";
/// Longest generation file accepted (FORMAT.md 10.6).
pub const MAX_GENERATION_FILE_LEN: usize = 128;

/// The bytes of the generation file that records `lineage` beside a
/// keyring file (FORMAT.md 10.6): three lines, each ended by `\n`.
pub fn generation_file_bytes(lineage: Lineage) -> String {
    let mut id = String::with_capacity(32);
    for b in lineage.keyring_id {
        id.push_str(&alloc::format!("{b:02x}"));
    }
    alloc::format!(
        "{GENERATION_FILE_HEADER}\nkeyring_id {id}\ngeneration {}\n",
        lineage.generation
    )
}

/// Parses a generation file (FORMAT.md 10.6) strictly: exactly the bytes
/// [`generation_file_bytes`] writes for some lineage, nothing else.
///
/// # Errors
/// [`Error::Malformed`] for anything else.
pub fn parse_generation_file(bytes: &[u8]) -> Result<Lineage> {
    let bad = || malformed("the generation file is malformed (accept-restore rewrites it)");
    if bytes.len() > MAX_GENERATION_FILE_LEN {
        return Err(bad());
    }
    let text = core::str::from_utf8(bytes).map_err(|_| bad())?;
    let rest = text
        .strip_prefix(GENERATION_FILE_HEADER)
        .and_then(|r| r.strip_prefix('\n'))
        .ok_or_else(bad)?;
    let (id_line, rest) = rest.split_once('\n').ok_or_else(bad)?;
    let (gen_line, rest) = rest.split_once('\n').ok_or_else(bad)?;
    if !rest.is_empty() {
        return Err(bad());
    }
    let hex = id_line.strip_prefix("keyring_id ").ok_or_else(bad)?;
    if hex.len() != 32 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(bad());
    }
    let mut keyring_id = [0u8; 16];
    for (i, byte) in keyring_id.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    let digits = gen_line.strip_prefix("generation ").ok_or_else(bad)?;
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    if !canonical {
        return Err(bad());
    }
    let generation: u64 = digits.parse().map_err(|_| bad())?;
    Ok(Lineage {
        keyring_id,
        generation,
    })
}

/// Public facts of a keyring file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyringFileInfo {
    /// The format byte (1 or 2).
    pub format: u8,
    /// The root kind.
    pub root_kind: RootKind,
    /// Argon2id costs, for a passphrase root.
    pub argon2: Option<Argon2Params>,
    /// The keyring id and generation (`None` for a version-1 file).
    pub lineage: Option<Lineage>,
    /// File length.
    pub len: usize,
    /// The root's public parameters (FORMAT.md 10.3): a salt and costs, a
    /// token and key label, a transit mount and key name.
    pub root_params: Vec<u8>,
}

struct Parsed<'a> {
    kind: RootKind,
    lineage: Option<Lineage>,
    format: u8,
    params: &'a [u8],
    wrapped: &'a [u8],
    /// Bytes `0 .. params end`: what the root wrap is bound to.
    root_aad_part: &'a [u8],
    /// Bytes before the nonce: what the payload is bound to.
    payload_aad_part: &'a [u8],
    nonce: &'a [u8],
    ciphertext: &'a [u8],
    tag: &'a [u8],
}

impl Parsed<'_> {
    fn labels(&self) -> (&'static [u8], &'static [u8]) {
        if self.format == KEYRING_FILE_FORMAT_V1 {
            (ROOT_LABEL_V1, PAYLOAD_LABEL_V1)
        } else {
            (ROOT_LABEL_V2, PAYLOAD_LABEL_V2)
        }
    }
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
    let truncated = || malformed("keyring file is truncated");
    let format = *bytes.get(4).ok_or_else(truncated)?;
    if format != KEYRING_FILE_FORMAT_V1 && format != KEYRING_FILE_FORMAT_V2 {
        return Err(Error::UnsupportedFormat { version: format });
    }
    let kind_byte = *bytes.get(5).ok_or_else(truncated)?;
    let kind = RootKind::from_byte(kind_byte).ok_or(malformed("unknown root kind"))?;
    let (lineage, params_len_at) = if format == KEYRING_FILE_FORMAT_V1 {
        (None, 6)
    } else {
        let fixed = bytes.get(6..30).ok_or_else(truncated)?;
        let mut keyring_id = [0u8; 16];
        keyring_id.copy_from_slice(&fixed[..16]);
        let mut generation = [0u8; 8];
        generation.copy_from_slice(&fixed[16..]);
        let generation = u64::from_be_bytes(generation);
        if generation == 0 {
            return Err(malformed("keyring generation 0"));
        }
        (
            Some(Lineage {
                keyring_id,
                generation,
            }),
            30,
        )
    };
    let u16_at = |at: usize| -> Result<usize> {
        let b = bytes.get(at..at + 2).ok_or_else(truncated)?;
        Ok(usize::from(u16::from_be_bytes([b[0], b[1]])))
    };
    let params_len = u16_at(params_len_at)?;
    if params_len > MAX_ROOT_FIELD_LEN {
        return Err(malformed("root parameters too long"));
    }
    let params_start = params_len_at + 2;
    let params_end = params_start + params_len;
    let wrapped_len = u16_at(params_end)?;
    if wrapped_len > MAX_ROOT_FIELD_LEN {
        return Err(malformed("wrapped sealing key too long"));
    }
    let wrapped_end = params_end + 2 + wrapped_len;
    let nonce_end = wrapped_end + XNONCE_LEN;
    if bytes.len() < nonce_end + TAG_LEN {
        return Err(truncated());
    }
    let (ciphertext, tag) = bytes[nonce_end..].split_at(bytes.len() - nonce_end - TAG_LEN);
    Ok(Parsed {
        kind,
        lineage,
        format,
        params: &bytes[params_start..params_end],
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
        format: p.format,
        root_kind: p.kind,
        argon2,
        lineage: p.lineage,
        len: bytes.len(),
        root_params: p.params.to_vec(),
    })
}

/// The file `parse` accepted, written back from its parsed fields by the
/// FORMAT.md 10.2 layout, with a passphrase root's parameter block
/// rebuilt from the costs it parsed to (fuzz targets only).
#[cfg(fuzzing)]
pub(crate) fn reencode(bytes: &[u8]) -> Option<Vec<u8>> {
    let p = parse(bytes).ok()?;
    let params = match p.kind {
        RootKind::Passphrase => {
            let (costs, salt) = PassphraseRoot::parse_params(p.params).ok()?;
            let mut out = Vec::with_capacity(p.params.len());
            for n in [costs.m_cost_kib, costs.t_cost, costs.p_cost] {
                out.extend_from_slice(&n.to_be_bytes());
            }
            out.extend_from_slice(salt);
            out
        }
        _ => p.params.to_vec(),
    };
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&KEYRING_FILE_MAGIC);
    out.push(p.format);
    out.push(p.kind.to_byte());
    if let Some(lineage) = p.lineage {
        out.extend_from_slice(&lineage.keyring_id);
        out.extend_from_slice(&lineage.generation.to_be_bytes());
    }
    push_u16_len(&mut out, &params, "").ok()?;
    push_u16_len(&mut out, p.wrapped, "").ok()?;
    out.extend_from_slice(p.nonce);
    out.extend_from_slice(p.ciphertext);
    out.extend_from_slice(p.tag);
    Some(out)
}

/// Encrypts `keyring` into a new keyring file under `root`: a version-2
/// file with a fresh [`Lineage`] (random id, generation 1).
///
/// # Errors
/// [`Error::TooLarge`] past [`MAX_KEYRING_FILE_LEN`]; the root's errors;
/// [`Error::RandomnessUnavailable`].
pub fn encrypt<R: TryCryptoRng + ?Sized>(
    keyring: &Keyring,
    root: &dyn KeyProvider,
    rng: &mut R,
) -> Result<Vec<u8>> {
    let lineage = Lineage::new(rng)?;
    encrypt_as(keyring, root, lineage, rng)
}

fn push_u16_len(out: &mut Vec<u8>, field: &[u8], what: &'static str) -> Result<()> {
    let len = u16::try_from(field.len())
        .ok()
        .filter(|&n| usize::from(n) <= MAX_ROOT_FIELD_LEN)
        .ok_or(malformed(what))?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(field);
    Ok(())
}

/// As [`encrypt`], with the given lineage: the store passes the loaded
/// file's [`Lineage::next`], so every save raises the generation.
///
/// # Errors
/// As [`encrypt`].
pub fn encrypt_as<R: TryCryptoRng + ?Sized>(
    keyring: &Keyring,
    root: &dyn KeyProvider,
    lineage: Lineage,
    rng: &mut R,
) -> Result<Vec<u8>> {
    if lineage.generation == 0 {
        return Err(Error::InvalidArgument {
            reason: "a keyring generation starts at 1",
        });
    }
    let mut payload = keyring.encode();
    let sealing_key = KeyMaterial::generate(rng)?;
    let mut salt = [0u8; 16];
    random::fill(rng, &mut salt)?;
    let mut wrap_nonce = [0u8; 24];
    random::fill(rng, &mut wrap_nonce)?;
    let params = root.new_params(&salt)?;
    let mut out = Vec::new();
    out.extend_from_slice(&KEYRING_FILE_MAGIC);
    out.push(KEYRING_FILE_FORMAT_V2);
    out.push(root.root_kind().to_byte());
    out.extend_from_slice(&lineage.keyring_id);
    out.extend_from_slice(&lineage.generation.to_be_bytes());
    push_u16_len(&mut out, &params, "root parameters too long")?;
    let wrapped = root.wrap(
        &params,
        &sealing_key,
        &labelled(ROOT_LABEL_V2, &out),
        &wrap_nonce,
    )?;
    push_u16_len(&mut out, &wrapped, "wrapped sealing key too long")?;
    let total = out.len() + XNONCE_LEN + payload.len() + TAG_LEN;
    if total > MAX_KEYRING_FILE_LEN {
        return Err(Error::TooLarge {
            what: "sealed keyring length",
            max: MAX_KEYRING_FILE_LEN,
        });
    }
    let aad = labelled(PAYLOAD_LABEL_V2, &out);
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
    open(bytes, root).map(|(keyring, _)| keyring)
}

/// As [`decrypt`], also returning the file's authenticated [`Lineage`]
/// (`None` for a version-1 file).
///
/// # Errors
/// As [`decrypt`].
pub fn open(bytes: &[u8], root: &dyn KeyProvider) -> Result<(Keyring, Option<Lineage>)> {
    let p = parse(bytes)?;
    if p.kind != root.root_kind() {
        return Err(Error::InvalidArgument {
            reason: match p.kind {
                RootKind::Passphrase => "the keyring is sealed with a passphrase",
                RootKind::KeyFile => "the keyring is sealed with a key file",
                RootKind::Pkcs11 => "the keyring is sealed with a PKCS#11 key",
                RootKind::External => "the keyring is sealed with an external key provider",
                RootKind::VaultTransit => "the keyring is sealed with a Vault transit key",
            },
        });
    }
    let (root_label, payload_label) = p.labels();
    let sealing_key = root.unwrap(p.params, p.wrapped, &labelled(root_label, p.root_aad_part))?;
    let mut payload = SecretBytes::from_slice(p.ciphertext);
    aead::decrypt_in_place(
        Algorithm::XChaCha20Poly1305,
        &sealing_key,
        p.nonce,
        &labelled(payload_label, p.payload_aad_part),
        payload.expose_secret_mut(),
        p.tag,
    )
    .map_err(|_| Error::AuthenticationFailed)?;
    Ok((Keyring::decode(payload.expose_secret())?, p.lineage))
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
