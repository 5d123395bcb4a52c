//! Blind-index unit tests: the definition encoding, the value layout and
//! its strict parsing, the sizing arithmetic, and which versions a lookup
//! covers. The golden vectors (tests/golden/blind_index) pin the values.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use alloc::vec;
use alloc::vec::Vec;

use super::*;
use crate::keyring::VersionState::{Destroyed, Disabled, Enabled};

/// Test keyrings (the integration tests' `common` is included by the store's
/// unit tests already, and needs std). TEST KEY MATERIAL only.
mod common {
    use crate::keyring::{KeyImport, Keyring, VersionImport, VersionState};
    use crate::{KeyId, KeyMaterial, Timestamp};
    use alloc::vec;

    pub(super) fn keyring_with(
        name: &str,
        states: &[VersionState],
        primary: u32,
        min: u32,
    ) -> Keyring {
        let t0 = Timestamp::from_unix_seconds(1_750_000_000);
        let versions = states
            .iter()
            .zip(1u32..)
            .map(|(state, v)| {
                let bytes: [u8; 32] = core::array::from_fn(|i| (v as usize * 32 + i) as u8);
                let material = (*state != VersionState::Destroyed)
                    .then(|| KeyMaterial::from_slice(&bytes).unwrap());
                VersionImport::new(*state, t0, material)
            })
            .collect();
        let mut import = KeyImport::new(name, KeyId::from_u32(0x5eed_0001), t0, versions);
        import.primary_version = primary;
        import.min_decryption_version = min;
        let mut keyring = Keyring::new();
        keyring.import_key(import).unwrap();
        keyring
    }

    pub(super) fn keyring_at_version(name: &str, n: u32) -> Keyring {
        keyring_with(name, &vec![VersionState::Enabled; n as usize], n, 1)
    }
}

fn email_index(bits: u16) -> BlindIndex {
    BlindIndex::new(
        "email_idx",
        "pii",
        bits,
        &[Transform::Trim, Transform::Casefold],
    )
    .unwrap()
}

#[test]
fn definition_encoding_is_format_13_2_example() {
    let index = BlindIndex::builder("name_year", "pii")
        .bits(20)
        .slow(Argon2Params {
            m_cost_kib: 64,
            t_cost: 1,
            p_cost: 1,
        })
        .field("last_name", &[Transform::Nfc, Transform::Casefold])
        .field("birth_date", &[Transform::Digits, Transform::First(4)])
        .build()
        .unwrap();
    let mut want = Vec::new();
    want.extend_from_slice(b"\x00\x09name_year\x00\x14\x01");
    want.extend_from_slice(b"\x00\x00\x00\x40\x00\x00\x00\x01\x00\x00\x00\x01\x02");
    want.extend_from_slice(b"\x00\x09last_name\x02\x02\x03");
    want.extend_from_slice(b"\x00\x0abirth_date\x02\x04\x05\x00\x04");
    assert_eq!(index.definition_encoding(), &want[..]);
}

#[test]
fn input_encoding_is_counted_and_length_prefixed() {
    let index = BlindIndex::builder("i", "pii")
        .field("a", &[Transform::Trim])
        .field("b", &[])
        .build()
        .unwrap();
    let enc = index.encode_input(&[" x ", "yz"]).unwrap();
    assert_eq!(&enc[..], b"\x02\x00\x00\x00\x01x\x00\x00\x00\x02yz");
    // Moving bytes between fields changes the encoding.
    let other = index.encode_input(&["xy", "z"]).unwrap();
    assert_ne!(enc, other);
}

#[test]
fn definitions_out_of_bounds_are_refused() {
    for bits in [0u16, 257, u16::MAX] {
        assert!(matches!(
            BlindIndex::new("i", "pii", bits, &[]),
            Err(Error::InvalidArgument { .. })
        ));
    }
    for bits in [1u16, 256] {
        assert!(BlindIndex::new("i", "pii", bits, &[]).is_ok());
    }
    assert!(BlindIndex::builder("i", "pii").build().is_err(), "no field");
    let mut b = BlindIndex::builder("i", "pii");
    for i in 0..17 {
        b = b.field(&alloc::format!("f{i}"), &[]);
    }
    assert!(b.build().is_err(), "17 fields");
    let sixteen = [Transform::Trim; 16];
    assert!(BlindIndex::new("i", "pii", 8, &sixteen).is_ok());
    assert!(BlindIndex::new("i", "pii", 8, &[Transform::Trim; 17]).is_err());
    assert!(BlindIndex::new("i", "pii", 8, &[Transform::Last(0)]).is_err());
    assert!(BlindIndex::new("", "pii", 8, &[]).is_err());
    assert!(BlindIndex::new("i", "bad name", 8, &[]).is_err());
    let dup = BlindIndex::builder("i", "pii")
        .field("a", &[])
        .field("a", &[]);
    assert!(dup.build().is_err());
    let weak = Argon2Params {
        m_cost_kib: 7,
        t_cost: 1,
        p_cost: 1,
    };
    assert!(
        BlindIndex::builder("i", "pii")
            .field("a", &[])
            .slow(weak)
            .build()
            .is_err()
    );
}

#[test]
fn values_carry_version_and_mask_unused_bits() {
    let keyring = common::keyring_at_version("pii", 3);
    for bits in [1u16, 7, 8, 9, 31, 32, 255, 256] {
        let index = email_index(bits);
        let v = keyring.blind_index(&index, &["ada@example.com"]).unwrap();
        assert_eq!(v.as_bytes().len(), index.value_len());
        assert_eq!(v.as_bytes()[0], INDEX_VALUE_FORMAT);
        assert_eq!(v.version(), 3);
        let last = *v.as_bytes().last().unwrap();
        assert_eq!(last & !last_byte_mask(bits), 0, "{bits}");
        assert_eq!(IndexValue::parse(&index, v.as_bytes()).unwrap(), v);
        assert_eq!(IndexValue::from_text(&index, &v.to_text()).unwrap(), v);
    }
}

#[test]
fn narrower_values_are_prefixes_of_the_tag_but_unrelated_across_names() {
    let keyring = common::keyring_at_version("pii", 1);
    let wide = keyring.blind_index(&email_index(256), &["a"]).unwrap();
    let narrow = keyring.blind_index(&email_index(256), &["a"]).unwrap();
    assert_eq!(wide, narrow);
    // The width is part of the definition, so a 32-bit index is not a
    // prefix of the 256-bit one (the definitions differ).
    let w32 = keyring.blind_index(&email_index(32), &["a"]).unwrap();
    assert_ne!(&w32.as_bytes()[5..], &wide.as_bytes()[5..9]);
}

#[test]
fn parsing_is_strict() {
    let keyring = common::keyring_at_version("pii", 2);
    let index = email_index(12);
    let v = keyring.blind_index(&index, &["x"]).unwrap();
    let good = v.as_bytes().to_vec();
    assert!(matches!(
        IndexValue::parse(&index, &[]),
        Err(Error::Malformed { .. })
    ));
    let mut wrong_format = good.clone();
    wrong_format[0] = 0x01;
    assert_eq!(
        IndexValue::parse(&index, &wrong_format),
        Err(Error::UnsupportedFormat { version: 1 })
    );
    assert!(IndexValue::parse(&index, &good[..good.len() - 1]).is_err());
    let mut long = good.clone();
    long.push(0);
    assert!(IndexValue::parse(&index, &long).is_err());
    let mut v0 = good.clone();
    v0[1..5].copy_from_slice(&[0; 4]);
    assert!(IndexValue::parse(&index, &v0).is_err());
    let mut extra_bit = good.clone();
    *extra_bit.last_mut().unwrap() |= 0x01;
    assert!(IndexValue::parse(&index, &extra_bit).is_err());
    let text = v.to_text();
    assert!(IndexValue::from_text(&index, &text[1..]).is_err());
    assert!(IndexValue::from_text(&index, &alloc::format!("{text}=")).is_err());
    assert_eq!(MAX_TEXT_LEN, 55);
    let wide = email_index(256);
    let widest = keyring.blind_index(&wide, &["x"]).unwrap().to_text();
    assert_eq!(widest.len(), MAX_TEXT_LEN);
    assert!(IndexValue::from_text(&wide, &widest).is_ok());
    let too_long = alloc::format!("{INDEX_TEXT_PREFIX}{}", "A".repeat(51));
    assert_eq!(
        IndexValue::from_text(&wide, &too_long),
        Err(Error::Malformed {
            reason: "text index value is longer than any index value"
        })
    );
    // Another index's width is another length.
    assert!(IndexValue::parse(&email_index(32), &good).is_err());
}

#[test]
fn lookup_covers_exactly_the_versions_that_decrypt() {
    // v1 destroyed, v2 below the minimum (3), v3 enabled, v4 disabled,
    // v5 enabled, v6 primary.
    let keyring = common::keyring_with(
        "pii",
        &[Destroyed, Enabled, Enabled, Disabled, Enabled, Enabled],
        6,
        3,
    );
    let index = email_index(64);
    let values = keyring.blind_index_lookup(&index, &["ada"]).unwrap();
    let versions: Vec<u32> = values.iter().map(IndexValue::version).collect();
    assert_eq!(versions, vec![6, 5, 3]);
    for v in &values {
        assert_eq!(
            &keyring
                .blind_index_version(&index, v.version(), &["ada"])
                .unwrap(),
            v
        );
    }
    assert_eq!(values[0], keyring.blind_index(&index, &["ada"]).unwrap());
    assert!(matches!(
        keyring.blind_index_version(&index, 1, &["ada"]),
        Err(Error::VersionDestroyed { .. })
    ));
    assert!(matches!(
        keyring.blind_index_version(&index, 2, &["ada"]),
        Err(Error::VersionBelowMinimum { .. })
    ));
    assert!(matches!(
        keyring.blind_index_version(&index, 4, &["ada"]),
        Err(Error::VersionDisabled { .. })
    ));
    assert!(keyring.index_value_is_current(&index, &values[0]).unwrap());
    assert!(!keyring.index_value_is_current(&index, &values[1]).unwrap());
}

#[test]
fn wrong_arity_and_oversized_inputs_are_refused() {
    let keyring = common::keyring_at_version("pii", 1);
    let index = email_index(32);
    assert!(matches!(
        keyring.blind_index(&index, &[]),
        Err(Error::InvalidArgument { .. })
    ));
    assert!(keyring.blind_index(&index, &["a", "b"]).is_err());
    let big = "a".repeat(MAX_FIELD_INPUT_LEN + 1);
    assert!(matches!(
        keyring.blind_index(&index, &[&big]),
        Err(Error::TooLarge { .. })
    ));
    assert!(keyring.blind_index(&index, &[&big[1..]]).is_ok());
    let other = BlindIndex::new("i", "nope", 32, &[]).unwrap();
    assert!(matches!(
        keyring.blind_index(&other, &["a"]),
        Err(Error::UnknownKeyName { .. })
    ));
    assert!(keyring.blind_index_lookup(&other, &["a"]).is_err());
}

#[test]
fn recommended_bits_is_the_smallest_width_meeting_the_target() {
    assert_eq!(recommended_bits(100_000, 1.0).unwrap(), 17);
    assert_eq!(recommended_bits(1 << 20, 1.0).unwrap(), 20);
    assert_eq!(recommended_bits((1 << 20) + 1, 1.0).unwrap(), 21);
    assert_eq!(recommended_bits(1000, 10.0).unwrap(), 7);
    assert_eq!(recommended_bits(0, 1.0).unwrap(), 1);
    assert_eq!(recommended_bits(u64::MAX, 1e-60).unwrap(), 256);
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(recommended_bits(10, bad).is_err());
    }
    for rows in [1u64, 999, 100_000, 1 << 40] {
        for fp in [0.01, 0.5, 1.0, 4.0] {
            let b = recommended_bits(rows, fp).unwrap();
            assert!(expected_false_positives(rows, b) <= fp);
            if b > 1 {
                assert!(expected_false_positives(rows, b - 1) > fp);
            }
        }
    }
}

#[test]
fn debug_shows_no_tag_and_no_input() {
    let keyring = common::keyring_at_version("pii", 1);
    let v = keyring
        .blind_index(&email_index(256), &["ada@example.com"])
        .unwrap();
    let shown = alloc::format!("{v:?}");
    assert_eq!(shown, "IndexValue { version: 1, .. }");
}
