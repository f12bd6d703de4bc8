//! The instrumented raw lock: [`Checked<R>`] wraps any `lock_api` raw lock and reports every
//! acquisition and release to the validator. Every typed lock of this crate is `lock_api`'s
//! generic typed layer over `Checked<R>`, so guards, mapping and the rest come from `lock_api`
//! unchanged.
//!
//! With the checks compiled out, [`Raw<R>`] is `R` itself.

use crate::class::{ClassCell, LockTypeFn};
use std::panic::Location;

/// The raw lock the typed layers use for `R`: [`Checked<R>`] when checking is compiled in,
/// `R` itself otherwise.
#[cfg(lockdep_checks)]
pub type Raw<R> = Checked<R>;
/// The raw lock the typed layers use for `R`: [`Checked<R>`] when checking is compiled in,
/// `R` itself otherwise.
#[cfg(not(lockdep_checks))]
pub type Raw<R> = R;

pub use crate::class::UNCLASSED;

/// Wraps `raw` for the typed layers, attaching its class when checking is compiled in.
#[inline]
pub(crate) const fn wrap<R>(raw: R, class: ClassCell) -> Raw<R> {
    #[cfg(lockdep_checks)]
    {
        Checked::from_cell(raw, class)
    }
    #[cfg(not(lockdep_checks))]
    {
        let _ = class;
        raw
    }
}

/// The raw lock inside a [`Raw<R>`], for the `const_new` constructors (`lock_api`'s take the
/// typed layer's raw lock, which is `Raw<R>` here; the class goes, as they give the creation
/// site).
#[inline]
pub(crate) const fn unwrap<R>(raw: Raw<R>) -> R {
    #[cfg(lockdep_checks)]
    {
        raw.into_raw()
    }
    #[cfg(not(lockdep_checks))]
    {
        raw
    }
}

/// `raw` with a fresh class cell, its class and instance ended as a drop ends them (see
/// `Checked::fresh`); with the checks compiled out, `raw` itself.
#[inline]
pub(crate) fn fresh<R>(raw: Raw<R>) -> Raw<R> {
    #[cfg(lockdep_checks)]
    {
        raw.fresh()
    }
    #[cfg(not(lockdep_checks))]
    {
        raw
    }
}

/// A report's panic, raised by the typed layer (see [`RawMutexAt::lock_at`]).
#[cfg(lockdep_checks)]
pub(crate) use crate::validator::Pending;

/// With the checks compiled out nothing is ever pending.
#[cfg(not(lockdep_checks))]
pub(crate) enum Pending {}

#[cfg(not(lockdep_checks))]
impl Pending {
    pub(crate) fn raise(self) -> ! {
        match self {}
    }
}

/// Acquisitions that carry a nesting subclass and the caller's location (which `lock_api`'s
/// traits cannot pass). Implemented by [`Checked<R>`] and, with the checks compiled out, by every
/// raw lock as a plain delegation.
pub(crate) trait RawMutexAt {
    /// A blocking acquisition. `Some` when a report must panic: the lock was not taken, and the
    /// typed layer's `#[track_caller]` method raises it, so the panic names the user's call
    /// (the hot path returns `None`, which folds away once inlined).
    fn lock_at(
        &self,
        subclass: u32,
        at: &'static Location<'static>,
        ty: Option<LockTypeFn>,
    ) -> Option<Pending>;
    fn try_lock_at(
        &self,
        subclass: u32,
        at: &'static Location<'static>,
        ty: Option<LockTypeFn>,
    ) -> bool;
}

/// The same for reader-writer locks.
pub(crate) trait RawRwLockAt {
    fn lock_shared_at(
        &self,
        subclass: u32,
        at: &'static Location<'static>,
        ty: Option<LockTypeFn>,
    ) -> Option<Pending>;
    fn try_lock_shared_at(
        &self,
        subclass: u32,
        at: &'static Location<'static>,
        ty: Option<LockTypeFn>,
    ) -> bool;
    fn lock_exclusive_at(
        &self,
        subclass: u32,
        at: &'static Location<'static>,
        ty: Option<LockTypeFn>,
    ) -> Option<Pending>;
    fn try_lock_exclusive_at(
        &self,
        subclass: u32,
        at: &'static Location<'static>,
        ty: Option<LockTypeFn>,
    ) -> bool;
}

/// Recursive reads.
pub(crate) trait RawRwLockRecursiveAt {
    fn lock_shared_recursive_at(
        &self,
        subclass: u32,
        at: &'static Location<'static>,
        ty: Option<LockTypeFn>,
    ) -> Option<Pending>;
    fn try_lock_shared_recursive_at(
        &self,
        subclass: u32,
        at: &'static Location<'static>,
        ty: Option<LockTypeFn>,
    ) -> bool;
}

/// Upgradable reads.
pub(crate) trait RawRwLockUpgradeAt {
    fn lock_upgradable_at(
        &self,
        subclass: u32,
        at: &'static Location<'static>,
        ty: Option<LockTypeFn>,
    ) -> Option<Pending>;
    fn try_lock_upgradable_at(
        &self,
        subclass: u32,
        at: &'static Location<'static>,
        ty: Option<LockTypeFn>,
    ) -> bool;
}

#[cfg(not(lockdep_checks))]
mod plain;

#[cfg(feature = "parking_lot-0_13")]
pub(crate) mod ops05;

#[cfg(not(lockdep_checks))]
pub use crate::unchecked::Checked;
#[cfg(lockdep_checks)]
pub use checked::Checked;

#[cfg(lockdep_checks)]
mod checked;

/// Hooks for the `benches` crate; not part of the API, may change without notice.
///
/// The "new edge ≤ 2 µs" target is for the graph work; the backtrace capture that goes
/// with every new edge is timed apart, so the benches need to switch it off and to call it alone.
/// With the checks compiled out they do nothing (and capture nothing).
#[doc(hidden)]
#[cfg(not(lockdep_checks))]
pub mod bench {
    /// Does nothing: nothing is recorded with the checks compiled out.
    pub fn set_dependency_backtraces(on: bool) {
        let _ = on;
    }

    /// Captures nothing: returns 0.
    pub fn capture_backtrace() -> usize {
        0
    }

    /// Does nothing: there is no graph with the checks compiled out.
    pub fn set_exhaustive_search(on: bool) {
        let _ = on;
    }
}

/// Hooks for the `benches` crate; not part of the API, may change without notice.
///
/// The "new edge ≤ 2 µs" target is for the graph work; the backtrace capture that goes
/// with every new edge is timed apart, so the benches need to switch it off and to call it alone.
#[doc(hidden)]
#[cfg(lockdep_checks)]
pub mod bench {
    /// Whether new dependencies capture the backtrace where they were first seen (on by
    /// default). Off, they all share one empty trace: reports lose their first-seen stacks.
    pub fn set_dependency_backtraces(on: bool) {
        crate::trace::set_dependency_traces(on);
    }

    /// Performs the capture a new dependency performs (bounded, unresolved, then dropped) and
    /// returns how many frames it kept.
    #[inline(never)]
    pub fn capture_backtrace() -> usize {
        crate::trace::Trace::capture().depth()
    }

    /// Whether a new dependency's cycle search walks the whole reachable graph, as it did
    /// before the topological order bounded it (off by default): the `new_edge` bench's
    /// "before", measured in the same run as the "after".
    pub fn set_exhaustive_search(on: bool) {
        crate::graph::DEPENDENCIES.lock().set_exhaustive(on);
    }
}
