//! The owned guards of the async `RwLock` (`read_owned`, `write_owned`): `'static`, keeping the
//! lock's `Arc`. As `mutex::Owned`, the read and mapped write guards hold tokio's lock through a
//! guard of `()` that borrows the tokio lock inside that `Arc`, and reach the data through a
//! pointer. The unmapped write guard must still be able to `downgrade` (and `into_mapped`), which
//! tokio offers on its unmapped `RwLockWriteGuard<'_, T>` only, and that type cannot be stored with
//! an erased lifetime (`RwLockWriteGuard<'static, T>` would need `T: 'static`, which tokio's owned
//! guards do not ask): it is kept boxed behind a private trait object whose lifetime is erased
//! instead (one allocation per `write_owned`), the `Arc` beside it keeping the lock in place.

use super::super::mutex::guard_common;
use super::super::{Addr, Held, How};
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
    owned: OwnedUnmapped<T>,
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

/// The unmapped owned write guard: tokio's own write guard of the lock inside `lock`, boxed with
/// its lifetime erased, so that tokio's `downgrade` and `map` stay available.
struct OwnedUnmapped<T: ?Sized> {
    held: Held,
    /// Taken from `guard` when it was made; re-derived by each conversion.
    data: *mut T,
    /// Declared before `lock`: dropped (unlocking) while the lock is still alive.
    guard: Box<dyn Unmapped<T>>,
    lock: Arc<RwLock<T>>,
}

/// tokio's unmapped write guard of a lock that the caller keeps alive: its conversions return
/// guards of `()` whose lifetime is erased, with the pointer to the data (or to the part `f`
/// chose) taken inside tokio's own `map`.
trait Unmapped<T: ?Sized> {
    /// The data, through tokio's guard.
    fn data(&mut self) -> *mut T;

    /// tokio's `try_map` to `()`: `f` sees the data and returns whether to map (having kept the
    /// pointer it wants); the guard back, unchanged, if it did not.
    ///
    /// # Safety
    /// The returned guard must be dropped while the lock is alive.
    unsafe fn try_into_mapped(
        self: Box<Self>,
        f: &mut dyn FnMut(&mut T) -> bool,
    ) -> Result<tokio::sync::RwLockMappedWriteGuard<'static, ()>, Box<dyn Unmapped<T>>>;

    /// tokio's `try_downgrade_map` to `()`: as `try_into_mapped`, the lock turned into a read
    /// lock (without letting a writer in) when `f` returns `true`.
    ///
    /// # Safety
    /// As `try_into_mapped`.
    unsafe fn try_downgrade(
        self: Box<Self>,
        f: &mut dyn FnMut(&T) -> bool,
    ) -> Result<tokio::sync::RwLockReadGuard<'static, ()>, Box<dyn Unmapped<T>>>;
}

/// tokio's unmapped write guard, boxed with its lifetime erased.
type Boxed<T> = Box<dyn Unmapped<T>>;

/// The implementation of [`Unmapped`]: tokio's guard, borrowing the lock for `'a`.
struct Erased<'a, T: ?Sized>(tokio::sync::RwLockWriteGuard<'a, T>);

/// Boxes tokio's guard with its lifetime erased.
///
/// # Safety
/// The box must be dropped (or converted, and the result dropped) while the lock is alive.
unsafe fn erase<'a, T: ?Sized + 'a>(
    guard: tokio::sync::RwLockWriteGuard<'a, T>,
) -> Box<dyn Unmapped<T>> {
    let boxed: Box<dyn Unmapped<T> + 'a> = Box::new(Erased(guard));
    // SAFETY: only the trait object's lifetime changes; the caller keeps the lock alive.
    unsafe { std::mem::transmute::<Box<dyn Unmapped<T> + 'a>, Box<dyn Unmapped<T>>>(boxed) }
}

impl<'a, T: ?Sized + 'a> Unmapped<T> for Erased<'a, T> {
    fn data(&mut self) -> *mut T {
        &mut *self.0 as *mut T
    }

    unsafe fn try_into_mapped(
        self: Box<Self>,
        f: &mut dyn FnMut(&mut T) -> bool,
    ) -> Result<tokio::sync::RwLockMappedWriteGuard<'static, ()>, Box<dyn Unmapped<T>>> {
        let Erased(guard) = *self;
        match tokio::sync::RwLockWriteGuard::try_map(guard, |value| {
            if f(value) {
                // Not `unit_mut(value)`: reborrowing `value` again would invalidate the pointer
                // `f` kept. A zero-sized box never allocates (a dangling, aligned `&mut ()`).
                let unit: &mut () = Box::leak(Box::new(()));
                Some(unit)
            } else {
                None
            }
        }) {
            // SAFETY: the caller keeps the lock alive while the guard lives.
            Ok(unit) => Ok(unsafe {
                std::mem::transmute::<
                    tokio::sync::RwLockMappedWriteGuard<'_, ()>,
                    tokio::sync::RwLockMappedWriteGuard<'static, ()>,
                >(unit)
            }),
            // SAFETY: as above.
            Err(guard) => Err(unsafe { erase(guard) }),
        }
    }

    unsafe fn try_downgrade(
        self: Box<Self>,
        f: &mut dyn FnMut(&T) -> bool,
    ) -> Result<tokio::sync::RwLockReadGuard<'static, ()>, Box<dyn Unmapped<T>>> {
        let Erased(guard) = *self;
        match tokio::sync::RwLockWriteGuard::try_downgrade_map(guard, |value| {
            if f(value) {
                Some(&())
            } else {
                None
            }
        }) {
            // SAFETY: the caller keeps the lock alive while the guard lives.
            Ok(unit) => Ok(unsafe {
                std::mem::transmute::<
                    tokio::sync::RwLockReadGuard<'_, ()>,
                    tokio::sync::RwLockReadGuard<'static, ()>,
                >(unit)
            }),
            // SAFETY: as above.
            Err(guard) => Err(unsafe { erase(guard) }),
        }
    }
}

// SAFETY: as tokio's `OwnedRwLockWriteGuard`: `&mut T` access and an `Arc<RwLock<T>>`; the boxed
// guard only returns semaphore permits, which any thread may do.
unsafe impl<T: ?Sized + Send + Sync> Send for OwnedUnmapped<T> {}
// SAFETY: as above; shared access gives `&T` only.
unsafe impl<T: ?Sized + Send + Sync> Sync for OwnedUnmapped<T> {}

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
    // SAFETY: the guard borrows the tokio lock inside `lock`'s allocation, which the owned guard
    // keeps alive and in place until after the box is dropped (`guard` is declared first).
    let mut guard = unsafe { erase(guard) };
    let data = guard.data();
    OwnedRwLockWriteGuard {
        owned: OwnedUnmapped {
            held,
            data,
            guard,
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

impl<T: ?Sized> Deref for OwnedUnmapped<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the lock is write-locked by this guard and outlives it.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized> DerefMut for OwnedUnmapped<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and the guard is borrowed uniquely.
        unsafe { &mut *self.data }
    }
}

impl<T: ?Sized> Drop for OwnedUnmapped<T> {
    #[inline]
    fn drop(&mut self) {
        self.held
            .release(Addr::of(&self.lock.inner), How::Exclusive);
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
    /// Splits the guard into its parts without running its `Drop`.
    #[allow(clippy::type_complexity)]
    fn into_parts(
        this: Self,
    ) -> (
        Held,
        *const U,
        tokio::sync::RwLockReadGuard<'static, ()>,
        Arc<RwLock<T>>,
    ) {
        let this = ManuallyDrop::new(this);
        // SAFETY: each field is read once and `this` is never dropped or used again.
        unsafe {
            (
                ptr::read(&this.held),
                ptr::read(&this.data),
                ptr::read(&this.unit),
                ptr::read(&this.lock),
            )
        }
    }

    /// A guard of a part of the data, still owning the `Arc` of the lock.
    pub fn map<V: ?Sized>(this: Self, f: impl FnOnce(&U) -> &V) -> OwnedRwLockReadGuard<T, V> {
        let (held, data, unit, lock) = Self::into_parts(this);
        // SAFETY: `data` points into the read-locked lock, which `unit` keeps locked.
        let data: *const V = f(unsafe { &*data });
        OwnedRwLockReadGuard {
            held,
            data,
            unit,
            lock,
        }
    }

    /// A guard of a part of the data if `f` finds one; the guard back, unchanged, otherwise.
    pub fn try_map<V: ?Sized>(
        this: Self,
        f: impl FnOnce(&U) -> Option<&V>,
    ) -> Result<OwnedRwLockReadGuard<T, V>, Self> {
        // SAFETY: `data` points into the read-locked lock, which the guard keeps locked.
        let Some(part) = f(unsafe { &*this.data }).map(|part| part as *const V) else {
            return Err(this);
        };
        let (held, _, unit, lock) = Self::into_parts(this);
        Ok(OwnedRwLockReadGuard {
            held,
            data: part,
            unit,
            lock,
        })
    }

    /// The lock this guard holds.
    pub fn rwlock(this: &Self) -> &Arc<RwLock<T>> {
        &this.lock
    }
}

impl<T: ?Sized, U: ?Sized> OwnedWrite<T, U> {
    fn into_parts(
        self,
    ) -> (
        Held,
        *mut U,
        tokio::sync::RwLockMappedWriteGuard<'static, ()>,
        Arc<RwLock<T>>,
    ) {
        let this = ManuallyDrop::new(self);
        // SAFETY: each field is read once and `this` is never dropped or used again.
        unsafe {
            (
                ptr::read(&this.held),
                ptr::read(&this.data),
                ptr::read(&this.unit),
                ptr::read(&this.lock),
            )
        }
    }

    fn map<V: ?Sized>(self, f: impl FnOnce(&mut U) -> &mut V) -> OwnedWrite<T, V> {
        let (held, data, unit, lock) = self.into_parts();
        // SAFETY: `data` points into the write-locked lock, which `unit` keeps locked.
        let data: *mut V = f(unsafe { &mut *data });
        OwnedWrite {
            held,
            data,
            unit,
            lock,
        }
    }

    fn try_map<V: ?Sized>(
        self,
        f: impl FnOnce(&mut U) -> Option<&mut V>,
    ) -> Result<OwnedWrite<T, V>, Self> {
        // SAFETY: `data` points into the write-locked lock, which `unit` keeps locked.
        let Some(part) = f(unsafe { &mut *self.data }).map(|part| part as *mut V) else {
            return Err(self);
        };
        let (held, _, unit, lock) = self.into_parts();
        Ok(OwnedWrite {
            held,
            data: part,
            unit,
            lock,
        })
    }
}

impl<T: ?Sized> OwnedUnmapped<T> {
    fn into_parts(self) -> (Held, *mut T, Boxed<T>, Arc<RwLock<T>>) {
        let this = ManuallyDrop::new(self);
        // SAFETY: each field is read once and `this` is never dropped or used again.
        unsafe {
            (
                ptr::read(&this.held),
                ptr::read(&this.data),
                ptr::read(&this.guard),
                ptr::read(&this.lock),
            )
        }
    }

    /// tokio's `try_map`: the pointer `f` returns is taken inside tokio's `map`.
    fn try_map<U: ?Sized>(
        self,
        f: impl FnOnce(&mut T) -> Option<&mut U>,
    ) -> Result<OwnedWrite<T, U>, Self> {
        let (held, _, guard, lock) = self.into_parts();
        let mut f = Some(f);
        let mut part = None;
        let mut choose = |value: &mut T| {
            let f = f.take().expect("`try_map` calls its closure once");
            part = f(value).map(|part| part as *mut U);
            part.is_some()
        };
        // SAFETY: the result is kept beside `lock`, declared before it.
        match unsafe { guard.try_into_mapped(&mut choose) } {
            Ok(unit) => Ok(OwnedWrite {
                held,
                data: part.expect("mapped only when `f` found a part"),
                unit,
                lock,
            }),
            Err(mut guard) => Err(OwnedUnmapped {
                held,
                data: guard.data(),
                guard,
                lock,
            }),
        }
    }

    /// tokio's `try_downgrade_map`, with lockdep told that the lock is now read.
    fn try_downgrade_map<U: ?Sized>(
        self,
        f: impl FnOnce(&T) -> Option<&U>,
    ) -> Result<OwnedRwLockReadGuard<T, U>, Self> {
        let (held, _, guard, lock) = self.into_parts();
        let mut f = Some(f);
        let mut part = None;
        let mut choose = |value: &T| {
            let f = f
                .take()
                .expect("`try_downgrade_map` calls its closure once");
            part = f(value).map(|part| part as *const U);
            part.is_some()
        };
        // SAFETY: the result is kept beside `lock`, declared before it.
        match unsafe { guard.try_downgrade(&mut choose) } {
            Ok(unit) => {
                #[cfg(lockdep_checks)]
                held.downgrade(Addr::of(&lock.inner));
                Ok(OwnedRwLockReadGuard {
                    held,
                    data: part.expect("downgraded only when `f` found a part"),
                    unit,
                    lock,
                })
            }
            Err(mut guard) => Err(OwnedUnmapped {
                held,
                data: guard.data(),
                guard,
                lock,
            }),
        }
    }
}

impl<T: ?Sized> OwnedRwLockWriteGuard<T> {
    /// A write guard of a part of the data, still owning the `Arc` of the lock.
    pub fn map<U: ?Sized>(
        this: Self,
        f: impl FnOnce(&mut T) -> &mut U,
    ) -> OwnedRwLockMappedWriteGuard<T, U> {
        match Self::try_map(this, |value| Some(f(value))) {
            Ok(mapped) => mapped,
            Err(_) => unreachable!("`f` always finds a part"),
        }
    }

    /// A write guard of a part of the data if `f` finds one; the guard back, unchanged,
    /// otherwise.
    pub fn try_map<U: ?Sized>(
        this: Self,
        f: impl FnOnce(&mut T) -> Option<&mut U>,
    ) -> Result<OwnedRwLockMappedWriteGuard<T, U>, Self> {
        match this.owned.try_map(f) {
            Ok(owned) => Ok(OwnedRwLockMappedWriteGuard { owned }),
            Err(owned) => Err(OwnedRwLockWriteGuard { owned }),
        }
    }

    /// The guard as a mapped write guard of the whole data (tokio's `into_mapped`).
    pub fn into_mapped(this: Self) -> OwnedRwLockMappedWriteGuard<T> {
        Self::map(this, |value| value)
    }

    /// Turns the write lock into a read lock without letting a writer in between; lockdep
    /// then sees a reader (relocking it for writing is then a certain self-deadlock only
    /// while this read guard lives).
    pub fn downgrade(self) -> OwnedRwLockReadGuard<T> {
        Self::downgrade_map(self, |value| value)
    }

    /// [`OwnedRwLockWriteGuard::downgrade`], keeping a part of the data.
    pub fn downgrade_map<U: ?Sized>(
        this: Self,
        f: impl FnOnce(&T) -> &U,
    ) -> OwnedRwLockReadGuard<T, U> {
        match Self::try_downgrade_map(this, |value| Some(f(value))) {
            Ok(read) => read,
            Err(_) => unreachable!("`f` always finds a part"),
        }
    }

    /// [`OwnedRwLockWriteGuard::downgrade_map`] if `f` finds a part; the write guard back,
    /// unchanged (still writing), otherwise.
    pub fn try_downgrade_map<U: ?Sized>(
        this: Self,
        f: impl FnOnce(&T) -> Option<&U>,
    ) -> Result<OwnedRwLockReadGuard<T, U>, Self> {
        this.owned
            .try_downgrade_map(f)
            .map_err(|owned| OwnedRwLockWriteGuard { owned })
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

    /// A write guard of a part of this part if `f` finds one; the guard back otherwise.
    pub fn try_map<V: ?Sized>(
        this: Self,
        f: impl FnOnce(&mut U) -> Option<&mut V>,
    ) -> Result<OwnedRwLockMappedWriteGuard<T, V>, Self> {
        match this.owned.try_map(f) {
            Ok(owned) => Ok(OwnedRwLockMappedWriteGuard { owned }),
            Err(owned) => Err(OwnedRwLockMappedWriteGuard { owned }),
        }
    }

    /// The lock this guard holds.
    pub fn rwlock(this: &Self) -> &Arc<RwLock<T>> {
        &this.owned.lock
    }
}
