//! The terminal: a no-echo prompt for passphrases and PINs.
//!
//! The prompt talks to `/dev/tty`, not stdin/stdout, so `strongroom encrypt`
//! can read plaintext from a pipe and still ask for the passphrase (as age,
//! ssh and gpg do). Echo is switched off before the prompt is written and
//! restored when the guard drops, also on every error path. Typed-ahead
//! input is discarded first, so nothing typed before the prompt becomes
//! part of the secret. The answer goes into a buffer sized once and wiped
//! on drop. A Ctrl-C while echo is off ends the process with echo off, as
//! with getpass(3) and rpassword; `stty echo` repairs the terminal.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};

use rustix::termios::{self, LocalModes, OptionalActions, QueueSelector, Termios};
use zeroize::Zeroizing;

use crate::error::CliError;

/// Longest answer accepted, in bytes (the same cap as a passphrase file).
pub(crate) const MAX_ANSWER: usize = 4096;

/// Restores the saved terminal modes on drop.
struct EchoOff<'a> {
    tty: &'a File,
    saved: Termios,
}

impl Drop for EchoOff<'_> {
    fn drop(&mut self) {
        // Nothing sensible is left to do if restoring fails.
        let _ = termios::tcsetattr(self.tty, OptionalActions::Now, &self.saved);
    }
}

/// The controlling terminal, if the process has one.
fn open_tty() -> Option<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .ok()
}

/// Asks on the terminal with echo off. `None` means no terminal.
///
/// # Errors
/// I/O errors on the terminal, an empty answer, or one over
/// [`MAX_ANSWER`] bytes.
pub(crate) fn ask_secret(prompt: &str) -> Result<Option<Zeroizing<Vec<u8>>>, CliError> {
    let Some(tty) = open_tty() else {
        return Ok(None);
    };
    let term_err = |e: io::Error| CliError::io("cannot use the terminal", e);
    let saved = termios::tcgetattr(&tty).map_err(|e| term_err(e.into()))?;
    let mut quiet = saved.clone();
    quiet.local_modes.remove(LocalModes::ECHO);
    // Echo the final newline, so the next output starts on its own line.
    quiet.local_modes.insert(LocalModes::ECHONL);
    termios::tcsetattr(&tty, OptionalActions::Flush, &quiet).map_err(|e| term_err(e.into()))?;
    let guard = EchoOff { tty: &tty, saved };
    (&tty).write_all(prompt.as_bytes()).map_err(term_err)?;
    (&tty).flush().map_err(term_err)?;
    let answer = read_line(&tty).map_err(term_err)?;
    if answer.is_none() {
        // Drop the rest of an overlong line, so the shell never reads it.
        let _ = termios::tcflush(&tty, QueueSelector::IFlush);
    }
    drop(guard);
    match answer {
        Some(line) if !line.is_empty() => Ok(Some(line)),
        Some(_) => Err(CliError::Usage("empty answer at the prompt".into())),
        None => Err(CliError::Usage(format!(
            "the answer at the prompt is longer than {MAX_ANSWER} bytes"
        ))),
    }
}

/// Reads one line (without its `\n` / `\r\n`) into a buffer that never
/// reallocates. `None` if the line is longer than [`MAX_ANSWER`].
fn read_line(mut tty: &File) -> io::Result<Option<Zeroizing<Vec<u8>>>> {
    let mut buf = Zeroizing::new(vec![0u8; MAX_ANSWER + 1]);
    let mut len = 0;
    loop {
        let n = tty.read(&mut buf[len..])?;
        if n == 0 {
            break;
        }
        len += n;
        if buf[..len].contains(&b'\n') || len == buf.len() {
            break;
        }
    }
    let end = buf[..len].iter().position(|b| *b == b'\n').unwrap_or(len);
    if end > MAX_ANSWER {
        return Ok(None);
    }
    let line = buf[..end].strip_suffix(b"\r").unwrap_or(&buf[..end]);
    let mut out = Zeroizing::new(Vec::with_capacity(line.len()));
    out.extend_from_slice(line);
    Ok(Some(out))
}

/// Asks for a new secret twice; they must match.
///
/// # Errors
/// As [`ask_secret`], and a usage error when the two answers differ.
pub(crate) fn ask_new_secret(
    prompt: &str,
    confirm: &str,
) -> Result<Option<Zeroizing<Vec<u8>>>, CliError> {
    let Some(first) = ask_secret(prompt)? else {
        return Ok(None);
    };
    let second = ask_secret(confirm)?.unwrap_or_default();
    if first.as_slice() != second.as_slice() {
        return Err(CliError::Usage("the two answers do not match".into()));
    }
    Ok(Some(first))
}

/// Asks a yes/no question on the terminal (echo on). `None` means no
/// terminal; `Some(true)` only for the answer `yes`.
///
/// # Errors
/// I/O errors on the terminal.
pub(crate) fn confirm(prompt: &str) -> Result<Option<bool>, CliError> {
    let Some(tty) = open_tty() else {
        return Ok(None);
    };
    let term_err = |e: io::Error| CliError::io("cannot use the terminal", e);
    // Typed-ahead input must not answer the question.
    let _ = termios::tcflush(&tty, QueueSelector::IFlush);
    (&tty).write_all(prompt.as_bytes()).map_err(term_err)?;
    (&tty).flush().map_err(term_err)?;
    let answer = read_line(&tty).map_err(term_err)?;
    Ok(Some(answer.is_some_and(|a| a.as_slice() == b"yes")))
}
