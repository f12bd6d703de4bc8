//! What a guard's `unlocked` needs to take its lock back the way it held it.
//!
//! `lock_api`'s `MutexGuard::unlocked` (and the `RwLock` and `ReentrantMutex` guards', fair or
//! not) releases the lock through the raw `unlock`, runs the closure, and takes the lock again
//! through the plain raw `lock()` — which cannot say at which nesting subclass, nor from where.
//! A nested guard relocked at subclass 0 would be a false `RecursiveLocking` in hand-over-hand
//! code. So every release of an entry with a nonzero subclass is remembered here, per thread,
//! by instance; a plain raw acquisition of that instance (see `raw.rs`) takes the record and
//! relocks at its subclass, and reports name the location where the guard was taken.
//!
//! A record always describes the *last* release of its instance by this thread (a release at
//! subclass 0 clears it), which for `unlocked` is the release it just did. The closure taking
//! and releasing the very lock its guard unlocked, at another subclass, would leave that other
//! subclass behind; nothing sensible does that.

use crate::held::HeldLock;
use crate::validator::Release;
use std::cell::Cell;

/// Records kept per thread: enough for `unlocked` closures that themselves take and release
/// several nested locks (a record is left by every nested release, used or not); the oldest
/// record is overwritten when they are all in use.
const SLOTS: usize = 8;

struct Relocks {
    entries: Cell<[HeldLock; SLOTS]>,
    /// Live records (instance != 0); checked first, so threads that never nest pay one load.
    live: Cell<u8>,
    next: Cell<u8>,
}

thread_local! {
    // No destructor, so it stays usable while the thread's other locals are torn down.
    static RELOCKS: Relocks = const {
        Relocks {
            entries: Cell::new([HeldLock::EMPTY; SLOTS]),
            live: Cell::new(0),
            next: Cell::new(0),
        }
    };
}

/// An entry left the held-lock stack: remember it if it was nested, forget older records of
/// its instance either way.
#[inline]
pub(crate) fn released(entry: &HeldLock) {
    if entry.node.subclass() == 0 && RELOCKS.with(|r| r.live.get()) == 0 {
        return;
    }
    released_slow(entry);
}

#[cold]
#[inline(never)]
fn released_slow(entry: &HeldLock) {
    RELOCKS.with(|r| {
        let mut entries = r.entries.get();
        forget(&mut entries, entry.instance);
        if entry.node.subclass() != 0 {
            let slot = r.next.get() as usize % SLOTS;
            entries[slot] = *entry;
            r.next.set(((slot + 1) % SLOTS) as u8);
        }
        r.live
            .set(entries.iter().filter(|e| e.instance != 0).count() as u8);
        r.entries.set(entries);
    });
}

fn forget(entries: &mut [HeldLock; SLOTS], instance: usize) {
    for e in entries.iter_mut().filter(|e| e.instance == instance) {
        *e = HeldLock::EMPTY;
    }
}

/// A plain raw acquisition (`lock_api` relocking after `unlocked`) of `instance` as `how`: the
/// entry it last released that way, if it was nested. The record is used up.
#[inline]
pub(crate) fn take(instance: usize, how: Release) -> Option<HeldLock> {
    if RELOCKS.with(|r| r.live.get()) == 0 {
        return None;
    }
    take_slow(instance, how)
}

#[cold]
#[inline(never)]
fn take_slow(instance: usize, how: Release) -> Option<HeldLock> {
    RELOCKS.with(|r| {
        let mut entries = r.entries.get();
        let found = entries
            .iter()
            .copied()
            .find(|e| e.instance == instance && how.matches(e.access))?;
        forget(&mut entries, instance);
        r.live
            .set(entries.iter().filter(|e| e.instance != 0).count() as u8);
        r.entries.set(entries);
        Some(found)
    })
}
