//! The `parking_lot` face: lockdep behind `parking_lot` 0.12's API, beside the `std::sync` face
//! (`sync/`) and the tokio face (`tokio/`). The crate root re-exports all of it, so that
//! `use parking_lot::X` becomes `use lockdep_core::X` for every `X`; this module is private and
//! none of its paths is public.
//!
//! Named `parking_lot_face`, not `parking_lot`, because the crate names the `parking_lot` crate
//! itself throughout (the raw locks under this face, the internal locks of the validator, the
//! class table and the store): a crate-root module called `parking_lot` would shadow that crate
//! in `lib.rs` (where `parking_lot::RawMutex` would then name the module, and a `use
//! parking_lot::...` is an ambiguity error), and every other `parking_lot::` path would leave a
//! reader guessing which one is meant. (The tokio face can be called `tokio`: it is a public
//! module, `lockdep_core::tokio`, whose path is part of the API.)
//!
//! One job per file:
//! - `mutex.rs`, `rwlock.rs`, `remutex.rs`: the typed layers (`lock_api`'s, over
//!   `raw::Raw<R>`), generic over any `lock_api` raw lock ([`generic`]);
//! - `condvar.rs`, `once.rs`: `parking_lot`'s `Condvar` and `Once`;
//! - `root.rs`: the rest of `parking_lot`'s root (`FairMutex`, `const_*`, the raw types,
//!   `lock_api`);
//! - `arc.rs`, `serde_impls.rs`: the `arc_lock` and `serde` features.
//!
//! The aliases below fix the typed layers to `parking_lot`'s raw locks, as `parking_lot`'s own
//! types are `lock_api`'s over them.

// `pub(crate)`: the 0.13 face's `RecursiveRwLock` views its `Arc` through it too.
#[cfg(feature = "arc_lock")]
pub(crate) mod arc;
mod condvar;
mod mutex;
mod once;
mod remutex;
mod root;
mod rwlock;
#[cfg(feature = "serde")]
mod serde_impls;

pub use condvar::{Condvar, WaitTimeoutResult};
pub use once::{Once, OnceState};
pub use root::*;

/// The typed lock layers, generic over any `lock_api` raw lock.
///
/// A raw lock `R` given here must not itself take this crate's locks in its `lock`, `unlock`
/// and other methods: the validator's hot path checks an acquisition, calls `R`'s lock, and
/// then pushes the entry at the depth it checked, and a lock taken and kept inside `R::lock`
/// would be overwritten on the held-lock stack (memory-safe, but the bookkeeping of that lock
/// would be lost). Debug builds assert it.
///
/// ```
/// // Check a spin lock, or any other `lock_api` raw mutex, the same way:
/// type MyMutex<T> = lockdep_core::generic::Mutex<parking_lot::RawMutex, T>;
/// let m: MyMutex<i32> = MyMutex::new(1);
/// assert_eq!(*m.lock(), 1);
/// ```
pub mod generic {
    #[cfg(feature = "arc_lock")]
    pub use super::arc::{
        ArcMutexGuard, ArcReentrantMutexGuard, ArcRwLockReadGuard, ArcRwLockUpgradableReadGuard,
        ArcRwLockWriteGuard,
    };
    pub use super::mutex::{MappedMutexGuard, Mutex, MutexGuard};
    pub use super::remutex::{MappedReentrantMutexGuard, ReentrantMutex, ReentrantMutexGuard};
    pub use super::rwlock::{
        MappedRwLockReadGuard, MappedRwLockWriteGuard, RwLock, RwLockReadGuard,
        RwLockUpgradableReadGuard, RwLockWriteGuard,
    };
}

/// A mutex checked by lockdep, over `parking_lot::RawMutex` (the `parking_lot::Mutex` API).
pub type Mutex<T> = generic::Mutex<parking_lot::RawMutex, T>;
/// Guard of [`Mutex`].
pub type MutexGuard<'a, T> = generic::MutexGuard<'a, parking_lot::RawMutex, T>;
/// Mapped guard of [`Mutex`].
pub type MappedMutexGuard<'a, T> = generic::MappedMutexGuard<'a, parking_lot::RawMutex, T>;
/// A reader-writer lock checked by lockdep, over `parking_lot::RawRwLock`.
pub type RwLock<T> = generic::RwLock<parking_lot::RawRwLock, T>;
/// Read guard of [`RwLock`].
pub type RwLockReadGuard<'a, T> = generic::RwLockReadGuard<'a, parking_lot::RawRwLock, T>;
/// Write guard of [`RwLock`].
pub type RwLockWriteGuard<'a, T> = generic::RwLockWriteGuard<'a, parking_lot::RawRwLock, T>;
/// Upgradable read guard of [`RwLock`].
pub type RwLockUpgradableReadGuard<'a, T> =
    generic::RwLockUpgradableReadGuard<'a, parking_lot::RawRwLock, T>;
/// Mapped read guard of [`RwLock`].
pub type MappedRwLockReadGuard<'a, T> =
    generic::MappedRwLockReadGuard<'a, parking_lot::RawRwLock, T>;
/// Mapped write guard of [`RwLock`].
pub type MappedRwLockWriteGuard<'a, T> =
    generic::MappedRwLockWriteGuard<'a, parking_lot::RawRwLock, T>;
/// A reentrant mutex checked by lockdep, over `parking_lot`'s raw mutex and thread ids.
pub type ReentrantMutex<T> =
    generic::ReentrantMutex<parking_lot::RawMutex, parking_lot::RawThreadId, T>;
/// Guard of [`ReentrantMutex`].
pub type ReentrantMutexGuard<'a, T> =
    generic::ReentrantMutexGuard<'a, parking_lot::RawMutex, parking_lot::RawThreadId, T>;
