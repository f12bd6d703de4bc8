//! The 0.13 face's `ReentrantMutex`: `lock_api` 0.5's reentrant mutex over this crate's raw
//! mutex, wrapped as [`Mutex`](super::mutex::Mutex) is. Only a thread's outermost acquisition
//! reaches the raw mutex, so only it is validated, as a mutex is.

use super::forward::forward;
use super::raw_mutex::{RawMutexOf, RawThreadId};
use crate::caller::at_caller;
use crate::class::ClassCell;
use crate::construct::{class_constructors, default_and_from};
use crate::raw::{wrap, Raw};
use crate::{LockInstance, TrackedLock};
use lock_api::{RawMutex, RawMutexFair, RawMutexTimed};
use lock_api_05 as api;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::panic::Location;

/// The raw mutex under a [`ReentrantMutex`] over `X`.
type RawOf<X> = RawMutexOf<Raw<X>>;
/// The guard of a [`ReentrantMutex`] over `X`.
type Guard<'a, X, T> = api::ReentrantMutexGuard<'a, RawOf<X>, RawThreadId, T>;
/// The guard of an `Arc`ed [`ReentrantMutex`] over `X`.
#[cfg(feature = "arc_lock")]
type ArcGuard<X, T> = api::ArcReentrantMutexGuard<RawOf<X>, RawThreadId, T>;

/// A reentrant mutex checked by lockdep with parking_lot 0.13's API: `lock_api` 0.5's
/// `ReentrantMutex` over the checked raw mutex, which it dereferences to.
/// [`ReentrantMutex<T>`](super::ReentrantMutex) is this type over parking_lot's raw mutex.
#[repr(transparent)] // viewed as `lock_api::ReentrantMutex` by the `Arc` methods.
pub struct ReentrantMutex<X: RawMutex, T: ?Sized> {
    inner: api::ReentrantMutex<RawOf<X>, RawThreadId, T>,
}

impl<X: RawMutex, T> ReentrantMutex<X, T> {
    class_constructors! {
        /// A new unlocked reentrant mutex whose class is its creation site.
        pub const fn new(value: T) -> Self;
        /// A new unlocked reentrant mutex of the class `class`.
        pub const fn with_class;
        /// A new unlocked reentrant mutex whose class is `name`.
        pub fn named;
        const fn from_cell(class) => Self::from_parts(
            X::INIT,
            <RawThreadId as api::GetThreadId>::INIT,
            class,
            value,
        );
    }

    /// A new reentrant mutex over the raw mutex `raw` and the thread-id source `get_thread_id`
    /// (`lock_api`'s `from_raw`), whose class is its creation site.
    #[track_caller]
    #[inline]
    pub const fn from_raw(raw: RawOf<X>, get_thread_id: RawThreadId, value: T) -> Self {
        let raw = crate::raw::unwrap(raw.into_inner());
        Self::from_parts(
            raw,
            get_thread_id,
            ClassCell::from_site(Location::caller()),
            value,
        )
    }

    #[inline]
    const fn from_parts(raw: X, get_thread_id: RawThreadId, class: ClassCell, value: T) -> Self {
        ReentrantMutex {
            inner: api::ReentrantMutex::from_raw(
                RawMutexOf(wrap(raw, class)),
                get_thread_id,
                value,
            ),
        }
    }

    /// Consumes the mutex, returning the data.
    #[inline]
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }

    /// Consumes the mutex, returning the raw mutex (fresh, as `INIT`: this mutex's class and
    /// instance end here, as when it is dropped), the
    /// thread-id source and the data.
    #[inline]
    pub fn into_inner_with_raw(self) -> (RawOf<X>, RawThreadId, T) {
        let (raw, ids, value) = self.inner.into_inner_with_raw();
        (RawMutexOf(crate::raw::fresh(raw.into_inner())), ids, value)
    }
}

impl<X: RawMutex, T: ?Sized> ReentrantMutex<X, T> {
    /// Acquires the mutex, blocking until it is available; the owning thread takes it again at
    /// once. The outermost acquisition is validated (a report panics here, before the lock is
    /// taken).
    #[track_caller]
    #[inline]
    pub fn lock(&self) -> Guard<'_, X, T> {
        at_caller(Location::caller(), || self.inner.lock())
    }

    /// The `lock_api` 0.5 mutex underneath (also reached through `Deref`).
    #[inline]
    pub fn as_lock_api(&self) -> &api::ReentrantMutex<RawOf<X>, RawThreadId, T> {
        &self.inner
    }

    forward! {
        /// Attempts to acquire the mutex without blocking (a trylock is never reported).
        fn try_lock(&self) -> Option<Guard<'_, X, T>>;
        /// Whether the mutex is locked by any thread.
        fn is_locked(&self) -> bool;
        /// Whether the current thread holds the mutex.
        fn is_owned_by_current_thread(&self) -> bool;
        /// A mutable reference to the data; no locking is needed since the borrow is unique.
        fn get_mut(&mut self) -> &mut T;
        /// A raw pointer to the data.
        fn data_ptr(&self) -> *mut T;
        /// Releases one level of the mutex without a guard.
        ///
        /// # Safety
        /// The current thread must hold the mutex, with the guard of that level forgotten.
        unsafe fn force_unlock(&self);
        /// The checked raw mutex underneath.
        ///
        /// # Safety
        /// As `lock_api`'s: unlocking it while a guard exists is undefined behaviour.
        unsafe fn raw(&self) -> &RawOf<X>;
        /// Makes a guard without locking.
        ///
        /// # Safety
        /// The current thread must hold the mutex, as `lock_api` requires.
        unsafe fn make_guard_unchecked(&self) -> Guard<'_, X, T>;
        /// Like [`lock`](Self::lock), for an `Arc`: the guard owns a clone of it.
        arc fn lock_arc() -> ArcGuard<X, T>;
        /// Like [`try_lock`](Self::try_lock), for an `Arc`.
        arc fn try_lock_arc() -> Option<ArcGuard<X, T>>;
    }
}

impl<X: RawMutexFair, T: ?Sized> ReentrantMutex<X, T> {
    forward! {
        /// Releases one level of the mutex fairly without a guard.
        ///
        /// # Safety
        /// As [`force_unlock`](Self::force_unlock).
        unsafe fn force_unlock_fair(&self);
    }
}

impl<X: RawMutexTimed, T: ?Sized> ReentrantMutex<X, T> {
    forward! {
        /// Attempts to acquire the mutex until `timeout` has passed.
        fn try_lock_for(&self, timeout: X::Duration) -> Option<Guard<'_, X, T>>;
        /// Attempts to acquire the mutex until `timeout` is reached.
        fn try_lock_until(&self, timeout: X::Instant) -> Option<Guard<'_, X, T>>;
        /// Like [`try_lock_for`](Self::try_lock_for), for an `Arc`.
        arc fn try_lock_arc_for(timeout: X::Duration) -> Option<ArcGuard<X, T>>;
        /// Like [`try_lock_until`](Self::try_lock_until), for an `Arc`.
        arc fn try_lock_arc_until(timeout: X::Instant) -> Option<ArcGuard<X, T>>;
    }
}

#[cfg(feature = "arc_lock")]
crate::parking_lot_face::arc::transparent!(
    impl[X: RawMutex, T: ?Sized] ReentrantMutex<X, T>
        => api::ReentrantMutex<RawOf<X>, RawThreadId, T>
);

impl<X: RawMutex, T: ?Sized> Deref for ReentrantMutex<X, T> {
    type Target = api::ReentrantMutex<RawOf<X>, RawThreadId, T>;
    #[inline]
    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

impl<X: RawMutex, T: ?Sized> DerefMut for ReentrantMutex<X, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.inner
    }
}

impl<X: RawMutex, T: ?Sized> TrackedLock for ReentrantMutex<X, T> {
    fn lock_instance(&self) -> LockInstance<'_> {
        // SAFETY: only the class of the raw lock is read.
        LockInstance::of_raw(unsafe { self.inner.raw() }.inner())
    }
}

/// The `lock_api` 0.5 layer a guard's `remutex()` gives is the same tracked lock.
impl<X: RawMutex, T: ?Sized> TrackedLock for api::ReentrantMutex<RawOf<X>, RawThreadId, T> {
    fn lock_instance(&self) -> LockInstance<'_> {
        // SAFETY: only the class of the raw lock is read.
        LockInstance::of_raw(unsafe { self.raw() }.inner())
    }
}

default_and_from!("ReentrantMutex": impl[X: RawMutex,] ReentrantMutex<X, T>);

impl<X: RawMutex, T: ?Sized + fmt::Debug> fmt::Debug for ReentrantMutex<X, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}
