//! Criterion benches for strongroom live in `benches/benches/`; run them with
//! `cargo bench -p strongroom-benches`. Results and how they were taken are
//! in `BENCHMARKS.md` at the repository root. This library is empty.
