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

/// `std::sync::RwLock`, checked by lockdep. `read` is modelled as a fair read (the standard
/// library's readers may queue behind a waiting writer), so it can deadlock like a write.
pub struct RwLock<T: ?Sized> {
    class: ClassCell,
    inner: std::sync::RwLock<T>,
}

/// Read guard of [`RwLock`].
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockReadGuard<'a, T: ?Sized + 'a> {
    inner: ManuallyDrop<std::sync::RwLockReadGuard<'a, T>>,
    held: Held,
}

/// Write guard of [`RwLock`].
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockWriteGuard<'a, T: ?Sized + 'a> {
    inner: ManuallyDrop<std::sync::RwLockWriteGuard<'a, T>>,
    held: Held,
}

impl<T> RwLock<T> {
    class_constructors! {
        /// A new rwlock whose class is its creation site.
        pub const fn new(value: T) -> Self;
        /// A new rwlock of the class `class`.
        pub const fn with_class;
        /// A new rwlock whose class is `name`.
        pub fn named;
        const fn from_cell(class) => RwLock {
            class,
            inner: std::sync::RwLock::new(value),
        };
    }

    /// Consumes the lock, returning the data (an error if poisoned).
    pub fn into_inner(self) -> LockResult<T> {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// What this lock is, for its class in reports when it was made by `new`.
    const TYPE: crate::class::LockTypeFn = crate::class::lock_type!("RwLock", T);

    /// Shared read access (a fair read for lockdep).
    #[inline]
    #[track_caller]
    pub fn read(&self) -> LockResult<RwLockReadGuard<'_, T>> {
        self.read_at(0, Location::caller())
    }

    /// [`read`](Self::read) at nesting level `subclass`.
    #[inline]
    #[track_caller]
    pub fn read_nested(&self, subclass: u32) -> LockResult<RwLockReadGuard<'_, T>> {
        self.read_at(subclass, Location::caller())
    }

    #[inline]
    #[track_caller]
    fn read_at(
        &self,
        subclass: u32,
        at: &'static Location<'static>,
    ) -> LockResult<RwLockReadGuard<'_, T>> {
        // The guard is made inside `take`, as `Mutex::lock_at` does (see there).
        hooks::lock(
            &self.class,
            Self::TYPE,
            subclass,
            Access::Read,
            at,
            || super::try_now(self.inner.try_read()).map(|r| map_result(r, |g| self.read_guard(g))),
            || map_result(self.inner.read(), |g| self.read_guard(g)),
        )
    }

    /// Exclusive write access.
    #[inline]
    #[track_caller]
    pub fn write(&self) -> LockResult<RwLockWriteGuard<'_, T>> {
        self.write_at(0, Location::caller())
    }

    /// [`write`](Self::write) at nesting level `subclass`.
    #[inline]
    #[track_caller]
    pub fn write_nested(&self, subclass: u32) -> LockResult<RwLockWriteGuard<'_, T>> {
        self.write_at(subclass, Location::caller())
    }

    #[inline]
    #[track_caller]
    fn write_at(
        &self,
        subclass: u32,
        at: &'static Location<'static>,
    ) -> LockResult<RwLockWriteGuard<'_, T>> {
        // The guard is made inside `take`, as `Mutex::lock_at` does (see there).
        hooks::lock(
            &self.class,
            Self::TYPE,
            subclass,
            Access::Write,
            at,
            || {
                super::try_now(self.inner.try_write())
                    .map(|r| map_result(r, |g| self.write_guard(g)))
            },
            || map_result(self.inner.write(), |g| self.write_guard(g)),
        )
    }

    /// Attempts shared access without blocking.
    #[track_caller]
    pub fn try_read(&self) -> TryLockResult<RwLockReadGuard<'_, T>> {
        let at = Location::caller();
        map_try_result(
            self.inner.try_read(),
            || hooks::try_locked(&self.class, Self::TYPE, Access::Read, at),
            |g| self.read_guard(g),
        )
    }

    /// Attempts exclusive access without blocking.
    #[track_caller]
    pub fn try_write(&self) -> TryLockResult<RwLockWriteGuard<'_, T>> {
        let at = Location::caller();
        map_try_result(
            self.inner.try_write(),
            || hooks::try_locked(&self.class, Self::TYPE, Access::Write, at),
            |g| self.write_guard(g),
        )
    }

    fn read_guard<'a>(
        &'a self,
        inner: std::sync::RwLockReadGuard<'a, T>,
    ) -> RwLockReadGuard<'a, T> {
        RwLockReadGuard {
            inner: ManuallyDrop::new(inner),
            held: Held::new(&self.class),
        }
    }

    fn write_guard<'a>(
        &'a self,
        inner: std::sync::RwLockWriteGuard<'a, T>,
    ) -> RwLockWriteGuard<'a, T> {
        RwLockWriteGuard {
            inner: ManuallyDrop::new(inner),
            held: Held::new(&self.class),
        }
    }

    /// Whether a writer panicked while holding the lock.
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

#[cfg(std_rwlock_downgrade)]
impl<'a, T: ?Sized> RwLockWriteGuard<'a, T> {
    /// Turns the write lock into a read lock without letting a writer in between
    /// (`std::sync::RwLockWriteGuard::downgrade`). lockdep holds it as a fair read from then on.
    /// Available where std has it (Rust 1.92 and later).
    #[allow(clippy::incompatible_msrv)] // only built where std has it: see build.rs
    pub fn downgrade(s: Self) -> RwLockReadGuard<'a, T> {
        let mut this = ManuallyDrop::new(s);
        // SAFETY: `this` is never used or dropped again, so the guard is moved out exactly once.
        let inner = unsafe { ManuallyDrop::take(&mut this.inner) };
        let held = this.held;
        let read = std::sync::RwLockWriteGuard::downgrade(inner);
        hooks::downgraded(held);
        RwLockReadGuard {
            inner: ManuallyDrop::new(read),
            held,
        }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: dropped exactly once, here.
        hooks::release_then(self.held, Release::Shared, || unsafe {
            ManuallyDrop::drop(&mut self.inner)
        });
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: dropped exactly once, here.
        hooks::release_then(self.held, Release::Exclusive, || unsafe {
            ManuallyDrop::drop(&mut self.inner)
        });
    }
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T: ?Sized> TrackedLock for RwLock<T> {
    fn lock_instance(&self) -> LockInstance<'_> {
        LockInstance::of_class(&self.class)
    }
}

default_and_from!("RwLock": impl[] RwLock<T>);

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}
