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
mod output;
mod progress;
mod records;
mod report;
mod root;
mod tty;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("strongroom: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
