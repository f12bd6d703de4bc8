//! lockdep behind the `std::sync` API: poisoning, `LockResult`, `TryLockResult`, a `Condvar`
//! that takes guards by value, and `Once`, `OnceLock` and `LazyLock`, whose initialisation is
//! checked as an acquisition. For code written against the standard library; the locks
//! underneath are the standard library's own.
//!
//! ```
//! use lockdep_core::sync::{Condvar, Mutex};
//!
//! let m = Mutex::new(1);
//! *m.lock().unwrap() += 1;
//! assert_eq!(m.into_inner().unwrap(), 2);
//! let _unused = Condvar::new();
//! ```

mod condvar;
pub(crate) mod hooks;
mod lazy;
mod mutex;
mod once;
mod rwlock;

pub use condvar::Condvar;
pub use lazy::LazyLock;
pub use mutex::{Mutex, MutexGuard};
pub use once::{Once, OnceLock, OnceState};
pub use rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};
pub use std::sync::{LockResult, PoisonError, TryLockError, TryLockResult, WaitTimeoutResult};
// The rest of `std::sync` (as of the stable API), so that any `use std::sync::{...}` line is
// switched by its path alone: `use lockdep_core::sync::{Arc, Condvar, Mutex}`. These are the
// standard library's own items; nothing about them is checked (none of them is a lock).
pub use std::sync::{atomic, mpsc, Arc, Barrier, BarrierWaitResult, Weak};

/// `std::sync::ONCE_INIT`, for this module's [`Once`]: a new, not yet run `Once`, whose class
/// is this constant's (every `Once` initialised from it shares one class, as they share one
/// declaration).
#[deprecated(note = "the `Once::new` function is now preferred")]
// A `const` like std's own `ONCE_INIT`: each use is a new `Once`, which is its purpose.
#[allow(clippy::declare_interior_mutable_const)]
pub const ONCE_INIT: Once = Once::new();

/// Maps the guard inside a `TryLockResult`, keeping the poison state; `locked` runs when the
/// lock was taken (poisoned or not), so the trylock is recorded as held.
pub(crate) fn map_try_result<G, U>(
    result: TryLockResult<G>,
    locked: impl FnOnce(),
    f: impl FnOnce(G) -> U,
) -> TryLockResult<U> {
    match result {
        Ok(guard) => {
            locked();
            Ok(f(guard))
        }
        Err(TryLockError::Poisoned(poisoned)) => {
            locked();
            Err(TryLockError::Poisoned(PoisonError::new(f(
                poisoned.into_inner()
            ))))
        }
        Err(TryLockError::WouldBlock) => Err(TryLockError::WouldBlock),
    }
}

/// A trylock's result as a blocking lock's: `None` when it would have blocked.
pub(crate) fn try_now<G>(result: TryLockResult<G>) -> Option<LockResult<G>> {
    match result {
        Ok(guard) => Some(Ok(guard)),
        Err(TryLockError::Poisoned(poisoned)) => Some(Err(poisoned)),
        Err(TryLockError::WouldBlock) => None,
    }
}

/// Maps the guard inside a `LockResult`, keeping the poison state.
pub(crate) fn map_result<G, U>(result: LockResult<G>, f: impl FnOnce(G) -> U) -> LockResult<U> {
    match result {
        Ok(guard) => Ok(f(guard)),
        Err(poisoned) => Err(PoisonError::new(f(poisoned.into_inner()))),
    }
}
