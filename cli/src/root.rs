//! Turning `--passphrase-file` / `--key-file` into a root key.

use std::fs;
use std::io::Read;
use std::path::Path;

use strongroom::sealed::{KeyProvider, PassphraseRoot};
use strongroom::store;

use crate::args::{OtherRootArgs, RootArgs};
use crate::error::CliError;

/// The root the flags name.
pub(crate) fn load(args: &RootArgs) -> Result<Box<dyn KeyProvider>, CliError> {
    from_files(args.passphrase_file.as_deref(), args.key_file.as_deref()).unwrap_or_else(|| {
        Err(CliError::Usage(
            "no root key: pass --passphrase-file FILE or --key-file FILE (or set STRONGROOM_PASSPHRASE_FILE / STRONGROOM_KEY_FILE)"
                .into(),
        ))
    })
}

/// The other root (for change-root, backups).
pub(crate) fn load_other(args: &OtherRootArgs) -> Result<Box<dyn KeyProvider>, CliError> {
    from_files(
        args.new_passphrase_file.as_deref(),
        args.new_key_file.as_deref(),
    )
    .unwrap_or_else(|| {
        Err(CliError::Usage(
            "pass --new-passphrase-file FILE or --new-key-file FILE".into(),
        ))
    })
}

fn from_files(
    passphrase: Option<&Path>,
    key: Option<&Path>,
) -> Option<Result<Box<dyn KeyProvider>, CliError>> {
    if let Some(path) = passphrase {
        return Some(passphrase_root(path));
    }
    key.map(|path| Ok(Box::new(store::load_key_file(path)?) as Box<dyn KeyProvider>))
}

/// Longest passphrase file read (the first line is the passphrase).
const MAX_PASSPHRASE_FILE: u64 = 4096;

fn passphrase_root(path: &Path) -> Result<Box<dyn KeyProvider>, CliError> {
    let err = |e| CliError::io(&format!("cannot read {}", path.display()), e);
    // Sized once for the whole bounded read, so read_to_end never
    // reallocates and frees an unwiped copy of the passphrase.
    let mut text = Vec::with_capacity(MAX_PASSPHRASE_FILE as usize + 1);
    fs::File::open(path)
        .map_err(err)?
        .take(MAX_PASSPHRASE_FILE)
        .read_to_end(&mut text)
        .map_err(err)?;
    let line = text.split(|b| *b == b'\n').next().unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let root = if line.is_empty() {
        Err(CliError::Usage(format!(
            "{} holds an empty passphrase",
            path.display()
        )))
    } else {
        Ok(Box::new(PassphraseRoot::new(line)) as Box<dyn KeyProvider>)
    };
    // PassphraseRoot keeps its own wiping copy; wipe ours.
    zeroize::Zeroize::zeroize(&mut text);
    root
}
