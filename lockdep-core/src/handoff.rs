//! Hand-offs, the kernel's `lock_release` / `lock_acquire` pair for a lock that changes hands:
//! a lock taken on one thread and released on another (a raw read held by a token that is sent
//! to a worker, a guard moved across threads by unsafe code) is handed over explicitly, so that
//! the releasing thread holds the entry its release removes, and the taking thread no longer
//! holds it for lockdep.
//!
//! ```
//! use lock_api::RawRwLock as _;
//! use std::sync::Arc;
//!
//! let lock = Arc::new(lockdep_core::RwLock::named("revision", ()));
//! // Taken here through the raw API...
//! unsafe { lock.raw().lock_shared() };
//! let handed = lockdep_core::hand_off(&*lock);
//! let worker = {
//!     let lock = lock.clone();
//!     std::thread::spawn(move || {
//!         // ...held and released there.
//!         handed.take_over();
//!         unsafe { lock.raw().unlock_shared() };
//!     })
//! };
//! worker.join().unwrap();
//! assert!(!lockdep_core::is_held(&*lock));
//! let _w = lock.write(); // no stale entry here: no false self-deadlock
//! ```
//!
//! With the checks compiled out both calls do nothing, so code using them builds and runs the
//! same in every configuration.

use crate::TrackedLock;

/// A held lock on its way to another thread (or task): made by [`hand_off`], taken on by
/// [`HandOff::take_over`] where the lock is held from then on. `Send`, to travel with whatever
/// carries the lock. Dropped without being taken over, the lock is simply no longer tracked as
/// held anywhere (the lock itself is unaffected).
#[must_use = "a hand-off is taken over by the thread that now holds the lock"]
#[derive(Debug)]
pub struct HandOff {
    #[cfg(lockdep_checks)]
    entry: Option<crate::held::HeldLock>,
}

/// Hands the current thread's hold of `lock` over: its entry leaves this thread's held locks as
/// if the lock were released here (the lock stays locked), and the returned [`HandOff`] puts it
/// on the thread that calls [`HandOff::take_over`]. If this thread does not hold `lock`, the
/// hand-off carries nothing.
pub fn hand_off<L: TrackedLock + ?Sized>(lock: &L) -> HandOff {
    #[cfg(lockdep_checks)]
    return HandOff {
        entry: crate::validator::hand_off(lock.lock_instance().key()),
    };
    #[cfg(not(lockdep_checks))]
    {
        let _ = lock;
        HandOff {}
    }
}

impl HandOff {
    /// The current thread holds the lock from now on: its later acquisitions are ordered after
    /// it, and releasing the lock here removes the entry.
    pub fn take_over(self) {
        #[cfg(lockdep_checks)]
        if let Some(entry) = &self.entry {
            crate::validator::take_over(entry);
        }
    }

    /// Whether it carries a held lock (the thread that handed it off held the lock).
    pub fn is_held(&self) -> bool {
        #[cfg(lockdep_checks)]
        return self.entry.is_some();
        #[cfg(not(lockdep_checks))]
        false
    }
}
