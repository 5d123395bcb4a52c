//! The file operations the front ends share: atomic output, the wiped
//! copy loop, and the header-only rewrap of an envelope file in place.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

mod common;

use std::fs;
use std::io::Write;

use strongroom::file::{self, AtomicFile, COPY_BUFFER_LEN};
use strongroom::store::StoreError;
use strongroom::{EncryptionContext, ErrorKind, Keyring};

fn entries(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn an_atomic_file_appears_whole_or_not_at_all() {
    let dir = common::fresh_dir("file-atomic");
    let target = dir.join("out.bin");
    fs::write(&target, b"old").unwrap();
    // Dropped without commit: the target keeps its old bytes, no temp left.
    // While it is written, nothing is visible by name (an O_TMPFILE file;
    // ext4, xfs, btrfs and tmpfs all have them): a crash leaves nothing.
    let mut f = AtomicFile::create(&target).unwrap();
    f.write_all(b"half of the new").unwrap();
    assert_eq!(entries(&dir), ["out.bin"], "the temp file is unnamed");
    drop(f);
    assert_eq!(fs::read(&target).unwrap(), b"old");
    assert_eq!(entries(&dir), ["out.bin"]);
    // Committed: the new bytes, mode 0600, no temp left.
    let mut f = AtomicFile::create(&target).unwrap();
    f.write_all(b"new bytes").unwrap();
    f.commit().unwrap();
    assert_eq!(fs::read(&target).unwrap(), b"new bytes");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        fs::metadata(&target).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(entries(&dir), ["out.bin"]);
    // Two writers at once: both unnamed; the last commit wins, whole.
    let mut a = AtomicFile::create(&target).unwrap();
    let mut b = AtomicFile::create(&target).unwrap();
    a.write_all(b"from a").unwrap();
    b.write_all(b"from b").unwrap();
    assert_eq!(entries(&dir), ["out.bin"]);
    a.commit().unwrap();
    b.commit().unwrap();
    assert_eq!(fs::read(&target).unwrap(), b"from b");
    assert_eq!(entries(&dir), ["out.bin"]);
    // A symbolic link is followed: the file it names is replaced, the link
    // stays; `replacing` keeps the old file's mode.
    use std::os::unix::fs::symlink;
    symlink("out.bin", dir.join("link")).unwrap();
    fs::set_permissions(&target, fs::Permissions::from_mode(0o640)).unwrap();
    let mut f = AtomicFile::replacing(&dir.join("link")).unwrap();
    assert_eq!(f.target(), fs::canonicalize(&target).unwrap());
    f.write_all(b"through the link").unwrap();
    f.commit().unwrap();
    assert!(
        fs::symlink_metadata(dir.join("link"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(fs::read(&target).unwrap(), b"through the link");
    assert_eq!(
        fs::metadata(&target).unwrap().permissions().mode() & 0o7777,
        0o640
    );
    // A dangling link is an error, and nothing is created.
    symlink("nowhere/at/all", dir.join("dangling")).unwrap();
    assert!(AtomicFile::create(&dir.join("dangling")).is_err());
    assert_eq!(entries(&dir), ["dangling", "link", "out.bin"]);
    fs::remove_dir_all(&dir).ok();
}

#[test]
fn copy_wiped_copies_every_byte() {
    for len in [
        0usize,
        1,
        COPY_BUFFER_LEN - 1,
        COPY_BUFFER_LEN,
        3 * COPY_BUFFER_LEN + 7,
    ] {
        let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let mut out = Vec::new();
        let n = file::copy_wiped(&mut &data[..], &mut out).unwrap();
        assert_eq!(n, len as u64);
        assert_eq!(out, data);
    }
}

#[test]
fn rewrap_in_place_moves_the_header_and_keeps_the_body() {
    let dir = common::fresh_dir("file-rewrap");
    let path = dir.join("dump.sql.sr");
    let mut keyring = Keyring::new();
    keyring.create_key("files").unwrap();
    let ctx = EncryptionContext::new().with("path", "dump.sql").unwrap();
    let plaintext = vec![0x42u8; 300_000];
    let env = common::encrypt_envelope(&keyring, "files", &plaintext, &ctx).unwrap();
    fs::write(&path, &env).unwrap();
    let info = file::inspect_envelope_file(&path).unwrap();
    let old_header = info.header_len;

    // At the primary already: nothing moves, the file is not rewritten.
    let mtime = fs::metadata(&path).unwrap().modified().unwrap();
    assert!(
        file::rewrap_envelope_file(&keyring, &path, &mut strongroom::SysRng)
            .unwrap()
            .is_empty()
    );
    assert_eq!(fs::metadata(&path).unwrap().modified().unwrap(), mtime);

    keyring.rotate("files").unwrap();
    let moves = file::rewrap_envelope_file(&keyring, &path, &mut strongroom::SysRng).unwrap();
    assert_eq!(moves.len(), 1);
    assert_eq!((moves[0].from, moves[0].to), (1, 2));
    let after = fs::read(&path).unwrap();
    let info = file::inspect_envelope_file(&path).unwrap();
    assert_eq!(
        &after[info.header_len..],
        &env[old_header..],
        "body changed"
    );
    keyring.destroy_version("files", 1).unwrap();
    assert_eq!(
        common::decrypt_envelope(&keyring, &after, &ctx)
            .unwrap()
            .expose_secret(),
        &plaintext[..]
    );
    assert_eq!(entries(&dir), ["dump.sql.sr"]);

    // Not an envelope: a clear error, the file untouched.
    let junk = dir.join("junk.sr");
    fs::write(&junk, b"not an envelope at all").unwrap();
    let err = file::rewrap_envelope_file(&keyring, &junk, &mut strongroom::SysRng).unwrap_err();
    assert!(matches!(err, StoreError::File { .. }), "{err}");
    assert_eq!(err.kind(), ErrorKind::Malformed);
    assert!(err.to_string().contains("junk.sr"), "{err}");
    assert_eq!(fs::read(&junk).unwrap(), b"not an envelope at all");
    fs::remove_dir_all(&dir).ok();
}

#[test]
fn whole_files_encrypt_and_decrypt_atomically() {
    use strongroom::envelope::Recipient;
    let dir = common::fresh_dir("file-helpers");
    let keyring = common::keyring_with("k", &[strongroom::VersionState::Enabled], 1, 1);
    let ctx = strongroom::EncryptionContext::new().with("f", "g").unwrap();
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    let (plain, sealed, back) = (dir.join("p"), dir.join("p.sr"), dir.join("p.out"));
    std::fs::write(&plain, &data).unwrap();
    let recipients = [Recipient::Key {
        keyring: &keyring,
        name: "k",
    }];
    let n = strongroom::file::encrypt_file(
        &recipients,
        &plain,
        &sealed,
        &ctx,
        4096,
        2,
        &mut strongroom::SysRng,
    )
    .unwrap();
    assert_eq!(n, data.len() as u64);
    let keyring = std::sync::Arc::new(keyring);
    let m = strongroom::file::decrypt_file(keyring.clone(), &sealed, &back, &ctx, 2).unwrap();
    assert_eq!(m, n);
    assert_eq!(std::fs::read(&back).unwrap(), data);
    // A truncated envelope leaves nothing at the output, not even a prefix.
    let bytes = std::fs::read(&sealed).unwrap();
    std::fs::write(&sealed, &bytes[..bytes.len() - 10]).unwrap();
    let cut = dir.join("cut.out");
    let err = strongroom::file::decrypt_file(keyring.clone(), &sealed, &cut, &ctx, 1).unwrap_err();
    assert_eq!(
        err.kind(),
        strongroom::ErrorKind::AuthenticationFailed,
        "{err}"
    );
    assert!(!cut.exists());
    // An unknown key: the core's kind, and no output.
    let none = dir.join("none.sr");
    let bad = [Recipient::Key {
        keyring: &keyring,
        name: "nope",
    }];
    let err =
        strongroom::file::encrypt_file(&bad, &plain, &none, &ctx, 4096, 1, &mut strongroom::SysRng)
            .unwrap_err();
    assert_eq!(err.kind(), strongroom::ErrorKind::UnknownKeyName);
    assert!(!none.exists());
    let leftovers = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".partial")
        })
        .count();
    assert_eq!(leftovers, 0);
    std::fs::remove_dir_all(&dir).ok();
}
