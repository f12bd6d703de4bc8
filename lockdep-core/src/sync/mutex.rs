use super::hooks::{self, Held, Release};
use super::{map_result, map_try_result};
use crate::access::Access;
use crate::class::ClassCell;
use crate::construct::{class_constructors, default_and_from};
use crate::{LockInstance, TrackedLock};
use std::fmt;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::panic::Location;
use std::sync::{LockResult, TryLockResult};

/// `std::sync::Mutex`, checked by lockdep. Same API: `lock` returns a `LockResult`, a panic while
/// the guard is held poisons the mutex.
pub struct Mutex<T: ?Sized> {
    class: ClassCell,
    inner: std::sync::Mutex<T>,
}

/// Guard of [`Mutex`]; releases the lock (and its lockdep entry) when dropped.
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MutexGuard<'a, T: ?Sized + 'a> {
    inner: ManuallyDrop<std::sync::MutexGuard<'a, T>>,
    held: Held,
}

impl<T> Mutex<T> {
    class_constructors! {
        /// A new mutex whose class is its creation site.
        pub const fn new(value: T) -> Self;
        /// A new mutex of the class `class`.
        pub const fn with_class;
        /// A new mutex whose class is `name`.
        pub fn named;
        const fn from_cell(class) => Mutex {
            class,
            inner: std::sync::Mutex::new(value),
        };
    }

    /// Consumes the mutex, returning the data (an error if it is poisoned).
    pub fn into_inner(self) -> LockResult<T> {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// What this lock is, for its class in reports when it was made by `new`.
    const TYPE: crate::class::LockTypeFn = crate::class::lock_type!("Mutex", T);

    #[inline]
    fn guard<'a>(&'a self, inner: std::sync::MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        MutexGuard {
            inner: ManuallyDrop::new(inner),
            held: Held::new(&self.class),
        }
    }

    /// Acquires the mutex, blocking; validated against the locks this thread holds.
    #[inline]
    #[track_caller]
    pub fn lock(&self) -> LockResult<MutexGuard<'_, T>> {
        self.lock_at(0, Location::caller())
    }

    /// Acquires the mutex as nesting level `subclass` of its class.
    #[inline]
    #[track_caller]
    pub fn lock_nested(&self, subclass: u32) -> LockResult<MutexGuard<'_, T>> {
        self.lock_at(subclass, Location::caller())
    }

    #[inline]
    #[track_caller]
    fn lock_at(
        &self,
        subclass: u32,
        at: &'static Location<'static>,
    ) -> LockResult<MutexGuard<'_, T>> {
        // Our guard is made inside `take`: the result then goes straight to the caller, where
        // moving std's `LockResult` out of the validator's path cost a store-forwarding stall.
        hooks::lock(
            &self.class,
            Self::TYPE,
            subclass,
            Access::Write,
            at,
            || super::try_now(self.inner.try_lock()).map(|r| map_result(r, |g| self.guard(g))),
            || map_result(self.inner.lock(), |g| self.guard(g)),
        )
    }

    /// Attempts to acquire the mutex without blocking (never reported).
    #[track_caller]
    pub fn try_lock(&self) -> TryLockResult<MutexGuard<'_, T>> {
        let at = Location::caller();
        map_try_result(
            self.inner.try_lock(),
            || hooks::try_locked(&self.class, Self::TYPE, Access::Write, at),
            |g| self.guard(g),
        )
    }

    /// Whether a thread panicked while holding the mutex.
    pub fn is_poisoned(&self) -> bool {
        self.inner.is_poisoned()
    }

    /// Clears the poisoned state.
    pub fn clear_poison(&self) {
        self.inner.clear_poison()
    }

    /// A mutable reference to the data (an error if poisoned).
    pub fn get_mut(&mut self) -> LockResult<&mut T> {
        self.inner.get_mut()
    }
}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// Takes the standard guard out without releasing the lock or its lockdep entry.
    pub(crate) fn into_parts(self) -> (std::sync::MutexGuard<'a, T>, Held) {
        let mut this = ManuallyDrop::new(self);
        // SAFETY: `this` is never used or dropped again, so the guard is moved out exactly once.
        let inner = unsafe { ManuallyDrop::take(&mut this.inner) };
        (inner, this.held)
    }

    pub(crate) fn from_parts(inner: std::sync::MutexGuard<'a, T>, held: Held) -> Self {
        MutexGuard {
            inner: ManuallyDrop::new(inner),
            held,
        }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: dropped exactly once, here.
        hooks::release_then(self.held, Release::Exclusive, || unsafe {
            ManuallyDrop::drop(&mut self.inner)
        });
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T: ?Sized> TrackedLock for Mutex<T> {
    fn lock_instance(&self) -> LockInstance<'_> {
        LockInstance::of_class(&self.class)
    }
}

default_and_from!("Mutex": impl[] Mutex<T>);

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}
