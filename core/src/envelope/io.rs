//! `std::io` adapters over the envelope format: an encrypting [`Write`], a
//! decrypting [`Read`], and a [`Read`] + [`Seek`] reader for random access.
//! Memory stays at a few chunks whatever the size of the data.

use alloc::vec::Vec;
use std::io::{self, Read, Seek, SeekFrom, Write};

use rand_core::TryCryptoRng;

use super::header::{self, MAX_HEADER_LEN};
use super::stream::{self, EnvelopeDecryptor, EnvelopeEncryptor};
use super::{Identity, OwnedIdentity, Recipient, StreamAudit, open_header_by};
use crate::aead::TAG_LEN;
use crate::context::EncryptionContext;
use crate::error::{Error, ErrorKind};
use crate::key_id::KeyId;
use crate::secret::{KeyMaterial, SecretBytes};

fn to_io(e: Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

fn to_input(e: Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, e)
}

/// Encrypts everything written to it into an envelope on `inner`.
///
/// Call [`EnvelopeWriter::finish`] at the end: it writes the final chunk.
/// A writer dropped without `finish` leaves an envelope with no final chunk,
/// which never decrypts as complete.
pub struct EnvelopeWriter<W: Write> {
    inner: W,
    encryptor: EnvelopeEncryptor,
    out: Vec<u8>,
}

impl<W: Write> core::fmt::Debug for EnvelopeWriter<W> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EnvelopeWriter").finish_non_exhaustive()
    }
}

impl<W: Write> EnvelopeWriter<W> {
    /// Starts an envelope for `recipients` and writes its header to `inner`.
    ///
    /// # Errors
    /// As [`EnvelopeEncryptor::new`] (as `InvalidData`), or the write error.
    pub fn new<R: TryCryptoRng + ?Sized>(
        mut inner: W,
        recipients: &[Recipient<'_>],
        context: &EncryptionContext,
        chunk_size: u32,
        rng: &mut R,
    ) -> io::Result<Self> {
        let (encryptor, header) =
            EnvelopeEncryptor::new(recipients, context, chunk_size, rng).map_err(to_io)?;
        inner.write_all(&header)?;
        Ok(Self {
            inner,
            encryptor,
            out: Vec::with_capacity(chunk_size as usize + TAG_LEN),
        })
    }

    /// Seals batches of chunks on up to `threads` threads (output identical
    /// to one thread).
    ///
    /// # Errors
    /// `InvalidInput` for 0 or more than [`super::MAX_THREADS`] threads, or
    /// after the first write.
    pub fn with_threads(mut self, threads: usize) -> io::Result<Self> {
        self.encryptor.set_threads(threads).map_err(to_input)?;
        Ok(self)
    }

    /// Writes the final chunk, flushes, and returns the inner writer.
    ///
    /// # Errors
    /// The write or flush error.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.clear();
        self.encryptor.finish(&mut self.out).map_err(to_io)?;
        self.inner.write_all(&self.out)?;
        self.inner.flush()?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for EnvelopeWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.out.clear();
        self.encryptor.update(data, &mut self.out).map_err(to_io)?;
        self.inner.write_all(&self.out)?;
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Decrypts an envelope read from `inner`, releasing only authenticated
/// plaintext; a truncated or altered stream is an `InvalidData` error, and
/// every read after an error fails again.
///
/// Owns what it uses, like [`EnvelopeDecryptor`]: `Send` when `R` is, and
/// never holding a lock on the keyring it came from.
pub struct EnvelopeReader<R: Read> {
    inner: R,
    decryptor: EnvelopeDecryptor,
    input: Vec<u8>,
    plain: SecretBytes,
    pos: usize,
    ended: bool,
}

impl<R: Read> core::fmt::Debug for EnvelopeReader<R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EnvelopeReader")
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

impl<R: Read> EnvelopeReader<R> {
    /// A reader that opens the envelope with `identity` and expects `context`.
    pub fn new(inner: R, identity: impl Into<OwnedIdentity>, context: &EncryptionContext) -> Self {
        Self {
            inner,
            decryptor: EnvelopeDecryptor::new(identity, context),
            input: alloc::vec![0u8; 64 * 1024],
            plain: SecretBytes::new(),
            pos: 0,
            ended: false,
        }
    }
}

impl<R: Read> EnvelopeReader<R> {
    /// Opens batches of chunks on up to `threads` threads (same plaintext,
    /// same failures as one thread).
    ///
    /// # Errors
    /// `InvalidInput` for 0 or more than [`super::MAX_THREADS`] threads, or
    /// after the first read.
    pub fn with_threads(mut self, threads: usize) -> io::Result<Self> {
        self.decryptor.set_threads(threads).map_err(to_input)?;
        Ok(self)
    }
}

impl<R: Read> Read for EnvelopeReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.plain.len() {
            if self.ended {
                return Ok(0);
            }
            self.plain.clear();
            self.pos = 0;
            let n = self.inner.read(&mut self.input)?;
            if n == 0 {
                self.decryptor.finish(&mut self.plain).map_err(to_io)?;
                self.ended = true;
            } else {
                self.decryptor
                    .update(&self.input[..n], &mut self.plain)
                    .map_err(to_io)?;
            }
        }
        let n = buf.len().min(self.plain.len() - self.pos);
        buf[..n].copy_from_slice(&self.plain.expose_secret()[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// A failed open: the error to return, and its kind for the audit event.
type OpenFailure = (io::Error, ErrorKind);

/// Random access to an envelope: seek to any plaintext offset and read;
/// only the chunks a read covers are fetched, authenticated and decrypted.
///
/// Owns what it uses (the payload key, an `Arc` to the keyring's audit
/// context): `Send` when `R` is.
///
/// # Audit
/// A `decrypt` event when the header is opened (success or failure), and a
/// `decrypt` failure for every chunk that fails to authenticate.
pub struct EnvelopeSeekReader<R: Read + Seek> {
    inner: R,
    payload: KeyMaterial,
    audit: StreamAudit,
    header_len: u64,
    chunk_size: u64,
    chunk_count: u64,
    body_len: u64,
    plaintext_len: u64,
    pos: u64,
    cached: Option<(u64, SecretBytes)>,
    chunks_decrypted: u64,
}

impl<R: Read + Seek> core::fmt::Debug for EnvelopeSeekReader<R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EnvelopeSeekReader")
            .field("plaintext_len", &self.plaintext_len)
            .field("pos", &self.pos)
            .finish_non_exhaustive()
    }
}

impl<R: Read + Seek> EnvelopeSeekReader<R> {
    /// Opens the envelope in `inner`: reads and checks the header and the
    /// body layout (from the stream's length), opens the header with
    /// `identity`. Decrypts nothing yet.
    ///
    /// # Errors
    /// I/O errors; the header errors of [`super::decrypt`] as `InvalidData`.
    pub fn new(inner: R, identity: Identity<'_>, context: &EncryptionContext) -> io::Result<Self> {
        let mut audit = StreamAudit::new(&identity);
        match Self::open(inner, &identity, context) {
            Ok((mut reader, opened_by)) => {
                audit.opened_by(&identity, opened_by);
                reader.audit = audit;
                reader.audit.decrypt(None);
                Ok(reader)
            }
            Err((e, kind)) => {
                audit.decrypt(Some(kind));
                Err(e)
            }
        }
    }

    /// Reads the header and opens it; on failure the error and its kind.
    fn open(
        mut inner: R,
        identity: &Identity<'_>,
        context: &EncryptionContext,
    ) -> core::result::Result<(Self, Option<(KeyId, u32)>), OpenFailure> {
        let core_err = |e: Error| {
            let kind = e.kind();
            (to_io(e), kind)
        };
        let os_err = |e: io::Error| (e, ErrorKind::Io);
        let total = inner.seek(SeekFrom::End(0)).map_err(os_err)?;
        inner.seek(SeekFrom::Start(0)).map_err(os_err)?;
        let mut head =
            alloc::vec![0u8; MAX_HEADER_LEN.min(usize::try_from(total).unwrap_or(MAX_HEADER_LEN))];
        inner.read_exact(&mut head).map_err(os_err)?;
        let (parsed, header_len) = header::parse(&head).map_err(core_err)?;
        let body_len = total - header_len as u64;
        let chunk_count = stream::chunk_count(body_len, parsed.chunk_size).map_err(core_err)?;
        let (payload, opened_by) = open_header_by(identity, &parsed, context).map_err(core_err)?;
        let reader = Self {
            inner,
            payload,
            audit: StreamAudit::default(),
            header_len: header_len as u64,
            chunk_size: u64::from(parsed.chunk_size),
            chunk_count,
            body_len,
            plaintext_len: body_len - chunk_count * TAG_LEN as u64,
            pos: 0,
            cached: None,
            chunks_decrypted: 0,
        };
        Ok((reader, opened_by))
    }

    /// Plaintext length.
    pub fn len(&self) -> u64 {
        self.plaintext_len
    }

    /// Whether the plaintext is empty.
    pub fn is_empty(&self) -> bool {
        self.plaintext_len == 0
    }

    /// Chunks fetched and decrypted so far (for callers that watch cost).
    pub fn chunks_decrypted(&self) -> u64 {
        self.chunks_decrypted
    }

    fn load(&mut self, index: u64) -> io::Result<()> {
        if self.cached.as_ref().is_some_and(|(i, _)| *i == index) {
            return Ok(());
        }
        let sealed = self.chunk_size + TAG_LEN as u64;
        let start = index * sealed;
        let len = sealed.min(self.body_len - start);
        self.inner.seek(SeekFrom::Start(self.header_len + start))?;
        let mut chunk = alloc::vec![0u8; usize::try_from(len).map_err(|_| to_io(Error::Malformed { reason: "chunk too large" }))?];
        self.inner.read_exact(&mut chunk)?;
        let n = chunk.len() - TAG_LEN;
        let mut plain = SecretBytes::from_slice(&chunk[..n]);
        self.chunks_decrypted += 1;
        stream::open_chunk(
            &self.payload,
            index,
            index + 1 == self.chunk_count,
            plain.expose_secret_mut(),
            &chunk[n..],
        )
        .map_err(|e| {
            self.audit.decrypt(Some(e.kind()));
            to_io(e)
        })?;
        self.cached = Some((index, plain));
        Ok(())
    }
}

impl<R: Read + Seek> Read for EnvelopeSeekReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.plaintext_len || buf.is_empty() {
            return Ok(0);
        }
        let index = self.pos / self.chunk_size;
        self.load(index)?;
        let Some((_, plain)) = &self.cached else {
            return Ok(0);
        };
        let offset = usize::try_from(self.pos - index * self.chunk_size).unwrap_or(usize::MAX);
        let n = buf.len().min(plain.len().saturating_sub(offset));
        buf[..n].copy_from_slice(&plain.expose_secret()[offset..offset + n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: Read + Seek> Seek for EnvelopeSeekReader<R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.plaintext_len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        let target = target.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start of the plaintext",
            )
        })?;
        self.pos = target;
        Ok(target)
    }
}
