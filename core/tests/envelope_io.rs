//! The std I/O adapters: an encrypting `Write` that must be finished, a
//! decrypting `Read`, and random access through `Read + Seek` that decrypts
//! only the chunks a read covers (100 MiB, 1,000 random reads).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

mod common;

use std::io::{Cursor, ErrorKind, Read, Seek, SeekFrom, Write};

use common::{SeededRng, keyring_at_version};
use strongroom::envelope::{
    EnvelopeReader, EnvelopeSeekReader, EnvelopeWriter, Identity, Recipient,
};
use strongroom::rand_core::TryRng;
use strongroom::{EncryptionContext, Keyring, SysRng};

fn ctx() -> EncryptionContext {
    EncryptionContext::new().with("file", "dump.sql").unwrap()
}

fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut out = vec![0u8; len];
    SeededRng::new(seed).try_fill_bytes(&mut out).unwrap();
    out
}

fn seal_streaming(keyring: &Keyring, plaintext: &[u8], chunk: u32, write_size: usize) -> Vec<u8> {
    let recipients = [Recipient::Key { keyring, name: "k" }];
    let mut w = EnvelopeWriter::new(Vec::new(), &recipients, &ctx(), chunk, &mut SysRng).unwrap();
    for piece in plaintext.chunks(write_size.max(1)) {
        w.write_all(piece).unwrap();
    }
    w.finish().unwrap()
}

#[test]
fn writer_and_reader_round_trip_for_any_split() {
    let keyring = std::sync::Arc::new(keyring_at_version("k", 1));
    for (len, write_size, read_size) in [
        (0, 1, 1),
        (1, 1, 7),
        (4096, 100, 4096),
        (70_000, 65_536, 1),
        (200_000, 3, 65_537),
    ] {
        let pt = data(len, len as u64);
        let sealed = seal_streaming(&keyring, &pt, 4096, write_size);
        assert_eq!(
            common::decrypt_envelope(&keyring, &sealed, &ctx())
                .unwrap()
                .expose_secret(),
            &pt[..]
        );
        let mut r = EnvelopeReader::new(Cursor::new(&sealed), keyring.clone(), &ctx());
        let mut back = Vec::new();
        let mut buf = vec![0u8; read_size];
        loop {
            let n = r.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            back.extend_from_slice(&buf[..n]);
        }
        assert_eq!(back, pt, "len {len}");
    }
}

#[test]
fn an_unfinished_writer_and_a_truncated_stream_never_read_as_complete() {
    let keyring = std::sync::Arc::new(keyring_at_version("k", 1));
    let pt = data(10_000, 1);
    let recipients = [Recipient::Key {
        keyring: &keyring,
        name: "k",
    }];
    let mut w = EnvelopeWriter::new(Vec::new(), &recipients, &ctx(), 1024, &mut SysRng).unwrap();
    w.write_all(&pt).unwrap();
    // Drop without finish: whatever reached the inner writer is incomplete.
    let partial = {
        let mut out = Vec::new();
        let mut w2 = EnvelopeWriter::new(&mut out, &recipients, &ctx(), 1024, &mut SysRng).unwrap();
        w2.write_all(&pt).unwrap();
        drop(w2);
        out
    };
    drop(w);
    let mut r = EnvelopeReader::new(Cursor::new(&partial), keyring.clone(), &ctx());
    let mut back = Vec::new();
    let err = r.read_to_end(&mut back).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData);
    assert!(
        pt.starts_with(&back) && back.len() < pt.len(),
        "released {} bytes",
        back.len()
    );
    assert!(r.read(&mut [0u8; 16]).is_err(), "errors are sticky");
    // A finished file cut inside its last chunk.
    let full = seal_streaming(&keyring, &pt, 1024, 333);
    let cut = &full[..full.len() - 5];
    let mut back = Vec::new();
    let mut r = EnvelopeReader::new(Cursor::new(cut), keyring.clone(), &ctx());
    assert!(r.read_to_end(&mut back).is_err());
    assert!(pt.starts_with(&back) && back.len() < pt.len());
}

#[test]
fn random_access_over_100_mib_decrypts_only_the_chunks_it_needs() {
    let keyring = keyring_at_version("k", 1);
    let len = 100 << 20;
    let chunk = 65_536u64;
    let pt = data(len, 42);
    let sealed = seal_streaming(&keyring, &pt, chunk as u32, 1 << 20);
    let mut r =
        EnvelopeSeekReader::new(Cursor::new(&sealed), Identity::Keyring(&keyring), &ctx()).unwrap();
    assert_eq!(r.len(), len as u64);
    assert_eq!(r.chunks_decrypted(), 0, "opening decrypts nothing");
    let mut rng = SeededRng::new(7);
    let (mut reads, mut bytes, mut last_chunk) = (0, 0u64, None::<u64>);
    for _ in 0..1000 {
        let offset = rng.try_next_u64().unwrap() % len as u64;
        let want = (rng.try_next_u64().unwrap() % (300 * 1024)).min(len as u64 - offset) as usize;
        let before = r.chunks_decrypted();
        r.seek(SeekFrom::Start(offset)).unwrap();
        let mut buf = vec![0u8; want];
        r.read_exact(&mut buf).unwrap();
        assert_eq!(
            buf,
            pt[offset as usize..offset as usize + want],
            "offset {offset} len {want}"
        );
        // Exactly the chunks the read covers, less one if the first was
        // the chunk the previous read ended in (it is cached).
        if want > 0 {
            let (first, last) = (offset / chunk, (offset + want as u64 - 1) / chunk);
            let cached = u64::from(last_chunk == Some(first));
            assert_eq!(
                r.chunks_decrypted() - before,
                last - first + 1 - cached,
                "offset {offset} len {want}"
            );
            last_chunk = Some(last);
        }
        reads += 1;
        bytes += want as u64;
    }
    // Seeking from the end and reading past it.
    r.seek(SeekFrom::End(-10)).unwrap();
    let mut tail = Vec::new();
    r.read_to_end(&mut tail).unwrap();
    assert_eq!(tail, pt[len - 10..]);
    println!(
        "random access (100 MiB, 64 KiB chunks): {reads} random reads, {} MiB read, {} chunks decrypted in all, each read exactly the chunks it covers",
        bytes >> 20,
        r.chunks_decrypted()
    );
    // A tampered chunk fails only the reads that touch it.
    let mut bad = sealed.clone();
    let hdr = sealed.len() - (len + (len / chunk as usize) * 16);
    bad[hdr + 5 * (chunk as usize + 16) + 7] ^= 1;
    let mut r =
        EnvelopeSeekReader::new(Cursor::new(&bad), Identity::Keyring(&keyring), &ctx()).unwrap();
    let mut buf = vec![0u8; 100];
    r.seek(SeekFrom::Start(4 * chunk)).unwrap();
    r.read_exact(&mut buf).unwrap();
    r.seek(SeekFrom::Start(5 * chunk + 10)).unwrap();
    assert_eq!(
        r.read_exact(&mut buf).unwrap_err().kind(),
        ErrorKind::InvalidData
    );
}
