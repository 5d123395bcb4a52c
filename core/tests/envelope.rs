//! Envelopes through the public API: round trips at every chunk boundary,
//! incremental and random-access decryption, recipients, rewrap (body bytes
//! unchanged), the tamper sweep, data keys and derived keys.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

mod common;

use common::{T0, keyring_at_version};
use strongroom::envelope::{
    self, DEFAULT_CHUNK_SIZE, EnvelopeDecryptor, EnvelopeEncryptor, Identity, Recipient,
};
use strongroom::{
    EncryptionContext, Error, KeyMaterial, KeyVersion, Keyring, SecretBytes, SysRng, record,
};

fn ctx() -> EncryptionContext {
    EncryptionContext::from_pairs([("bucket", "exports"), ("object", "customers.csv")]).unwrap()
}

fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 253) as u8).collect()
}

fn seal(keyring: &Keyring, pt: &[u8], chunk: u32) -> Vec<u8> {
    envelope::encrypt(
        &[Recipient::Key { keyring, name: "k" }],
        pt,
        &ctx(),
        chunk,
        &mut SysRng,
    )
    .unwrap()
}

#[test]
fn round_trips_at_every_chunk_boundary() {
    let keyring = keyring_at_version("k", 2);
    let c = 64usize;
    for len in [0, 1, c - 1, c, c + 1, 2 * c, 3 * c - 7, 3 * c, 10 * c + 3] {
        let pt = data(len);
        let sealed = seal(&keyring, &pt, c as u32);
        let info = envelope::inspect(&sealed).unwrap();
        assert_eq!(info.plaintext_len, len as u64);
        assert_eq!(
            info.chunk_count,
            (len.div_ceil(c)).max(1) as u64,
            "len {len}"
        );
        assert_eq!(info.chunk_size, 64);
        assert_eq!(info.context, ctx());
        assert_eq!(
            common::decrypt_envelope(&keyring, &sealed, &ctx())
                .unwrap()
                .expose_secret(),
            &pt[..]
        );
        // Random access: every chunk alone.
        let mut joined = Vec::new();
        for i in 0..info.chunk_count {
            let chunk =
                envelope::decrypt_chunk(Identity::Keyring(&keyring), &sealed, &ctx(), i).unwrap();
            joined.extend_from_slice(chunk.expose_secret());
        }
        assert_eq!(joined, pt);
        assert!(
            envelope::decrypt_chunk(
                Identity::Keyring(&keyring),
                &sealed,
                &ctx(),
                info.chunk_count
            )
            .is_err()
        );
    }
}

#[test]
fn incremental_paths_agree_with_one_shot_for_any_split() {
    let keyring = std::sync::Arc::new(keyring_at_version("k", 1));
    let pt = data(1000);
    for split in [1usize, 3, 63, 64, 65, 200, 1000] {
        let recipients = [Recipient::Key {
            keyring: &keyring,
            name: "k",
        }];
        let (mut enc, mut out) =
            EnvelopeEncryptor::new(&recipients, &ctx(), 64, &mut SysRng).unwrap();
        for piece in pt.chunks(split) {
            enc.update(piece, &mut out).unwrap();
        }
        enc.finish(&mut out).unwrap();
        assert_eq!(
            common::decrypt_envelope(&keyring, &out, &ctx())
                .unwrap()
                .expose_secret(),
            &pt[..]
        );
        for feed in [1usize, 7, 80, 81, out.len()] {
            let mut d = EnvelopeDecryptor::new(keyring.clone(), &ctx());
            let mut plain = SecretBytes::new();
            for piece in out.chunks(feed) {
                d.update(piece, &mut plain).unwrap();
            }
            d.finish(&mut plain).unwrap();
            assert_eq!(plain.expose_secret(), &pt[..], "split {split} feed {feed}");
            // After the end, more bytes are an error.
            assert!(d.update(b"x", &mut plain).is_err());
        }
    }
}

#[test]
fn an_unfinished_encryptor_never_yields_a_complete_envelope() {
    let keyring = keyring_at_version("k", 1);
    let recipients = [Recipient::Key {
        keyring: &keyring,
        name: "k",
    }];
    for len in [0usize, 10, 64, 130] {
        let (mut enc, mut out) =
            EnvelopeEncryptor::new(&recipients, &ctx(), 64, &mut SysRng).unwrap();
        enc.update(&data(len), &mut out).unwrap();
        drop(enc);
        assert!(
            common::decrypt_envelope(&keyring, &out, &ctx()).is_err(),
            "len {len}"
        );
    }
}

#[test]
fn two_recipients_each_open_alone() {
    let local = keyring_at_version("k", 1);
    let mut escrow = Keyring::new();
    escrow.create_key("escrow").unwrap();
    let subject = KeyMaterial::generate(&mut SysRng).unwrap();
    let pt = data(300);
    let sealed = envelope::encrypt(
        &[
            Recipient::Key {
                keyring: &local,
                name: "k",
            },
            Recipient::Key {
                keyring: &escrow,
                name: "escrow",
            },
            Recipient::Standalone(&subject),
        ],
        &pt,
        &ctx(),
        128,
        &mut SysRng,
    )
    .unwrap();
    assert_eq!(envelope::inspect(&sealed).unwrap().recipients.len(), 3);
    for opener in [
        Identity::Keyring(&local),
        Identity::Keyring(&escrow),
        Identity::Standalone(&subject),
    ] {
        assert_eq!(
            envelope::decrypt(opener, &sealed, &ctx())
                .unwrap()
                .expose_secret(),
            &pt[..]
        );
    }
    let stranger = Keyring::new();
    assert!(matches!(
        common::decrypt_envelope(&stranger, &sealed, &ctx()),
        Err(Error::UnknownKeyId { .. })
    ));
    // The same key twice is refused.
    let twice = envelope::encrypt(
        &[
            Recipient::Key {
                keyring: &local,
                name: "k",
            },
            Recipient::Key {
                keyring: &local,
                name: "k",
            },
        ],
        &pt,
        &ctx(),
        128,
        &mut SysRng,
    );
    assert!(matches!(twice, Err(Error::InvalidArgument { .. })));
}

#[test]
fn rewrap_keeps_the_body_and_survives_destroying_the_old_version() {
    let mut keyring = Keyring::new();
    let id = keyring.create_key("k").unwrap();
    let pt = data(5000);
    let old = seal(&keyring, &pt, 1024);
    let old_info = envelope::inspect(&old).unwrap();
    keyring.rotate("k").unwrap();
    let new = common::rewrap_envelope(&keyring, &old, &ctx()).unwrap();
    let new_info = envelope::inspect(&new).unwrap();
    assert_eq!(new_info.recipients[0].key, Some(KeyVersion::new(id, 2)));
    assert_eq!(old_info.recipients[0].key, Some(KeyVersion::new(id, 1)));
    assert_eq!(
        &old[old_info.header_len..],
        &new[new_info.header_len..],
        "body bytes changed"
    );
    assert_eq!(
        common::decrypt_envelope(&keyring, &new, &ctx())
            .unwrap()
            .expose_secret(),
        &pt[..]
    );
    keyring.destroy_version("k", 1).unwrap();
    assert_eq!(
        common::decrypt_envelope(&keyring, &old, &ctx()).unwrap_err(),
        Error::VersionDestroyed {
            key_id: id,
            version: 1
        }
    );
    assert_eq!(
        common::decrypt_envelope(&keyring, &new, &ctx())
            .unwrap()
            .expose_secret(),
        &pt[..]
    );
    println!(
        "rewrap: {} body bytes identical after moving v1 -> v2; old envelope after destroying v1: {}",
        old.len() - old_info.header_len,
        common::decrypt_envelope(&keyring, &old, &ctx()).unwrap_err()
    );
}

#[test]
fn recipients_can_be_added_and_removed_without_touching_the_body() {
    let local = keyring_at_version("k", 1);
    let mut escrow = Keyring::new();
    let escrow_id = escrow.create_key("escrow").unwrap();
    let pt = data(700);
    let sealed = seal(&local, &pt, 256);
    let body = |e: &[u8]| e[envelope::inspect(e).unwrap().header_len..].to_vec();
    let added = envelope::add_recipient(
        Identity::Keyring(&local),
        &sealed,
        &ctx(),
        Recipient::Key {
            keyring: &escrow,
            name: "escrow",
        },
        &mut SysRng,
    )
    .unwrap();
    assert_eq!(body(&added), body(&sealed));
    assert_eq!(
        common::decrypt_envelope(&escrow, &added, &ctx())
            .unwrap()
            .expose_secret(),
        &pt[..]
    );
    let local_id = local.key_id("k").unwrap();
    let removed = envelope::remove_recipient(
        Identity::Keyring(&escrow),
        &added,
        &ctx(),
        Some(local_id),
        &mut SysRng,
    )
    .unwrap();
    assert_eq!(body(&removed), body(&sealed));
    assert!(matches!(
        common::decrypt_envelope(&local, &removed, &ctx()),
        Err(Error::UnknownKeyId { .. })
    ));
    assert_eq!(
        common::decrypt_envelope(&escrow, &removed, &ctx())
            .unwrap()
            .expose_secret(),
        &pt[..]
    );
    // The last recipient cannot go.
    assert!(
        envelope::remove_recipient(
            Identity::Keyring(&escrow),
            &removed,
            &ctx(),
            Some(escrow_id),
            &mut SysRng
        )
        .is_err()
    );
    // Stripping a recipient by hand (without the data key) breaks the
    // commitment, which covers the recipient list.
    let info = envelope::inspect(&added).unwrap();
    let mut stripped = added.clone();
    let count_at = info.header_len - 32 - 2 * 80 - 1;
    stripped[count_at] = 1;
    stripped.drain(count_at + 1 + 80..count_at + 1 + 160);
    assert_eq!(
        common::decrypt_envelope(&local, &stripped, &ctx()).unwrap_err(),
        Error::AuthenticationFailed
    );
}

#[test]
fn every_bit_flip_and_truncation_of_an_envelope_is_rejected() {
    let keyring = keyring_at_version("k", 3);
    let pt = data(3 * 400 - 17);
    let sealed = seal(&keyring, &pt, 400);
    assert_eq!(envelope::inspect(&sealed).unwrap().chunk_count, 3);
    let (mut attempts, mut accepted) = (0usize, 0usize);
    for i in 0..sealed.len() * 8 {
        let mut e = sealed.clone();
        e[i / 8] ^= 1 << (i % 8);
        attempts += 1;
        if common::decrypt_envelope(&keyring, &e, &ctx()).is_ok() {
            accepted += 1;
        }
    }
    for n in 0..sealed.len() {
        attempts += 1;
        if common::decrypt_envelope(&keyring, &sealed[..n], &ctx()).is_ok() {
            accepted += 1;
        }
    }
    println!(
        "tamper (envelope, {} bytes, chunk size 400, 3 chunks): {attempts} attempts ({} bit flips, {} truncations), {accepted} accepted",
        sealed.len(),
        sealed.len() * 8,
        sealed.len()
    );
    assert_eq!(accepted, 0);
    assert!(attempts > 12_000);
}

#[test]
fn data_keys_shred_a_subject() {
    let mut keyring = Keyring::new();
    let id = keyring.create_key("subjects").unwrap();
    let subject_ctx = EncryptionContext::new()
        .with("subject", "customer-1001")
        .unwrap();
    let (dk, blob) = keyring
        .generate_data_key("subjects", &subject_ctx)
        .unwrap()
        .into_parts();
    assert_eq!(
        strongroom::datakey::inspect_wrapped_key(&blob).unwrap(),
        KeyVersion::new(id, 1)
    );
    // Records and envelopes under the data key.
    let rec = record::encrypt_with_key(&dk, b"ada@example.com", &ctx(), &mut SysRng).unwrap();
    assert!(record::inspect_record(&rec).unwrap().is_standalone());
    let env = envelope::encrypt(
        &[Recipient::Standalone(&dk)],
        &data(200),
        &ctx(),
        64,
        &mut SysRng,
    )
    .unwrap();
    drop(dk);
    // Later: unwrap the blob, decrypt.
    let dk = keyring.unwrap_data_key(&blob, &subject_ctx).unwrap();
    assert_eq!(
        record::decrypt_with_key(&dk, &rec, &ctx())
            .unwrap()
            .expose_secret(),
        b"ada@example.com"
    );
    assert_eq!(
        envelope::decrypt(Identity::Standalone(&dk), &env, &ctx())
            .unwrap()
            .expose_secret(),
        &data(200)[..]
    );
    // A keyring cannot decrypt a standalone record, nor the reverse.
    assert!(matches!(
        keyring.decrypt_record(&rec, &ctx()),
        Err(Error::Malformed { .. })
    ));
    let keyed = keyring.encrypt_record("subjects", b"x", &ctx()).unwrap();
    assert!(matches!(
        record::decrypt_with_key(&dk, &keyed, &ctx()),
        Err(Error::Malformed { .. })
    ));
    // The blob is bound to its context, and strictly parsed.
    assert_eq!(
        keyring.unwrap_data_key(&blob, &ctx()).unwrap_err(),
        Error::AuthenticationFailed
    );
    for n in 0..blob.len() {
        assert!(keyring.unwrap_data_key(&blob[..n], &subject_ctx).is_err());
    }
    for i in 0..blob.len() * 8 {
        let mut b = blob.clone();
        b[i / 8] ^= 1 << (i % 8);
        assert!(keyring.unwrap_data_key(&b, &subject_ctx).is_err());
    }
    // Rotation: rewrap the blob, destroy v1; the data (never touched) still opens.
    keyring.rotate("subjects").unwrap();
    let blob2 = keyring
        .rewrap_data_key_with(&blob, &subject_ctx, &mut SysRng)
        .unwrap();
    keyring.destroy_version("subjects", 1).unwrap();
    assert!(matches!(
        keyring.unwrap_data_key(&blob, &subject_ctx),
        Err(Error::VersionDestroyed { .. })
    ));
    let dk2 = keyring.unwrap_data_key(&blob2, &subject_ctx).unwrap();
    assert_eq!(dk2, dk);
    // Shredding: without the blob, the data key is gone; any other key fails.
    let other = KeyMaterial::generate(&mut SysRng).unwrap();
    assert_eq!(
        record::decrypt_with_key(&other, &rec, &ctx()).unwrap_err(),
        Error::AuthenticationFailed
    );
    assert_eq!(
        envelope::decrypt(Identity::Standalone(&other), &env, &ctx()).unwrap_err(),
        Error::AuthenticationFailed
    );
}

#[test]
fn a_data_keys_debug_names_the_wrapping_version_and_nothing_secret() {
    let mut keyring = Keyring::new();
    let id = keyring.create_key("subjects").unwrap();
    keyring.rotate("subjects").unwrap();
    let dk = keyring.generate_data_key("subjects", &ctx()).unwrap();
    let text = format!("{dk:?}");
    let expected = format!(
        "DataKey {{ wrapped_by: Some({:?}), .. }}",
        KeyVersion::new(id, 2)
    );
    assert_eq!(text, expected);
    // That exact text holds no key byte: the key is never formatted.
}

#[test]
fn derived_keys_isolate_tenants() {
    let mut keyring = keyring_at_version("k", 1);
    let acme = EncryptionContext::new().with("tenant", "acme").unwrap();
    let globex = EncryptionContext::new().with("tenant", "globex").unwrap();
    let ka = keyring.derive_key("k", &acme).unwrap();
    let ka_again = keyring.derive_key("k", &acme).unwrap();
    let kg = keyring.derive_key("k", &globex).unwrap();
    assert_eq!(ka.key(), ka_again.key());
    assert_ne!(ka.key(), kg.key());
    assert_eq!(ka.version(), 1);
    let rec = record::encrypt_with_key(ka.key(), b"acme secret", &ctx(), &mut SysRng).unwrap();
    assert_eq!(
        record::decrypt_with_key(ka.key(), &rec, &ctx())
            .unwrap()
            .expose_secret(),
        b"acme secret"
    );
    assert_eq!(
        record::decrypt_with_key(kg.key(), &rec, &ctx()).unwrap_err(),
        Error::AuthenticationFailed
    );
    let env = envelope::encrypt(
        &[Recipient::Standalone(ka.key())],
        b"acme file",
        &ctx(),
        DEFAULT_CHUNK_SIZE,
        &mut SysRng,
    )
    .unwrap();
    // After rotation, derive from the version that was used.
    keyring.rotate_with("k", &mut SysRng, T0).unwrap();
    let ka2 = keyring.derive_key("k", &acme).unwrap();
    assert_eq!(ka2.version(), 2);
    assert_ne!(ka2.key(), ka.key());
    let ka1 = keyring.derive_key_version("k", 1, &acme).unwrap();
    assert_eq!(
        envelope::decrypt(Identity::Standalone(ka1.key()), &env, &ctx())
            .unwrap()
            .expose_secret(),
        b"acme file"
    );
    keyring.disable_version("k", 1).unwrap();
    assert!(matches!(
        keyring.derive_key_version("k", 1, &acme),
        Err(Error::VersionDisabled { .. })
    ));
    assert!(!format!("{ka:?}").contains(&hex::encode(&ka.key().expose_secret()[..4])));
}

#[test]
fn parallel_encryption_is_byte_identical_and_parallel_decryption_agrees() {
    let keyring = std::sync::Arc::new(keyring_at_version("k", 1));
    let recipients = [Recipient::Key {
        keyring: &keyring,
        name: "k",
    }];
    let c = 64usize;
    let mut checked = 0;
    for len in [0, 1, c - 1, c, c + 1, 17 * c + 5, 64 * c, 200 * c + 1] {
        let pt = data(len);
        let seal = |threads: usize, piece: usize| {
            // Same seed, so the same data key, salt and header.
            let mut rng = common::SeededRng::new(len as u64);
            let (mut enc, mut out) =
                EnvelopeEncryptor::new(&recipients, &ctx(), c as u32, &mut rng).unwrap();
            enc.set_threads(threads).unwrap();
            for p in pt.chunks(piece.max(1)) {
                enc.update(p, &mut out).unwrap();
            }
            enc.finish(&mut out).unwrap();
            out
        };
        let single = seal(1, 1000);
        for (threads, piece) in [(2, 7), (4, 1000), (8, 100_000)] {
            assert_eq!(seal(threads, piece), single, "len {len} threads {threads}");
        }
        for threads in [1, 3, 8] {
            let mut d = EnvelopeDecryptor::new(keyring.clone(), &ctx());
            d.set_threads(threads).unwrap();
            let mut plain = SecretBytes::new();
            for piece in single.chunks(777) {
                d.update(piece, &mut plain).unwrap();
            }
            d.finish(&mut plain).unwrap();
            assert_eq!(
                plain.expose_secret(),
                &pt[..],
                "len {len} threads {threads}"
            );
        }
        checked += 1;
    }
    println!(
        "parallel: {checked} sizes encrypted on 2, 4 and 8 threads byte-identical to 1 thread; decrypted on 1, 3 and 8 threads"
    );
}

#[test]
fn inspect_reads_the_body_layout_and_refuses_an_empty_chunk_after_others() {
    let keyring = keyring_at_version("k", 1);
    let chunk = 64u32;
    for (len, chunks) in [(0usize, 1u64), (1, 1), (64, 1), (65, 2), (128, 2), (129, 3)] {
        let env = seal(&keyring, &data(len), chunk);
        let info = envelope::inspect(&env).unwrap();
        assert_eq!((info.chunk_count, info.plaintext_len), (chunks, len as u64));
        // After a full final chunk, a tag-sized piece would be an empty
        // final chunk after other chunks: never written, refused by its
        // layout alone (FORMAT.md 7.5), before any key is used.
        if len > 0 && len % 64 == 0 {
            let mut longer = env.clone();
            longer.extend_from_slice(&[0u8; 16]);
            assert_eq!(
                envelope::inspect(&longer).unwrap_err(),
                Error::Malformed {
                    reason: "empty final chunk after other chunks"
                }
            );
        }
    }
}

#[test]
fn streams_print_their_progress_and_nothing_secret() {
    let keyring = std::sync::Arc::new(keyring_at_version("k", 1));
    let recipients = [Recipient::Key {
        keyring: &keyring,
        name: "k",
    }];
    let (mut enc, mut out) = EnvelopeEncryptor::new(&recipients, &ctx(), 64, &mut SysRng).unwrap();
    assert_eq!(
        format!("{enc:?}"),
        "EnvelopeEncryptor { chunks_written: 0, .. }"
    );
    enc.update(&data(200), &mut out).unwrap();
    assert_eq!(
        format!("{enc:?}"),
        "EnvelopeEncryptor { chunks_written: 3, .. }"
    );
    enc.finish(&mut out).unwrap();
    let mut d = EnvelopeDecryptor::new(keyring.clone(), &ctx());
    let mut plain = SecretBytes::new();
    assert_eq!(
        format!("{d:?}"),
        "EnvelopeDecryptor { state: \"header\", .. }"
    );
    d.update(&out, &mut plain).unwrap();
    assert_eq!(
        format!("{d:?}"),
        "EnvelopeDecryptor { state: \"body\", .. }"
    );
    d.finish(&mut plain).unwrap();
    assert_eq!(
        format!("{d:?}"),
        "EnvelopeDecryptor { state: \"done\", .. }"
    );
    let mut bad = EnvelopeDecryptor::new(keyring.clone(), &ctx());
    assert!(bad.update(b"not an envelope at all", &mut plain).is_err());
    assert_eq!(
        format!("{bad:?}"),
        "EnvelopeDecryptor { state: \"failed\", .. }"
    );
}
