//! Writes the committed seed corpora, `fuzz/seeds/<target>/` (issue #17):
//! valid objects of every format and kind, made under the fuzz keyring
//! (`strongroom_fuzz::keyring`, TEST KEY MATERIAL) so that they decrypt
//! inside the targets, then each object altered where a parser decides
//! (another key version, a destroyed or unknown one), and every golden
//! vector of `tests/golden/` in the form each target reads. A seeded RNG
//! makes a rerun write the same bytes. From the repository root:
//!
//! ```sh
//! RUSTFLAGS="--cfg fuzzing" cargo run --manifest-path fuzz/Cargo.toml --example make_seeds
//! ```
//!
//! (`--cfg fuzzing` for `strongroom::fuzzing::keyring_payload_of`.) The
//! fuzz campaign (`scripts/fuzz-campaign.sh`) reads these directories as
//! seeds and never writes to them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use strongroom::envelope::{self, Recipient};
use strongroom::keyring_file::{self, Lineage};
use strongroom::root::{Argon2Params, KeyFileRoot, PassphraseRoot};
use strongroom::{EncryptionContext, KeyMaterial, Keyring, Timestamp, record};
use strongroom_fuzz::SeededRng;

const FILE_KEY: [u8; 32] = [0x4b; 32]; // TEST KEY MATERIAL (keyring_open, c_abi)

/// The seeds of every target, by target and file name.
#[derive(Default)]
struct Seeds(BTreeMap<&'static str, BTreeMap<String, Vec<u8>>>);

impl Seeds {
    fn add(&mut self, target: &'static str, name: impl Into<String>, bytes: impl Into<Vec<u8>>) {
        let name = name.into();
        let previous = self
            .0
            .entry(target)
            .or_default()
            .insert(name.clone(), bytes.into());
        assert!(previous.is_none(), "two seeds named {target}/{name}");
    }

    /// A binary record, for every target that reads one.
    fn record(&mut self, name: &str, r: &[u8]) {
        self.add("record_decrypt", name, r);
        self.add("record_text", name, record::to_text(r));
        self.c_abi(0, 0, &format!("record_decrypt-{name}"), r);
        self.c_abi(1, r.len() as u16, &format!("record_decrypt_into-{name}"), r);
        self.c_abi(
            2,
            0,
            &format!("record_from_text-{name}"),
            record::to_text(r).as_bytes(),
        );
    }

    /// An envelope, for every target that reads one.
    fn envelope(&mut self, name: &str, e: &[u8]) {
        for t in ["envelope_header", "envelope_decrypt"] {
            self.add(t, name, e);
        }
        self.add("armor", name, envelope::armor(e));
        // envelope_stream: taken as an envelope (flag 0), whole (k = 0)
        // and in pieces of 1, 7, 64 and 200 bytes.
        self.add(
            "envelope_stream",
            format!("{name}-whole"),
            [&[0, 0][..], e].concat(),
        );
        self.add(
            "envelope_stream",
            format!("{name}-pieces"),
            [&[0, 4, 0, 6, 63, 199][..], e].concat(),
        );
        for (op, what) in [(3, "inspect"), (4, "decrypt"), (8, "decryptor")] {
            self.c_abi(op, 13, &format!("envelope_{what}-{name}"), e);
        }
    }

    /// A c_abi input: call `op`, `n`, then the data (fuzz_targets/c_abi.rs).
    fn c_abi(&mut self, op: u8, n: u16, name: &str, data: &[u8]) {
        let [a, b] = n.to_le_bytes();
        self.add("c_abi", name, [&[op, a, b][..], data].concat());
    }

    fn write(&self, root: &Path) {
        for (target, files) in &self.0 {
            let dir = root.join(target);
            if dir.exists() {
                fs::remove_dir_all(&dir).unwrap();
            }
            fs::create_dir_all(&dir).unwrap();
            for (name, bytes) in files {
                fs::write(dir.join(name), bytes).unwrap();
            }
            println!("make_seeds: {target}: {} seeds", files.len());
        }
    }
}

fn hex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn contexts() -> Vec<(&'static str, EncryptionContext)> {
    let c = |pairs: &[(&str, &str)]| EncryptionContext::from_pairs(pairs.iter().copied()).unwrap();
    vec![
        ("empty", EncryptionContext::new()),
        ("one", c(&[("tenant", "acme")])),
        (
            "three",
            c(&[("a", ""), ("column", "email"), ("tenant", "acme")]),
        ),
        ("unicode", c(&[("naïve", "日本語"), ("z", "\u{0}")])),
        ("long", c(&[(&"k".repeat(255), &"v".repeat(1000))])),
    ]
}

/// Objects made under the fuzz keyring.
fn made(seeds: &mut Seeds) {
    let mut rng = SeededRng::new(17);
    let keyring = strongroom_fuzz::keyring();
    let at_v3 = strongroom_fuzz::keyring_with_primary(3);
    let empty = EncryptionContext::new();
    let standalone = KeyMaterial::from_slice(&[0x5a; 32]).unwrap(); // TEST KEY MATERIAL

    for len in [0usize, 1, 15, 16, 17, 100, 1000] {
        let pt: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let r = keyring
            .encrypt_record_with("fuzz", &pt, &empty, &mut rng)
            .unwrap();
        seeds.record(&format!("v4-{len}"), &r);
        // The same record naming other versions and keys: disabled (2),
        // destroyed (1), unknown (5), another key id, and id or version 0
        // alone, each refused at a different step.
        if len == 16 {
            for (what, at, value) in [
                ("v2", 5, 2u32),
                ("v1", 5, 1),
                ("v5", 5, 5),
                ("other-id", 1, 0x0102_0305),
                ("id0", 1, 0),
                ("version0", 5, 0),
            ] {
                let mut m = r.clone();
                m[at..at + 4].copy_from_slice(&value.to_be_bytes());
                seeds.record(&format!("{what}-{len}"), &m);
            }
        }
    }
    let r = at_v3
        .encrypt_record_with("fuzz", b"under version 3", &empty, &mut rng)
        .unwrap();
    seeds.record("v3", &r);
    for (name, ctx) in contexts() {
        let r = keyring
            .encrypt_record_with("fuzz", b"bound", &ctx, &mut rng)
            .unwrap();
        seeds.record(&format!("context-{name}"), &r);
        seeds.add("context_decode", name, ctx.to_canonical_bytes());
    }
    let r = record::encrypt_with_key(&standalone, b"standalone", &empty, &mut rng).unwrap();
    seeds.record("standalone", &r);

    // Envelopes: chunk sizes, lengths at chunk edges, every recipient kind,
    // the most recipients (16), a context.
    let key = Recipient::Key {
        keyring: &keyring,
        name: "fuzz",
    };
    let others: Vec<KeyMaterial> = (0..15u8)
        .map(|i| KeyMaterial::from_slice(&[0x60 + i; 32]).unwrap()) // TEST KEY MATERIAL
        .collect();
    let mut sixteen = vec![key];
    sixteen.extend(others.iter().map(Recipient::Standalone));
    let one_ctx = contexts().swap_remove(1).1;
    let cases: Vec<(String, Vec<Recipient<'_>>, usize, u32, &EncryptionContext)> = vec![
        ("0-c64".into(), vec![key], 0, 64, &empty),
        ("1-c64".into(), vec![key], 1, 64, &empty),
        ("63-c64".into(), vec![key], 63, 64, &empty),
        ("64-c64".into(), vec![key], 64, 64, &empty),
        ("65-c64".into(), vec![key], 65, 64, &empty),
        ("300-c64".into(), vec![key], 300, 64, &empty),
        ("1000-default".into(), vec![key], 1000, 65_536, &empty),
        (
            "standalone".into(),
            vec![Recipient::Standalone(&standalone)],
            100,
            64,
            &empty,
        ),
        (
            "key-and-standalone".into(),
            vec![key, Recipient::Standalone(&standalone)],
            100,
            64,
            &empty,
        ),
        ("16-recipients".into(), sixteen, 10, 64, &empty),
        ("context".into(), vec![key], 100, 64, &one_ctx),
    ];
    for (name, recipients, len, chunk, ctx) in cases {
        let pt: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
        let e = envelope::encrypt(&recipients, &pt, ctx, chunk, &mut rng).unwrap();
        seeds.envelope(&name, &e);
        if name == "300-c64" {
            // Valid XOR patterns for c_abi op 5 (offset n, then the data)
            // and op 9 (over the end).
            seeds.c_abi(5, 0, "envelope_flip-none", &[]);
            seeds.c_abi(5, 9, "envelope_flip-salt", &[1]);
            seeds.c_abi(9, 0, "envelope_tail-none", &[]);
            seeds.c_abi(9, 17, "envelope_tail-tag", &[0x80]);
        }
    }
    // envelope_stream, building its own envelope (flag 1) of the data.
    seeds.add("envelope_stream", "build-empty", vec![1, 0]);
    seeds.add(
        "envelope_stream",
        "build-200",
        [&[1, 2, 9, 99][..], &[0x33; 200][..]].concat(),
    );

    // Data keys: under the primary, under version 3, renamed versions.
    let dk = KeyMaterial::from_slice(&[0xd4; 32]).unwrap(); // TEST KEY MATERIAL
    for (name, k) in [("v4", &keyring), ("v3", &at_v3)] {
        let w = k.wrap_data_key_with("fuzz", &dk, &empty, &mut rng).unwrap();
        seeds.add("datakey_unwrap", name, w.clone());
        seeds.c_abi(6, 0, &format!("datakey_unwrap-{name}"), &w);
        if name == "v4" {
            for (what, v) in [("v1", 1u32), ("v2", 2), ("v5", 5)] {
                let mut m = w.clone();
                m[5..9].copy_from_slice(&v.to_be_bytes());
                seeds.add("datakey_unwrap", what, m);
            }
        }
    }

    // Keyring files (mode byte 0) and payloads (mode byte 1).
    let root = KeyFileRoot::new(&KeyMaterial::from_slice(&FILE_KEY).unwrap());
    let mut several = strongroom_fuzz::keyring();
    let t = Timestamp::from_unix_seconds(1_700_000_000);
    several.create_key_with("alpha", &mut rng, t).unwrap();
    several.create_key_with("omega", &mut rng, t).unwrap();
    several.rotate_with("omega", &mut rng, t).unwrap();
    let lineage = Lineage {
        keyring_id: [0x11; 16],
        generation: 3,
    };
    for (name, k) in [
        ("empty", Keyring::new()),
        ("fuzz", strongroom_fuzz::keyring()),
        ("several", several),
    ] {
        let file = keyring_file::encrypt_as(&k, &root, lineage, &mut rng).unwrap();
        let payload = strongroom::fuzzing::keyring_payload_of(&k);
        seeds.add(
            "keyring_open",
            format!("file-{name}"),
            [&[0][..], &file[..]].concat(),
        );
        seeds.add(
            "keyring_open",
            format!("payload-{name}"),
            [&[1][..], &payload[..]].concat(),
        );
        seeds.c_abi(10, 0, &format!("keyring_open-{name}"), &file);
        seeds.c_abi(11, 0, &format!("keyring_payload-{name}"), &payload);
    }
    // A passphrase root at the smallest costs: parsed, then refused by
    // the key-file root.
    let small = Argon2Params {
        m_cost_kib: 8,
        t_cost: 1,
        p_cost: 1,
    };
    let pass = PassphraseRoot::with_params(b"fuzz passphrase", small);
    let file = keyring_file::encrypt_as(&keyring, &pass, lineage, &mut rng).unwrap();
    seeds.add(
        "keyring_open",
        "file-passphrase",
        [&[0][..], &file[..]].concat(),
    );

    for (name, l) in [
        (
            "g1",
            Lineage {
                generation: 1,
                ..lineage
            },
        ),
        ("g3", lineage),
    ] {
        seeds.add(
            "generation_file",
            name,
            keyring_file::generation_file_bytes(l),
        );
    }
    seeds.add(
        "generation_file",
        "max",
        keyring_file::generation_file_bytes(Lineage {
            keyring_id: [0xff; 16],
            generation: u64::MAX,
        }),
    );

    // Transit root parameters (FORMAT.md 10.3) as the CLI writes them.
    for (mount, key) in [
        ("transit", "strongroom-keyring"),
        ("team/a/transit", "k.1_x-y"),
    ] {
        let mut p = vec![mount.len() as u8];
        p.extend_from_slice(mount.as_bytes());
        p.push(key.len() as u8);
        p.extend_from_slice(key.as_bytes());
        seeds.add(
            "transit_params",
            format!("{}-{key}", mount.replace('/', "_")),
            p,
        );
    }

    // c_abi's context call (ops 7 and 12-255 mod 12): a key and a value
    // split at n.
    seeds.c_abi(7, 6, "context_add", b"tenantacme");

    // The structured targets build their own objects from arbitrary's
    // layout; any bytes are a valid start.
    for t in ["record_roundtrip", "envelope_mutate"] {
        seeds.add(t, "zeros", vec![0u8; 64]);
        seeds.add(
            t,
            "text",
            b"strongroom fuzz seed: plaintext and context".to_vec(),
        );
    }
}

/// Every golden vector, in the form each target reads.
fn golden(seeds: &mut Seeds, dir: &Path) {
    let mut files: Vec<PathBuf> = Vec::new();
    for sub in fs::read_dir(dir).unwrap() {
        let sub = sub.unwrap().path();
        if sub.is_dir() {
            files.extend(fs::read_dir(&sub).unwrap().map(|f| f.unwrap().path()));
        }
    }
    files.sort();
    for path in files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
    {
        let kind = path
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_str()
            .unwrap();
        let stem = format!("golden-{}", path.file_stem().unwrap().to_str().unwrap());
        let v: Value = serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
        let s = |k: &str| v.get(k).and_then(Value::as_str);
        if let Some(h) = s("record_hex") {
            seeds.record(&stem, &hex(h));
        }
        if let Some(h) = s("envelope_hex").filter(|_| kind != "armor") {
            seeds.envelope(&stem, &hex(h));
        }
        if let Some(a) = s("armored") {
            seeds.add("armor", stem.clone(), a);
        }
        if let Some(h) = s("wrapped_hex") {
            seeds.add("datakey_unwrap", stem.clone(), hex(h));
        }
        if let Some(h) = s("file_hex") {
            seeds.add(
                "keyring_open",
                stem.clone(),
                [&[0][..], &hex(h)[..]].concat(),
            );
        }
        if let Some(ctx) = v.get("context").and_then(Value::as_object) {
            let pairs = ctx.iter().map(|(k, x)| (k.as_str(), x.as_str().unwrap()));
            if let Ok(c) = EncryptionContext::from_pairs(pairs) {
                seeds.add("context_decode", stem.clone(), c.to_canonical_bytes());
            }
        }
        if kind == "blind_index" {
            // The width byte first (bits - 1), as fuzz_targets/blind_index.rs reads it.
            let bits = v["index"]["bits"].as_u64().unwrap();
            let width = [((bits + 255) % 256) as u8];
            if let Some(h) = s("value_hex") {
                seeds.add(
                    "blind_index",
                    format!("{stem}.bin"),
                    [&width[..], &hex(h)[..]].concat(),
                );
            }
            if let Some(t) = s("value_text") {
                seeds.add(
                    "blind_index",
                    format!("{stem}.txt"),
                    [&width[..], t.as_bytes()].concat(),
                );
            }
            for (i, x) in v["inputs"].as_array().into_iter().flatten().enumerate() {
                if let Some(x) = x.as_str().filter(|x| x.len() < 200) {
                    seeds.add(
                        "blind_index",
                        format!("{stem}.in{i}"),
                        [&width[..], x.as_bytes()].concat(),
                    );
                }
            }
        }
    }
}

fn main() {
    let fuzz_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut seeds = Seeds::default();
    made(&mut seeds);
    golden(&mut seeds, &fuzz_dir.join("../tests/golden"));
    seeds.write(&fuzz_dir.join("seeds"));
}
