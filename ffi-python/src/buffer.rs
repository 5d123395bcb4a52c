//! Zero-copy views of buffer-protocol objects (`bytes`, `bytearray`,
//! `memoryview`, `array.array`, `mmap`, NumPy arrays, ...).
//!
//! The wheel targets the stable ABI from Python 3.9, whose limited API
//! declares the buffer protocol only from 3.11 (pyo3 hides it below that).
//! The two functions and the `Py_buffer` layout have been part of every
//! CPython since 3.3, unchanged, and 3.11 made exactly that layout part of
//! the stable ABI; every interpreter this wheel loads into exports them.
//! So they are declared here, and used the same way on 3.9 to 3.13.
//!
//! A view holds the exporter's buffer (a `bytearray` cannot be resized
//! while it is held) and is released with the GIL held, when dropped.

#![allow(unsafe_code)]

use core::ffi::{c_char, c_int, c_void};
use core::ptr;

use pyo3::exceptions::PyTypeError;
use pyo3::ffi::{Py_ssize_t, PyObject};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use zeroize::Zeroizing;

/// CPython's `Py_buffer` (`Include/pybuffer.h`, stable since 3.3).
#[repr(C)]
struct PyBuffer {
    buf: *mut c_void,
    obj: *mut PyObject,
    len: Py_ssize_t,
    itemsize: Py_ssize_t,
    readonly: c_int,
    ndim: c_int,
    format: *mut c_char,
    shape: *mut Py_ssize_t,
    strides: *mut Py_ssize_t,
    suboffsets: *mut Py_ssize_t,
    internal: *mut c_void,
}

/// A C-contiguous buffer of bytes, read-only or writable.
const PYBUF_SIMPLE: c_int = 0;
/// ... and writable.
const PYBUF_WRITABLE: c_int = 0x0001;

unsafe extern "C" {
    fn PyObject_GetBuffer(obj: *mut PyObject, view: *mut PyBuffer, flags: c_int) -> c_int;
    fn PyBuffer_Release(view: *mut PyBuffer);
}

/// A held buffer. Not `Send`: it is released on the thread (and with the
/// GIL) that took it; the slice it lends may cross a GIL release.
pub(crate) struct View<'py> {
    // Boxed: CPython may keep the view's address (in `internal`).
    raw: Box<PyBuffer>,
    _py: Python<'py>,
}

impl<'py> View<'py> {
    fn get(obj: &Bound<'py, PyAny>, flags: c_int) -> PyResult<Self> {
        let mut raw = Box::new(PyBuffer {
            buf: ptr::null_mut(),
            obj: ptr::null_mut(),
            len: 0,
            itemsize: 0,
            readonly: 0,
            ndim: 0,
            format: ptr::null_mut(),
            shape: ptr::null_mut(),
            strides: ptr::null_mut(),
            suboffsets: ptr::null_mut(),
            internal: ptr::null_mut(),
        });
        // SAFETY: `obj` is a live object (a `Bound` under the GIL, which
        // `Python<'py>` proves is held) and `raw` a writable `Py_buffer`.
        // With PYBUF_SIMPLE the exporter hands out one C-contiguous block
        // of `len` bytes or fails.
        let rc = unsafe { PyObject_GetBuffer(obj.as_ptr(), &raw mut *raw, flags) };
        if rc != 0 {
            return Err(PyErr::take(obj.py())
                .unwrap_or_else(|| PyTypeError::new_err("expected a bytes-like object")));
        }
        let view = Self { raw, _py: obj.py() };
        if view.raw.len < 0 || (view.raw.buf.is_null() && view.raw.len != 0) {
            return Err(PyTypeError::new_err("the object exported a bad buffer"));
        }
        Ok(view)
    }

    fn len(&self) -> usize {
        usize::try_from(self.raw.len).unwrap_or(0)
    }

    fn as_slice(&self) -> &[u8] {
        if self.len() == 0 {
            return &[];
        }
        // SAFETY: the exporter guarantees `len` readable bytes at `buf`
        // while the view is held (checked non-NULL in `get`); `self`
        // holds it for the slice's lifetime.
        unsafe { core::slice::from_raw_parts(self.raw.buf.cast::<u8>(), self.len()) }
    }

    fn as_mut_slice(&mut self) -> &mut [u8] {
        if self.len() == 0 {
            return &mut [];
        }
        // SAFETY: as in `as_slice`, and the view was taken with
        // PYBUF_WRITABLE (`Output` is the only caller), so the bytes are
        // writable; `&mut self` makes the slice unique on our side.
        unsafe { core::slice::from_raw_parts_mut(self.raw.buf.cast::<u8>(), self.len()) }
    }
}

impl Drop for View<'_> {
    fn drop(&mut self) {
        // SAFETY: the view was filled by a successful PyObject_GetBuffer
        // and is released once; `_py` proves the GIL is held.
        unsafe { PyBuffer_Release(&raw mut *self.raw) };
    }
}

/// The bytes of an input argument, borrowed from the caller's object
/// without a copy. The one exception: an object other than `bytes` (whose
/// bytes nobody can change) longer than the length over which the work
/// runs with the GIL released, because another thread could then change
/// its bytes under us; those are copied once, into a buffer wiped when
/// dropped.
pub(crate) enum Input<'py> {
    /// An immutable `bytes`.
    Bytes(Bound<'py, PyBytes>),
    /// Any other buffer, held.
    View(View<'py>),
    /// A copy of one.
    Copy(Zeroizing<Vec<u8>>),
}

impl<'py> Input<'py> {
    /// Borrows `obj`, or copies it if it is not `bytes` and longer than
    /// `detach_over` bytes (the length over which the caller releases the
    /// GIL; 0 when it always does).
    pub(crate) fn new(obj: &Bound<'py, PyAny>, detach_over: usize) -> PyResult<Self> {
        if let Ok(b) = obj.cast::<PyBytes>() {
            return Ok(Self::Bytes(b.clone()));
        }
        let view = View::get(obj, PYBUF_SIMPLE)?;
        if view.len() > detach_over {
            return Ok(Self::Copy(Zeroizing::new(view.as_slice().to_vec())));
        }
        Ok(Self::View(view))
    }

    /// The bytes.
    pub(crate) fn as_slice(&self) -> &[u8] {
        match self {
            Self::Bytes(b) => b.as_bytes(),
            Self::View(v) => v.as_slice(),
            Self::Copy(c) => c,
        }
    }
}

/// A writable buffer of the caller's (`bytearray`, writable `memoryview`,
/// ...) that decrypted bytes go into.
pub(crate) struct Output<'py> {
    view: View<'py>,
}

impl<'py> Output<'py> {
    /// Takes a writable view of `obj` (TypeError if it is read-only).
    pub(crate) fn new(obj: &Bound<'py, PyAny>) -> PyResult<Self> {
        let view = View::get(obj, PYBUF_WRITABLE).map_err(|_| {
            PyTypeError::new_err("expected a writable bytes-like object (a bytearray, ...)")
        })?;
        Ok(Self { view })
    }

    /// The bytes, to write into. Held with the GIL: no other Python
    /// thread runs while they are written.
    pub(crate) fn as_mut_slice(&mut self) -> &mut [u8] {
        self.view.as_mut_slice()
    }
}
