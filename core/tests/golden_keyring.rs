//! Golden vectors of keyring files (`tests/golden/keyring/*.json`,
//! FORMAT.md 10 and 11.2): files under a key-file root and a passphrase
//! root (at small, documented Argon2id costs so the tests stay fast), and
//! one `fail_` vector per rejection of 10.5. `independent_decoder.py`
//! checks the same files from FORMAT.md alone.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

mod common;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use strongroom::keyring_file;
use strongroom::root::{Argon2Params, KeyFileRoot, KeyProvider, PassphraseRoot};
use strongroom::{
    EncryptionContext, Error, KeyId, KeyImport, KeyMaterial, Keyring, SysRng, Timestamp,
    VersionImport, VersionState,
};

/// Keyring-file vectors committed so far; the test fails if any disappears.
const MIN_KEYRING_VECTORS: usize = 20;
const WARNING: &str =
    "TEST KEY MATERIAL: public, for conformance tests only; never use it for real data";
/// The Argon2id costs of the passphrase vectors (FORMAT.md 11.2).
const FAST: Argon2Params = Argon2Params {
    m_cost_kib: 64,
    t_cost: 1,
    p_cost: 1,
};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/golden/keyring")
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct VersionJson {
    version: u32,
    state: String,
    created: u64,
    key_hex: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct KeyJson {
    name: String,
    key_id: String,
    created: u64,
    primary_version: u32,
    min_decryption_version: u32,
    rotation_period_seconds: Option<u64>,
    versions: Vec<VersionJson>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct RootJson {
    kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_hex: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    passphrase_hex: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Vector {
    name: String,
    description: String,
    format: String,
    test_key_warning: String,
    root: RootJson,
    file_hex: String,
    result: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    keyring: Option<Vec<KeyJson>>,
}

/// TEST KEY MATERIAL: the key-file root of the vectors.
const FILE_KEY: [u8; 32] = [0x4b; 32];
const PASSPHRASE: &[u8] = b"correct horse battery staple";

fn root_of(r: &RootJson) -> Box<dyn KeyProvider> {
    match r.kind.as_str() {
        "key_file" => {
            let key = hex::decode(r.key_hex.as_ref().unwrap()).unwrap();
            Box::new(KeyFileRoot::new(&KeyMaterial::from_slice(&key).unwrap()))
        }
        "passphrase" => {
            let p = hex::decode(r.passphrase_hex.as_ref().unwrap()).unwrap();
            Box::new(PassphraseRoot::with_params(&p, FAST))
        }
        other => panic!("unknown root kind {other}"),
    }
}

fn key_file_root(key: [u8; 32]) -> RootJson {
    RootJson {
        kind: "key_file".into(),
        key_hex: Some(hex::encode(key)),
        passphrase_hex: None,
    }
}

fn passphrase_root(p: &[u8]) -> RootJson {
    RootJson {
        kind: "passphrase".into(),
        key_hex: None,
        passphrase_hex: Some(hex::encode(p)),
    }
}

fn state_name(s: VersionState) -> String {
    s.name().into()
}

/// Known test material by (key name, version).
type Materials = Vec<(&'static str, u32, [u8; 32])>;

/// The expected contents, in the vectors' JSON form, of `keyring`. The
/// material comes from `materials` (known test data), by (name, version).
fn describe(keyring: &Keyring, materials: &Materials) -> Vec<KeyJson> {
    keyring
        .keys()
        .into_iter()
        .map(|k| KeyJson {
            key_id: format!("{}", k.key_id),
            created: k.created.as_unix_seconds(),
            primary_version: k.primary_version,
            min_decryption_version: k.min_decryption_version,
            rotation_period_seconds: k.rotation_period_seconds,
            versions: k
                .versions
                .iter()
                .map(|v| VersionJson {
                    version: v.version,
                    state: state_name(v.state),
                    created: v.created.as_unix_seconds(),
                    key_hex: (v.state != VersionState::Destroyed).then(|| {
                        let m = materials
                            .iter()
                            .find(|(n, ver, _)| *n == k.name && *ver == v.version)
                            .unwrap();
                        hex::encode(m.2)
                    }),
                })
                .collect(),
            name: k.name,
        })
        .collect()
}

/// A keyring from the vectors' JSON form.
fn build(keys: &[KeyJson]) -> Keyring {
    let mut keyring = Keyring::new();
    for k in keys {
        let versions = k
            .versions
            .iter()
            .map(|v| {
                let state = match v.state.as_str() {
                    "enabled" => VersionState::Enabled,
                    "disabled" => VersionState::Disabled,
                    _ => VersionState::Destroyed,
                };
                let material = v
                    .key_hex
                    .as_ref()
                    .map(|h| KeyMaterial::from_slice(&hex::decode(h).unwrap()).unwrap());
                VersionImport::new(state, Timestamp::from_unix_seconds(v.created), material)
            })
            .collect();
        let id = u32::from_str_radix(&k.key_id, 16).unwrap();
        let mut import = KeyImport::new(
            &k.name,
            KeyId::from_u32(id),
            Timestamp::from_unix_seconds(k.created),
            versions,
        );
        import.primary_version = k.primary_version;
        import.min_decryption_version = k.min_decryption_version;
        import.rotation_period_seconds = k.rotation_period_seconds;
        keyring.import_key(import).unwrap();
    }
    keyring
}

/// Whether `got` holds exactly `want`: the same metadata, and for every
/// version with material the same material (compared through keys derived
/// after enabling every version, so disabled ones count too).
fn holds(mut got: Keyring, want: &[KeyJson]) -> bool {
    let mut expected = build(want);
    if got.keys() != expected.keys() {
        return false;
    }
    let ctx = EncryptionContext::new().with("probe", "golden").unwrap();
    for k in want {
        for kr in [&mut got, &mut expected] {
            kr.set_min_decryption_version(&k.name, 1).unwrap();
            for v in k.versions.iter().filter(|v| v.state == "disabled") {
                kr.enable_version(&k.name, v.version).unwrap();
            }
        }
        for v in k.versions.iter().filter(|v| v.key_hex.is_some()) {
            let a = got.derive_key_version(&k.name, v.version, &ctx).unwrap();
            let b = expected
                .derive_key_version(&k.name, v.version, &ctx)
                .unwrap();
            if a.key() != b.key() {
                return false;
            }
        }
    }
    true
}

fn run(v: &Vector) -> (String, Option<Keyring>) {
    let file = hex::decode(&v.file_hex).unwrap();
    match keyring_file::decrypt(&file, root_of(&v.root).as_ref()) {
        Ok(k) => ("ok".into(), Some(k)),
        Err(e) => (e.kind().name().into(), None),
    }
}

#[test]
fn every_golden_keyring_file_vector_gives_its_result() {
    let mut paths: Vec<_> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    let (mut ok, mut fail) = (0, 0);
    for p in &paths {
        let v: Vector = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
        assert_eq!(
            Some(v.name.as_str()),
            p.file_stem().and_then(|s| s.to_str())
        );
        assert_eq!(v.format, "keyring-file-v1");
        assert_eq!(v.name.starts_with("fail_"), v.result != "ok", "{}", v.name);
        let (result, keyring) = run(&v);
        assert_eq!(result, v.result, "{}", v.name);
        if let Some(k) = keyring {
            assert!(
                holds(k, v.keyring.as_ref().unwrap()),
                "{}: contents differ",
                v.name
            );
            ok += 1;
        } else {
            fail += 1;
        }
    }
    println!(
        "golden keyring-file vectors: {} checked ({ok} open to their exact contents, {fail} fail_ cases give their exact error)",
        paths.len()
    );
    assert!(
        paths.len() >= MIN_KEYRING_VECTORS,
        "golden vectors went missing"
    );
}

// ---------------------------------------------------------------------------
// Generator. Key material below is PUBLIC TEST DATA.

const T: u64 = 1_767_225_600;

fn m(b: u8) -> [u8; 32] {
    core::array::from_fn(|i| b.wrapping_add(i as u8))
}

/// Two keys: "files" with versions destroyed, disabled, enabled (primary),
/// minimum 2 and a 90-day rotation period; "pii" with one version.
fn rich() -> (Vec<KeyJson>, Materials) {
    let materials = vec![
        ("files", 2, m(0x20)),
        ("files", 3, m(0x30)),
        ("pii", 1, m(0x40)),
    ];
    let v = |version, state: &str, key: Option<[u8; 32]>| VersionJson {
        version,
        state: state.into(),
        created: T + u64::from(version) * 86_400,
        key_hex: key.map(hex::encode),
    };
    let keys = vec![
        KeyJson {
            name: "files".into(),
            key_id: "0f11e500".into(),
            created: T,
            primary_version: 3,
            min_decryption_version: 2,
            rotation_period_seconds: Some(90 * 86_400),
            versions: vec![
                v(1, "destroyed", None),
                v(2, "disabled", Some(m(0x20))),
                v(3, "enabled", Some(m(0x30))),
            ],
        },
        KeyJson {
            name: "pii".into(),
            key_id: "0000a11e".into(),
            created: T,
            primary_version: 1,
            min_decryption_version: 1,
            rotation_period_seconds: None,
            versions: vec![v(1, "enabled", Some(m(0x40)))],
        },
    ];
    (keys, materials)
}

/// A keyring file built by hand under the key-file root (tests/common).
fn hand_built(root_kind: u8, params: &[u8], wrapped: Option<&[u8]>, payload: &[u8]) -> Vec<u8> {
    common::hand_built_keyring_file(&FILE_KEY, root_kind, params, wrapped, payload)
}

fn vector(
    name: &str,
    description: &str,
    root: RootJson,
    file: &[u8],
    result: &str,
    keyring: Option<Vec<KeyJson>>,
) -> Vector {
    Vector {
        name: name.into(),
        description: description.into(),
        format: "keyring-file-v1".into(),
        test_key_warning: WARNING.into(),
        root,
        file_hex: hex::encode(file),
        result: result.into(),
        keyring,
    }
}

fn with_byte(file: &[u8], at: usize, value: u8) -> Vec<u8> {
    let mut f = file.to_vec();
    f[at] = value;
    f
}

fn cases() -> Vec<Vector> {
    let (keys, materials) = rich();
    let keyring = build(&keys);
    let by_file = keyring_file::encrypt(
        &keyring,
        &KeyFileRoot::new(&KeyMaterial::from_slice(&FILE_KEY).unwrap()),
        &mut SysRng,
    )
    .unwrap();
    let by_pass = keyring_file::encrypt(
        &keyring,
        &PassphraseRoot::with_params(PASSPHRASE, FAST),
        &mut SysRng,
    )
    .unwrap();
    let empty = keyring_file::encrypt(
        &Keyring::new(),
        &KeyFileRoot::new(&KeyMaterial::from_slice(&FILE_KEY).unwrap()),
        &mut SysRng,
    )
    .unwrap();
    let expected = describe(&keyring, &materials);
    let kf = || key_file_root(FILE_KEY);
    let pp = || passphrase_root(PASSPHRASE);
    let mut t_zero = by_pass.clone();
    t_zero[12..16].copy_from_slice(&0u32.to_be_bytes());
    let mut m_huge = by_pass.clone();
    m_huge[8..12].copy_from_slice(&(2u32 << 20).to_be_bytes());
    let mut altered = by_file.clone();
    let last = altered.len() - 20;
    altered[last] ^= 1;
    let empty_payload = [1u8, 0, 0, 0, 0];
    vec![
        vector(
            "keyring_file_v1_key_file",
            "two keys (destroyed, disabled, enabled versions; a minimum; a rotation period) under a key-file root",
            kf(),
            &by_file,
            "ok",
            Some(expected.clone()),
        ),
        vector(
            "keyring_file_v1_passphrase",
            "the same keyring under a passphrase root, Argon2id m=64 KiB t=1 p=1",
            pp(),
            &by_pass,
            "ok",
            Some(expected.clone()),
        ),
        vector(
            "keyring_file_v1_empty",
            "a keyring with no key",
            kf(),
            &empty,
            "ok",
            Some(Vec::new()),
        ),
        vector(
            "keyring_file_v1_hand_built",
            "an empty keyring built by hand from FORMAT.md 10 (known sealing key and nonces)",
            kf(),
            &hand_built(2, &[], None, &empty_payload),
            "ok",
            Some(Vec::new()),
        ),
        vector(
            "fail_keyring_file_v1_wrong_key",
            "the key-file vector opened with another key file",
            key_file_root([0x4c; 32]),
            &by_file,
            "authentication_failed",
            None,
        ),
        vector(
            "fail_keyring_file_v1_wrong_passphrase",
            "the passphrase vector opened with another passphrase",
            passphrase_root(b"correct horse battery stable"),
            &by_pass,
            "authentication_failed",
            None,
        ),
        vector(
            "fail_keyring_file_v1_wrong_root_kind",
            "a passphrase file opened with a key-file root (10.5 step 4)",
            kf(),
            &by_pass,
            "invalid_argument",
            None,
        ),
        vector(
            "fail_keyring_file_v1_bad_magic",
            "magic SRKQ",
            kf(),
            &with_byte(&by_file, 3, b'Q'),
            "malformed",
            None,
        ),
        vector(
            "fail_keyring_file_v1_shorter_than_magic",
            "3 bytes: SRK",
            kf(),
            b"SRK",
            "malformed",
            None,
        ),
        vector(
            "fail_keyring_file_v1_format_2",
            "format byte 0x02",
            kf(),
            &with_byte(&by_file, 4, 2),
            "unsupported_format",
            None,
        ),
        vector(
            "fail_keyring_file_v1_unknown_root_kind",
            "root_kind 9",
            kf(),
            &with_byte(&by_file, 5, 9),
            "malformed",
            None,
        ),
        vector(
            "fail_keyring_file_v1_truncated_header",
            "only the first 20 bytes",
            kf(),
            &by_file[..20],
            "malformed",
            None,
        ),
        vector(
            "fail_keyring_file_v1_argon2_t_zero",
            "passphrase parameters with t = 0: out of bounds, refused before Argon2 (10.5 step 5)",
            pp(),
            &t_zero,
            "too_large",
            None,
        ),
        vector(
            "fail_keyring_file_v1_argon2_m_2_gib",
            "passphrase parameters with m = 2 GiB: above the 1 GiB bound, refused before Argon2",
            pp(),
            &m_huge,
            "too_large",
            None,
        ),
        vector(
            "fail_keyring_file_v1_payload_altered",
            "one payload byte flipped",
            kf(),
            &altered,
            "authentication_failed",
            None,
        ),
        vector(
            "fail_keyring_file_v1_payload_truncated",
            "the last byte (of the tag) removed",
            kf(),
            &by_file[..by_file.len() - 1],
            "authentication_failed",
            None,
        ),
        vector(
            "fail_keyring_file_v1_key_file_params",
            "a key-file root with a 1-byte params field (10.3: must be empty)",
            kf(),
            &hand_built(2, &[0], None, &empty_payload),
            "malformed",
            None,
        ),
        vector(
            "fail_keyring_file_v1_wrapped_71_bytes",
            "a 71-byte wrapped sealing key (10.2: 72)",
            kf(),
            &hand_built(2, &[], Some(&[0u8; 71]), &empty_payload),
            "malformed",
            None,
        ),
        vector(
            "fail_keyring_file_v1_payload_version_2",
            "payload_version 0x02 (10.4)",
            kf(),
            &hand_built(2, &[], None, &[2, 0, 0, 0, 0]),
            "unsupported_format",
            None,
        ),
        vector(
            "fail_keyring_file_v1_payload_trailing_byte",
            "a byte after the last key (10.4)",
            kf(),
            &hand_built(2, &[], None, &[1, 0, 0, 0, 0, 0]),
            "malformed",
            None,
        ),
    ]
}

#[test]
#[ignore = "writes new golden vectors; run on purpose"]
fn generate_keyring_files() {
    let dir = dir();
    std::fs::create_dir_all(&dir).unwrap();
    let mut written = 0;
    for v in cases() {
        let path = dir.join(format!("{}.json", v.name));
        if path.exists() {
            continue;
        }
        // A vector is written only if the core gives its stated result.
        let (result, _) = run(&v);
        assert_eq!(result, v.result, "{}", v.name);
        std::fs::write(&path, serde_json::to_string_pretty(&v).unwrap() + "\n").unwrap();
        written += 1;
    }
    println!("wrote {written} new keyring-file vectors");
}

#[test]
fn the_hand_builder_follows_the_library() {
    // The hand-built file with a real payload opens like the library's own,
    // so the hand-built fail_ vectors differ only where they say.
    let payload = [1u8, 0, 0, 0, 0];
    let file = hand_built(2, &[], None, &payload);
    let root = KeyFileRoot::new(&KeyMaterial::from_slice(&FILE_KEY).unwrap());
    assert!(keyring_file::decrypt(&file, &root).unwrap().is_empty());
    assert!(matches!(
        keyring_file::decrypt(&hand_built(2, &[], None, &[1, 0, 0, 0, 1]), &root),
        Err(Error::Malformed { .. })
    ));
}
