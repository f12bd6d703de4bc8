//! What happens to a report: the mode, the user handler, and `capture`.

use crate::report::Report;
#[cfg(lockdep_checks)]
use crate::report::ReportKind;
#[cfg(lockdep_checks)]
use once_cell::sync::Lazy;
#[cfg(lockdep_checks)]
use parking_lot::{Mutex as InternalMutex, RwLock as InternalRwLock};
#[cfg(lockdep_checks)]
use std::cell::Cell;
#[cfg(lockdep_checks)]
use std::sync::atomic::{AtomicU8, Ordering};
#[cfg(lockdep_checks)]
use std::sync::Arc;

/// What the validator does with a finding when no [`capture`] scope or handler takes it.
///
/// The initial mode comes from the environment variable `LOCKDEP` (`panic`, `warn` or `off`),
/// read once, at the first lock operation; [`set_mode`] overrides it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Panic with the report's text (the default; what a test suite wants).
    Panic,
    /// Print the report to stderr (or to the `log` facade with the `log` feature) and go on.
    /// Each distinct finding is printed once per process.
    Warn,
    /// Record no dependencies and report nothing. Locks are still tracked as held, so that
    /// switching back on mid-run stays consistent, and an acquisition that is certain to hang
    /// (a lock this thread already holds) still panics.
    Off,
}

impl Mode {
    fn parse(text: &str) -> Option<Mode> {
        match text.trim().to_ascii_lowercase().as_str() {
            "panic" => Some(Mode::Panic),
            "warn" => Some(Mode::Warn),
            "off" | "0" | "none" => Some(Mode::Off),
            _ => None,
        }
    }
}

impl std::str::FromStr for Mode {
    type Err = String;

    /// Parses `panic`, `warn` or `off` (any case), as the `LOCKDEP` variable is parsed.
    fn from_str(text: &str) -> Result<Mode, String> {
        Mode::parse(text)
            .ok_or_else(|| format!("unknown lockdep mode `{text}` (expected panic, warn or off)"))
    }
}

#[cfg(lockdep_checks)]
const UNSET: u8 = u8::MAX;
#[cfg(lockdep_checks)]
static MODE: AtomicU8 = AtomicU8::new(UNSET);

#[cfg(lockdep_checks)]
fn encode(mode: Mode) -> u8 {
    match mode {
        Mode::Panic => 0,
        Mode::Warn => 1,
        Mode::Off => 2,
    }
}

/// Sets the mode for the whole process.
///
/// ```
/// lockdep_core::set_mode(lockdep_core::Mode::Warn);
/// # if lockdep_core::CHECKS_COMPILED_IN {
/// assert_eq!(lockdep_core::mode(), lockdep_core::Mode::Warn);
/// # }
/// # lockdep_core::set_mode(lockdep_core::Mode::Panic);
/// ```
pub fn set_mode(mode: Mode) {
    #[cfg(lockdep_checks)]
    MODE.store(encode(mode), Ordering::Relaxed);
    #[cfg(not(lockdep_checks))]
    let _ = mode;
}

/// The current mode (with the checks compiled out: always [`Mode::Off`]).
#[inline]
pub fn mode() -> Mode {
    #[cfg(lockdep_checks)]
    {
        match MODE.load(Ordering::Relaxed) {
            0 => Mode::Panic,
            1 => Mode::Warn,
            2 => Mode::Off,
            _ => mode_from_env(),
        }
    }
    #[cfg(not(lockdep_checks))]
    Mode::Off
}

#[cfg(lockdep_checks)]
#[cold]
fn mode_from_env() -> Mode {
    let mode = match crate::message::env_var("LOCKDEP").map(|value| value.into_string()) {
        Some(Ok(text)) => Mode::parse(&text).unwrap_or_else(|| {
            crate::message::notice(format_args!(
                "lockdep: ignoring LOCKDEP={text:?} (expected panic, warn or off); using panic"
            ));
            Mode::Panic
        }),
        Some(Err(raw)) => {
            crate::message::notice(format_args!(
                "lockdep: ignoring LOCKDEP={raw:?}: not valid UTF-8 (expected panic, warn or \
                 off); using panic"
            ));
            Mode::Panic
        }
        None => Mode::Panic,
    };
    // A `set_mode` that raced with this read wins.
    let _ = MODE.compare_exchange(UNSET, encode(mode), Ordering::Relaxed, Ordering::Relaxed);
    self::mode()
}

#[cfg(lockdep_checks)]
type Handler = Arc<dyn Fn(&Report) + Send + Sync + 'static>;
#[cfg(lockdep_checks)]
static HANDLER: Lazy<InternalRwLock<Option<Handler>>> = Lazy::new(|| InternalRwLock::new(None));

/// Installs a callback that receives every report instead of the mode's action (a [`capture`]
/// scope on the reporting thread still takes precedence). The handler runs on the thread that
/// made the acquisition, before the lock is taken, with no validator lock held, so it may itself
/// take locks. If it panics, the panic propagates to the acquiring thread and the lock is not
/// taken; the validator stays usable. (On the raw paths `lock_api` drives, a guard's
/// `unlocked` relock, the panic propagates once the lock is taken again, so that the guard
/// never outlives its lock: see DESIGN.md, rule 14a.)
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// static SEEN: AtomicUsize = AtomicUsize::new(0);
/// lockdep_core::set_handler(|report| {
///     SEEN.fetch_add(1, Ordering::Relaxed);
///     eprintln!("{report}");
/// });
/// lockdep_core::clear_handler();
/// ```
pub fn set_handler(handler: impl Fn(&Report) + Send + Sync + 'static) {
    #[cfg(lockdep_checks)]
    {
        *HANDLER.write() = Some(Arc::new(handler));
    }
    #[cfg(not(lockdep_checks))]
    drop(handler);
}

/// Removes the handler installed by [`set_handler`]; reports go to the mode's action again.
pub fn clear_handler() {
    #[cfg(lockdep_checks)]
    {
        *HANDLER.write() = None;
    }
}

/// Where a [`capture`] scope collects reports: `Some` while the scope is open, `None` once it
/// has ended. Shared, so that a scope can be carried into threads it starts
/// ([`crate::thread`]); a thread that outlives the scope then reports as if it had none, rather
/// than into a vector nobody reads.
#[cfg(lockdep_checks)]
pub(crate) type Sink = Arc<InternalMutex<Option<Vec<Report>>>>;

/// Runs `f` in a new capture scope and returns what it collected. The scope ends when `f`
/// returns or unwinds.
#[cfg(lockdep_checks)]
pub(crate) fn collect<R>(f: impl FnOnce() -> R) -> (R, Vec<Report>) {
    struct Close(Sink);
    impl Drop for Close {
        fn drop(&mut self) {
            self.0.lock().take();
        }
    }
    let sink: Sink = Arc::new(InternalMutex::new(Some(Vec::new())));
    let close = Close(sink.clone());
    let value = with_sink(sink, f);
    let reports = close.0.lock().take().unwrap_or_default();
    (value, reports)
}

/// One open capture scope of this thread. It lives in [`with_sink`]'s stack frame and points
/// to the scope it is nested in.
#[cfg(lockdep_checks)]
struct Scope {
    sink: Sink,
    outer: *const Scope,
}

#[cfg(lockdep_checks)]
thread_local! {
    /// This thread's innermost open scope (null: none). A bare pointer, so the thread-local has
    /// no destructor: it stays usable while the thread's other thread-locals are destroyed, in
    /// any order, and a `capture` inside such a destructor works like any other (a `RefCell<Vec>`
    /// here made `capture` abort the process there).
    static SCOPE: Cell<*const Scope> = const { Cell::new(std::ptr::null()) };
}

/// Runs `f` in a capture scope of `sink` on this thread (scopes nest; the innermost wins).
#[cfg(lockdep_checks)]
pub(crate) fn with_sink<R>(sink: Sink, f: impl FnOnce() -> R) -> R {
    struct Pop<'a>(&'a Scope);
    impl Drop for Pop<'_> {
        fn drop(&mut self) {
            SCOPE.with(|s| s.set(self.0.outer));
        }
    }
    let scope = Scope {
        sink,
        outer: SCOPE.with(Cell::get),
    };
    SCOPE.with(|s| s.set(&scope));
    // Declared after `scope`, so dropped before it (also when `f` unwinds): the thread-local
    // never points to a scope that is gone. Scopes are opened and closed by nested calls of
    // this function only, so they close in the reverse order they opened.
    let _pop = Pop(&scope);
    f()
}

/// The innermost capture scope of this thread.
#[cfg(lockdep_checks)]
pub(crate) fn current_sink() -> Option<Sink> {
    let scope = SCOPE.with(Cell::get);
    // SAFETY: a non-null pointer was set by `with_sink`, whose frame (holding the scope) is
    // still live: `Pop` resets the pointer before the scope is dropped.
    unsafe { scope.as_ref() }.map(|scope| scope.sink.clone())
}

/// Runs `f` and returns the reports raised *on this thread* while it ran, instead of acting on
/// them; so tests running in parallel never see each other's findings.
///
/// Acquisitions inside `f` proceed after their report, except one that can only hang (a lock this
/// thread already holds exclusively): that panics once the report is in the returned vector's
/// scope, and the panic propagates out of `capture`.
///
/// ```
/// use lockdep_core::{capture, Mutex, ReportKind};
///
/// let a = Mutex::named("doc-capture-a", ());
/// let b = Mutex::named("doc-capture-b", ());
/// let reports = capture(|| {
///     {
///         let _a = a.lock();
///         let _b = b.lock();
///     }
///     let _b = b.lock();
///     let _a = a.lock(); // the inversion: reported, not acted on
/// });
/// # if lockdep_core::CHECKS_COMPILED_IN {
/// assert_eq!(reports.len(), 1);
/// assert_eq!(reports[0].kind(), ReportKind::CircularDependency);
/// assert_eq!(reports[0].classes(), ["doc-capture-a", "doc-capture-b"]);
/// # }
/// ```
pub fn capture<R>(f: impl FnOnce() -> R) -> Vec<Report> {
    capture_with(f).1
}

/// Like [`capture`], also returning what `f` returned.
pub fn capture_with<R>(f: impl FnOnce() -> R) -> (R, Vec<Report>) {
    #[cfg(lockdep_checks)]
    {
        collect(f)
    }
    #[cfg(not(lockdep_checks))]
    (f(), Vec::new())
}

/// Hands a new finding to whoever takes it: the thread's capture scope, else the handler, else
/// the mode. Called with no validator lock held and no thread-local state borrowed, since the
/// handler is user code and may unwind from here.
///
/// The `Panic` mode's panic is left to the caller, which raises it where the user's
/// acquisition site is known: returns whether it is due (a handler may still panic in here).
#[cfg(lockdep_checks)]
pub(crate) fn deliver_unless_panic(report: &Report) -> bool {
    crate::figures::note_report();
    if let Some(sink) = current_sink() {
        if let Some(reports) = sink.lock().as_mut() {
            reports.push(report.clone());
            return false;
        }
    }
    let handler = HANDLER.read().clone();
    if let Some(handler) = handler {
        // A handler's panic goes on to the acquiring thread, unless that would take the process
        // down: then the report is printed instead.
        let handled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler(report)));
        if let Err(payload) = handled {
            if !panic_would_abort() {
                std::panic::resume_unwind(payload);
            }
            print_instead_of_panicking(report);
        }
        return false;
    }
    match mode() {
        // A warning-level finding (a timed-lock inversion) never panics.
        Mode::Panic if report.kind().is_warning() => warn(report),
        // Unwinding already, or in a thread-local destructor: a panic would abort the process.
        Mode::Panic if panic_would_abort() => print_instead_of_panicking(report),
        Mode::Panic => return true,
        Mode::Warn => warn(report),
        Mode::Off => {}
    }
    false
}

/// Whether a panic raised here would abort the process instead of reaching the caller: this
/// thread is already unwinding (a panic in a destructor during unwinding aborts), or a
/// thread-local's destructor is running (a panic escaping one aborts). The second is known
/// for certain once the validator's own per-thread exit check has begun its destructor (it
/// says so through [`note_thread_exiting`]), and
/// otherwise read from the stack (a frame of the standard library's or the C library's
/// thread-local destructor runner), which is walked only here, on the way to a panic.
#[cfg(lockdep_checks)]
pub(crate) fn panic_would_abort() -> bool {
    std::thread::panicking()
        || THREAD_EXITING.with(Cell::get)
        || crate::trace::in_thread_local_destructor()
}

#[cfg(lockdep_checks)]
thread_local! {
    /// Set once this thread's thread-locals are being destroyed, as far as the validator's own
    /// exit check can tell: from its destructor on, every later destructor is part of the
    /// teardown. (Destructors of thread-locals first used after the thread's first acquisition
    /// run before it; [`crate::trace::in_thread_local_destructor`] covers those.) A plain
    /// `Cell` with no destructor, so it stays readable to the very end.
    static THREAD_EXITING: Cell<bool> = const { Cell::new(false) };
}

/// Called by the validator's per-thread exit check as its destructor starts (see
/// [`panic_would_abort`]).
#[cfg(lockdep_checks)]
pub(crate) fn note_thread_exiting() {
    THREAD_EXITING.with(|exiting| exiting.set(true));
}

/// `Panic` mode where a panic would abort: the report is printed (whole, once) and the
/// acquisition goes on, as in `Warn` mode. Nothing is lost and the process is not taken down.
#[cfg(lockdep_checks)]
fn print_instead_of_panicking(report: &Report) {
    use std::io::Write;
    let why = if std::thread::panicking() {
        "this thread is already panicking"
    } else {
        "it was raised in a thread-local destructor"
    };
    // Written straight to stderr, ignoring errors: `eprintln!` panics if stderr is gone.
    let _ = writeln!(
        std::io::stderr().lock(),
        "lockdep: a report is printed instead of panicking, because {why} (a panic now would \
         abort the process):\n{report}"
    );
}

/// Writes `text` and a newline straight to stderr, ignoring errors (`eprintln!` panics if stderr
/// is gone, and the callers are on paths that must not unwind).
#[cfg(lockdep_checks)]
pub(crate) fn print_raw(text: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

#[cfg(lockdep_checks)]
fn warn(report: &Report) {
    // LOCKDEP_GRAPH: a finding another process of the suite reported is printed once there.
    if let Some(first) = crate::store::online::reported_elsewhere(report) {
        eprintln!(
            "lockdep: {} ({}) was reported by {first} already; not repeated here",
            match report.kind() {
                ReportKind::CircularDependency => "possible circular locking dependency",
                _ => "possible recursive locking",
            },
            report.classes().join(" -> ")
        );
        return;
    }
    #[cfg(feature = "log")]
    {
        if log::log_enabled!(target: "lockdep", log::Level::Warn) {
            log::warn!(target: "lockdep", "{report}");
            return;
        }
    }
    use std::io::Write;
    // Not `eprintln!`, which panics if stderr is gone: a warning never takes the program down.
    let _ = writeln!(std::io::stderr().lock(), "{report}");
}

#[cfg(all(test, lockdep_checks))]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_like_the_environment_variable() {
        assert_eq!("panic".parse(), Ok(Mode::Panic));
        assert_eq!(" WARN ".parse(), Ok(Mode::Warn));
        assert_eq!("off".parse(), Ok(Mode::Off));
        assert!("loud".parse::<Mode>().is_err());
    }

    #[test]
    fn capture_scopes_nest_and_unwind() {
        assert!(current_sink().is_none());
        let result = std::panic::catch_unwind(|| {
            capture(|| {
                assert!(current_sink().is_some());
                panic!("inside");
            })
        });
        assert!(result.is_err());
        assert!(
            current_sink().is_none(),
            "a panicking closure must not leak its scope"
        );
    }
}
