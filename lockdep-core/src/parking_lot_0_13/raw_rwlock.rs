//! The raw reader-writer locks of the 0.13 face: this crate's (checked, or plain with the checks
//! compiled out) under `lock_api` 0.5's traits. `RECURSIVE` is parking_lot 0.13's: every read of
//! a `RawRwLockOf<_, true>` is a recursive read, taken and validated as `read_recursive` is.

use super::raw_mutex::Marker;
use crate::class::LockTypeFn;
use crate::raw::ops05::RwLock05;
use crate::raw::{RawRwLockAt, RawRwLockRecursiveAt, RawRwLockUpgradeAt};
use lock_api::{
    RawRwLockDowngrade, RawRwLockRecursiveTimed, RawRwLockTimed, RawRwLockUpgradeDowngrade,
    RawRwLockUpgradeFair, RawRwLockUpgradeTimed,
};
use lock_api_05 as api;
use std::panic::Location;

/// A raw reader-writer lock of this crate (`X`) under `lock_api` 0.5's raw traits:
/// [`RawRwLock`](super::RawRwLock) and [`RawRwLockRecursive`](super::RawRwLockRecursive) are
/// this over parking_lot's raw reader-writer lock. With `RECURSIVE`, every shared acquisition
/// is a recursive one (parking_lot 0.13's `RawRwLock<true>`).
#[repr(transparent)]
pub struct RawRwLockOf<X, const RECURSIVE: bool = false>(pub(crate) X);

impl<X, const RECURSIVE: bool> RawRwLockOf<X, RECURSIVE> {
    /// The raw lock of this crate inside.
    pub fn inner(&self) -> &X {
        &self.0
    }
}

impl<X, const RECURSIVE: bool> RawRwLockOf<X, RECURSIVE> {
    /// The raw lock of this crate inside, by value.
    pub(crate) const fn into_inner(self) -> X {
        // SAFETY: as `RawMutexOf::into_inner`: read once, `self` forgotten.
        let inner = unsafe { std::ptr::read(&self.0) };
        std::mem::forget(self);
        inner
    }
}

// The bound names this crate's internal entry points; the methods are crate-private too.
#[allow(private_bounds)]
impl<X: RawRwLockAt + RawRwLockRecursiveAt + RawRwLockUpgradeAt, const RECURSIVE: bool>
    RawRwLockOf<X, RECURSIVE>
{
    /// A blocking read as this crate's typed layer takes it: a report is returned (raised at
    /// the user's line) before the lock is taken.
    #[track_caller]
    #[inline]
    pub(crate) fn read_at(&self, subclass: u32, ty: Option<LockTypeFn>) -> Marker {
        let at = Location::caller();
        let pending = if RECURSIVE {
            self.0.lock_shared_recursive_at(subclass, at, ty)
        } else {
            self.0.lock_shared_at(subclass, at, ty)
        };
        if let Some(pending) = pending {
            pending.raise()
        }
        Marker::new()
    }

    /// A blocking write, as [`read_at`](Self::read_at).
    #[track_caller]
    #[inline]
    pub(crate) fn write_at(&self, subclass: u32, ty: Option<LockTypeFn>) -> Marker {
        if let Some(pending) = self.0.lock_exclusive_at(subclass, Location::caller(), ty) {
            pending.raise()
        }
        Marker::new()
    }

    /// A blocking upgradable read, as [`read_at`](Self::read_at).
    #[track_caller]
    #[inline]
    pub(crate) fn upgradable_at(&self, subclass: u32, ty: Option<LockTypeFn>) -> Marker {
        if let Some(pending) = self.0.lock_upgradable_at(subclass, Location::caller(), ty) {
            pending.raise()
        }
        Marker::new()
    }
}

// SAFETY: every method takes, tries or releases `X`'s lock exactly once (a shared acquisition
// of a `RECURSIVE` lock is `X`'s recursive one: the same lock state, the same unlock), and `X`
// is a raw reader-writer lock; the guard states carry nothing. The blocking acquisitions unwind
// only before the lock is taken (`raw/ops05.rs`).
unsafe impl<X: RwLock05, const RECURSIVE: bool> api::RawRwLock for RawRwLockOf<X, RECURSIVE> {
    #[allow(clippy::declare_interior_mutable_const)] // as `lock_api` declares `INIT`
    const INIT: Self = RawRwLockOf(X::INIT);
    type SharedGuard = Marker;
    type ExclusiveGuard = Marker;

    #[track_caller]
    #[inline]
    fn lock_shared(&self) -> Marker {
        if let Some(pending) = self.0.lock_shared_05(RECURSIVE) {
            pending.raise()
        }
        Marker::new()
    }
    #[track_caller]
    #[inline]
    fn try_lock_shared(&self) -> Option<Marker> {
        let taken = if RECURSIVE {
            self.0.try_lock_shared_recursive()
        } else {
            self.0.try_lock_shared()
        };
        taken.then(Marker::new)
    }
    #[inline]
    unsafe fn unlock_shared(&self, _: Marker) {
        // SAFETY: forwarded contract.
        unsafe { self.0.unlock_shared() }
    }
    #[track_caller]
    #[inline]
    fn lock_exclusive(&self) -> Marker {
        if let Some(pending) = self.0.lock_exclusive_05() {
            pending.raise()
        }
        Marker::new()
    }
    #[track_caller]
    #[inline]
    fn try_lock_exclusive(&self) -> Option<Marker> {
        self.0.try_lock_exclusive().then(Marker::new)
    }
    #[inline]
    unsafe fn unlock_exclusive(&self, _: Marker) {
        // SAFETY: forwarded contract.
        unsafe { self.0.unlock_exclusive() }
    }
    #[inline]
    fn is_locked(&self) -> bool {
        self.0.is_locked()
    }
    #[inline]
    fn is_locked_exclusive(&self) -> bool {
        self.0.is_locked_exclusive_05()
    }
}

// SAFETY: delegates to `X`; a bump reports before it acts, the lock still held (a recursive
// read's bump takes its read back recursively).
unsafe impl<X: RwLock05, const RECURSIVE: bool> api::RawRwLockFair for RawRwLockOf<X, RECURSIVE> {
    #[inline]
    unsafe fn unlock_shared_fair(&self, _: Marker) {
        // SAFETY: forwarded contract.
        unsafe { self.0.unlock_shared_fair() }
    }
    #[inline]
    unsafe fn unlock_exclusive_fair(&self, _: Marker) {
        // SAFETY: forwarded contract.
        unsafe { self.0.unlock_exclusive_fair() }
    }
    #[track_caller]
    unsafe fn bump_shared(&self, _: &mut Marker) {
        if RECURSIVE {
            // SAFETY: forwarded contract: a read is held.
            unsafe { self.0.bump_shared_recursive_05() }
        } else {
            // SAFETY: forwarded contract: a read is held.
            unsafe { self.0.bump_shared() }
        }
    }
    #[track_caller]
    unsafe fn bump_exclusive(&self, _: &mut Marker) {
        // SAFETY: forwarded contract: the lock is held exclusively.
        unsafe { self.0.bump_exclusive() }
    }
}

// SAFETY: delegates to `X`, which relabels the held entry.
unsafe impl<X: RwLock05 + RawRwLockDowngrade, const RECURSIVE: bool> api::RawRwLockDowngrade
    for RawRwLockOf<X, RECURSIVE>
{
    #[inline]
    unsafe fn downgrade(&self, _: Marker) -> Marker {
        // SAFETY: forwarded contract.
        unsafe { self.0.downgrade() };
        Marker::new()
    }
}

// SAFETY: delegates to `X`; a failed try leaves nothing taken.
unsafe impl<X: RwLock05 + RawRwLockRecursiveTimed, const RECURSIVE: bool> api::RawRwLockTimed
    for RawRwLockOf<X, RECURSIVE>
{
    type Duration = <X as RawRwLockTimed>::Duration;
    type Instant = <X as RawRwLockTimed>::Instant;

    #[track_caller]
    fn try_lock_shared_for(&self, timeout: Self::Duration) -> Option<Marker> {
        let taken = if RECURSIVE {
            self.0.try_lock_shared_recursive_for(timeout)
        } else {
            self.0.try_lock_shared_for(timeout)
        };
        taken.then(Marker::new)
    }
    #[track_caller]
    fn try_lock_shared_until(&self, timeout: Self::Instant) -> Option<Marker> {
        let taken = if RECURSIVE {
            self.0.try_lock_shared_recursive_until(timeout)
        } else {
            self.0.try_lock_shared_until(timeout)
        };
        taken.then(Marker::new)
    }
    #[track_caller]
    fn try_lock_exclusive_for(&self, timeout: Self::Duration) -> Option<Marker> {
        self.0.try_lock_exclusive_for(timeout).then(Marker::new)
    }
    #[track_caller]
    fn try_lock_exclusive_until(&self, timeout: Self::Instant) -> Option<Marker> {
        self.0.try_lock_exclusive_until(timeout).then(Marker::new)
    }
}

// SAFETY: delegates to `X`; an upgrade that is reported gives its upgradable lock up first (the
// state `lock_api` 0.5 handed over is consumed, nothing is left locked), else it waits as `X`'s.
unsafe impl<X: RwLock05, const RECURSIVE: bool> api::RawRwLockUpgrade
    for RawRwLockOf<X, RECURSIVE>
{
    type UpgradableGuard = Marker;

    #[track_caller]
    #[inline]
    fn lock_upgradable(&self) -> Marker {
        if let Some(pending) = self.0.lock_upgradable_05() {
            pending.raise()
        }
        Marker::new()
    }
    #[track_caller]
    #[inline]
    fn try_lock_upgradable(&self) -> Option<Marker> {
        self.0.try_lock_upgradable().then(Marker::new)
    }
    #[inline]
    unsafe fn unlock_upgradable(&self, _: Marker) {
        // SAFETY: forwarded contract.
        unsafe { self.0.unlock_upgradable() }
    }
    #[track_caller]
    unsafe fn upgrade(&self, _: Marker) -> Marker {
        // SAFETY: forwarded contract: the lock is held upgradable.
        if let Some(pending) = unsafe { self.0.upgrade_05() } {
            pending.raise()
        }
        Marker::new()
    }
    #[track_caller]
    unsafe fn try_upgrade(&self, guard: Marker) -> Result<Marker, Marker> {
        // SAFETY: forwarded contract.
        if unsafe { self.0.try_upgrade() } {
            Ok(Marker::new())
        } else {
            Err(guard)
        }
    }
}

// SAFETY: delegates to `X`; a bump reports before it acts, the lock still held.
unsafe impl<X: RwLock05 + RawRwLockUpgradeFair, const RECURSIVE: bool> api::RawRwLockUpgradeFair
    for RawRwLockOf<X, RECURSIVE>
{
    #[inline]
    unsafe fn unlock_upgradable_fair(&self, _: Marker) {
        // SAFETY: forwarded contract.
        unsafe { self.0.unlock_upgradable_fair() }
    }
    #[track_caller]
    unsafe fn bump_upgradable(&self, _: &mut Marker) {
        // SAFETY: forwarded contract.
        unsafe { self.0.bump_upgradable() }
    }
}

// SAFETY: delegates to `X`, which relabels the held entry.
unsafe impl<X: RwLock05 + RawRwLockUpgradeDowngrade, const RECURSIVE: bool>
    api::RawRwLockUpgradeDowngrade for RawRwLockOf<X, RECURSIVE>
{
    #[inline]
    unsafe fn downgrade_upgradable(&self, _: Marker) -> Marker {
        // SAFETY: forwarded contract.
        unsafe { self.0.downgrade_upgradable() };
        Marker::new()
    }
    #[inline]
    unsafe fn downgrade_to_upgradable(&self, _: Marker) -> Marker {
        // SAFETY: forwarded contract.
        unsafe { self.0.downgrade_to_upgradable() };
        Marker::new()
    }
}

/// Releases the upgradable lock its timed upgrade was handed if the upgrade unwinds (a report
/// of a panicking handler, raised before the try): `lock_api` 0.5 gave the state away by value,
/// so nothing else would ever release it.
struct ReleaseOnUnwind<'a, X: RwLock05>(&'a X);

impl<X: RwLock05> Drop for ReleaseOnUnwind<'_, X> {
    fn drop(&mut self) {
        // SAFETY: only reached while the timed upgrade unwinds (it is forgotten otherwise),
        // before it changed anything: the lock is still held upgradable by this thread.
        unsafe { self.0.unlock_upgradable() }
    }
}

// SAFETY: delegates to `X`; a failed try leaves the lock as it was, and one that unwinds (a
// report, before the try) releases the upgradable lock it was handed (`ReleaseOnUnwind`).
unsafe impl<X: RwLock05 + RawRwLockRecursiveTimed + RawRwLockUpgradeTimed, const RECURSIVE: bool>
    api::RawRwLockUpgradeTimed for RawRwLockOf<X, RECURSIVE>
{
    #[track_caller]
    fn try_lock_upgradable_for(&self, timeout: Self::Duration) -> Option<Marker> {
        self.0.try_lock_upgradable_for(timeout).then(Marker::new)
    }
    #[track_caller]
    fn try_lock_upgradable_until(&self, timeout: Self::Instant) -> Option<Marker> {
        self.0.try_lock_upgradable_until(timeout).then(Marker::new)
    }
    #[track_caller]
    unsafe fn try_upgrade_for(
        &self,
        guard: Marker,
        timeout: Self::Duration,
    ) -> Result<Marker, Marker> {
        let release = ReleaseOnUnwind(&self.0);
        // SAFETY: forwarded contract.
        let upgraded = unsafe { self.0.try_upgrade_for(timeout) };
        std::mem::forget(release);
        if upgraded {
            Ok(Marker::new())
        } else {
            Err(guard)
        }
    }
    #[track_caller]
    unsafe fn try_upgrade_until(
        &self,
        guard: Marker,
        timeout: Self::Instant,
    ) -> Result<Marker, Marker> {
        let release = ReleaseOnUnwind(&self.0);
        // SAFETY: forwarded contract.
        let upgraded = unsafe { self.0.try_upgrade_until(timeout) };
        std::mem::forget(release);
        if upgraded {
            Ok(Marker::new())
        } else {
            Err(guard)
        }
    }
}
