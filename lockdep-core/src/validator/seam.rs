//! The seam: entries that come onto or leave this thread's stack other than by its own
//! acquisitions and releases. A task's entries are moved off the stack and back around each
//! poll (`task.rs`) and each switch between plain tokio tasks (`switch.rs`); entries that other
//! threads released (orphan releases, `task_held.rs`) are claimed; and the entries of a lock
//! being dropped can only be leaked guards, removed with one message.
//!
//! Low in the validator: each step only moves entries on the thread's state, so the task
//! switch, the slow path and the exit check all call down into it, and it calls none of them.

use super::names::{describe, thread_name};
use super::thread::{with_thread, Snapshot};
use crate::held::HeldLock;
use crate::mode::{self, Mode};

/// A lock instance is being dropped (its identity ends). An entry this thread still holds for
/// it can only come from a leaked guard (a live guard borrows the lock): it is removed, with
/// one message, so that the thread does not go on "holding" a lock that no longer exists.
#[inline]
pub(crate) fn instance_dropped(identity: usize) {
    let leaked = with_thread(|t| t.held.find(identity).is_some());
    if leaked {
        leaked_guard_of_dropped_lock(identity);
    }
}

#[cold]
#[inline(never)]
fn leaked_guard_of_dropped_lock(identity: usize) {
    // Entries released by other threads are not leaked guards.
    claim_orphans();
    let (first, count) = with_thread(|t| {
        let mut first = None;
        let mut count = 0;
        while let Some(index) = t.held.find(identity) {
            first = Some(t.held.remove(index));
            count += 1;
        }
        (first, count)
    });
    let Some(first) = first else { return };
    if mode::mode() == Mode::Off {
        return;
    }
    let times = if count == 1 {
        String::new()
    } else {
        format!(" ({count} times)")
    };
    crate::message::notice(format_args!(
        "lockdep: a lock was dropped while thread '{}' still held it{times}: its guard was \
         leaked (mem::forget?). The lock: {}. It is no longer tracked as held.",
        thread_name(),
        describe(&first)
    ));
}

/// Takes off this thread's stack the entries that other threads released (`task_held.rs`,
/// orphan releases). Every slow step calls it; one relaxed load when there are none.
#[inline]
pub(crate) fn claim_orphans() {
    if crate::task_held::orphans_pending() {
        claim_orphans_here();
    }
}

#[cold]
#[inline(never)]
fn claim_orphans_here() {
    crate::task_held::claim_orphans(|instance, how| {
        with_thread(|t| {
            match t
                .held
                .as_slice()
                .iter()
                .rposition(|h| h.instance == instance && how.matches(h.access))
            {
                Some(index) => {
                    t.remove_held(index);
                    true
                }
                None => false,
            }
        })
    });
}

// ---- the current held set: the seam for tasks (`task.rs`, `switch.rs`) ----
//
// The validator knows one held set per thread. A task's locks are put on top of its thread's
// stack when the task is polled and taken off again when the poll returns, so every check above
// sees "the task's locks and the thread's" as one stack, and none of it needs to know about
// tasks.

/// How many entries this thread's held stack has.
pub(crate) fn held_depth() -> usize {
    with_thread(|t| t.held.as_slice().len())
}

/// Moves the entries at `from` and above out of this thread's held stack, into `out`.
pub(crate) fn take_held_from(from: usize, out: &mut Vec<HeldLock>) {
    // Copied out under the borrow, pushed to `out` (which may allocate) after it.
    let taken = with_thread(|t| {
        let held = t.held.as_slice();
        if held.len() <= from {
            return None;
        }
        let taken = Snapshot::of(&held[from..], None);
        while t.held.as_slice().len() > from {
            t.held.pop();
        }
        Some(taken)
    });
    if let Some(taken) = taken {
        out.extend_from_slice(taken.as_slice());
    }
}

/// Moves this thread's async entries out of its held stack, into `out`, keeping the others.
pub(crate) fn take_async_held(out: &mut Vec<HeldLock>) {
    let taken = with_thread(|t| {
        if !t.held.as_slice().iter().any(|h| h.asynchronous) {
            return None;
        }
        let taken = Snapshot::of(t.held.as_slice(), None);
        let mut index = t.held.as_slice().len();
        while index > 0 {
            index -= 1;
            if t.held.as_slice()[index].asynchronous {
                t.held.remove(index);
            }
        }
        Some(taken)
    });
    if let Some(taken) = taken {
        out.extend(taken.as_slice().iter().filter(|h| h.asynchronous));
    }
}

/// Puts `entries` back on top of this thread's held stack, in order, with fresh chain keys.
/// Entries beyond [`MAX_LOCK_DEPTH`](crate::MAX_LOCK_DEPTH) are counted as untracked, as any
/// lock taken there is.
pub(crate) fn restore_held(entries: &[HeldLock]) {
    if entries.is_empty() {
        return;
    }
    with_thread(|t| {
        for entry in entries {
            if t.held.is_full() {
                t.held.overflowed += 1;
            } else {
                t.held.push(*entry);
            }
        }
    });
}

/// Whether this thread holds a sync (not async) lock at stack index `from` or above.
pub(crate) fn holds_sync_from(from: usize) -> bool {
    with_thread(|t| {
        t.held
            .as_slice()
            .get(from..)
            .is_some_and(|above| above.iter().any(|h| !h.asynchronous))
    })
}
