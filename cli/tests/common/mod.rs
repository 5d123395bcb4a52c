//! The harness the command-line tests share: a temporary directory with a
//! test key file, and the binary run as an operator would run it.
#![allow(dead_code, unreachable_pub)]

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};

use strongroom::SysRng;

/// The binary, started in a new session with no controlling terminal
/// (`setsid`), so a run from a developer's terminal can never stop at a
/// passphrase prompt: without a terminal a missing root is a usage error.
pub fn strongroom() -> Command {
    let mut cmd = Command::new("setsid");
    cmd.arg("--wait").arg(env!("CARGO_BIN_EXE_strongroom"));
    cmd
}

pub struct Env {
    pub dir: PathBuf,
}

impl Env {
    pub fn new(name: &str) -> Self {
        let mut nonce = [0u8; 6];
        getrandom_fill(&mut nonce);
        let dir = std::env::temp_dir().join(format!("strongroom-cli-{name}-{}", hex(&nonce)));
        fs::create_dir_all(&dir).unwrap();
        // TEST KEY FILE: fixed bytes, mode 0600.
        let key = dir.join("root.key");
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&key)
            .unwrap();
        f.write_all(&[0x42; 32]).unwrap();
        drop(f);
        fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
        Self { dir }
    }

    /// Writes a secret file (passphrase, PIN) as an operator should: 0600
    /// from the start (TEST SECRETS only).
    pub fn write_secret(&self, name: &str, contents: &str) {
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(self.path(name))
            .unwrap();
        f.write_all(contents.as_bytes()).unwrap();
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// A passing test removes its directory (some hold 100 MB of test files,
/// and every run of the suite, plain and under ASan, would leave another);
/// a failing one keeps it to look at.
impl Drop for Env {
    fn drop(&mut self) {
        if !thread::panicking() {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

impl Env {
    /// Runs the binary with the test keyring and key file.
    pub fn run(&self, args: &[&str], stdin: Option<&[u8]>) -> Output {
        let mut cmd = strongroom();
        cmd.current_dir(&self.dir)
            .env_clear()
            .env("STRONGROOM_KEYRING", self.path("keyring.srk"))
            .env("STRONGROOM_KEY_FILE", self.path("root.key"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        if let Some(data) = stdin {
            child.stdin.take().unwrap().write_all(data).unwrap();
        }
        drop(child.stdin.take());
        child.wait_with_output().unwrap()
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args, None);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs a failing command: checks the exit code and a one-line message.
    pub fn fails(&self, args: &[&str], code: i32) -> String {
        let out = self.run(args, None);
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
        assert_eq!(
            stderr.lines().count(),
            1,
            "{args:?}: not one line: {stderr}"
        );
        assert!(stderr.starts_with("strongroom: "), "{stderr}");
        stderr
    }

    pub fn no_partial_files(&self) {
        for e in fs::read_dir(&self.dir).unwrap() {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            assert!(
                !name.ends_with(".partial") && !name.ends_with(".tmp"),
                "left behind: {name}"
            );
        }
    }
}

pub fn getrandom_fill(buf: &mut [u8]) {
    use strongroom::rand_core::TryRng;
    SysRng.try_fill_bytes(buf).unwrap();
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A pseudo-terminal: the test holds the master side (what a person at the
/// terminal sees and types); the binary gets the slave side.
pub struct Pty {
    master: File,
    slave: File,
    seen: Arc<Mutex<Vec<u8>>>,
}

impl Pty {
    pub fn new() -> Self {
        let master =
            openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC).unwrap();
        grantpt(&master).unwrap();
        unlockpt(&master).unwrap();
        let name = ptsname(&master, Vec::new()).unwrap();
        let slave = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(name.to_str().unwrap())
            .unwrap();
        let master = File::from(master);
        // A new pty is 0 x 0; give it a terminal's size, as a terminal
        // emulator would.
        let size = rustix::termios::Winsize {
            ws_row: 24,
            ws_col: 100,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        rustix::termios::tcsetwinsize(&master, size).unwrap();
        // Everything the terminal shows, collected as it comes.
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut reader = master.try_clone().unwrap();
        let sink = Arc::clone(&seen);
        thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // Ends with EIO once no process holds the slave side.
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Self {
            master,
            slave,
            seen,
        }
    }

    /// Sets the terminal's width, as resizing a terminal window does.
    pub fn set_width(&self, cols: u16) {
        let size = rustix::termios::Winsize {
            ws_row: 24,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        rustix::termios::tcsetwinsize(&self.master, size).unwrap();
    }

    /// The slave side, to hand to a child as one of its standard streams.
    pub fn slave(&self) -> Stdio {
        Stdio::from(self.slave.try_clone().unwrap())
    }

    /// The slave side itself (to read its terminal modes).
    pub fn slave_file(&self) -> &File {
        &self.slave
    }

    /// Types `text` at the terminal.
    pub fn type_text(&self, text: &str) {
        (&self.master).write_all(text.as_bytes()).unwrap();
    }

    /// Everything the terminal has shown so far.
    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.seen.lock().unwrap()).into_owned()
    }

    /// Waits until the terminal shows `text` (at most 60 s).
    pub fn wait_for(&self, text: &str) {
        let start = Instant::now();
        while !self.screen().contains(text) {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the terminal never showed {text:?}; it shows {:?}",
                self.screen()
            );
            thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Starts the binary in a new session whose controlling terminal is `pty`
/// (stdin is the terminal; stdout and stderr are captured).
pub fn spawn_on_terminal(env: &Env, pty: &Pty, args: &[&str]) -> Child {
    on_terminal(env, pty)
        .arg(env!("CARGO_BIN_EXE_strongroom"))
        .args(args)
        .spawn()
        .unwrap()
}

/// As [`spawn_on_terminal`], with the file `input` piped into the binary's
/// stdin by `cat`: the terminal stays the controlling one, for prompts.
pub fn spawn_on_terminal_with_pipe(env: &Env, pty: &Pty, input: &str, args: &[&str]) -> Child {
    on_terminal(env, pty)
        .args(["sh", "-c", r#"cat "$INPUT" | "$0" "$@""#])
        .arg(env!("CARGO_BIN_EXE_strongroom"))
        .args(args)
        .env("INPUT", input)
        .spawn()
        .unwrap()
}

fn on_terminal(env: &Env, pty: &Pty) -> Command {
    let mut cmd = Command::new("setsid");
    cmd.args(["--ctty", "--wait"])
        .current_dir(&env.dir)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .stdin(pty.slave())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}
