//! The std file plumbing every file-touching module shares (keyring store,
//! key files, envelope files): the file layer's error type, bounded reads,
//! owner-only exclusive creation and unpredictable temp names. Kept apart
//! so that `store`, `root` and `file` depend on it and not on each other.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorKind};
use crate::secret::SecretBytes;

/// Errors of the file layer.
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// A file operation failed.
    Io {
        /// What was being done.
        op: &'static str,
        /// On which path.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The file's contents were refused by the core (corrupt, truncated,
    /// wrong root, wrong passphrase, ...).
    Keyring {
        /// The keyring file.
        path: PathBuf,
        /// Why.
        source: Error,
    },
    /// A file's contents were refused by the core (an envelope file that
    /// is malformed, or whose header does not open).
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        source: Error,
    },
    /// The keyring file does not exist.
    NotFound {
        /// The path.
        path: PathBuf,
    },
    /// The keyring file exists already (on create).
    AlreadyExists {
        /// The path.
        path: PathBuf,
    },
    /// A secret file (key, passphrase, PIN) is readable or writable by
    /// group or others.
    InsecurePermissions {
        /// The secret file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A secret file is refused for another reason: it is a symbolic link,
    /// not a regular file, or owned by another user.
    InsecureSecretFile {
        /// The secret file.
        path: PathBuf,
        /// Why, in public terms.
        reason: String,
    },
    /// Another process holds the keyring's lock (from
    /// [`KeyringStore::try_update`](crate::store::KeyringStore::try_update)).
    Locked {
        /// The lock file.
        path: PathBuf,
    },
    /// The keyring file is older than the newest one seen for it (a
    /// restored backup, a snapshot, a rolled-back copy), or another keyring
    /// than the one recorded for its path. Such a file can bring destroyed
    /// versions back, so it is refused until
    /// [`KeyringStore::accept_restore`](crate::store::KeyringStore::accept_restore)
    /// accepts it on purpose.
    Rollback {
        /// The keyring file.
        path: PathBuf,
        /// The file's generation (0 for a version-1 file, which has none).
        found: u64,
        /// The newest generation seen.
        newest: u64,
        /// Who recorded `newest`: "this process", "the generation file" or
        /// "the PKCS#11 token".
        witness: &'static str,
        /// The file is another keyring (another keyring id) than the one
        /// recorded.
        other_keyring: bool,
    },
    /// A keyring kept on a server (a Vault / OpenBao KV v2 secret) could
    /// not be read or written: the server is unreachable or sealed, the
    /// token is denied, the secret is missing, a check-and-set conflict
    /// outlasted the retries, or the keyring read is refused. The error
    /// names the server and the operation.
    Remote(Error),
    /// The change function refused (nothing was written).
    Rejected(Error),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { op, path, source } => write!(f, "cannot {op} {}: {source}", path.display()),
            Self::Keyring { path, source } => {
                write!(f, "cannot open keyring {}: {source}", path.display())
            }
            Self::File { path, source } => write!(f, "{}: {source}", path.display()),
            Self::NotFound { path } => write!(f, "no keyring at {}", path.display()),
            Self::AlreadyExists { path } => {
                write!(f, "a keyring already exists at {}", path.display())
            }
            Self::InsecureSecretFile { path, reason } => {
                write!(f, "secret file {} is refused: {reason}", path.display())
            }
            Self::InsecurePermissions { path, mode } => write!(
                f,
                "secret file {} is accessible by group or others (mode {:04o}); restrict it with `chmod 600 {}` \
                 (Docker: secret `mode: 0400`; Kubernetes: `defaultMode: 0400`)",
                path.display(),
                mode & 0o7777,
                path.display()
            ),
            Self::Locked { path } => write!(
                f,
                "the keyring is locked by another process ({}); try again when it is done",
                path.display()
            ),
            Self::Rollback {
                path,
                found,
                newest,
                witness,
                other_keyring,
            } => {
                if *other_keyring {
                    write!(
                        f,
                        "refusing keyring {}: it is another keyring (generation {found}) than \
                         the one {witness} recorded for this path (generation {newest})",
                        path.display()
                    )?;
                } else {
                    write!(
                        f,
                        "refusing keyring {}: it is generation {found}, older than generation \
                         {newest} that {witness} recorded",
                        path.display()
                    )?;
                }
                write!(
                    f,
                    "; a restored or rolled-back copy can bring destroyed key versions back. \
                     If the restore is deliberate, accept it with `strongroom keyring \
                     accept-restore` (audited)"
                )
            }
            Self::Rejected(e) | Self::Remote(e) => write!(f, "{e}"),
        }
    }
}

impl StoreError {
    /// This error's public kind: a core error inside keeps its own kind.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Io { .. } => ErrorKind::Io,
            Self::Keyring { source, .. }
            | Self::File { source, .. }
            | Self::Rejected(source)
            | Self::Remote(source) => source.kind(),
            Self::NotFound { .. } => ErrorKind::NotFound,
            Self::AlreadyExists { .. } => ErrorKind::AlreadyExists,
            Self::InsecurePermissions { .. } | Self::InsecureSecretFile { .. } => {
                ErrorKind::InsecurePermissions
            }
            Self::Locked { .. } => ErrorKind::Locked,
            Self::Rollback { .. } => ErrorKind::Rollback,
        }
    }
}

impl core::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            Self::Keyring { source, .. }
            | Self::File { source, .. }
            | Self::Rejected(source)
            | Self::Remote(source) => Some(source),
            _ => None,
        }
    }
}

/// The error for a failed `op` on `path`.
pub(crate) fn io_err<'a>(
    op: &'static str,
    path: &'a Path,
) -> impl FnOnce(io::Error) -> StoreError + 'a {
    move |source| StoreError::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}

/// Reads a whole file, refusing files larger than `max` before reading.
pub(crate) fn read_bounded(path: &Path, max: usize) -> Result<Vec<u8>, StoreError> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(StoreError::NotFound {
                path: path.to_path_buf(),
            });
        }
        Err(e) => return Err(io_err("open", path)(e)),
    };
    let len = file.metadata().map_err(io_err("stat", path))?.len();
    if len > max as u64 {
        return Err(StoreError::Keyring {
            path: path.to_path_buf(),
            source: Error::TooLarge {
                what: "keyring file length",
                max,
            },
        });
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(max as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(io_err("read", path))?;
    Ok(bytes)
}

/// Reads a secret file (a key file, a passphrase or PIN file) under the one
/// rule for all of them: opened without following a symbolic link
/// (`O_NOFOLLOW`), then checked on the open descriptor (`fstat`, so nothing
/// can swap the file between check and read): a regular file, owned by
/// this process's effective user, with no access for group or others, at
/// most `max` bytes. The bytes come back in a wiping buffer sized once.
pub(crate) fn read_secret_file(path: &Path, max: usize) -> Result<SecretBytes, StoreError> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let refuse = |reason: String| StoreError::InsecureSecretFile {
        path: path.to_path_buf(),
        reason,
    };
    let mut file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => refuse(String::from(
                "it is a symbolic link; name the file itself (in Kubernetes, mount the secret with subPath)",
            )),
            _ => io_err("open", path)(e),
        })?;
    let meta = file.metadata().map_err(io_err("stat", path))?;
    if !meta.file_type().is_file() {
        return Err(refuse(String::from("it is not a regular file")));
    }
    let euid = crate::secure_memory::effective_uid();
    if meta.uid() != euid {
        return Err(refuse(alloc::format!(
            "it is owned by uid {}, not by this process's user (uid {euid}); chown it",
            meta.uid()
        )));
    }
    let mode = meta.permissions().mode();
    if mode & 0o077 != 0 {
        return Err(StoreError::InsecurePermissions {
            path: path.to_path_buf(),
            mode,
        });
    }
    let len = usize::try_from(meta.len()).unwrap_or(usize::MAX);
    if len > max {
        return Err(StoreError::File {
            path: path.to_path_buf(),
            source: Error::TooLarge {
                what: "secret file length",
                max,
            },
        });
    }
    let mut out = SecretBytes::zeroed(len);
    file.read_exact(out.expose_secret_mut())
        .map_err(io_err("read", path))?;
    Ok(out)
}

/// Creates `path`, which must not exist, readable and writable by its
/// owner only.
pub(crate) fn create_private(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

/// The directory a file is in (`.` for a bare name).
pub(crate) fn dir_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// `.NAME.<16 random hex digits>.EXT` beside `target`: a temp name nobody
/// can predict (so nobody can pre-create it).
pub(crate) fn temp_path_beside(target: &Path, ext: &str) -> Result<PathBuf, StoreError> {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut suffix = [0u8; 8];
    getrandom::fill(&mut suffix).map_err(|_| StoreError::Rejected(Error::RandomnessUnavailable))?;
    let hex: String = suffix.iter().map(|b| alloc::format!("{b:02x}")).collect();
    Ok(dir_of(target).join(alloc::format!(".{name}.{hex}.{ext}")))
}
