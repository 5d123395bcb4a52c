//! The KEK of a passphrase root (FORMAT.md 10.3), computed with the
//! `argon2` crate directly: the needle the Argon2 memory and stack tests
//! look for. TEST DATA only.
#![allow(clippy::unwrap_used, dead_code)]

use strongroom::root::Argon2Params;

/// Argon2id(passphrase, salt) at `p`, 32 bytes.
pub(crate) fn kek_of_salt(passphrase: &[u8], salt: &[u8], p: Argon2Params) -> [u8; 32] {
    let params = argon2::Params::new(p.m_cost_kib, p.t_cost, p.p_cost, Some(32)).unwrap();
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut kek = [0u8; 32];
    argon
        .hash_password_into(passphrase, salt, &mut kek)
        .unwrap();
    kek
}
