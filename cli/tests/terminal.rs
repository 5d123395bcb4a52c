//! The binary on a real (pseudo-)terminal: the no-echo passphrase prompt
//! and the progress bar, seen from the terminal's side.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

mod common;

use std::fs;
use std::process::{Output, Stdio};

use common::{Env, Pty, spawn_on_terminal, spawn_on_terminal_with_pipe, strongroom};
use rustix::termios::{LocalModes, tcgetattr};

/// TEST PASSPHRASE, typed at the prompt.
const PASSPHRASE: &str = "correct horse battery staple";

/// Runs the binary on a fresh terminal, answering each prompt in turn.
/// Returns its output and everything the terminal showed, after checking
/// that the terminal has its echo back.
fn prompted(env: &Env, args: &[&str], answers: &[(&str, &str)]) -> (Output, String) {
    prompted_with(env, None, args, answers)
}

/// As [`prompted`], with `pipe_in` (a file) piped into stdin when given.
fn prompted_with(
    env: &Env,
    pipe_in: Option<&str>,
    args: &[&str],
    answers: &[(&str, &str)],
) -> (Output, String) {
    let pty = Pty::new();
    assert!(
        tcgetattr(pty.slave_file())
            .unwrap()
            .local_modes
            .contains(LocalModes::ECHO)
    );
    let child = match pipe_in {
        Some(input) => spawn_on_terminal_with_pipe(env, &pty, input, args),
        None => spawn_on_terminal(env, &pty, args),
    };
    for (prompt, answer) in answers {
        pty.wait_for(prompt);
        pty.type_text(&format!("{answer}\n"));
    }
    let out = child.wait_with_output().unwrap();
    let modes = tcgetattr(pty.slave_file()).unwrap().local_modes;
    assert!(modes.contains(LocalModes::ECHO), "{args:?} left echo off");
    (out, pty.screen())
}

#[test]
fn passphrase_prompt_does_not_echo_and_restores_the_terminal() {
    let env = Env::new("prompt");
    fs::write(env.path("notes.txt"), b"prompted secret notes").unwrap();
    let mut screens = String::new();
    let ask = "Passphrase for keyring.srk: ";

    // keyring init with no root flag: a new passphrase, asked twice.
    let (out, screen) = prompted(
        &env,
        &[
            "--keyring",
            "keyring.srk",
            "keyring",
            "init",
            "--key",
            "files",
        ],
        &[
            ("New passphrase for the keyring keyring.srk: ", PASSPHRASE),
            ("Repeat the passphrase: ", PASSPHRASE),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("(passphrase)"));
    screens += &screen;

    // Encrypt with the passphrase asked for on the terminal.
    let (out, screen) = prompted(
        &env,
        &[
            "--keyring",
            "keyring.srk",
            "encrypt",
            "--key",
            "files",
            "-o",
            "notes.sr",
            "notes.txt",
        ],
        &[(ask, PASSPHRASE)],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    screens += &screen;

    // A wrong passphrase: exit 3, one line, and no output file.
    let (out, screen) = prompted(
        &env,
        &[
            "--keyring",
            "keyring.srk",
            "decrypt",
            "-o",
            "back.txt",
            "notes.sr",
        ],
        &[(ask, "not the passphrase")],
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("authentication failed"));
    assert!(!env.path("back.txt").exists());
    screens += &screen;

    // Plaintext to stdout: the prompt went to the terminal, not into it.
    let (out, screen) = prompted(
        &env,
        &["--keyring", "keyring.srk", "decrypt", "notes.sr"],
        &[(ask, PASSPHRASE)],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, b"prompted secret notes");
    screens += &screen;

    // Plaintext from a pipe, passphrase from the terminal, as with age.
    let (out, screen) = prompted_with(
        &env,
        Some("notes.txt"),
        &["--keyring", "keyring.srk", "encrypt", "--key", "files"],
        &[(ask, PASSPHRASE)],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    fs::write(env.path("piped.sr"), &out.stdout).unwrap();
    screens += &screen;
    let (out, screen) = prompted(
        &env,
        &["--keyring", "keyring.srk", "decrypt", "piped.sr"],
        &[(ask, PASSPHRASE)],
    );
    assert_eq!(out.stdout, b"prompted secret notes");
    screens += &screen;

    // Two different answers to a new passphrase: exit 2, no keyring file.
    let (out, screen) = prompted(
        &env,
        &["--keyring", "other.srk", "keyring", "init"],
        &[
            ("New passphrase for the keyring other.srk: ", "first answer"),
            ("Repeat the passphrase: ", "second answer"),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("do not match"));
    assert!(!env.path("other.srk").exists());
    screens += &screen;

    // Nothing typed was echoed.
    for typed in [
        PASSPHRASE,
        "not the passphrase",
        "first answer",
        "second answer",
    ] {
        assert!(
            !screens.contains(typed),
            "{typed:?} was echoed: {screens:?}"
        );
    }
    println!(
        "prompt: 7 runs on a terminal, {} prompts answered, 0 answers echoed, echo restored after each",
        screens.matches("assphrase").count()
    );
}

/// The lines a terminal shows: split at `\r` and `\n`, with escape
/// sequences (CSI) taken out.
fn visible_lines(screen: &str) -> impl Iterator<Item = String> + '_ {
    screen.split(['\r', '\n']).map(|l| {
        let mut out = String::new();
        let mut chars = l.chars();
        while let Some(c) = chars.next() {
            if c == '\u{1b}' {
                // ESC [ params final-byte
                if chars.next() == Some('[') {
                    for d in chars.by_ref() {
                        if ('@'..='~').contains(&d) {
                            break;
                        }
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    })
}

#[test]
fn progress_bar_only_on_a_terminal() {
    let env = Env::new("progress");
    env.ok(&["keyring", "init", "--key", "files"]);
    let data: Vec<u8> = (0..48u32 << 20).map(|i| (i % 251) as u8).collect();
    fs::write(env.path("big.bin"), &data).unwrap();
    let args = ["encrypt", "--key", "files", "-o", "big.sr", "big.bin"];
    let run_with_stderr = |stderr: Stdio, extra: &[&str]| {
        let out = strongroom()
            .current_dir(&env.dir)
            .env_clear()
            .env("STRONGROOM_KEYRING", env.path("keyring.srk"))
            .env("STRONGROOM_KEY_FILE", env.path("root.key"))
            // As a terminal emulator sets it (no TERM means a dumb one).
            .env("TERM", "xterm")
            .args(extra)
            .args(args)
            .stderr(stderr)
            .output()
            .unwrap();
        assert!(out.status.success());
        fs::remove_file(env.path("big.sr")).unwrap();
        out
    };
    // stderr on a terminal: the bar is drawn there.
    let pty = Pty::new();
    run_with_stderr(pty.slave(), &[]);
    pty.wait_for("encrypting [");
    assert!(pty.screen().contains("MiB"), "{:?}", pty.screen());
    // On an 80-column terminal every drawn line fits (no wrapping).
    let narrow = Pty::new();
    narrow.set_width(80);
    run_with_stderr(narrow.slave(), &[]);
    narrow.wait_for("encrypting [");
    let screen = narrow.screen();
    let widest = visible_lines(&screen)
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0);
    assert!(
        widest > 40 && widest <= 80,
        "widest line {widest}: {screen:?}"
    );
    // --no-progress on a terminal, and stderr to a pipe: nothing.
    let quiet = Pty::new();
    run_with_stderr(quiet.slave(), &["--no-progress"]);
    let piped = run_with_stderr(Stdio::piped(), &[]);
    assert!(piped.stderr.is_empty(), "{:?}", piped.stderr);
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(quiet.screen(), "");
    println!(
        "progress: {} bytes drawn on a terminal; 0 with --no-progress; 0 to a pipe",
        pty.screen().len()
    );
}

#[test]
fn key_destroy_asks_on_a_terminal() {
    let env = Env::new("confirm");
    env.ok(&["keyring", "init", "--key", "files"]);
    env.ok(&["key", "rotate", "files"]);
    let args = |extra: &str| {
        vec![
            "--keyring".to_owned(),
            env.path("keyring.srk").display().to_string(),
            "--key-file".to_owned(),
            env.path("root.key").display().to_string(),
            "key".to_owned(),
            "destroy".to_owned(),
            "files".to_owned(),
            extra.to_owned(),
        ]
    };
    let ask = "Type yes to destroy: ";
    // Any answer but "yes" destroys nothing.
    let a = args("1");
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let (out, screen) = prompted(&env, &a, &[(ask, "y")]);
    assert_eq!(out.status.code(), Some(1), "{screen}");
    assert!(
        screen.contains("Destroy version 1 of key files?"),
        "{screen}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("not destroyed"));
    assert!(env.ok(&["key", "list"]).contains("v1 enabled"));
    // "yes" destroys.
    let (out, _) = prompted(&env, &a, &[(ask, "yes")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(env.ok(&["key", "list"]).contains("v1 destroyed"));
    // Without a terminal, --yes is required.
    env.ok(&["key", "rotate", "files"]);
    let err = env.fails(&["key", "destroy", "files", "2"], 2);
    assert!(err.contains("--yes"), "{err}");
    assert!(env.ok(&["key", "list"]).contains("v2 enabled"));
}
