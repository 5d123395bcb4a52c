//! `--vault-kv-path`: the keyring in an OpenBao/Vault KV v2 secret
//! (`strongroom::vault::KvStore`), sealed by a transit key, shared by every
//! instance. The commands that read the keyring or change its keys work
//! here; those about a keyring file (change-root, accept-restore) and key
//! backups do not.

use alloc::sync::Arc;

use strongroom::Keyring;
use strongroom::audit::AuditContext;
use strongroom::root::RootKind;
use strongroom::vault::{KvStore, TransitRoot, Vault, VaultConfig};

use crate::args::{Cli, Command, KeyCommand, KeyringCommand};
use crate::commands::{self, Source};
use crate::error::CliError;
use crate::{records, report};

impl Source for KvStore {
    fn load(&self) -> Result<Keyring, CliError> {
        Ok(KvStore::load(self)?)
    }
    fn update_with(
        &self,
        change: &mut dyn FnMut(&mut Keyring) -> strongroom::Result<String>,
    ) -> Result<String, CliError> {
        Ok(self.update(change)?)
    }
    fn destroy_note(&self) -> &'static str {
        // The KV history is shredded next, and says so.
        ""
    }
}

fn vault() -> Result<Arc<Vault>, CliError> {
    let vault = Vault::connect(VaultConfig::from_env()?).map_err(strongroom::Error::from)?;
    Ok(Arc::new(vault))
}

pub(crate) fn run(cli: &Cli, mount: &str, path: &str) -> Result<(), CliError> {
    let name = format!("vault:{mount}/{path}");
    let vault = vault()?;
    if let Command::Keyring(KeyringCommand::Init { key, .. }) = &cli.command {
        let transit = cli.root.vault_transit_key.as_deref().ok_or_else(|| {
            CliError::Usage(
                "a keyring in KV (--vault-kv-path) is sealed by a transit key: pass --vault-transit-key NAME".into(),
            )
        })?;
        let root = TransitRoot::new(vault.clone(), &cli.root.vault_transit_mount, transit)?;
        let store = KvStore::new(vault, mount, path, Arc::new(root))?;
        let mut keyring = Keyring::new();
        if let Some(k) = key {
            keyring.create_key(k)?;
        }
        let version = store.create(&keyring)?;
        println!("created keyring {name} (KV version {version}, Vault transit key)");
        return Ok(());
    }
    let (info, _) = KvStore::inspect(&vault, mount, path)?;
    if info.root_kind != RootKind::VaultTransit {
        return Err(CliError::Usage(format!(
            "the keyring {name} is sealed with a {}, which the command line reaches only in a file",
            info.root_kind
        )));
    }
    let (transit_mount, transit_key) = TransitRoot::parse_params(&info.root_params)?;
    let root = TransitRoot::new(vault.clone(), &transit_mount, &transit_key)?;
    let mut store = KvStore::new(vault, mount, path, Arc::new(root))?;
    let sink = commands::open_audit_log(cli)?;
    if let Some(sink) = &sink {
        store.set_audit(AuditContext::with_system_clock(sink.clone()));
    }
    let progress = !cli.no_progress;
    match &cli.command {
        Command::Keyring(KeyringCommand::Info { json }) => {
            let (keyring, lineage) = store.load_versioned()?;
            if *json {
                report::print(&serde_json::json!({
                    "path": name,
                    "root_kind": RootKind::VaultTransit.name(),
                    "format": 2,
                    "generation": lineage.generation,
                    "keys": report::keys_json(&keyring),
                }));
                return Ok(());
            }
            println!(
                "keyring {name}: sealed with a {} ({transit_mount}/{transit_key}), {} keys, generation {} (the KV version)",
                RootKind::VaultTransit,
                keyring.len(),
                lineage.generation
            );
            println!("{}", report::key_list_text(&keyring));
            Ok(())
        }
        Command::Key(KeyCommand::Backup { .. } | KeyCommand::Import { .. })
        | Command::Key(KeyCommand::Destroy {
            change_root: true, ..
        })
        | Command::Keyring(_) => Err(CliError::Usage(format!(
            "this command works on a keyring file, not on the keyring in {name}"
        ))),
        Command::Key(
            cmd @ KeyCommand::Destroy {
                name: key, version, ..
            },
        ) => {
            // As for a file, then the older KV versions that still hold the
            // material: the destroy reaches the engine's history.
            commands::key_command(&store, cmd)?;
            let shredded = store.destroy_history()?;
            println!(
                "destroyed the {shredded} older KV version(s) of {name} that still held {key} version {version}; storage backups of the cluster taken before still do"
            );
            Ok(())
        }
        Command::Key(cmd) => commands::key_command(&store, cmd),
        Command::Record(cmd) => records::run(&store.load()?, cmd),
        Command::Rewrap {
            paths,
            recursive,
            check,
            json,
        } => commands::rewrap(&store.load()?, paths, *recursive, *check, *json),
        Command::Encrypt(args) => commands::encrypt(
            store.load()?,
            &[],
            commands::threads(cli.threads)?,
            progress,
            args,
        ),
        Command::Decrypt(args) => commands::decrypt(
            store.load()?,
            &[],
            commands::threads(cli.threads)?,
            progress,
            args,
        ),
        Command::Inspect { .. } | Command::Completions { .. } | Command::Man => Ok(()),
    }
}
