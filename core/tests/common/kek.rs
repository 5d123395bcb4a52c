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

/// The sealing key of a version-2 passphrase keyring file (FORMAT.md 10.2:
/// the 72-byte wrap at offset 62, opened with `kek`; the root AAD is the
/// label and the file's first 60 bytes). Opening it also proves the KEK.
pub(crate) fn sealing_key(file: &[u8], kek: &[u8; 32]) -> [u8; 32] {
    use chacha20poly1305::aead::{AeadInOut, KeyInit};
    use chacha20poly1305::{Tag, XChaCha20Poly1305, XNonce};
    assert_eq!(u16::from_be_bytes([file[60], file[61]]), 72);
    let wrapped = &file[62..62 + 72];
    let mut root_aad = b"strongroom/keyring/v2/root".to_vec();
    root_aad.extend_from_slice(&file[..60]);
    let mut sealing = [0u8; 32];
    sealing.copy_from_slice(&wrapped[24..56]);
    XChaCha20Poly1305::new(&(*kek).into())
        .decrypt_inout_detached(
            &XNonce::try_from(&wrapped[..24]).unwrap(),
            &root_aad,
            sealing.as_mut_slice().into(),
            &Tag::try_from(&wrapped[56..72]).unwrap(),
        )
        .expect("the KEK opens the file's wrap");
    sealing
}
