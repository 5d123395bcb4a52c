//! Armored-envelope golden vectors (FORMAT.md 12.3): every vector decodes
//! to its bytes, and encodes back to its text exactly, or is refused as
//! malformed. New ones come from
//! `cargo test -p strongroom --test golden_armor -- --ignored generate`,
//! which never rewrites a file.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use strongroom::envelope::{armor, dearmor};

/// Armor vectors committed so far; the check fails if any disappears.
const MIN_ARMOR_VECTORS: usize = 25;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/golden/armor")
}

#[derive(Debug, Serialize, Deserialize)]
struct Vector {
    name: String,
    description: String,
    format: String,
    armored: String,
    result: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    envelope_hex: Option<String>,
}

fn bytes(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 37 + n) as u8).collect()
}

/// (name, description, text, decoded bytes for ok).
fn cases() -> Vec<(String, String, String, Option<Vec<u8>>)> {
    let mut out = Vec::new();
    for n in [1usize, 2, 3, 47, 48, 49, 96, 100] {
        let data = bytes(n);
        out.push((
            format!("armor_v1_{n}_bytes"),
            format!("{n} bytes: {} body line(s)", n.div_ceil(48)),
            armor(&data),
            Some(data),
        ));
    }
    let env_vector: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir().join("../envelope/envelope_v1_two_recipients.json"))
            .unwrap(),
    )
    .unwrap();
    let env = hex::decode(env_vector["envelope_hex"].as_str().unwrap()).unwrap();
    out.push((
        "armor_v1_envelope".into(),
        "the armor of the golden envelope envelope_v1_two_recipients".into(),
        armor(&env),
        Some(env),
    ));
    let good = armor(&bytes(100));
    let lines: Vec<String> = good.lines().map(String::from).collect();
    let join = |ls: &[String]| ls.iter().map(|l| format!("{l}\n")).collect::<String>();
    let last = lines.len() - 2;
    let mut fail = |name: &str, description: &str, text: String| {
        out.push((
            format!("fail_armor_v1_{name}"),
            description.into(),
            text,
            None,
        ));
    };
    fail("crlf", "CR LF line ends", good.replace('\n', "\r\n"));
    fail(
        "no_final_newline",
        "the END line has no LF",
        good.trim_end_matches('\n').to_owned(),
    );
    fail(
        "trailing_byte",
        "a byte after the END line",
        format!("{good}x"),
    );
    fail(
        "blank_line_after_end",
        "an empty line after the END line",
        format!("{good}\n"),
    );
    fail("no_end", "no END line", join(&lines[..lines.len() - 1]));
    fail("no_begin", "no BEGIN line", join(&lines[1..]));
    fail(
        "leading_space",
        "a space before the BEGIN line",
        format!(" {good}"),
    );
    fail(
        "lowercase_begin",
        "the BEGIN line in another case",
        good.replacen("BEGIN", "begin", 1),
    );
    fail(
        "empty_body",
        "BEGIN then END, no body",
        join(&[lines[0].clone(), lines[lines.len() - 1].clone()]),
    );
    fail(
        "base64url",
        "the URL-safe alphabet",
        good.replacen('+', "-", 1).replacen('/', "_", 1),
    );
    let mut split = lines.clone();
    let first = split[1].clone();
    split[1] = first[..60].to_owned();
    split.insert(2, first[60..].to_owned());
    fail(
        "short_line_before_last",
        "a 60-character line before the last",
        join(&split),
    );
    let mut merged = lines.clone();
    merged[1] = format!("{}{}", lines[1], lines[2]);
    merged.remove(2);
    fail("long_line", "a 128-character line", join(&merged));
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = lines.clone();
    let mut tail = bits[last].clone().into_bytes();
    let pos = tail.iter().rposition(|b| *b != b'=').unwrap();
    let index = ALPHABET.iter().position(|c| *c == tail[pos]).unwrap();
    tail[pos] = ALPHABET[index ^ 1];
    bits[last] = String::from_utf8(tail).unwrap();
    fail(
        "padding_bits",
        "non-zero unused bits before the padding",
        join(&bits),
    );
    let mut unpadded = lines.clone();
    unpadded[last] = unpadded[last].trim_end_matches('=').to_owned();
    fail(
        "unpadded",
        "the last line without its = padding",
        join(&unpadded),
    );
    let mut spaced = lines.clone();
    spaced[1].replace_range(10..11, " ");
    fail("space", "a space inside a body line", join(&spaced));
    // A padded line followed by another body line (the armor of 1 byte,
    // then the armor of 48 more, glued).
    let one: Vec<String> = armor(&[7]).lines().map(String::from).collect();
    let more: Vec<String> = armor(&bytes(48)).lines().map(String::from).collect();
    fail(
        "line_after_padding",
        "a body line after a padded one",
        join(&[
            one[0].clone(),
            one[1].clone(),
            more[1].clone(),
            one[2].clone(),
        ]),
    );
    out
}

#[test]
#[ignore = "writes new vectors; run by hand"]
fn generate() {
    std::fs::create_dir_all(dir()).unwrap();
    for (name, description, text, decoded) in cases() {
        let path = dir().join(format!("{name}.json"));
        if path.exists() {
            continue;
        }
        let v = Vector {
            name,
            description,
            format: "armor-v1".into(),
            armored: text,
            result: if decoded.is_some() { "ok" } else { "malformed" }.into(),
            envelope_hex: decoded.map(hex::encode),
        };
        std::fs::write(&path, serde_json::to_string_pretty(&v).unwrap() + "\n").unwrap();
    }
}

#[test]
fn every_golden_armor_vector_gives_its_result() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let (mut ok, mut fail) = (0, 0);
    for path in &files {
        let v: Vector = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        match dearmor(v.armored.as_bytes()) {
            Ok(bytes) => {
                assert_eq!(v.result, "ok", "{}", v.name);
                assert_eq!(Some(hex::encode(&bytes)), v.envelope_hex, "{}", v.name);
                assert_eq!(
                    armor(&bytes),
                    v.armored,
                    "{}: not the canonical text",
                    v.name
                );
                ok += 1;
            }
            Err(e) => {
                assert_eq!(e.kind().name(), v.result, "{}", v.name);
                fail += 1;
            }
        }
    }
    assert!(
        files.len() >= MIN_ARMOR_VECTORS,
        "only {} armor vectors",
        files.len()
    );
    println!(
        "golden armor vectors: {} checked ({ok} decode to their bytes, {fail} fail_ cases malformed)",
        files.len()
    );
}
