//! The instrumented raw lock: [`Checked<R>`] wraps any `lock_api` raw lock and reports every
//! acquisition and release to the validator. Every typed lock of this crate is `lock_api`'s
//! generic typed layer over `Checked<R>`, so guards, mapping and the rest come from `lock_api`
//! unchanged.
//!
//! With the checks compiled out, [`Raw<R>`] is `R` itself.

use crate::class::ClassCell;
use crate::LockClass;
use std::panic::Location;

/// The raw lock the typed layers use for `R`: [`Checked<R>`] when checking is compiled in,
/// `R` itself otherwise.
#[cfg(lockdep_checks)]
pub type Raw<R> = Checked<R>;
/// The raw lock the typed layers use for `R`: [`Checked<R>`] when checking is compiled in,
/// `R` itself otherwise.
#[cfg(not(lockdep_checks))]
pub type Raw<R> = R;

/// The class of locks built with `lock_api`'s own constructors (through `RawMutex::INIT`), which
/// cannot say where they were created. Prefer this crate's constructors.
pub static UNCLASSED: LockClass = LockClass::new("<lock_api INIT: no lockdep class>");

/// Wraps `raw` for the typed layers, attaching its class when checking is compiled in.
#[inline]
pub(crate) const fn wrap<R>(raw: R, class: ClassCell) -> Raw<R> {
    #[cfg(lockdep_checks)]
    {
        Checked::from_cell(raw, class)
    }
    #[cfg(not(lockdep_checks))]
    {
        let _ = class;
        raw
    }
}

/// A report's panic, raised by the typed layer (see [`RawMutexAt::lock_at`]).
#[cfg(lockdep_checks)]
pub(crate) use crate::validator::Pending;

/// With the checks compiled out nothing is ever pending.
#[cfg(not(lockdep_checks))]
pub(crate) enum Pending {}

#[cfg(not(lockdep_checks))]
impl Pending {
    pub(crate) fn raise(self) -> ! {
        match self {}
    }
}

/// Acquisitions that carry a nesting subclass and the caller's location (which `lock_api`'s
/// traits cannot pass). Implemented by [`Checked<R>`] and, with the checks compiled out, by every
/// raw lock as a plain delegation.
pub(crate) trait RawMutexAt {
    /// A blocking acquisition. `Some` when a report must panic: the lock was not taken, and the
    /// typed layer's `#[track_caller]` method raises it, so the panic names the user's call
    /// (the hot path returns `None`, which folds away once inlined).
    fn lock_at(&self, subclass: u32, at: &'static Location<'static>) -> Option<Pending>;
    fn try_lock_at(&self, subclass: u32, at: &'static Location<'static>) -> bool;
}

/// The same for reader-writer locks.
pub(crate) trait RawRwLockAt {
    fn lock_shared_at(&self, subclass: u32, at: &'static Location<'static>) -> Option<Pending>;
    fn try_lock_shared_at(&self, subclass: u32, at: &'static Location<'static>) -> bool;
    fn lock_exclusive_at(&self, subclass: u32, at: &'static Location<'static>) -> Option<Pending>;
    fn try_lock_exclusive_at(&self, subclass: u32, at: &'static Location<'static>) -> bool;
}

/// Recursive reads.
pub(crate) trait RawRwLockRecursiveAt {
    fn lock_shared_recursive_at(
        &self,
        subclass: u32,
        at: &'static Location<'static>,
    ) -> Option<Pending>;
    fn try_lock_shared_recursive_at(&self, subclass: u32, at: &'static Location<'static>) -> bool;
}

/// Upgradable reads.
pub(crate) trait RawRwLockUpgradeAt {
    fn lock_upgradable_at(&self, subclass: u32, at: &'static Location<'static>) -> Option<Pending>;
    fn try_lock_upgradable_at(&self, subclass: u32, at: &'static Location<'static>) -> bool;
}

#[cfg(not(lockdep_checks))]
mod plain {
    use super::*;
    use lock_api::{RawMutex, RawRwLock, RawRwLockRecursive, RawRwLockUpgrade};

    impl<R: RawMutex> RawMutexAt for R {
        #[inline(always)]
        fn lock_at(&self, _: u32, _: &'static Location<'static>) -> Option<Pending> {
            self.lock();
            None
        }
        #[inline(always)]
        fn try_lock_at(&self, _: u32, _: &'static Location<'static>) -> bool {
            self.try_lock()
        }
    }

    impl<R: RawRwLock> RawRwLockAt for R {
        #[inline(always)]
        fn lock_shared_at(&self, _: u32, _: &'static Location<'static>) -> Option<Pending> {
            self.lock_shared();
            None
        }
        #[inline(always)]
        fn try_lock_shared_at(&self, _: u32, _: &'static Location<'static>) -> bool {
            self.try_lock_shared()
        }
        #[inline(always)]
        fn lock_exclusive_at(&self, _: u32, _: &'static Location<'static>) -> Option<Pending> {
            self.lock_exclusive();
            None
        }
        #[inline(always)]
        fn try_lock_exclusive_at(&self, _: u32, _: &'static Location<'static>) -> bool {
            self.try_lock_exclusive()
        }
    }

    impl<R: RawRwLockRecursive> RawRwLockRecursiveAt for R {
        #[inline(always)]
        fn lock_shared_recursive_at(
            &self,
            _: u32,
            _: &'static Location<'static>,
        ) -> Option<Pending> {
            self.lock_shared_recursive();
            None
        }
        #[inline(always)]
        fn try_lock_shared_recursive_at(&self, _: u32, _: &'static Location<'static>) -> bool {
            self.try_lock_shared_recursive()
        }
    }

    impl<R: RawRwLockUpgrade> RawRwLockUpgradeAt for R {
        #[inline(always)]
        fn lock_upgradable_at(&self, _: u32, _: &'static Location<'static>) -> Option<Pending> {
            self.lock_upgradable();
            None
        }
        #[inline(always)]
        fn try_lock_upgradable_at(&self, _: u32, _: &'static Location<'static>) -> bool {
            self.try_lock_upgradable()
        }
    }
}

#[cfg(not(lockdep_checks))]
pub use crate::unchecked::Checked;
#[cfg(lockdep_checks)]
pub use checked::Checked;

#[cfg(lockdep_checks)]
mod checked {
    use super::*;
    use crate::caller::caller_or;
    use crate::held::Access;
    use crate::validator::{self, Acquisition, LockRef, Release};
    use lock_api::{
        GuardNoSend, RawMutex, RawMutexFair, RawMutexTimed, RawRwLock, RawRwLockDowngrade,
        RawRwLockFair, RawRwLockRecursive, RawRwLockRecursiveTimed, RawRwLockTimed,
        RawRwLockUpgrade, RawRwLockUpgradeDowngrade, RawRwLockUpgradeFair, RawRwLockUpgradeTimed,
    };

    /// Any `lock_api` raw lock `R`, instrumented: every acquisition is validated against the
    /// locks the current thread holds, and the lock is tracked as held until released.
    ///
    /// Use it through the typed layers in [`generic`](crate::generic) (or the aliases at the
    /// crate root for `parking_lot`), whose constructors give each lock its class. It implements
    /// every `lock_api` capability trait `R` implements, so `lock_api`'s own typed layers work
    /// over it too; locks made with `lock_api`'s own `new` (through `INIT`) all share the class
    /// [`UNCLASSED`].
    ///
    /// Guards of a checked lock are never `Send`: the held-lock stack is per thread, so a guard
    /// released on another thread would leave a stale entry behind.
    pub struct Checked<R> {
        raw: R,
        class: ClassCell,
    }

    impl<R> Checked<R> {
        /// Wraps `raw`, giving it the class `class`.
        pub const fn with_class(raw: R, class: &'static LockClass) -> Self {
            Checked {
                raw,
                class: ClassCell::from_key(class),
            }
        }

        pub(crate) const fn from_cell(raw: R, class: ClassCell) -> Self {
            Checked { raw, class }
        }

        /// The lock underneath.
        pub fn inner(&self) -> &R {
            &self.raw
        }

        #[inline]
        pub(crate) fn lock_ref(&self) -> LockRef<'_> {
            LockRef { class: &self.class }
        }

        pub(crate) fn class_cell(&self) -> &ClassCell {
            &self.class
        }

        /// The instance's identity on the held-lock stack (see `ClassCell`): not its address,
        /// which a later lock may reuse once this one is dropped.
        #[inline]
        fn addr(&self) -> usize {
            self.class.identity()
        }

        /// A blocking acquisition: validate, take the lock with `take`, record it as held.
        /// `try_take` is the same acquisition without blocking: with `deadlock_detection`, a
        /// thread whose first try fails is registered as waiting while `take` blocks.
        #[inline(always)]
        #[cfg_attr(not(feature = "deadlock_detection"), allow(unused_variables))]
        fn acquire(
            &self,
            subclass: u32,
            access: Access,
            at: &'static Location<'static>,
            try_take: impl FnOnce(&R) -> bool,
            take: impl FnOnce(&R),
        ) -> Option<Pending> {
            match Acquisition::new(self.lock_ref(), subclass, access, Some(at)) {
                #[cfg(feature = "deadlock_detection")]
                Some(acq) => {
                    // Counted before the acquisition: what this thread held while it waited.
                    let held_before = validator::held_count();
                    validator::acquire(&acq, || {
                        crate::deadlock::Waiting::around(
                            &acq,
                            held_before,
                            || try_take(&self.raw).then_some(()),
                            || take(&self.raw),
                        )
                    })
                }
                #[cfg(not(feature = "deadlock_detection"))]
                Some(acq) => validator::acquire(&acq, || take(&self.raw)),
                None => {
                    take(&self.raw);
                    None
                }
            }
        }

        /// A trylock: never validated, recorded as held if it succeeded.
        #[inline]
        fn try_acquire(
            &self,
            subclass: u32,
            access: Access,
            at: &'static Location<'static>,
            take: impl FnOnce(&R) -> bool,
        ) -> bool {
            if subclass != 0 {
                crate::class::check_subclass(subclass, &self.class);
            }
            if !take(&self.raw) {
                return false;
            }
            if let Some(acq) = Acquisition::new(self.lock_ref(), subclass, access, Some(at)) {
                validator::after_lock(&acq, true);
            }
            true
        }

        /// A timed lock (`try_lock_for`, ...): it cannot hang for ever, so it is validated in the
        /// timed layer of the graph (a cycle of timed acquisitions only is a warning), and held
        /// like a trylock if it succeeded: nothing blocking depends on it.
        #[inline]
        fn timed_acquire(
            &self,
            access: Access,
            at: &'static Location<'static>,
            take: impl FnOnce(&R) -> bool,
        ) -> bool {
            let acq = Acquisition::new(self.lock_ref(), 0, access, Some(at));
            if let Some(acq) = &acq {
                validator::before_timed_lock(acq);
            }
            if !take(&self.raw) {
                return false;
            }
            if let Some(acq) = &acq {
                validator::after_lock(acq, true);
            }
            true
        }

        /// A timed upgrade: validated as a timed write at the guard's node; `op` upgrades.
        fn timed_upgrade(&self, op: impl FnOnce(&R) -> bool) -> bool {
            validator::before_timed_reacquire(self.addr(), Release::Upgradable, Access::Write);
            let upgraded = op(&self.raw);
            if upgraded {
                validator::change_access(self.addr(), Release::Upgradable, Access::Write);
            }
            upgraded
        }

        /// Validates taking the lock again as `access` while holding it as `held_as` (an upgrade,
        /// or a bump that may let other threads in), at the subclass its guard holds, then
        /// performs `op`.
        fn reacquire(&self, held_as: Release, access: Access, op: impl FnOnce(&R)) {
            validator::before_reacquire(self.addr(), held_as, access);
            op(&self.raw);
        }

        /// The subclass and location of a plain raw acquisition made as `how`: those of the
        /// nested guard this thread last released that way, when `lock_api` relocks after
        /// `unlocked`; subclass 0 and the caller otherwise.
        #[track_caller]
        #[inline]
        fn relock_site(&self, how: Release) -> (u32, &'static Location<'static>) {
            match validator::relock_entry(self.addr(), how) {
                Some(entry) => (
                    entry.node.subclass(),
                    entry.at.unwrap_or(Location::caller()),
                ),
                None => (0, Location::caller()),
            }
        }
    }

    impl<R: RawMutex> Checked<R> {
        /// Releases the lock for a condition-variable wait; returns what [`Self::relock_after_wait`]
        /// needs.
        pub(crate) fn unlock_for_wait(&self) -> Option<crate::held::HeldLock> {
            let entry = validator::before_wait(self.addr());
            // SAFETY: the caller holds the lock (it passed us its guard).
            unsafe { self.raw.unlock() };
            entry
        }

        /// Takes the lock again after a wait.
        pub(crate) fn relock_after_wait(&self, entry: Option<crate::held::HeldLock>) {
            #[cfg(feature = "deadlock_detection")]
            if let Some(entry) = &entry {
                let acq = Acquisition::of_entry(entry);
                crate::deadlock::Waiting::around(
                    &acq,
                    validator::held_count(),
                    || self.raw.try_lock().then_some(()),
                    || self.raw.lock(),
                );
                validator::after_wait(Some(*entry));
                return;
            }
            self.raw.lock();
            validator::after_wait(entry);
        }
    }

    impl<R: RawMutex> RawMutexAt for Checked<R> {
        #[inline]
        fn lock_at(&self, subclass: u32, at: &'static Location<'static>) -> Option<Pending> {
            self.acquire(subclass, Access::Write, at, R::try_lock, R::lock)
        }
        #[inline]
        fn try_lock_at(&self, subclass: u32, at: &'static Location<'static>) -> bool {
            self.try_acquire(subclass, Access::Write, at, R::try_lock)
        }
    }

    // SAFETY: every method delegates to `R`, which upholds the `RawMutex` contract; the
    // bookkeeping around it does not affect mutual exclusion.
    unsafe impl<R: RawMutex> RawMutex for Checked<R> {
        const INIT: Self = Checked::with_class(R::INIT, &UNCLASSED);
        type GuardMarker = GuardNoSend;

        #[track_caller]
        fn lock(&self) {
            let (subclass, at) = self.relock_site(Release::Exclusive);
            if let Some(pending) = self.lock_at(subclass, caller_or(at)) {
                pending.raise()
            }
        }

        #[track_caller]
        fn try_lock(&self) -> bool {
            self.try_lock_at(0, caller_or(Location::caller()))
        }

        #[inline]
        unsafe fn unlock(&self) {
            // SAFETY: forwarded contract: the caller holds the lock.
            validator::release_then(self.addr(), Release::Exclusive, || unsafe {
                self.raw.unlock()
            });
        }

        fn is_locked(&self) -> bool {
            self.raw.is_locked()
        }
    }

    // SAFETY: delegates to `R`.
    unsafe impl<R: RawMutexFair> RawMutexFair for Checked<R> {
        #[inline]
        unsafe fn unlock_fair(&self) {
            // SAFETY: forwarded contract.
            validator::release_then(self.addr(), Release::Exclusive, || unsafe {
                self.raw.unlock_fair()
            });
        }

        #[track_caller]
        unsafe fn bump(&self) {
            self.reacquire(Release::Exclusive, Access::Write, |raw| {
                // SAFETY: forwarded contract: the caller holds the lock.
                unsafe { raw.bump() }
            })
        }
    }

    // SAFETY: delegates to `R`.
    unsafe impl<R: RawMutexTimed> RawMutexTimed for Checked<R> {
        type Duration = R::Duration;
        type Instant = R::Instant;

        #[track_caller]
        fn try_lock_for(&self, timeout: Self::Duration) -> bool {
            self.timed_acquire(Access::Write, caller_or(Location::caller()), |r| {
                r.try_lock_for(timeout)
            })
        }

        #[track_caller]
        fn try_lock_until(&self, timeout: Self::Instant) -> bool {
            self.timed_acquire(Access::Write, caller_or(Location::caller()), |r| {
                r.try_lock_until(timeout)
            })
        }
    }

    impl<R: RawRwLock> RawRwLockAt for Checked<R> {
        #[inline]
        fn lock_shared_at(&self, subclass: u32, at: &'static Location<'static>) -> Option<Pending> {
            self.acquire(
                subclass,
                Access::Read,
                at,
                R::try_lock_shared,
                R::lock_shared,
            )
        }
        #[inline]
        fn try_lock_shared_at(&self, subclass: u32, at: &'static Location<'static>) -> bool {
            self.try_acquire(subclass, Access::Read, at, R::try_lock_shared)
        }
        #[inline]
        fn lock_exclusive_at(
            &self,
            subclass: u32,
            at: &'static Location<'static>,
        ) -> Option<Pending> {
            self.acquire(
                subclass,
                Access::Write,
                at,
                R::try_lock_exclusive,
                R::lock_exclusive,
            )
        }
        #[inline]
        fn try_lock_exclusive_at(&self, subclass: u32, at: &'static Location<'static>) -> bool {
            self.try_acquire(subclass, Access::Write, at, R::try_lock_exclusive)
        }
    }

    impl<R: RawRwLockRecursive> RawRwLockRecursiveAt for Checked<R> {
        #[inline]
        fn lock_shared_recursive_at(
            &self,
            subclass: u32,
            at: &'static Location<'static>,
        ) -> Option<Pending> {
            self.acquire(
                subclass,
                Access::RecursiveRead,
                at,
                R::try_lock_shared_recursive,
                R::lock_shared_recursive,
            )
        }
        #[inline]
        fn try_lock_shared_recursive_at(
            &self,
            subclass: u32,
            at: &'static Location<'static>,
        ) -> bool {
            self.try_acquire(
                subclass,
                Access::RecursiveRead,
                at,
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
        ) -> Option<Pending> {
            self.acquire(
                subclass,
                Access::Upgradable,
                at,
                R::try_lock_upgradable,
                R::lock_upgradable,
            )
        }
        #[inline]
        fn try_lock_upgradable_at(&self, subclass: u32, at: &'static Location<'static>) -> bool {
            self.try_acquire(subclass, Access::Upgradable, at, R::try_lock_upgradable)
        }
    }

    // SAFETY: delegates to `R`.
    unsafe impl<R: RawRwLock> RawRwLock for Checked<R> {
        const INIT: Self = Checked::with_class(R::INIT, &UNCLASSED);
        type GuardMarker = GuardNoSend;

        #[track_caller]
        fn lock_shared(&self) {
            let (subclass, at) = self.relock_site(Release::Shared);
            if let Some(pending) = self.lock_shared_at(subclass, caller_or(at)) {
                pending.raise()
            }
        }
        #[track_caller]
        fn try_lock_shared(&self) -> bool {
            self.try_lock_shared_at(0, caller_or(Location::caller()))
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
            let (subclass, at) = self.relock_site(Release::Exclusive);
            if let Some(pending) = self.lock_exclusive_at(subclass, caller_or(at)) {
                pending.raise()
            }
        }
        #[track_caller]
        fn try_lock_exclusive(&self) -> bool {
            self.try_lock_exclusive_at(0, caller_or(Location::caller()))
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

    // SAFETY: delegates to `R`.
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

    // SAFETY: delegates to `R`.
    unsafe impl<R: RawRwLockDowngrade> RawRwLockDowngrade for Checked<R> {
        unsafe fn downgrade(&self) {
            // SAFETY: forwarded contract.
            unsafe { self.raw.downgrade() };
            validator::change_access(self.addr(), Release::Exclusive, Access::Read);
        }
    }

    // SAFETY: delegates to `R`.
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

    // SAFETY: delegates to `R`.
    unsafe impl<R: RawRwLockRecursive> RawRwLockRecursive for Checked<R> {
        #[track_caller]
        fn lock_shared_recursive(&self) {
            let (subclass, at) = self.relock_site(Release::Shared);
            if let Some(pending) = self.lock_shared_recursive_at(subclass, caller_or(at)) {
                pending.raise()
            }
        }
        #[track_caller]
        fn try_lock_shared_recursive(&self) -> bool {
            self.try_lock_shared_recursive_at(0, caller_or(Location::caller()))
        }
    }

    // SAFETY: delegates to `R`.
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

    // SAFETY: delegates to `R`.
    unsafe impl<R: RawRwLockUpgrade> RawRwLockUpgrade for Checked<R> {
        #[track_caller]
        fn lock_upgradable(&self) {
            let (subclass, at) = self.relock_site(Release::Upgradable);
            if let Some(pending) = self.lock_upgradable_at(subclass, caller_or(at)) {
                pending.raise()
            }
        }
        #[track_caller]
        fn try_lock_upgradable(&self) -> bool {
            self.try_lock_upgradable_at(0, caller_or(Location::caller()))
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
            self.reacquire(Release::Upgradable, Access::Write, |raw| {
                // With `deadlock_detection`, an upgrade that has to wait for readers registers.
                #[cfg(feature = "deadlock_detection")]
                if let Some(acq) = Acquisition::new(self.lock_ref(), 0, Access::Write, None) {
                    crate::deadlock::Waiting::around(
                        &acq,
                        validator::held_count(),
                        // SAFETY: forwarded contract: the caller holds an upgradable lock.
                        || unsafe { raw.try_upgrade() }.then_some(()),
                        // SAFETY: as above; the try failed, so it is still upgradable.
                        || unsafe { raw.upgrade() },
                    );
                    return;
                }
                // SAFETY: forwarded contract: the caller holds an upgradable lock.
                unsafe { raw.upgrade() }
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

    // SAFETY: delegates to `R`.
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

    // SAFETY: delegates to `R`.
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

    // SAFETY: delegates to `R`.
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
}

/// Hooks for the `benches` crate; not part of the API, may change without notice.
///
/// The "new edge ≤ 2 µs" target is for the graph work; the backtrace capture that goes
/// with every new edge is timed apart, so the benches need to switch it off and to call it alone.
/// With the checks compiled out they do nothing (and capture nothing).
#[doc(hidden)]
#[cfg(not(lockdep_checks))]
pub mod bench {
    /// Does nothing: nothing is recorded with the checks compiled out.
    pub fn set_dependency_backtraces(on: bool) {
        let _ = on;
    }

    /// Captures nothing: returns 0.
    pub fn capture_backtrace() -> usize {
        0
    }

    /// Does nothing: there is no graph with the checks compiled out.
    pub fn set_exhaustive_search(on: bool) {
        let _ = on;
    }
}

/// Hooks for the `benches` crate; not part of the API, may change without notice.
///
/// The "new edge ≤ 2 µs" target is for the graph work; the backtrace capture that goes
/// with every new edge is timed apart, so the benches need to switch it off and to call it alone.
#[doc(hidden)]
#[cfg(lockdep_checks)]
pub mod bench {
    /// Whether new dependencies capture the backtrace where they were first seen (on by
    /// default). Off, they all share one empty trace: reports lose their first-seen stacks.
    pub fn set_dependency_backtraces(on: bool) {
        crate::trace::set_dependency_traces(on);
    }

    /// Performs the capture a new dependency performs (bounded, unresolved, then dropped) and
    /// returns how many frames it kept.
    #[inline(never)]
    pub fn capture_backtrace() -> usize {
        crate::trace::Trace::capture().depth()
    }

    /// Whether a new dependency's cycle search walks the whole reachable graph, as it did
    /// before the topological order bounded it (off by default): the `new_edge` bench's
    /// "before", measured in the same run as the "after".
    pub fn set_exhaustive_search(on: bool) {
        crate::graph::DEPENDENCIES.lock().set_exhaustive(on);
    }
}
