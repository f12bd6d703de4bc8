//! With the checks compiled out: the `*_at` entry points of the typed layers, straight onto
//! the raw lock.

use super::*;
use lock_api::{RawMutex, RawRwLock, RawRwLockRecursive, RawRwLockUpgrade};

impl<R: RawMutex> RawMutexAt for R {
    #[inline(always)]
    fn lock_at(
        &self,
        _: u32,
        _: &'static Location<'static>,
        _: Option<LockTypeFn>,
    ) -> Option<Pending> {
        self.lock();
        None
    }
    #[inline(always)]
    fn try_lock_at(&self, _: u32, _: &'static Location<'static>, _: Option<LockTypeFn>) -> bool {
        self.try_lock()
    }
}

impl<R: RawRwLock> RawRwLockAt for R {
    #[inline(always)]
    fn lock_shared_at(
        &self,
        _: u32,
        _: &'static Location<'static>,
        _: Option<LockTypeFn>,
    ) -> Option<Pending> {
        self.lock_shared();
        None
    }
    #[inline(always)]
    fn try_lock_shared_at(
        &self,
        _: u32,
        _: &'static Location<'static>,
        _: Option<LockTypeFn>,
    ) -> bool {
        self.try_lock_shared()
    }
    #[inline(always)]
    fn lock_exclusive_at(
        &self,
        _: u32,
        _: &'static Location<'static>,
        _: Option<LockTypeFn>,
    ) -> Option<Pending> {
        self.lock_exclusive();
        None
    }
    #[inline(always)]
    fn try_lock_exclusive_at(
        &self,
        _: u32,
        _: &'static Location<'static>,
        _: Option<LockTypeFn>,
    ) -> bool {
        self.try_lock_exclusive()
    }
}

impl<R: RawRwLockRecursive> RawRwLockRecursiveAt for R {
    #[inline(always)]
    fn lock_shared_recursive_at(
        &self,
        _: u32,
        _: &'static Location<'static>,
        _: Option<LockTypeFn>,
    ) -> Option<Pending> {
        self.lock_shared_recursive();
        None
    }
    #[inline(always)]
    fn try_lock_shared_recursive_at(
        &self,
        _: u32,
        _: &'static Location<'static>,
        _: Option<LockTypeFn>,
    ) -> bool {
        self.try_lock_shared_recursive()
    }
}

impl<R: RawRwLockUpgrade> RawRwLockUpgradeAt for R {
    #[inline(always)]
    fn lock_upgradable_at(
        &self,
        _: u32,
        _: &'static Location<'static>,
        _: Option<LockTypeFn>,
    ) -> Option<Pending> {
        self.lock_upgradable();
        None
    }
    #[inline(always)]
    fn try_lock_upgradable_at(
        &self,
        _: u32,
        _: &'static Location<'static>,
        _: Option<LockTypeFn>,
    ) -> bool {
        self.try_lock_upgradable()
    }
}
