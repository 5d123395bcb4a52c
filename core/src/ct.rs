//! Where a constant-time comparison's result becomes a branch.
//!
//! Secrets are compared with `subtle` (or inside ring, for AEAD tags), so
//! the comparison takes the same time whatever the bytes. Its verdict is
//! public (it decides whether a call fails), and turning it into control
//! flow is the one branch on secret-derived data the code is meant to
//! have. Every such verdict in the core goes through [`verdict`], kept out
//! of line, so that the memcheck taint run (`core/tests/ct_taint.rs`,
//! issue #17) can tell it from an accidental branch: its suppression list
//! (`tests/ct/ct.supp`) names this function and nothing else of ours.

use subtle::Choice;

use crate::error::{Error, Result};

/// `Ok(())` if `choice` is true, else `Err(err)`.
#[inline(never)]
pub(crate) fn verdict(choice: Choice, err: Error) -> Result<()> {
    if bool::from(choice) { Ok(()) } else { Err(err) }
}
