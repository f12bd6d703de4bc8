//! Releases: a release of the top entry pops it (the hot path, small enough to inline into a
//! guard's drop); any other goes the general way, which finds the entry, or brings the stack in
//! line with the tokio task running and looks again, or posts the release to whichever thread
//! or task holds the lock. Also the releases posted to the plain task this stack caches
//! ([`claim_posted`]), and the entries `unlocked` relocks take back ([`relock_entry`]).
//!
//! Below the acquisition paths and the slow path (which applies the posted releases before it
//! records dependencies), above the task switch: a release of an entry this stack does not
//! have may be one of a task the switch has yet to bring in.

#[cfg(feature = "tokio")]
use super::seam::held_depth;
use super::switch;
use super::thread::{with_thread, StackPtr, ThreadState};
use crate::held::{HeldLock, Release};
#[cfg(feature = "tokio")]
use crate::task_held;

/// A lock is being released (its raw lock is unlocked by the caller, after this).
#[inline(always)]
pub(crate) fn release(addr: usize, how: Release) {
    release_then(addr, how, || {});
}

/// A lock is being released by `unlock`.
///
/// Guards are mostly dropped innermost first: popping the top needs no search or rekey, and is
/// small enough to inline into the guard's drop. A nested entry (or any, while `unlocked`
/// records exist), and any release while the stack is full (the lock may be one taken past it,
/// of the same instance as the top entry), go the general way. The pop comes after the unlock,
/// for the reason `acquire` (`acquire.rs`) pushes after the lock: the check only reads, and the
/// one store then follows the atomic instead of delaying it. Nothing touches this thread's
/// stack in between.
#[inline(always)]
pub(crate) fn release_then(addr: usize, how: Release, unlock: impl FnOnce()) {
    // The unlock is written in both arms, so that the branch is taken on the compare itself
    // rather than on a flag kept across the unlock (one `sete`, `test` and `jmp` fewer).
    match release_top(addr, how) {
        Some((below, stack)) => {
            unlock();
            pop_to(below, stack);
        }
        None => {
            unlock();
            release_slow(addr, how);
        }
    }
}

/// [`release_then`] with one call of `unlock`, for an unlock too large to be written twice
/// (the `std::sync` flavour's, with its poison flag and futex wake): written twice, it made the
/// guard's drop too large to be inlined (callgrind, `std_single`: 99 instructions against 86).
#[inline(always)]
pub(crate) fn release_then_once(addr: usize, how: Release, unlock: impl FnOnce()) {
    let top = release_top(addr, how);
    unlock();
    match top {
        Some((below, stack)) => pop_to(below, stack),
        None => release_slow(addr, how),
    }
}

/// The hot release's check, not generic: inlined in an optimised build, one call into this
/// crate's code where debug assertions are on (see `acquire::enter`).
#[cfg_attr(debug_assertions, inline(never))]
#[cfg_attr(not(debug_assertions), inline(always))]
#[allow(clippy::manual_map)] // see its body
fn release_top(addr: usize, how: Release) -> Option<(usize, StackPtr)> {
    // A `match`, not `?`: in a user's debug build that is a call (`Try::branch`).
    with_thread(|t| match fast_release_depth(t, addr, how) {
        Some(below) => Some((below, StackPtr::of(t))),
        None => None,
    })
}

/// The hot release's pop (see [`release_top`]).
#[cfg_attr(debug_assertions, inline(never))]
#[cfg_attr(not(debug_assertions), inline(always))]
fn pop_to(below: usize, stack: StackPtr) {
    // SAFETY: `release_top` ran on this thread, and since then only the raw unlock did.
    unsafe { stack.get() }.pop_to(below);
}

/// [`release_then`] for an `unlock` that may run code which takes locks on this thread: tokio's
/// unlock wakes a waiter through its waker, and an executor may poll the woken task on the
/// spot. The pop then checks that the entry is still the top one (a lock taken and kept
/// meanwhile would be above it), and goes the general way otherwise.
// Only the async guards (features `tokio`, `futures`, `async-lock`) and this module's tests
// call it.
#[cfg_attr(
    not(any(feature = "tokio", feature = "futures", feature = "async-lock")),
    allow(dead_code)
)]
#[inline]
pub(crate) fn release_then_rechecked(addr: usize, how: Release, unlock: impl FnOnce()) {
    let top = with_thread(|t| fast_release_depth(t, addr, how));
    unlock();
    let popped = top.is_some_and(|below| {
        with_thread(|t| {
            let still = fast_release_depth(t, addr, how) == Some(below);
            if still {
                t.held.pop_to(below);
            }
            still
        })
    });
    if !popped {
        release_slow(addr, how);
    }
}

/// The depth the stack goes back to when the release of `addr` as `how` pops the top entry on
/// the fast path; `None` when it must go the general way.
#[inline(always)]
fn fast_release_depth(t: &ThreadState, addr: usize, how: Release) -> Option<usize> {
    // `fast_release_below` is 0 while `unlocked` records exist, and the pop key leaves out a
    // full stack and a nested entry (see `ThreadState`, `HeldStack::pops`).
    // SAFETY: `fast_release_below` is only ever `MAX_LOCK_DEPTH - 1` or 0 (`ThreadState`).
    unsafe { t.held.pops_to(t.fast_release_below, addr ^ how as usize) }
}

/// A release of a lock that is not on top of the stack (or not tracked, or of interest to the
/// `unlocked` records).
#[cold]
#[inline(never)]
fn release_slow(addr: usize, how: Release) {
    // Past MAX_LOCK_DEPTH the untracked locks are on top: found without a scan (and this is
    // the every release of a thread that leaked its guards: nothing more here).
    if !with_thread(|t| t.held.release_overflow(addr)) {
        release_tracked(addr, how);
    }
}

/// A release of a tracked lock that is not on top of the stack (or of interest to the
/// `unlocked` records), or of a lock taken past the limit and not remembered by instance.
#[inline(never)]
fn release_tracked(addr: usize, how: Release) {
    if !release_found(addr, how) {
        // Not on this stack: it may be an entry of a plain task this stack does not cache
        // (a task resumed here after another ran, dropping a guard first thing).
        switch::sync_point_quiet();
        if !release_found(addr, how) {
            // Held by another thread (or task), or by nobody: post it to its holder.
            crate::task_held::post_orphan(addr, how);
        }
    }
}

/// Releases a tracked entry if this stack has it (or counts down the untracked); whether it did.
fn release_found(addr: usize, how: Release) -> bool {
    with_thread(|t| {
        let found = t
            .held
            .as_slice()
            .iter()
            .rposition(|h| h.instance == addr && how.matches(h.access));
        match found {
            Some(index) => {
                t.remove_held(index);
                true
            }
            // Taken beyond MAX_LOCK_DEPTH, or of a class that could not be registered.
            None if t.held.overflowed > 0 => {
                t.held.overflowed -= 1;
                true
            }
            None => false,
        }
    })
}

/// A plain raw acquisition of `addr` as `how` (`lock_api` relocking after a guard's
/// `unlocked`): the nested entry this thread last released that way, if any (`relock.rs`).
#[inline]
pub(crate) fn relock_entry(addr: usize, how: Release) -> Option<HeldLock> {
    with_thread(|t| {
        let entry = t.relocks.take(addr, how)?;
        t.relocks_changed();
        Some(entry)
    })
}

/// Applies the releases posted to the plain task this stack caches (guards of it dropped by
/// another task or thread), and lowers the depth its entries start at if the stack went below
/// it. The slow path calls it before it records dependencies.
#[cfg(feature = "tokio")]
pub(super) fn claim_posted() {
    let task = task_held::cached_task();
    if task != 0 {
        // The task may have released one of the thread's own locks, from below its entries.
        task_held::base_at_most(held_depth());
        task_held::claim_releases(task, |addr, how| {
            release(addr, how);
            task_held::released(addr, how);
        });
    }
}

/// Without tokio no stack caches a plain task: nothing is ever posted to one.
#[cfg(not(feature = "tokio"))]
#[inline(always)]
pub(super) fn claim_posted() {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{held_locks, is_held, Mutex};
    use lock_api::RawMutex as _;

    /// A release whose unlock takes a lock and keeps it (what a waker polling a task on the
    /// spot may do, inside tokio's unlock): the released entry goes, the new one stays, and
    /// the stack's keys are those of what is held.
    #[test]
    fn a_rechecked_release_keeps_a_lock_taken_by_its_unlock() {
        let a = Mutex::named("recheck-a", ());
        let b = Mutex::named("recheck-b", ());
        let c = Mutex::named("recheck-c", ());
        for round in 0..3 {
            std::mem::forget(a.lock());
            // SAFETY: only the identity is read.
            let identity = unsafe { a.raw() }.class_cell().identity();
            let mut kept = None;
            release_then_rechecked(identity, Release::Exclusive, || {
                // SAFETY: this thread holds `a` (its guard was forgotten above).
                unsafe { a.raw().inner().unlock() };
                kept = Some(b.lock());
            });
            assert!(!is_held(&a), "round {round}");
            assert!(is_held(&b), "round {round}");
            assert_eq!(held_locks(), ["recheck-b"], "round {round}");
            // The stack goes on as if `b` alone had been taken: a lock above it is validated
            // and released on the hot path.
            drop(c.lock());
            drop(kept);
            assert!(held_locks().is_empty(), "round {round}");
        }
        // And without anything taken meanwhile, the rechecked release pops like the plain one.
        std::mem::forget(a.lock());
        // SAFETY: as above.
        let identity = unsafe { a.raw() }.class_cell().identity();
        // SAFETY: this thread holds `a` (its guard was forgotten just above).
        let unlock = || unsafe { a.raw().inner().unlock() };
        release_then_rechecked(identity, Release::Exclusive, unlock);
        assert!(held_locks().is_empty());
    }
}
