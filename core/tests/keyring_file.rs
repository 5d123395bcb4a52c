//! Sealed keyrings (FORMAT.md 10): round trips under each root, wrong roots,
//! change of root, single-key backups, tampering, and hostile files that
//! must be refused before any KDF run or large allocation.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use common::{T0, keyring_with, test_material};
use strongroom::keyring_file;
use strongroom::root::{Argon2Params, KeyFileRoot, KeyProvider, PassphraseRoot};
use strongroom::{EncryptionContext, Error, KeyMaterial, Keyring, SysRng, VersionState};

/// Counts the largest single allocation while armed.
struct CountingAllocator;
static ARMED: AtomicBool = AtomicBool::new(false);
static LARGEST: AtomicUsize = AtomicUsize::new(0);
/// See [`serial`].
static ALLOC_LOCK: Mutex<()> = Mutex::new(());

// SAFETY: forwards every call to the system allocator unchanged.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if ARMED.load(Ordering::Relaxed) {
            LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        }
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if ARMED.load(Ordering::Relaxed) {
            LARGEST.fetch_max(new_size, Ordering::Relaxed);
        }
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Every test in this binary runs under this lock: the allocator's
/// counters are process-wide.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    ALLOC_LOCK
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Cheap Argon2 costs for tests (the default is 64 MiB, 3 passes).
const FAST: Argon2Params = Argon2Params {
    m_cost_kib: 64,
    t_cost: 1,
    p_cost: 1,
};

fn key_file_root() -> KeyFileRoot {
    // TEST KEY MATERIAL.
    KeyFileRoot::new(&KeyMaterial::from_slice(&[0x4b; 32]).unwrap())
}

fn ctx() -> EncryptionContext {
    EncryptionContext::new().with("t", "sealed").unwrap()
}

/// A keyring with history: "k" v1 destroyed, v2 disabled, v3 enabled
/// primary; "other" with a rotation period.
fn rich_keyring() -> Keyring {
    let mut keyring = keyring_with("k", &[VersionState::Enabled; 3], 3, 1);
    keyring.create_key_with("other", &mut SysRng, T0).unwrap();
    keyring.set_rotation_period("other", Some(86_400)).unwrap();
    keyring.disable_version("k", 2).unwrap();
    keyring
}

#[test]
fn round_trip_under_each_root_keeps_everything_and_no_destroyed_material() {
    let _serial = serial();
    let roots: [(&str, Box<dyn KeyProvider>); 2] = [
        (
            "passphrase",
            Box::new(PassphraseRoot::with_params(b"correct horse", FAST)),
        ),
        ("key file", Box::new(key_file_root())),
    ];
    for (name, root) in roots {
        let mut keyring = rich_keyring();
        let record_v3 = keyring.encrypt_record("k", b"kept", &ctx()).unwrap();
        let record_other = keyring.encrypt_record("other", b"other", &ctx()).unwrap();
        keyring.destroy_version("k", 1).unwrap();
        let file = keyring_file::encrypt(&keyring, root.as_ref(), &mut SysRng).unwrap();
        let reopened = keyring_file::decrypt(&file, root.as_ref()).unwrap();
        assert!(common::same_contents(&reopened, &keyring), "{name}");
        assert_eq!(reopened.keys(), keyring.keys(), "{name}: metadata view");
        assert_eq!(
            reopened
                .decrypt_record(&record_v3, &ctx())
                .unwrap()
                .expose_secret(),
            b"kept"
        );
        assert_eq!(
            reopened
                .decrypt_record(&record_other, &ctx())
                .unwrap()
                .expose_secret(),
            b"other"
        );
        // Destroyed material is nowhere: not in the file, not in the
        // decrypted payload (checked through a fresh seal/open cycle).
        let destroyed = test_material(1);
        assert!(!file.windows(32).any(|w| w == destroyed), "{name}: file");
        let again = keyring_file::decrypt(
            &keyring_file::encrypt(&reopened, root.as_ref(), &mut SysRng).unwrap(),
            root.as_ref(),
        )
        .unwrap();
        assert!(common::same_contents(&again, &keyring));
        assert_eq!(
            keyring_file::inspect(&file).unwrap().root_kind,
            root.root_kind()
        );
    }
}

#[test]
fn wrong_roots_and_kinds_are_refused_clearly() {
    let _serial = serial();
    let keyring = rich_keyring();
    let file = keyring_file::encrypt(
        &keyring,
        &PassphraseRoot::with_params(b"right", FAST),
        &mut SysRng,
    )
    .unwrap();
    assert_eq!(
        keyring_file::decrypt(&file, &PassphraseRoot::with_params(b"wrong", FAST)).unwrap_err(),
        Error::AuthenticationFailed
    );
    let err = keyring_file::decrypt(&file, &key_file_root()).unwrap_err();
    assert!(
        err.to_string().contains("sealed with a passphrase"),
        "{err}"
    );
    let kf = keyring_file::encrypt(&keyring, &key_file_root(), &mut SysRng).unwrap();
    let other_key = KeyFileRoot::new(&KeyMaterial::from_slice(&[1; 32]).unwrap());
    assert_eq!(
        keyring_file::decrypt(&kf, &other_key).unwrap_err(),
        Error::AuthenticationFailed
    );
    // Key-file contents: raw 32 bytes or 64 hex digits (+ newline), nothing else.
    let hex = format!("{}\n", hex::encode([0x4b; 32]));
    let from_hex = KeyFileRoot::from_file_contents(hex.as_bytes()).unwrap();
    assert!(keyring_file::decrypt(&kf, &from_hex).is_ok());
    assert!(
        keyring_file::decrypt(&kf, &KeyFileRoot::from_file_contents(&[0x4b; 32]).unwrap()).is_ok()
    );
    for bad in [&b""[..], &[0u8; 31], &[0u8; 33], b"zz"] {
        assert!(KeyFileRoot::from_file_contents(bad).is_err());
    }
}

#[test]
fn change_root_and_key_backups() {
    let _serial = serial();
    let keyring = rich_keyring();
    let record = keyring.encrypt_record("k", b"moved", &ctx()).unwrap();
    let old_root = PassphraseRoot::with_params(b"old", FAST);
    let file = keyring_file::encrypt(&keyring, &old_root, &mut SysRng).unwrap();
    // Change root: open with the old, seal with the new; material unchanged.
    let opened = keyring_file::decrypt(&file, &old_root).unwrap();
    let new_file = keyring_file::encrypt(&opened, &key_file_root(), &mut SysRng).unwrap();
    let reopened = keyring_file::decrypt(&new_file, &key_file_root()).unwrap();
    assert!(common::same_contents(&reopened, &keyring));
    assert!(keyring_file::decrypt(&new_file, &old_root).is_err());
    // Backup of one key under its own root, imported elsewhere.
    let backup_root = PassphraseRoot::with_params(b"backup", FAST);
    let backup = keyring
        .export_key_with("k", &backup_root, &mut SysRng)
        .unwrap();
    let mut elsewhere = Keyring::new();
    elsewhere.create_key("local").unwrap();
    let id = elsewhere.import_key_backup(&backup, &backup_root).unwrap();
    assert_eq!(id, keyring.key_id("k").unwrap());
    assert_eq!(
        elsewhere.key_info("k").unwrap(),
        keyring.key_info("k").unwrap()
    );
    assert_eq!(
        elsewhere
            .decrypt_record(&record, &ctx())
            .unwrap()
            .expose_secret(),
        b"moved"
    );
    assert!(matches!(
        elsewhere.import_key_backup(&backup, &backup_root),
        Err(Error::KeyExists { .. })
    ));
    // A whole keyring is not a single-key backup.
    let mut fresh = Keyring::new();
    assert!(fresh.import_key_backup(&file, &old_root).is_err());
}

#[test]
fn every_bit_flip_and_truncation_of_a_sealed_keyring_is_rejected() {
    let _serial = serial();
    let keyring = keyring_with("k", &[VersionState::Enabled; 2], 2, 1);
    let root = key_file_root();
    let file = keyring_file::encrypt(&keyring, &root, &mut SysRng).unwrap();
    let (mut attempts, mut accepted) = (0, 0);
    for i in 0..file.len() * 8 {
        let mut f = file.clone();
        f[i / 8] ^= 1 << (i % 8);
        attempts += 1;
        if keyring_file::decrypt(&f, &root).is_ok() {
            accepted += 1;
        }
    }
    for n in 0..file.len() {
        attempts += 1;
        if keyring_file::decrypt(&file[..n], &root).is_ok() {
            accepted += 1;
        }
    }
    println!(
        "tamper (sealed keyring, {} bytes): {attempts} attempts, {accepted} accepted",
        file.len()
    );
    assert_eq!(accepted, 0);
}

// --- Hostile files, built by hand from FORMAT.md 10 ------------------------

fn largest_allocation_during(f: impl FnOnce()) -> usize {
    LARGEST.store(0, Ordering::SeqCst);
    ARMED.store(true, Ordering::SeqCst);
    f();
    ARMED.store(false, Ordering::SeqCst);
    LARGEST.load(Ordering::SeqCst)
}

#[test]
fn hostile_files_are_refused_before_kdf_or_large_allocation() {
    let _serial = serial();
    let file_key = [0x4b_u8; 32];
    let root = KeyFileRoot::new(&KeyMaterial::from_slice(&file_key).unwrap());
    // The hand-built encoder agrees with the library on a real payload.
    let one_key = b"\x01\x00\x00\x00\x01\x01k\x00\x00\x00\x07\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x01\x00\x00\x00\x00\x00\x00\x00\x01";
    let mut good = one_key.to_vec();
    good.extend_from_slice(&[0x11; 32]);
    let opened = keyring_file::decrypt(&common::hand_sealed(&good, &file_key), &root).unwrap();
    assert_eq!(opened.key_info("k").unwrap().key_id.as_u32(), 7);

    let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
    // Payload counts far beyond the bytes present.
    cases.push((
        "key count 2^32-1",
        common::hand_sealed(b"\x01\xff\xff\xff\xff", &file_key),
    ));
    cases.push((
        "key count 65536, no keys",
        common::hand_sealed(b"\x01\x00\x01\x00\x00", &file_key),
    ));
    let mut huge_versions = one_key[..one_key.len() - 9 - 4].to_vec();
    huge_versions.extend_from_slice(&0x0001_0000u32.to_be_bytes());
    cases.push((
        "version count 65536, none present",
        common::hand_sealed(&huge_versions, &file_key),
    ));
    let mut too_many_versions = one_key[..one_key.len() - 9 - 4].to_vec();
    too_many_versions.extend_from_slice(&u32::MAX.to_be_bytes());
    cases.push((
        "version count 2^32-1",
        common::hand_sealed(&too_many_versions, &file_key),
    ));
    cases.push((
        "unknown payload version",
        common::hand_sealed(b"\x09", &file_key),
    ));
    cases.push((
        "trailing byte",
        common::hand_sealed(&[good.clone(), vec![0]].concat(), &file_key),
    ));
    // Outer lengths.
    let real = common::hand_sealed(&good, &file_key);
    // Version 2: params_len at 30, then (empty key-file params) wrapped_len at 32.
    let mut long_params = real.clone();
    long_params[30..32].copy_from_slice(&0xffffu16.to_be_bytes());
    cases.push(("params_len 65535", long_params));
    let mut long_wrapped = real.clone();
    long_wrapped[32..34].copy_from_slice(&0xffffu16.to_be_bytes());
    cases.push(("wrapped_len 65535", long_wrapped));
    cases.push(("over 16 MiB", vec![0u8; (16 << 20) + 1]));
    for (what, file) in &cases {
        let mut result = Ok(());
        let peak =
            largest_allocation_during(|| result = keyring_file::decrypt(file, &root).map(|_| ()));
        assert!(result.is_err(), "{what}: accepted");
        assert!(
            peak < 64 * 1024 + file.len(),
            "{what}: allocated {peak} bytes"
        );
    }
    // Absurd Argon2 costs in a passphrase file: refused before Argon2 runs
    // (which would allocate m KiB). m = 4 TiB, t and p at u32::MAX.
    let keyring = keyring_with("k", &[VersionState::Enabled], 1, 1);
    let pass = PassphraseRoot::with_params(b"pw", FAST);
    let file = keyring_file::encrypt(&keyring, &pass, &mut SysRng).unwrap();
    let mut argon_cases = 0;
    // Version 2: m at 32, t at 36, p at 40.
    for (at, value) in [
        (32usize, u32::MAX),
        (32, 2 * 1024 * 1024),
        (36, u32::MAX),
        (40, u32::MAX),
        (40, 0),
        (36, 0),
    ] {
        let mut f = file.clone();
        f[at..at + 4].copy_from_slice(&value.to_be_bytes());
        let mut result = Ok(());
        let peak =
            largest_allocation_during(|| result = keyring_file::decrypt(&f, &pass).map(|_| ()));
        let err = result.unwrap_err();
        assert!(matches!(err, Error::TooLarge { .. }), "{err:?}");
        assert!(
            peak < 64 * 1024,
            "argon2 params at {at} = {value}: allocated {peak}"
        );
        assert!(keyring_file::inspect(&f).is_err());
        argon_cases += 1;
    }
    println!(
        "hostile keyring files: {} refused with no allocation above 64 KiB + file size; {argon_cases} absurd Argon2 parameter sets refused before any KDF run",
        cases.len()
    );
}

#[test]
fn default_argon2_parameters_are_the_documented_ones() {
    let _serial = serial();
    assert_eq!(
        Argon2Params::DEFAULT,
        Argon2Params {
            m_cost_kib: 65_536,
            t_cost: 3,
            p_cost: 4
        }
    );
    assert!(Argon2Params::DEFAULT.is_within_bounds());
    let file =
        keyring_file::encrypt(&Keyring::new(), &PassphraseRoot::new(b"pw"), &mut SysRng).unwrap();
    assert_eq!(
        keyring_file::inspect(&file).unwrap().argon2,
        Some(Argon2Params::DEFAULT)
    );
}

#[test]
fn the_same_contents_check_tells_keyrings_apart() {
    let _serial = serial();
    // The helper the round-trip tests rely on must be able to fail.
    let a = keyring_with("k", &[VersionState::Enabled], 1, 1);
    let b = keyring_with("k", &[VersionState::Enabled], 1, 1);
    assert!(common::same_contents(&a, &b));
    let mut other_material = Keyring::new();
    let versions = vec![strongroom::VersionImport::new(
        VersionState::Enabled,
        T0,
        // TEST KEY MATERIAL (test_material(9) would wrap around to version 1's).
        Some(KeyMaterial::from_slice(&[0xa7; 32]).unwrap()),
    )];
    other_material
        .import_key(strongroom::KeyImport::new(
            "k",
            strongroom::KeyId::from_u32(common::TEST_KEY_ID),
            T0,
            versions,
        ))
        .unwrap();
    assert!(
        !common::same_contents(&a, &other_material),
        "material differs"
    );
    let disabled = keyring_with("k", &[VersionState::Disabled, VersionState::Enabled], 2, 1);
    let enabled = keyring_with("k", &[VersionState::Enabled, VersionState::Enabled], 2, 1);
    assert!(!common::same_contents(&disabled, &enabled), "state differs");
}

#[test]
fn secrecy_passphrases_and_keys_are_accepted() {
    let _serial = serial();
    use strongroom::secrecy::{SecretBox, SecretString};
    let fast = Argon2Params {
        m_cost_kib: 64,
        t_cost: 1,
        p_cost: 1,
    };
    let keyring = keyring_with("k", &[VersionState::Enabled], 1, 1);
    let file = keyring_file::encrypt(
        &keyring,
        &PassphraseRoot::with_params(b"correct horse", fast),
        &mut SysRng,
    )
    .unwrap();
    // An application's SecretString opens it, with no unprotected copy.
    let secret = SecretString::from("correct horse");
    let opened = keyring_file::decrypt(&file, &PassphraseRoot::from(&secret)).unwrap();
    assert!(common::same_contents(&opened, &keyring));
    let wrong = SecretString::from("battery staple");
    assert_eq!(
        keyring_file::decrypt(&file, &PassphraseRoot::from(&wrong)).unwrap_err(),
        Error::AuthenticationFailed
    );
    // A key file root from a SecretBox of 32 bytes (TEST KEY MATERIAL).
    let boxed = SecretBox::new(Box::new([0x5c; 32]));
    let root = KeyFileRoot::new(&KeyMaterial::from(&boxed));
    let file = keyring_file::encrypt(&keyring, &root, &mut SysRng).unwrap();
    let again = KeyFileRoot::new(&KeyMaterial::from_slice(&[0x5c; 32]).unwrap());
    assert!(common::same_contents(
        &keyring_file::decrypt(&file, &again).unwrap(),
        &keyring
    ));
}

#[test]
fn a_generation_file_is_read_only_in_its_one_canonical_form() {
    let _serial = serial();
    use keyring_file::{
        Lineage, MAX_GENERATION_FILE_LEN, generation_file_bytes, parse_generation_file,
    };
    let lineage = Lineage {
        keyring_id: *b"\x00\x01\x0a\xab\xcd\xef\x10\x99\xff\x7f\x80\x5a\xa5\x3c\xc3\xfe",
        generation: 7,
    };
    let good = generation_file_bytes(lineage);
    assert_eq!(parse_generation_file(good.as_bytes()).unwrap(), lineage);
    // The longest file there is (generation u64::MAX) reads back, within
    // the bound.
    let longest = generation_file_bytes(Lineage {
        generation: u64::MAX,
        ..lineage
    });
    assert!(longest.len() <= MAX_GENERATION_FILE_LEN);
    assert_eq!(
        parse_generation_file(longest.as_bytes())
            .unwrap()
            .generation,
        u64::MAX
    );
    let id = "00010aabcdef1099ff7f805aa53cc3fe";
    assert!(good.contains(id));
    let refused = [
        // The id in capitals, or with a sign that a radix parse would take.
        good.replace(id, &id.to_uppercase()),
        good.replace(id, &format!("+{}", &id[1..])),
        // The id one byte short or long, all hex digits.
        good.replace(id, &id[2..]),
        good.replace(id, &format!("{id}00")),
        // A generation with a sign, or past u64::MAX.
        good.replace("generation 7", "generation +7"),
        longest.replace("18446744073709551615", "18446744073709551616"),
    ];
    for bad in refused {
        assert!(
            matches!(
                parse_generation_file(bad.as_bytes()),
                Err(Error::Malformed { .. })
            ),
            "{bad:?}"
        );
    }
}

#[test]
fn the_structural_bounds_are_checked_at_their_edges() {
    let _serial = serial();
    use keyring_file::{MAX_KEYRING_FILE_LEN, MAX_ROOT_FIELD_LEN, inspect};
    // Key-file root kind (2), whose parameters the structure does not read.
    let build = |params: &[u8], wrapped: &[u8]| {
        common::hand_built_keyring_file(
            &[0x42; 32],
            Some(([0x1d; 16], 1)),
            2,
            params,
            Some(wrapped),
            b"x",
        )
    };
    let reason = |bytes: &[u8]| match inspect(bytes) {
        Err(Error::Malformed { reason }) => reason,
        other => panic!("{other:?}"),
    };
    // The magic alone is a truncated file, not a foreign one.
    assert_eq!(reason(b"SRKR"), "keyring file is truncated");
    assert_eq!(reason(b"SRK"), "not a strongroom keyring file (bad magic)");

    // Parameters and wrap at their bound pass the structure; one byte more
    // is refused for its length.
    let edge = build(&[1; MAX_ROOT_FIELD_LEN], &[2; MAX_ROOT_FIELD_LEN]);
    assert_eq!(
        inspect(&edge).unwrap().root_params.len(),
        MAX_ROOT_FIELD_LEN
    );
    let long_params = build(&[1; MAX_ROOT_FIELD_LEN + 1], &[2; 72]);
    assert_eq!(reason(&long_params), "root parameters too long");
    let long_wrap = build(&[1; 28], &[2; MAX_ROOT_FIELD_LEN + 1]);
    assert_eq!(reason(&long_wrap), "wrapped sealing key too long");
    // Each length is judged as soon as its two bytes are read (v2: the
    // parameter length at 30..32; the wrap's right after 28 bytes of
    // parameters, at 60..62), not after the field it announces.
    assert_eq!(reason(&long_params[..32]), "root parameters too long");
    assert_eq!(reason(&long_wrap[..62]), "wrapped sealing key too long");
    assert_eq!(reason(&long_wrap[..61]), "keyring file is truncated");

    // The payload may be empty as far as the structure goes (nonce and tag
    // alone); a byte less is truncated.
    let mut bare = build(&[], &[2; 72]);
    bare.truncate(bare.len() - 17);
    bare.extend_from_slice(&[0; 16]);
    assert!(inspect(&bare).is_ok());
    assert_eq!(reason(&bare[..bare.len() - 1]), "keyring file is truncated");

    // The whole file: exactly MAX_KEYRING_FILE_LEN passes the structure
    // (the tail is ciphertext to it); one byte more is refused first.
    let mut at_max = build(&[], &[2; 72]);
    at_max.resize(MAX_KEYRING_FILE_LEN, 0);
    assert!(inspect(&at_max).is_ok());
    at_max.push(0);
    assert!(matches!(
        inspect(&at_max),
        Err(Error::TooLarge {
            max: MAX_KEYRING_FILE_LEN,
            ..
        })
    ));
}

/// A key of `destroyed` destroyed versions and one enabled (the primary),
/// named `name`: its payload encoding takes 33 + name + 9 per destroyed
/// version + 41 bytes (FORMAT.md 10.4).
fn mostly_destroyed_key(name: &str, id: u32, destroyed: usize) -> strongroom::KeyImport {
    let mut versions: Vec<_> = (0..destroyed)
        .map(|_| strongroom::VersionImport::new(VersionState::Destroyed, T0, None))
        .collect();
    versions.push(strongroom::VersionImport::new(
        VersionState::Enabled,
        T0,
        Some(KeyMaterial::from_slice(&test_material(1)).unwrap()),
    ));
    strongroom::KeyImport::new(name, strongroom::KeyId::from_u32(id), T0, versions)
}

#[test]
fn a_keyring_file_of_the_largest_length_is_written_and_one_byte_more_is_not() {
    let _serial = serial();
    use keyring_file::MAX_KEYRING_FILE_LEN;
    // A key-file root's file is its payload plus 146 bytes: 30 of magic,
    // format, kind and lineage, 2 + 0 of parameters, 2 + 72 of wrap, a
    // 24-byte nonce and a 16-byte tag (FORMAT.md 10.2).
    let payload_target = MAX_KEYRING_FILE_LEN - 146;
    let per_full_key = |name: &str| 33 + name.len() + 65_535 * 9 + 41;
    let mut full_keys = Vec::new();
    let mut payload = 5;
    loop {
        let name = format!("full-{:02}", full_keys.len() + 1);
        if payload + per_full_key(&name) + 33 + 128 + 41 > payload_target {
            break;
        }
        payload += per_full_key(&name);
        full_keys.push(name);
    }
    // The last key takes the rest: destroyed versions in steps of 9 bytes,
    // the name's length for the remainder.
    let rest = payload_target - payload - 33 - 41;
    let name_len = (1..=128).find(|n| (rest - n).is_multiple_of(9)).unwrap();
    let destroyed = (rest - name_len) / 9;
    let root = key_file_root();
    for (extra, fits) in [(0, true), (1, false)] {
        let mut k = Keyring::new();
        for (i, name) in full_keys.iter().enumerate() {
            k.import_key(mostly_destroyed_key(name, 1 + i as u32, 65_535))
                .unwrap();
        }
        let name = "n".repeat(name_len + extra);
        k.import_key(mostly_destroyed_key(&name, 999, destroyed))
            .unwrap();
        match keyring_file::encrypt(&k, &root, &mut SysRng) {
            Ok(file) => {
                assert!(fits, "a file of {} bytes was written", file.len());
                assert_eq!(file.len(), MAX_KEYRING_FILE_LEN);
                let back = keyring_file::decrypt(&file, &root).unwrap();
                assert_eq!(back.keys().len(), full_keys.len() + 1);
            }
            Err(e) => {
                assert!(!fits, "the largest file was refused: {e}");
                assert_eq!(
                    e,
                    Error::TooLarge {
                        what: "sealed keyring length",
                        max: MAX_KEYRING_FILE_LEN
                    }
                );
            }
        }
    }
}
