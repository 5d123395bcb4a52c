//! The Rust side of the C / Rust / Python interop matrix
//! (`scripts/interop-matrix.sh`, with `tests/c/interop.c` and
//! `ffi-python/tests/interop.py`): `rust_make` writes records and envelopes
//! made with the Rust API into `$STRONGROOM_INTEROP_DIR` (rust-*.sr), under
//! the keyring file the C side created there; `rust_check` decrypts those
//! of every producer in `$STRONGROOM_INTEROP_PRODUCERS`, byte-exact.
//! Ignored in a plain `cargo test`: they need that directory.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

use std::path::PathBuf;
use std::sync::Arc;

use strongroom::envelope::{self, Identity, Recipient};
use strongroom::root::load_key_file;
use strongroom::store::KeyringStore;
use strongroom::{EncryptionContext, SysRng};

const SIZES: [usize; 7] = [0, 1, 63, 64, 65, 192, 10 << 20];
const RECORD_SIZES: [usize; 7] = [0, 1, 63, 64, 65, 192, 1 << 20];

fn pattern(size: usize) -> Vec<u8> {
    (0..size)
        .map(|i| (i.wrapping_mul(131).wrapping_add(size * 7 + 3)) as u8)
        .collect()
}

fn context(with: bool) -> EncryptionContext {
    if with {
        EncryptionContext::new()
            .with("tenant", "acme")
            .unwrap()
            .with("purpose", "interop")
            .unwrap()
    } else {
        EncryptionContext::new()
    }
}

fn dir() -> PathBuf {
    PathBuf::from(std::env::var("STRONGROOM_INTEROP_DIR").expect("STRONGROOM_INTEROP_DIR"))
}

fn keyring(dir: &std::path::Path) -> strongroom::Keyring {
    let root = Arc::new(load_key_file(&dir.join("root.key")).unwrap());
    KeyringStore::new(dir.join("keyring.srk"), root)
        .load()
        .unwrap()
}

#[test]
#[ignore = "run by scripts/interop-matrix.sh after the C side made the keyring"]
fn rust_make() {
    let dir = dir();
    let keyring = keyring(&dir);
    let mut made = 0;
    for with in [false, true] {
        let ctx = context(with);
        for (size, record_size) in SIZES.iter().zip(RECORD_SIZES) {
            let pt = pattern(*size);
            let chunk = if *size > 1000 {
                envelope::DEFAULT_CHUNK_SIZE
            } else {
                64
            };
            for r in 1..=2 {
                let recipients: Vec<Recipient<'_>> = ["a", "b"][..r]
                    .iter()
                    .map(|name| Recipient::Key {
                        keyring: &keyring,
                        name,
                    })
                    .collect();
                let env = envelope::encrypt(&recipients, &pt, &ctx, chunk, &mut SysRng).unwrap();
                let name = format!("rust-env-{size}-{r}-{}.sr", u8::from(with));
                std::fs::write(dir.join(name), env).unwrap();
                made += 1;
            }
            let rec = keyring
                .encrypt_record("a", &pattern(record_size), &ctx)
                .unwrap();
            std::fs::write(
                dir.join(format!("rust-rec-{record_size}-{}.sr", u8::from(with))),
                rec,
            )
            .unwrap();
            made += 1;
        }
    }
    println!("interop: Rust made {made} records and envelopes");
    assert_eq!(made, SIZES.len() * 3 * 2);
}

#[test]
#[ignore = "run by scripts/interop-matrix.sh after every producer wrote its files"]
fn rust_check() {
    let dir = dir();
    let keyring = keyring(&dir);
    let producers =
        std::env::var("STRONGROOM_INTEROP_PRODUCERS").expect("STRONGROOM_INTEROP_PRODUCERS");
    let producers: Vec<&str> = producers.split(',').collect();
    assert!(!producers.is_empty());
    for producer in producers {
        let mut decrypted = 0;
        for with in [false, true] {
            let ctx = context(with);
            for (size, record_size) in SIZES.iter().zip(RECORD_SIZES) {
                for r in 1..=2 {
                    let name = format!("{producer}-env-{size}-{r}-{}.sr", u8::from(with));
                    let bytes = std::fs::read(dir.join(&name)).unwrap();
                    let plain = envelope::decrypt(Identity::Keyring(&keyring), &bytes, &ctx)
                        .unwrap_or_else(|e| panic!("{name}: {e}"));
                    assert_eq!(plain.expose_secret(), pattern(*size).as_slice(), "{name}");
                    assert_eq!(
                        envelope::inspect(&bytes).unwrap().recipients.len(),
                        r,
                        "{name}"
                    );
                    decrypted += 1;
                }
                let name = format!("{producer}-rec-{record_size}-{}.sr", u8::from(with));
                let bytes = std::fs::read(dir.join(&name)).unwrap();
                let plain = keyring.decrypt_record(&bytes, &ctx).unwrap();
                assert_eq!(
                    plain.expose_secret(),
                    pattern(record_size).as_slice(),
                    "{name}"
                );
                decrypted += 1;
            }
        }
        println!(
            "interop: {producer} -> Rust: {decrypted} records and envelopes decrypted, byte-exact"
        );
        assert_eq!(decrypted, SIZES.len() * 3 * 2);
    }
}
