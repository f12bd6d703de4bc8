//! parking_lot 0.13's `Once`: the 0.12 `Once` of this crate (its initialisation checked as an
//! acquisition of its class, `init.rs`), with what 0.13 added: a `Once` made completed, and
//! waiting for the initialisation without running one.

use crate::init::{self, Init};
use crate::{LockClass, LockInstance, TrackedLock};
use std::fmt;
use std::panic::Location;

/// Where a [`Once`]'s initialisation stands (parking_lot 0.13's `OnceState`).
#[derive(Copy, Clone, Eq, PartialEq, Debug)]
pub enum OnceState {
    /// No initialisation has run yet, and none is running.
    New,
    /// An initialisation panicked: the `Once` is poisoned.
    Poisoned,
    /// An initialisation is running now.
    InProgress,
    /// An initialisation has completed (or the `Once` was made completed).
    Done,
}

impl OnceState {
    /// Whether an initialisation panicked.
    #[inline]
    pub const fn is_poisoned(self) -> bool {
        matches!(self, OnceState::Poisoned)
    }

    /// The same as [`is_poisoned`](Self::is_poisoned) (parking_lot's older name).
    #[inline]
    pub const fn poisoned(self) -> bool {
        self.is_poisoned()
    }

    /// Whether an initialisation has completed.
    #[inline]
    pub const fn is_completed(self) -> bool {
        matches!(self, OnceState::Done)
    }

    /// The same as [`is_completed`](Self::is_completed) (parking_lot's older name).
    #[inline]
    pub const fn done(self) -> bool {
        self.is_completed()
    }

    fn of(state: crate::OnceState) -> OnceState {
        match state {
            crate::OnceState::New => OnceState::New,
            crate::OnceState::Poisoned => OnceState::Poisoned,
            crate::OnceState::InProgress => OnceState::InProgress,
            crate::OnceState::Done => OnceState::Done,
        }
    }
}

/// parking_lot 0.13's `Once`, checked by lockdep: running or waiting for the initialisation
/// is an acquisition of the `Once`'s class, validated against the locks this thread holds, and
/// the class is held while the closure runs, so the locks it takes depend on it.
///
/// ```
/// use lockdep_core::parking_lot_0_13::{Once, OnceState};
///
/// static READY: Once = Once::new();
/// let waiter = std::thread::spawn(|| READY.wait());
/// READY.call_once(|| println!("set up"));
/// waiter.join().unwrap();
/// assert!(READY.is_completed() && READY.state() == OnceState::Done);
/// assert!(Once::new_completed().is_completed());
/// ```
pub struct Once {
    inner: crate::Once,
    /// Made completed ([`Once::new_completed`]): nothing runs, nothing waits.
    completed: bool,
}

impl Once {
    /// A new `Once` whose class is its creation site.
    #[track_caller]
    #[inline]
    pub const fn new() -> Once {
        Once {
            inner: crate::Once::new(),
            completed: false,
        }
    }

    /// A `Once` that is already completed: `call_once` never runs its closure.
    #[track_caller]
    #[inline]
    pub const fn new_completed() -> Once {
        Once {
            inner: crate::Once::new(),
            completed: true,
        }
    }

    /// A new `Once` of the class `class` (a named static key).
    #[inline]
    pub const fn with_class(class: &'static LockClass) -> Once {
        Once {
            inner: crate::Once::with_class(class),
            completed: false,
        }
    }

    /// A new `Once` whose class is `name`.
    pub fn named(name: &str) -> Once {
        Once {
            inner: crate::Once::named(name),
            completed: false,
        }
    }

    /// Where the initialisation stands.
    #[inline]
    pub fn state(&self) -> OnceState {
        if self.completed {
            return OnceState::Done;
        }
        OnceState::of(self.inner.state())
    }

    /// Whether an initialisation has completed.
    #[inline]
    pub fn is_completed(&self) -> bool {
        self.state().is_completed()
    }

    /// Blocks until an initialisation has completed (another thread's: this one runs none).
    /// Waiting is validated as an acquisition of the class, as `call_once` is. Panics if an
    /// initialisation panicked (see [`wait_force`](Self::wait_force)).
    #[track_caller]
    #[inline]
    pub fn wait(&self) {
        self.wait_with(false, Location::caller())
    }

    /// Like [`wait`](Self::wait), but a panicked initialisation does not end the wait: it goes
    /// on until one completes.
    #[track_caller]
    #[inline]
    pub fn wait_force(&self) {
        self.wait_with(true, Location::caller())
    }

    /// [`wait`](Self::wait) (`force`: [`wait_force`](Self::wait_force)), at `at`: a completed
    /// `Once` is reached as a completed cell is (its order recorded), else waited for.
    #[inline]
    fn wait_with(&self, force: bool, at: &'static Location<'static>) {
        if !self.is_completed() {
            self.wait_slow(force, at);
        } else if !self.completed {
            init::completed(self.inner.class_cell(), self.inner.addr(), at);
        }
    }

    #[cold]
    fn wait_slow(&self, force: bool, at: &'static Location<'static>) {
        let _waiting = Init::begin(self.inner.class_cell(), self.inner.addr(), at);
        let key = self.inner.addr();
        loop {
            match self.state() {
                OnceState::Done => return,
                OnceState::Poisoned if !force => {
                    panic!("Once instance has previously been poisoned")
                }
                _ => {}
            }
            // SAFETY: the key is this `Once`'s address, which no other parking protocol
            // uses; the callbacks take no lock and do not panic.
            unsafe {
                parking_lot_core::park(
                    key,
                    || {
                        let state = self.state();
                        !(state.is_completed() || (state.is_poisoned() && !force))
                    },
                    || {},
                    |_, _| {},
                    parking_lot_core::DEFAULT_PARK_TOKEN,
                    None,
                );
            }
        }
    }

    /// Wakes every thread in [`wait`](Self::wait): an initialisation has ended (completed, or
    /// panicked).
    fn wake_waiters(&self) {
        // SAFETY: the key is this `Once`'s address, as `wait_slow` parks on.
        unsafe {
            parking_lot_core::unpark_all(self.inner.addr(), parking_lot_core::DEFAULT_UNPARK_TOKEN);
        }
    }

    /// Runs `f` if no initialisation has completed yet, else waits for the running one; panics
    /// if an initialisation panicked.
    #[track_caller]
    #[inline]
    pub fn call_once<F: FnOnce()>(&self, f: F) {
        if self.completed {
            return;
        }
        if self.inner.state().done() {
            // Done: `call_once` only records the order (no one can be waiting).
            return self.inner.call_once(f);
        }
        let _wake = Wake(self);
        self.inner.call_once(f);
    }

    /// Like [`call_once`](Self::call_once), but also runs after a panicked initialisation,
    /// which it can tell from the [`OnceState`] it is given.
    #[track_caller]
    #[inline]
    pub fn call_once_force<F: FnOnce(OnceState)>(&self, f: F) {
        if self.completed {
            return;
        }
        if self.inner.state().done() {
            return self.inner.call_once_force(|state| f(OnceState::of(state)));
        }
        let _wake = Wake(self);
        self.inner.call_once_force(|state| f(OnceState::of(state)));
    }
}

/// Wakes a [`Once`]'s waiters when a `call_once` returns or unwinds, whichever initialisation
/// ran (another thread's waiters are woken by whoever ran it; a spurious wake-up re-checks).
struct Wake<'a>(&'a Once);

impl Drop for Wake<'_> {
    fn drop(&mut self) {
        self.0.wake_waiters();
    }
}

/// Each `Once` field of a `#[derive(Default)]` struct is its own class (see `default_class`).
impl Default for Once {
    #[track_caller]
    #[inline]
    fn default() -> Self {
        Once {
            inner: crate::Once::default(),
            completed: false,
        }
    }
}

impl fmt::Debug for Once {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Once")
            .field("state", &self.state())
            .finish()
    }
}

impl TrackedLock for Once {
    fn lock_instance(&self) -> LockInstance<'_> {
        self.inner.lock_instance()
    }
}
