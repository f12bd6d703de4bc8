//! Initialisation as an acquisition: the hooks of `Once`, `OnceLock` and `LazyLock`.
//!
//! A thread that runs a cell's initialiser holds the cell's "init lock" while the closure runs,
//! and a thread that finds the cell being initialised waits for it. So reaching a cell that is
//! not complete yet is a blocking acquisition of the cell's class, validated against the locks
//! held; the class is held while the initialiser runs, so the locks it takes depend on it; and
//! reaching the cell again from inside its own initialiser is a certain self-deadlock, reported
//! and then a panic instead of a hang.
//!
//! A completed cell is reached without any wait, but the order is the same one: holding `M`
//! and forcing a cell whose initialiser takes `M` deadlocks in the run where the force comes
//! first (the initialiser waits for `M`, whose holder waits for the initialiser). So reaching a
//! completed cell while holding locks records held locks → cell like an acquisition that is not
//! kept ([`completed`]: the kernel's `might_lock`); with nothing held it costs one look at the
//! held-lock stack.

use crate::class::ClassCell;
use std::panic::Location;

/// The instance a cell at `addr` is to the validator: its address with the low bit set. Every
/// lock of this crate holds a pointer-aligned class cell, so its address is even: a cell's
/// identity can never be taken for a lock's, even for a lock stored inside the cell's value.
#[inline]
pub(crate) fn instance(addr: usize) -> usize {
    addr | 1
}

/// A completed cell at `addr`, of class `class`, reached here by a call that would have waited
/// for its initialisation (`force`, `get_or_init`, `call_once`, `wait`): its order after the
/// locks held is validated and recorded, as if it were taken and released at once. A known
/// order costs the validated-chain cache probe of any acquisition.
#[inline]
#[cfg_attr(not(lockdep_checks), allow(unused_variables))]
pub(crate) fn completed(class: &ClassCell, addr: usize, at: &'static Location<'static>) {
    #[cfg(lockdep_checks)]
    if crate::validator::held_depth() != 0 {
        completed_slow(class, addr, at);
    }
}

#[cfg(lockdep_checks)]
#[cold]
#[inline(never)]
fn completed_slow(class: &ClassCell, addr: usize, at: &'static Location<'static>) {
    if let Some(acq) = acquisition(class, addr, at) {
        crate::validator::might_lock(&acq);
    }
}

/// Reaching the cell at `addr`, of class `class`, at `at`, as the validator sees it: an
/// exclusive acquisition of the cell's instance (`None` when the class cannot be tracked).
#[cfg(lockdep_checks)]
fn acquisition(
    class: &ClassCell,
    addr: usize,
    at: &'static Location<'static>,
) -> Option<crate::validator::Acquisition> {
    let lock = crate::validator::LockRef { class, ty: None };
    let access = crate::access::Access::Write;
    crate::validator::Acquisition::at_address(lock, instance(addr), 0, access, Some(at))
}

/// An initialisation (or a wait for one) that has been validated.
pub(crate) struct Init {
    #[cfg(lockdep_checks)]
    acq: Option<crate::validator::Acquisition>,
    #[cfg(feature = "deadlock_detection")]
    waiting: Option<crate::deadlock::Waiting>,
}

impl Init {
    /// Validates reaching the incomplete cell at `addr`, of class `class`, here: it may run the
    /// initialiser or wait for another thread's. With `deadlock_detection`, the thread is
    /// registered as waiting for the cell until [`Init::run`] starts or this is dropped.
    #[cold]
    #[inline(never)]
    #[cfg_attr(not(lockdep_checks), allow(unused_variables))]
    pub(crate) fn begin(class: &ClassCell, addr: usize, at: &'static Location<'static>) -> Init {
        #[cfg(lockdep_checks)]
        {
            use crate::validator;
            let acq = acquisition(class, addr, at);
            if let Some(acq) = &acq {
                crate::class::registry::mark_initialising(acq.node.class());
                // Reports are delivered here, before anything is taken: a panicking one leaves
                // the cell as it was.
                validator::before_lock(acq);
            }
            Init {
                #[cfg(feature = "deadlock_detection")]
                waiting: acq
                    .as_ref()
                    .map(|acq| crate::deadlock::Waiting::begin(acq, validator::held_count())),
                acq,
            }
        }
        #[cfg(not(lockdep_checks))]
        Init {}
    }

    /// Runs the initialiser `f`, with the cell's class held while it runs (also when it unwinds).
    #[inline]
    pub(crate) fn run<T>(&mut self, f: impl FnOnce() -> T) -> T {
        #[cfg(feature = "deadlock_detection")]
        // This thread runs the initialiser: it no longer waits for anyone.
        drop(self.waiting.take());
        #[cfg(lockdep_checks)]
        if let Some(acq) = &self.acq {
            crate::validator::after_lock(acq, false);
            /// Releases the class when the initialiser returns or unwinds.
            struct Release(usize);
            impl Drop for Release {
                fn drop(&mut self) {
                    crate::validator::release(self.0, crate::validator::Release::Exclusive);
                }
            }
            let _release = Release(acq.addr);
            return f();
        }
        f()
    }
}
