//! Time as the core sees it: a caller-supplied count of seconds.

use core::fmt;

/// A point in time, in whole seconds since the Unix epoch (UTC).
///
/// The no_std core never reads a clock: callers pass a `Timestamp`. With the
/// `std` feature, [`Timestamp::now`] reads the system clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(u64);

impl Timestamp {
    /// A timestamp from seconds since the Unix epoch.
    pub const fn from_unix_seconds(seconds: u64) -> Self {
        Self(seconds)
    }

    /// Seconds since the Unix epoch.
    pub const fn as_unix_seconds(self) -> u64 {
        self.0
    }

    /// The system clock (a clock before 1970 reads as the epoch).
    #[cfg(feature = "std")]
    pub fn now() -> Self {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Self(since.as_secs())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
