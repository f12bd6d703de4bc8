//! The async `RwLock`: `async_lock`'s, with lockdep's classes and checks (the borrowed guards;
//! the `Arc` ones are in `rwlock_arc.rs`).

use super::{begin, try_taken, Acquire, FaceLock};
use crate::access::Access;
use crate::async_held::guard::{AsyncLock, Guard, Holds, HoldsExclusively};
use crate::async_held::{Addr, Held, How};
use crate::class::ClassCell;
use crate::construct::{class_constructors, default_and_from};
use crate::{LockInstance, TrackedLock};
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// An async reader-writer lock checked by lockdep: [`async_lock::RwLock`] with the same API.
///
/// Every acquisition is validated when its future is first polled, before it waits; a read is
/// a fair read (writers are preferred), an upgradable read excludes writers and upgraders.
pub struct RwLock<T: ?Sized> {
    /// Zero-sized with the checks compiled out.
    pub(super) class: ClassCell,
    pub(super) inner: ::async_lock::RwLock<T>,
}

/// The guard of [`RwLock::read`].
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    core: Guard<::async_lock::RwLockReadGuard<'a, T>>,
}

/// The guard of [`RwLock::upgradable_read`].
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockUpgradableReadGuard<'a, T: ?Sized> {
    core: Guard<::async_lock::RwLockUpgradableReadGuard<'a, T>>,
}

/// The guard of [`RwLock::write`].
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    core: Guard<::async_lock::RwLockWriteGuard<'a, T>>,
}

impl<T: ?Sized> Holds for ::async_lock::RwLockReadGuard<'_, T> {
    const HOW: How = How::Shared;
}
impl<T: ?Sized> Holds for ::async_lock::RwLockUpgradableReadGuard<'_, T> {
    const HOW: How = How::Upgradable;
}
impl<T: ?Sized> Holds for ::async_lock::RwLockWriteGuard<'_, T> {
    const HOW: How = How::Exclusive;
}
impl<T: ?Sized> HoldsExclusively for ::async_lock::RwLockWriteGuard<'_, T> {}

/// The futures of the borrowed acquisitions, each `async_lock`'s own inside an [`Acquire`].
macro_rules! acquire_future {
    ($(#[$doc:meta])* $name:ident => $guard:ident) => {
        pin_project_lite::pin_project! {
            $(#[$doc])*
            #[must_use = "futures do nothing unless polled"]
            pub struct $name<'a, T: ?Sized> {
                #[pin]
                acquire: Acquire<&'a RwLock<T>, ::async_lock::futures::$name<'a, T>>,
            }
        }

        impl<'a, T: ?Sized> Future for $name<'a, T> {
            type Output = $guard<'a, T>;

            #[track_caller]
            fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
                let acquire = self.project().acquire;
                let addr = FaceLock::addr(*acquire.as_ref().get_ref().lock());
                let (inner, held) = ready!(acquire.poll_acquire(cx));
                Poll::Ready($guard {
                    core: Guard::new(held, addr, inner),
                })
            }
        }

        impl<T: ?Sized> fmt::Debug for $name<'_, T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), " { .. }"))
            }
        }
    };
}
acquire_future!(
    /// The future of [`RwLock::read`].
    Read => RwLockReadGuard
);
acquire_future!(
    /// The future of [`RwLock::upgradable_read`].
    UpgradableRead => RwLockUpgradableReadGuard
);
acquire_future!(
    /// The future of [`RwLock::write`].
    Write => RwLockWriteGuard
);

pin_project_lite::pin_project! {
    /// The future of [`RwLockUpgradableReadGuard::upgrade`]: validated as an upgrade when first
    /// polled (a task that also reads the lock would wait for ever: reported, then panics).
    /// Dropped before it completes, it releases the lock, as `async_lock`'s does.
    #[must_use = "futures do nothing unless polled"]
    pub struct Upgrade<'a, T: ?Sized> {
        #[pin]
        inner: ::async_lock::futures::Upgrade<'a, T>,
        held: Option<Held>,
        addr: Addr,
        checked: bool,
    }

    impl<'a, T: ?Sized> PinnedDrop for Upgrade<'a, T> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if let Some(held) = this.held.take() {
                // `async_lock`'s future, dropped right after, unlocks the lock.
                held.release(*this.addr, How::Upgradable, || {});
            }
        }
    }
}

impl<'a, T: ?Sized> Future for Upgrade<'a, T> {
    type Output = RwLockWriteGuard<'a, T>;

    #[track_caller]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let addr = *this.addr;
        if !std::mem::replace(this.checked, true) {
            if let Some(held) = this.held.as_ref() {
                held.before_upgrade(addr);
            }
        }
        let inner = ready!(this.inner.poll(cx));
        let held = this.held.take().expect("polled after completion");
        held.changed(addr, How::Upgradable, How::Exclusive);
        Poll::Ready(RwLockWriteGuard {
            core: Guard::new(held, addr, inner),
        })
    }
}

impl<T: ?Sized> fmt::Debug for Upgrade<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Upgrade { .. }")
    }
}

impl<T: ?Sized> AsyncLock for RwLock<T> {
    fn addr(&self) -> Addr {
        Addr::of(&self.inner)
    }
}

impl<T: ?Sized> FaceLock for RwLock<T> {
    const TYPE: crate::class::LockTypeFn = crate::class::lock_type!("RwLock", T);
    fn addr(&self) -> Addr {
        Addr::of(&self.inner)
    }
    fn class(&self) -> &ClassCell {
        &self.class
    }
}

impl<T> RwLock<T> {
    class_constructors! {
        /// A new unlocked lock whose class is its creation site (`file:line:column`). A
        /// `const fn`, so it can initialise a `static`.
        pub const fn new(value: T) -> Self;
        /// A new unlocked lock of the class `class` (a named static key).
        pub const fn with_class;
        /// A new unlocked lock whose class is `name`: every lock created with this name shares
        /// it.
        pub fn named;
        const fn from_cell(class) => RwLock {
            class,
            inner: ::async_lock::RwLock::new(value),
        };
    }

    /// Consumes the lock, returning the data.
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Acquires a read lock, waiting (asynchronously) while a writer holds or waits for it.
    #[track_caller]
    #[inline]
    pub fn read(&self) -> Read<'_, T> {
        Read {
            acquire: Acquire::new(self, self.inner.read(), Access::Read, Location::caller()),
        }
    }

    /// Acquires a read lock from synchronous code, blocking the thread.
    #[track_caller]
    #[inline]
    pub fn read_blocking(&self) -> RwLockReadGuard<'_, T> {
        let start = begin(self, Access::Read, Location::caller(), true);
        let inner = self.inner.read_blocking();
        RwLockReadGuard {
            core: Guard::new(start.finish(), FaceLock::addr(self), inner),
        }
    }

    /// Tries to acquire a read lock without waiting.
    #[track_caller]
    #[inline]
    pub fn try_read(&self) -> Option<RwLockReadGuard<'_, T>> {
        let inner = self.inner.try_read()?;
        let held = try_taken(self, Access::Read, Location::caller());
        Some(RwLockReadGuard {
            core: Guard::new(held, FaceLock::addr(self), inner),
        })
    }

    /// Acquires an upgradable read lock (one at a time, beside readers).
    #[track_caller]
    #[inline]
    pub fn upgradable_read(&self) -> UpgradableRead<'_, T> {
        UpgradableRead {
            acquire: Acquire::new(
                self,
                self.inner.upgradable_read(),
                Access::Upgradable,
                Location::caller(),
            ),
        }
    }

    /// Acquires an upgradable read lock from synchronous code, blocking the thread.
    #[track_caller]
    #[inline]
    pub fn upgradable_read_blocking(&self) -> RwLockUpgradableReadGuard<'_, T> {
        let start = begin(self, Access::Upgradable, Location::caller(), true);
        let inner = self.inner.upgradable_read_blocking();
        RwLockUpgradableReadGuard {
            core: Guard::new(start.finish(), FaceLock::addr(self), inner),
        }
    }

    /// Tries to acquire an upgradable read lock without waiting.
    #[track_caller]
    #[inline]
    pub fn try_upgradable_read(&self) -> Option<RwLockUpgradableReadGuard<'_, T>> {
        let inner = self.inner.try_upgradable_read()?;
        let held = try_taken(self, Access::Upgradable, Location::caller());
        Some(RwLockUpgradableReadGuard {
            core: Guard::new(held, FaceLock::addr(self), inner),
        })
    }

    /// Acquires the write lock, waiting (asynchronously) until no one holds the lock.
    #[track_caller]
    #[inline]
    pub fn write(&self) -> Write<'_, T> {
        Write {
            acquire: Acquire::new(self, self.inner.write(), Access::Write, Location::caller()),
        }
    }

    /// Acquires the write lock from synchronous code, blocking the thread.
    #[track_caller]
    #[inline]
    pub fn write_blocking(&self) -> RwLockWriteGuard<'_, T> {
        let start = begin(self, Access::Write, Location::caller(), true);
        let inner = self.inner.write_blocking();
        RwLockWriteGuard {
            core: Guard::new(start.finish(), FaceLock::addr(self), inner),
        }
    }

    /// Tries to acquire the write lock without waiting.
    #[track_caller]
    #[inline]
    pub fn try_write(&self) -> Option<RwLockWriteGuard<'_, T>> {
        let inner = self.inner.try_write()?;
        let held = try_taken(self, Access::Write, Location::caller());
        Some(RwLockWriteGuard {
            core: Guard::new(held, FaceLock::addr(self), inner),
        })
    }

    /// A mutable reference to the data; no locking is needed since the borrow is unique.
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }

    /// `async_lock`'s lock underneath, for what this type does not forward (not checked).
    pub fn as_async_lock(&self) -> &::async_lock::RwLock<T> {
        &self.inner
    }
}

impl<'a, T: ?Sized> RwLockUpgradableReadGuard<'a, T> {
    /// Gives up the upgradable side, keeping a read lock.
    pub fn downgrade(guard: Self) -> RwLockReadGuard<'a, T> {
        RwLockReadGuard {
            core: guard
                .core
                .map(::async_lock::RwLockUpgradableReadGuard::downgrade)
                .changed_from(How::Upgradable),
        }
    }

    /// Tries to upgrade to the write lock without waiting; the guard back if readers remain.
    pub fn try_upgrade(guard: Self) -> Result<RwLockWriteGuard<'a, T>, Self> {
        match guard
            .core
            .try_map(::async_lock::RwLockUpgradableReadGuard::try_upgrade)
        {
            Ok(core) => Ok(RwLockWriteGuard {
                core: core.changed_from(How::Upgradable),
            }),
            Err(core) => Err(RwLockUpgradableReadGuard { core }),
        }
    }

    /// Upgrades to the write lock, waiting (asynchronously) for the readers to leave.
    pub fn upgrade(guard: Self) -> Upgrade<'a, T> {
        let (held, addr, inner) = guard.core.into_parts();
        Upgrade {
            inner: ::async_lock::RwLockUpgradableReadGuard::upgrade(inner),
            held: Some(held),
            addr,
            checked: false,
        }
    }

    /// Upgrades to the write lock from synchronous code, blocking the thread.
    #[track_caller]
    pub fn upgrade_blocking(guard: Self) -> RwLockWriteGuard<'a, T> {
        guard.core.before_upgrade();
        RwLockWriteGuard {
            core: guard
                .core
                .map(::async_lock::RwLockUpgradableReadGuard::upgrade_blocking)
                .changed_from(How::Upgradable),
        }
    }
}

impl<'a, T: ?Sized> RwLockWriteGuard<'a, T> {
    /// Gives up the write side, keeping a read lock.
    pub fn downgrade(guard: Self) -> RwLockReadGuard<'a, T> {
        RwLockReadGuard {
            core: guard
                .core
                .map(::async_lock::RwLockWriteGuard::downgrade)
                .changed_from(How::Exclusive),
        }
    }

    /// Gives up the write side, keeping an upgradable read lock.
    pub fn downgrade_to_upgradable(guard: Self) -> RwLockUpgradableReadGuard<'a, T> {
        RwLockUpgradableReadGuard {
            core: guard
                .core
                .map(::async_lock::RwLockWriteGuard::downgrade_to_upgradable)
                .changed_from(How::Exclusive),
        }
    }
}

impl<T: ?Sized> TrackedLock for RwLock<T> {
    fn lock_instance(&self) -> LockInstance<'_> {
        LockInstance::of_parts(
            &self.inner as *const ::async_lock::RwLock<T> as *const () as usize,
            &self.class,
        )
    }
}

default_and_from!("RwLock": impl[] RwLock<T>);

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

face_guard!(read: RwLockReadGuard<'a, T>, T, core);
face_guard!(read: RwLockUpgradableReadGuard<'a, T>, T, core);
face_guard!(write: RwLockWriteGuard<'a, T>, T, core);
