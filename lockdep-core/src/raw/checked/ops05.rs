//! The `lock_api` 0.5 entry points of [`Checked<R>`](super::Checked) (`raw/ops05.rs` says who
//! may unwind): blocking acquisitions that report before they lock, an upgrade that lets go of
//! the upgradable lock before it reports, and the condition-variable wait.

use super::super::ops05::{exclusively_held, Mutex05, RwLock05, WaitEntry};
use super::{Caller, Checked};
use crate::access::Access;
use crate::caller::take_caller;
use crate::validator::{self, Release};
use lock_api::{RawMutex, RawRwLock, RawRwLockFair, RawRwLockRecursive, RawRwLockUpgrade};

/// Why a report is printed rather than raised on a relock of `lock_api` 0.5.
const NO_UNWIND_05: &str = "it was raised in the relock of a nested guard after its \
     `unlocked`, which `lock_api` 0.5 aborts the process on if it unwinds";

impl<R> Checked<R> {
    /// A blocking acquisition through `lock_api` 0.5's raw traits as `how`/`access`: a report
    /// is returned before the lock is taken (`lock_api` makes its guard only once the raw call
    /// returns), located at the caller (`lock_api` 0.5's typed methods are `#[track_caller]`,
    /// so that is the user's line). The relock of a nested guard after its `unlocked` (the
    /// relock records say so) takes the lock at the guard's subclass and prints a report
    /// instead: `lock_api` 0.5 aborts if it unwinds.
    #[track_caller]
    #[inline]
    fn lock_05_as(
        &self,
        how: Release,
        access: Access,
        try_take: impl FnOnce(&R) -> bool,
        take: impl FnOnce(&R),
    ) -> Option<super::Pending> {
        if let Some(at) = take_caller() {
            // This crate's typed layer (`lock_arc`, the reentrant `lock`): an acquisition at
            // subclass 0, never a relock; a record this instance left is stale now.
            let _ = self.relock_site(how);
            return self.acquire(0, access, at, None, try_take, take, Caller::Typed);
        }
        let (subclass, at, relocked_raw) = self.relock_site(how);
        let Some(raw) = relocked_raw else {
            return self.acquire(subclass, access, at, None, try_take, take, Caller::Typed);
        };
        let caller = Caller::Raw { relock: !raw };
        if let Some(pending) = self.acquire(subclass, access, at, None, try_take, take, caller) {
            pending.print_instead(NO_UNWIND_05);
        }
        None
    }
}

impl<R: RawMutex> Mutex05 for Checked<R> {
    #[track_caller]
    #[inline]
    fn lock_05(&self) -> Option<super::Pending> {
        self.lock_05_as(Release::Exclusive, Access::Write, R::try_lock, R::lock)
    }
    unsafe fn unlock_for_wait_05(&self) -> WaitEntry {
        self.unlock_for_wait()
    }
    fn relock_after_wait_05(&self, entry: WaitEntry) {
        self.relock_after_wait(entry)
    }
}

impl<R: RawRwLock + RawRwLockRecursive + RawRwLockUpgrade + RawRwLockFair> RwLock05 for Checked<R> {
    #[track_caller]
    #[inline]
    fn lock_shared_05(&self, recursive: bool) -> Option<super::Pending> {
        if recursive {
            self.lock_05_as(
                Release::Shared,
                Access::RecursiveRead,
                R::try_lock_shared_recursive,
                R::lock_shared_recursive,
            )
        } else {
            self.lock_05_as(
                Release::Shared,
                Access::Read,
                R::try_lock_shared,
                R::lock_shared,
            )
        }
    }
    #[track_caller]
    #[inline]
    fn lock_exclusive_05(&self) -> Option<super::Pending> {
        self.lock_05_as(
            Release::Exclusive,
            Access::Write,
            R::try_lock_exclusive,
            R::lock_exclusive,
        )
    }
    #[track_caller]
    #[inline]
    fn lock_upgradable_05(&self) -> Option<super::Pending> {
        self.lock_05_as(
            Release::Upgradable,
            Access::Upgradable,
            R::try_lock_upgradable,
            R::lock_upgradable,
        )
    }
    #[track_caller]
    unsafe fn upgrade_05(&self) -> Option<super::Pending> {
        // Waits for every reader to leave: an acquisition of the write side while every other
        // held lock stays held.
        if let Some(pending) =
            validator::before_reacquire(self.addr(), Release::Upgradable, Access::Write)
        {
            // `lock_api` 0.5 gave the upgradable state away: release it, so that nothing stays
            // locked that no guard owns, then report.
            // SAFETY: forwarded contract: the caller holds the lock upgradable.
            unsafe { RawRwLockUpgrade::unlock_upgradable(self) };
            return Some(pending);
        }
        // SAFETY: forwarded contract: the caller holds an upgradable lock.
        unsafe { self.upgrade_waiting() };
        validator::change_access(self.addr(), Release::Upgradable, Access::Write);
        None
    }
    fn is_locked_exclusive_05(&self) -> bool {
        exclusively_held(&self.raw)
    }
    #[track_caller]
    unsafe fn bump_shared_recursive_05(&self) {
        self.reacquire(Release::Shared, Access::RecursiveRead, |raw| {
            // SAFETY: forwarded contract: a read is held, released here and taken back.
            unsafe { raw.unlock_shared_fair() };
            raw.lock_shared_recursive()
        })
    }
}
