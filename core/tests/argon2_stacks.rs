//! The threads Argon2's lanes run on leave no key-derived bytes on their
//! stacks (kdf.rs, `lanes`: each worker overwrites 128 KiB of its stack
//! before it exits). glibc keeps an exited thread's stack mapped for the
//! next thread, so what a worker leaves there stays readable. The stacks
//! are read by a separate process through /proc/PID/mem (this process
//! then makes no copy in the memory it scans), for the KEK of a passphrase
//! root, after a seal and an open with p = 4.
//!
//! The same scan over the heap and glibc's thread arenas (where every
//! thread but the main one allocates, the test's own thread included)
//! finds no KEK and no sealing key after opens at p = 1, 2 and 4: the
//! live-memory counterpart of `argon2_memory`'s freed-block scan.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

mod common;
#[path = "common/kek.rs"]
mod kek;

use common::keyring_with;
use kek::{kek_of_salt, sealing_key};
use strongroom::VersionState;
use strongroom::keyring_file;
use strongroom::root::{Argon2Params, PassphraseRoot};

/// The two tests run one at a time: each starts threads whose stacks
/// glibc may hand to the other's threads (an Argon2 lane of one test
/// reusing, and scrubbing, the stack the other's control left its KEK on).
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

const P: Argon2Params = Argon2Params {
    m_cost_kib: 1024,
    t_cost: 1,
    p_cost: 4,
};

/// Counts `needle` on this process's thread stacks, but in the mapping
/// that holds `skip` (the calling thread's stack, which holds the test's
/// own copy). A thread stack is an anonymous writable mapping right above
/// its guard page (one small `---p` mapping); a glibc thread arena, which
/// also follows a `---p` mapping (the previous arena's reserve), starts at
/// a 64 MiB boundary and is left out.
fn count(needle: &[u8; 32], skip: usize) -> usize {
    scan_for(needle, skip, "stacks")
}

/// Counts `needle` in the heap (`[heap]`, the main thread's arena) and in
/// the thread arenas (anonymous writable mappings at a 64 MiB boundary).
fn count_in_heap(needle: &[u8; 32]) -> usize {
    scan_for(needle, 0, "heap")
}

fn scan_for(needle: &[u8; 32], skip: usize, region: &str) -> usize {
    let hex: String = needle.iter().map(|b| format!("{b:02x}")).collect();
    let pid = std::process::id().to_string();
    let out = std::process::Command::new("python3")
        .args(["-c", SCANNER, &pid, &hex, &skip.to_string(), region])
        .output()
        .expect("python3 runs the scanner");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

const SCANNER: &str = r#"
import sys
pid, needle, skip, region = sys.argv[1], bytes.fromhex(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
hits, prev = 0, None
with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
    for line in maps:
        f = line.split()
        lo, hi = (int(x, 16) for x in f[0].split("-"))
        path = f[5] if len(f) > 5 else ""
        small_guard = prev is not None and prev[2] == "---p" and prev[1] == lo and prev[1] - prev[0] <= 65536
        prev = (lo, hi, f[1])
        if not f[1].startswith("rw") or lo <= skip < hi:
            continue
        arena = lo % (64 << 20) == 0
        if region == "heap":
            if not (path == "[heap]" or (not path and arena)):
                continue
        elif path or not small_guard or arena:
            continue
        try:
            mem.seek(lo)
            buf = mem.read(hi - lo)
        except OSError:
            continue
        at = buf.find(needle)
        while at >= 0:
            hits += 1
            print(f"  {region} {f[0]} ({(hi - lo) // 1024} KiB) at +{at:#x}", file=sys.stderr)
            at = buf.find(needle, at + 1)
print(hits)
"#;

/// A sealed file, its root, and its KEK.
fn setup() -> (Vec<u8>, PassphraseRoot, [u8; 32]) {
    let passphrase = b"argon2 stack test passphrase";
    let keyring = keyring_with("k", &[VersionState::Enabled; 1], 1, 1);
    let root = PassphraseRoot::with_params(passphrase, P);
    let file = keyring_file::encrypt(&keyring, &root, &mut strongroom::SysRng).unwrap();
    // A version-2 file: the 28-byte parameter block at 32, its salt at 44.
    let kek = kek_of_salt(passphrase, &file[44..60], P);
    (file, root, kek)
}

/// (cargo-mutants: shrinking the scrub to 1 KiB or 0, or dropping it,
/// survived without this test.)
#[test]
fn argon2_worker_stacks_keep_no_kek() {
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let (file, root, kek) = setup();
    let here = 0u8;
    let skip = core::ptr::from_ref(&here) as usize;
    let after_seal = count(&kek, skip);
    drop(keyring_file::decrypt(&file, &root).unwrap());
    let after_open = count(&kek, skip);
    // Control: the same hash on a thread of the pool's stack size that
    // exits without scrubbing leaves the KEK, and the scan sees it.
    let salt = file[44..60].to_vec();
    std::thread::Builder::new()
        .stack_size(1024 * 1024)
        .spawn(move || {
            let _ = kek_of_salt(b"argon2 stack test passphrase", &salt, P);
        })
        .unwrap()
        .join()
        .unwrap();
    let control = count(&kek, skip);
    println!(
        "argon2 stacks: KEK on other threads' stacks {after_seal} times after the seal, \
         {after_open} after the open, {control} after the unscrubbed control"
    );
    assert_eq!(after_seal, 0, "the KEK outlived the seal's Argon2 threads");
    assert_eq!(after_open, 0, "the KEK outlived the open's Argon2 threads");
    assert!(
        control > 0,
        "the control left no KEK: the scan proves nothing"
    );
}

#[test]
fn the_heap_and_thread_arenas_keep_no_kek_or_sealing_key_after_an_open() {
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let passphrase = b"argon2 heap test passphrase";
    let keyring = keyring_with("k", &[VersionState::Enabled; 2], 2, 1);
    let mut report = Vec::new();
    for p_cost in [1, 2, 4] {
        let p = Argon2Params {
            m_cost_kib: 1024,
            t_cost: 1,
            p_cost,
        };
        let root = PassphraseRoot::with_params(passphrase, p);
        let file = keyring_file::encrypt(&keyring, &root, &mut strongroom::SysRng).unwrap();
        let kek = kek_of_salt(passphrase, &file[44..60], p);
        let sealing = sealing_key(&file, &kek);
        drop(keyring_file::decrypt(&file, &root).unwrap());
        report.push((p_cost, count_in_heap(&kek), count_in_heap(&sealing)));
    }
    // Control: the scan finds a copy on the heap of another thread.
    let planted = [0xa7u8; 32];
    let held = std::thread::spawn(move || Box::new(planted))
        .join()
        .unwrap();
    let control = count_in_heap(&planted);
    drop(held);
    println!(
        "argon2 heap: (p, KEK copies, sealing-key copies) in the heap and thread arenas \
         after an open: {report:?}; the planted control found {control} times"
    );
    assert!(
        report.iter().all(|&(_, k, s)| k == 0 && s == 0),
        "a key outlived the open in live heap memory: {report:?}"
    );
    assert!(
        control >= 1,
        "the scan missed the planted copy: it proves nothing"
    );
}
