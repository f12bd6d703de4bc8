//! The validator calls the `std::sync` wrappers make; empty (and inlined away) when the checks
//! are compiled out.

use crate::access::Access;
use crate::class::{ClassCell, LockTypeFn};
use std::panic::Location;

#[cfg(lockdep_checks)]
pub(crate) use crate::validator::Release;

/// Which side of a lock a guard releases.
#[cfg(not(lockdep_checks))]
#[derive(Clone, Copy)]
pub(crate) enum Release {
    Exclusive,
    Shared,
}

/// Identifies a held lock inside a guard; zero-sized when the checks are compiled out.
#[derive(Clone, Copy)]
pub(crate) struct Held {
    /// The instance identity the acquisition recorded (see `ClassCell`).
    #[cfg(lockdep_checks)]
    addr: usize,
}

impl Held {
    /// The guard of a lock of class cell `class`, just acquired (so its identity is known).
    #[inline]
    pub(crate) fn new(class: &ClassCell) -> Held {
        #[cfg(not(lockdep_checks))]
        let _ = class;
        Held {
            #[cfg(lockdep_checks)]
            addr: class.identity(),
        }
    }
}

/// A blocking acquisition: validate, `take` the lock, record it. `try_take` is the same
/// acquisition without blocking: with `deadlock_detection`, a thread whose first try fails is
/// registered as waiting while `take` blocks. Inlined into the caller whole, as
/// `Checked::acquire` is: as a call it cost about 25 instructions of its own (frame, moving
/// the `LockResult` out through memory).
#[inline(always)]
#[track_caller]
pub(crate) fn lock<G>(
    class: &ClassCell,
    ty: LockTypeFn,
    subclass: u32,
    access: Access,
    at: &'static Location<'static>,
    try_take: impl FnOnce() -> Option<G>,
    take: impl FnOnce() -> G,
) -> G {
    #[cfg(lockdep_checks)]
    {
        use crate::validator::{self, Acquisition, LockRef};
        let lock = LockRef {
            class,
            ty: Some(ty),
        };
        match Acquisition::new(lock, subclass, access, Some(at)) {
            Some(acq) => {
                // The validator's own path, as `Checked<R>` takes it: check, take, push.
                #[cfg(feature = "deadlock_detection")]
                {
                    let held_before = validator::held_count();
                    validator::acquire_or_raise(&acq, || {
                        crate::deadlock::Waiting::around(&acq, held_before, try_take, take)
                    })
                }
                #[cfg(not(feature = "deadlock_detection"))]
                {
                    let _ = try_take;
                    validator::acquire_or_raise(&acq, take)
                }
            }
            None => take(),
        }
    }
    #[cfg(not(lockdep_checks))]
    {
        let _ = (class, ty, subclass, access, at, try_take);
        take()
    }
}

/// A trylock succeeded: the lock is held (and adds no dependency to itself).
#[inline]
pub(crate) fn try_locked(
    class: &ClassCell,
    ty: LockTypeFn,
    access: Access,
    at: &'static Location<'static>,
) {
    #[cfg(lockdep_checks)]
    {
        use crate::validator::{self, Acquisition, LockRef};
        let lock = LockRef {
            class,
            ty: Some(ty),
        };
        if let Some(acq) = Acquisition::new(lock, 0, access, Some(at)) {
            validator::after_lock(&acq, true);
        }
    }
    #[cfg(not(lockdep_checks))]
    let _ = (class, ty, access, at);
}

/// A guard is being dropped: `unlock` releases the standard lock. As for the `parking_lot`
/// flavour (`validator::release_then_once`): the entry is checked, the lock unlocked, then popped,
/// so that the pop's store does not wait in the unlock's atomic.
#[inline]
pub(crate) fn release_then(held: Held, how: Release, unlock: impl FnOnce()) {
    #[cfg(lockdep_checks)]
    crate::validator::release_then_once(held.addr, how, unlock);
    #[cfg(not(lockdep_checks))]
    {
        let _ = (held, how);
        unlock();
    }
}

/// A write guard became a read guard (`RwLockWriteGuard::downgrade`): the lock is held as a
/// (fair) reader from now on. It never blocks, so there is nothing to validate.
#[cfg(std_rwlock_downgrade)]
#[inline]
pub(crate) fn downgraded(held: Held) {
    #[cfg(lockdep_checks)]
    crate::validator::change_access(held.addr, Release::Exclusive, Access::Read);
    #[cfg(not(lockdep_checks))]
    let _ = held;
}

/// What a condition-variable wait must restore.
pub(crate) struct Waiting {
    #[cfg(lockdep_checks)]
    entry: Option<crate::held::HeldLock>,
}

/// The mutex is released for a wait.
#[inline]
pub(crate) fn before_wait(held: Held) -> Waiting {
    #[cfg(not(lockdep_checks))]
    let _ = held;
    Waiting {
        #[cfg(lockdep_checks)]
        entry: crate::validator::before_wait(held.addr),
    }
}

/// The mutex is held again after a wait (validated; reported only now that it is held).
#[inline]
pub(crate) fn after_wait(waiting: Waiting) {
    #[cfg(lockdep_checks)]
    crate::validator::after_wait(waiting.entry);
    #[cfg(not(lockdep_checks))]
    let _ = waiting;
}

/// Runs `f` — a wait's condition, which std calls with the mutex held — with the mutex back on
/// the held-lock stack, so `is_held` answers true and locks taken inside depend on it.
#[inline]
pub(crate) fn held_during<R>(waiting: &Waiting, f: impl FnOnce() -> R) -> R {
    #[cfg(lockdep_checks)]
    return crate::validator::held_during(waiting.entry, f);
    #[cfg(not(lockdep_checks))]
    {
        let _ = waiting;
        f()
    }
}
