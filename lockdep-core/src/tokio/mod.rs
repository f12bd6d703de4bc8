//! Async locks checked by lockdep: tokio's [`Mutex`] and [`RwLock`] with tokio's API, tracked per
//! task (feature `tokio`).
//!
//! A guard held across `.await` belongs to the *task*: [`spawn`] (or `.lockdep()` on any future,
//! [`LockdepFutureExt`], or an async `#[lockdep_core::test]`) carries the task's held locks from
//! poll to poll, whichever worker thread polls it. Every acquisition in a task — of an async lock
//! here or of a sync lockdep lock — is validated against the task's async locks *and* the sync
//! locks its thread holds, in the one class graph, when the acquisition starts (before it waits),
//! so an inversion is found from a run in which nothing ever waited. Outside any task (a plain
//! `block_on`, `blocking_lock`), the thread owns the lock.
//!
//! ```
//! use lockdep_core::tokio::Mutex;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let accounts = Mutex::named("doc-accounts", 100u64);
//! let audit = Mutex::named("doc-audit", Vec::<String>::new());
//! lockdep_core::tokio::spawn(async move {
//!     let mut balance = accounts.lock().await;
//!     *balance -= 10;
//!     audit.lock().await.push("withdraw 10".into()); // accounts -> audit: recorded
//! })
//! .await
//! .unwrap();
//! # }
//! ```
//!
//! tokio's `RwLock` is fair (a reader queues behind a waiting writer), so `read()` is modelled as
//! a fair, non-recursive read. With the checks compiled out each lock is tokio's own inside a
//! transparent wrapper of the same size, and the guards release nothing but tokio's lock.

mod mutex;
mod rwlock;

use crate::async_held::guard::{Holds, HoldsExclusively};
use crate::async_held::How;

macro_rules! holds {
    ($how:ident: $($guard:ident),+) => {
        $(impl<T: ?Sized> Holds for tokio::sync::$guard<'_, T> {
            const HOW: How = How::$how;
        })+
    };
}
holds!(Exclusive: MutexGuard, MappedMutexGuard, RwLockWriteGuard, RwLockMappedWriteGuard);
holds!(Shared: RwLockReadGuard);
impl HoldsExclusively for tokio::sync::MappedMutexGuard<'_, ()> {}
impl HoldsExclusively for tokio::sync::RwLockMappedWriteGuard<'_, ()> {}

pub use crate::task::{LockdepFutureExt, Tracked};
pub use mutex::{MappedMutexGuard, Mutex, MutexGuard, OwnedMappedMutexGuard, OwnedMutexGuard};
pub use rwlock::{
    OwnedRwLockMappedWriteGuard, OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock,
    RwLockMappedWriteGuard, RwLockReadGuard, RwLockWriteGuard,
};
pub use tokio::sync::TryLockError;

use std::future::Future;
use std::panic::Location;

/// [`tokio::spawn`] of the future as a lockdep task: its held locks are tracked per task, sync
/// locks held across `.await` are reported, and reports go to the scope (a test's, a
/// `capture`'s) current where it was spawned.
#[track_caller]
pub fn spawn<F>(future: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio::spawn(Tracked::new(future, Location::caller(), true))
}

/// [`tokio::task::spawn_blocking`], carrying the current report scope into the blocking thread
/// (as [`thread::spawn`](crate::thread::spawn) does). The closure runs on a thread of its own:
/// its locks are that thread's, not the spawning task's.
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> tokio::task::JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    tokio::task::spawn_blocking(crate::thread::carry_scope(f))
}
