//! Output that never leaves a partial file: a temp file beside the target
//! (mode 0600), renamed into place only when everything succeeded, removed
//! otherwise. Standard output streams instead (and only ever receives
//! authenticated plaintext).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::error::CliError;

pub(crate) enum Output {
    Stdout(io::Stdout),
    File {
        tmp: PathBuf,
        target: PathBuf,
        file: Option<File>,
    },
}

impl Output {
    pub(crate) fn open(target: Option<&Path>) -> Result<Self, CliError> {
        let Some(target) = target else {
            return Ok(Self::Stdout(io::stdout()));
        };
        let dir = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = dir.join(format!(".{name}.{}.partial", std::process::id()));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|e| CliError::io(&format!("cannot create {}", tmp.display()), e))?;
        Ok(Self::File {
            tmp,
            target: target.to_path_buf(),
            file: Some(file),
        })
    }

    /// Makes the output permanent.
    pub(crate) fn commit(mut self) -> Result<(), CliError> {
        match &mut self {
            Self::Stdout(out) => out
                .flush()
                .map_err(|e| CliError::io("cannot write to stdout", e)),
            Self::File { tmp, target, file } => {
                if let Some(f) = file.take() {
                    f.sync_all()
                        .map_err(|e| CliError::io(&format!("cannot write {}", tmp.display()), e))?;
                }
                fs::rename(&*tmp, &*target)
                    .map_err(|e| CliError::io(&format!("cannot write {}", target.display()), e))?;
                tmp.clear();
                Ok(())
            }
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::Stdout(out) => out.write(buf),
            Self::File { file: Some(f), .. } => f.write(buf),
            Self::File { file: None, .. } => Err(io::Error::other("output already committed")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Stdout(out) => out.flush(),
            Self::File { file: Some(f), .. } => f.flush(),
            Self::File { file: None, .. } => Ok(()),
        }
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        // Not committed: remove the partial file.
        if let Self::File { tmp, .. } = self
            && !tmp.as_os_str().is_empty()
        {
            let _ = fs::remove_file(&*tmp);
        }
    }
}
