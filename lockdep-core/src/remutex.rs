//! `ReentrantMutex`: recursive acquisition by the owning thread is legal and not reported.

use crate::class::{call_site, generic_cell, ClassCell};
use crate::raw::{wrap, Raw};
use crate::{LockClass, LockInstance, TrackedLock};
use lock_api::{GetThreadId, RawMutex};
use std::any::type_name;
use std::fmt;
use std::panic::Location;

/// A mutex the owning thread may lock again, checked by lockdep; generic over a raw mutex `R`
/// and a thread-id source `G`, as `lock_api::ReentrantMutex` is.
///
/// Only the outermost acquisition by a thread is an acquisition for lockdep (the nested ones
/// cannot block); it is validated like a mutex. Guards give shared access only.
pub struct ReentrantMutex<R, G, T: ?Sized> {
    inner: lock_api::ReentrantMutex<Raw<R>, G, T>,
}

/// Guard of [`ReentrantMutex`].
pub type ReentrantMutexGuard<'a, R, G, T> = lock_api::ReentrantMutexGuard<'a, Raw<R>, G, T>;

impl<R: RawMutex, G: GetThreadId, T> ReentrantMutex<R, G, T> {
    /// A new unlocked reentrant mutex whose class is its creation site.
    #[track_caller]
    #[inline]
    pub const fn new(value: T) -> Self {
        Self::from_cell(ClassCell::from_site(Location::caller()), value)
    }

    /// A new unlocked reentrant mutex of the class `class`.
    #[inline]
    pub const fn with_class(class: &'static LockClass, value: T) -> Self {
        Self::from_cell(ClassCell::from_key(class), value)
    }

    /// A new unlocked reentrant mutex whose class is `name`.
    pub fn named(name: &str, value: T) -> Self {
        Self::from_cell(ClassCell::from_name(name), value)
    }

    const fn from_cell(class: ClassCell, value: T) -> Self {
        ReentrantMutex {
            inner: lock_api::ReentrantMutex::from_raw(wrap(R::INIT, class), G::INIT, value),
        }
    }

    /// Consumes the mutex, returning the data.
    #[inline]
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<R: RawMutex, G: GetThreadId, T: ?Sized> ReentrantMutex<R, G, T> {
    /// Acquires the mutex; the owning thread may call this again while it holds a guard.
    #[track_caller]
    #[inline]
    pub fn lock(&self) -> ReentrantMutexGuard<'_, R, G, T> {
        self.inner.lock()
    }

    /// Attempts to acquire the mutex without blocking.
    #[track_caller]
    #[inline]
    pub fn try_lock(&self) -> Option<ReentrantMutexGuard<'_, R, G, T>> {
        self.inner.try_lock()
    }

    /// Whether any thread holds the mutex.
    #[inline]
    pub fn is_locked(&self) -> bool {
        self.inner.is_locked()
    }

    /// Whether the current thread holds the mutex.
    #[inline]
    pub fn is_owned_by_current_thread(&self) -> bool {
        self.inner.is_owned_by_current_thread()
    }

    /// A mutable reference to the data.
    #[inline]
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }

    /// The `lock_api` reentrant mutex underneath.
    #[inline]
    pub fn as_lock_api(&self) -> &lock_api::ReentrantMutex<Raw<R>, G, T> {
        &self.inner
    }
}

impl<R: RawMutex, G: GetThreadId, T: ?Sized> TrackedLock for ReentrantMutex<R, G, T> {
    fn lock_instance(&self) -> LockInstance<'_> {
        // SAFETY: only the address and class of the raw lock are read.
        LockInstance::of_raw(unsafe { self.inner.raw() })
    }
}

/// Classes as for `Mutex`'s `Default` (see `default_class`).
impl<R: RawMutex, G: GetThreadId, T: Default> Default for ReentrantMutex<R, G, T> {
    #[track_caller]
    #[cfg_attr(any(debug_assertions, feature = "release-checks"), inline(always))]
    fn default() -> Self {
        let class = generic_cell(
            Location::caller(),
            "ReentrantMutex",
            type_name::<T>(),
            true,
            call_site(),
        );
        Self::from_cell(class, T::default())
    }
}

impl<R: RawMutex, G: GetThreadId, T: ?Sized + fmt::Debug> fmt::Debug for ReentrantMutex<R, G, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}
