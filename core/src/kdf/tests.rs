//! HKDF-SHA256 known answers through the crate's KDF layer: every Wycheproof
//! verdict and the RFC 5869 SHA-256 cases.

extern crate std;

use alloc::string::String;
use alloc::vec;
use std::println;

use serde::Deserialize;

use super::*;
use crate::test_vectors::{WycheproofFile, rfc_vectors};

#[derive(Deserialize)]
struct Case {
    #[serde(rename = "tcId")]
    id: u32,
    ikm: String,
    salt: String,
    info: String,
    size: usize,
    okm: String,
    result: String,
}

#[test]
fn wycheproof_hkdf_sha256() {
    let file = WycheproofFile::<Case>::load("hkdf_sha256_test.json");
    let (mut total, mut valid, mut too_long) = (0, 0, 0);
    for case in file.cases() {
        total += 1;
        let h = |s: &str| hex::decode(s).expect("hex");
        let prk = Prk::extract(&h(&case.salt), &h(&case.ikm));
        let mut out = vec![0u8; case.size];
        let r = prk.expand(&[&h(&case.info)], &mut out);
        match case.result.as_str() {
            "valid" => {
                assert_eq!(r, Ok(()), "tcId {}", case.id);
                assert_eq!(out, h(&case.okm), "tcId {}", case.id);
                // Split info must give the same output (multi-part info).
                let info = h(&case.info);
                let (a, b) = info.split_at(info.len() / 2);
                let mut split = vec![0u8; case.size];
                prk.expand(&[a, b], &mut split).expect("expand");
                assert_eq!(split, out, "tcId {} split info", case.id);
                valid += 1;
            }
            "invalid" => {
                assert!(case.size > HKDF_MAX_OUTPUT, "tcId {}", case.id);
                assert_eq!(r, Err(OutputTooLong), "tcId {}", case.id);
                too_long += 1;
            }
            other => panic!("unknown result {other}"),
        }
    }
    assert_eq!(total, file.number_of_tests);
    println!(
        "wycheproof hkdf_sha256: {total} cases matched ({valid} valid, {too_long} rejected as too long)"
    );
    assert_eq!(total, 86);
}

#[test]
fn rfc5869_sha256_cases() {
    let json = rfc_vectors();
    let cases = json["hkdf_sha256"].as_array().expect("array");
    for case in cases {
        let h = |f: &str| hex::decode(case[f].as_str().expect(f)).expect("hex");
        let prk = Prk::extract(&h("salt_hex"), &h("ikm_hex"));
        let len = usize::try_from(case["length"].as_u64().expect("length")).expect("len");
        let mut out = vec![0u8; len];
        prk.expand(&[&h("info_hex")], &mut out).expect("expand");
        assert_eq!(out, h("okm_hex"), "{}", case["name"]);
    }
    println!("rfc 5869 hkdf_sha256: {} cases matched", cases.len());
    assert_eq!(cases.len(), 3);
}

#[test]
fn rfc9106_argon2id_vector() {
    let json = rfc_vectors();
    let v = &json["argon2id"];
    let h = |f: &str| hex::decode(v[f].as_str().expect(f)).expect("hex");
    let n = |f: &str| u32::try_from(v[f].as_u64().expect(f)).expect("u32");
    let params = Argon2Params {
        m_cost_kib: n("memory_kib"),
        t_cost: n("passes"),
        p_cost: n("parallelism"),
    };
    let expected = h("tag_hex");
    let mut out = vec![0u8; expected.len()];
    argon2id(
        params,
        &h("password_hex"),
        &h("salt_hex"),
        &h("secret_hex"),
        &h("associated_data_hex"),
        &mut out,
    )
    .expect("argon2id");
    assert_eq!(out, expected);
    println!(
        "rfc 9106 5.3 argon2id: 1 vector matched (m=32 KiB, t=3, p=4, secret and associated data)"
    );
}

/// The bounds at their edges (issue #17, mutation testing): HKDF-SHA256
/// gives exactly 255 * 32 bytes and refuses one more; Argon2 takes m = 8p
/// KiB and refuses 8p - 1, for every lane count.
#[test]
fn hkdf_and_argon2_bounds_at_their_edges() {
    let prk = Prk::extract(b"salt", b"ikm");
    let mut max = vec![0u8; 255 * 32];
    assert_eq!(prk.expand(&[b"info"], &mut max), Ok(()));
    assert_eq!(HKDF_MAX_OUTPUT, 8160);
    let mut over = vec![0u8; 255 * 32 + 1];
    assert_eq!(prk.expand(&[b"info"], &mut over), Err(OutputTooLong));
    for p in 1..=Argon2Params::MAX_P_COST {
        let at = Argon2Params {
            m_cost_kib: 8 * p,
            t_cost: 1,
            p_cost: p,
        };
        assert!(at.is_within_bounds(), "m = 8p at p = {p}");
        let below = Argon2Params {
            m_cost_kib: 8 * p - 1,
            t_cost: 1,
            p_cost: p,
        };
        assert!(!below.is_within_bounds(), "m = 8p - 1 at p = {p}");
    }
    let top = Argon2Params {
        m_cost_kib: Argon2Params::MAX_M_COST_KIB,
        t_cost: Argon2Params::MAX_T_COST,
        p_cost: Argon2Params::MAX_P_COST,
    };
    assert!(top.is_within_bounds());
    for over in [
        Argon2Params {
            m_cost_kib: Argon2Params::MAX_M_COST_KIB + 1,
            ..top
        },
        Argon2Params {
            t_cost: Argon2Params::MAX_T_COST + 1,
            ..top
        },
        Argon2Params {
            p_cost: Argon2Params::MAX_P_COST + 1,
            ..top
        },
        Argon2Params { t_cost: 0, ..top },
        Argon2Params { p_cost: 0, ..top },
    ] {
        assert!(!over.is_within_bounds(), "{over:?}");
    }
}
