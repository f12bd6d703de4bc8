//! parking_lot 0.13's API, checked by lockdep (feature `parking_lot-0_13`): what a crate
//! written against parking_lot 0.13 names, under the same names and *types*, so that it
//! switches by its `use` line (`use parking_lot::X` → `use lockdep_core::parking_lot_0_13::X`)
//! or by renaming the `lockdep-parking-lot` crate to `parking_lot` in its `Cargo.toml`.
//!
//! As in parking_lot 0.13, the typed layers are `lock_api` 0.5's ([`lock_api`] here is 0.5):
//! every guard is `lock_api` 0.5's guard over this face's raw lock, so
//! `lock_api::MutexGuard<'a, RawMutex, T>` *is* [`MutexGuard<'a, T>`], code generic over
//! `R: lock_api::RawMutex` takes these locks (`&Mutex<T>` coerces to
//! `&lock_api::Mutex<RawMutex, T>`), and the raw guard states, [`RawCondvar`],
//! `try_map_or_err`, `with_upgraded` and the rest are `lock_api` 0.5's own. The raw locks are
//! this crate's checked raw locks (parking_lot 0.12's underneath) under `lock_api` 0.5's traits.
//!
//! The lock types themselves ([`Mutex`], [`RwLock`], [`RecursiveRwLock`],
//! [`ReentrantMutex`], [`FairMutex`]) wrap `lock_api` 0.5's, so that `new` can give each lock
//! the class of its creation site (`lock_api`'s own `new` cannot see its caller); they
//! dereference to it. A lock built by `lock_api`'s own `new` over these raw locks is checked
//! too, with a class of its own.
//!
//! What 0.13 added is here: [`RecursiveRwLock`], whose reads are recursive reads validated by
//! the rules of `read_recursive`; [`Once::new_completed`], [`Once::is_completed`],
//! [`Once::wait`] and [`Once::wait_force`] (waiting is validated as an acquisition of the
//! `Once`'s class, as `call_once` is) and 0.13's [`OnceState`]; `into_inner_with_raw` and
//! `from_raw` on every lock.
//!
//! One difference in behaviour: `lock_api` 0.5 aborts the process when a raw lock operation
//! unwinds inside a guard's `unlocked` or `with_upgraded`. A report on an upgrade inside
//! `with_upgraded` therefore ends in that abort (the report printed first), and one on the
//! relock after a nested guard's `unlocked` is printed instead of panicking. Every other
//! acquisition, `lock_api`'s own included (code generic over `lock_api::RawMutex`, a lock built
//! by `lock_api`'s `new`), reports as everywhere else: before the lock is taken, at the user's
//! line.

mod forward;
mod mutex;
mod once;
mod raw_condvar;
mod raw_mutex;
mod raw_rwlock;
mod remutex;
mod rwlock;
#[cfg(feature = "serde")]
mod serde_impls;

pub use once::{Once, OnceState};
pub use raw_condvar::RawCondvar;
pub use raw_mutex::{Marker, RawMutexOf, RawThreadId};
pub use raw_rwlock::RawRwLockOf;
pub use rwlock::RawRwLock12;

/// The typed lock layers of this face, generic over the raw lock of this crate underneath.
pub mod generic {
    pub use super::mutex::Mutex;
    pub use super::remutex::ReentrantMutex;
    pub use super::rwlock::RwLock;
}

/// `lock_api` 0.5, as parking_lot 0.13 re-exports it.
pub use lock_api_05 as lock_api;

use crate::raw::Raw;

/// parking_lot 0.13's `RawMutex`, checked: the raw mutex under [`Mutex`].
pub type RawMutex = RawMutexOf<Raw<parking_lot::RawMutex>>;
/// parking_lot 0.13's `RawFairMutex`, checked: the raw mutex under [`FairMutex`].
pub type RawFairMutex = RawMutexOf<Raw<parking_lot::RawFairMutex>>;
/// parking_lot 0.13's `RawRwLock<RECURSIVE>`, checked: the raw lock under [`RwLock`] (and,
/// with `RECURSIVE`, [`RecursiveRwLock`]).
pub type RawRwLock<const RECURSIVE: bool = false> =
    RawRwLockOf<Raw<parking_lot::RawRwLock>, RECURSIVE>;
/// parking_lot 0.13's `RawRwLockRecursive`: the raw lock under [`RecursiveRwLock`], whose every
/// read is a recursive read.
pub type RawRwLockRecursive = RawRwLock<true>;

/// A mutex checked by lockdep (parking_lot 0.13's `Mutex`).
pub type Mutex<T> = generic::Mutex<parking_lot::RawMutex, T>;
/// Guard of [`Mutex`].
pub type MutexGuard<'a, T> = lock_api::MutexGuard<'a, RawMutex, T>;
/// Mapped guard of [`Mutex`].
pub type MappedMutexGuard<'a, T> = lock_api::MappedMutexGuard<'a, RawMutex, T>;

/// An always-fair mutex checked by lockdep (parking_lot 0.13's `FairMutex`).
pub type FairMutex<T> = generic::Mutex<parking_lot::RawFairMutex, T>;
/// Guard of [`FairMutex`].
pub type FairMutexGuard<'a, T> = lock_api::MutexGuard<'a, RawFairMutex, T>;
/// Mapped guard of [`FairMutex`].
pub type MappedFairMutexGuard<'a, T> = lock_api::MappedMutexGuard<'a, RawFairMutex, T>;

/// A reader-writer lock checked by lockdep (parking_lot 0.13's `RwLock`).
pub type RwLock<T> = generic::RwLock<parking_lot::RawRwLock, false, T>;
/// Read guard of [`RwLock`].
pub type RwLockReadGuard<'a, T> = lock_api::RwLockReadGuard<'a, RawRwLock, T>;
/// Write guard of [`RwLock`].
pub type RwLockWriteGuard<'a, T> = lock_api::RwLockWriteGuard<'a, RawRwLock, T>;
/// Upgradable read guard of [`RwLock`].
pub type RwLockUpgradableReadGuard<'a, T> = lock_api::RwLockUpgradableReadGuard<'a, RawRwLock, T>;
/// Mapped read guard of [`RwLock`].
pub type MappedRwLockReadGuard<'a, T> = lock_api::MappedRwLockReadGuard<'a, RawRwLock, T>;
/// Mapped write guard of [`RwLock`].
pub type MappedRwLockWriteGuard<'a, T> = lock_api::MappedRwLockWriteGuard<'a, RawRwLock, T>;

/// A reader-writer lock whose every read is a recursive read (parking_lot 0.13's
/// `RecursiveRwLock`): a thread that reads it may read it again while a writer waits.
pub type RecursiveRwLock<T> = generic::RwLock<parking_lot::RawRwLock, true, T>;
/// Read guard of [`RecursiveRwLock`].
pub type RecursiveRwLockReadGuard<'a, T> = lock_api::RwLockReadGuard<'a, RawRwLockRecursive, T>;
/// Write guard of [`RecursiveRwLock`].
pub type RecursiveRwLockWriteGuard<'a, T> = lock_api::RwLockWriteGuard<'a, RawRwLockRecursive, T>;
/// Upgradable read guard of [`RecursiveRwLock`].
pub type RecursiveRwLockUpgradableReadGuard<'a, T> =
    lock_api::RwLockUpgradableReadGuard<'a, RawRwLockRecursive, T>;
/// Mapped read guard of [`RecursiveRwLock`].
pub type MappedRecursiveRwLockReadGuard<'a, T> =
    lock_api::MappedRwLockReadGuard<'a, RawRwLockRecursive, T>;
/// Mapped write guard of [`RecursiveRwLock`].
pub type MappedRecursiveRwLockWriteGuard<'a, T> =
    lock_api::MappedRwLockWriteGuard<'a, RawRwLockRecursive, T>;

/// A reentrant mutex checked by lockdep (parking_lot 0.13's `ReentrantMutex`).
pub type ReentrantMutex<T> = generic::ReentrantMutex<parking_lot::RawMutex, T>;
/// Guard of [`ReentrantMutex`].
pub type ReentrantMutexGuard<'a, T> = lock_api::ReentrantMutexGuard<'a, RawMutex, RawThreadId, T>;
/// Mapped guard of [`ReentrantMutex`].
pub type MappedReentrantMutexGuard<'a, T> =
    lock_api::MappedReentrantMutexGuard<'a, RawMutex, RawThreadId, T>;

/// A condition variable (parking_lot 0.13's `Condvar`: `lock_api` 0.5's over [`RawCondvar`]).
pub type Condvar = lock_api::Condvar<RawCondvar>;
pub use lock_api::WaitTimeoutResult;

/// With `arc_lock`: the guards of an `Arc`ed lock, `lock_api` 0.5's own, as parking_lot 0.13
/// re-exports them.
#[cfg(feature = "arc_lock")]
pub use lock_api::{
    ArcMutexGuard, ArcReentrantMutexGuard, ArcRwLockReadGuard, ArcRwLockUpgradableReadGuard,
    ArcRwLockWriteGuard,
};

/// Deadlock detection, as parking_lot's `deadlock` module (feature `deadlock_detection`).
#[cfg(feature = "deadlock_detection")]
pub use crate::deadlock;
