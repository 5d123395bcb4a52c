//! Argon2id at strongroom's default passphrase parameters (64 MiB, t=3,
//! p=4), measured as what a user waits for: opening a passphrase-sealed
//! (empty) keyring, which is one Argon2id run plus a few microseconds.
//! The peer, libargon2 through argon2-cffi at the same parameters, is timed
//! by `benches/argon2_peer.py`; BENCHMARKS.md gives both and the ratio.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use strongroom::sealed::{self, Argon2Params, PassphraseRoot};
use strongroom::{Keyring, SysRng};

fn argon2(c: &mut Criterion) {
    let root = PassphraseRoot::new(b"correct horse battery staple");
    let file = sealed::seal(&Keyring::new(), &root, &mut SysRng).unwrap();
    assert_eq!(
        sealed::inspect(&file).unwrap().argon2,
        Some(Argon2Params::DEFAULT)
    );
    let mut group = c.benchmark_group("argon2id");
    group.sample_size(10);
    group.bench_function("open_keyring_default_params", |b| {
        b.iter(|| sealed::open(&file, &root).unwrap());
    });
    group.finish();
}

criterion_group!(benches, argon2);
criterion_main!(benches);
