//! The `Arc` side of the async `RwLock`: guards that keep the lock's `Arc` (so they are
//! `'static`), their futures and conversions. `async_lock`'s own `Arc` guards need an `Arc` of
//! its lock, which ours wraps, so each holds a borrowed guard of `async_lock`'s, its lifetime
//! extended over the `Arc` kept beside it (`guard::Owned`).

use super::rwlock::RwLock;
use super::{begin, try_taken, Acquire, FaceLock};
use crate::access::Access;
use crate::async_held::guard::{Holds, Owned};
use crate::async_held::{Held, How};
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

/// The guard of [`RwLock::read_arc`].
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockReadGuardArc<T> {
    owned: Owned<RwLock<T>, T, ::async_lock::RwLockReadGuard<'static, T>>,
}

/// The guard of [`RwLock::upgradable_read_arc`].
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockUpgradableReadGuardArc<T: ?Sized> {
    owned: Owned<RwLock<T>, T, ::async_lock::RwLockUpgradableReadGuard<'static, T>>,
}

/// The guard of [`RwLock::write_arc`].
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockWriteGuardArc<T: ?Sized> {
    owned: Owned<RwLock<T>, T, ::async_lock::RwLockWriteGuard<'static, T>>,
}

// The bounds are `async_lock`'s own for its `Arc` guards: the data is reached as `&T` (read,
// upgradable) or `&mut T` (write) from whichever thread holds the guard, and the borrowed guard
// inside only unlocks `async_lock`'s raw lock, which any thread may do.
// SAFETY: see above (shared access, an `Arc` that needs `T: Send + Sync` to move).
unsafe impl<T: Send + Sync> Send for RwLockReadGuardArc<T> {}
// SAFETY: see above.
unsafe impl<T: Send + Sync> Sync for RwLockReadGuardArc<T> {}
// SAFETY: see above.
unsafe impl<T: ?Sized + Send + Sync> Send for RwLockUpgradableReadGuardArc<T> {}
// SAFETY: see above.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLockUpgradableReadGuardArc<T> {}
// SAFETY: see above (`&mut T` moves with the guard: `T: Send`).
unsafe impl<T: ?Sized + Send + Sync> Send for RwLockWriteGuardArc<T> {}
// SAFETY: see above (a shared guard gives `&T` only).
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLockWriteGuardArc<T> {}

/// Builds an `Arc` guard's core from a borrowed guard of the same lock.
///
/// # Safety
/// `guard` must be a guard of `lock`'s own `async_lock` lock, and `data` point at its data.
unsafe fn own<T: ?Sized, G: Holds>(
    lock: Arc<RwLock<T>>,
    data: *mut T,
    guard: G,
    held: Held,
) -> Owned<RwLock<T>, T, G> {
    // SAFETY: as the caller promises; `Owned` keeps the `Arc` alive (and its value in place)
    // until after the guard is dropped.
    unsafe { Owned::new(held, data, guard, lock) }
}

/// Extends a borrowed guard's lifetime to `'static`.
///
/// # Safety
/// The guard's lock must live in an `Arc` that the result is kept beside (in an `Owned`), and
/// dropped after it.
macro_rules! extend {
    ($guard:ident, $value:expr) => {
        std::mem::transmute::<::async_lock::$guard<'_, T>, ::async_lock::$guard<'static, T>>($value)
    };
}

impl<T> RwLock<T> {
    /// Acquires a read lock through the `Arc`, for a `'static` guard.
    #[track_caller]
    #[inline]
    pub fn read_arc<'a>(self: &'a Arc<Self>) -> ReadArc<'a, T> {
        ReadArc {
            acquire: Acquire::new(&**self, self.inner.read(), Access::Read, Location::caller()),
            arc: self,
        }
    }

    /// [`RwLock::read_blocking`] through the `Arc`.
    #[track_caller]
    #[inline]
    pub fn read_arc_blocking(self: &Arc<Self>) -> RwLockReadGuardArc<T> {
        let start = begin(&**self, Access::Read, Location::caller(), true);
        let guard = self.inner.read_blocking();
        read_arc(self.clone(), guard, start.finish())
    }

    /// [`RwLock::try_read`] through the `Arc`.
    #[track_caller]
    #[inline]
    pub fn try_read_arc(self: &Arc<Self>) -> Option<RwLockReadGuardArc<T>> {
        let guard = self.inner.try_read()?;
        let held = try_taken(&**self, Access::Read, Location::caller());
        Some(read_arc(self.clone(), guard, held))
    }
}

fn read_arc<T>(
    lock: Arc<RwLock<T>>,
    guard: ::async_lock::RwLockReadGuard<'_, T>,
    held: Held,
) -> RwLockReadGuardArc<T> {
    let data = &*guard as *const T as *mut T;
    RwLockReadGuardArc {
        // SAFETY: `guard` is a guard of `lock`'s lock, and `data` its data (only read: `P` is a
        // read guard).
        owned: unsafe { own(lock, data, extend!(RwLockReadGuard, guard), held) },
    }
}

fn upgradable_arc<T: ?Sized>(
    lock: Arc<RwLock<T>>,
    guard: ::async_lock::RwLockUpgradableReadGuard<'_, T>,
    held: Held,
) -> RwLockUpgradableReadGuardArc<T> {
    let data = &*guard as *const T as *mut T;
    RwLockUpgradableReadGuardArc {
        // SAFETY: as in `read_arc`; the data is written only after an upgrade, through a write
        // guard made then.
        owned: unsafe { own(lock, data, extend!(RwLockUpgradableReadGuard, guard), held) },
    }
}

fn write_arc<T: ?Sized>(
    lock: Arc<RwLock<T>>,
    mut guard: ::async_lock::RwLockWriteGuard<'_, T>,
    held: Held,
) -> RwLockWriteGuardArc<T> {
    // Made from the write guard's own `&mut`, never from a read side's `&T`: the pointer must
    // carry the right to write (an upgraded guard's data pointer is made again here).
    let data: *mut T = &mut *guard;
    RwLockWriteGuardArc {
        // SAFETY: `guard` is a guard of `lock`'s lock, and `data` its data.
        owned: unsafe { own(lock, data, extend!(RwLockWriteGuard, guard), held) },
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Acquires an upgradable read lock through the `Arc`.
    #[track_caller]
    #[inline]
    pub fn upgradable_read_arc<'a>(self: &'a Arc<Self>) -> UpgradableReadArc<'a, T> {
        UpgradableReadArc {
            acquire: Acquire::new(
                &**self,
                self.inner.upgradable_read(),
                Access::Upgradable,
                Location::caller(),
            ),
            arc: self,
        }
    }

    /// [`RwLock::upgradable_read_blocking`] through the `Arc`.
    #[track_caller]
    #[inline]
    pub fn upgradable_read_arc_blocking(self: &Arc<Self>) -> RwLockUpgradableReadGuardArc<T> {
        let start = begin(&**self, Access::Upgradable, Location::caller(), true);
        let guard = self.inner.upgradable_read_blocking();
        upgradable_arc(self.clone(), guard, start.finish())
    }

    /// [`RwLock::try_upgradable_read`] through the `Arc`.
    #[track_caller]
    #[inline]
    pub fn try_upgradable_read_arc(self: &Arc<Self>) -> Option<RwLockUpgradableReadGuardArc<T>> {
        let guard = self.inner.try_upgradable_read()?;
        let held = try_taken(&**self, Access::Upgradable, Location::caller());
        Some(upgradable_arc(self.clone(), guard, held))
    }

    /// Acquires the write lock through the `Arc`.
    #[track_caller]
    #[inline]
    pub fn write_arc<'a>(self: &'a Arc<Self>) -> WriteArc<'a, T> {
        WriteArc {
            acquire: Acquire::new(
                &**self,
                self.inner.write(),
                Access::Write,
                Location::caller(),
            ),
            arc: self,
        }
    }

    /// [`RwLock::write_blocking`] through the `Arc`.
    #[track_caller]
    #[inline]
    pub fn write_arc_blocking(self: &Arc<Self>) -> RwLockWriteGuardArc<T> {
        let start = begin(&**self, Access::Write, Location::caller(), true);
        let guard = self.inner.write_blocking();
        write_arc(self.clone(), guard, start.finish())
    }

    /// [`RwLock::try_write`] through the `Arc`.
    #[track_caller]
    #[inline]
    pub fn try_write_arc(self: &Arc<Self>) -> Option<RwLockWriteGuardArc<T>> {
        let guard = self.inner.try_write()?;
        let held = try_taken(&**self, Access::Write, Location::caller());
        Some(write_arc(self.clone(), guard, held))
    }
}

/// The futures of the `Arc` acquisitions: a borrowed acquisition, its guard made an `Arc` one.
macro_rules! arc_future {
    ($(#[$doc:meta])* $name:ident<$t:ident $(: ?$sized:ident)?>($inner:ident) => $guard:ident by $make:ident) => {
        pin_project_lite::pin_project! {
            $(#[$doc])*
            #[must_use = "futures do nothing unless polled"]
            pub struct $name<'a, $t $(: ?$sized)?> {
                #[pin]
                acquire: Acquire<&'a RwLock<$t>, ::async_lock::futures::$inner<'a, $t>>,
                arc: &'a Arc<RwLock<$t>>,
            }
        }

        impl<'a, $t $(: ?$sized)?> Future for $name<'a, $t> {
            type Output = $guard<$t>;

            #[track_caller]
            fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
                let this = self.project();
                let (guard, held) = ready!(this.acquire.poll_acquire(cx));
                Poll::Ready($make((*this.arc).clone(), guard, held))
            }
        }

        impl<$t $(: ?$sized)?> fmt::Debug for $name<'_, $t> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), " { .. }"))
            }
        }
    };
}
arc_future!(
    /// The future of [`RwLock::read_arc`].
    ReadArc<T>(Read) => RwLockReadGuardArc by read_arc
);
arc_future!(
    /// The future of [`RwLock::upgradable_read_arc`].
    UpgradableReadArc<T: ?Sized>(UpgradableRead) => RwLockUpgradableReadGuardArc by upgradable_arc
);
arc_future!(
    /// The future of [`RwLock::write_arc`].
    WriteArc<T: ?Sized>(Write) => RwLockWriteGuardArc by write_arc
);

pin_project_lite::pin_project! {
    /// The future of [`RwLockUpgradableReadGuardArc::upgrade`]: validated as an upgrade when
    /// first polled; dropped before it completes, it releases the lock, as `async_lock`'s does.
    #[must_use = "futures do nothing unless polled"]
    pub struct UpgradeArc<T: ?Sized> {
        // Declared first, so dropped before the `Arc` it borrows from.
        #[pin]
        inner: ::async_lock::futures::Upgrade<'static, T>,
        held: Option<Held>,
        lock: Arc<RwLock<T>>,
        checked: bool,
    }

    impl<T: ?Sized> PinnedDrop for UpgradeArc<T> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if let Some(held) = this.held.take() {
                held.release(FaceLock::addr(&**this.lock), How::Upgradable, || {});
            }
        }
    }
}

impl<T: ?Sized> Future for UpgradeArc<T> {
    type Output = RwLockWriteGuardArc<T>;

    #[track_caller]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let addr = FaceLock::addr(&**this.lock);
        if !std::mem::replace(this.checked, true) {
            if let Some(held) = this.held.as_ref() {
                held.before_upgrade(addr);
            }
        }
        let guard = ready!(this.inner.poll(cx));
        let held = this.held.take().expect("polled after completion");
        held.changed(addr, How::Upgradable, How::Exclusive);
        Poll::Ready(write_arc(this.lock.clone(), guard, held))
    }
}

impl<T: ?Sized> fmt::Debug for UpgradeArc<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UpgradeArc { .. }")
    }
}

impl<T: ?Sized> RwLockUpgradableReadGuardArc<T> {
    /// Gives up the upgradable side, keeping a read lock.
    pub fn downgrade(guard: Self) -> RwLockReadGuardArc<T>
    where
        T: Sized,
    {
        let (held, data, lock, unit) = guard.owned.into_parts();
        let read = ::async_lock::RwLockUpgradableReadGuard::downgrade(unit);
        RwLockReadGuardArc {
            // SAFETY: the downgrade of a guard of `lock`'s lock; `data` its data.
            owned: unsafe { own(lock, data, read, held) }.changed_from(How::Upgradable),
        }
    }

    /// Tries to upgrade to the write lock without waiting; the guard back if readers remain.
    pub fn try_upgrade(guard: Self) -> Result<RwLockWriteGuardArc<T>, Self> {
        let (held, data, lock, unit) = guard.owned.into_parts();
        match ::async_lock::RwLockUpgradableReadGuard::try_upgrade(unit) {
            Ok(write) => {
                held.changed(FaceLock::addr(&*lock), How::Upgradable, How::Exclusive);
                Ok(write_arc(lock, write, held))
            }
            Err(unit) => Err(RwLockUpgradableReadGuardArc {
                // SAFETY: the guard given back, of `lock`'s lock; `data` its data.
                owned: unsafe { own(lock, data, unit, held) },
            }),
        }
    }

    /// Upgrades to the write lock, waiting (asynchronously) for the readers to leave.
    pub fn upgrade(guard: Self) -> UpgradeArc<T> {
        let (held, _, lock, unit) = guard.owned.into_parts();
        UpgradeArc {
            inner: ::async_lock::RwLockUpgradableReadGuard::upgrade(unit),
            held: Some(held),
            lock,
            checked: false,
        }
    }

    /// Upgrades to the write lock from synchronous code, blocking the thread.
    #[track_caller]
    pub fn upgrade_blocking(guard: Self) -> RwLockWriteGuardArc<T> {
        guard.owned.before_upgrade();
        let (held, _, lock, unit) = guard.owned.into_parts();
        let write = ::async_lock::RwLockUpgradableReadGuard::upgrade_blocking(unit);
        held.changed(FaceLock::addr(&*lock), How::Upgradable, How::Exclusive);
        write_arc(lock, write, held)
    }
}

impl<T: ?Sized> RwLockWriteGuardArc<T> {
    /// Gives up the write side, keeping a read lock.
    pub fn downgrade(guard: Self) -> RwLockReadGuardArc<T>
    where
        T: Sized,
    {
        let (held, data, lock, unit) = guard.owned.into_parts();
        let read = ::async_lock::RwLockWriteGuard::downgrade(unit);
        RwLockReadGuardArc {
            // SAFETY: the downgrade of a guard of `lock`'s lock; `data` its data.
            owned: unsafe { own(lock, data, read, held) }.changed_from(How::Exclusive),
        }
    }

    /// Gives up the write side, keeping an upgradable read lock.
    pub fn downgrade_to_upgradable(guard: Self) -> RwLockUpgradableReadGuardArc<T> {
        let (held, data, lock, unit) = guard.owned.into_parts();
        let upgradable = ::async_lock::RwLockWriteGuard::downgrade_to_upgradable(unit);
        RwLockUpgradableReadGuardArc {
            // SAFETY: the downgrade of a guard of `lock`'s lock; `data` its data.
            owned: unsafe { own(lock, data, upgradable, held) }.changed_from(How::Exclusive),
        }
    }
}

// Not `face_guard!`: `async_lock`'s read `Arc` guard takes sized data only.
impl<T> std::ops::Deref for RwLockReadGuardArc<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.owned
    }
}

impl<T: fmt::Debug> fmt::Debug for RwLockReadGuardArc<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: fmt::Display> fmt::Display for RwLockReadGuardArc<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}
face_guard!(read: RwLockUpgradableReadGuardArc<T>, T, owned);
face_guard!(write: RwLockWriteGuardArc<T>, T, owned);
