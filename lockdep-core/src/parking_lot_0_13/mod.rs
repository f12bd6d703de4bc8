//! parking_lot 0.13's API, checked by lockdep (feature `parking_lot-0_13`): what a crate
//! written against parking_lot 0.13 names, under the same names, so that it switches by its
//! `use` line (`use parking_lot::X` → `use lockdep_core::parking_lot_0_13::X`) or by renaming
//! the `lockdep-parking-lot` crate to `parking_lot` in its `Cargo.toml`.
//!
//! The locks are this crate's (parking_lot 0.12's raw locks underneath, checked), so their
//! methods are parking_lot 0.12's plus what 0.13 added:
//! - [`RecursiveRwLock`], whose reads are recursive reads, validated by the rules of
//!   `read_recursive` (0.13 moved the recursive reads off `RwLock` onto it);
//! - [`Once::new_completed`], [`Once::is_completed`], [`Once::wait`], [`Once::wait_force`]
//!   (waiting is validated as an acquisition of the `Once`'s class, as `call_once` is) and
//!   0.13's [`OnceState`] with `is_poisoned`/`is_completed`;
//! - `into_inner_with_raw` on every lock.
//!
//! Where it differs from parking_lot 0.13: its `lock_api` is 0.4, not 0.5. Code that names the
//! locks through parking_lot's names (`Mutex<T>`, `MutexGuard<'_, T>`, ...) is unaffected; code
//! written over `lock_api` 0.5's traits (its raw guard states, `RawCondvar`, the `force_unlock`
//! and `make_guard_unchecked` that take a raw guard state) does not compile against it, and
//! `RawCondvar` is not offered. What 0.13 removed (the `const_*` functions, `RwLock`'s
//! recursive reads) is still there: code for 0.13 never names it.

mod once;
mod recursive;

pub use once::{Once, OnceState};
pub use recursive::{
    MappedRecursiveRwLockReadGuard, MappedRecursiveRwLockWriteGuard, RawRecursive,
    RawRwLockRecursive, RecursiveRwLock, RecursiveRwLockReadGuard,
    RecursiveRwLockUpgradableReadGuard, RecursiveRwLockWriteGuard,
};

pub use crate::{
    lock_api, Condvar, FairMutex, FairMutexGuard, MappedFairMutexGuard, MappedMutexGuard,
    MappedReentrantMutexGuard, MappedRwLockReadGuard, MappedRwLockWriteGuard, Mutex, MutexGuard,
    RawFairMutex, RawMutex, RawRwLock, RawThreadId, ReentrantMutex, ReentrantMutexGuard, RwLock,
    RwLockReadGuard, RwLockUpgradableReadGuard, RwLockWriteGuard, WaitTimeoutResult,
};

#[cfg(feature = "arc_lock")]
pub use crate::{
    ArcMutexGuard, ArcReentrantMutexGuard, ArcRwLockReadGuard, ArcRwLockUpgradableReadGuard,
    ArcRwLockWriteGuard,
};

/// Deadlock detection, as parking_lot's `deadlock` module (feature `deadlock_detection`).
#[cfg(feature = "deadlock_detection")]
pub use crate::deadlock;
