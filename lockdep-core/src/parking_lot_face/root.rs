//! The rest of `parking_lot`'s root, so that `use parking_lot::X` becomes `use lockdep_core::X`
//! for every `X`: the fair mutex, the `const_*` constructors, the raw lock types, the
//! `lock_api` re-export and the `arc_lock` guards. (The checked `Mutex`, `RwLock`,
//! `ReentrantMutex` and their guards are the aliases in this face's `mod.rs`; the crate root
//! re-exports both.)
//!
//! The raw types are the raw locks *under* this crate's typed locks: `parking_lot`'s, checked
//! (`raw::Checked<parking_lot::RawMutex>`; with the checks compiled out, `parking_lot`'s own).
//! So every type a `parking_lot` user spells through `lock_api` is the type lockdep's locks
//! have, in every build: `lock_api::MutexGuard<'a, RawMutex, T>` is [`MutexGuard<'a,
//! T>`](crate::MutexGuard), `lock_api::RwLockUpgradableReadGuard<'a, RawRwLock, T>` is
//! [`RwLockUpgradableReadGuard<'a, T>`](crate::RwLockUpgradableReadGuard). A lock built by
//! `lock_api`'s own `new` over them (`lock_api::Mutex::<RawMutex, T>::new`) is checked too, with
//! a class of its own (see [`raw::UNCLASSED`](crate::raw::UNCLASSED)).

use super::generic;
use crate::raw::Raw;

pub use ::lock_api;
pub use parking_lot::RawThreadId;

/// `parking_lot::RawMutex`, checked: the raw mutex under [`Mutex`](crate::Mutex) (with the checks
/// compiled out, `parking_lot::RawMutex` itself).
pub type RawMutex = Raw<parking_lot::RawMutex>;
/// `parking_lot::RawFairMutex`, checked: the raw mutex under [`FairMutex`].
pub type RawFairMutex = Raw<parking_lot::RawFairMutex>;
/// `parking_lot::RawRwLock`, checked: the raw lock under [`RwLock`](crate::RwLock).
pub type RawRwLock = Raw<parking_lot::RawRwLock>;

/// A mutex that is always fair (`parking_lot::FairMutex`), checked by lockdep: the same typed
/// layer as [`Mutex`](crate::Mutex) over `parking_lot::RawFairMutex`, with the same
/// constructors (`new`, `with_class`, `named`, ...) and the same rules.
///
/// ```
/// use lockdep_core::FairMutex;
/// let m = FairMutex::named("doc-fair", 1);
/// *m.lock() += 1;
/// assert_eq!(m.into_inner(), 2);
/// ```
pub type FairMutex<T> = generic::Mutex<parking_lot::RawFairMutex, T>;
/// Guard of [`FairMutex`].
pub type FairMutexGuard<'a, T> = generic::MutexGuard<'a, parking_lot::RawFairMutex, T>;
/// Mapped guard of [`FairMutex`].
pub type MappedFairMutexGuard<'a, T> = generic::MappedMutexGuard<'a, parking_lot::RawFairMutex, T>;
/// Mapped guard of [`ReentrantMutex`](crate::ReentrantMutex).
pub type MappedReentrantMutexGuard<'a, T> =
    generic::MappedReentrantMutexGuard<'a, parking_lot::RawMutex, RawThreadId, T>;

/// A new [`Mutex`](crate::Mutex) in a `const` context (`parking_lot::const_mutex`); its class is
/// the creation site, as with [`Mutex::new`](crate::generic::Mutex::new).
#[track_caller]
#[inline]
pub const fn const_mutex<T>(value: T) -> super::Mutex<T> {
    super::Mutex::new(value)
}

/// A new [`FairMutex`] in a `const` context (`parking_lot::const_fair_mutex`).
#[track_caller]
#[inline]
pub const fn const_fair_mutex<T>(value: T) -> FairMutex<T> {
    FairMutex::new(value)
}

/// A new [`RwLock`](crate::RwLock) in a `const` context (`parking_lot::const_rwlock`).
#[track_caller]
#[inline]
pub const fn const_rwlock<T>(value: T) -> super::RwLock<T> {
    super::RwLock::new(value)
}

/// A new [`ReentrantMutex`](crate::ReentrantMutex) in a `const` context
/// (`parking_lot::const_reentrant_mutex`).
#[track_caller]
#[inline]
pub const fn const_reentrant_mutex<T>(value: T) -> super::ReentrantMutex<T> {
    super::ReentrantMutex::new(value)
}

/// With `arc_lock`: the guards of an `Arc`ed lock, generic over the raw lock as
/// `parking_lot`'s re-exports of them are (`ArcMutexGuard<RawMutex, T>`, with this crate's
/// [`RawMutex`]): `lock_api`'s own.
#[cfg(feature = "arc_lock")]
pub use ::lock_api::{
    ArcMutexGuard, ArcReentrantMutexGuard, ArcRwLockReadGuard, ArcRwLockUpgradableReadGuard,
    ArcRwLockWriteGuard,
};

/// The `lock_api` layer under a lockdep lock, as the guards' `mutex()` / `rwlock()` /
/// `remutex()` accessors give it, is the same tracked lock: `is_held(MutexGuard::mutex(&g))`
/// asks about the lockdep mutex the guard belongs to.
impl<R: lock_api::RawMutex, T: ?Sized> crate::TrackedLock
    for lock_api::Mutex<crate::raw::Raw<R>, T>
{
    fn lock_instance(&self) -> crate::LockInstance<'_> {
        // SAFETY: only the address and class of the raw lock are read.
        crate::LockInstance::of_raw(unsafe { self.raw() })
    }
}

impl<R: lock_api::RawRwLock, T: ?Sized> crate::TrackedLock
    for lock_api::RwLock<crate::raw::Raw<R>, T>
{
    fn lock_instance(&self) -> crate::LockInstance<'_> {
        // SAFETY: only the address and class of the raw lock are read.
        crate::LockInstance::of_raw(unsafe { self.raw() })
    }
}

impl<R: lock_api::RawMutex, G: lock_api::GetThreadId, T: ?Sized> crate::TrackedLock
    for lock_api::ReentrantMutex<crate::raw::Raw<R>, G, T>
{
    fn lock_instance(&self) -> crate::LockInstance<'_> {
        // SAFETY: only the address and class of the raw lock are read.
        crate::LockInstance::of_raw(unsafe { self.raw() })
    }
}
