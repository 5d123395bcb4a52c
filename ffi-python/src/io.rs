//! Streaming over Python file objects and paths: the core's envelope
//! writer and readers on top of `std::io` adapters that call the object's
//! `readinto` / `read`, `write`, `seek` and `flush`.
//!
//! The work runs with the GIL released; each call into the file object
//! takes it back for that call only. Bytes handed to or taken from the
//! object pass through a `bytearray` that is zeroed right after the call.

use alloc::sync::Arc;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyString};
use strongroom::envelope::{EnvelopeSeekReader, Identity};
use strongroom::{EncryptionContext, ErrorKind, Keyring as CoreKeyring};

use crate::buffer::Output;
use crate::{core_err, raise};

/// Where a stream reads from or writes to: a path, or a file object.
pub(crate) enum Endpoint {
    Path(PathBuf),
    Object(Py<PyAny>),
}

impl Endpoint {
    /// A `str` or `os.PathLike` is a path; anything else must be a binary
    /// file object.
    pub(crate) fn of(obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        let os = obj.py().import("os")?;
        let is_path =
            obj.is_instance_of::<PyString>() || obj.is_instance(&os.getattr("PathLike")?)?;
        if is_path {
            return Ok(Self::Path(obj.extract()?));
        }
        if obj.is_instance_of::<PyBytes>() || obj.is_instance_of::<PyByteArray>() {
            return Err(PyTypeError::new_err(
                "expected a path or a binary file object, not bytes",
            ));
        }
        Ok(Self::Object(obj.clone().unbind()))
    }
}

/// The first Python exception a file object raised during a stream, kept
/// to be raised as it is once the stream has failed.
pub(crate) type ErrorSlot = Arc<Mutex<Option<PyErr>>>;

/// `std::io` over a Python binary file object.
pub(crate) struct PyFile {
    obj: Py<PyAny>,
    error: ErrorSlot,
    written: u64,
}

impl PyFile {
    pub(crate) fn new(obj: Py<PyAny>, error: ErrorSlot) -> Self {
        Self {
            obj,
            error,
            written: 0,
        }
    }

    fn call<T>(
        &self,
        f: impl FnOnce(Python<'_>, &Bound<'_, PyAny>) -> PyResult<T>,
    ) -> io::Result<T> {
        Python::attach(|py| {
            f(py, self.obj.bind(py)).map_err(|e| {
                let mut slot = self.error.lock().unwrap_or_else(PoisonError::into_inner);
                if slot.is_none() {
                    *slot = Some(e);
                }
                io::Error::other("the file object raised an exception")
            })
        })
    }

    /// Best effort after a failed decryption into this object: overwrites
    /// what was written since `start` with zeros and truncates back to
    /// `start`, when the object can seek (and truncate).
    pub(crate) fn scrub(&mut self, start: Option<u64>) {
        let (Some(start), written) = (start, self.written) else {
            return;
        };
        let _ = self.call(|py, f| {
            f.call_method1("seek", (start, 0))?;
            let zeros = alloc::vec![0u8; 64 * 1024];
            let mut left = written;
            while left > 0 {
                let n = usize::try_from(left.min(64 * 1024)).unwrap_or(64 * 1024);
                f.call_method1("write", (PyBytes::new(py, &zeros[..n]),))?;
                left -= n as u64;
            }
            f.call_method1("seek", (start, 0))?;
            if f.hasattr("truncate")? {
                f.call_method1("truncate", (start,))?;
            }
            if f.hasattr("flush")? {
                f.call_method0("flush")?;
            }
            Ok(())
        });
    }

    /// The object's position, if it can tell one.
    pub(crate) fn position(&self) -> Option<u64> {
        self.call(|_, f| {
            if f.call_method0("seekable")?.is_truthy()? {
                Ok(Some(f.call_method0("tell")?.extract::<u64>()?))
            } else {
                Ok(None)
            }
        })
        .ok()
        .flatten()
    }
}

/// A zeroed `bytearray` of `len` bytes, for a file object to fill.
fn scratch(py: Python<'_>, len: usize) -> PyResult<Bound<'_, PyByteArray>> {
    PyByteArray::new_with(py, len, |_| Ok(()))
}

/// Copies the first `out.len()` bytes of `buf` into `out`, then zeroes
/// `buf` (the file object may have kept a reference to it).
fn drain(buf: &Bound<'_, PyByteArray>, out: &mut [u8]) {
    // SAFETY: the GIL is held (`Bound`) and no Python code runs before
    // this returns, so nothing resizes or writes the array meanwhile.
    let bytes = unsafe { buf.as_bytes_mut() };
    let n = out.len().min(bytes.len());
    out[..n].copy_from_slice(&bytes[..n]);
    zeroize::Zeroize::zeroize(bytes);
}

impl Read for PyFile {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        self.call(|py, f| {
            if f.hasattr("readinto")? {
                let buf = scratch(py, out.len())?;
                let got = f.call_method1("readinto", (&buf,));
                let n: PyResult<usize> =
                    got.and_then(|g| if g.is_none() { Ok(0) } else { g.extract() });
                let n = n.map(|n| n.min(out.len()));
                drain(&buf, &mut out[..*n.as_ref().unwrap_or(&0)]);
                n
            } else {
                let got = f.call_method1("read", (out.len(),))?;
                let b = got.cast::<PyBytes>().map_err(|_| {
                    PyTypeError::new_err("the file object's read() did not return bytes")
                })?;
                let n = b.as_bytes().len().min(out.len());
                out[..n].copy_from_slice(&b.as_bytes()[..n]);
                Ok(n)
            }
        })
    }
}

impl Write for PyFile {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if data.is_empty() {
            return Ok(0);
        }
        let n = self.call(|py, f| {
            let buf = PyByteArray::new(py, data);
            let r = f.call_method1("write", (&buf,));
            drain(&buf, &mut []);
            let r = r?;
            let n: usize = if r.is_none() {
                data.len()
            } else {
                r.extract()?
            };
            Ok(n.min(data.len()))
        })?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "the file object wrote nothing",
            ));
        }
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.call(|_, f| {
            if f.hasattr("flush")? {
                f.call_method0("flush")?;
            }
            Ok(())
        })
    }
}

impl Seek for PyFile {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.call(|_, f| {
            match to {
                SeekFrom::Start(p) => f.call_method1("seek", (p, 0)),
                SeekFrom::Current(d) => f.call_method1("seek", (d, 1)),
                SeekFrom::End(d) => f.call_method1("seek", (d, 2)),
            }?
            .extract::<u64>()
        })
    }
}

/// A readable, seekable source: a file opened by path, or a file object.
pub(crate) enum Source {
    File(File),
    Object(PyFile),
}

impl Source {
    pub(crate) fn open(endpoint: Endpoint, error: &ErrorSlot) -> io::Result<Self> {
        Ok(match endpoint {
            Endpoint::Path(p) => Self::File(File::open(p)?),
            Endpoint::Object(o) => Self::Object(PyFile::new(o, error.clone())),
        })
    }
}

impl Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::File(f) => f.read(buf),
            Self::Object(o) => o.read(buf),
        }
    }
}

impl Seek for Source {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        match self {
            Self::File(f) => f.seek(to),
            Self::Object(o) => o.seek(to),
        }
    }
}

/// The Python exception for a failed stream: the file object's own, if it
/// raised one; the core's error an `io::Error` carries; else an I/O error.
pub(crate) fn stream_err(e: &io::Error, error: &ErrorSlot) -> PyErr {
    if let Some(py_err) = error.lock().unwrap_or_else(PoisonError::into_inner).take() {
        return py_err;
    }
    if let Some(core) = e
        .get_ref()
        .and_then(|i| i.downcast_ref::<strongroom::Error>())
    {
        return core_err(core.clone());
    }
    raise(ErrorKind::Io, format!("I/O error: {e}"))
}

/// An envelope opened for random access (the engine of
/// `strongroom.EnvelopeReader`, which is the `io.RawIOBase` to use).
#[pyclass(module = "strongroom._strongroom", name = "_SeekReader", frozen)]
pub(crate) struct SeekReader {
    inner: Mutex<Option<EnvelopeSeekReader<Source>>>,
    error: ErrorSlot,
    len: u64,
}

impl SeekReader {
    pub(crate) fn open(
        py: Python<'_>,
        keyring: Arc<CoreKeyring>,
        source: Endpoint,
        context: &EncryptionContext,
    ) -> PyResult<Self> {
        let error = ErrorSlot::default();
        let opened = py.detach(|| {
            let src = Source::open(source, &error)?;
            EnvelopeSeekReader::new(src, Identity::Keyring(&keyring), context)
        });
        let reader = opened.map_err(|e| stream_err(&e, &error))?;
        Ok(Self {
            len: reader.len(),
            inner: Mutex::new(Some(reader)),
            error,
        })
    }
}

#[pymethods]
impl SeekReader {
    /// The plaintext length.
    #[getter]
    fn len(&self) -> u64 {
        self.len
    }

    /// Reads plaintext from offset `pos` into `buffer` (writable, any
    /// buffer-protocol object) until it is full or the plaintext ends;
    /// returns the count. Only the chunks the range covers are read and
    /// authenticated.
    fn readinto_at(&self, py: Python<'_>, pos: u64, buffer: &Bound<'_, PyAny>) -> PyResult<usize> {
        let mut out = Output::new(buffer)?;
        let want = out.as_mut_slice().len();
        let want = want.min(usize::try_from(self.len.saturating_sub(pos)).unwrap_or(usize::MAX));
        if want == 0 {
            return Ok(0);
        }
        let read = py.detach(|| {
            let mut guard = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
            let Some(reader) = guard.as_mut() else {
                return Err(None);
            };
            let mut tmp = zeroize::Zeroizing::new(alloc::vec![0u8; want]);
            reader.seek(SeekFrom::Start(pos)).map_err(Some)?;
            let mut got = 0;
            while got < want {
                match reader.read(&mut tmp[got..]) {
                    Ok(0) => break,
                    Ok(n) => got += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(Some(e)),
                }
            }
            tmp.truncate(got);
            Ok(tmp)
        });
        match read {
            Ok(plain) => {
                out.as_mut_slice()[..plain.len()].copy_from_slice(&plain);
                Ok(plain.len())
            }
            Err(None) => Err(PyValueError::new_err("I/O operation on a closed reader")),
            Err(Some(e)) => Err(stream_err(&e, &self.error)),
        }
    }

    /// Drops the reader: its payload key is wiped, a file it opened is
    /// closed (a file object passed in is not closed).
    fn close(&self, py: Python<'_>) {
        py.detach(|| {
            self.inner
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take()
        });
    }
}
