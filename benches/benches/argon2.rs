//! Argon2id at strongroom's default passphrase parameters (64 MiB, t=3,
//! p=4), measured as what a user waits for: opening a passphrase-sealed
//! (empty) keyring, which is one Argon2id run plus a few microseconds.
//! The peer, libargon2 through argon2-cffi at the same parameters, is timed
//! by `benches/argon2_peer.py`; BENCHMARKS.md gives both and the ratio.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use strongroom::keyring_file;
use strongroom::root::{Argon2Params, PassphraseRoot};
use strongroom::{Keyring, SysRng};

fn argon2(c: &mut Criterion) {
    let root = PassphraseRoot::new(b"correct horse battery staple");
    let file = keyring_file::encrypt(&Keyring::new(), &root, &mut SysRng).unwrap();
    assert_eq!(
        keyring_file::inspect(&file).unwrap().argon2,
        Some(Argon2Params::DEFAULT)
    );
    let mut group = c.benchmark_group("argon2id");
    group.sample_size(10);
    group.bench_function("open_keyring_default_params", |b| {
        b.iter(|| keyring_file::decrypt(&file, &root).unwrap());
    });
    group.finish();
}

criterion_group!(benches, argon2);
criterion_main!(benches);
