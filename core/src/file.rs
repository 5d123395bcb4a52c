//! File operations every front end shares (`std`, Unix): an output file
//! that is never left partial, the wiped copy loop, and the header-only
//! rewrap of an envelope file. The command line, the C ABI and the Python
//! module all call these; none has its own copy.

use alloc::vec::Vec;
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rand_core::TryCryptoRng;

use crate::disk::{StoreError, create_private, dir_of, io_err, temp_path_beside};
use crate::envelope::{self, EnvelopeInfo, MAX_HEADER_LEN};
use crate::error::Error;
use crate::key_id::KeyId;
use crate::keyring::Keyring;

/// Size of the buffer [`copy_wiped`] moves data through (256 KiB: four
/// default chunks, so a 1 GiB file takes 4,096 reads and writes).
pub const COPY_BUFFER_LEN: usize = 4 * envelope::DEFAULT_CHUNK_SIZE as usize;

fn content_err(path: &Path) -> impl FnOnce(Error) -> StoreError + '_ {
    move |source| StoreError::File {
        path: path.to_path_buf(),
        source,
    }
}

/// An output file that appears whole or not at all.
///
/// Bytes go to an unnamed temp file in the target's directory
/// (`O_TMPFILE`, mode 0600): nothing of it is ever visible by name, so a
/// crash, `kill -9` or any signal leaves nothing behind. Where the file
/// system has no `O_TMPFILE`, a temp file with an unpredictable name
/// (`.NAME.<16 random hex digits>.partial`, created exclusively) stands in,
/// and is removed on drop. [`AtomicFile::commit`] fsyncs the data, gives
/// the unnamed file a fresh random name and renames it over the target in
/// one step, then fsyncs the directory. Dropped without `commit` (an
/// error, a panic), it leaves the target untouched.
///
/// A target that is a symbolic link is resolved first: the file it names
/// is replaced, and the link stays. [`AtomicFile::replacing`] also gives
/// the new file the old one's owner, group and mode.
///
/// An exclusive handle (`Send`).
#[derive(Debug)]
pub struct AtomicFile {
    /// The named temp file; empty while the temp is unnamed, and after
    /// the commit.
    tmp: PathBuf,
    target: PathBuf,
    file: Option<File>,
}

/// `target`, or the file a symbolic link there names (the link chain
/// resolved). A dangling link is an error: its target's directory may not
/// be where the caller thinks.
pub(crate) fn resolve(target: &Path) -> Result<PathBuf, StoreError> {
    match fs::symlink_metadata(target) {
        Ok(m) if m.file_type().is_symlink() => {
            fs::canonicalize(target).map_err(io_err("resolve the symbolic link", target))
        }
        _ => Ok(target.to_path_buf()),
    }
}

/// An unnamed file in `dir` (`O_TMPFILE`), or `None` when the file system
/// or kernel has none.
fn open_unnamed(dir: &Path) -> Result<Option<File>, StoreError> {
    match fs::OpenOptions::new()
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_TMPFILE)
        .open(dir)
    {
        Ok(f) => Ok(Some(f)),
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(libc::EOPNOTSUPP | libc::EISDIR | libc::EINVAL | libc::ENOSYS)
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(io_err("create a temp file in", dir)(e)),
    }
}

/// Gives the unnamed `file` the name `tmp` (which must not exist).
fn link_unnamed(file: &File, tmp: &Path) -> io::Result<()> {
    use rustix::fs::{AtFlags, CWD, linkat};
    let proc_path = alloc::format!("/proc/self/fd/{}", file.as_raw_fd());
    match linkat(CWD, proc_path.as_str(), CWD, tmp, AtFlags::SYMLINK_FOLLOW) {
        Ok(()) => Ok(()),
        // No /proc: the file descriptor itself (needs CAP_DAC_READ_SEARCH).
        Err(_) => linkat(file, "", CWD, tmp, AtFlags::EMPTY_PATH).map_err(io::Error::from),
    }
}

impl AtomicFile {
    /// Starts writing `target` (a new file, or one to replace), mode 0600.
    ///
    /// # Errors
    /// [`StoreError::Io`] if the temp file cannot be created (a missing
    /// directory, a dangling symbolic link, no permission).
    pub fn create(target: &Path) -> Result<Self, StoreError> {
        let target = resolve(target)?;
        let dir = dir_of(&target);
        if let Some(file) = open_unnamed(&dir)? {
            return Ok(Self {
                tmp: PathBuf::new(),
                target,
                file: Some(file),
            });
        }
        let tmp = temp_path_beside(&target, "partial")?;
        let file = create_private(&tmp).map_err(io_err("create", &tmp))?;
        Ok(Self {
            tmp,
            target,
            file: Some(file),
        })
    }

    /// Starts an in-place rewrite of the existing file `target`: as
    /// [`AtomicFile::create`], and the new file gets the old one's owner,
    /// group and mode (so a rewrite run as root leaves a service's file
    /// its own).
    ///
    /// # Errors
    /// [`StoreError::Io`] if `target` cannot be read, or its owner and
    /// group cannot be given to the new file (another user's file, without
    /// root): refused before anything is written.
    pub fn replacing(target: &Path) -> Result<Self, StoreError> {
        let out = Self::create(target)?;
        let meta = fs::metadata(&out.target).map_err(io_err("read", &out.target))?;
        if let Some(f) = &out.file {
            std::os::unix::fs::fchown(f, Some(meta.uid()), Some(meta.gid()))
                .map_err(io_err("keep the owner and group of", &out.target))?;
            f.set_permissions(fs::Permissions::from_mode(meta.mode() & 0o7777))
                .map_err(io_err("keep the mode of", &out.target))?;
        }
        Ok(out)
    }

    /// The file this will become (a symbolic link resolved).
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Flushes the data to disk and renames it over the target.
    ///
    /// # Errors
    /// [`StoreError::Io`]; the temp file is removed and the target is
    /// untouched.
    pub fn commit(mut self) -> Result<(), StoreError> {
        let Some(file) = self.file.take() else {
            return Err(io_err("write", &self.target)(io::Error::other(
                "output already committed",
            )));
        };
        file.sync_all().map_err(io_err("write", &self.target))?;
        if self.tmp.as_os_str().is_empty() {
            let tmp = temp_path_beside(&self.target, "partial")?;
            link_unnamed(&file, &tmp).map_err(io_err("name the temp file for", &self.target))?;
            self.tmp = tmp;
        }
        drop(file);
        fs::rename(&self.tmp, &self.target).map_err(io_err("write", &self.target))?;
        self.tmp.clear();
        // Best effort: the rename is done; this makes it durable.
        let _ = File::open(dir_of(&self.target)).and_then(|d| d.sync_all());
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.file {
            Some(f) => f.write(buf),
            None => Err(io::Error::other("output already committed")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.file {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.tmp.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// `io::copy` through a heap buffer of [`COPY_BUFFER_LEN`] bytes that is
/// wiped when done, so no plaintext is left on the stack or in freed
/// memory. Returns the bytes copied.
///
/// # Errors
/// The first read or write error (an interrupted read is retried).
pub fn copy_wiped(reader: &mut dyn Read, writer: &mut dyn Write) -> io::Result<u64> {
    let mut buf = Used::default();
    let mut total = 0u64;
    loop {
        let n = match reader.read(buf.whole()) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let data = buf.used(n);
        writer.write_all(data)?;
        total += n as u64;
    }
}

/// [`copy_wiped`]'s buffer, wiped in bulk on drop as far as any read was
/// lent it. Reads get a window that starts at [`FIRST_WINDOW`] and doubles
/// each time a read fills it, up to the whole buffer; a reader may write
/// anywhere in what it is lent, so the wipe covers the largest window
/// lent, and the rest was never written (still the allocator's zero
/// pages). On a 1 KiB file, `Zeroizing` wrote all 256 KiB one volatile
/// byte at a time and faulted in 64 pages the file never needed.
struct Used {
    buf: Vec<u8>,
    window: usize,
    mark: usize,
}

/// The first read's window.
const FIRST_WINDOW: usize = 16 * 1024;

impl Default for Used {
    fn default() -> Self {
        Self {
            buf: alloc::vec![0u8; COPY_BUFFER_LEN],
            window: FIRST_WINDOW.min(COPY_BUFFER_LEN),
            mark: 0,
        }
    }
}

impl Used {
    /// The current window, for a read.
    fn whole(&mut self) -> &mut [u8] {
        let window = self.window.min(self.buf.len());
        self.mark = self.mark.max(window);
        &mut self.buf[..window]
    }

    /// The `n` bytes a read returned; a full window doubles the next one.
    fn used(&mut self, n: usize) -> &[u8] {
        let window = self.window.min(self.buf.len());
        let n = n.min(window);
        if n == window {
            self.window = (window * 2).min(self.buf.len());
        }
        &self.buf[..n]
    }
}

impl Used {
    /// Zeroes every byte a read was lent.
    fn wipe(&mut self) {
        if let Some(part) = self.buf.get_mut(..self.mark) {
            zeroize::Zeroize::zeroize(part);
        }
    }
}

impl Drop for Used {
    fn drop(&mut self) {
        self.wipe();
    }
}

/// An envelope file opened for its header: the file, the first bytes (at
/// most [`MAX_HEADER_LEN`]) and its public facts.
/// Opens `path` and reads the envelope header at its start. The length
/// comes from the file's size; a pipe or other stream, when `stream` is
/// allowed, is read to its end to count it (only the header is kept).
fn read_header(
    path: &Path,
    stream: bool,
) -> Result<(File, Vec<u8>, EnvelopeInfo, u64), StoreError> {
    let f = File::open(path).map_err(io_err("read", path))?;
    read_header_from(f, Vec::new(), path, stream)
}

/// As [`read_header`], on an open file of which `prefix` was read already.
fn read_header_from(
    mut f: File,
    mut head: Vec<u8>,
    path: &Path,
    stream: bool,
) -> Result<(File, Vec<u8>, EnvelopeInfo, u64), StoreError> {
    let meta = f.metadata().map_err(io_err("stat", path))?;
    if !meta.is_file() && !stream {
        return Err(io_err("rewrite", path)(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        )));
    }
    let want = (MAX_HEADER_LEN as u64).saturating_sub(head.len() as u64);
    (&mut f)
        .take(want)
        .read_to_end(&mut head)
        .map_err(io_err("read", path))?;
    if !head.is_empty() && envelope::is_armored(&head) {
        return Err(content_err(path)(Error::Malformed {
            reason: "an armored envelope: this works on the binary form",
        }));
    }
    let total = if meta.is_file() {
        meta.len()
    } else {
        let rest = io::copy(&mut f, &mut io::sink()).map_err(io_err("read", path))?;
        head.len() as u64 + rest
    };
    let info = envelope::inspect_header(&head, total).map_err(content_err(path))?;
    Ok((f, head, info, total))
}

/// The public facts of the envelope file at `path`, reading only its
/// header (and its length; a pipe such as `/dev/stdin` is read through to
/// count it).
///
/// # Errors
/// [`StoreError::Io`]; [`StoreError::File`] for a file that is not an
/// envelope.
pub fn inspect_envelope_file(path: &Path) -> Result<EnvelopeInfo, StoreError> {
    let mut f = File::open(path).map_err(io_err("read", path))?;
    let mut prefix = Vec::new();
    (&mut f)
        .take(envelope::ARMOR_BEGIN.len() as u64)
        .read_to_end(&mut prefix)
        .map_err(io_err("read", path))?;
    if !envelope::is_armored(&prefix) || prefix.is_empty() {
        return read_header_from(f, prefix, path, true).map(|(_, _, info, _)| info);
    }
    // Armored (FORMAT.md 12): decoded as a stream, the header kept, the
    // rest counted.
    let mut plain =
        envelope::ArmorReader::new(io::BufReader::new(io::Cursor::new(prefix).chain(f)));
    let mut head = Vec::new();
    (&mut plain)
        .take(MAX_HEADER_LEN as u64)
        .read_to_end(&mut head)
        .map_err(stream_err("read", path))?;
    let rest = io::copy(&mut plain, &mut io::sink()).map_err(stream_err("read", path))?;
    envelope::inspect_header(&head, head.len() as u64 + rest).map_err(content_err(path))
}

/// One recipient that a rewrap moved to a newer version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecipientMove {
    /// The key.
    pub key_id: KeyId,
    /// The version it was wrapped under.
    pub from: u32,
    /// The primary version it is wrapped under now.
    pub to: u32,
}

/// Rewraps the envelope file at `path` to the primary versions of
/// `keyring` (FORMAT.md 7.7): only the header is rewritten; the body bytes
/// are copied unchanged, and the file is replaced atomically. Returns the
/// recipients it moved; when none needed moving, the file (and its mtime)
/// is left alone and the list is empty.
///
/// # Errors
/// [`StoreError::Io`]; [`StoreError::File`] with the core's error for a
/// file that is not an envelope or whose header does not open.
pub fn rewrap_envelope_file<R: TryCryptoRng + ?Sized>(
    keyring: &Keyring,
    path: &Path,
    rng: &mut R,
) -> Result<Vec<RecipientMove>, StoreError> {
    rewrap_file(keyring, path, rng, true)
}

/// What [`rewrap_envelope_file`] would move, without writing anything: the
/// header is read and opened (so a file it would fail on fails here too),
/// and the file is left as it is.
///
/// # Errors
/// As [`rewrap_envelope_file`].
pub fn check_rewrap_envelope_file<R: TryCryptoRng + ?Sized>(
    keyring: &Keyring,
    path: &Path,
    rng: &mut R,
) -> Result<Vec<RecipientMove>, StoreError> {
    rewrap_file(keyring, path, rng, false)
}

fn rewrap_file<R: TryCryptoRng + ?Sized>(
    keyring: &Keyring,
    path: &Path,
    rng: &mut R,
    write: bool,
) -> Result<Vec<RecipientMove>, StoreError> {
    let (mut f, head, before, total) = read_header(path, false)?;
    let (header, old_len) =
        envelope::rewrap_header(keyring, &head, &before.context, rng).map_err(content_err(path))?;
    let new_total = total - old_len as u64 + header.len() as u64;
    let after = envelope::inspect_header(&header, new_total).map_err(content_err(path))?;
    let moves: Vec<RecipientMove> = before
        .recipients
        .iter()
        .zip(&after.recipients)
        .filter_map(|(b, a)| match (b.key, a.key) {
            (Some(from), Some(to)) if from.version != to.version => Some(RecipientMove {
                key_id: from.key_id,
                from: from.version,
                to: to.version,
            }),
            _ => None,
        })
        .collect();
    if moves.is_empty() || !write {
        return Ok(moves);
    }
    f.seek(SeekFrom::Start(old_len as u64))
        .map_err(io_err("read", path))?;
    let mut out = AtomicFile::replacing(path)?;
    out.write_all(&header).map_err(io_err("write", path))?;
    copy_wiped(&mut f, &mut out).map_err(io_err("write", path))?;
    out.commit()?;
    Ok(moves)
}

/// The error for a stream failure while working on `path`: a core error
/// carried inside the `io::Error` (a bad tag, a wrong context, a refused
/// thread count) keeps its kind; anything else is I/O.
fn stream_err<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> StoreError + 'a {
    move |e| {
        if let Some(core) = e.get_ref().and_then(|i| i.downcast_ref::<Error>()) {
            return StoreError::File {
                path: path.to_path_buf(),
                source: core.clone(),
            };
        }
        io_err(op, path)(e)
    }
}

/// Encrypts the file `input` into an envelope file at `output` for
/// `recipients` (chunks of `chunk_size`, sealed on up to `threads`
/// threads). `output` is written as an [`AtomicFile`]: it appears, with
/// mode 0600, only once the whole envelope is written; on any failure
/// nothing is left there. Returns the plaintext length.
///
/// # Errors
/// [`StoreError::Io`] for the files; [`StoreError::File`] with the core's
/// refusal (an unknown key, a bad chunk size or thread count).
pub fn encrypt_file<R: TryCryptoRng + ?Sized>(
    recipients: &[envelope::Recipient<'_>],
    input: &Path,
    output: &Path,
    context: &crate::EncryptionContext,
    chunk_size: u32,
    threads: usize,
    rng: &mut R,
) -> Result<u64, StoreError> {
    let mut reader = File::open(input).map_err(io_err("read", input))?;
    let out = AtomicFile::create(output)?;
    let mut writer = envelope::EnvelopeWriter::new(out, recipients, context, chunk_size, rng)
        .and_then(|w| w.with_threads(threads))
        .map_err(stream_err("write", output))?;
    let n = copy_wiped(&mut reader, &mut writer).map_err(stream_err("encrypt", input))?;
    writer
        .finish()
        .map_err(stream_err("write", output))?
        .commit()?;
    Ok(n)
}

/// Decrypts the envelope file `input` into the file `output` with
/// `identity` (a keyring snapshot or a standalone key). `output` is an
/// [`AtomicFile`]: it appears only once the whole envelope has
/// authenticated, so a truncated or altered envelope leaves nothing there,
/// not even a prefix. Returns the plaintext length.
///
/// # Errors
/// [`StoreError::Io`] for the files; [`StoreError::File`] (path `input`)
/// with the core's error for an envelope that does not open or does not
/// authenticate.
pub fn decrypt_file(
    identity: impl Into<envelope::OwnedIdentity>,
    input: &Path,
    output: &Path,
    context: &crate::EncryptionContext,
    threads: usize,
) -> Result<u64, StoreError> {
    let reader = File::open(input).map_err(io_err("read", input))?;
    let mut out = AtomicFile::create(output)?;
    let mut plain = envelope::EnvelopeReader::new(reader, identity, context)
        .with_threads(threads)
        .map_err(stream_err("decrypt", input))?;
    let n = copy_wiped(&mut plain, &mut out).map_err(stream_err("decrypt", input))?;
    out.commit()?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    /// `copy_wiped` copies every byte whatever the size; its window starts
    /// small, doubles on full reads up to the whole buffer, and what it
    /// lent is what it wipes.
    #[test]
    fn copy_wiped_copies_all_and_lends_a_growing_window() {
        for len in [
            0usize,
            1,
            1024,
            FIRST_WINDOW,
            FIRST_WINDOW + 1,
            3 * COPY_BUFFER_LEN + 5,
        ] {
            let input: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let mut out = Vec::new();
            let n = copy_wiped(&mut input.as_slice(), &mut out).unwrap();
            assert_eq!((n as usize, &out), (len, &input), "length {len}");
        }
        let mut buf = Used::default();
        assert_eq!(buf.whole().len(), FIRST_WINDOW);
        buf.whole().fill(7);
        let _ = buf.used(FIRST_WINDOW);
        assert_eq!(
            buf.whole().len(),
            2 * FIRST_WINDOW,
            "a full read doubles it"
        );
        let _ = buf.used(10);
        assert_eq!(buf.whole().len(), 2 * FIRST_WINDOW, "a short read keeps it");
        assert_eq!(buf.mark, 2 * FIRST_WINDOW);
        for _ in 0..10 {
            let w = buf.whole().len();
            let _ = buf.used(w);
        }
        assert_eq!(buf.whole().len(), COPY_BUFFER_LEN, "never past the buffer");
        buf.buf.fill(9);
        buf.wipe();
        assert!(buf.buf.iter().all(|&b| b == 0), "the lent part is wiped");
    }
}
