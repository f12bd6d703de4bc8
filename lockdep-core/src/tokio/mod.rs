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

mod guard;
mod mutex;
mod rwlock;

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

/// What a guard is mapped to so that it holds its lock as a guard of `()`: the owned guards
/// keep tokio's lock held that way, with the data reached through a pointer (see `guard.rs`).
/// It takes nothing: the mapping closures have just made that pointer from their `&mut T`, and
/// any use of that reference after it (a reborrow passed here, say) would invalidate the
/// pointer under Rust's aliasing rules (Stacked and Tree Borrows alike). Every owned guard
/// maps this way.
pub(crate) fn unit_mut() -> &'static mut () {
    // A zero-sized box never allocates: this is a dangling, well-aligned `&'static mut ()`.
    Box::leak(Box::new(()))
}

/// How a guard holds its lock.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum How {
    Exclusive,
    Shared,
}

/// A lock instance's address as lockdep knows it (that of the tokio lock inside): zero-sized
/// with the checks compiled out.
#[derive(Clone, Copy)]
pub(crate) struct Addr(#[cfg(lockdep_checks)] usize);

impl Addr {
    #[inline(always)]
    #[cfg_attr(not(lockdep_checks), allow(unused_variables))]
    pub(crate) fn of<T: ?Sized>(lock: &T) -> Addr {
        Addr(
            #[cfg(lockdep_checks)]
            {
                lock as *const T as *const () as usize
            },
        )
    }
}

/// What a guard needs to release its lock for lockdep: nothing with the checks compiled out.
#[cfg(not(lockdep_checks))]
pub(crate) struct Held;

#[cfg(not(lockdep_checks))]
impl Held {
    #[inline(always)]
    pub(crate) fn release(&self, _: Addr, _: How, unlock: impl FnOnce()) {
        unlock();
    }
}

/// An acquisition under way: validated when it starts, recorded when the lock is taken.
#[cfg(not(lockdep_checks))]
pub(crate) struct Start;

#[cfg(not(lockdep_checks))]
impl Start {
    #[inline(always)]
    pub(crate) fn finish(self) -> Held {
        Held
    }
}

#[cfg(lockdep_checks)]
pub(crate) use checked::{Held, Start};

#[cfg(lockdep_checks)]
impl Addr {
    pub(crate) fn get(self) -> usize {
        self.0
    }
}

#[cfg(lockdep_checks)]
mod checked {
    use super::{Addr, How};
    use crate::access::Access;
    use crate::class::ClassCell;
    use crate::task;
    use crate::task_held;
    use crate::validator::{self, Acquisition, LockRef, Release};
    use std::panic::Location;

    /// What a guard needs to release its lock for lockdep beyond what the guard knows (the
    /// instance and how it holds it): the owner, the task or thread that took it (0: not
    /// tracked). Eight bytes, so that a mutex guard stays two words, returned in registers.
    pub(crate) struct Held {
        owner: u64,
    }

    fn release_how(how: How) -> Release {
        match how {
            How::Exclusive => Release::Exclusive,
            How::Shared => Release::Shared,
        }
    }

    impl Held {
        const NONE: Held = Held { owner: 0 };

        /// The lock at `addr`, held as `how`, is being released (the guard is dropped):
        /// `unlock` releases tokio's lock. The entry is checked, the lock unlocked, then the
        /// entry popped, as for the other flavours; but tokio's unlock wakes a waiter through
        /// its waker, which an executor may run on the spot, so the pop makes sure the entry is
        /// still on top (`validator::release_then_rechecked`).
        #[inline]
        pub(crate) fn release(&self, addr: Addr, how: How, unlock: impl FnOnce()) {
            if self.owner == 0 {
                return unlock();
            }
            if self.owner == task::current_owner() {
                validator::release_then_rechecked(addr.get(), release_how(how), unlock);
                if is_plain(self.owner) {
                    task_held::released(addr.get(), release_how(how));
                }
            } else {
                // Dropped by another task or thread: the owner's entry is not here.
                task_held::post_release(self.owner, addr.get(), release_how(how));
                unlock();
            }
        }

        /// The guard now holds the lock as a reader (a downgrade).
        pub(crate) fn downgrade(&self, addr: Addr) {
            if self.owner != 0 && self.owner == task::current_owner() {
                validator::change_access(addr.get(), Release::Exclusive, Access::Read);
                if is_plain(self.owner) {
                    task_held::access_changed(addr.get(), Release::Exclusive, Access::Read);
                }
            }
        }
    }

    /// An acquisition under way: validated when it starts and, as the kernel does, recorded as
    /// held from then on (a task waits for one lock at a time); if it is dropped before the lock
    /// is taken (`select!`, a cancelled task), the entry goes again.
    pub(crate) struct Start {
        /// The guard's part; `owner == 0` once finished (or when not tracked).
        held: Held,
        addr: Addr,
        how: How,
    }

    /// Whether `owner` is a plain tokio task (its entries are written through to its home,
    /// `task_held.rs`).
    #[inline]
    fn is_plain(owner: u64) -> bool {
        owner & task_held::PLAIN_TASK != 0
    }

    impl Start {
        /// A blocking (waiting) acquisition starts: validate it now, before waiting, and record
        /// it (the validator's hot path: one thread-local access for both). `in_async`: awaited
        /// (not `blocking_*`), so the entry goes with the task.
        #[inline]
        #[track_caller]
        pub(crate) fn begin(
            addr: usize,
            class: &ClassCell,
            subclass: u32,
            access: Access,
            at: &'static Location<'static>,
            in_async: bool,
        ) -> Start {
            match Start::acquisition(addr, class, subclass, access, at, in_async) {
                Some((acq, owner)) => {
                    if let Some(pending) = validator::acquire(&acq, || ()) {
                        pending.raise();
                    }
                    if is_plain(owner) {
                        task_held::pushed(acq.entry(false));
                    }
                    Start {
                        held: Held { owner },
                        addr: Addr(addr),
                        how: how_of(access),
                    }
                }
                None => Start {
                    held: Held::NONE,
                    addr: Addr(addr),
                    how: how_of(access),
                },
            }
        }

        /// A trylock that succeeded: never validated, recorded as held.
        #[inline]
        pub(crate) fn try_taken(
            addr: usize,
            class: &ClassCell,
            access: Access,
            at: &'static Location<'static>,
            in_async: bool,
        ) -> Held {
            match Start::acquisition(addr, class, 0, access, at, in_async) {
                Some((acq, owner)) => {
                    validator::after_lock(&acq, true);
                    if is_plain(owner) {
                        task_held::pushed(acq.entry(true));
                    }
                    Held { owner }
                }
                None => Held::NONE,
            }
        }

        /// The acquisition and its owner; `None` when it is not tracked.
        #[inline]
        fn acquisition(
            addr: usize,
            class: &ClassCell,
            subclass: u32,
            access: Access,
            at: &'static Location<'static>,
            in_async: bool,
        ) -> Option<(Acquisition, u64)> {
            // The `.lockdep()` task, else the plain tokio task (its entries now on this
            // thread's stack), else the thread.
            let owner = task::current_owner();
            task_held::claim_releases(owner, |addr, how| {
                validator::release(addr, how);
                if is_plain(owner) {
                    task_held::released(addr, how);
                }
            });
            let mut acq =
                Acquisition::at_address(LockRef { class }, addr, subclass, access, Some(at))?;
            // Awaited: the guard may live across `.await`, so the entry goes with the task. A
            // `blocking_*` lock is held by synchronous code, like any sync lock: a task polled
            // under it (a `block_on` inside its scope) sees it.
            acq.asynchronous = in_async;
            Some((acq, owner))
        }

        /// The lock was taken: the guard's part.
        #[inline]
        pub(crate) fn finish(mut self) -> Held {
            std::mem::replace(&mut self.held, Held::NONE)
        }
    }

    impl Drop for Start {
        fn drop(&mut self) {
            // Dropped while waiting (the lock was never taken): the entry goes.
            self.held.release(self.addr, self.how, || ());
        }
    }

    fn how_of(access: Access) -> How {
        match access {
            Access::Write => How::Exclusive,
            _ => How::Shared,
        }
    }
}
