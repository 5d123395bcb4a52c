//! See Cargo.toml: this crate exists to fail to build if std creeps in.
#![no_std]

extern crate alloc;

use core::alloc::{GlobalAlloc, Layout};
use core::panic::PanicInfo;

use strongroom::{EncryptionContext, Keyring, Timestamp, record::record_len};

/// A stand-in allocator: the probe is linked, never run.
struct NoAlloc;

// SAFETY: returning null is the documented way for an allocator to report
// failure, and `dealloc` is never handed a pointer this allocator produced
// (it produces none).
unsafe impl GlobalAlloc for NoAlloc {
    unsafe fn alloc(&self, _layout: Layout) -> *mut u8 {
        core::ptr::null_mut()
    }

    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}
}

#[global_allocator]
static ALLOCATOR: NoAlloc = NoAlloc;

#[panic_handler]
fn panic(_info: &PanicInfo<'_>) -> ! {
    loop {}
}

/// Touches the public API so the core's code is really linked in.
#[unsafe(no_mangle)]
pub extern "C" fn strongroom_no_std_probe(len: usize) -> usize {
    let keyring = Keyring::new();
    let ctx = EncryptionContext::new();
    let due = keyring.keys_due_for_rotation(Timestamp::from_unix_seconds(0));
    let record = keyring.decrypt_record(&[1u8; 64], &ctx).map(|p| p.len());
    record_len(len) + ctx.encoded_len() + due.len() + record.unwrap_or(0)
}
