//! The async `Mutex`: tokio's, with lockdep's classes and checks.

use super::TryLockError;
#[cfg(lockdep_checks)]
use crate::access::Access;
use crate::async_held::guard::{self, AsyncLock, Guard};
use crate::async_held::{or_raise, unit_mut, Addr, Due, Held, How, Located, Start};
use crate::class::ClassCell;
use crate::construct::{class_constructors, default_and_from};
use crate::{LockInstance, TrackedLock};
use std::fmt;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::Location;
use std::ptr;
use std::sync::Arc;

/// An async mutex checked by lockdep: [`tokio::sync::Mutex`] with the same API, tracked per task.
///
/// `lock().await` is validated against the task's held locks when it starts, before it waits;
/// relocking a mutex the task already holds is a certain self-deadlock: reported, then panics.
pub struct Mutex<T: ?Sized> {
    /// Zero-sized with the checks compiled out.
    class: ClassCell,
    inner: tokio::sync::Mutex<T>,
}

/// The guard of [`Mutex::lock`]: releases the mutex (for lockdep too) when dropped.
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MutexGuard<'a, T: ?Sized> {
    held: Held,
    /// Dropped by hand, inside the lockdep release (`guard.rs`'s module doc).
    inner: ManuallyDrop<tokio::sync::MutexGuard<'a, T>>,
}

/// A guard of a part of the data ([`MutexGuard::map`]).
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MappedMutexGuard<'a, T: ?Sized> {
    core: Guard<tokio::sync::MappedMutexGuard<'a, T>>,
}

/// The guard of [`Mutex::lock_owned`]: keeps the `Arc` of the mutex, so it is `'static`.
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct OwnedMutexGuard<T: ?Sized> {
    owned: Owned<T, T>,
}

/// A guard of a part of the data ([`OwnedMutexGuard::map`]).
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct OwnedMappedMutexGuard<T: ?Sized, U: ?Sized = T> {
    owned: Owned<T, U>,
}

/// An owned guard of the mutex (see `guard::Owned`): tokio's lock held by a mapped guard of `()`.
type Owned<T, U> = guard::Owned<Mutex<T>, U, tokio::sync::MappedMutexGuard<'static, ()>>;

// SAFETY: as tokio's `OwnedMappedMutexGuard`: `&mut U` access (needs `U: Send` to be sent) and
// an `Arc<Mutex<T>>` (`Send` when `T: Send`); the unit guard only releases a semaphore permit,
// which any thread may do.
unsafe impl<T: ?Sized + Send> Send for OwnedMutexGuard<T> {}
// SAFETY: shared access gives `&T` only.
unsafe impl<T: ?Sized + Send + Sync> Sync for OwnedMutexGuard<T> {}
// SAFETY: as for `OwnedMutexGuard`.
unsafe impl<T: ?Sized + Send, U: ?Sized + Send> Send for OwnedMappedMutexGuard<T, U> {}
// SAFETY: shared access gives `&U` only.
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Send + Sync> Sync for OwnedMappedMutexGuard<T, U> {}

/// Builds an owned guard from a borrowed one of the same mutex.
///
/// # Safety
/// `guard` must be a guard of `lock`'s own tokio mutex.
unsafe fn own<T: ?Sized>(
    lock: Arc<Mutex<T>>,
    guard: tokio::sync::MutexGuard<'_, T>,
    held: Held,
) -> OwnedMutexGuard<T> {
    // The pointer is made from the last `&mut T` (inside `map`), which is not used again after
    // it (`unit_mut` takes nothing), so nothing invalidates it.
    let mut data = None;
    let unit = tokio::sync::MutexGuard::map(guard, |value| {
        data = Some(value as *mut T);
        unit_mut()
    });
    let data = data.expect("`map` calls its closure once");
    // SAFETY: the guard borrows the tokio mutex inside `lock`'s allocation, which the owned
    // guard keeps alive (and in place) until after `unit` is dropped; extending the borrow to
    // `'static` is therefore sound (see `guard::Owned::new`).
    let unit = unsafe {
        std::mem::transmute::<
            tokio::sync::MappedMutexGuard<'_, ()>,
            tokio::sync::MappedMutexGuard<'static, ()>,
        >(unit)
    };
    // SAFETY: `unit` is a guard of `lock`'s tokio mutex and `data` points into its data.
    let owned = unsafe { Owned::new(held, data, unit, lock) };
    OwnedMutexGuard { owned }
}

impl<T: ?Sized> AsyncLock for Mutex<T> {
    fn addr(&self) -> Addr {
        Addr::of(&self.inner)
    }
}

impl<T> Mutex<T> {
    class_constructors! {
        /// A new unlocked mutex whose class is its creation site (`file:line:column`). A `const
        /// fn` (tokio's `const_new`), so it can initialise a `static`.
        pub const fn new(value: T) -> Self;
        /// A new unlocked mutex of the class `class` (a named static key).
        pub const fn with_class;
        /// A new unlocked mutex whose class is `name`: every lock created with this name shares
        /// it.
        pub fn named;
        /// The same as [`Mutex::new`] (tokio's name for the `const` constructor).
        pub const fn const_new;
        const fn from_cell(class) => Mutex {
            class,
            inner: tokio::sync::Mutex::const_new(value),
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

    #[cfg_attr(not(lockdep_checks), allow(dead_code))]
    fn addr(&self) -> usize {
        // The tokio mutex's own address: a guard finds it through `MutexGuard::mutex`.
        &self.inner as *const tokio::sync::Mutex<T> as *const () as usize
    }

    /// The acquisition starts (validated and recorded), or the panic due for it.
    #[cfg(lockdep_checks)]
    #[inline]
    fn begin(
        &self,
        subclass: u32,
        at: &'static Location<'static>,
        in_async: bool,
    ) -> Result<Start, Due> {
        Start::try_begin(
            self.addr(),
            &self.class,
            Self::TYPE,
            subclass,
            Access::Write,
            at,
            in_async,
        )
    }

    #[cfg(not(lockdep_checks))]
    #[inline(always)]
    fn begin(&self, _: u32, _: &'static Location<'static>, _: bool) -> Result<Start, Due> {
        Ok(Start)
    }

    #[cfg_attr(not(lockdep_checks), allow(unused_variables))]
    #[inline]
    fn try_taken(&self, at: &'static Location<'static>) -> Held {
        #[cfg(lockdep_checks)]
        return Start::try_taken(
            self.addr(),
            &self.class,
            Self::TYPE,
            Access::Write,
            at,
            true,
        );
        #[cfg(not(lockdep_checks))]
        Held
    }

    /// Locks the mutex, waiting (asynchronously) until it is free. The acquisition is validated
    /// when the future is first polled, before it waits.
    #[track_caller]
    #[inline]
    pub fn lock(&self) -> impl Future<Output = MutexGuard<'_, T>> + '_ {
        self.lock_nested(0)
    }

    /// Locks the mutex as nesting level `subclass` of its class (the kernel's
    /// `mutex_lock_nested`). Panics if `subclass >= MAX_SUBCLASSES`.
    #[track_caller]
    #[inline]
    pub fn lock_nested(&self, subclass: u32) -> impl Future<Output = MutexGuard<'_, T>> + '_ {
        // Validated when first polled, before any wait, not here: any work before the `async`
        // block keeps it from being built in place, and moving the future cost every
        // acquisition about 20 ns. A panic due is raised by `Located`'s `#[track_caller]` poll,
        // at the user's `.await`.
        let at = Location::caller();
        Located::new(async move {
            let start = self.begin(subclass, at, true)?;
            // tokio's own fast path, taken first: a free mutex has no waiters (tokio hands a
            // released permit to the first waiter), so this is the acquisition `lock()` would
            // make, without building its waiter node.
            let inner = match self.inner.try_lock() {
                Ok(inner) => inner,
                Err(_) => self.inner.lock().await,
            };
            Ok(MutexGuard {
                held: start.finish(),
                inner: ManuallyDrop::new(inner),
            })
        })
    }

    /// Locks the mutex from synchronous code, blocking the thread (tokio's `blocking_lock`:
    /// panics inside an async runtime). The thread owns the guard.
    #[track_caller]
    #[inline]
    pub fn blocking_lock(&self) -> MutexGuard<'_, T> {
        let start = or_raise(self.begin(0, Location::caller(), false));
        let inner = self.inner.blocking_lock();
        MutexGuard {
            held: start.finish(),
            inner: ManuallyDrop::new(inner),
        }
    }

    /// Tries to lock the mutex without waiting. A trylock adds no dependency to itself and never
    /// reports; once it succeeds, the mutex is held.
    #[track_caller]
    #[inline]
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        let inner = self.inner.try_lock()?;
        Ok(MutexGuard {
            held: self.try_taken(Location::caller()),
            inner: ManuallyDrop::new(inner),
        })
    }

    /// Locks the mutex through its `Arc`, returning a `'static` guard.
    #[track_caller]
    #[inline]
    pub fn lock_owned(self: Arc<Self>) -> impl Future<Output = OwnedMutexGuard<T>> {
        let at = Location::caller();
        Located::new(async move {
            let start = self.begin(0, at, true)?;
            let lock = self.clone();
            let guard = match lock.inner.try_lock() {
                Ok(guard) => guard,
                Err(_) => lock.inner.lock().await,
            };
            let held = start.finish();
            // SAFETY: `guard` is a guard of `self`'s mutex (`lock` is the same `Arc`).
            let owned = unsafe { own(self, guard, held) };
            drop(lock);
            Ok(owned)
        })
    }

    /// [`Mutex::blocking_lock`] through the `Arc`.
    #[track_caller]
    #[inline]
    pub fn blocking_lock_owned(self: Arc<Self>) -> OwnedMutexGuard<T> {
        let start = or_raise(self.begin(0, Location::caller(), false));
        let lock = self.clone();
        let guard = lock.inner.blocking_lock();
        let held = start.finish();
        // SAFETY: `guard` is a guard of `self`'s mutex.
        let owned = unsafe { own(self, guard, held) };
        drop(lock);
        owned
    }

    /// [`Mutex::try_lock`] through the `Arc`.
    #[track_caller]
    #[inline]
    pub fn try_lock_owned(self: Arc<Self>) -> Result<OwnedMutexGuard<T>, TryLockError> {
        let lock = self.clone();
        let guard = lock.inner.try_lock()?;
        let held = self.try_taken(Location::caller());
        // SAFETY: `guard` is a guard of `self`'s mutex.
        let owned = unsafe { own(self, guard, held) };
        drop(lock);
        Ok(owned)
    }

    /// A mutable reference to the data; no locking is needed since the borrow is unique.
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }

    /// tokio's mutex underneath, for what this type does not forward (not checked).
    pub fn as_tokio(&self) -> &tokio::sync::Mutex<T> {
        &self.inner
    }
}

impl<T: ?Sized> TrackedLock for Mutex<T> {
    fn lock_instance(&self) -> LockInstance<'_> {
        LockInstance::of_parts(self.addr(), &self.class)
    }
}

default_and_from!("Mutex": impl[] Mutex<T>);

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

/// `Deref`, `DerefMut`, `Debug` and `Display` of a public guard type through its field: the
/// same four impls for every guard of this face.
macro_rules! guard_common {
    ($guard:ident<$($lt:lifetime,)? $($param:ident),+>, $target:ident, $field:ident) => {
        impl<$($lt,)? $($param: ?Sized),+> ::std::ops::Deref for $guard<$($lt,)? $($param),+> {
            type Target = $target;
            fn deref(&self) -> &$target {
                &self.$field
            }
        }

        impl<$($lt,)? $($param: ?Sized),+> ::std::ops::DerefMut for $guard<$($lt,)? $($param),+> {
            fn deref_mut(&mut self) -> &mut $target {
                &mut self.$field
            }
        }

        impl<$($lt,)? $($param: ?Sized + ::std::fmt::Debug),+> ::std::fmt::Debug for $guard<$($lt,)? $($param),+> {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Debug::fmt(&**self, f)
            }
        }

        impl<$($lt,)? $($param: ?Sized + ::std::fmt::Display),+> ::std::fmt::Display for $guard<$($lt,)? $($param),+> {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Display::fmt(&**self, f)
            }
        }
    };
}
pub(crate) use guard_common;

guard_common!(MutexGuard<'a, T>, T, inner);
guard_common!(MappedMutexGuard<'a, T>, T, core);
guard_common!(OwnedMutexGuard<T>, T, owned);
guard_common!(OwnedMappedMutexGuard<T, U>, U, owned);

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        let addr = Addr::of(tokio::sync::MutexGuard::mutex(&self.inner));
        // SAFETY: dropped exactly once, here (`into_core` skips this `Drop`).
        let unlock = || unsafe { ManuallyDrop::drop(&mut self.inner) };
        self.held.release(addr, How::Exclusive, unlock);
    }
}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// The guard as a mapped one's core (the address of its mutex then stored), without
    /// running its `Drop`.
    fn into_core(this: Self) -> Guard<tokio::sync::MutexGuard<'a, T>> {
        let this = ManuallyDrop::new(this);
        // SAFETY: each field is read once and `this` is never dropped or used again.
        let (held, inner) = unsafe {
            (
                ptr::read(&this.held),
                ManuallyDrop::into_inner(ptr::read(&this.inner)),
            )
        };
        let addr = Addr::of(tokio::sync::MutexGuard::mutex(&inner));
        Guard::new(held, addr, inner)
    }

    /// A guard of a part of the data (tokio's `MutexGuard::map`).
    pub fn map<U>(this: Self, f: impl FnOnce(&mut T) -> &mut U) -> MappedMutexGuard<'a, U> {
        let core = Self::into_core(this).map(|inner| tokio::sync::MutexGuard::map(inner, f));
        MappedMutexGuard { core }
    }

    /// A guard of a part of the data, if `f` finds one; the guard back otherwise.
    pub fn try_map<U>(
        this: Self,
        f: impl FnOnce(&mut T) -> Option<&mut U>,
    ) -> Result<MappedMutexGuard<'a, U>, Self> {
        Self::into_core(this)
            .try_map(|inner| tokio::sync::MutexGuard::try_map(inner, f))
            .map(|core| MappedMutexGuard { core })
            .map_err(|core| {
                let (held, _, inner) = core.into_parts();
                MutexGuard {
                    held,
                    inner: ManuallyDrop::new(inner),
                }
            })
    }
}

impl<'a, T: ?Sized> MappedMutexGuard<'a, T> {
    /// A guard of a part of this part.
    pub fn map<U>(this: Self, f: impl FnOnce(&mut T) -> &mut U) -> MappedMutexGuard<'a, U> {
        let core = this
            .core
            .map(|inner| tokio::sync::MappedMutexGuard::map(inner, f));
        MappedMutexGuard { core }
    }

    /// A guard of a part of this part if `f` finds one; the guard back otherwise.
    pub fn try_map<U>(
        this: Self,
        f: impl FnOnce(&mut T) -> Option<&mut U>,
    ) -> Result<MappedMutexGuard<'a, U>, Self> {
        this.core
            .try_map(|inner| tokio::sync::MappedMutexGuard::try_map(inner, f))
            .map(|core| MappedMutexGuard { core })
            .map_err(|core| MappedMutexGuard { core })
    }
}

impl<T: ?Sized> OwnedMutexGuard<T> {
    /// A guard of a part of the data, still owning the `Arc` of the mutex.
    pub fn map<U: ?Sized>(
        this: Self,
        f: impl FnOnce(&mut T) -> &mut U,
    ) -> OwnedMappedMutexGuard<T, U> {
        OwnedMappedMutexGuard {
            owned: this.owned.map(f),
        }
    }

    /// A guard of a part of the data if `f` finds one; the guard back otherwise.
    pub fn try_map<U: ?Sized>(
        this: Self,
        f: impl FnOnce(&mut T) -> Option<&mut U>,
    ) -> Result<OwnedMappedMutexGuard<T, U>, Self> {
        this.owned
            .try_map(f)
            .map(|owned| OwnedMappedMutexGuard { owned })
            .map_err(|owned| OwnedMutexGuard { owned })
    }

    /// The mutex this guard locks.
    pub fn mutex(this: &Self) -> &Arc<Mutex<T>> {
        this.owned.lock()
    }
}

impl<T: ?Sized, U: ?Sized> OwnedMappedMutexGuard<T, U> {
    /// A guard of a part of this part.
    pub fn map<V: ?Sized>(
        this: Self,
        f: impl FnOnce(&mut U) -> &mut V,
    ) -> OwnedMappedMutexGuard<T, V> {
        OwnedMappedMutexGuard {
            owned: this.owned.map(f),
        }
    }

    /// A guard of a part of this part if `f` finds one; the guard back otherwise.
    pub fn try_map<V: ?Sized>(
        this: Self,
        f: impl FnOnce(&mut U) -> Option<&mut V>,
    ) -> Result<OwnedMappedMutexGuard<T, V>, Self> {
        this.owned
            .try_map(f)
            .map(|owned| OwnedMappedMutexGuard { owned })
            .map_err(|owned| OwnedMappedMutexGuard { owned })
    }

    /// The mutex this guard locks.
    pub fn mutex(this: &Self) -> &Arc<Mutex<T>> {
        this.owned.lock()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The owned guards' pointer juggling, under Miri too
    /// (`cargo +nightly miri test -p lockdep-core --lib tokio::`).
    #[test]
    fn owned_guards_map_and_release() {
        let m = Arc::new(Mutex::named("unit-owned-mutex", vec![1, 2]));
        let guard = m.clone().try_lock_owned().unwrap();
        assert!(m.try_lock().is_err());
        let mut second = OwnedMutexGuard::map(guard, |v| &mut v[1]);
        *second += 1;
        let mut second = OwnedMappedMutexGuard::map(second, |x| x);
        *second += 1;
        let second = OwnedMappedMutexGuard::try_map(second, |_| None::<&mut u8>).unwrap_err();
        drop(second);
        let guard = m.clone().try_lock_owned().unwrap();
        let guard = OwnedMutexGuard::try_map(guard, |v| v.get_mut(5)).unwrap_err();
        let mut first = OwnedMutexGuard::try_map(guard, |v| v.first_mut()).unwrap();
        *first += 0;
        drop(first);
        assert_eq!(*m.try_lock().unwrap(), [1, 4]);
        let guard = m.clone().try_lock_owned().unwrap();
        let handed = std::thread::spawn(move || guard.len()).join().unwrap();
        assert_eq!(handed, 2);
        assert!(m.try_lock().is_ok());
    }

    #[test]
    fn owned_rwlock_guards_map_and_release() {
        use super::super::{OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock};
        let l = Arc::new(RwLock::named("unit-owned-rwlock", vec![1, 2]));
        let read = l.clone().try_read_owned().unwrap();
        let also = l.clone().try_read_owned().unwrap();
        assert!(l.try_write().is_err());
        let read = OwnedRwLockReadGuard::try_map(read, |v| v.get(5)).unwrap_err();
        let first = OwnedRwLockReadGuard::try_map(read, |v| v.first()).unwrap();
        assert_eq!(*first + also[1], 3);
        drop((first, also));
        let write = l.clone().try_write_owned().unwrap();
        let mut last = OwnedRwLockWriteGuard::map(write, |v| v.last_mut().unwrap());
        *last = 20;
        drop(last);
        assert_eq!(*l.try_read().unwrap(), [1, 20]);
    }

    /// The unmapped owned write guard's boxed tokio guard: its conversions, under Miri too.
    #[test]
    fn owned_write_guard_downgrades_and_maps() {
        use super::super::{OwnedRwLockMappedWriteGuard, OwnedRwLockWriteGuard, RwLock};
        let l = Arc::new(RwLock::named("unit-owned-downgrade", vec![1, 2]));
        let mut write = l.clone().try_write_owned().unwrap();
        write.push(3);
        let read = write.downgrade();
        assert!(l.try_write().is_err());
        assert_eq!(*l.try_read().unwrap(), [1, 2, 3]);
        drop(read);
        let write = l.clone().try_write_owned().unwrap();
        let write = OwnedRwLockWriteGuard::try_map(write, |v| v.get_mut(7)).unwrap_err();
        let write = OwnedRwLockWriteGuard::try_downgrade_map(write, |v| v.get(7)).unwrap_err();
        let mut whole = OwnedRwLockWriteGuard::into_mapped(write);
        whole[0] = 10;
        let mut last = OwnedRwLockMappedWriteGuard::map(whole, |v| v.last_mut().unwrap());
        *last = 30;
        drop(last);
        let write = l.clone().try_write_owned().unwrap();
        let first = OwnedRwLockWriteGuard::downgrade_map(write, |v| &v[0]);
        assert_eq!(*first, 10);
        let handed = std::thread::spawn(move || *first).join().unwrap();
        assert_eq!(handed, 10);
        assert_eq!(*l.try_write().unwrap(), [10, 2, 30]);
    }
}
