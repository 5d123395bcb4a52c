//! The armored envelope (FORMAT.md 12): round trips at every length around
//! the line boundaries, the streaming reader and writer against the
//! whole-buffer functions, and every strictness rule.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

use std::io::{Read, Write};

use strongroom::envelope::{self, ArmorReader, ArmorWriter, armor, dearmor, is_armored};
use strongroom::{EncryptionContext, ErrorKind, Keyring, SysRng};

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
fn every_rule_is_enforced() {
    let good = armor(&bytes(100));
    let lines: Vec<String> = good.lines().map(String::from).collect();
    let join = |ls: &[String]| ls.iter().map(|l| format!("{l}\n")).collect::<String>();
    let mut cases: Vec<(&str, String)> = vec![
        ("CRLF line ends", good.replace('\n', "\r\n")),
        ("no final newline", good.trim_end_matches('\n').to_owned()),
        ("bytes after END", format!("{good}x")),
        ("a blank line after END", format!("{good}\n")),
        ("no END line", join(&lines[..lines.len() - 1])),
        ("no BEGIN line", join(&lines[1..])),
        ("leading space", format!(" {good}")),
        ("lower-case BEGIN", good.replacen("BEGIN", "begin", 1)),
        (
            "empty body",
            join(&[lines[0].clone(), lines[lines.len() - 1].clone()]),
        ),
        (
            "base64url alphabet",
            good.replacen('+', "-", 1).replacen('/', "_", 1),
        ),
    ];
    // A full line split in two (63 + 1 characters).
    let mut split = lines.clone();
    let first = split[1].clone();
    split[1] = first[..63].to_owned();
    split.insert(2, first[63..].to_owned());
    cases.push(("a short line before the last", join(&split)));
    // Two lines merged (128 characters).
    let mut merged = lines.clone();
    merged[1] = format!("{}{}", lines[1], lines[2]);
    merged.remove(2);
    cases.push(("a line over 64 characters", join(&merged)));
    // Non-canonical padding bits: 100 bytes end in "...xx==" style groups;
    // change the last data character so unused bits are set.
    let mut bits = lines.clone();
    let last = bits.len() - 2;
    let mut tail: Vec<u8> = bits[last].clone().into_bytes();
    // The last character before the padding: its lowest bit is unused
    // (100 bytes end in one byte, "xy==", and y's low 4 bits are spare).
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let pos = tail.iter().rposition(|b| *b != b'=').unwrap();
    let index = ALPHABET.iter().position(|c| *c == tail[pos]).unwrap();
    tail[pos] = ALPHABET[index ^ 1];
    bits[last] = String::from_utf8(tail).unwrap();
    cases.push(("non-zero padding bits", join(&bits)));
    // Padding dropped (base64 without '=').
    let mut unpadded = lines.clone();
    unpadded[last] = unpadded[last].trim_end_matches('=').to_owned();
    cases.push(("missing padding", join(&unpadded)));
    // Whitespace inside a line.
    let mut spaced = lines.clone();
    spaced[1].replace_range(10..11, " ");
    cases.push(("a space in a line", join(&spaced)));
    for (what, text) in &cases {
        let e = dearmor(text.as_bytes()).expect_err(what);
        assert_eq!(e.kind(), ErrorKind::Malformed, "{what}: {e}");
    }
    println!(
        "armor: {} malformed variants refused, each as malformed",
        cases.len()
    );
}
