//! The envelope body: STREAM chunks (FORMAT.md 7.5), and the incremental
//! encryptor and decryptor built on them.
//!
//! Chunk `i` is XChaCha20-Poly1305 under the envelope's payload key with
//! nonce `0^15 || u64be(i) || last`, where `last` is 1 on the final chunk
//! and 0 elsewhere. Every chunk but the last holds exactly `chunk_size`
//! plaintext bytes; the last holds 1 to `chunk_size`, or 0 when it is the
//! only chunk. So truncation, reordering, duplication, splicing and appending
//! all fail authentication or the layout rules.

use alloc::vec::Vec;
use core::fmt;

use rand_core::TryCryptoRng;

use super::header::{self, Header};
use super::{Identity, OwnedIdentity, Recipient, StreamAudit, new_header, open_header_by};
use crate::aead::{self, Algorithm, TAG_LEN};
use crate::context::EncryptionContext;
use crate::error::{Error, ErrorKind, Result};
use crate::secret::{KeyMaterial, SecretBytes};

/// Where a stream's output goes: a growing `Vec`, a wiping
/// [`SecretBytes`], or a caller's buffer whose size was checked first.
pub(crate) trait Sink {
    /// Makes room for `additional` more bytes, where that means anything.
    fn reserve(&mut self, additional: usize);
    /// Appends `bytes`.
    fn put(&mut self, bytes: &[u8]);
}

impl Sink for Vec<u8> {
    fn reserve(&mut self, additional: usize) {
        Vec::reserve(self, additional);
    }
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

impl Sink for SecretBytes {
    fn reserve(&mut self, _: usize) {}
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

/// A caller's buffer, checked against the most a call can write before the
/// call does anything, so a write past its end cannot happen.
pub(crate) struct SliceSink<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl<'a> SliceSink<'a> {
    /// `buf`, if it holds at least `needed` bytes.
    pub(crate) fn new(buf: &'a mut [u8], needed: usize) -> Result<Self> {
        if buf.len() < needed {
            return Err(Error::BufferTooSmall { needed });
        }
        Ok(Self { buf, pos: 0 })
    }

    /// Bytes written so far.
    pub(crate) fn written(&self) -> usize {
        self.pos
    }
}

impl Sink for SliceSink<'_> {
    fn reserve(&mut self, _: usize) {}
    fn put(&mut self, bytes: &[u8]) {
        // In bounds by the check in `new`; a miss would drop bytes, not
        // write past the buffer (and the stream's tests would catch it).
        let end = self.pos.saturating_add(bytes.len());
        let dst = self.buf.get_mut(self.pos..end);
        debug_assert!(dst.is_some(), "output bound too small");
        if let Some(dst) = dst {
            dst.copy_from_slice(bytes);
            self.pos = end;
        }
    }
}

/// The nonce of chunk `index` (FORMAT.md 7.5).
pub(crate) fn chunk_nonce(index: u64, last: bool) -> [u8; 24] {
    let mut nonce = [0u8; 24];
    nonce[15..23].copy_from_slice(&index.to_be_bytes());
    nonce[23] = u8::from(last);
    nonce
}

#[cfg(test)]
std::thread_local! {
    /// Chunk decryptions attempted on this thread (test instrumentation).
    pub(crate) static CHUNK_DECRYPTIONS: core::cell::Cell<u64> = const { core::cell::Cell::new(0) };
}

/// Encrypts one chunk in place; returns its tag.
pub(crate) fn seal_chunk(
    payload: &KeyMaterial,
    index: u64,
    last: bool,
    buf: &mut [u8],
) -> [u8; TAG_LEN] {
    let nonce = chunk_nonce(index, last);
    // Chunks are at most 16 MiB, far below the primitive's limit.
    aead::encrypt_in_place(Algorithm::XChaCha20Poly1305, payload, &nonce, &[], buf)
        .unwrap_or([0; TAG_LEN])
}

/// Seals consecutive chunks of `data` (from chunk `first`) in place, the
/// final one flagged when `last`; `tags[i]` gets chunk i's tag. Runs on up
/// to `threads` scoped threads with `std`.
fn seal_batch(
    payload: &KeyMaterial,
    first: u64,
    last: bool,
    data: &mut [u8],
    chunk_size: usize,
    tags: &mut [[u8; TAG_LEN]],
    threads: usize,
) {
    let count = tags.len();
    let mut jobs: Vec<(u64, &mut [u8], &mut [u8; TAG_LEN])> = Vec::with_capacity(count);
    if data.is_empty() {
        if let Some(tag) = tags.first_mut() {
            jobs.push((first, &mut [][..], tag));
        }
    } else {
        for ((i, chunk), tag) in data.chunks_mut(chunk_size).enumerate().zip(tags.iter_mut()) {
            jobs.push((first + i as u64, chunk, tag));
        }
    }
    let final_index = first + count as u64 - 1;
    let seal = |jobs: &mut [(u64, &mut [u8], &mut [u8; TAG_LEN])]| {
        for (index, chunk, tag) in jobs.iter_mut() {
            **tag = seal_chunk(payload, *index, last && *index == final_index, chunk);
        }
    };
    run_parallel(&mut jobs, threads, seal);
}

/// Most threads one stream may use ([`EnvelopeEncryptor::set_threads`]).
pub const MAX_THREADS: usize = 64;

/// Most plaintext one batch stages, across all its threads (32 MiB). A
/// stream holds at most one batch of plaintext and one of ciphertext, so
/// its own buffers stay under twice this whatever the chunk size and the
/// thread count; the `std::io` reader adds the buffer it releases
/// plaintext from, so a whole `EnvelopeReader` stays under four times this
/// (measured in `core/tests/stream_limits.rs`, figures in BENCHMARKS.md).
pub const MAX_BATCH_BYTES: usize = 32 << 20;

/// Chunks staged per batch: one at a time on one thread; otherwise 16 per
/// thread (1 MiB a thread at the default chunk size, so that spawning the
/// scoped threads is amortised), but never more than [`MAX_BATCH_BYTES`].
const fn batch_chunks(threads: usize, chunk_size: usize) -> usize {
    if threads <= 1 {
        return 1;
    }
    let by_memory = MAX_BATCH_BYTES / chunk_size;
    let by_threads = threads * 16;
    let n = if by_memory < by_threads {
        by_memory
    } else {
        by_threads
    };
    if n == 0 { 1 } else { n }
}

/// A thread count a stream accepts: 1 ..= [`MAX_THREADS`], set before the
/// stream has taken any input.
fn check_threads(threads: usize, started: bool) -> Result<usize> {
    if threads == 0 || threads > MAX_THREADS {
        return Err(Error::InvalidArgument {
            reason: "a stream uses 1 to 64 threads",
        });
    }
    if started {
        return Err(Error::InvalidArgument {
            reason: "set the thread count before the stream's first input",
        });
    }
    Ok(threads)
}

/// Runs `work` over `jobs` split into up to `threads` parts: on scoped
/// threads with `std`, on the calling thread otherwise.
fn run_parallel<J: Send>(jobs: &mut [J], threads: usize, work: impl Fn(&mut [J]) + Sync) {
    #[cfg(feature = "std")]
    if threads > 1 && jobs.len() > 1 {
        let per = jobs.len().div_ceil(threads);
        std::thread::scope(|scope| {
            for part in jobs.chunks_mut(per) {
                let work = &work;
                scope.spawn(move || work(part));
            }
        });
        return;
    }
    let _ = threads;
    work(jobs);
}

/// Verifies and decrypts one chunk in place.
pub(crate) fn open_chunk(
    payload: &KeyMaterial,
    index: u64,
    last: bool,
    buf: &mut [u8],
    tag: &[u8],
) -> Result<()> {
    #[cfg(test)]
    CHUNK_DECRYPTIONS.with(|c| c.set(c.get() + 1));
    let nonce = chunk_nonce(index, last);
    aead::decrypt_in_place(Algorithm::XChaCha20Poly1305, payload, &nonce, &[], buf, tag)
        .map_err(|_| Error::AuthenticationFailed)
}

/// Number of chunks in a body of `body_len` bytes, after checking the
/// layout rules of FORMAT.md 7.5.
pub(crate) fn chunk_count(body_len: u64, chunk_size: u32) -> Result<u64> {
    let sealed = u64::from(chunk_size) + TAG_LEN as u64;
    if body_len == 0 {
        return Err(Error::Malformed {
            reason: "envelope body has no chunk",
        });
    }
    let count = body_len.div_ceil(sealed);
    let last_len = body_len - (count - 1) * sealed;
    if last_len < TAG_LEN as u64 {
        return Err(Error::Malformed {
            reason: "final chunk is shorter than a tag",
        });
    }
    if count > 1 && last_len == TAG_LEN as u64 {
        return Err(Error::Malformed {
            reason: "empty final chunk after other chunks",
        });
    }
    Ok(count)
}

/// Encrypts a stream: push plaintext in, take chunks out.
///
/// Create it with [`EnvelopeEncryptor::new`], which also returns the
/// header; append what [`EnvelopeEncryptor::update`] and
/// [`EnvelopeEncryptor::finish`] write. Until `finish` runs, the output is
/// not a complete envelope and will not decrypt as one: the final chunk is
/// what marks the end.
///
/// # Security
/// The plaintext staging buffer is wiped on drop. With `std`, an encryptor
/// used in a process other than the one that created it (a child after
/// `fork()`, as Python's `multiprocessing` does) refuses every call instead
/// of sealing chunks under the nonces its parent also uses.
pub struct EnvelopeEncryptor {
    payload: KeyMaterial,
    index: u64,
    chunk_size: usize,
    /// Chunks sealed per batch (1, or 4 per thread when parallel).
    batch_chunks: usize,
    threads: usize,
    /// Plaintext staging; grows to `chunk_size` only when the data needs it.
    staging: SecretBytes,
    filled: usize,
    /// Set by `finish_into`; `finish` consumes the encryptor instead.
    finished: bool,
    /// The process that made it: nonce state never crosses a fork.
    #[cfg(feature = "std")]
    owner_pid: u32,
}

impl fmt::Debug for EnvelopeEncryptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvelopeEncryptor")
            .field("chunks_written", &self.index)
            .finish_non_exhaustive()
    }
}

impl EnvelopeEncryptor {
    /// Starts an envelope for `recipients` (each gets a wrapped copy of a
    /// fresh data key). Returns the encryptor and the header bytes, which
    /// come first in the output.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for no recipient, more than 16, or the same
    /// key twice; [`Error::Malformed`] for a chunk size outside 64 B to
    /// 16 MiB; key lookup errors for keyring recipients;
    /// [`Error::RandomnessUnavailable`].
    pub fn new<R: TryCryptoRng + ?Sized>(
        recipients: &[Recipient<'_>],
        context: &EncryptionContext,
        chunk_size: u32,
        rng: &mut R,
    ) -> Result<(Self, Vec<u8>)> {
        Self::with_size_hint(recipients, context, chunk_size, usize::MAX, rng)
    }

    /// As [`EnvelopeEncryptor::new`], with the staging buffer first sized
    /// for `expected_len` bytes of plaintext (it still grows to a full
    /// chunk if more arrives).
    pub(crate) fn with_size_hint<R: TryCryptoRng + ?Sized>(
        recipients: &[Recipient<'_>],
        context: &EncryptionContext,
        chunk_size: u32,
        expected_len: usize,
        rng: &mut R,
    ) -> Result<(Self, Vec<u8>)> {
        let (header, payload) = new_header(recipients, context, chunk_size, rng)?;
        let chunk_size = chunk_size as usize;
        let encryptor = Self {
            payload,
            index: 0,
            chunk_size,
            batch_chunks: 1,
            threads: 1,
            staging: SecretBytes::zeroed(chunk_size.min(expected_len)),
            filled: 0,
            finished: false,
            #[cfg(feature = "std")]
            owner_pid: std::process::id(),
        };
        Ok((encryptor, header.to_bytes()))
    }

    /// Encrypts `plaintext`, appending every chunk that is complete to
    /// `out`. A full chunk is held back until more plaintext (or
    /// [`EnvelopeEncryptor::finish`]) shows whether it is the last.
    ///
    /// # Errors
    /// [`Error::TooLarge`] if the chunk counter would overflow.
    pub fn update(&mut self, plaintext: &[u8], out: &mut Vec<u8>) -> Result<()> {
        self.check_open()?;
        self.push(plaintext, out)
    }

    /// As [`EnvelopeEncryptor::update`], writing into a caller's buffer of
    /// at least [`EnvelopeEncryptor::update_output_bound`] bytes. Returns
    /// how many bytes it wrote (0 to that bound).
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] (checked first; nothing changes) for a
    /// shorter `out`; as [`EnvelopeEncryptor::update`].
    pub fn update_into(&mut self, plaintext: &[u8], out: &mut [u8]) -> Result<usize> {
        self.check_open()?;
        let needed = self.update_output_bound(plaintext.len());
        let mut sink = SliceSink::new(out, needed)?;
        self.push(plaintext, &mut sink)?;
        Ok(sink.written())
    }

    /// The most bytes [`EnvelopeEncryptor::update_into`] writes for
    /// `plaintext_len` more bytes of plaintext: every chunk that input can
    /// complete, with its tag.
    pub fn update_output_bound(&self, plaintext_len: usize) -> usize {
        let chunks = self.filled.saturating_add(plaintext_len) / self.chunk_size;
        chunks.saturating_mul(self.chunk_size + TAG_LEN)
    }

    /// Encrypts what remains as the final chunk and appends it to `out`.
    ///
    /// # Errors
    /// As [`EnvelopeEncryptor::update`].
    pub fn finish(mut self, out: &mut Vec<u8>) -> Result<()> {
        self.check_open()?;
        self.emit(true, out)
    }

    /// As [`EnvelopeEncryptor::finish`], writing into a caller's buffer of
    /// at least [`EnvelopeEncryptor::finish_output_bound`] bytes. Returns
    /// how many bytes it wrote (exactly that bound). Afterwards the
    /// encryptor refuses further input.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] (checked first; nothing changes, so the
    /// call can be repeated with a larger buffer); [`Error::InvalidArgument`]
    /// once finished; as [`EnvelopeEncryptor::update`].
    pub fn finish_into(&mut self, out: &mut [u8]) -> Result<usize> {
        self.check_open()?;
        let mut sink = SliceSink::new(out, self.finish_output_bound())?;
        self.emit(true, &mut sink)?;
        self.finished = true;
        Ok(sink.written())
    }

    fn check_open(&self) -> Result<()> {
        if self.finished {
            return Err(Error::InvalidArgument {
                reason: "the envelope is already finished",
            });
        }
        // After fork() parent and child would seal the next chunk under the
        // same key and nonce; only the process that made it may go on.
        #[cfg(feature = "std")]
        if std::process::id() != self.owner_pid {
            return Err(Error::InvalidArgument {
                reason: "this encryptor was created in another process (before a fork); start a new envelope",
            });
        }
        Ok(())
    }

    /// The bytes [`EnvelopeEncryptor::finish_into`] writes: the staged
    /// plaintext as chunks (at least one), each with its tag.
    pub fn finish_output_bound(&self) -> usize {
        let count = self.filled.div_ceil(self.chunk_size).max(1);
        self.filled + count * TAG_LEN
    }

    fn push<S: Sink + ?Sized>(&mut self, mut plaintext: &[u8], out: &mut S) -> Result<()> {
        let batch_len = self.chunk_size * self.batch_chunks;
        while !plaintext.is_empty() {
            if self.filled == batch_len {
                self.emit(false, out)?;
            }
            if self.filled == self.staging.len() {
                // Grow to a full batch; the old buffer is wiped as it drops.
                let mut bigger = SecretBytes::zeroed(batch_len);
                bigger.expose_secret_mut()[..self.filled]
                    .copy_from_slice(&self.staging.expose_secret()[..self.filled]);
                self.staging = bigger;
            }
            let take = (self.staging.len() - self.filled).min(plaintext.len());
            let (now, rest) = plaintext.split_at(take);
            self.staging.expose_secret_mut()[self.filled..self.filled + take].copy_from_slice(now);
            self.filled += take;
            plaintext = rest;
        }
        Ok(())
    }

    /// Seals a batch of chunks in parallel on up to `threads` threads; 1
    /// (the default) seals on the calling thread. The output is
    /// byte-for-byte the same either way. Without `std` there are no
    /// threads: the setting is accepted and everything runs on the caller.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for 0 or more than [`MAX_THREADS`], or
    /// once the encryptor has taken input (nothing changes).
    pub fn set_threads(&mut self, threads: usize) -> Result<()> {
        let started = self.index > 0 || self.filled > 0 || self.finished;
        self.threads = check_threads(threads, started)?;
        self.batch_chunks = batch_chunks(self.threads, self.chunk_size);
        Ok(())
    }

    /// Seals what is staged: full chunks, and with `last` the final one.
    fn emit<S: Sink + ?Sized>(&mut self, last: bool, out: &mut S) -> Result<()> {
        let n = self.filled;
        let data = &mut self.staging.expose_secret_mut()[..n];
        let count = n.div_ceil(self.chunk_size).max(1);
        let mut tags = alloc::vec![[0u8; TAG_LEN]; count];
        seal_batch(
            &self.payload,
            self.index,
            last,
            data,
            self.chunk_size,
            &mut tags,
            self.threads,
        );
        out.reserve(n + count * TAG_LEN);
        if n == 0 {
            out.put(&tags[0]);
        }
        for (chunk, tag) in data.chunks(self.chunk_size).zip(&tags) {
            out.put(chunk);
            out.put(tag);
        }
        self.filled = 0;
        self.index = self
            .index
            .checked_add(count as u64)
            .ok_or(Error::TooLarge {
                what: "chunk count",
                max: usize::MAX,
            })?;
        Ok(())
    }
}

enum State {
    Header(Vec<u8>),
    Body {
        payload: KeyMaterial,
        sealed_len: usize,
        /// Ciphertext bytes buffered before a batch is opened.
        batch_len: usize,
        index: u64,
        ciphertext: Vec<u8>,
        staging: SecretBytes,
    },
    Done,
    Failed(Error),
}

/// Decrypts a stream: push envelope bytes in (header first), take
/// authenticated plaintext out.
///
/// Plaintext of a chunk is released only after that chunk authenticates,
/// and a chunk is taken as non-final only once a byte after it has arrived;
/// the final chunk is checked by [`EnvelopeDecryptor::finish`]. After any
/// error every further call returns the same error, so a caller that
/// ignores one cannot be handed unauthenticated or out-of-order data. What
/// was released before an error is the longest valid prefix of chunks;
/// callers that need all-or-nothing must not act on it before `finish`
/// succeeds.
///
/// # Ownership and threads
/// Owns everything it uses (an exclusive handle): until the header is
/// opened, the [`OwnedIdentity`] it was made with (a keyring snapshot or a
/// standalone key); from then on only the payload key and an `Arc` to the
/// keyring's audit context. It is `Send`, holds no lock, and never blocks a
/// rotation of the keyring it came from.
///
/// # Audit
/// One `decrypt` event per stream: at `finish`, at the first error, or,
/// for a stream dropped after its header opened but before `finish`, a
/// failure of kind `malformed` (it was never read to its end).
pub struct EnvelopeDecryptor {
    /// What opens the header; dropped as soon as it has.
    identity: Option<OwnedIdentity>,
    context: EncryptionContext,
    state: State,
    threads: usize,
    audit: StreamAudit,
}

impl fmt::Debug for EnvelopeDecryptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Header(_) => "header",
            State::Body { .. } => "body",
            State::Done => "done",
            State::Failed(_) => "failed",
        };
        f.debug_struct("EnvelopeDecryptor")
            .field("state", &state)
            .finish_non_exhaustive()
    }
}

impl EnvelopeDecryptor {
    /// A decryptor that opens the header with `identity` and expects exactly
    /// `context`.
    pub fn new(identity: impl Into<OwnedIdentity>, context: &EncryptionContext) -> Self {
        let identity = identity.into();
        Self {
            audit: StreamAudit::new(&identity.as_identity()),
            identity: Some(identity),
            context: context.clone(),
            state: State::Header(Vec::new()),
            threads: 1,
        }
    }

    /// Opens batches of chunks in parallel on up to `threads` threads; 1
    /// (the default) opens on the calling thread. What is released, and
    /// when an error stops it, is the same either way. Without `std` there
    /// are no threads: the setting is accepted and everything runs on the
    /// caller.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for 0 or more than [`MAX_THREADS`], or
    /// once the decryptor has taken input (nothing changes).
    pub fn set_threads(&mut self, threads: usize) -> Result<()> {
        let started = !matches!(&self.state, State::Header(buf) if buf.is_empty());
        self.threads = check_threads(threads, started)?;
        Ok(())
    }

    /// Feeds envelope bytes; appends every chunk that authenticated to
    /// `out`.
    ///
    /// # Errors
    /// Header errors as [`crate::envelope::decrypt`]; a chunk that fails
    /// is [`Error::AuthenticationFailed`]. Errors are sticky.
    pub fn update(&mut self, input: &[u8], out: &mut SecretBytes) -> Result<()> {
        let result = self.step(input, out);
        self.stick(result)
    }

    /// As [`EnvelopeDecryptor::update`], writing authenticated plaintext
    /// into a caller's buffer of at least
    /// [`EnvelopeDecryptor::update_output_bound`] bytes. Returns how many
    /// bytes it wrote. On an error, what it wrote before the failing chunk
    /// is the valid prefix, as with `update`.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] (checked first; nothing changes, and it is
    /// not sticky) for a shorter `out`; as [`EnvelopeDecryptor::update`].
    pub fn update_into(&mut self, input: &[u8], out: &mut [u8]) -> Result<usize> {
        let needed = self.update_output_bound(input.len());
        let mut sink = SliceSink::new(out, needed)?;
        let result = self.step(input, &mut sink);
        self.stick(result).map(|()| sink.written())
    }

    /// The most plaintext [`EnvelopeDecryptor::update_into`] writes for
    /// `input_len` more envelope bytes: what is buffered plus the input
    /// (plaintext is never longer than the ciphertext it came from).
    pub fn update_output_bound(&self, input_len: usize) -> usize {
        self.buffered().saturating_add(input_len)
    }

    /// Ends the stream: checks and decrypts the final chunk.
    ///
    /// # Errors
    /// [`Error::Malformed`] for a stream that ends inside the header or
    /// without a valid final chunk; [`Error::AuthenticationFailed`] if the
    /// final chunk does not authenticate (truncation lands here). Sticky.
    pub fn finish(&mut self, out: &mut SecretBytes) -> Result<()> {
        self.finish_to(out)
    }

    /// As [`EnvelopeDecryptor::finish`], into a caller's buffer of at least
    /// [`EnvelopeDecryptor::finish_output_bound`] bytes. Returns how many
    /// bytes it wrote.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] (checked first, not sticky); as
    /// [`EnvelopeDecryptor::finish`].
    pub fn finish_into(&mut self, out: &mut [u8]) -> Result<usize> {
        let mut sink = SliceSink::new(out, self.finish_output_bound())?;
        self.finish_to(&mut sink).map(|()| sink.written())
    }

    /// The most plaintext [`EnvelopeDecryptor::finish_into`] writes: what
    /// is buffered.
    pub fn finish_output_bound(&self) -> usize {
        self.buffered()
    }

    /// Envelope bytes received but not yet released as plaintext.
    fn buffered(&self) -> usize {
        match &self.state {
            State::Header(buf) => buf.len(),
            State::Body { ciphertext, .. } => ciphertext.len(),
            State::Done | State::Failed(_) => 0,
        }
    }

    fn finish_to<S: Sink + ?Sized>(&mut self, out: &mut S) -> Result<()> {
        let already_done = matches!(self.state, State::Done);
        let result = self.end(out);
        if result.is_ok() && !already_done {
            self.audit(None);
        }
        self.stick(result)
    }

    /// Makes an error sticky; the first one is audited (one event a stream).
    fn stick(&mut self, result: Result<()>) -> Result<()> {
        if let Err(e) = &result {
            if !matches!(self.state, State::Failed(_)) {
                self.audit(Some(e.kind()));
            }
            self.state = State::Failed(e.clone());
        }
        result
    }

    fn audit(&self, error: Option<ErrorKind>) {
        self.audit.decrypt(error);
    }

    /// Opens the buffered header: from here on the stream holds only the
    /// payload key.
    fn open(&mut self, header: &Header) -> Result<KeyMaterial> {
        let identity = self.identity.take().ok_or(Error::Malformed {
            reason: "envelope header is opened once",
        })?;
        let identity = identity.as_identity();
        let result = open_header_by(&identity, header, &self.context);
        // The key that opened it; on failure the first it could have used.
        let key = match (&result, identity) {
            (Ok((_, by)), _) => *by,
            (Err(_), Identity::Keyring(keyring)) => header
                .recipients
                .iter()
                .find_map(|r| r.key.filter(|(id, _)| keyring.key_name(*id).is_ok())),
            (Err(_), Identity::Standalone(_)) => None,
        };
        self.audit.opened_by(&identity, key);
        result.map(|(payload, _)| payload)
    }

    fn step<S: Sink + ?Sized>(&mut self, mut input: &[u8], out: &mut S) -> Result<()> {
        if let State::Header(buf) = &mut self.state {
            let room = header::MAX_HEADER_LEN.saturating_sub(buf.len());
            let take = room.min(input.len());
            buf.extend_from_slice(&input[..take]);
            input = &input[take..];
            let Some(len) = header::header_len(buf)? else {
                return Ok(());
            };
            let (parsed, _) = header::parse(buf)?;
            let leftover = buf.split_off(len);
            let payload = self.open(&parsed)?;
            self.state = body_state(&parsed, payload, self.threads);
            self.feed_body(&leftover, out)?;
        }
        self.feed_body(input, out)
    }

    fn feed_body<S: Sink + ?Sized>(&mut self, mut input: &[u8], out: &mut S) -> Result<()> {
        match &mut self.state {
            State::Failed(e) => Err(e.clone()),
            State::Done => {
                if input.is_empty() {
                    Ok(())
                } else {
                    Err(Error::Malformed {
                        reason: "bytes after the end of the envelope",
                    })
                }
            }
            State::Header(_) => Ok(()),
            State::Body {
                payload,
                sealed_len,
                batch_len,
                index,
                ciphertext,
                staging,
            } => {
                let threads = self.threads;
                while !input.is_empty() {
                    if ciphertext.len() == *batch_len {
                        // More bytes follow, so none of these is the last.
                        let pieces: Vec<&[u8]> = ciphertext.chunks(*sealed_len).collect();
                        open_batch(payload, *index, &pieces, false, staging, out, threads)?;
                        *index = index
                            .checked_add(pieces.len() as u64)
                            .ok_or(Error::TooLarge {
                                what: "chunk count",
                                max: usize::MAX,
                            })?;
                        ciphertext.clear();
                    }
                    let take = (*batch_len - ciphertext.len()).min(input.len());
                    ciphertext.extend_from_slice(&input[..take]);
                    input = &input[take..];
                }
                Ok(())
            }
        }
    }

    fn end<S: Sink + ?Sized>(&mut self, out: &mut S) -> Result<()> {
        match &mut self.state {
            State::Failed(e) => Err(e.clone()),
            State::Done => Ok(()),
            State::Header(_) => Err(Error::Malformed {
                reason: "envelope header is truncated",
            }),
            State::Body {
                payload,
                sealed_len,
                index,
                ciphertext,
                staging,
                ..
            } => {
                // Non-final chunks first (releasing the valid prefix), then
                // the final one, as a chunk-at-a-time reader would.
                let pieces: Vec<&[u8]> = ciphertext.chunks(*sealed_len).collect();
                let (last_piece, before) = match pieces.split_last() {
                    Some((l, b)) => (*l, b),
                    None => (&[][..], &[][..]),
                };
                open_batch(payload, *index, before, false, staging, out, self.threads)?;
                let final_index = *index + before.len() as u64;
                if last_piece.len() < TAG_LEN {
                    return Err(Error::Malformed {
                        reason: "final chunk is shorter than a tag",
                    });
                }
                if final_index > 0 && last_piece.len() == TAG_LEN {
                    return Err(Error::Malformed {
                        reason: "empty final chunk after other chunks",
                    });
                }
                open_batch(payload, final_index, &[last_piece], true, staging, out, 1)?;
                self.state = State::Done;
                Ok(())
            }
        }
    }
}

impl Drop for EnvelopeDecryptor {
    fn drop(&mut self) {
        // A stream that released plaintext but was never finished still
        // leaves its one event.
        if matches!(self.state, State::Body { .. }) {
            self.audit(Some(ErrorKind::Malformed));
        }
    }
}

fn body_state(header: &Header, payload: KeyMaterial, threads: usize) -> State {
    let chunk_size = header.chunk_size as usize;
    let batch_chunks = batch_chunks(threads, chunk_size);
    let sealed_len = chunk_size + TAG_LEN;
    State::Body {
        payload,
        sealed_len,
        batch_len: sealed_len * batch_chunks,
        index: 0,
        ciphertext: Vec::with_capacity(sealed_len),
        staging: SecretBytes::zeroed(chunk_size * batch_chunks),
    }
}

/// One chunk to open: its ciphertext and tag, where its plaintext goes, and
/// the outcome.
struct OpenJob<'a> {
    index: u64,
    ciphertext: &'a [u8],
    slot: &'a mut [u8],
    tag: &'a [u8],
    result: Result<()>,
}

/// Opens sealed chunks `first, first + 1, ...` through the staging buffer
/// (in parallel on up to `threads` threads with `std`), the last one with
/// the final flag when `last`. Appends to `out` the plaintext of every
/// chunk before the first that fails, then returns that failure: exactly
/// what a chunk-at-a-time reader would release.
fn open_batch<S: Sink + ?Sized>(
    payload: &KeyMaterial,
    first: u64,
    pieces: &[&[u8]],
    last: bool,
    staging: &mut SecretBytes,
    out: &mut S,
    threads: usize,
) -> Result<()> {
    if pieces.iter().any(|p| p.len() < TAG_LEN) {
        return Err(Error::Malformed {
            reason: "chunk is shorter than a tag",
        });
    }
    let lens: Vec<usize> = pieces.iter().map(|p| p.len() - TAG_LEN).collect();
    let total: usize = lens.iter().sum();
    let buf = &mut staging.expose_secret_mut()[..total];
    let final_index = first + pieces.len() as u64;
    let mut jobs: Vec<OpenJob<'_>> = Vec::with_capacity(pieces.len());
    let mut rest = &mut *buf;
    for (i, (piece, len)) in pieces.iter().zip(&lens).enumerate() {
        let (slot, tail) = rest.split_at_mut(*len);
        let (ciphertext, tag) = piece.split_at(*len);
        jobs.push(OpenJob {
            index: first + i as u64,
            ciphertext,
            slot,
            tag,
            result: Ok(()),
        });
        rest = tail;
    }
    run_parallel(&mut jobs, threads, |jobs| {
        for job in jobs.iter_mut() {
            let final_chunk = last && job.index + 1 == final_index;
            // The copy in runs on the worker too, not serially before.
            job.slot.copy_from_slice(job.ciphertext);
            job.result = open_chunk(payload, job.index, final_chunk, job.slot, job.tag);
        }
    });
    let failed = jobs.iter().position(|j| j.result.is_err());
    let good: usize = lens[..failed.unwrap_or(lens.len())].iter().sum();
    let error = failed.and_then(|i| jobs.get(i).and_then(|j| j.result.clone().err()));
    drop(jobs);
    out.put(&buf[..good]);
    // Leave no plaintext behind in the staging buffer.
    zeroize::Zeroize::zeroize(buf);
    error.map_or(Ok(()), Err)
}

#[cfg(test)]
mod unit_tests {
    use super::{MAX_BATCH_BYTES, batch_chunks, run_parallel};
    use alloc::vec::Vec;
    use std::sync::Mutex;
    use std::thread::{self, ThreadId};

    /// (thread, jobs) of each call `run_parallel` makes of its work.
    fn calls(jobs: usize, threads: usize) -> Vec<(ThreadId, usize)> {
        let seen = Mutex::new(Vec::new());
        let mut jobs = alloc::vec![0u8; jobs];
        run_parallel(&mut jobs, threads, |part| {
            seen.lock()
                .unwrap()
                .push((thread::current().id(), part.len()));
        });
        seen.into_inner().unwrap()
    }

    /// The staging buffer of `threads` threads' encryptor, after each of
    /// 300 updates of 5 bytes: where it is, deduplicated.
    fn staging_buffers(threads: usize) -> Vec<*const u8> {
        let mut keyring = crate::Keyring::new();
        let t0 = crate::Timestamp::from_unix_seconds(0);
        keyring
            .create_key_with("k", &mut getrandom::SysRng, t0)
            .unwrap();
        let recipients = [super::Recipient::Key {
            keyring: &keyring,
            name: "k",
        }];
        let ctx = crate::EncryptionContext::from_pairs([("a", "b")]).unwrap();
        let (mut enc, mut out) =
            super::EnvelopeEncryptor::new(&recipients, &ctx, 64, &mut getrandom::SysRng).unwrap();
        enc.set_threads(threads).unwrap();
        let mut seen = Vec::new();
        for _ in 0..300 {
            enc.update(&[7u8; 5], &mut out).unwrap();
            seen.push(enc.staging.expose_secret().as_ptr());
        }
        seen.dedup();
        seen
    }

    /// The staging buffer is allocated once, and grown once to a full batch
    /// when there is one: not again on every update.
    #[test]
    fn the_staging_buffer_is_not_reallocated_per_update() {
        assert_eq!(staging_buffers(1).len(), 1);
        assert_eq!(staging_buffers(4).len(), 2);
    }

    /// Several jobs and threads: the jobs split evenly over scoped threads
    /// (with `std`; without it, all on the calling thread). One thread or
    /// one job: all on the calling thread.
    #[test]
    fn work_runs_in_parallel_only_with_several_threads_and_jobs() {
        let here = thread::current().id();
        assert_eq!(calls(8, 1), [(here, 8)]);
        assert_eq!(calls(1, 4), [(here, 1)]);
        let split = calls(8, 4);
        if cfg!(feature = "std") {
            assert_eq!(split.len(), 4, "{split:?}");
            assert!(split.iter().all(|&(t, n)| t != here && n == 2), "{split:?}");
        } else {
            assert_eq!(split, [(here, 8)]);
        }
    }

    /// One chunk at a time on one thread; otherwise 16 chunks a thread,
    /// never more chunks than fit in [`MAX_BATCH_BYTES`], and at least one.
    #[test]
    fn batches_are_16_chunks_a_thread_within_the_memory_bound() {
        let k64 = 64 << 10;
        assert_eq!(batch_chunks(0, k64), 1);
        assert_eq!(batch_chunks(1, k64), 1);
        assert_eq!(batch_chunks(2, k64), 32);
        assert_eq!(batch_chunks(4, k64), 64);
        // 32 MiB holds 512 chunks of 64 KiB; 64 threads would take 1,024.
        assert_eq!(batch_chunks(64, k64), 512);
        assert_eq!(batch_chunks(32, k64), 512);
        // The largest chunk (16 MiB): two fit.
        assert_eq!(batch_chunks(4, 1 << 24), 2);
        // A chunk above the bound still makes a batch of one.
        assert_eq!(batch_chunks(4, MAX_BATCH_BYTES + 1), 1);
    }
}
