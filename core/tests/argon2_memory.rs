//! The Argon2 working memory never reaches the allocator unwiped (issue
//! #10, point 1). A global allocator inspects every large block as it is
//! freed: after a passphrase open, none holds a non-zero byte, and no freed
//! block of any size holds the KEK, the sealing key or a key version. Positive control: the
//! `argon2` crate's own allocating call, under the same scan, frees its
//! working memory with the state that rebuilds the KEK still in it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use common::{keyring_with, test_material};
use strongroom::VersionState;
use strongroom::keyring_file;
use strongroom::root::{Argon2Params, PassphraseRoot};

/// Freed blocks at least this large are Argon2 working memory candidates.
const LARGE: usize = 64 * 1024;
const NEEDLES: usize = 4;

struct ScanningAllocator;

static ARMED: AtomicBool = AtomicBool::new(false);
static LARGE_FREED: AtomicUsize = AtomicUsize::new(0);
static LARGE_DIRTY: AtomicUsize = AtomicUsize::new(0);
static NEEDLE_HITS: AtomicUsize = AtomicUsize::new(0);
/// 32-byte secrets to look for in every freed block (no allocation here).
static NEEDLE_SET: Mutex<[[u8; 32]; NEEDLES]> = Mutex::new([[0; 32]; NEEDLES]);
static SERIAL: Mutex<()> = Mutex::new(());

// SAFETY: forwards every call to the system allocator unchanged; `dealloc`
// only reads the block it is handed before forwarding it.
unsafe impl GlobalAlloc for ScanningAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if ARMED.load(Ordering::Relaxed) {
            // SAFETY: the block is live and `layout.size()` bytes long until
            // it is forwarded below.
            let bytes = unsafe { std::slice::from_raw_parts(ptr, layout.size()) };
            if layout.size() >= LARGE {
                LARGE_FREED.fetch_add(1, Ordering::Relaxed);
                if bytes.iter().any(|b| *b != 0) {
                    LARGE_DIRTY.fetch_add(1, Ordering::Relaxed);
                }
            }
            if let Ok(needles) = NEEDLE_SET.try_lock() {
                for needle in needles.iter().filter(|n| n.iter().any(|b| *b != 0)) {
                    if bytes.windows(32).any(|w| w == needle) {
                        NEEDLE_HITS.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: ScanningAllocator = ScanningAllocator;

/// (large blocks freed, of them not all zero, needle hits) while `f` runs.
fn scan(f: impl FnOnce()) -> (usize, usize, usize) {
    LARGE_FREED.store(0, Ordering::SeqCst);
    LARGE_DIRTY.store(0, Ordering::SeqCst);
    NEEDLE_HITS.store(0, Ordering::SeqCst);
    ARMED.store(true, Ordering::SeqCst);
    f();
    ARMED.store(false, Ordering::SeqCst);
    (
        LARGE_FREED.load(Ordering::SeqCst),
        LARGE_DIRTY.load(Ordering::SeqCst),
        NEEDLE_HITS.load(Ordering::SeqCst),
    )
}

/// The KEK and the sealing key of a passphrase-root file (FORMAT.md 10.1-
/// 10.3; a version-2 file, params at offset 32), computed outside the
/// scan: KEK = Argon2id(passphrase, salt) with the file's parameters, then
/// the 72-byte wrap at offset 62 opened with it (which also proves the KEK
/// right).
fn keys_of(file: &[u8], passphrase: &[u8], p: Argon2Params) -> ([u8; 32], [u8; 32]) {
    assert_eq!(file[4], 2, "a version-2 file");
    let kek = kek_of_salt(passphrase, &file[32 + 12..32 + 28], p);
    let sealing = sealing_key(file, &kek);
    (kek, sealing)
}

#[test]
fn passphrase_opens_free_no_argon2_state_and_no_key() {
    let _serial = SERIAL.lock().unwrap();
    let passphrase = b"argon2 memory test passphrase";
    let keyring = keyring_with("k", &[VersionState::Enabled; 2], 2, 1);
    for (label, p) in [
        (
            "small",
            Argon2Params {
                m_cost_kib: 256,
                t_cost: 1,
                p_cost: 1,
            },
        ),
        ("default", Argon2Params::DEFAULT),
    ] {
        let root = PassphraseRoot::with_params(passphrase, p);
        let file = keyring_file::encrypt(&keyring, &root, &mut strongroom::SysRng).unwrap();
        let (kek, sealing) = keys_of(&file, passphrase, p);
        *NEEDLE_SET.lock().unwrap() = [kek, sealing, test_material(1), test_material(2)];
        let (freed, dirty, hits) = scan(|| {
            let opened = keyring_file::decrypt(&file, &root).unwrap();
            drop(opened);
        });
        println!(
            "argon2 memory ({label}, m={} KiB): {freed} large blocks freed, {dirty} not wiped; \
             KEK, sealing key or key version found in freed memory {hits} times",
            p.m_cost_kib
        );
        assert!(freed >= 1, "the scan saw no Argon2 working memory");
        assert_eq!(dirty, 0, "freed Argon2 memory was not wiped");
        assert_eq!(hits, 0, "a secret reached the allocator unwiped");

        // Positive control: the crate's allocating call leaves its state.
        // The file's salt (version 2: parameters at 32, salt at 44), so
        // the state left is the one that rebuilds this file's KEK.
        let salt = file[32 + 12..32 + 28].to_vec();
        let (freed, dirty, _) = scan(|| {
            let _ = kek_of_salt(passphrase, &salt, p);
        });
        println!(
            "argon2 memory ({label}), control: argon2's own buffer, {freed} freed, {dirty} not wiped"
        );
        assert!(
            dirty >= 1,
            "the control freed clean memory: the scan proves nothing"
        );
    }
    *NEEDLE_SET.lock().unwrap() = [[0; 32]; NEEDLES];
}

#[path = "common/kek.rs"]
mod kek;
use kek::{kek_of_salt, sealing_key};
