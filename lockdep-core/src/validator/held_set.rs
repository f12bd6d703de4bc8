//! The held set as the rest of the crate sees it: queries (`is_held`, `held_locks`, deadlock
//! detection's copy), a dropped lock's leaked entries, and the seam for tasks (`task.rs`), which
//! move a task's entries off and back onto its thread's stack around each poll.

use super::findings::{describe, thread_name};
use super::thread::{with_thread, Snapshot};
use crate::held::HeldLock;
use crate::mode::{self, Mode};
use std::cell::Cell;
use std::panic::Location;

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

/// Is this lock instance held by the current thread?
/// Takes this thread's topmost entry of `addr` off its stack, as a release would, and returns
/// it (a hand-off: the lock stays locked, and another thread takes the entry on).
pub(crate) fn hand_off(addr: usize) -> Option<HeldLock> {
    super::switch::sync_point_quiet();
    with_thread(|t| {
        let index = t.held.find(addr)?;
        Some(t.remove_held(index))
    })
}

/// Puts a handed-off entry on this thread's stack: the lock is held here now. Not validated:
/// nothing waited for it here (a dependency on it is recorded when this thread takes another
/// lock while holding it).
pub(crate) fn take_over(entry: &HeldLock) {
    super::acquire::after_lock(&super::acquire::Acquisition::of_entry(entry), entry.trylock);
}

pub(crate) fn is_held(addr: usize) -> bool {
    super::switch::sync_point_quiet();
    claim_orphans();
    with_thread(|t| t.held.find(addr).is_some())
}

/// Class names of the locks this thread holds, outermost first.
pub(crate) fn held_classes() -> Vec<String> {
    super::switch::sync_point_quiet();
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
    super::switch::sync_point_quiet();
    claim_orphans();
    with_thread(|t| t.held.as_slice().len())
}

// ---- the current held set: the seam for tasks (`task.rs`) ----
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
/// Entries beyond [`MAX_LOCK_DEPTH`] are counted as untracked, as any lock taken there is.
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

thread_local! {
    /// Where the task being polled on this thread was made (`None` outside any task), for
    /// reports: in a task, the task is what holds the locks.
    static TASK_SITE: Cell<Option<TaskSite>> = const { Cell::new(None) };
    /// tokio's id of the plain task whose entries the stack caches (0: none), for reports.
    static PLAIN_TASK: Cell<u64> = const { Cell::new(0) };
}

/// Says which plain tokio task's entries this thread's stack caches (`switch.rs`).
#[cfg_attr(not(feature = "tokio"), allow(dead_code))]
pub(crate) fn set_plain_task(id: u64) {
    PLAIN_TASK.with(|task| task.set(id));
}

/// tokio's id of the plain task whose entries this thread's stack caches (0: none).
pub(crate) fn plain_task() -> u64 {
    PLAIN_TASK.try_with(Cell::get).unwrap_or(0)
}

/// A `.lockdep()` task as reports name it: what it runs and where it was made.
#[derive(Clone, Copy)]
pub(crate) struct TaskSite {
    /// Where `.lockdep()` (or lockdep's `spawn`) was called: the user's spawn site.
    pub(crate) at: &'static Location<'static>,
    /// The future's type (`std::any::type_name`): an `async fn`'s is its path followed by
    /// `::{{closure}}`.
    pub(crate) runs: &'static str,
}

/// Says which task is being polled on this thread (`task.rs`, around each poll of the
/// outermost task).
pub(crate) fn set_task_site(site: Option<TaskSite>) {
    TASK_SITE.with(|cell| cell.set(site));
}

/// The task being polled on this thread (`None` outside any task).
pub(crate) fn task_site() -> Option<TaskSite> {
    TASK_SITE.try_with(Cell::get).ok().flatten()
}
