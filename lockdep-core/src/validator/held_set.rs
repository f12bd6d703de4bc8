//! The held set as the rest of the crate asks about it: queries (`is_held`, `held_locks`,
//! `held_count`, deadlock detection's copy), raw entries, and hand-offs of a held lock to
//! another thread.
//!
//! At the top of the validator: a query first brings the stack in line with the tokio task
//! running now (`switch.rs`) and claims releases made elsewhere (`seam.rs`), and taking a
//! handed-off entry over is an acquisition's push (`acquire.rs`).

use super::acquisition::Acquisition;
use super::seam::claim_orphans;
use super::thread::{with_thread, Snapshot};
use super::{acquire, switch};
use crate::held::HeldLock;

/// The entry just pushed for `addr` was taken through the raw API as a read: it may be a token
/// that another thread releases (see [`HeldLock::RAW`]). Marked after the push, so that the
/// validated path of every other acquisition carries nothing for it.
pub(crate) fn mark_raw(addr: usize) {
    with_thread(|t| {
        if let Some(index) = t.held.find(addr) {
            t.held.mark_raw(index);
        }
    });
}

/// Takes this thread's topmost entry of `addr` off its stack, as a release would, and returns
/// it (a hand-off: the lock stays locked, and another thread takes the entry on).
pub(crate) fn hand_off(addr: usize) -> Option<HeldLock> {
    switch::sync_point_quiet();
    with_thread(|t| {
        let index = t.held.find(addr)?;
        Some(t.remove_held(index))
    })
}

/// Puts a handed-off entry on this thread's stack: the lock is held here now. Not validated:
/// nothing waited for it here (a dependency on it is recorded when this thread takes another
/// lock while holding it).
pub(crate) fn take_over(entry: &HeldLock) {
    acquire::after_lock(&Acquisition::of_entry(entry), entry.trylock);
}

/// Is this lock instance held by the current thread?
pub(crate) fn is_held(addr: usize) -> bool {
    switch::sync_point_quiet();
    claim_orphans();
    with_thread(|t| t.held.find(addr).is_some())
}

/// Class names of the locks this thread holds, outermost first.
pub(crate) fn held_classes() -> Vec<String> {
    switch::sync_point_quiet();
    claim_orphans();
    // Copied out first: naming a class reads the class table and allocates.
    let held = with_thread(|t| Snapshot::of(t.held.as_slice(), None));
    held.as_slice().iter().map(|h| h.node.name()).collect()
}

/// A copy of this thread's held-lock entries, outermost first (deadlock detection's waiting
/// path: never called on an acquisition that did not have to wait).
#[cfg(feature = "deadlock_detection")]
pub(crate) fn held_entries() -> Vec<HeldLock> {
    let held = with_thread(|t| Snapshot::of(t.held.as_slice(), None));
    held.as_slice().to_vec()
}

/// How many locks the current thread holds (tracked ones).
pub fn held_count() -> usize {
    switch::sync_point_quiet();
    claim_orphans();
    with_thread(|t| t.held.as_slice().len())
}
