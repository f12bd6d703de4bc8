//! The 0.13 face's `RwLock` and `RecursiveRwLock`: `lock_api` 0.5's reader-writer lock over
//! this crate's raw lock, wrapped as [`Mutex`](super::mutex::Mutex) is (constructors that give a
//! class, blocking acquisitions that report at the user's line before the lock is taken), the
//! rest `lock_api` 0.5's own through `Deref`. With `RECURSIVE`, every read is a recursive read
//! (parking_lot 0.13's `RecursiveRwLock`), validated by the rules of `read_recursive`.

use super::forward::forward;
use super::raw_mutex::Marker;
use super::raw_rwlock::RawRwLockOf;
use crate::class::ClassCell;
use crate::construct::{class_constructors, default_and_from};
use crate::raw::{wrap, Raw};
use crate::{LockInstance, TrackedLock};
use lock_api::{
    RawRwLock, RawRwLockFair, RawRwLockRecursive, RawRwLockRecursiveTimed, RawRwLockUpgrade,
    RawRwLockUpgradeTimed,
};
use lock_api_05 as api;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::panic::Location;

/// The raw lock under a [`RwLock`] over `X`.
type RawOf<X, const RECURSIVE: bool> = RawRwLockOf<Raw<X>, RECURSIVE>;
/// The read guard of a [`RwLock`].
type ReadGuard<'a, X, const R: bool, T> = api::RwLockReadGuard<'a, RawOf<X, R>, T>;
/// The write guard of a [`RwLock`].
type WriteGuard<'a, X, const R: bool, T> = api::RwLockWriteGuard<'a, RawOf<X, R>, T>;
/// The upgradable read guard of a [`RwLock`].
type UpgradableGuard<'a, X, const R: bool, T> = api::RwLockUpgradableReadGuard<'a, RawOf<X, R>, T>;

/// The raw reader-writer locks this face is over (parking_lot's has every capability).
pub trait RawRwLock12: RawRwLock + RawRwLockRecursive + RawRwLockUpgrade + RawRwLockFair {}
impl<R: RawRwLock + RawRwLockRecursive + RawRwLockUpgrade + RawRwLockFair> RawRwLock12 for R {}

/// A reader-writer lock checked by lockdep with parking_lot 0.13's API: `lock_api` 0.5's
/// `RwLock` over the checked raw lock `RawRwLockOf<X, RECURSIVE>`, which it dereferences to.
/// [`RwLock<T>`](super::RwLock) and [`RecursiveRwLock<T>`](super::RecursiveRwLock) are this
/// type; their guards are `lock_api` 0.5's, exactly as parking_lot 0.13's are.
#[repr(transparent)] // `Arc<RwLock>` is viewed as `Arc<lock_api::RwLock>` by the `Arc` methods.
pub struct RwLock<X, const RECURSIVE: bool, T: ?Sized> {
    inner: api::RwLock<RawOf<X, RECURSIVE>, T>,
}

impl<X: RawRwLock12, const RECURSIVE: bool, T> RwLock<X, RECURSIVE, T> {
    class_constructors! {
        /// A new unlocked reader-writer lock whose class is its creation site.
        ///
        /// ```
        /// use lockdep_core::parking_lot_0_13::RecursiveRwLock;
        /// let table = RecursiveRwLock::new(vec![1]);
        /// let a = table.read();
        /// let b = table.read(); // a recursive read: never waits behind a writer
        /// assert_eq!(a.len() + b.len(), 2);
        /// ```
        pub const fn new(value: T) -> Self;
        /// A new unlocked reader-writer lock of the class `class` (a named static key).
        pub const fn with_class;
        /// A new unlocked reader-writer lock whose class is `name`.
        pub fn named;
        const fn from_cell(class) => Self::from_parts(X::INIT, class, value);
    }

    /// A new lock over the raw lock `raw` (`lock_api`'s `from_raw`), whose class is its
    /// creation site.
    #[track_caller]
    #[inline]
    pub const fn from_raw(raw: RawOf<X, RECURSIVE>, value: T) -> Self {
        let raw = crate::raw::unwrap(raw.into_inner());
        Self::from_parts(raw, ClassCell::from_site(Location::caller()), value)
    }

    #[inline]
    const fn from_parts(raw: X, class: ClassCell, value: T) -> Self {
        RwLock {
            inner: api::RwLock::from_raw(RawRwLockOf(wrap(raw, class)), value),
        }
    }

    /// Consumes the lock, returning the data.
    #[inline]
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }

    /// Consumes the lock, returning the raw lock (fresh, as `INIT`: this lock's class and
    /// instance end here, as when it is dropped) and the data.
    #[inline]
    pub fn into_inner_with_raw(self) -> (RawOf<X, RECURSIVE>, T) {
        let (raw, value) = self.inner.into_inner_with_raw();
        (RawRwLockOf(crate::raw::fresh(raw.into_inner())), value)
    }
}

impl<X: RawRwLock12, const RECURSIVE: bool, T: ?Sized> RwLock<X, RECURSIVE, T> {
    /// What this lock is, for its class in reports when it was made by `new`.
    #[cfg_attr(not(lockdep_checks), allow(dead_code))]
    const TYPE: Option<crate::class::LockTypeFn> = Some(if RECURSIVE {
        crate::class::lock_type!("RecursiveRwLock", T)
    } else {
        crate::class::lock_type!("RwLock", T)
    });

    /// The raw lock, to take it through.
    #[inline]
    fn raw_lock(&self) -> &RawOf<X, RECURSIVE> {
        // SAFETY: only used to take a lock that the guard made next owns.
        unsafe { self.inner.raw() }
    }

    /// Locks with shared read access, blocking until it can be taken, after validating the
    /// acquisition (a report panics here, before the lock is taken). A read of a
    /// `RecursiveRwLock` is a recursive read.
    #[track_caller]
    #[inline]
    pub fn read(&self) -> ReadGuard<'_, X, RECURSIVE, T> {
        let state = self.raw_lock().read_at(0, Self::TYPE);
        // SAFETY: a read is held, with this state.
        unsafe { self.inner.make_read_guard_unchecked(state) }
    }

    /// [`read`](Self::read) as nesting level `subclass` of the class.
    #[track_caller]
    #[inline]
    pub fn read_nested(&self, subclass: u32) -> ReadGuard<'_, X, RECURSIVE, T> {
        let state = self.raw_lock().read_at(subclass, Self::TYPE);
        // SAFETY: a read is held, with this state.
        unsafe { self.inner.make_read_guard_unchecked(state) }
    }

    /// Locks with exclusive write access, blocking until it can be taken, after validating the
    /// acquisition.
    #[track_caller]
    #[inline]
    pub fn write(&self) -> WriteGuard<'_, X, RECURSIVE, T> {
        let state = self.raw_lock().write_at(0, Self::TYPE);
        // SAFETY: the lock is held exclusively, with this state.
        unsafe { self.inner.make_write_guard_unchecked(state) }
    }

    /// [`write`](Self::write) as nesting level `subclass` of the class.
    #[track_caller]
    #[inline]
    pub fn write_nested(&self, subclass: u32) -> WriteGuard<'_, X, RECURSIVE, T> {
        let state = self.raw_lock().write_at(subclass, Self::TYPE);
        // SAFETY: the lock is held exclusively, with this state.
        unsafe { self.inner.make_write_guard_unchecked(state) }
    }

    /// Locks with upgradable read access, blocking until it can be taken, after validating the
    /// acquisition.
    #[track_caller]
    #[inline]
    pub fn upgradable_read(&self) -> UpgradableGuard<'_, X, RECURSIVE, T> {
        let state = self.raw_lock().upgradable_at(0, Self::TYPE);
        // SAFETY: the lock is held upgradable, with this state.
        unsafe { self.inner.make_upgradable_guard_unchecked(state) }
    }

    /// [`upgradable_read`](Self::upgradable_read) as nesting level `subclass` of the class.
    #[track_caller]
    #[inline]
    pub fn upgradable_read_nested(&self, subclass: u32) -> UpgradableGuard<'_, X, RECURSIVE, T> {
        let state = self.raw_lock().upgradable_at(subclass, Self::TYPE);
        // SAFETY: the lock is held upgradable, with this state.
        unsafe { self.inner.make_upgradable_guard_unchecked(state) }
    }

    /// The `lock_api` 0.5 lock underneath (also reached through `Deref`).
    #[inline]
    pub fn as_lock_api(&self) -> &api::RwLock<RawOf<X, RECURSIVE>, T> {
        &self.inner
    }

    forward! {
        /// Attempts a read without blocking (a trylock is never reported).
        fn try_read(&self) -> Option<ReadGuard<'_, X, RECURSIVE, T>>;
        /// Attempts a write without blocking.
        fn try_write(&self) -> Option<WriteGuard<'_, X, RECURSIVE, T>>;
        /// Attempts an upgradable read without blocking.
        fn try_upgradable_read(&self) -> Option<UpgradableGuard<'_, X, RECURSIVE, T>>;
        /// Whether the lock is held in any mode by any thread.
        fn is_locked(&self) -> bool;
        /// Whether the lock is held exclusively.
        fn is_locked_exclusive(&self) -> bool;
        /// A mutable reference to the data; no locking is needed since the borrow is unique.
        fn get_mut(&mut self) -> &mut T;
        /// A raw pointer to the data.
        fn data_ptr(&self) -> *mut T;
        /// Releases a read without a guard, given the raw guard state of its acquisition.
        ///
        /// # Safety
        /// A read must be held by the current context, with `guard` its state, and no guard of
        /// it alive.
        unsafe fn force_unlock_read(&self, guard: Marker);
        /// Releases the write lock without a guard, given its raw guard state.
        ///
        /// # Safety
        /// As [`force_unlock_read`](Self::force_unlock_read), for the write lock.
        unsafe fn force_unlock_write(&self, guard: Marker);
        /// Releases a read fairly without a guard.
        ///
        /// # Safety
        /// As [`force_unlock_read`](Self::force_unlock_read).
        unsafe fn force_unlock_read_fair(&self, guard: Marker);
        /// Releases the write lock fairly without a guard.
        ///
        /// # Safety
        /// As [`force_unlock_write`](Self::force_unlock_write).
        unsafe fn force_unlock_write_fair(&self, guard: Marker);
        /// The checked raw lock underneath.
        ///
        /// # Safety
        /// As `lock_api`'s: unlocking it while a guard exists is undefined behaviour.
        unsafe fn raw(&self) -> &RawOf<X, RECURSIVE>;
        /// Makes a read guard for a read taken through [`raw`](Self::raw).
        ///
        /// # Safety
        /// A read must be held by the current context, with `guard` its state.
        unsafe fn make_read_guard_unchecked(&self, guard: Marker) -> ReadGuard<'_, X, RECURSIVE, T>;
        /// Makes a write guard for a write taken through [`raw`](Self::raw).
        ///
        /// # Safety
        /// The write lock must be held by the current context, with `guard` its state.
        unsafe fn make_write_guard_unchecked(&self, guard: Marker) -> WriteGuard<'_, X, RECURSIVE, T>;
        /// Makes an upgradable guard for an upgradable read taken through [`raw`](Self::raw).
        ///
        /// # Safety
        /// The lock must be held upgradable by the current context, with `guard` its state.
        unsafe fn make_upgradable_guard_unchecked(
            &self,
            guard: Marker
        ) -> UpgradableGuard<'_, X, RECURSIVE, T>;
        /// Like [`read`](Self::read), for an `Arc`: the guard owns a clone of it.
        arc fn read_arc() -> api::ArcRwLockReadGuard<RawOf<X, RECURSIVE>, T>;
        /// Like [`try_read`](Self::try_read), for an `Arc`.
        arc fn try_read_arc() -> Option<api::ArcRwLockReadGuard<RawOf<X, RECURSIVE>, T>>;
        /// Like [`write`](Self::write), for an `Arc`.
        arc fn write_arc() -> api::ArcRwLockWriteGuard<RawOf<X, RECURSIVE>, T>;
        /// Like [`try_write`](Self::try_write), for an `Arc`.
        arc fn try_write_arc() -> Option<api::ArcRwLockWriteGuard<RawOf<X, RECURSIVE>, T>>;
        /// Like [`upgradable_read`](Self::upgradable_read), for an `Arc`.
        arc fn upgradable_read_arc() -> api::ArcRwLockUpgradableReadGuard<RawOf<X, RECURSIVE>, T>;
        /// Like [`try_upgradable_read`](Self::try_upgradable_read), for an `Arc`.
        arc fn try_upgradable_read_arc(
        ) -> Option<api::ArcRwLockUpgradableReadGuard<RawOf<X, RECURSIVE>, T>>;
    }
}

impl<X, const RECURSIVE: bool, T: ?Sized> RwLock<X, RECURSIVE, T>
where
    X: RawRwLock12 + RawRwLockRecursiveTimed + RawRwLockUpgradeTimed,
{
    forward! {
        /// Attempts a read until `timeout` has passed (a timed lock adds no blocking
        /// dependency to itself).
        fn try_read_for(&self, timeout: X::Duration) -> Option<ReadGuard<'_, X, RECURSIVE, T>>;
        /// Attempts a read until `timeout` is reached.
        fn try_read_until(&self, timeout: X::Instant) -> Option<ReadGuard<'_, X, RECURSIVE, T>>;
        /// Attempts a write until `timeout` has passed.
        fn try_write_for(&self, timeout: X::Duration) -> Option<WriteGuard<'_, X, RECURSIVE, T>>;
        /// Attempts a write until `timeout` is reached.
        fn try_write_until(&self, timeout: X::Instant) -> Option<WriteGuard<'_, X, RECURSIVE, T>>;
        /// Attempts an upgradable read until `timeout` has passed.
        fn try_upgradable_read_for(
            &self,
            timeout: X::Duration
        ) -> Option<UpgradableGuard<'_, X, RECURSIVE, T>>;
        /// Attempts an upgradable read until `timeout` is reached.
        fn try_upgradable_read_until(
            &self,
            timeout: X::Instant
        ) -> Option<UpgradableGuard<'_, X, RECURSIVE, T>>;
        /// Like [`try_read_for`](Self::try_read_for), for an `Arc`.
        arc fn try_read_arc_for(
            timeout: X::Duration
        ) -> Option<api::ArcRwLockReadGuard<RawOf<X, RECURSIVE>, T>>;
        /// Like [`try_read_until`](Self::try_read_until), for an `Arc`.
        arc fn try_read_arc_until(
            timeout: X::Instant
        ) -> Option<api::ArcRwLockReadGuard<RawOf<X, RECURSIVE>, T>>;
        /// Like [`try_write_for`](Self::try_write_for), for an `Arc`.
        arc fn try_write_arc_for(
            timeout: X::Duration
        ) -> Option<api::ArcRwLockWriteGuard<RawOf<X, RECURSIVE>, T>>;
        /// Like [`try_write_until`](Self::try_write_until), for an `Arc`.
        arc fn try_write_arc_until(
            timeout: X::Instant
        ) -> Option<api::ArcRwLockWriteGuard<RawOf<X, RECURSIVE>, T>>;
        /// Like [`try_upgradable_read_for`](Self::try_upgradable_read_for), for an `Arc`.
        arc fn try_upgradable_read_arc_for(
            timeout: X::Duration
        ) -> Option<api::ArcRwLockUpgradableReadGuard<RawOf<X, RECURSIVE>, T>>;
        /// Like [`try_upgradable_read_until`](Self::try_upgradable_read_until), for an `Arc`.
        arc fn try_upgradable_read_arc_until(
            timeout: X::Instant
        ) -> Option<api::ArcRwLockUpgradableReadGuard<RawOf<X, RECURSIVE>, T>>;
    }
}

#[cfg(feature = "arc_lock")]
crate::parking_lot_face::arc::transparent!(
    impl[X, const RECURSIVE: bool, T: ?Sized] RwLock<X, RECURSIVE, T>
        => api::RwLock<RawOf<X, RECURSIVE>, T>
);

impl<X, const RECURSIVE: bool, T: ?Sized> Deref for RwLock<X, RECURSIVE, T> {
    type Target = api::RwLock<RawOf<X, RECURSIVE>, T>;
    #[inline]
    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

impl<X, const RECURSIVE: bool, T: ?Sized> DerefMut for RwLock<X, RECURSIVE, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.inner
    }
}

impl<X: RawRwLock12, const RECURSIVE: bool, T: ?Sized> TrackedLock for RwLock<X, RECURSIVE, T> {
    fn lock_instance(&self) -> LockInstance<'_> {
        LockInstance::of_raw(self.raw_lock().inner())
    }
}

/// The `lock_api` 0.5 layer a guard's `rwlock()` gives is the same tracked lock.
impl<X: RawRwLock12, const RECURSIVE: bool, T: ?Sized> TrackedLock
    for api::RwLock<RawOf<X, RECURSIVE>, T>
{
    fn lock_instance(&self) -> LockInstance<'_> {
        // SAFETY: only the class of the raw lock is read.
        LockInstance::of_raw(unsafe { self.raw() }.inner())
    }
}

default_and_from!("RwLock": impl[X: RawRwLock12, const RECURSIVE: bool,] RwLock<X, RECURSIVE, T>);

impl<X: RawRwLock12, const RECURSIVE: bool, T: ?Sized + fmt::Debug> fmt::Debug
    for RwLock<X, RECURSIVE, T>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}
