//! `futures::lock::Mutex` checked by lockdep (feature `futures`): the same API, with lockdep's
//! classes and checks.
//!
//! The executors of `futures` (and smol's, async-std's) give a task no id, so lockdep cannot
//! tell which task a poll belongs to by itself. An acquisition is tracked for the task lockdep
//! can see: a future wrapped with `.lockdep()` ([`LockdepFutureExt`](crate::LockdepFutureExt)),
//! or a tokio task (plain `tokio::spawn` included). Elsewhere — a `LocalPool` or a `block_on`
//! running an unwrapped future — it is *not* checked, and a one-line note says so once: a
//! thread that polls many tasks is no owner, and counting it as one would make one task's guard
//! held across `.await` a false self-deadlock of the next task that takes the lock.
//!
//! ```
//! use lockdep_core::futures::Mutex;
//! use lockdep_core::LockdepFutureExt;
//!
//! let accounts = Mutex::named("doc-futures-accounts", 100u64);
//! let audit = Mutex::named("doc-futures-audit", Vec::<String>::new());
//! let task = async {
//!     let mut balance = accounts.lock().await;
//!     *balance -= 10;
//!     audit.lock().await.push("withdraw 10".into()); // accounts -> audit: recorded
//! };
//! # let block_on = |f| tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f);
//! block_on(task.lockdep()); // e.g. futures::executor::block_on, smol::block_on
//! ```
//!
//! The one difference from `futures`: the owned guards and futures (`lock_owned`,
//! `try_lock_owned`) need `T: 'static`, because they keep a guard of the mutex inside the
//! `Arc` beside it.

#[cfg(lockdep_checks)]
use crate::access::Access;
use crate::async_held::guard::{self, AsyncLock, Guard, Holds, HoldsExclusively};
use crate::async_held::{Addr, Held, How, Start};
use crate::class::ClassCell;
use crate::construct::{class_constructors, default_and_from};
use crate::{LockInstance, TrackedLock};
use futures_util::future::FusedFuture;
use futures_util::lock as inner;
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// An async mutex checked by lockdep: [`futures_util::lock::Mutex`] (`futures::lock::Mutex`)
/// with the same API.
///
/// `lock().await` is validated when first polled, before it waits, against the task's held
/// locks and the thread's sync ones; relocking a mutex the task already holds is a certain
/// self-deadlock: reported, then panics.
pub struct Mutex<T: ?Sized> {
    /// Zero-sized with the checks compiled out.
    class: ClassCell,
    inner: inner::Mutex<T>,
}

/// The guard of [`Mutex::lock`]: releases the mutex (for lockdep too) when dropped.
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MutexGuard<'a, T: ?Sized> {
    core: Guard<inner::MutexGuard<'a, T>>,
}

/// A guard of a part of the data ([`MutexGuard::map`]).
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MappedMutexGuard<'a, T: ?Sized, U: ?Sized> {
    core: Guard<inner::MappedMutexGuard<'a, T, U>>,
}

/// The guard of [`Mutex::lock_owned`]: keeps the `Arc` of the mutex, so it is `'static`.
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct OwnedMutexGuard<T: ?Sized + 'static> {
    owned: guard::Owned<Mutex<T>, T, inner::MappedMutexGuard<'static, T, ()>>,
}

/// The future of [`Mutex::lock`].
#[must_use = "futures do nothing unless polled"]
pub struct MutexLockFuture<'a, T: ?Sized> {
    mutex: &'a Mutex<T>,
    at: &'static Location<'static>,
    subclass: u32,
    state: State<inner::MutexLockFuture<'a, T>>,
}

/// The future of [`Mutex::lock_owned`].
#[must_use = "futures do nothing unless polled"]
pub struct OwnedMutexLockFuture<T: ?Sized + 'static> {
    /// Declared first, so dropped before the `Arc` its future borrows from.
    state: State<inner::MutexLockFuture<'static, T>>,
    mutex: Arc<Mutex<T>>,
    at: &'static Location<'static>,
}

/// Where a lock future is: not polled yet (nothing validated), waiting (validated and
/// recorded, `futures`' own future polled), or done.
enum State<F> {
    NotPolled,
    Waiting(Start, F),
    Done,
}

impl<T: ?Sized> Holds for inner::MutexGuard<'_, T> {
    const HOW: How = How::Exclusive;
}
impl<T: ?Sized, U: ?Sized> Holds for inner::MappedMutexGuard<'_, T, U> {
    const HOW: How = How::Exclusive;
}
impl<T: ?Sized> HoldsExclusively for inner::MappedMutexGuard<'_, T, ()> {}

// SAFETY: as `futures`' `OwnedMutexGuard`: `&mut T` access and an `Arc<Mutex<T>>`, both fine
// to send when `T: Send`; the unit guard only clears the mutex's state and wakes a waiter,
// which any thread may do.
unsafe impl<T: ?Sized + Send> Send for OwnedMutexGuard<T> {}
// SAFETY: shared access gives `&T` only.
unsafe impl<T: ?Sized + Sync> Sync for OwnedMutexGuard<T> {}

impl<T: ?Sized> AsyncLock for Mutex<T> {
    fn addr(&self) -> Addr {
        Addr::of(&self.inner)
    }
}

impl<T> Mutex<T> {
    class_constructors! {
        /// A new unlocked mutex whose class is its creation site (`file:line:column`). A
        /// `const fn`, so it can initialise a `static`.
        pub const fn new(value: T) -> Self;
        /// A new unlocked mutex of the class `class` (a named static key).
        pub const fn with_class;
        /// A new unlocked mutex whose class is `name`: every lock created with this name shares
        /// it.
        pub fn named;
        const fn from_cell(class) => Mutex {
            class,
            inner: inner::Mutex::new(value),
        };
    }

    /// Consumes the mutex, returning the data.
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// What this lock is, for its class in reports when it was made by `new`.
    #[cfg_attr(not(lockdep_checks), allow(dead_code))]
    const TYPE: crate::class::LockTypeFn = crate::class::lock_type!("Mutex", T);

    /// The acquisition starts: validated and recorded for the task (see the module's doc).
    #[cfg(lockdep_checks)]
    #[track_caller]
    fn begin(&self, subclass: u32, at: &'static Location<'static>) -> Start {
        use crate::async_held::Wait;
        Start::begin(
            self.addr().get(),
            &self.class,
            Self::TYPE,
            subclass,
            Access::Write,
            at,
            Wait::AwaitedInTask,
        )
    }

    #[cfg(not(lockdep_checks))]
    #[inline(always)]
    fn begin(&self, _: u32, _: &'static Location<'static>) -> Start {
        Start
    }

    #[cfg_attr(not(lockdep_checks), allow(unused_variables))]
    #[inline]
    fn try_taken(&self, at: &'static Location<'static>) -> Held {
        #[cfg(lockdep_checks)]
        return Start::try_taken(
            self.addr().get(),
            &self.class,
            Self::TYPE,
            Access::Write,
            at,
            crate::async_held::Wait::AwaitedInTask,
        );
        #[cfg(not(lockdep_checks))]
        Held
    }

    /// Acquires the mutex, waiting (asynchronously) until it is free. The acquisition is
    /// validated when the future is first polled, before it waits.
    #[track_caller]
    #[inline]
    pub fn lock(&self) -> MutexLockFuture<'_, T> {
        self.lock_nested(0)
    }

    /// Acquires the mutex as nesting level `subclass` of its class (the kernel's
    /// `mutex_lock_nested`). Panics if `subclass >= MAX_SUBCLASSES` when polled.
    #[track_caller]
    #[inline]
    pub fn lock_nested(&self, subclass: u32) -> MutexLockFuture<'_, T> {
        MutexLockFuture {
            mutex: self,
            at: Location::caller(),
            subclass,
            state: State::NotPolled,
        }
    }

    /// Acquires the mutex through its `Arc`, for a `'static` guard.
    #[track_caller]
    #[inline]
    pub fn lock_owned(self: Arc<Self>) -> OwnedMutexLockFuture<T>
    where
        T: 'static,
    {
        OwnedMutexLockFuture {
            state: State::NotPolled,
            mutex: self,
            at: Location::caller(),
        }
    }

    /// Tries to acquire the mutex without waiting. A trylock adds no dependency to itself and
    /// never reports; once it succeeds, the mutex is held.
    #[track_caller]
    #[inline]
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        let inner = self.inner.try_lock()?;
        Some(MutexGuard {
            core: Guard::new(self.try_taken(Location::caller()), self.addr(), inner),
        })
    }

    /// [`Mutex::try_lock`] through the `Arc`.
    #[track_caller]
    #[inline]
    pub fn try_lock_owned(self: &Arc<Self>) -> Option<OwnedMutexGuard<T>>
    where
        T: 'static,
    {
        let inner = self.inner.try_lock()?;
        let held = self.try_taken(Location::caller());
        // SAFETY: `inner` is a guard of `self`'s mutex.
        Some(unsafe { own(self.clone(), inner, held) })
    }

    /// A mutable reference to the data; no locking is needed since the borrow is unique.
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }

    /// The `futures` mutex underneath, for what this type does not forward (not checked).
    pub fn as_futures(&self) -> &inner::Mutex<T> {
        &self.inner
    }
}

/// Builds an owned guard from a borrowed one of the same mutex.
///
/// # Safety
/// `guard` must be a guard of `lock`'s own `futures` mutex.
unsafe fn own<T: ?Sized + 'static>(
    lock: Arc<Mutex<T>>,
    guard: inner::MutexGuard<'_, T>,
    held: Held,
) -> OwnedMutexGuard<T> {
    // The pointer is made from the last `&mut T` (inside `map`), which is not used again after
    // it (`unit_mut` takes nothing), so nothing invalidates it.
    let mut data = None;
    let unit = inner::MutexGuard::map(guard, |value| {
        data = Some(value as *mut T);
        crate::async_held::unit_mut()
    });
    let data = data.expect("`map` calls its closure once");
    // SAFETY: the guard borrows the mutex inside `lock`'s allocation, which the owned guard
    // keeps alive (and in place) until after `unit` is dropped (see `guard::Owned::new`).
    let unit = unsafe {
        std::mem::transmute::<
            inner::MappedMutexGuard<'_, T, ()>,
            inner::MappedMutexGuard<'static, T, ()>,
        >(unit)
    };
    // SAFETY: `unit` is a guard of `lock`'s mutex and `data` points into its data.
    let owned = unsafe { guard::Owned::new(held, data, unit, lock) };
    OwnedMutexGuard { owned }
}

impl<'a, T: ?Sized> Future for MutexLockFuture<'a, T> {
    type Output = MutexGuard<'a, T>;

    #[track_caller]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if let State::NotPolled = this.state {
            let start = this.mutex.begin(this.subclass, this.at);
            this.state = State::Waiting(start, this.mutex.inner.lock());
        }
        let State::Waiting(_, wait) = &mut this.state else {
            panic!("polled MutexLockFuture after completion");
        };
        let inner = std::task::ready!(Pin::new(wait).poll(cx));
        let State::Waiting(start, _) = std::mem::replace(&mut this.state, State::Done) else {
            unreachable!("waiting above");
        };
        Poll::Ready(MutexGuard {
            core: Guard::new(start.finish(), this.mutex.addr(), inner),
        })
    }
}

impl<T: ?Sized> FusedFuture for MutexLockFuture<'_, T> {
    fn is_terminated(&self) -> bool {
        matches!(self.state, State::Done)
    }
}

impl<T: ?Sized + 'static> Future for OwnedMutexLockFuture<T> {
    type Output = OwnedMutexGuard<T>;

    #[track_caller]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if let State::NotPolled = this.state {
            let start = this.mutex.begin(0, this.at);
            // SAFETY: the future borrows the mutex inside `this.mutex`'s allocation, which
            // stays alive and in place while the future exists: `state` is dropped before the
            // `Arc` (field order) and the `Arc` is never replaced.
            let wait = unsafe {
                std::mem::transmute::<
                    inner::MutexLockFuture<'_, T>,
                    inner::MutexLockFuture<'static, T>,
                >(this.mutex.inner.lock())
            };
            this.state = State::Waiting(start, wait);
        }
        let State::Waiting(_, wait) = &mut this.state else {
            panic!("polled OwnedMutexLockFuture after completion");
        };
        let inner = std::task::ready!(Pin::new(wait).poll(cx));
        let State::Waiting(start, _) = std::mem::replace(&mut this.state, State::Done) else {
            unreachable!("waiting above");
        };
        // SAFETY: `inner` is a guard of `this.mutex`'s mutex.
        Poll::Ready(unsafe { own(this.mutex.clone(), inner, start.finish()) })
    }
}

impl<T: ?Sized + 'static> FusedFuture for OwnedMutexLockFuture<T> {
    fn is_terminated(&self) -> bool {
        matches!(self.state, State::Done)
    }
}

impl<T: ?Sized> fmt::Debug for MutexLockFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MutexLockFuture")
            .field("was_acquired", &matches!(self.state, State::Done))
            .finish_non_exhaustive()
    }
}

impl<T: ?Sized> fmt::Debug for OwnedMutexLockFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedMutexLockFuture")
            .field("was_acquired", &matches!(self.state, State::Done))
            .finish_non_exhaustive()
    }
}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// A guard of the part of the data `f` chooses (`futures`' `MutexGuard::map`).
    #[inline]
    pub fn map<U: ?Sized, F>(this: Self, f: F) -> MappedMutexGuard<'a, T, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        MappedMutexGuard {
            core: this.core.map(|inner| inner::MutexGuard::map(inner, f)),
        }
    }
}

impl<'a, T: ?Sized, U: ?Sized> MappedMutexGuard<'a, T, U> {
    /// A guard of the part of the data `f` chooses.
    #[inline]
    pub fn map<V: ?Sized, F>(this: Self, f: F) -> MappedMutexGuard<'a, T, V>
    where
        F: FnOnce(&mut U) -> &mut V,
    {
        MappedMutexGuard {
            core: this
                .core
                .map(|inner| inner::MappedMutexGuard::map(inner, f)),
        }
    }
}

impl<T: ?Sized> TrackedLock for Mutex<T> {
    fn lock_instance(&self) -> LockInstance<'_> {
        LockInstance::of_parts(
            &self.inner as *const inner::Mutex<T> as *const () as usize,
            &self.class,
        )
    }
}

default_and_from!("Mutex": impl[] Mutex<T>);

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

// `Deref`/`DerefMut` to the data and `futures`' own `Debug` (the value and the mutex).
impl<T: ?Sized> std::ops::Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.core
    }
}

impl<T: ?Sized> std::ops::DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.core
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.core.inner(), f)
    }
}

impl<T: ?Sized + 'static> std::ops::Deref for OwnedMutexGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.owned
    }
}

impl<T: ?Sized + 'static> std::ops::DerefMut for OwnedMutexGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.owned
    }
}

impl<T: ?Sized + fmt::Debug + 'static> fmt::Debug for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedMutexGuard")
            .field("value", &&**self)
            .field("mutex", &&self.owned.lock().inner)
            .finish()
    }
}

impl<T: ?Sized, U: ?Sized> std::ops::Deref for MappedMutexGuard<'_, T, U> {
    type Target = U;
    fn deref(&self) -> &U {
        &self.core
    }
}

impl<T: ?Sized, U: ?Sized> std::ops::DerefMut for MappedMutexGuard<'_, T, U> {
    fn deref_mut(&mut self) -> &mut U {
        &mut self.core
    }
}

impl<T: ?Sized, U: ?Sized + fmt::Debug> fmt::Debug for MappedMutexGuard<'_, T, U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.core.inner(), f)
    }
}
