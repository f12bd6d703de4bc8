//! `Mutex`: `lock_api`'s mutex over an instrumented raw lock, with lockdep's constructors.

use crate::caller::at_caller;
use crate::class::ClassCell;
use crate::construct::{class_constructors, default_and_from};
use crate::raw::{wrap, Raw, RawMutexAt};
use crate::{LockInstance, TrackedLock};
use lock_api::{RawMutex, RawMutexFair, RawMutexTimed};
use std::fmt;
use std::panic::Location;

/// A mutual-exclusion lock checked by lockdep, generic over any `lock_api` raw mutex `R`.
///
/// [`crate::Mutex<T>`] is this type over `parking_lot::RawMutex`; name another raw mutex here to
/// check it the same way. The API is `parking_lot`'s; guards are `lock_api`'s guards, so
/// `MutexGuard::map`, `unlocked`, `try_map` and the rest work unchanged.
///
/// Where it deliberately differs from `parking_lot`: guards are never `Send` (the held-lock
/// stack is per thread, so a guard released on another thread would leave a stale entry; the
/// `send_guard` feature of `parking_lot` has no counterpart), and `MutexGuard::mutex` and
/// [`raw`](Self::raw) give the `lock_api` mutex and the instrumented raw lock underneath.
#[repr(transparent)] // `Arc<Mutex>` is viewed as `Arc<lock_api::Mutex>` by the `arc_lock` methods.
pub struct Mutex<R, T: ?Sized> {
    inner: lock_api::Mutex<Raw<R>, T>,
}

/// The guard of [`Mutex`] (`lock_api`'s guard over the instrumented raw lock).
pub type MutexGuard<'a, R, T> = lock_api::MutexGuard<'a, Raw<R>, T>;
/// A mapped guard of [`Mutex`].
pub type MappedMutexGuard<'a, R, T> = lock_api::MappedMutexGuard<'a, Raw<R>, T>;

impl<R: RawMutex, T> Mutex<R, T> {
    class_constructors! {
        /// A new unlocked mutex whose class is its creation site (`file:line:column`): every
        /// mutex created by this line of code shares one class.
        ///
        /// ```
        /// static COUNTER: lockdep_core::Mutex<u64> = lockdep_core::Mutex::new(0);
        /// *COUNTER.lock() += 1;
        /// ```
        pub const fn new(value: T) -> Self;
        /// A new unlocked mutex of the class `class` (a named static key).
        pub const fn with_class;
        /// A new unlocked mutex whose class is `name`: every lock created with this name,
        /// anywhere, shares one class.
        pub fn named;
        const fn from_cell(class) => Self::from_raw(R::INIT, class, value);
    }

    /// A new unlocked mutex over the raw mutex `raw` (`lock_api`'s `const_new`: the raw lock under the typed one, such as
    /// [`RawMutex`](crate::RawMutex)), whose class is
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
        Mutex {
            inner: lock_api::Mutex::from_raw(wrap(raw, class), value),
        }
    }

    /// Consumes the mutex, returning the data.
    #[inline]
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }

    /// Consumes the mutex, returning the raw lock underneath and the data (`lock_api` 0.5's,
    /// offered here for parking_lot 0.13's API). The raw lock comes back fresh
    /// (as `INIT`): this mutex's class and instance end here, as when it is dropped.
    #[inline]
    pub fn into_inner_with_raw(self) -> (Raw<R>, T) {
        let this = std::mem::ManuallyDrop::new(self);
        // SAFETY: both fields are read once out of a value that is never used or dropped again
        // (`ManuallyDrop`); neither `lock_api`'s mutex nor this wrapper has a `Drop` of its own.
        unsafe {
            (
                crate::raw::fresh(std::ptr::read(this.inner.raw())),
                std::ptr::read(this.inner.data_ptr()),
            )
        }
    }
}

impl<R: RawMutex, T: ?Sized> Mutex<R, T> {
    /// What this lock is, for its class in reports when it was made by `new`.
    #[cfg_attr(not(lockdep_checks), allow(dead_code))]
    const TYPE: Option<crate::class::LockTypeFn> = Some(crate::class::lock_type!("Mutex", T));

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

    /// Makes a guard without locking.
    ///
    /// # Safety
    /// The current thread must hold the lock (taken through [`raw`](Self::raw), with its guard
    /// forgotten, or by `mem::forget` of a guard), as `lock_api` requires.
    #[inline]
    pub unsafe fn make_guard_unchecked(&self) -> MutexGuard<'_, R, T> {
        // SAFETY: forwarded contract.
        unsafe { self.inner.make_guard_unchecked() }
    }

    /// Acquires the mutex, blocking until it is available, after validating the acquisition
    /// against the locks this thread holds.
    #[track_caller]
    #[inline]
    pub fn lock(&self) -> MutexGuard<'_, R, T> {
        if let Some(pending) = self.checked().lock_at(0, Location::caller(), Self::TYPE) {
            pending.raise();
        }
        // SAFETY: the lock is held.
        unsafe { self.inner.make_guard_unchecked() }
    }

    /// Acquires the mutex as nesting level `subclass` of its class (the kernel's
    /// `mutex_lock_nested`): the same class at another level is a distinct node of the graph,
    /// so taking two locks of one class in a fixed hierarchy is not reported.
    ///
    /// Panics if `subclass >= MAX_SUBCLASSES` (8).
    ///
    /// ```
    /// use lockdep_core::Mutex;
    /// let parent = Mutex::named("doc-inode", ());
    /// let child = Mutex::named("doc-inode", ());
    /// let _p = parent.lock();
    /// let _c = child.lock_nested(1); // same class, one level down: fine
    /// ```
    #[track_caller]
    #[inline]
    pub fn lock_nested(&self, subclass: u32) -> MutexGuard<'_, R, T> {
        if let Some(pending) = self
            .checked()
            .lock_at(subclass, Location::caller(), Self::TYPE)
        {
            pending.raise();
        }
        // SAFETY: the lock is held.
        unsafe { self.inner.make_guard_unchecked() }
    }

    /// Attempts to acquire the mutex without blocking. A successful trylock is held (later
    /// acquisitions depend on it) but adds no dependency to itself, and is never reported.
    #[track_caller]
    #[inline]
    pub fn try_lock(&self) -> Option<MutexGuard<'_, R, T>> {
        if self
            .checked()
            .try_lock_at(0, Location::caller(), Self::TYPE)
        {
            // SAFETY: the lock is held.
            Some(unsafe { self.inner.make_guard_unchecked() })
        } else {
            None
        }
    }

    /// Whether the mutex is locked by any thread.
    #[inline]
    pub fn is_locked(&self) -> bool {
        self.inner.is_locked()
    }

    /// A mutable reference to the data; no locking is needed since the borrow is unique.
    #[inline]
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }

    /// A raw pointer to the data.
    #[inline]
    pub fn data_ptr(&self) -> *mut T {
        self.inner.data_ptr()
    }

    /// Releases the mutex without a guard (after `mem::forget` of one).
    ///
    /// # Safety
    /// The mutex must be locked by the current thread, with its guard forgotten.
    #[inline]
    pub unsafe fn force_unlock(&self) {
        // SAFETY: forwarded contract.
        unsafe { self.inner.force_unlock() }
    }

    /// The `lock_api` mutex underneath, for APIs this type does not forward.
    #[inline]
    pub fn as_lock_api(&self) -> &lock_api::Mutex<Raw<R>, T> {
        &self.inner
    }
}

impl<R: RawMutexTimed, T: ?Sized> Mutex<R, T> {
    /// Attempts to acquire the mutex until `timeout` has passed. It cannot hang for ever, so it
    /// adds no blocking dependency to itself; an inversion taken with timed locks on every side
    /// is reported as a [`TimedInversion`](crate::ReportKind::TimedInversion) warning.
    #[track_caller]
    #[inline]
    pub fn try_lock_for(&self, timeout: R::Duration) -> Option<MutexGuard<'_, R, T>> {
        at_caller(Location::caller(), || self.inner.try_lock_for(timeout))
    }

    /// Attempts to acquire the mutex until `timeout` is reached.
    #[track_caller]
    #[inline]
    pub fn try_lock_until(&self, timeout: R::Instant) -> Option<MutexGuard<'_, R, T>> {
        at_caller(Location::caller(), || self.inner.try_lock_until(timeout))
    }
}

impl<R: RawMutexFair, T: ?Sized> Mutex<R, T> {
    /// Releases the mutex fairly without a guard (after `mem::forget` of one).
    ///
    /// # Safety
    /// The mutex must be locked by the current thread, with its guard forgotten.
    #[inline]
    pub unsafe fn force_unlock_fair(&self) {
        // SAFETY: forwarded contract.
        unsafe { self.inner.force_unlock_fair() }
    }
}

impl<R: RawMutex, T: ?Sized> TrackedLock for Mutex<R, T> {
    fn lock_instance(&self) -> LockInstance<'_> {
        LockInstance::of_raw(self.checked())
    }
}

default_and_from!("Mutex": impl[R: RawMutex,] Mutex<R, T>);

impl<R: RawMutex, T: ?Sized + fmt::Debug> fmt::Debug for Mutex<R, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

/// A lockdep lock is its `lock_api` lock (with the class its constructor gave): `&Mutex<..>`
/// coerces to `&lock_api::Mutex<..>`, so code written over `lock_api` takes it.
impl<R, T: ?Sized> std::ops::Deref for Mutex<R, T> {
    type Target = lock_api::Mutex<Raw<R>, T>;
    #[inline]
    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

impl<R, T: ?Sized> std::ops::DerefMut for Mutex<R, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.inner
    }
}
