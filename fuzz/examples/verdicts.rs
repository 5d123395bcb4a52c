//! The Rust side of the differential run (issue #17): strongroom's verdict
//! on every input in the given directories, read as one format, with the
//! fuzz keyring (`strongroom_fuzz::keyring`) and the empty context, as
//! the fuzz targets read them. `tests/golden/differential.py` runs this
//! and the independent decoder over the same files and compares.
//!
//! ```sh
//! cargo run --manifest-path fuzz/Cargo.toml --example verdicts -- KIND DIR...
//! ```
//!
//! KIND: `record`, `record_text`, `envelope`, `datakey`, `keyring` (the
//! keyring_open layout: mode byte 0 and a file; other modes are skipped),
//! `context`, `armor`, `generation` (a generation file, FORMAT.md 10.6),
//! `transit_params` (a transit root's `params`, 10.3). One line per file,
//! sorted by path: `path<TAB>result<TAB>digest`, where result is `ok` or
//! the FORMAT.md section 11 name of the error, and digest (for `ok`) is
//! the SHA-256 of what came out: the plaintext, the data key, the armored
//! bytes, the context's encoding; for a keyring `keys=N generation=G`,
//! for a generation file `keyring_id=HEX generation=G`, for transit
//! parameters `mount=M key=K` (public names, checked ASCII). Inputs a
//! target would not read (a text record that is not UTF-8, another
//! keyring mode) print `skip`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::PathBuf;

use sha2::{Digest, Sha256};
use strongroom::envelope::{self, Identity};
use strongroom::keyring_file;
use strongroom::root::KeyFileRoot;
use strongroom::vault::TransitRoot;
use strongroom::{EncryptionContext, Error, KeyMaterial, record};

const FILE_KEY: [u8; 32] = [0x4b; 32]; // TEST KEY MATERIAL, as keyring_open

fn digest(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn verdict(r: Result<String, Error>) -> String {
    match r {
        Ok(d) => format!("ok\t{d}"),
        Err(e) => format!("{}\t", e.kind().name()),
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let kind = args.next().expect("usage: verdicts KIND DIR...");
    let mut files: Vec<PathBuf> = args
        .flat_map(|d| fs::read_dir(d).unwrap().map(|f| f.unwrap().path()))
        .collect();
    files.sort();
    let keyring = strongroom_fuzz::keyring();
    let ctx = EncryptionContext::new();
    let root = KeyFileRoot::new(&KeyMaterial::from_slice(&FILE_KEY).unwrap());
    for path in files {
        let data = fs::read(&path).unwrap();
        let text = std::str::from_utf8(&data).ok();
        let line = match (kind.as_str(), text) {
            ("record", _) => verdict(
                keyring
                    .decrypt_record(&data, &ctx)
                    .map(|p| digest(p.expose_secret())),
            ),
            ("record_text", Some(t)) => verdict(
                record::from_text(t)
                    .and_then(|r| keyring.decrypt_record(&r, &ctx))
                    .map(|p| digest(p.expose_secret())),
            ),
            ("envelope", _) => verdict(
                envelope::decrypt(Identity::Keyring(&keyring), &data, &ctx)
                    .map(|p| digest(p.expose_secret())),
            ),
            ("datakey", _) => verdict(
                keyring
                    .unwrap_data_key(&data, &ctx)
                    .map(|k| digest(k.expose_secret())),
            ),
            ("keyring", _) if data.first() == Some(&0) => {
                verdict(keyring_file::open(&data[1..], &root).map(|(k, lineage)| {
                    let generation = lineage.map_or(0, |l| l.generation);
                    format!("keys={} generation={generation}", k.len())
                }))
            }
            ("context", _) => verdict(
                EncryptionContext::from_canonical_bytes(&data)
                    .map(|c| digest(&c.to_canonical_bytes())),
            ),
            ("armor", _) => verdict(envelope::dearmor(&data).map(|b| digest(&b))),
            ("generation", _) => verdict(keyring_file::parse_generation_file(&data).map(|l| {
                let id: String = l.keyring_id.iter().map(|b| format!("{b:02x}")).collect();
                format!("keyring_id={id} generation={}", l.generation)
            })),
            ("transit_params", _) => verdict(
                TransitRoot::parse_params(&data)
                    .map(|(mount, key)| format!("mount={mount} key={key}")),
            ),
            ("record_text" | "keyring", _) => "skip\t".to_string(),
            (other, _) => panic!("unknown kind {other}"),
        };
        println!("{}\t{line}", path.display());
    }
}
