//! smol's and async-std's locks, `async_lock::{Mutex, RwLock}`, checked by lockdep (feature
//! `async-lock`): the same API, with lockdep's classes and checks. The crate's other items
//! (`Barrier`, `OnceCell`, `Semaphore`, their guards and futures) are re-exported as they are,
//! so a path swap of any `use async_lock::{...}` line builds.
//!
//! As with [`futures`](crate::futures), the executors that use these locks give a task no id:
//! an acquisition is tracked for the task lockdep can see — a future wrapped with `.lockdep()`
//! ([`LockdepFutureExt`](crate::LockdepFutureExt)), or a tokio task — and is *not* checked
//! elsewhere (a one-line note says so once), never counted as the thread's. The `*_blocking`
//! acquisitions are synchronous code: the thread (or the task running it) owns them.
//!
//! `async_lock`'s `RwLock` prefers writers (a reader waits behind a waiting writer), so `read()`
//! is modelled as a fair, non-recursive read; `upgradable_read()` excludes writers and other
//! upgraders; an async `upgrade` is validated like the sync upgrades (a task that also reads the
//! lock would wait for ever: reported, then panics).
//!
//! ```
//! use lockdep_core::async_lock::{Mutex, RwLock};
//! use lockdep_core::LockdepFutureExt;
//!
//! let accounts = Mutex::named("doc-al-accounts", 100u64);
//! let audit = RwLock::named("doc-al-audit", Vec::<String>::new());
//! let task = async {
//!     let mut balance = accounts.lock().await;
//!     *balance -= 10;
//!     audit.write().await.push("withdraw 10".into()); // accounts -> audit: recorded
//! };
//! # let block_on = |f| tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f);
//! block_on(task.lockdep()); // e.g. smol::block_on, async_std::task::block_on
//! ```
//!
//! The one difference from `async_lock`: the mutex's `Arc` API (`lock_arc`, `try_lock_arc`,
//! `lock_arc_blocking`, `MutexGuardArc`, `LockArc`) needs `T: 'static`, because it keeps a guard
//! of the mutex inside the `Arc` beside it.

/// `Deref` (and for `write:` guards `DerefMut`), `Debug` and `Display` of a guard through its
/// field, as `async_lock`'s own guards have them (`Debug` and `Display` show the data). An
/// `Arc` guard's parameter carries its `'static` bound (`T: 'static`).
macro_rules! face_guard {
    (write: $guard:ident<$($lt:lifetime,)? $param:ident $(: $bound:lifetime)?>, $target:ident, $field:ident) => {
        $crate::async_lock::face_guard!(read: $guard<$($lt,)? $param $(: $bound)?>, $target, $field);

        impl<$($lt,)? $param: ?Sized $(+ $bound)?> ::std::ops::DerefMut for $guard<$($lt,)? $param> {
            fn deref_mut(&mut self) -> &mut $target {
                &mut self.$field
            }
        }
    };
    (read: $guard:ident<$($lt:lifetime,)? $param:ident $(: $bound:lifetime)?>, $target:ident, $field:ident) => {
        impl<$($lt,)? $param: ?Sized $(+ $bound)?> ::std::ops::Deref for $guard<$($lt,)? $param> {
            type Target = $target;
            fn deref(&self) -> &$target {
                &self.$field
            }
        }

        impl<$($lt,)? $param: ?Sized + ::std::fmt::Debug $(+ $bound)?> ::std::fmt::Debug
            for $guard<$($lt,)? $param>
        {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Debug::fmt(&**self, f)
            }
        }

        impl<$($lt,)? $param: ?Sized + ::std::fmt::Display $(+ $bound)?> ::std::fmt::Display
            for $guard<$($lt,)? $param>
        {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Display::fmt(&**self, f)
            }
        }
    };
}
pub(crate) use face_guard;

mod mutex;
mod rwlock;
mod rwlock_arc;

pub use ::async_lock::{
    Barrier, BarrierWaitResult, OnceCell, Semaphore, SemaphoreGuard, SemaphoreGuardArc,
};
pub use mutex::{Mutex, MutexGuard, MutexGuardArc};
pub use rwlock::{RwLock, RwLockReadGuard, RwLockUpgradableReadGuard, RwLockWriteGuard};
pub use rwlock_arc::{RwLockReadGuardArc, RwLockUpgradableReadGuardArc, RwLockWriteGuardArc};

/// Named futures of this module's locks (and `async_lock`'s others, re-exported).
pub mod futures {
    pub use super::mutex::{Lock, LockArc};
    pub use super::rwlock::{Read, UpgradableRead, Upgrade, Write};
    pub use super::rwlock_arc::{ReadArc, UpgradableReadArc, UpgradeArc, WriteArc};
    pub use ::async_lock::futures::{Acquire, AcquireArc, BarrierWait};
}

use crate::access::Access;
use crate::async_held::{Addr, Held, Start};
use crate::class::ClassCell;
use std::future::Future;
use std::ops::Deref;
use std::panic::Location;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// A lock of this module, as its acquisitions need it.
pub(crate) trait FaceLock {
    /// The address lockdep knows it by (that of `async_lock`'s lock inside).
    fn addr(&self) -> Addr;
    /// Its class (the checks read it; compiled out it is zero-sized).
    #[cfg_attr(not(lockdep_checks), allow(dead_code))]
    fn class(&self) -> &ClassCell;
    /// What the lock is, for a class made by `new` in reports.
    #[cfg_attr(not(lockdep_checks), allow(dead_code))]
    const TYPE: crate::class::LockTypeFn;
}

/// How an acquisition of this face waits: awaited ones are the task's, `*_blocking` ones the
/// thread's.
#[cfg(lockdep_checks)]
fn wait_of(blocking: bool) -> crate::async_held::Wait {
    if blocking {
        crate::async_held::Wait::Blocking
    } else {
        crate::async_held::Wait::AwaitedInTask
    }
}

/// A waiting acquisition of `lock` as `access` starts: validated and recorded (see the module's
/// doc for who owns it).
#[cfg_attr(not(lockdep_checks), allow(unused_variables))]
#[inline]
#[track_caller]
pub(crate) fn begin<L: FaceLock + ?Sized>(
    lock: &L,
    access: Access,
    at: &'static Location<'static>,
    blocking: bool,
) -> Start {
    #[cfg(lockdep_checks)]
    return Start::begin(
        lock.addr().get(),
        lock.class(),
        L::TYPE,
        0,
        access,
        at,
        wait_of(blocking),
    );
    #[cfg(not(lockdep_checks))]
    Start
}

/// A trylock of `lock` as `access` succeeded: recorded, never validated.
#[cfg_attr(not(lockdep_checks), allow(unused_variables))]
#[inline]
pub(crate) fn try_taken<L: FaceLock + ?Sized>(
    lock: &L,
    access: Access,
    at: &'static Location<'static>,
) -> Held {
    #[cfg(lockdep_checks)]
    return Start::try_taken(
        lock.addr().get(),
        lock.class(),
        L::TYPE,
        access,
        at,
        wait_of(false),
    );
    #[cfg(not(lockdep_checks))]
    Held
}

pin_project_lite::pin_project! {
    /// An acquisition future of this face: `async_lock`'s own future `inner` over the lock that
    /// `lock` leads to, validated and recorded when first polled (before it waits), with the
    /// guard's lockdep half handed out with `async_lock`'s guard when it completes. Dropped
    /// while waiting, the entry goes (`Start`'s `Drop`).
    pub(crate) struct Acquire<H, F> {
        // Declared first, so dropped before `lock`, which an `Arc` future's `inner` borrows.
        #[pin]
        inner: F,
        start: Option<Start>,
        lock: H,
        access: Access,
        at: &'static Location<'static>,
    }
}

impl<H, F> Acquire<H, F>
where
    H: Deref,
    H::Target: FaceLock,
    F: Future,
{
    pub(crate) fn new(lock: H, inner: F, access: Access, at: &'static Location<'static>) -> Self {
        Acquire {
            inner,
            start: None,
            lock,
            access,
            at,
        }
    }

    /// The lock the acquisition is for.
    pub(crate) fn lock(&self) -> &H {
        &self.lock
    }

    /// Polls `async_lock`'s future, validating first on the first poll; ready with its guard
    /// and the lockdep half.
    #[track_caller]
    pub(crate) fn poll_acquire(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<(F::Output, Held)> {
        let this = self.project();
        if this.start.is_none() {
            *this.start = Some(begin(&**this.lock, *this.access, this.at, false));
        }
        let guard = ready!(this.inner.poll(cx));
        let held = this
            .start
            .take()
            .expect("validated when first polled")
            .finish();
        Poll::Ready((guard, held))
    }
}

impl<H, F> std::fmt::Debug for Acquire<H, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Acquire").finish_non_exhaustive()
    }
}
