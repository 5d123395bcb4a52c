//! The PKCS#11 root against a real SoftHSM2 token (feature `pkcs11`; the
//! test command installs `softhsm2`). The parent makes a throwaway token
//! with `softhsm2-util`; a child process (with `SOFTHSM2_CONF` in its
//! environment from the start) creates a non-extractable AES key, seals a
//! keyring with it, reopens it, and checks that a wrong PIN and a missing
//! key give clear errors. A second child shows rollback protection with the
//! token as witness, and a destroy with a root change that destroys the old
//! token key, so no earlier copy of the keyring file opens again.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use std::sync::Arc;

use common::{keyring_with, test_material};
use strongroom::keyring_file;
use strongroom::pkcs11::Pkcs11Root;
use strongroom::root::{KeyProvider, Retirement, RootKind};
use strongroom::store::{KeyringStore, StoreError};
use strongroom::{EncryptionContext, Error, ErrorKind, SysRng, VersionState};

const CHILD_ENV: &str = "STRONGROOM_PKCS11_CHILD";
const DIR_ENV: &str = "STRONGROOM_PKCS11_DIR";
const TOKEN: &str = "strongroom-test";
const PIN: &str = "5678"; // TEST PIN for a throwaway SoftHSM2 token

fn module() -> PathBuf {
    let candidates = [
        "/usr/lib/softhsm/libsofthsm2.so",
        "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    ];
    candidates
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .expect("SoftHSM2 is not installed: run scripts/setup.sh (apt-get install softhsm2)")
}

#[test]
fn child_entry() {
    if std::env::var(CHILD_ENV).is_err() {
        return;
    }
    let module = module();
    let root = Pkcs11Root::connect(&module, TOKEN, PIN, "keyring-root").unwrap();
    root.create_key().unwrap();
    let keyring = keyring_with("k", &[VersionState::Enabled; 2], 2, 1);
    let file = keyring_file::encrypt(&keyring, &root, &mut SysRng).unwrap();
    assert_eq!(
        keyring_file::inspect(&file).unwrap().root_kind,
        RootKind::Pkcs11
    );
    let reopened = keyring_file::decrypt(&file, &root).unwrap();
    assert!(common::same_contents(&reopened, &keyring));
    // The material never appears in the file.
    assert!(
        !file
            .windows(32)
            .any(|w| w == test_material(1) || w == test_material(2))
    );
    // Tampering with the header fails authentication.
    let mut bad = file.clone();
    bad[9] ^= 1;
    assert!(keyring_file::decrypt(&bad, &root).is_err());
    // Wrong PIN: a clear error at connect, and the PIN is not in it.
    let wrong = Pkcs11Root::connect(&module, TOKEN, "0000", "keyring-root").unwrap_err();
    assert!(!wrong.to_string().contains("0000"));
    // A root configured for a key that does not exist.
    let missing = Pkcs11Root::connect(&module, TOKEN, PIN, "no-such-key").unwrap();
    let seal_err = keyring_file::encrypt(&keyring, &missing, &mut SysRng).unwrap_err();
    // Wrong token label.
    let no_token = Pkcs11Root::connect(&module, "no-such-token", PIN, "keyring-root").unwrap_err();
    // A second key with the same label is refused.
    assert!(matches!(root.create_key(), Err(Error::KeyProvider { .. })));
    println!("child: sealed {} bytes; reopened identical", file.len());
    println!("child: wrong PIN -> {wrong}");
    println!("child: missing key -> {seal_err}");
    println!("child: missing token -> {no_token}");
}

fn softhsm_conf(dir: &Path) -> PathBuf {
    let tokens = dir.join("tokens");
    std::fs::create_dir_all(&tokens).unwrap();
    let conf = dir.join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .unwrap();
    conf
}

/// Makes a throwaway token and runs `child` against it; the child's
/// `child: ` lines.
fn run_child_with_token(child: &str) -> Vec<String> {
    let _ = module();
    let mut nonce = [0u8; 6];
    getrandom::fill(&mut nonce).unwrap();
    let dir = std::env::temp_dir().join(format!("strongroom-softhsm-{}", hex::encode(nonce)));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = softhsm_conf(&dir);
    let init = Command::new("softhsm2-util")
        .args([
            "--init-token",
            "--free",
            "--label",
            TOKEN,
            "--so-pin",
            "1234",
            "--pin",
            PIN,
        ])
        .env("SOFTHSM2_CONF", &conf)
        .output()
        .expect("softhsm2-util not found: run scripts/setup.sh");
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let out = Command::new(std::env::current_exe().unwrap())
        .args([child, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .env("SOFTHSM2_CONF", &conf)
        .env(DIR_ENV, &dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_dir_all(&dir).ok();
    stdout
        .lines()
        .filter_map(|l| l.split_once("child: ").map(|(_, r)| r.to_string()))
        .collect()
}

#[test]
fn softhsm2_token_seals_and_opens_a_keyring() {
    let report = run_child_with_token("child_entry");
    assert_eq!(report.len(), 4, "{report:?}");
    for line in &report {
        println!("softhsm2: {line}");
    }
    assert!(report[1].contains("wrong PIN"), "{}", report[1]);
    assert!(
        report[2].contains("no key labelled \"no-such-key\""),
        "{}",
        report[2]
    );
    assert!(
        report[3].contains("no PKCS#11 token labelled"),
        "{}",
        report[3]
    );
}

#[test]
fn rollback_child_entry() {
    if std::env::var(CHILD_ENV).is_err() {
        return;
    }
    let module = module();
    let dir = PathBuf::from(std::env::var(DIR_ENV).unwrap());
    let path = dir.join("keyring.srk");
    let root_a = Arc::new(Pkcs11Root::connect(&module, TOKEN, PIN, "root-a").unwrap());
    root_a.create_key().unwrap();
    let root_a: Arc<dyn KeyProvider> = root_a;
    let ctx = EncryptionContext::new().with("t", "u").unwrap();
    let store = KeyringStore::new(&path, root_a.clone());
    store
        .create(&keyring_with("k", &[VersionState::Enabled; 2], 2, 1))
        .unwrap();
    let v1_only = keyring_with("k", &[VersionState::Enabled], 1, 1);
    let record = v1_only.encrypt_record("k", b"card 4111", &ctx).unwrap();
    let copy = std::fs::read(&path).unwrap();
    store.update(|k| k.destroy_version("k", 1)).unwrap();
    // The copy goes back, and the generation file is deleted too (what an
    // attacker with write access to the directory can do): the token's
    // record still refuses it, from a fresh store.
    std::fs::write(&path, &copy).unwrap();
    std::fs::remove_file(store.generation_file()).unwrap();
    let err = KeyringStore::new(&path, root_a.clone()).load().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Rollback);
    assert!(
        matches!(
            err,
            StoreError::Rollback {
                witness: "the PKCS#11 token",
                found: 1,
                newest: 2,
                ..
            }
        ),
        "{err:?}"
    );
    println!("child: rolled-back copy -> {err}");
    // Destroy with a root change: a new token key, the old one destroyed.
    std::fs::write(&path, &copy).unwrap();
    let mut store = KeyringStore::new(&path, root_a.clone());
    store.accept_restore().unwrap();
    let root_b = Arc::new(Pkcs11Root::connect(&module, TOKEN, PIN, "root-b").unwrap());
    root_b.create_key().unwrap();
    let ((), retired) = store
        .update_with_new_root(root_b.clone(), |k| k.destroy_version("k", 1))
        .unwrap();
    assert_eq!(retired, Retirement::Destroyed);
    // Retiring the key the new file needs is refused: the same labels.
    let same_key = Arc::new(Pkcs11Root::connect(&module, TOKEN, PIN, "root-b").unwrap());
    let refused = store
        .update_with_new_root(same_key, |_| Ok(()))
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::InvalidArgument, "{refused}");
    let now = KeyringStore::new(&path, root_b.clone()).load().unwrap();
    assert!(now.decrypt_record(&record, &ctx).is_err());
    // No earlier copy opens at all, under either root: the token key it
    // names is gone.
    let with_a = keyring_file::decrypt(&copy, root_a.as_ref()).unwrap_err();
    let with_b = keyring_file::decrypt(&copy, root_b.as_ref()).unwrap_err();
    for e in [&with_a, &with_b] {
        assert!(e.to_string().contains("no key labelled \"root-a\""), "{e}");
    }
    println!("child: old copy under the destroyed root -> {with_a}");
    println!("child: old copy under the new root -> {with_b}");
}

#[test]
fn softhsm2_rollback_is_refused_and_a_root_change_kills_old_copies() {
    let report = run_child_with_token("rollback_child_entry");
    assert_eq!(report.len(), 3, "{report:?}");
    for line in &report {
        println!("softhsm2: {line}");
    }
    assert!(
        report[0].contains("the PKCS#11 token recorded"),
        "{}",
        report[0]
    );
    assert!(report[1].contains("no key labelled"), "{}", report[1]);
    assert!(report[2].contains("no key labelled"), "{}", report[2]);
}
