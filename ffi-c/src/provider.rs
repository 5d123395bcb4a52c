//! External roots of trust from C: a KMS or HSM plugged in as wrap and
//! unwrap callbacks (the core's `KeyProvider`, root kind 4, FORMAT.md
//! 10.3).

use alloc::format;
use alloc::sync::Arc;
use core::ffi::c_void;

use strongroom::root::{KeyProvider, RootKind};
use strongroom::{Error, KeyMaterial};

use crate::keyring::{open_or_create, path, publish, strongroom_keyring};
use crate::result::strongroom_result;
use crate::util::{boundary, input, out_ptr};

/// Wraps the keyring file's 32-byte sealing key: writes the wrapped bytes
/// (at most `out_cap`, which is 1024) to `out` and their length to
/// `*out_len`, bound to `aad` (the file header, FORMAT.md 10.2: unwrap must
/// fail if it differs). `nonce` is 24 fresh random bytes the provider may
/// use. Returns `STRONGROOM_RESULT_OK`, or any other result to refuse (the
/// library then reports `KEY_PROVIDER`).
pub type strongroom_wrap_callback = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        params: *const u8,
        params_len: usize,
        key: *const u8,
        key_len: usize,
        aad: *const u8,
        aad_len: usize,
        nonce: *const u8,
        out: *mut u8,
        out_cap: usize,
        out_len: *mut usize,
    ) -> strongroom_result,
>;

/// Unwraps what the wrap callback made: writes the 32-byte sealing key to
/// `out_key` (32 writable bytes). Returns `STRONGROOM_RESULT_OK`;
/// `STRONGROOM_RESULT_AUTHENTICATION_FAILED` for a wrong key or altered
/// `wrapped` or `aad`; any other result for other failures (reported as
/// `KEY_PROVIDER`).
pub type strongroom_unwrap_callback = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        params: *const u8,
        params_len: usize,
        wrapped: *const u8,
        wrapped_len: usize,
        aad: *const u8,
        aad_len: usize,
        out_key: *mut u8,
    ) -> strongroom_result,
>;

/// An external key provider: two callbacks and their `user_data`.
///
/// The callbacks run on whichever thread opens or saves the keyring file
/// (any thread that changes a file-backed keyring), so they and
/// `user_data` must be safe to call from several threads, and must stay
/// valid until the keyring is freed. They must not unwind (no C++
/// exceptions through them).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct strongroom_key_provider {
    /// Passed to both callbacks as is.
    pub user_data: *mut c_void,
    /// Public bytes kept in the keyring file's header (at most 1024; for
    /// example the KMS key's id), given back to the callbacks; copied.
    pub params: *const u8,
    /// The length of `params`.
    pub params_len: usize,
    /// Wraps the sealing key.
    pub wrap: strongroom_wrap_callback,
    /// Unwraps it.
    pub unwrap: strongroom_unwrap_callback,
}

/// The provider the core calls.
struct CallbackProvider {
    user_data: usize,
    params: Vec<u8>,
    wrap: unsafe extern "C" fn(
        *mut c_void,
        *const u8,
        usize,
        *const u8,
        usize,
        *const u8,
        usize,
        *const u8,
        *mut u8,
        usize,
        *mut usize,
    ) -> strongroom_result,
    unwrap: unsafe extern "C" fn(
        *mut c_void,
        *const u8,
        usize,
        *const u8,
        usize,
        *const u8,
        usize,
        *mut u8,
    ) -> strongroom_result,
}

fn refused(what: &str, r: strongroom_result) -> Error {
    Error::KeyProvider {
        message: format!(
            "the external key provider's {what} callback returned {}",
            r.name()
        ),
    }
}

impl KeyProvider for CallbackProvider {
    fn root_kind(&self) -> RootKind {
        RootKind::External
    }

    fn new_params(&self, _random: &[u8; 16]) -> strongroom::Result<Vec<u8>> {
        Ok(self.params.clone())
    }

    fn wrap(
        &self,
        params: &[u8],
        key: &KeyMaterial,
        aad: &[u8],
        nonce: &[u8; 24],
    ) -> strongroom::Result<Vec<u8>> {
        let mut out = vec![0u8; 1024];
        let mut len = 0usize;
        let k = key.expose_secret();
        // SAFETY: the registration's contract: a callback that reads the
        // given lengths and writes at most `out_cap` bytes and `*out_len`.
        let r = unsafe {
            (self.wrap)(
                self.user_data as *mut c_void,
                params.as_ptr(),
                params.len(),
                k.as_ptr(),
                k.len(),
                aad.as_ptr(),
                aad.len(),
                nonce.as_ptr(),
                out.as_mut_ptr(),
                out.len(),
                &mut len,
            )
        };
        if r != strongroom_result::Ok {
            return Err(refused("wrap", r));
        }
        if len == 0 || len > out.len() {
            return Err(Error::KeyProvider {
                message: "the external key provider's wrap callback gave a bad length".into(),
            });
        }
        out.truncate(len);
        Ok(out)
    }

    fn unwrap(&self, params: &[u8], wrapped: &[u8], aad: &[u8]) -> strongroom::Result<KeyMaterial> {
        let mut key = zeroize::Zeroizing::new([0u8; 32]);
        // SAFETY: as in `wrap`; the callback writes 32 bytes to `out_key`.
        let r = unsafe {
            (self.unwrap)(
                self.user_data as *mut c_void,
                params.as_ptr(),
                params.len(),
                wrapped.as_ptr(),
                wrapped.len(),
                aad.as_ptr(),
                aad.len(),
                key.as_mut_ptr(),
            )
        };
        match r {
            strongroom_result::Ok => KeyMaterial::from_slice(&key[..]),
            strongroom_result::AuthenticationFailed => Err(Error::AuthenticationFailed),
            other => Err(refused("unwrap", other)),
        }
    }
}

/// The core's provider for a C description of one.
///
/// # Safety
/// `provider` is NULL or readable; its params point to `params_len` bytes.
unsafe fn provider_of(
    provider: *const strongroom_key_provider,
) -> Result<Arc<dyn KeyProvider>, strongroom_result> {
    if provider.is_null() {
        return Err(strongroom_result::NullPointer);
    }
    // SAFETY: non-NULL and readable by the caller's contract.
    let p = unsafe { &*provider };
    let (Some(wrap), Some(unwrap)) = (p.wrap, p.unwrap) else {
        return Err(strongroom_result::NullPointer);
    };
    // SAFETY: `params_len` readable bytes by the caller's contract.
    let params = unsafe { input(p.params, p.params_len) }?;
    if params.len() > 1024 {
        return Err(strongroom_result::TooLarge);
    }
    Ok(Arc::new(CallbackProvider {
        user_data: p.user_data as usize,
        params: params.to_vec(),
        wrap,
        unwrap,
    }))
}

/// Opens the keyring file at `path`, sealed by the external `provider`
/// (whose callbacks are kept and called for every later save).
///
/// Returns `OK`; `KEY_PROVIDER` when a callback refuses;
/// `AUTHENTICATION_FAILED`; `INVALID_ARGUMENT` for a file sealed by another
/// kind of root; `NOT_FOUND`; `IO`; `MALFORMED`; `ROLLBACK`; `TOO_LARGE`
/// for params over 1024 bytes; `NULL_POINTER` (also for a NULL callback).
///
/// # Safety
/// `path` points to `path_len` readable bytes; `provider` to a readable
/// description whose callbacks and `user_data` outlive the keyring; `out`
/// is writable.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_keyring_open_provider(
    path: *const u8,
    path_len: usize,
    provider: *const strongroom_key_provider,
    out: *mut *mut strongroom_keyring,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out)?;
        // SAFETY: the caller's contracts.
        let (p, root) = unsafe { (self::path(path, path_len)?, provider_of(provider)?) };
        publish(out, open_or_create(p, root, false)?);
        Ok(())
    })
}

/// Creates a new, empty keyring file at `path` sealed by the external
/// `provider`, and opens it. Never replaces an existing file.
///
/// Returns as `strongroom_keyring_open_provider`, plus `ALREADY_EXISTS`.
///
/// # Safety
/// As `strongroom_keyring_open_provider`.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_keyring_create_provider(
    path: *const u8,
    path_len: usize,
    provider: *const strongroom_key_provider,
    out: *mut *mut strongroom_keyring,
) -> strongroom_result {
    boundary(|| {
        out_ptr(out)?;
        // SAFETY: the caller's contracts.
        let (p, root) = unsafe { (self::path(path, path_len)?, provider_of(provider)?) };
        publish(out, open_or_create(p, root, true)?);
        Ok(())
    })
}
