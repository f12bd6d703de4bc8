//! What a guard's `unlocked` needs to take its lock back the way it held it.
//!
//! `lock_api`'s `MutexGuard::unlocked` (and the `RwLock` and `ReentrantMutex` guards', fair or
//! not) releases the lock through the raw `unlock`, runs the closure, and takes the lock again
//! through the plain raw `lock()` — which cannot say at which nesting subclass, nor from where.
//! A nested guard relocked at subclass 0 would be a false `RecursiveLocking` in hand-over-hand
//! code. So every release of an entry with a nonzero subclass is remembered, per thread (in the
//! validator's thread state), by instance; a plain raw acquisition of that instance (see
//! `raw/checked/mod.rs`) takes the record and relocks at its subclass, and reports name the
//! location where the guard was taken.
//!
//! A record always describes the *last* release of its instance by this thread (a release at
//! subclass 0 clears it), which for `unlocked` is the release it just did. The closure taking
//! and releasing the very lock its guard unlocked, at another subclass, would leave that other
//! subclass behind; nothing sensible does that. Likewise a plain raw lock through
//! `as_lock_api()` right after a nested guard of the same lock was dropped is taken at that
//! subclass; this crate's typed layers never lock that way (they pass their subclass).

use crate::held::{HeldLock, Release};

/// Records kept per thread: enough for `unlocked` closures that themselves take and release
/// several nested locks (a record is left by every nested release, used or not); the oldest
/// record is overwritten when they are all in use.
const SLOTS: usize = 8;

/// One thread's records. Plain data: the validator calls these with its thread state borrowed.
pub(crate) struct Relocks {
    entries: [HeldLock; SLOTS],
    /// Live records (instance != 0): the release hot path looks only at this while it is 0.
    live: u8,
    next: u8,
}

impl Relocks {
    pub(crate) const fn new() -> Self {
        Relocks {
            entries: [HeldLock::EMPTY; SLOTS],
            live: 0,
            next: 0,
        }
    }

    /// Whether there are no records (the release fast path is open).
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Whether the release of `entry` concerns the records: it is nested, or records exist
    /// (one of its instance must then be forgotten).
    #[inline(always)]
    pub(crate) fn concerns(&self, entry: &HeldLock) -> bool {
        entry.node.subclass() != 0 || self.live != 0
    }

    /// An entry left the held-lock stack: remember it if it was nested, forget older records
    /// of its instance either way.
    #[cold]
    #[inline(never)]
    pub(crate) fn released(&mut self, entry: &HeldLock) {
        self.forget(entry.instance);
        if entry.node.subclass() != 0 {
            let slot = self.next as usize % SLOTS;
            self.entries[slot] = *entry;
            self.next = ((slot + 1) % SLOTS) as u8;
        }
        self.recount();
    }

    /// A plain raw acquisition (`lock_api` relocking after `unlocked`) of `instance` as `how`:
    /// the entry it last released that way, if it was nested. The record is used up.
    #[inline]
    pub(crate) fn take(&mut self, instance: usize, how: Release) -> Option<HeldLock> {
        if self.live == 0 {
            return None;
        }
        self.take_slow(instance, how)
    }

    #[cold]
    #[inline(never)]
    fn take_slow(&mut self, instance: usize, how: Release) -> Option<HeldLock> {
        let found = self
            .entries
            .iter()
            .copied()
            .find(|e| e.instance == instance && how.matches(e.access))?;
        self.forget(instance);
        self.recount();
        Some(found)
    }

    fn forget(&mut self, instance: usize) {
        for e in self.entries.iter_mut().filter(|e| e.instance == instance) {
            *e = HeldLock::EMPTY;
        }
    }

    fn recount(&mut self) {
        self.live = self.entries.iter().filter(|e| e.instance != 0).count() as u8;
    }
}
