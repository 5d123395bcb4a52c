//! The command line's one error type and its exit codes.

use core::fmt;
use std::io;

use strongroom::store::StoreError;

/// What went wrong, by the exit code it maps to.
#[derive(Debug)]
pub(crate) enum CliError {
    /// Exit 2: the command line itself is wrong.
    Usage(String),
    /// Exit 3: authentication failed.
    Auth(String),
    /// Exit 4: a file could not be read or written.
    Io(String),
    /// Exit 1: anything else.
    Other(String),
}

impl CliError {
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Self::Other(_) => 1,
            Self::Usage(_) => 2,
            Self::Auth(_) => 3,
            Self::Io(_) => 4,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(m) | Self::Auth(m) | Self::Io(m) | Self::Other(m) => f.write_str(m),
        }
    }
}

impl From<strongroom::Error> for CliError {
    fn from(e: strongroom::Error) -> Self {
        match e {
            strongroom::Error::AuthenticationFailed => Self::Auth(e.to_string()),
            _ => Self::Other(e.to_string()),
        }
    }
}

impl From<StoreError> for CliError {
    fn from(e: StoreError) -> Self {
        let message = e.to_string();
        match e {
            StoreError::Io { .. }
            | StoreError::NotFound { .. }
            | StoreError::AlreadyExists { .. } => Self::Io(message),
            StoreError::Keyring {
                source: strongroom::Error::AuthenticationFailed,
                ..
            } => Self::Auth(message),
            StoreError::Rejected(inner) => Self::from(inner),
            _ => Self::Other(message),
        }
    }
}

impl CliError {
    /// An I/O error on `what`; a wrapped core error keeps its own class.
    pub(crate) fn io(what: &str, e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::InvalidData
            && let Some(core) = e
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<strongroom::Error>())
        {
            return Self::from(core.clone());
        }
        Self::Io(format!("{what}: {e}"))
    }
}
