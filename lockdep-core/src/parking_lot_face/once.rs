//! `parking_lot::Once`, with its initialisation checked as an acquisition of its class (see
//! `init.rs`). `parking_lot`'s own `Once` is underneath, and [`OnceState`] is its type.

use crate::class::ClassCell;
use crate::construct::{class_constructors, generic_class};
use crate::init::{self, Init};
use crate::{LockInstance, TrackedLock};
use std::fmt;
use std::panic::Location;

pub use parking_lot::OnceState;

/// `parking_lot::Once`, checked by lockdep: running (or waiting for) the initialisation is an
/// acquisition of the `Once`'s class, validated against the locks this thread holds, and the
/// class is held while the closure runs, so the locks it takes depend on it. Calling it again
/// from inside its own closure is reported and panics instead of hanging. Once done,
/// `call_once` costs what `parking_lot`'s does.
///
/// ```
/// use lockdep_core::{Once, OnceState};
///
/// static START: Once = Once::new();
/// assert_eq!(START.state(), OnceState::New);
/// START.call_once(|| println!("started"));
/// assert!(START.state().done());
/// ```
pub struct Once {
    class: ClassCell,
    inner: parking_lot::Once,
}

impl Once {
    class_constructors! {
        /// A new `Once` whose class is its creation site.
        pub const fn new() -> Once;
        /// A new `Once` of the class `class`.
        pub const fn with_class;
        /// A new `Once` whose class is `name`.
        pub fn named;
        const fn from_cell(class) => Once {
            class,
            inner: parking_lot::Once::new(),
        };
    }

    /// The address that names this `Once` as an instance (`init::instance`) and as a parking
    /// key (the 0.13 face's `wait`).
    pub(crate) fn addr(&self) -> usize {
        self as *const Self as usize
    }

    /// The class of this `Once` (the 0.13 face validates its `wait` with it).
    #[cfg_attr(not(feature = "parking_lot-0_13"), allow(dead_code))]
    pub(crate) fn class_cell(&self) -> &ClassCell {
        &self.class
    }

    /// Where the initialisation stands.
    #[inline]
    pub fn state(&self) -> OnceState {
        self.inner.state()
    }

    /// Runs `f` if no call has completed yet, else waits for the running one (`parking_lot`'s
    /// `call_once`; panics if a previous closure panicked).
    #[track_caller]
    #[inline]
    pub fn call_once<F: FnOnce()>(&self, f: F) {
        if self.inner.state().done() {
            return init::completed(&self.class, self.addr(), Location::caller());
        }
        let mut init = Init::begin(&self.class, self.addr(), Location::caller());
        self.inner.call_once(|| init.run(f));
    }

    /// Like [`call_once`](Self::call_once), but also runs after a panicked closure, which it
    /// can tell from the [`OnceState`] it is given.
    #[track_caller]
    #[inline]
    pub fn call_once_force<F: FnOnce(OnceState)>(&self, f: F) {
        if self.inner.state().done() {
            return init::completed(&self.class, self.addr(), Location::caller());
        }
        let mut init = Init::begin(&self.class, self.addr(), Location::caller());
        self.inner.call_once_force(|state| init.run(|| f(state)));
    }
}

/// Each `Once` field of a `#[derive(Default)]` struct is its own class (see `default_class`).
impl Default for Once {
    #[track_caller]
    #[cfg_attr(lockdep_checks, inline(always))]
    fn default() -> Self {
        Once::from_cell(generic_class!("Once", (), true))
    }
}

impl fmt::Debug for Once {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl TrackedLock for Once {
    fn lock_instance(&self) -> LockInstance<'_> {
        LockInstance::of_parts(init::instance(self.addr()), &self.class)
    }
}
