//! What each subcommand does.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use strongroom::audit::JsonLinesSink;
use strongroom::envelope::{
    self, DEFAULT_CHUNK_SIZE, EnvelopeReader, EnvelopeWriter, Opener, Recipient,
};
use strongroom::store::KeyringStore;
use strongroom::{EncryptionContext, Keyring, SysRng, Timestamp, VersionState};

use crate::args::{Cli, Command, DecryptArgs, EncryptArgs, KeyCommand, KeyringCommand};
use crate::error::CliError;
use crate::output::Output;
use crate::root;

pub(crate) fn run(cli: Cli) -> Result<(), CliError> {
    if let Command::Inspect { input } = &cli.command {
        return inspect(input);
    }
    let root = root::load(&cli.root)?;
    let store = KeyringStore::new(&cli.keyring, root.as_ref());
    let audit = cli.audit_log.as_deref();
    match cli.command {
        Command::Keyring(KeyringCommand::Init { key }) => {
            let mut keyring = Keyring::new();
            if let Some(name) = &key {
                keyring.create_key(name)?;
            }
            store.create(&keyring)?;
            println!(
                "created keyring {} ({})",
                cli.keyring.display(),
                root.root_kind()
            );
            Ok(())
        }
        Command::Keyring(KeyringCommand::Info) => {
            let keyring = store.load()?;
            println!(
                "keyring {}: sealed with a {}, {} keys",
                cli.keyring.display(),
                root.root_kind(),
                keyring.len()
            );
            list(&keyring);
            Ok(())
        }
        Command::Key(cmd) => key_command(&store, audit, cmd),
        Command::Encrypt(args) => encrypt(&store, audit, &args),
        Command::Decrypt(args) => decrypt(&store, audit, &args),
        Command::Inspect { .. } => Ok(()),
    }
}

fn with_audit(keyring: &mut Keyring, audit: Option<&Path>) -> Result<(), CliError> {
    if let Some(path) = audit {
        let sink = JsonLinesSink::open(path)
            .map_err(|e| CliError::io(&format!("cannot open {}", path.display()), e))?;
        keyring.set_audit(Box::new(sink), Timestamp::now);
    }
    Ok(())
}

fn key_command(
    store: &KeyringStore<'_>,
    audit: Option<&Path>,
    cmd: KeyCommand,
) -> Result<(), CliError> {
    if let KeyCommand::List = cmd {
        list(&store.load()?);
        return Ok(());
    }
    let mut audit_error = None;
    let message = store.update(|keyring| {
        if let Err(e) = with_audit(keyring, audit) {
            audit_error = Some(e);
            return Err(strongroom::Error::InvalidArgument {
                reason: "audit log",
            });
        }
        match &cmd {
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
            KeyCommand::Destroy { name, version } => {
                keyring.destroy_version(name, *version)?;
                Ok(format!(
                    "destroyed {name} version {version}: data under it is unrecoverable"
                ))
            }
            KeyCommand::SetMinVersion { name, version } => {
                keyring.set_min_decryption_version(name, *version)?;
                Ok(format!("{name}: minimum decryption version is {version}"))
            }
            KeyCommand::List => Ok(String::new()),
        }
    });
    if let Some(e) = audit_error {
        return Err(e);
    }
    println!("{}", message?);
    Ok(())
}

fn state_name(s: VersionState) -> &'static str {
    match s {
        VersionState::Enabled => "enabled",
        VersionState::Disabled => "disabled",
        VersionState::Destroyed => "destroyed",
        _ => "unknown",
    }
}

fn list(keyring: &Keyring) {
    for k in keyring.keys() {
        let versions: Vec<String> = k
            .versions
            .iter()
            .map(|v| format!("v{} {}", v.version, state_name(v.state)))
            .collect();
        let period = k.rotation_period_seconds.map_or(String::new(), |s| {
            format!(", rotate every {} days", s / 86_400)
        });
        println!(
            "{}  id {}  primary v{}  min v{}  [{}]{period}",
            k.name,
            k.key_id,
            k.primary_version,
            k.min_decryption_version,
            versions.join(", ")
        );
    }
}

fn context(pairs: &[String]) -> Result<EncryptionContext, CliError> {
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

fn input(path: Option<&Path>) -> Result<Box<dyn Read>, CliError> {
    match path {
        None => Ok(Box::new(io::stdin().lock())),
        Some(p) if p == Path::new("-") => Ok(Box::new(io::stdin().lock())),
        Some(p) => {
            let f = File::open(p)
                .map_err(|e| CliError::io(&format!("cannot read {}", p.display()), e))?;
            Ok(Box::new(f))
        }
    }
}

fn encrypt(
    store: &KeyringStore<'_>,
    audit: Option<&Path>,
    args: &EncryptArgs,
) -> Result<(), CliError> {
    let mut keyring = store.load()?;
    with_audit(&mut keyring, audit)?;
    let ctx = context(&args.context)?;
    let mut reader = input(args.input.as_deref())?;
    let out = Output::open(args.output.as_deref())?;
    let recipients = [Recipient::Key {
        keyring: &keyring,
        name: &args.key,
    }];
    let mut writer = EnvelopeWriter::new(out, &recipients, &ctx, DEFAULT_CHUNK_SIZE, &mut SysRng)
        .map_err(|e| CliError::io("cannot start the envelope", e))?;
    io::copy(&mut reader, &mut writer).map_err(|e| CliError::io("cannot encrypt", e))?;
    let out = writer
        .finish()
        .map_err(|e| CliError::io("cannot finish the envelope", e))?;
    out.commit()
}

fn decrypt(
    store: &KeyringStore<'_>,
    audit: Option<&Path>,
    args: &DecryptArgs,
) -> Result<(), CliError> {
    let mut keyring = store.load()?;
    with_audit(&mut keyring, audit)?;
    let ctx = context(&args.context)?;
    let reader = input(args.input.as_deref())?;
    let mut out = Output::open(args.output.as_deref())?;
    let mut plain = EnvelopeReader::new(reader, Opener::Keyring(&keyring), &ctx);
    io::copy(&mut plain, &mut out).map_err(|e| CliError::io("cannot decrypt", e))?;
    out.commit()
}

fn inspect(path: &Path) -> Result<(), CliError> {
    let mut f = File::open(path)
        .map_err(|e| CliError::io(&format!("cannot read {}", path.display()), e))?;
    let total = f
        .metadata()
        .map_err(|e| CliError::io(&format!("cannot stat {}", path.display()), e))?
        .len();
    let mut head = Vec::new();
    (&mut f)
        .take(envelope::MAX_HEADER_LEN as u64)
        .read_to_end(&mut head)
        .map_err(|e| CliError::io(&format!("cannot read {}", path.display()), e))?;
    let info = envelope::inspect_header(&head, total)?;
    println!("format: strongroom envelope v{}", info.format);
    println!(
        "chunk size: {} bytes, chunks: {}, plaintext: {} bytes",
        info.chunk_size, info.chunk_count, info.plaintext_len
    );
    for r in &info.recipients {
        match r.key {
            Some((id, v)) => println!("recipient: key {id} version {v}"),
            None => println!("recipient: standalone key"),
        }
    }
    for (k, v) in info.context.iter() {
        println!("context: {k}={v}");
    }
    Ok(())
}
