use super::hooks;
use super::{map_result, MutexGuard};
use std::sync::{LockResult, WaitTimeoutResult};
use std::time::Duration;

/// `std::sync::Condvar` for [`Mutex`](super::Mutex). While waiting, the mutex is not on the
/// thread's held-lock stack; taking it again afterwards is validated like any acquisition. The
/// condition of `wait_while` runs with the mutex held, and on the stack.
#[derive(Default)]
pub struct Condvar {
    inner: std::sync::Condvar,
}

impl Condvar {
    /// A new condition variable.
    pub const fn new() -> Self {
        Condvar {
            inner: std::sync::Condvar::new(),
        }
    }

    /// Releases the guard's mutex, waits, and takes the mutex again.
    pub fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> LockResult<MutexGuard<'a, T>> {
        self.around(guard, |cv, g, _| cv.wait(g))
    }

    /// Waits while `condition` holds.
    pub fn wait_while<'a, T, F>(
        &self,
        guard: MutexGuard<'a, T>,
        condition: F,
    ) -> LockResult<MutexGuard<'a, T>>
    where
        F: FnMut(&mut T) -> bool,
    {
        let mut condition = condition;
        self.around(guard, |cv, g, waiting| {
            cv.wait_while(g, |v| hooks::held_during(waiting, || condition(v)))
        })
    }

    /// Waits at most `ms` milliseconds; `true` if it did not time out (std's deprecated form).
    #[deprecated(note = "replaced by `wait_timeout`, as in std")]
    pub fn wait_timeout_ms<'a, T>(
        &self,
        guard: MutexGuard<'a, T>,
        ms: u32,
    ) -> LockResult<(MutexGuard<'a, T>, bool)> {
        map_result(
            self.wait_timeout(guard, Duration::from_millis(u64::from(ms))),
            |(guard, result)| (guard, !result.timed_out()),
        )
    }

    /// Waits at most `timeout`.
    pub fn wait_timeout<'a, T>(
        &self,
        guard: MutexGuard<'a, T>,
        timeout: Duration,
    ) -> LockResult<(MutexGuard<'a, T>, WaitTimeoutResult)> {
        self.around_pair(guard, |cv, g, _| cv.wait_timeout(g, timeout))
    }

    /// Waits while `condition` holds, at most `timeout`.
    pub fn wait_timeout_while<'a, T, F>(
        &self,
        guard: MutexGuard<'a, T>,
        timeout: Duration,
        condition: F,
    ) -> LockResult<(MutexGuard<'a, T>, WaitTimeoutResult)>
    where
        F: FnMut(&mut T) -> bool,
    {
        let mut condition = condition;
        self.around_pair(guard, |cv, g, waiting| {
            cv.wait_timeout_while(g, timeout, |v| hooks::held_during(waiting, || condition(v)))
        })
    }

    /// Wakes one waiter.
    pub fn notify_one(&self) {
        self.inner.notify_one()
    }

    /// Wakes every waiter.
    pub fn notify_all(&self) {
        self.inner.notify_all()
    }

    fn around<'a, T>(
        &self,
        guard: MutexGuard<'a, T>,
        wait: impl FnOnce(
            &std::sync::Condvar,
            std::sync::MutexGuard<'a, T>,
            &hooks::Waiting,
        ) -> LockResult<std::sync::MutexGuard<'a, T>>,
    ) -> LockResult<MutexGuard<'a, T>> {
        let (inner, held) = guard.into_parts();
        let waiting = hooks::before_wait(held);
        let result = map_result(wait(&self.inner, inner, &waiting), |g| {
            MutexGuard::from_parts(g, held)
        });
        // Validated now that the guard owns the lock again, so a panicking report unwinds
        // through a guard that releases it.
        hooks::after_wait(waiting);
        result
    }

    fn around_pair<'a, T>(
        &self,
        guard: MutexGuard<'a, T>,
        wait: impl FnOnce(
            &std::sync::Condvar,
            std::sync::MutexGuard<'a, T>,
            &hooks::Waiting,
        ) -> LockResult<(std::sync::MutexGuard<'a, T>, WaitTimeoutResult)>,
    ) -> LockResult<(MutexGuard<'a, T>, WaitTimeoutResult)> {
        let (inner, held) = guard.into_parts();
        let waiting = hooks::before_wait(held);
        let result = map_result(wait(&self.inner, inner, &waiting), |(g, timeout)| {
            (MutexGuard::from_parts(g, held), timeout)
        });
        hooks::after_wait(waiting);
        result
    }
}

impl std::fmt::Debug for Condvar {
    /// `Condvar { .. }`, as the standard library prints it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Condvar { .. }")
    }
}
