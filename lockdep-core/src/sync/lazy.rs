//! `std::sync::LazyLock`, with its initialisation checked as an acquisition of its class.
//!
//! Laid out as the standard library's (a `Once` and a union of the function and the value), so
//! that with the checks compiled out it is the same size and a read is the same one load: std's
//! own type cannot be wrapped, because its initialiser cannot be wrapped to hold the class while
//! it runs, and the `LazyLock::get` that would tell completion without forcing needs Rust 1.94.

use crate::class::ClassCell;
use crate::construct::{class_constructors, generic_class};
use crate::init::{self, Init};
use crate::{LockInstance, TrackedLock};
use std::cell::UnsafeCell;
use std::fmt;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::panic::{Location, RefUnwindSafe, UnwindSafe};
use std::sync::Once;

/// `std::sync::LazyLock`, checked by lockdep: the first access runs the initialiser, or waits
/// for the thread running it, and that is an acquisition of the `LazyLock`'s class, validated
/// against the locks this thread holds; the class is held while the initialiser runs, so the
/// locks it takes depend on it. So `M.lock()` then `*LAZY` on one path, and `LAZY`'s
/// initialiser taking `M` on another, is reported as the ABBA it is; reaching `LAZY` from its
/// own initialiser is reported and panics instead of hanging. Once initialised, a read costs
/// what std's does.
///
/// ```
/// use lockdep_core::sync::LazyLock;
/// use std::collections::HashMap;
///
/// static TABLE: LazyLock<HashMap<u32, &str>> = LazyLock::new(|| HashMap::from([(1, "one")]));
/// assert_eq!(TABLE.get(&1), Some(&"one"));
/// ```
pub struct LazyLock<T, F = fn() -> T> {
    class: ClassCell,
    once: Once,
    data: UnsafeCell<Data<T, F>>,
}

/// The function until the `Once` completes, the value afterwards (std's layout).
union Data<T, F> {
    value: ManuallyDrop<T>,
    f: ManuallyDrop<F>,
}

// SAFETY: the value is only reached through `&T` once initialised, so sharing needs `T: Sync`,
// and whichever thread initialises it moves `F` and creates `T` there (`Send` for both), as
// for std's `LazyLock`.
unsafe impl<T: Sync + Send, F: Send> Sync for LazyLock<T, F> {}
impl<T: RefUnwindSafe + UnwindSafe, F: UnwindSafe> RefUnwindSafe for LazyLock<T, F> {}

impl<T, F: FnOnce() -> T> LazyLock<T, F> {
    class_constructors! {
        /// A new lazy value initialised by `f`, whose class is its creation site.
        pub const fn new(f: F) -> LazyLock<T, F>;
        /// A new lazy value of the class `class`.
        pub const fn with_class;
        /// A new lazy value whose class is `name`.
        pub fn named;
        const fn from_cell(class) => LazyLock {
            class,
            once: Once::new(),
            data: UnsafeCell::new(Data {
                f: ManuallyDrop::new(f),
            }),
        };
    }

    /// The value, initialising it first if needed (std's `LazyLock::force`). Panics if an
    /// earlier initialisation panicked.
    #[track_caller]
    #[inline]
    pub fn force(this: &LazyLock<T, F>) -> &T {
        if this.once.is_completed() {
            init::completed(&this.class, this.addr(), Location::caller());
            // SAFETY: the `Once` completed, so the value was written (and is never removed
            // while shared).
            return unsafe { &(*this.data.get()).value };
        }
        Self::force_slow(this, Location::caller())
    }

    #[cold]
    fn force_slow<'a>(this: &'a LazyLock<T, F>, at: &'static Location<'static>) -> &'a T {
        let mut init = Init::begin(&this.class, this.addr(), at);
        this.once.call_once_force(|state| {
            if state.is_poisoned() {
                panic_poisoned();
            }
            // SAFETY: only the one closure the `Once` runs reaches the data before completion;
            // the function is still there, as no earlier initialisation got as far as taking it
            // (one that panicked after taking it left the `Once` poisoned, handled above).
            let f = unsafe { ManuallyDrop::take(&mut (*this.data.get()).f) };
            let value = init.run(f);
            // SAFETY: as above; the function was moved out, the value moves in.
            unsafe { (*this.data.get()).value = ManuallyDrop::new(value) };
        });
        // SAFETY: `call_once_force` returned without panicking, so the value was written.
        unsafe { &(*this.data.get()).value }
    }

    /// The value, mutably, initialising it first if needed (std's `LazyLock::force_mut`).
    #[track_caller]
    pub fn force_mut(this: &mut LazyLock<T, F>) -> &mut T {
        Self::force(this);
        // SAFETY: forced just now; `&mut` means no one else reads it.
        unsafe { &mut (*this.data.get()).value }
    }

    /// The value if initialised, without initialising it (std's `LazyLock::get`).
    #[inline]
    pub fn get(this: &LazyLock<T, F>) -> Option<&T> {
        if this.once.is_completed() {
            // SAFETY: completed, so the value is there.
            Some(unsafe { &*(*this.data.get()).value })
        } else {
            None
        }
    }

    /// The value, mutably, if initialised (std's `LazyLock::get_mut`).
    #[inline]
    pub fn get_mut(this: &mut LazyLock<T, F>) -> Option<&mut T> {
        if this.once.is_completed() {
            // SAFETY: completed, so the value is there; `&mut` means no one else reads it.
            Some(unsafe { &mut *(*this.data.get()).value })
        } else {
            None
        }
    }
}

impl<T, F> LazyLock<T, F> {
    fn addr(&self) -> usize {
        self as *const Self as usize
    }
}

#[cold]
#[track_caller]
fn panic_poisoned() -> ! {
    panic!("LazyLock instance has previously been poisoned")
}

impl<T, F: FnOnce() -> T> Deref for LazyLock<T, F> {
    type Target = T;
    #[track_caller]
    #[inline]
    fn deref(&self) -> &T {
        LazyLock::force(self)
    }
}

impl<T, F: FnOnce() -> T> DerefMut for LazyLock<T, F> {
    #[track_caller]
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        LazyLock::force_mut(self)
    }
}

impl<T: Default> Default for LazyLock<T> {
    /// A lazy `T::default()`; each `LazyLock` field of a `#[derive(Default)]` struct is its own
    /// class (see `default_class`).
    #[track_caller]
    #[cfg_attr(lockdep_checks, inline(always))]
    fn default() -> LazyLock<T> {
        LazyLock::from_cell(generic_class!("LazyLock", T, true), T::default)
    }
}

impl<T: fmt::Debug, F> fmt::Debug for LazyLock<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_tuple("LazyLock");
        if self.once.is_completed() {
            // SAFETY: completed, so the value is there.
            d.field(unsafe { &*(*self.data.get()).value });
        } else {
            d.field(&format_args!("<uninit>"));
        }
        d.finish()
    }
}

impl<T, F> Drop for LazyLock<T, F> {
    fn drop(&mut self) {
        let data = self.data.get_mut();
        if self.once.is_completed() {
            // SAFETY: completed: the value is there, and dropped exactly once, here.
            unsafe { ManuallyDrop::drop(&mut data.value) };
            return;
        }
        // Not complete: the function is still there unless an initialiser took it and panicked,
        // which poisoned the `Once`. `call_once_force` tells the two apart (completing a `Once`
        // that is being dropped anyway).
        let mut poisoned = false;
        self.once
            .call_once_force(|state| poisoned = state.is_poisoned());
        if !poisoned {
            // SAFETY: never initialised and never taken: the function is there, dropped once.
            unsafe { ManuallyDrop::drop(&mut data.f) };
        }
    }
}

impl<T, F: FnOnce() -> T> TrackedLock for LazyLock<T, F> {
    fn lock_instance(&self) -> LockInstance<'_> {
        LockInstance::of_parts(init::instance(self.addr()), &self.class)
    }
}
