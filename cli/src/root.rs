//! Turning `--passphrase-file` / `--key-file` into a root key.

use std::fs;

use strongroom::sealed::{KeyProvider, PassphraseRoot};
use strongroom::store;

use crate::args::RootArgs;
use crate::error::CliError;

/// The root the flags name.
pub(crate) fn load(args: &RootArgs) -> Result<Box<dyn KeyProvider>, CliError> {
    if let Some(path) = &args.passphrase_file {
        let text = fs::read(path)
            .map_err(|e| CliError::io(&format!("cannot read {}", path.display()), e))?;
        let line = text.split(|b| *b == b'\n').next().unwrap_or_default();
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            return Err(CliError::Usage(format!(
                "{} holds an empty passphrase",
                path.display()
            )));
        }
        return Ok(Box::new(PassphraseRoot::new(line)));
    }
    if let Some(path) = &args.key_file {
        return Ok(Box::new(store::load_key_file(path)?));
    }
    Err(CliError::Usage(
        "no root key: pass --passphrase-file FILE or --key-file FILE (or set STRONGROOM_PASSPHRASE_FILE / STRONGROOM_KEY_FILE)"
            .into(),
    ))
}
