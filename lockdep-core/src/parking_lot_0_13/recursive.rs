//! parking_lot 0.13's `RecursiveRwLock`: a reader-writer lock whose every read is a recursive
//! read (it never waits behind a queued writer, so a thread that reads it may read it again).
//! It is this crate's `RwLock` with `read` made `read_recursive`, so its reads are validated
//! by the rules of `read_recursive` (parking_lot's recursive-read rule, `DESIGN.md`), its
//! guards are the `RwLock`'s, and its class is its creation site like any lock's.

use crate::raw::Raw;
use crate::{LockClass, LockInstance, TrackedLock};
use std::fmt;
use std::time::{Duration, Instant};

/// The raw lock under [`RecursiveRwLock`]: the same checked raw lock as [`RwLock`]'s
/// (`crate::RawRwLock`), whose recursive reads the typed layer chooses.
///
/// [`RwLock`]: crate::RwLock
pub type RawRwLockRecursive = crate::RawRwLock;

/// Read guard of [`RecursiveRwLock`] (the `RwLock`'s).
pub type RecursiveRwLockReadGuard<'a, T> = crate::RwLockReadGuard<'a, T>;
/// Write guard of [`RecursiveRwLock`].
pub type RecursiveRwLockWriteGuard<'a, T> = crate::RwLockWriteGuard<'a, T>;
/// Upgradable read guard of [`RecursiveRwLock`].
pub type RecursiveRwLockUpgradableReadGuard<'a, T> = crate::RwLockUpgradableReadGuard<'a, T>;
/// Mapped read guard of [`RecursiveRwLock`].
pub type MappedRecursiveRwLockReadGuard<'a, T> = crate::MappedRwLockReadGuard<'a, T>;
/// Mapped write guard of [`RecursiveRwLock`].
pub type MappedRecursiveRwLockWriteGuard<'a, T> = crate::MappedRwLockWriteGuard<'a, T>;

/// A reader-writer lock whose reads are recursive (parking_lot 0.13's `RecursiveRwLock`),
/// checked by lockdep with the rules of `read_recursive`: a read taken while the thread reads
/// the lock already is no recursion, and a recursive read is never the waiting side of a
/// cycle through writers it would not wait for.
///
/// ```
/// use lockdep_core::parking_lot_0_13::RecursiveRwLock;
///
/// let lock = RecursiveRwLock::new(1);
/// let a = lock.read();
/// let b = lock.read(); // a recursive read: never waits behind a writer
/// assert_eq!(*a + *b, 2);
/// ```
#[repr(transparent)]
pub struct RecursiveRwLock<T: ?Sized> {
    inner: crate::RwLock<T>,
}

impl<T> RecursiveRwLock<T> {
    /// A new unlocked lock whose class is its creation site.
    #[track_caller]
    #[inline]
    pub const fn new(value: T) -> Self {
        RecursiveRwLock {
            inner: crate::RwLock::new(value),
        }
    }

    /// A new unlocked lock of the class `class` (a named static key).
    #[inline]
    pub const fn with_class(class: &'static LockClass, value: T) -> Self {
        RecursiveRwLock {
            inner: crate::RwLock::with_class(class, value),
        }
    }

    /// A new unlocked lock whose class is `name`.
    pub fn named(name: &str, value: T) -> Self {
        RecursiveRwLock {
            inner: crate::RwLock::named(name, value),
        }
    }

    /// Consumes the lock, returning the data.
    #[inline]
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }

    /// Consumes the lock, returning the raw lock underneath and the data.
    #[inline]
    pub fn into_inner_with_raw(self) -> (Raw<parking_lot::RawRwLock>, T) {
        self.inner.into_inner_with_raw()
    }
}

impl<T: ?Sized> RecursiveRwLock<T> {
    /// Locks for reading, recursively: never waits behind a queued writer, so a thread may read
    /// it while it reads it already.
    #[track_caller]
    #[inline]
    pub fn read(&self) -> RecursiveRwLockReadGuard<'_, T> {
        self.inner.read_recursive()
    }

    /// [`read`](Self::read) as nesting level `subclass` of the class.
    #[track_caller]
    #[inline]
    pub fn read_nested(&self, subclass: u32) -> RecursiveRwLockReadGuard<'_, T> {
        self.inner.read_recursive_nested(subclass)
    }

    /// Tries to lock for reading, recursively, without blocking.
    #[track_caller]
    #[inline]
    pub fn try_read(&self) -> Option<RecursiveRwLockReadGuard<'_, T>> {
        self.inner.try_read_recursive()
    }

    /// Tries to lock for reading, recursively, until `timeout` has passed.
    #[track_caller]
    #[inline]
    pub fn try_read_for(&self, timeout: Duration) -> Option<RecursiveRwLockReadGuard<'_, T>> {
        self.inner.try_read_recursive_for(timeout)
    }

    /// Tries to lock for reading, recursively, until `timeout` is reached.
    #[track_caller]
    #[inline]
    pub fn try_read_until(&self, timeout: Instant) -> Option<RecursiveRwLockReadGuard<'_, T>> {
        self.inner.try_read_recursive_until(timeout)
    }

    /// Locks for writing.
    #[track_caller]
    #[inline]
    pub fn write(&self) -> RecursiveRwLockWriteGuard<'_, T> {
        self.inner.write()
    }

    /// [`write`](Self::write) as nesting level `subclass` of the class.
    #[track_caller]
    #[inline]
    pub fn write_nested(&self, subclass: u32) -> RecursiveRwLockWriteGuard<'_, T> {
        self.inner.write_nested(subclass)
    }

    /// Tries to lock for writing without blocking.
    #[track_caller]
    #[inline]
    pub fn try_write(&self) -> Option<RecursiveRwLockWriteGuard<'_, T>> {
        self.inner.try_write()
    }

    /// Tries to lock for writing until `timeout` has passed.
    #[track_caller]
    #[inline]
    pub fn try_write_for(&self, timeout: Duration) -> Option<RecursiveRwLockWriteGuard<'_, T>> {
        self.inner.try_write_for(timeout)
    }

    /// Tries to lock for writing until `timeout` is reached.
    #[track_caller]
    #[inline]
    pub fn try_write_until(&self, timeout: Instant) -> Option<RecursiveRwLockWriteGuard<'_, T>> {
        self.inner.try_write_until(timeout)
    }

    /// Locks for an upgradable read.
    #[track_caller]
    #[inline]
    pub fn upgradable_read(&self) -> RecursiveRwLockUpgradableReadGuard<'_, T> {
        self.inner.upgradable_read()
    }

    /// Tries to lock for an upgradable read without blocking.
    #[track_caller]
    #[inline]
    pub fn try_upgradable_read(&self) -> Option<RecursiveRwLockUpgradableReadGuard<'_, T>> {
        self.inner.try_upgradable_read()
    }

    /// Tries to lock for an upgradable read until `timeout` has passed.
    #[track_caller]
    #[inline]
    pub fn try_upgradable_read_for(
        &self,
        timeout: Duration,
    ) -> Option<RecursiveRwLockUpgradableReadGuard<'_, T>> {
        self.inner.try_upgradable_read_for(timeout)
    }

    /// Tries to lock for an upgradable read until `timeout` is reached.
    #[track_caller]
    #[inline]
    pub fn try_upgradable_read_until(
        &self,
        timeout: Instant,
    ) -> Option<RecursiveRwLockUpgradableReadGuard<'_, T>> {
        self.inner.try_upgradable_read_until(timeout)
    }

    /// Whether the lock is held in any way.
    #[inline]
    pub fn is_locked(&self) -> bool {
        self.inner.is_locked()
    }

    /// Whether the lock is held for writing.
    #[inline]
    pub fn is_locked_exclusive(&self) -> bool {
        self.inner.is_locked_exclusive()
    }

    /// A mutable reference to the data (the borrow is unique: no locking).
    #[inline]
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }

    /// A raw pointer to the data.
    #[inline]
    pub fn data_ptr(&self) -> *mut T {
        self.inner.data_ptr()
    }

    /// The raw lock underneath (see [`crate::RwLock::raw`]).
    ///
    /// # Safety
    /// As `lock_api`'s: unlocking the raw lock while a guard exists is undefined behaviour.
    #[inline]
    pub unsafe fn raw(&self) -> &Raw<parking_lot::RawRwLock> {
        // SAFETY: forwarded contract.
        unsafe { self.inner.raw() }
    }

    /// The lock as this crate's `RwLock` (whose `read` is the fair read).
    #[inline]
    pub fn as_rwlock(&self) -> &crate::RwLock<T> {
        &self.inner
    }
}

#[cfg(feature = "arc_lock")]
mod arc {
    use super::RecursiveRwLock;
    use crate::{ArcRwLockReadGuard, ArcRwLockUpgradableReadGuard, ArcRwLockWriteGuard};
    use std::sync::Arc;

    /// `arc` viewed as an `Arc` of the `RwLock` inside, for the `Arc` methods.
    fn view<T: ?Sized>(
        arc: &Arc<RecursiveRwLock<T>>,
    ) -> std::mem::ManuallyDrop<Arc<crate::RwLock<T>>> {
        let inner = Arc::as_ptr(arc) as *const crate::RwLock<T>;
        // SAFETY: `RecursiveRwLock` is `repr(transparent)` over the `RwLock`, with no `Drop` of
        // its own, so the allocation is an `Arc<RwLock>`'s; the `ManuallyDrop` keeps the
        // borrowed count from being released, and the view does not outlive `arc`.
        std::mem::ManuallyDrop::new(unsafe { Arc::from_raw(inner) })
    }

    impl<T: ?Sized> RecursiveRwLock<T> {
        /// Like [`read`](Self::read), for an `Arc`: the guard owns a clone of it.
        #[track_caller]
        pub fn read_arc(self: &Arc<Self>) -> ArcRwLockReadGuard<crate::RawRwLock, T> {
            view(self).read_arc_recursive()
        }

        /// Like [`try_read`](Self::try_read), for an `Arc`.
        #[track_caller]
        pub fn try_read_arc(self: &Arc<Self>) -> Option<ArcRwLockReadGuard<crate::RawRwLock, T>> {
            view(self).try_read_recursive_arc()
        }

        /// Like [`write`](Self::write), for an `Arc`.
        #[track_caller]
        pub fn write_arc(self: &Arc<Self>) -> ArcRwLockWriteGuard<crate::RawRwLock, T> {
            view(self).write_arc()
        }

        /// Like [`try_write`](Self::try_write), for an `Arc`.
        #[track_caller]
        pub fn try_write_arc(self: &Arc<Self>) -> Option<ArcRwLockWriteGuard<crate::RawRwLock, T>> {
            view(self).try_write_arc()
        }

        /// Like [`upgradable_read`](Self::upgradable_read), for an `Arc`.
        #[track_caller]
        pub fn upgradable_read_arc(
            self: &Arc<Self>,
        ) -> ArcRwLockUpgradableReadGuard<crate::RawRwLock, T> {
            view(self).upgradable_read_arc()
        }
    }
}

/// Each lock field of a `#[derive(Default)]` struct is its own class (see `default_class`).
impl<T: Default> Default for RecursiveRwLock<T> {
    #[track_caller]
    #[inline]
    fn default() -> Self {
        RecursiveRwLock {
            inner: crate::RwLock::default(),
        }
    }
}

impl<T> From<T> for RecursiveRwLock<T> {
    #[track_caller]
    fn from(value: T) -> Self {
        RecursiveRwLock::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RecursiveRwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl<T: ?Sized> TrackedLock for RecursiveRwLock<T> {
    fn lock_instance(&self) -> LockInstance<'_> {
        self.inner.lock_instance()
    }
}
