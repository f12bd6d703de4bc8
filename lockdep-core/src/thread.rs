//! Thread spawning that carries the current report scope into the new thread.
//!
//! A [`capture`](crate::capture) scope, or the scope of a
//! [`#[lockdep_core::test]`](macro@crate::test), collects the reports raised *on its own thread*
//! only, so that tests running in parallel never see each other's findings. A test that starts
//! threads wants their reports too: start them with these drop-in wrappers of
//! [`std::thread::spawn`] and [`std::thread::scope`], and a report raised on the child goes to
//! the scope that was current where it was spawned. Without a scope they behave exactly like
//! std's, and reports on the child follow the global mode.
//!
//! ```
//! use lockdep_core::{capture, thread, Mutex};
//!
//! let a = Mutex::named("thread-doc-a", ());
//! let b = Mutex::named("thread-doc-b", ());
//! let reports = capture(|| {
//!     thread::scope(|s| {
//!         s.spawn(|| {
//!             let _a = a.lock();
//!             let _b = b.lock();
//!         })
//!         .join()
//!         .unwrap();
//!         s.spawn(|| {
//!             let _b = b.lock();
//!             let _a = a.lock(); // reported to the `capture` above, on another thread
//!         });
//!     });
//! });
//! # if lockdep_core::CHECKS_COMPILED_IN {
//! assert_eq!(reports[0].classes(), ["thread-doc-a", "thread-doc-b"]);
//! # }
//! ```

use std::fmt;

pub use std::thread::{JoinHandle, ScopedJoinHandle};

/// Wraps `f` so that, wherever it runs, reports raised inside it go to the report scope that is
/// current *here* (if any). [`spawn`] and [`Scope::spawn`] use it; use it yourself to carry a
/// scope through another spawner, such as a thread pool's.
///
/// ```
/// let reports = lockdep_core::capture(|| {
///     let job = lockdep_core::thread::carry_scope(|| 1 + 1);
///     assert_eq!(std::thread::spawn(job).join().unwrap(), 2);
/// });
/// assert!(reports.is_empty());
/// ```
pub fn carry_scope<F, T>(f: F) -> impl FnOnce() -> T
where
    F: FnOnce() -> T,
{
    #[cfg(lockdep_checks)]
    {
        let sink = crate::mode::current_sink();
        move || match sink {
            Some(sink) => crate::mode::with_sink(sink, f),
            None => f(),
        }
    }
    #[cfg(not(lockdep_checks))]
    f
}

/// [`std::thread::spawn`], carrying the current report scope into the new thread.
///
/// A scope hears from the thread while the scope is open; a report the thread raises after the
/// scope has ended goes to the handler or the global mode, as on a thread without a scope. So
/// join the threads a test starts before it ends.
///
/// ```
/// let handle = lockdep_core::thread::spawn(|| 6 * 7);
/// assert_eq!(handle.join().unwrap(), 42);
/// ```
pub fn spawn<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    std::thread::spawn(carry_scope(f))
}

/// [`std::thread::scope`], whose [`Scope::spawn`] carries the report scope into each thread.
///
/// ```
/// let mut total = 0;
/// lockdep_core::thread::scope(|s| {
///     let part = s.spawn(|| 20);
///     total = part.join().unwrap() + 22;
/// });
/// assert_eq!(total, 42);
/// ```
pub fn scope<'env, F, T>(f: F) -> T
where
    F: for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> T,
{
    std::thread::scope(|s| f(Scope::wrap(s)))
}

/// The scope of [`scope`]: a [`std::thread::Scope`] whose `spawn` carries the report scope.
///
/// It holds no state of its own: the report scope is taken at each `spawn`, on the spawning
/// thread, which is the scope's own thread or one of its children (which carry it in turn).
/// That is what lets it be a transparent view of std's scope, with std's lifetimes.
#[repr(transparent)]
pub struct Scope<'scope, 'env: 'scope>(std::thread::Scope<'scope, 'env>);

impl<'scope, 'env> Scope<'scope, 'env> {
    fn wrap<'a>(scope: &'a std::thread::Scope<'scope, 'env>) -> &'a Self {
        let ptr = scope as *const std::thread::Scope<'scope, 'env> as *const Self;
        // SAFETY: `Scope` is a `repr(transparent)` wrapper of `std::thread::Scope` with the same
        // lifetime parameters, so the pointer is valid for `'a` and the layouts are identical.
        unsafe { &*ptr }
    }

    /// [`std::thread::Scope::spawn`], carrying the current report scope into the new thread.
    pub fn spawn<F, T>(&'scope self, f: F) -> ScopedJoinHandle<'scope, T>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        self.0.spawn(carry_scope(f))
    }

    /// The underlying std scope (its `spawn` does not carry the report scope).
    pub fn as_std(&'scope self) -> &'scope std::thread::Scope<'scope, 'env> {
        &self.0
    }
}

impl fmt::Debug for Scope<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}
