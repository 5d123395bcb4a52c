//! Test-only: where the third-party vectors live and the shape of a
//! Wycheproof file, shared by the AEAD and KDF known-answer tests.

extern crate std;

use alloc::vec::Vec;
use std::path::PathBuf;

use serde::Deserialize;
use serde::de::DeserializeOwned;

/// `tests/vectors/` at the repository root.
pub(crate) fn vectors_dir() -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors")
}

/// A Wycheproof v1 file whose cases have type `C`.
#[derive(Deserialize)]
#[serde(bound = "C: DeserializeOwned")]
pub(crate) struct WycheproofFile<C> {
    #[serde(rename = "numberOfTests")]
    pub(crate) number_of_tests: usize,
    #[serde(rename = "testGroups")]
    groups: Vec<Group<C>>,
}

#[derive(Deserialize)]
#[serde(bound = "C: DeserializeOwned")]
struct Group<C> {
    tests: Vec<C>,
}

impl<C: DeserializeOwned> WycheproofFile<C> {
    /// Reads `tests/vectors/wycheproof/<name>`.
    pub(crate) fn load(name: &str) -> Self {
        let path = vectors_dir().join("wycheproof").join(name);
        let text = std::fs::read_to_string(&path).expect("read vectors");
        serde_json::from_str(&text).expect("parse vectors")
    }

    /// Every case, group after group.
    pub(crate) fn cases(&self) -> impl Iterator<Item = &C> {
        self.groups.iter().flat_map(|g| g.tests.iter())
    }
}

/// `rfc-vectors.json`.
pub(crate) fn rfc_vectors() -> serde_json::Value {
    let text = std::fs::read_to_string(vectors_dir().join("rfc-vectors.json")).expect("read");
    serde_json::from_str(&text).expect("parse")
}
