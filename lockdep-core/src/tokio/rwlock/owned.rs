//! The owned guards of the async `RwLock` (`read_owned`, `write_owned`): `'static`, keeping the
//! lock's `Arc`, each a `guard::Owned`. The read and mapped write guards hold tokio's lock
//! through a guard of `()` that borrows the tokio lock inside that `Arc`, and reach the data
//! through a pointer. The unmapped write guard must still be able to `downgrade` (and
//! `into_mapped`), which tokio offers on its unmapped `RwLockWriteGuard<'_, T>` only, and that
//! type cannot be stored with an erased lifetime (`RwLockWriteGuard<'static, T>` would need
//! `T: 'static`, which tokio's owned guards do not ask): it is kept boxed behind a private trait
//! object whose lifetime is erased instead (one allocation per `write_owned`), the `Arc` beside
//! it keeping the lock in place.

use super::super::mutex::guard_common;
use super::RwLock;
use crate::async_held::guard::{self, Holds, HoldsExclusively};
use crate::async_held::{unit_mut, Held, How};
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// The guard of [`RwLock::read_owned`] (of a part `U` of the data after `map`).
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct OwnedRwLockReadGuard<T: ?Sized, U: ?Sized = T> {
    owned: Owned<T, U, tokio::sync::RwLockReadGuard<'static, ()>>,
}

/// The guard of [`RwLock::write_owned`].
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct OwnedRwLockWriteGuard<T: ?Sized> {
    owned: Owned<T, T, Boxed<T>>,
}

/// A write guard of a part of the data ([`OwnedRwLockWriteGuard::map`]).
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct OwnedRwLockMappedWriteGuard<T: ?Sized, U: ?Sized = T> {
    owned: Owned<T, U, tokio::sync::RwLockMappedWriteGuard<'static, ()>>,
}

/// An owned guard of the lock (see `guard::Owned`), tokio's lock held by `P`: a read or mapped
/// write guard of `()`, or (unmapped) tokio's write guard itself, boxed.
type Owned<T, U, P> = guard::Owned<RwLock<T>, U, P>;

// SAFETY: as tokio's owned read guard: shared access to `U` (`U: Sync`) and an `Arc<RwLock<T>>`;
// the unit guard only returns a semaphore permit, which any thread may do.
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Sync> Send for OwnedRwLockReadGuard<T, U> {}
// SAFETY: as above; shared access gives `&U` only.
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Send + Sync> Sync for OwnedRwLockReadGuard<T, U> {}
// SAFETY: as tokio's `OwnedRwLockWriteGuard`: `&mut T` access and an `Arc<RwLock<T>>`; the boxed
// guard only returns semaphore permits, which any thread may do.
unsafe impl<T: ?Sized + Send + Sync> Send for OwnedRwLockWriteGuard<T> {}
// SAFETY: as above; shared access gives `&T` only.
unsafe impl<T: ?Sized + Send + Sync> Sync for OwnedRwLockWriteGuard<T> {}
// SAFETY: as tokio's owned write guards: `&mut U` access and an `Arc<RwLock<T>>`.
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Send + Sync> Send
    for OwnedRwLockMappedWriteGuard<T, U>
{
}
// SAFETY: as above.
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Send + Sync> Sync
    for OwnedRwLockMappedWriteGuard<T, U>
{
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
                // `value` is not used after `f` made its pointer from it (see `unit_mut`).
                Some(unit_mut())
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

/// The boxed guard holds the lock for writing, for lockdep's release and for `&mut` access.
impl<T: ?Sized> Holds for Boxed<T> {
    const HOW: How = How::Exclusive;
}
impl<T: ?Sized> HoldsExclusively for Boxed<T> {}

/// # Safety
/// `guard` must be a guard of `lock`'s own tokio lock.
pub(super) unsafe fn own_read<T: ?Sized>(
    lock: Arc<RwLock<T>>,
    guard: tokio::sync::RwLockReadGuard<'_, T>,
    held: Held,
) -> OwnedRwLockReadGuard<T> {
    // The pointer comes from the last reference made (inside `map`), as in the mutex's `own`.
    let mut data = None;
    let unit = tokio::sync::RwLockReadGuard::map(guard, |value| {
        data = Some(value as *const T as *mut T);
        &()
    });
    let data = data.expect("`map` calls its closure once");
    // SAFETY: the guard borrows the tokio lock inside `lock`'s allocation, which the owned guard
    // keeps alive and in place until after `unit` is dropped (see `guard::Owned::new`).
    let unit = unsafe {
        std::mem::transmute::<
            tokio::sync::RwLockReadGuard<'_, ()>,
            tokio::sync::RwLockReadGuard<'static, ()>,
        >(unit)
    };
    OwnedRwLockReadGuard {
        // SAFETY: `unit` is a read guard of `lock`'s tokio lock, `data` points into its data.
        owned: unsafe { Owned::new(held, data, unit, lock) },
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
    // keeps alive and in place until after the box is dropped.
    let mut guard = unsafe { erase(guard) };
    let data = guard.data();
    OwnedRwLockWriteGuard {
        // SAFETY: the box holds `lock`'s tokio lock, `data` is what it gave.
        owned: unsafe { Owned::new(held, data, guard, lock) },
    }
}

guard_common!(OwnedRwLockWriteGuard<T>, T, owned);
guard_common!(OwnedRwLockMappedWriteGuard<T, U>, U, owned);

impl<T: ?Sized, U: ?Sized> Deref for OwnedRwLockReadGuard<T, U> {
    type Target = U;
    fn deref(&self) -> &U {
        &self.owned
    }
}

impl<T: ?Sized, U: ?Sized + fmt::Debug> fmt::Debug for OwnedRwLockReadGuard<T, U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized, U: ?Sized> OwnedRwLockReadGuard<T, U> {
    /// A guard of a part of the data, still owning the `Arc` of the lock.
    pub fn map<V: ?Sized>(this: Self, f: impl FnOnce(&U) -> &V) -> OwnedRwLockReadGuard<T, V> {
        match Self::try_map(this, |value| Some(f(value))) {
            Ok(mapped) => mapped,
            Err(_) => unreachable!("`f` always finds a part"),
        }
    }

    /// A guard of a part of the data if `f` finds one; the guard back, unchanged, otherwise.
    pub fn try_map<V: ?Sized>(
        this: Self,
        f: impl FnOnce(&U) -> Option<&V>,
    ) -> Result<OwnedRwLockReadGuard<T, V>, Self> {
        this.owned
            .try_map_ref(f)
            .map(|owned| OwnedRwLockReadGuard { owned })
            .map_err(|owned| OwnedRwLockReadGuard { owned })
    }

    /// The lock this guard holds.
    pub fn rwlock(this: &Self) -> &Arc<RwLock<T>> {
        this.owned.lock()
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
    /// otherwise. tokio's `try_map`: the pointer `f` returns is taken inside tokio's `map`.
    pub fn try_map<U: ?Sized>(
        this: Self,
        f: impl FnOnce(&mut T) -> Option<&mut U>,
    ) -> Result<OwnedRwLockMappedWriteGuard<T, U>, Self> {
        let (held, _, lock, guard) = this.owned.into_parts();
        // Released for lockdep if `f` panics inside tokio's conversion (`guard::InTransit`).
        let transit = guard::InTransit::new(held, guard::AsyncLock::addr(&*lock), How::Exclusive);
        let mut f = Some(f);
        let mut part = None;
        let mut choose = |value: &mut T| {
            let f = f.take().expect("`try_map` calls its closure once");
            part = f(value).map(|part| part as *mut U);
            part.is_some()
        };
        // SAFETY: the result is kept beside `lock` in an owned guard, which drops it first.
        let mapped = unsafe { guard.try_into_mapped(&mut choose) };
        let held = transit.arrive();
        match mapped {
            Ok(unit) => Ok(OwnedRwLockMappedWriteGuard {
                // SAFETY: `unit` holds `lock`'s tokio lock; the part is inside its data.
                owned: unsafe {
                    Owned::new(
                        held,
                        part.expect("mapped only when `f` found a part"),
                        unit,
                        lock,
                    )
                },
            }),
            Err(guard) => Err(Self::rebuilt(held, guard, lock)),
        }
    }

    /// The guard again, from its parts after a conversion that did not happen.
    fn rebuilt(held: Held, mut guard: Boxed<T>, lock: Arc<RwLock<T>>) -> Self {
        let data = guard.data();
        OwnedRwLockWriteGuard {
            // SAFETY: the box holds `lock`'s tokio lock, `data` is what it gave.
            owned: unsafe { Owned::new(held, data, guard, lock) },
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
    /// unchanged (still writing), otherwise. tokio's `try_downgrade_map`, with lockdep told
    /// that the lock is now read.
    pub fn try_downgrade_map<U: ?Sized>(
        this: Self,
        f: impl FnOnce(&T) -> Option<&U>,
    ) -> Result<OwnedRwLockReadGuard<T, U>, Self> {
        let (held, _, lock, guard) = this.owned.into_parts();
        // Released for lockdep if `f` panics inside tokio's conversion (`guard::InTransit`).
        let transit = guard::InTransit::new(held, guard::AsyncLock::addr(&*lock), How::Exclusive);
        let mut f = Some(f);
        let mut part = None;
        let mut choose = |value: &T| {
            let f = f
                .take()
                .expect("`try_downgrade_map` calls its closure once");
            part = f(value).map(|part| part as *const U as *mut U);
            part.is_some()
        };
        // SAFETY: the result is kept beside `lock` in an owned guard, which drops it first.
        let downgraded = unsafe { guard.try_downgrade(&mut choose) };
        let held = transit.arrive();
        match downgraded {
            Ok(unit) => {
                let part = part.expect("downgraded only when `f` found a part");
                // SAFETY: `unit` read-holds `lock`'s tokio lock; the part is in its data.
                let owned = unsafe { Owned::new(held, part, unit, lock) };
                Ok(OwnedRwLockReadGuard {
                    owned: owned.downgraded(),
                })
            }
            Err(guard) => Err(Self::rebuilt(held, guard, lock)),
        }
    }

    /// The lock this guard holds.
    pub fn rwlock(this: &Self) -> &Arc<RwLock<T>> {
        this.owned.lock()
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
        this.owned
            .try_map(f)
            .map(|owned| OwnedRwLockMappedWriteGuard { owned })
            .map_err(|owned| OwnedRwLockMappedWriteGuard { owned })
    }

    /// The lock this guard holds.
    pub fn rwlock(this: &Self) -> &Arc<RwLock<T>> {
        this.owned.lock()
    }
}
