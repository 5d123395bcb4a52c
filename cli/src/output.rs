//! Output that never leaves a partial file: the core's atomic file
//! (`strongroom::file::AtomicFile`) for a named path; standard output
//! streams instead (and only ever receives authenticated plaintext).

use std::io::{self, Write};
use std::path::Path;

use strongroom::file::AtomicFile;

use crate::error::CliError;

pub(crate) enum Output {
    Stdout(io::Stdout),
    File(AtomicFile),
}

impl Output {
    pub(crate) fn open(target: Option<&Path>) -> Result<Self, CliError> {
        match target {
            None => Ok(Self::Stdout(io::stdout())),
            Some(target) => Ok(Self::File(AtomicFile::create(target)?)),
        }
    }

    /// Makes the output permanent.
    pub(crate) fn commit(self) -> Result<(), CliError> {
        match self {
            Self::Stdout(mut out) => out
                .flush()
                .map_err(|e| CliError::io("cannot write to stdout", e)),
            Self::File(file) => Ok(file.commit()?),
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::Stdout(out) => out.write(buf),
            Self::File(f) => f.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Stdout(out) => out.flush(),
            Self::File(f) => f.flush(),
        }
    }
}
