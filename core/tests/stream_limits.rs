//! Stream limits (issue #10, point 4): thread counts are checked and fixed
//! before a stream takes input, and a stream's memory is bounded by a
//! constant whatever the chunk size and the thread count. Peak RSS is
//! measured in child processes (getrusage), one per case.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

mod common;

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::keyring_at_version;
use strongroom::envelope::{
    EnvelopeDecryptor, EnvelopeEncryptor, EnvelopeReader, EnvelopeWriter, MAX_BATCH_BYTES,
    MAX_CHUNK_SIZE, MAX_THREADS, Recipient,
};
use strongroom::{EncryptionContext, Error, SecretBytes, SysRng};

fn ctx() -> EncryptionContext {
    EncryptionContext::new().with("test", "limits").unwrap()
}

#[test]
fn thread_counts_are_checked_and_fixed_before_input() {
    let keyring = Arc::new(keyring_at_version("k", 1));
    let recipients = [Recipient::Key {
        keyring: &keyring,
        name: "k",
    }];
    let (mut enc, header) = EnvelopeEncryptor::new(&recipients, &ctx(), 64, &mut SysRng).unwrap();
    for bad in [0, MAX_THREADS + 1, usize::MAX, 1 << 62] {
        assert!(
            matches!(enc.set_threads(bad), Err(Error::InvalidArgument { .. })),
            "{bad}"
        );
    }
    enc.set_threads(MAX_THREADS).unwrap();
    enc.set_threads(2).unwrap();
    let mut env = header;
    enc.update(&[7u8; 1000], &mut env).unwrap();
    // Mid-stream: refused, and the stream goes on unchanged.
    assert!(matches!(
        enc.set_threads(4),
        Err(Error::InvalidArgument { .. })
    ));
    enc.update(&[7u8; 1000], &mut env).unwrap();
    enc.finish(&mut env).unwrap();

    let mut dec = EnvelopeDecryptor::new(keyring.clone(), &ctx());
    assert!(dec.set_threads(0).is_err() && dec.set_threads(MAX_THREADS + 1).is_err());
    dec.set_threads(3).unwrap();
    let mut plain = SecretBytes::new();
    dec.update(&env[..10], &mut plain).unwrap();
    assert!(matches!(
        dec.set_threads(1),
        Err(Error::InvalidArgument { .. })
    ));
    dec.update(&env[10..], &mut plain).unwrap();
    dec.finish(&mut plain).unwrap();
    assert_eq!(plain.expose_secret(), &[7u8; 2000][..]);
}

const CHILD_ENV: &str = "STRONGROOM_LIMITS_CHILD";
const PLAINTEXT_MIB: usize = 160;

/// Peak resident set size of this process, in MiB.
fn peak_rss_mib() -> f64 {
    // SAFETY: getrusage writes one rusage struct into the zeroed value.
    let mut usage: libc::rusage = unsafe { core::mem::zeroed() };
    // SAFETY: as above; RUSAGE_SELF is always valid.
    assert_eq!(unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) }, 0);
    usage.ru_maxrss as f64 / 1024.0
}

/// The child: encrypt PLAINTEXT_MIB MiB (16 MiB chunks) to the file, or
/// decrypt the file, on the given threads; prints the peak RSS.
#[test]
#[ignore = "child process of stream_memory_is_bounded_by_a_constant"]
fn child_stream() {
    let spec = std::env::var(CHILD_ENV).expect("run by the parent test");
    let (mode, rest) = spec.split_once(':').unwrap();
    let (threads, path) = rest.split_once(':').unwrap();
    let threads: usize = threads.parse().unwrap();
    let keyring = Arc::new(keyring_at_version("k", 1));
    let before = peak_rss_mib();
    if mode == "encrypt" {
        let recipients = [Recipient::Key {
            keyring: &keyring,
            name: "k",
        }];
        let file = io::BufWriter::new(std::fs::File::create(path).unwrap());
        let mut w = EnvelopeWriter::new(file, &recipients, &ctx(), MAX_CHUNK_SIZE, &mut SysRng)
            .unwrap()
            .with_threads(threads)
            .unwrap();
        let block = vec![0x42u8; 1 << 20];
        for _ in 0..PLAINTEXT_MIB {
            w.write_all(&block).unwrap();
        }
        w.finish().unwrap();
    } else {
        let file = std::fs::File::open(path).unwrap();
        let mut r = EnvelopeReader::new(file, keyring, &ctx())
            .with_threads(threads)
            .unwrap();
        let mut buf = vec![0u8; 1 << 20];
        let mut total = 0usize;
        loop {
            let n = r.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            total += n;
        }
        assert_eq!(total, PLAINTEXT_MIB << 20);
    }
    println!(
        "child: rss_before={before:.1} rss_peak={:.1}",
        peak_rss_mib()
    );
}

fn run_child(mode: &str, threads: usize, path: &Path) -> (f64, f64) {
    let line = common::run_child_test(
        "child_stream",
        CHILD_ENV,
        &format!("{mode}:{threads}:{}", path.display()),
    );
    let num = |key: &str| -> f64 {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(key))
            .unwrap()
            .parse()
            .unwrap()
    };
    (num("rss_before="), num("rss_peak="))
}

#[test]
fn stream_memory_is_bounded_by_a_constant() {
    let dir: PathBuf = common::fresh_dir("limits");
    let path = dir.join("big.sr");
    // The documented bound: one batch of plaintext staged, one of
    // ciphertext buffered, and the caller-facing buffer that releases it
    // (which may double once), so 4 x MAX_BATCH_BYTES, plus the process.
    let bound_mib = ((4 * MAX_BATCH_BYTES) >> 20) as f64;
    let mut lines = Vec::new();
    for (mode, threads) in [
        ("encrypt", 1),
        ("decrypt", 1),
        ("decrypt", 2),
        ("decrypt", 8),
        ("encrypt", 8),
    ] {
        let (before, peak) = run_child(mode, threads, &path);
        let grew = peak - before;
        lines.push(format!(
            "{mode} x{threads}: peak {peak:.0} MiB (+{grew:.0})"
        ));
        assert!(
            grew < bound_mib,
            "{mode} on {threads} threads grew by {grew:.0} MiB, over the {bound_mib} MiB bound"
        );
    }
    println!(
        "stream memory, {PLAINTEXT_MIB} MiB in 16 MiB chunks (bound {bound_mib} MiB over the process): {}",
        lines.join("; ")
    );
    std::fs::remove_dir_all(&dir).ok();
}
