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

// ---------------------------------------------------------------------------
// Transit-sealed keyring files (FORMAT.md 10.3, root kind 5), in
// `tests/golden/keyring_transit/`. The engine is an oracle, so each vector
// records the one exchange that opens the file: the request the opener
// must send to `<mount>/decrypt/<key>` (the file's `wrapped` as
// `ciphertext`, base64 of its `root_aad` as `associated_data`) and the
// engine's `plaintext` answer. The test serves that exchange from a
// loopback stand-in for the server, which refuses any other request as the
// engine does (`message authentication failed`), and opens the file with
// the library's real `TransitRoot`.

#[cfg(feature = "vault")]
mod transit {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex};

    use serde::{Deserialize, Serialize};
    use serde_json::{Value, json};
    use strongroom::vault::{TransitRoot, Vault, VaultConfig};
    use strongroom::{KeyMaterial, Keyring, keyring_file};

    use super::{KeyJson, LineageJson, Materials, WARNING, describe, holds, m};

    /// Vectors committed so far; the test fails if any disappears.
    const MIN_TRANSIT_VECTORS: usize = 7;

    fn dir() -> std::path::PathBuf {
        super::dir().with_file_name("keyring_transit")
    }

    #[derive(Debug, Clone, Serialize, Deserialize)]
    pub(super) struct Exchange {
        /// The request's path, after `/v1/`.
        path: String,
        /// The request's `ciphertext` and `associated_data`.
        ciphertext: String,
        associated_data: String,
        /// The engine's answer: `data.plaintext`.
        plaintext: String,
    }

    #[derive(Debug, Serialize, Deserialize)]
    struct TransitVector {
        name: String,
        description: String,
        format: String,
        test_key_warning: String,
        file_hex: String,
        /// Whether the file is opened at all: false when the file itself
        /// is refused before any request (then `exchange` is what a
        /// well-formed neighbour would have sent, unused).
        request_expected: bool,
        exchange: Exchange,
        result: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        keyring: Option<Vec<KeyJson>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lineage: Option<LineageJson>,
    }

    /// A loopback stand-in for the engine that serves one recorded
    /// exchange and logs every request it gets. With `encrypt`, it also
    /// answers `<mount>/encrypt/<key>` with the recorded ciphertext (for
    /// the generator) and records what it was sent.
    struct Stand {
        addr: String,
        requests: Arc<Mutex<Vec<(String, Value)>>>,
    }

    impl Stand {
        fn serve(exchange: Exchange) -> Self {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = format!("http://{}", listener.local_addr().unwrap());
            let requests = Arc::new(Mutex::new(Vec::new()));
            let log = requests.clone();
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    let Ok(mut stream) = stream else { return };
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    let path = line
                        .split(' ')
                        .nth(1)
                        .unwrap_or("")
                        .trim_start_matches("/v1/")
                        .to_string();
                    let mut length = 0;
                    loop {
                        let mut h = String::new();
                        reader.read_line(&mut h).unwrap();
                        if h == "\r\n" || h.is_empty() {
                            break;
                        }
                        let lower = h.to_ascii_lowercase();
                        if let Some(v) = lower.strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap();
                        }
                    }
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).unwrap();
                    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    log.lock().unwrap().push((path.clone(), body.clone()));
                    let (status, answer) = if path == exchange.path
                        && body["ciphertext"] == exchange.ciphertext.as_str()
                        && body["associated_data"] == exchange.associated_data.as_str()
                    {
                        (200, json!({"data": {"plaintext": exchange.plaintext}}))
                    } else if path == exchange.path.replace("/decrypt/", "/encrypt/")
                        && body["associated_data"] == exchange.associated_data.as_str()
                    {
                        (200, json!({"data": {"ciphertext": exchange.ciphertext}}))
                    } else {
                        (
                            400,
                            json!({"errors": ["cipher: message authentication failed"]}),
                        )
                    };
                    let text = answer.to_string();
                    let _ = write!(
                        stream,
                        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                        text.len()
                    );
                }
            });
            Self { addr, requests }
        }

        fn root(&self, mount: &str, key: &str) -> TransitRoot {
            let config = VaultConfig::new(&self.addr)
                .with_token("golden-vectors-token")
                .with_timeouts(core::time::Duration::from_secs(5), 0);
            TransitRoot::new(Arc::new(Vault::connect(config).unwrap()), mount, key).unwrap()
        }
    }

    /// The file's transit key, from its parameters; `("transit",
    /// "strongroom-keyring")` when they do not parse (the file is refused
    /// before any request then).
    fn names_of(file: &[u8]) -> (String, String) {
        keyring_file::inspect(file)
            .ok()
            .and_then(|i| TransitRoot::parse_params(&i.root_params).ok())
            .unwrap_or_else(|| ("transit".into(), "strongroom-keyring".into()))
    }

    fn run(v: &TransitVector) -> (String, Option<(Keyring, Option<LineageJson>)>, usize) {
        let file = hex::decode(&v.file_hex).unwrap();
        let stand = Stand::serve(v.exchange.clone());
        let (mount, key) = names_of(&file);
        let result = match keyring_file::open(&file, &stand.root(&mount, &key)) {
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
        };
        let requests = stand.requests.lock().unwrap().len();
        (result.0, result.1, requests)
    }

    #[test]
    fn every_transit_keyring_vector_gives_its_result() {
        let mut paths: Vec<_> = std::fs::read_dir(dir())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        paths.sort();
        let (mut ok, mut fail) = (0, 0);
        for p in &paths {
            let v: TransitVector =
                serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
            assert_eq!(
                Some(v.name.as_str()),
                p.file_stem().and_then(|s| s.to_str())
            );
            assert_eq!(v.name.starts_with("fail_"), v.result != "ok", "{}", v.name);
            let (result, opened, requests) = run(&v);
            assert_eq!(result, v.result, "{}", v.name);
            // A file refused on its own bytes sends nothing; one that is
            // opened sends exactly one decrypt request.
            assert_eq!(
                requests,
                usize::from(v.request_expected),
                "{}: requests",
                v.name
            );
            if let Some((k, lineage)) = opened {
                assert!(holds(k, v.keyring.as_ref().unwrap()), "{}", v.name);
                assert_eq!(lineage, v.lineage, "{}: lineage", v.name);
                ok += 1;
            } else {
                fail += 1;
            }
        }
        println!(
            "golden transit keyring-file vectors: {} checked ({ok} open through the recorded exchange to their exact contents, {fail} fail_ cases give their exact error)",
            paths.len()
        );
        assert!(
            paths.len() >= MIN_TRANSIT_VECTORS,
            "golden vectors went missing"
        );
    }

    // -----------------------------------------------------------------------
    // Generator. Key material below is PUBLIC TEST DATA.

    const ID: [u8; 16] = *b"transit-golden!!";
    /// TEST KEY MATERIAL: the sealing key the engine hands back.
    const SEALING: [u8; 32] = [0x5a; 32];

    /// A file sealed through a stand-in that records the encrypt request.
    fn seal(keyring: &Keyring, mount: &str, key: &str, ciphertext: &str) -> (Vec<u8>, Exchange) {
        // The associated data is only known once the header is: seal once
        // against a stand-in that accepts any, then read what was sent.
        let mut exchange = Exchange {
            path: format!("{mount}/decrypt/{key}"),
            ciphertext: ciphertext.into(),
            associated_data: String::new(),
            plaintext: base64::Engine::encode(&base64::engine::general_purpose::STANDARD, SEALING),
        };
        let probe = Stand::serve(exchange.clone());
        let _ = keyring_file::encrypt_as(
            keyring,
            &probe.root(mount, key),
            keyring_file::Lineage {
                keyring_id: ID,
                generation: 3,
            },
            &mut FixedRng(SEALING),
        );
        let sent = probe.requests.lock().unwrap()[0].1.clone();
        exchange.associated_data = sent["associated_data"].as_str().unwrap().into();
        let stand = Stand::serve(exchange.clone());
        let file = keyring_file::encrypt_as(
            keyring,
            &stand.root(mount, key),
            keyring_file::Lineage {
                keyring_id: ID,
                generation: 3,
            },
            &mut FixedRng(SEALING),
        )
        .unwrap();
        (file, exchange)
    }

    /// An RNG that yields the given 32 bytes, then 0x24s (the sealing key
    /// first, then the payload nonce): deterministic vectors.
    struct FixedRng([u8; 32]);

    impl strongroom::rand_core::TryRng for FixedRng {
        type Error = core::convert::Infallible;
        fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
            Ok(0x2424_2424)
        }
        fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
            Ok(0x2424_2424_2424_2424)
        }
        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
            let n = dst.len().min(self.0.len());
            dst[..n].copy_from_slice(&self.0[..n]);
            dst[n..].fill(0x24);
            self.0 = [0x24; 32];
            Ok(())
        }
    }

    impl strongroom::rand_core::TryCryptoRng for FixedRng {}

    fn keyring() -> (Keyring, Materials) {
        use strongroom::{KeyId, KeyImport, Timestamp, VersionImport, VersionState};
        let mut k = Keyring::new();
        let versions = vec![
            VersionImport::new(
                VersionState::Enabled,
                Timestamp::from_unix_seconds(super::T),
                Some(KeyMaterial::from_slice(&m(0x60)).unwrap()),
            ),
            VersionImport::new(
                VersionState::Enabled,
                Timestamp::from_unix_seconds(super::T + 86_400),
                Some(KeyMaterial::from_slice(&m(0x70)).unwrap()),
            ),
        ];
        k.import_key(KeyImport::new(
            "pii",
            KeyId::from_u32(0x7a11_5e00),
            Timestamp::from_unix_seconds(super::T),
            versions,
        ))
        .unwrap();
        (k, vec![("pii", 1, m(0x60)), ("pii", 2, m(0x70))])
    }

    /// The file with `params` replaced (its length field too).
    fn with_params(file: &[u8], params: &[u8]) -> Vec<u8> {
        let p = usize::from(u16::from_be_bytes([file[30], file[31]]));
        let mut out = file[..30].to_vec();
        out.extend_from_slice(&u16::try_from(params.len()).unwrap().to_be_bytes());
        out.extend_from_slice(params);
        out.extend_from_slice(&file[32 + p..]);
        out
    }

    /// The file with `wrapped` replaced (its length field too).
    fn with_wrapped(file: &[u8], wrapped: &[u8]) -> Vec<u8> {
        let p = usize::from(u16::from_be_bytes([file[30], file[31]]));
        let e = 32 + p;
        let w = usize::from(u16::from_be_bytes([file[e], file[e + 1]]));
        let mut out = file[..e].to_vec();
        out.extend_from_slice(&u16::try_from(wrapped.len()).unwrap().to_be_bytes());
        out.extend_from_slice(wrapped);
        out.extend_from_slice(&file[e + 2 + w..]);
        out
    }

    fn cases() -> Vec<TransitVector> {
        let (k, materials) = keyring();
        let ct =
            "vault:v1:c3Ryb25ncm9vbSBnb2xkZW4gdmVjdG9yOiBub3QgYSByZWFsIHRyYW5zaXQgY2lwaGVydGV4dA==";
        let (file, exchange) = seal(&k, "transit", "strongroom-keyring", ct);
        let (nested, nested_exchange) =
            seal(&k, "team-a/transit", "k.1_x-y", "vault:v7:bmVzdGVkIG1vdW50");
        let lineage = Some(LineageJson {
            keyring_id_hex: hex::encode(ID),
            generation: 3,
        });
        let vector = |name: &str,
                      description: &str,
                      file: &[u8],
                      exchange: &Exchange,
                      request: bool,
                      result: &str| {
            TransitVector {
                name: name.into(),
                description: description.into(),
                format: "keyring-file-v2".into(),
                test_key_warning: WARNING.into(),
                file_hex: hex::encode(file),
                request_expected: request,
                exchange: exchange.clone(),
                result: result.into(),
                keyring: (result == "ok").then(|| describe(&k, &materials)),
                lineage: if result == "ok" {
                    lineage.clone()
                } else {
                    None
                },
            }
        };
        // The same wrap in another keyring's file: its root_aad differs,
        // so the engine refuses it.
        let mut moved = file.clone();
        moved[6] ^= 1;
        let mut short = exchange.clone();
        short.plaintext =
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [0x5a; 31]);
        vec![
            vector(
                "keyring_file_v2_vault_transit",
                "sealed by transit key strongroom-keyring at mount transit: one key, two versions",
                &file,
                &exchange,
                true,
                "ok",
            ),
            vector(
                "keyring_file_v2_vault_transit_nested_mount",
                "a mount with '/' inside and a key name with '.', '_' and '-'",
                &nested,
                &nested_exchange,
                true,
                "ok",
            ),
            vector(
                "fail_keyring_file_v2_vault_transit_other_keyring",
                "the wrap of another file (keyring id differs, so root_aad does): the engine refuses",
                &moved,
                &exchange,
                true,
                "authentication_failed",
            ),
            vector(
                "fail_keyring_file_v2_vault_transit_params_trailing_byte",
                "a byte after the key name in params",
                &with_params(&file, b"\x07transit\x12strongroom-keyringX"),
                &exchange,
                false,
                "malformed",
            ),
            vector(
                "fail_keyring_file_v2_vault_transit_mount_trailing_slash",
                "a mount ending in '/'",
                &with_params(&file, b"\x08transit/\x12strongroom-keyring"),
                &exchange,
                false,
                "malformed",
            ),
            vector(
                "fail_keyring_file_v2_vault_transit_wrapped_not_vault",
                "wrapped does not start with vault:v",
                &with_wrapped(&file, &ct.as_bytes()[1..]),
                &exchange,
                false,
                "malformed",
            ),
            vector(
                "fail_keyring_file_v2_vault_transit_wrapped_quote",
                "wrapped holds a '\"'",
                &with_wrapped(&file, b"vault:v1:ab\"cd"),
                &exchange,
                false,
                "malformed",
            ),
            vector(
                "fail_keyring_file_v2_vault_transit_plaintext_31_bytes",
                "the engine's plaintext is 31 bytes, not a sealing key",
                &file,
                &short,
                true,
                "malformed",
            ),
        ]
    }

    #[test]
    #[ignore = "writes new golden vectors; run on purpose"]
    fn generate_transit_keyring_files() {
        let dir = dir();
        std::fs::create_dir_all(&dir).unwrap();
        let mut written = 0;
        for v in cases() {
            let path = dir.join(format!("{}.json", v.name));
            if path.exists() {
                continue;
            }
            let (result, _, requests) = run(&v);
            assert_eq!(result, v.result, "{}", v.name);
            assert_eq!(requests, usize::from(v.request_expected), "{}", v.name);
            std::fs::write(&path, serde_json::to_string_pretty(&v).unwrap() + "\n").unwrap();
            written += 1;
        }
        println!("wrote {written} new transit keyring-file vectors");
    }
}
