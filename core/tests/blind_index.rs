//! Blind indexes (FORMAT.md 13) through the public API: equal normalised
//! inputs agree, names, keys and versions separate domains at the rate the
//! width predicts, the false-positive rate of the recommended width is the
//! predicted one, and search survives a rotation, a rewrap and a destroy.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use common::{SeededRng, keyring_at_version};
use proptest::prelude::*;
use strongroom::audit::{AuditContext, AuditEvent, AuditSink};
use strongroom::blind_index::{expected_false_positives, recommended_bits};
use strongroom::rand_core::TryRng;
use strongroom::{BlindIndex, EncryptionContext, Error, IndexValue, Keyring, Transform};

fn email_index() -> BlindIndex {
    email_index_on("email_idx", "pii")
}

/// An email index (trim, NFC, casefold, 32 bits) named `name` on `key`.
fn email_index_on(name: &str, key: &str) -> BlindIndex {
    BlindIndex::new(
        name,
        key,
        32,
        &[Transform::Trim, Transform::Nfc, Transform::Casefold],
    )
    .unwrap()
}

/// (composed, decomposed) pairs for the NFC/NFD property.
const CANONICAL_PAIRS: &[(&str, &str)] = &[
    ("\u{e9}", "e\u{301}"),
    ("\u{c5}", "A\u{30a}"),
    ("\u{f1}", "n\u{303}"),
    ("\u{1e69}", "s\u{323}\u{307}"),
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Inputs that normalise to the same string give the same value:
    /// surrounding white space, ASCII case, and composed or decomposed
    /// accents.
    #[test]
    fn equal_normalised_inputs_give_equal_values(
        word in "[a-zA-Z0-9.@_-]{0,40}",
        accents in proptest::collection::vec(0usize..CANONICAL_PAIRS.len(), 0..4),
        pad in "[ \t\n\u{3000}\u{a0}]{0,4}",
    ) {
        let keyring = keyring_at_version("pii", 2);
        let index = email_index();
        let composed: String = core::iter::once(word.clone())
            .chain(accents.iter().map(|&i| CANONICAL_PAIRS[i].0.to_string()))
            .collect();
        let decomposed: String = core::iter::once(word.to_ascii_uppercase())
            .chain(accents.iter().map(|&i| CANONICAL_PAIRS[i].1.to_string()))
            .collect();
        let padded = format!("{pad}{decomposed}{pad}");
        let a = keyring.blind_index(&index, &[&composed]).unwrap();
        let b = keyring.blind_index(&index, &[&padded]).unwrap();
        prop_assert_eq!(&a, &b);
        prop_assert_eq!(a.to_text(), b.to_text());
        // And a different word gives a different value (at 32 bits a
        // coincidence is 2^-32: none in 256 cases).
        let other = format!("{composed}x");
        prop_assert_ne!(a, keyring.blind_index(&index, &[&other]).unwrap());
    }
}

fn random_input(rng: &mut SeededRng) -> String {
    format!("user{:016x}@example.com", rng.try_next_u64().unwrap())
}

fn tag32(v: &IndexValue) -> u32 {
    u32::from_be_bytes(v.as_bytes()[5..9].try_into().unwrap())
}

/// 10^6 random inputs, each under a base domain and under a domain that
/// differs in one thing (the index name, the key, the key version): the
/// same input collides across domains at 32 bits only as often as two
/// unrelated values do (10^6 / 2^32, about 0.0002), and the two sets of
/// values share as many tags as two random sets of 10^6 would
/// (10^12 / 2^32, about 233).
#[test]
fn names_keys_and_versions_separate_domains() {
    const N: usize = 1_000_000;
    let mut keyring = keyring_at_version("pii", 2);
    keyring.create_key("other").unwrap();
    let base = email_index();
    let renamed = email_index_on("email_idx2", "pii");
    let rekeyed = email_index_on("email_idx", "other");
    let mut rng = SeededRng::new(14);
    let mut base_tags: HashMap<u32, u32> = HashMap::with_capacity(N);
    let mut renamed_tags = Vec::with_capacity(N);
    let (mut same_name, mut same_key, mut same_version) = (0, 0, 0);
    for _ in 0..N {
        let input = random_input(&mut rng);
        let a = tag32(&keyring.blind_index(&base, &[&input]).unwrap());
        let b = tag32(&keyring.blind_index(&renamed, &[&input]).unwrap());
        let c = tag32(&keyring.blind_index(&rekeyed, &[&input]).unwrap());
        let d = tag32(&keyring.blind_index_version(&base, 1, &[&input]).unwrap());
        same_name += usize::from(a == b);
        same_key += usize::from(a == c);
        same_version += usize::from(a == d);
        *base_tags.entry(a).or_default() += 1;
        renamed_tags.push(b);
    }
    let cross: u64 = renamed_tags
        .iter()
        .map(|t| u64::from(base_tags.get(t).copied().unwrap_or(0)))
        .sum();
    let predicted = (N as f64) * (N as f64) / 2f64.powi(32);
    println!(
        "domain separation over {N} inputs at 32 bits: same-input collisions name {same_name}, key {same_key}, version {same_version} (predicted {:.4} each); cross-set tag matches {cross} (predicted {predicted:.0})",
        N as f64 / 2f64.powi(32)
    );
    // P(>= 3 collisions | mean 0.0002) is about 1e-12.
    assert!(same_name <= 2 && same_key <= 2 && same_version <= 2);
    // Poisson(233): 6 standard deviations either side.
    let sd = predicted.sqrt();
    assert!(
        (cross as f64 - predicted).abs() < 6.0 * sd,
        "cross-set matches {cross}, predicted {predicted:.0} +- {:.0}",
        6.0 * sd
    );
}

/// At the width recommended for 100,000 rows and 1 false positive per
/// lookup, lookups of values not in the table match as many rows as
/// FORMAT.md's `rows / 2^bits` predicts.
#[test]
fn false_positive_rate_is_the_predicted_one() {
    const ROWS: u64 = 100_000;
    const LOOKUPS: u64 = 20_000;
    let bits = recommended_bits(ROWS, 1.0).unwrap();
    assert_eq!(bits, 17);
    let keyring = keyring_at_version("pii", 1);
    let index = BlindIndex::new("fp", "pii", bits, &[]).unwrap();
    let mut rng = SeededRng::new(100_000);
    let mut table: HashMap<Vec<u8>, u64> = HashMap::new();
    for _ in 0..ROWS {
        let v = keyring
            .blind_index(&index, &[&random_input(&mut rng)])
            .unwrap();
        *table.entry(v.as_bytes().to_vec()).or_default() += 1;
    }
    let mut false_positives = 0u64;
    for i in 0..LOOKUPS {
        // Inputs of another shape, so none is in the table.
        let v = keyring
            .blind_index(&index, &[&format!("absent-{i}")])
            .unwrap();
        false_positives += table.get(v.as_bytes()).copied().unwrap_or(0);
    }
    let measured = false_positives as f64 / LOOKUPS as f64;
    let predicted = expected_false_positives(ROWS, bits);
    // The count is Poisson(LOOKUPS * predicted); 5 standard deviations.
    let sd = (predicted / LOOKUPS as f64).sqrt();
    println!(
        "false positives: {ROWS} rows at {bits} bits, {LOOKUPS} lookups: {measured:.4} per lookup measured, {predicted:.4} predicted (+- {:.4} at 5 sd)",
        5.0 * sd
    );
    assert!(predicted <= 1.0);
    assert!(
        (measured - predicted).abs() < 5.0 * sd,
        "measured {measured}, predicted {predicted}"
    );
}

/// The rotation story of FORMAT.md 13.7 end to end in memory: rows stored
/// before and after a rotation are both found, an indexed rewrap moves a
/// row and its index together, and destroying the old version leaves
/// every row findable once all are rewrapped.
#[test]
fn search_survives_rotation_rewrap_and_destroy() {
    let mut keyring = Keyring::new();
    keyring.create_key("pii").unwrap();
    let index = email_index();
    let ctx = EncryptionContext::new().with("column", "email").unwrap();
    let row = |k: &Keyring, email: &str| {
        (
            k.encrypt_record("pii", email.as_bytes(), &ctx).unwrap(),
            k.blind_index(&index, &[email]).unwrap(),
        )
    };
    let find = |k: &Keyring, rows: &[(Vec<u8>, IndexValue)], email: &str| -> Vec<usize> {
        let wanted = k.blind_index_lookup(&index, &[email]).unwrap();
        rows.iter()
            .enumerate()
            .filter(|(_, (_, v))| wanted.contains(v))
            .map(|(i, _)| i)
            .collect()
    };
    let mut rows = vec![
        row(&keyring, "ada@example.com"),
        row(&keyring, "bob@example.com"),
    ];
    keyring.rotate("pii").unwrap();
    rows.push(row(&keyring, "cy@example.com"));
    // Old and new rows, with the query written another way.
    assert_eq!(find(&keyring, &rows, " ADA@example.com"), vec![0]);
    assert_eq!(find(&keyring, &rows, "Cy@Example.com"), vec![2]);
    assert_eq!(keyring.blind_index_lookup(&index, &["x"]).unwrap().len(), 2);
    // Rewrap every row with its index.
    for r in &mut rows {
        let done = keyring.rewrap_record_indexed(&index, &r.0, &ctx).unwrap();
        assert!(keyring.index_value_is_current(&index, &done.index).unwrap());
        if let Some(record) = done.record {
            r.0 = record;
        }
        r.1 = done.index;
    }
    let info = keyring.key_info("pii").unwrap();
    keyring.destroy_version("pii", 1).unwrap();
    assert_eq!(info.primary_version, 2);
    assert_eq!(keyring.blind_index_lookup(&index, &["x"]).unwrap().len(), 1);
    assert!(matches!(
        keyring.blind_index_version(&index, 1, &["ada@example.com"]),
        Err(Error::VersionDestroyed { .. })
    ));
    for (i, email) in ["ada@example.com", "bob@example.com", "cy@example.com"]
        .iter()
        .enumerate()
    {
        assert_eq!(find(&keyring, &rows, email), vec![i]);
        let plain = keyring.decrypt_record(&rows[i].0, &ctx).unwrap();
        assert_eq!(plain.expose_secret(), email.as_bytes());
    }
    // An indexed rewrap refuses a compound index and a non-UTF-8 record.
    let compound = BlindIndex::builder("c", "pii")
        .field("a", &[])
        .field("b", &[])
        .build()
        .unwrap();
    assert!(matches!(
        keyring.rewrap_record_indexed(&compound, &rows[0].0, &ctx),
        Err(Error::InvalidArgument { .. })
    ));
    let binary = keyring.encrypt_record("pii", &[0xff, 0xfe], &ctx).unwrap();
    assert!(matches!(
        keyring.rewrap_record_indexed(&index, &binary, &ctx),
        Err(Error::InvalidArgument { .. })
    ));
}

#[derive(Default)]
struct Lines(Mutex<Vec<String>>);

impl AuditSink for Lines {
    fn record(&self, e: &AuditEvent<'_>) {
        self.0.lock().unwrap().push(format!("{e:?}"));
    }
}

/// One `derive` event on object `blind_index` per version computed, naming
/// key and version, never the input or the value.
#[test]
fn audit_events_name_the_version_and_never_the_input() {
    let mut keyring = keyring_at_version("pii", 3);
    let sink = Arc::new(Lines::default());
    keyring.set_audit(AuditContext::with_system_clock(sink.clone()));
    let index = email_index();
    let secret = "very-private@example.com";
    let value = keyring.blind_index(&index, &[secret]).unwrap();
    let all = keyring.blind_index_lookup(&index, &[secret]).unwrap();
    assert_eq!(all.len(), 3);
    let _ = keyring.blind_index_version(&index, 9, &[secret]);
    let lines = sink.0.lock().unwrap();
    assert_eq!(lines.len(), 5, "{lines:#?}");
    for line in lines.iter() {
        assert!(
            line.contains("Derive") && line.contains("BlindIndex"),
            "{line}"
        );
        assert!(!line.contains("very-private"), "{line}");
        assert!(!line.contains(&value.to_text()[5..]), "{line}");
    }
    assert!(lines[4].contains("UnknownKeyVersion"), "{}", lines[4]);
}
