//! Where output goes, never destroying what the path names:
//!
//! - no `-o`, or `-o -`: standard output;
//! - an existing path that is not a regular file (a FIFO, a terminal, a
//!   device), and any path under `/dev/` or `/proc/` (`/dev/stdout`,
//!   `/dev/fd/3`): opened and written as it is, never replaced;
//! - anything else: the core's atomic file (`strongroom::file::AtomicFile`:
//!   an unnamed temp file, renamed over the target only when complete; a
//!   symbolic link is followed and kept).
//!
//! The keyring file, its lock and its generation file are refused as
//! outputs. Streams (standard output, FIFOs, devices) receive decrypted
//! bytes only once each chunk has authenticated, but a later chunk can
//! still fail: docs/CLI.md says so.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use strongroom::file::AtomicFile;

use crate::error::CliError;

pub(crate) enum Output {
    Stdout(io::Stdout),
    Direct(File, PathBuf),
    File(AtomicFile),
}

/// `path` made absolute with its directory resolved (the file itself need
/// not exist), for comparing names.
fn absolute(path: &Path) -> Option<PathBuf> {
    if let Ok(p) = fs::canonicalize(path) {
        return Some(p);
    }
    let name = path.file_name()?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    Some(fs::canonicalize(dir).ok()?.join(name))
}

/// Whether `a` and `b` name the same file: the same inode when both exist,
/// else the same resolved path.
fn same_file(a: &Path, b: &Path) -> bool {
    if let (Ok(x), Ok(y)) = (fs::metadata(a), fs::metadata(b)) {
        return x.dev() == y.dev() && x.ino() == y.ino();
    }
    matches!((absolute(a), absolute(b)), (Some(x), Some(y)) if x == y)
}

/// What `-o PATH` means for `path`.
enum Kind {
    Stdout,
    Stream,
    File,
}

/// A name of an already open descriptor (`/dev/stdout`, `/dev/fd/3`):
/// written in place even when it resolves to a regular file (a shell's
/// `> file` or `>> file` behind it), never replaced.
fn is_descriptor_alias(path: &Path) -> bool {
    path == Path::new("/dev/stdout")
        || path == Path::new("/dev/stderr")
        || path.starts_with("/dev/fd/")
}

fn kind(path: &Path) -> Kind {
    if path == Path::new("-") {
        return Kind::Stdout;
    }
    // Nothing under /proc is a file to create. Other paths under /dev are
    // what they are: devices and FIFOs are streams; a file on /dev/shm
    // (tmpfs) is a file.
    if is_descriptor_alias(path) || path.starts_with("/proc/") {
        return Kind::Stream;
    }
    match fs::metadata(path) {
        Ok(m) if !m.is_file() => Kind::Stream,
        _ => Kind::File,
    }
}

impl Output {
    /// The output for `target` (None: standard output), refusing any of
    /// `protected` and, unless `replace`, an existing regular file.
    pub(crate) fn open(
        target: Option<&Path>,
        protected: &[PathBuf],
        replace: bool,
    ) -> Result<Self, CliError> {
        let Some(target) = target else {
            return Ok(Self::Stdout(io::stdout()));
        };
        if let Some(p) = protected.iter().find(|p| same_file(target, p)) {
            return Err(CliError::Usage(format!(
                "refusing to write over {} (the keyring's own file {}): name another output",
                target.display(),
                p.display()
            )));
        }
        match kind(target) {
            Kind::Stdout => Ok(Self::Stdout(io::stdout())),
            Kind::Stream => {
                // Append: a shell's `>>` behind /dev/stdout stays an append;
                // FIFOs and devices ignore it.
                let f = OpenOptions::new()
                    .append(true)
                    .open(target)
                    .map_err(|e| CliError::io(&format!("cannot write {}", target.display()), e))?;
                Ok(Self::Direct(f, target.to_path_buf()))
            }
            Kind::File => {
                if !replace && fs::symlink_metadata(target).is_ok() {
                    return Err(CliError::Usage(format!(
                        "{} exists: remove it first, or pass --force to replace it",
                        target.display()
                    )));
                }
                Ok(Self::File(AtomicFile::create(target)?))
            }
        }
    }

    /// Makes the output permanent.
    pub(crate) fn commit(self) -> Result<(), CliError> {
        match self {
            Self::Stdout(mut out) => out
                .flush()
                .map_err(|e| CliError::io("cannot write to stdout", e)),
            Self::Direct(mut f, path) => f
                .flush()
                .map_err(|e| CliError::io(&format!("cannot write {}", path.display()), e)),
            Self::File(file) => Ok(file.commit()?),
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::Stdout(out) => out.write(buf),
            Self::Direct(f, _) => f.write(buf),
            Self::File(f) => f.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Stdout(out) => out.flush(),
            Self::Direct(f, _) => f.flush(),
            Self::File(f) => f.flush(),
        }
    }
}
