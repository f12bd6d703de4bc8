//! The reader-writer traits of [`Checked<R>`](super::Checked): shared, recursive, upgradable,
//! timed and downgrading acquisitions.

use super::super::*;
use super::Caller;
use super::Checked;
use crate::access::Access;
use crate::caller::caller_or;
#[cfg(feature = "deadlock_detection")]
use crate::validator::Acquisition;
use crate::validator::{self, Release};
use lock_api::{
    RawRwLock, RawRwLockDowngrade, RawRwLockFair, RawRwLockRecursive, RawRwLockRecursiveTimed,
    RawRwLockTimed, RawRwLockUpgrade, RawRwLockUpgradeDowngrade, RawRwLockUpgradeFair,
    RawRwLockUpgradeTimed,
};

impl<R: RawRwLock> RawRwLockAt for Checked<R> {
    #[inline]
    fn lock_shared_at(
        &self,
        subclass: u32,
        at: &'static Location<'static>,
        ty: Option<LockTypeFn>,
    ) -> Option<Pending> {
        self.acquire(
            subclass,
            Access::Read,
            at,
            ty,
            R::try_lock_shared,
            R::lock_shared,
            Caller::Typed,
        )
    }
    #[inline]
    fn try_lock_shared_at(
        &self,
        subclass: u32,
        at: &'static Location<'static>,
        ty: Option<LockTypeFn>,
    ) -> bool {
        self.try_acquire(subclass, Access::Read, at, ty, R::try_lock_shared)
    }
    #[inline]
    fn lock_exclusive_at(
        &self,
        subclass: u32,
        at: &'static Location<'static>,
        ty: Option<LockTypeFn>,
    ) -> Option<Pending> {
        self.acquire(
            subclass,
            Access::Write,
            at,
            ty,
            R::try_lock_exclusive,
            R::lock_exclusive,
            Caller::Typed,
        )
    }
    #[inline]
    fn try_lock_exclusive_at(
        &self,
        subclass: u32,
        at: &'static Location<'static>,
        ty: Option<LockTypeFn>,
    ) -> bool {
        self.try_acquire(subclass, Access::Write, at, ty, R::try_lock_exclusive)
    }
}

impl<R: RawRwLockRecursive> RawRwLockRecursiveAt for Checked<R> {
    #[inline]
    fn lock_shared_recursive_at(
        &self,
        subclass: u32,
        at: &'static Location<'static>,
        ty: Option<LockTypeFn>,
    ) -> Option<Pending> {
        self.acquire(
            subclass,
            Access::RecursiveRead,
            at,
            ty,
            R::try_lock_shared_recursive,
            R::lock_shared_recursive,
            Caller::Typed,
        )
    }
    #[inline]
    fn try_lock_shared_recursive_at(
        &self,
        subclass: u32,
        at: &'static Location<'static>,
        ty: Option<LockTypeFn>,
    ) -> bool {
        self.try_acquire(
            subclass,
            Access::RecursiveRead,
            at,
            ty,
            R::try_lock_shared_recursive,
        )
    }
}

impl<R: RawRwLockUpgrade> RawRwLockUpgradeAt for Checked<R> {
    #[inline]
    fn lock_upgradable_at(
        &self,
        subclass: u32,
        at: &'static Location<'static>,
        ty: Option<LockTypeFn>,
    ) -> Option<Pending> {
        self.acquire(
            subclass,
            Access::Upgradable,
            at,
            ty,
            R::try_lock_upgradable,
            R::lock_upgradable,
            Caller::Typed,
        )
    }
    #[inline]
    fn try_lock_upgradable_at(
        &self,
        subclass: u32,
        at: &'static Location<'static>,
        ty: Option<LockTypeFn>,
    ) -> bool {
        self.try_acquire(subclass, Access::Upgradable, at, ty, R::try_lock_upgradable)
    }
}

// SAFETY: as for `RawMutex` (`mod.rs`): the locking is `R`'s, and no acquisition unwinds
// without its lock except from this crate's typed layers, before they make a guard.
unsafe impl<R: RawRwLock> RawRwLock for Checked<R> {
    const INIT: Self = Checked::with_class(R::INIT, &UNCLASSED);
    type GuardMarker = crate::GuardMarker;

    #[track_caller]
    fn lock_shared(&self) {
        self.raw_lock(
            Release::Shared,
            Access::Read,
            R::try_lock_shared,
            R::lock_shared,
        )
    }
    #[track_caller]
    fn try_lock_shared(&self) -> bool {
        self.try_lock_shared_at(0, caller_or(Location::caller()), None)
    }
    #[inline]
    unsafe fn unlock_shared(&self) {
        // SAFETY: forwarded contract.
        validator::release_then(self.addr(), Release::Shared, || unsafe {
            self.raw.unlock_shared()
        });
    }
    #[track_caller]
    fn lock_exclusive(&self) {
        self.raw_lock(
            Release::Exclusive,
            Access::Write,
            R::try_lock_exclusive,
            R::lock_exclusive,
        )
    }
    #[track_caller]
    fn try_lock_exclusive(&self) -> bool {
        self.try_lock_exclusive_at(0, caller_or(Location::caller()), None)
    }
    #[inline]
    unsafe fn unlock_exclusive(&self) {
        // SAFETY: forwarded contract.
        validator::release_then(self.addr(), Release::Exclusive, || unsafe {
            self.raw.unlock_exclusive()
        });
    }
    fn is_locked(&self) -> bool {
        self.raw.is_locked()
    }
    fn is_locked_exclusive(&self) -> bool {
        self.raw.is_locked_exclusive()
    }
}

// SAFETY: the fair releases and bumps delegate to `R`; a bump reports before it acts, the lock
// still held as the guard expects (module doc of `mod.rs`).
unsafe impl<R: RawRwLockFair> RawRwLockFair for Checked<R> {
    #[inline]
    unsafe fn unlock_shared_fair(&self) {
        // SAFETY: forwarded contract.
        validator::release_then(self.addr(), Release::Shared, || unsafe {
            self.raw.unlock_shared_fair()
        });
    }
    #[inline]
    unsafe fn unlock_exclusive_fair(&self) {
        // SAFETY: forwarded contract.
        validator::release_then(self.addr(), Release::Exclusive, || unsafe {
            self.raw.unlock_exclusive_fair()
        });
    }
    #[track_caller]
    unsafe fn bump_shared(&self) {
        self.reacquire(Release::Shared, Access::Read, |raw| {
            // SAFETY: forwarded contract: the caller holds a shared lock.
            unsafe { raw.bump_shared() }
        })
    }
    #[track_caller]
    unsafe fn bump_exclusive(&self) {
        self.reacquire(Release::Exclusive, Access::Write, |raw| {
            // SAFETY: forwarded contract: the caller holds the exclusive lock.
            unsafe { raw.bump_exclusive() }
        })
    }
}

// SAFETY: delegates to `R`; the bookkeeping only relabels the held entry, after `R` acted.
unsafe impl<R: RawRwLockDowngrade> RawRwLockDowngrade for Checked<R> {
    unsafe fn downgrade(&self) {
        // SAFETY: forwarded contract.
        unsafe { self.raw.downgrade() };
        validator::change_access(self.addr(), Release::Exclusive, Access::Read);
    }
}

// SAFETY: delegates to `R`; a timed acquisition reports before it tries, and a failed or
// refused try leaves no lock taken and no guard made (`lock_api` makes one only on success).
unsafe impl<R: RawRwLockTimed> RawRwLockTimed for Checked<R> {
    type Duration = R::Duration;
    type Instant = R::Instant;

    #[track_caller]
    fn try_lock_shared_for(&self, timeout: Self::Duration) -> bool {
        self.timed_acquire(Access::Read, caller_or(Location::caller()), |r| {
            r.try_lock_shared_for(timeout)
        })
    }
    #[track_caller]
    fn try_lock_shared_until(&self, timeout: Self::Instant) -> bool {
        self.timed_acquire(Access::Read, caller_or(Location::caller()), |r| {
            r.try_lock_shared_until(timeout)
        })
    }
    #[track_caller]
    fn try_lock_exclusive_for(&self, timeout: Self::Duration) -> bool {
        self.timed_acquire(Access::Write, caller_or(Location::caller()), |r| {
            r.try_lock_exclusive_for(timeout)
        })
    }
    #[track_caller]
    fn try_lock_exclusive_until(&self, timeout: Self::Instant) -> bool {
        self.timed_acquire(Access::Write, caller_or(Location::caller()), |r| {
            r.try_lock_exclusive_until(timeout)
        })
    }
}

// SAFETY: delegates to `R`; `lock_shared_recursive` never unwinds without its lock except from
// this crate's typed layers, before they make a guard (module doc of `mod.rs`).
unsafe impl<R: RawRwLockRecursive> RawRwLockRecursive for Checked<R> {
    #[track_caller]
    fn lock_shared_recursive(&self) {
        self.raw_lock(
            Release::Shared,
            Access::RecursiveRead,
            R::try_lock_shared_recursive,
            R::lock_shared_recursive,
        )
    }
    #[track_caller]
    fn try_lock_shared_recursive(&self) -> bool {
        self.try_lock_shared_recursive_at(0, caller_or(Location::caller()), None)
    }
}

// SAFETY: delegates to `R`; as for `RawRwLockTimed`.
unsafe impl<R: RawRwLockRecursiveTimed> RawRwLockRecursiveTimed for Checked<R> {
    #[track_caller]
    fn try_lock_shared_recursive_for(&self, timeout: Self::Duration) -> bool {
        self.timed_acquire(Access::RecursiveRead, caller_or(Location::caller()), |r| {
            r.try_lock_shared_recursive_for(timeout)
        })
    }
    #[track_caller]
    fn try_lock_shared_recursive_until(&self, timeout: Self::Instant) -> bool {
        self.timed_acquire(Access::RecursiveRead, caller_or(Location::caller()), |r| {
            r.try_lock_shared_recursive_until(timeout)
        })
    }
}

impl<R: RawRwLockUpgrade> Checked<R> {
    /// Upgrades the upgradable lock the caller holds, once validated: with `deadlock_detection`,
    /// an upgrade that has to wait for readers registers as waiting (both faces' upgrades).
    ///
    /// # Safety
    /// The current thread holds the lock upgradable.
    pub(super) unsafe fn upgrade_waiting(&self) {
        #[cfg(feature = "deadlock_detection")]
        if let Some(acq) = Acquisition::new(self.lock_ref(), 0, Access::Write, None) {
            crate::deadlock::Waiting::around(
                &acq,
                validator::held_count(),
                // SAFETY: forwarded contract: the caller holds an upgradable lock.
                || unsafe { self.raw.try_upgrade() }.then_some(()),
                // SAFETY: as above; the try failed, so it is still upgradable.
                || unsafe { self.raw.upgrade() },
            );
            return;
        }
        // SAFETY: forwarded contract: the caller holds an upgradable lock.
        unsafe { self.raw.upgrade() }
    }
}

// SAFETY: delegates to `R`; `lock_upgradable` unwinds only as `lock_shared` does, and an upgrade
// reports before it acts, the upgradable lock still held as the guard expects.
unsafe impl<R: RawRwLockUpgrade> RawRwLockUpgrade for Checked<R> {
    #[track_caller]
    fn lock_upgradable(&self) {
        self.raw_lock(
            Release::Upgradable,
            Access::Upgradable,
            R::try_lock_upgradable,
            R::lock_upgradable,
        )
    }
    #[track_caller]
    fn try_lock_upgradable(&self) -> bool {
        self.try_lock_upgradable_at(0, caller_or(Location::caller()), None)
    }
    #[inline]
    unsafe fn unlock_upgradable(&self) {
        // SAFETY: forwarded contract.
        validator::release_then(self.addr(), Release::Upgradable, || unsafe {
            self.raw.unlock_upgradable()
        });
    }
    #[track_caller]
    unsafe fn upgrade(&self) {
        // Waits for every reader to leave: an acquisition of the write side while every
        // other held lock stays held.
        self.reacquire(Release::Upgradable, Access::Write, |_| {
            // SAFETY: forwarded contract: the caller holds an upgradable lock.
            unsafe { self.upgrade_waiting() }
        });
        validator::change_access(self.addr(), Release::Upgradable, Access::Write);
    }
    unsafe fn try_upgrade(&self) -> bool {
        // SAFETY: forwarded contract.
        let upgraded = unsafe { self.raw.try_upgrade() };
        if upgraded {
            validator::change_access(self.addr(), Release::Upgradable, Access::Write);
        }
        upgraded
    }
}

// SAFETY: delegates to `R`; `bump_upgradable` reports before it acts, the lock still held.
unsafe impl<R: RawRwLockUpgradeFair> RawRwLockUpgradeFair for Checked<R> {
    #[inline]
    unsafe fn unlock_upgradable_fair(&self) {
        // SAFETY: forwarded contract.
        validator::release_then(self.addr(), Release::Upgradable, || unsafe {
            self.raw.unlock_upgradable_fair()
        });
    }
    #[track_caller]
    unsafe fn bump_upgradable(&self) {
        self.reacquire(Release::Upgradable, Access::Upgradable, |raw| {
            // SAFETY: forwarded contract.
            unsafe { raw.bump_upgradable() }
        })
    }
}

// SAFETY: delegates to `R`; the bookkeeping only relabels the held entry, after `R` acted.
unsafe impl<R: RawRwLockUpgradeDowngrade> RawRwLockUpgradeDowngrade for Checked<R> {
    unsafe fn downgrade_upgradable(&self) {
        // SAFETY: forwarded contract.
        unsafe { self.raw.downgrade_upgradable() };
        validator::change_access(self.addr(), Release::Upgradable, Access::Read);
    }
    unsafe fn downgrade_to_upgradable(&self) {
        // SAFETY: forwarded contract.
        unsafe { self.raw.downgrade_to_upgradable() };
        validator::change_access(self.addr(), Release::Exclusive, Access::Upgradable);
    }
}

// SAFETY: delegates to `R`; a timed upgrade reports before it tries, the upgradable lock still
// held whatever happens.
unsafe impl<R: RawRwLockUpgradeTimed> RawRwLockUpgradeTimed for Checked<R> {
    #[track_caller]
    fn try_lock_upgradable_for(&self, timeout: Self::Duration) -> bool {
        self.timed_acquire(Access::Upgradable, caller_or(Location::caller()), |r| {
            r.try_lock_upgradable_for(timeout)
        })
    }
    #[track_caller]
    fn try_lock_upgradable_until(&self, timeout: Self::Instant) -> bool {
        self.timed_acquire(Access::Upgradable, caller_or(Location::caller()), |r| {
            r.try_lock_upgradable_until(timeout)
        })
    }
    unsafe fn try_upgrade_for(&self, timeout: Self::Duration) -> bool {
        // SAFETY: forwarded contract: the caller holds an upgradable lock.
        self.timed_upgrade(|raw| unsafe { raw.try_upgrade_for(timeout) })
    }
    unsafe fn try_upgrade_until(&self, timeout: Self::Instant) -> bool {
        // SAFETY: forwarded contract: the caller holds an upgradable lock.
        self.timed_upgrade(|raw| unsafe { raw.try_upgrade_until(timeout) })
    }
}
