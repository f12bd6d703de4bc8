//! What the raw locks of `lock_api` 0.5 (the parking_lot 0.13 face) need from a raw lock of
//! this crate beyond `lock_api` 0.4's traits, implemented by [`Checked<R>`](super::Checked)
//! (`checked/ops05.rs`) and, with the checks compiled out, by every raw lock as a plain
//! delegation (below).
//!
//! # Who may unwind
//!
//! `lock_api` 0.5 calls a raw lock's `lock` from its typed methods, which make the guard only
//! once it returns: a report there is raised before the lock is taken, and nothing is left
//! behind. It also calls it inside a guard's `unlocked` (to take the lock back) and calls
//! `upgrade` inside `with_upgraded`, where it *aborts the process* if the raw call unwinds.
//! The relock of a nested guard is known (the relock records) and prints its report instead;
//! any other report there ends in that abort, printed first. Such a report is rare: the
//! locks held around a relock are the ones held when the guard was taken, whose dependencies
//! were checked then.

use super::Pending;
use lock_api::{RawMutex, RawRwLock, RawRwLockFair, RawRwLockRecursive, RawRwLockUpgrade};

/// What a condition variable's wait keeps of the mutex's held entry while it waits.
#[cfg(lockdep_checks)]
pub(crate) type WaitEntry = Option<crate::held::HeldLock>;
/// With the checks compiled out there is no held entry to keep.
#[cfg(not(lockdep_checks))]
pub(crate) type WaitEntry = ();

/// A mutex, for `lock_api` 0.5's raw traits.
pub(crate) trait Mutex05: RawMutex {
    /// A blocking acquisition through the raw trait: a report is returned with the lock not
    /// taken (module doc).
    fn lock_05(&self) -> Option<Pending>;
    /// Releases the lock for a condition-variable wait.
    ///
    /// # Safety
    /// The current thread holds the lock.
    unsafe fn unlock_for_wait_05(&self) -> WaitEntry;
    /// Takes the lock again after a wait.
    fn relock_after_wait_05(&self, entry: WaitEntry);
}

/// A reader-writer lock, for `lock_api` 0.5's raw traits.
pub(crate) trait RwLock05:
    RawRwLock + RawRwLockRecursive + RawRwLockUpgrade + RawRwLockFair
{
    /// A blocking shared acquisition, `recursive` for parking_lot 0.13's `RawRwLock<true>`.
    fn lock_shared_05(&self, recursive: bool) -> Option<Pending>;
    /// A blocking exclusive acquisition.
    fn lock_exclusive_05(&self) -> Option<Pending>;
    /// A blocking upgradable acquisition.
    fn lock_upgradable_05(&self) -> Option<Pending>;
    /// Upgrades the upgradable lock the caller holds. `lock_api` 0.5 hands the upgradable
    /// state over by value, so on a report the upgradable lock is *released* (nothing is left
    /// held that no guard owns) and the report returned.
    ///
    /// # Safety
    /// The current thread holds the lock upgradable.
    unsafe fn upgrade_05(&self) -> Option<Pending>;
    /// Whether a writer holds the lock (parking_lot 0.13's `is_locked_exclusive`, which a
    /// writer still waiting for readers to leave does not make true).
    fn is_locked_exclusive_05(&self) -> bool;
    /// A bump of a recursive read: released fairly, then taken back recursively (a read that
    /// other reads of this thread may be holding cannot wait behind a writer).
    ///
    /// # Safety
    /// The current thread holds a read of the lock.
    unsafe fn bump_shared_recursive_05(&self);
}

/// Whether a writer *holds* `raw` (parking_lot 0.13's `is_locked_exclusive`). parking_lot
/// 0.12's says so as soon as a writer has claimed the lock and waits for its readers to leave;
/// while readers are still in, a recursive read can join them (it does not wait behind the
/// writer), so a successful one, given back at once, tells the two apart without reading the
/// lock's state.
pub(crate) fn exclusively_held<R: RawRwLock + RawRwLockRecursive>(raw: &R) -> bool {
    if !raw.is_locked_exclusive() {
        return false;
    }
    if raw.try_lock_shared_recursive() {
        // SAFETY: the read was just taken, by this thread.
        unsafe { raw.unlock_shared() };
        return false;
    }
    true
}

#[cfg(not(lockdep_checks))]
impl<R: RawMutex> Mutex05 for R {
    #[inline(always)]
    fn lock_05(&self) -> Option<Pending> {
        self.lock();
        None
    }
    #[inline(always)]
    unsafe fn unlock_for_wait_05(&self) -> WaitEntry {
        // SAFETY: forwarded contract.
        unsafe { self.unlock() }
    }
    #[inline(always)]
    fn relock_after_wait_05(&self, _: WaitEntry) {
        self.lock()
    }
}

#[cfg(not(lockdep_checks))]
impl<R: RawRwLock + RawRwLockRecursive + RawRwLockUpgrade + RawRwLockFair> RwLock05 for R {
    #[inline(always)]
    fn lock_shared_05(&self, recursive: bool) -> Option<Pending> {
        if recursive {
            self.lock_shared_recursive()
        } else {
            self.lock_shared()
        }
        None
    }
    #[inline(always)]
    fn lock_exclusive_05(&self) -> Option<Pending> {
        self.lock_exclusive();
        None
    }
    #[inline(always)]
    fn lock_upgradable_05(&self) -> Option<Pending> {
        self.lock_upgradable();
        None
    }
    #[inline(always)]
    unsafe fn upgrade_05(&self) -> Option<Pending> {
        // SAFETY: forwarded contract.
        unsafe { self.upgrade() };
        None
    }
    fn is_locked_exclusive_05(&self) -> bool {
        exclusively_held(self)
    }
    #[inline(always)]
    unsafe fn bump_shared_recursive_05(&self) {
        // SAFETY: forwarded contract: a read is held, released here and taken back.
        unsafe { self.unlock_shared_fair() };
        self.lock_shared_recursive()
    }
}
