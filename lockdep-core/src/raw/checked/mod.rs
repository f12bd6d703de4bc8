//! [`Checked<R>`]: the instrumented raw lock, its common bookkeeping and the mutex traits
//! (`rwlock.rs`: the reader-writer traits).
//!
//! # When a finding may unwind
//!
//! A report in the `Panic` mode, a panicking handler and a certain self-deadlock all end in a
//! panic. Where that panic starts decides whether the program stays sound, because `lock_api`
//! calls these raw methods from places that assume they cannot unwind without the lock:
//!
//! - **This crate's typed layers** (`Mutex::lock`, the `*_at` methods, and the `lock_api`
//!   methods they drive through `at_caller`: `lock_arc`, the reentrant `lock`, the timed
//!   locks) make their guard only after the raw call returns: the panic is raised *before*
//!   the lock is taken, and nothing is left behind.
//! - **Every other raw `lock*` call** — `lock_api` relocking in a guard's `unlocked` /
//!   `unlocked_fair` (`defer!(raw.lock())`: the caller's guard lives on), `lock_api`'s own
//!   typed layer over `Checked<R>`, a user's raw call — never unwinds without the lock: the
//!   lock is taken, its entry pushed, and only then is the panic raised (the surviving guard,
//!   if any, releases the lock while unwinding). A certain self-deadlock cannot be taken
//!   first (it would hang): it is reported and the process aborts.
//! - **Upgrades and bumps** raise before they act: the guard still holds the lock as before.
//! - **A `ReentrantMutex`'s raw mutex** (marked in its class cell) never unwinds from `lock`
//!   or `bump` called by `lock_api`'s reentrant layer: it zeroes its owner and count around the
//!   call and restores them only when the call returns. There the report is printed instead
//!   of panicking.

use super::*;
use crate::access::Access;
use crate::caller::{caller_or, take_caller};
use crate::class::LockTypeFn;
use crate::validator::{self, Acquisition, Entered, LockRef, Release};
use crate::LockClass;
use lock_api::{RawMutex, RawMutexFair, RawMutexTimed};

/// Who makes an acquisition (see [`Checked::acquire`]).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Caller {
    /// This crate's typed layer, which knows the user's call site.
    Typed,
    /// A raw call; `relock`: `lock_api` taking a guard's lock again (after `unlocked`), which
    /// keeps the entry it had.
    Raw { relock: bool },
}

/// Why a report is printed rather than raised inside a `ReentrantMutex`'s raw relock or bump.
const REENTRANT_NO_UNWIND: &str = "it was raised inside a `ReentrantMutex`'s raw relock or bump \
     (a panic there would leave its guard with a broken count)";

/// Any `lock_api` raw lock `R`, instrumented: every acquisition is validated against the
/// locks the current thread holds, and the lock is tracked as held until released.
///
/// Use it through the typed layers in [`generic`](crate::generic) (or the aliases at the
/// crate root for `parking_lot`), whose constructors give each lock its class. It implements
/// every `lock_api` capability trait `R` implements, so `lock_api`'s own typed layers work
/// over it too; locks made with `lock_api`'s own `new` (through `INIT`) all share the class
/// [`UNCLASSED`].
///
/// Guards of a checked lock are never `Send`: the held-lock stack is per thread, so a guard
/// released on another thread would leave a stale entry behind.
pub struct Checked<R> {
    raw: R,
    class: ClassCell,
}

impl<R> Checked<R> {
    /// Wraps `raw`, giving it the class `class`.
    pub const fn with_class(raw: R, class: &'static LockClass) -> Self {
        Checked {
            raw,
            class: ClassCell::from_key(class),
        }
    }

    /// The raw lock inside, its class given up (for a constructor that gives it another).
    pub(crate) const fn into_raw(self) -> R {
        // SAFETY: `raw` is read once and `self` is forgotten, so it is neither used nor dropped
        // again; the class cell of an unlocked, never-acquired lock holds nothing to release.
        let raw = unsafe { std::ptr::read(&self.raw) };
        std::mem::forget(self);
        raw
    }

    /// The same raw lock with a fresh class cell (as `INIT` gives), this one's class and
    /// instance ended as a drop ends them: for `into_inner_with_raw`, whose raw lock a
    /// constructor may take again (`from_raw`, `const_new`), and which, in a `const fn`,
    /// cannot end a cell that was used.
    pub(crate) fn fresh(self) -> Self {
        // SAFETY: both fields are read once and `self` is forgotten, so neither is used or
        // dropped twice; the old cell is dropped here, which ends its instance.
        let (raw, class) = unsafe { (std::ptr::read(&self.raw), std::ptr::read(&self.class)) };
        std::mem::forget(self);
        drop(class);
        Checked::with_class(raw, &UNCLASSED)
    }

    pub(crate) const fn from_cell(raw: R, class: ClassCell) -> Self {
        Checked { raw, class }
    }

    /// The lock underneath.
    pub fn inner(&self) -> &R {
        &self.raw
    }

    #[inline]
    pub(crate) fn lock_ref(&self) -> LockRef<'_> {
        LockRef {
            class: &self.class,
            ty: None,
        }
    }

    pub(crate) fn class_cell(&self) -> &ClassCell {
        &self.class
    }

    /// The instance's identity on the held-lock stack (see `ClassCell`): not its address,
    /// which a later lock may reuse once this one is dropped.
    #[inline]
    fn addr(&self) -> usize {
        self.class.identity()
    }

    /// A blocking acquisition: validate, take the lock with `take`, record it as held.
    /// `try_take` is the same acquisition without blocking: with `deadlock_detection`, a
    /// thread whose first try fails is registered as waiting while `take` blocks.
    ///
    /// `caller`: from a raw call, a panic due is returned with the lock taken and its entry
    /// pushed (see the module doc), a certain self-deadlock aborts; from this crate's typed
    /// layer it is returned with the lock not taken.
    #[inline(always)]
    #[cfg_attr(not(feature = "deadlock_detection"), allow(unused_variables))]
    // Inlined whole into each caller: a struct of these parts would only be taken apart again.
    #[allow(clippy::too_many_arguments)]
    fn acquire(
        &self,
        subclass: u32,
        access: Access,
        at: &'static Location<'static>,
        ty: Option<LockTypeFn>,
        try_take: impl FnOnce(&R) -> bool,
        take: impl FnOnce(&R),
        caller: Caller,
    ) -> Option<Pending> {
        let lock = LockRef {
            class: &self.class,
            ty,
        };
        // With `deadlock_detection`: what this thread holds while it waits, counted before the
        // hot check, since counting claims the releases other threads posted to this one (the
        // stack the check saw must be the one the push finds).
        #[cfg(feature = "deadlock_detection")]
        let held_before = validator::held_count();
        // One call into the validator's own (not generic) code for the class and the hot check
        // (see `validator::enter`).
        // Bound by reference, tested one at a time: in a user's debug build a pair or a moved
        // `Acquisition` is a copy through the stack.
        let entered = validator::enter(lock, subclass, access, at);
        let Entered::Tracked(acq, hot) = &entered else {
            take(&self.raw);
            return None;
        };
        // The hot path of this crate's typed layers, spelled out: no closure around `take` (in
        // a user's debug build each layer is a call).
        #[cfg(not(feature = "deadlock_detection"))]
        if let Caller::Typed = caller {
            if let Some(clean) = hot {
                take(&self.raw);
                validator::push_hot(acq, *clean);
                return None;
            }
        }
        #[cfg(feature = "deadlock_detection")]
        let take = {
            move || {
                crate::deadlock::Waiting::around(
                    acq,
                    held_before,
                    || try_take(&self.raw).then_some(()),
                    || take(&self.raw),
                )
            }
        };
        #[cfg(not(feature = "deadlock_detection"))]
        let take = || take(&self.raw);
        match caller {
            Caller::Raw { relock } => {
                let pending = validator::acquire_holding_entered(acq, *hot, take);
                // A raw read (not `lock_api` relocking a guard) may be a token that another
                // thread releases (see `HeldLock::RAW`). Exclusive raw calls are `lock_api`
                // relocking a plain guard as often as not, and stay checked as any acquisition.
                if !relock && access.held_shared() {
                    validator::mark_raw(acq.addr);
                }
                pending
            }
            Caller::Typed => validator::acquire_entered(acq, *hot, take),
        }
    }

    /// A blocking acquisition through a raw trait method (`lock`, `lock_shared`, ...): held as
    /// `how` once taken. From this crate's typed layer (see [`take_caller`]) a panic due is
    /// raised before the lock; from anywhere else only once the lock is held (module doc).
    #[track_caller]
    #[inline]
    fn raw_lock(
        &self,
        how: Release,
        access: Access,
        try_take: impl FnOnce(&R) -> bool,
        take: impl FnOnce(&R),
    ) {
        let (subclass, at, relocked_raw) = self.relock_site(how);
        match take_caller() {
            Some(at) => {
                let pending =
                    self.acquire(subclass, access, at, None, try_take, take, Caller::Typed);
                if let Some(pending) = pending {
                    pending.raise()
                }
            }
            None => {
                // `lock_api` relocking a guard keeps the entry it had (a raw read stays one).
                let caller = Caller::Raw {
                    relock: relocked_raw == Some(false),
                };
                if let Some(pending) =
                    self.acquire(subclass, access, at, None, try_take, take, caller)
                {
                    self.raise_holding(pending)
                }
            }
        }
    }

    /// Raises a panic due on a raw path once the lock is held — unless this is a
    /// `ReentrantMutex`'s raw mutex, which must not unwind at all (module doc).
    #[cold]
    #[inline(never)]
    #[track_caller]
    fn raise_holding(&self, pending: Pending) {
        if self.class.may_be_reentrant() {
            pending.print_instead(REENTRANT_NO_UNWIND);
        } else {
            pending.raise()
        }
    }

    /// A trylock: never validated, recorded as held if it succeeded.
    #[inline]
    fn try_acquire(
        &self,
        subclass: u32,
        access: Access,
        at: &'static Location<'static>,
        ty: Option<LockTypeFn>,
        take: impl FnOnce(&R) -> bool,
    ) -> bool {
        if subclass != 0 {
            crate::class::check_subclass(subclass, &self.class);
        }
        if !take(&self.raw) {
            return false;
        }
        let lock = LockRef {
            class: &self.class,
            ty,
        };
        if let Some(acq) = Acquisition::new(lock, subclass, access, Some(at)) {
            validator::after_lock(&acq, true);
        }
        true
    }

    /// A timed lock (`try_lock_for`, ...): it cannot hang for ever, so it is validated in the
    /// timed layer of the graph (a cycle of timed acquisitions only is a warning), and held
    /// like a trylock if it succeeded: nothing blocking depends on it.
    #[inline]
    fn timed_acquire(
        &self,
        access: Access,
        at: &'static Location<'static>,
        take: impl FnOnce(&R) -> bool,
    ) -> bool {
        let acq = Acquisition::new(self.lock_ref(), 0, access, Some(at));
        if let Some(acq) = &acq {
            validator::before_timed_lock(acq);
        }
        if !take(&self.raw) {
            return false;
        }
        if let Some(acq) = &acq {
            validator::after_lock(acq, true);
        }
        true
    }

    /// A timed upgrade: validated as a timed write at the guard's node; `op` upgrades.
    fn timed_upgrade(&self, op: impl FnOnce(&R) -> bool) -> bool {
        validator::before_timed_reacquire(self.addr(), Release::Upgradable, Access::Write);
        let upgraded = op(&self.raw);
        if upgraded {
            validator::change_access(self.addr(), Release::Upgradable, Access::Write);
        }
        upgraded
    }

    /// Validates taking the lock again as `access` while holding it as `held_as` (an upgrade,
    /// or a bump that may let other threads in), at the subclass its guard holds, then
    /// performs `op`. A panic due is raised before `op`, while the lock is still held as the
    /// guard expects — except in a `ReentrantMutex`'s raw mutex, whose `bump` `lock_api` calls
    /// with its owner and count zeroed: there nothing unwinds (module doc).
    #[track_caller]
    fn reacquire(&self, held_as: Release, access: Access, op: impl FnOnce(&R)) {
        if let Some(pending) = validator::before_reacquire(self.addr(), held_as, access) {
            if !self.class.may_be_reentrant() {
                pending.raise()
            }
            if pending.is_certain() {
                pending.abort()
            }
            pending.print_instead(REENTRANT_NO_UNWIND);
        }
        op(&self.raw);
    }

    /// The subclass and location of a plain raw acquisition made as `how`: those of the
    /// nested guard this thread last released that way, when `lock_api` relocks after
    /// `unlocked`; subclass 0 and the caller otherwise.
    #[track_caller]
    #[inline]
    fn relock_site(&self, how: Release) -> (u32, &'static Location<'static>, Option<bool>) {
        match validator::relock_entry(self.addr(), how) {
            Some(entry) => (
                entry.node.subclass(),
                entry.at.unwrap_or(Location::caller()),
                Some(entry.is_raw()),
            ),
            None => (0, Location::caller(), None),
        }
    }
}

impl<R: RawMutex> Checked<R> {
    /// Releases the lock for a condition-variable wait; returns what [`Self::relock_after_wait`]
    /// needs.
    pub(crate) fn unlock_for_wait(&self) -> Option<crate::held::HeldLock> {
        let entry = validator::before_wait(self.addr());
        // SAFETY: the caller holds the lock (it passed us its guard).
        unsafe { self.raw.unlock() };
        entry
    }

    /// Takes the lock again after a wait.
    pub(crate) fn relock_after_wait(&self, entry: Option<crate::held::HeldLock>) {
        #[cfg(feature = "deadlock_detection")]
        if let Some(entry) = &entry {
            let acq = Acquisition::of_entry(entry);
            crate::deadlock::Waiting::around(
                &acq,
                validator::held_count(),
                || self.raw.try_lock().then_some(()),
                || self.raw.lock(),
            );
            validator::after_wait(Some(*entry));
            return;
        }
        self.raw.lock();
        validator::after_wait(entry);
    }
}

impl<R: RawMutex> RawMutexAt for Checked<R> {
    #[inline]
    fn lock_at(
        &self,
        subclass: u32,
        at: &'static Location<'static>,
        ty: Option<LockTypeFn>,
    ) -> Option<Pending> {
        self.acquire(
            subclass,
            Access::Write,
            at,
            ty,
            R::try_lock,
            R::lock,
            Caller::Typed,
        )
    }
    #[inline]
    fn try_lock_at(
        &self,
        subclass: u32,
        at: &'static Location<'static>,
        ty: Option<LockTypeFn>,
    ) -> bool {
        self.try_acquire(subclass, Access::Write, at, ty, R::try_lock)
    }
}

// SAFETY: mutual exclusion is `R`'s: every method that takes, tries or releases the lock
// delegates to `R`, and the bookkeeping around it never takes, releases or skips `R`'s lock.
// What `lock_api` further relies on — that `lock` returns only with the lock held and never
// unwinds without it (its `unlocked` relocks in a `defer!`, keeping the caller's guard) — holds
// on every path: the validator panics before the lock only for this crate's typed layers,
// which make their guard afterwards, and otherwise once the lock is held, or aborts where the
// lock can never be taken (module doc, "When a finding may unwind").
unsafe impl<R: RawMutex> RawMutex for Checked<R> {
    const INIT: Self = Checked::with_class(R::INIT, &UNCLASSED);
    type GuardMarker = crate::GuardMarker;

    #[track_caller]
    fn lock(&self) {
        self.raw_lock(Release::Exclusive, Access::Write, R::try_lock, R::lock)
    }

    #[track_caller]
    fn try_lock(&self) -> bool {
        self.try_lock_at(0, caller_or(Location::caller()), None)
    }

    #[inline]
    unsafe fn unlock(&self) {
        // SAFETY: forwarded contract: the caller holds the lock.
        validator::release_then(self.addr(), Release::Exclusive, || unsafe {
            self.raw.unlock()
        });
    }

    fn is_locked(&self) -> bool {
        self.raw.is_locked()
    }
}

// SAFETY: delegates to `R`; `bump` reports before it acts, with the lock held as before (or
// never unwinds, in a reentrant mutex), so it returns or unwinds holding the lock.
unsafe impl<R: RawMutexFair> RawMutexFair for Checked<R> {
    #[inline]
    unsafe fn unlock_fair(&self) {
        // SAFETY: forwarded contract.
        validator::release_then(self.addr(), Release::Exclusive, || unsafe {
            self.raw.unlock_fair()
        });
    }

    #[track_caller]
    unsafe fn bump(&self) {
        self.reacquire(Release::Exclusive, Access::Write, |raw| {
            // SAFETY: forwarded contract: the caller holds the lock.
            unsafe { raw.bump() }
        })
    }
}

// SAFETY: delegates to `R`; a timed acquisition reports before it tries, and a failed or
// refused try leaves no lock taken and no guard made (`lock_api` makes one only on success).
unsafe impl<R: RawMutexTimed> RawMutexTimed for Checked<R> {
    type Duration = R::Duration;
    type Instant = R::Instant;

    #[track_caller]
    fn try_lock_for(&self, timeout: Self::Duration) -> bool {
        self.timed_acquire(Access::Write, caller_or(Location::caller()), |r| {
            r.try_lock_for(timeout)
        })
    }

    #[track_caller]
    fn try_lock_until(&self, timeout: Self::Instant) -> bool {
        self.timed_acquire(Access::Write, caller_or(Location::caller()), |r| {
            r.try_lock_until(timeout)
        })
    }
}

#[cfg(feature = "parking_lot-0_13")]
mod ops05;
mod rwlock;
