//! `strongroom_buffer`: bytes the library hands out, wiped when freed.

use core::fmt;

use strongroom::SecretBytes;
use zeroize::Zeroize;

use crate::handle::{self, Kind};
use crate::util::boundary_value;

/// Bytes the library hands out: a ciphertext, a plaintext, a key. Read them
/// with `strongroom_buffer_data` and `strongroom_buffer_len`; release them
/// with `strongroom_buffer_free`, which wipes them first.
///
/// Exclusive: the buffer belongs to the caller; it is not changed by the
/// library after it is returned, so reading it from several threads is
/// safe, freeing it while another thread reads it is not.
pub struct strongroom_buffer {
    bytes: Bytes,
}

/// Plaintext and keys come from the core in its wiping container;
/// ciphertexts as plain vectors, wiped here too on free.
enum Bytes {
    Secret(SecretBytes),
    Public(Vec<u8>),
}

impl Drop for Bytes {
    fn drop(&mut self) {
        if let Self::Public(v) = self {
            // In bulk: `Zeroizing<Vec<u8>>` wipes one volatile byte at a
            // time, which cost more than the encryption for large buffers.
            v.as_mut_slice().zeroize();
            v.spare_capacity_mut().zeroize();
        }
    }
}

impl Bytes {
    fn as_slice(&self) -> &[u8] {
        match self {
            Self::Secret(s) => s.expose_secret(),
            Self::Public(v) => v,
        }
    }
}

impl fmt::Debug for strongroom_buffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("strongroom_buffer")
            .field("len", &self.bytes.as_slice().len())
            .finish_non_exhaustive()
    }
}

impl strongroom_buffer {
    /// A new registered buffer holding `bytes`.
    pub(crate) fn secret(bytes: SecretBytes) -> *mut strongroom_buffer {
        handle::register(
            strongroom_buffer {
                bytes: Bytes::Secret(bytes),
            },
            Kind::Buffer,
        )
    }

    /// A new registered buffer that takes `bytes` (wiped when freed).
    pub(crate) fn public(bytes: Vec<u8>) -> *mut strongroom_buffer {
        handle::register(
            strongroom_buffer {
                bytes: Bytes::Public(bytes),
            },
            Kind::Buffer,
        )
    }
}

/// The buffer's bytes (valid until `strongroom_buffer_free`); NULL for a
/// NULL or freed handle, and for an empty buffer no byte may be read.
///
/// # Safety
/// `buffer` is NULL or a handle from this library.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_buffer_data(buffer: *const strongroom_buffer) -> *const u8 {
    boundary_value(core::ptr::null(), || {
        // SAFETY: the handle is checked against the registry first.
        match unsafe { handle::get(buffer, Kind::Buffer) } {
            Ok(b) => b.bytes.as_slice().as_ptr(),
            Err(_) => core::ptr::null(),
        }
    })
}

/// The buffer's length in bytes; 0 for a NULL or freed handle.
///
/// # Safety
/// `buffer` is NULL or a handle from this library.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_buffer_len(buffer: *const strongroom_buffer) -> usize {
    boundary_value(0, || {
        // SAFETY: the handle is checked against the registry first.
        match unsafe { handle::get(buffer, Kind::Buffer) } {
            Ok(b) => b.bytes.as_slice().len(),
            Err(_) => 0,
        }
    })
}

/// Wipes and frees the buffer. NULL, or a buffer freed already, does
/// nothing.
///
/// # Safety
/// No other thread uses `buffer` any more.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_buffer_free(buffer: *mut strongroom_buffer) {
    boundary_value((), || {
        // SAFETY: the handle is checked against the registry; SecretBytes
        // wipes itself on drop.
        unsafe { handle::free(buffer, Kind::Buffer) }
    });
}
