//! The public shape the bindings freeze: every object a binding holds
//! across calls owns what it uses and can move between threads; shared
//! handles can also be used from many threads at once. This is a
//! compile-time test: a type that starts borrowing the keyring or the root
//! (a lifetime parameter) or loses `Send`/`Sync` stops this file compiling.
//! The doc test on `strongroom::envelope::OwnedIdentity` shows the same
//! check rejecting a borrowing type.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use std::fs::File;
use std::sync::Arc;

use strongroom::audit::{AuditContext, AuditSink, JsonLinesSink};
use strongroom::envelope::{
    EnvelopeDecryptor, EnvelopeEncryptor, EnvelopeReader, EnvelopeSeekReader, EnvelopeWriter,
    OwnedIdentity,
};
use strongroom::root::{KeyFileRoot, KeyProvider, PassphraseRoot};
use strongroom::store::KeyringStore;
use strongroom::{
    DerivedKey, EncryptionContext, Error, KeyMaterial, Keyring, SecretBytes, SharedKeyring,
};

/// Shared: one value used from many threads (`Arc`, `const *` in C).
fn shared<T: Send + Sync + 'static>() {}
/// Exclusive: one owner at a time, movable between threads (`Box`, `*mut`).
fn exclusive<T: Send + 'static>() {}

#[test]
fn long_lived_objects_own_what_they_use() {
    // Shared handles.
    shared::<Keyring>();
    shared::<Arc<Keyring>>();
    shared::<SharedKeyring>();
    shared::<KeyringStore>();
    shared::<Arc<dyn KeyProvider>>();
    shared::<PassphraseRoot>();
    shared::<KeyFileRoot>();
    shared::<AuditContext>();
    shared::<Arc<dyn AuditSink>>();
    shared::<JsonLinesSink>();
    shared::<EncryptionContext>();
    shared::<KeyMaterial>();
    shared::<SecretBytes>();
    shared::<DerivedKey>();
    shared::<Error>();
    #[cfg(feature = "pkcs11")]
    shared::<strongroom::pkcs11::Pkcs11Root>();
    // Exclusive handles: streams, readers, writers.
    exclusive::<OwnedIdentity>();
    exclusive::<EnvelopeEncryptor>();
    exclusive::<EnvelopeDecryptor>();
    exclusive::<EnvelopeReader<File>>();
    exclusive::<EnvelopeSeekReader<File>>();
    exclusive::<EnvelopeWriter<File>>();
    exclusive::<strongroom::store::StoreError>();
}
