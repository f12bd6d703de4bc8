//! parking_lot 0.13's `RawCondvar` (`lock_api` 0.5's raw condition variable) for the raw mutex
//! of the 0.13 face. It parks on parking_lot's `Condvar` with an internal mutex, as the checked
//! `Condvar` of the crate root does: a waiter holds the internal mutex from before it releases
//! the user's mutex until it is parked, and a notifier takes it, so no wake-up is lost between
//! the release and the park. (parking_lot's `Condvar` parks only on its own mutex guards; the
//! raw mutex here is this crate's, checked.)

use super::raw_mutex::RawMutexOf;
use crate::raw::ops05::Mutex05;
use crate::raw::Raw;
use lock_api_05 as api;
use std::time::{Duration, Instant};

/// The raw mutex the condition variable works with.
type Mutex = RawMutexOf<Raw<parking_lot::RawMutex>>;

/// parking_lot 0.13's raw condition variable, for [`RawMutex`](super::RawMutex): what
/// [`Condvar`](super::Condvar) is `lock_api` 0.5's `Condvar` over. A mutex is released for a
/// wait and taken again after it as a checked lock is (the wait is not an acquisition; the
/// retaking keeps the entry the mutex had). There are no spurious wake-ups: `notify_one` says
/// whether it woke a thread and `notify_all` how many.
pub struct RawCondvar {
    cv: parking_lot::Condvar,
    /// The waiters' count and the address of the mutex they use (parking_lot panics when one
    /// condvar is waited on with two mutexes at once; it only ever sees the internal mutex here,
    /// so the check is made here).
    waiters: parking_lot::Mutex<Waiters>,
}

/// The threads waiting on a [`RawCondvar`].
struct Waiters {
    /// The address of the user's raw mutex while `count > 0`.
    mutex: usize,
    /// Waiters parked, or about to retake the internal mutex after a timeout. A notified waiter
    /// is taken off by its notifier, as parking_lot does.
    count: usize,
}

impl RawCondvar {
    /// Releases `mutex`, parks until notified (or until `deadline`), then takes `mutex` again.
    /// Returns whether the wait timed out.
    ///
    /// # Safety
    /// The current thread holds `mutex`.
    unsafe fn wait_on(&self, mutex: &Mutex, deadline: Option<Instant>) -> bool {
        let address = mutex as *const Mutex as usize;
        let mut waiters = self.waiters.lock();
        if waiters.count == 0 {
            waiters.mutex = address;
        } else if waiters.mutex != address {
            // Before anything was released: the caller's guard still owns its mutex.
            drop(waiters);
            panic!("attempted to use a condition variable with more than one mutex");
        }
        waiters.count += 1;
        // SAFETY: forwarded contract: the caller holds the mutex.
        let entry = unsafe { mutex.0.unlock_for_wait_05() };
        let timed_out = match deadline {
            Some(deadline) => self.cv.wait_until(&mut waiters, deadline).timed_out(),
            None => {
                self.cv.wait(&mut waiters);
                false
            }
        };
        if timed_out {
            // Not notified, so no notifier took this waiter off.
            waiters.count -= 1;
        }
        drop(waiters);
        mutex.0.relock_after_wait_05(entry);
        timed_out
    }
}

// SAFETY: `wait` releases the mutex only while holding the internal mutex that every notifier
// takes, parks (releasing the internal mutex atomically, parking_lot's contract), and takes the
// mutex again before it returns, also when the wait is woken; it panics only before releasing
// anything (a second mutex). Notifications count exactly the threads woken.
unsafe impl api::RawCondvar for RawCondvar {
    #[allow(clippy::declare_interior_mutable_const)] // as `lock_api` declares `INIT`
    const INIT: Self = RawCondvar {
        cv: parking_lot::Condvar::new(),
        waiters: parking_lot::const_mutex(Waiters { mutex: 0, count: 0 }),
    };
    type RawMutex = Mutex;

    unsafe fn wait(&self, mutex: &Mutex, _: &mut super::raw_mutex::Marker) {
        // SAFETY: forwarded contract.
        unsafe { self.wait_on(mutex, None) };
    }

    fn notify_one(&self) -> bool {
        let mut waiters = self.waiters.lock();
        let woken = self.cv.notify_one();
        waiters.count -= usize::from(woken);
        woken
    }

    fn notify_all(&self) -> usize {
        let mut waiters = self.waiters.lock();
        let woken = self.cv.notify_all();
        waiters.count -= woken;
        woken
    }
}

// SAFETY: as `RawCondvar`, with a deadline.
unsafe impl api::RawCondvarTimed for RawCondvar {
    fn checked_duration_to_instant(timeout: &Duration) -> Option<Instant> {
        Instant::now().checked_add(*timeout)
    }

    unsafe fn wait_until(
        &self,
        mutex: &Mutex,
        _: &mut super::raw_mutex::Marker,
        timeout: &Instant,
    ) -> bool {
        // SAFETY: forwarded contract.
        unsafe { self.wait_on(mutex, Some(*timeout)) }
    }
}

impl std::panic::RefUnwindSafe for RawCondvar {}

impl std::fmt::Debug for RawCondvar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RawCondvar { .. }")
    }
}
