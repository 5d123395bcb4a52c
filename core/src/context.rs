//! The encryption context: a small map of strings bound to a ciphertext as
//! associated data (the AWS Encryption SDK's idea, and Vault's `context`).
//!
//! The context is **not secret**: it may be logged, and envelope headers
//! store it. It must be supplied again, identical, to decrypt. Its canonical
//! encoding is normative: `docs/FORMAT.md`, section 2.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use crate::error::{Error, Result};

/// Most pairs a context may hold.
pub const MAX_CONTEXT_PAIRS: usize = 64;
/// Longest key, in bytes of UTF-8 (keys are at least 1 byte).
pub const MAX_CONTEXT_KEY_LEN: usize = 256;
/// Longest value, in bytes of UTF-8 (values may be empty).
pub const MAX_CONTEXT_VALUE_LEN: usize = 1024;
/// Largest canonical encoding of a whole context, in bytes.
pub const MAX_CONTEXT_ENCODED_LEN: usize = 8192;

/// A map of string keys to string values, bound to a ciphertext as
/// associated data. Order of insertion does not matter: the encoding sorts
/// keys by their UTF-8 bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EncryptionContext {
    pairs: BTreeMap<String, String>,
    /// Length of the canonical encoding, kept up to date on insert.
    encoded_len: usize,
}

impl EncryptionContext {
    /// The empty context.
    pub fn new() -> Self {
        Self {
            pairs: BTreeMap::new(),
            encoded_len: 2,
        }
    }

    /// Builds a context from pairs.
    ///
    /// # Errors
    /// As [`EncryptionContext::insert`], for any pair.
    pub fn from_pairs<K, V, I>(pairs: I) -> Result<Self>
    where
        K: AsRef<str>,
        V: AsRef<str>,
        I: IntoIterator<Item = (K, V)>,
    {
        let mut ctx = Self::new();
        for (k, v) in pairs {
            ctx.insert(k.as_ref(), v.as_ref())?;
        }
        Ok(ctx)
    }

    /// Adds a pair, builder style.
    ///
    /// # Errors
    /// As [`EncryptionContext::insert`].
    pub fn with(mut self, key: &str, value: &str) -> Result<Self> {
        self.insert(key, value)?;
        Ok(self)
    }

    /// Adds a pair.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an empty or duplicate key;
    /// [`Error::TooLarge`] when a key, a value, the pair count or the
    /// encoded size would exceed its bound.
    pub fn insert(&mut self, key: &str, value: &str) -> Result<()> {
        if key.is_empty() {
            return Err(Error::InvalidArgument {
                reason: "encryption context keys must not be empty",
            });
        }
        if key.len() > MAX_CONTEXT_KEY_LEN {
            return Err(Error::TooLarge {
                what: "encryption context key length",
                max: MAX_CONTEXT_KEY_LEN,
            });
        }
        if value.len() > MAX_CONTEXT_VALUE_LEN {
            return Err(Error::TooLarge {
                what: "encryption context value length",
                max: MAX_CONTEXT_VALUE_LEN,
            });
        }
        if self.pairs.len() >= MAX_CONTEXT_PAIRS {
            return Err(Error::TooLarge {
                what: "encryption context pair count",
                max: MAX_CONTEXT_PAIRS,
            });
        }
        if self.pairs.contains_key(key) {
            return Err(Error::InvalidArgument {
                reason: "duplicate encryption context key",
            });
        }
        let new_len = self.encoded_len + 4 + key.len() + value.len();
        if new_len > MAX_CONTEXT_ENCODED_LEN {
            return Err(Error::TooLarge {
                what: "encoded encryption context",
                max: MAX_CONTEXT_ENCODED_LEN,
            });
        }
        self.pairs.insert(String::from(key), String::from(value));
        self.encoded_len = new_len;
        Ok(())
    }

    /// The value for `key`, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs.get(key).map(String::as_str)
    }

    /// The pairs in canonical (sorted) order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Whether the context has no pairs.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Length of the canonical encoding in bytes.
    pub fn encoded_len(&self) -> usize {
        self.encoded_len
    }

    /// Appends the canonical encoding (FORMAT.md 2.2):
    /// `u16 count`, then for each pair in key order `u16 key_len, key,
    /// u16 value_len, value`; all integers big-endian.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        out.reserve(self.encoded_len);
        self.encode_with(&mut |bytes| out.extend_from_slice(bytes));
    }

    /// The canonical encoding, handed to `put` piece by piece in order
    /// (their total is [`EncryptionContext::encoded_len`]).
    pub(crate) fn encode_with(&self, put: &mut impl FnMut(&[u8])) {
        // Bounds enforced on insert keep every length below u16::MAX.
        put(&be_u16(self.pairs.len()));
        for (k, v) in &self.pairs {
            put(&be_u16(k.len()));
            put(k.as_bytes());
            put(&be_u16(v.len()));
            put(v.as_bytes());
        }
    }

    /// The canonical encoding as a new vector.
    pub fn to_canonical_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len);
        self.encode_into(&mut out);
        out
    }

    /// Parses a canonical encoding (FORMAT.md 2.3), strictly: keys must be strictly
    /// increasing (sorted, no duplicates), UTF-8, within every bound, and the
    /// input must end exactly after the last pair.
    ///
    /// # Errors
    /// [`Error::Malformed`] for anything that is not a canonical encoding
    /// within the bounds, as FORMAT.md 2.3 names it (the bounds too: an
    /// encoding past them is not one this library writes).
    pub fn from_canonical_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.len() > MAX_CONTEXT_ENCODED_LEN {
            return Err(Error::Malformed {
                reason: "encoded encryption context is longer than 8192 bytes",
            });
        }
        let mut rest = bytes;
        let count = take_u16(&mut rest)?;
        if count > MAX_CONTEXT_PAIRS {
            return Err(Error::Malformed {
                reason: "encoded encryption context has more than 64 pairs",
            });
        }
        let mut ctx = Self::new();
        let mut previous: Option<&[u8]> = None;
        for _ in 0..count {
            let key = take_str(&mut rest)?;
            let value = take_str(&mut rest)?;
            if previous.is_some_and(|p| p >= key.as_bytes()) {
                return Err(Error::Malformed {
                    reason: "encryption context keys are not in strictly increasing order",
                });
            }
            previous = Some(key.as_bytes());
            // An empty key, or a key or value past its bound.
            ctx.insert(key, value).map_err(|_| Error::Malformed {
                reason: "encoded encryption context has a pair out of bounds",
            })?;
        }
        if !rest.is_empty() {
            return Err(Error::Malformed {
                reason: "trailing bytes after the encryption context",
            });
        }
        Ok(ctx)
    }
}

fn be_u16(n: usize) -> [u8; 2] {
    u16::try_from(n).unwrap_or(u16::MAX).to_be_bytes()
}

fn take_u16(rest: &mut &[u8]) -> Result<usize> {
    let Some((head, tail)) = rest.split_first_chunk::<2>() else {
        return Err(Error::Malformed {
            reason: "encryption context is truncated",
        });
    };
    *rest = tail;
    Ok(usize::from(u16::from_be_bytes(*head)))
}

fn take_str<'a>(rest: &mut &'a [u8]) -> Result<&'a str> {
    let len = take_u16(rest)?;
    let Some((head, tail)) = rest.split_at_checked(len) else {
        return Err(Error::Malformed {
            reason: "encryption context is truncated",
        });
    };
    *rest = tail;
    core::str::from_utf8(head).map_err(|_| Error::Malformed {
        reason: "encryption context string is not UTF-8",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_is_order_independent_and_exact() {
        let a = EncryptionContext::from_pairs([("tenant", "acme"), ("column", "email")]).unwrap();
        let b = EncryptionContext::from_pairs([("column", "email"), ("tenant", "acme")]).unwrap();
        assert_eq!(a.to_canonical_bytes(), b.to_canonical_bytes());
        let expected: &[u8] = b"\x00\x02\x00\x06column\x00\x05email\x00\x06tenant\x00\x04acme";
        assert_eq!(a.to_canonical_bytes(), expected);
        assert_eq!(a.encoded_len(), expected.len());
        assert_eq!(EncryptionContext::new().to_canonical_bytes(), [0, 0]);
    }

    #[test]
    fn parse_round_trips_and_is_strict() {
        let a = EncryptionContext::from_pairs([("a", ""), ("b", "x")]).unwrap();
        let bytes = a.to_canonical_bytes();
        assert_eq!(EncryptionContext::from_canonical_bytes(&bytes).unwrap(), a);
        // Trailing byte.
        let mut t = bytes.clone();
        t.push(0);
        assert!(EncryptionContext::from_canonical_bytes(&t).is_err());
        // Unsorted keys.
        let unsorted = b"\x00\x02\x00\x01b\x00\x00\x00\x01a\x00\x00";
        assert!(EncryptionContext::from_canonical_bytes(unsorted).is_err());
        // Duplicate keys.
        let dup = b"\x00\x02\x00\x01a\x00\x00\x00\x01a\x00\x00";
        assert!(EncryptionContext::from_canonical_bytes(dup).is_err());
        // Every truncation fails.
        for n in 0..bytes.len() {
            assert!(EncryptionContext::from_canonical_bytes(&bytes[..n]).is_err());
        }
    }

    /// Every bound of FORMAT.md 2.1 admits its limit and refuses one past
    /// it: a 256-byte key, a 1024-byte value, an 8192-byte encoding. The
    /// accessors report the pairs. (cargo-mutants: `>` turned `>=` in
    /// each bound, and the accessors emptied, survived without it.)
    #[test]
    fn bounds_are_inclusive_and_accessors_report_the_pairs() {
        let key = "k".repeat(MAX_CONTEXT_KEY_LEN);
        let value = "v".repeat(MAX_CONTEXT_VALUE_LEN);
        assert!(EncryptionContext::new().with(&key, "").is_ok());
        assert!(matches!(
            EncryptionContext::new().with(&(key.clone() + "k"), ""),
            Err(Error::TooLarge { .. })
        ));
        assert!(EncryptionContext::new().with("k", &value).is_ok());
        assert!(matches!(
            EncryptionContext::new().with("k", &(value.clone() + "v")),
            Err(Error::TooLarge { .. })
        ));
        // 2 + 7 * (4 + 8 + 1024) + (4 + 8 + 926) = 8192 bytes exactly.
        let build = |last: usize| {
            let mut c = EncryptionContext::new();
            for i in 0..7 {
                c.insert(&alloc::format!("key0000{i}"), &value)?;
            }
            c.insert("key00007", &"v".repeat(last))?;
            Ok::<_, Error>(c)
        };
        let full = build(926).unwrap();
        assert_eq!(full.encoded_len(), MAX_CONTEXT_ENCODED_LEN);
        assert!(matches!(build(927), Err(Error::TooLarge { .. })));
        // The parser admits both limits too: 8192 bytes, 64 pairs.
        let bytes = full.to_canonical_bytes();
        assert_eq!(
            EncryptionContext::from_canonical_bytes(&bytes).unwrap(),
            full
        );
        let mut most = EncryptionContext::new();
        for i in 0..MAX_CONTEXT_PAIRS {
            most.insert(&alloc::format!("k{i:02}"), "v").unwrap();
        }
        let bytes = most.to_canonical_bytes();
        assert_eq!(
            EncryptionContext::from_canonical_bytes(&bytes).unwrap(),
            most
        );

        let c = EncryptionContext::from_pairs([("tenant", "acme"), ("column", "email")]).unwrap();
        assert_eq!(c.get("tenant"), Some("acme"));
        assert_eq!(c.get("column"), Some("email"));
        assert_eq!(c.get("other"), None);
        let pairs: Vec<(&str, &str)> = c.iter().collect();
        assert_eq!(pairs, [("column", "email"), ("tenant", "acme")]);
        assert_eq!((c.len(), c.is_empty()), (2, false));
        let empty = EncryptionContext::new();
        assert_eq!(
            (empty.len(), empty.is_empty(), empty.iter().count()),
            (0, true, 0)
        );
    }

    /// Every refusal is `malformed`, as FORMAT.md 2.3 says, the bounds
    /// included (found by the differential run against the independent
    /// decoder: these were `too_large` and `invalid_argument`).
    #[test]
    fn every_refusal_is_malformed() {
        let pair = |k: &[u8], v: &[u8]| {
            let mut b = alloc::vec![0, 1];
            b.extend_from_slice(&u16::try_from(k.len()).unwrap().to_be_bytes());
            b.extend_from_slice(k);
            b.extend_from_slice(&u16::try_from(v.len()).unwrap().to_be_bytes());
            b.extend_from_slice(v);
            b
        };
        let key_257 = [b'k'; 257];
        let value_1025 = [b'v'; 1025];
        let mut too_long = pair(b"k", &[b'v'; 1024]);
        too_long.resize(MAX_CONTEXT_ENCODED_LEN + 1, 0);
        let cases: [(&str, Vec<u8>); 7] = [
            ("65 pairs", alloc::vec![0, 65]),
            ("count 0x0385", alloc::vec![0x03, 0x85]),
            ("empty key", pair(b"", b"v")),
            ("257-byte key", pair(&key_257, b"")),
            ("1025-byte value", pair(b"k", &value_1025)),
            ("8193 bytes", too_long),
            ("not UTF-8", pair(b"\xff", b"")),
        ];
        for (what, bytes) in cases {
            assert!(
                matches!(
                    EncryptionContext::from_canonical_bytes(&bytes),
                    Err(Error::Malformed { .. })
                ),
                "{what}"
            );
        }
        // The bounds themselves parse.
        let at_bounds = pair(&[b'k'; 256], &[b'v'; 1024]);
        assert!(EncryptionContext::from_canonical_bytes(&at_bounds).is_ok());
    }

    #[test]
    fn bounds_are_enforced() {
        let mut c = EncryptionContext::new();
        assert!(c.insert("", "x").is_err());
        let long_key = "k".repeat(MAX_CONTEXT_KEY_LEN + 1);
        assert!(c.insert(&long_key, "x").is_err());
        let long_value = "v".repeat(MAX_CONTEXT_VALUE_LEN + 1);
        assert!(c.insert("k", &long_value).is_err());
        c.insert("k", "v").unwrap();
        assert!(c.insert("k", "w").is_err(), "duplicate key");
        // Encoded size cap: 8 pairs of ~1 KiB values overflow 8 KiB.
        let big = "v".repeat(MAX_CONTEXT_VALUE_LEN);
        let mut d = EncryptionContext::new();
        let mut refused = false;
        for i in 0..MAX_CONTEXT_PAIRS {
            let key = alloc::format!("key{i:02}");
            if d.insert(&key, &big).is_err() {
                refused = true;
                break;
            }
        }
        assert!(refused);
        assert!(d.encoded_len() <= MAX_CONTEXT_ENCODED_LEN);
    }
}
