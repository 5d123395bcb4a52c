//! Locked memory tells the truth: what `secure_memory::status()` reports
//! matches what the kernel says about the key pages in /proc/self/smaps
//! (`lo` = locked, `dd` = excluded from core dumps), both here and in a
//! child that may not lock memory (`ulimit -l 0` without CAP_IPC_LOCK).
//!
//! A unit test of the crate (not an integration test) so that the page
//! addresses it checks need no public test hook.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

use alloc::string::{String, ToString};
use std::println;
use std::process::Command;

use super::{require_locked, status_and_pages};
use crate::{Error, KeyMaterial, SysRng};

const CHILD_ENV: &str = "STRONGROOM_LOCKED_CHILD";

/// (locked kB, has `lo`, has `dd`) for the mapping that starts at `addr`.
fn smaps_for(addr: usize) -> (u64, bool, bool) {
    let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
    let mut inside = false;
    let (mut locked_kb, mut lo, mut dd) = (0, false, false);
    for line in smaps.lines() {
        if let Some((range, _)) = line.split_once(' ')
            && let Some((start, end)) = range.split_once('-')
            && let (Ok(start), Ok(end)) = (
                usize::from_str_radix(start, 16),
                usize::from_str_radix(end, 16),
            )
        {
            inside = (start..end).contains(&addr);
            continue;
        }
        if !inside {
            continue;
        }
        if let Some(v) = line.strip_prefix("Locked:") {
            locked_kb = v.trim().trim_end_matches(" kB").trim().parse().unwrap();
        }
        if let Some(flags) = line.strip_prefix("VmFlags:") {
            lo = flags.split_whitespace().any(|f| f == "lo");
            dd = flags.split_whitespace().any(|f| f == "dd");
        }
    }
    (locked_kb, lo, dd)
}

/// Makes a key, then compares the API's report with the kernel's, page by
/// page. Returns (api says locked, kernel says locked, require_locked ok).
fn check_truthful() -> (bool, bool, bool) {
    let key = KeyMaterial::generate(&mut SysRng).unwrap();
    let (status, pages) = status_and_pages();
    assert!(!pages.is_empty() && status.pages == pages.len());
    let mut kernel_locked = true;
    let mut kernel_dd = true;
    for addr in &pages {
        let (kb, lo, dd) = smaps_for(*addr);
        kernel_locked &= lo && kb > 0;
        kernel_dd &= dd;
    }
    assert_eq!(
        status.locked, kernel_locked,
        "API and kernel disagree on locking"
    );
    assert_eq!(
        status.excluded_from_core_dumps, kernel_dd,
        "API and kernel disagree on no-dump"
    );
    let required = require_locked();
    assert_eq!(
        required.is_ok(),
        status.locked && status.excluded_from_core_dumps
    );
    if let Err(e) = &required {
        assert!(matches!(e, Error::MemoryNotLocked { .. }));
    }
    drop(key);
    (status.locked, kernel_locked, required.is_ok())
}

/// The child of the test below; run only by it.
#[test]
#[ignore = "child process of status_matches_the_kernel_here_and_under_a_zero_memlock_limit"]
fn child_entry() {
    assert!(std::env::var(CHILD_ENV).is_ok(), "run by the parent test");
    let (api, kernel, required) = check_truthful();
    println!("child: api_locked={api} kernel_locked={kernel} require_ok={required}");
}

#[test]
fn status_matches_the_kernel_here_and_under_a_zero_memlock_limit() {
    let (api, kernel, required) = check_truthful();
    println!(
        "locked memory (this process): API says locked={api}, /proc/self/smaps says locked={kernel}, require_locked ok={required}"
    );
    // A child without CAP_IPC_LOCK and with RLIMIT_MEMLOCK = 0 cannot lock.
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -l 0 && exec setpriv --bounding-set=-ipc_lock "$0" secure_memory::kernel_tests::child_entry --exact --ignored --nocapture --test-threads=1"#)
        .arg(&exe)
        .env(CHILD_ENV, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("child: ").map(|(_, r)| r.to_string()))
        .expect("child report");
    println!("locked memory (ulimit -l 0, no CAP_IPC_LOCK): {line}");
    assert_eq!(
        line, "api_locked=false kernel_locked=false require_ok=false",
        "the failure path was not exercised truthfully"
    );
}

/// The VmFlags of the mapping that holds `addr`.
fn flags_for(addr: usize) -> alloc::vec::Vec<String> {
    let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
    let mut inside = false;
    for line in smaps.lines() {
        if let Some((range, _)) = line.split_once(' ')
            && let Some((start, end)) = range.split_once('-')
            && let (Ok(start), Ok(end)) = (
                usize::from_str_radix(start, 16),
                usize::from_str_radix(end, 16),
            )
        {
            inside = (start..end).contains(&addr);
            continue;
        }
        if inside && let Some(flags) = line.strip_prefix("VmFlags:") {
            return flags.split_whitespace().map(ToString::to_string).collect();
        }
    }
    panic!("no mapping holds {addr:#x}");
}

#[test]
fn a_protected_region_is_locked_undumped_and_not_forked_until_released() {
    // A region like the Argon2 working memory: 1 MiB on the heap.
    let buf = alloc::vec![0u8; 1 << 20];
    let middle = buf.as_ptr() as usize + (1 << 19);
    let guard = super::protect_region(buf.as_ptr(), buf.len());
    let during = flags_for(middle);
    drop(guard);
    let after = flags_for(middle);
    println!("protected region flags: during {during:?}, after {after:?}");
    // `dc`: VM_DONTCOPY (MADV_DONTFORK); `dd`: no core dump.
    for flag in ["dc", "dd"] {
        assert!(
            during.iter().any(|f| f == flag),
            "{flag} missing: {during:?}"
        );
        assert!(!after.iter().any(|f| f == flag), "{flag} left: {after:?}");
    }
    drop(buf);
}
