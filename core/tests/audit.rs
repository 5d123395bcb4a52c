//! Audit events: a scripted run of every operation produces exactly the
//! expected event sequence; the JSON-lines log of the same run holds no key
//! byte, passphrase or plaintext in any encoding.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

mod common;

use std::sync::{Arc, Mutex};

use common::{SeededRng, T0};
use strongroom::audit::{AuditContext, AuditEvent, AuditSink, JsonLinesSink};
use strongroom::envelope::{self, Identity, Recipient};
use strongroom::keyring_file;
use strongroom::rand_core::TryRng;
use strongroom::root::{Argon2Params, PassphraseRoot};
use strongroom::{
    EncryptionContext, KeyId, KeyImport, KeyMaterial, Keyring, SysRng, Timestamp, VersionImport,
    VersionState,
};

/// TEST KEY MATERIAL for "pii" version 1.
const PII_V1: [u8; 32] = *b"AUDIT-TEST-KEY-pii-v1-0123456789";
const PASSPHRASE: &[u8] = b"audit passphrase: tr0ub4dor&3";
const PLAINTEXTS: [&[u8]; 3] = [
    b"jane.doe@example.com",
    b"078-05-1120",
    b"quarterly-export.csv contents",
];

#[derive(Default, Clone)]
struct Capture(Arc<Mutex<Vec<String>>>);

impl AuditSink for Capture {
    fn record(&self, e: &AuditEvent<'_>) {
        let line = format!(
            "{} {} {} v{} {}",
            e.action.name(),
            e.object.name(),
            e.key_name.unwrap_or("-"),
            e.version.map_or("-".to_string(), |v| v.to_string()),
            e.error.map_or("ok", |k| k.name())
        );
        self.0.lock().unwrap().push(line);
    }
}

fn clock() -> Timestamp {
    T0
}

fn ctx() -> EncryptionContext {
    EncryptionContext::new().with("table", "people").unwrap()
}

/// Every operation once, with failures; returns the key bytes it created
/// (the generated ones reproduced from the seeded RNG).
fn scenario(keyring: &mut Keyring) -> Vec<[u8; 32]> {
    let mut keys = vec![PII_V1];
    let v1 = VersionImport::new(
        VersionState::Enabled,
        T0,
        Some(KeyMaterial::from_slice(&PII_V1).unwrap()),
    );
    keyring
        .import_key(KeyImport::new(
            "pii",
            KeyId::from_u32(0xa0d1_7001),
            T0,
            vec![v1],
        ))
        .unwrap();
    // "files" from a seeded RNG: 4 bytes of key id, then 32 of material.
    keyring
        .create_key_with("files", &mut SeededRng::new(1), T0)
        .unwrap();
    let mut replay = SeededRng::new(1);
    let (mut id, mut m) = ([0u8; 4], [0u8; 32]);
    replay.try_fill_bytes(&mut id).unwrap();
    replay.try_fill_bytes(&mut m).unwrap();
    keys.push(m);
    let old = keyring
        .encrypt_record("pii", PLAINTEXTS[0], &ctx())
        .unwrap();
    keyring
        .rotate_with("pii", &mut SeededRng::new(2), T0)
        .unwrap();
    let mut replay = SeededRng::new(2);
    replay.try_fill_bytes(&mut m).unwrap();
    keys.push(m);
    let rec = keyring
        .encrypt_record("pii", PLAINTEXTS[1], &ctx())
        .map(|r| strongroom::record::to_text(&r))
        .unwrap();
    strongroom::record::from_text(&rec)
        .and_then(|r| keyring.decrypt_record(&r, &ctx()))
        .unwrap();
    strongroom::record::from_text(&rec)
        .and_then(|r| keyring.decrypt_record(&r, &EncryptionContext::new()))
        .unwrap_err();
    // Malformed input still reaches the keyring as a failed decrypt.
    keyring.decrypt_record(&[1, 0, 0], &ctx()).unwrap_err();
    keyring.rewrap_record(&old, &ctx()).unwrap();
    keyring.disable_version("pii", 1).unwrap();
    keyring.decrypt_record(&old, &ctx()).unwrap_err();
    keyring.enable_version("pii", 1).unwrap();
    keyring.set_min_decryption_version("pii", 2).unwrap();
    keyring.set_min_decryption_version("pii", 1).unwrap();
    keyring
        .set_rotation_period("pii", Some(90 * 86_400))
        .unwrap();
    let env = common::encrypt_envelope(keyring, "files", PLAINTEXTS[2], &ctx()).unwrap();
    common::decrypt_envelope(keyring, &env, &ctx()).unwrap();
    common::decrypt_envelope(keyring, &env, &EncryptionContext::new()).unwrap_err();
    envelope::decrypt_chunk(Identity::Keyring(keyring), &env, &ctx(), 0).unwrap();
    common::rewrap_envelope(keyring, &env, &ctx()).unwrap();
    let (dk, blob) = keyring
        .generate_data_key("pii", &ctx())
        .unwrap()
        .into_parts();
    keyring.unwrap_data_key(&blob, &ctx()).unwrap();
    keys.push(*dk.expose_secret());
    // Standalone-key envelopes leave no trail on the keyring.
    envelope::encrypt(&[Recipient::Standalone(&dk)], b"x", &ctx(), 64, &mut SysRng).unwrap();
    let derived = keyring.derive_key("pii", &ctx()).unwrap();
    keys.push(*derived.key().expose_secret());
    keyring.destroy_version("pii", 1).unwrap();
    keyring.decrypt_record(&old, &ctx()).unwrap_err();
    keyring.destroy_version("pii", 2).unwrap_err();
    keys
}

#[test]
fn a_scripted_run_gives_the_expected_event_sequence() {
    let capture = Capture::default();
    let mut keyring = Keyring::new();
    keyring.set_audit(AuditContext::new(Arc::new(capture.clone()), clock));
    scenario(&mut keyring);
    let got = capture.0.lock().unwrap().clone();
    let expected = [
        "key_imported key pii v1 ok",
        "key_created key files v1 ok",
        "encrypt record pii v1 ok",
        "key_rotated key pii v2 ok",
        "encrypt record pii v2 ok",
        "decrypt record pii v2 ok",
        "decrypt record pii v2 authentication_failed",
        "decrypt record - v- malformed",
        "rewrap record pii v1 ok",
        "version_disabled key pii v1 ok",
        "decrypt record pii v1 version_disabled",
        "version_enabled key pii v1 ok",
        "min_decryption_version_changed key pii v2 ok",
        "min_decryption_version_changed key pii v1 ok",
        "rotation_period_changed key pii v- ok",
        "encrypt envelope files v1 ok",
        "decrypt envelope files v1 ok",
        "decrypt envelope files v1 authentication_failed",
        "decrypt envelope files v1 ok",
        "rewrap envelope files v1 ok",
        "encrypt data_key pii v2 ok",
        "decrypt data_key pii v2 ok",
        "derive key pii v2 ok",
        "version_destroyed key pii v1 ok",
        "decrypt record pii v1 version_destroyed",
        "version_destroyed key pii v2 primary_version",
    ];
    for (i, (g, e)) in got.iter().zip(expected.iter()).enumerate() {
        assert_eq!(g, e, "event {i}");
    }
    assert_eq!(got.len(), expected.len(), "{got:#?}");
    println!(
        "audit: scripted run of every operation gave the expected {} events",
        got.len()
    );
}

#[test]
fn the_json_lines_log_holds_no_secret_in_any_encoding() {
    let dir = std::env::temp_dir().join(format!("strongroom-audit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("audit.jsonl");
    let _ = std::fs::remove_file(&path);
    let mut keyring = Keyring::new();
    keyring.set_audit(AuditContext::new(
        Arc::new(JsonLinesSink::open(&path).unwrap()),
        clock,
    ));
    let keys = scenario(&mut keyring);
    // Seal under a passphrase too, so it is in play during the run.
    let fast = Argon2Params {
        m_cost_kib: 64,
        t_cost: 1,
        p_cost: 1,
    };
    keyring_file::encrypt(
        &keyring,
        &PassphraseRoot::with_params(PASSPHRASE, fast),
        &mut SysRng,
    )
    .unwrap();
    drop(keyring);
    let log = std::fs::read(&path).unwrap();
    let text = String::from_utf8(log.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    for line in &lines {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(
            v["time"].is_u64() && v["action"].is_string() && v["outcome"].is_string(),
            "{line}"
        );
    }
    let mut secrets: Vec<Vec<u8>> = keys.iter().map(|k| k.to_vec()).collect();
    secrets.push(PASSPHRASE.to_vec());
    secrets.extend(PLAINTEXTS.iter().map(|p| p.to_vec()));
    let (mut needles, mut found) = (0, 0);
    // Positive control: the same search finds a secret planted in a copy.
    let mut planted = log.clone();
    planted.extend_from_slice(hex::encode(PII_V1).as_bytes());
    let probe = hex::encode(&PII_V1[..8]).into_bytes();
    assert!(planted.windows(probe.len()).any(|w| w == probe.as_slice()));
    for secret in &secrets {
        use base64::Engine as _;
        let forms: Vec<Vec<u8>> = vec![
            secret[..8].to_vec(),
            hex::encode(&secret[..8]).into_bytes(),
            hex::encode_upper(&secret[..8]).into_bytes(),
            base64::engine::general_purpose::STANDARD
                .encode(secret)
                .into_bytes()[..10]
                .to_vec(),
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(secret)
                .into_bytes()[..10]
                .to_vec(),
        ];
        for form in forms {
            needles += 1;
            if log.windows(form.len()).any(|w| w == form.as_slice()) {
                found += 1;
            }
        }
    }
    println!(
        "audit log: {} JSON lines; {} secrets ({} keys, the passphrase, {} plaintexts) searched in {needles} encodings: {found} found",
        lines.len(),
        secrets.len(),
        keys.len(),
        PLAINTEXTS.len()
    );
    assert_eq!(found, 0);
    assert_eq!(lines.len(), 26);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn store_stream_and_export_events_are_complete_and_truthful() {
    use std::io::{Read, Seek, SeekFrom};
    use strongroom::envelope::{EnvelopeReader, EnvelopeSeekReader};
    use strongroom::root::{KeyFileRoot, KeyProvider};
    use strongroom::store::KeyringStore;

    let capture = Capture::default();
    let audit = AuditContext::new(Arc::new(capture.clone()), clock);
    let dir = std::env::temp_dir().join(format!("strongroom-audit-store-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("keyring.srk");
    let _ = std::fs::remove_file(&path);
    // TEST KEY MATERIAL: the roots of this test.
    let root: Arc<dyn KeyProvider> = Arc::new(KeyFileRoot::new(
        &KeyMaterial::from_slice(&[0x21; 32]).unwrap(),
    ));
    let other: Arc<dyn KeyProvider> = Arc::new(KeyFileRoot::new(
        &KeyMaterial::from_slice(&[0x22; 32]).unwrap(),
    ));
    let mut initial = Keyring::new();
    initial
        .create_key_with("files", &mut SeededRng::new(9), T0)
        .unwrap();
    let mut store = KeyringStore::new(&path, root.clone());
    store.set_audit(audit.clone());
    store.create(&initial).unwrap();

    // Open, and a failed open.
    let keyring = Arc::new(store.load().unwrap());
    let mut wrong = KeyringStore::new(&path, other.clone());
    wrong.set_audit(audit.clone());
    wrong.load().unwrap_err();
    // A saved change (a save that fails is logged as a failure: the unit
    // test store::fault_tests covers it, with a disk-full file layer).
    store.update(|k| k.rotate("files")).unwrap();
    // Export, and a root change.
    keyring
        .export_key_with("files", other.as_ref(), &mut SysRng)
        .unwrap();
    store.change_root(other.clone()).unwrap();

    // Seekable reads: the open, then a chunk that fails.
    let env = common::encrypt_envelope(&keyring, "files", &vec![7u8; 100_000], &ctx()).unwrap();
    let mut seek = EnvelopeSeekReader::new(
        std::io::Cursor::new(env.clone()),
        Identity::Keyring(&keyring),
        &ctx(),
    )
    .unwrap();
    let mut buf = [0u8; 10];
    seek.read_exact(&mut buf).unwrap();
    let mut bad = env.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    let mut seek = EnvelopeSeekReader::new(
        std::io::Cursor::new(bad),
        Identity::Keyring(&keyring),
        &ctx(),
    )
    .unwrap();
    seek.seek(SeekFrom::End(-1)).unwrap();
    seek.read(&mut buf).unwrap_err();
    // A reader dropped after releasing plaintext, before the end.
    let mut reader = EnvelopeReader::new(std::io::Cursor::new(env), keyring.clone(), &ctx());
    reader.read_exact(&mut buf).unwrap();
    drop(reader);

    let got = capture.0.lock().unwrap().clone();
    let expected = [
        "keyring_opened keyring - v- ok",
        "keyring_opened keyring - v- authentication_failed",
        "keyring_opened keyring - v- ok",
        "key_rotated key files v2 ok",
        "key_exported key files v- ok",
        "keyring_opened keyring - v- ok",
        "root_changed keyring - v- ok",
        "encrypt envelope files v1 ok",
        "decrypt envelope files v1 ok",
        "decrypt envelope files v1 ok",
        "decrypt envelope files v1 authentication_failed",
        "decrypt envelope files v1 malformed",
    ];
    assert_eq!(got, expected, "{got:#?}");
    println!(
        "audit: store, export, root change, seekable and dropped streams gave the expected {} events",
        got.len()
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn streaming_recipient_data_key_and_backup_operations_emit_their_events() {
    use std::io::{Read, Write};
    use strongroom::envelope::{EnvelopeEncryptor, EnvelopeReader, EnvelopeWriter};
    use strongroom::root::KeyFileRoot;

    let capture = Capture::default();
    let audit = AuditContext::new(Arc::new(capture.clone()), clock);
    let mut keyring = Keyring::new();
    keyring.set_audit(audit.clone());
    keyring
        .create_key_with("files", &mut SeededRng::new(3), T0)
        .unwrap();
    keyring
        .create_key_with("escrow", &mut SeededRng::new(4), T0)
        .unwrap();
    let keyring = Arc::new(keyring);
    let files = [Recipient::Key {
        keyring: &keyring,
        name: "files",
    }];
    // Streaming encrypt (EnvelopeWriter), streaming decrypt (EnvelopeReader).
    let mut w = EnvelopeWriter::new(Vec::new(), &files, &ctx(), 64, &mut SysRng).unwrap();
    w.write_all(&[5u8; 200]).unwrap();
    let env = w.finish().unwrap();
    let mut plain = Vec::new();
    EnvelopeReader::new(std::io::Cursor::new(&env), keyring.clone(), &ctx())
        .read_to_end(&mut plain)
        .unwrap();
    // An encryptor for two keyring recipients: one event per recipient.
    let both = [
        files[0],
        Recipient::Key {
            keyring: &keyring,
            name: "escrow",
        },
    ];
    let _ = EnvelopeEncryptor::new(&both, &ctx(), 64, &mut SysRng).unwrap();
    // Recipient changes are rewraps of the header.
    let escrow = Recipient::Key {
        keyring: &keyring,
        name: "escrow",
    };
    let added = envelope::add_recipient(
        Identity::Keyring(&keyring),
        &env,
        &ctx(),
        escrow,
        &mut SysRng,
    )
    .unwrap();
    let escrow_id = keyring.key_id("escrow").unwrap();
    envelope::remove_recipient(
        Identity::Keyring(&keyring),
        &added,
        &ctx(),
        Some(escrow_id),
        &mut SysRng,
    )
    .unwrap();
    // Data keys: wrap an existing key, rewrap the blob, unwrap it.
    let dk = KeyMaterial::from_slice(&[0x11; 32]).unwrap(); // TEST KEY MATERIAL
    let blob = keyring
        .wrap_data_key_with("files", &dk, &ctx(), &mut SysRng)
        .unwrap();
    let blob = keyring
        .rewrap_data_key_with(&blob, &ctx(), &mut SysRng)
        .unwrap();
    keyring
        .unwrap_data_key(&blob, &EncryptionContext::new())
        .unwrap_err();
    // A key backup, and importing it into another audited keyring.
    let backup_root = KeyFileRoot::new(&KeyMaterial::from_slice(&[0x12; 32]).unwrap());
    let backup = keyring
        .export_key_with("escrow", &backup_root, &mut SysRng)
        .unwrap();
    let mut other = Keyring::new();
    other.set_audit(audit);
    other.import_key_backup(&backup, &backup_root).unwrap();
    other.import_key_backup(&backup, &backup_root).unwrap_err();

    let got = capture.0.lock().unwrap().clone();
    let expected = [
        "key_created key files v1 ok",
        "key_created key escrow v1 ok",
        "encrypt envelope files v1 ok",
        "decrypt envelope files v1 ok",
        "encrypt envelope files v1 ok",
        "encrypt envelope escrow v1 ok",
        "rewrap envelope files v1 ok",
        "rewrap envelope files v1 ok",
        "encrypt data_key files v1 ok",
        "rewrap data_key files v1 ok",
        "decrypt data_key files v1 authentication_failed",
        "key_exported key escrow v- ok",
        "key_imported key escrow v1 ok",
        "key_imported key - v- key_exists",
    ];
    assert_eq!(got, expected, "{got:#?}");
    assert_eq!(plain, [5u8; 200]);
    println!(
        "audit: streaming, recipient changes, data keys and backups gave the expected {} events",
        got.len()
    );
}

/// One event a stream, however often it is finished or fails: the
/// success once, on the first finish; a failure once, on the first error.
#[test]
fn a_stream_decryption_logs_one_event_however_it_ends() {
    use strongroom::SecretBytes;
    use strongroom::envelope::EnvelopeDecryptor;

    let capture = Capture::default();
    let mut keyring = Keyring::new();
    keyring.set_audit(AuditContext::new(Arc::new(capture.clone()), clock));
    keyring
        .create_key_with("files", &mut SeededRng::new(3), T0)
        .unwrap();
    let keyring = Arc::new(keyring);
    let files = [Recipient::Key {
        keyring: &keyring,
        name: "files",
    }];
    let env = envelope::encrypt(&files, &[5u8; 200], &ctx(), 64, &mut SysRng).unwrap();
    let events = || {
        let got: Vec<String> = capture.0.lock().unwrap().drain(..).collect();
        got
    };
    events();

    let mut d = EnvelopeDecryptor::new(keyring.clone(), &ctx());
    let mut plain = SecretBytes::new();
    d.update(&env, &mut plain).unwrap();
    d.finish(&mut plain).unwrap();
    d.finish(&mut plain).unwrap();
    drop(d);
    assert_eq!(events(), ["decrypt envelope files v1 ok"]);

    let mut bad = env.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    let mut d = EnvelopeDecryptor::new(keyring.clone(), &ctx());
    d.update(&bad, &mut plain).unwrap();
    assert!(d.finish(&mut plain).is_err());
    let first = events();
    for _ in 0..2 {
        assert!(d.finish(&mut plain).is_err());
        assert!(d.update(b"more", &mut plain).is_err());
    }
    drop(d);
    assert_eq!(
        (first, events()),
        (
            vec!["decrypt envelope files v1 authentication_failed".to_string()],
            vec![]
        )
    );
}
