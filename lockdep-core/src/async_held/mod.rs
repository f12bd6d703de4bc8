//! The lockdep half of the async locks, shared by every async face (`tokio`, `futures`,
//! `async_lock`): what an acquisition records when it starts ([`Start`]), what a guard keeps to
//! release it ([`Held`]), for whichever owner took it (a task, or the thread), and the two guard
//! shapes written once ([`guard`]). With the checks compiled out every piece is zero-sized.

// Each face uses part of this room; tokio's uses all of it.
#![cfg_attr(not(feature = "tokio"), allow(dead_code))]

pub(crate) mod guard;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

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
    /// An upgradable read (`async_lock`'s): excludes writers and other upgraders.
    #[cfg_attr(not(feature = "async-lock"), allow(dead_code))]
    Upgradable,
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

/// How an acquisition waits, and so who owns the lock once it is taken.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(lockdep_checks), allow(dead_code))]
pub(crate) enum Wait {
    /// `blocking_*`: synchronous code; the thread (or the task) running it owns the lock, like
    /// any sync lock's.
    Blocking,
    /// Awaited with tokio's locks: the task owns it; outside any task, the thread (a plain
    /// `block_on` runs one future).
    Awaited,
    /// Awaited with a lock of an executor that has no task id (`futures`, `async_lock`): the
    /// task lockdep can see (a `.lockdep()` future, or a tokio task) owns it; outside one the
    /// acquisition is not tracked, since a thread that polls many tasks is no owner (one task's
    /// guard held across `.await` would be another's false self-deadlock).
    #[cfg_attr(
        not(any(feature = "futures", feature = "async-lock")),
        allow(dead_code)
    )]
    AwaitedInTask,
}

impl From<bool> for Wait {
    /// `in_async`: awaited (tokio's rule), or `blocking_*`.
    fn from(in_async: bool) -> Wait {
        if in_async {
            Wait::Awaited
        } else {
            Wait::Blocking
        }
    }
}

/// A panic due for an awaited acquisition, carried out of the lock's `async` block (where no
/// `#[track_caller]` reaches) to [`Located::poll`], which raises it at the user's `.await`.
/// Uninhabited with the checks compiled out, so `Result<T, Due>` is `T`.
#[cfg(lockdep_checks)]
pub(crate) type Due = Box<crate::validator::Pending>;

/// A panic due for an awaited acquisition: none with the checks compiled out.
#[cfg(not(lockdep_checks))]
pub(crate) enum Due {}

/// Raises `due` at the caller's (`#[track_caller]`) location.
#[cfg(lockdep_checks)]
#[cold]
#[inline(never)]
#[track_caller]
#[allow(clippy::boxed_local)] // boxed to keep `Result<Guard, Due>` a guard's size
pub(crate) fn raise(due: Due) -> ! {
    (*due).raise()
}

/// Nothing is ever due with the checks compiled out.
#[cfg(not(lockdep_checks))]
#[inline(always)]
pub(crate) fn raise(due: Due) -> ! {
    match due {}
}

/// `r`'s value, or its panic raised at the caller's location (a `blocking_*` acquisition,
/// called by the user's line).
#[inline]
#[track_caller]
pub(crate) fn or_raise<T>(r: Result<T, Due>) -> T {
    match r {
        Ok(value) => value,
        Err(due) => raise(due),
    }
}

/// An awaited acquisition's future: the lock's `async` block, whose output is the guard or a
/// [`Due`] panic, polled by a `#[track_caller]` `poll` — the `.await` in the user's code calls
/// it, so a report's panic (a certain self-deadlock in a `#[tokio::test]` body, say) names the
/// user's line, not one inside this crate.
pub(crate) struct Located<F> {
    inner: F,
}

impl<F> Located<F> {
    #[inline(always)]
    pub(crate) fn new(inner: F) -> Located<F> {
        Located { inner }
    }
}

impl<T, F: Future<Output = Result<T, Due>>> Future for Located<F> {
    type Output = T;

    #[inline]
    #[track_caller]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        // SAFETY: structural pinning of the only field: `Located` never moves `inner` out,
        // has no `Drop` of its own, and is `Unpin` exactly when `F` is.
        let inner = unsafe { self.map_unchecked_mut(|located| &mut located.inner) };
        match inner.poll(cx) {
            Poll::Ready(Ok(value)) => Poll::Ready(value),
            Poll::Ready(Err(due)) => raise(due),
            Poll::Pending => Poll::Pending,
        }
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

    #[inline(always)]
    #[cfg_attr(not(feature = "async-lock"), allow(dead_code))]
    pub(crate) fn changed(&self, _: Addr, _: How, _: How) {}

    #[inline(always)]
    #[cfg_attr(not(feature = "async-lock"), allow(dead_code))]
    pub(crate) fn before_upgrade(&self, _: Addr) {}
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
    use super::{Addr, Due, How, Wait};
    use crate::access::Access;
    use crate::class::{ClassCell, LockTypeFn};
    use crate::task;
    use crate::task_held;
    use crate::validator::{self, Acquisition, LockRef, Release};
    use std::panic::Location;
    use std::sync::atomic::{AtomicBool, Ordering};

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
            How::Upgradable => Release::Upgradable,
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
            } else if !task_held::post_release(self.owner, addr.get(), release_how(how))
                && validator::is_held(addr.get())
            {
                // The owner has ended, and its entry is here: a `.lockdep()` future's output (a
                // guard) left to whoever polled it (`task.rs`), dropped by that poller.
                validator::release_then_rechecked(addr.get(), release_how(how), unlock);
                if is_plain(task::current_owner()) {
                    task_held::released(addr.get(), release_how(how));
                }
            } else {
                // Dropped by another task or thread: the owner's entry is not here (posted to
                // the owner, or gone with it).
                unlock();
            }
        }

        /// The guard now holds the lock as a reader (a downgrade).
        pub(crate) fn downgrade(&self, addr: Addr) {
            self.changed(addr, How::Exclusive, How::Shared);
        }

        /// The guard now holds the lock as `to` instead of `from` (an upgrade or downgrade
        /// done). Only the owner's entry changes: a guard converted by another owner leaves
        /// the entry as it was (the release, posted, still finds it by instance).
        pub(crate) fn changed(&self, addr: Addr, from: How, to: How) {
            if self.owner != 0 && self.owner == task::current_owner() {
                let to = match to {
                    How::Exclusive => Access::Write,
                    How::Shared => Access::Read,
                    How::Upgradable => Access::Upgradable,
                };
                validator::change_access(addr.get(), release_how(from), to);
                if is_plain(self.owner) {
                    task_held::access_changed(addr.get(), release_how(from), to);
                }
            }
        }

        /// An upgradable read is about to wait for the write side (an async `upgrade`): the
        /// acquisition of the write side is validated with the entry's own hold left out, as
        /// the sync upgrades are; a certain self-deadlock (the task also reads the lock)
        /// panics here instead of hanging.
        #[cfg_attr(not(feature = "async-lock"), allow(dead_code))]
        #[track_caller]
        pub(crate) fn before_upgrade(&self, addr: Addr) {
            if self.owner != 0 && self.owner == task::current_owner() {
                if let Some(pending) =
                    validator::before_reacquire(addr.get(), Release::Upgradable, Access::Write)
                {
                    pending.raise();
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
        #[cfg_attr(
            not(any(feature = "futures", feature = "async-lock")),
            allow(dead_code)
        )]
        #[inline]
        #[track_caller]
        pub(crate) fn begin(
            addr: usize,
            class: &ClassCell,
            ty: LockTypeFn,
            subclass: u32,
            access: Access,
            at: &'static Location<'static>,
            wait: impl Into<Wait>,
        ) -> Start {
            super::or_raise(Start::try_begin(
                addr, class, ty, subclass, access, at, wait,
            ))
        }

        /// [`Start::begin`], with a panic due returned instead of raised: an acquisition
        /// validated inside its lock's `async` block hands it to [`super::Located`].
        #[inline]
        pub(crate) fn try_begin(
            addr: usize,
            class: &ClassCell,
            ty: LockTypeFn,
            subclass: u32,
            access: Access,
            at: &'static Location<'static>,
            wait: impl Into<Wait>,
        ) -> Result<Start, Due> {
            match Start::acquisition(addr, class, ty, subclass, access, at, wait.into()) {
                Some((acq, owner)) => {
                    // A plain task's owner was found by bringing the stack in line with it.
                    let pending = if is_plain(owner) {
                        validator::acquire_in_line(&acq, || ())
                    } else {
                        validator::acquire(&acq, || ())
                    };
                    if let Some(pending) = pending {
                        return Err(Box::new(pending));
                    }
                    if is_plain(owner) {
                        task_held::pushed(acq.entry(false));
                    }
                    Ok(Start {
                        held: Held { owner },
                        addr: Addr(addr),
                        how: how_of(access),
                    })
                }
                None => Ok(Start {
                    held: Held::NONE,
                    addr: Addr(addr),
                    how: how_of(access),
                }),
            }
        }

        /// A trylock that succeeded: never validated, recorded as held.
        #[inline]
        pub(crate) fn try_taken(
            addr: usize,
            class: &ClassCell,
            ty: LockTypeFn,
            access: Access,
            at: &'static Location<'static>,
            wait: impl Into<Wait>,
        ) -> Held {
            match Start::acquisition(addr, class, ty, 0, access, at, wait.into()) {
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
            ty: LockTypeFn,
            subclass: u32,
            access: Access,
            at: &'static Location<'static>,
            wait: Wait,
        ) -> Option<(Acquisition, u64)> {
            // The `.lockdep()` task, else the plain tokio task (its entries now on this
            // thread's stack), else the thread (not for `AwaitedInTask`).
            let owner = match wait {
                Wait::AwaitedInTask => match task::current_task_owner() {
                    Some(task) => task,
                    None => {
                        untracked_note(at);
                        return None;
                    }
                },
                _ => task::current_owner(),
            };
            task_held::claim_releases(owner, |addr, how| {
                validator::release(addr, how);
                if is_plain(owner) {
                    task_held::released(addr, how);
                }
            });
            let lock = LockRef {
                class,
                ty: Some(ty),
            };
            let mut acq = Acquisition::at_address(lock, addr, subclass, access, Some(at))?;
            // Awaited: the guard may live across `.await`, so the entry goes with the task. A
            // `blocking_*` lock is held by synchronous code, like any sync lock: a task polled
            // under it (a `block_on` inside its scope) sees it.
            acq.asynchronous = wait != Wait::Blocking;
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

    /// Says once per process that a lock of an executor without task ids was taken where no
    /// task is known, and what to do about it.
    #[cold]
    fn untracked_note(at: &'static Location<'static>) {
        static SAID: AtomicBool = AtomicBool::new(false);
        if !SAID.swap(true, Ordering::Relaxed) {
            crate::message::notice(format_args!(
                "lockdep: an async lock (`futures`/`async_lock`) was taken at {at} outside any task \
                 lockdep can see: not checked. These executors have no task id: wrap each task's \
                 future with `.lockdep()` (lockdep_core::LockdepFutureExt), or run it in a tokio \
                 task (this note is printed once)"
            ));
        }
    }

    fn how_of(access: Access) -> How {
        match access {
            Access::Write => How::Exclusive,
            Access::Upgradable => How::Upgradable,
            Access::Read | Access::RecursiveRead => How::Shared,
        }
    }
}
