//! Locked memory for key material (`std`, Unix): the one module of the core
//! that may use `unsafe`.
//!
//! Key material ([`crate::KeyMaterial`]) lives in 32-byte slots of pages
//! that this module maps itself, locks into RAM (`mlock`, so they are never
//! swapped) and excludes from core dumps (`madvise(MADV_DONTDUMP)`). Both
//! are best effort: an unprivileged process may be refused by
//! `RLIMIT_MEMLOCK`. Unlike a silent best effort, this module records what
//! took, and [`status`] reports it; a caller that must not run without
//! locked pages calls [`require_locked`] at start-up and refuses to go on.
//!
//! Pages are never unmapped or unlocked: freed slots are wiped and reused.
//! If mapping fails altogether, key material falls back to the heap (still
//! wiped on drop) and [`status`] says so.
//!
//! **`fork()`.** Linux does not carry memory locks into a child. A
//! `pthread_atfork` child handler locks every key page again before
//! `fork()` returns in the child, so no code there can use an inherited key
//! in an unlocked page, and [`status`] reports what the kernel shows (if
//! the child may not lock memory, it says so, and [`require_locked`]
//! fails). This is chosen over `MADV_DONTFORK` and `MADV_WIPEONFORK`: both
//! break a child that goes on using the keyring it inherited (a Python
//! `multiprocessing` worker, a pre-fork server): the first makes it fault
//! on the key pages, the second silently turns every key into zeros. The
//! Argon2 working memory, in contrast, is `MADV_DONTFORK` while in use: it
//! belongs to the one thread running Argon2, which a child does not have.
//! (`posix_spawn` and `vfork`, which `std::process::Command` uses, run no
//! fork handlers; they exec at once.)

#![allow(unsafe_code)]

use alloc::vec::Vec;
use core::cell::UnsafeCell;
use core::ptr::NonNull;

use zeroize::Zeroize;

use crate::error::{Error, Result};

/// Bytes in one slot: one key (`crate::KEY_LEN`, which `secret.rs` checks
/// against this at compile time).
pub(crate) const SLOT_LEN: usize = 32;
const KEY_LEN: usize = SLOT_LEN;

/// What protection the key pages have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct MemoryProtection {
    /// Pages mapped for key material so far.
    pub pages: usize,
    /// Every such page is locked in RAM (and there is at least one).
    pub locked: bool,
    /// Every such page is excluded from core dumps (and there is at least one).
    pub excluded_from_core_dumps: bool,
    /// Key material that had to live on the ordinary heap (mapping failed).
    pub heap_fallbacks: usize,
}

struct Page {
    base: NonNull<u8>,
    free: Vec<u16>,
}

struct Pool {
    pages: Vec<Page>,
    page_size: usize,
    all_locked: bool,
    all_dont_dump: bool,
    heap_fallbacks: usize,
    /// The process the locks were taken in (0: none yet). Memory locks do
    /// not survive `fork()`: the child handler re-locks the pages (and, for
    /// a fork that bypassed the handlers, the first pool call does), so
    /// what `status` reports is true there too.
    pid: u32,
}

/// The pool behind a raw `pthread_mutex_t`, not a `std::sync::Mutex`: the
/// `fork()` handlers below take it before a fork and release it on both
/// sides, which a scoped guard cannot do. So a child never inherits the
/// pool half-changed or locked by a thread that does not exist there.
struct PoolCell {
    mutex: UnsafeCell<libc::pthread_mutex_t>,
    pool: UnsafeCell<Pool>,
}

// SAFETY: `pool` is only reached through `lock_pool` (or the fork handlers,
// which hold `mutex`), so one thread at a time touches it; the pool stores
// only addresses of pages it mapped itself.
unsafe impl Sync for PoolCell {}

static POOL: PoolCell = PoolCell {
    mutex: UnsafeCell::new(libc::PTHREAD_MUTEX_INITIALIZER),
    pool: UnsafeCell::new(Pool {
        pages: Vec::new(),
        page_size: 0,
        all_locked: true,
        all_dont_dump: true,
        heap_fallbacks: 0,
        pid: 0,
    }),
};

/// Exclusive access to the pool until dropped.
struct PoolGuard(());

impl core::ops::Deref for PoolGuard {
    type Target = Pool;
    fn deref(&self) -> &Pool {
        // SAFETY: this guard holds the pool's mutex (see `lock_pool`).
        unsafe { &*POOL.pool.get() }
    }
}

impl core::ops::DerefMut for PoolGuard {
    fn deref_mut(&mut self) -> &mut Pool {
        // SAFETY: as in `deref`; `&mut self` makes the borrow unique.
        unsafe { &mut *POOL.pool.get() }
    }
}

impl Drop for PoolGuard {
    fn drop(&mut self) {
        // SAFETY: this thread locked the mutex in `lock_pool`.
        unsafe { libc::pthread_mutex_unlock(POOL.mutex.get()) };
    }
}

/// Moved on in every child after `fork()` (by the `pthread_atfork` child
/// handler): what [`crate::fast_rng`] compares to know it must reseed.
static FORK_EPOCH: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

/// The number of `fork()`s between the first process that loaded this
/// library and this one (0 there). Registers the fork handlers first, so a
/// caller that reads it before a fork sees it change after.
pub(crate) fn fork_epoch() -> u64 {
    register_fork_handlers();
    FORK_EPOCH.load(core::sync::atomic::Ordering::Acquire)
}

fn register_fork_handlers() {
    static HANDLERS: std::sync::Once = std::sync::Once::new();
    HANDLERS.call_once(|| {
        // SAFETY: three `extern "C"` functions without arguments that only
        // lock, unlock, mlock and add to an atomic (async-signal-safe
        // work); registered once.
        unsafe {
            libc::pthread_atfork(
                Some(before_fork),
                Some(after_fork_parent),
                Some(after_fork_child),
            )
        };
    });
}

fn lock_pool() -> PoolGuard {
    register_fork_handlers();
    // SAFETY: a statically initialised mutex; the guard unlocks it.
    unsafe { libc::pthread_mutex_lock(POOL.mutex.get()) };
    PoolGuard(())
}

/// Before `fork()`: hold the pool so the child gets it whole.
extern "C" fn before_fork() {
    // SAFETY: a statically initialised mutex, unlocked again by one of the
    // two handlers below, on each side of the fork.
    unsafe { libc::pthread_mutex_lock(POOL.mutex.get()) };
}

extern "C" fn after_fork_parent() {
    // SAFETY: locked by `before_fork` in this thread.
    unsafe { libc::pthread_mutex_unlock(POOL.mutex.get()) };
}

/// In the child, before `fork()` returns there: Linux does not carry memory
/// locks into a child, so lock every key page again now, before any code of
/// the child can use an inherited key, and record whether that took.
extern "C" fn after_fork_child() {
    // First, so that no generator in the child serves its parent's stream.
    FORK_EPOCH.fetch_add(1, core::sync::atomic::Ordering::AcqRel);
    // SAFETY: `before_fork` locked the mutex in the thread that forked,
    // which is the child's only thread, so the pool is ours alone.
    let pool = unsafe { &mut *POOL.pool.get() };
    pool.follow_fork();
    // SAFETY: as above.
    unsafe { libc::pthread_mutex_unlock(POOL.mutex.get()) };
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size)
        .ok()
        .filter(|s| *s >= KEY_LEN)
        .unwrap_or(4096)
}

impl Pool {
    /// In a child after `fork()` (the pid changed), locks every page again
    /// and records whether that took; MADV_DONTDUMP is inherited as is.
    fn follow_fork(&mut self) {
        let now = std::process::id();
        if self.pid == now {
            return;
        }
        if self.pid != 0 {
            let mut locked = true;
            for page in &self.pages {
                // SAFETY: a page this pool mapped, never unmapped, and
                // inherited by this child with the rest of the address space.
                locked &= unsafe { libc::mlock(page.base.as_ptr().cast(), self.page_size) } == 0;
            }
            self.all_locked = locked;
        }
        self.pid = now;
    }

    /// What protection the pages have.
    fn report(&self) -> MemoryProtection {
        let any = !self.pages.is_empty();
        MemoryProtection {
            pages: self.pages.len(),
            locked: any && self.all_locked,
            excluded_from_core_dumps: any && self.all_dont_dump,
            heap_fallbacks: self.heap_fallbacks,
        }
    }

    /// Maps, locks and marks one more page; `None` if mapping fails.
    fn grow(&mut self) -> Option<usize> {
        if self.pid == 0 {
            self.pid = std::process::id();
        }
        if self.page_size == 0 {
            self.page_size = page_size();
        }
        let len = self.page_size;
        // SAFETY: an anonymous private mapping with no address hint touches
        // no existing memory; the result is checked against MAP_FAILED.
        let base = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return None;
        }
        let base = NonNull::new(base.cast::<u8>())?;
        // SAFETY: [base, base + len) is the mapping just created.
        let locked = unsafe { libc::mlock(base.as_ptr().cast(), len) } == 0;
        // SAFETY: as above; MADV_DONTDUMP only changes core-dump behaviour.
        let dont_dump =
            unsafe { libc::madvise(base.as_ptr().cast(), len, libc::MADV_DONTDUMP) } == 0;
        self.all_locked &= locked;
        self.all_dont_dump &= dont_dump;
        let slots = u16::try_from(len / KEY_LEN).unwrap_or(u16::MAX);
        self.pages.push(Page {
            base,
            free: (0..slots).rev().collect(),
        });
        Some(self.pages.len() - 1)
    }

    fn take(&mut self) -> Option<(usize, u16, NonNull<[u8; KEY_LEN]>)> {
        self.follow_fork();
        let page = match self.pages.iter().position(|p| !p.free.is_empty()) {
            Some(p) => p,
            None => self.grow()?,
        };
        let entry = &mut self.pages[page];
        let index = entry.free.pop()?;
        // SAFETY: index < page_size / KEY_LEN, so the slot lies inside the
        // page; pages are never unmapped.
        let ptr = unsafe { entry.base.as_ptr().add(usize::from(index) * KEY_LEN) };
        Some((page, index, NonNull::new(ptr.cast::<[u8; KEY_LEN]>())?))
    }
}

/// One 32-byte slot in a locked page, owned exclusively; wiped and returned
/// to the pool on drop.
pub(crate) struct LockedSlot {
    ptr: NonNull<[u8; KEY_LEN]>,
    page: usize,
    index: u16,
}

// SAFETY: the slot is exclusively owned (like a Box), so moving it to or
// sharing `&` with another thread is as safe as for `Box<[u8; 32]>`.
unsafe impl Send for LockedSlot {}
// SAFETY: as above; `&LockedSlot` only gives out `&[u8; 32]`.
unsafe impl Sync for LockedSlot {}

impl LockedSlot {
    /// A zeroed slot, or `None` if no page could be mapped (the caller
    /// falls back to the heap and the fallback is counted).
    pub(crate) fn new() -> Option<Self> {
        let mut pool = lock_pool();
        match pool.take() {
            Some((page, index, ptr)) => Some(Self { ptr, page, index }),
            None => {
                pool.heap_fallbacks += 1;
                None
            }
        }
    }

    pub(crate) fn get(&self) -> &[u8; KEY_LEN] {
        // SAFETY: the slot is inside a live mapping, aligned for u8, owned
        // by self, and zero-initialised (fresh mapping or wiped on release).
        unsafe { self.ptr.as_ref() }
    }

    pub(crate) fn get_mut(&mut self) -> &mut [u8; KEY_LEN] {
        // SAFETY: as in `get`; `&mut self` guarantees exclusive access.
        unsafe { self.ptr.as_mut() }
    }
}

impl Drop for LockedSlot {
    fn drop(&mut self) {
        self.get_mut().zeroize();
        let mut pool = lock_pool();
        if let Some(page) = pool.pages.get_mut(self.page) {
            page.free.push(self.index);
        }
    }
}

/// A region locked in RAM and excluded from core dumps, best effort, for as
/// long as the guard lives (the Argon2 working memory). The caller wipes
/// the region before it drops the guard and frees the memory.
pub(crate) struct RegionGuard {
    addr: usize,
    len: usize,
    locked: bool,
    /// The whole pages inside the region, marked no-dump.
    pages: Option<(usize, usize)>,
}

/// The whole pages inside `addr .. addr + len` (madvise needs page-aligned
/// bounds), if there is at least one.
fn whole_pages(addr: usize, len: usize) -> Option<(usize, usize)> {
    // SAFETY: sysconf has no memory effects.
    let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096);
    let start = addr.div_ceil(page) * page;
    let end = addr.saturating_add(len) / page * page;
    (end > start).then_some((start, end - start))
}

/// Locks `len` bytes at `ptr` (`mlock`) and marks the whole pages inside
/// them no-dump (`madvise(MADV_DONTDUMP)`); either may be refused (for
/// example by `RLIMIT_MEMLOCK`), which leaves the region as it was.
/// `ptr .. ptr + len` must stay allocated until the guard is dropped.
pub(crate) fn protect_region(ptr: *const u8, len: usize) -> RegionGuard {
    let addr = ptr as usize;
    // SAFETY: mlock only changes the residency of pages the caller keeps
    // allocated for the guard's life; a refusal is remembered, not fatal.
    let locked = len > 0 && unsafe { libc::mlock(ptr.cast(), len) } == 0;
    let pages = whole_pages(addr, len).filter(|&(start, n)| {
        // A child forked meanwhile (by another thread) gets no copy of
        // these pages: the thread using them does not exist there.
        // SAFETY: whole pages inside the caller's region, which only the
        // caller's thread uses while the guard lives; MADV_DONTFORK changes
        // only what a child inherits.
        let _ = unsafe { libc::madvise(start as *mut libc::c_void, n, libc::MADV_DONTFORK) };
        // SAFETY: as above; MADV_DONTDUMP changes only whether they appear
        // in a core dump.
        unsafe { libc::madvise(start as *mut libc::c_void, n, libc::MADV_DONTDUMP) == 0 }
    });
    RegionGuard {
        addr,
        len,
        locked,
        pages,
    }
}

impl Drop for RegionGuard {
    fn drop(&mut self) {
        if self.locked {
            // SAFETY: the region that was locked, still allocated (the
            // caller frees it after this guard).
            let _ = unsafe { libc::munlock(self.addr as *const libc::c_void, self.len) };
        }
        if let Some((start, n)) = self.pages {
            // The pages return to the allocator, wiped: dumpable again.
            // SAFETY: the same whole pages that were marked no-dump.
            let _ = unsafe { libc::madvise(start as *mut libc::c_void, n, libc::MADV_DODUMP) };
        }
        if let Some((start, n)) = whole_pages(self.addr, self.len) {
            // And inherited by children again.
            // SAFETY: the whole pages that were marked MADV_DONTFORK.
            let _ = unsafe { libc::madvise(start as *mut libc::c_void, n, libc::MADV_DOFORK) };
        }
    }
}

/// This process's effective user id (for the owner check of secret files).
pub(crate) fn effective_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// What protection key material has had so far.
///
/// In a child after `fork()`, where Linux drops memory locks, the pages
/// were locked again as the child started (see the module documentation),
/// and the report says whether that took.
pub fn status() -> MemoryProtection {
    let mut pool = lock_pool();
    pool.follow_fork();
    pool.report()
}

/// Maps the first key page now if needed, and fails unless every key page
/// is locked and excluded from core dumps. Call it at start-up to refuse to
/// run without locked memory.
///
/// # Errors
/// [`Error::MemoryNotLocked`] with what did not take.
pub fn require_locked() -> Result<MemoryProtection> {
    {
        let mut pool = lock_pool();
        pool.follow_fork();
        if pool.pages.is_empty() {
            pool.grow();
        }
    }
    let s = status();
    if s.locked && s.excluded_from_core_dumps && s.heap_fallbacks == 0 {
        Ok(s)
    } else {
        Err(Error::MemoryNotLocked {
            locked: s.locked,
            excluded_from_core_dumps: s.excluded_from_core_dumps,
        })
    }
}

/// The status and the start addresses of the key pages, read under one
/// lock (for the tests that check the report against /proc/self/smaps).
#[cfg(test)]
fn status_and_pages() -> (MemoryProtection, Vec<usize>) {
    let mut pool = lock_pool();
    pool.follow_fork();
    let status = pool.report();
    let pages = pool
        .pages
        .iter()
        .map(|p| p.base.as_ptr() as usize)
        .collect();
    (status, pages)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::KeyMaterial;

    /// Counts canary occurrences across every key page.
    fn canary_hits(canary: &[u8; KEY_LEN]) -> usize {
        let pool = lock_pool();
        let mut hits = 0;
        for page in &pool.pages {
            let mut bytes = Vec::with_capacity(pool.page_size);
            for i in 0..pool.page_size {
                // SAFETY: the page is a live mapping of `page_size` readable
                // bytes that is never unmapped. Other test threads may be
                // writing *other* slots of it meanwhile; volatile byte reads
                // may then see stale values there, which only those slots'
                // comparison would notice, never the canary's own.
                bytes.push(unsafe { core::ptr::read_volatile(page.base.as_ptr().add(i)) });
            }
            hits += bytes.chunks_exact(KEY_LEN).filter(|c| *c == canary).count();
        }
        hits
    }

    #[test]
    fn keys_live_in_key_pages_and_released_slots_are_wiped() {
        let canary = *b"LOCKED-SLOT-CANARY-0123456789abc";
        let key = KeyMaterial::from_slice(&canary).unwrap();
        assert_eq!(canary_hits(&canary), 1, "the key is not in a key page");
        assert!(status().pages >= 1);
        drop(key);
        assert_eq!(canary_hits(&canary), 0, "a released slot kept its key");
    }
}

#[cfg(test)]
mod kernel_tests;

/// A value of a dependency's type that holds key material but does not
/// wipe itself (ring's AEAD key schedule): kept in place, handed out by
/// reference, and overwritten with zeros when dropped. For types without
/// drop glue and without heap parts only (so that zeroing the bytes in
/// place is all the cleaning there is); [`Wiped::new`] checks the first at
/// compile time.
#[cfg(feature = "fast-aead")]
pub(crate) struct Wiped<T> {
    value: core::mem::MaybeUninit<T>,
}

#[cfg(feature = "fast-aead")]
impl<T> Wiped<T> {
    /// Takes `value` (moved in: the caller's copy is a temporary the
    /// compiler may leave on the stack, as with any move).
    pub(crate) fn new(value: T) -> Self {
        const {
            assert!(
                !core::mem::needs_drop::<T>(),
                "Wiped is for plain values without drop glue"
            );
        }
        Self {
            value: core::mem::MaybeUninit::new(value),
        }
    }

    pub(crate) fn get(&self) -> &T {
        // SAFETY: `value` is initialised in `new` and stays initialised
        // until `drop`, which is the only place that overwrites it.
        unsafe { self.value.assume_init_ref() }
    }
}

#[cfg(feature = "fast-aead")]
impl<T> Drop for Wiped<T> {
    fn drop(&mut self) {
        // `zeroize`'s `[MaybeUninit<_>]` impl fills the bytes in bulk
        // behind an optimisation barrier (one volatile byte at a time cost
        // about 170 ns per record seal here: the key schedule is 500-odd
        // bytes). `T` has no drop glue (checked in `new`), so nothing is
        // skipped by not dropping it, and the zeroed bytes are never read
        // as a `T` again (the storage is a `MaybeUninit`).
        core::slice::from_mut(&mut self.value).zeroize();
    }
}
