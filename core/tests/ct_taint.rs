//! Constant time, checked by memcheck taint (issue #17, point 2; the
//! method of Adam Langley's ctgrind). The secret inputs (keys, and so every
//! byte derived from them) are marked undefined with valgrind client
//! requests; memcheck then reports every conditional jump and every memory
//! address that depends on them. `scripts/ct-taint.sh`, a step of the test
//! command, runs this binary under `valgrind --error-exitcode=1` with
//! `tests/ct/ct.supp`, which lists the public accept-or-reject decisions
//! (ring's tag verdict, `strongroom::ct::verdict`), each with its reason;
//! anything else fails the run.
//!
//! Outside valgrind the client requests are no-ops: the operations still
//! run and are checked, and the test says that their timing was not.
//!
//! Not covered: Argon2id (its second half indexes memory by data, by
//! design: RFC 9106 3.4), and the decoding of decrypted keyring payloads
//! (authenticated plaintext whose structure is public but derived from
//! the key, so memcheck cannot tell it from a secret).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

mod common;

use common::{T0, TEST_KEY_ID};
use strongroom::envelope::{self, DEFAULT_CHUNK_SIZE, Identity, Recipient};
use strongroom::{
    BlindIndex, EncryptionContext, KeyId, KeyImport, KeyMaterial, Keyring, VersionImport,
    VersionState, record,
};

/// Valgrind's client requests (valgrind.h, amd64): a no-op on a CPU,
/// recognised by valgrind's JIT.
#[cfg(target_arch = "x86_64")]
mod vg {
    const RUNNING_ON_VALGRIND: u64 = 0x1001;
    /// VG_USERREQ_TOOL_BASE('M', 'C') + 1 and + 2 (memcheck.h).
    const MAKE_MEM_UNDEFINED: u64 = 0x4d43_0001;
    const MAKE_MEM_DEFINED: u64 = 0x4d43_0002;

    fn request(req: u64, a1: u64, a2: u64, default: u64) -> u64 {
        let args: [u64; 6] = [req, a1, a2, 0, 0, 0];
        let mut result = default;
        // SAFETY: valgrind's "special instruction" sequence: four rotations
        // of rdi by 3 + 13 + 61 + 51 = 128 bits, which leave it as it was,
        // and `xchg rbx, rbx`, which changes nothing; on a CPU the block has
        // no effect but on the flags. Under valgrind it reads the six words
        // at rax (`args`, alive across the block) and writes the result to
        // rdx. It touches no other memory or register.
        unsafe {
            core::arch::asm!(
                "rol rdi, 3",
                "rol rdi, 13",
                "rol rdi, 61",
                "rol rdi, 51",
                "xchg rbx, rbx",
                in("rax") args.as_ptr(),
                inout("rdx") result,
                options(nostack, readonly),
            );
        }
        result
    }

    pub(crate) fn running() -> bool {
        request(RUNNING_ON_VALGRIND, 0, 0, 0) != 0
    }

    /// Marks `bytes` secret: memcheck reports any branch or address on them.
    pub(crate) fn taint(bytes: &[u8]) {
        request(
            MAKE_MEM_UNDEFINED,
            bytes.as_ptr() as u64,
            bytes.len() as u64,
            0,
        );
    }

    /// Marks `bytes` public again (an output the test compares).
    pub(crate) fn declassify(bytes: &[u8]) {
        request(
            MAKE_MEM_DEFINED,
            bytes.as_ptr() as u64,
            bytes.len() as u64,
            0,
        );
    }
}

/// Elsewhere the run is x86_64-only; the operations still run.
#[cfg(not(target_arch = "x86_64"))]
mod vg {
    pub(crate) fn running() -> bool {
        false
    }
    pub(crate) fn taint(_: &[u8]) {}
    pub(crate) fn declassify(_: &[u8]) {}
}

/// A 32-byte key, tainted.
fn secret_key(seed: u8) -> KeyMaterial {
    let bytes: [u8; 32] = core::array::from_fn(|i| seed.wrapping_mul(31).wrapping_add(i as u8));
    let key = KeyMaterial::from_slice(&bytes).unwrap();
    vg::taint(key.expose_secret());
    key
}

/// A keyring whose key "pii" has two enabled versions of tainted material.
fn secret_keyring() -> Keyring {
    let versions = (1..=2)
        .map(|v| VersionImport::new(VersionState::Enabled, T0, Some(secret_key(v))))
        .collect();
    let mut import = KeyImport::new("pii", KeyId::from_u32(TEST_KEY_ID), T0, versions);
    import.primary_version = 2;
    import.min_decryption_version = 1;
    let mut keyring = Keyring::new();
    keyring.import_key(import).unwrap();
    keyring
}

fn public(bytes: &[u8]) -> Vec<u8> {
    vg::declassify(bytes);
    bytes.to_vec()
}

#[test]
fn secrets_drive_no_branch_and_no_address() {
    let under = vg::running();
    let ctx = EncryptionContext::from_pairs([("table", "t"), ("column", "c")]).unwrap();
    let other = EncryptionContext::from_pairs([("table", "t"), ("column", "d")]).unwrap();
    let mut ops = 0;

    // Records under keyring keys, and their failure case.
    let keyring = secret_keyring();
    for size in [0usize, 1, 64, 1024, 70_000] {
        let plain = vec![0x61u8; size];
        let rec = keyring.encrypt_record("pii", &plain, &ctx).unwrap();
        let rec = public(&rec);
        let opened = keyring.decrypt_record(&rec, &ctx).unwrap();
        assert_eq!(public(opened.expose_secret()), plain);
        assert!(keyring.decrypt_record(&rec, &other).is_err());
        ops += 3;
    }

    // Records under a standalone key.
    let key = secret_key(9);
    let rec = public(
        &record::encrypt_with_key(&key, b"standalone", &ctx, &mut strongroom::FastRng).unwrap(),
    );
    let opened = record::decrypt_with_key(&key, &rec, &ctx).unwrap();
    assert_eq!(public(opened.expose_secret()), b"standalone");
    assert!(record::decrypt_with_key(&key, &rec, &other).is_err());
    ops += 3;

    // Envelopes: the data key, its wrap, the commitment, the chunks.
    let plain = vec![0x5au8; 200_000];
    let sealed = envelope::encrypt(
        &[Recipient::Key {
            keyring: &keyring,
            name: "pii",
        }],
        &plain,
        &ctx,
        DEFAULT_CHUNK_SIZE,
        &mut strongroom::FastRng,
    )
    .unwrap();
    let sealed = public(&sealed);
    let opened = envelope::decrypt(Identity::Keyring(&keyring), &sealed, &ctx).unwrap();
    assert_eq!(public(opened.expose_secret()), plain);
    assert!(envelope::decrypt(Identity::Keyring(&keyring), &sealed, &other).is_err());
    ops += 3;

    // Data keys: generate (wrap) and unwrap.
    let dk = keyring.generate_data_key("pii", &ctx).unwrap();
    let wrapped = public(dk.wrapped());
    let back = keyring.unwrap_data_key(&wrapped, &ctx).unwrap();
    assert_eq!(
        public(back.expose_secret()),
        public(dk.key().expose_secret())
    );
    ops += 2;

    // Derived keys (HKDF) and blind indexes (HMAC), compared as outputs.
    let d1 = keyring.derive_key("pii", &ctx).unwrap();
    let d2 = keyring.derive_key("pii", &ctx).unwrap();
    assert_eq!(
        public(d1.key().expose_secret()),
        public(d2.key().expose_secret())
    );
    let index = BlindIndex::new("email", "pii", 32, &[]).unwrap();
    let a = keyring.blind_index(&index, &["ada@example.com"]).unwrap();
    let b = keyring.blind_index(&index, &["ada@example.com"]).unwrap();
    assert_eq!(public(a.as_bytes()), public(b.as_bytes()));
    ops += 4;

    println!(
        "ct taint: {ops} operations on tainted keys; under valgrind: {}",
        if under {
            "yes (memcheck checked every branch and address)"
        } else {
            "no (their timing was not checked)"
        }
    );
}

/// The positive control: a branch on a tainted key byte, which memcheck
/// must report (else the run above proves nothing). It runs when
/// `STRONGROOM_CT_CONTROL` is set: `scripts/ct-taint.sh` runs it under
/// valgrind and requires the report.
#[test]
fn control_a_branch_on_a_key_is_reported() {
    if std::env::var_os("STRONGROOM_CT_CONTROL").is_none() {
        println!("ct taint control: not requested here (scripts/ct-taint.sh runs it)");
        return;
    }
    let key = secret_key(3);
    let high = std::hint::black_box(key.expose_secret()[0]) > 128;
    println!("ct taint control: branched on a key byte ({high})");
}
