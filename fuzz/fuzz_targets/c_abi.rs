//! The C ABI's exported functions themselves (issue #12), called as C
//! calls them: record decrypt (whole and into caller buffers of arbitrary
//! size), text records, envelope inspect and decrypt (from arbitrary
//! bytes, and from a valid envelope with bytes flipped), the streaming
//! decryptor fed in pieces, data-key unwrap, contexts from arbitrary
//! strings, and keyrings opened from sealed bytes. Every call must return
//! a documented result (never `panic` or `unknown_error`), write its
//! out-parameter only on success, and leave no handle alive.
//!
//! Input: byte 0 picks the call (mod 12, as in the match below), bytes 1
//! and 2 are a little-endian u16 `n` (a buffer size, an offset, a piece
//! length, a split point), the rest is the data. A plain byte layout, not
//! `arbitrary`'s, so the committed seeds (fuzz/seeds/c_abi) keep their
//! meaning across library versions.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use strongroom_ffi::buffer::*;
use strongroom_ffi::context::*;
use strongroom_ffi::envelope::*;
use strongroom_ffi::keyring::*;
use strongroom_ffi::keys::*;
use strongroom_ffi::record::*;
use strongroom_ffi::stream::*;
use strongroom_ffi::strongroom_result as R;

struct Fixture {
    keyring: usize,
    envelope: Vec<u8>,
    record: Vec<u8>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| unsafe {
        let mut k = core::ptr::null_mut();
        assert_eq!(strongroom_keyring_new(&mut k), R::Ok);
        assert_eq!(
            strongroom_keyring_key_create(k, b"pii".as_ptr(), 3, core::ptr::null_mut()),
            R::Ok
        );
        let take = |b: *mut strongroom_buffer| {
            let v =
                core::slice::from_raw_parts(strongroom_buffer_data(b), strongroom_buffer_len(b))
                    .to_vec();
            strongroom_buffer_free(b);
            v
        };
        let mut out = core::ptr::null_mut();
        let pt = [7u8; 300];
        assert_eq!(
            strongroom_envelope_encrypt(
                k,
                b"pii".as_ptr(),
                3,
                pt.as_ptr(),
                pt.len(),
                core::ptr::null(),
                64,
                &mut out
            ),
            R::Ok
        );
        let envelope = take(out);
        assert_eq!(
            strongroom_record_encrypt(
                k,
                b"pii".as_ptr(),
                3,
                pt.as_ptr(),
                40,
                core::ptr::null(),
                &mut out
            ),
            R::Ok
        );
        let record = take(out);
        Fixture {
            keyring: k as usize,
            envelope,
            record,
        }
    })
}

fn documented(r: R) {
    assert!(r != R::Panic && r != R::UnknownError, "{r:?}");
}

/// Calls `f` with a fresh out-pointer; checks it is written only on
/// success, and frees what it got.
unsafe fn with_out(f: impl FnOnce(*mut *mut strongroom_buffer) -> R) {
    let sentinel = core::ptr::dangling_mut::<strongroom_buffer>();
    let mut out = sentinel;
    let r = f(&mut out);
    documented(r);
    if r == R::Ok {
        assert!(out != sentinel);
        // SAFETY: a buffer handle the call just returned.
        unsafe { strongroom_buffer_free(out) };
    } else {
        assert!(out == sentinel, "{r:?}: out written on failure");
    }
}

fuzz_target!(|input: &[u8]| {
    let [op, n0, n1, data @ ..] = input else {
        return;
    };
    let (op, n, data) = (*op, u16::from_le_bytes([*n0, *n1]), data.to_vec());
    let fx = fixture();
    let k = fx.keyring as *const strongroom_keyring;
    let base = strongroom_ffi_live();
    unsafe {
        match op % 12 {
            0 => with_out(|o| {
                strongroom_record_decrypt(k, data.as_ptr(), data.len(), core::ptr::null(), o)
            }),
            1 => {
                let mut buf = vec![0xAAu8; usize::from(n) % 2048];
                let mut len = usize::MAX;
                let r = strongroom_record_decrypt_into(
                    k,
                    data.as_ptr(),
                    data.len(),
                    core::ptr::null(),
                    buf.as_mut_ptr(),
                    buf.len(),
                    &mut len,
                );
                documented(r);
                if r != R::Ok {
                    assert_eq!(len, usize::MAX);
                    // Decrypted output is never left behind on failure.
                    assert!(buf.iter().all(|b| *b == 0 || *b == 0xAA));
                }
            }
            2 => with_out(|o| strongroom_record_from_text(data.as_ptr(), data.len(), o)),
            3 => {
                let mut info = core::mem::zeroed::<strongroom_envelope_info>();
                documented(strongroom_envelope_inspect(
                    data.as_ptr(),
                    data.len(),
                    &mut info,
                ));
            }
            4 => with_out(|o| {
                strongroom_envelope_decrypt(k, data.as_ptr(), data.len(), core::ptr::null(), o)
            }),
            5 => {
                // A valid envelope with the input XORed over it from offset n.
                let mut env = fx.envelope.clone();
                for (i, b) in data.iter().enumerate() {
                    if let Some(e) = env.get_mut((usize::from(n) + i) % fx.envelope.len()) {
                        *e ^= b;
                    }
                }
                let flipped = env != fx.envelope;
                let mut out = core::ptr::null_mut();
                let r = strongroom_envelope_decrypt(
                    k,
                    env.as_ptr(),
                    env.len(),
                    core::ptr::null(),
                    &mut out,
                );
                documented(r);
                assert!(r != R::Ok || !flipped, "an altered envelope decrypted");
                strongroom_buffer_free(out);
            }
            6 => with_out(|o| {
                strongroom_datakey_unwrap(k, data.as_ptr(), data.len(), core::ptr::null(), o)
            }),
            8 | 9 => {
                // The streaming decryptor fed in pieces whose sizes come from
                // `n`: the input alone (op 8) or the valid envelope with the
                // input XORed over its end (op 9).
                let env = if op % 12 == 8 {
                    data.clone()
                } else {
                    let mut e = fx.envelope.clone();
                    let len = e.len();
                    for (i, b) in data.iter().enumerate() {
                        e[len - 1 - i % len] ^= b;
                    }
                    e
                };
                let mut d = core::ptr::null_mut();
                assert_eq!(
                    strongroom_envelope_decryptor_new(k, core::ptr::null(), &mut d),
                    R::Ok
                );
                let mut at = 0;
                let mut piece = usize::from(n % 97) + 1;
                let mut released = 0usize;
                let mut failed = false;
                while at < env.len() && !failed {
                    let take = piece.min(env.len() - at);
                    let bound = strongroom_envelope_decryptor_update_bound(d, take);
                    let mut out = vec![0u8; bound];
                    let mut len = 0;
                    let r = strongroom_envelope_decryptor_update(
                        d,
                        env[at..].as_ptr(),
                        take,
                        out.as_mut_ptr(),
                        out.len(),
                        &mut len,
                    );
                    documented(r);
                    if r == R::Ok {
                        released += len;
                    } else {
                        assert!(out.iter().all(|b| *b == 0), "output left after a failure");
                        failed = true;
                    }
                    at += take;
                    piece = piece * 7 % 101 + 1;
                }
                if !failed {
                    let bound = strongroom_envelope_decryptor_finish_bound(d);
                    let mut out = vec![0u8; bound];
                    let mut len = 0;
                    let r = strongroom_envelope_decryptor_finish(
                        d,
                        out.as_mut_ptr(),
                        out.len(),
                        &mut len,
                    );
                    documented(r);
                    if r == R::Ok {
                        released += len;
                        // Only the untouched envelope decrypts in full.
                        assert_eq!(env, fx.envelope);
                        assert_eq!(released, 300);
                    }
                }
                strongroom_envelope_decryptor_free(d);
            }
            10 | 11 => {
                // A keyring opened from bytes: arbitrary bytes (op 10), or
                // arbitrary bytes as the payload of a correctly sealed file
                // (op 11), so the keyring decoder runs behind the tag too.
                const ROOT: [u8; 32] = [0x4b; 32]; // TEST KEY MATERIAL
                let bytes = if op % 12 == 10 {
                    data.clone()
                } else {
                    strongroom_fuzz::hand_sealed(&data, &ROOT)
                };
                let sentinel = core::ptr::dangling_mut::<strongroom_keyring>();
                let mut out = sentinel;
                let r = strongroom_keyring_open_sealed(
                    bytes.as_ptr(),
                    bytes.len(),
                    ROOT.as_ptr(),
                    32,
                    &mut out,
                );
                documented(r);
                if r == R::Ok {
                    let mut count = 0;
                    assert_eq!(strongroom_keyring_key_count(out, &mut count), R::Ok);
                    strongroom_keyring_free(out);
                } else {
                    assert!(out == sentinel);
                }
            }
            _ => {
                let mut ctx = core::ptr::null_mut();
                assert_eq!(strongroom_context_new(&mut ctx), R::Ok);
                let split = usize::from(n) % (data.len() + 1);
                let (key, value) = data.split_at(split);
                documented(strongroom_context_add(
                    ctx,
                    key.as_ptr(),
                    key.len(),
                    value.as_ptr(),
                    value.len(),
                ));
                // The record under the empty context must not open under this one
                // unless the context is empty.
                with_out(|o| {
                    strongroom_record_decrypt(k, fx.record.as_ptr(), fx.record.len(), ctx, o)
                });
                strongroom_context_free(ctx);
            }
        }
    }
    assert_eq!(strongroom_ffi_live(), base, "a handle leaked");
});

fn strongroom_ffi_live() -> usize {
    strongroom_ffi::strongroom_test_live_handles()
}
