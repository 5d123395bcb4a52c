//! Secret containers: 32-byte key material and variable-length secret bytes.
//!
//! Both follow one set of rules (STYLE.md rule 5): the bytes live on the heap
//! and are built there in place, so moving the container moves a pointer and
//! never copies the secret; they are wiped on drop unconditionally; `Debug`
//! is redacted; there is no `Copy` and no `Clone`; equality is constant-time;
//! the raw bytes are reached only through a greppable `expose_secret()`.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;

use rand_core::TryCryptoRng;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::{Error, Result};
use crate::random;

/// Length of all symmetric key material in strongroom, in bytes.
pub const KEY_LEN: usize = 32;

// A locked slot holds exactly one key.
#[cfg(all(feature = "std", unix))]
const _: () = assert!(KEY_LEN == crate::secure_memory::SLOT_LEN);

/// 32 bytes of symmetric key material (a key version, a data key, a derived
/// key).
///
/// # Security
/// Wiped on drop; `Debug` prints `KeyMaterial(<redacted>)`; equality runs in
/// constant time.
pub struct KeyMaterial(Storage);

/// Where a key's 32 bytes live: a slot in a locked, no-dump page (std,
/// Unix; see [`crate::secure_memory`]) or, failing that, the heap. Each
/// wipes itself on drop (the slot as it returns to its pool, the box before
/// it is freed), so `KeyMaterial` needs no `Drop` of its own and no path
/// leaves the bytes behind.
enum Storage {
    Heap(Box<Zeroizing<[u8; KEY_LEN]>>),
    #[cfg(all(feature = "std", unix))]
    Locked(crate::secure_memory::LockedSlot),
}

impl Storage {
    fn bytes(&self) -> &[u8; KEY_LEN] {
        match self {
            Self::Heap(b) => b,
            #[cfg(all(feature = "std", unix))]
            Self::Locked(slot) => slot.get(),
        }
    }

    fn bytes_mut(&mut self) -> &mut [u8; KEY_LEN] {
        match self {
            Self::Heap(b) => b,
            #[cfg(all(feature = "std", unix))]
            Self::Locked(slot) => slot.get_mut(),
        }
    }
}

impl KeyMaterial {
    /// Fresh random key material from a cryptographically secure RNG.
    ///
    /// # Errors
    /// [`Error::RandomnessUnavailable`] if the RNG fails or yields all zeros.
    pub fn generate<R: TryCryptoRng + ?Sized>(rng: &mut R) -> Result<Self> {
        let mut key = Self::zeroed();
        random::fill(rng, key.0.bytes_mut().as_mut_slice())?;
        Ok(key)
    }

    /// Copies key material from a slice (for importing known keys and test
    /// vectors). The caller remains responsible for wiping its own copy.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] unless `bytes` is exactly [`KEY_LEN`] long.
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        if bytes.len() != KEY_LEN {
            return Err(Error::InvalidArgument {
                reason: "key material must be exactly 32 bytes",
            });
        }
        let mut key = Self::zeroed();
        key.0.bytes_mut().copy_from_slice(bytes);
        Ok(key)
    }

    /// Key material written in place by `fill` (for derivations), so the
    /// bytes are never on the stack.
    pub(crate) fn from_fn(fill: impl FnOnce(&mut [u8; KEY_LEN])) -> Self {
        let mut key = Self::zeroed();
        fill(key.0.bytes_mut());
        key
    }

    /// The raw key bytes. Every call site is a place where key material
    /// leaves its container; keep them few and easy to audit.
    pub fn expose_secret(&self) -> &[u8; KEY_LEN] {
        self.0.bytes()
    }

    /// The raw key bytes, to change in place (the fast generator's key).
    #[cfg(all(feature = "std", unix))]
    pub(crate) fn expose_secret_mut(&mut self) -> &mut [u8; KEY_LEN] {
        self.0.bytes_mut()
    }

    /// Key material written in place by a fallible `fill`; wiped if it fails.
    pub(crate) fn try_from_fn<E>(
        fill: impl FnOnce(&mut [u8; KEY_LEN]) -> core::result::Result<(), E>,
    ) -> core::result::Result<Self, E> {
        let mut key = Self::zeroed();
        fill(key.0.bytes_mut())?;
        Ok(key)
    }

    /// A zeroed buffer (a locked slot where possible), to be filled in
    /// place.
    fn zeroed() -> Self {
        #[cfg(all(feature = "std", unix))]
        if let Some(slot) = crate::secure_memory::LockedSlot::new() {
            return Self(Storage::Locked(slot));
        }
        Self(Storage::Heap(Box::new(Zeroizing::new([0u8; KEY_LEN]))))
    }
}

// Both kinds of `Storage` wipe themselves on drop.
impl ZeroizeOnDrop for KeyMaterial {}

impl secrecy::ExposeSecret<[u8; KEY_LEN]> for KeyMaterial {
    fn expose_secret(&self) -> &[u8; KEY_LEN] {
        self.0.bytes()
    }
}

/// Key material from a `secrecy` box, copied straight into a wiping (and,
/// with `std` on Unix, locked) container.
impl From<&secrecy::SecretBox<[u8; KEY_LEN]>> for KeyMaterial {
    fn from(secret: &secrecy::SecretBox<[u8; KEY_LEN]>) -> Self {
        use secrecy::ExposeSecret as _;
        Self::from_fn(|out| out.copy_from_slice(secret.expose_secret()))
    }
}

/// Key material from a `secrecy` slice of exactly [`KEY_LEN`] bytes.
impl TryFrom<&secrecy::SecretSlice<u8>> for KeyMaterial {
    type Error = Error;

    fn try_from(secret: &secrecy::SecretSlice<u8>) -> Result<Self> {
        use secrecy::ExposeSecret as _;
        Self::from_slice(secret.expose_secret())
    }
}

impl fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyMaterial(<redacted>)")
    }
}

impl ConstantTimeEq for KeyMaterial {
    fn ct_eq(&self, other: &Self) -> subtle::Choice {
        self.0.bytes().as_slice().ct_eq(other.0.bytes().as_slice())
    }
}

impl PartialEq for KeyMaterial {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for KeyMaterial {}

/// A variable-length secret: decrypted plaintext, or a staging buffer for it.
///
/// The allocation is sized once and never grown, so no reallocation can leave
/// an unwiped copy behind. The whole allocation is wiped on drop.
///
/// # Security
/// Wiped on drop; `Debug` prints only the length; equality runs in constant
/// time (the length is not secret).
pub struct SecretBytes(Vec<u8>);

impl SecretBytes {
    /// A zero-filled secret buffer of `len` bytes, to be written in place.
    pub(crate) fn zeroed(len: usize) -> Self {
        Self(alloc::vec![0u8; len])
    }

    /// An empty secret buffer (for streaming output).
    pub fn new() -> Self {
        Self(Vec::new())
    }

    /// Appends `bytes`. When the allocation must grow, the contents move to
    /// a new allocation and the old one is wiped before it is freed, so no
    /// copy is left behind (unlike a plain `Vec`, whose reallocation may
    /// free an unwiped block).
    pub fn extend_from_slice(&mut self, bytes: &[u8]) {
        let needed = self.0.len().saturating_add(bytes.len());
        if needed > self.0.capacity() {
            let mut grown = Vec::with_capacity(needed.max(self.0.capacity().saturating_mul(2)));
            grown.extend_from_slice(&self.0);
            let mut old = core::mem::replace(&mut self.0, grown);
            wipe_vec(&mut old);
        }
        self.0.extend_from_slice(bytes);
    }

    /// Wipes and empties the buffer, keeping its allocation.
    ///
    /// Only the first `len` bytes are wiped: they are the only ones that can
    /// hold secrets, because every method that shortens the buffer wipes
    /// what it cuts off and growth wipes the old allocation. (Wiping the
    /// whole capacity here made a streaming reader, which clears a
    /// batch-sized buffer on every small read, wipe ~30 times the data.)
    pub fn clear(&mut self) {
        self.0.as_mut_slice().zeroize();
        self.0.clear();
    }

    /// Copies `bytes` into a new secret buffer. The caller remains
    /// responsible for wiping its own copy.
    pub fn from_slice(bytes: &[u8]) -> Self {
        let mut out = Self::zeroed(bytes.len());
        out.0.copy_from_slice(bytes);
        out
    }

    /// The secret bytes.
    pub fn expose_secret(&self) -> &[u8] {
        &self.0
    }

    /// The secret bytes, mutably (for filling in place).
    pub(crate) fn expose_secret_mut(&mut self) -> &mut [u8] {
        &mut self.0
    }

    /// Shortens the buffer; the cut-off tail is wiped at once.
    pub(crate) fn truncate(&mut self, len: usize) {
        if let Some(tail) = self.0.get_mut(len..) {
            tail.zeroize();
        }
        self.0.truncate(len);
    }

    /// Number of bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the buffer is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Default for SecretBytes {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for SecretBytes {
    fn drop(&mut self) {
        wipe_vec(&mut self.0);
    }
}

/// Wipes a byte vector's whole capacity and empties it. `zeroize`'s own
/// `Vec` impl does the same but writes the initialised part one volatile
/// byte at a time (about 1 byte per cycle: 40% of a 16 MiB envelope
/// decryption here); the slice impls fill in bulk, then stop the compiler
/// from eliding it with an optimisation barrier.
pub(crate) fn wipe_vec(v: &mut Vec<u8>) {
    v.as_mut_slice().zeroize();
    v.spare_capacity_mut().zeroize();
    v.clear();
}

impl ZeroizeOnDrop for SecretBytes {}

impl secrecy::ExposeSecret<[u8]> for SecretBytes {
    fn expose_secret(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes(<{} bytes redacted>)", self.0.len())
    }
}

impl ConstantTimeEq for SecretBytes {
    fn ct_eq(&self, other: &Self) -> subtle::Choice {
        self.0.as_slice().ct_eq(other.0.as_slice())
    }
}

impl PartialEq for SecretBytes {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for SecretBytes {}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn debug_is_redacted() {
        let key = KeyMaterial::from_slice(&[0xA5; KEY_LEN]).unwrap();
        let text = format!("{key:?}");
        assert_eq!(text, "KeyMaterial(<redacted>)");
        let bytes = SecretBytes::from_slice(b"hunter2");
        assert_eq!(format!("{bytes:?}"), "SecretBytes(<7 bytes redacted>)");
    }

    #[test]
    fn equality_compares_contents() {
        let a = KeyMaterial::from_slice(&[1; KEY_LEN]).unwrap();
        let b = KeyMaterial::from_slice(&[1; KEY_LEN]).unwrap();
        let c = KeyMaterial::from_slice(&[2; KEY_LEN]).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(
            SecretBytes::from_slice(b"ab"),
            SecretBytes::from_slice(b"abc")
        );
        assert_ne!(
            SecretBytes::from_slice(b"ab"),
            SecretBytes::from_slice(b"ac")
        );
        assert_eq!(
            SecretBytes::from_slice(b"ab"),
            SecretBytes::from_slice(b"ab")
        );
    }

    #[test]
    fn from_slice_checks_length() {
        assert!(KeyMaterial::from_slice(&[0; 31]).is_err());
        assert!(KeyMaterial::from_slice(&[0; 33]).is_err());
    }

    #[test]
    fn secrecy_types_go_in_and_come_out() {
        use secrecy::{ExposeSecret, SecretBox, SecretSlice};
        let boxed: SecretBox<[u8; KEY_LEN]> =
            SecretBox::new(alloc::boxed::Box::new([7u8; KEY_LEN]));
        let key = KeyMaterial::from(&boxed);
        assert_eq!(ExposeSecret::expose_secret(&key), &[7u8; KEY_LEN]);
        let slice: SecretSlice<u8> = alloc::vec![9u8; KEY_LEN].into();
        let key = KeyMaterial::try_from(&slice).unwrap();
        assert_eq!(key.expose_secret(), &[9u8; KEY_LEN]);
        let short: SecretSlice<u8> = alloc::vec![9u8; 31].into();
        assert!(KeyMaterial::try_from(&short).is_err());
        let bytes = SecretBytes::from_slice(b"plain");
        fn generic<S: ExposeSecret<[u8]>>(s: &S) -> usize {
            s.expose_secret().len()
        }
        assert_eq!(generic(&bytes), 5);
    }

    #[test]
    fn secret_bytes_grow_clear_and_report_emptiness() {
        let mut s = SecretBytes::default();
        assert!(s.is_empty());
        s.extend_from_slice(b"abc");
        s.extend_from_slice(b"defgh");
        assert!(!s.is_empty());
        assert_eq!(s.expose_secret(), b"abcdefgh");
        s.clear();
        assert!(s.is_empty());
        assert_eq!(s.len(), 0);
        assert!(!SecretBytes::from_slice(b"x").is_empty());
    }

    #[test]
    fn truncate_wipes_tail() {
        let mut s = SecretBytes::from_slice(b"abcdef");
        s.truncate(2);
        assert_eq!(s.expose_secret(), b"ab");
        assert_eq!(s.len(), 2);
    }
}
