//! Command-line arguments (clap).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// `--version`: the version, and the formats it reads and writes.
const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    "\nreads:  record v1 (binary and sr1: text), envelope v1 (binary and armored), \
     keyring file v1 and v2, key backup v1, data key v1",
    "\nwrites: record v1, envelope v1, keyring file v2, key backup v1 \
     (byte layouts: docs/FORMAT.md)"
);

#[derive(Debug, Parser)]
#[command(
    name = "strongroom",
    version,
    long_version = LONG_VERSION,
    about = "Encrypt secrets and files under a versioned keyring",
    after_help = "Global options (--keyring, the root: --key-file, --passphrase-file, \
                  --pkcs11-*, and --threads, --no-progress, --audit-log) work with every \
                  command: see --help. docs/CLI.md, and `strongroom man`, have the rules.\n\n\
                  Example:\n  strongroom keyring init --key files --key-file root.key\n  \
                  strongroom encrypt --key files -o dump.sql.sr dump.sql"
)]
pub(crate) struct Cli {
    /// The keyring file.
    #[arg(
        long,
        env = "STRONGROOM_KEYRING",
        default_value = "keyring.srk",
        global = true,
        hide_short_help = true,
        help_heading = "Global options"
    )]
    pub(crate) keyring: PathBuf,

    #[command(flatten)]
    pub(crate) root: RootArgs,

    /// Threads for encrypting and decrypting files (default: all cores).
    #[arg(
        long,
        env = "STRONGROOM_THREADS",
        global = true,
        hide_short_help = true,
        help_heading = "Global options"
    )]
    pub(crate) threads: Option<usize>,

    /// Never draw a progress bar (it is drawn only on a terminal, for
    /// files of 16 MiB or more).
    #[arg(
        long,
        global = true,
        hide_short_help = true,
        help_heading = "Global options"
    )]
    pub(crate) no_progress: bool,

    /// Append audit events (JSON lines) to this file.
    #[arg(
        long,
        env = "STRONGROOM_AUDIT_LOG",
        global = true,
        hide_short_help = true,
        help_heading = "Global options"
    )]
    pub(crate) audit_log: Option<PathBuf>,

    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The root that seals the keyring file. An existing file says which kind
/// it was sealed with, and the flag for that kind is used; with none of
/// them given, the passphrase is asked for on the terminal. `keyring init`
/// takes at most one and asks for a new passphrase when given none: the
/// embedded default is a local file sealed by a passphrase, with no
/// external service.
#[derive(Debug, Args)]
pub(crate) struct RootArgs {
    /// Read the passphrase from this file (first line).
    #[arg(
        long,
        env = "STRONGROOM_PASSPHRASE_FILE",
        global = true,
        hide_short_help = true,
        help_heading = "Global options"
    )]
    pub(crate) passphrase_file: Option<PathBuf>,

    /// Use this key file (32 bytes or 64 hex digits, mode 0600), e.g. a
    /// mounted secret.
    #[arg(
        long,
        env = "STRONGROOM_KEY_FILE",
        global = true,
        hide_short_help = true,
        help_heading = "Global options"
    )]
    pub(crate) key_file: Option<PathBuf>,

    #[command(flatten)]
    pub(crate) pkcs11: Pkcs11Args,

    /// Seal a new keyring with this OpenBao/Vault transit key (the server
    /// and token from VAULT_ADDR and VAULT_TOKEN, VAULT_TOKEN_FILE, or an
    /// AppRole; the BAO_ forms too). An existing keyring names its own key.
    #[arg(
        long,
        env = "STRONGROOM_VAULT_TRANSIT_KEY",
        global = true,
        hide_short_help = true,
        help_heading = "Global options"
    )]
    pub(crate) vault_transit_key: Option<String>,
    /// The transit engine's mount path, for a new keyring.
    #[arg(
        long,
        env = "STRONGROOM_VAULT_TRANSIT_MOUNT",
        global = true,
        hide_short_help = true,
        help_heading = "Global options",
        default_value = "transit"
    )]
    pub(crate) vault_transit_mount: String,
    /// Keep the keyring in this OpenBao/Vault KV v2 secret instead of a
    /// file, shared by every instance (`keyring init` with
    /// `--vault-transit-key` creates it).
    #[arg(
        long,
        env = "STRONGROOM_VAULT_KV_PATH",
        global = true,
        hide_short_help = true,
        help_heading = "Global options"
    )]
    pub(crate) vault_kv_path: Option<String>,
    /// The KV v2 engine's mount path.
    #[arg(
        long,
        env = "STRONGROOM_VAULT_KV_MOUNT",
        global = true,
        hide_short_help = true,
        help_heading = "Global options",
        default_value = "secret"
    )]
    pub(crate) vault_kv_mount: String,
}

/// A PKCS#11 root: an AES-256 key inside a token (an HSM).
#[derive(Debug, Args)]
pub(crate) struct Pkcs11Args {
    /// Seal with a key in a PKCS#11 token: the module (.so) to load.
    #[arg(
        long,
        env = "STRONGROOM_PKCS11_MODULE",
        global = true,
        hide_short_help = true,
        help_heading = "Global options"
    )]
    pub(crate) pkcs11_module: Option<PathBuf>,
    /// The token's label.
    #[arg(
        long,
        env = "STRONGROOM_PKCS11_TOKEN",
        global = true,
        hide_short_help = true,
        help_heading = "Global options"
    )]
    pub(crate) pkcs11_token: Option<String>,
    /// The label of the AES key that seals (for new seals; an existing file
    /// names its own key).
    #[arg(
        long,
        env = "STRONGROOM_PKCS11_KEY",
        global = true,
        hide_short_help = true,
        help_heading = "Global options",
        default_value = "strongroom-root"
    )]
    pub(crate) pkcs11_key: String,
    /// Read the user PIN from this file (first line); without it the PIN
    /// is asked for on the terminal.
    #[arg(
        long,
        env = "STRONGROOM_PKCS11_PIN_FILE",
        global = true,
        hide_short_help = true,
        help_heading = "Global options"
    )]
    pub(crate) pkcs11_pin_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create and inspect the keyring file.
    #[command(subcommand)]
    Keyring(KeyringCommand),
    /// Create, list and rotate keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Encrypt a file (or stdin) into an envelope.
    #[command(
        after_help = "Example:\n  strongroom encrypt --key files --context db=prod -o dump.sql.sr dump.sql\n  pg_dump db | strongroom encrypt --key files --key escrow > db.sr"
    )]
    Encrypt(EncryptArgs),
    /// Decrypt an envelope (file or stdin).
    #[command(
        after_help = "Example:\n  strongroom decrypt --context db=prod -o dump.sql dump.sql.sr"
    )]
    Decrypt(DecryptArgs),
    /// Encrypt, decrypt, rewrap or inspect `sr1:` records, the text form
    /// services store in database columns.
    #[command(subcommand)]
    Record(RecordCommand),
    /// Print an envelope's public header facts (no secrets, no key needed).
    #[command(after_help = "Example:\n  strongroom inspect --json dump.sql.sr")]
    Inspect {
        /// The envelope file (`/dev/stdin` for a pipe).
        input: PathBuf,
        /// Print JSON (docs/CLI.md, "JSON output").
        #[arg(long)]
        json: bool,
    },
    /// Print a shell completion script to stdout.
    #[command(
        after_help = "Example:\n  strongroom completions bash > /etc/bash_completion.d/strongroom"
    )]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) to stdout.
    #[command(after_help = "Example:\n  strongroom man > /usr/local/share/man/man1/strongroom.1")]
    Man,
    /// Move encrypted files to the primary key versions, in place: only the
    /// header is rewritten (atomically); the body bytes stay as they are.
    ///
    /// Every file is tried; each failure is named on stderr, and the exit
    /// code is non-zero if any failed. A summary of what moved ends the
    /// output.
    #[command(
        after_help = "Example:\n  strongroom key rotate files && strongroom rewrap -r backups/\n  strongroom rewrap --check --json *.sr"
    )]
    Rewrap {
        /// Envelope files (and, with -r, directories).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Descend into directories: every regular file under them that
        /// starts like an envelope (others are counted as skipped; symbolic
        /// links to directories are not followed).
        #[arg(short, long)]
        recursive: bool,
        /// Only say what would move; change nothing.
        #[arg(long)]
        check: bool,
        /// Print JSON (docs/CLI.md, "JSON output") instead of lines.
        #[arg(long)]
        json: bool,
    },
}

/// `record ...`: each takes its values as arguments or, with none, one per
/// line on stdin (a column export), and prints one result per line.
#[derive(Debug, Subcommand)]
pub(crate) enum RecordCommand {
    /// Encrypt values into `sr1:` records under the primary version of
    /// --key. Values given as arguments show in `ps` and shell history:
    /// prefer stdin for secrets.
    #[command(
        after_help = "Example:\n  strongroom record encrypt --key pii --context column=email < emails.txt > records.txt"
    )]
    Encrypt {
        /// The key.
        #[arg(long)]
        key: String,
        #[command(flatten)]
        opts: RecordOpts,
        /// The values (none: one per line on stdin).
        values: Vec<String>,
    },
    /// Decrypt `sr1:` records, one plaintext per line. A plaintext that
    /// holds a newline or is not UTF-8 needs --base64.
    #[command(
        after_help = "Example:\n  strongroom record decrypt --context column=email < records.txt"
    )]
    Decrypt {
        #[command(flatten)]
        opts: RecordOpts,
        /// The records (none: one per line on stdin).
        records: Vec<String>,
    },
    /// Move records to their key's primary version (same context);
    /// records already there are printed unchanged.
    #[command(
        after_help = "Example:\n  strongroom record rewrap --context column=email < records.txt > moved.txt"
    )]
    Rewrap {
        #[command(flatten)]
        opts: RecordOpts,
        /// The records (none: one per line on stdin).
        records: Vec<String>,
    },
    /// Print each record's public header: key id, version, plaintext
    /// length (no key needed).
    #[command(after_help = "Example:\n  strongroom record inspect --json \"sr1:AQAAAAE...\"")]
    Inspect {
        /// Print one JSON document (docs/CLI.md, "JSON output").
        #[arg(long)]
        json: bool,
        /// The records (none: one per line on stdin).
        records: Vec<String>,
    },
}

#[derive(Debug, Args)]
pub(crate) struct RecordOpts {
    /// Encryption context pair `k=v` (repeatable), the same for every
    /// record; decryption needs the same.
    #[arg(long = "context", value_name = "K=V")]
    pub(crate) context: Vec<String>,
    /// Plaintexts are standard base64 (with padding), in and out: for
    /// binary values and values with newlines.
    #[arg(long)]
    pub(crate) base64: bool,
}

/// A root for a new seal or a backup: at most one of these; with none, a
/// new passphrase is asked for on the terminal.
#[derive(Debug, Args)]
pub(crate) struct OtherRootArgs {
    /// The passphrase file of the other root.
    #[arg(long, conflicts_with_all = ["new_key_file", "new_pkcs11_token", "new_vault_transit_key"])]
    pub(crate) new_passphrase_file: Option<PathBuf>,
    /// The key file of the other root.
    #[arg(long, conflicts_with_all = ["new_pkcs11_token", "new_vault_transit_key"])]
    pub(crate) new_key_file: Option<PathBuf>,
    /// An OpenBao/Vault transit key for the other root (the server and
    /// token from VAULT_ADDR and VAULT_TOKEN, VAULT_TOKEN_FILE or an
    /// AppRole, as for `--vault-transit-key`).
    #[arg(long, conflicts_with = "new_pkcs11_token")]
    pub(crate) new_vault_transit_key: Option<String>,
    /// The transit engine's mount path for `--new-vault-transit-key`.
    #[arg(long, default_value = "transit")]
    pub(crate) new_vault_transit_mount: String,
    /// A PKCS#11 token for the other root (module and PIN as for the
    /// keyring's own: `--pkcs11-module`, `--pkcs11-pin-file` or a prompt).
    #[arg(long)]
    pub(crate) new_pkcs11_token: Option<String>,
    /// The label of the token key for the other root.
    #[arg(long, default_value = "strongroom-root")]
    pub(crate) new_pkcs11_key: String,
    /// Create that token key first (AES-256, sensitive, never extractable).
    #[arg(long, requires = "new_pkcs11_token")]
    pub(crate) new_pkcs11_create_key: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum KeyringCommand {
    /// Create a new keyring file (refuses to overwrite one).
    #[command(
        after_help = "Example:\n  strongroom keyring init --key files --key-file /run/secrets/root.key"
    )]
    Init {
        /// Create a first key with this name.
        #[arg(long)]
        key: Option<String>,
        /// With `--pkcs11-module`: create the token key first (AES-256,
        /// sensitive, never extractable).
        #[arg(long, requires = "pkcs11_module")]
        pkcs11_create_key: bool,
    },
    /// Show the keyring's root kind and keys (metadata only).
    #[command(after_help = "Example:\n  strongroom keyring info --json")]
    Info {
        /// Print JSON (docs/CLI.md, "JSON output").
        #[arg(long)]
        json: bool,
    },
    /// Re-seal the keyring under another root (keys unchanged).
    #[command(
        after_help = "Example:\n  strongroom keyring change-root --new-key-file new-root.key"
    )]
    ChangeRoot(OtherRootArgs),
    /// Accept the keyring file as it is although it is older than the
    /// newest generation recorded for it (a deliberate restore of a
    /// backup); it becomes the newest. Audited.
    #[command(after_help = "Example:\n  strongroom keyring accept-restore")]
    AcceptRestore,
}

#[derive(Debug, Subcommand)]
pub(crate) enum KeyCommand {
    /// Create a key.
    #[command(after_help = "Example:\n  strongroom key create pii --rotate-every-days 90")]
    Create {
        /// Key name, e.g. `pii` or `tenant/acme`.
        name: String,
        /// Rotation period in days (`key rotate --due` honours it).
        #[arg(long)]
        rotate_every_days: Option<u64>,
    },
    /// List keys, versions, states, dates and the next rotation due.
    #[command(after_help = "Example:\n  strongroom key list --json")]
    List {
        /// Print JSON (docs/CLI.md, "JSON output").
        #[arg(long)]
        json: bool,
    },
    /// Add a new primary version to a key, or to every key that is due.
    #[command(
        after_help = "Example:\n  strongroom key rotate pii\n  strongroom key rotate --due --dry-run"
    )]
    Rotate {
        /// The key (omit with --due).
        #[arg(required_unless_present = "due")]
        name: Option<String>,
        /// Rotate every key whose rotation period has passed.
        #[arg(long, conflicts_with = "name")]
        due: bool,
        /// With --due: only list the keys that are due; change nothing.
        #[arg(long, requires = "due")]
        dry_run: bool,
    },
    /// Set a key's rotation period in days, or `never` to clear it
    /// (`key rotate --due` honours it).
    #[command(
        after_help = "Example:\n  strongroom key set-rotation pii 30\n  strongroom key set-rotation pii never"
    )]
    SetRotation {
        name: String,
        /// Days (at least 1), or `never`.
        #[arg(value_name = "DAYS|never")]
        period: String,
    },
    /// Disable a version (reversible).
    #[command(after_help = "Example:\n  strongroom key disable pii 1")]
    Disable { name: String, version: u32 },
    /// Enable a disabled version.
    #[command(after_help = "Example:\n  strongroom key enable pii 1")]
    Enable { name: String, version: u32 },
    /// Destroy a version: its material is wiped and data under it is gone.
    /// Earlier copies of the keyring file still hold it until the root
    /// changes: `--change-root` re-seals under a new root in the same save
    /// and retires the old one (a PKCS#11 token key is destroyed).
    #[command(
        after_help = "Example:\n  strongroom key destroy pii 1\n  strongroom key destroy --yes pii 1 --change-root --new-key-file new-root.key"
    )]
    Destroy {
        name: String,
        version: u32,
        /// Do not ask for confirmation (required without a terminal).
        #[arg(long, short = 'y')]
        yes: bool,
        /// Re-seal under the root given by `--new-*` (or a new passphrase)
        /// in the same save, and retire the old root.
        #[arg(long)]
        change_root: bool,
        #[command(flatten)]
        root: OtherRootArgs,
    },
    /// Refuse to decrypt data under versions below this one.
    #[command(after_help = "Example:\n  strongroom key set-min-version pii 2")]
    SetMinVersion { name: String, version: u32 },
    /// Write a backup of one key (all versions), sealed under its own root.
    #[command(
        after_help = "Example:\n  strongroom key backup pii -o pii.backup --new-key-file transport.key"
    )]
    Backup {
        name: String,
        /// The backup file (never an existing file without --force).
        #[arg(short, long)]
        output: PathBuf,
        /// Replace the backup file if it exists.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        root: OtherRootArgs,
    },
    /// Import a key from a backup.
    #[command(
        after_help = "Example:\n  strongroom key import pii.backup --new-key-file transport.key"
    )]
    Import {
        /// The backup file.
        input: PathBuf,
        #[command(flatten)]
        root: OtherRootArgs,
    },
}

#[derive(Debug, Args)]
pub(crate) struct EncryptArgs {
    /// A key to encrypt for (its primary version). Repeat it, up to 16
    /// times, for a file that any one of the keys opens (a local key and
    /// an escrow key, say).
    #[arg(long, required = true)]
    pub(crate) key: Vec<String>,
    /// Write binary ciphertext to a terminal anyway (refused otherwise).
    #[arg(long)]
    pub(crate) force: bool,
    /// Write the armored (text) form (FORMAT.md 12): base64 lines between
    /// BEGIN and END lines, for email or config files. `decrypt` and
    /// `inspect` read either form.
    #[arg(long, short = 'a')]
    pub(crate) armor: bool,
    /// Encryption context pair `k=v` (repeatable); decryption needs the same.
    #[arg(long = "context", value_name = "K=V")]
    pub(crate) context: Vec<String>,
    /// Output file (default: stdout).
    #[arg(short, long)]
    pub(crate) output: Option<PathBuf>,
    /// Input file (default or `-`: stdin).
    pub(crate) input: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct DecryptArgs {
    /// Encryption context pair `k=v` (repeatable), as given at encryption.
    #[arg(long = "context", value_name = "K=V")]
    pub(crate) context: Vec<String>,
    /// Output file (default: stdout).
    #[arg(short, long)]
    pub(crate) output: Option<PathBuf>,
    /// Input file (default or `-`: stdin).
    pub(crate) input: Option<PathBuf>,
}
