//! Arbitrary bytes as a blind-index value (FORMAT.md 13.5, 13.6), and as
//! transform names and field inputs (13.1, 13.3): parsing is strict, so
//! anything that parses encodes back to the identical bytes or text; every
//! transform runs on any UTF-8 without panicking; and `trim` makes outer
//! white space irrelevant.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strongroom::{BlindIndex, IndexValue, Transform};

fuzz_target!(|data: &[u8]| {
    let Some((&head, rest)) = data.split_first() else {
        return;
    };
    let bits = u16::from(head) + 1;
    let index = BlindIndex::new("fuzz_idx", "fuzz", bits, &[]).unwrap();
    if let Ok(v) = IndexValue::parse(&index, rest) {
        assert_eq!(v.as_bytes(), rest);
    }
    let Ok(text) = core::str::from_utf8(rest) else {
        return;
    };
    if let Ok(v) = IndexValue::from_text(&index, text) {
        assert_eq!(v.to_text(), text);
    }
    if let Ok(t) = Transform::parse(text) {
        assert_eq!(t.to_string(), text);
    }
    let keyring = strongroom_fuzz::keyring();
    let all = [
        Transform::Trim,
        Transform::Nfc,
        Transform::Casefold,
        Transform::Digits,
        Transform::First(u16::from(head) % 8 + 1),
        Transform::Last(u16::from(head) % 8 + 1),
    ];
    let mut transforms: Vec<Transform> = all
        .iter()
        .enumerate()
        .filter(|(i, _)| head & (1 << i) != 0)
        .map(|(_, t)| *t)
        .collect();
    transforms.insert(0, Transform::Trim);
    let trimmed = BlindIndex::new("fuzz_trim", "fuzz", 64, &transforms).unwrap();
    let a = keyring.blind_index(&trimmed, &[text]);
    let padded = format!(" \t{text}\u{3000}\n");
    let b = keyring.blind_index(&trimmed, &[&padded]);
    if text.len() + 8 <= strongroom::blind_index::MAX_FIELD_INPUT_LEN {
        assert_eq!(a.unwrap(), b.unwrap());
    }
});
