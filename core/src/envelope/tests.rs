//! Envelope tests that need the crate's internals: stream attacks that forge
//! chunks with the real payload key (moved or stripped last flags, appended
//! valid chunks, empty final chunks), partial-plaintext semantics of the
//! incremental decryptor, and the key commitment (instrumented chunk
//! counter; crafted chunks that raw XChaCha20-Poly1305 accepts under two
//! keys).

extern crate std;

use alloc::vec;
use alloc::vec::Vec;
use std::println;

use num_bigint::BigUint;

use super::stream::{CHUNK_DECRYPTIONS, seal_chunk};
use super::*;
use crate::keyring::{KeyImport, VersionImport, VersionState};
use crate::time::Timestamp;

const CHUNK: u32 = 64;
const SEALED: usize = CHUNK as usize + TAG_LEN;

fn keyring(id: u32, byte: u8) -> Keyring {
    // TEST KEY MATERIAL.
    let t = Timestamp::from_unix_seconds(1);
    let v = VersionImport::new(
        VersionState::Enabled,
        t,
        Some(KeyMaterial::from_slice(&[byte; 32]).unwrap()),
    );
    let mut k = Keyring::new();
    k.import_key(KeyImport::new("k", KeyId::from_u32(id), t, vec![v]))
        .unwrap();
    k
}

fn ctx() -> EncryptionContext {
    EncryptionContext::new().with("file", "test.bin").unwrap()
}

fn plaintext(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

/// An envelope plus what a test needs to forge with its payload key.
struct Sample {
    header: Vec<u8>,
    chunks: Vec<Vec<u8>>,
    payload: KeyMaterial,
    plaintext: Vec<u8>,
}

impl Sample {
    fn new(keyring: &Keyring, chunks: usize) -> Self {
        let plaintext = plaintext(chunks * CHUNK as usize - 5);
        let recipients = [Recipient::Key { keyring, name: "k" }];
        let envelope = encrypt(
            &recipients,
            &plaintext,
            &ctx(),
            CHUNK,
            &mut getrandom::SysRng,
        )
        .unwrap();
        let (header, len) = header::parse(&envelope).unwrap();
        let payload = open_header(&Identity::Keyring(keyring), &header, &ctx()).unwrap();
        let chunks: Vec<Vec<u8>> = envelope[len..].chunks(SEALED).map(<[u8]>::to_vec).collect();
        assert_eq!(chunks.len(), chunks.len().max(1));
        Self {
            header: envelope[..len].to_vec(),
            chunks,
            payload,
            plaintext,
        }
    }

    /// Seals `plaintext` as chunk `index` with the given flag.
    fn forge(&self, index: u64, last: bool, plaintext: &[u8]) -> Vec<u8> {
        let mut buf = plaintext.to_vec();
        let tag = seal_chunk(&self.payload, index, last, &mut buf);
        buf.extend_from_slice(&tag);
        buf
    }
}

/// How many leading chunks of `attacked` are the original chunk at the same
/// position with the same role (final or not): what a correct decryptor
/// releases before it fails.
fn valid_prefix(original: &[Vec<u8>], attacked: &[u8]) -> usize {
    let pieces: Vec<&[u8]> = attacked.chunks(SEALED).collect();
    let mut k = 0;
    while k < pieces.len() && k < original.len() {
        let same = pieces[k] == original[k].as_slice();
        let same_role = (k + 1 == pieces.len()) == (k + 1 == original.len());
        if !(same && same_role) {
            break;
        }
        k += 1;
    }
    k
}

/// Runs one attacked body through the in-memory and the incremental
/// decryptor; checks rejection, the released prefix and stickiness.
fn check_rejected(keyring: &Keyring, s: &Sample, body: &[u8], feed: usize) {
    let released = valid_prefix(&s.chunks, body) * CHUNK as usize;
    check_rejected_releasing(keyring, s, body, feed, &s.plaintext[..released]);
}

/// [`check_rejected`], for a body whose authentic prefix is not the
/// original's: the streaming decryptors must release exactly `released`.
fn check_rejected_releasing(
    keyring: &Keyring,
    s: &Sample,
    body: &[u8],
    feed: usize,
    released: &[u8],
) {
    let mut envelope = s.header.clone();
    envelope.extend_from_slice(body);
    assert!(
        decrypt(Identity::Keyring(keyring), &envelope, &ctx()).is_err(),
        "in-memory accepted"
    );

    let mut d = EnvelopeDecryptor::new(owned(keyring), &ctx());
    let mut out = SecretBytes::new();
    let mut result = Ok(());
    for piece in envelope.chunks(feed) {
        result = d.update(piece, &mut out);
        if result.is_err() {
            break;
        }
    }
    if result.is_ok() {
        result = d.finish(&mut out);
    }
    let err = result.expect_err("incremental decryptor accepted an attacked stream");
    assert_eq!(
        out.len(),
        released.len(),
        "released {} bytes, the authentic prefix is {}",
        out.len(),
        released.len()
    );
    assert_eq!(out.expose_secret(), released);
    // Sticky: the same error, and nothing more, on every further call.
    assert_eq!(d.update(&s.chunks[0], &mut out), Err(err.clone()));
    assert_eq!(d.finish(&mut out), Err(err.clone()));
    assert_eq!(out.len(), released.len());

    // The parallel decryptor releases the same prefix and fails the same way.
    let mut p = EnvelopeDecryptor::new(owned(keyring), &ctx());
    p.set_threads(3).unwrap();
    let mut pout = SecretBytes::new();
    let mut presult = Ok(());
    for piece in envelope.chunks(feed) {
        presult = p.update(piece, &mut pout);
        if presult.is_err() {
            break;
        }
    }
    if presult.is_ok() {
        presult = p.finish(&mut pout);
    }
    assert_eq!(presult, Err(err), "parallel decryptor");
    assert_eq!(
        pout.expose_secret(),
        out.expose_secret(),
        "parallel released a different prefix"
    );
}

/// Every stream attack on envelopes of 1, 2, 3, 8 and 257 chunks.
#[test]
fn stream_attacks_are_all_rejected() {
    let keyring = keyring(0x00a1_1ce5, 1);
    let mut cases = 0usize;
    for n in [1usize, 2, 3, 8, 257] {
        let s = Sample::new(&keyring, n);
        let other = Sample::new(&keyring, n);
        assert_eq!(s.chunks.len(), n);
        let mut attacked: Vec<Vec<u8>> = Vec::new();
        let join = |chunks: &[Vec<u8>]| chunks.concat();
        // Drop each chunk.
        for i in 0..n {
            let mut c = s.chunks.clone();
            c.remove(i);
            attacked.push(join(&c));
        }
        // Duplicate each chunk in place.
        for i in 0..n {
            let mut c = s.chunks.clone();
            c.insert(i, s.chunks[i].clone());
            attacked.push(join(&c));
        }
        // Swap each pair (every pair up to 8 chunks; neighbours and the
        // ends for 257).
        for i in 0..n {
            for j in i + 1..n {
                if n > 8 && j != i + 1 && !(i == 0 && j == n - 1) {
                    continue;
                }
                let mut c = s.chunks.clone();
                c.swap(i, j);
                attacked.push(join(&c));
            }
        }
        // Splice each chunk from another envelope (same key, same context).
        for i in 0..n {
            let mut c = s.chunks.clone();
            c[i] = other.chunks[i].clone();
            attacked.push(join(&c));
        }
        // Strip the last flag: the final chunk sealed as non-final.
        let last = n - 1;
        let last_pt = &s.plaintext[last * CHUNK as usize..];
        let mut c = s.chunks.clone();
        c[last] = s.forge(last as u64, false, last_pt);
        attacked.push(join(&c));
        // Move the last flag onto each earlier chunk, the rest following.
        // (Cutting the stream there instead would be an honest encryption
        // of the shorter plaintext: only the key holder can make it.)
        for i in 0..last {
            let mut c = s.chunks.clone();
            c[i] = s.forge(
                i as u64,
                true,
                &s.plaintext[i * CHUNK as usize..(i + 1) * CHUNK as usize],
            );
            attacked.push(join(&c));
        }
        // Append a valid extra chunk (correct index, final flag).
        let mut c = s.chunks.clone();
        c.push(s.forge(n as u64, true, b"appended"));
        attacked.push(join(&c));
        // An empty final chunk after full chunks (the encoder never makes
        // one: a full-size final chunk carries the flag instead). Forged
        // with the payload key, so every chunk authenticates: only the
        // layout rule refuses the stream, after the full chunks, the forged
        // one included, have been released. Fed whole and 7 bytes at a time.
        let mut c = s.chunks.clone();
        let padded = [&s.plaintext[last * CHUNK as usize..], &[0u8; 5]].concat();
        c[last] = s.forge(last as u64, false, &padded);
        c.push(s.forge(n as u64, true, b""));
        let released = [&s.plaintext[..last * CHUNK as usize], &padded].concat();
        let body = join(&c);
        for feed in [body.len() + s.header.len(), 7] {
            check_rejected_releasing(&keyring, &s, &body, feed, &released);
            cases += 1;
        }
        // Trailing bytes: 1, 15, 16, 17 and a whole sealed chunk's worth.
        for extra in [1usize, 15, 16, 17, SEALED] {
            let mut body = join(&s.chunks);
            body.extend(core::iter::repeat_n(0xA5u8, extra));
            attacked.push(body);
        }
        // Truncation at every chunk boundary and inside the final chunk.
        for cut in 1..=n {
            let body = join(&s.chunks);
            attacked.push(body[..body.len() - cut.min(body.len())].to_vec());
        }
        for (k, body) in attacked.iter().enumerate() {
            check_rejected(
                &keyring,
                &s,
                body,
                if k % 2 == 0 {
                    body.len() + s.header.len()
                } else {
                    7
                },
            );
            cases += 1;
        }
    }
    println!(
        "stream attacks (1, 2, 3, 8, 257 chunks): {cases} attacked streams, 0 accepted; each released exactly its authentic prefix, then failed on every call"
    );
    assert!(cases > 1000);
}

/// All 8! orderings of an 8-chunk envelope: only the true one decrypts.
#[test]
fn every_reordering_of_eight_chunks_is_rejected() {
    let keyring = keyring(0x00a1_1ce5, 1);
    let s = Sample::new(&keyring, 8);
    let mut order: Vec<usize> = (0..8).collect();
    let (mut accepted, mut total) = (0usize, 0usize);
    // Heap's algorithm over all permutations.
    let mut c = [0usize; 8];
    let mut try_order = |order: &[usize]| {
        let mut envelope = s.header.clone();
        for &i in order {
            envelope.extend_from_slice(&s.chunks[i]);
        }
        if decrypt(Identity::Keyring(&keyring), &envelope, &ctx()).is_ok() {
            assert_eq!(order, [0, 1, 2, 3, 4, 5, 6, 7]);
            accepted += 1;
        }
        total += 1;
    };
    try_order(&order);
    let mut i = 0;
    while i < 8 {
        if c[i] < i {
            if i % 2 == 0 {
                order.swap(0, i);
            } else {
                order.swap(c[i], i);
            }
            try_order(&order);
            c[i] += 1;
            i = 0;
        } else {
            c[i] = 0;
            i += 1;
        }
    }
    println!("8! orderings: {total} tried, {accepted} accepted (the original)");
    assert_eq!((total, accepted), (40_320, 1));
}

#[test]
fn wrong_key_or_context_decrypts_no_chunk() {
    let right = keyring(0x0000_0a0a, 1);
    let wrong_material = keyring(0x0000_0a0a, 2);
    let s = Sample::new(&right, 3);
    let envelope = [s.header.clone(), s.chunks.concat()].concat();
    let other_ctx = EncryptionContext::new().with("file", "other.bin").unwrap();
    let count = || CHUNK_DECRYPTIONS.with(core::cell::Cell::get);
    let before = count();
    let cases: [(&Keyring, &EncryptionContext); 2] =
        [(&wrong_material, &ctx()), (&right, &other_ctx)];
    for (keyring, context) in cases {
        assert_eq!(
            decrypt(Identity::Keyring(keyring), &envelope, context).unwrap_err(),
            Error::AuthenticationFailed
        );
        assert!(decrypt_chunk(Identity::Keyring(keyring), &envelope, context, 1).is_err());
        let mut d = EnvelopeDecryptor::new(owned(keyring), context);
        let mut out = SecretBytes::new();
        assert!(d.update(&envelope, &mut out).is_err());
    }
    // A commitment that does not match (header byte flipped in the
    // commitment itself): also no chunk.
    let mut bad = envelope.clone();
    bad[s.header.len() - 1] ^= 1;
    assert!(decrypt(Identity::Keyring(&right), &bad, &ctx()).is_err());
    assert_eq!(
        count() - before,
        0,
        "a chunk was decrypted before the header was trusted"
    );
    // Sanity: the right key and context do decrypt chunks.
    decrypt(Identity::Keyring(&right), &envelope, &ctx()).unwrap();
    assert_eq!(count() - before, 3);
    println!(
        "commitment: wrong key, wrong context and a bad commitment: 0 chunk decryptions attempted"
    );
}

// --- Crafted two-key chunks -------------------------------------------------

/// The Poly1305 one-time key (r clamped, s) XChaCha20-Poly1305 uses for
/// `key` and `nonce`: the first 32 bytes of the keystream at block 0.
fn poly_key(key: &KeyMaterial, nonce: &[u8; 24]) -> (BigUint, BigUint) {
    use chacha20::XChaCha20;
    use chacha20::cipher::{KeyIvInit, StreamCipher};
    let mut block = [0u8; 32];
    let mut cipher = XChaCha20::new(key.expose_secret().into(), nonce.into());
    cipher.apply_keystream(&mut block);
    let mut r = [0u8; 16];
    r.copy_from_slice(&block[..16]);
    for i in [3, 7, 11, 15] {
        r[i] &= 15;
    }
    for i in [4, 8, 12] {
        r[i] &= 252;
    }
    (
        BigUint::from_bytes_le(&r),
        BigUint::from_bytes_le(&block[16..]),
    )
}

/// A 32-byte ciphertext and tag that XChaCha20-Poly1305 with empty AAD
/// accepts under both keys (the partitioning-oracle construction: two
/// linear equations in the two ciphertext blocks, mod 2^130 - 5).
fn craft_two_key_chunk(
    k1: &KeyMaterial,
    k2: &KeyMaterial,
    nonce: &[u8; 24],
    seed: u64,
) -> Option<([u8; 32], [u8; 16])> {
    let p = (BigUint::from(1u8) << 130u32) - BigUint::from(5u8);
    let two128 = BigUint::from(1u8) << 128u32;
    let (r1, s1) = poly_key(k1, nonce);
    let (r2, s2) = poly_key(k2, nonce);
    // Length block: aad_len = 0, ct_len = 32 (little-endian u64 each).
    let mut len_block = [0u8; 16];
    len_block[8] = 32;
    let b3 = BigUint::from_bytes_le(&len_block) + &two128;
    let inv = |x: &BigUint| x.modpow(&(&p - BigUint::from(2u8)), &p);
    for attempt in 0..64u64 {
        // The common tag T.
        let t_bytes: [u8; 16] = core::array::from_fn(|i| {
            (seed
                .wrapping_mul(0x9e37_79b9_7f4a_7c15)
                .wrapping_add(attempt * 131 + i as u64)
                >> (i % 8)) as u8
        });
        let t = BigUint::from_bytes_le(&t_bytes);
        // acc_j must equal (T - s_j) mod 2^128 (as a value below p).
        let target = |s: &BigUint| ((&t + &two128) - (s % &two128)) % &two128;
        let (t1, t2) = (target(&s1), target(&s2));
        // Equations: b1 r^3 + b2 r^2 = t - b3 r (mod p), for r1 and r2.
        let rhs = |t: &BigUint, r: &BigUint| (t + &p - (&b3 * r % &p)) % &p;
        let (c1, c2) = (rhs(&t1, &r1), rhs(&t2, &r2));
        let (a11, a12) = (
            r1.modpow(&BigUint::from(3u8), &p),
            r1.modpow(&BigUint::from(2u8), &p),
        );
        let (a21, a22) = (
            r2.modpow(&BigUint::from(3u8), &p),
            r2.modpow(&BigUint::from(2u8), &p),
        );
        let det = (&a11 * &a22 % &p + &p - &a12 * &a21 % &p) % &p;
        if det == BigUint::from(0u8) {
            return None;
        }
        let det_inv = inv(&det);
        let b1 = (&c1 * &a22 % &p + &p - &c2 * &a12 % &p) % &p * &det_inv % &p;
        let b2 = (&a11 * &c2 % &p + &p - &a21 * &c1 % &p) % &p * &det_inv % &p;
        // Each block is a 16-byte value plus 2^128: it must lie in [2^128, 2^129).
        let ok = |b: &BigUint| b >= &two128 && b < &(&two128 << 1u32);
        if ok(&b1) && ok(&b2) {
            let mut ct = [0u8; 32];
            let lo = (&b1 - &two128).to_bytes_le();
            ct[..lo.len()].copy_from_slice(&lo);
            let hi = (&b2 - &two128).to_bytes_le();
            ct[16..16 + hi.len()].copy_from_slice(&hi);
            return Some((ct, t_bytes));
        }
    }
    None
}

#[test]
fn a_chunk_raw_aead_opens_under_two_keys_never_opens_two_envelopes() {
    let a = keyring(0x0000_00aa, 0xAA);
    let b = keyring(0x0000_00bb, 0xBB);
    let ctx = EncryptionContext::new();
    let mut rng = getrandom::SysRng;
    let (mut pairs, mut opened_by_both) = (0usize, 0usize);
    let mut seed = 0u64;
    while pairs < 1000 {
        seed += 1;
        let dk1 = KeyMaterial::generate(&mut rng).unwrap();
        let dk2 = KeyMaterial::generate(&mut rng).unwrap();
        let mut salt = [0u8; SALT_LEN];
        random::fill(&mut rng, &mut salt).unwrap();
        let fixed = Header::fixed_part(CHUNK, &salt, &ctx);
        let payload = |dk: &KeyMaterial| {
            Prk::extract(&salt, dk.expose_secret()).expand_key(&[PAYLOAD_LABEL, &fixed])
        };
        let (p1, p2) = (payload(&dk1), payload(&dk2));
        let nonce = stream::chunk_nonce(0, true);
        let Some((ct, tag)) = craft_two_key_chunk(&p1, &p2, &nonce, seed) else {
            continue;
        };
        // Premise: raw XChaCha20-Poly1305 accepts this chunk under both keys.
        for p in [&p1, &p2] {
            let mut buf = ct;
            aead::decrypt_in_place(Algorithm::XChaCha20Poly1305, p, &nonce, &[], &mut buf, &tag)
                .expect("premise: the crafted chunk opens under both payload keys");
        }
        // The attacker's envelope: dk1 wrapped for A, dk2 wrapped for B, one
        // body; the commitment can only be computed for one data key.
        for committed in [&dk1, &dk2] {
            let mut header = Header {
                fixed: fixed.clone(),
                chunk_size: CHUNK,
                salt,
                context: ctx.clone(),
                recipients: vec![
                    wrap(
                        &Recipient::Key {
                            keyring: &a,
                            name: "k",
                        },
                        &dk1,
                        &fixed,
                        &mut rng,
                    )
                    .unwrap(),
                    wrap(
                        &Recipient::Key {
                            keyring: &b,
                            name: "k",
                        },
                        &dk2,
                        &fixed,
                        &mut rng,
                    )
                    .unwrap(),
                ],
                commitment: [0; COMMITMENT_LEN],
            };
            header.commitment =
                commitment(&Prk::extract(&salt, committed.expose_secret()), &header);
            let mut envelope = header.to_bytes();
            envelope.extend_from_slice(&ct);
            envelope.extend_from_slice(&tag);
            let by_a = decrypt(Identity::Keyring(&a), &envelope, &ctx).is_ok();
            let by_b = decrypt(Identity::Keyring(&b), &envelope, &ctx).is_ok();
            assert!(by_a || by_b, "the honest side of the commitment must open");
            if by_a && by_b {
                opened_by_both += 1;
            }
        }
        pairs += 1;
    }
    println!(
        "commitment: {pairs} crafted key pairs whose chunk raw XChaCha20-Poly1305 accepts under both keys; {opened_by_both} envelopes opened under both"
    );
    assert_eq!(opened_by_both, 0);
}

/// A shared copy of `keyring`, for the decryptor (which owns what it uses).
fn owned(keyring: &Keyring) -> alloc::sync::Arc<Keyring> {
    alloc::sync::Arc::new(keyring.duplicate().unwrap())
}

/// The bounds at their edges, where mutation testing found no test
/// looking (issue #17): 16 recipients make an envelope that each of them
/// opens alone, 17 are refused; a header whose count byte says 0 or 17 is
/// malformed; the header length arithmetic agrees with FORMAT.md 7.1.
#[test]
fn sixteen_recipients_open_and_seventeen_are_refused() {
    let t = Timestamp::from_unix_seconds(1);
    let names: Vec<alloc::string::String> = (1..=17).map(|i| alloc::format!("k{i}")).collect();
    let import = |k: &mut Keyring, i: usize| {
        // TEST KEY MATERIAL.
        let v = VersionImport::new(
            VersionState::Enabled,
            t,
            Some(KeyMaterial::from_slice(&[i as u8 + 1; 32]).unwrap()),
        );
        k.import_key(KeyImport::new(
            &names[i],
            KeyId::from_u32(i as u32 + 1),
            t,
            vec![v],
        ))
        .unwrap();
    };
    let mut all = Keyring::new();
    for i in 0..17 {
        import(&mut all, i);
    }
    let recipients: Vec<Recipient<'_>> = names
        .iter()
        .map(|name| Recipient::Key {
            keyring: &all,
            name,
        })
        .collect();
    let env = encrypt(
        &recipients[..16],
        b"sixteen",
        &ctx(),
        CHUNK,
        &mut getrandom::SysRng,
    )
    .unwrap();
    let info = inspect(&env).unwrap();
    assert_eq!(info.recipients.len(), 16);
    let (parsed, len) = header::parse(&env).unwrap();
    assert_eq!(parsed.len(), len);
    assert_eq!(parsed.to_bytes().len(), len);
    assert_eq!(info.header_len, len);
    let context_len = ctx().encoded_len();
    // FORMAT.md 7.1: 43 fixed bytes, the context, the count byte, 80 bytes
    // per recipient, the 32-byte commitment.
    assert_eq!(len, 43 + context_len + 1 + 16 * 80 + 32);
    assert_eq!(header::header_len_for(context_len, 16), len);
    assert_eq!(MAX_HEADER_LEN, 43 + 8192 + 1 + 16 * 80 + 32);
    for i in [0, 7, 15] {
        let mut alone = Keyring::new();
        import(&mut alone, i);
        let plain = decrypt(Identity::Keyring(&alone), &env, &ctx()).unwrap();
        assert_eq!(plain.expose_secret(), b"sixteen", "recipient {i} alone");
    }
    let mut outsider = Keyring::new();
    import(&mut outsider, 16);
    assert!(decrypt(Identity::Keyring(&outsider), &env, &ctx()).is_err());
    assert!(matches!(
        encrypt(
            &recipients,
            b"seventeen",
            &ctx(),
            CHUNK,
            &mut getrandom::SysRng
        ),
        Err(Error::InvalidArgument { .. })
    ));
    let count_at = 43 + context_len;
    assert_eq!(env[count_at], 16);
    for bad in [0u8, 17] {
        let mut e = env.clone();
        e[count_at] = bad;
        assert!(
            matches!(header::header_len(&e), Err(Error::Malformed { .. })),
            "count {bad}"
        );
    }
}

/// The early checks of `header_len` at their byte boundaries: 8 bytes are
/// "need more", the 9th completes the chunk size, which is checked at once.
#[test]
fn header_length_checks_start_at_the_ninth_byte() {
    let mut nine = alloc::vec::Vec::from(*b"SREN\x01");
    nine.extend_from_slice(&0u32.to_be_bytes());
    assert!(matches!(header::header_len(&nine[..8]), Ok(None)));
    assert!(matches!(
        header::header_len(&nine),
        Err(Error::Malformed { .. })
    ));
    let mut ok = nine.clone();
    ok[5..9].copy_from_slice(&MIN_CHUNK_SIZE.to_be_bytes());
    assert!(matches!(header::header_len(&ok), Ok(None)));
    ok[5..9].copy_from_slice(&(MIN_CHUNK_SIZE - 1).to_be_bytes());
    assert!(header::header_len(&ok).is_err());
    ok[5..9].copy_from_slice(&MAX_CHUNK_SIZE.to_be_bytes());
    assert!(matches!(header::header_len(&ok), Ok(None)));
    ok[5..9].copy_from_slice(&(MAX_CHUNK_SIZE + 1).to_be_bytes());
    assert!(header::header_len(&ok).is_err());
}

/// The context length is checked as soon as its two bytes (41 and 42)
/// have arrived, not when more of the header has: a stream names a bad
/// length in its first 43 bytes and is refused there. Every shorter
/// prefix of a valid header is "need more", the whole of it its length.
#[test]
fn the_context_length_is_checked_at_the_43rd_byte() {
    let env = encrypt(
        &[Recipient::Key {
            keyring: &keyring(7, 7),
            name: "k",
        }],
        b"x",
        &ctx(),
        CHUNK,
        &mut getrandom::SysRng,
    )
    .unwrap();
    let len = inspect(&env).unwrap().header_len;
    for p in 0..len {
        assert!(
            matches!(header::header_len(&env[..p]), Ok(None)),
            "prefix {p}"
        );
    }
    assert_eq!(header::header_len(&env[..len]).unwrap(), Some(len));
    for bad in [0u16, 1, 8193] {
        let mut e = env[..43].to_vec();
        e[41..43].copy_from_slice(&bad.to_be_bytes());
        assert!(
            matches!(header::header_len(&e), Err(Error::Malformed { .. })),
            "context length {bad}"
        );
        assert!(matches!(header::header_len(&e[..42]), Ok(None)));
    }
}
