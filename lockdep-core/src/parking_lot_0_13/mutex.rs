//! The 0.13 face's `Mutex` (and `FairMutex`): `lock_api` 0.5's mutex over this crate's raw
//! mutex, wrapped so that its constructors give it a class (its creation site, a key or a name)
//! and its blocking acquisitions raise a report at the user's line before the lock is taken.
//! Everything else is `lock_api` 0.5's own, reached through `Deref`: guards, `try_lock`, the
//! timed locks (whose `#[track_caller]` chain reaches the checked raw lock), `force_unlock`
//! with its raw guard state, ...

use super::forward::forward;
use super::raw_mutex::{Marker, RawMutexOf};
use crate::class::ClassCell;
use crate::construct::{class_constructors, default_and_from};
use crate::raw::{wrap, Raw};
use crate::{LockInstance, TrackedLock};
use lock_api::{RawMutex, RawMutexFair, RawMutexTimed};
use lock_api_05 as api;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::panic::Location;

/// The raw mutex under a [`Mutex`] over `X`.
type RawOf<X> = RawMutexOf<Raw<X>>;
/// The guard of a [`Mutex`] over `X`.
type Guard<'a, X, T> = api::MutexGuard<'a, RawOf<X>, T>;

/// A mutex checked by lockdep with parking_lot 0.13's API: `lock_api` 0.5's `Mutex` over the
/// checked raw mutex `RawMutexOf<X>` (`X`: one of parking_lot's raw mutexes), which it
/// dereferences to. [`Mutex<T>`](super::Mutex) and [`FairMutex<T>`](super::FairMutex) are this
/// type; their guards are `lock_api` 0.5's, exactly as parking_lot 0.13's are.
///
/// The one spelling that does not carry over: `let m: lock_api::Mutex<RawMutex, T> =
/// Mutex::new(..)`. `lock_api`'s own `new` cannot see its caller, so lockdep's mutex is a
/// wrapper whose `new` can; `&Mutex<T>` still coerces to `&lock_api::Mutex<RawMutex, T>`.
#[repr(transparent)] // `Arc<Mutex>` is viewed as `Arc<lock_api::Mutex>` by the `Arc` methods.
pub struct Mutex<X, T: ?Sized> {
    inner: api::Mutex<RawOf<X>, T>,
}

impl<X: RawMutex, T> Mutex<X, T> {
    class_constructors! {
        /// A new unlocked mutex whose class is its creation site (`file:line:column`).
        ///
        /// ```
        /// use lockdep_core::parking_lot_0_13::Mutex;
        /// static COUNTER: Mutex<u64> = Mutex::new(0);
        /// *COUNTER.lock() += 1;
        /// ```
        pub const fn new(value: T) -> Self;
        /// A new unlocked mutex of the class `class` (a named static key).
        pub const fn with_class;
        /// A new unlocked mutex whose class is `name`.
        pub fn named;
        const fn from_cell(class) => Self::from_parts(X::INIT, class, value);
    }

    /// A new mutex over the raw mutex `raw` (`lock_api`'s `from_raw`), whose class is its
    /// creation site.
    #[track_caller]
    #[inline]
    pub const fn from_raw(raw: RawOf<X>, value: T) -> Self {
        let raw = crate::raw::unwrap(raw.into_inner());
        Self::from_parts(raw, ClassCell::from_site(Location::caller()), value)
    }

    #[inline]
    const fn from_parts(raw: X, class: ClassCell, value: T) -> Self {
        Mutex {
            inner: api::Mutex::from_raw(RawMutexOf(wrap(raw, class)), value),
        }
    }

    /// Consumes the mutex, returning the data.
    #[inline]
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }

    /// Consumes the mutex, returning the raw mutex (fresh, as `INIT`: this mutex's class and
    /// instance end here, as when it is dropped) and the data.
    #[inline]
    pub fn into_inner_with_raw(self) -> (RawOf<X>, T) {
        let (raw, value) = self.inner.into_inner_with_raw();
        (RawMutexOf(crate::raw::fresh(raw.into_inner())), value)
    }
}

impl<X: RawMutex, T: ?Sized> Mutex<X, T> {
    /// What this lock is, for its class in reports when it was made by `new`.
    #[cfg_attr(not(lockdep_checks), allow(dead_code))]
    const TYPE: Option<crate::class::LockTypeFn> = Some(crate::class::lock_type!("Mutex", T));

    /// Acquires the mutex, blocking until it is available, after validating the acquisition
    /// against the locks this thread holds (a report panics here, before the lock is taken).
    #[track_caller]
    #[inline]
    pub fn lock(&self) -> Guard<'_, X, T> {
        // SAFETY: `raw` is only used to take the lock that the guard made next owns.
        let state = unsafe { self.inner.raw() }.lock_at(0, Self::TYPE);
        // SAFETY: the lock is held, with this state.
        unsafe { self.inner.make_guard_unchecked(state) }
    }

    /// Acquires the mutex as nesting level `subclass` of its class (the kernel's
    /// `mutex_lock_nested`). Panics if `subclass >= MAX_SUBCLASSES` (8).
    #[track_caller]
    #[inline]
    pub fn lock_nested(&self, subclass: u32) -> Guard<'_, X, T> {
        // SAFETY: as in `lock`.
        let state = unsafe { self.inner.raw() }.lock_at(subclass, Self::TYPE);
        // SAFETY: the lock is held, with this state.
        unsafe { self.inner.make_guard_unchecked(state) }
    }

    /// The `lock_api` 0.5 mutex underneath (also reached through `Deref`).
    #[inline]
    pub fn as_lock_api(&self) -> &api::Mutex<RawOf<X>, T> {
        &self.inner
    }

    forward! {
        /// Attempts to acquire the mutex without blocking. A successful trylock is held (later
        /// acquisitions depend on it) but adds no dependency to itself, and is never reported.
        fn try_lock(&self) -> Option<Guard<'_, X, T>>;
        /// Whether the mutex is locked by any thread.
        fn is_locked(&self) -> bool;
        /// A mutable reference to the data; no locking is needed since the borrow is unique.
        fn get_mut(&mut self) -> &mut T;
        /// A raw pointer to the data.
        fn data_ptr(&self) -> *mut T;
        /// Releases the mutex without a guard, given the raw guard state of its acquisition.
        ///
        /// # Safety
        /// The mutex must be held by the current context, with `guard` the state of that
        /// acquisition, and no guard of it alive.
        unsafe fn force_unlock(&self, guard: Marker);
        /// The checked raw mutex underneath.
        ///
        /// # Safety
        /// As `lock_api`'s: unlocking it while a guard exists is undefined behaviour.
        unsafe fn raw(&self) -> &RawOf<X>;
        /// Makes a guard for an acquisition made through [`raw`](Self::raw).
        ///
        /// # Safety
        /// The mutex must be held by the current context, with `guard` the state of that
        /// acquisition.
        unsafe fn make_guard_unchecked(&self, guard: Marker) -> Guard<'_, X, T>;
        /// Like [`lock`](Self::lock), for an `Arc`: the guard owns a clone of it.
        arc fn lock_arc() -> api::ArcMutexGuard<RawOf<X>, T>;
        /// Like [`try_lock`](Self::try_lock), for an `Arc`.
        arc fn try_lock_arc() -> Option<api::ArcMutexGuard<RawOf<X>, T>>;
    }
}

impl<X: RawMutexFair, T: ?Sized> Mutex<X, T> {
    forward! {
        /// Releases the mutex fairly without a guard, given the raw guard state.
        ///
        /// # Safety
        /// As [`force_unlock`](Self::force_unlock).
        unsafe fn force_unlock_fair(&self, guard: Marker);
    }
}

impl<X: RawMutexTimed, T: ?Sized> Mutex<X, T> {
    forward! {
        /// Attempts to acquire the mutex until `timeout` has passed. It cannot hang for ever,
        /// so it adds no blocking dependency to itself.
        fn try_lock_for(&self, timeout: X::Duration) -> Option<Guard<'_, X, T>>;
        /// Attempts to acquire the mutex until `timeout` is reached.
        fn try_lock_until(&self, timeout: X::Instant) -> Option<Guard<'_, X, T>>;
        /// Like [`try_lock_for`](Self::try_lock_for), for an `Arc`.
        arc fn try_lock_arc_for(timeout: X::Duration) -> Option<api::ArcMutexGuard<RawOf<X>, T>>;
        /// Like [`try_lock_until`](Self::try_lock_until), for an `Arc`.
        arc fn try_lock_arc_until(timeout: X::Instant) -> Option<api::ArcMutexGuard<RawOf<X>, T>>;
    }
}

#[cfg(feature = "arc_lock")]
crate::parking_lot_face::arc::transparent!(impl[X, T: ?Sized] Mutex<X, T> => api::Mutex<RawOf<X>, T>);

impl<X, T: ?Sized> Deref for Mutex<X, T> {
    type Target = api::Mutex<RawOf<X>, T>;
    #[inline]
    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

impl<X, T: ?Sized> DerefMut for Mutex<X, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.inner
    }
}

impl<X: RawMutex, T: ?Sized> TrackedLock for Mutex<X, T> {
    fn lock_instance(&self) -> LockInstance<'_> {
        // SAFETY: only the class of the raw lock is read.
        LockInstance::of_raw(unsafe { self.inner.raw() }.inner())
    }
}

/// The `lock_api` 0.5 layer a guard's `mutex()` gives is the same tracked lock.
impl<X: RawMutex, T: ?Sized> TrackedLock for api::Mutex<RawOf<X>, T> {
    fn lock_instance(&self) -> LockInstance<'_> {
        // SAFETY: only the class of the raw lock is read.
        LockInstance::of_raw(unsafe { self.raw() }.inner())
    }
}

default_and_from!("Mutex": impl[X: RawMutex,] Mutex<X, T>);

impl<X: RawMutex, T: ?Sized + fmt::Debug> fmt::Debug for Mutex<X, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}
