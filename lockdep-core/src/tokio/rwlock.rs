//! The async `RwLock`: tokio's, with lockdep's classes and checks.
//!
//! tokio's `RwLock` is fair: a `read()` queues behind a waiting writer, so reads are modelled as
//! the kernel's non-recursive (fair) reads: readers of A and B in opposite orders, with writers
//! around, can deadlock, and are reported.

mod owned;

use owned::{own_read, own_write};
pub use owned::{OwnedRwLockMappedWriteGuard, OwnedRwLockReadGuard, OwnedRwLockWriteGuard};

use super::mutex::guard_common;
use super::TryLockError;
use crate::access::Access;
use crate::async_held::guard::{AsyncLock, Guard, Holds};
use crate::async_held::{or_raise, Addr, Due, Held, Located, Start};
use crate::class::ClassCell;
use crate::construct::{class_constructors, default_and_from};
use crate::{LockInstance, TrackedLock};
use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::panic::Location;
use std::sync::Arc;

/// An async reader-writer lock checked by lockdep: [`tokio::sync::RwLock`] with the same API,
/// tracked per task. Reads are fair (non-recursive) reads.
pub struct RwLock<T: ?Sized> {
    /// Zero-sized with the checks compiled out.
    class: ClassCell,
    inner: tokio::sync::RwLock<T>,
}

/// The guard of [`RwLock::read`].
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    core: Guard<tokio::sync::RwLockReadGuard<'a, T>>,
}

/// The guard of [`RwLock::write`].
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    core: Guard<tokio::sync::RwLockWriteGuard<'a, T>>,
}

/// A write guard of a part of the data ([`RwLockWriteGuard::map`]).
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockMappedWriteGuard<'a, T: ?Sized> {
    core: Guard<tokio::sync::RwLockMappedWriteGuard<'a, T>>,
}

impl<T> RwLock<T> {
    class_constructors! {
        /// A new unlocked lock whose class is its creation site (`file:line:column`). A `const
        /// fn` (tokio's `const_new`), so it can initialise a `static`.
        pub const fn new(value: T) -> Self;
        /// A new unlocked lock of the class `class` (a named static key).
        pub const fn with_class;
        /// A new unlocked lock whose class is `name`: every lock created with this name shares
        /// it.
        pub fn named;
        /// The same as [`RwLock::new`] (tokio's name for the `const` constructor).
        pub const fn const_new;
        const fn from_cell(class) => RwLock {
            class,
            inner: tokio::sync::RwLock::const_new(value),
        };
    }

    /// A new unlocked lock admitting at most `max_reads` concurrent readers (tokio's
    /// `with_max_readers`), whose class is its creation site.
    #[track_caller]
    pub fn with_max_readers(value: T, max_reads: u32) -> Self {
        RwLock {
            class: ClassCell::from_site(Location::caller()),
            inner: tokio::sync::RwLock::with_max_readers(value, max_reads),
        }
    }

    /// Consumes the lock, returning the data.
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// What this lock is, for its class in reports when it was made by `new`.
    #[cfg_attr(not(lockdep_checks), allow(dead_code))]
    const TYPE: crate::class::LockTypeFn = crate::class::lock_type!("RwLock", T);

    #[cfg_attr(not(lockdep_checks), allow(dead_code))]
    fn addr(&self) -> usize {
        // The tokio lock's own address, as for `Mutex`.
        &self.inner as *const tokio::sync::RwLock<T> as *const () as usize
    }

    /// The acquisition starts (validated and recorded), or the panic due for it.
    #[cfg(lockdep_checks)]
    #[inline]
    fn begin(
        &self,
        subclass: u32,
        access: Access,
        at: &'static Location<'static>,
        in_async: bool,
    ) -> Result<Start, Due> {
        Start::try_begin(
            self.addr(),
            &self.class,
            Self::TYPE,
            subclass,
            access,
            at,
            in_async,
        )
    }

    #[cfg(not(lockdep_checks))]
    #[inline(always)]
    fn begin(
        &self,
        _: u32,
        _: Access,
        _: &'static Location<'static>,
        _: bool,
    ) -> Result<Start, Due> {
        Ok(Start)
    }

    #[cfg_attr(not(lockdep_checks), allow(unused_variables))]
    #[inline]
    fn try_taken(&self, access: Access, at: &'static Location<'static>) -> Held {
        #[cfg(lockdep_checks)]
        return Start::try_taken(self.addr(), &self.class, Self::TYPE, access, at, true);
        #[cfg(not(lockdep_checks))]
        Held
    }

    /// The guard's core: tokio's guard `inner` of this lock, held as `held` says.
    #[inline]
    fn guard<G: Holds>(&self, held: Held, inner: G) -> Guard<G> {
        Guard::new(held, Addr::of(&self.inner), inner)
    }

    /// Locks for reading (a fair read: it queues behind a waiting writer). Validated when the
    /// future is first polled, before it waits.
    #[track_caller]
    #[inline]
    pub fn read(&self) -> impl Future<Output = RwLockReadGuard<'_, T>> + '_ {
        self.read_nested(0)
    }

    /// [`RwLock::read`] as nesting level `subclass` of the class.
    #[track_caller]
    #[inline]
    pub fn read_nested(&self, subclass: u32) -> impl Future<Output = RwLockReadGuard<'_, T>> + '_ {
        let at = Location::caller();
        Located::new(async move {
            let start = self.begin(subclass, Access::Read, at, true)?;
            // tokio's fast path first (a free lock has no queued waiters): see `Mutex::lock`.
            let inner = match self.inner.try_read() {
                Ok(inner) => inner,
                Err(_) => self.inner.read().await,
            };
            Ok(RwLockReadGuard {
                core: self.guard(start.finish(), inner),
            })
        })
    }

    /// Locks for writing. Validated when the future is first polled, before it waits.
    #[track_caller]
    #[inline]
    pub fn write(&self) -> impl Future<Output = RwLockWriteGuard<'_, T>> + '_ {
        self.write_nested(0)
    }

    /// [`RwLock::write`] as nesting level `subclass` of the class.
    #[track_caller]
    #[inline]
    pub fn write_nested(
        &self,
        subclass: u32,
    ) -> impl Future<Output = RwLockWriteGuard<'_, T>> + '_ {
        let at = Location::caller();
        Located::new(async move {
            let start = self.begin(subclass, Access::Write, at, true)?;
            // tokio's fast path first (a free lock has no queued waiters): see `Mutex::lock`.
            let inner = match self.inner.try_write() {
                Ok(inner) => inner,
                Err(_) => self.inner.write().await,
            };
            Ok(RwLockWriteGuard {
                core: self.guard(start.finish(), inner),
            })
        })
    }

    /// Locks for reading from synchronous code, blocking the thread (tokio's `blocking_read`).
    #[track_caller]
    #[inline]
    pub fn blocking_read(&self) -> RwLockReadGuard<'_, T> {
        let start = or_raise(self.begin(0, Access::Read, Location::caller(), false));
        let inner = self.inner.blocking_read();
        RwLockReadGuard {
            core: self.guard(start.finish(), inner),
        }
    }

    /// Locks for writing from synchronous code, blocking the thread (tokio's `blocking_write`).
    #[track_caller]
    #[inline]
    pub fn blocking_write(&self) -> RwLockWriteGuard<'_, T> {
        let start = or_raise(self.begin(0, Access::Write, Location::caller(), false));
        let inner = self.inner.blocking_write();
        RwLockWriteGuard {
            core: self.guard(start.finish(), inner),
        }
    }

    /// Tries to lock for reading without waiting (never reports; held once it succeeds).
    #[track_caller]
    #[inline]
    pub fn try_read(&self) -> Result<RwLockReadGuard<'_, T>, TryLockError> {
        let inner = self.inner.try_read()?;
        Ok(RwLockReadGuard {
            core: self.guard(self.try_taken(Access::Read, Location::caller()), inner),
        })
    }

    /// Tries to lock for writing without waiting (never reports; held once it succeeds).
    #[track_caller]
    #[inline]
    pub fn try_write(&self) -> Result<RwLockWriteGuard<'_, T>, TryLockError> {
        let inner = self.inner.try_write()?;
        Ok(RwLockWriteGuard {
            core: self.guard(self.try_taken(Access::Write, Location::caller()), inner),
        })
    }

    /// Locks for reading through the `Arc`, returning a `'static` guard.
    #[track_caller]
    #[inline]
    pub fn read_owned(self: Arc<Self>) -> impl Future<Output = OwnedRwLockReadGuard<T>> {
        let at = Location::caller();
        Located::new(async move {
            let start = self.begin(0, Access::Read, at, true)?;
            let lock = self.clone();
            // tokio's fast path first (a free lock has no queued waiters): see `Mutex::lock`.
            let guard = match lock.inner.try_read() {
                Ok(guard) => guard,
                Err(_) => lock.inner.read().await,
            };
            let held = start.finish();
            // SAFETY: `guard` is a guard of `self`'s lock (`lock` is the same `Arc`).
            let owned = unsafe { own_read(self, guard, held) };
            drop(lock);
            Ok(owned)
        })
    }

    /// Locks for writing through the `Arc`, returning a `'static` guard.
    #[track_caller]
    #[inline]
    pub fn write_owned(self: Arc<Self>) -> impl Future<Output = OwnedRwLockWriteGuard<T>> {
        let at = Location::caller();
        Located::new(async move {
            let start = self.begin(0, Access::Write, at, true)?;
            let lock = self.clone();
            // tokio's fast path first (a free lock has no queued waiters): see `Mutex::lock`.
            let guard = match lock.inner.try_write() {
                Ok(guard) => guard,
                Err(_) => lock.inner.write().await,
            };
            let held = start.finish();
            // SAFETY: `guard` is a guard of `self`'s lock.
            let owned = unsafe { own_write(self, guard, held) };
            drop(lock);
            Ok(owned)
        })
    }

    /// [`RwLock::try_read`] through the `Arc`.
    #[track_caller]
    #[inline]
    pub fn try_read_owned(self: Arc<Self>) -> Result<OwnedRwLockReadGuard<T>, TryLockError> {
        let lock = self.clone();
        let guard = lock.inner.try_read()?;
        let held = self.try_taken(Access::Read, Location::caller());
        // SAFETY: `guard` is a guard of `self`'s lock.
        let owned = unsafe { own_read(self, guard, held) };
        drop(lock);
        Ok(owned)
    }

    /// [`RwLock::try_write`] through the `Arc`.
    #[track_caller]
    #[inline]
    pub fn try_write_owned(self: Arc<Self>) -> Result<OwnedRwLockWriteGuard<T>, TryLockError> {
        let lock = self.clone();
        let guard = lock.inner.try_write()?;
        let held = self.try_taken(Access::Write, Location::caller());
        // SAFETY: `guard` is a guard of `self`'s lock.
        let owned = unsafe { own_write(self, guard, held) };
        drop(lock);
        Ok(owned)
    }

    /// A mutable reference to the data; no locking is needed since the borrow is unique.
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }

    /// tokio's lock underneath, for what this type does not forward (not checked).
    pub fn as_tokio(&self) -> &tokio::sync::RwLock<T> {
        &self.inner
    }
}

impl<T: ?Sized> AsyncLock for RwLock<T> {
    fn addr(&self) -> Addr {
        Addr::of(&self.inner)
    }
}

impl<T: ?Sized> TrackedLock for RwLock<T> {
    fn lock_instance(&self) -> LockInstance<'_> {
        LockInstance::of_parts(self.addr(), &self.class)
    }
}

default_and_from!("RwLock": impl[] RwLock<T>);

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

guard_common!(RwLockWriteGuard<'a, T>, T, core);
guard_common!(RwLockMappedWriteGuard<'a, T>, T, core);

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.core
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<'a, T: ?Sized> RwLockReadGuard<'a, T> {
    /// A guard of a part of the data.
    pub fn map<U: ?Sized>(this: Self, f: impl FnOnce(&T) -> &U) -> RwLockReadGuard<'a, U> {
        let core = this
            .core
            .map(|inner| tokio::sync::RwLockReadGuard::map(inner, f));
        RwLockReadGuard { core }
    }

    /// A guard of a part of the data if `f` finds one; the guard back otherwise.
    pub fn try_map<U: ?Sized>(
        this: Self,
        f: impl FnOnce(&T) -> Option<&U>,
    ) -> Result<RwLockReadGuard<'a, U>, Self> {
        this.core
            .try_map(|inner| tokio::sync::RwLockReadGuard::try_map(inner, f))
            .map(|core| RwLockReadGuard { core })
            .map_err(|core| RwLockReadGuard { core })
    }
}

impl<'a, T: ?Sized> RwLockWriteGuard<'a, T> {
    /// A write guard of a part of the data.
    pub fn map<U: ?Sized>(
        this: Self,
        f: impl FnOnce(&mut T) -> &mut U,
    ) -> RwLockMappedWriteGuard<'a, U> {
        let core = this
            .core
            .map(|inner| tokio::sync::RwLockWriteGuard::map(inner, f));
        RwLockMappedWriteGuard { core }
    }

    /// A write guard of a part of the data if `f` finds one; the guard back otherwise.
    pub fn try_map<U: ?Sized>(
        this: Self,
        f: impl FnOnce(&mut T) -> Option<&mut U>,
    ) -> Result<RwLockMappedWriteGuard<'a, U>, Self> {
        this.core
            .try_map(|inner| tokio::sync::RwLockWriteGuard::try_map(inner, f))
            .map(|core| RwLockMappedWriteGuard { core })
            .map_err(|core| RwLockWriteGuard { core })
    }

    /// The guard as a mapped write guard of the whole data (tokio's `into_mapped`).
    pub fn into_mapped(this: Self) -> RwLockMappedWriteGuard<'a, T> {
        let core = this.core.map(tokio::sync::RwLockWriteGuard::into_mapped);
        RwLockMappedWriteGuard { core }
    }

    /// Turns the write lock into a read lock without letting a writer in between (lockdep
    /// then sees a reader).
    pub fn downgrade(self) -> RwLockReadGuard<'a, T> {
        let core = self.core.map(tokio::sync::RwLockWriteGuard::downgrade);
        RwLockReadGuard {
            core: core.downgraded(),
        }
    }

    /// [`RwLockWriteGuard::downgrade`], keeping a part of the data.
    pub fn downgrade_map<U: ?Sized>(
        this: Self,
        f: impl FnOnce(&T) -> &U,
    ) -> RwLockReadGuard<'a, U> {
        let core = this
            .core
            .map(|inner| tokio::sync::RwLockWriteGuard::downgrade_map(inner, f));
        RwLockReadGuard {
            core: core.downgraded(),
        }
    }

    /// [`RwLockWriteGuard::downgrade_map`] if `f` finds a part; the write guard back,
    /// unchanged (still writing), otherwise.
    pub fn try_downgrade_map<U: ?Sized>(
        this: Self,
        f: impl FnOnce(&T) -> Option<&U>,
    ) -> Result<RwLockReadGuard<'a, U>, Self> {
        this.core
            .try_map(|inner| tokio::sync::RwLockWriteGuard::try_downgrade_map(inner, f))
            .map(|core| RwLockReadGuard {
                core: core.downgraded(),
            })
            .map_err(|core| RwLockWriteGuard { core })
    }
}

impl<'a, T: ?Sized> RwLockMappedWriteGuard<'a, T> {
    /// A write guard of a part of this part.
    pub fn map<U: ?Sized>(
        this: Self,
        f: impl FnOnce(&mut T) -> &mut U,
    ) -> RwLockMappedWriteGuard<'a, U> {
        let core = this
            .core
            .map(|inner| tokio::sync::RwLockMappedWriteGuard::map(inner, f));
        RwLockMappedWriteGuard { core }
    }

    /// A write guard of a part of this part if `f` finds one; the guard back otherwise.
    pub fn try_map<U: ?Sized>(
        this: Self,
        f: impl FnOnce(&mut T) -> Option<&mut U>,
    ) -> Result<RwLockMappedWriteGuard<'a, U>, Self> {
        this.core
            .try_map(|inner| tokio::sync::RwLockMappedWriteGuard::try_map(inner, f))
            .map(|core| RwLockMappedWriteGuard { core })
            .map_err(|core| RwLockMappedWriteGuard { core })
    }
}
