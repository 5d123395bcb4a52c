//! The keyring's serialised form, the plaintext inside a sealed keyring file
//! (FORMAT.md 10.4). It holds key material, so it is only ever built in a
//! [`SecretBytes`] of exactly the right size (no reallocation), and parsed
//! from one.
//!
//! Parsing is strict and bounded: every count is checked against the bytes
//! that remain before anything is allocated for it, so a hostile payload
//! cannot make the parser allocate more than a small multiple of its own
//! length; every key goes through [`Keyring::import_key`]'s consistency
//! checks.

use alloc::vec::Vec;

use super::{KeyId, KeyImport, Keyring, MAX_KEYS, MAX_VERSIONS, VersionImport, VersionState};
use crate::error::{Error, Result};
use crate::secret::{KEY_LEN, KeyMaterial, SecretBytes};
use crate::time::Timestamp;

/// Version byte of the payload encoding.
const PAYLOAD_V1: u8 = 0x01;
/// Fixed bytes of one key before its versions: name length, id, created,
/// primary, minimum, period, version count (name bytes extra).
const KEY_FIXED_LEN: usize = 1 + 4 + 8 + 4 + 4 + 8 + 4;
/// Bytes of a version without material: state, created.
const VERSION_FIXED_LEN: usize = 1 + 8;

fn state_byte(state: VersionState) -> u8 {
    // FORMAT.md 10.4: the state's stable number is its byte.
    state.code()
}

fn malformed(reason: &'static str) -> Error {
    Error::Malformed { reason }
}

struct Writer<'a> {
    buf: &'a mut [u8],
    at: usize,
}

impl Writer<'_> {
    fn put(&mut self, bytes: &[u8]) {
        // The buffer is sized by `encoded_len`, which mirrors every put.
        if let Some(dst) = self.buf.get_mut(self.at..self.at + bytes.len()) {
            dst.copy_from_slice(bytes);
        }
        self.at += bytes.len();
    }
}

struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let (head, tail) = self
            .rest
            .split_at_checked(n)
            .ok_or(malformed("keyring payload is truncated"))?;
        self.rest = tail;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> Result<u64> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }
}

impl Keyring {
    /// Exact length of [`Keyring::encode`]'s output.
    fn encoded_len(&self) -> usize {
        5 + self
            .keys
            .values()
            .map(|k| {
                KEY_FIXED_LEN
                    + k.name.len()
                    + k.versions
                        .iter()
                        .map(|v| VERSION_FIXED_LEN + if v.material.is_some() { KEY_LEN } else { 0 })
                        .sum::<usize>()
            })
            .sum::<usize>()
    }

    /// The payload encoding (FORMAT.md 10.4), keys in name order.
    pub(crate) fn encode(&self) -> SecretBytes {
        let mut out = SecretBytes::zeroed(self.encoded_len());
        let mut w = Writer {
            buf: out.expose_secret_mut(),
            at: 0,
        };
        w.put(&[PAYLOAD_V1]);
        w.put(
            &u32::try_from(self.keys.len())
                .unwrap_or(u32::MAX)
                .to_be_bytes(),
        );
        for id in self.names.values() {
            let Some(k) = self.keys.get(id) else { continue };
            w.put(&[u8::try_from(k.name.len()).unwrap_or(u8::MAX)]);
            w.put(k.name.as_bytes());
            w.put(&id.as_u32().to_be_bytes());
            w.put(&k.created.as_unix_seconds().to_be_bytes());
            w.put(&k.primary.to_be_bytes());
            w.put(&k.min_decryption_version.to_be_bytes());
            w.put(&k.rotation_period_seconds.unwrap_or(0).to_be_bytes());
            w.put(&k.latest().to_be_bytes());
            for v in &k.versions {
                w.put(&[state_byte(v.state)]);
                w.put(&v.created.as_unix_seconds().to_be_bytes());
                if let Some(m) = &v.material {
                    w.put(m.expose_secret());
                }
            }
        }
        out
    }

    /// Parses a payload strictly (FORMAT.md 10.4).
    pub(crate) fn decode(bytes: &[u8]) -> Result<Keyring> {
        let mut r = Reader { rest: bytes };
        match r.u8()? {
            PAYLOAD_V1 => {}
            other => return Err(Error::UnsupportedFormat { version: other }),
        }
        let key_count = r.u32()? as usize;
        if key_count > MAX_KEYS {
            return Err(malformed("keyring payload holds too many keys"));
        }
        if key_count.saturating_mul(KEY_FIXED_LEN + 1 + VERSION_FIXED_LEN) > r.rest.len() {
            return Err(malformed("keyring payload key count exceeds its length"));
        }
        let mut keyring = Keyring::new();
        let mut previous: Option<&[u8]> = None;
        for _ in 0..key_count {
            let name_len = usize::from(r.u8()?);
            let name_bytes = r.take(name_len)?;
            if previous.is_some_and(|p| p >= name_bytes) {
                return Err(malformed(
                    "keyring payload keys are not in strictly increasing name order",
                ));
            }
            previous = Some(name_bytes);
            let name =
                core::str::from_utf8(name_bytes).map_err(|_| malformed("key name is not UTF-8"))?;
            let key_id = KeyId::from_u32(r.u32()?);
            let created = Timestamp::from_unix_seconds(r.u64()?);
            let primary = r.u32()?;
            let min = r.u32()?;
            let period = r.u64()?;
            let count = r.u32()?;
            if count == 0 || count > MAX_VERSIONS {
                return Err(malformed("key version count out of bounds"));
            }
            if (count as usize).saturating_mul(VERSION_FIXED_LEN) > r.rest.len() {
                return Err(malformed("key version count exceeds the payload length"));
            }
            let mut versions = Vec::with_capacity(count as usize);
            for _ in 0..count {
                let byte = r.u8()?;
                let state =
                    VersionState::from_code(byte).ok_or(malformed("unknown version state"))?;
                let v_created = Timestamp::from_unix_seconds(r.u64()?);
                let material = if state == VersionState::Destroyed {
                    None
                } else {
                    Some(KeyMaterial::from_slice(r.take(KEY_LEN)?)?)
                };
                versions.push(VersionImport::new(state, v_created, material));
            }
            let mut import = KeyImport::new(name, key_id, created, versions);
            import.primary_version = primary;
            import.min_decryption_version = min;
            import.rotation_period_seconds = (period != 0).then_some(period);
            keyring
                .import_key_inner(import)
                .map_err(|_| malformed("keyring payload holds an inconsistent key"))?;
        }
        if !r.rest.is_empty() {
            return Err(malformed("trailing bytes after the keyring payload"));
        }
        Ok(keyring)
    }

    /// A payload `decode` accepted, encoded again by `encode` (fuzz
    /// targets only; the bytes are the fuzzer's, not real keys).
    #[cfg(fuzzing)]
    pub(crate) fn reencode(payload: &[u8]) -> Option<Vec<u8>> {
        Self::decode(payload)
            .ok()
            .map(|k| k.encode().expose_secret().to_vec())
    }
}

#[cfg(test)]
mod tests {
    use alloc::format;
    use alloc::vec;

    use super::*;

    fn key(i: usize) -> KeyImport {
        let t = Timestamp::from_unix_seconds(1);
        // TEST KEY MATERIAL.
        let v = VersionImport::new(
            VersionState::Enabled,
            t,
            Some(KeyMaterial::from_slice(&[7; KEY_LEN]).unwrap()),
        );
        let id = u32::try_from(i + 1).unwrap();
        KeyImport::new(&format!("k{i:05}"), KeyId::from_u32(id), t, vec![v])
    }

    /// A payload may hold exactly MAX_KEYS keys, and says so in its count.
    #[test]
    fn a_payload_of_max_keys_decodes() {
        let mut keyring = Keyring::new();
        for i in 0..MAX_KEYS {
            keyring.import_key(key(i)).unwrap();
        }
        let payload = keyring.encode();
        let back = Keyring::decode(payload.expose_secret()).unwrap();
        assert_eq!(back.len(), MAX_KEYS);
        // One more in the count is refused before anything is read.
        let mut more = payload.expose_secret().to_vec();
        more[1..5].copy_from_slice(&u32::try_from(MAX_KEYS + 1).unwrap().to_be_bytes());
        assert!(matches!(
            Keyring::decode(&more),
            Err(Error::Malformed { reason }) if reason.contains("too many keys")
        ));
    }

    /// A key's version count is 1 to MAX_VERSIONS, checked as it is read:
    /// 0 and MAX_VERSIONS + 1 are refused there (with the bytes for them
    /// present), MAX_VERSIONS passes that check.
    #[test]
    fn the_version_count_bounds_are_checked_where_they_are_read() {
        let with_count = |count: u32| {
            let mut p = key_up_to_count(count);
            p.resize(p.len() + (count as usize + 1) * VERSION_FIXED_LEN, 0);
            Keyring::decode(&p)
        };
        let bound = |r: Result<Keyring>| matches!(r, Err(Error::Malformed { reason }) if reason.contains("version count out of bounds"));
        assert!(bound(with_count(0)));
        assert!(bound(with_count(MAX_VERSIONS + 1)));
        assert!(!bound(with_count(MAX_VERSIONS)));
        assert!(!bound(with_count(1)));
        // Then against the bytes left: count versions without material
        // need 9 bytes each; one byte short is refused there, exactly
        // enough passes that check (from 2 versions: one version short
        // of its 9 bytes is already short of the smallest key).
        let fits = |r: Result<Keyring>| !matches!(r, Err(Error::Malformed { reason }) if reason.contains("exceeds the payload length"));
        for count in [2u32, 5] {
            let mut p = key_up_to_count(count);
            p.resize(p.len() + count as usize * VERSION_FIXED_LEN, 0);
            assert!(fits(Keyring::decode(&p)), "{count} versions, exactly");
            p.pop();
            assert!(
                !fits(Keyring::decode(&p)),
                "{count} versions, one byte short"
            );
        }
    }

    /// A one-key payload up to and including the key's version count.
    fn key_up_to_count(count: u32) -> Vec<u8> {
        let mut p = vec![PAYLOAD_V1, 0, 0, 0, 1, 1, b'k'];
        p.extend_from_slice(&1u32.to_be_bytes()); // id
        p.extend_from_slice(&1u64.to_be_bytes()); // created
        p.extend_from_slice(&1u32.to_be_bytes()); // primary
        p.extend_from_slice(&1u32.to_be_bytes()); // minimum
        p.extend_from_slice(&0u64.to_be_bytes()); // period
        p.extend_from_slice(&count.to_be_bytes());
        p
    }

    /// The count is checked against the smallest key (a one-byte name and
    /// one version without material: 43 bytes) before the keys are read:
    /// k keys in 43k - 1 bytes are refused there; in 43k bytes they pass
    /// that check (and fail later, a destroyed-only key being invalid).
    #[test]
    fn the_key_count_is_bounded_by_the_smallest_key() {
        let smallest = KEY_FIXED_LEN + 1 + VERSION_FIXED_LEN;
        assert_eq!(smallest, 43);
        for k in [1usize, 2, 100] {
            let mut payload = vec![PAYLOAD_V1];
            payload.extend_from_slice(&u32::try_from(k).unwrap().to_be_bytes());
            payload.resize(5 + smallest * k - 1, 0);
            let count_check = |r: Result<Keyring>| matches!(r, Err(Error::Malformed { reason }) if reason.contains("key count exceeds"));
            assert!(
                count_check(Keyring::decode(&payload)),
                "{k} keys, one byte short"
            );
            payload.push(0);
            assert!(!count_check(Keyring::decode(&payload)), "{k} keys, exactly");
        }
    }
}
