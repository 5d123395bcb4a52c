//! `strongroom`: manage a keyring file and encrypt files from a shell.
//!
//! Exit codes (stable, for scripts): 0 success; 1 any other failure (a
//! refused key operation, a malformed input); 2 usage error; 3
//! authentication failure (wrong passphrase or key, wrong context, altered
//! or truncated ciphertext); 4 I/O error (missing keyring, unreadable
//! input, unwritable output). Every failure prints one line to stderr and
//! leaves no partial output file behind. docs/CLI.md has the rules for
//! roots, prompts, threads and the progress bar.

extern crate alloc;

mod args;
mod commands;
mod error;
#[cfg(feature = "vault")]
mod kv;
mod output;
mod pipe;
mod progress;
mod records;
mod report;
mod root;
mod tty;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("strongroom: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// clap's errors as the one documented line (`strongroom: ...`, exit 2);
/// `--help` and `--version` print as clap prints them (exit 0).
fn usage_error(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
            ExitCode::from(2)
        } else {
            ExitCode::SUCCESS
        };
    }
    // The message is the first paragraph (a "...:" line continues on the
    // indented lines under it); the usage and the tip after it are left to
    // --help.
    let text = e.render().to_string();
    let paragraph: Vec<&str> = text
        .lines()
        .skip_while(|l| l.trim().is_empty())
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    let joined = paragraph.join(" ");
    let message = joined.strip_prefix("error: ").unwrap_or(&joined);
    let message = if message.is_empty() {
        "invalid arguments"
    } else {
        message
    };
    eprintln!("strongroom: {message} (see --help)");
    ExitCode::from(2)
}
