//! `Condvar` for [`crate::Mutex`], with `parking_lot`'s API.
//!
//! While a thread waits, the mutex is released, so it is *not* on the thread's held-lock stack;
//! when the wait returns, the mutex is taken again and that re-acquisition is validated like any
//! other (locks still held from before the wait now come before it).

use super::MutexGuard;
use std::time::{Duration, Instant};

/// Whether a timed wait returned because its timeout elapsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitTimeoutResult(bool);

impl WaitTimeoutResult {
    /// True if the wait ended because the timeout elapsed.
    pub fn timed_out(self) -> bool {
        self.0
    }
}

/// A condition variable for [`crate::Mutex`].
///
/// ```
/// use lockdep_core::{Condvar, Mutex};
/// use std::sync::Arc;
///
/// let pair = Arc::new((Mutex::new(false), Condvar::new()));
/// let pair2 = Arc::clone(&pair);
/// std::thread::spawn(move || {
///     *pair2.0.lock() = true;
///     pair2.1.notify_one();
/// });
/// let mut ready = pair.0.lock();
/// pair.1.wait_while(&mut ready, |ready| !*ready);
/// assert!(*ready);
/// ```
pub struct Condvar {
    cv: parking_lot::Condvar,
    /// `parking_lot::Condvar` only parks on its own mutex guards, and ours are `lock_api`
    /// guards over the instrumented raw lock. A waiter holds this internal lock from before it
    /// releases the user's mutex until it is parked, and a notifier takes it, so no wake-up is
    /// lost between the release and the park. It also guards which mutex the waiters use:
    /// `parking_lot` panics when one condvar is waited on with two mutexes at once, but it only
    /// ever sees this internal lock, so the check is made here.
    #[cfg(lockdep_checks)]
    wait_lock: parking_lot::Mutex<Waiters>,
}

// `parking_lot::Condvar` is `RefUnwindSafe`; ours must be too, to stay a drop-in. The internal
// `wait_lock` (an `UnsafeCell` inside, hence not `RefUnwindSafe` by itself) holds only the
// waiters' count and mutex, which no user code runs under and which every path leaves
// consistent before anything can unwind: a panic observed through `&Condvar` sees no broken
// state.
impl std::panic::RefUnwindSafe for Condvar {}

/// The threads waiting on a [`Condvar`], as `parking_lot` counts them: the mutex they wait with
/// is remembered while at least one waits.
#[cfg(lockdep_checks)]
struct Waiters {
    /// The low 32 bits of the address of the user's mutex (its raw lock) while `count > 0`:
    /// enough to tell two mutexes apart (two live ones 4 GiB apart would go unnoticed, as all
    /// misuse did before), and it keeps the condvar within 16 bytes of `parking_lot`'s.
    mutex: u32,
    /// Waiters parked or about to re-acquire the internal lock after a timeout. A notified
    /// waiter is taken off by its notifier, as `parking_lot` does, so a condvar whose waiters
    /// were all woken may be used with another mutex at once.
    count: u32,
}

impl Condvar {
    /// A new condition variable.
    pub const fn new() -> Self {
        Condvar {
            cv: parking_lot::Condvar::new(),
            #[cfg(lockdep_checks)]
            wait_lock: parking_lot::const_mutex(Waiters { mutex: 0, count: 0 }),
        }
    }

    /// Wakes one waiting thread; returns whether one was woken.
    #[inline]
    pub fn notify_one(&self) -> bool {
        #[cfg(lockdep_checks)]
        {
            let mut waiters = self.wait_lock.lock();
            let woken = self.cv.notify_one();
            waiters.count -= u32::from(woken);
            woken
        }
        #[cfg(not(lockdep_checks))]
        self.cv.notify_one()
    }

    /// Wakes every waiting thread; returns how many were woken.
    #[inline]
    pub fn notify_all(&self) -> usize {
        #[cfg(lockdep_checks)]
        {
            let mut waiters = self.wait_lock.lock();
            let woken = self.cv.notify_all();
            // At most `count` threads wait, so this fits.
            waiters.count -= woken as u32;
            woken
        }
        #[cfg(not(lockdep_checks))]
        self.cv.notify_all()
    }

    /// Releases the guard's mutex, waits for a notification (or a spurious wake-up) and takes
    /// the mutex again.
    #[track_caller]
    pub fn wait<T: ?Sized>(&self, guard: &mut MutexGuard<'_, T>) {
        self.wait_inner(guard, None);
    }

    /// Like [`wait`](Self::wait), giving up after `timeout`.
    #[track_caller]
    pub fn wait_for<T: ?Sized>(
        &self,
        guard: &mut MutexGuard<'_, T>,
        timeout: Duration,
    ) -> WaitTimeoutResult {
        self.wait_inner(guard, Instant::now().checked_add(timeout))
    }

    /// Like [`wait`](Self::wait), giving up at `deadline`.
    #[track_caller]
    pub fn wait_until<T: ?Sized>(
        &self,
        guard: &mut MutexGuard<'_, T>,
        deadline: Instant,
    ) -> WaitTimeoutResult {
        self.wait_inner(guard, Some(deadline))
    }

    /// Waits while `condition` holds for the protected data.
    #[track_caller]
    pub fn wait_while<T: ?Sized, F>(&self, guard: &mut MutexGuard<'_, T>, mut condition: F)
    where
        F: FnMut(&mut T) -> bool,
    {
        while condition(&mut *guard) {
            self.wait(guard);
        }
    }

    /// Waits while `condition` holds, giving up after `timeout`. As in `parking_lot`, the
    /// result says whether the timeout elapsed; once it has, `condition` is not called again.
    #[track_caller]
    pub fn wait_while_for<T: ?Sized, F>(
        &self,
        guard: &mut MutexGuard<'_, T>,
        condition: F,
        timeout: Duration,
    ) -> WaitTimeoutResult
    where
        F: FnMut(&mut T) -> bool,
    {
        self.wait_while_deadline(guard, condition, Instant::now().checked_add(timeout))
    }

    /// Waits while `condition` holds, giving up at `deadline` (see
    /// [`wait_while_for`](Self::wait_while_for)).
    #[track_caller]
    pub fn wait_while_until<T: ?Sized, F>(
        &self,
        guard: &mut MutexGuard<'_, T>,
        condition: F,
        deadline: Instant,
    ) -> WaitTimeoutResult
    where
        F: FnMut(&mut T) -> bool,
    {
        self.wait_while_deadline(guard, condition, Some(deadline))
    }

    /// `parking_lot`'s loop: wait while the condition holds and the deadline (if any) has not
    /// passed; a timed-out wait ends it without asking the condition again.
    #[track_caller]
    fn wait_while_deadline<T: ?Sized, F>(
        &self,
        guard: &mut MutexGuard<'_, T>,
        mut condition: F,
        deadline: Option<Instant>,
    ) -> WaitTimeoutResult
    where
        F: FnMut(&mut T) -> bool,
    {
        let mut result = WaitTimeoutResult(false);
        while !result.timed_out() && condition(&mut *guard) {
            result = self.wait_inner(guard, deadline);
        }
        result
    }

    #[cfg(lockdep_checks)]
    fn wait_inner<T: ?Sized>(
        &self,
        guard: &mut MutexGuard<'_, T>,
        deadline: Option<Instant>,
    ) -> WaitTimeoutResult {
        // SAFETY: the guard proves this thread holds the mutex; we release it and take it again
        // before returning, so the guard is valid again when the caller gets it back.
        let raw = unsafe { lock_api::MutexGuard::mutex(guard).raw() };
        let mutex = raw as *const _ as *const () as usize as u32;
        let mut order = self.wait_lock.lock();
        if order.count == 0 {
            order.mutex = mutex;
        } else if order.mutex != mutex {
            // Before anything was released: the caller's guard still owns its mutex.
            drop(order);
            panic!("attempted to use a condition variable with more than one mutex");
        }
        order.count += 1;
        let entry = raw.unlock_for_wait();
        let timed_out = match deadline {
            Some(deadline) => self.cv.wait_until(&mut order, deadline).timed_out(),
            None => {
                self.cv.wait(&mut order);
                false
            }
        };
        if timed_out {
            // Not notified, so no notifier took this waiter off.
            order.count -= 1;
        }
        drop(order);
        raw.relock_after_wait(entry);
        WaitTimeoutResult(timed_out)
    }

    #[cfg(not(lockdep_checks))]
    #[inline]
    fn wait_inner<T: ?Sized>(
        &self,
        guard: &mut MutexGuard<'_, T>,
        deadline: Option<Instant>,
    ) -> WaitTimeoutResult {
        match deadline {
            Some(deadline) => WaitTimeoutResult(self.cv.wait_until(guard, deadline).timed_out()),
            None => {
                self.cv.wait(guard);
                WaitTimeoutResult(false)
            }
        }
    }
}

impl Default for Condvar {
    fn default() -> Self {
        Condvar::new()
    }
}

impl std::fmt::Debug for Condvar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Condvar { .. }")
    }
}
