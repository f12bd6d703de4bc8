//! The other ways a held lock is taken again or given up for a while: upgrades and bumps
//! (a reacquisition with the lock's own entry left out), condition-variable waits, timed
//! acquisitions (validated in the timed layer), and `might_lock`.
//!
//! At the top of the validator, beside the hot path: each hook calls down into the paths it
//! shares (`acquire.rs`, `check.rs`, `release.rs`, `held_set.rs`), and none of them calls it.

use super::acquire::after_lock;
use super::acquisition::Acquisition;
use super::check::{check, check_timed, validate};
use super::findings::{deliver_all, Pending};
use super::held_set::take_over;
use super::release::release;
use super::seam::claim_orphans;
use super::switch;
use super::thread::with_thread;
use crate::access::Access;
use crate::held::{HeldLock, Release};

/// Validates an upgrade (or a bump, which may let other threads in before retaking the lock):
/// the lock is acquired again as `access` while every other held lock stays held. It is
/// acquired at the node (class and subclass) its guard holds, and reported at the location
/// where the guard was taken: `lock_api` cannot pass the caller's location down. Returns the
/// panic due, for the raw lock to raise (or not: see `raw/checked`).
#[must_use = "a pending panic must be raised"]
pub(crate) fn before_reacquire(addr: usize, held_as: Release, access: Access) -> Option<Pending> {
    if let Some(pending) = switch::notice_tasks() {
        return Some(pending);
    }
    let (skip, acq) = reacquisition(addr, held_as, access)?;
    match check(&acq, Some(skip)) {
        Ok(reports) => deliver_all(reports),
        Err(pending) => Some(pending),
    }
}

/// The held entry of `addr` held as `held_as`, and its acquisition again as `access` at the
/// same node and with the same location.
fn reacquisition(addr: usize, held_as: Release, access: Access) -> Option<(usize, Acquisition)> {
    // Releases made elsewhere first, before the index is taken (`check` does not claim them
    // when given one).
    claim_orphans();
    let (index, entry) = with_thread(|t| {
        let held = t.held.as_slice();
        held.iter()
            .rposition(|h| h.instance == addr && held_as.matches(h.access))
            .map(|i| (i, held[i]))
    })?;
    Some((
        index,
        Acquisition {
            access,
            ..Acquisition::of_entry(&entry)
        },
    ))
}

/// An upgrade or downgrade completed: the lock is now held as `access`.
pub(crate) fn change_access(addr: usize, from: Release, access: Access) {
    switch::sync_point_quiet();
    with_thread(|t| {
        if let Some(index) = t
            .held
            .as_slice()
            .iter()
            .rposition(|h| h.instance == addr && from.matches(h.access))
        {
            t.held.set_access(index, access);
        }
    });
}

/// A condition-variable wait releases the mutex: returns its entry, to be restored by
/// [`after_wait`].
pub(crate) fn before_wait(addr: usize) -> Option<HeldLock> {
    switch::sync_point_quiet();
    with_thread(|t| {
        let index = t
            .held
            .as_slice()
            .iter()
            .rposition(|h| h.instance == addr && h.access == Access::Write)?;
        Some(t.held.remove(index))
    })
}

/// The mutex was taken again after a wait. It is validated like any acquisition (locks taken
/// while it was released now come before it), but the report is delivered only once it is held
/// again, because the caller's guard will release it when unwinding.
#[track_caller]
pub(crate) fn after_wait(entry: Option<HeldLock>) {
    let Some(entry) = entry else { return };
    let acq = Acquisition::of_entry(&entry);
    let reports = match check(&acq, None) {
        Ok(reports) => reports,
        Err(pending) => pending.raise(),
    };
    // Taken back by a blocking lock, whatever took it first: a trylock flag kept from the
    // original acquisition would let later acquisitions add edges from the locks below it.
    after_lock(&acq, false);
    if let Some(pending) = deliver_all(reports) {
        pending.raise();
    }
}

/// Runs `f` with a waiting mutex's `entry` back on the stack (a wait's condition runs with the
/// mutex held), removing it again afterwards, also when `f` unwinds.
pub(crate) fn held_during<R>(entry: Option<HeldLock>, f: impl FnOnce() -> R) -> R {
    let Some(entry) = entry else { return f() };
    take_over(&entry);
    struct Remove(usize);
    impl Drop for Remove {
        fn drop(&mut self) {
            release(self.0, Release::Exclusive);
        }
    }
    let _remove = Remove(entry.instance);
    f()
}

/// Before a timed acquisition (`try_lock_for`, `try_read_until`, ...): validate it in the timed
/// layer and deliver any finding, before the lock is tried.
pub(crate) fn before_timed_lock(acq: &Acquisition) {
    if let Some(pending) = switch::notice_tasks() {
        pending.raise();
    }
    if let Some(pending) = deliver_all(check_timed(acq, None)) {
        pending.raise();
    }
}

/// Validates a timed upgrade (`try_upgrade_for`, ...) as a timed write acquisition of the lock
/// at the node its guard holds, every other held lock staying held.
pub(crate) fn before_timed_reacquire(addr: usize, held_as: Release, access: Access) {
    if let Some(pending) = switch::notice_tasks() {
        pending.raise();
    }
    if let Some((skip, acq)) = reacquisition(addr, held_as, access) {
        if let Some(pending) = deliver_all(check_timed(&acq, Some(skip))) {
            pending.raise();
        }
    }
}

/// Validates `acq` as if the lock were taken here, without taking it (the kernel's
/// `might_lock`).
#[track_caller]
pub(crate) fn might_lock(acq: &Acquisition) {
    if let Some(pending) = switch::notice_tasks() {
        pending.raise();
    }
    // Validated even past MAX_LOCK_DEPTH: it was asked for explicitly. A report says the
    // acquisition is the annotation's (nothing was taken here).
    let annotating = crate::report::Annotating::enter();
    let pending = validate(acq);
    drop(annotating);
    if let Some(pending) = pending {
        pending.raise();
    }
}
