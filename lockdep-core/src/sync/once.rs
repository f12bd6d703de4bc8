//! `std::sync::Once` and `OnceLock`, with initialisation checked as an acquisition of the cell's
//! class (see `init.rs`). The standard library's own types are underneath.

use crate::class::ClassCell;
use crate::construct::{class_constructors, generic_class};
use crate::init::{self, Init};
use crate::{LockInstance, TrackedLock};
use std::fmt;
use std::panic::Location;

pub use std::sync::OnceState;

/// `std::sync::Once`, checked by lockdep: running (or waiting for) the initialisation is an
/// acquisition of the `Once`'s class, validated against the locks this thread holds, and the
/// class is held while the closure runs. Calling it again from inside its own closure is
/// reported and panics instead of hanging. Once completed, `call_once` costs what std's does.
///
/// ```
/// use lockdep_core::sync::Once;
///
/// static INIT: Once = Once::new();
/// INIT.call_once(|| println!("initialised once"));
/// assert!(INIT.is_completed());
/// ```
pub struct Once {
    class: ClassCell,
    inner: std::sync::Once,
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
            inner: std::sync::Once::new(),
        };
    }

    fn addr(&self) -> usize {
        self as *const Self as usize
    }

    /// Runs `f` if no call has completed yet, else waits for the running one (std's
    /// `call_once`; panics if a previous closure panicked).
    #[track_caller]
    #[inline]
    pub fn call_once<F: FnOnce()>(&self, f: F) {
        if self.inner.is_completed() {
            return init::completed(&self.class, self.addr(), Location::caller());
        }
        let mut init = Init::begin(&self.class, self.addr(), Location::caller());
        self.inner.call_once(|| init.run(f));
    }

    /// Like [`call_once`](Self::call_once), but also runs after a panicked closure, which it
    /// can tell from the [`OnceState`].
    #[track_caller]
    #[inline]
    pub fn call_once_force<F: FnOnce(&OnceState)>(&self, f: F) {
        if self.inner.is_completed() {
            return init::completed(&self.class, self.addr(), Location::caller());
        }
        let mut init = Init::begin(&self.class, self.addr(), Location::caller());
        self.inner.call_once_force(|state| init.run(|| f(state)));
    }

    /// Whether a call has completed.
    #[inline]
    pub fn is_completed(&self) -> bool {
        self.inner.is_completed()
    }

    /// Blocks until a call has completed (panics if it was poisoned): validated like reaching
    /// the `Once`, since it waits for whoever runs it.
    #[track_caller]
    pub fn wait(&self) {
        if !self.inner.is_completed() {
            let _init = Init::begin(&self.class, self.addr(), Location::caller());
            self.inner.wait();
        } else {
            init::completed(&self.class, self.addr(), Location::caller());
        }
    }

    /// Like [`wait`](Self::wait), ignoring poisoning.
    #[track_caller]
    pub fn wait_force(&self) {
        if !self.inner.is_completed() {
            let _init = Init::begin(&self.class, self.addr(), Location::caller());
            self.inner.wait_force();
        } else {
            init::completed(&self.class, self.addr(), Location::caller());
        }
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

/// `std::sync::OnceLock`, checked by lockdep: initialising it (or waiting for another thread to)
/// is an acquisition of its class, validated against the locks this thread holds, and the class
/// is held while the initialiser runs, so locks taken there depend on it. Initialising it again
/// from inside its own initialiser is reported and panics instead of hanging. Reading a
/// completed cell costs what std's does.
///
/// ```
/// use lockdep_core::sync::OnceLock;
///
/// static CONFIG: OnceLock<String> = OnceLock::new();
/// assert_eq!(CONFIG.get_or_init(|| "debug".to_string()), "debug");
/// assert_eq!(CONFIG.get().map(String::as_str), Some("debug"));
/// ```
pub struct OnceLock<T> {
    class: ClassCell,
    inner: std::sync::OnceLock<T>,
}

impl<T> OnceLock<T> {
    class_constructors! {
        /// A new empty cell whose class is its creation site.
        pub const fn new() -> OnceLock<T>;
        /// A new empty cell of the class `class`.
        pub const fn with_class;
        /// A new empty cell whose class is `name`.
        pub fn named;
        const fn from_cell(class) => OnceLock {
            class,
            inner: std::sync::OnceLock::new(),
        };
    }

    fn addr(&self) -> usize {
        self as *const Self as usize
    }

    /// The value, if initialised (never blocks, never validated).
    #[inline]
    pub fn get(&self) -> Option<&T> {
        self.inner.get()
    }

    /// The value, mutably, if initialised.
    #[inline]
    pub fn get_mut(&mut self) -> Option<&mut T> {
        self.inner.get_mut()
    }

    /// Blocks until the cell is initialised: validated like initialising it, since it waits
    /// for whoever does.
    #[track_caller]
    pub fn wait(&self) -> &T {
        if let Some(value) = self.inner.get() {
            init::completed(&self.class, self.addr(), Location::caller());
            return value;
        }
        let _init = Init::begin(&self.class, self.addr(), Location::caller());
        self.inner.wait()
    }

    /// Initialises the cell with `value` if it is empty (`Err(value)` otherwise); blocks while
    /// another thread initialises it, so it is validated like an initialisation.
    #[track_caller]
    pub fn set(&self, value: T) -> Result<(), T> {
        if self.inner.get().is_some() {
            return Err(value);
        }
        let _init = Init::begin(&self.class, self.addr(), Location::caller());
        // No user code runs inside `set`: nothing to hold the class for.
        self.inner.set(value)
    }

    /// The value, initialising it with `f` if the cell is empty (std's `get_or_init`). A
    /// completed cell returns at once, its order after the locks held recorded (`init.rs`).
    #[track_caller]
    #[inline]
    pub fn get_or_init<F: FnOnce() -> T>(&self, f: F) -> &T {
        if let Some(value) = self.inner.get() {
            init::completed(&self.class, self.addr(), Location::caller());
            return value;
        }
        let mut init = Init::begin(&self.class, self.addr(), Location::caller());
        self.inner.get_or_init(|| init.run(f))
    }

    /// The value, consuming the cell.
    pub fn into_inner(self) -> Option<T> {
        self.inner.into_inner()
    }

    /// Takes the value out, leaving the cell empty.
    pub fn take(&mut self) -> Option<T> {
        self.inner.take()
    }
}

/// Each cell of a `#[derive(Default)]` struct is its own class (see `default_class`).
impl<T> Default for OnceLock<T> {
    #[track_caller]
    #[cfg_attr(lockdep_checks, inline(always))]
    fn default() -> Self {
        OnceLock::from_cell(generic_class!("OnceLock", T, true))
    }
}

/// The class of the caller's site; called by generic code of the standard library
/// (`Option::map(OnceLock::from)`, …), that of the user code that asked.
impl<T> From<T> for OnceLock<T> {
    #[track_caller]
    #[cfg_attr(lockdep_checks, inline(always))]
    fn from(value: T) -> Self {
        OnceLock {
            class: generic_class!("OnceLock", T, false),
            inner: std::sync::OnceLock::from(value),
        }
    }
}

impl<T: Clone> Clone for OnceLock<T> {
    /// A cell of the same class, holding a clone of the value if there is one.
    fn clone(&self) -> Self {
        OnceLock {
            class: self.class.same_class(),
            inner: self.inner.clone(),
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for OnceLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl<T: PartialEq> PartialEq for OnceLock<T> {
    fn eq(&self, other: &Self) -> bool {
        self.inner == other.inner
    }
}

impl<T: Eq> Eq for OnceLock<T> {}

impl<T> TrackedLock for OnceLock<T> {
    fn lock_instance(&self) -> LockInstance<'_> {
        LockInstance::of_parts(init::instance(self.addr()), &self.class)
    }
}
