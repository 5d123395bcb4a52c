//! The keyring file parser: arbitrary bytes as a sealed keyring, and
//! arbitrary bytes as the *payload* of a correctly sealed one (sealed here
//! by hand with a known key file, FORMAT.md 10), so the payload decoder is
//! fuzzed behind the authentication too. Never panics; what opens re-seals
//! to the same contents.
#![no_main]

use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use libfuzzer_sys::fuzz_target;
use strongroom::keyring_file;
use strongroom::root::KeyFileRoot;
use strongroom::{KeyMaterial, SysRng};

const FILE_KEY: [u8; 32] = [0x4b; 32]; // TEST KEY MATERIAL

fn hand_sealed(payload: &[u8]) -> Vec<u8> {
    let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(&[]), &FILE_KEY);
    let mut kek = [0u8; 32];
    hk.expand(b"strongroom/keyring/v1/keyfile", &mut kek)
        .unwrap();
    let sealing_key = [0x5a_u8; 32];
    let mut header = b"SRKR\x01\x02\x00\x00".to_vec();
    let mut root_aad = b"strongroom/keyring/v1/root".to_vec();
    root_aad.extend_from_slice(&header);
    let mut wrapped = sealing_key.to_vec();
    let tag = XChaCha20Poly1305::new(&kek.into())
        .encrypt_inout_detached(
            &XNonce::from([7u8; 24]),
            &root_aad,
            wrapped.as_mut_slice().into(),
        )
        .unwrap();
    header.extend_from_slice(&72u16.to_be_bytes());
    header.extend_from_slice(&[7u8; 24]);
    header.extend_from_slice(&wrapped);
    header.extend_from_slice(&tag);
    let mut aad = b"strongroom/keyring/v1/payload".to_vec();
    aad.extend_from_slice(&header);
    let mut body = payload.to_vec();
    let tag = XChaCha20Poly1305::new(&sealing_key.into())
        .encrypt_inout_detached(&XNonce::from([9u8; 24]), &aad, body.as_mut_slice().into())
        .unwrap();
    header.extend_from_slice(&[9u8; 24]);
    header.extend_from_slice(&body);
    header.extend_from_slice(&tag);
    header
}

fuzz_target!(|input: (bool, Vec<u8>)| {
    let (as_payload, data) = input;
    let root = KeyFileRoot::new(&KeyMaterial::from_slice(&FILE_KEY).unwrap());
    let file = if as_payload { hand_sealed(&data) } else { data };
    let _ = keyring_file::inspect(&file);
    if let Ok(keyring) = keyring_file::decrypt(&file, &root) {
        let again = keyring_file::decrypt(
            &keyring_file::encrypt(&keyring, &root, &mut SysRng).unwrap(),
            &root,
        )
        .unwrap();
        assert!(strongroom_fuzz::same_contents(&again, &keyring));
    }
});
