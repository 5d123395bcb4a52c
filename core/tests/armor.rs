//! The armored envelope (FORMAT.md 12): round trips at every length around
//! the line boundaries, and the streaming reader and writer against the
//! whole-buffer functions. Every strictness rule has a golden vector
//! (`golden_armor.rs`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

use std::io::{Read, Write};

use strongroom::envelope::{self, ArmorReader, ArmorWriter, armor, dearmor, is_armored};
use strongroom::{EncryptionContext, Keyring, SysRng};

fn bytes(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 37 + n) as u8).collect()
}

#[test]
fn round_trips_at_every_length_and_streams_match_whole_buffers() {
    for n in (1..=200).chain([4095, 4096, 4097, 100_000]) {
        let data = bytes(n);
        let text = armor(&data);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], envelope::ARMOR_BEGIN);
        assert_eq!(*lines.last().unwrap(), envelope::ARMOR_END);
        assert!(text.ends_with("-----\n") && !text.contains('\r'));
        let body = &lines[1..lines.len() - 1];
        assert_eq!(body.len(), n.div_ceil(48), "n = {n}");
        for l in &body[..body.len() - 1] {
            assert_eq!(l.len(), 64);
        }
        assert!((4..=64).contains(&body.last().unwrap().len()));
        assert_eq!(dearmor(text.as_bytes()).unwrap(), data, "n = {n}");
        // Written in odd pieces, read in odd pieces: the same bytes.
        let mut w = ArmorWriter::new(Vec::new());
        for piece in data.chunks(7) {
            w.write_all(piece).unwrap();
        }
        assert_eq!(w.finish().unwrap(), text.as_bytes());
        let mut r = ArmorReader::new(text.as_bytes());
        let mut back = Vec::new();
        let mut buf = [0u8; 5];
        loop {
            let k = r.read(&mut buf).unwrap();
            if k == 0 {
                break;
            }
            back.extend_from_slice(&buf[..k]);
        }
        assert_eq!(back, data);
        assert!(is_armored(text.as_bytes()) && is_armored(&text.as_bytes()[..3]));
    }
    assert!(!is_armored(b"SREN\x01") && !is_armored(b""));
    assert!(
        ArmorWriter::new(Vec::new()).finish().is_err(),
        "an empty body"
    );
}

/// A writer that counts the flushes that reach it.
struct CountingFlushes<'a> {
    out: Vec<u8>,
    flushes: &'a std::cell::Cell<u32>,
}

impl Write for CountingFlushes<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.flushes.set(self.flushes.get() + 1);
        Ok(())
    }
}

#[test]
fn flush_and_finish_reach_the_inner_writer() {
    let flushes = std::cell::Cell::new(0);
    let mut w = ArmorWriter::new(CountingFlushes {
        out: Vec::new(),
        flushes: &flushes,
    });
    w.write_all(&bytes(100)).unwrap();
    assert_eq!(flushes.get(), 0);
    w.flush().unwrap();
    assert_eq!(flushes.get(), 1);
    let inner = w.finish().unwrap();
    assert_eq!(flushes.get(), 2);
    assert_eq!(inner.out, armor(&bytes(100)).as_bytes());
}

#[test]
fn a_real_envelope_armors_and_opens() {
    let mut k = Keyring::new();
    k.create_key("files").unwrap();
    let ctx = EncryptionContext::new().with("a", "b").unwrap();
    let recipients = [envelope::Recipient::Key {
        keyring: &k,
        name: "files",
    }];
    let env = envelope::encrypt(&recipients, &bytes(5000), &ctx, 1024, &mut SysRng).unwrap();
    let text = armor(&env);
    let plain = envelope::decrypt(
        envelope::Identity::Keyring(&k),
        &dearmor(text.as_bytes()).unwrap(),
        &ctx,
    )
    .unwrap();
    assert_eq!(plain.expose_secret(), bytes(5000).as_slice());
}

#[test]
fn an_empty_or_ragged_body_line_is_refused_for_its_length() {
    // 100 bytes: two full lines and a 4-character last one.
    let text = armor(&bytes(100));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5);
    let with = |i: usize, extra: &str| {
        let mut l = lines.clone();
        l.insert(i, extra);
        l.join("\n") + "\n"
    };
    let length = strongroom::Error::Malformed {
        reason: "armor line length is not a multiple of 4",
    };
    // An empty line between full ones: never a line of no bytes (each
    // line holds at least one), refused for its length before anything
    // else is said of it.
    assert_eq!(dearmor(with(2, "").as_bytes()).unwrap_err(), length);
    assert_eq!(dearmor(with(3, "").as_bytes()).unwrap_err(), length);
    // Lines whose length is not a multiple of 4.
    assert_eq!(dearmor(with(3, "QUJD0").as_bytes()).unwrap_err(), length);
    assert_eq!(dearmor(with(3, "QUI").as_bytes()).unwrap_err(), length);
    // The unchanged text opens.
    assert_eq!(dearmor(text.as_bytes()).unwrap(), bytes(100));
}
