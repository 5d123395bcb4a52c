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
const MIN_KEYRING_VECTORS: usize = 33;
/// Of them, version-2 vectors.
const MIN_V2_VECTORS: usize = 14;
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
    /// For a version-2 file that opens: its keyring id and generation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lineage: Option<LineageJson>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct LineageJson {
    keyring_id_hex: String,
    generation: u64,
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

fn run(v: &Vector) -> (String, Option<(Keyring, Option<LineageJson>)>) {
    let file = hex::decode(&v.file_hex).unwrap();
    match keyring_file::open(&file, root_of(&v.root).as_ref()) {
        Ok((k, lineage)) => (
            "ok".into(),
            Some((
                k,
                lineage.map(|l| LineageJson {
                    keyring_id_hex: hex::encode(l.keyring_id),
                    generation: l.generation,
                }),
            )),
        ),
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
    let (mut ok, mut fail, mut v2) = (0, 0, 0);
    for p in &paths {
        let v: Vector = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
        assert_eq!(
            Some(v.name.as_str()),
            p.file_stem().and_then(|s| s.to_str())
        );
        assert!(
            v.format == "keyring-file-v1" || v.format == "keyring-file-v2",
            "{}",
            v.name
        );
        v2 += usize::from(v.format == "keyring-file-v2");
        assert_eq!(v.name.starts_with("fail_"), v.result != "ok", "{}", v.name);
        let (result, opened) = run(&v);
        assert_eq!(result, v.result, "{}", v.name);
        if let Some((k, lineage)) = opened {
            assert!(
                holds(k, v.keyring.as_ref().unwrap()),
                "{}: contents differ",
                v.name
            );
            // A version-2 file's lineage is exactly the stated one; a
            // version-1 file has none.
            assert_eq!(lineage, v.lineage, "{}: lineage", v.name);
            ok += 1;
        } else {
            fail += 1;
        }
    }
    println!(
        "golden keyring-file vectors: {} checked, {v2} of them version 2 ({ok} open to their exact contents and lineage, {fail} fail_ cases give their exact error)",
        paths.len()
    );
    assert!(v2 >= MIN_V2_VECTORS, "version-2 vectors went missing");
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

/// The lineage of the hand-built version-2 vectors.
const HAND_ID: [u8; 16] = [0x1d; 16];
const HAND_GENERATION: u64 = 7;

/// A version-2 keyring file built by hand under the key-file root
/// (tests/common), at generation `generation`.
fn hand_built(
    generation: u64,
    root_kind: u8,
    params: &[u8],
    wrapped: Option<&[u8]>,
    payload: &[u8],
) -> Vec<u8> {
    common::hand_built_keyring_file(
        &FILE_KEY,
        Some((HAND_ID, generation)),
        root_kind,
        params,
        wrapped,
        payload,
    )
}

fn lineage_of(file: &[u8]) -> Option<LineageJson> {
    keyring_file::inspect(file)
        .unwrap()
        .lineage
        .map(|l| LineageJson {
            keyring_id_hex: hex::encode(l.keyring_id),
            generation: l.generation,
        })
}

fn vector(
    name: &str,
    description: &str,
    root: RootJson,
    file: &[u8],
    result: &str,
    keyring: Option<Vec<KeyJson>>,
) -> Vector {
    let lineage = keyring.as_ref().and_then(|_| lineage_of(file));
    Vector {
        name: name.into(),
        description: description.into(),
        format: "keyring-file-v2".into(),
        test_key_warning: WARNING.into(),
        root,
        file_hex: hex::encode(file),
        result: result.into(),
        keyring,
        lineage,
    }
}

fn with_byte(file: &[u8], at: usize, value: u8) -> Vec<u8> {
    let mut f = file.to_vec();
    f[at] = value;
    f
}

/// The version-2 vectors. The version-1 vectors beside them were written by
/// the version-1 writer (before version 2 existed) and are frozen: no code
/// writes version 1 any more, and every one of them must keep giving its
/// result.
fn cases() -> Vec<Vector> {
    let (keys, materials) = rich();
    let keyring = build(&keys);
    let kf_root = KeyFileRoot::new(&KeyMaterial::from_slice(&FILE_KEY).unwrap());
    // A file some saves old: generation 5.
    let saved_5 = keyring_file::Lineage {
        keyring_id: *b"golden-keyring-1",
        generation: 5,
    };
    let by_file = keyring_file::encrypt_as(&keyring, &kf_root, saved_5, &mut SysRng).unwrap();
    let by_pass = keyring_file::encrypt(
        &keyring,
        &PassphraseRoot::with_params(PASSPHRASE, FAST),
        &mut SysRng,
    )
    .unwrap();
    let empty = keyring_file::encrypt(&Keyring::new(), &kf_root, &mut SysRng).unwrap();
    let expected = describe(&keyring, &materials);
    let kf = || key_file_root(FILE_KEY);
    let pp = || passphrase_root(PASSPHRASE);
    // Version 2: params start at offset 32 (m at 32, t at 36).
    let mut t_zero = by_pass.clone();
    t_zero[36..40].copy_from_slice(&0u32.to_be_bytes());
    let mut altered = by_file.clone();
    let last = altered.len() - 20;
    altered[last] ^= 1;
    let empty_payload = [1u8, 0, 0, 0, 0];
    let mut generation_raised = by_file.clone();
    generation_raised[29] ^= 0x01;
    let mut id_altered = by_file.clone();
    id_altered[6] ^= 0x80;
    vec![
        vector(
            "keyring_file_v2_key_file",
            "two keys (destroyed, disabled, enabled versions; a minimum; a rotation period) under a key-file root, at generation 5",
            kf(),
            &by_file,
            "ok",
            Some(expected.clone()),
        ),
        vector(
            "keyring_file_v2_passphrase",
            "the same keyring under a passphrase root, Argon2id m=64 KiB t=1 p=1, generation 1",
            pp(),
            &by_pass,
            "ok",
            Some(expected.clone()),
        ),
        vector(
            "keyring_file_v2_empty",
            "a keyring with no key",
            kf(),
            &empty,
            "ok",
            Some(Vec::new()),
        ),
        vector(
            "keyring_file_v2_hand_built",
            "an empty keyring built by hand from FORMAT.md 10 (known sealing key and nonces; keyring id 1d x 16, generation 7)",
            kf(),
            &hand_built(HAND_GENERATION, 2, &[], None, &empty_payload),
            "ok",
            Some(Vec::new()),
        ),
        vector(
            "fail_keyring_file_v2_wrong_key",
            "the key-file vector opened with another key file",
            key_file_root([0x4c; 32]),
            &by_file,
            "authentication_failed",
            None,
        ),
        vector(
            "fail_keyring_file_v2_wrong_passphrase",
            "the passphrase vector opened with another passphrase",
            passphrase_root(b"correct horse battery stable"),
            &by_pass,
            "authentication_failed",
            None,
        ),
        vector(
            "fail_keyring_file_v2_generation_altered",
            "generation 5 changed to 4 in the header: the wrap and the payload are bound to it",
            kf(),
            &generation_raised,
            "authentication_failed",
            None,
        ),
        vector(
            "fail_keyring_file_v2_keyring_id_altered",
            "one bit of the keyring id flipped",
            kf(),
            &id_altered,
            "authentication_failed",
            None,
        ),
        vector(
            "fail_keyring_file_v2_generation_zero",
            "generation 0 (10.1: at least 1), otherwise well formed",
            kf(),
            &hand_built(0, 2, &[], None, &empty_payload),
            "malformed",
            None,
        ),
        vector(
            "fail_keyring_file_v2_truncated_lineage",
            "only the first 29 bytes: the generation is cut",
            kf(),
            &by_file[..29],
            "malformed",
            None,
        ),
        vector(
            "fail_keyring_file_format_3",
            "format byte 0x03",
            kf(),
            &with_byte(&by_file, 4, 3),
            "unsupported_format",
            None,
        ),
        vector(
            "fail_keyring_file_v2_argon2_t_zero",
            "passphrase parameters with t = 0: out of bounds, refused before Argon2 (10.5 step 5)",
            pp(),
            &t_zero,
            "too_large",
            None,
        ),
        vector(
            "fail_keyring_file_v2_payload_altered",
            "one payload byte flipped",
            kf(),
            &altered,
            "authentication_failed",
            None,
        ),
        vector(
            "fail_keyring_file_v2_wrapped_71_bytes",
            "a 71-byte wrapped sealing key (10.2: 72)",
            kf(),
            &hand_built(HAND_GENERATION, 2, &[], Some(&[0u8; 71]), &empty_payload),
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
    let root = KeyFileRoot::new(&KeyMaterial::from_slice(&FILE_KEY).unwrap());
    let file = hand_built(HAND_GENERATION, 2, &[], None, &payload);
    let (keyring, lineage) = keyring_file::open(&file, &root).unwrap();
    assert!(keyring.is_empty());
    assert_eq!(
        lineage,
        Some(keyring_file::Lineage {
            keyring_id: HAND_ID,
            generation: HAND_GENERATION
        })
    );
    assert!(matches!(
        keyring_file::decrypt(
            &hand_built(HAND_GENERATION, 2, &[], None, &[1, 0, 0, 0, 1]),
            &root
        ),
        Err(Error::Malformed { .. })
    ));
    // And the version-1 builder too.
    let v1 = common::hand_built_keyring_file(&FILE_KEY, None, 2, &[], None, &payload);
    assert_eq!(keyring_file::open(&v1, &root).unwrap().1, None);
}
