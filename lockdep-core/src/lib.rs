//! # lockdep for Rust
//!
//! A lock-order validator in the spirit of the Linux kernel's
//! [lockdep](https://docs.kernel.org/locking/lockdep-design.html): swap your `parking_lot` or
//! `std::sync` locks for these, run your program or tests once, and every lock-order inversion
//! that *could* deadlock is reported — with the chain of lock classes, the backtrace where each
//! dependency was first seen, and the kernel's "possible unsafe locking scenario" — even though
//! no thread ever blocked.
//!
//! ```
//! use lockdep_core::{capture, Mutex, ReportKind};
//!
//! let accounts = Mutex::named("accounts", ());
//! let audit_log = Mutex::named("audit_log", ());
//!
//! let reports = capture(|| {
//!     // One code path takes accounts, then audit_log...
//!     {
//!         let _a = accounts.lock();
//!         let _l = audit_log.lock();
//!     }
//!     // ...another, much later, the other way round. Nothing hangs in this run,
//!     // but two threads doing this at once would.
//!     let _l = audit_log.lock();
//!     let _a = accounts.lock();
//! });
//! # if lockdep_core::CHECKS_COMPILED_IN {
//! assert_eq!(reports[0].kind(), ReportKind::CircularDependency);
//! assert_eq!(reports[0].classes(), ["accounts", "audit_log"]);
//! # }
//! ```
//!
//! ## Classes
//! Dependencies are recorded between *lock classes*, not instances: a lock's class is its
//! creation site ([`Mutex::new`] is `#[track_caller]`), a static [`LockClass`] key
//! ([`Mutex::with_class`]) or a name ([`Mutex::named`]). So an inversion is found even when the
//! two orders were taken hours apart, on different threads, on different instances.
//! A lock built by `Default` gets one class per field of a derived or hand-written `Default`
//! (also for two fields of one type), and a lock the standard library builds for you
//! (`Arc::default()`, a `LazyLock` static, …) takes its class from your code that asked.
//!
//! ## Any raw lock
//! Every lock type is `lock_api`'s typed layer over [`raw::Checked<R>`], which instruments any
//! `lock_api` raw lock. [`generic`] has the typed layers for any `R`; the crate root has them for
//! `parking_lot`, and [`sync`] has the `std::sync` API.
//!
//! ## Turning it off
//! Checking is compiled in when `debug_assertions` is on or the feature `release-checks` is
//! enabled. Otherwise every type is the plain lock underneath, with the same size and speed, and
//! the query functions answer as if nothing were tracked.
//!
//! ## Tooling
//! - [`#[lockdep_core::test]`](macro@test): a `#[test]` that fails when lockdep reports anything
//!   on its thread, or on threads it starts through [`thread::spawn`] / [`thread::scope`].
//! - [`#[requires(lock)]`](macro@requires), [`#[excludes(lock)]`](macro@excludes),
//!   [`#[might_lock(lock)]`](macro@might_lock): held-lock assertions and `might_lock` at a
//!   function's entry, compiled out with the checks; [`lock_class!`] declares static classes.
//! - [`graph::to_dot`] (and `LOCKDEP_DOT=path` at exit) draws the class graph, reported cycles in
//!   red; [`stats()`] gives the figures of the kernel's `/proc/lockdep_stats`.
//! - [`sync::OnceLock`], [`sync::LazyLock`], [`sync::Once`] and [`Once`]: initialising a cell is
//!   checked as an acquisition of its class, held while the initialiser runs.
//! - Feature `deadlock_detection`: `deadlock::check_deadlock()`, `parking_lot`'s function, with
//!   each stuck thread's held locks by class and the lock it waits for.
//!
//! With `use lockdep_core::*`, a bare `#[test]` is ambiguous (the glob brings in this crate's
//! `test` attribute, as `use tokio::*` does): import the names you use instead.
//!
//! The rules the validator enforces, each with the test that proves it, are in `DESIGN.md`.

#![warn(missing_docs)]

mod access;
#[cfg(feature = "async-lock")]
pub mod async_lock;
mod caller;
mod class;
mod construct;
#[cfg(feature = "deadlock_detection")]
pub mod deadlock;
#[cfg(lockdep_checks)]
mod default_class;
#[cfg(not(lockdep_checks))]
#[path = "default_class/off.rs"]
mod default_class;
#[cfg(feature = "futures")]
pub mod futures;
pub mod graph;
// The README and the guide's pages, run as doc tests.
#[cfg(doctest)]
mod guide;
mod handoff;
mod init;
mod instance;
mod kinds;
mod mode;
pub mod raw;
mod report;
mod stats;
pub mod store;
pub mod sync;
pub mod task;
mod test_runtime;
pub mod thread;
#[cfg(feature = "tokio")]
pub mod tokio;
// The lockdep half of the async faces' locks.
#[cfg(any(feature = "tokio", feature = "futures", feature = "async-lock"))]
mod async_held;

#[cfg(lockdep_checks)]
mod depgraph;
#[cfg(lockdep_checks)]
mod figures;
#[cfg(lockdep_checks)]
mod held;
#[cfg(lockdep_checks)]
mod message;
#[cfg(lockdep_checks)]
mod relock;
#[cfg(lockdep_checks)]
mod sharded;
#[cfg(lockdep_checks)]
mod task_held;
#[cfg(lockdep_checks)]
mod trace;
#[cfg(not(lockdep_checks))]
mod unchecked;
#[cfg(lockdep_checks)]
mod validator;

pub use class::{LockClass, MAX_SUBCLASSES};
pub use handoff::{hand_off, HandOff};
pub use instance::{LockInstance, TrackedLock};
pub use mode::{capture, capture_with, clear_handler, mode, set_handler, set_mode, Mode};
pub use report::{Report, ReportKind};
pub use stats::{stats, Stats};
pub use task::LockdepFutureExt;

#[cfg(feature = "macros")]
pub use lockdep_macros::*;

/// Most locks one thread may hold with all of them tracked (the kernel's MAX_LOCK_DEPTH).
pub const MAX_LOCK_DEPTH: usize = 48;

/// Whether checking is compiled into this build (`debug_assertions` or `release-checks`).
pub const CHECKS_COMPILED_IN: bool = cfg!(lockdep_checks);

/// Whether a guard may be sent to another thread: `Send` with the feature `send_guard` (as in
/// `parking_lot`, whose raw locks the feature also switches, so that the public types are the
/// same with the checks compiled in and out). A guard dropped on another thread releases its
/// holder's entry there (an orphan release, `task_held.rs`).
#[cfg(feature = "send_guard")]
pub(crate) type GuardMarker = lock_api::GuardSend;
/// Whether a guard may be sent to another thread: not without the feature `send_guard`.
#[cfg(not(feature = "send_guard"))]
pub(crate) type GuardMarker = lock_api::GuardNoSend;

// The `parking_lot` face (its module doc says why it is not called `parking_lot`): its
// typed locks, `generic`, and the rest of `parking_lot`'s root, all at the crate root as in
// `parking_lot`.
mod parking_lot_face;
pub use parking_lot_face::*;
// parking_lot 0.13's API (feature `parking_lot-0_13`; documented inside).
#[cfg(feature = "parking_lot-0_13")]
pub mod parking_lot_0_13;

/// Whether the current thread holds `lock` (in any mode). Always `false` with the checks
/// compiled out.
///
/// ```
/// let m = lockdep_core::Mutex::new(());
/// let guard = m.lock();
/// # if lockdep_core::CHECKS_COMPILED_IN {
/// assert!(lockdep_core::is_held(&m));
/// # }
/// drop(guard);
/// assert!(!lockdep_core::is_held(&m));
/// ```
pub fn is_held<L: TrackedLock + ?Sized>(lock: &L) -> bool {
    #[cfg(lockdep_checks)]
    return validator::is_held(lock.lock_instance().key());
    #[cfg(not(lockdep_checks))]
    {
        let _ = lock;
        false
    }
}

/// Panics, naming the lock's class, unless the current thread holds `lock` (the kernel's
/// `lockdep_assert_held`). Does nothing with the checks compiled out.
#[track_caller]
pub fn assert_held<L: TrackedLock + ?Sized>(lock: &L) {
    #[cfg(lockdep_checks)]
    if !is_held(lock) {
        panic!(
            "lockdep: lock of class `{}` is not held by this thread, but must be",
            lock.lock_instance().class_name()
        );
    }
    #[cfg(not(lockdep_checks))]
    let _ = lock;
}

/// Panics, naming the lock's class, if the current thread holds `lock` (the kernel's
/// `lockdep_assert_not_held`). Does nothing with the checks compiled out.
#[track_caller]
pub fn assert_not_held<L: TrackedLock + ?Sized>(lock: &L) {
    #[cfg(lockdep_checks)]
    if is_held(lock) {
        panic!(
            "lockdep: lock of class `{}` is held by this thread, but must not be",
            lock.lock_instance().class_name()
        );
    }
    #[cfg(not(lockdep_checks))]
    let _ = lock;
}

/// Validates taking `lock` (exclusively) here, against the locks this thread holds, without
/// taking it — the kernel's `might_lock`. Puts a rarely taken path's lock order under check on
/// every run.
///
/// ```
/// let cache = lockdep_core::Mutex::named("doc-might-cache", ());
/// let db = lockdep_core::Mutex::named("doc-might-db", ());
/// let _db = db.lock();
/// // Only on a cache miss would this path take `cache`; check the order every time:
/// lockdep_core::might_lock(&cache);
/// ```
#[track_caller]
pub fn might_lock<L: TrackedLock + ?Sized>(lock: &L) {
    #[cfg(lockdep_checks)]
    might_lock_as(lock, access::Access::Write, std::panic::Location::caller());
    #[cfg(not(lockdep_checks))]
    let _ = lock;
}

/// Like [`might_lock`](fn@might_lock), for a fair read of a rwlock (the kernel's
/// `might_lock_read`).
#[track_caller]
pub fn might_lock_read<L: TrackedLock + ?Sized>(lock: &L) {
    #[cfg(lockdep_checks)]
    might_lock_as(lock, access::Access::Read, std::panic::Location::caller());
    #[cfg(not(lockdep_checks))]
    let _ = lock;
}

#[cfg(lockdep_checks)]
#[track_caller]
fn might_lock_as<L: TrackedLock + ?Sized>(
    lock: &L,
    access: access::Access,
    at: &'static std::panic::Location<'static>,
) {
    let instance = lock.lock_instance();
    if let Some(acq) = instance.acquisition(access, at) {
        validator::might_lock(&acq);
    }
}

/// Class names of the locks the current thread holds, outermost first (empty with the checks
/// compiled out). Handy in assertions and debugging output.
pub fn held_locks() -> Vec<String> {
    #[cfg(lockdep_checks)]
    return validator::held_classes();
    #[cfg(not(lockdep_checks))]
    Vec::new()
}

/// Declares named static lock classes ([`LockClass`] keys) tersely.
///
/// Each declaration is `static NAME;` — the class is named after the identifier — or
/// `static NAME = "name";`, with any visibility and attributes (doc comments included) in
/// front. Several may share one invocation, separated by semicolons.
///
/// ```
/// use lockdep_core::{lock_class, Mutex, RwLock};
///
/// lock_class!(pub static PCPU_ALLOC = "pcpu_alloc_mutex");
/// lock_class! {
///     /// Serialises CPU hotplug against readers of the online mask.
///     static CPU_HOTPLUG;
///     pub(crate) static SLAB = "slab_mutex";
/// }
///
/// static ALLOC: Mutex<u32> = Mutex::with_class(&PCPU_ALLOC, 0);
/// static ONLINE: RwLock<u64> = RwLock::with_class(&CPU_HOTPLUG, 1);
///
/// assert_eq!(PCPU_ALLOC.name(), "pcpu_alloc_mutex");
/// assert_eq!(CPU_HOTPLUG.name(), "CPU_HOTPLUG");
/// assert_eq!(SLAB.name(), "slab_mutex");
/// # let _ = (ALLOC.lock(), ONLINE.read());
/// ```
#[macro_export]
macro_rules! lock_class {
    ($($(#[$meta:meta])* $vis:vis static $name:ident $(= $label:expr)?);+ $(;)?) => {
        $(
            $(#[$meta])*
            $vis static $name: $crate::LockClass =
                $crate::LockClass::new($crate::__lock_class_name!($name $(, $label)?));
        )+
    };
    ($($anything:tt)*) => {
        ::core::compile_error!(
            "lock_class! declares `static NAME;` or `static NAME = \"name\";` (with any \
             visibility and attributes), e.g. `lock_class!(pub static PCPU_ALLOC = \"pcpu_alloc_mutex\");`"
        );
    };
}

/// The name of a `lock_class!` declaration: the given string, else the identifier.
#[doc(hidden)]
#[macro_export]
macro_rules! __lock_class_name {
    ($name:ident) => {
        ::core::stringify!($name)
    };
    ($name:ident, $label:expr) => {
        $label
    };
}

/// What an async `#[lockdep_core::test]` expands to call: the test's runtime, or without the
/// `tokio` feature an error that names the feature (rather than a missing function).
#[cfg(feature = "tokio")]
#[doc(hidden)]
#[macro_export]
macro_rules! __async_test {
    ($name:expr, $builder:expr, $body:expr) => {
        $crate::__private::run_async_test($name, $builder, $body)
    };
}

/// What an async `#[lockdep_core::test]` expands to call: the test's runtime, or without the
/// `tokio` feature an error that names the feature (rather than a missing function).
#[cfg(not(feature = "tokio"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __async_test {
    ($($test:tt)*) => {
        ::core::compile_error!(
            "an async `#[lockdep_core::test]` runs on tokio: turn on lockdep-core's `tokio` \
             feature (`lockdep-core = { version = \"...\", features = [\"tokio\"] }`)"
        )
    };
}

#[doc(hidden)]
pub mod __private {
    //! Support for `lockdep-macros`; not a public API. The runtime itself is `test_runtime`.
    #[cfg(feature = "tokio")]
    pub use crate::test_runtime::run_async_test;
    pub use crate::test_runtime::{excludes, held_count, requires, run_test};
    /// tokio, for the runtime an async `#[lockdep_core::test]` builds.
    #[cfg(feature = "tokio")]
    pub use ::tokio;
}
