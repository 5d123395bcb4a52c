//! The command line's one error type and its exit codes.

use core::fmt;
use std::io;

use strongroom::ErrorKind;
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

impl CliError {
    /// The exit-code class of a core error kind (the one mapping from the
    /// core's numbered table to exit codes).
    fn from_kind(kind: ErrorKind, message: String) -> Self {
        match kind {
            ErrorKind::AuthenticationFailed => Self::Auth(message),
            ErrorKind::Io | ErrorKind::NotFound | ErrorKind::AlreadyExists => Self::Io(message),
            _ => Self::Other(message),
        }
    }
}

impl CliError {
    /// A core error about `what` (`record 3`), in its class.
    pub(crate) fn from_core_for(what: &str, e: strongroom::Error) -> Self {
        Self::from_kind(e.kind(), format!("{what}: {e}"))
    }
}

impl From<strongroom::Error> for CliError {
    fn from(e: strongroom::Error) -> Self {
        Self::from_kind(e.kind(), e.to_string())
    }
}

impl From<StoreError> for CliError {
    fn from(e: StoreError) -> Self {
        let message = match &e {
            // A refused change reads as the core's own message.
            StoreError::Rejected(inner) => inner.to_string(),
            _ => e.to_string(),
        };
        Self::from_kind(e.kind(), message)
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
