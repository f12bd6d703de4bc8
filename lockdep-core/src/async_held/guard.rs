//! The lockdep half of every async guard, written once. A guard of an async face's locks is one
//! of the wrapped crate's guards (tokio's, `futures`', `async_lock`'s; "tokio's" below stands for
//! any of them) plus what releasing it for lockdep needs; the public guard types of each face
//! are thin wrappers that give the wrapped API its names over the two shapes here:
//!
//! - [`Guard`]: a borrowed guard of tokio's and the address of its lock (mapped guards, and every
//!   guard of the `RwLock`, whose tokio guards cannot say which lock they hold; the mutex's own
//!   guard finds its lock through tokio's and stays two words, a `Guard` only while it maps);
//! - [`Owned`]: an owned (`'static`) guard. tokio's own owned guards need an `Arc` of tokio's
//!   lock, which our types wrap, so tokio's lock is held by a guard of `()` borrowing the tokio
//!   lock inside the `Arc` kept beside it, and the data (or the part `map` chose) is reached
//!   through a pointer.
//!
//! Both release the lock when dropped: lockdep's entry is checked, tokio's guard (a
//! `ManuallyDrop` field) releases tokio's lock, then the entry is popped (`Held::release`);
//! `map` and its kin move the lockdep half to the new guard without releasing anything.
//! With the checks compiled out the lockdep half is zero-sized.

use super::{Addr, Held, How};
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::ptr;
use std::sync::Arc;

/// How a guard type of the wrapped crate holds its lock: what its release is, for lockdep.
/// Each face implements it for its crate's guards.
pub(crate) trait Holds {
    const HOW: How;
}

/// A guard type of tokio's that gives `&mut` access (so [`Owned`] may too).
pub(crate) trait HoldsExclusively: Holds {}

/// A guard's lockdep half while tokio's half is inside a conversion of tokio's that runs the
/// user's closure (`map`, `try_map`, `try_downgrade_map`, ...). If the closure panics, tokio's
/// guard is dropped by tokio's own unwinding, releasing tokio's lock; this then releases
/// lockdep's entry, which would otherwise stay behind (`is_held` true, the next acquisition a
/// false self-deadlock). [`InTransit::arrive`] hands the half on when the conversion returns.
pub(crate) struct InTransit {
    held: Option<Held>,
    addr: Addr,
    how: How,
}

impl InTransit {
    #[inline]
    pub(crate) fn new(held: Held, addr: Addr, how: How) -> Self {
        InTransit {
            held: Some(held),
            addr,
            how,
        }
    }

    /// The conversion returned: the half goes to the guard it made (or gave back).
    #[inline]
    pub(crate) fn arrive(mut self) -> Held {
        self.held.take().expect("a half in transit arrives once")
    }
}

impl Drop for InTransit {
    fn drop(&mut self) {
        if let Some(held) = self.held.take() {
            // tokio's guard is gone already (dropped by the unwinding conversion): only the
            // entry is left to release.
            held.release(self.addr, self.how, || {});
        }
    }
}

/// One of this module's locks, as an owned guard sees it through its `Arc`.
pub(crate) trait AsyncLock {
    /// The address lockdep knows the lock by (that of the tokio lock inside).
    fn addr(&self) -> Addr;
}

/// A borrowed guard: tokio's guard `inner` of the lock at `addr`, held as `G::HOW`.
pub(crate) struct Guard<G: Holds> {
    held: Held,
    addr: Addr,
    /// Dropped by hand, inside the lockdep release (see the module's doc).
    inner: ManuallyDrop<G>,
}

impl<G: Holds> Guard<G> {
    #[inline]
    pub(crate) fn new(held: Held, addr: Addr, inner: G) -> Self {
        Guard {
            held,
            addr,
            inner: ManuallyDrop::new(inner),
        }
    }

    /// The wrapped crate's guard (for its `Debug`).
    #[cfg_attr(
        not(any(feature = "futures", feature = "async-lock")),
        allow(dead_code)
    )]
    #[inline]
    pub(crate) fn inner(&self) -> &G {
        &self.inner
    }

    /// Splits the guard into its parts without running its `Drop`.
    #[inline]
    pub(crate) fn into_parts(self) -> (Held, Addr, G) {
        let this = ManuallyDrop::new(self);
        // SAFETY: each field is read once and `this` is never dropped or used again.
        unsafe {
            (
                ptr::read(&this.held),
                this.addr,
                ManuallyDrop::into_inner(ptr::read(&this.inner)),
            )
        }
    }

    /// The same hold through another guard of tokio's, which `f` makes of this one (tokio's
    /// `map`, `into_mapped`, ...).
    #[inline]
    pub(crate) fn map<H: Holds>(self, f: impl FnOnce(G) -> H) -> Guard<H> {
        let (held, addr, inner) = self.into_parts();
        let transit = InTransit::new(held, addr, G::HOW);
        let inner = f(inner);
        Guard::new(transit.arrive(), addr, inner)
    }

    /// [`Guard::map`] where `f` may decline, giving tokio's guard back.
    #[inline]
    pub(crate) fn try_map<H: Holds>(
        self,
        f: impl FnOnce(G) -> Result<H, G>,
    ) -> Result<Guard<H>, Self> {
        let (held, addr, inner) = self.into_parts();
        let transit = InTransit::new(held, addr, G::HOW);
        match f(inner) {
            Ok(inner) => Ok(Guard::new(transit.arrive(), addr, inner)),
            Err(inner) => Err(Guard::new(transit.arrive(), addr, inner)),
        }
    }

    /// Tells lockdep that the lock is now held for reading (after tokio's `downgrade`).
    #[inline]
    pub(crate) fn downgraded(self) -> Self {
        #[cfg(lockdep_checks)]
        self.held.downgrade(self.addr);
        self
    }

    /// Tells lockdep that the lock, held as `from`, is now held as `G::HOW` (after an upgrade
    /// or a downgrade of the wrapped crate's).
    #[cfg_attr(not(feature = "async-lock"), allow(dead_code))]
    #[inline]
    pub(crate) fn changed_from(self, from: How) -> Self {
        self.held.changed(self.addr, from, G::HOW);
        self
    }

    /// Validates the upgrade about to wait (see `Held::before_upgrade`).
    #[cfg_attr(not(feature = "async-lock"), allow(dead_code))]
    #[inline]
    #[track_caller]
    pub(crate) fn before_upgrade(&self) {
        self.held.before_upgrade(self.addr);
    }
}

impl<G: Holds> Drop for Guard<G> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: dropped exactly once, here (`into_parts` skips this `Drop`).
        let unlock = || unsafe { ManuallyDrop::drop(&mut self.inner) };
        self.held.release(self.addr, G::HOW, unlock);
    }
}

impl<G: Holds + Deref> Deref for Guard<G> {
    type Target = G::Target;
    #[inline]
    fn deref(&self) -> &G::Target {
        &self.inner
    }
}

impl<G: Holds + DerefMut> DerefMut for Guard<G> {
    #[inline]
    fn deref_mut(&mut self) -> &mut G::Target {
        &mut self.inner
    }
}

/// An owned guard of the lock `L` in `lock`: tokio's guard of `()`, `unit`, holds it, and `data`
/// points at the data or the part `U` of it that `map` chose. Not `Send` or `Sync` by itself
/// (the pointer): each public owned guard says when it is, as tokio's does.
pub(crate) struct Owned<L: AsyncLock + ?Sized, U: ?Sized, P: Holds> {
    held: Held,
    data: *mut U,
    /// Dropped by hand in `Drop`, inside the lockdep release: unlocking while `lock`, dropped
    /// after it as a field, is still alive.
    unit: ManuallyDrop<P>,
    lock: Arc<L>,
}

impl<L: AsyncLock + ?Sized, U: ?Sized, P: Holds> Owned<L, U, P> {
    /// # Safety
    /// `unit` must be a guard of the tokio lock inside `lock`, with its lifetime extended to
    /// `'static` (sound because `lock`'s allocation outlives it here: an `Arc`'s value never
    /// moves, and `unit` is dropped first), and `data` must point into the data it locks (made
    /// from the last reference to it, so that no reborrow invalidates it); a `*const` cast to
    /// `*mut` where `P` only reads.
    #[inline]
    pub(crate) unsafe fn new(held: Held, data: *mut U, unit: P, lock: Arc<L>) -> Self {
        Owned {
            held,
            data,
            unit: ManuallyDrop::new(unit),
            lock,
        }
    }

    /// The lock this guard holds.
    #[inline]
    pub(crate) fn lock(&self) -> &Arc<L> {
        &self.lock
    }

    /// Splits the guard into its parts without running its `Drop`. The `Arc` comes before the
    /// guard that borrows from it: bound by one `let` pattern, they are dropped in reverse
    /// order, the guard first, whatever unwinds in between.
    pub(crate) fn into_parts(self) -> (Held, *mut U, Arc<L>, P) {
        let this = ManuallyDrop::new(self);
        // SAFETY: each field is read once and `this` is never dropped or used again.
        unsafe {
            (
                ptr::read(&this.held),
                this.data,
                ptr::read(&this.lock),
                ManuallyDrop::into_inner(ptr::read(&this.unit)),
            )
        }
    }

    /// Tells lockdep that the lock is now held for reading (after tokio's `downgrade`).
    pub(crate) fn downgraded(self) -> Self {
        #[cfg(lockdep_checks)]
        self.held.downgrade(self.lock.addr());
        self
    }

    /// Tells lockdep that the lock, held as `from`, is now held as `P::HOW`.
    #[cfg_attr(not(feature = "async-lock"), allow(dead_code))]
    pub(crate) fn changed_from(self, from: How) -> Self {
        self.held.changed(self.lock.addr(), from, P::HOW);
        self
    }

    /// Validates the upgrade about to wait (see `Held::before_upgrade`).
    #[cfg_attr(not(feature = "async-lock"), allow(dead_code))]
    #[track_caller]
    pub(crate) fn before_upgrade(&self) {
        self.held.before_upgrade(self.lock.addr());
    }

    /// The same guard of another part, `data`, of the data it locks.
    fn with_data<V: ?Sized>(self, data: *mut V) -> Owned<L, V, P> {
        let (held, _, lock, unit) = self.into_parts();
        Owned {
            held,
            data,
            unit: ManuallyDrop::new(unit),
            lock,
        }
    }

    /// A guard of the part of the data `f` finds, if it finds one; this guard back otherwise.
    pub(crate) fn try_map_ref<V: ?Sized>(
        self,
        f: impl FnOnce(&U) -> Option<&V>,
    ) -> Result<Owned<L, V, P>, Self> {
        match f(&*self).map(|part| part as *const V as *mut V) {
            Some(part) => Ok(self.with_data(part)),
            None => Err(self),
        }
    }
}

impl<L: AsyncLock + ?Sized, U: ?Sized, P: HoldsExclusively> Owned<L, U, P> {
    /// [`Owned::try_map_ref`] through a `&mut`.
    pub(crate) fn try_map<V: ?Sized>(
        mut self,
        f: impl FnOnce(&mut U) -> Option<&mut V>,
    ) -> Result<Owned<L, V, P>, Self> {
        match f(&mut *self).map(|part| part as *mut V) {
            Some(part) => Ok(self.with_data(part)),
            None => Err(self),
        }
    }

    /// A guard of the part of the data `f` chooses.
    pub(crate) fn map<V: ?Sized>(self, f: impl FnOnce(&mut U) -> &mut V) -> Owned<L, V, P> {
        match self.try_map(|value| Some(f(value))) {
            Ok(mapped) => mapped,
            Err(_) => unreachable!("`f` always finds a part"),
        }
    }
}

impl<L: AsyncLock + ?Sized, U: ?Sized, P: Holds> Drop for Owned<L, U, P> {
    #[inline]
    fn drop(&mut self) {
        let addr = self.lock.addr();
        // SAFETY: dropped exactly once, here (`into_parts` skips this `Drop`), and before
        // `lock`, the `Arc` it borrows from.
        let unlock = || unsafe { ManuallyDrop::drop(&mut self.unit) };
        self.held.release(addr, P::HOW, unlock);
    }
}

impl<L: AsyncLock + ?Sized, U: ?Sized, P: Holds> Deref for Owned<L, U, P> {
    type Target = U;
    #[inline]
    fn deref(&self) -> &U {
        // SAFETY: the lock is locked by `unit` and outlives it (see `new`).
        unsafe { &*self.data }
    }
}

impl<L: AsyncLock + ?Sized, U: ?Sized, P: HoldsExclusively> DerefMut for Owned<L, U, P> {
    #[inline]
    fn deref_mut(&mut self) -> &mut U {
        // SAFETY: as in `deref`; `unit` holds the lock exclusively and the guard is borrowed
        // uniquely.
        unsafe { &mut *self.data }
    }
}
