//! Issue #11, points 1 to 3: outputs never destroy what they name, in-place
//! rewrites keep the file's identity, bad input is refused cleanly.
//! Driven through the real binary.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

mod common;

use std::fs;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::process::{Command, Stdio};
use std::thread;
use std::time::Duration;

use common::{Env, getrandom_fill};

fn init(env: &Env) {
    env.ok(&["keyring", "init", "--key", "files"]);
}

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

fn names(env: &Env) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(&env.dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn the_keyring_and_its_files_are_refused_as_outputs() {
    let env = Env::new("protect");
    init(&env);
    env.ok(&["key", "rotate", "files"]);
    let before = fs::read(env.path("keyring.srk")).unwrap();
    symlink(env.path("keyring.srk"), env.path("alias.srk")).unwrap();
    for target in [
        "keyring.srk",
        "alias.srk",
        "keyring.srk.lock",
        "keyring.srk.generation",
    ] {
        let err = env.fails(
            &[
                "key",
                "backup",
                "files",
                "-o",
                target,
                "--new-key-file",
                "root.key",
            ],
            2,
        );
        assert!(err.contains("refusing to write over"), "{target}: {err}");
        let err = env.fails(&["encrypt", "--key", "files", "-o", target, "root.key"], 2);
        assert!(err.contains("the keyring's own file"), "{target}: {err}");
    }
    assert_eq!(fs::read(env.path("keyring.srk")).unwrap(), before);
    assert!(env.ok(&["key", "list"]).contains("primary v2"));
    // A backup never replaces an existing file unless told to.
    fs::write(env.path("old.backup"), b"keep me").unwrap();
    let err = env.fails(
        &[
            "key",
            "backup",
            "files",
            "-o",
            "old.backup",
            "--new-key-file",
            "root.key",
        ],
        2,
    );
    assert!(err.contains("--force"), "{err}");
    assert_eq!(fs::read(env.path("old.backup")).unwrap(), b"keep me");
    env.ok(&[
        "key",
        "backup",
        "files",
        "-o",
        "old.backup",
        "--force",
        "--new-key-file",
        "root.key",
    ]);
    assert_ne!(fs::read(env.path("old.backup")).unwrap(), b"keep me");
    env.no_partial_files();
}

#[test]
fn streams_fifos_and_stdout_receive_the_bytes_and_are_never_replaced() {
    let env = Env::new("streams");
    init(&env);
    let data = pattern(200_000);
    fs::write(env.path("in"), &data).unwrap();
    env.ok(&["encrypt", "--key", "files", "-o", "in.sr", "in"]);
    // `-o -` is standard output; no file named "-".
    let out = env.run(&["decrypt", "-o", "-", "in.sr"], None);
    assert!(out.status.success());
    assert_eq!(out.stdout, data);
    assert!(!env.path("-").exists());
    // /dev/stdout (a pipe here) receives the bytes.
    let out = env.run(&["decrypt", "-o", "/dev/stdout", "in.sr"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, data);
    // A FIFO gets the plaintext and stays a FIFO.
    let fifo = env.path("pipe");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let reader = {
        let fifo = fifo.clone();
        thread::spawn(move || {
            let mut got = Vec::new();
            fs::File::open(&fifo)
                .unwrap()
                .read_to_end(&mut got)
                .unwrap();
            got
        })
    };
    env.ok(&["decrypt", "-o", "pipe", "in.sr"]);
    assert_eq!(reader.join().unwrap(), data);
    assert!(
        fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo_like()
    );
    // /dev/null stays the device it is.
    env.ok(&["decrypt", "-o", "/dev/null", "in.sr"]);
    assert!(!fs::metadata("/dev/null").unwrap().is_file());
    env.no_partial_files();
}

/// A file under /dev that is a file (tmpfs at /dev/shm) is written like
/// any other output: created atomically when new, and replaced atomically
/// when named again. (Every /dev path was once taken for a stream, so a
/// new file there failed with "No such file or directory".)
#[test]
fn a_file_on_dev_shm_is_a_file() {
    let shm = std::path::Path::new("/dev/shm");
    assert!(shm.is_dir(), "this machine has no /dev/shm");
    let env = Env::new("devshm");
    init(&env);
    fs::write(env.path("in"), pattern(70_000)).unwrap();
    let target = shm.join(format!("strongroom-test-{}.sr", std::process::id()));
    let _ = fs::remove_file(&target);
    let t = target.to_str().unwrap();
    env.ok(&["encrypt", "--key", "files", "-o", t, "in"]);
    assert!(fs::metadata(&target).unwrap().is_file());
    env.ok(&["decrypt", "-o", "back", t]);
    assert_eq!(fs::read(env.path("back")).unwrap(), pattern(70_000));
    let before = fs::metadata(&target).unwrap().ino();
    env.ok(&["encrypt", "--key", "files", "-o", t, "in"]);
    // Replaced by a rename (a new inode), never appended to.
    assert_ne!(fs::metadata(&target).unwrap().ino(), before);
    assert!(fs::metadata(&target).unwrap().len() < 71_000);
    fs::remove_file(&target).unwrap();
}

trait FifoLike {
    fn is_fifo_like(&self) -> bool;
}

impl FifoLike for fs::FileType {
    fn is_fifo_like(&self) -> bool {
        std::os::unix::fs::FileTypeExt::is_fifo(self)
    }
}

#[test]
fn a_signal_during_decrypt_leaves_no_plaintext_on_disk() {
    let env = Env::new("signals");
    init(&env);
    let data = pattern(96 << 20);
    fs::write(env.path("big"), &data).unwrap();
    env.ok(&["encrypt", "--key", "files", "-o", "big.sr", "big"]);
    fs::remove_file(env.path("big")).unwrap();
    let before = names(&env);
    let mut killed = 0;
    for (i, signal) in ["INT", "TERM", "HUP"].iter().cycle().take(9).enumerate() {
        let mut r = [0u8; 1];
        getrandom_fill(&mut r);
        let mut child = Command::new(env!("CARGO_BIN_EXE_strongroom"))
            .current_dir(&env.dir)
            .env_clear()
            .env("STRONGROOM_KEYRING", env.path("keyring.srk"))
            .env("STRONGROOM_KEY_FILE", env.path("root.key"))
            .args(["--threads", "1", "decrypt", "-o", "out", "big.sr"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Wait until it is writing: its unnamed output file (O_TMPFILE,
        // shown by /proc as "dir/#inode (deleted)") is open; then a random
        // moment later, the signal.
        let pid = child.id().to_string();
        let writing = (0..500).any(|_| {
            let open = fs::read_dir(format!("/proc/{pid}/fd"))
                .into_iter()
                .flatten()
                .flatten();
            let found = open
                .filter_map(|e| fs::read_link(e.path()).ok())
                .any(|l| l.starts_with(&env.dir) && l.to_string_lossy().ends_with("(deleted)"));
            if !found {
                thread::sleep(Duration::from_millis(2));
            }
            found
        });
        thread::sleep(Duration::from_millis(u64::from(r[0]) / 4));
        let _ = Command::new("kill").args(["-s", signal, &pid]).status();
        let status = child.wait().unwrap();
        let now = names(&env);
        if status.success() {
            // It finished first: the output is whole, and nothing else new.
            assert_eq!(fs::read(env.path("out")).unwrap(), data, "run {i}");
            fs::remove_file(env.path("out")).unwrap();
        } else {
            assert!(writing, "run {i}: killed before it started writing");
            killed += 1;
            assert_eq!(now, before, "run {i} (SIG{signal}) left a file behind");
        }
    }
    println!(
        "signals: {killed} of 9 decrypts killed while writing their output (SIGINT, SIGTERM, \
         SIGHUP); none left a file"
    );
    assert!(
        killed >= 3,
        "the decrypts finished too fast to be interrupted"
    );
}

#[test]
fn rewrap_follows_symlinks_and_keeps_owner_group_and_mode() {
    let env = Env::new("identity");
    init(&env);
    fs::write(env.path("plain"), b"some data").unwrap();
    env.ok(&["encrypt", "--key", "files", "-o", "real.sr", "plain"]);
    fs::set_permissions(env.path("real.sr"), fs::Permissions::from_mode(0o640)).unwrap();
    symlink("real.sr", env.path("link.sr")).unwrap();
    env.ok(&["key", "rotate", "files"]);
    let out = env.ok(&["rewrap", "link.sr"]);
    assert!(out.contains("v1 -> v2"), "{out}");
    // The file the link names moved; the link is still a link.
    assert!(env.ok(&["inspect", "real.sr"]).contains("version 2"));
    assert!(
        fs::symlink_metadata(env.path("link.sr"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        fs::metadata(env.path("real.sr")).unwrap().mode() & 0o7777,
        0o640
    );
    let root = rustix::process::geteuid().is_root();
    if root {
        // Run as root on another user's file and keyring: both stay theirs.
        let nobody = 65534;
        std::os::unix::fs::chown(env.path("real.sr"), Some(nobody), Some(nobody)).unwrap();
        std::os::unix::fs::chown(env.path("keyring.srk"), Some(nobody), Some(nobody)).unwrap();
        env.ok(&["key", "rotate", "files"]);
        env.ok(&["rewrap", "real.sr"]);
        let m = fs::metadata(env.path("real.sr")).unwrap();
        assert_eq!(
            (m.uid(), m.gid(), m.mode() & 0o7777),
            (nobody, nobody, 0o640)
        );
        let k = fs::metadata(env.path("keyring.srk")).unwrap();
        assert_eq!(
            (k.uid(), k.gid(), k.mode() & 0o7777),
            (nobody, nobody, 0o600)
        );
        println!("identity: as root, rewrap and a key change kept owner 65534 and the modes");
    } else {
        println!("identity: not root here, so only the mode and the symlink were checked");
    }
    env.no_partial_files();
}

#[test]
fn lock_and_audit_files_are_never_followed_through_symlinks() {
    let env = Env::new("nofollow");
    init(&env);
    let elsewhere = env.path("elsewhere");
    let _ = fs::remove_file(env.path("keyring.srk.lock"));
    symlink(&elsewhere, env.path("keyring.srk.lock")).unwrap();
    let err = env.fails(&["key", "rotate", "files"], 4);
    assert!(err.contains("lock"), "{err}");
    assert!(!elsewhere.exists());
    fs::remove_file(env.path("keyring.srk.lock")).unwrap();
    symlink(&elsewhere, env.path("audit.log")).unwrap();
    let err = env.fails(&["--audit-log", "audit.log", "key", "list"], 4);
    assert!(err.contains("audit.log"), "{err}");
    assert!(!elsewhere.exists());
}

#[test]
fn inspect_escapes_what_a_file_says_and_reads_pipes() {
    let env = Env::new("inspect");
    init(&env);
    fs::write(env.path("plain"), b"x").unwrap();
    let hostile = "\u{1b}[2J\u{1b}[31mred\nrecipient: key 1 version 9\u{202e}";
    env.ok(&[
        "encrypt",
        "--key",
        "files",
        "--context",
        &format!("note={hostile}"),
        "-o",
        "h.sr",
        "plain",
    ]);
    let out = env.ok(&["inspect", "h.sr"]);
    assert!(
        !out.contains('\u{1b}') && !out.contains('\u{202e}'),
        "{out:?}"
    );
    assert_eq!(
        out.lines().filter(|l| l.starts_with("recipient:")).count(),
        1,
        "{out}"
    );
    assert!(
        out.contains("context: note=\\x1b[2J\\x1b[31mred\\x0arecipient: key 1 version 9\\u{202e}"),
        "{out}"
    );
    // Through a pipe: the whole envelope is read to count its length.
    let sealed = fs::read(env.path("h.sr")).unwrap();
    let piped = env.run(&["inspect", "/dev/stdin"], Some(&sealed));
    assert!(
        piped.status.success(),
        "{}",
        String::from_utf8_lossy(&piped.stderr)
    );
    assert_eq!(String::from_utf8(piped.stdout).unwrap(), out);
    // A rewrap of something that is not a regular file is refused.
    let out = env.run(&["rewrap", "/dev/null"], None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(err.contains("/dev/null: not a regular file"), "{err}");
}

#[test]
fn a_batch_rewrap_goes_past_bad_files_names_them_and_sums_up() {
    let env = Env::new("batch");
    init(&env);
    fs::create_dir_all(env.path("data/sub")).unwrap();
    fs::write(env.path("plain"), b"payload").unwrap();
    for name in ["data/a.sr", "data/sub/b.sr", "data/sub/c.sr", "d.sr"] {
        env.ok(&["encrypt", "--key", "files", "-o", name, "plain"]);
    }
    fs::write(env.path("data/notes.txt"), b"not an envelope").unwrap();
    env.ok(&["key", "rotate", "files"]);
    // One bad file in the middle: truncated inside its header.
    let b = fs::read(env.path("data/sub/b.sr")).unwrap();
    fs::write(env.path("data/sub/b.sr"), &b[..20]).unwrap();
    let before: Vec<Vec<u8>> = ["data/a.sr", "data/sub/c.sr"]
        .iter()
        .map(|n| fs::read(env.path(n)).unwrap())
        .collect();
    // --check changes nothing and says what would move.
    let out = env.run(&["rewrap", "--check", "-r", "data"], None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("data/a.sr: would move key files"),
        "{stdout}"
    );
    assert_eq!(fs::read(env.path("data/a.sr")).unwrap(), before[0]);
    // The real run: a and c move, b fails and is named, notes.txt skipped.
    let out = env.run(&["rewrap", "-r", "data", "d.sr"], None);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("data/a.sr: key files"), "{stdout}");
    assert!(stdout.contains("data/sub/c.sr: key files"), "{stdout}");
    assert!(stdout.contains("d.sr: key files"), "{stdout}");
    assert!(
        stdout.contains(
            "rewrap: 4 files: 3 moved, 0 already current, 1 failed, 1 skipped (not envelopes)"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("v1 -> v2 on 3 file(s)"), "{stdout}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(
        lines[0].starts_with("strongroom: ") && lines[0].contains("data/sub/b.sr"),
        "{stderr}"
    );
    assert!(
        lines[1].contains("1 of 4 files failed to rewrap: data/sub/b.sr"),
        "{stderr}"
    );
    for (i, n) in ["data/a.sr", "data/sub/c.sr"].iter().enumerate() {
        assert_ne!(
            fs::read(env.path(n)).unwrap(),
            before[i],
            "{n} did not move"
        );
        assert!(env.ok(&["inspect", n]).contains("version 2"), "{n}");
    }
    // All current now (but b): a rerun moves nothing.
    fs::remove_file(env.path("data/sub/b.sr")).unwrap();
    let out = env.ok(&["rewrap", "-r", "data"]);
    assert!(
        out.contains("rewrap: 2 files: 0 moved, 2 already current, 0 failed"),
        "{out}"
    );
    // A directory without -r is a failure for that path, named.
    let err = String::from_utf8_lossy(&env.run(&["rewrap", "data"], None).stderr).into_owned();
    assert!(err.contains("data"), "{err}");
    env.no_partial_files();
}

#[test]
fn ciphertext_is_not_written_to_a_terminal_unless_forced() {
    let env = Env::new("tty");
    init(&env);
    fs::write(env.path("plain"), b"secret").unwrap();
    let pty = common::Pty::new();
    let run = |extra: &[&str]| {
        let mut args = vec!["encrypt", "--key", "files"];
        args.extend_from_slice(extra);
        args.push("plain");
        Command::new(env!("CARGO_BIN_EXE_strongroom"))
            .current_dir(&env.dir)
            .env_clear()
            .env("STRONGROOM_KEYRING", env.path("keyring.srk"))
            .env("STRONGROOM_KEY_FILE", env.path("root.key"))
            .args(&args)
            .stdin(Stdio::null())
            .stdout(pty.slave())
            .stderr(Stdio::piped())
            .output()
            .unwrap()
    };
    let refused = run(&[]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr)
            .contains("refusing to write binary ciphertext to a terminal")
    );
    assert!(run(&["--force"]).status.success());
    // To a file, or a pipe, nothing is refused.
    env.ok(&["encrypt", "--key", "files", "-o", "p.sr", "plain"]);
}

#[test]
fn a_file_for_two_keys_opens_with_either_key_alone() {
    let env = Env::new("recipients");
    env.ok(&["keyring", "init", "--key", "local"]);
    env.ok(&["key", "create", "escrow"]);
    fs::write(env.path("plain"), b"for two keys").unwrap();
    env.ok(&[
        "encrypt", "--key", "local", "--key", "escrow", "-o", "two.sr", "plain",
    ]);
    let info = env.ok(&["inspect", "two.sr"]);
    assert_eq!(
        info.lines()
            .filter(|l| l.starts_with("recipient: key"))
            .count(),
        2,
        "{info}"
    );
    // Each key alone, in a keyring of its own (moved there by backup and
    // import under a transport key file).
    for (name, other) in [("local", "escrow"), ("escrow", "local")] {
        let backup = format!("{name}.backup");
        env.ok(&[
            "key",
            "backup",
            name,
            "-o",
            &backup,
            "--new-key-file",
            "root.key",
        ]);
        let alone = format!("{name}-only.srk");
        env.ok(&["--keyring", &alone, "keyring", "init"]);
        env.ok(&[
            "--keyring",
            &alone,
            "key",
            "import",
            &backup,
            "--new-key-file",
            "root.key",
        ]);
        let list = env.ok(&["--keyring", &alone, "key", "list"]);
        assert!(list.contains(name) && !list.contains(other), "{list}");
        let out = env.run(&["--keyring", &alone, "decrypt", "two.sr"], None);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.stdout, b"for two keys");
    }
    // Both move on a rewrap after both rotate.
    env.ok(&["key", "rotate", "local"]);
    env.ok(&["key", "rotate", "escrow"]);
    let out = env.ok(&["rewrap", "two.sr"]);
    assert!(
        out.contains("key local") && out.contains("key escrow"),
        "{out}"
    );
    let seventeen: Vec<String> = (0..17).map(|i| format!("k{i}")).collect();
    let mut args = vec!["encrypt".to_owned()];
    for k in &seventeen {
        args.push("--key".into());
        args.push(k.clone());
    }
    args.push("plain".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert!(env.fails(&args, 2).contains("at most 16"));
}

/// Parses `out` with `python3 -m json.tool` (as an operator's script
/// would) and with serde_json.
fn json_doc(out: &str) -> serde_json::Value {
    use std::io::Write;
    let mut tool = Command::new("python3")
        .args(["-m", "json.tool"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    tool.stdin
        .take()
        .unwrap()
        .write_all(out.as_bytes())
        .unwrap();
    assert!(
        tool.wait().unwrap().success(),
        "python3 -m json.tool refused: {out}"
    );
    serde_json::from_str(out).unwrap()
}

fn is_time(v: &serde_json::Value) -> bool {
    v.as_str().is_some_and(|s| {
        s.len() == 20
            && s.ends_with('Z')
            && s.as_bytes()[10] == b'T'
            && s[..4].parse::<u32>().is_ok()
    })
}

#[test]
fn json_output_follows_the_documented_schema() {
    let env = Env::new("json");
    init(&env);
    env.ok(&["key", "create", "pii", "--rotate-every-days", "90"]);
    env.ok(&["key", "rotate", "pii"]);
    env.ok(&["key", "set-min-version", "pii", "2"]);
    // key list --json
    let list = json_doc(&env.ok(&["key", "list", "--json"]));
    let keys = list["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    let pii = keys.iter().find(|k| k["name"] == "pii").unwrap();
    for field in [
        "name",
        "key_id",
        "created",
        "primary_version",
        "min_decryption_version",
        "rotation_period_seconds",
        "next_rotation_due",
        "versions",
    ] {
        assert!(pii.get(field).is_some(), "key list: no {field}");
    }
    assert_eq!(pii["key_id"].as_str().unwrap().len(), 8);
    assert!(is_time(&pii["created"]) && is_time(&pii["next_rotation_due"]));
    assert_eq!(pii["rotation_period_seconds"], 90 * 86_400);
    assert_eq!(
        (
            pii["primary_version"].as_u64(),
            pii["min_decryption_version"].as_u64()
        ),
        (Some(2), Some(2))
    );
    let v = pii["versions"].as_array().unwrap();
    assert_eq!(v[0]["state"], "enabled");
    assert_eq!(v[0]["decrypts"], false, "below the minimum");
    assert_eq!(v[1]["decrypts"], true);
    assert!(is_time(&v[1]["created"]));
    let files = keys.iter().find(|k| k["name"] == "files").unwrap();
    assert!(files["rotation_period_seconds"].is_null() && files["next_rotation_due"].is_null());
    // The text form: a header, per-version dates, the next due date, and
    // a version below the minimum says so.
    let text = env.ok(&["key", "list"]);
    assert!(text.starts_with("# key  id  primary  min"), "{text}");
    assert!(text.contains("next due 20"), "{text}");
    assert!(
        text.contains("v1  enabled (below the minimum: does not decrypt)  created 20"),
        "{text}"
    );
    // keyring info --json
    let info = json_doc(&env.ok(&["keyring", "info", "--json"]));
    assert_eq!(info["root_kind"], "key file");
    assert_eq!(info["format"], 2);
    assert!(info["generation"].as_u64().unwrap() >= 4);
    assert_eq!(info["keys"].as_array().unwrap().len(), 2);
    // inspect --json, with a context that needs escaping.
    fs::write(env.path("plain"), b"data").unwrap();
    env.ok(&[
        "encrypt",
        "--key",
        "pii",
        "--key",
        "files",
        "--context",
        "note=a \"quoted\"\nline",
        "-o",
        "x.sr",
        "plain",
    ]);
    let doc = json_doc(&env.ok(&["inspect", "--json", "x.sr"]));
    for field in [
        "format",
        "chunk_size",
        "chunk_count",
        "plaintext_len",
        "header_len",
        "recipients",
        "context",
    ] {
        assert!(doc.get(field).is_some(), "inspect: no {field}");
    }
    assert_eq!(doc["context"]["note"], "a \"quoted\"\nline");
    assert_eq!(doc["plaintext_len"], 4);
    let r = doc["recipients"].as_array().unwrap();
    assert_eq!(r.len(), 2);
    assert_eq!(r[0]["key_id"], pii["key_id"]);
    assert_eq!(r[0]["version"], 2);
    // rewrap --json (a failure included).
    env.ok(&["key", "rotate", "pii"]);
    fs::write(env.path("bad.sr"), b"SREN\x01 broken").unwrap();
    let out = env.run(&["rewrap", "--json", "x.sr", "bad.sr"], None);
    assert_eq!(out.status.code(), Some(1));
    let doc = json_doc(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(doc["check"], false);
    assert_eq!(doc["summary"]["files"], 2);
    assert_eq!(doc["summary"]["moved"], 1);
    assert_eq!(doc["summary"]["failed"], 1);
    let f = doc["files"].as_array().unwrap();
    assert_eq!(f[0]["status"], "moved");
    assert_eq!(f[0]["moves"][0]["key"], "pii");
    assert_eq!(
        (
            f[0]["moves"][0]["from"].as_u64(),
            f[0]["moves"][0]["to"].as_u64()
        ),
        (Some(2), Some(3))
    );
    assert_eq!(f[1]["status"], "failed");
    assert!(
        f[1]["error"]["kind"].is_string()
            && f[1]["error"]["message"]
                .as_str()
                .unwrap()
                .contains("bad.sr")
    );
}

#[test]
fn records_from_the_shell_interoperate_with_the_library() {
    use strongroom::root::KeyFileRoot;
    use strongroom::store::KeyringStore;
    use strongroom::{EncryptionContext, record};
    let env = Env::new("records");
    init(&env);
    let root = KeyFileRoot::new(&strongroom::KeyMaterial::from_slice(&[0x42; 32]).unwrap());
    let store = KeyringStore::new(env.path("keyring.srk"), std::sync::Arc::new(root));
    let ctx = EncryptionContext::new().with("column", "email").unwrap();
    // Library -> CLI, one per line on stdin (a column export).
    let keyring = store.load().unwrap();
    let exported: Vec<String> = ["ada@example.com", "alan@example.com", ""]
        .iter()
        .map(|v| record::to_text(&keyring.encrypt_record("files", v.as_bytes(), &ctx).unwrap()))
        .collect();
    let input = exported.join("\n") + "\n";
    let out = env.run(
        &["record", "decrypt", "--context", "column=email"],
        Some(input.as_bytes()),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "ada@example.com\nalan@example.com\n\n"
    );
    // CLI -> library, from arguments.
    let made = env.ok(&[
        "record",
        "encrypt",
        "--key",
        "files",
        "--context",
        "column=email",
        "grace@example.com",
    ]);
    let line = made.trim_end();
    assert!(
        line.starts_with("sr1:") && made.lines().count() == 1,
        "{made}"
    );
    let plain = keyring
        .decrypt_record(&record::from_text(line).unwrap(), &ctx)
        .unwrap();
    assert_eq!(plain.expose_secret(), b"grace@example.com");
    // Binary values through --base64, both ways.
    let made = env.run(
        &["record", "encrypt", "--key", "files", "--base64"],
        Some(b"AAEC/w==\n"),
    );
    let rec = String::from_utf8(made.stdout).unwrap();
    let back = env.run(&["record", "decrypt", "--base64"], Some(rec.as_bytes()));
    assert_eq!(String::from_utf8(back.stdout).unwrap(), "AAEC/w==\n");
    let err =
        String::from_utf8(env.run(&["record", "decrypt"], Some(rec.as_bytes())).stderr).unwrap();
    assert!(
        err.contains("record 1") && err.contains("--base64"),
        "{err}"
    );
    // Wrong context: exit 3, naming the record.
    let err = env.fails(&["record", "decrypt", "--context", "column=ssn", line], 3);
    assert!(err.contains("record 1"), "{err}");
    // Inspect needs no key, and says which version; rewrap moves it.
    let info = json_doc(&env.ok(&["record", "inspect", "--json", line]));
    assert_eq!(info["records"][0]["version"], 1);
    assert_eq!(info["records"][0]["plaintext_len"], 17);
    env.ok(&["key", "rotate", "files"]);
    let moved = env.ok(&["record", "rewrap", "--context", "column=email", line]);
    let moved = moved.trim_end();
    assert_ne!(moved, line);
    assert!(env.ok(&["record", "inspect", moved]).contains("version 2"));
    let again = env.ok(&["record", "rewrap", "--context", "column=email", moved]);
    assert_eq!(
        again.trim_end(),
        moved,
        "a current record comes back unchanged"
    );
    let keyring = store.load().unwrap();
    let plain = keyring
        .decrypt_record(&record::from_text(moved).unwrap(), &ctx)
        .unwrap();
    assert_eq!(plain.expose_secret(), b"grace@example.com");
    // Not a record: exit 1, naming it.
    let err = env.fails(&["record", "inspect", "sr1:!!"], 1);
    assert!(err.contains("record 1"), "{err}");
}

#[test]
fn the_key_lifecycle_is_complete_and_errors_name_keys() {
    let env = Env::new("lifecycle");
    init(&env);
    env.ok(&["key", "create", "customers"]);
    // set-rotation, then a dry run of rotate --due that changes nothing.
    assert!(
        env.ok(&["key", "set-rotation", "customers", "30"])
            .contains("every 30 days")
    );
    assert!(
        env.ok(&["key", "list"])
            .contains("rotate every 30 days, next due")
    );
    assert!(
        env.ok(&["key", "rotate", "--due", "--dry-run"])
            .contains("no key is due")
    );
    env.fails(&["key", "set-rotation", "customers", "0"], 2);
    env.fails(&["key", "set-rotation", "customers", "soon"], 2);
    assert!(
        env.ok(&["key", "set-rotation", "customers", "never"])
            .contains("no rotation period")
    );
    assert!(env.ok(&["key", "list"]).contains("customers  id "));
    // A typo gets the closest name.
    let err = env.fails(&["key", "rotate", "custmers"], 1);
    assert!(err.contains("did you mean \"customers\"?"), "{err}");
    let err = env.fails(&["key", "rotate", "zzzzzzzz"], 1);
    assert!(!err.contains("did you mean"), "{err}");
    // Looking up the suggestion reads the keyring again, but that read is
    // no event of the command's: the log has its open and the failure.
    env.fails(&["--audit-log", "a.log", "key", "rotate", "custmers"], 1);
    let log = fs::read_to_string(env.path("a.log")).unwrap();
    assert_eq!(log.lines().count(), 2, "{log}");
    assert!(
        log.lines()
            .nth(1)
            .unwrap()
            .contains("\"outcome\":\"failure\""),
        "{log}"
    );
    // Errors name keys by name where the keyring knows them.
    fs::write(env.path("plain"), b"x").unwrap();
    env.ok(&[
        "encrypt",
        "--key",
        "customers",
        "--context",
        "t=1",
        "-o",
        "c.sr",
        "plain",
    ]);
    env.ok(&["key", "rotate", "customers"]);
    env.ok(&["key", "destroy", "--yes", "customers", "1"]);
    let err = env.fails(&["decrypt", "--context", "t=1", "c.sr"], 1);
    assert!(err.contains("key customers ("), "{err}");
    // A wrong --context says how it differs from the stored one.
    env.ok(&[
        "encrypt",
        "--key",
        "files",
        "--context",
        "table=users",
        "--context",
        "row=7",
        "-o",
        "u.sr",
        "plain",
    ]);
    let err = env.fails(
        &[
            "decrypt",
            "--context",
            "table=users",
            "--context",
            "row=8",
            "--context",
            "x=y",
            "u.sr",
        ],
        3,
    );
    assert!(err.contains("row is 7 in the file, 8 given"), "{err}");
    assert!(err.contains("unexpected x=y"), "{err}");
    let err = env.fails(&["decrypt", "u.sr"], 3);
    assert!(
        err.contains("missing row=7") && err.contains("missing table=users"),
        "{err}"
    );
}

#[test]
fn usage_errors_are_one_line() {
    let env = Env::new("usage");
    init(&env);
    for args in [
        &["--bogus"][..],
        &["encrypt"][..],
        &["key", "rotate", "files", "--due"][..],
        &["--threads", "x", "decrypt", "f"][..],
        &["record"][..],
    ] {
        let err = env.fails(args, 2);
        assert!(err.ends_with("(see --help)\n"), "{args:?}: {err}");
    }
    assert!(env.ok(&["--help"]).contains("Usage: strongroom"));
}

#[test]
fn help_completions_man_page_and_version() {
    let env = Env::new("help");
    let subcommands: &[&[&str]] = &[
        &["encrypt"],
        &["decrypt"],
        &["inspect"],
        &["rewrap"],
        &["keyring", "init"],
        &["keyring", "info"],
        &["keyring", "change-root"],
        &["keyring", "accept-restore"],
        &["key", "create"],
        &["key", "list"],
        &["key", "rotate"],
        &["key", "set-rotation"],
        &["key", "disable"],
        &["key", "enable"],
        &["key", "destroy"],
        &["key", "set-min-version"],
        &["key", "backup"],
        &["key", "import"],
        &["record", "encrypt"],
        &["record", "decrypt"],
        &["record", "rewrap"],
        &["record", "inspect"],
        &["completions"],
        &["man"],
    ];
    for sub in subcommands {
        let mut args = sub.to_vec();
        args.push("-h");
        let short = env.ok(&args);
        assert!(
            short.contains("Example:\n  strongroom "),
            "{sub:?}: no example:\n{short}"
        );
        // -h shows the command's own flags, not the ten global ones.
        for global in [
            "--key-file",
            "--pkcs11-module",
            "--threads",
            "--audit-log",
            "--keyring <",
        ] {
            let listed = short.lines().any(|l| l.trim_start().starts_with(global));
            assert!(!listed, "{sub:?} -h lists {global}:\n{short}");
        }
        *args.last_mut().unwrap() = "--help";
        let long = env.ok(&args);
        assert!(
            long.contains("Global options:") && long.contains("--key-file"),
            "{sub:?}:\n{long}"
        );
    }
    let version = env.ok(&["--version"]);
    assert!(
        version.contains("reads:") && version.contains("keyring file v1 and v2"),
        "{version}"
    );
    // Completions load in bash; the man page is roff with every command.
    let script = env.ok(&["completions", "bash"]);
    fs::write(env.path("complete.bash"), &script).unwrap();
    let loaded = Command::new("bash")
        .args(["-c", "source complete.bash && complete -p strongroom"])
        .current_dir(&env.dir)
        .output()
        .unwrap();
    assert!(
        loaded.status.success() && String::from_utf8_lossy(&loaded.stdout).contains("strongroom")
    );
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        assert!(
            env.ok(&["completions", shell]).contains("strongroom"),
            "{shell}"
        );
    }
    let man = env.ok(&["man"]);
    assert!(
        man.contains(".TH strongroom 1") && man.contains(".SH NAME"),
        "{man}"
    );
    for sub in [
        "encrypt", "decrypt", "rewrap", "keyring", "key", "record", "inspect",
    ] {
        assert!(man.contains(sub), "man page lacks {sub}");
    }
}

#[test]
fn armored_envelopes_for_text_channels() {
    let env = Env::new("armor");
    init(&env);
    let data = pattern(100_000);
    fs::write(env.path("in"), &data).unwrap();
    env.ok(&[
        "encrypt",
        "--armor",
        "--key",
        "files",
        "--context",
        "k=v",
        "-o",
        "in.asc",
        "in",
    ]);
    let text = fs::read_to_string(env.path("in.asc")).unwrap();
    assert!(
        text.starts_with("-----BEGIN STRONGROOM ENVELOPE-----\n"),
        "{}",
        &text[..80]
    );
    assert!(text.ends_with("-----END STRONGROOM ENVELOPE-----\n"));
    assert!(text.lines().all(|l| l.len() <= 64 && l.is_ascii()));
    // decrypt reads either form, from a file or a pipe.
    env.ok(&["decrypt", "--context", "k=v", "-o", "out", "in.asc"]);
    assert_eq!(fs::read(env.path("out")).unwrap(), data);
    let piped = env.run(&["decrypt", "--context", "k=v"], Some(text.as_bytes()));
    assert!(
        piped.status.success(),
        "{}",
        String::from_utf8_lossy(&piped.stderr)
    );
    assert_eq!(piped.stdout, data);
    // The armor is the binary envelope's text form, byte for byte.
    env.ok(&[
        "encrypt",
        "--key",
        "files",
        "--context",
        "k=v",
        "-o",
        "in.sr",
        "in",
    ]);
    let binary = fs::read(env.path("in.sr")).unwrap();
    assert_eq!(
        strongroom::envelope::dearmor(text.as_bytes())
            .unwrap()
            .len(),
        binary.len()
    );
    // inspect reads the armored form too.
    let info = env.ok(&["inspect", "in.asc"]);
    assert!(
        info.contains("plaintext: 100000 bytes") && info.contains("context: k=v"),
        "{info}"
    );
    // An altered armor line is malformed (exit 1), and no output appears.
    let mut bad: Vec<String> = text.lines().map(String::from).collect();
    bad[3].replace_range(5..6, "*");
    let bad = bad.join("\n") + "\n";
    fs::write(env.path("bad.asc"), &bad).unwrap();
    let err = env.fails(
        &["decrypt", "--context", "k=v", "-o", "never", "bad.asc"],
        1,
    );
    assert!(err.contains("base64"), "{err}");
    assert!(!env.path("never").exists());
    // A wrong context on an armored file still says how it differs.
    let err = env.fails(&["decrypt", "--context", "k=w", "in.asc"], 3);
    assert!(err.contains("k is v in the file, w given"), "{err}");
    // rewrap names the form it needs.
    let out = env.run(&["rewrap", "in.asc"], None);
    assert!(String::from_utf8_lossy(&out.stderr).contains("armored envelope"));
    // --armor may go to a terminal (it is text).
    let pty = common::Pty::new();
    let status = Command::new(env!("CARGO_BIN_EXE_strongroom"))
        .current_dir(&env.dir)
        .env_clear()
        .env("STRONGROOM_KEYRING", env.path("keyring.srk"))
        .env("STRONGROOM_KEY_FILE", env.path("root.key"))
        .args(["encrypt", "--armor", "--key", "files", "in"])
        .stdin(Stdio::null())
        .stdout(pty.slave())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    env.no_partial_files();
}

#[test]
fn pre_created_temp_names_do_not_block_an_output() {
    let env = Env::new("precreate");
    init(&env);
    fs::write(env.path("in"), b"data").unwrap();
    env.ok(&["encrypt", "--key", "files", "-o", "in.sr", "in"]);
    // The old scheme's names (`.out.<pid>.partial`) for the next pids, and
    // a few random-looking ones: none can be the name the output takes.
    let me = std::process::id();
    for pid in me..me + 300 {
        fs::write(env.path(&format!(".out.{pid}.partial")), b"planted").unwrap();
    }
    for hex in ["0000000000000000", "ffffffffffffffff", "0123456789abcdef"] {
        fs::write(env.path(&format!(".out.{hex}.partial")), b"planted").unwrap();
    }
    env.ok(&["decrypt", "-o", "out", "in.sr"]);
    assert_eq!(fs::read(env.path("out")).unwrap(), b"data");
    // The planted files are left as they were: not ours to remove.
    assert_eq!(
        fs::read(env.path(&format!(".out.{me}.partial"))).unwrap(),
        b"planted"
    );
}

/// Files of several output buffers go through the output thread (with
/// more than one thread): the bytes match the single-threaded run's
/// plaintext, and an envelope altered near its end leaves no output file
/// (the plaintext of the earlier chunks was written, by the output
/// thread, only into the temporary file that is removed).
#[test]
fn the_output_thread_writes_everything_and_leaves_nothing_on_failure() {
    let env = Env::new("outthread");
    init(&env);
    let data = pattern(5 * 1024 * 1024 + 12_345);
    fs::write(env.path("big"), &data).unwrap();
    env.ok(&[
        "--threads",
        "2",
        "encrypt",
        "--key",
        "files",
        "-o",
        "big.sr",
        "big",
    ]);
    env.ok(&[
        "--threads",
        "1",
        "encrypt",
        "--key",
        "files",
        "-o",
        "big1.sr",
        "big",
    ]);
    for (sealed, threads) in [("big.sr", "2"), ("big1.sr", "2"), ("big.sr", "1")] {
        let _ = fs::remove_file(env.path("back"));
        env.ok(&["--threads", threads, "decrypt", "-o", "back", sealed]);
        assert!(
            fs::read(env.path("back")).unwrap() == data,
            "{sealed} {threads}"
        );
    }
    let mut altered = fs::read(env.path("big.sr")).unwrap();
    let at = altered.len() - 100;
    altered[at] ^= 1;
    fs::write(env.path("bad.sr"), &altered).unwrap();
    let err = env.fails(&["--threads", "2", "decrypt", "-o", "out", "bad.sr"], 3);
    assert!(err.contains("authentication"), "{err}");
    assert!(!env.path("out").exists(), "a partial plaintext was left");
    env.no_partial_files();
    // An output that fails (/dev/full: every write is ENOSPC) is reported
    // as the output's error, not as the stream that lost its output.
    for (cmd, input, says) in [
        ("encrypt", "big", "cannot write the envelope"),
        ("decrypt", "big.sr", "cannot write the plaintext"),
    ] {
        let mut args = vec!["--threads", "2", cmd];
        if cmd == "encrypt" {
            args.extend(["--key", "files"]);
        }
        args.extend(["-o", "/dev/full", input]);
        let out = env.run(&args, None);
        assert!(!out.status.success(), "{cmd}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(says) && err.contains("No space left"),
            "{cmd}: {err}"
        );
    }
}
