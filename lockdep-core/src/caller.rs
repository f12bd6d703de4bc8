//! Where a raw-trait acquisition happened. `lock_api`'s typed layer calls the raw traits from
//! its own methods (timed locks, `Arc` guards, the reentrant mutex), so `#[track_caller]` on the
//! raw methods ends inside `lock_api`; the typed layers here say where the user's call was.

use std::panic::Location;

/// Runs `f` — a call into `lock_api` that acquires through the raw traits — so that the
/// acquisition is recorded at `at` (the user's call) rather than at the line inside `lock_api`
/// whose `#[track_caller]` chain ends there. Used by the timed, `Arc` and reentrant paths, which
/// `lock_api` drives; the typed layers' own paths pass the location directly and never read it.
#[inline]
pub(crate) fn at_caller<T>(at: &'static Location<'static>, f: impl FnOnce() -> T) -> T {
    #[cfg(lockdep_checks)]
    {
        /// Restores the previous location even if `f` unwinds.
        struct Restore(Option<&'static Location<'static>>);
        impl Drop for Restore {
            fn drop(&mut self) {
                let _ = CALLER.try_with(|c| c.set(self.0));
            }
        }
        let previous = CALLER.try_with(|c| c.replace(Some(at))).ok().flatten();
        let _restore = Restore(previous);
        f()
    }
    #[cfg(not(lockdep_checks))]
    {
        let _ = at;
        f()
    }
}

#[cfg(lockdep_checks)]
thread_local! {
    /// The location [`at_caller`] set for the raw acquisition under way; no destructor, so the
    /// access is a plain thread-local load.
    static CALLER: std::cell::Cell<Option<&'static Location<'static>>> =
        const { std::cell::Cell::new(None) };
}

/// The location [`at_caller`] set for the raw acquisition under way, if any (taken, as in
/// [`caller_or`]). `Some` means the acquisition comes from this crate's typed layer through a
/// `lock_api` method that makes its guard only once the raw call returned (`lock_arc`, the
/// reentrant `lock`, the timed locks), where a panic before the lock leaves nothing behind.
#[cfg(lockdep_checks)]
#[inline]
pub(crate) fn take_caller() -> Option<&'static Location<'static>> {
    CALLER.try_with(|c| c.take()).ok().flatten()
}

/// The location of a raw-trait acquisition: the one [`at_caller`] set, else `fallback`. The
/// location is taken (cleared), so that a nested acquisition inside the same call (there is none
/// in `lock_api`, but a raw lock could) does not reuse it.
#[cfg(lockdep_checks)]
#[inline]
pub(crate) fn caller_or(fallback: &'static Location<'static>) -> &'static Location<'static> {
    take_caller().unwrap_or(fallback)
}
