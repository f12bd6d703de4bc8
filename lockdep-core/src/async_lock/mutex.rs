//! The async `Mutex`: `async_lock`'s, with lockdep's classes and checks.

// `pin_project!` takes one bound per parameter in each place: `LockArc`'s `T: ?Sized` and
// `T: 'static` are written apart.
#![allow(clippy::multiple_bound_locations)]

use super::{begin, try_taken, Acquire, FaceLock};
use crate::access::Access;
use crate::async_held::guard::{AsyncLock, Guard, Holds, HoldsExclusively, Owned};
use crate::async_held::{Addr, How};
use crate::class::ClassCell;
use crate::construct::{class_constructors, default_and_from};
use crate::{LockInstance, TrackedLock};
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

/// An async mutex checked by lockdep: [`async_lock::Mutex`] with the same API.
///
/// `lock().await` is validated when first polled, before it waits; relocking a mutex the task
/// already holds is a certain self-deadlock: reported, then panics.
pub struct Mutex<T: ?Sized> {
    /// Zero-sized with the checks compiled out.
    class: ClassCell,
    inner: ::async_lock::Mutex<T>,
}

/// The guard of [`Mutex::lock`]: releases the mutex (for lockdep too) when dropped.
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MutexGuard<'a, T: ?Sized> {
    lock: &'a Mutex<T>,
    core: Guard<::async_lock::MutexGuard<'a, T>>,
}

/// The guard of [`Mutex::lock_arc`]: keeps the `Arc` of the mutex, so it is `'static`.
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MutexGuardArc<T: ?Sized + 'static> {
    owned: Owned<Mutex<T>, T, ::async_lock::MutexGuard<'static, T>>,
}

pin_project_lite::pin_project! {
    /// The future of [`Mutex::lock`].
    #[must_use = "futures do nothing unless polled"]
    pub struct Lock<'a, T: ?Sized> {
        #[pin]
        acquire: Acquire<&'a Mutex<T>, ::async_lock::futures::Lock<'a, T>>,
    }
}

pin_project_lite::pin_project! {
    /// The future of [`Mutex::lock_arc`].
    #[must_use = "futures do nothing unless polled"]
    pub struct LockArc<T: ?Sized>
    where
        T: 'static,
    {
        #[pin]
        acquire: Acquire<Arc<Mutex<T>>, ::async_lock::futures::Lock<'static, T>>,
    }
}

impl<T: ?Sized> Holds for ::async_lock::MutexGuard<'_, T> {
    const HOW: How = How::Exclusive;
}
impl<T: ?Sized> HoldsExclusively for ::async_lock::MutexGuard<'_, T> {}

// SAFETY: as `async_lock`'s `MutexGuardArc`: `&mut T` access and an `Arc<Mutex<T>>`, fine to
// send when `T: Send`; the borrowed guard inside only unlocks, which any thread may do.
unsafe impl<T: ?Sized + Send> Send for MutexGuardArc<T> {}
// SAFETY: shared access gives `&T` only.
unsafe impl<T: ?Sized + Sync> Sync for MutexGuardArc<T> {}

impl<T: ?Sized> AsyncLock for Mutex<T> {
    fn addr(&self) -> Addr {
        Addr::of(&self.inner)
    }
}

impl<T: ?Sized> FaceLock for Mutex<T> {
    const TYPE: crate::class::LockTypeFn = crate::class::lock_type!("Mutex", T);
    fn addr(&self) -> Addr {
        Addr::of(&self.inner)
    }
    fn class(&self) -> &ClassCell {
        &self.class
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
            inner: ::async_lock::Mutex::new(value),
        };
    }

    /// Consumes the mutex, returning the data.
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Acquires the mutex, waiting (asynchronously) until it is free. The acquisition is
    /// validated when the future is first polled, before it waits.
    #[track_caller]
    #[inline]
    pub fn lock(&self) -> Lock<'_, T> {
        Lock {
            acquire: Acquire::new(self, self.inner.lock(), Access::Write, Location::caller()),
        }
    }

    /// Acquires the mutex from synchronous code, blocking the thread. The thread owns it.
    #[track_caller]
    #[inline]
    pub fn lock_blocking(&self) -> MutexGuard<'_, T> {
        let start = begin(self, Access::Write, Location::caller(), true);
        let inner = self.inner.lock_blocking();
        MutexGuard {
            lock: self,
            core: Guard::new(start.finish(), FaceLock::addr(self), inner),
        }
    }

    /// Tries to acquire the mutex without waiting. A trylock adds no dependency to itself and
    /// never reports; once it succeeds, the mutex is held.
    #[track_caller]
    #[inline]
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        let inner = self.inner.try_lock()?;
        let held = try_taken(self, Access::Write, Location::caller());
        Some(MutexGuard {
            lock: self,
            core: Guard::new(held, FaceLock::addr(self), inner),
        })
    }

    /// A mutable reference to the data; no locking is needed since the borrow is unique.
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }

    /// `async_lock`'s mutex underneath, for what this type does not forward (not checked).
    pub fn as_async_lock(&self) -> &::async_lock::Mutex<T> {
        &self.inner
    }
}

impl<T: ?Sized + 'static> Mutex<T> {
    /// Acquires the mutex through its `Arc`, for a `'static` guard.
    #[track_caller]
    #[inline]
    pub fn lock_arc(self: &Arc<Self>) -> LockArc<T> {
        let lock = self.clone();
        // SAFETY: the future borrows the mutex inside the allocation of `lock`, which the
        // `Acquire` keeps (and drops after the future: field order), and an `Arc`'s value
        // never moves.
        let inner = unsafe {
            std::mem::transmute::<
                ::async_lock::futures::Lock<'_, T>,
                ::async_lock::futures::Lock<'static, T>,
            >(lock.inner.lock())
        };
        LockArc {
            acquire: Acquire::new(lock, inner, Access::Write, Location::caller()),
        }
    }

    /// [`Mutex::lock_blocking`] through the `Arc`.
    #[track_caller]
    #[inline]
    pub fn lock_arc_blocking(self: &Arc<Self>) -> MutexGuardArc<T> {
        let start = begin(&**self, Access::Write, Location::caller(), true);
        let inner = self.inner.lock_blocking();
        // SAFETY: `inner` is a guard of `self`'s mutex.
        unsafe { own(self.clone(), inner, start.finish()) }
    }

    /// [`Mutex::try_lock`] through the `Arc`.
    #[track_caller]
    #[inline]
    pub fn try_lock_arc(self: &Arc<Self>) -> Option<MutexGuardArc<T>> {
        let inner = self.inner.try_lock()?;
        let held = try_taken(&**self, Access::Write, Location::caller());
        // SAFETY: `inner` is a guard of `self`'s mutex.
        Some(unsafe { own(self.clone(), inner, held) })
    }
}

/// Builds an `Arc` guard from a borrowed one of the same mutex.
///
/// # Safety
/// `guard` must be a guard of `lock`'s own `async_lock` mutex.
unsafe fn own<T: ?Sized + 'static>(
    lock: Arc<Mutex<T>>,
    mut guard: ::async_lock::MutexGuard<'_, T>,
    held: crate::async_held::Held,
) -> MutexGuardArc<T> {
    // `async_lock`'s guard reaches the data through the mutex's `UnsafeCell`: the pointer is
    // as good as the guard's own access, for as long as the guard lives.
    let data: *mut T = &mut *guard;
    // SAFETY: the guard borrows the mutex inside `lock`'s allocation, which `Owned` keeps
    // alive (and in place) until after the guard is dropped (see `Owned::new`).
    let unit = unsafe {
        std::mem::transmute::<::async_lock::MutexGuard<'_, T>, ::async_lock::MutexGuard<'static, T>>(
            guard,
        )
    };
    MutexGuardArc {
        // SAFETY: `unit` is a guard of `lock`'s mutex and `data` points at its data.
        owned: unsafe { Owned::new(held, data, unit, lock) },
    }
}

impl<'a, T: ?Sized> Future for Lock<'a, T> {
    type Output = MutexGuard<'a, T>;

    #[track_caller]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let acquire = self.project().acquire;
        let lock: &'a Mutex<T> = acquire.as_ref().get_ref().lock();
        let (inner, held) = ready!(acquire.poll_acquire(cx));
        Poll::Ready(MutexGuard {
            lock,
            core: Guard::new(held, FaceLock::addr(lock), inner),
        })
    }
}

impl<T: ?Sized + 'static> Future for LockArc<T> {
    type Output = MutexGuardArc<T>;

    #[track_caller]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let acquire = self.project().acquire;
        let lock = acquire.as_ref().get_ref().lock().clone();
        let (inner, held) = ready!(acquire.poll_acquire(cx));
        // SAFETY: `inner` is a guard of `lock`'s mutex (the future was made from it).
        Poll::Ready(unsafe { own(lock, inner, held) })
    }
}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// The mutex this guard holds (`async_lock`'s `MutexGuard::source`).
    pub fn source(guard: &MutexGuard<'a, T>) -> &'a Mutex<T> {
        guard.lock
    }
}

impl<T: ?Sized + 'static> MutexGuardArc<T> {
    /// The `Arc` of the mutex this guard holds (`async_lock`'s `MutexGuardArc::source`).
    pub fn source(guard: &Self) -> &Arc<Mutex<T>>
    where
        T: Send,
    {
        guard.owned.lock()
    }
}

impl<T: ?Sized> TrackedLock for Mutex<T> {
    fn lock_instance(&self) -> LockInstance<'_> {
        LockInstance::of_parts(
            &self.inner as *const ::async_lock::Mutex<T> as *const () as usize,
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

impl<T: ?Sized> fmt::Debug for Lock<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Lock { .. }")
    }
}

impl<T: ?Sized> fmt::Debug for LockArc<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LockArc { .. }")
    }
}

super::face_guard!(write: MutexGuard<'a, T>, T, core);
super::face_guard!(write: MutexGuardArc<T: 'static>, T, owned);
