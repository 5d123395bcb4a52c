//! The command line with a PKCS#11 root, against a throwaway SoftHSM2
//! token (the test command installs `softhsm2`): init with a new token
//! key, use, a wrong PIN, and change-root out of and back into the token.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

mod common;

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use common::{Env, strongroom};

const TOKEN: &str = "strongroom-cli-test";
const PIN: &str = "2468"; // TEST PIN for a throwaway SoftHSM2 token

fn module() -> PathBuf {
    [
        "/usr/lib/softhsm/libsofthsm2.so",
        "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
    .expect("SoftHSM2 is not installed: run scripts/setup.sh (apt-get install softhsm2)")
}

#[test]
fn pkcs11_root_from_the_command_line() {
    let env = Env::new("pkcs11");
    let tokens = env.path("tokens");
    fs::create_dir_all(&tokens).unwrap();
    let conf = env.path("softhsm2.conf");
    fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .unwrap();
    let init = Command::new("softhsm2-util")
        .args(["--init-token", "--free", "--label", TOKEN])
        .args(["--so-pin", "1234", "--pin", PIN])
        .env("SOFTHSM2_CONF", &conf)
        .output()
        .expect("softhsm2-util not found: run scripts/setup.sh");
    assert!(init.status.success());
    env.write_secret("pin.txt", &format!("{PIN}\n"));
    env.write_secret("wrong-pin.txt", "0000\n");
    fs::write(env.path("plain.txt"), b"sealed by a token key").unwrap();
    let module = module();
    let run = |args: &[&str]| {
        let out = strongroom()
            .current_dir(&env.dir)
            .env_clear()
            .env("SOFTHSM2_CONF", &conf)
            .env("STRONGROOM_KEYRING", env.path("keyring.srk"))
            .env("STRONGROOM_PKCS11_MODULE", &module)
            .env("STRONGROOM_PKCS11_TOKEN", TOKEN)
            .args(args)
            .output()
            .unwrap();
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (out.status.code(), text(&out.stdout), text(&out.stderr))
    };
    let ok = |args: &[&str]| {
        let (code, stdout, stderr) = run(args);
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
        stdout
    };
    fn with_pin<'a>(args: &[&'a str]) -> Vec<&'a str> {
        [&["--pkcs11-pin-file", "pin.txt"][..], args].concat()
    }

    // A new keyring sealed by a new non-extractable token key.
    let created = ok(&with_pin(&[
        "keyring",
        "init",
        "--pkcs11-create-key",
        "--key",
        "files",
    ]));
    assert!(created.contains("(PKCS#11 key)"), "{created}");
    assert!(ok(&with_pin(&["keyring", "info"])).contains("sealed with a PKCS#11 key"));
    ok(&with_pin(&[
        "encrypt",
        "--key",
        "files",
        "-o",
        "plain.sr",
        "plain.txt",
    ]));
    ok(&with_pin(&["decrypt", "-o", "back.txt", "plain.sr"]));
    assert_eq!(
        fs::read(env.path("back.txt")).unwrap(),
        b"sealed by a token key"
    );
    // A second create of the same label is refused.
    let (code, _, stderr) = run(&with_pin(&[
        "--keyring",
        "second.srk",
        "keyring",
        "init",
        "--pkcs11-create-key",
    ]));
    assert_eq!(code, Some(1));
    assert!(stderr.contains("exists already"), "{stderr}");
    // Wrong PIN: one clear line, the PIN nowhere in it.
    let (code, _, stderr) = run(&["--pkcs11-pin-file", "wrong-pin.txt", "key", "list"]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("wrong PIN") && !stderr.contains("0000"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1);
    // No PIN and no terminal to ask on: a usage error naming the flag.
    let (code, _, stderr) = run(&["key", "list"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("--pkcs11-pin-file"), "{stderr}");
    // Out of the token to a key file, then back into it under a new key.
    ok(&with_pin(&[
        "keyring",
        "change-root",
        "--new-key-file",
        "root.key",
    ]));
    ok(&["--key-file", "root.key", "key", "list"]);
    ok(&with_pin(&[
        "--key-file",
        "root.key",
        "keyring",
        "change-root",
        "--new-pkcs11-token",
        TOKEN,
        "--new-pkcs11-key",
        "second-root",
        "--new-pkcs11-create-key",
    ]));
    assert!(ok(&with_pin(&["key", "list"])).contains("files"));
    // A root flag of another kind: a usage error naming the PKCS#11 flags.
    let (code, _, stderr) = run(&with_pin(&["--key-file", "root.key", "key", "list"]));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("sealed with a PKCS#11 key: pass --pkcs11-module"),
        "{stderr}"
    );
    ok(&with_pin(&["decrypt", "-o", "again.txt", "plain.sr"]));
    assert_eq!(
        fs::read(env.path("again.txt")).unwrap(),
        b"sealed by a token key"
    );
    println!(
        "pkcs11 cli: init with a new token key, encrypt, decrypt, wrong PIN, change-root out and back: all as expected"
    );
}
