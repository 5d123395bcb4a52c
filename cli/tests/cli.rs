//! The real `strongroom` binary, driven as an operator would: every
//! subcommand so far, stdin/stdout, and every failure's exit code, message
//! and (absence of) partial output.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

mod common;

use std::fs;

use common::{Env, strongroom};

use strongroom::envelope::{self, Recipient};
use strongroom::root::KeyFileRoot;
use strongroom::store::KeyringStore;
use strongroom::{EncryptionContext, SysRng};

fn init(env: &Env) {
    env.ok(&["keyring", "init", "--key", "files"]);
}

#[test]
fn key_lifecycle_subcommands() {
    let env = Env::new("keys");
    init(&env);
    assert!(
        env.ok(&["key", "create", "pii", "--rotate-every-days", "90"])
            .contains("created key pii")
    );
    assert!(
        env.ok(&["key", "rotate", "pii"])
            .contains("version 2 is primary")
    );
    assert!(
        env.ok(&["key", "rotate", "--due"])
            .contains("no key is due")
    );
    env.ok(&["key", "disable", "pii", "1"]);
    assert!(env.ok(&["key", "list"]).contains("v1 disabled, v2 enabled"));
    env.ok(&["key", "enable", "pii", "1"]);
    env.ok(&["key", "set-min-version", "pii", "2"]);
    env.ok(&["key", "destroy", "--yes", "pii", "1"]);
    let list = env.ok(&["key", "list"]);
    assert!(
        list.contains("pii") && list.contains("min v2") && list.contains("v1 destroyed"),
        "{list}"
    );
    assert!(
        env.ok(&["keyring", "info"])
            .contains("sealed with a key file, 2 keys")
    );
    // Refusals: exit 1, one line, nothing changed.
    let before = fs::read(env.path("keyring.srk")).unwrap();
    assert!(
        env.fails(&["key", "destroy", "--yes", "pii", "2"], 1)
            .contains("primary version")
    );
    assert!(
        env.fails(&["key", "create", "pii"], 1)
            .contains("already exists")
    );
    assert_eq!(fs::read(env.path("keyring.srk")).unwrap(), before);
    // Usage errors: exit 2.
    let out = env.run(&["key", "rotate"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        env.fails(&["keyring", "init"], 4)
            .contains("already exists")
    );
    // No root flag and no terminal to ask on: usage errors naming the flags.
    let bare = |args: &[&str]| {
        let out = strongroom()
            .current_dir(&env.dir)
            .env_clear()
            .args(args)
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8(out.stderr).unwrap())
    };
    let (code, msg) = bare(&["--keyring", "keyring.srk", "key", "list"]);
    assert_eq!(code, Some(2), "{msg}");
    assert!(
        msg.contains("sealed with a key file: pass --key-file"),
        "{msg}"
    );
    let (code, msg) = bare(&["--keyring", "new.srk", "keyring", "init"]);
    assert_eq!(code, Some(2), "{msg}");
    assert!(msg.contains("no root for the new keyring"), "{msg}");
    let (code, msg) = bare(&[
        "--keyring",
        "new.srk",
        "--key-file",
        "root.key",
        "--passphrase-file",
        "root.key",
        "keyring",
        "init",
    ]);
    assert_eq!(code, Some(2), "{msg}");
    assert!(msg.contains("give one root"), "{msg}");
    assert!(!env.path("new.srk").exists());
}

#[test]
fn encrypt_and_decrypt_files_and_pipes_with_clear_failures() {
    let env = Env::new("crypt");
    init(&env);
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    fs::write(env.path("dump.sql"), &data).unwrap();
    env.ok(&[
        "encrypt",
        "--key",
        "files",
        "--context",
        "db=prod",
        "-o",
        "dump.sql.sr",
        "dump.sql",
    ]);
    assert!(
        env.ok(&["inspect", "dump.sql.sr"])
            .contains("chunks: 5, plaintext: 300000 bytes")
    );
    env.ok(&[
        "decrypt",
        "--context",
        "db=prod",
        "-o",
        "back.sql",
        "dump.sql.sr",
    ]);
    assert_eq!(fs::read(env.path("back.sql")).unwrap(), data);
    // stdin -> stdout both ways.
    let sealed = env.run(&["encrypt", "--key", "files"], Some(b"from a pipe"));
    assert!(sealed.status.success());
    let opened = env.run(&["decrypt"], Some(&sealed.stdout));
    assert_eq!(opened.stdout, b"from a pipe");
    // Wrong context, tampered, truncated mid-chunk: exit 3, no output file.
    assert!(
        env.fails(
            &[
                "decrypt",
                "--context",
                "db=dev",
                "-o",
                "x.sql",
                "dump.sql.sr"
            ],
            3
        )
        .contains("authentication failed")
    );
    let mut tampered = fs::read(env.path("dump.sql.sr")).unwrap();
    let n = tampered.len();
    tampered[n - 70_000] ^= 1;
    fs::write(env.path("tampered.sr"), &tampered).unwrap();
    env.fails(
        &[
            "decrypt",
            "--context",
            "db=prod",
            "-o",
            "x.sql",
            "tampered.sr",
        ],
        3,
    );
    let full = fs::read(env.path("dump.sql.sr")).unwrap();
    fs::write(env.path("cut.sr"), &full[..full.len() - 1000]).unwrap();
    env.fails(
        &["decrypt", "--context", "db=prod", "-o", "x.sql", "cut.sr"],
        3,
    );
    assert!(!env.path("x.sql").exists(), "partial plaintext left behind");
    env.no_partial_files();
    // Wrong root key: exit 3. Missing keyring, unwritable output: exit 4.
    fs::write(env.path("other.key"), [7u8; 32]).unwrap();
    fs::set_permissions(
        env.path("other.key"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let mut cmd = strongroom();
    let out = cmd
        .current_dir(&env.dir)
        .env_clear()
        .args([
            "--keyring",
            "keyring.srk",
            "--key-file",
            "other.key",
            "key",
            "list",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        env.fails(&["--keyring", "nope.srk", "key", "list"], 4)
            .contains("no keyring at")
    );
    assert!(
        env.fails(
            &[
                "encrypt",
                "--key",
                "files",
                "-o",
                "no/such/dir/out.sr",
                "dump.sql"
            ],
            4
        )
        .contains("cannot create")
    );
    // Directories nobody can write to, even root (whose capabilities pass
    // over mode bits): a regular file as the parent, and /proc (where a
    // path is a stream to open, never a file to create).
    for (unwritable, says) in [
        ("dump.sql/out.sr", "cannot create"),
        ("/proc/strongroom-out.sr", "cannot write"),
    ] {
        assert!(
            env.fails(
                &[
                    "decrypt",
                    "--context",
                    "db=prod",
                    "-o",
                    unwritable,
                    "dump.sql.sr"
                ],
                4
            )
            .contains(says)
        );
    }
    assert!(
        env.fails(&["encrypt", "--key", "files", "missing.txt"], 4)
            .contains("cannot read")
    );
    assert!(
        env.fails(&["encrypt", "--key", "nokey", "-o", "y.sr", "dump.sql"], 1)
            .contains("no key named")
    );
    assert!(!env.path("y.sr").exists());
    env.no_partial_files();
}

#[test]
fn cli_and_library_interoperate() {
    let env = Env::new("interop");
    init(&env);
    let root = KeyFileRoot::new(&strongroom::KeyMaterial::from_slice(&[0x42; 32]).unwrap());
    let store = KeyringStore::new(env.path("keyring.srk"), std::sync::Arc::new(root));
    let ctx = EncryptionContext::new().with("who", "library").unwrap();
    // CLI -> library.
    fs::write(env.path("a.txt"), b"written by the CLI").unwrap();
    env.ok(&[
        "encrypt",
        "--key",
        "files",
        "--context",
        "who=library",
        "-o",
        "a.sr",
        "a.txt",
    ]);
    let keyring = store.load().unwrap();
    let plain = envelope::decrypt(
        envelope::Identity::Keyring(&keyring),
        &fs::read(env.path("a.sr")).unwrap(),
        &ctx,
    )
    .unwrap();
    assert_eq!(plain.expose_secret(), b"written by the CLI");
    // Library -> CLI.
    let sealed = envelope::encrypt(
        &[Recipient::Key {
            keyring: &keyring,
            name: "files",
        }],
        b"written by the library",
        &ctx,
        1024,
        &mut SysRng,
    )
    .unwrap();
    fs::write(env.path("b.sr"), sealed).unwrap();
    assert_eq!(
        env.ok(&["decrypt", "--context", "who=library", "b.sr"]),
        "written by the library"
    );
}

#[test]
fn an_audit_log_that_cannot_be_written_fails_the_command() {
    let env = Env::new("audit-full");
    init(&env);
    // /dev/full opens, and every write to it fails with ENOSPC.
    let err = env.fails(&["--audit-log", "/dev/full", "key", "rotate", "files"], 4);
    assert!(err.contains("audit events could not be written"), "{err}");
    // The rotation itself was done and saved.
    let out = env.ok(&["key", "list"]);
    assert!(out.contains("primary v2"), "{out}");
}

#[test]
fn audit_log_records_cli_operations() {
    let env = Env::new("audit");
    init(&env);
    let log = env.path("audit.jsonl");
    let log_arg = log.to_str().unwrap();
    fs::write(env.path("a.txt"), b"x").unwrap();
    env.ok(&["--audit-log", log_arg, "key", "rotate", "files"]);
    env.ok(&[
        "--audit-log",
        log_arg,
        "encrypt",
        "--key",
        "files",
        "-o",
        "a.sr",
        "a.txt",
    ]);
    env.fails(
        &[
            "--audit-log",
            log_arg,
            "decrypt",
            "--context",
            "k=v",
            "a.sr",
        ],
        3,
    );
    let text = fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // Each command opens the keyring file (one event), then does its work.
    assert_eq!(lines.len(), 6, "{text}");
    for i in [0, 2, 4] {
        assert!(
            lines[i].contains("\"action\":\"keyring_opened\"")
                && lines[i].contains("\"outcome\":\"success\""),
            "{text}"
        );
    }
    assert!(lines[1].contains("\"action\":\"key_rotated\""));
    assert!(
        lines[3].contains("\"action\":\"encrypt\"") && lines[3].contains("\"object\":\"envelope\"")
    );
    assert!(
        lines[5].contains("\"outcome\":\"failure\"")
            && lines[5].contains("authentication_failed")
            && lines[5].contains("\"key\":\"files\""),
        "{text}"
    );
    // Who ran it, which command, which files: on every line, valid JSON.
    let uid = rustix::process::getuid().as_raw().to_string();
    let commands = [
        "key rotate",
        "key rotate",
        "encrypt",
        "encrypt",
        "decrypt",
        "decrypt",
    ];
    for (line, command) in lines.iter().zip(commands) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["uid"], uid.as_str(), "{line}");
        if uid == "0" {
            assert_eq!(v["user"], "root", "{line}");
        }
        assert_eq!(v["command"], command, "{line}");
        let paths = v["paths"].as_array().unwrap();
        assert!(
            paths[0].as_str().unwrap().ends_with("keyring.srk"),
            "{line}"
        );
        if command == "encrypt" {
            assert_eq!(
                paths[1..],
                [serde_json::json!("a.txt"), serde_json::json!("a.sr")]
            );
        }
    }
    // A path with a quote and a newline in its name stays one valid line.
    let odd = "odd\"name\n.sr";
    env.ok(&[
        "--audit-log",
        log_arg,
        "encrypt",
        "--key",
        "files",
        "-o",
        odd,
        "a.txt",
    ]);
    let text = fs::read_to_string(&log).unwrap();
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last["paths"][2], odd);
}

#[test]
fn rewrap_change_root_backup_and_import() {
    let env = Env::new("rewrap");
    init(&env);
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
    fs::write(env.path("export.csv"), &data).unwrap();
    env.ok(&[
        "encrypt",
        "--key",
        "files",
        "--context",
        "t=x",
        "-o",
        "a.sr",
        "export.csv",
    ]);
    fs::copy(env.path("a.sr"), env.path("backup-copy.sr")).unwrap();
    let before = fs::read(env.path("a.sr")).unwrap();
    env.ok(&["key", "rotate", "files"]);
    // Header-only rewrap of files in place, with a summary.
    let summary = env.ok(&["rewrap", "a.sr"]);
    assert!(summary.contains("v1 -> v2"), "{summary}");
    let after = fs::read(env.path("a.sr")).unwrap();
    // A file already at the primary version is left as it is.
    let again = env.ok(&["rewrap", "a.sr"]);
    assert!(again.contains("unchanged"), "{again}");
    assert_eq!(fs::read(env.path("a.sr")).unwrap(), after);
    let (hb, ha) = (
        envelope::inspect(&before).unwrap().header_len,
        envelope::inspect(&after).unwrap().header_len,
    );
    assert_eq!(&before[hb..], &after[ha..], "body bytes changed");
    env.ok(&["key", "destroy", "--yes", "files", "1"]);
    env.ok(&["decrypt", "--context", "t=x", "-o", "back.csv", "a.sr"]);
    assert_eq!(fs::read(env.path("back.csv")).unwrap(), data);
    assert!(
        env.fails(&["decrypt", "--context", "t=x", "backup-copy.sr"], 1)
            .contains("destroyed")
    );
    env.no_partial_files();
    // Change root to a passphrase; the old key file no longer opens it.
    // Readable by others: refused, with the fix in the message.
    fs::write(env.path("open.txt"), "a long passphrase\n").unwrap();
    let err = env.fails(
        &[
            "keyring",
            "change-root",
            "--new-passphrase-file",
            "open.txt",
        ],
        1,
    );
    assert!(err.contains("chmod 600 open.txt"), "{err}");
    env.write_secret("pass.txt", "a long passphrase\n");
    assert!(
        env.ok(&[
            "keyring",
            "change-root",
            "--new-passphrase-file",
            "pass.txt"
        ])
        .contains("re-sealed")
    );
    // The file says which root it needs; the wrong kind is a usage error
    // naming the right flag (a prompt needs a terminal, and there is none).
    assert!(
        env.fails(&["key", "list"], 2)
            .contains("sealed with a passphrase: pass --passphrase-file")
    );
    let out = strongroom()
        .current_dir(&env.dir)
        .env_clear()
        .args([
            "--keyring",
            "keyring.srk",
            "--passphrase-file",
            "pass.txt",
            "key",
            "list",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A wrong passphrase: exit 3, one line, the passphrase nowhere in it.
    env.write_secret("wrong.txt", "not the passphrase\n");
    let out = strongroom()
        .current_dir(&env.dir)
        .env_clear()
        .args(["--keyring", "keyring.srk", "--passphrase-file", "wrong.txt"])
        .args(["decrypt", "--context", "t=x", "-o", "w.csv", "a.sr"])
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert_eq!(stderr.lines().count(), 1);
    assert!(stderr.contains("authentication failed") && !stderr.contains("not the passphrase"));
    assert!(!env.path("w.csv").exists());
    // Backup of one key under its own root, imported into a new keyring.
    let run_pass = |args: &[&str]| {
        let mut full = vec!["--keyring", "keyring.srk", "--passphrase-file", "pass.txt"];
        full.extend_from_slice(args);
        let out = strongroom()
            .current_dir(&env.dir)
            .env_clear()
            .args(&full)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run_pass(&[
        "key",
        "backup",
        "files",
        "-o",
        "files.backup",
        "--new-key-file",
        "root.key",
    ]);
    let other = Env::new("import");
    fs::copy(env.path("files.backup"), other.path("files.backup")).unwrap();
    other.ok(&["keyring", "init"]);
    other.ok(&[
        "key",
        "import",
        "files.backup",
        "--new-key-file",
        "root.key",
    ]);
    fs::copy(env.path("a.sr"), other.path("a.sr")).unwrap();
    other.ok(&["decrypt", "--context", "t=x", "-o", "back.csv", "a.sr"]);
    assert_eq!(fs::read(other.path("back.csv")).unwrap(), data);
}

#[test]
fn a_thread_count_out_of_range_is_a_usage_error() {
    let env = Env::new("threads");
    init(&env);
    fs::write(env.path("a.txt"), b"x").unwrap();
    for bad in ["0", "65", "1000000", "18446744073709551615"] {
        let err = env.fails(
            &[
                "--threads",
                bad,
                "encrypt",
                "--key",
                "files",
                "-o",
                "a.sr",
                "a.txt",
            ],
            2,
        );
        assert!(err.contains("--threads takes 1 to 64"), "{bad}: {err}");
    }
    assert!(!env.path("a.sr").exists());
    env.no_partial_files();
}

#[test]
fn temp_files_left_by_a_crash_are_reported_then_removed() {
    let env = Env::new("stale");
    init(&env);
    // What a save interrupted between write and rename leaves behind.
    let stale = env.path(".keyring.srk.0123456789abcdef.tmp");
    fs::copy(env.path("keyring.srk"), &stale).unwrap();
    let out = env.run(&["key", "list"], None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("interrupted save left 1 temp file"),
        "{stderr}"
    );
    assert!(stale.exists(), "a read-only command must not remove it");
    env.ok(&["key", "rotate", "files"]);
    assert!(!stale.exists(), "the next save removes it");
    env.no_partial_files();
}

#[test]
fn destroy_reaches_copies_only_with_a_root_change_and_restores_are_explicit() {
    let env = Env::new("rollback");
    init(&env);
    env.ok(&["key", "rotate", "files"]);
    fs::write(env.path("notes.txt"), b"quarterly numbers").unwrap();
    // Encrypted under version 2, then version 3 becomes primary.
    env.ok(&["encrypt", "--key", "files", "-o", "notes.sr", "notes.txt"]);
    env.ok(&["key", "rotate", "files"]);
    let info = env.ok(&["keyring", "info"]);
    assert!(info.contains("generation 3"), "{info}");
    let copy = fs::read(env.path("keyring.srk")).unwrap();
    let destroyed = env.ok(&["key", "destroy", "--yes", "files", "2"]);
    assert!(
        destroyed.contains("every ciphertext under it")
            && destroyed.contains("Earlier copies of the keyring file")
            && destroyed.contains("--change-root"),
        "{destroyed}"
    );
    env.fails(&["decrypt", "-o", "out.txt", "notes.sr"], 1);
    // The old copy put back: refused, naming both generations.
    fs::write(env.path("keyring.srk"), &copy).unwrap();
    let refused = env.fails(&["decrypt", "-o", "out.txt", "notes.sr"], 1);
    assert!(
        refused.contains("generation 3, older than generation 4")
            && refused.contains("accept-restore"),
        "{refused}"
    );
    assert!(!env.path("out.txt").exists());
    println!("cli rollback: {}", refused.trim_end());
    // A deliberate restore: accepted, audited, and the newest.
    let accepted = env.ok(&["--audit-log", "audit.jsonl", "keyring", "accept-restore"]);
    assert!(accepted.contains("it is now generation 5"), "{accepted}");
    let log = fs::read_to_string(env.path("audit.jsonl")).unwrap();
    assert!(log.contains("\"restore_accepted\""), "{log}");
    env.ok(&["decrypt", "-o", "out.txt", "notes.sr"]);
    assert_eq!(fs::read(env.path("out.txt")).unwrap(), b"quarterly numbers");
    // A --new-* root without --change-root is a usage error.
    env.write_secret(
        "new.key",
        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n",
    );
    env.fails(
        &[
            "key",
            "destroy",
            "--yes",
            "files",
            "2",
            "--new-key-file",
            "new.key",
        ],
        2,
    );
    // The same key file as the new root: refused, nothing written.
    let before = fs::read(env.path("keyring.srk")).unwrap();
    let same = env.fails(
        &[
            "key",
            "destroy",
            "--yes",
            "files",
            "2",
            "--change-root",
            "--new-key-file",
            "root.key",
        ],
        1,
    );
    assert!(same.contains("new root opens"), "{same}");
    assert_eq!(fs::read(env.path("keyring.srk")).unwrap(), before);
    // Destroy and re-seal in one step.
    let copy = fs::read(env.path("keyring.srk")).unwrap();
    let out = env.ok(&[
        "key",
        "destroy",
        "--yes",
        "files",
        "2",
        "--change-root",
        "--new-key-file",
        "new.key",
    ]);
    assert!(
        out.contains("re-sealed") && out.contains("retire the old key file now"),
        "{out}"
    );
    println!("cli destroy --change-root: {}", out.trim_end());
    // The old root opens nothing current; the new one does, without v2.
    env.fails(&["keyring", "info"], 3);
    let new_root = |args: &[&str]| {
        let mut all = vec!["--key-file", "new.key"];
        all.extend_from_slice(args);
        env.run(&all, None)
    };
    let info = new_root(&["key", "list"]);
    let listed = String::from_utf8_lossy(&info.stdout);
    assert!(listed.contains("v2 destroyed"), "{listed}");
    assert!(
        !new_root(&["decrypt", "-o", "out2.txt", "notes.sr"])
            .status
            .success()
    );
    // The copy from before still opens under the old key file: what the
    // message told the operator to retire.
    let old_root = KeyFileRoot::new(&strongroom::KeyMaterial::from_slice(&[0x42; 32]).unwrap());
    assert!(strongroom::keyring_file::decrypt(&copy, &old_root).is_ok());
}
