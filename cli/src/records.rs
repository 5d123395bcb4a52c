//! `strongroom record ...`: `sr1:` records (FORMAT.md 5) from the shell,
//! from arguments or one per line on stdin, one result per line on stdout.
//! Plaintext passes through buffers that are wiped.

use std::io::{self, BufRead, Read, Write};

use base64ct::{Base64, Encoding};
use serde_json::json;
use strongroom::{Keyring, record};
use zeroize::Zeroizing;

use crate::args::{RecordCommand, RecordOpts};
use crate::error::CliError;
use crate::report;

/// At most this many bytes per stdin line (a record of the largest
/// plaintext in text form is about 1.4 MiB; a longer line is refused
/// before it is held whole).
const MAX_LINE: u64 = 4 << 20;

/// The inputs: the arguments, or stdin's lines (without the newline; a
/// trailing `\r` is kept, it may be data). Each line is wiped after use.
fn inputs(args: &[String]) -> Result<Vec<Zeroizing<String>>, CliError> {
    if !args.is_empty() {
        return Ok(args.iter().map(|a| Zeroizing::new(a.clone())).collect());
    }
    let mut out = Vec::new();
    let mut stdin = io::stdin().lock();
    loop {
        let mut line = Zeroizing::new(Vec::new());
        let n = Read::take(&mut stdin, MAX_LINE + 1)
            .read_until(b'\n', &mut line)
            .map_err(|e| CliError::io("cannot read stdin", e))?;
        if n == 0 {
            break;
        }
        if line.last() == Some(&b'\n') {
            line.pop();
        } else if n as u64 > MAX_LINE {
            return Err(CliError::Usage(format!(
                "line {} of stdin is longer than {MAX_LINE} bytes",
                out.len() + 1
            )));
        }
        let text = String::from_utf8(core::mem::take(&mut *line)).map_err(|e| {
            let mut bytes = e.into_bytes();
            zeroize::Zeroize::zeroize(&mut bytes);
            CliError::Usage(format!(
                "line {} of stdin is not UTF-8 (use --base64)",
                out.len() + 1
            ))
        })?;
        out.push(Zeroizing::new(text));
    }
    Ok(out)
}

/// The bytes of a plaintext input (decoded from base64 with --base64).
fn plaintext_of(value: &str, base64: bool, n: usize) -> Result<Zeroizing<Vec<u8>>, CliError> {
    if !base64 {
        return Ok(Zeroizing::new(value.as_bytes().to_vec()));
    }
    Base64::decode_vec(value.trim_end_matches('\r'))
        .map(Zeroizing::new)
        .map_err(|_| CliError::Usage(format!("value {n} is not standard base64")))
}

fn record_of(text: &str, n: usize) -> Result<Vec<u8>, CliError> {
    record::from_text(text.trim_end_matches('\r'))
        .map_err(|e| CliError::from_core_for(&format!("record {n}"), e))
}

fn write_line(out: &mut impl Write, bytes: &[u8]) -> Result<(), CliError> {
    out.write_all(bytes)
        .and_then(|()| out.write_all(b"\n"))
        .map_err(|e| CliError::io("cannot write to stdout", e))
}

/// `record inspect`, which needs no key.
pub(crate) fn inspect(json: bool, records: &[String]) -> Result<(), CliError> {
    let mut docs = Vec::new();
    let mut out = io::stdout().lock();
    for (i, text) in inputs(records)?.iter().enumerate() {
        let n = i + 1;
        let rec = record_of(text, n)?;
        let h = strongroom::inspect_record(&rec)
            .map_err(|e| CliError::from_core_for(&format!("record {n}"), e))?;
        if json {
            docs.push(json!({
                "key_id": (!h.is_standalone()).then(|| h.key_id.to_string()),
                "version": (!h.is_standalone()).then_some(h.key_version),
                "plaintext_len": h.plaintext_len,
            }));
        } else if h.is_standalone() {
            write_line(
                &mut out,
                format!(
                    "record {n}: standalone key, plaintext {} bytes",
                    h.plaintext_len
                )
                .as_bytes(),
            )?;
        } else {
            write_line(
                &mut out,
                format!(
                    "record {n}: key {} version {}, plaintext {} bytes",
                    h.key_id, h.key_version, h.plaintext_len
                )
                .as_bytes(),
            )?;
        }
    }
    if json {
        report::print(&json!({ "records": docs }));
    }
    out.flush()
        .map_err(|e| CliError::io("cannot write to stdout", e))
}

/// `record encrypt | decrypt | rewrap`. The first bad input stops the
/// run with an error naming it (earlier results are already out).
pub(crate) fn run(keyring: &Keyring, cmd: &RecordCommand) -> Result<(), CliError> {
    let (opts, values): (&RecordOpts, &[String]) = match cmd {
        RecordCommand::Encrypt { opts, values, .. } => (opts, values),
        RecordCommand::Decrypt { opts, records } | RecordCommand::Rewrap { opts, records } => {
            (opts, records)
        }
        RecordCommand::Inspect { json, records } => return inspect(*json, records),
    };
    let ctx = crate::commands::context(&opts.context)?;
    let mut out = io::stdout().lock();
    for (i, value) in inputs(values)?.iter().enumerate() {
        let n = i + 1;
        match cmd {
            RecordCommand::Encrypt { key, .. } => {
                let pt = plaintext_of(value, opts.base64, n)?;
                let rec = keyring
                    .encrypt_record(key, &pt, &ctx)
                    .map_err(|e| CliError::from_core_for(&format!("value {n}"), e))?;
                write_line(&mut out, record::to_text(&rec).as_bytes())?;
            }
            RecordCommand::Decrypt { .. } => {
                let rec = record_of(value, n)?;
                let plain = keyring
                    .decrypt_record(&rec, &ctx)
                    .map_err(|e| CliError::from_core_for(&format!("record {n}"), e))?;
                let plain = plain.expose_secret();
                if opts.base64 {
                    let text = Zeroizing::new(Base64::encode_string(plain));
                    write_line(&mut out, text.as_bytes())?;
                } else if plain.contains(&b'\n') || core::str::from_utf8(plain).is_err() {
                    return Err(CliError::Usage(format!(
                        "record {n}: the plaintext holds a newline or is not UTF-8: use --base64"
                    )));
                } else {
                    write_line(&mut out, plain)?;
                }
            }
            RecordCommand::Rewrap { .. } => {
                let rec = record_of(value, n)?;
                let moved = keyring
                    .rewrap_record(&rec, &ctx)
                    .map_err(|e| CliError::from_core_for(&format!("record {n}"), e))?;
                let text = record::to_text(moved.as_deref().unwrap_or(&rec));
                write_line(&mut out, text.as_bytes())?;
            }
            RecordCommand::Inspect { .. } => {}
        }
    }
    out.flush()
        .map_err(|e| CliError::io("cannot write to stdout", e))
}
