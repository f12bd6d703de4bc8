//! The owned guards of the async `RwLock` (`read_owned`, `write_owned`): `'static`, keeping the
//! lock's `Arc`. As `mutex::Owned`, tokio's lock is held through a guard of `()` that borrows the
//! tokio lock inside that `Arc`, and the data is reached through a pointer.

use super::super::mutex::guard_common;
use super::super::{unit_mut, Addr, Held, How};
use super::RwLock;
use std::fmt;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::ptr;
use std::sync::Arc;

/// The guard of [`RwLock::read_owned`] (of a part `U` of the data after `map`).
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct OwnedRwLockReadGuard<T: ?Sized, U: ?Sized = T> {
    held: Held,
    data: *const U,
    /// Declared before `lock`: dropped (unlocking) while the lock is still alive.
    unit: tokio::sync::RwLockReadGuard<'static, ()>,
    lock: Arc<RwLock<T>>,
}

/// The guard of [`RwLock::write_owned`].
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct OwnedRwLockWriteGuard<T: ?Sized> {
    owned: OwnedWrite<T, T>,
}

/// A write guard of a part of the data ([`OwnedRwLockWriteGuard::map`]).
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct OwnedRwLockMappedWriteGuard<T: ?Sized, U: ?Sized = T> {
    owned: OwnedWrite<T, U>,
}

/// An owned write guard: as `mutex::Owned`, tokio's lock held by a guard of `()`.
struct OwnedWrite<T: ?Sized, U: ?Sized> {
    held: Held,
    data: *mut U,
    /// Declared before `lock`: dropped (unlocking) while the lock is still alive.
    unit: tokio::sync::RwLockMappedWriteGuard<'static, ()>,
    lock: Arc<RwLock<T>>,
}

// SAFETY: as tokio's owned read guard: shared access to `U` (`U: Sync`) and an `Arc<RwLock<T>>`;
// the unit guard only returns a semaphore permit, which any thread may do.
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Sync> Send for OwnedRwLockReadGuard<T, U> {}
// SAFETY: as above; shared access gives `&U` only.
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Send + Sync> Sync for OwnedRwLockReadGuard<T, U> {}
// SAFETY: as tokio's owned write guards: `&mut U` access and an `Arc<RwLock<T>>`.
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Send + Sync> Send for OwnedWrite<T, U> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Send + Sync> Sync for OwnedWrite<T, U> {}

/// # Safety
/// `guard` must be a guard of `lock`'s own tokio lock.
pub(super) unsafe fn own_read<T: ?Sized>(
    lock: Arc<RwLock<T>>,
    guard: tokio::sync::RwLockReadGuard<'_, T>,
    held: Held,
) -> OwnedRwLockReadGuard<T> {
    // The pointer comes from the last reference made (inside `map`), as in `mutex::own`.
    let mut data = None;
    let unit = tokio::sync::RwLockReadGuard::map(guard, |value| {
        data = Some(value as *const T);
        &()
    });
    let data = data.expect("`map` calls its closure once");
    // SAFETY: the guard borrows the tokio lock inside `lock`'s allocation, which the owned guard
    // keeps alive and in place until after `unit` is dropped (`unit` is declared first).
    let unit = unsafe {
        std::mem::transmute::<
            tokio::sync::RwLockReadGuard<'_, ()>,
            tokio::sync::RwLockReadGuard<'static, ()>,
        >(unit)
    };
    OwnedRwLockReadGuard {
        held,
        data,
        unit,
        lock,
    }
}

/// # Safety
/// `guard` must be a guard of `lock`'s own tokio lock.
pub(super) unsafe fn own_write<T: ?Sized>(
    lock: Arc<RwLock<T>>,
    guard: tokio::sync::RwLockWriteGuard<'_, T>,
    held: Held,
) -> OwnedRwLockWriteGuard<T> {
    // The pointer comes from the last `&mut T` made (inside `map`), as in `mutex::own`.
    let mut data = None;
    let unit = tokio::sync::RwLockWriteGuard::map(guard, |value| {
        data = Some(value as *mut T);
        unit_mut(value)
    });
    let data = data.expect("`map` calls its closure once");
    // SAFETY: as in `own_read`.
    let unit = unsafe {
        std::mem::transmute::<
            tokio::sync::RwLockMappedWriteGuard<'_, ()>,
            tokio::sync::RwLockMappedWriteGuard<'static, ()>,
        >(unit)
    };
    OwnedRwLockWriteGuard {
        owned: OwnedWrite {
            held,
            data,
            unit,
            lock,
        },
    }
}

guard_common!(OwnedRwLockWriteGuard<T>, T, owned);
guard_common!(OwnedRwLockMappedWriteGuard<T, U>, U, owned);

impl<T: ?Sized, U: ?Sized> Deref for OwnedRwLockReadGuard<T, U> {
    type Target = U;
    fn deref(&self) -> &U {
        // SAFETY: the lock is read-locked by this guard and outlives it.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized, U: ?Sized> Deref for OwnedWrite<T, U> {
    type Target = U;
    fn deref(&self) -> &U {
        // SAFETY: the lock is write-locked by this guard and outlives it.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized, U: ?Sized> DerefMut for OwnedWrite<T, U> {
    fn deref_mut(&mut self) -> &mut U {
        // SAFETY: as in `deref`, and the guard is borrowed uniquely.
        unsafe { &mut *self.data }
    }
}

impl<T: ?Sized, U: ?Sized + fmt::Debug> fmt::Debug for OwnedRwLockReadGuard<T, U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized, U: ?Sized> Drop for OwnedRwLockReadGuard<T, U> {
    #[inline]
    fn drop(&mut self) {
        self.held.release(Addr::of(&self.lock.inner), How::Shared);
    }
}

impl<T: ?Sized, U: ?Sized> Drop for OwnedWrite<T, U> {
    #[inline]
    fn drop(&mut self) {
        self.held
            .release(Addr::of(&self.lock.inner), How::Exclusive);
    }
}

impl<T: ?Sized, U: ?Sized> OwnedRwLockReadGuard<T, U> {
    /// A guard of a part of the data, still owning the `Arc` of the lock.
    pub fn map<V: ?Sized>(this: Self, f: impl FnOnce(&U) -> &V) -> OwnedRwLockReadGuard<T, V> {
        let this = ManuallyDrop::new(this);
        // SAFETY: each field is read once and `this` is never dropped or used again.
        let (held, data, unit, lock) = unsafe {
            (
                ptr::read(&this.held),
                ptr::read(&this.data),
                ptr::read(&this.unit),
                ptr::read(&this.lock),
            )
        };
        // SAFETY: `data` points into the read-locked lock, which `unit` keeps locked.
        let data: *const V = f(unsafe { &*data });
        OwnedRwLockReadGuard {
            held,
            data,
            unit,
            lock,
        }
    }

    /// The lock this guard holds.
    pub fn rwlock(this: &Self) -> &Arc<RwLock<T>> {
        &this.lock
    }
}

impl<T: ?Sized, U: ?Sized> OwnedWrite<T, U> {
    fn map<V: ?Sized>(self, f: impl FnOnce(&mut U) -> &mut V) -> OwnedWrite<T, V> {
        let this = ManuallyDrop::new(self);
        // SAFETY: each field is read once and `this` is never dropped or used again.
        let (held, data, unit, lock) = unsafe {
            (
                ptr::read(&this.held),
                ptr::read(&this.data),
                ptr::read(&this.unit),
                ptr::read(&this.lock),
            )
        };
        // SAFETY: `data` points into the write-locked lock, which `unit` keeps locked.
        let data: *mut V = f(unsafe { &mut *data });
        OwnedWrite {
            held,
            data,
            unit,
            lock,
        }
    }
}

impl<T: ?Sized> OwnedRwLockWriteGuard<T> {
    /// A write guard of a part of the data, still owning the `Arc` of the lock.
    pub fn map<U: ?Sized>(
        this: Self,
        f: impl FnOnce(&mut T) -> &mut U,
    ) -> OwnedRwLockMappedWriteGuard<T, U> {
        OwnedRwLockMappedWriteGuard {
            owned: this.owned.map(f),
        }
    }

    /// The lock this guard holds.
    pub fn rwlock(this: &Self) -> &Arc<RwLock<T>> {
        &this.owned.lock
    }
}

impl<T: ?Sized, U: ?Sized> OwnedRwLockMappedWriteGuard<T, U> {
    /// A write guard of a part of this part.
    pub fn map<V: ?Sized>(
        this: Self,
        f: impl FnOnce(&mut U) -> &mut V,
    ) -> OwnedRwLockMappedWriteGuard<T, V> {
        OwnedRwLockMappedWriteGuard {
            owned: this.owned.map(f),
        }
    }
}
