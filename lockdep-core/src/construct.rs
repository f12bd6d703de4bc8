//! One way to build a lock, written once.
//!
//! Every lock type of the crate (`parking_lot`'s flavour over any raw lock, `sync`, the
//! once-cells, `tokio`) has one private constructor of its own, `from_cell(class, ...)`, which
//! puts a [`ClassCell`](crate::class::ClassCell) beside the lock underneath (written by the
//! macro below where it is one expression); everything that decides *which* class a new lock
//! gets is here, the same for every type:
//!
//! - `class_constructors!` writes `new` (the creation site: `#[track_caller]`, a `const fn`
//!   that stores the `Location` as it is, interned on first acquisition), `with_class` (a
//!   static [`LockClass`](crate::LockClass) key) and `named` (a name, interned at once), and
//!   tokio's `const_new`, each with the doc text the type gives it;
//! - `generic_class!` is the class of a lock built by `default()` or `from()`, and
//!   `default_and_from!` writes those two impls with it for the locks that take a value.
//!
//! They are macros, not helper functions, for two reasons: a `const fn` cannot be a trait
//! method, and the class of a lock built by `default()` is told apart per field of a derived
//! `Default` by the code address it was inlined at (see `default_class`), which a helper's frame
//! would hide. `generic_class!` is expanded *into* the lock type's `#[inline(always)]` method.
//! With the checks compiled out every class is the zero-sized `ClassCell` and these are the
//! plain constructors of the lock underneath.

/// `new`, `with_class` and `named` for a lock type, inside its `impl`, over its
/// `const fn from_cell(class: ClassCell, args...) -> Self`. `new`'s line gives the arguments
/// after the class and the return type; each constructor takes the doc text (and any other
/// attributes) written above its line. After `named`, in any order:
/// - `const fn from_cell(class) => EXPR;` writes `from_cell` itself, `EXPR` building the lock
///   from `class` and the arguments;
/// - `pub const fn const_new;` (with its doc) writes tokio's `const_new`, the same as `new`.
macro_rules! class_constructors {
    (
        $(#[$new_attr:meta])*
        pub const fn new($($arg:ident: $ty:ty),*) -> $Lock:ty;
        $(#[$key_attr:meta])*
        pub const fn with_class;
        $(#[$name_attr:meta])*
        pub fn named;
        $($extra:tt)*
    ) => {
        $(#[$new_attr])*
        #[track_caller]
        #[inline]
        pub const fn new($($arg: $ty),*) -> $Lock {
            Self::from_cell(
                $crate::class::ClassCell::from_site(::std::panic::Location::caller()),
                $($arg),*
            )
        }

        $(#[$key_attr])*
        #[inline]
        pub const fn with_class(class: &'static $crate::LockClass, $($arg: $ty),*) -> $Lock {
            Self::from_cell($crate::class::ClassCell::from_key(class), $($arg),*)
        }

        $(#[$name_attr])*
        pub fn named(name: &str, $($arg: $ty),*) -> $Lock {
            Self::from_cell($crate::class::ClassCell::from_name(name), $($arg),*)
        }

        $crate::construct::class_constructors!(@extra ($($arg: $ty),*) -> $Lock; $($extra)*);
    };
    (@extra $args:tt -> $Lock:ty;) => {};
    (
        @extra ($($arg:ident: $ty:ty),*) -> $Lock:ty;
        const fn from_cell($class:ident) => $body:expr;
        $($extra:tt)*
    ) => {
        #[inline]
        const fn from_cell($class: $crate::class::ClassCell, $($arg: $ty),*) -> $Lock {
            $body
        }

        $crate::construct::class_constructors!(@extra ($($arg: $ty),*) -> $Lock; $($extra)*);
    };
    (
        @extra ($($arg:ident: $ty:ty),*) -> $Lock:ty;
        $(#[$alias_attr:meta])*
        pub const fn const_new;
        $($extra:tt)*
    ) => {
        $(#[$alias_attr])*
        #[track_caller]
        #[inline]
        pub const fn const_new($($arg: $ty),*) -> $Lock {
            // `#[track_caller]` on both: `new` sees this function's caller.
            Self::new($($arg),*)
        }

        $crate::construct::class_constructors!(@extra ($($arg: $ty),*) -> $Lock; $($extra)*);
    };
}
pub(crate) use class_constructors;

/// The class of a lock of kind `$kind` (`"Mutex"`, ...: for its name in reports) protecting a
/// `$T`, built by `default()` (`$by_default` true) or `from()` (false) in the
/// `#[track_caller]`, `#[cfg_attr(lockdep_checks, inline(always))]` method this is expanded
/// into (see `default_class`). Evaluate it before the protected value is built, so that locks
/// built inside `T::default()` come after their container in the burst of one construction.
macro_rules! generic_class {
    ($kind:literal, $T:ty, $by_default:literal) => {
        $crate::default_class::generic_cell(
            ::std::panic::Location::caller(),
            $kind,
            ::std::any::type_name::<$T>(),
            $by_default,
            $crate::default_class::call_site(),
        )
    };
}
pub(crate) use generic_class;

/// `Default` (for `T: Default`) and `From<T>` of a lock type over its `from_cell(class, value)`,
/// with the class of `generic_class!`: each lock field of a `#[derive(Default)]` struct is its
/// own class, and a lock built through a generic path of the standard library (`Arc::default()`,
/// `Option::map(Mutex::from)`, …) takes its class from the user code that asked for it. The
/// generics before the protected type's `T` go between the brackets, with a trailing comma.
macro_rules! default_and_from {
    ($kind:literal: impl[$($generics:tt)*] $Lock:ty) => {
        /// Each lock field of a `#[derive(Default)]` struct is its own class, and a lock built
        /// through a generic path of the standard library (`Arc::default()`, …) takes its class
        /// from the user code that asked for it.
        impl<$($generics)* T: Default> Default for $Lock {
            #[track_caller]
            #[cfg_attr(lockdep_checks, inline(always))]
            fn default() -> Self {
                Self::from_cell(
                    $crate::construct::generic_class!($kind, T, true),
                    T::default(),
                )
            }
        }

        /// The class of the caller's site, as `new`'s; called by generic code of the standard
        /// library (`Option::map(Mutex::from)`, …), that of the user code that asked.
        impl<$($generics)* T> From<T> for $Lock {
            #[track_caller]
            #[cfg_attr(lockdep_checks, inline(always))]
            fn from(value: T) -> Self {
                Self::from_cell($crate::construct::generic_class!($kind, T, false), value)
            }
        }
    };
}
pub(crate) use default_and_from;
