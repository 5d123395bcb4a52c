//! The armored form of an envelope (FORMAT.md 12): the binary envelope as
//! standard base64 in lines of 64 characters between a BEGIN and an END
//! line, for channels that carry only text (email, a YAML file, a
//! terminal). Strict, like age's armor: one canonical text per envelope,
//! so a decoder accepts nothing else.
//!
//! [`ArmorWriter`] and [`ArmorReader`] stream, line by line, so a file of
//! any size is armored or read back in constant memory; [`armor`] and
//! [`dearmor`] do whole buffers.

use alloc::string::String;
use alloc::vec::Vec;
use std::io::{self, BufRead, Read, Write};

use base64ct::{Base64, Encoding};

use crate::error::Error;

/// The first line (followed by `\n`).
pub const ARMOR_BEGIN: &str = "-----BEGIN STRONGROOM ENVELOPE-----";
/// The last line (followed by `\n`, then nothing).
pub const ARMOR_END: &str = "-----END STRONGROOM ENVELOPE-----";
/// Base64 characters per body line (the last line may be shorter).
pub const ARMOR_LINE_LEN: usize = 64;
/// Envelope bytes per full body line.
const LINE_BYTES: usize = ARMOR_LINE_LEN / 4 * 3;

fn malformed(reason: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, Error::Malformed { reason })
}

/// Whether `prefix` (the first bytes of an input) starts like an armored
/// envelope, rather than a binary one (`SREN`).
pub fn is_armored(prefix: &[u8]) -> bool {
    let begin = ARMOR_BEGIN.as_bytes();
    let n = prefix.len().min(begin.len());
    n > 0 && prefix[..n] == begin[..n]
}

/// Writes the armored form of the bytes written to it (an envelope) to
/// `inner`. Call [`ArmorWriter::finish`] at the end: it writes the last
/// body line and the END line.
#[derive(Debug)]
pub struct ArmorWriter<W: Write> {
    inner: W,
    pending: Vec<u8>,
    begun: bool,
}

impl<W: Write> ArmorWriter<W> {
    /// Armors onto `inner`.
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            pending: Vec::with_capacity(LINE_BYTES),
            begun: false,
        }
    }

    fn begin(&mut self) -> io::Result<()> {
        if !self.begun {
            self.inner.write_all(ARMOR_BEGIN.as_bytes())?;
            self.inner.write_all(b"\n")?;
            self.begun = true;
        }
        Ok(())
    }

    fn line(&mut self, bytes: &[u8]) -> io::Result<()> {
        let mut buf = [0u8; ARMOR_LINE_LEN + 1];
        let n = Base64::encode(bytes, &mut buf[..ARMOR_LINE_LEN])
            .map_err(|_| io::Error::other("armor line too long"))?
            .len();
        buf[n] = b'\n';
        self.inner.write_all(&buf[..=n])
    }

    /// Writes the last body line and the END line; returns `inner`.
    ///
    /// # Errors
    /// Write errors; `InvalidInput` if nothing was written (an empty body
    /// is not an armored envelope).
    pub fn finish(mut self) -> io::Result<W> {
        if self.pending.is_empty() && !self.begun {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "nothing to armor",
            ));
        }
        self.begin()?;
        if !self.pending.is_empty() {
            let tail = core::mem::take(&mut self.pending);
            self.line(&tail)?;
        }
        self.inner.write_all(ARMOR_END.as_bytes())?;
        self.inner.write_all(b"\n")?;
        self.inner.flush()?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for ArmorWriter<W> {
    fn write(&mut self, mut buf: &[u8]) -> io::Result<usize> {
        let n = buf.len();
        while !buf.is_empty() {
            let take = (LINE_BYTES - self.pending.len()).min(buf.len());
            self.pending.extend_from_slice(&buf[..take]);
            buf = &buf[take..];
            if self.pending.len() == LINE_BYTES {
                self.begin()?;
                let full = core::mem::take(&mut self.pending);
                self.line(&full)?;
                self.pending = full;
                self.pending.clear();
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Where an [`ArmorReader`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the BEGIN line.
    Start,
    /// In the body; `last` once a line was shorter than 64 characters or
    /// padded (only the END line may follow).
    Body { last: bool, lines: u64 },
    /// After the END line (and the end of the input).
    Done,
}

/// Reads an armored envelope from `inner` and yields the binary envelope,
/// checking every rule of FORMAT.md 12 as it goes: a read that meets a
/// broken rule fails with `InvalidData` carrying [`Error::Malformed`].
#[derive(Debug)]
pub struct ArmorReader<R: BufRead> {
    inner: R,
    state: State,
    decoded: [u8; LINE_BYTES],
    start: usize,
    end: usize,
}

impl<R: BufRead> ArmorReader<R> {
    /// Reads the armored envelope in `inner`.
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            state: State::Start,
            decoded: [0; LINE_BYTES],
            start: 0,
            end: 0,
        }
    }

    /// One line, without its `\n`; `None` at the end of the input. A line
    /// is at most 64 characters (the BEGIN line, 35), so anything longer
    /// is refused before it is held.
    fn next_line(&mut self) -> io::Result<Option<Vec<u8>>> {
        let mut line = Vec::with_capacity(ARMOR_LINE_LEN + 1);
        let n = (&mut self.inner)
            .take(ARMOR_LINE_LEN as u64 + 1)
            .read_until(b'\n', &mut line)?;
        if n == 0 {
            return Ok(None);
        }
        if line.pop() != Some(b'\n') {
            return Err(malformed(
                "armor line longer than 64 characters or not ended by \\n",
            ));
        }
        Ok(Some(line))
    }

    /// Decodes the next body line into `decoded`; at the END line, checks
    /// that nothing follows.
    fn advance(&mut self) -> io::Result<()> {
        loop {
            match self.state {
                State::Done => return Ok(()),
                State::Start => {
                    let line = self.next_line()?;
                    if line.as_deref() != Some(ARMOR_BEGIN.as_bytes()) {
                        return Err(malformed("armor does not start with its BEGIN line"));
                    }
                    self.state = State::Body {
                        last: false,
                        lines: 0,
                    };
                }
                State::Body { last, lines } => {
                    let Some(line) = self.next_line()? else {
                        return Err(malformed("armor has no END line"));
                    };
                    if line == ARMOR_END.as_bytes() {
                        if lines == 0 {
                            return Err(malformed("armor has an empty body"));
                        }
                        let mut rest = [0u8; 1];
                        if self.inner.read(&mut rest)? != 0 {
                            return Err(malformed("bytes after the armor's END line"));
                        }
                        self.state = State::Done;
                        return Ok(());
                    }
                    if last {
                        return Err(malformed("armor body line after a short or padded one"));
                    }
                    if line.is_empty() || line.len() % 4 != 0 {
                        return Err(malformed("armor line length is not a multiple of 4"));
                    }
                    let decoded = Base64::decode(&line, &mut self.decoded)
                        .map_err(|_| malformed("armor line is not canonical base64"))?;
                    let n = decoded.len();
                    self.start = 0;
                    self.end = n;
                    self.state = State::Body {
                        last: line.len() < ARMOR_LINE_LEN || line.ends_with(b"="),
                        lines: lines + 1,
                    };
                    return Ok(());
                }
            }
        }
    }
}

impl<R: BufRead> Read for ArmorReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        while self.start == self.end {
            if self.state == State::Done {
                return Ok(0);
            }
            self.advance()?;
        }
        let n = buf.len().min(self.end - self.start);
        buf[..n].copy_from_slice(&self.decoded[self.start..self.start + n]);
        self.start += n;
        Ok(n)
    }
}

/// The armored form of `envelope` (FORMAT.md 12).
pub fn armor(envelope: &[u8]) -> String {
    let mut out = Vec::with_capacity(envelope.len() / 3 * 4 + envelope.len() / 48 + 80);
    let mut w = ArmorWriter::new(&mut out);
    // Writing to a Vec cannot fail; an empty input armors to no body.
    let _ = w.write_all(envelope);
    let _ = w.finish();
    String::from_utf8(out).unwrap_or_default()
}

/// The binary envelope inside an armored one.
///
/// # Errors
/// [`Error::Malformed`] for any text that is not the canonical armor of
/// some bytes (FORMAT.md 12).
pub fn dearmor(text: &[u8]) -> crate::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    ArmorReader::new(text).read_to_end(&mut out).map_err(|e| {
        match e.get_ref().and_then(|i| i.downcast_ref::<Error>()) {
            Some(core) => core.clone(),
            None => Error::Malformed {
                reason: "armor could not be read",
            },
        }
    })?;
    Ok(out)
}
