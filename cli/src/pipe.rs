//! The output side of `encrypt` and `decrypt` on a thread of its own, so
//! that writing one batch overlaps reading and sealing (or opening) the
//! next (issue #15: the pipeline read, sealed and wrote in turn, so two
//! threads were no faster than one). Bytes cross in buffers of
//! [`PIPE_BUF`], at most [`DEPTH`] in flight (plus one being filled and
//! one being written), each wiped in bulk when it is dropped: on
//! `decrypt` they hold plaintext.

use std::io::{self, Write};
use std::sync::mpsc::{Receiver, SyncSender, channel, sync_channel};

use zeroize::Zeroize;

/// Bytes per buffer handed to the output thread.
pub(crate) const PIPE_BUF: usize = 1 << 20;
/// Full buffers waiting for the output thread.
const DEPTH: usize = 2;

/// A byte buffer wiped in bulk on drop. Only its first `len` bytes can
/// hold data: it is allocated at [`PIPE_BUF`] and never grows (so never
/// moves), and a buffer that comes back for reuse is wiped before it is
/// emptied. Wiping the untouched rest would fault in a mebibyte per
/// buffer (about 1 ms on a 1 KiB file).
struct Buf(Vec<u8>);

impl Drop for Buf {
    fn drop(&mut self) {
        self.0.as_mut_slice().zeroize();
    }
}

/// A `Write` that batches bytes into [`Buf`]s for the output thread.
struct ChannelWriter {
    tx: Option<SyncSender<Buf>>,
    back: Receiver<Buf>,
    cur: Buf,
}

fn stopped() -> io::Error {
    io::Error::other("the output thread stopped")
}

impl ChannelWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.cur.0.is_empty() {
            return Ok(());
        }
        let next = match self.back.try_recv() {
            Ok(mut b) => {
                b.0.as_mut_slice().zeroize();
                b.0.clear();
                b
            }
            Err(_) => Buf(Vec::with_capacity(PIPE_BUF)),
        };
        let full = core::mem::replace(&mut self.cur, next);
        self.tx
            .as_ref()
            .ok_or_else(stopped)?
            .send(full)
            .map_err(|_| stopped())
    }

    /// Sends what is left and ends the stream.
    fn close(&mut self) -> io::Result<()> {
        let r = self.send();
        self.tx = None;
        r
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = PIPE_BUF - self.cur.0.len();
        let n = data.len().min(room);
        self.cur.0.extend_from_slice(&data[..n]);
        if self.cur.0.len() == PIPE_BUF {
            self.send()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        // The output thread flushes the sink once the stream ends.
        Ok(())
    }
}

/// Inputs smaller than this (when their size is known) are written from
/// the calling thread: the output thread pays off only over several
/// buffers, and starting it cost 0.5 ms of a 4 ms run on a 1 KiB file.
const MIN_PIPED: u64 = 4 * PIPE_BUF as u64;

/// The thread count to give [`through_output_thread`] for an input of
/// `len` bytes (`None`: unknown, a pipe).
pub(crate) fn threads_for(threads: usize, len: Option<u64>) -> usize {
    if len.is_some_and(|l| l < MIN_PIPED) {
        1
    } else {
        threads
    }
}

/// Runs `work` with a writer whose bytes reach `sink` on another thread
/// (with one thread, directly), then returns `work`'s result and the sink.
/// The output thread's own error wins over `work`'s (a `work` that failed
/// because the output stopped reports why it stopped).
pub(crate) fn through_output_thread<W: Write + Send, T>(
    mut sink: W,
    threads: usize,
    work: impl FnOnce(&mut dyn Write) -> io::Result<T>,
) -> (io::Result<T>, io::Result<W>) {
    if threads <= 1 {
        let r = work(&mut sink);
        return (r, Ok(sink));
    }
    std::thread::scope(|s| {
        let (tx, rx) = sync_channel::<Buf>(DEPTH);
        let (back_tx, back_rx) = channel::<Buf>();
        let out = s.spawn(move || -> io::Result<W> {
            for buf in rx {
                sink.write_all(&buf.0)?;
                let _ = back_tx.send(buf);
            }
            sink.flush()?;
            Ok(sink)
        });
        let mut writer = ChannelWriter {
            tx: Some(tx),
            back: back_rx,
            cur: Buf(Vec::with_capacity(PIPE_BUF)),
        };
        let r = work(&mut writer).and_then(|t| writer.close().map(|()| t));
        // Ends the stream on error too, so the output thread returns.
        drop(writer);
        let sink = out
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the output thread panicked")));
        (r, sink)
    })
}
