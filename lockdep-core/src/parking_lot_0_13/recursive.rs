//! parking_lot 0.13's `RecursiveRwLock`: a reader-writer lock whose every read is a recursive
//! read (it never waits behind a queued writer, so a thread that reads it may read it again).
//! Its raw lock is parking_lot 0.12's with every shared acquisition recursive ([`RawRecursive`]:
//! also the relocks `lock_api` makes after a guard's `unlocked`, and a bump), and the typed layer
//! takes its reads with `read_recursive`, so they are validated by the rules of `read_recursive`
//! (parking_lot's recursive-read rule, `DESIGN.md`); its class is its creation site like any
//! lock's.

use crate::class::ClassCell;
use crate::generic;
use crate::raw::Raw;
use crate::{LockClass, LockInstance, TrackedLock};
use std::fmt;
use std::panic::Location;
use std::time::{Duration, Instant};

/// parking_lot 0.12's raw reader-writer lock with every shared acquisition a recursive one,
/// as parking_lot 0.13's `RawRwLock<true>` takes them: the raw lock under
/// [`RecursiveRwLock`], through which `lock_api`'s own relocks go too.
pub struct RawRecursive(parking_lot::RawRwLock);

// SAFETY: every method delegates to parking_lot's raw lock, a shared acquisition to its
// recursive shared acquisition (the same lock state, the same unlock), so the lock's exclusion
// is parking_lot's.
unsafe impl lock_api::RawRwLock for RawRecursive {
    #[allow(clippy::declare_interior_mutable_const)] // as `lock_api` declares `INIT`
    const INIT: Self = RawRecursive(<parking_lot::RawRwLock as lock_api::RawRwLock>::INIT);
    type GuardMarker = <parking_lot::RawRwLock as lock_api::RawRwLock>::GuardMarker;

    #[inline]
    fn lock_shared(&self) {
        lock_api::RawRwLockRecursive::lock_shared_recursive(&self.0)
    }
    #[inline]
    fn try_lock_shared(&self) -> bool {
        lock_api::RawRwLockRecursive::try_lock_shared_recursive(&self.0)
    }
    #[inline]
    unsafe fn unlock_shared(&self) {
        // SAFETY: forwarded contract.
        unsafe { lock_api::RawRwLock::unlock_shared(&self.0) }
    }
    #[inline]
    fn lock_exclusive(&self) {
        lock_api::RawRwLock::lock_exclusive(&self.0)
    }
    #[inline]
    fn try_lock_exclusive(&self) -> bool {
        lock_api::RawRwLock::try_lock_exclusive(&self.0)
    }
    #[inline]
    unsafe fn unlock_exclusive(&self) {
        // SAFETY: forwarded contract.
        unsafe { lock_api::RawRwLock::unlock_exclusive(&self.0) }
    }
    #[inline]
    fn is_locked(&self) -> bool {
        lock_api::RawRwLock::is_locked(&self.0)
    }
    #[inline]
    fn is_locked_exclusive(&self) -> bool {
        lock_api::RawRwLock::is_locked_exclusive(&self.0)
    }
}

// SAFETY: delegates to parking_lot's recursive shared acquisition.
unsafe impl lock_api::RawRwLockRecursive for RawRecursive {
    #[inline]
    fn lock_shared_recursive(&self) {
        lock_api::RawRwLockRecursive::lock_shared_recursive(&self.0)
    }
    #[inline]
    fn try_lock_shared_recursive(&self) -> bool {
        lock_api::RawRwLockRecursive::try_lock_shared_recursive(&self.0)
    }
}

// SAFETY: delegates; a shared bump releases fairly and takes the read back recursively (it
// cannot wait behind a writer while other readers hold the lock).
unsafe impl lock_api::RawRwLockFair for RawRecursive {
    #[inline]
    unsafe fn unlock_shared_fair(&self) {
        // SAFETY: forwarded contract.
        unsafe { lock_api::RawRwLockFair::unlock_shared_fair(&self.0) }
    }
    #[inline]
    unsafe fn unlock_exclusive_fair(&self) {
        // SAFETY: forwarded contract.
        unsafe { lock_api::RawRwLockFair::unlock_exclusive_fair(&self.0) }
    }
    #[inline]
    unsafe fn bump_shared(&self) {
        // SAFETY: forwarded contract: the caller holds a read, released and taken back here.
        unsafe { lock_api::RawRwLockFair::unlock_shared_fair(&self.0) };
        lock_api::RawRwLockRecursive::lock_shared_recursive(&self.0)
    }
    #[inline]
    unsafe fn bump_exclusive(&self) {
        // SAFETY: forwarded contract.
        unsafe { lock_api::RawRwLockFair::bump_exclusive(&self.0) }
    }
}

// SAFETY: delegates.
unsafe impl lock_api::RawRwLockDowngrade for RawRecursive {
    #[inline]
    unsafe fn downgrade(&self) {
        // SAFETY: forwarded contract.
        unsafe { lock_api::RawRwLockDowngrade::downgrade(&self.0) }
    }
}

// SAFETY: delegates, shared acquisitions recursive.
unsafe impl lock_api::RawRwLockTimed for RawRecursive {
    type Duration = Duration;
    type Instant = Instant;
    #[inline]
    fn try_lock_shared_for(&self, timeout: Duration) -> bool {
        lock_api::RawRwLockRecursiveTimed::try_lock_shared_recursive_for(&self.0, timeout)
    }
    #[inline]
    fn try_lock_shared_until(&self, timeout: Instant) -> bool {
        lock_api::RawRwLockRecursiveTimed::try_lock_shared_recursive_until(&self.0, timeout)
    }
    #[inline]
    fn try_lock_exclusive_for(&self, timeout: Duration) -> bool {
        lock_api::RawRwLockTimed::try_lock_exclusive_for(&self.0, timeout)
    }
    #[inline]
    fn try_lock_exclusive_until(&self, timeout: Instant) -> bool {
        lock_api::RawRwLockTimed::try_lock_exclusive_until(&self.0, timeout)
    }
}

// SAFETY: delegates.
unsafe impl lock_api::RawRwLockRecursiveTimed for RawRecursive {
    #[inline]
    fn try_lock_shared_recursive_for(&self, timeout: Duration) -> bool {
        lock_api::RawRwLockRecursiveTimed::try_lock_shared_recursive_for(&self.0, timeout)
    }
    #[inline]
    fn try_lock_shared_recursive_until(&self, timeout: Instant) -> bool {
        lock_api::RawRwLockRecursiveTimed::try_lock_shared_recursive_until(&self.0, timeout)
    }
}

// SAFETY: delegates.
unsafe impl lock_api::RawRwLockUpgrade for RawRecursive {
    #[inline]
    fn lock_upgradable(&self) {
        lock_api::RawRwLockUpgrade::lock_upgradable(&self.0)
    }
    #[inline]
    fn try_lock_upgradable(&self) -> bool {
        lock_api::RawRwLockUpgrade::try_lock_upgradable(&self.0)
    }
    #[inline]
    unsafe fn unlock_upgradable(&self) {
        // SAFETY: forwarded contract.
        unsafe { lock_api::RawRwLockUpgrade::unlock_upgradable(&self.0) }
    }
    #[inline]
    unsafe fn upgrade(&self) {
        // SAFETY: forwarded contract.
        unsafe { lock_api::RawRwLockUpgrade::upgrade(&self.0) }
    }
    #[inline]
    unsafe fn try_upgrade(&self) -> bool {
        // SAFETY: forwarded contract.
        unsafe { lock_api::RawRwLockUpgrade::try_upgrade(&self.0) }
    }
}

// SAFETY: delegates.
unsafe impl lock_api::RawRwLockUpgradeFair for RawRecursive {
    #[inline]
    unsafe fn unlock_upgradable_fair(&self) {
        // SAFETY: forwarded contract.
        unsafe { lock_api::RawRwLockUpgradeFair::unlock_upgradable_fair(&self.0) }
    }
    #[inline]
    unsafe fn bump_upgradable(&self) {
        // SAFETY: forwarded contract.
        unsafe { lock_api::RawRwLockUpgradeFair::bump_upgradable(&self.0) }
    }
}

// SAFETY: delegates.
unsafe impl lock_api::RawRwLockUpgradeDowngrade for RawRecursive {
    #[inline]
    unsafe fn downgrade_upgradable(&self) {
        // SAFETY: forwarded contract.
        unsafe { lock_api::RawRwLockUpgradeDowngrade::downgrade_upgradable(&self.0) }
    }
    #[inline]
    unsafe fn downgrade_to_upgradable(&self) {
        // SAFETY: forwarded contract.
        unsafe { lock_api::RawRwLockUpgradeDowngrade::downgrade_to_upgradable(&self.0) }
    }
}

// SAFETY: delegates.
unsafe impl lock_api::RawRwLockUpgradeTimed for RawRecursive {
    #[inline]
    fn try_lock_upgradable_for(&self, timeout: Duration) -> bool {
        lock_api::RawRwLockUpgradeTimed::try_lock_upgradable_for(&self.0, timeout)
    }
    #[inline]
    fn try_lock_upgradable_until(&self, timeout: Instant) -> bool {
        lock_api::RawRwLockUpgradeTimed::try_lock_upgradable_until(&self.0, timeout)
    }
    #[inline]
    unsafe fn try_upgrade_for(&self, timeout: Duration) -> bool {
        // SAFETY: forwarded contract.
        unsafe { lock_api::RawRwLockUpgradeTimed::try_upgrade_for(&self.0, timeout) }
    }
    #[inline]
    unsafe fn try_upgrade_until(&self, timeout: Instant) -> bool {
        // SAFETY: forwarded contract.
        unsafe { lock_api::RawRwLockUpgradeTimed::try_upgrade_until(&self.0, timeout) }
    }
}

/// The raw lock under [`RecursiveRwLock`] (parking_lot 0.13's name): [`RawRecursive`], checked.
pub type RawRwLockRecursive = Raw<RawRecursive>;

/// Read guard of [`RecursiveRwLock`].
pub type RecursiveRwLockReadGuard<'a, T> = generic::RwLockReadGuard<'a, RawRecursive, T>;
/// Write guard of [`RecursiveRwLock`].
pub type RecursiveRwLockWriteGuard<'a, T> = generic::RwLockWriteGuard<'a, RawRecursive, T>;
/// Upgradable read guard of [`RecursiveRwLock`].
pub type RecursiveRwLockUpgradableReadGuard<'a, T> =
    generic::RwLockUpgradableReadGuard<'a, RawRecursive, T>;
/// Mapped read guard of [`RecursiveRwLock`].
pub type MappedRecursiveRwLockReadGuard<'a, T> =
    generic::MappedRwLockReadGuard<'a, RawRecursive, T>;
/// Mapped write guard of [`RecursiveRwLock`].
pub type MappedRecursiveRwLockWriteGuard<'a, T> =
    generic::MappedRwLockWriteGuard<'a, RawRecursive, T>;

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
    inner: generic::RwLock<RawRecursive, T>,
}

impl<T> RecursiveRwLock<T> {
    /// A new unlocked lock whose class is its creation site.
    #[track_caller]
    #[inline]
    pub const fn new(value: T) -> Self {
        RecursiveRwLock {
            inner: generic::RwLock::with_cell(
                ClassCell::from_site(Location::caller()).recursive_reads(),
                value,
            ),
        }
    }

    /// A new unlocked lock of the class `class` (a named static key).
    #[inline]
    pub const fn with_class(class: &'static LockClass, value: T) -> Self {
        RecursiveRwLock {
            inner: generic::RwLock::with_cell(ClassCell::from_key(class).recursive_reads(), value),
        }
    }

    /// A new unlocked lock whose class is `name`.
    pub fn named(name: &str, value: T) -> Self {
        RecursiveRwLock {
            inner: generic::RwLock::with_cell(ClassCell::from_name(name).recursive_reads(), value),
        }
    }

    /// Consumes the lock, returning the data.
    #[inline]
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }

    /// Consumes the lock, returning the raw lock underneath and the data.
    #[inline]
    pub fn into_inner_with_raw(self) -> (RawRwLockRecursive, T) {
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
    pub unsafe fn raw(&self) -> &RawRwLockRecursive {
        // SAFETY: forwarded contract.
        unsafe { self.inner.raw() }
    }

    /// The typed layer underneath (whose `read` is the raw lock's shared acquisition, recursive
    /// here too, but validated as a fair read).
    #[inline]
    pub fn as_generic(&self) -> &generic::RwLock<RawRecursive, T> {
        &self.inner
    }
}

#[cfg(feature = "arc_lock")]
mod arc {
    use super::{RawRecursive, RawRwLockRecursive, RecursiveRwLock};
    use crate::parking_lot_face::arc::{transparent, view};
    use crate::{ArcRwLockReadGuard, ArcRwLockUpgradableReadGuard, ArcRwLockWriteGuard};
    use std::sync::Arc;

    // Viewed as the typed layer inside, whose `Arc` methods then run.
    transparent!(impl[T: ?Sized] RecursiveRwLock<T> => crate::generic::RwLock<RawRecursive, T>);

    impl<T: ?Sized> RecursiveRwLock<T> {
        /// Like [`read`](Self::read), for an `Arc`: the guard owns a clone of it.
        #[track_caller]
        pub fn read_arc(self: &Arc<Self>) -> ArcRwLockReadGuard<RawRwLockRecursive, T> {
            // SAFETY: the view lives only for this call, within `self`'s borrow of its count.
            unsafe { view(self) }.read_arc_recursive()
        }

        /// Like [`try_read`](Self::try_read), for an `Arc`.
        #[track_caller]
        pub fn try_read_arc(self: &Arc<Self>) -> Option<ArcRwLockReadGuard<RawRwLockRecursive, T>> {
            // SAFETY: the view lives only for this call, within `self`'s borrow of its count.
            unsafe { view(self) }.try_read_recursive_arc()
        }

        /// Like [`write`](Self::write), for an `Arc`.
        #[track_caller]
        pub fn write_arc(self: &Arc<Self>) -> ArcRwLockWriteGuard<RawRwLockRecursive, T> {
            // SAFETY: the view lives only for this call, within `self`'s borrow of its count.
            unsafe { view(self) }.write_arc()
        }

        /// Like [`try_write`](Self::try_write), for an `Arc`.
        #[track_caller]
        pub fn try_write_arc(
            self: &Arc<Self>,
        ) -> Option<ArcRwLockWriteGuard<RawRwLockRecursive, T>> {
            // SAFETY: the view lives only for this call, within `self`'s borrow of its count.
            unsafe { view(self) }.try_write_arc()
        }

        /// Like [`upgradable_read`](Self::upgradable_read), for an `Arc`.
        #[track_caller]
        pub fn upgradable_read_arc(
            self: &Arc<Self>,
        ) -> ArcRwLockUpgradableReadGuard<RawRwLockRecursive, T> {
            // SAFETY: the view lives only for this call, within `self`'s borrow of its count.
            unsafe { view(self) }.upgradable_read_arc()
        }
    }
}

/// Each lock field of a `#[derive(Default)]` struct is its own class (see `default_class`).
impl<T: Default> Default for RecursiveRwLock<T> {
    #[track_caller]
    #[cfg_attr(lockdep_checks, inline(always))]
    fn default() -> Self {
        let class = crate::construct::generic_class!("RecursiveRwLock", T, true);
        RecursiveRwLock {
            inner: generic::RwLock::with_cell(class.recursive_reads(), T::default()),
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
