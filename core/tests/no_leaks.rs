//! No secret leaves its container:
//!
//! * a global allocator scans every freed and reallocated heap block for
//!   canary key material and canary plaintext while the whole record API
//!   runs (success and failure paths) and finds none;
//! * no `Debug` or `Display` output (keyring, secrets, errors, metadata)
//!   contains a secret byte in raw, hex or decimal-array form;
//! * on failure a caller's output buffer holds no plaintext.
//!
//! Everything runs in one `#[test]` because the allocator's counters are
//! process-wide and the harness would otherwise run tests in parallel.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use strongroom::rand_core::{TryCryptoRng, TryRng};
use strongroom::{
    EncryptionContext, Error, KeyId, KeyImport, KeyMaterial, Keyring, SecretBytes, SysRng,
    Timestamp, VersionImport, VersionState,
};

/// TEST DATA: canary key material, recognisable in memory.
const CANARY_KEY: [u8; 32] = *b"CANARY-KEY:strongroom-test-00001";
/// TEST DATA: canary plaintext.
const CANARY_PLAINTEXT: &[u8] = b"CANARY-PLAINTEXT:ssn=078-05-1120;card=4111111111111111";

static SCANNING: AtomicBool = AtomicBool::new(false);
static BLOCKS_SCANNED: AtomicUsize = AtomicUsize::new(0);
static KEY_HITS: AtomicUsize = AtomicUsize::new(0);
static PLAINTEXT_HITS: AtomicUsize = AtomicUsize::new(0);

struct ScanningAllocator;

/// Whether `needle` occurs in the block at `ptr` of `len` bytes.
///
/// # Safety
/// `ptr` must be valid for reads of `len` bytes.
unsafe fn block_contains(ptr: *const u8, len: usize, needle: &[u8]) -> bool {
    if len < needle.len() {
        return false;
    }
    'outer: for start in 0..=len - needle.len() {
        for (i, want) in needle.iter().enumerate() {
            // SAFETY: start + i < len, and the caller guarantees the block is
            // readable. Volatile reads: the block may hold bytes the program
            // never initialised; we only compare them.
            let got = unsafe { core::ptr::read_volatile(ptr.add(start + i)) };
            if got != *want {
                continue 'outer;
            }
        }
        return true;
    }
    false
}

fn scan(ptr: *const u8, len: usize) {
    if !SCANNING.load(Ordering::Relaxed) {
        return;
    }
    BLOCKS_SCANNED.fetch_add(1, Ordering::Relaxed);
    // Half of each canary is enough to count as a leak.
    // SAFETY: called from dealloc/realloc with a live block of `len` bytes.
    if unsafe { block_contains(ptr, len, &CANARY_KEY[..16]) } {
        KEY_HITS.fetch_add(1, Ordering::Relaxed);
    }
    // SAFETY: as above.
    if unsafe { block_contains(ptr, len, &CANARY_PLAINTEXT[..24]) } {
        PLAINTEXT_HITS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: every call is forwarded unchanged to the system allocator; the
// scan only reads the block before it is handed back.
unsafe impl GlobalAlloc for ScanningAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's own guarantees.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's own guarantees.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        scan(ptr, layout.size());
        // SAFETY: forwarded with the caller's own guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // The old block may be freed by the move: scan it first.
        scan(ptr, layout.size());
        // SAFETY: forwarded with the caller's own guarantees.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: ScanningAllocator = ScanningAllocator;

/// An RNG that hands out the canary for 32-byte requests (key generation)
/// and OS randomness for everything else (key ids, nonces), so generated
/// keys are recognisable too. TEST ONLY.
struct CanaryKeyRng;

impl TryRng for CanaryKeyRng {
    type Error = getrandom::Error;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        SysRng.try_next_u32()
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        SysRng.try_next_u64()
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        if dst.len() == 32 {
            dst.copy_from_slice(&CANARY_KEY);
            Ok(())
        } else {
            SysRng.try_fill_bytes(dst)
        }
    }
}

impl TryCryptoRng for CanaryKeyRng {}

fn ctx(row: &str) -> EncryptionContext {
    EncryptionContext::from_pairs([("table", "people"), ("row", row)]).unwrap()
}

/// The whole record API with canary secrets, success and failure paths.
fn exercise_api() {
    let t = Timestamp::from_unix_seconds(1_750_000_000);
    let mut keyring = Keyring::new();
    // A generated key whose material is the canary, then rotations.
    keyring
        .create_key_with("gen", &mut CanaryKeyRng, t)
        .unwrap();
    keyring.rotate_with("gen", &mut CanaryKeyRng, t).unwrap();
    // An imported key with canary material.
    let versions = vec![
        VersionImport::new(
            VersionState::Enabled,
            t,
            Some(KeyMaterial::from_slice(&CANARY_KEY).unwrap()),
        ),
        VersionImport::new(
            VersionState::Enabled,
            t,
            Some(KeyMaterial::from_slice(&CANARY_KEY).unwrap()),
        ),
    ];
    keyring
        .import_key(KeyImport::new("imp", KeyId::from_u32(42), t, versions))
        .unwrap();

    for name in ["gen", "imp"] {
        let binary = keyring
            .encrypt_record_with(name, CANARY_PLAINTEXT, &ctx("1"), &mut SysRng)
            .unwrap();
        let text = keyring
            .encrypt_record_with(name, CANARY_PLAINTEXT, &ctx("1"), &mut SysRng)
            .map(|r| strongroom::record::to_text(&r))
            .unwrap();
        for _ in 0..3 {
            let pt = keyring.decrypt_record(&binary, &ctx("1")).unwrap();
            assert_eq!(pt.expose_secret(), CANARY_PLAINTEXT);
            let pt = strongroom::record::from_text(&text)
                .and_then(|r| keyring.decrypt_record(&r, &ctx("1")))
                .unwrap();
            assert_eq!(pt.expose_secret(), CANARY_PLAINTEXT);
        }
        // Caller buffers on the stack: the caller owns wiping those.
        let mut out = [0u8; 128];
        let n = keyring
            .decrypt_record_into(&binary, &ctx("1"), &mut out)
            .unwrap();
        assert_eq!(&out[..n], CANARY_PLAINTEXT);
        out.fill(0);
        let mut enc = [0u8; 160];
        let n = keyring
            .encrypt_record_into(name, CANARY_PLAINTEXT, &ctx("1"), &mut SysRng, &mut enc)
            .unwrap();
        assert!(keyring.decrypt_record(&enc[..n], &ctx("1")).is_ok());
        // Rewrap (after a rotation, so it re-encrypts): the intermediate
        // plaintext must be wiped.
        keyring.rotate(name).unwrap();
        let rewrapped = keyring.rewrap_record(&binary, &ctx("1")).unwrap().unwrap();
        let rewrapped_text = strongroom::record::from_text(&text)
            .and_then(|r| keyring.rewrap_record(&r, &ctx("1")))
            .map(|o| o.map(|r| strongroom::record::to_text(&r)))
            .unwrap()
            .unwrap();
        assert!(keyring.decrypt_record(&rewrapped, &ctx("1")).is_ok());
        assert!(
            strongroom::record::from_text(&rewrapped_text)
                .and_then(|r| keyring.decrypt_record(&r, &ctx("1")))
                .is_ok()
        );
        // Failure paths: wrong context, tampering, truncation, bad text.
        assert!(keyring.decrypt_record(&binary, &ctx("2")).is_err());
        let mut bad = binary.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert!(keyring.decrypt_record(&bad, &ctx("1")).is_err());
        assert!(
            keyring
                .decrypt_record(&binary[..binary.len() - 1], &ctx("1"))
                .is_err()
        );
        assert!(
            strongroom::record::from_text(&text[..text.len() - 2])
                .and_then(|r| keyring.decrypt_record(&r, &ctx("1")))
                .is_err()
        );
        let mut fail_out = [0u8; 128];
        assert!(
            keyring
                .decrypt_record_into(&bad, &ctx("1"), &mut fail_out)
                .is_err()
        );
        assert!(fail_out.iter().all(|b| *b == 0));
        // Strings built from every type.
        let _ = format!(
            "{keyring:?} {:?} {}",
            keyring.keys(),
            strongroom::record::to_text(&binary)
        );
    }
    // Lifecycle: disable, destroy, drop.
    keyring.disable_version("gen", 1).unwrap();
    keyring.destroy_version("gen", 1).unwrap();
    keyring.destroy_version("imp", 1).unwrap();
    let secret = SecretBytes::from_slice(CANARY_PLAINTEXT);
    drop(secret);
    // A growing secret buffer (a stream's output): every growth moves the
    // bytes to a new block and wipes the old one, so no block holding
    // plaintext is ever handed to realloc or freed unwiped.
    let mut grown = SecretBytes::new();
    for _ in 0..8 {
        grown.extend_from_slice(CANARY_PLAINTEXT);
    }
    assert_eq!(grown.len(), 8 * CANARY_PLAINTEXT.len());
    grown.clear();
    grown.extend_from_slice(CANARY_PLAINTEXT);
    assert_eq!(grown.expose_secret(), CANARY_PLAINTEXT);
    drop(grown);
    drop(keyring);
}

fn check_strings_hold_no_secrets() -> usize {
    let t = Timestamp::from_unix_seconds(1);
    let mut keyring = Keyring::new();
    let versions = vec![VersionImport::new(
        VersionState::Enabled,
        t,
        Some(KeyMaterial::from_slice(&CANARY_KEY).unwrap()),
    )];
    keyring
        .import_key(KeyImport::new("k", KeyId::from_u32(7), t, versions))
        .unwrap();
    let record = keyring
        .encrypt_record("k", CANARY_PLAINTEXT, &ctx("1"))
        .unwrap();
    let plaintext = keyring.decrypt_record(&record, &ctx("1")).unwrap();
    let material = KeyMaterial::from_slice(&CANARY_KEY).unwrap();
    let mut errors: Vec<Error> = vec![
        keyring.decrypt_record(&record, &ctx("2")).unwrap_err(),
        keyring
            .decrypt_record(&record[..10], &ctx("1"))
            .unwrap_err(),
        strongroom::record::from_text("sr1:!!")
            .and_then(|r| keyring.decrypt_record(&r, &ctx("1")))
            .unwrap_err(),
        strongroom::record::from_text("nope")
            .and_then(|r| keyring.decrypt_record(&r, &ctx("1")))
            .unwrap_err(),
    ];
    keyring.rotate("k").unwrap();
    errors.push(keyring.destroy_version("k", 2).unwrap_err());
    keyring.destroy_version("k", 1).unwrap();
    errors.push(keyring.decrypt_record(&record, &ctx("1")).unwrap_err());
    let mut strings = vec![
        format!("{keyring:?}"),
        format!("{keyring:#?}"),
        format!("{:?}", keyring.keys()),
        format!("{plaintext:?}"),
        format!("{material:?}"),
        format!("{material:#?}"),
    ];
    for e in &errors {
        strings.push(format!("{e}"));
        strings.push(format!("{e:?}"));
    }
    let forms = |secret: &[u8]| -> Vec<String> {
        vec![
            String::from_utf8_lossy(&secret[..12]).into_owned(),
            hex::encode(&secret[..8]),
            hex::encode_upper(&secret[..8]),
            format!("{:?}", &secret[..6]),
            secret[..6]
                .iter()
                .map(|b| format!("{b:#04x}"))
                .collect::<Vec<_>>()
                .join(", "),
        ]
    };
    let needles: Vec<String> = forms(&CANARY_KEY)
        .into_iter()
        .chain(forms(CANARY_PLAINTEXT))
        .collect();
    for s in &strings {
        for needle in &needles {
            assert!(
                !s.contains(needle.as_str()),
                "secret form {needle:?} in {s:?}"
            );
        }
    }
    strings.len()
}

#[test]
fn no_secret_in_freed_memory_strings_or_failed_buffers() {
    // Positive control: the scanner must see an unwiped canary.
    SCANNING.store(true, Ordering::SeqCst);
    let leaked = CANARY_KEY.to_vec();
    drop(std::hint::black_box(leaked));
    let leaked = CANARY_PLAINTEXT.to_vec();
    drop(std::hint::black_box(leaked));
    SCANNING.store(false, Ordering::SeqCst);
    assert_eq!(
        KEY_HITS.swap(0, Ordering::SeqCst),
        1,
        "scanner missed the key canary"
    );
    assert_eq!(
        PLAINTEXT_HITS.swap(0, Ordering::SeqCst),
        1,
        "scanner missed the plaintext canary"
    );
    BLOCKS_SCANNED.store(0, Ordering::SeqCst);

    SCANNING.store(true, Ordering::SeqCst);
    exercise_api();
    let strings = check_strings_hold_no_secrets();
    SCANNING.store(false, Ordering::SeqCst);

    let blocks = BLOCKS_SCANNED.load(Ordering::SeqCst);
    let key_hits = KEY_HITS.load(Ordering::SeqCst);
    let pt_hits = PLAINTEXT_HITS.load(Ordering::SeqCst);
    println!(
        "leak scan: {blocks} freed/reallocated heap blocks scanned, {key_hits} with canary key bytes, {pt_hits} with canary plaintext; {strings} Debug/Display strings checked, 0 secret forms found"
    );
    assert!(blocks > 100, "the scan saw too little to mean anything");
    assert_eq!(key_hits, 0, "key material left in freed memory");
    assert_eq!(pt_hits, 0, "plaintext left in freed memory");
}
