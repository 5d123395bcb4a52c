//! Golden vectors of the record format (`tests/golden/record/*.json`,
//! schema in `docs/FORMAT.md` section 11): every committed vector decrypts to
//! its stated result, forever.
//!
//! The generator is an ignored test that only ever *adds* files:
//! `cargo test -p strongroom --test golden -- --ignored generate` writes the
//! vectors below that do not exist yet and never touches an existing one.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use strongroom::envelope::{self, Identity, Recipient};
use strongroom::{BlindIndex, IndexValue, Transform};
use strongroom::{
    EncryptionContext, Error, KeyId, KeyImport, KeyMaterial, Keyring, SysRng, Timestamp,
    VersionImport, VersionState,
};

/// Record vectors committed so far; the decrypt test fails if any disappears.
const MIN_VECTORS: usize = 36;
/// Envelope vectors committed so far.
const MIN_ENVELOPE_VECTORS: usize = 32;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/golden/record")
}

fn envelope_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/golden/envelope")
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct VersionJson {
    version: u32,
    state: String,
    key_hex: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct KeyJson {
    name: String,
    key_id: String,
    primary_version: u32,
    min_decryption_version: u32,
    versions: Vec<VersionJson>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Vector {
    name: String,
    description: String,
    format: String,
    test_key_warning: String,
    keyring: Vec<KeyJson>,
    context: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    record_hex: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    record_text: Option<String>,
    result: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    plaintext_hex: Option<String>,
    /// Decrypt as a record under this standalone key (FORMAT.md 4.7), not
    /// with `keyring`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    standalone_key_hex: Option<String>,
    /// The record is `record_hex` followed by zero bytes up to this length
    /// (for the length limit without a megabyte of hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    record_pad_to: Option<usize>,
}

fn state_from(s: &str) -> VersionState {
    match s {
        "enabled" => VersionState::Enabled,
        "disabled" => VersionState::Disabled,
        "destroyed" => VersionState::Destroyed,
        other => panic!("unknown state {other}"),
    }
}

fn build_keyring(keys: &[KeyJson]) -> Keyring {
    let mut keyring = Keyring::new();
    for k in keys {
        let versions = k
            .versions
            .iter()
            .enumerate()
            .map(|(i, v)| {
                assert_eq!(v.version as usize, i + 1, "versions listed in order");
                let material = v
                    .key_hex
                    .as_ref()
                    .map(|h| KeyMaterial::from_slice(&hex::decode(h).unwrap()).unwrap());
                VersionImport::new(state_from(&v.state), T, material)
            })
            .collect();
        let id = u32::from_str_radix(&k.key_id, 16).unwrap();
        let mut import = KeyImport::new(&k.name, KeyId::from_u32(id), T, versions);
        import.primary_version = k.primary_version;
        import.min_decryption_version = k.min_decryption_version;
        keyring.import_key(import).unwrap();
    }
    keyring
}

/// The result name FORMAT.md section 11 uses for an outcome.
fn result_name(r: &Result<Vec<u8>, Error>) -> &'static str {
    match r {
        Ok(_) => "ok",
        // The core's one table of kind names (error.rs).
        Err(e) => e.kind().name(),
    }
}

fn run(v: &Vector) -> Result<Vec<u8>, Error> {
    let keyring = build_keyring(&v.keyring);
    let ctx = EncryptionContext::from_pairs(&v.context).unwrap();
    let record = match (&v.record_hex, &v.record_text) {
        (Some(h), None) => {
            let mut r = hex::decode(h).unwrap();
            if let Some(len) = v.record_pad_to {
                assert!(len >= r.len(), "{}: record_pad_to", v.name);
                r.resize(len, 0);
            }
            Ok(r)
        }
        (None, Some(t)) => strongroom::record::from_text(t),
        _ => panic!("{}: exactly one of record_hex and record_text", v.name),
    }?;
    let pt = match &v.standalone_key_hex {
        Some(k) => {
            let key = KeyMaterial::from_slice(&hex::decode(k).unwrap()).unwrap();
            strongroom::record::decrypt_with_key(&key, &record, &ctx)
        }
        None => keyring.decrypt_record(&record, &ctx),
    };
    pt.map(|p| p.expose_secret().to_vec())
}

/// What the shared loader and checker need from a vector of any format.
trait GoldenVector: serde::de::DeserializeOwned {
    fn name(&self) -> &str;
    fn format(&self) -> &str;
    fn result(&self) -> &str;
    fn plaintext_hex(&self) -> Option<&String>;
    fn run(&self) -> Result<Vec<u8>, Error>;
}

impl GoldenVector for Vector {
    fn name(&self) -> &str {
        &self.name
    }
    fn format(&self) -> &str {
        &self.format
    }
    fn result(&self) -> &str {
        &self.result
    }
    fn plaintext_hex(&self) -> Option<&String> {
        self.plaintext_hex.as_ref()
    }
    fn run(&self) -> Result<Vec<u8>, Error> {
        run(self)
    }
}

/// Every `*.json` in `dir`, in name order; each file's stem is its name.
fn load<V: GoldenVector>(dir: &Path) -> Vec<V> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let v: V = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
            assert_eq!(Some(v.name()), p.file_stem().and_then(|s| s.to_str()));
            v
        })
        .collect()
}

/// Checks every vector of one format; returns (ok, fail_) counts.
fn check_all<V: GoldenVector>(vectors: &[V], format: &str) -> (usize, usize) {
    let (mut ok, mut fail) = (0, 0);
    for v in vectors {
        assert_eq!(v.format(), format);
        let got = v.run();
        assert_eq!(result_name(&got), v.result(), "{}: {got:?}", v.name());
        assert_eq!(
            v.name().starts_with("fail_"),
            v.result() != "ok",
            "{}: naming",
            v.name()
        );
        if let Ok(pt) = got {
            assert_eq!(Some(&hex::encode(pt)), v.plaintext_hex(), "{}", v.name());
            ok += 1;
        } else {
            fail += 1;
        }
    }
    (ok, fail)
}

#[test]
fn every_golden_record_vector_gives_its_result() {
    let vectors: Vec<Vector> = load(&golden_dir());
    let (ok, fail) = check_all(&vectors, "record-v1");
    println!(
        "golden record vectors: {} checked ({ok} decrypt to their plaintext, {fail} fail_ cases give their exact error)",
        vectors.len()
    );
    assert!(vectors.len() >= MIN_VECTORS, "golden vectors went missing");
}

// ---------------------------------------------------------------------------
// Generator. Key material below is PUBLIC TEST DATA.

const T: Timestamp = Timestamp::from_unix_seconds(1_767_225_600);
const KEY_ID: u32 = 0x5eed_0001;
const WARNING: &str =
    "TEST KEY MATERIAL: public, for conformance tests only; never use it for real data";

fn material(version: u32) -> [u8; 32] {
    core::array::from_fn(|i| (0x40 + version as usize * 32 + i) as u8)
}

/// Key "golden" with the given states (versions 1..=n), primary, minimum.
fn key_json(states: &[&str], primary: u32, min: u32, key_id: u32) -> KeyJson {
    KeyJson {
        name: "golden".into(),
        key_id: format!("{key_id:08x}"),
        primary_version: primary,
        min_decryption_version: min,
        versions: states
            .iter()
            .zip(1u32..)
            .map(|(s, v)| VersionJson {
                version: v,
                state: (*s).into(),
                key_hex: (*s != "destroyed").then(|| hex::encode(material(v))),
            })
            .collect(),
    }
}

/// Encrypts under version `v` of the golden key (all versions enabled).
fn encrypt_under(v: u32, plaintext: &[u8], ctx: &BTreeMap<String, String>) -> Vec<u8> {
    let keyring = build_keyring(&[key_json(&vec!["enabled"; v as usize], v, 1, KEY_ID)]);
    let ctx = EncryptionContext::from_pairs(ctx).unwrap();
    keyring
        .encrypt_record_with("golden", plaintext, &ctx, &mut SysRng)
        .unwrap()
}

fn ctx(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect()
}

enum Form {
    Binary,
    Text,
}

struct Case {
    name: &'static str,
    description: &'static str,
    plaintext: Vec<u8>,
    encrypt_version: u32,
    encrypt_context: BTreeMap<String, String>,
    decrypt_context: Option<BTreeMap<String, String>>,
    keyring: KeyJson,
    form: Form,
    mutate: fn(&mut Vec<u8>),
    mutate_text: fn(&mut String),
    result: &'static str,
}

fn all_enabled() -> KeyJson {
    key_json(&["enabled"; 4], 4, 1, KEY_ID)
}

fn case(
    name: &'static str,
    description: &'static str,
    plaintext: &[u8],
    result: &'static str,
) -> Case {
    Case {
        name,
        description,
        plaintext: plaintext.to_vec(),
        encrypt_version: 4,
        encrypt_context: BTreeMap::new(),
        decrypt_context: None,
        keyring: all_enabled(),
        form: Form::Binary,
        mutate: |_| {},
        mutate_text: |_| {},
        result,
    }
}

fn cases() -> Vec<Case> {
    let email = b"jane.doe@example.com";
    let row_ctx = ctx(&[("table", "customers"), ("column", "email"), ("row", "1001")]);
    let kib: Vec<u8> = (0..1024u32).map(|i| (i % 251) as u8).collect();
    vec![
        case(
            "record_v1_empty",
            "empty plaintext, empty context, primary version",
            b"",
            "ok",
        ),
        case(
            "record_v1_one_byte",
            "one-byte plaintext, empty context",
            b"\x2a",
            "ok",
        ),
        case(
            "record_v1_1kib",
            "1 KiB plaintext (i mod 251), empty context",
            &kib,
            "ok",
        ),
        Case {
            encrypt_context: row_ctx.clone(),
            ..case(
                "record_v1_context",
                "email under a three-pair context",
                email,
                "ok",
            )
        },
        Case {
            encrypt_context: ctx(&[("ключ", "значение"), ("a", ""), ("Z", "upper first")]),
            ..case(
                "record_v1_context_unicode",
                "context keys sorted by UTF-8 bytes: \"Z\" < \"a\" < \"ключ\"; an empty value",
                "naïve café ✓".as_bytes(),
                "ok",
            )
        },
        Case {
            form: Form::Text,
            ..case(
                "record_v1_text_empty",
                "text form, empty plaintext",
                b"",
                "ok",
            )
        },
        Case {
            form: Form::Text,
            encrypt_context: row_ctx.clone(),
            ..case(
                "record_v1_text_context",
                "text form with a context",
                email,
                "ok",
            )
        },
        Case {
            encrypt_version: 1,
            ..case(
                "record_v1_old_version",
                "record under version 1 while version 4 is primary",
                email,
                "ok",
            )
        },
        Case {
            encrypt_version: 2,
            keyring: key_json(&["enabled", "enabled", "enabled", "enabled"], 4, 2, KEY_ID),
            ..case(
                "record_v1_at_minimum",
                "version 2 with minimum decryption version 2",
                email,
                "ok",
            )
        },
        Case {
            encrypt_version: 2,
            keyring: key_json(&["enabled", "disabled", "enabled", "enabled"], 4, 1, KEY_ID),
            ..case(
                "fail_record_v1_version_disabled",
                "version 2 is disabled",
                email,
                "version_disabled",
            )
        },
        Case {
            encrypt_version: 3,
            keyring: key_json(
                &["enabled", "enabled", "destroyed", "enabled"],
                4,
                1,
                KEY_ID,
            ),
            ..case(
                "fail_record_v1_version_destroyed",
                "version 3 was destroyed (no material)",
                email,
                "version_destroyed",
            )
        },
        Case {
            encrypt_version: 1,
            keyring: key_json(&["enabled"; 4], 4, 2, KEY_ID),
            ..case(
                "fail_record_v1_below_minimum",
                "version 1 is below the minimum decryption version 2",
                email,
                "version_below_minimum",
            )
        },
        Case {
            encrypt_version: 2,
            keyring: key_json(
                &["destroyed", "disabled", "enabled", "enabled"],
                4,
                3,
                KEY_ID,
            ),
            ..case(
                "fail_record_v1_below_minimum_and_disabled",
                "version 2 is both disabled and below the minimum: below-minimum wins (FORMAT.md 3.1)",
                email,
                "version_below_minimum",
            )
        },
        Case {
            encrypt_version: 1,
            keyring: key_json(
                &["destroyed", "enabled", "enabled", "enabled"],
                4,
                2,
                KEY_ID,
            ),
            ..case(
                "fail_record_v1_destroyed_and_below_minimum",
                "version 1 is both destroyed and below the minimum: destroyed wins (FORMAT.md 3.1)",
                email,
                "version_destroyed",
            )
        },
        Case {
            keyring: key_json(&["enabled"; 4], 4, 1, 0x0bad_0001),
            ..case(
                "fail_record_v1_unknown_key_id",
                "the keyring has no key with the record's id",
                email,
                "unknown_key_id",
            )
        },
        Case {
            keyring: key_json(&["enabled"; 3], 3, 1, KEY_ID),
            ..case(
                "fail_record_v1_unknown_key_version",
                "record under version 4; the key has versions 1..3",
                email,
                "unknown_key_version",
            )
        },
        Case {
            encrypt_context: row_ctx.clone(),
            decrypt_context: Some(ctx(&[
                ("table", "customers"),
                ("column", "email"),
                ("row", "1002"),
            ])),
            ..case(
                "fail_record_v1_wrong_context",
                "encrypted with row=1001, decrypted with row=1002",
                email,
                "authentication_failed",
            )
        },
        Case {
            encrypt_context: row_ctx.clone(),
            decrypt_context: Some(BTreeMap::new()),
            ..case(
                "fail_record_v1_missing_context",
                "encrypted with a context, decrypted with none",
                email,
                "authentication_failed",
            )
        },
        Case {
            mutate: |r| *r.last_mut().unwrap() ^= 0x01,
            ..case(
                "fail_record_v1_tag_flipped",
                "last tag bit flipped",
                email,
                "authentication_failed",
            )
        },
        Case {
            mutate: |r| r[33] ^= 0x80,
            ..case(
                "fail_record_v1_ciphertext_flipped",
                "first ciphertext byte flipped",
                email,
                "authentication_failed",
            )
        },
        Case {
            mutate: |r| r[5..9].copy_from_slice(&3u32.to_be_bytes()),
            ..case(
                "fail_record_v1_header_version_changed",
                "header says version 3 (enabled) for a version-4 record",
                email,
                "authentication_failed",
            )
        },
        Case {
            mutate: |r| r.push(0),
            ..case(
                "fail_record_v1_appended_byte",
                "one byte appended",
                email,
                "authentication_failed",
            )
        },
        Case {
            mutate: |r| r.truncate(48),
            ..case(
                "fail_record_v1_truncated",
                "48 bytes: shorter than the fixed overhead",
                b"",
                "malformed",
            )
        },
        Case {
            mutate: |r| r[0] = 0x02,
            ..case(
                "fail_record_v1_unsupported_format",
                "format byte 0x02",
                email,
                "unsupported_format",
            )
        },
        Case {
            mutate: |r| r[1..5].fill(0),
            ..case(
                "fail_record_v1_key_id_zero",
                "key id 0 is never valid",
                email,
                "malformed",
            )
        },
        Case {
            mutate: |r| r[5..9].fill(0),
            ..case(
                "fail_record_v1_key_version_zero",
                "key version 0 is never valid",
                email,
                "malformed",
            )
        },
        Case {
            form: Form::Text,
            mutate_text: |t| *t = t.replacen("sr1:", "sr2:", 1),
            ..case(
                "fail_record_v1_text_bad_prefix",
                "text form with prefix sr2:",
                email,
                "malformed",
            )
        },
        Case {
            form: Form::Text,
            // 49 + 20 = 69 bytes = 23 full groups: 92 chars, no partial group;
            // padding is never allowed, so "=" is rejected whatever the length.
            mutate_text: |t| t.push_str("=="),
            ..case(
                "fail_record_v1_text_padded",
                "text form with '=' padding",
                email,
                "malformed",
            )
        },
        Case {
            form: Form::Text,
            // 49 bytes: the last of 66 characters carries 2 bits + 4 zero bits.
            mutate_text: |t| {
                let last = t.pop().unwrap();
                const ALPHABET: &[u8] =
                    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
                let i = ALPHABET.iter().position(|c| *c as char == last).unwrap();
                t.push(ALPHABET[i | 1] as char);
            },
            ..case(
                "fail_record_v1_text_noncanonical",
                "text form whose last character has non-zero unused bits",
                b"",
                "malformed",
            )
        },
        Case {
            form: Form::Text,
            mutate_text: |t| t.insert(10, '\n'),
            ..case(
                "fail_record_v1_text_whitespace",
                "text form with a line break inside",
                email,
                "malformed",
            )
        },
    ]
}

#[test]
#[ignore = "writes new golden vectors; run on purpose"]
fn generate() {
    let dir = golden_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let mut written = 0;
    for c in cases() {
        let path = dir.join(format!("{}.json", c.name));
        if path.exists() {
            continue; // Golden vectors are never rewritten.
        }
        let mut record = encrypt_under(c.encrypt_version, &c.plaintext, &c.encrypt_context);
        (c.mutate)(&mut record);
        let (record_hex, record_text) = match c.form {
            Form::Binary => (Some(hex::encode(&record)), None),
            Form::Text => {
                let mut t = strongroom::record::to_text(&record);
                (c.mutate_text)(&mut t);
                (None, Some(t))
            }
        };
        let v = Vector {
            name: c.name.into(),
            description: c.description.into(),
            format: "record-v1".into(),
            test_key_warning: WARNING.into(),
            keyring: vec![c.keyring],
            context: c.decrypt_context.unwrap_or(c.encrypt_context),
            record_hex,
            record_text,
            plaintext_hex: (c.result == "ok").then(|| hex::encode(&c.plaintext)),
            result: c.result.into(),
            standalone_key_hex: None,
            record_pad_to: None,
        };
        // The generator checks its own output before writing it.
        assert_eq!(result_name(&run(&v)), v.result, "{}", v.name);
        let json = serde_json::to_string_pretty(&v).unwrap();
        std::fs::write(&path, json + "\n").unwrap();
        written += 1;
    }
    for v in standalone_and_limit_vectors() {
        let path = dir.join(format!("{}.json", v.name));
        if path.exists() {
            continue;
        }
        assert_eq!(result_name(&run(&v)), v.result, "{}", v.name);
        let json = serde_json::to_string_pretty(&v).unwrap();
        std::fs::write(&path, json + "\n").unwrap();
        written += 1;
    }
    println!("golden generator: wrote {written} new vector files");
}

/// TEST KEY MATERIAL: the standalone key of the record vectors.
const STANDALONE_KEY: [u8; 32] = [0x5d; 32];

/// Records under a standalone key (FORMAT.md 4.7), and the length limit
/// of 4.5 step 4.
fn standalone_and_limit_vectors() -> Vec<Vector> {
    let subject = ctx(&[("subject", "42")]);
    let plaintext = b"12 Main Street, Springfield";
    let key = KeyMaterial::from_slice(&STANDALONE_KEY).unwrap();
    let standalone = strongroom::record::encrypt_with_key(
        &key,
        plaintext,
        &EncryptionContext::from_pairs(&subject).unwrap(),
        &mut SysRng,
    )
    .unwrap();
    let keyring_record = encrypt_under(4, plaintext, &subject);
    let v = |name: &str,
             description: &str,
             keyring: Vec<KeyJson>,
             record: &[u8],
             standalone_key: Option<[u8; 32]>,
             pad_to: Option<usize>,
             result: &str| Vector {
        name: name.into(),
        description: description.into(),
        format: "record-v1".into(),
        test_key_warning: WARNING.into(),
        keyring,
        context: subject.clone(),
        record_hex: Some(hex::encode(record)),
        record_text: None,
        result: result.into(),
        plaintext_hex: (result == "ok").then(|| hex::encode(plaintext)),
        standalone_key_hex: standalone_key.map(hex::encode),
        record_pad_to: pad_to,
    };
    vec![
        v(
            "record_v1_standalone_key",
            "a record under a standalone key (key id 0, version 0), opened with that key",
            Vec::new(),
            &standalone,
            Some(STANDALONE_KEY),
            None,
            "ok",
        ),
        v(
            "fail_record_v1_standalone_wrong_key",
            "the standalone-key record opened with another standalone key",
            Vec::new(),
            &standalone,
            Some([0x5e; 32]),
            None,
            "authentication_failed",
        ),
        v(
            "fail_record_v1_standalone_under_keyring",
            "the standalone-key record given to a keyring (4.5 step 5)",
            vec![all_enabled()],
            &standalone,
            None,
            None,
            "malformed",
        ),
        v(
            "fail_record_v1_keyring_record_under_standalone_key",
            "a keyring record given to a standalone-key decoder, even with the right material (4.5 step 5)",
            Vec::new(),
            &keyring_record,
            Some(material(4)),
            None,
            "malformed",
        ),
        v(
            "fail_record_v1_too_large",
            "a valid record followed by zero bytes up to 1048626 bytes, one past the limit (4.5 step 4)",
            vec![all_enabled()],
            &keyring_record,
            None,
            Some(1_048_626),
            "too_large",
        ),
        v(
            "fail_record_v1_at_the_limit",
            "the same padded to exactly 1048625 bytes: the length is accepted and the tag fails",
            vec![all_enabled()],
            &keyring_record,
            None,
            Some(1_048_625),
            "authentication_failed",
        ),
    ]
}

// ---------------------------------------------------------------------------
// Wrapped data-key vectors (FORMAT.md 8 and 11.3).

fn datakey_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/golden/datakey")
}

/// Wrapped data-key vectors committed so far.
const MIN_DATAKEY_VECTORS: usize = 15;

#[derive(Debug, Serialize, Deserialize)]
struct DataKeyVector {
    name: String,
    description: String,
    format: String,
    test_key_warning: String,
    keyring: Vec<KeyJson>,
    context: BTreeMap<String, String>,
    wrapped_hex: String,
    result: String,
    /// When `result` is `ok`: the 32-byte data key.
    #[serde(skip_serializing_if = "Option::is_none")]
    data_key_hex: Option<String>,
}

impl GoldenVector for DataKeyVector {
    fn name(&self) -> &str {
        &self.name
    }
    fn format(&self) -> &str {
        &self.format
    }
    fn result(&self) -> &str {
        &self.result
    }
    fn plaintext_hex(&self) -> Option<&String> {
        self.data_key_hex.as_ref()
    }
    fn run(&self) -> Result<Vec<u8>, Error> {
        let keyring = build_keyring(&self.keyring);
        keyring
            .unwrap_data_key(
                &hex::decode(&self.wrapped_hex).unwrap(),
                &context_of(&self.context),
            )
            .map(|k| k.expose_secret().to_vec())
    }
}

#[test]
fn every_golden_datakey_vector_gives_its_result() {
    let vectors: Vec<DataKeyVector> = load(&datakey_dir());
    let (ok, fail) = check_all(&vectors, "datakey-v1");
    println!(
        "golden wrapped data-key vectors: {} checked ({ok} unwrap to their key, {fail} fail_ cases give their exact error)",
        vectors.len()
    );
    assert!(
        vectors.len() >= MIN_DATAKEY_VECTORS,
        "golden data-key vectors went missing"
    );
}

/// The data key of the vectors (TEST KEY MATERIAL), wrapped under version
/// `v` of the golden key.
fn wrap_under(v: u32, ctx: &BTreeMap<String, String>) -> Vec<u8> {
    let keyring = build_keyring(&[key_json(&vec!["enabled"; v as usize], v, 1, KEY_ID)]);
    let dk = KeyMaterial::from_slice(&[0xd4; 32]).unwrap();
    keyring
        .wrap_data_key_with("golden", &dk, &context_of(ctx), &mut SysRng)
        .unwrap()
}

fn datakey_vectors() -> Vec<DataKeyVector> {
    let subject = ctx(&[("tenant", "acme"), ("subject", "user-7")]);
    let good = wrap_under(4, &subject);
    let old = wrap_under(2, &subject);
    let with = |at: usize, value: u8| {
        let mut b = good.clone();
        b[at] = value;
        b
    };
    let flip = |at: usize| {
        let mut b = good.clone();
        b[at] ^= 1;
        b
    };
    let v = |name: &str,
             description: &str,
             keyring: KeyJson,
             context: &BTreeMap<String, String>,
             wrapped: &[u8],
             result: &str| DataKeyVector {
        name: name.into(),
        description: description.into(),
        format: "datakey-v1".into(),
        test_key_warning: WARNING.into(),
        keyring: vec![keyring],
        context: context.clone(),
        wrapped_hex: hex::encode(wrapped),
        result: result.into(),
        data_key_hex: (result == "ok").then(|| hex::encode([0xd4u8; 32])),
    };
    let mut id_zero = good.clone();
    id_zero[1..5].copy_from_slice(&[0; 4]);
    let mut version_zero = good.clone();
    version_zero[5..9].copy_from_slice(&[0; 4]);
    let mut version_9 = good.clone();
    version_9[5..9].copy_from_slice(&9u32.to_be_bytes());
    let all = all_enabled;
    vec![
        v(
            "datakey_v1_primary",
            "a data key wrapped under the primary version 4",
            all(),
            &subject,
            &good,
            "ok",
        ),
        v(
            "datakey_v1_old_version",
            "wrapped under version 2, opened after version 4 became primary",
            all(),
            &subject,
            &old,
            "ok",
        ),
        v(
            "fail_datakey_v1_empty",
            "no bytes (8 step 1)",
            all(),
            &subject,
            &[],
            "malformed",
        ),
        v(
            "fail_datakey_v1_format_1",
            "first byte 0x01, a record's (8 step 2)",
            all(),
            &subject,
            &with(0, 1),
            "unsupported_format",
        ),
        v(
            "fail_datakey_v1_80_bytes",
            "the last byte removed (8 step 3)",
            all(),
            &subject,
            &good[..80],
            "malformed",
        ),
        v(
            "fail_datakey_v1_82_bytes",
            "a byte appended (8 step 3)",
            all(),
            &subject,
            &[good.clone(), vec![0]].concat(),
            "malformed",
        ),
        v(
            "fail_datakey_v1_key_id_zero",
            "key_id 0 (8 step 4)",
            all(),
            &subject,
            &id_zero,
            "malformed",
        ),
        v(
            "fail_datakey_v1_version_zero",
            "key_version 0 (8 step 4)",
            all(),
            &subject,
            &version_zero,
            "malformed",
        ),
        v(
            "fail_datakey_v1_unknown_key_id",
            "key_id changed to one the keyring does not hold",
            all(),
            &subject,
            &with(4, 0x02),
            "unknown_key_id",
        ),
        v(
            "fail_datakey_v1_unknown_version",
            "key_version 9 of a key with 4 versions",
            all(),
            &subject,
            &version_9,
            "unknown_key_version",
        ),
        v(
            "fail_datakey_v1_version_destroyed",
            "wrapped under version 2, which is destroyed",
            key_json(
                &["enabled", "destroyed", "enabled", "enabled"],
                4,
                1,
                KEY_ID,
            ),
            &subject,
            &old,
            "version_destroyed",
        ),
        v(
            "fail_datakey_v1_version_disabled",
            "wrapped under version 2, which is disabled",
            key_json(&["enabled", "disabled", "enabled", "enabled"], 4, 1, KEY_ID),
            &subject,
            &old,
            "version_disabled",
        ),
        v(
            "fail_datakey_v1_below_minimum",
            "wrapped under version 2; the minimum decryption version is 3",
            key_json(&["enabled"; 4], 4, 3, KEY_ID),
            &subject,
            &old,
            "version_below_minimum",
        ),
        v(
            "fail_datakey_v1_wrong_context",
            "opened with another subject in the context",
            all(),
            &ctx(&[("tenant", "acme"), ("subject", "user-8")]),
            &good,
            "authentication_failed",
        ),
        v(
            "fail_datakey_v1_no_context",
            "opened with an empty context",
            all(),
            &BTreeMap::new(),
            &good,
            "authentication_failed",
        ),
        v(
            "fail_datakey_v1_wrapped_flipped",
            "one bit of the wrapped key flipped",
            all(),
            &subject,
            &flip(40),
            "authentication_failed",
        ),
        v(
            "fail_datakey_v1_tag_flipped",
            "one bit of the tag flipped",
            all(),
            &subject,
            &flip(80),
            "authentication_failed",
        ),
        v(
            "fail_datakey_v1_nonce_flipped",
            "one bit of the nonce flipped",
            all(),
            &subject,
            &flip(9),
            "authentication_failed",
        ),
    ]
}

#[test]
#[ignore = "writes new golden vectors; run on purpose"]
fn generate_datakeys() {
    let written = write_new_vectors(&datakey_dir(), datakey_vectors());
    println!("golden generator: wrote {written} new data-key vector files");
}

/// Writes each vector that has no file in `dir` yet, after checking that it
/// gives its own result; never rewrites a file. Returns how many it wrote.
fn write_new_vectors<V: GoldenVector + Serialize>(dir: &Path, vectors: Vec<V>) -> usize {
    std::fs::create_dir_all(dir).unwrap();
    let mut written = 0;
    for v in vectors {
        let path = dir.join(format!("{}.json", v.name()));
        if path.exists() {
            continue; // Golden vectors are never rewritten.
        }
        assert_eq!(result_name(&v.run()), v.result(), "{}", v.name());
        std::fs::write(&path, serde_json::to_string_pretty(&v).unwrap() + "\n").unwrap();
        written += 1;
    }
    written
}

// ---------------------------------------------------------------------------
// Envelope vectors (FORMAT.md 11.1).

#[derive(Debug, Serialize, Deserialize)]
struct DataKeyJson {
    wrapped_hex: String,
    context: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct DerivedKeyJson {
    key_name: String,
    version: u32,
    context: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct EnvelopeVector {
    name: String,
    description: String,
    format: String,
    test_key_warning: String,
    keyring: Vec<KeyJson>,
    context: BTreeMap<String, String>,
    envelope_hex: String,
    opener: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    data_key: Option<DataKeyJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    derived_key: Option<DerivedKeyJson>,
    result: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    plaintext_hex: Option<String>,
}

fn context_of(pairs: &BTreeMap<String, String>) -> EncryptionContext {
    EncryptionContext::from_pairs(pairs).unwrap()
}

fn run_envelope(v: &EnvelopeVector) -> Result<Vec<u8>, Error> {
    let keyring = build_keyring(&v.keyring);
    let sealed = hex::decode(&v.envelope_hex).unwrap();
    let ctx = context_of(&v.context);
    let pt = match v.opener.as_str() {
        "keyring" => decrypt_envelope(&keyring, &sealed, &ctx),
        "data_key" => {
            let dk = v.data_key.as_ref().unwrap();
            let key = keyring.unwrap_data_key(
                &hex::decode(&dk.wrapped_hex).unwrap(),
                &context_of(&dk.context),
            )?;
            envelope::decrypt(Identity::Standalone(&key), &sealed, &ctx)
        }
        "derived_key" => {
            let d = v.derived_key.as_ref().unwrap();
            let key =
                keyring.derive_key_version(&d.key_name, d.version, &context_of(&d.context))?;
            envelope::decrypt(Identity::Standalone(key.key()), &sealed, &ctx)
        }
        other => panic!("{}: unknown opener {other}", v.name),
    };
    pt.map(|p| p.expose_secret().to_vec())
}

impl GoldenVector for EnvelopeVector {
    fn name(&self) -> &str {
        &self.name
    }
    fn format(&self) -> &str {
        &self.format
    }
    fn result(&self) -> &str {
        &self.result
    }
    fn plaintext_hex(&self) -> Option<&String> {
        self.plaintext_hex.as_ref()
    }
    fn run(&self) -> Result<Vec<u8>, Error> {
        run_envelope(self)
    }
}

#[test]
fn every_golden_envelope_vector_gives_its_result() {
    let vectors: Vec<EnvelopeVector> = load(&envelope_dir());
    let (ok, fail) = check_all(&vectors, "envelope-v1");
    println!(
        "golden envelope vectors: {} checked ({ok} decrypt to their plaintext, {fail} fail_ cases give their exact error)",
        vectors.len()
    );
    assert!(
        vectors.len() >= MIN_ENVELOPE_VECTORS,
        "golden envelope vectors went missing"
    );
}

const ESCROW_ID: u32 = 0x5eed_0002;

fn escrow_json() -> KeyJson {
    let mut k = key_json(&["enabled"], 1, 1, ESCROW_ID);
    k.name = "escrow".into();
    k.versions[0].key_hex = Some(hex::encode([0xE5u8; 32]));
    k
}

/// One envelope case: how to make it, how to break it, how to open it.
struct EnvCase {
    name: &'static str,
    description: &'static str,
    plaintext: Vec<u8>,
    chunk_size: u32,
    context: BTreeMap<String, String>,
    open_context: Option<BTreeMap<String, String>>,
    /// Versions of "golden" when encrypting (primary = last).
    encrypt_versions: u32,
    escrow_recipient: bool,
    /// The keyring that opens it.
    keyring: Vec<KeyJson>,
    opener: &'static str,
    rewrap_to: Option<u32>,
    mutate: fn(&mut Vec<u8>, usize),
    result: &'static str,
}

fn env_case(
    name: &'static str,
    description: &'static str,
    len: usize,
    result: &'static str,
) -> EnvCase {
    EnvCase {
        name,
        description,
        plaintext: (0..len).map(|i| (i * 13 % 256) as u8).collect(),
        chunk_size: 64,
        context: BTreeMap::new(),
        open_context: None,
        encrypt_versions: 2,
        escrow_recipient: false,
        keyring: vec![key_json(&["enabled", "enabled"], 2, 1, KEY_ID)],
        opener: "keyring",
        rewrap_to: None,
        mutate: |_, _| {},
        result,
    }
}

fn env_cases() -> Vec<EnvCase> {
    let file_ctx = ctx(&[("bucket", "exports"), ("object", "customers.csv")]);
    let two_keys = vec![
        key_json(&["enabled", "enabled"], 2, 1, KEY_ID),
        escrow_json(),
    ];
    vec![
        env_case(
            "envelope_v1_empty",
            "empty plaintext: one empty final chunk",
            0,
            "ok",
        ),
        env_case("envelope_v1_one_byte", "one byte", 1, "ok"),
        env_case(
            "envelope_v1_chunk_minus_one",
            "63 bytes with chunk size 64",
            63,
            "ok",
        ),
        env_case(
            "envelope_v1_chunk",
            "64 bytes with chunk size 64: one full final chunk",
            64,
            "ok",
        ),
        env_case(
            "envelope_v1_chunk_plus_one",
            "65 bytes: a full chunk and a 1-byte final chunk",
            65,
            "ok",
        ),
        env_case(
            "envelope_v1_three_chunks",
            "182 bytes: three chunks",
            182,
            "ok",
        ),
        EnvCase {
            context: file_ctx.clone(),
            ..env_case(
                "envelope_v1_context",
                "100 bytes with a two-pair context",
                100,
                "ok",
            )
        },
        EnvCase {
            escrow_recipient: true,
            keyring: two_keys.clone(),
            ..env_case(
                "envelope_v1_two_recipients",
                "recipients golden v2 and escrow v1; opened with both keys present",
                150,
                "ok",
            )
        },
        EnvCase {
            escrow_recipient: true,
            keyring: vec![escrow_json()],
            ..env_case(
                "envelope_v1_two_recipients_escrow_only",
                "recipients golden and escrow; the keyring holds only escrow",
                150,
                "ok",
            )
        },
        EnvCase {
            opener: "data_key",
            context: file_ctx.clone(),
            ..env_case(
                "envelope_v1_data_key",
                "under a data key; the wrapped data key is opened with the keyring first",
                90,
                "ok",
            )
        },
        EnvCase {
            opener: "derived_key",
            ..env_case(
                "envelope_v1_derived_key",
                "under the key derived from golden v2 for tenant=acme",
                90,
                "ok",
            )
        },
        EnvCase {
            chunk_size: 65_536,
            ..env_case(
                "envelope_v1_default_chunk_size",
                "1000 bytes with the default 64 KiB chunk size",
                1000,
                "ok",
            )
        },
        EnvCase {
            encrypt_versions: 1,
            ..env_case(
                "envelope_v1_old_version",
                "wrapped under golden v1 while v2 is primary",
                70,
                "ok",
            )
        },
        EnvCase {
            encrypt_versions: 1,
            rewrap_to: Some(2),
            keyring: vec![key_json(&["destroyed", "enabled"], 2, 1, KEY_ID)],
            ..env_case(
                "envelope_v1_rewrapped",
                "made under v1, rewrapped to v2, then v1 destroyed",
                130,
                "ok",
            )
        },
        EnvCase {
            context: file_ctx.clone(),
            open_context: Some(ctx(&[("bucket", "exports"), ("object", "other.csv")])),
            ..env_case(
                "fail_envelope_v1_wrong_context",
                "opened with another context",
                100,
                "authentication_failed",
            )
        },
        EnvCase {
            encrypt_versions: 1,
            keyring: vec![key_json(&["destroyed", "enabled"], 2, 1, KEY_ID)],
            ..env_case(
                "fail_envelope_v1_version_destroyed",
                "wrapped under v1, which was destroyed",
                70,
                "version_destroyed",
            )
        },
        EnvCase {
            keyring: vec![escrow_json()],
            ..env_case(
                "fail_envelope_v1_unknown_key_id",
                "no recipient's key is in the keyring",
                70,
                "unknown_key_id",
            )
        },
        EnvCase {
            mutate: |e, h| e[h - 1] ^= 0x01,
            ..env_case(
                "fail_envelope_v1_bad_commitment",
                "last commitment bit flipped",
                70,
                "authentication_failed",
            )
        },
        EnvCase {
            mutate: |e, h| e[h - 32 - 20] ^= 0x01,
            ..env_case(
                "fail_envelope_v1_tampered_wrap",
                "a bit of the wrapped data key flipped",
                70,
                "authentication_failed",
            )
        },
        EnvCase {
            mutate: |e, h| {
                e.drain(h + 80..h + 160);
            },
            ..env_case(
                "fail_envelope_v1_dropped_chunk",
                "the middle of three chunks removed",
                182,
                "authentication_failed",
            )
        },
        EnvCase {
            mutate: |e, h| {
                let first: Vec<u8> = e[h..h + 80].to_vec();
                let second: Vec<u8> = e[h + 80..h + 160].to_vec();
                e[h..h + 80].copy_from_slice(&second);
                e[h + 80..h + 160].copy_from_slice(&first);
            },
            ..env_case(
                "fail_envelope_v1_swapped_chunks",
                "chunks 0 and 1 swapped",
                182,
                "authentication_failed",
            )
        },
        EnvCase {
            mutate: |e, h| e.truncate(h + 160),
            ..env_case(
                "fail_envelope_v1_truncated_at_chunk_boundary",
                "final chunk removed: a non-final chunk ends the body",
                182,
                "authentication_failed",
            )
        },
        EnvCase {
            mutate: |e, _| e.extend_from_slice(&[0, 0, 0]),
            ..env_case(
                "fail_envelope_v1_trailing_bytes",
                "3 bytes appended to a 54-byte final chunk: it no longer authenticates",
                182,
                "authentication_failed",
            )
        },
        EnvCase {
            mutate: |e, _| e.extend_from_slice(&[0, 0, 0]),
            ..env_case(
                "fail_envelope_v1_trailing_bytes_after_full_chunk",
                "3 bytes after a full final chunk: a 3-byte final chunk is shorter than a tag",
                192,
                "malformed",
            )
        },
        EnvCase {
            mutate: |e, h| {
                let last: Vec<u8> = e[h + 160..].to_vec();
                e.extend_from_slice(&last);
            },
            ..env_case(
                "fail_envelope_v1_final_chunk_repeated",
                "the final chunk appended a second time",
                182,
                "authentication_failed",
            )
        },
        EnvCase {
            mutate: |e, _| e[0] = b'X',
            ..env_case("fail_envelope_v1_bad_magic", "magic XREN", 10, "malformed")
        },
        EnvCase {
            mutate: |e, _| e[4] = 0x02,
            ..env_case(
                "fail_envelope_v1_unsupported_version",
                "format byte 0x02",
                10,
                "unsupported_format",
            )
        },
        EnvCase {
            mutate: |e, _| e[5..9].copy_from_slice(&63u32.to_be_bytes()),
            ..env_case(
                "fail_envelope_v1_chunk_size_too_small",
                "chunk size 63",
                10,
                "malformed",
            )
        },
        EnvCase {
            mutate: |e, _| e[45] = 0,
            ..env_case(
                "fail_envelope_v1_no_recipients",
                "recipient count 0 (empty context, so the count is at offset 45)",
                10,
                "malformed",
            )
        },
        EnvCase {
            mutate: |e, h| e.truncate(h),
            ..env_case(
                "fail_envelope_v1_header_only",
                "a header and no body",
                10,
                "malformed",
            )
        },
        EnvCase {
            escrow_recipient: true,
            keyring: two_keys.clone(),
            mutate: |e, _| {
                // Empty context: count at 45, entries from 46; drop the second.
                e[45] = 1;
                e.drain(46 + 80..46 + 160);
            },
            ..env_case(
                "fail_envelope_v1_recipient_stripped",
                "the escrow entry removed without the data key: the commitment fails",
                150,
                "authentication_failed",
            )
        },
        EnvCase {
            opener: "derived_key",
            open_context: None,
            ..env_case(
                "fail_envelope_v1_derived_wrong_tenant",
                "made under tenant=acme's derived key, opened with tenant=globex's",
                90,
                "authentication_failed",
            )
        },
    ]
}

fn tenant(name: &str) -> BTreeMap<String, String> {
    ctx(&[("tenant", name)])
}

#[test]
#[ignore = "writes new golden vectors; run on purpose"]
fn generate_envelopes() {
    let dir = envelope_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let mut written = 0;
    for c in env_cases() {
        let path = dir.join(format!("{}.json", c.name));
        if path.exists() {
            continue; // Golden vectors are never rewritten.
        }
        let mut keys = vec![key_json(
            &vec!["enabled"; c.encrypt_versions as usize],
            c.encrypt_versions,
            1,
            KEY_ID,
        )];
        if c.escrow_recipient {
            keys.push(escrow_json());
        }
        let enc_keyring = build_keyring(&keys);
        let ectx = context_of(&c.context);
        let (mut sealed, data_key, derived_key) = match c.opener {
            "keyring" => {
                let mut recipients = vec![Recipient::Key {
                    keyring: &enc_keyring,
                    name: "golden",
                }];
                if c.escrow_recipient {
                    recipients.push(Recipient::Key {
                        keyring: &enc_keyring,
                        name: "escrow",
                    });
                }
                (
                    envelope::encrypt(&recipients, &c.plaintext, &ectx, c.chunk_size, &mut SysRng)
                        .unwrap(),
                    None,
                    None,
                )
            }
            "data_key" => {
                let dk_ctx = ctx(&[("subject", "customer-1001")]);
                let (dk, blob) = enc_keyring
                    .generate_data_key("golden", &context_of(&dk_ctx))
                    .unwrap()
                    .into_parts();
                let sealed = envelope::encrypt(
                    &[Recipient::Standalone(&dk)],
                    &c.plaintext,
                    &ectx,
                    c.chunk_size,
                    &mut SysRng,
                )
                .unwrap();
                (
                    sealed,
                    Some(DataKeyJson {
                        wrapped_hex: hex::encode(blob),
                        context: dk_ctx,
                    }),
                    None,
                )
            }
            "derived_key" => {
                let key = enc_keyring
                    .derive_key_version("golden", 2, &context_of(&tenant("acme")))
                    .unwrap();
                let sealed = envelope::encrypt(
                    &[Recipient::Standalone(key.key())],
                    &c.plaintext,
                    &ectx,
                    c.chunk_size,
                    &mut SysRng,
                )
                .unwrap();
                let opened_as = if c.result == "ok" { "acme" } else { "globex" };
                let d = DerivedKeyJson {
                    key_name: "golden".into(),
                    version: 2,
                    context: tenant(opened_as),
                };
                (sealed, None, Some(d))
            }
            other => panic!("opener {other}"),
        };
        if let Some(to) = c.rewrap_to {
            let k = build_keyring(&[key_json(&vec!["enabled"; to as usize], to, 1, KEY_ID)]);
            sealed = rewrap_envelope(&k, &sealed, &ectx).unwrap();
        }
        let header_len = envelope::inspect(&sealed).unwrap().header_len;
        (c.mutate)(&mut sealed, header_len);
        let v = EnvelopeVector {
            name: c.name.into(),
            description: c.description.into(),
            format: "envelope-v1".into(),
            test_key_warning: WARNING.into(),
            keyring: c.keyring,
            context: c.open_context.unwrap_or(c.context),
            envelope_hex: hex::encode(&sealed),
            opener: c.opener.into(),
            data_key,
            derived_key,
            plaintext_hex: (c.result == "ok").then(|| hex::encode(&c.plaintext)),
            result: c.result.into(),
        };
        assert_eq!(result_name(&run_envelope(&v)), v.result, "{}", v.name);
        let json = serde_json::to_string_pretty(&v).unwrap();
        std::fs::write(&path, json + "\n").unwrap();
        written += 1;
    }
    println!("golden generator: wrote {written} new envelope vector files");
}

fn decrypt_envelope(
    keyring: &Keyring,
    sealed: &[u8],
    ctx: &EncryptionContext,
) -> Result<strongroom::SecretBytes, Error> {
    envelope::decrypt(envelope::Identity::Keyring(keyring), sealed, ctx)
}

fn rewrap_envelope(
    keyring: &Keyring,
    sealed: &[u8],
    ctx: &EncryptionContext,
) -> Result<Vec<u8>, Error> {
    envelope::rewrap(keyring, sealed, ctx, &mut SysRng)
}

// ---------------------------------------------------------------------------
// Blind-index vectors (FORMAT.md 13.8).

fn blind_index_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/golden/blind_index")
}

/// Blind-index vectors committed so far.
const MIN_BLIND_INDEX_VECTORS: usize = 50;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct SlowJson {
    m_cost_kib: u32,
    t_cost: u32,
    p_cost: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct FieldJson {
    name: String,
    transforms: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct IndexJson {
    name: String,
    key_name: String,
    bits: u16,
    slow: Option<SlowJson>,
    fields: Vec<FieldJson>,
}

#[derive(Debug, Serialize, Deserialize)]
struct BlindIndexVector {
    name: String,
    description: String,
    format: String,
    test_key_warning: String,
    keyring: Vec<KeyJson>,
    index: IndexJson,
    operation: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    version: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    inputs: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    inputs_repeat: Option<Vec<usize>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    definition_hex: Option<String>,
    result: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    value_hex: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    value_text: Option<String>,
}

fn build_index(j: &IndexJson) -> Result<BlindIndex, Error> {
    let mut b = BlindIndex::builder(&j.name, &j.key_name).bits(j.bits);
    if let Some(s) = &j.slow {
        b = b.slow(strongroom::root::Argon2Params {
            m_cost_kib: s.m_cost_kib,
            t_cost: s.t_cost,
            p_cost: s.p_cost,
        });
    }
    for f in &j.fields {
        let transforms = f
            .transforms
            .iter()
            .map(|t| Transform::parse(t))
            .collect::<Result<Vec<_>, _>>()?;
        b = b.field(&f.name, &transforms);
    }
    b.build()
}

impl BlindIndexVector {
    fn inputs(&self) -> Vec<String> {
        let inputs = self.inputs.clone().unwrap_or_default();
        match &self.inputs_repeat {
            None => inputs,
            Some(r) => inputs.iter().zip(r).map(|(s, n)| s.repeat(*n)).collect(),
        }
    }

    /// The value bytes, after checking the definition encoding and (for a
    /// computed value) the text form against the vector.
    fn value(&self) -> Result<Vec<u8>, Error> {
        let index = build_index(&self.index)?;
        assert_eq!(
            self.definition_hex.as_deref(),
            Some(hex::encode(index.definition_encoding()).as_str()),
            "{}: definition_hex",
            self.name
        );
        let keyring = build_keyring(&self.keyring);
        match self.operation.as_str() {
            "compute" => {
                let inputs = self.inputs();
                let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
                let version = self.version.unwrap();
                let value = keyring.blind_index_version(&index, version, &refs)?;
                assert_eq!(
                    self.value_text.as_deref(),
                    Some(value.to_text().as_str()),
                    "{}",
                    self.name
                );
                if keyring.key_info(index.key_name()).unwrap().primary_version == version {
                    assert_eq!(keyring.blind_index(&index, &refs).unwrap(), value);
                }
                assert!(keyring.blind_index_lookup(&index, &refs)?.contains(&value));
                Ok(value.as_bytes().to_vec())
            }
            "parse" => {
                let value = match (&self.value_hex, &self.value_text) {
                    (_, Some(t)) => IndexValue::from_text(&index, t)?,
                    (Some(h), None) => IndexValue::parse(&index, &hex::decode(h).unwrap())?,
                    (None, None) => panic!("{}: nothing to parse", self.name),
                };
                Ok(value.as_bytes().to_vec())
            }
            other => panic!("{}: operation {other}", self.name),
        }
    }
}

impl GoldenVector for BlindIndexVector {
    fn name(&self) -> &str {
        &self.name
    }
    fn format(&self) -> &str {
        &self.format
    }
    fn result(&self) -> &str {
        &self.result
    }
    fn plaintext_hex(&self) -> Option<&String> {
        self.value_hex.as_ref()
    }
    fn run(&self) -> Result<Vec<u8>, Error> {
        self.value()
    }
}

#[test]
fn every_golden_blind_index_vector_gives_its_result() {
    let vectors: Vec<BlindIndexVector> = load(&blind_index_dir());
    let (ok, fail) = check_all(&vectors, "blind-index-v1");
    println!(
        "golden blind-index vectors: {} checked ({ok} compute or parse to their value, {fail} fail_ cases give their exact error)",
        vectors.len()
    );
    assert!(
        vectors.len() >= MIN_BLIND_INDEX_VECTORS,
        "golden blind-index vectors went missing"
    );
}

fn index_json(
    name: &str,
    bits: u16,
    slow: Option<(u32, u32, u32)>,
    fields: &[(&str, &[&str])],
) -> IndexJson {
    IndexJson {
        name: name.into(),
        key_name: "golden".into(),
        bits,
        slow: slow.map(|(m, t, p)| SlowJson {
            m_cost_kib: m,
            t_cost: t,
            p_cost: p,
        }),
        fields: fields
            .iter()
            .map(|(n, ts)| FieldJson {
                name: (*n).into(),
                transforms: ts.iter().map(|t| (*t).into()).collect(),
            })
            .collect(),
    }
}

/// One compute case: (name, description, keyring, index, version, inputs,
/// inputs_repeat, result).
struct IndexCase {
    name: String,
    description: String,
    keyring: KeyJson,
    index: IndexJson,
    version: u32,
    inputs: Vec<String>,
    repeat: Option<Vec<usize>>,
    result: &'static str,
}

fn blind_index_vectors() -> Vec<BlindIndexVector> {
    let three = || key_json(&["enabled", "enabled", "enabled"], 3, 1, KEY_ID);
    let email = || index_json("email_idx", 32, None, &[("value", &["trim", "casefold"])]);
    let mut cases = Vec::new();
    let mut case = |name: &str,
                    description: &str,
                    index: IndexJson,
                    version: u32,
                    inputs: &[&str],
                    result: &'static str| {
        cases.push(IndexCase {
            name: name.into(),
            description: description.into(),
            keyring: three(),
            index,
            version,
            inputs: inputs.iter().map(|s| (*s).into()).collect(),
            repeat: None,
            result,
        });
    };
    case(
        "blind_index_v1_email",
        "an email index (trim, casefold), 32 bits, under the primary version",
        email(),
        3,
        &["  Ada.Lovelace@Example.COM\n"],
        "ok",
    );
    case(
        "blind_index_v1_email_normalised_input",
        "the same email already normalised: the same value as blind_index_v1_email",
        email(),
        3,
        &["ada.lovelace@example.com"],
        "ok",
    );
    case(
        "blind_index_v1_email_version_1",
        "the email under version 1 of the key: another value, carrying version 1",
        email(),
        1,
        &["ada.lovelace@example.com"],
        "ok",
    );
    case(
        "blind_index_v1_email_version_2",
        "the email under version 2",
        email(),
        2,
        &["ada.lovelace@example.com"],
        "ok",
    );
    case(
        "blind_index_v1_other_name",
        "the email under an index named email_idx2 with the same transforms: unrelated to email_idx",
        index_json("email_idx2", 32, None, &[("value", &["trim", "casefold"])]),
        3,
        &["ada.lovelace@example.com"],
        "ok",
    );
    let one = |name: &str, t: &[&str]| index_json(name, 64, None, &[("value", t)]);
    for (stem, transforms, inputs, description) in [
        (
            "no_transform",
            &[][..],
            "Ada ",
            "no transform: the input as it is",
        ),
        (
            "trim",
            &["trim"][..],
            "\u{3000}\t Ada \u{85}\u{a0}",
            "trim removes White_Space at both ends",
        ),
        (
            "trim_keeps_zwsp",
            &["trim"][..],
            "\u{200b}Ada\u{feff}",
            "trim keeps U+200B and U+FEFF (not White_Space)",
        ),
        (
            "nfc_composed",
            &["nfc"][..],
            "\u{e9}cole",
            "nfc of a composed input",
        ),
        (
            "nfc_decomposed",
            &["nfc"][..],
            "e\u{301}cole",
            "nfc of the decomposed form: the same value as nfc_composed",
        ),
        (
            "casefold_sharp_s",
            &["casefold"][..],
            "STRASSE",
            "casefold: STRASSE",
        ),
        (
            "casefold_sharp_s_2",
            &["casefold"][..],
            "Stra\u{df}e",
            "casefold: Stra\u{df}e folds to strasse, the same value as casefold_sharp_s",
        ),
        (
            "casefold_sigma",
            &["casefold"][..],
            "\u{39f}\u{394}\u{3a5}\u{3a3}\u{3a3}\u{395}\u{3a5}\u{3a3}",
            "casefold: final and non-final sigma both fold to \u{3c3}",
        ),
        (
            "casefold_dotted_i",
            &["casefold"][..],
            "\u{130}stanbul",
            "casefold: U+0130 folds to i U+0307 (status F, not the Turkic T)",
        ),
        (
            "casefold_decomposed_upper",
            &["casefold"][..],
            "E\u{301}COLE",
            "casefold of decomposed uppercase: the same value as casefold of \u{e9}cole",
        ),
        (
            "casefold_composed_lower",
            &["casefold"][..],
            "\u{e9}cole",
            "casefold of composed lowercase",
        ),
        (
            "casefold_ypogegrammeni",
            &["casefold"][..],
            "\u{1fbc}",
            "casefold: U+1FBC folds through NFD to \u{3b1}\u{3b9}",
        ),
        (
            "casefold_ligature",
            &["casefold"][..],
            "\u{fb01}LE",
            "casefold: the fi ligature folds to fi",
        ),
        (
            "casefold_cherokee",
            &["casefold"][..],
            "\u{ab70}\u{13a0}",
            "casefold: Cherokee small letters fold to capitals",
        ),
        (
            "digits",
            &["digits"][..],
            "+1 (555) 010-0199 \u{663}",
            "digits keeps ASCII digits only",
        ),
        (
            "digits_empty",
            &["digits"][..],
            "none",
            "digits of a string with none: the empty string, still indexed",
        ),
        (
            "first_3",
            &["first:3"][..],
            "\u{e9}tudiant",
            "first:3 counts code points",
        ),
        (
            "first_longer_than_input",
            &["first:9"][..],
            "ab",
            "first:9 of a 2-character input keeps it all",
        ),
        ("last_4", &["last:4"][..], "4111 1111 1111 1234", "last:4"),
        (
            "last_digits_4",
            &["digits", "last:4"][..],
            "123-45-6789",
            "the last four digits of an SSN",
        ),
        (
            "order_matters",
            &["last:4", "digits"][..],
            "123-45-6789",
            "last:4 before digits: '6789' here too, but a different definition, so another value",
        ),
        (
            "everything",
            &["trim", "nfc", "casefold", "digits", "first:65535", "last:1"][..],
            " A1b2\u{ff13} ",
            "every transform, first:65535 at its bound",
        ),
    ] {
        // Vectors that must agree share their index (the name is part of
        // the definition): every casefold vector uses index "casefold".
        let index_name = ["nfc", "casefold", "trim"]
            .into_iter()
            .find(|p| stem.starts_with(p))
            .unwrap_or(stem);
        case(
            &format!("blind_index_v1_{stem}"),
            description,
            one(index_name, transforms),
            3,
            &[inputs],
            "ok",
        );
    }
    for bits in [1u16, 7, 8, 9, 255, 256] {
        case(
            &format!("blind_index_v1_bits_{bits}"),
            &format!(
                "a {bits}-bit index: {} value bytes after the header",
                bits.div_ceil(8)
            ),
            index_json(&format!("w{bits}"), bits, None, &[("value", &["casefold"])]),
            3,
            &["ada"],
            "ok",
        );
    }
    case(
        "blind_index_v1_compound",
        "a compound index: last name (nfc, casefold) and birth year (digits, first:4)",
        index_json(
            "name_year",
            20,
            None,
            &[
                ("last_name", &["nfc", "casefold"]),
                ("birth_date", &["digits", "first:4"]),
            ],
        ),
        3,
        &["Lovelace", "1815-12-10"],
        "ok",
    );
    case(
        "blind_index_v1_compound_shifted",
        "the same index with the boundary between fields moved: another value (length-prefixed parts)",
        index_json("pair", 64, None, &[("a", &[]), ("b", &[])]),
        3,
        &["ab", "c"],
        "ok",
    );
    case(
        "blind_index_v1_compound_shifted_2",
        "see blind_index_v1_compound_shifted: 'a' and 'bc'",
        index_json("pair", 64, None, &[("a", &[]), ("b", &[])]),
        3,
        &["a", "bc"],
        "ok",
    );
    case(
        "blind_index_v1_slow_ssn",
        "a slow index (Argon2id m=64 KiB, t=1, p=1) over the digits of an SSN, 16 bits",
        index_json("ssn_idx", 16, Some((64, 1, 1)), &[("value", &["digits"])]),
        3,
        &["123-45-6789"],
        "ok",
    );
    case(
        "blind_index_v1_slow_compound",
        "a slow compound index (m=128 KiB, t=2, p=2)",
        index_json(
            "dob_zip",
            24,
            Some((128, 2, 2)),
            &[("birth_date", &["digits"]), ("zip", &["trim", "first:5"])],
        ),
        2,
        &["1815-12-10", " 02139-4307"],
        "ok",
    );
    // Failures of computing (13.7).
    case(
        "fail_blind_index_v1_bits_0",
        "0 bits is outside 1 ..= 256",
        index_json("w0", 0, None, &[("value", &[])]),
        3,
        &["a"],
        "invalid_argument",
    );
    case(
        "fail_blind_index_v1_bits_257",
        "257 bits is outside 1 ..= 256",
        index_json("w257", 257, None, &[("value", &[])]),
        3,
        &["a"],
        "invalid_argument",
    );
    case(
        "fail_blind_index_v1_first_0",
        "first:0 is not a transform",
        one("f0", &["first:0"]),
        3,
        &["a"],
        "invalid_argument",
    );
    case(
        "fail_blind_index_v1_unknown_transform",
        "lowercase is not a transform (casefold is)",
        one("lc", &["lowercase"]),
        3,
        &["a"],
        "invalid_argument",
    );
    case(
        "fail_blind_index_v1_slow_below_8p",
        "slow with m=15 KiB and p=2: below 8 KiB per lane",
        index_json("s", 16, Some((15, 1, 2)), &[("value", &[])]),
        3,
        &["a"],
        "invalid_argument",
    );
    case(
        "fail_blind_index_v1_wrong_arity",
        "two inputs for a one-field index",
        email(),
        3,
        &["a", "b"],
        "invalid_argument",
    );
    case(
        "fail_blind_index_v1_unknown_key_version",
        "version 4 of a key with 3",
        email(),
        4,
        &["a"],
        "unknown_key_version",
    );
    case(
        "fail_blind_index_v1_unknown_key_name",
        "an index on a key the keyring does not hold",
        IndexJson {
            key_name: "missing".into(),
            ..email()
        },
        1,
        &["a"],
        "unknown_key_name",
    );
    let mut cases: Vec<IndexCase> = cases;
    for (state, result) in [
        ("destroyed", "version_destroyed"),
        ("disabled", "version_disabled"),
    ] {
        cases.push(IndexCase {
            name: format!("fail_blind_index_v1_{result}"),
            description: format!("version 1 is {state}"),
            keyring: key_json(&[state, "enabled", "enabled"], 3, 1, KEY_ID),
            index: email(),
            version: 1,
            inputs: vec!["ada".into()],
            repeat: None,
            result,
        });
    }
    cases.push(IndexCase {
        name: "fail_blind_index_v1_version_below_minimum".into(),
        description: "version 1 is below the minimum decryption version 2".into(),
        keyring: key_json(&["enabled", "enabled", "enabled"], 3, 2, KEY_ID),
        index: email(),
        version: 1,
        inputs: vec!["ada".into()],
        repeat: None,
        result: "version_below_minimum",
    });
    for (n, result) in [(65535usize, "ok"), (65536, "too_large")] {
        let name = if result == "ok" {
            "blind_index_v1_input_65535_bytes".to_string()
        } else {
            "fail_blind_index_v1_input_65536_bytes".to_string()
        };
        cases.push(IndexCase {
            name,
            description: format!("an input of {n} bytes (the bound is 65535, before transforms)"),
            keyring: three(),
            index: one("long", &["casefold"]),
            version: 3,
            inputs: vec!["A".into()],
            repeat: Some(vec![n]),
            result,
        });
    }
    let mut out = Vec::new();
    for c in cases {
        let mut v = BlindIndexVector {
            name: c.name,
            description: c.description,
            format: "blind-index-v1".into(),
            test_key_warning: WARNING.into(),
            keyring: vec![c.keyring],
            definition_hex: build_index(&c.index)
                .ok()
                .map(|i| hex::encode(i.definition_encoding())),
            index: c.index,
            operation: "compute".into(),
            version: Some(c.version),
            inputs: Some(c.inputs),
            inputs_repeat: c.repeat,
            result: c.result.into(),
            value_hex: None,
            value_text: None,
        };
        if c.result == "ok" {
            let index = build_index(&v.index).unwrap();
            let keyring = build_keyring(&v.keyring);
            let inputs = v.inputs();
            let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
            let value = keyring
                .blind_index_version(&index, c.version, &refs)
                .unwrap();
            v.value_hex = Some(hex::encode(value.as_bytes()));
            v.value_text = Some(value.to_text());
        }
        out.push(v);
    }
    out.extend(blind_index_parse_vectors());
    out
}

/// Parsing vectors (13.5, 13.6) for a 12-bit index.
fn blind_index_parse_vectors() -> Vec<BlindIndexVector> {
    let index_j = index_json("p12", 12, None, &[("value", &[])]);
    let index = build_index(&index_j).unwrap();
    let keyring = build_keyring(&[key_json(&["enabled", "enabled"], 2, 1, KEY_ID)]);
    let good = keyring.blind_index(&index, &["x"]).unwrap();
    let bytes = good.as_bytes().to_vec();
    let text = good.to_text();
    let mutated = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut b = bytes.clone();
        f(&mut b);
        hex::encode(b)
    };
    type ParseCase<'a> = (&'a str, &'a str, Option<String>, Option<String>, &'a str);
    let cases: Vec<ParseCase<'_>> = vec![
        (
            "blind_index_v1_parse",
            "a 12-bit value parses to itself",
            Some(hex::encode(&bytes)),
            None,
            "ok",
        ),
        (
            "blind_index_v1_parse_text",
            "its text form parses to the same bytes",
            None,
            Some(text.clone()),
            "ok",
        ),
        (
            "fail_blind_index_v1_parse_empty",
            "no bytes",
            Some(String::new()),
            None,
            "malformed",
        ),
        (
            "fail_blind_index_v1_parse_format_1",
            "format byte 0x01 (a record)",
            Some(mutated(&|b| b[0] = 1)),
            None,
            "unsupported_format",
        ),
        (
            "fail_blind_index_v1_parse_format_4",
            "format byte 0x04",
            Some(mutated(&|b| b[0] = 4)),
            None,
            "unsupported_format",
        ),
        (
            "fail_blind_index_v1_parse_short",
            "one byte short for 12 bits",
            Some(mutated(&|b| {
                b.pop();
            })),
            None,
            "malformed",
        ),
        (
            "fail_blind_index_v1_parse_long",
            "one byte too many",
            Some(mutated(&|b| b.push(0))),
            None,
            "malformed",
        ),
        (
            "fail_blind_index_v1_parse_version_0",
            "key version 0",
            Some(mutated(&|b| b[1..5].copy_from_slice(&[0; 4]))),
            None,
            "malformed",
        ),
        (
            "fail_blind_index_v1_parse_unused_bit",
            "a bit past the 12th set",
            Some(mutated(&|b| *b.last_mut().unwrap() |= 0x08)),
            None,
            "malformed",
        ),
        (
            "fail_blind_index_v1_parse_text_prefix",
            "text without the sbi1: prefix",
            None,
            Some(text.replacen("sbi1:", "sbi2:", 1)),
            "malformed",
        ),
        (
            "fail_blind_index_v1_parse_text_padding",
            "text with = padding",
            None,
            Some(format!("{text}=")),
            "malformed",
        ),
        (
            "fail_blind_index_v1_parse_text_standard_alphabet",
            "text in the standard base64 alphabet (+)",
            None,
            Some(format!("{}+", &text[..text.len() - 1])),
            "malformed",
        ),
        (
            "fail_blind_index_v1_parse_text_56_chars",
            "a text of 56 characters, longer than any value",
            None,
            Some(format!("sbi1:{}", "A".repeat(51))),
            "malformed",
        ),
    ];
    cases
        .into_iter()
        .map(
            |(name, description, value_hex, value_text, result)| BlindIndexVector {
                name: name.into(),
                description: description.into(),
                format: "blind-index-v1".into(),
                test_key_warning: WARNING.into(),
                keyring: vec![key_json(&["enabled", "enabled"], 2, 1, KEY_ID)],
                definition_hex: Some(hex::encode(index.definition_encoding())),
                index: index_j.clone(),
                operation: "parse".into(),
                version: None,
                inputs: None,
                inputs_repeat: None,
                result: result.into(),
                value_hex: if result == "ok" && value_text.is_some() {
                    Some(hex::encode(&bytes))
                } else {
                    value_hex
                },
                value_text,
            },
        )
        .collect()
}

#[test]
#[ignore = "writes new golden vectors; run on purpose"]
fn generate_blind_indexes() {
    let written = write_new_vectors(&blind_index_dir(), blind_index_vectors());
    println!("golden generator: wrote {written} new blind-index vector files");
}

#[test]
fn golden_blind_index_vectors_agree_and_differ_where_they_say() {
    let vectors: Vec<BlindIndexVector> = load(&blind_index_dir());
    let value = |stem: &str| {
        let name = format!("blind_index_v1_{stem}");
        let v = vectors.iter().find(|v| v.name == name).unwrap();
        v.value_hex.clone().unwrap()
    };
    for (a, b) in [
        ("email", "email_normalised_input"),
        ("casefold_sharp_s", "casefold_sharp_s_2"),
        ("nfc_composed", "nfc_decomposed"),
        ("casefold_decomposed_upper", "casefold_composed_lower"),
    ] {
        assert_eq!(value(a), value(b), "{a} and {b} must agree");
    }
    for (a, b) in [
        ("email_normalised_input", "email_version_2"),
        ("email_version_1", "email_version_2"),
        ("email_normalised_input", "other_name"),
        ("compound_shifted", "compound_shifted_2"),
        ("last_digits_4", "order_matters"),
    ] {
        assert_ne!(value(a)[10..], value(b)[10..], "{a} and {b} must differ");
    }
}
