//! [`Checked<R>`] with the checks compiled out: the same public type and constructors, a plain
//! delegation to `R` with nothing recorded, so code that names `raw::Checked` builds in every
//! configuration. (The typed layers do not use it: with the checks compiled out they sit
//! directly on `R`, see [`crate::raw::Raw`].)

use crate::LockClass;
use lock_api::{
    RawMutex, RawMutexFair, RawMutexTimed, RawRwLock, RawRwLockDowngrade, RawRwLockFair,
    RawRwLockRecursive, RawRwLockRecursiveTimed, RawRwLockTimed, RawRwLockUpgrade,
    RawRwLockUpgradeDowngrade, RawRwLockUpgradeFair, RawRwLockUpgradeTimed,
};

/// Any `lock_api` raw lock `R`; with the checks compiled out, `R` itself behind a transparent
/// wrapper (same size, every method delegated, nothing recorded).
#[repr(transparent)]
pub struct Checked<R> {
    raw: R,
}

impl<R> Checked<R> {
    /// Wraps `raw`; the class is not recorded with the checks compiled out.
    pub const fn with_class(raw: R, class: &'static LockClass) -> Self {
        let _ = class;
        Checked { raw }
    }

    /// The lock underneath.
    pub fn inner(&self) -> &R {
        &self.raw
    }
}

// SAFETY: (this and every impl below) each method delegates to the same method of `R`, which
// upholds the trait's contract; the wrapper adds nothing.
unsafe impl<R: RawMutex> RawMutex for Checked<R> {
    const INIT: Self = Checked { raw: R::INIT };
    // The same marker as in checking builds, so code that builds here builds there.
    type GuardMarker = crate::GuardMarker;
    fn lock(&self) {
        self.raw.lock()
    }
    fn try_lock(&self) -> bool {
        self.raw.try_lock()
    }
    unsafe fn unlock(&self) {
        // SAFETY: forwarded contract.
        unsafe { self.raw.unlock() }
    }
    fn is_locked(&self) -> bool {
        self.raw.is_locked()
    }
}

// SAFETY: see above.
unsafe impl<R: RawMutexFair> RawMutexFair for Checked<R> {
    unsafe fn unlock_fair(&self) {
        // SAFETY: forwarded contract.
        unsafe { self.raw.unlock_fair() }
    }
    unsafe fn bump(&self) {
        // SAFETY: forwarded contract.
        unsafe { self.raw.bump() }
    }
}

// SAFETY: see above.
unsafe impl<R: RawMutexTimed> RawMutexTimed for Checked<R> {
    type Duration = R::Duration;
    type Instant = R::Instant;
    fn try_lock_for(&self, timeout: Self::Duration) -> bool {
        self.raw.try_lock_for(timeout)
    }
    fn try_lock_until(&self, timeout: Self::Instant) -> bool {
        self.raw.try_lock_until(timeout)
    }
}

// SAFETY: see above.
unsafe impl<R: RawRwLock> RawRwLock for Checked<R> {
    const INIT: Self = Checked { raw: R::INIT };
    type GuardMarker = crate::GuardMarker;
    fn lock_shared(&self) {
        self.raw.lock_shared()
    }
    fn try_lock_shared(&self) -> bool {
        self.raw.try_lock_shared()
    }
    unsafe fn unlock_shared(&self) {
        // SAFETY: forwarded contract.
        unsafe { self.raw.unlock_shared() }
    }
    fn lock_exclusive(&self) {
        self.raw.lock_exclusive()
    }
    fn try_lock_exclusive(&self) -> bool {
        self.raw.try_lock_exclusive()
    }
    unsafe fn unlock_exclusive(&self) {
        // SAFETY: forwarded contract.
        unsafe { self.raw.unlock_exclusive() }
    }
    fn is_locked(&self) -> bool {
        self.raw.is_locked()
    }
    fn is_locked_exclusive(&self) -> bool {
        self.raw.is_locked_exclusive()
    }
}

// SAFETY: see above.
unsafe impl<R: RawRwLockFair> RawRwLockFair for Checked<R> {
    unsafe fn unlock_shared_fair(&self) {
        // SAFETY: forwarded contract.
        unsafe { self.raw.unlock_shared_fair() }
    }
    unsafe fn unlock_exclusive_fair(&self) {
        // SAFETY: forwarded contract.
        unsafe { self.raw.unlock_exclusive_fair() }
    }
    unsafe fn bump_shared(&self) {
        // SAFETY: forwarded contract.
        unsafe { self.raw.bump_shared() }
    }
    unsafe fn bump_exclusive(&self) {
        // SAFETY: forwarded contract.
        unsafe { self.raw.bump_exclusive() }
    }
}

// SAFETY: see above.
unsafe impl<R: RawRwLockDowngrade> RawRwLockDowngrade for Checked<R> {
    unsafe fn downgrade(&self) {
        // SAFETY: forwarded contract.
        unsafe { self.raw.downgrade() }
    }
}

// SAFETY: see above.
unsafe impl<R: RawRwLockTimed> RawRwLockTimed for Checked<R> {
    type Duration = R::Duration;
    type Instant = R::Instant;
    fn try_lock_shared_for(&self, timeout: Self::Duration) -> bool {
        self.raw.try_lock_shared_for(timeout)
    }
    fn try_lock_shared_until(&self, timeout: Self::Instant) -> bool {
        self.raw.try_lock_shared_until(timeout)
    }
    fn try_lock_exclusive_for(&self, timeout: Self::Duration) -> bool {
        self.raw.try_lock_exclusive_for(timeout)
    }
    fn try_lock_exclusive_until(&self, timeout: Self::Instant) -> bool {
        self.raw.try_lock_exclusive_until(timeout)
    }
}

// SAFETY: see above.
unsafe impl<R: RawRwLockRecursive> RawRwLockRecursive for Checked<R> {
    fn lock_shared_recursive(&self) {
        self.raw.lock_shared_recursive()
    }
    fn try_lock_shared_recursive(&self) -> bool {
        self.raw.try_lock_shared_recursive()
    }
}

// SAFETY: see above.
unsafe impl<R: RawRwLockRecursiveTimed> RawRwLockRecursiveTimed for Checked<R> {
    fn try_lock_shared_recursive_for(&self, timeout: Self::Duration) -> bool {
        self.raw.try_lock_shared_recursive_for(timeout)
    }
    fn try_lock_shared_recursive_until(&self, timeout: Self::Instant) -> bool {
        self.raw.try_lock_shared_recursive_until(timeout)
    }
}

// SAFETY: see above.
unsafe impl<R: RawRwLockUpgrade> RawRwLockUpgrade for Checked<R> {
    fn lock_upgradable(&self) {
        self.raw.lock_upgradable()
    }
    fn try_lock_upgradable(&self) -> bool {
        self.raw.try_lock_upgradable()
    }
    unsafe fn unlock_upgradable(&self) {
        // SAFETY: forwarded contract.
        unsafe { self.raw.unlock_upgradable() }
    }
    unsafe fn upgrade(&self) {
        // SAFETY: forwarded contract.
        unsafe { self.raw.upgrade() }
    }
    unsafe fn try_upgrade(&self) -> bool {
        // SAFETY: forwarded contract.
        unsafe { self.raw.try_upgrade() }
    }
}

// SAFETY: see above.
unsafe impl<R: RawRwLockUpgradeFair> RawRwLockUpgradeFair for Checked<R> {
    unsafe fn unlock_upgradable_fair(&self) {
        // SAFETY: forwarded contract.
        unsafe { self.raw.unlock_upgradable_fair() }
    }
    unsafe fn bump_upgradable(&self) {
        // SAFETY: forwarded contract.
        unsafe { self.raw.bump_upgradable() }
    }
}

// SAFETY: see above.
unsafe impl<R: RawRwLockUpgradeDowngrade> RawRwLockUpgradeDowngrade for Checked<R> {
    unsafe fn downgrade_upgradable(&self) {
        // SAFETY: forwarded contract.
        unsafe { self.raw.downgrade_upgradable() }
    }
    unsafe fn downgrade_to_upgradable(&self) {
        // SAFETY: forwarded contract.
        unsafe { self.raw.downgrade_to_upgradable() }
    }
}

// SAFETY: see above.
unsafe impl<R: RawRwLockUpgradeTimed> RawRwLockUpgradeTimed for Checked<R> {
    fn try_lock_upgradable_for(&self, timeout: Self::Duration) -> bool {
        self.raw.try_lock_upgradable_for(timeout)
    }
    fn try_lock_upgradable_until(&self, timeout: Self::Instant) -> bool {
        self.raw.try_lock_upgradable_until(timeout)
    }
    unsafe fn try_upgrade_for(&self, timeout: Self::Duration) -> bool {
        // SAFETY: forwarded contract.
        unsafe { self.raw.try_upgrade_for(timeout) }
    }
    unsafe fn try_upgrade_until(&self, timeout: Self::Instant) -> bool {
        // SAFETY: forwarded contract.
        unsafe { self.raw.try_upgrade_until(timeout) }
    }
}
