//! Helpers shared by the core's integration tests.
//!
//! Key material here is TEST DATA: fixed patterns, never used for real data.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]
#![allow(dead_code, unreachable_pub)]

// Explicit, because the crate's own unit tests (store/fault_tests.rs)
// include this file too, and the crate is no_std.
extern crate alloc;
use alloc::vec;
use alloc::vec::Vec;
use core::convert::Infallible;
use core::fmt;

use strongroom::rand_core::{TryCryptoRng, TryRng};
use strongroom::{KeyId, KeyImport, KeyMaterial, Keyring, Timestamp, VersionImport, VersionState};

/// Key id used by the test keyrings.
pub const TEST_KEY_ID: u32 = 0x5eed_0001;
/// Creation time used by the test keyrings.
pub const T0: Timestamp = Timestamp::from_unix_seconds(1_750_000_000);

/// TEST KEY MATERIAL for version `v`: bytes `v*32 .. v*32+31` (mod 256).
pub fn test_material(version: u32) -> [u8; 32] {
    core::array::from_fn(|i| (version as usize * 32 + i) as u8)
}

/// A keyring with key `name` (id [`TEST_KEY_ID`]), versions 1..=n with the
/// given states and [`test_material`], primary `primary`, minimum `min`.
pub fn keyring_with(name: &str, states: &[VersionState], primary: u32, min: u32) -> Keyring {
    let versions = states
        .iter()
        .zip(1u32..)
        .map(|(state, v)| {
            let material = (*state != VersionState::Destroyed)
                .then(|| KeyMaterial::from_slice(&test_material(v)).unwrap());
            VersionImport::new(*state, T0, material)
        })
        .collect();
    let mut import = KeyImport::new(name, KeyId::from_u32(TEST_KEY_ID), T0, versions);
    import.primary_version = primary;
    import.min_decryption_version = min;
    let mut keyring = Keyring::new();
    keyring.import_key(import).unwrap();
    keyring
}

/// A keyring whose key `name` has `n` enabled versions, version `n` primary.
pub fn keyring_at_version(name: &str, n: u32) -> Keyring {
    keyring_with(name, &vec![VersionState::Enabled; n as usize], n, 1)
}

/// The error a failing RNG reports.
#[derive(Debug)]
pub struct RngDown;

impl fmt::Display for RngDown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("rng down")
    }
}

impl core::error::Error for RngDown {}

/// An RNG that always fails.
pub struct FailingRng;

impl TryRng for FailingRng {
    type Error = RngDown;
    fn try_next_u32(&mut self) -> Result<u32, RngDown> {
        Err(RngDown)
    }
    fn try_next_u64(&mut self) -> Result<u64, RngDown> {
        Err(RngDown)
    }
    fn try_fill_bytes(&mut self, _dst: &mut [u8]) -> Result<(), RngDown> {
        Err(RngDown)
    }
}

impl TryCryptoRng for FailingRng {}

/// A "successful" RNG that returns only zeros (a stubbed or broken source).
pub struct ZeroRng;

impl TryRng for ZeroRng {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(0)
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(0)
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        dst.fill(0);
        Ok(())
    }
}

impl TryCryptoRng for ZeroRng {}

/// A deterministic RNG for tests that need reproducible keys (splitmix64).
/// NOT cryptographic: tests only.
pub struct SeededRng(u64);

impl SeededRng {
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x9e37_79b9_7f4a_7c15)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

impl TryRng for SeededRng {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(self.next() as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.next())
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(8) {
            let v = self.next().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
        Ok(())
    }
}

impl TryCryptoRng for SeededRng {}

/// An envelope for the primary version of key `name`, default chunk size,
/// OS randomness (what the removed `Keyring::encrypt_envelope` did).
pub fn encrypt_envelope(
    keyring: &Keyring,
    name: &str,
    plaintext: &[u8],
    context: &strongroom::EncryptionContext,
) -> Result<Vec<u8>, strongroom::Error> {
    strongroom::envelope::encrypt(
        &[strongroom::envelope::Recipient::Key { keyring, name }],
        plaintext,
        context,
        strongroom::envelope::DEFAULT_CHUNK_SIZE,
        &mut strongroom::SysRng,
    )
}

/// Decrypts an envelope with `keyring`.
pub fn decrypt_envelope(
    keyring: &Keyring,
    envelope: &[u8],
    context: &strongroom::EncryptionContext,
) -> Result<strongroom::SecretBytes, strongroom::Error> {
    strongroom::envelope::decrypt(
        strongroom::envelope::Identity::Keyring(keyring),
        envelope,
        context,
    )
}

/// Rewraps an envelope to the primary versions of `keyring`.
pub fn rewrap_envelope(
    keyring: &Keyring,
    envelope: &[u8],
    context: &strongroom::EncryptionContext,
) -> Result<Vec<u8>, strongroom::Error> {
    strongroom::envelope::rewrap(keyring, envelope, context, &mut strongroom::SysRng)
}

/// Whether two keyrings hold the same keys, versions, states, metadata and
/// material, through the public API only: equal metadata, and for every
/// version the same derived key (HKDF of the material) or the same refusal.
pub fn same_contents(a: &Keyring, b: &Keyring) -> bool {
    if a.keys() != b.keys() {
        return false;
    }
    let ctx = strongroom::EncryptionContext::new()
        .with("probe", "same_contents")
        .unwrap();
    a.keys().iter().all(|k| {
        k.versions.iter().all(|v| {
            let da = a.derive_key_version(&k.name, v.version, &ctx);
            let db = b.derive_key_version(&k.name, v.version, &ctx);
            match (da, db) {
                (Ok(x), Ok(y)) => x.key() == y.key(),
                (Err(x), Err(y)) => x == y,
                _ => false,
            }
        })
    })
}

/// A new, empty directory under the system temp dir, with a random suffix.
pub fn fresh_dir(name: &str) -> std::path::PathBuf {
    let mut nonce = [0u8; 6];
    strongroom::SysRng.try_fill_bytes(&mut nonce).unwrap();
    let suffix: std::string::String = nonce.iter().map(|b| std::format!("{b:02x}")).collect();
    let dir = std::env::temp_dir().join(std::format!("strongroom-{name}-{suffix}"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A key-file root whose 32 bytes are all `byte` (TEST KEY MATERIAL).
pub fn key_file_root(byte: u8) -> alloc::sync::Arc<dyn strongroom::root::KeyProvider> {
    alloc::sync::Arc::new(strongroom::root::KeyFileRoot::new(
        &KeyMaterial::from_slice(&[byte; 32]).unwrap(),
    ))
}

/// Runs the ignored test `name` of this test binary as a child process,
/// single-threaded, with `env_key=env_value`, and returns what it printed
/// after `child: ` (its report). Panics, with its output, if it failed.
pub fn run_child_test(name: &str, env_key: &str, env_value: &str) -> std::string::String {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            name,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(env_key, env_value)
        .output()
        .unwrap();
    let stdout = std::string::String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        std::string::String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .find_map(|l| l.split_once("child: ").map(|(_, r)| r.into()))
        .expect("the child printed no report")
}

/// A keyring file built by hand from FORMAT.md 10.1-10.3, with the
/// primitives directly (an encoder independent of the library's): a
/// key-file root of `file_key`, a fixed sealing key (`0x5a` x 32) and
/// fixed nonces (`0x07` x 24 for the wrap, `0x09` x 24 for the payload).
/// `root_kind`, `params` and `wrapped` (`None`: the real 72-byte wrap) are
/// as given, so tests and vectors can build files the library never
/// writes; `payload` is the plaintext encoding (10.4). `lineage` `None`
/// builds a version-1 file; `Some((keyring_id, generation))` a version-2
/// file with that lineage.
pub fn hand_built_keyring_file(
    file_key: &[u8; 32],
    lineage: Option<([u8; 16], u64)>,
    root_kind: u8,
    params: &[u8],
    wrapped: Option<&[u8]>,
    payload: &[u8],
) -> Vec<u8> {
    use chacha20poly1305::aead::{AeadInOut, KeyInit};
    use chacha20poly1305::{XChaCha20Poly1305, XNonce};
    let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(&[]), file_key);
    let mut kek = [0u8; 32];
    hk.expand(b"strongroom/keyring/v1/keyfile", &mut kek)
        .unwrap();
    let sealing_key = [0x5a_u8; 32];
    let v = if lineage.is_some() { "v2" } else { "v1" };
    let mut out = b"SRKR".to_vec();
    out.push(if lineage.is_some() { 2 } else { 1 });
    out.push(root_kind);
    if let Some((id, generation)) = lineage {
        out.extend_from_slice(&id);
        out.extend_from_slice(&generation.to_be_bytes());
    }
    out.extend_from_slice(&u16::try_from(params.len()).unwrap().to_be_bytes());
    out.extend_from_slice(params);
    let wrap = match wrapped {
        Some(w) => w.to_vec(),
        None => {
            let nonce = [7u8; 24];
            let mut aad = std::format!("strongroom/keyring/{v}/root").into_bytes();
            aad.extend_from_slice(&out);
            let mut body = sealing_key;
            let tag = XChaCha20Poly1305::new(&kek.into())
                .encrypt_inout_detached(&XNonce::from(nonce), &aad, body.as_mut_slice().into())
                .unwrap();
            [&nonce[..], &body[..], &tag[..]].concat()
        }
    };
    out.extend_from_slice(&u16::try_from(wrap.len()).unwrap().to_be_bytes());
    out.extend_from_slice(&wrap);
    let nonce = [9u8; 24];
    let mut aad = std::format!("strongroom/keyring/{v}/payload").into_bytes();
    aad.extend_from_slice(&out);
    let mut body = payload.to_vec();
    let tag = XChaCha20Poly1305::new(&sealing_key.into())
        .encrypt_inout_detached(&XNonce::from(nonce), &aad, body.as_mut_slice().into())
        .unwrap();
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&body);
    out.extend_from_slice(&tag);
    out
}

/// [`hand_built_keyring_file`] with the real key-file header around
/// `payload` (a version-2 file, generation 1).
pub fn hand_sealed(payload: &[u8], file_key: &[u8; 32]) -> Vec<u8> {
    hand_built_keyring_file(file_key, Some(([0x1d; 16], 1)), 2, &[], None, payload)
}
