//! `RwLock`: `lock_api`'s reader-writer lock over an instrumented raw lock.

use crate::caller::at_caller;
use crate::class::ClassCell;
use crate::construct::{class_constructors, default_and_from};
use crate::raw::{wrap, Raw, RawRwLockAt, RawRwLockRecursiveAt, RawRwLockUpgradeAt};
use crate::{LockInstance, TrackedLock};
use lock_api::{
    RawRwLock, RawRwLockFair, RawRwLockRecursive, RawRwLockRecursiveTimed, RawRwLockTimed,
    RawRwLockUpgrade, RawRwLockUpgradeTimed,
};
use std::fmt;
use std::panic::Location;

/// A reader-writer lock checked by lockdep, generic over any `lock_api` raw rwlock `R`.
///
/// [`crate::RwLock<T>`] is this type over `parking_lot::RawRwLock`. Reads follow lockdep's
/// rules: [`read`](Self::read) is a *fair* read — it queues behind a waiting writer, so it can
/// deadlock like a write — while [`read_recursive`](Self::read_recursive) skips the queue only
/// while the lock is read-held at the moment of the call (all `lock_api` promises), so only a
/// cycle made entirely of recursive reads under readers (`-(SR)->`) is safe with it.
///
/// As for [`Mutex`](crate::generic::Mutex), guards are never `Send`, and the guards' `rwlock`
/// accessors and [`raw`](Self::raw) give the `lock_api` layer underneath.
#[repr(transparent)] // `Arc<RwLock>` is viewed as `Arc<lock_api::RwLock>` by the `arc_lock` methods.
pub struct RwLock<R, T: ?Sized> {
    inner: lock_api::RwLock<Raw<R>, T>,
}

/// Read guard of [`RwLock`].
pub type RwLockReadGuard<'a, R, T> = lock_api::RwLockReadGuard<'a, Raw<R>, T>;
/// Write guard of [`RwLock`].
pub type RwLockWriteGuard<'a, R, T> = lock_api::RwLockWriteGuard<'a, Raw<R>, T>;
/// Upgradable read guard of [`RwLock`]; `RwLockUpgradableReadGuard::upgrade` is validated as an
/// acquisition of the write side.
pub type RwLockUpgradableReadGuard<'a, R, T> = lock_api::RwLockUpgradableReadGuard<'a, Raw<R>, T>;
/// Mapped read guard of [`RwLock`].
pub type MappedRwLockReadGuard<'a, R, T> = lock_api::MappedRwLockReadGuard<'a, Raw<R>, T>;
/// Mapped write guard of [`RwLock`].
pub type MappedRwLockWriteGuard<'a, R, T> = lock_api::MappedRwLockWriteGuard<'a, Raw<R>, T>;

impl<R: RawRwLock, T> RwLock<R, T> {
    class_constructors! {
        /// A new unlocked rwlock whose class is its creation site.
        pub const fn new(value: T) -> Self;
        /// A new unlocked rwlock of the class `class`.
        pub const fn with_class;
        /// A new unlocked rwlock whose class is `name` (shared by every lock of that name).
        pub fn named;
        const fn from_cell(class) => Self::from_raw(R::INIT, class, value);
    }

    /// A new unlocked rwlock over the raw lock `raw` (`lock_api`'s `const_new`), whose class is
    /// its creation site.
    #[track_caller]
    #[inline]
    pub const fn const_new(raw: Raw<R>, value: T) -> Self {
        Self::from_raw(
            crate::raw::unwrap(raw),
            ClassCell::from_site(Location::caller()),
            value,
        )
    }

    #[inline]
    const fn from_raw(raw: R, class: ClassCell, value: T) -> Self {
        RwLock {
            inner: lock_api::RwLock::from_raw(wrap(raw, class), value),
        }
    }

    /// Consumes the lock, returning the data.
    #[inline]
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }

    /// Consumes the lock, returning the raw lock underneath and the data (`lock_api` 0.5's,
    /// offered here for parking_lot 0.13's API). The raw lock comes back fresh (as
    /// `INIT`): this lock's class and instance end here, as when it is dropped.
    #[inline]
    pub fn into_inner_with_raw(self) -> (Raw<R>, T) {
        let this = std::mem::ManuallyDrop::new(self);
        // SAFETY: both fields are read once out of a value that is never used or dropped again
        // (`ManuallyDrop`); neither `lock_api`'s lock nor this wrapper has a `Drop` of its own.
        unsafe {
            (
                crate::raw::fresh(std::ptr::read(this.inner.raw())),
                std::ptr::read(this.inner.data_ptr()),
            )
        }
    }
}

macro_rules! guarded {
    ($self:ident, $take:expr, $make:ident) => {{
        // A report's panic is raised here, in the `#[track_caller]` method: it names the
        // user's call.
        if let Some(pending) = $take {
            pending.raise();
        }
        // SAFETY: the lock is held in the mode the guard releases.
        unsafe { $self.inner.$make() }
    }};
}

macro_rules! try_guarded {
    ($self:ident, $take:expr, $make:ident) => {{
        if $take {
            // SAFETY: the lock is held in the mode the guard releases.
            Some(unsafe { $self.inner.$make() })
        } else {
            None
        }
    }};
}

impl<R: RawRwLock, T: ?Sized> RwLock<R, T> {
    /// What this lock is, for its class in reports when it was made by `new`.
    #[cfg_attr(not(lockdep_checks), allow(dead_code))]
    const TYPE: Option<crate::class::LockTypeFn> = Some(crate::class::lock_type!("RwLock", T));

    #[inline]
    fn checked(&self) -> &Raw<R> {
        // SAFETY: only used to lock through the instrumented raw lock and then make the guard
        // that owns that lock.
        unsafe { self.inner.raw() }
    }

    /// The raw lock underneath: the instrumented [`Checked<R>`](crate::raw::Checked) with the
    /// checks compiled in, `R` itself otherwise. Locking or unlocking through it is tracked.
    ///
    /// # Safety
    /// As `lock_api`'s: unlocking the raw lock while a guard exists is undefined behaviour.
    #[inline]
    pub unsafe fn raw(&self) -> &Raw<R> {
        // SAFETY: forwarded contract.
        unsafe { self.inner.raw() }
    }

    /// Makes a read guard without locking.
    ///
    /// # Safety
    /// The current thread must hold a shared lock whose guard was forgotten.
    #[inline]
    pub unsafe fn make_read_guard_unchecked(&self) -> RwLockReadGuard<'_, R, T> {
        // SAFETY: forwarded contract.
        unsafe { self.inner.make_read_guard_unchecked() }
    }

    /// Makes a write guard without locking.
    ///
    /// # Safety
    /// The current thread must hold the exclusive lock with its guard forgotten.
    #[inline]
    pub unsafe fn make_write_guard_unchecked(&self) -> RwLockWriteGuard<'_, R, T> {
        // SAFETY: forwarded contract.
        unsafe { self.inner.make_write_guard_unchecked() }
    }

    /// A fair shared read: blocks while a writer holds *or waits for* the lock. Modelled as able
    /// to deadlock like a write (a reader queued behind a waiting writer).
    #[track_caller]
    #[inline]
    pub fn read(&self) -> RwLockReadGuard<'_, R, T> {
        guarded!(
            self,
            self.checked()
                .lock_shared_at(0, Location::caller(), Self::TYPE),
            make_read_guard_unchecked
        )
    }

    /// [`read`](Self::read) at nesting level `subclass`.
    #[track_caller]
    #[inline]
    pub fn read_nested(&self, subclass: u32) -> RwLockReadGuard<'_, R, T> {
        guarded!(
            self,
            self.checked()
                .lock_shared_at(subclass, Location::caller(), Self::TYPE),
            make_read_guard_unchecked
        )
    }

    /// Attempts a shared read without blocking (never reported; adds no dependency to itself).
    #[track_caller]
    #[inline]
    pub fn try_read(&self) -> Option<RwLockReadGuard<'_, R, T>> {
        try_guarded!(
            self,
            self.checked()
                .try_lock_shared_at(0, Location::caller(), Self::TYPE),
            make_read_guard_unchecked
        )
    }

    /// Exclusive write access.
    #[track_caller]
    #[inline]
    pub fn write(&self) -> RwLockWriteGuard<'_, R, T> {
        guarded!(
            self,
            self.checked()
                .lock_exclusive_at(0, Location::caller(), Self::TYPE),
            make_write_guard_unchecked
        )
    }

    /// [`write`](Self::write) at nesting level `subclass`.
    #[track_caller]
    #[inline]
    pub fn write_nested(&self, subclass: u32) -> RwLockWriteGuard<'_, R, T> {
        guarded!(
            self,
            self.checked()
                .lock_exclusive_at(subclass, Location::caller(), Self::TYPE),
            make_write_guard_unchecked
        )
    }

    /// Attempts exclusive access without blocking.
    #[track_caller]
    #[inline]
    pub fn try_write(&self) -> Option<RwLockWriteGuard<'_, R, T>> {
        try_guarded!(
            self,
            self.checked()
                .try_lock_exclusive_at(0, Location::caller(), Self::TYPE),
            make_write_guard_unchecked
        )
    }

    /// Whether any thread holds the lock in any mode.
    #[inline]
    pub fn is_locked(&self) -> bool {
        self.inner.is_locked()
    }

    /// Whether a writer holds the lock.
    #[inline]
    pub fn is_locked_exclusive(&self) -> bool {
        self.inner.is_locked_exclusive()
    }

    /// A mutable reference to the data.
    #[inline]
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }

    /// A raw pointer to the data.
    #[inline]
    pub fn data_ptr(&self) -> *mut T {
        self.inner.data_ptr()
    }

    /// Releases a shared lock without a guard.
    ///
    /// # Safety
    /// The current thread must hold a shared lock whose guard was forgotten.
    #[inline]
    pub unsafe fn force_unlock_read(&self) {
        // SAFETY: forwarded contract.
        unsafe { self.inner.force_unlock_read() }
    }

    /// Releases the exclusive lock without a guard.
    ///
    /// # Safety
    /// The current thread must hold the exclusive lock with its guard forgotten.
    #[inline]
    pub unsafe fn force_unlock_write(&self) {
        // SAFETY: forwarded contract.
        unsafe { self.inner.force_unlock_write() }
    }

    /// The `lock_api` rwlock underneath.
    #[inline]
    pub fn as_lock_api(&self) -> &lock_api::RwLock<Raw<R>, T> {
        &self.inner
    }
}

impl<R: RawRwLockRecursive, T: ?Sized> RwLock<R, T> {
    /// A recursive shared read: succeeds at once if the lock is read-held at the moment of the
    /// call, even with a writer queued, so a reader inside another read section of this lock
    /// cannot deadlock against it. Otherwise it parks like any reader and, once parked, can stay
    /// behind a writer that queued meanwhile; so for lockdep (`-(xR)->` dependencies) a cycle
    /// through it is a deadlock unless every dependency of the cycle is `-(SR)->` (DESIGN.md,
    /// rule 10).
    #[track_caller]
    #[inline]
    pub fn read_recursive(&self) -> RwLockReadGuard<'_, R, T> {
        guarded!(
            self,
            self.checked()
                .lock_shared_recursive_at(0, Location::caller(), Self::TYPE),
            make_read_guard_unchecked
        )
    }

    /// [`read_recursive`](Self::read_recursive) at nesting level `subclass`.
    #[track_caller]
    #[inline]
    pub fn read_recursive_nested(&self, subclass: u32) -> RwLockReadGuard<'_, R, T> {
        guarded!(
            self,
            self.checked()
                .lock_shared_recursive_at(subclass, Location::caller(), Self::TYPE),
            make_read_guard_unchecked
        )
    }

    /// Attempts a recursive read without blocking.
    #[track_caller]
    #[inline]
    pub fn try_read_recursive(&self) -> Option<RwLockReadGuard<'_, R, T>> {
        try_guarded!(
            self,
            self.checked()
                .try_lock_shared_recursive_at(0, Location::caller(), Self::TYPE),
            make_read_guard_unchecked
        )
    }
}

impl<R: RawRwLockUpgrade, T: ?Sized> RwLock<R, T> {
    /// An upgradable read: shared with readers, exclusive against writers and other upgradable
    /// readers. Validated like a write for the locks it waits on; held as a reader.
    #[track_caller]
    #[inline]
    pub fn upgradable_read(&self) -> RwLockUpgradableReadGuard<'_, R, T> {
        guarded!(
            self,
            self.checked()
                .lock_upgradable_at(0, Location::caller(), Self::TYPE),
            make_upgradable_guard_unchecked
        )
    }

    /// [`upgradable_read`](Self::upgradable_read) at nesting level `subclass`.
    #[track_caller]
    #[inline]
    pub fn upgradable_read_nested(&self, subclass: u32) -> RwLockUpgradableReadGuard<'_, R, T> {
        guarded!(
            self,
            self.checked()
                .lock_upgradable_at(subclass, Location::caller(), Self::TYPE),
            make_upgradable_guard_unchecked
        )
    }

    /// Attempts an upgradable read without blocking.
    #[track_caller]
    #[inline]
    pub fn try_upgradable_read(&self) -> Option<RwLockUpgradableReadGuard<'_, R, T>> {
        try_guarded!(
            self,
            self.checked()
                .try_lock_upgradable_at(0, Location::caller(), Self::TYPE),
            make_upgradable_guard_unchecked
        )
    }
}

impl<R: RawRwLockTimed, T: ?Sized> RwLock<R, T> {
    /// Attempts a fair read until `timeout` has passed (a timed lock for lockdep: DESIGN.md
    /// rule 26).
    #[track_caller]
    #[inline]
    pub fn try_read_for(&self, timeout: R::Duration) -> Option<RwLockReadGuard<'_, R, T>> {
        at_caller(Location::caller(), || self.inner.try_read_for(timeout))
    }

    /// Attempts a fair read until `timeout` is reached (a trylock for lockdep).
    #[track_caller]
    #[inline]
    pub fn try_read_until(&self, timeout: R::Instant) -> Option<RwLockReadGuard<'_, R, T>> {
        at_caller(Location::caller(), || self.inner.try_read_until(timeout))
    }

    /// Attempts exclusive access until `timeout` has passed (a timed lock for lockdep).
    #[track_caller]
    #[inline]
    pub fn try_write_for(&self, timeout: R::Duration) -> Option<RwLockWriteGuard<'_, R, T>> {
        at_caller(Location::caller(), || self.inner.try_write_for(timeout))
    }

    /// Attempts exclusive access until `timeout` is reached (a trylock for lockdep).
    #[track_caller]
    #[inline]
    pub fn try_write_until(&self, timeout: R::Instant) -> Option<RwLockWriteGuard<'_, R, T>> {
        at_caller(Location::caller(), || self.inner.try_write_until(timeout))
    }
}

impl<R: RawRwLockRecursiveTimed, T: ?Sized> RwLock<R, T> {
    /// Attempts a recursive read until `timeout` has passed (a trylock for lockdep).
    #[track_caller]
    #[inline]
    pub fn try_read_recursive_for(
        &self,
        timeout: R::Duration,
    ) -> Option<RwLockReadGuard<'_, R, T>> {
        at_caller(Location::caller(), || {
            self.inner.try_read_recursive_for(timeout)
        })
    }

    /// Attempts a recursive read until `timeout` is reached (a trylock for lockdep).
    #[track_caller]
    #[inline]
    pub fn try_read_recursive_until(
        &self,
        timeout: R::Instant,
    ) -> Option<RwLockReadGuard<'_, R, T>> {
        at_caller(Location::caller(), || {
            self.inner.try_read_recursive_until(timeout)
        })
    }
}

impl<R: RawRwLockUpgradeTimed, T: ?Sized> RwLock<R, T> {
    /// Attempts an upgradable read until `timeout` has passed (a trylock for lockdep).
    #[track_caller]
    #[inline]
    pub fn try_upgradable_read_for(
        &self,
        timeout: R::Duration,
    ) -> Option<RwLockUpgradableReadGuard<'_, R, T>> {
        at_caller(Location::caller(), || {
            self.inner.try_upgradable_read_for(timeout)
        })
    }

    /// Attempts an upgradable read until `timeout` is reached (a trylock for lockdep).
    #[track_caller]
    #[inline]
    pub fn try_upgradable_read_until(
        &self,
        timeout: R::Instant,
    ) -> Option<RwLockUpgradableReadGuard<'_, R, T>> {
        at_caller(Location::caller(), || {
            self.inner.try_upgradable_read_until(timeout)
        })
    }
}

impl<R: RawRwLockUpgrade, T: ?Sized> RwLock<R, T> {
    /// Makes an upgradable guard without locking.
    ///
    /// # Safety
    /// The current thread must hold an upgradable lock whose guard was forgotten.
    #[inline]
    pub unsafe fn make_upgradable_guard_unchecked(&self) -> RwLockUpgradableReadGuard<'_, R, T> {
        // SAFETY: forwarded contract.
        unsafe { self.inner.make_upgradable_guard_unchecked() }
    }
}

impl<R: RawRwLockFair, T: ?Sized> RwLock<R, T> {
    /// Releases a shared lock fairly without a guard.
    ///
    /// # Safety
    /// The current thread must hold a shared lock whose guard was forgotten.
    #[inline]
    pub unsafe fn force_unlock_read_fair(&self) {
        // SAFETY: forwarded contract.
        unsafe { self.inner.force_unlock_read_fair() }
    }

    /// Releases the exclusive lock fairly without a guard.
    ///
    /// # Safety
    /// The current thread must hold the exclusive lock with its guard forgotten.
    #[inline]
    pub unsafe fn force_unlock_write_fair(&self) {
        // SAFETY: forwarded contract.
        unsafe { self.inner.force_unlock_write_fair() }
    }
}

impl<R: RawRwLock, T: ?Sized> TrackedLock for RwLock<R, T> {
    fn lock_instance(&self) -> LockInstance<'_> {
        LockInstance::of_raw(self.checked())
    }
}

default_and_from!("RwLock": impl[R: RawRwLock,] RwLock<R, T>);

impl<R: RawRwLock, T: ?Sized + fmt::Debug> fmt::Debug for RwLock<R, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

/// A lockdep lock is its `lock_api` lock (with the class its constructor gave): `&RwLock<..>`
/// coerces to `&lock_api::RwLock<..>`, so code written over `lock_api` takes it.
impl<R, T: ?Sized> std::ops::Deref for RwLock<R, T> {
    type Target = lock_api::RwLock<Raw<R>, T>;
    #[inline]
    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

impl<R, T: ?Sized> std::ops::DerefMut for RwLock<R, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.inner
    }
}
