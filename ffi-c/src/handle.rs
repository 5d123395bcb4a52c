//! The registry of live handles: every handle this library hands out is
//! recorded with its kind until it is freed, so that a freed handle, a
//! double free or a handle of the wrong kind is detected (`invalid_handle`)
//! instead of touching memory that is gone.

use alloc::collections::{BTreeMap, VecDeque};
use core::alloc::Layout;
use std::sync::{Mutex, PoisonError, RwLock};

use crate::result::strongroom_result;

/// The kinds of handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    BlindIndex,
    Buffer,
    Context,
    Decryptor,
    Encryptor,
    Keyring,
    Reader,
}

/// A B-tree rather than a hash map: no random state to seed, and node
/// pointers valgrind can follow (hashbrown points into the middle of its
/// table, which memcheck reports as "possibly lost").
fn registry() -> &'static RwLock<BTreeMap<usize, Kind>> {
    static LIVE: RwLock<BTreeMap<usize, Kind>> = RwLock::new(BTreeMap::new());
    &LIVE
}

/// Moves `value` to the heap and registers it; the handle for C.
pub(crate) fn register<T>(value: T, kind: Kind) -> *mut T {
    let ptr = Box::into_raw(Box::new(value));
    registry()
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(ptr as usize, kind);
    ptr
}

/// Checks that `ptr` is a live handle of `kind`.
pub(crate) fn check<T>(ptr: *const T, kind: Kind) -> Result<(), strongroom_result> {
    if ptr.is_null() {
        return Err(strongroom_result::NullPointer);
    }
    let live = registry()
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&(ptr as usize))
        .copied();
    match live {
        Some(k) if k == kind => Ok(()),
        _ => Err(strongroom_result::InvalidHandle),
    }
}

/// The value behind a live handle of `kind`.
///
/// # Safety
/// A registered handle of `kind` points to a live `T` (registered by
/// [`register`] with that kind); the caller must not free it while the
/// reference is in use (the header's ownership rules).
pub(crate) unsafe fn get<'a, T>(ptr: *const T, kind: Kind) -> Result<&'a T, strongroom_result> {
    check(ptr, kind)?;
    // SAFETY: registered, so it came from `Box::into_raw` of a `T` and is
    // not freed yet (see the function's contract).
    Ok(unsafe { &*ptr })
}

/// As [`get`], exclusively.
///
/// # Safety
/// As [`get`], and no other reference to it is in use (an exclusive
/// handle, used by one thread at a time).
pub(crate) unsafe fn get_mut<'a, T>(
    ptr: *mut T,
    kind: Kind,
) -> Result<&'a mut T, strongroom_result> {
    check(ptr, kind)?;
    // SAFETY: as in `get`, and exclusive by the caller's contract.
    Ok(unsafe { &mut *ptr })
}

/// How many freed handles keep their memory (their contents are dropped at
/// once): until then no new handle can get the same address, so a freed
/// handle is recognised as freed, not mistaken for a new one.
const QUARANTINE_LEN: usize = 4096;

/// Addresses and layouts of freed handles' memory, oldest first.
static QUARANTINE: Mutex<VecDeque<(usize, Layout)>> = Mutex::new(VecDeque::new());

/// Unregisters the handle and drops its contents; NULL or a pointer that is
/// not a live handle of `kind` (a double free) does nothing. The memory
/// itself is released only after [`QUARANTINE_LEN`] later frees.
///
/// # Safety
/// No other thread uses the handle any more.
pub(crate) unsafe fn free<T>(ptr: *mut T, kind: Kind) {
    if ptr.is_null() {
        return;
    }
    let removed = {
        let mut live = registry().write().unwrap_or_else(PoisonError::into_inner);
        match live.get(&(ptr as usize)) {
            Some(k) if *k == kind => live.remove(&(ptr as usize)).is_some(),
            _ => false,
        }
    };
    if !removed {
        return;
    }
    // SAFETY: it was registered, so it is a `Box<T>` allocation holding a
    // live `T`; it is unregistered now, so this is its only drop. The
    // memory stays allocated (quarantined) and is never read again.
    unsafe { core::ptr::drop_in_place(ptr) };
    let expired = {
        let mut q = QUARANTINE.lock().unwrap_or_else(PoisonError::into_inner);
        q.push_back((ptr as usize, Layout::new::<T>()));
        if q.len() > QUARANTINE_LEN {
            q.pop_front()
        } else {
            None
        }
    };
    if let Some((addr, layout)) = expired {
        // SAFETY: a `Box` allocation of this layout whose contents were
        // dropped when it entered the quarantine; released once.
        unsafe { alloc::alloc::dealloc(addr as *mut u8, layout) };
    }
}

/// The number of live handles (for the leak checks of the tests).
#[cfg(feature = "test-hooks")]
pub(crate) fn live_count() -> usize {
    registry()
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .len()
}
