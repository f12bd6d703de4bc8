//! `ReentrantMutex`: recursive acquisition by the owning thread is legal and not reported.

use crate::caller::at_caller;
use crate::class::ClassCell;
use crate::construct::{class_constructors, default_and_from};
use crate::raw::{wrap, Raw};
use crate::{LockInstance, TrackedLock};
use lock_api::{GetThreadId, RawMutex, RawMutexFair, RawMutexTimed};
use std::fmt;
use std::panic::Location;

/// A mutex the owning thread may lock again, checked by lockdep; generic over a raw mutex `R`
/// and a thread-id source `G`, as `lock_api::ReentrantMutex` is.
///
/// Only the outermost acquisition by a thread is an acquisition for lockdep (the nested ones
/// cannot block); it is validated like a mutex. Guards give shared access only, and are never
/// `Send`; `ReentrantMutexGuard::remutex` gives the `lock_api` layer underneath.
#[repr(transparent)] // viewed as `lock_api::ReentrantMutex` by the `arc_lock` methods.
pub struct ReentrantMutex<R, G, T: ?Sized> {
    inner: lock_api::ReentrantMutex<Raw<R>, G, T>,
}

/// Guard of [`ReentrantMutex`].
pub type ReentrantMutexGuard<'a, R, G, T> = lock_api::ReentrantMutexGuard<'a, Raw<R>, G, T>;
/// A mapped guard of [`ReentrantMutex`].
pub type MappedReentrantMutexGuard<'a, R, G, T> =
    lock_api::MappedReentrantMutexGuard<'a, Raw<R>, G, T>;

impl<R: RawMutex, G: GetThreadId, T> ReentrantMutex<R, G, T> {
    class_constructors! {
        /// A new unlocked reentrant mutex whose class is its creation site.
        pub const fn new(value: T) -> Self;
        /// A new unlocked reentrant mutex of the class `class`.
        pub const fn with_class;
        /// A new unlocked reentrant mutex whose class is `name`.
        pub fn named;
        const fn from_cell(class) => Self::from_raw(R::INIT, G::INIT, class, value);
    }

    /// A new unlocked reentrant mutex over the raw mutex `raw` and the thread-id source
    /// `get_thread_id` (`lock_api`'s `const_new`), whose class is its creation site.
    #[track_caller]
    #[inline]
    pub const fn const_new(raw: Raw<R>, get_thread_id: G, value: T) -> Self {
        Self::from_raw(
            crate::raw::unwrap(raw),
            get_thread_id,
            ClassCell::from_site(Location::caller()),
            value,
        )
    }

    #[inline]
    const fn from_raw(raw: R, get_thread_id: G, class: ClassCell, value: T) -> Self {
        ReentrantMutex {
            inner: lock_api::ReentrantMutex::from_raw(
                wrap(raw, class.reentrant()),
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

    /// Consumes the mutex, returning the raw mutex underneath, the thread-id helper and the
    /// data (`lock_api` 0.5's, offered here for parking_lot 0.13's API). The raw mutex comes
    /// back fresh (as `INIT`: this lock's class and instance end here, as when it is dropped);
    /// the helper is `G::INIT` (a thread-id helper has no state
    /// of its own: `lock_api` builds every one from `INIT`).
    #[inline]
    pub fn into_inner_with_raw(self) -> (Raw<R>, G, T) {
        let this = std::mem::ManuallyDrop::new(self);
        // SAFETY: the raw mutex and the data are read once out of a value that is never used
        // or dropped again (`ManuallyDrop`); neither `lock_api`'s reentrant mutex nor this
        // wrapper has a `Drop` of its own, and its owner and count are plain integers.
        unsafe {
            (
                crate::raw::fresh(std::ptr::read(this.inner.raw())),
                G::INIT,
                std::ptr::read(this.inner.data_ptr()),
            )
        }
    }
}

impl<R: RawMutex, G: GetThreadId, T: ?Sized> ReentrantMutex<R, G, T> {
    /// Acquires the mutex; the owning thread may call this again while it holds a guard.
    #[track_caller]
    #[inline]
    pub fn lock(&self) -> ReentrantMutexGuard<'_, R, G, T> {
        at_caller(Location::caller(), || self.inner.lock())
    }

    /// Attempts to acquire the mutex without blocking.
    #[track_caller]
    #[inline]
    pub fn try_lock(&self) -> Option<ReentrantMutexGuard<'_, R, G, T>> {
        at_caller(Location::caller(), || self.inner.try_lock())
    }

    /// The raw lock underneath: the instrumented [`Checked<R>`](crate::raw::Checked) with the
    /// checks compiled in, `R` itself otherwise.
    ///
    /// # Safety
    /// As `lock_api`'s: unlocking the raw lock while a guard exists is undefined behaviour.
    #[inline]
    pub unsafe fn raw(&self) -> &Raw<R> {
        // SAFETY: forwarded contract.
        unsafe { self.inner.raw() }
    }

    /// Makes a guard without locking.
    ///
    /// # Safety
    /// The current thread must hold the mutex with a guard forgotten.
    #[inline]
    pub unsafe fn make_guard_unchecked(&self) -> ReentrantMutexGuard<'_, R, G, T> {
        // SAFETY: forwarded contract.
        unsafe { self.inner.make_guard_unchecked() }
    }

    /// Releases one level of the mutex without a guard.
    ///
    /// # Safety
    /// The current thread must hold the mutex with a guard forgotten.
    #[inline]
    pub unsafe fn force_unlock(&self) {
        // SAFETY: forwarded contract.
        unsafe { self.inner.force_unlock() }
    }

    /// A raw pointer to the data.
    #[inline]
    pub fn data_ptr(&self) -> *mut T {
        self.inner.data_ptr()
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

impl<R: RawMutexFair, G: GetThreadId, T: ?Sized> ReentrantMutex<R, G, T> {
    /// Releases one level of the mutex fairly without a guard.
    ///
    /// # Safety
    /// The current thread must hold the mutex with a guard forgotten.
    #[inline]
    pub unsafe fn force_unlock_fair(&self) {
        // SAFETY: forwarded contract.
        unsafe { self.inner.force_unlock_fair() }
    }
}

impl<R: RawMutexTimed, G: GetThreadId, T: ?Sized> ReentrantMutex<R, G, T> {
    /// Attempts to acquire the mutex until `timeout` has passed (a trylock for lockdep).
    #[track_caller]
    #[inline]
    pub fn try_lock_for(&self, timeout: R::Duration) -> Option<ReentrantMutexGuard<'_, R, G, T>> {
        at_caller(Location::caller(), || self.inner.try_lock_for(timeout))
    }

    /// Attempts to acquire the mutex until `timeout` is reached (a trylock for lockdep).
    #[track_caller]
    #[inline]
    pub fn try_lock_until(&self, timeout: R::Instant) -> Option<ReentrantMutexGuard<'_, R, G, T>> {
        at_caller(Location::caller(), || self.inner.try_lock_until(timeout))
    }
}

impl<R: RawMutex, G: GetThreadId, T: ?Sized> TrackedLock for ReentrantMutex<R, G, T> {
    fn lock_instance(&self) -> LockInstance<'_> {
        // SAFETY: only the address and class of the raw lock are read.
        LockInstance::of_raw(unsafe { self.inner.raw() })
    }
}

default_and_from!("ReentrantMutex": impl[R: RawMutex, G: GetThreadId,] ReentrantMutex<R, G, T>);

impl<R: RawMutex, G: GetThreadId, T: ?Sized + fmt::Debug> fmt::Debug for ReentrantMutex<R, G, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

/// A lockdep lock is its `lock_api` lock (with the class its constructor gave): `&ReentrantMutex<..>`
/// coerces to `&lock_api::ReentrantMutex<..>`, so code written over `lock_api` takes it.
impl<R: lock_api::RawMutex, G: lock_api::GetThreadId, T: ?Sized> std::ops::Deref
    for ReentrantMutex<R, G, T>
{
    type Target = lock_api::ReentrantMutex<Raw<R>, G, T>;
    #[inline]
    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

impl<R: lock_api::RawMutex, G: lock_api::GetThreadId, T: ?Sized> std::ops::DerefMut
    for ReentrantMutex<R, G, T>
{
    #[inline]
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.inner
    }
}
