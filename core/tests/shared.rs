//! The shared keyring under load: many threads encrypt and decrypt while one
//! rotates and another streams a large envelope; and two processes share
//! one keyring file.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use strongroom::envelope::{DEFAULT_CHUNK_SIZE, EnvelopeDecryptor, EnvelopeEncryptor, Recipient};
use strongroom::root::KeyProvider;
use strongroom::store::KeyringStore;
use strongroom::{EncryptionContext, Keyring, SecretBytes, SharedKeyring, SysRng, inspect_record};

const WORKERS: usize = 8;
const ROUND_TRIPS: usize = 10_000;
const ROTATIONS: u32 = 200;
const STREAM_MIB: usize = 256;

fn ctx() -> EncryptionContext {
    EncryptionContext::new().with("table", "people").unwrap()
}

#[test]
fn threads_encrypt_and_decrypt_while_one_rotates_and_one_streams() {
    let mut keyring = Keyring::new();
    keyring.create_key("pii").unwrap();
    keyring.create_key("files").unwrap();
    let shared = Arc::new(SharedKeyring::new(keyring));
    let errors = Arc::new(AtomicU64::new(0));
    let rotations_done = Arc::new(AtomicBool::new(false));
    let start = Arc::new(Barrier::new(WORKERS + 2));

    // The stream: its decryptor opens the header first, then is fed slowly
    // enough that every rotation happens while it is open.
    let streamer = {
        let (shared, rotations_done, start) =
            (shared.clone(), rotations_done.clone(), start.clone());
        std::thread::spawn(move || {
            let snapshot = shared.current();
            let recipients = [Recipient::Key {
                keyring: &snapshot,
                name: "files",
            }];
            let (mut enc, header) =
                EnvelopeEncryptor::new(&recipients, &ctx(), DEFAULT_CHUNK_SIZE, &mut SysRng)
                    .unwrap();
            let mut dec = EnvelopeDecryptor::new(snapshot.clone(), &ctx());
            drop(snapshot);
            let mut plain = SecretBytes::new();
            dec.update(&header, &mut plain).unwrap();
            start.wait();
            let block = vec![0x5au8; 1 << 20];
            let (mut sealed, mut released) = (Vec::new(), 0usize);
            for _ in 0..STREAM_MIB {
                sealed.clear();
                enc.update(&block, &mut sealed).unwrap();
                plain.clear();
                dec.update(&sealed, &mut plain).unwrap();
                released += plain.len();
                assert!(plain.expose_secret().iter().all(|b| *b == 0x5a));
            }
            // Hold the stream open until the rotations are done.
            while !rotations_done.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(1));
            }
            sealed.clear();
            enc.finish(&mut sealed).unwrap();
            plain.clear();
            dec.update(&sealed, &mut plain).unwrap();
            released += plain.len();
            plain.clear();
            dec.finish(&mut plain).unwrap();
            released + plain.len()
        })
    };

    // Round trips done so far: the rotator spreads its rotations over the
    // workers' whole run instead of finishing before they get going.
    let progress = Arc::new(AtomicU64::new(0));
    let rotator = {
        let (shared, rotations_done, start, progress) = (
            shared.clone(),
            rotations_done.clone(),
            start.clone(),
            progress.clone(),
        );
        std::thread::spawn(move || {
            start.wait();
            let total = (WORKERS * ROUND_TRIPS) as u64;
            let mut longest = Duration::ZERO;
            for i in 0..ROTATIONS {
                let due = total * u64::from(i) / u64::from(ROTATIONS + 1);
                while progress.load(Ordering::Relaxed) < due {
                    std::thread::yield_now();
                }
                let t = Instant::now();
                let name = if i % 2 == 0 { "pii" } else { "files" };
                shared.update(|k| k.rotate(name)).unwrap();
                longest = longest.max(t.elapsed());
            }
            rotations_done.store(true, Ordering::SeqCst);
            longest
        })
    };

    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let (shared, errors, start, progress) = (
                shared.clone(),
                errors.clone(),
                start.clone(),
                progress.clone(),
            );
            std::thread::spawn(move || {
                start.wait();
                let ctx = ctx();
                let mut versions = std::collections::BTreeSet::new();
                for i in 0..ROUND_TRIPS {
                    let value = format!("worker {w} value {i}");
                    let keyring = shared.current();
                    let ok = keyring
                        .encrypt_record("pii", value.as_bytes(), &ctx)
                        .and_then(|r| {
                            versions.insert(inspect_record(&r)?.key_version);
                            // Decrypt under a later snapshot: rotation keeps
                            // old versions decrypting.
                            shared.current().decrypt_record(&r, &ctx)
                        })
                        .is_ok_and(|p| p.expose_secret() == value.as_bytes())
                        && common::encrypt_envelope(&keyring, "files", value.as_bytes(), &ctx)
                            .and_then(|e| common::decrypt_envelope(&shared.current(), &e, &ctx))
                            .is_ok_and(|p| p.expose_secret() == value.as_bytes());
                    if !ok {
                        errors.fetch_add(1, Ordering::SeqCst);
                    }
                    progress.fetch_add(1, Ordering::Relaxed);
                }
                versions.len()
            })
        })
        .collect();

    let versions_seen: Vec<usize> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    let longest = rotator.join().unwrap();
    let streamed = streamer.join().unwrap();
    let final_keyring = shared.current();
    let pii = final_keyring.key_info("pii").unwrap();
    let files = final_keyring.key_info("files").unwrap();
    println!(
        "shared keyring: {WORKERS} threads x {ROUND_TRIPS} record + envelope round trips, \
         {ROTATIONS} rotations, one {STREAM_MIB} MiB stream open throughout: {} errors; \
         longest rotation {:.3} ms; versions seen per worker {versions_seen:?}",
        errors.load(Ordering::SeqCst),
        longest.as_secs_f64() * 1e3
    );
    assert_eq!(errors.load(Ordering::SeqCst), 0);
    assert_eq!(streamed, STREAM_MIB << 20);
    assert_eq!(pii.primary_version + files.primary_version, ROTATIONS + 2);
    // The rotations ran during the workers' round trips, not before them:
    // each worker's 10,000 encryptions span many primary versions.
    assert!(versions_seen.iter().all(|n| *n > 10), "{versions_seen:?}");
}

const CHILD_PATH_ENV: &str = "STRONGROOM_SHARED_CHILD_PATH";
const CHILD_ROTATIONS: u32 = 20;
const PARENT_ROTATIONS: u32 = 5;

/// TEST KEY MATERIAL: the key-file root used by these tests.
fn root() -> Arc<dyn KeyProvider> {
    common::key_file_root(0x61)
}

/// Process A of the two-process test: rotates through the keyring file.
/// Run only by that test, as a child process.
#[test]
#[ignore = "child process of two_processes_share_one_keyring_file"]
fn child_rotates_through_the_file() {
    let path = PathBuf::from(std::env::var(CHILD_PATH_ENV).expect("run by the parent test"));
    let store = KeyringStore::new(&path, root());
    let mut out = std::io::stdout().lock();
    for _ in 0..CHILD_ROTATIONS {
        let v = store.update(|k| k.rotate("pii")).unwrap();
        writeln!(out, "rotated {v}").unwrap();
        out.flush().unwrap();
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn spawn_child(path: &Path) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "child_rotates_through_the_file",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_PATH_ENV, path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn two_processes_share_one_keyring_file() {
    let mut nonce = [0u8; 6];
    getrandom::fill(&mut nonce).unwrap();
    let dir = std::env::temp_dir().join(format!("strongroom-shared-{}", hex::encode(nonce)));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("keyring.srk");
    let mut keyring = Keyring::new();
    keyring.create_key("pii").unwrap();
    KeyringStore::new(&path, root()).create(&keyring).unwrap();

    // Process B: serves encrypt/decrypt through the shared handle, checks
    // the file on every call, and rotates too.
    let shared = SharedKeyring::load(KeyringStore::new(&path, root())).unwrap();
    shared.set_auto_reload(Some(Duration::ZERO));
    let mut child = spawn_child(&path);
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .filter_map(|l| {
                l.rsplit_once("rotated ")
                    .and_then(|(_, v)| v.trim().parse::<u32>().ok())
            })
            .collect::<Vec<u32>>()
    });
    let ctx = ctx();
    let mut records = Vec::new();
    let mut versions = std::collections::BTreeSet::new();
    let mut parent_rotations = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "child did not finish");
        let r = shared
            .current()
            .encrypt_record("pii", b"ada@example.com", &ctx)
            .unwrap();
        versions.insert(inspect_record(&r).unwrap().key_version);
        records.push(r);
        if parent_rotations.len() < PARENT_ROTATIONS as usize && records.len() % 50 == 0 {
            parent_rotations.push(shared.update(|k| k.rotate("pii")).unwrap());
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(child.wait().unwrap().success());
    let child_versions = reader.join().unwrap();
    while parent_rotations.len() < PARENT_ROTATIONS as usize {
        parent_rotations.push(shared.update(|k| k.rotate("pii")).unwrap());
    }
    // B picked up A's rotations while running, and nobody lost a version.
    let total = 1 + CHILD_ROTATIONS + PARENT_ROTATIONS;
    let now = shared.current();
    let info = now.key_info("pii").unwrap();
    assert_eq!(child_versions.len(), CHILD_ROTATIONS as usize);
    assert_eq!(info.versions.len() as u32, total);
    assert_eq!(info.primary_version, total);
    let mut all: Vec<u32> = child_versions
        .iter()
        .chain(&parent_rotations)
        .copied()
        .collect();
    all.sort_unstable();
    assert_eq!(all, (2..=total).collect::<Vec<_>>(), "a version was lost");
    let fresh = now.encrypt_record("pii", b"x", &ctx).unwrap();
    assert_eq!(inspect_record(&fresh).unwrap().key_version, total);
    for r in &records {
        assert_eq!(
            now.decrypt_record(r, &ctx).unwrap().expose_secret(),
            b"ada@example.com"
        );
    }
    // An explicit reload with nothing new changes nothing.
    assert!(!shared.reload_if_changed().unwrap());
    println!(
        "two processes: A rotated {CHILD_ROTATIONS} times through the file, B rotated \
         {PARENT_ROTATIONS} times and served {} records under {} distinct versions; \
         final primary {total}, no version lost",
        records.len(),
        versions.len()
    );
    assert!(
        versions.len() > 1 + PARENT_ROTATIONS as usize,
        "B never saw A's rotations"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// Counts events by `action outcome`.
#[derive(Default)]
struct Count(std::sync::Mutex<Vec<String>>);

impl strongroom::audit::AuditSink for Count {
    fn record(&self, e: &strongroom::audit::AuditEvent<'_>) {
        let line = format!("{} {}", e.action.name(), e.error.map_or("ok", |k| k.name()));
        self.0.lock().unwrap().push(line);
    }
}

#[test]
fn an_audit_context_set_on_a_shared_keyring_sees_later_events_and_survives_reloads() {
    use strongroom::audit::AuditContext;
    let ctx = EncryptionContext::new();
    // In memory.
    let mut keyring = Keyring::new();
    keyring.create_key("k").unwrap();
    let shared = SharedKeyring::new(keyring);
    let before = shared.current().encrypt_record("k", b"x", &ctx).unwrap();
    let sink = Arc::new(Count::default());
    shared
        .set_audit(AuditContext::new(sink.clone(), || common::T0))
        .unwrap();
    shared.current().decrypt_record(&before, &ctx).unwrap();
    shared.update(|k| k.rotate("k")).unwrap();
    shared.current().encrypt_record("k", b"y", &ctx).unwrap();
    assert_eq!(
        *sink.0.lock().unwrap(),
        ["decrypt ok", "key_rotated ok", "encrypt ok"]
    );
    // File-backed: the store attaches it to every reload too.
    let dir = common::fresh_dir("shared-audit");
    let path = dir.join("keyring.srk");
    let store = KeyringStore::new(&path, common::key_file_root(0x44));
    let mut k = Keyring::new();
    k.create_key("k").unwrap();
    store.create(&k).unwrap();
    let shared =
        SharedKeyring::load(KeyringStore::new(&path, common::key_file_root(0x44))).unwrap();
    let sink = Arc::new(Count::default());
    shared
        .set_audit(AuditContext::new(sink.clone(), || common::T0))
        .unwrap();
    shared.reload().unwrap();
    shared.current().encrypt_record("k", b"z", &ctx).unwrap();
    let got = sink.0.lock().unwrap().clone();
    assert_eq!(got, ["keyring_opened ok", "encrypt ok"], "{got:?}");
    std::fs::remove_dir_all(&dir).ok();
}
