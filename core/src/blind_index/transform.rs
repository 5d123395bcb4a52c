//! The transforms a blind index applies to a field before hashing
//! (FORMAT.md 13.3). Every intermediate string is PII: it lives in a
//! [`Text`], which wipes each buffer it outgrows and itself on drop.

use alloc::string::String;
use core::fmt;

use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

use super::casefold_table::CASE_FOLDING;
use crate::error::{Error, Result};

/// The Unicode version of the case-folding table (FORMAT.md 13.3).
pub const CASE_FOLDING_UNICODE_VERSION: &str = super::casefold_table::UNICODE_VERSION;

/// One normalisation step of a blind-index field (FORMAT.md 13.3), applied
/// in the order the definition lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Transform {
    /// Removes leading and trailing Unicode `White_Space` characters.
    Trim,
    /// Unicode Normalization Form C.
    Nfc,
    /// Full Unicode case folding between NFD and NFC, so canonically
    /// equivalent strings that differ only in case give the same output.
    Casefold,
    /// Keeps the ASCII digits `0`-`9` and drops everything else.
    Digits,
    /// Keeps the first N characters (Unicode scalar values), 1 to 65535.
    First(u16),
    /// Keeps the last N characters (Unicode scalar values), 1 to 65535.
    Last(u16),
}

impl Transform {
    /// Parses the text name of a transform: `trim`, `nfc`, `casefold`,
    /// `digits`, `first:N` or `last:N` (N decimal, 1 to 65535, no leading
    /// zero).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for anything else.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = || Error::InvalidArgument {
            reason: "a transform is trim, nfc, casefold, digits, first:N or last:N (N from 1 to 65535)",
        };
        match text {
            "trim" => return Ok(Self::Trim),
            "nfc" => return Ok(Self::Nfc),
            "casefold" => return Ok(Self::Casefold),
            "digits" => return Ok(Self::Digits),
            _ => {}
        }
        let (kind, n) = text.split_once(':').ok_or_else(bad)?;
        let canonical = !n.is_empty()
            && n.len() <= 5
            && n.bytes().all(|b| b.is_ascii_digit())
            && !n.starts_with('0');
        let n: u16 = if canonical {
            n.parse().map_err(|_| bad())?
        } else {
            return Err(bad());
        };
        match kind {
            "first" => Ok(Self::First(n)),
            "last" => Ok(Self::Last(n)),
            _ => Err(bad()),
        }
    }

    /// The code of the definition encoding (FORMAT.md 13.2).
    pub(super) fn code(self) -> u8 {
        match self {
            Self::Trim => 1,
            Self::Nfc => 2,
            Self::Casefold => 3,
            Self::Digits => 4,
            Self::First(_) => 5,
            Self::Last(_) => 6,
        }
    }

    pub(super) fn check(self) -> Result<()> {
        match self {
            Self::First(0) | Self::Last(0) => Err(Error::InvalidArgument {
                reason: "first:N and last:N need N from 1 to 65535",
            }),
            _ => Ok(()),
        }
    }

    /// Applies the transform.
    pub(super) fn apply(self, input: &str) -> Text {
        let mut out = Text::with_capacity(input.len());
        match self {
            Self::Trim => out.push_str(input.trim_matches(is_white_space)),
            Self::Nfc => input.chars().nfc().for_each(|c| out.push(c)),
            Self::Casefold => input
                .chars()
                .nfd()
                .flat_map(fold)
                .nfc()
                .for_each(|c| out.push(c)),
            Self::Digits => input
                .chars()
                .filter(char::is_ascii_digit)
                .for_each(|c| out.push(c)),
            Self::First(n) => input.chars().take(n.into()).for_each(|c| out.push(c)),
            Self::Last(n) => {
                let count = input.chars().count();
                let skip = count.saturating_sub(n.into());
                input.chars().skip(skip).for_each(|c| out.push(c));
            }
        }
        out
    }
}

impl fmt::Display for Transform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Trim => f.write_str("trim"),
            Self::Nfc => f.write_str("nfc"),
            Self::Casefold => f.write_str("casefold"),
            Self::Digits => f.write_str("digits"),
            Self::First(n) => write!(f, "first:{n}"),
            Self::Last(n) => write!(f, "last:{n}"),
        }
    }
}

/// The `White_Space` property of Unicode (PropList.txt), as FORMAT.md 13.3
/// lists it.
fn is_white_space(c: char) -> bool {
    matches!(
        c,
        '\u{0009}'..='\u{000D}'
            | '\u{0020}'
            | '\u{0085}'
            | '\u{00A0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200A}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202F}'
            | '\u{205F}'
            | '\u{3000}'
    )
}

/// Full case folding of one character (CaseFolding.txt, statuses C and F).
fn fold(c: char) -> impl Iterator<Item = char> {
    let mapped = CASE_FOLDING
        .binary_search_by_key(&u32::from(c), |&(from, _)| from)
        .ok()
        .and_then(|i| CASE_FOLDING.get(i))
        .map(|&(_, to)| to);
    let chars = match mapped {
        Some(to) => to.map(|u| char::from_u32(u).filter(|&c| c != '\0')),
        None => [Some(c), None, None],
    };
    chars.into_iter().flatten()
}

/// A growable string that wipes what it holds: on drop, and each buffer it
/// outgrows (a plain `String` would free the old one unwiped).
pub(super) struct Text(Zeroizing<String>);

impl Text {
    pub(super) fn with_capacity(capacity: usize) -> Self {
        Self(Zeroizing::new(String::with_capacity(capacity)))
    }

    fn reserve(&mut self, more: usize) {
        let needed = self.0.len() + more;
        if needed > self.0.capacity() {
            let mut bigger = String::with_capacity(needed.max(self.0.capacity() * 2).max(16));
            bigger.push_str(&self.0);
            // The old buffer is wiped as its Zeroizing wrapper drops.
            self.0 = Zeroizing::new(bigger);
        }
    }

    pub(super) fn push(&mut self, c: char) {
        self.reserve(c.len_utf8());
        self.0.push(c);
    }

    pub(super) fn push_str(&mut self, s: &str) {
        self.reserve(s.len());
        self.0.push_str(s);
    }

    pub(super) fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn apply(t: Transform, s: &str) -> String {
        t.apply(s).as_str().to_string()
    }

    #[test]
    fn table_is_sorted_and_maps_to_something_else() {
        assert!(CASE_FOLDING.windows(2).all(|w| w[0].0 < w[1].0));
        for &(from, to) in CASE_FOLDING {
            assert!(char::from_u32(from).is_some());
            assert_ne!(to, [from, 0, 0]);
            assert!(to[0] != 0, "{from:x}");
        }
        assert_eq!(CASE_FOLDING.len(), 1530);
    }

    #[test]
    fn transforms_do_what_format_13_3_says() {
        assert_eq!(apply(Transform::Trim, "\u{3000} a b\t\n"), "a b");
        assert_eq!(
            apply(Transform::Trim, "\u{200B}a"),
            "\u{200B}a",
            "ZWSP is not White_Space"
        );
        assert_eq!(apply(Transform::Nfc, "e\u{301}"), "\u{e9}");
        assert_eq!(apply(Transform::Casefold, "Stra\u{df}E"), "strasse");
        assert_eq!(apply(Transform::Casefold, "\u{130}"), "i\u{307}");
        assert_eq!(
            apply(Transform::Casefold, "\u{3a3}\u{3c2}"),
            "\u{3c3}\u{3c3}"
        );
        assert_eq!(apply(Transform::Casefold, "E\u{301}"), "\u{e9}");
        assert_eq!(apply(Transform::Casefold, "\u{1fc3}"), "\u{3b7}\u{3b9}");
        assert_eq!(apply(Transform::Casefold, "\u{fb01}"), "fi");
        assert_eq!(apply(Transform::Digits, "+1 (555) ٣-0199"), "15550199");
        assert_eq!(apply(Transform::First(2), "\u{e9}tude"), "\u{e9}t");
        assert_eq!(apply(Transform::First(9), "ab"), "ab");
        assert_eq!(apply(Transform::Last(4), "123-45-6789"), "6789");
        assert_eq!(apply(Transform::Last(9), "ab"), "ab");
    }

    #[test]
    fn parse_and_display_round_trip() {
        for text in ["trim", "nfc", "casefold", "digits", "first:1", "last:65535"] {
            let t = Transform::parse(text).unwrap();
            assert_eq!(t.to_string(), text);
        }
        for bad in [
            "",
            "Trim",
            "first",
            "first:",
            "first:0",
            "first:01",
            "last:65536",
            "last:-1",
            "last:+4",
            "mid:3",
            "first:1:2",
            " trim",
        ] {
            assert!(Transform::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn text_wipes_what_it_outgrows_and_keeps_content() {
        let mut t = Text::with_capacity(0);
        for c in "αβγ".chars().cycle().take(1000) {
            t.push(c);
        }
        assert_eq!(t.as_str().chars().count(), 1000);
    }
}
