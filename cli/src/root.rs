//! Choosing the root key: from flags, files, a PKCS#11 token, or a prompt.
//!
//! Rules (documented in the README's command-line section):
//! - An existing keyring file says which kind of root sealed it; the flag
//!   for that kind is used. With no root flag at all, a passphrase keyring
//!   asks for its passphrase on the terminal. A flag of the wrong kind is a
//!   usage error that names the kind the file needs.
//! - A new keyring (`keyring init`) takes at most one root; with none it
//!   asks for a new passphrase twice on the terminal.
//! - A second root (change-root, backup, import) comes from the `--new-*`
//!   flags, or else from a passphrase asked for on the terminal.
//! - Without a terminal, a missing root is a usage error naming the flags.

use alloc::sync::Arc;
use std::path::Path;

use strongroom::root::{KeyProvider, PassphraseRoot, RootKind};
use strongroom::store;
use zeroize::Zeroizing;

use crate::args::{OtherRootArgs, Pkcs11Args, RootArgs};
use crate::error::CliError;
use crate::tty;

pub(crate) type Root = Arc<dyn KeyProvider>;

/// The root that opens the existing keyring at `keyring`.
pub(crate) fn for_keyring(args: &RootArgs, keyring: &Path) -> Result<Root, CliError> {
    let info = store::inspect_file(keyring)?;
    let kind = info.root_kind;
    let sealed = format!("the keyring {} is sealed with a {kind}", keyring.display());
    let wrong_flag = args.passphrase_file.is_some() || args.key_file.is_some();
    match kind {
        RootKind::Passphrase => match &args.passphrase_file {
            Some(file) => passphrase_root(file),
            None if wrong_flag => Err(CliError::Usage(format!(
                "{sealed}: pass --passphrase-file FILE, or no root flag to be asked"
            ))),
            None => {
                let prompt = format!("Passphrase for {}: ", keyring.display());
                let passphrase = tty::ask_secret(&prompt)?.ok_or_else(|| {
                    CliError::Usage(format!(
                        "{sealed}: pass --passphrase-file FILE (no terminal to ask on)"
                    ))
                })?;
                Ok(Arc::new(PassphraseRoot::new(&passphrase)))
            }
        },
        RootKind::KeyFile => match &args.key_file {
            Some(file) => key_file_root(file),
            None => Err(CliError::Usage(format!("{sealed}: pass --key-file FILE"))),
        },
        RootKind::Pkcs11 => {
            let token = args
                .pkcs11
                .pkcs11_token
                .as_deref()
                .filter(|_| !wrong_flag)
                .ok_or_else(|| {
                    CliError::Usage(format!(
                        "{sealed}: pass --pkcs11-module MODULE and --pkcs11-token LABEL \
                         (and no --passphrase-file or --key-file)"
                    ))
                })?;
            pkcs11_root(&args.pkcs11, token, &args.pkcs11.pkcs11_key, false)
        }
        RootKind::VaultTransit if !wrong_flag => vault_root_for_file(&info.root_params),
        RootKind::VaultTransit => Err(CliError::Usage(format!(
            "{sealed}: set VAULT_ADDR and VAULT_TOKEN (or VAULT_TOKEN_FILE), and no --passphrase-file or --key-file"
        ))),
        _ => Err(CliError::Usage(format!(
            "{sealed}, which the command line cannot reach; open it through the library"
        ))),
    }
}

/// The root for a new keyring: at most one flag, or a new passphrase.
pub(crate) fn for_new_keyring(
    args: &RootArgs,
    keyring: &Path,
    create_token_key: bool,
) -> Result<Root, CliError> {
    let given = [
        args.passphrase_file.is_some(),
        args.key_file.is_some(),
        args.pkcs11.pkcs11_module.is_some(),
        args.vault_transit_key.is_some(),
    ];
    if given.iter().filter(|g| **g).count() > 1 {
        return Err(CliError::Usage(
            "give one root for a new keyring: --passphrase-file, --key-file, --pkcs11-module or \
             --vault-transit-key"
                .into(),
        ));
    }
    if let Some(key) = &args.vault_transit_key {
        return vault_root(&args.vault_transit_mount, key);
    }
    if let Some(file) = &args.passphrase_file {
        return passphrase_root(file);
    }
    if let Some(file) = &args.key_file {
        return key_file_root(file);
    }
    if args.pkcs11.pkcs11_module.is_some() {
        let token =
            args.pkcs11.pkcs11_token.as_deref().ok_or_else(|| {
                CliError::Usage("--pkcs11-module needs --pkcs11-token LABEL".into())
            })?;
        return pkcs11_root(
            &args.pkcs11,
            token,
            &args.pkcs11.pkcs11_key,
            create_token_key,
        );
    }
    new_passphrase(&format!("the keyring {}", keyring.display()))?.ok_or_else(|| {
        CliError::Usage(
            "no root for the new keyring: pass --passphrase-file FILE, --key-file FILE or \
             --pkcs11-module/--pkcs11-token (no terminal to ask for a passphrase on)"
                .into(),
        )
    })
}

/// The second root of change-root (`new` true), backup (true) or import
/// (false); `what` names it at the prompt.
pub(crate) fn other(
    args: &OtherRootArgs,
    global: &Pkcs11Args,
    what: &str,
    new: bool,
) -> Result<Root, CliError> {
    if let Some(file) = &args.new_passphrase_file {
        return passphrase_root(file);
    }
    if let Some(file) = &args.new_key_file {
        return key_file_root(file);
    }
    if let Some(key) = &args.new_vault_transit_key {
        return vault_root(&args.new_vault_transit_mount, key);
    }
    if let Some(token) = &args.new_pkcs11_token {
        return pkcs11_root(
            global,
            token,
            &args.new_pkcs11_key,
            args.new_pkcs11_create_key,
        );
    }
    let missing = || {
        CliError::Usage(format!(
            "no root for {what}: pass --new-passphrase-file FILE, --new-key-file FILE, \
             --new-pkcs11-token LABEL or --new-vault-transit-key NAME (no terminal to ask for \
             a passphrase on)"
        ))
    };
    if new {
        new_passphrase(what)?.ok_or_else(missing)
    } else {
        let passphrase =
            tty::ask_secret(&format!("Passphrase for {what}: "))?.ok_or_else(missing)?;
        Ok(Arc::new(PassphraseRoot::new(&passphrase)))
    }
}

/// A new passphrase asked twice on the terminal; `None` without one.
fn new_passphrase(what: &str) -> Result<Option<Root>, CliError> {
    let passphrase = tty::ask_new_secret(
        &format!("New passphrase for {what}: "),
        "Repeat the passphrase: ",
    )?;
    Ok(passphrase.map(|p| Arc::new(PassphraseRoot::new(&p)) as Root))
}

fn key_file_root(path: &Path) -> Result<Root, CliError> {
    Ok(Arc::new(strongroom::root::load_key_file(path)?))
}

fn passphrase_root(path: &Path) -> Result<Root, CliError> {
    let passphrase = first_line(path, "passphrase")?;
    Ok(Arc::new(PassphraseRoot::new(&passphrase)))
}

/// Reads the first line of a secret file (a passphrase or a PIN), without
/// its line ending, into buffers that are wiped on drop.
fn first_line(path: &Path, what: &str) -> Result<Zeroizing<Vec<u8>>, CliError> {
    // The core's one rule for secret files: no symlink, a regular file of
    // this user's, owner-only, checked on the open descriptor, bounded.
    let text = strongroom::root::read_secret_file(path)?;
    let text = text.expose_secret();
    let line = text.split(|b| *b == b'\n').next().unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.is_empty() {
        return Err(CliError::Usage(format!(
            "{} holds an empty {what}",
            path.display()
        )));
    }
    let mut out = Zeroizing::new(Vec::with_capacity(line.len()));
    out.extend_from_slice(line);
    Ok(out)
}

/// A PKCS#11 root on `token`, sealing new files with the key `key_label`
/// (created first when `create` is set). The PIN comes from
/// `--pkcs11-pin-file` or the terminal.
#[cfg(feature = "pkcs11")]
fn pkcs11_root(
    p: &Pkcs11Args,
    token: &str,
    key_label: &str,
    create: bool,
) -> Result<Root, CliError> {
    let module = p.pkcs11_module.as_deref().ok_or_else(|| {
        CliError::Usage("a PKCS#11 root needs --pkcs11-module (the token's .so)".into())
    })?;
    let pin = match &p.pkcs11_pin_file {
        Some(file) => first_line(file, "PIN")?,
        None => {
            tty::ask_secret(&format!("User PIN for PKCS#11 token {token}: "))?.ok_or_else(|| {
                CliError::Usage(
                    "no PKCS#11 PIN: pass --pkcs11-pin-file FILE (no terminal to ask on)".into(),
                )
            })?
        }
    };
    let pin = core::str::from_utf8(&pin)
        .map_err(|_| CliError::Usage("the PKCS#11 PIN is not UTF-8".into()))?;
    let root = strongroom::pkcs11::Pkcs11Root::connect(module, token, pin, key_label)?;
    if create {
        root.create_key()?;
    }
    Ok(Arc::new(root))
}

/// A transit root on the server the environment names.
#[cfg(feature = "vault")]
fn vault_root(mount: &str, key: &str) -> Result<Root, CliError> {
    use strongroom::vault::{TransitRoot, Vault, VaultConfig};
    let vault = Vault::connect(VaultConfig::from_env()?).map_err(strongroom::Error::from)?;
    Ok(Arc::new(TransitRoot::new(Arc::new(vault), mount, key)?))
}

/// The transit root an existing file names (FORMAT.md 10.3).
#[cfg(feature = "vault")]
fn vault_root_for_file(params: &[u8]) -> Result<Root, CliError> {
    let (mount, key) = strongroom::vault::TransitRoot::parse_params(params)?;
    vault_root(&mount, &key)
}

#[cfg(not(feature = "vault"))]
fn vault_root(_: &str, _: &str) -> Result<Root, CliError> {
    Err(CliError::Usage(
        "this strongroom was built without Vault support (feature `vault`)".into(),
    ))
}

#[cfg(not(feature = "vault"))]
fn vault_root_for_file(_: &[u8]) -> Result<Root, CliError> {
    vault_root("", "")
}

#[cfg(not(feature = "pkcs11"))]
fn pkcs11_root(_: &Pkcs11Args, _: &str, _: &str, _: bool) -> Result<Root, CliError> {
    Err(CliError::Usage(
        "this strongroom was built without PKCS#11 support (feature `pkcs11`)".into(),
    ))
}
