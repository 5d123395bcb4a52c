//! What each subcommand does.

use alloc::sync::Arc;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use strongroom::audit::{AuditContext, JsonLinesSink};
use strongroom::envelope::{self, DEFAULT_CHUNK_SIZE, EnvelopeReader, EnvelopeWriter, Recipient};
use strongroom::file;
use strongroom::root::Retirement;
use strongroom::store::KeyringStore;
use strongroom::{EncryptionContext, FastRng, Keyring, SysRng, Timestamp};

use crate::args::{
    Cli, Command, DecryptArgs, EncryptArgs, KeyCommand, KeyringCommand, RecordCommand,
};
use crate::error::CliError;
use crate::output::Output;
use crate::{progress, records, report, root};

pub(crate) fn run(cli: Cli) -> Result<(), CliError> {
    if let Command::Completions { shell } = &cli.command {
        use clap::CommandFactory;
        let mut cmd = Cli::command();
        // Into memory first: clap_complete panics on a write error (a
        // closed pipe); ours is reported as one.
        let mut script = Vec::new();
        clap_complete::generate(*shell, &mut cmd, "strongroom", &mut script);
        return io::stdout()
            .write_all(&script)
            .map_err(|e| CliError::io("cannot write to stdout", e));
    }
    if let Command::Man = &cli.command {
        use clap::CommandFactory;
        return clap_mangen::Man::new(Cli::command())
            .render(&mut io::stdout())
            .map_err(|e| CliError::io("cannot write to stdout", e));
    }
    if let Command::Inspect { input, json } = &cli.command {
        return inspect(input, *json);
    }
    if let Command::Record(RecordCommand::Inspect { json, records }) = &cli.command {
        return records::inspect(*json, records);
    }
    if let Some(path) = &cli.root.vault_kv_path {
        #[cfg(feature = "vault")]
        return crate::kv::run(&cli, &cli.root.vault_kv_mount, path);
        #[cfg(not(feature = "vault"))]
        return Err(CliError::Usage(format!(
            "--vault-kv-path {path}: this strongroom was built without Vault support (feature `vault`)"
        )));
    }
    if let Command::Keyring(KeyringCommand::Init {
        key,
        pkcs11_create_key,
    }) = &cli.command
    {
        return init(&cli, key.as_deref(), *pkcs11_create_key);
    }
    let root = root::for_keyring(&cli.root, &cli.keyring)?;
    let mut store = KeyringStore::new(&cli.keyring, root.clone());
    let sink = open_audit_log(&cli)?;
    if let Some(sink) = &sink {
        store.set_audit(AuditContext::with_system_clock(sink.clone()));
    }
    let stale = store.stale_temp_files();
    if !stale.is_empty() {
        let names: Vec<String> = stale.iter().map(|p| p.display().to_string()).collect();
        eprintln!(
            "strongroom: warning: an interrupted save left {} temp file(s) beside {}: {}; \
             they hold older copies of the keyring (destroyed versions included) and \
             the next key change removes them",
            stale.len(),
            cli.keyring.display(),
            names.join(", ")
        );
    }
    let result = dispatch(&cli, &mut store, &root).map_err(|e| explain(e, &cli.keyring, &root));
    // A log that lost events makes the command fail, even if it did its work.
    if let (Some(sink), Some(path)) = (&sink, &cli.audit_log) {
        let lost = sink.write_errors();
        if lost > 0 {
            let message = format!(
                "{lost} audit events could not be written to {}",
                path.display()
            );
            if result.is_err() {
                // The command's own error is the exit code; still say it.
                eprintln!("strongroom: warning: {message}");
                return result;
            }
            return Err(CliError::Io(message));
        }
    }
    result
}

/// Whether `message` names a key by its id (`key 1a2b3c4d`).
fn names_a_key_id(message: &str) -> bool {
    message.match_indices("key ").any(|(i, _)| {
        let id = &message.as_bytes()[i + 4..];
        id.len() >= 8
            && id[..8].iter().all(u8::is_ascii_hexdigit)
            && id.get(8).is_none_or(|b| !b.is_ascii_alphanumeric())
    })
}

/// An error made clearer with what the keyring knows: key ids named by
/// their key's name, and an unknown key name answered with the closest
/// one. Only for such errors, the keyring file is read again, through a
/// store of its own with no audit log (the second read is not an event of
/// the command's).
fn explain(e: CliError, path: &Path, root: &root::Root) -> CliError {
    let message = e.to_string();
    if !message.contains("no key named \"") && !names_a_key_id(&message) {
        return e;
    }
    let Ok(keyring) = KeyringStore::new(path, root.clone()).load() else {
        return e;
    };
    let keys = keyring.keys();
    let mut better = message.clone();
    for k in &keys {
        let id = k.key_id.to_string();
        for (from, to) in [
            (format!("key {id}"), format!("key {} ({id})", k.name)),
            (
                format!("key with id {id}"),
                format!("key {} ({id})", k.name),
            ),
        ] {
            if better.contains(&from) && !better.contains(&to) {
                better = better.replace(&from, &to);
            }
        }
    }
    if let Some(start) = message.find("no key named \"") {
        let rest = &message[start + 14..];
        if let Some(end) = rest.find('"') {
            let asked = &rest[..end];
            if let Some(near) = closest(asked, keys.iter().map(|k| k.name.as_str())) {
                better.push_str(&format!("; did you mean {near:?}?"));
            }
        }
    }
    match e {
        CliError::Usage(_) => CliError::Usage(better),
        CliError::Auth(_) => CliError::Auth(better),
        CliError::Io(_) => CliError::Io(better),
        CliError::Other(_) => CliError::Other(better),
    }
}

/// The name nearest to `asked` (edit distance at most a third of its
/// length, and at most 3), if any.
fn closest<'a>(asked: &str, names: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    fn distance(a: &str, b: &str) -> usize {
        let b: Vec<char> = b.chars().collect();
        let mut row: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            let mut prev = row[0];
            row[0] = i + 1;
            for (j, cb) in b.iter().enumerate() {
                let cur = row[j + 1];
                row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
                prev = cur;
            }
        }
        row[b.len()]
    }
    let limit = (asked.chars().count() / 3).clamp(1, 3);
    names
        .map(|n| (distance(asked, n), n))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, n)| n)
}

/// Opens the `--audit-log` file, if one was named. Every event it gets
/// also says who ran the command (`uid`, and `user` when the password
/// database names it), which subcommand (`command`), and the files it
/// names (`paths`: the keyring first).
pub(crate) fn open_audit_log(cli: &Cli) -> Result<Option<Arc<JsonLinesSink>>, CliError> {
    let Some(path) = cli.audit_log.as_deref() else {
        return Ok(None);
    };
    let sink = JsonLinesSink::open(path)
        .map_err(|e| CliError::io(&format!("cannot open {}", path.display()), e))?;
    let uid = rustix::process::getuid().as_raw();
    let mut sink = sink.with_string("uid", &uid.to_string());
    if let Some(user) = user_name(uid) {
        sink = sink.with_string("user", &user);
    }
    let (command, paths) = command_and_paths(cli);
    let paths: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
    let sink = sink
        .with_string("command", &command)
        .with_strings("paths", &paths);
    Ok(Some(Arc::new(sink)))
}

/// The name of user `uid` in `/etc/passwd`, if it is there.
fn user_name(uid: u32) -> Option<String> {
    let passwd = fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let _password = fields.next()?;
        (fields.next()? == uid.to_string()).then(|| name.to_owned())
    })
}

/// The subcommand as typed (`key rotate`) and the paths it names.
fn command_and_paths(cli: &Cli) -> (String, Vec<PathBuf>) {
    let mut paths = vec![cli.keyring.clone()];
    let command = match &cli.command {
        Command::Keyring(k) => match k {
            KeyringCommand::Init { .. } => "keyring init",
            KeyringCommand::Info { .. } => "keyring info",
            KeyringCommand::ChangeRoot(_) => "keyring change-root",
            KeyringCommand::AcceptRestore => "keyring accept-restore",
        },
        Command::Key(k) => match k {
            KeyCommand::Create { .. } => "key create",
            KeyCommand::List { .. } => "key list",
            KeyCommand::Rotate { .. } => "key rotate",
            KeyCommand::SetRotation { .. } => "key set-rotation",
            KeyCommand::Disable { .. } => "key disable",
            KeyCommand::Enable { .. } => "key enable",
            KeyCommand::Destroy { .. } => "key destroy",
            KeyCommand::SetMinVersion { .. } => "key set-min-version",
            KeyCommand::Backup { output, .. } => {
                paths.push(output.clone());
                "key backup"
            }
            KeyCommand::Import { input, .. } => {
                paths.push(input.clone());
                "key import"
            }
        },
        Command::Encrypt(a) => {
            paths.extend(a.input.iter().chain(&a.output).cloned());
            "encrypt"
        }
        Command::Decrypt(a) => {
            paths.extend(a.input.iter().chain(&a.output).cloned());
            "decrypt"
        }
        Command::Record(r) => match r {
            RecordCommand::Encrypt { .. } => "record encrypt",
            RecordCommand::Decrypt { .. } => "record decrypt",
            RecordCommand::Rewrap { .. } => "record rewrap",
            RecordCommand::Inspect { .. } => "record inspect",
        },
        Command::Inspect { input, .. } => {
            paths.push(input.clone());
            "inspect"
        }
        Command::Rewrap { paths: files, .. } => {
            paths.extend(files.iter().cloned());
            "rewrap"
        }
        Command::Completions { .. } => "completions",
        Command::Man => "man",
    };
    (command.to_owned(), paths)
}

fn dispatch(cli: &Cli, store: &mut KeyringStore, root: &root::Root) -> Result<(), CliError> {
    let progress = !cli.no_progress;
    match &cli.command {
        Command::Keyring(KeyringCommand::Info { json }) => {
            let keyring = store.load()?;
            let seen = store.newest_seen();
            if *json {
                report::print(&serde_json::json!({
                    "path": cli.keyring.display().to_string(),
                    "root_kind": root.root_kind().name(),
                    "format": if seen.is_some() { 2 } else { 1 },
                    "generation": seen.map(|l| l.generation),
                    "keys": report::keys_json(&keyring),
                }));
                return Ok(());
            }
            let generation = match seen {
                Some(l) => format!("generation {}", l.generation),
                None => "format 1, no generation yet (the next change writes format 2)".into(),
            };
            println!(
                "keyring {}: sealed with a {}, {} keys, {generation}",
                cli.keyring.display(),
                root.root_kind(),
                keyring.len()
            );
            println!("{}", report::key_list_text(&keyring));
            Ok(())
        }
        Command::Keyring(KeyringCommand::ChangeRoot(other)) => {
            let new_root = root::other(other, &cli.root.pkcs11, "the re-sealed keyring", true)?;
            store.change_root(new_root.clone())?;
            println!(
                "re-sealed {} under a {}; keys unchanged",
                cli.keyring.display(),
                new_root.root_kind()
            );
            Ok(())
        }
        Command::Keyring(KeyringCommand::AcceptRestore) => {
            let (before, after) = store.accept_restore()?;
            let was = before.map_or("a format-1 file".into(), |l| {
                format!("generation {}", l.generation)
            });
            println!(
                "accepted {} as restored ({was}); it is now generation {}. Versions destroyed \
                 since this copy was made are back: destroy them again if they must stay gone",
                cli.keyring.display(),
                after.generation
            );
            Ok(())
        }
        Command::Key(KeyCommand::Destroy {
            name,
            version,
            yes,
            change_root: true,
            root: other,
        }) => {
            confirm_destroy(name, *version, *yes)?;
            let new_root = root::other(other, &cli.root.pkcs11, "the re-sealed keyring", true)?;
            let old_kind = root.root_kind();
            let ((), retired) = store
                .update_with_new_root(new_root.clone(), |k| k.destroy_version(name, *version))?;
            let retirement = match retired {
                Retirement::Destroyed => format!(
                    "the old {old_kind} is destroyed in its token: no earlier copy of the \
                     keyring file opens again"
                ),
                _ => format!(
                    "retire the old {old_kind} now: destroy it and every copy of it (until then \
                     it opens every earlier copy of the keyring file, this version included), \
                     and give the new {} to every user of this keyring",
                    new_root.root_kind()
                ),
            };
            println!(
                "destroyed {name} version {version} and re-sealed {} under a new {}; {retirement}",
                cli.keyring.display(),
                new_root.root_kind()
            );
            Ok(())
        }
        Command::Key(KeyCommand::Backup {
            name,
            output,
            force,
            root: other,
        }) => {
            let backup_root = root::other(other, &cli.root.pkcs11, "the backup", true)?;
            let keyring = store.load()?;
            let backup = keyring.export_key_with(name, backup_root.as_ref(), &mut SysRng)?;
            let mut out = Output::open(Some(output), &protected(store), *force)?;
            out.write_all(&backup)
                .map_err(|e| CliError::io(&format!("cannot write {}", output.display()), e))?;
            out.commit()?;
            println!("wrote a backup of key {name} to {}", output.display());
            Ok(())
        }
        Command::Key(KeyCommand::Import { input, root: other }) => {
            let backup_root = root::other(other, &cli.root.pkcs11, "the backup", false)?;
            let mut backup = Vec::new();
            let read_err = |e| CliError::io(&format!("cannot read {}", input.display()), e);
            File::open(input)
                .map_err(read_err)?
                .take(strongroom::keyring_file::MAX_KEYRING_FILE_LEN as u64 + 1)
                .read_to_end(&mut backup)
                .map_err(read_err)?;
            let id =
                store.update(|keyring| keyring.import_key_backup(&backup, backup_root.as_ref()))?;
            println!("imported key {id} from {}", input.display());
            Ok(())
        }
        Command::Rewrap {
            paths,
            recursive,
            check,
            json,
        } => rewrap(&store.load()?, paths, *recursive, *check, *json),
        Command::Key(cmd) => key_command(store, cmd),
        Command::Record(cmd) => records::run(&store.load()?, cmd),
        Command::Encrypt(args) => encrypt(
            store.load()?,
            &protected(store),
            threads(cli.threads)?,
            progress,
            args,
        ),
        Command::Decrypt(args) => decrypt(
            store.load()?,
            &protected(store),
            threads(cli.threads)?,
            progress,
            args,
        ),
        // Handled in `run`.
        Command::Inspect { .. }
        | Command::Completions { .. }
        | Command::Man
        | Command::Keyring(KeyringCommand::Init { .. }) => Ok(()),
    }
}

/// `keyring init`: a new keyring file under a new root.
fn init(cli: &Cli, key: Option<&str>, create_token_key: bool) -> Result<(), CliError> {
    // Refuse before asking for a passphrase that would not be used.
    if cli.keyring.exists() {
        return Err(strongroom::store::StoreError::AlreadyExists {
            path: cli.keyring.clone(),
        }
        .into());
    }
    let root = root::for_new_keyring(&cli.root, &cli.keyring, create_token_key)?;
    let mut keyring = Keyring::new();
    if let Some(name) = key {
        keyring.create_key(name)?;
    }
    KeyringStore::new(&cli.keyring, root.clone()).create(&keyring)?;
    println!(
        "created keyring {} ({})",
        cli.keyring.display(),
        root.root_kind()
    );
    Ok(())
}

/// The thread count: the flag, or every available core.
/// The thread count: the flag (1 to the core's limit), or every available
/// core up to that limit.
pub(crate) fn threads(flag: Option<usize>) -> Result<usize, CliError> {
    match flag {
        Some(n) if (1..=envelope::MAX_THREADS).contains(&n) => Ok(n),
        Some(_) => Err(CliError::Usage(format!(
            "--threads takes 1 to {}",
            envelope::MAX_THREADS
        ))),
        None => Ok(std::thread::available_parallelism()
            .map_or(1, usize::from)
            .clamp(1, envelope::MAX_THREADS)),
    }
}

/// Where the keyring lives: a keyring file, or a KV v2 secret.
pub(crate) trait Source {
    fn load(&self) -> Result<Keyring, CliError>;
    fn update_with(
        &self,
        change: &mut dyn FnMut(&mut Keyring) -> strongroom::Result<String>,
    ) -> Result<String, CliError>;
    /// What `key destroy` adds about the copies of the keyring it does not
    /// reach.
    fn destroy_note(&self) -> &'static str {
        " Earlier copies of the keyring file (backups, snapshots) still hold the version and \
         open under the current root; this keyring refuses them, and `key destroy \
         --change-root` makes them useless"
    }
}

impl Source for KeyringStore {
    fn load(&self) -> Result<Keyring, CliError> {
        Ok(KeyringStore::load(self)?)
    }
    fn update_with(
        &self,
        change: &mut dyn FnMut(&mut Keyring) -> strongroom::Result<String>,
    ) -> Result<String, CliError> {
        Ok(self.update(change)?)
    }
}

pub(crate) fn key_command(store: &dyn Source, cmd: &KeyCommand) -> Result<(), CliError> {
    if let KeyCommand::List { json } = cmd {
        let keyring = store.load()?;
        if *json {
            report::print(&serde_json::json!({ "keys": report::keys_json(&keyring) }));
        } else {
            println!("{}", report::key_list_text(&keyring));
        }
        return Ok(());
    }
    if let KeyCommand::Destroy {
        change_root: false,
        root: other,
        ..
    } = cmd
        && (other.new_passphrase_file.is_some()
            || other.new_key_file.is_some()
            || other.new_pkcs11_token.is_some()
            || other.new_vault_transit_key.is_some())
    {
        return Err(CliError::Usage(
            "a --new-* root with key destroy needs --change-root".into(),
        ));
    }
    if let KeyCommand::Destroy {
        name, version, yes, ..
    } = cmd
    {
        confirm_destroy(name, *version, *yes)?;
    }
    if let KeyCommand::Rotate {
        name: None,
        dry_run: true,
        ..
    } = cmd
    {
        let keyring = store.load()?;
        let due = keyring.keys_due_for_rotation(Timestamp::now());
        if due.is_empty() {
            println!("no key is due for rotation");
        }
        for name in due {
            let k = keyring.key_info(name)?;
            println!(
                "due: {name} (primary v{}; `key rotate --due` would make v{} primary)",
                k.primary_version,
                k.versions.len() + 1
            );
        }
        return Ok(());
    }
    let period = match cmd {
        KeyCommand::SetRotation { period, .. } if period == "never" => None,
        KeyCommand::SetRotation { period, .. } => match period.parse::<u64>() {
            Ok(days) if (1..=36_500).contains(&days) => Some(days * 86_400),
            _ => {
                return Err(CliError::Usage(format!(
                    "key set-rotation takes DAYS (1 to 36500) or never, got {period:?}"
                )));
            }
        },
        _ => None,
    };
    let message = store.update_with(&mut |keyring: &mut Keyring| {
        match cmd {
            KeyCommand::Create {
                name,
                rotate_every_days,
            } => {
                let id = keyring.create_key(name)?;
                if let Some(days) = rotate_every_days {
                    keyring.set_rotation_period(name, Some(days.saturating_mul(86_400)))?;
                }
                Ok(format!("created key {name} (id {id}), version 1"))
            }
            KeyCommand::Rotate {
                name: Some(name), ..
            } => {
                let v = keyring.rotate(name)?;
                Ok(format!("rotated {name}: version {v} is primary"))
            }
            KeyCommand::Rotate { name: None, .. } => {
                let due: Vec<String> = keyring
                    .keys_due_for_rotation(Timestamp::now())
                    .into_iter()
                    .map(String::from)
                    .collect();
                let mut lines = Vec::new();
                for name in &due {
                    let v = keyring.rotate(name)?;
                    lines.push(format!("rotated {name}: version {v} is primary"));
                }
                if lines.is_empty() {
                    lines.push("no key is due for rotation".into());
                }
                Ok(lines.join("\n"))
            }
            KeyCommand::Disable { name, version } => {
                keyring.disable_version(name, *version)?;
                Ok(format!("disabled {name} version {version}"))
            }
            KeyCommand::Enable { name, version } => {
                keyring.enable_version(name, *version)?;
                Ok(format!("enabled {name} version {version}"))
            }
            KeyCommand::Destroy { name, version, .. } => {
                keyring.destroy_version(name, *version)?;
                Ok(format!(
                    "destroyed {name} version {version}: every ciphertext under it, wherever it \
                     is copied, no longer decrypts.{}",
                    store.destroy_note()
                ))
            }
            KeyCommand::SetRotation { name, .. } => {
                keyring.set_rotation_period(name, period)?;
                Ok(match period {
                    Some(p) => format!("{name}: rotate every {} days", p / 86_400),
                    None => format!("{name}: no rotation period"),
                })
            }
            KeyCommand::SetMinVersion { name, version } => {
                keyring.set_min_decryption_version(name, *version)?;
                Ok(format!("{name}: minimum decryption version is {version}"))
            }
            // Handled in `run`.
            KeyCommand::List { .. } | KeyCommand::Backup { .. } | KeyCommand::Import { .. } => {
                Ok(String::new())
            }
        }
    });
    println!("{}", message?);
    Ok(())
}

pub(crate) fn context(pairs: &[String]) -> Result<EncryptionContext, CliError> {
    let mut ctx = EncryptionContext::new();
    for pair in pairs {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| CliError::Usage(format!("--context takes K=V, got {pair:?}")))?;
        ctx.insert(k, v)
            .map_err(|e| CliError::Usage(format!("--context {pair:?}: {e}")))?;
    }
    Ok(ctx)
}

/// Whether the output (None or `-`: stdout) is a terminal.
fn stdout_is_a_terminal(output: Option<&Path>) -> bool {
    match output {
        None => rustix::termios::isatty(io::stdout()),
        Some(p) if p == Path::new("-") => rustix::termios::isatty(io::stdout()),
        // Only a character device can be a terminal; opening one never
        // blocks (a FIFO's open would wait for a reader).
        Some(p) => {
            use std::os::unix::fs::FileTypeExt;
            fs::metadata(p).is_ok_and(|m| m.file_type().is_char_device())
                && File::options()
                    .append(true)
                    .open(p)
                    .is_ok_and(|f| rustix::termios::isatty(&f))
        }
    }
}

/// Asks before a destroy, on the terminal; without one, `--yes` is needed.
fn confirm_destroy(name: &str, version: u32, yes: bool) -> Result<(), CliError> {
    if yes {
        return Ok(());
    }
    let prompt = format!(
        "Destroy version {version} of key {name}? Every ciphertext under it stops decrypting, \
         for good. Type yes to destroy: "
    );
    match crate::tty::confirm(&prompt)? {
        Some(true) => Ok(()),
        Some(false) => Err(CliError::Other(format!(
            "not destroyed: {name} version {version} is unchanged (the answer was not yes)"
        ))),
        None => Err(CliError::Usage(
            "key destroy asks for confirmation on a terminal; without one, pass --yes".into(),
        )),
    }
}

/// The keyring's own files, which no output may name.
fn protected(store: &KeyringStore) -> Vec<std::path::PathBuf> {
    let mut lock = store.path().as_os_str().to_owned();
    lock.push(".lock");
    vec![
        store.path().to_path_buf(),
        lock.into(),
        store.generation_file(),
    ]
}

/// The input and, for a regular file, its length.
fn input(path: Option<&Path>) -> Result<(Box<dyn Read>, Option<u64>), CliError> {
    match path {
        None => Ok((Box::new(io::stdin().lock()), None)),
        Some(p) if p == Path::new("-") => Ok((Box::new(io::stdin().lock()), None)),
        Some(p) => {
            let err = |e| CliError::io(&format!("cannot read {}", p.display()), e);
            let f = File::open(p).map_err(err)?;
            let meta = f.metadata().map_err(err)?;
            Ok((Box::new(f), meta.is_file().then_some(meta.len())))
        }
    }
}

pub(crate) fn encrypt(
    keyring: Keyring,
    protected: &[std::path::PathBuf],
    threads: usize,
    progress: bool,
    args: &EncryptArgs,
) -> Result<(), CliError> {
    let ctx = context(&args.context)?;
    let (reader, len) = input(args.input.as_deref())?;
    let (mut reader, _bar) = progress::track(reader, len, progress, "encrypting");
    if args.key.len() > envelope::MAX_RECIPIENTS {
        return Err(CliError::Usage(format!(
            "--key names at most {} keys (FORMAT.md 7.2), got {}",
            envelope::MAX_RECIPIENTS,
            args.key.len()
        )));
    }
    if !args.force && !args.armor && stdout_is_a_terminal(args.output.as_deref()) {
        return Err(CliError::Usage(
            "refusing to write binary ciphertext to a terminal: give -o FILE, redirect stdout, \
             pass --armor for text, or --force"
                .into(),
        ));
    }
    let out = Output::open(args.output.as_deref(), protected, true)?;
    let recipients: Vec<Recipient<'_>> = args
        .key
        .iter()
        .map(|name| Recipient::Key {
            keyring: &keyring,
            name,
        })
        .collect();
    // With --armor the envelope goes through the armor writer (FORMAT.md
    // 12) on its way out; either way it streams.
    let sink: Sink = if args.armor {
        Sink::Armored(envelope::ArmorWriter::new(out))
    } else {
        Sink::Binary(out)
    };
    // Sealing on the worker threads and writing on an output thread of
    // its own overlap (crate::pipe).
    let pipe = crate::pipe::threads_for(threads, len);
    let (sealed, sink) = crate::pipe::through_output_thread(sink, pipe, |w| {
        let mut writer =
            EnvelopeWriter::new(w, &recipients, &ctx, DEFAULT_CHUNK_SIZE, &mut FastRng)
                .and_then(|w| w.with_threads(threads))
                .map_err(|e| (e, "cannot start the envelope"))
                .map_err(tagged)?;
        file::copy_wiped(&mut reader, &mut writer)
            .map_err(|e| (e, "cannot encrypt"))
            .map_err(tagged)?;
        writer
            .finish()
            .map(|_| ())
            .map_err(|e| (e, "cannot finish the envelope"))
            .map_err(tagged)
    });
    let sink = sink.map_err(|e| CliError::io("cannot write the envelope", e))?;
    sealed.map_err(untag)?;
    let out = match sink {
        Sink::Binary(out) => out,
        Sink::Armored(w) => w
            .finish()
            .map_err(|e| CliError::io("cannot finish the armor", e))?,
    };
    out.commit()
}

/// Where `encrypt` writes the envelope: the output, or the armor writer
/// in front of it.
enum Sink {
    Binary(Output),
    Armored(envelope::ArmorWriter<Output>),
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::Binary(o) => o.write(buf),
            Self::Armored(a) => a.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Binary(o) => o.flush(),
            Self::Armored(a) => a.flush(),
        }
    }
}

/// `reader` as the binary envelope it carries: unchanged, or decoded from
/// its armor when it starts with the BEGIN line (FORMAT.md 12.2). Reads at
/// most the length of the BEGIN line to tell.
fn unarmored<'a>(mut reader: Box<dyn Read + 'a>) -> Result<Box<dyn Read + 'a>, CliError> {
    let mut prefix = Vec::with_capacity(envelope::ARMOR_BEGIN.len());
    (&mut reader)
        .take(envelope::ARMOR_BEGIN.len() as u64)
        .read_to_end(&mut prefix)
        .map_err(|e| CliError::io("cannot read the input", e))?;
    let whole = io::Cursor::new(prefix).chain(reader);
    if envelope::is_armored(whole.get_ref().0.get_ref()) {
        return Ok(Box::new(envelope::ArmorReader::new(io::BufReader::new(
            whole,
        ))));
    }
    Ok(Box::new(whole))
}

pub(crate) fn decrypt(
    keyring: Keyring,
    protected: &[std::path::PathBuf],
    threads: usize,
    progress: bool,
    args: &DecryptArgs,
) -> Result<(), CliError> {
    let keyring = Arc::new(keyring);
    let ctx = context(&args.context)?;
    let (reader, len) = input(args.input.as_deref())?;
    let (reader, _bar) = progress::track(reader, len, progress, "decrypting");
    let reader = unarmored(reader)?;
    let mut out = Output::open(args.output.as_deref(), protected, true)?;
    let mut plain = EnvelopeReader::new(reader, keyring, &ctx)
        .with_threads(threads)
        .map_err(|e| CliError::io("cannot start decrypting", e))?;
    // Opening on the worker threads and writing the plaintext on an output
    // thread of its own overlap (crate::pipe); the output is committed
    // only once everything authenticated and was written.
    let (opened, written) =
        crate::pipe::through_output_thread(&mut out, crate::pipe::threads_for(threads, len), |w| {
            file::copy_wiped(&mut plain, w)
        });
    // The output thread's error first: when it stops (a full disk), the
    // decryption fails only because its output went away.
    written.map_err(|e| CliError::io("cannot write the plaintext", e))?;
    opened.map_err(|e| {
        let e = CliError::io("cannot decrypt", e);
        match (&e, args.input.as_deref()) {
            (CliError::Auth(_), Some(p)) if p != Path::new("-") => context_hint(e, p, &ctx),
            _ => e,
        }
    })?;
    out.commit()
}

/// An I/O error with the message prefix it is reported under, carried
/// through `io::Error` (crate::pipe passes only `io::Error`s).
fn tagged((e, what): (io::Error, &'static str)) -> io::Error {
    io::Error::new(e.kind(), Tagged(what, e))
}

fn untag(e: io::Error) -> CliError {
    let kind = e.kind();
    match e.into_inner().map(|inner| inner.downcast::<Tagged>()) {
        Some(Ok(t)) => CliError::io(t.0, t.1),
        Some(Err(other)) => CliError::io("cannot encrypt", io::Error::new(kind, other)),
        None => CliError::io("cannot encrypt", io::Error::from(kind)),
    }
}

#[derive(Debug)]
struct Tagged(&'static str, io::Error);

impl core::fmt::Display for Tagged {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.1.fmt(f)
    }
}

impl core::error::Error for Tagged {}

/// A failed decryption whose `--context` differs from the context the
/// file stores (public: `inspect` prints it) says so, and how.
fn context_hint(e: CliError, path: &Path, given: &EncryptionContext) -> CliError {
    let Ok(info) = file::inspect_envelope_file(path) else {
        return e;
    };
    let stored = &info.context;
    let mut diffs = Vec::new();
    for (k, v) in stored.iter() {
        match given.get(k) {
            None => diffs.push(format!("missing {}={}", escape(k, true), escape(v, false))),
            Some(g) if g != v => diffs.push(format!(
                "{} is {} in the file, {} given",
                escape(k, true),
                escape(v, false),
                escape(g, false)
            )),
            Some(_) => {}
        }
    }
    for (k, v) in given.iter() {
        if stored.get(k).is_none() {
            diffs.push(format!(
                "unexpected {}={}",
                escape(k, true),
                escape(v, false)
            ));
        }
    }
    if diffs.is_empty() {
        return e;
    }
    CliError::Auth(format!(
        "{e}: --context differs from the context stored in {} (not secret; `inspect` shows \
         it): {}",
        path.display(),
        diffs.join("; ")
    ))
}

/// The files a rewrap works on: each path as given, and with `recursive`
/// the regular files under each directory (sorted; symbolic links to
/// directories not followed), marked as found rather than named.
fn rewrap_targets(paths: &[PathBuf], recursive: bool) -> Result<Vec<(PathBuf, bool)>, CliError> {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, bool)>) -> Result<(), CliError> {
        let err = |e| CliError::io(&format!("cannot read the directory {}", dir.display()), e);
        let mut entries: Vec<PathBuf> = fs::read_dir(dir)
            .map_err(err)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()
            .map_err(err)?;
        entries.sort();
        for p in entries {
            match fs::symlink_metadata(&p) {
                Ok(m) if m.is_dir() => walk(&p, out)?,
                Ok(m) if m.is_file() => out.push((p, false)),
                _ => {}
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for p in paths {
        if recursive && fs::metadata(p).is_ok_and(|m| m.is_dir()) {
            walk(p, &mut out)?;
        } else {
            out.push((p.clone(), true));
        }
    }
    Ok(out)
}

/// Whether `path` starts with the envelope magic (FORMAT.md 7.1).
fn starts_like_an_envelope(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok_and(|()| magic == envelope::ENVELOPE_MAGIC)
}

/// `rewrap`: every file tried, each failure named, a summary at the end
/// (with `json`, one document instead of lines).
pub(crate) fn rewrap(
    keyring: &Keyring,
    paths: &[PathBuf],
    recursive: bool,
    check: bool,
    json: bool,
) -> Result<(), CliError> {
    use serde_json::{Value, json};
    let targets = rewrap_targets(paths, recursive)?;
    let (mut moved, mut current, mut skipped) = (0usize, 0usize, 0usize);
    let mut failed: Vec<(String, CliError)> = Vec::new();
    let mut tally: alloc::collections::BTreeMap<(String, u32, u32), usize> = Default::default();
    let mut docs: Vec<Value> = Vec::new();
    for (path, named) in &targets {
        let shown = path.display().to_string();
        if !named && !starts_like_an_envelope(path) {
            skipped += 1;
            docs.push(json!({"path": shown, "status": "skipped", "moves": []}));
            continue;
        }
        let result = if check {
            file::check_rewrap_envelope_file(keyring, path, &mut FastRng)
        } else {
            file::rewrap_envelope_file(keyring, path, &mut SysRng)
        };
        match result {
            Ok(moves) if moves.is_empty() => {
                current += 1;
                docs.push(json!({"path": shown, "status": "current", "moves": []}));
                if !json {
                    println!("{shown}: already at the primary versions, unchanged");
                }
            }
            Ok(moves) => {
                moved += 1;
                let mut what = Vec::new();
                let mut listed = Vec::new();
                for m in &moves {
                    let name = key_name(keyring, m.key_id);
                    let key = name.as_ref().map_or_else(
                        || format!("key {}", m.key_id),
                        |n| format!("key {n} ({})", m.key_id),
                    );
                    *tally.entry((key.clone(), m.from, m.to)).or_default() += 1;
                    what.push(format!("{key} v{} -> v{}", m.from, m.to));
                    listed.push(json!({
                        "key": name,
                        "key_id": m.key_id.to_string(),
                        "from": m.from,
                        "to": m.to,
                    }));
                }
                let status = if check { "would_move" } else { "moved" };
                docs.push(json!({"path": shown, "status": status, "moves": listed}));
                if !json {
                    let verb = if check { "would move " } else { "" };
                    println!("{shown}: {verb}{}", what.join(", "));
                }
            }
            Err(e) => {
                let kind = e.kind().name();
                let e = CliError::from(e);
                docs.push(json!({
                    "path": shown,
                    "status": "failed",
                    "moves": [],
                    "error": {"kind": kind, "message": e.to_string()},
                }));
                if !json {
                    eprintln!("strongroom: {e}");
                }
                failed.push((shown, e));
            }
        }
    }
    let total = moved + current + failed.len();
    if json {
        report::print(&json!({
            "check": check,
            "files": docs,
            "summary": {
                "files": total,
                "moved": moved,
                "current": current,
                "failed": failed.len(),
                "skipped": skipped,
            },
        }));
    } else {
        let verb = if check { "would move" } else { "moved" };
        let mut summary = format!(
            "rewrap: {total} files: {moved} {verb}, {current} already current, {} failed",
            failed.len()
        );
        if skipped > 0 {
            summary.push_str(&format!(", {skipped} skipped (not envelopes)"));
        }
        println!("{summary}");
        for ((key, from, to), n) in &tally {
            println!("  {key}: v{from} -> v{to} on {n} file(s)");
        }
    }
    match failed.first() {
        None => Ok(()),
        Some((_, first)) => {
            let names: Vec<&str> = failed.iter().map(|(n, _)| n.as_str()).collect();
            let message = format!(
                "{} of {total} files failed to rewrap: {}",
                failed.len(),
                names.join(", ")
            );
            Err(match first {
                CliError::Usage(_) => CliError::Usage(message),
                CliError::Auth(_) => CliError::Auth(message),
                CliError::Io(_) => CliError::Io(message),
                CliError::Other(_) => CliError::Other(message),
            })
        }
    }
}

/// The name of the key with id `id`, if the keyring has it.
fn key_name(keyring: &Keyring, id: strongroom::KeyId) -> Option<String> {
    keyring
        .keys()
        .into_iter()
        .find(|k| k.key_id == id)
        .map(|k| k.name)
}

fn inspect(path: &Path, json: bool) -> Result<(), CliError> {
    let info = file::inspect_envelope_file(path)?;
    if json {
        report::print(&report::envelope_json(&info));
        return Ok(());
    }
    println!("format: strongroom envelope v{}", info.format);
    println!(
        "chunk size: {} bytes, chunks: {}, plaintext: {} bytes",
        info.chunk_size, info.chunk_count, info.plaintext_len
    );
    for r in &info.recipients {
        match r.key {
            Some(k) => println!("recipient: key {} version {}", k.key_id, k.version),
            None => println!("recipient: standalone key"),
        }
    }
    for (k, v) in info.context.iter() {
        println!("context: {}={}", escape(k, true), escape(v, false));
    }
    Ok(())
}

/// A string from a file, safe to print: control characters (escape
/// sequences, newlines that would fake extra lines), Unicode format and
/// direction controls, `\` (and in a key, `=`) are written as escapes, so
/// what anyone put in a file's context cannot pose as output of ours.
pub(crate) fn escape(s: &str, key: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let invisible = matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}' | '\u{feff}');
        match c {
            '\\' => out.push_str("\\\\"),
            '=' if key => out.push_str("\\x3d"),
            c if c.is_control() || invisible => {
                let n = u32::from(c);
                if n < 0x100 {
                    out.push_str(&format!("\\x{n:02x}"));
                } else {
                    out.push_str(&format!("\\u{{{n:04x}}}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}
