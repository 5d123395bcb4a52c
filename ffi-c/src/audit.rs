//! Audit events to a C callback (`docs/AUDIT.md`): no secrets, only public
//! facts (what, which key and version, the outcome).

use alloc::ffi::CString;
use alloc::sync::Arc;
use core::ffi::{c_char, c_void};
use std::sync::OnceLock;

use strongroom::audit::{AuditAction, AuditContext, AuditEvent, AuditObject, AuditSink};

use crate::keyring::{keyring, strongroom_keyring};
use crate::result::strongroom_result;
use crate::util::boundary;

/// One audit event, valid only during the callback (copy what you keep).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct strongroom_audit_event {
    /// When, in Unix seconds.
    pub time_unix_seconds: u64,
    /// The action's stable number (`docs/AUDIT.md`: 1 key_created, ...).
    pub action: u8,
    /// Its name, NUL-terminated, static (`"key_rotated"`).
    pub action_name: *const c_char,
    /// The object's stable number (1 key, 2 record, 3 envelope, 4 data key,
    /// 5 keyring).
    pub object: u8,
    /// Its name, NUL-terminated, static.
    pub object_name: *const c_char,
    /// The key's name (not NUL-terminated; NULL when not known).
    pub key_name: *const u8,
    /// The name's length.
    pub key_name_len: usize,
    /// The key's id; 0 when not known.
    pub key_id: u32,
    /// The version involved; 0 when not known.
    pub version: u32,
    /// `STRONGROOM_RESULT_OK`, or the failure's result code.
    pub result: u32,
}

/// Receives each audit event. Called on the thread that did the operation,
/// possibly from several threads at once: it must be thread-safe, must not
/// block for long, must not unwind, and must not call strongroom functions
/// on the same keyring (a key change holds the keyring's writer lock while
/// its events are delivered).
pub type strongroom_audit_callback =
    Option<unsafe extern "C" fn(event: *const strongroom_audit_event, user_data: *mut c_void)>;

fn static_names(names: &[(u8, &'static str)]) -> Vec<(u8, CString)> {
    names
        .iter()
        .filter_map(|(c, n)| CString::new(*n).ok().map(|s| (*c, s)))
        .collect()
}

fn action_name(a: AuditAction) -> *const c_char {
    static NAMES: OnceLock<Vec<(u8, CString)>> = OnceLock::new();
    let names = NAMES.get_or_init(|| {
        let all: Vec<(u8, &'static str)> = AuditAction::ALL
            .iter()
            .map(|a| (a.code(), a.name()))
            .collect();
        static_names(&all)
    });
    names
        .iter()
        .find(|(c, _)| *c == a.code())
        .map_or(c"unknown".as_ptr(), |(_, n)| n.as_ptr())
}

fn object_name(o: AuditObject) -> *const c_char {
    static NAMES: OnceLock<Vec<(u8, CString)>> = OnceLock::new();
    let names = NAMES.get_or_init(|| {
        let all: Vec<(u8, &'static str)> = AuditObject::ALL
            .iter()
            .map(|o| (o.code(), o.name()))
            .collect();
        static_names(&all)
    });
    names
        .iter()
        .find(|(c, _)| *c == o.code())
        .map_or(c"unknown".as_ptr(), |(_, n)| n.as_ptr())
}

/// The sink that forwards to C.
struct CallbackSink {
    callback: unsafe extern "C" fn(*const strongroom_audit_event, *mut c_void),
    user_data: usize,
}

impl AuditSink for CallbackSink {
    fn record(&self, e: &AuditEvent<'_>) {
        let (key_name, key_name_len) = e
            .key_name
            .map_or((core::ptr::null(), 0), |n| (n.as_ptr(), n.len()));
        let event = strongroom_audit_event {
            time_unix_seconds: e.time.as_unix_seconds(),
            action: e.action.code(),
            action_name: action_name(e.action),
            object: e.object.code(),
            object_name: object_name(e.object),
            key_name,
            key_name_len,
            key_id: e.key_id.map_or(0, |k| k.as_u32()),
            version: e.version.unwrap_or(0),
            result: e
                .error
                .map_or(0, |k| strongroom_result::from_kind(k) as u32),
        };
        // SAFETY: the registration's contract: a callback that reads the
        // event during the call only.
        unsafe { (self.callback)(&event, self.user_data as *mut c_void) };
    }
}

/// Sends the keyring's audit events to `callback` from now on (with
/// `user_data`, passed as is): every encrypt, decrypt, key change, keyring
/// file open, ... (`docs/AUDIT.md`), with the system clock. A file-backed
/// keyring keeps sending them across reloads. Streams opened before keep
/// what they had. Replaces an earlier callback.
///
/// Returns `OK`; `NULL_POINTER` (also for a NULL callback);
/// `INVALID_HANDLE`.
///
/// # Safety
/// `keyring` is a live handle; `callback` and `user_data` stay valid, and
/// safe to call from any thread, until the keyring and every stream made
/// from it are freed.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn strongroom_keyring_set_audit(
    keyring: *const strongroom_keyring,
    callback: strongroom_audit_callback,
    user_data: *mut c_void,
) -> strongroom_result {
    boundary(|| {
        // SAFETY: checked against the registry.
        let k = unsafe { self::keyring(keyring) }?;
        let callback = callback.ok_or(strongroom_result::NullPointer)?;
        let sink = Arc::new(CallbackSink {
            callback,
            user_data: user_data as usize,
        });
        k.set_audit(AuditContext::with_system_clock(sink))?;
        Ok(())
    })
}
