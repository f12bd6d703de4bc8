//! Stack traces: captured unresolved (cheap, bounded) when a dependency is first seen, resolved
//! to symbols only when a report is printed.

use once_cell::sync::Lazy;
use std::ffi::c_void;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

/// At most this many frames are kept, as the kernel keeps a bounded trace per dependency: a
/// capture costs a fraction of a microsecond per frame.
pub const MAX_TRACE_FRAMES: usize = 32;

/// An unresolved stack trace.
pub(crate) struct Trace {
    /// Return addresses, kept as the pointers the unwinder gave (never cast to `usize` and
    /// back): symbol resolution under Miri looks the frame up through the pointer's provenance.
    ips: Box<[*mut c_void]>,
    resolved: OnceLock<Vec<Frame>>,
    /// For a stack another process recorded (`LOCKDEP_GRAPH`): which one, shown above it.
    origin: Option<String>,
}

// SAFETY: the pointers are code addresses, only ever handed to `backtrace::resolve` (which
// reads no memory through them that another thread could be writing) and never dereferenced
// here; the rest is `Send + Sync` data.
unsafe impl Send for Trace {}
// SAFETY: as above; `resolved` is a `OnceLock`, safe to initialise from any thread.
unsafe impl Sync for Trace {}

struct Frame {
    name: String,
    location: Option<String>,
}

/// Whether a new dependency records where it was first seen. Always on, except in the benches,
/// which turn it off to time the graph work apart from the capture (see
/// [`crate::raw::bench`]): a report without first-seen stacks would be far less useful.
static DEPENDENCY_TRACES: AtomicBool = AtomicBool::new(true);

/// How long after a process's first dependency its symbols start loading ahead of any report
/// (see [`Trace::warm_up_symbols`]).
const WARM_UP_DELAY: std::time::Duration = std::time::Duration::from_millis(500);

/// What a dependency records when [`DEPENDENCY_TRACES`] is off: one shared, empty trace, so that
/// nothing is allocated per edge.
static NO_TRACE: Lazy<Arc<Trace>> = Lazy::new(|| {
    Arc::new(Trace {
        ips: Box::new([]),
        resolved: OnceLock::new(),
        origin: None,
    })
});

/// Turns the per-dependency capture on or off (a bench hook).
pub(crate) fn set_dependency_traces(on: bool) {
    DEPENDENCY_TRACES.store(on, Ordering::Relaxed);
}

impl Trace {
    /// The trace a new dependency records: [`Trace::capture`], unless a bench turned that off.
    pub(crate) fn for_dependency() -> Arc<Trace> {
        if DEPENDENCY_TRACES.load(Ordering::Relaxed) {
            Trace::capture()
        } else {
            NO_TRACE.clone()
        }
    }

    /// Starts loading the symbols of the objects this stack runs in, on a thread of its own,
    /// once per process (the first time a dependency is recorded). The first resolution in a
    /// process reads the binary's symbol tables and debug information, which can take a
    /// second for a large debug binary; done here, ahead of any report, it is not paid by the
    /// thread that raises the first report while it holds the user's locks (the `Panic` mode
    /// formats its message, stacks included, before the panic starts unwinding them).
    ///
    /// The loading starts [`WARM_UP_DELAY`] after the first dependency, not at once: it costs
    /// about a tenth of a second of CPU in a debug binary, which a suite of short test
    /// processes paid in every process (a real suite ran at 1.5× its plain time, two thirds of
    /// that this thread), while only a program that lives past the delay can gain from it.
    /// A report before then loads the symbols itself, as it would without the warm-up.
    pub(crate) fn warm_up_symbols(self: &Arc<Trace>) {
        static STARTED: AtomicBool = AtomicBool::new(false);
        if cfg!(miri) || self.ips.is_empty() || STARTED.swap(true, Ordering::Relaxed) {
            return;
        }
        let trace = self.clone();
        // A failed spawn only leaves the loading to the first report.
        let _ = std::thread::Builder::new()
            .name("lockdep-symbols".to_string())
            .spawn(move || {
                std::thread::sleep(WARM_UP_DELAY);
                let _ = trace.frames();
            });
    }

    /// Captures the current stack, at most [`MAX_TRACE_FRAMES`] frames, without resolving it.
    #[inline(never)]
    pub(crate) fn capture() -> Arc<Trace> {
        let mut ips = [std::ptr::null_mut(); MAX_TRACE_FRAMES];
        let mut len = 0;
        walk(|frame| {
            ips[len] = frame.ip();
            len += 1;
            len < MAX_TRACE_FRAMES
        });
        Arc::new(Trace {
            ips: ips[..len].into(),
            resolved: OnceLock::new(),
            origin: None,
        })
    }

    /// A stack recorded by another process, already resolved to text: `frames` are (function,
    /// location) pairs, `origin` says where it was seen ("first_half (test takes_a_then_b)").
    pub(crate) fn stored(frames: Vec<(String, Option<String>)>, origin: String) -> Arc<Trace> {
        let frames: Vec<Frame> = frames
            .into_iter()
            .map(|(name, location)| Frame { name, location })
            .collect();
        Arc::new(Trace {
            ips: Box::new([]),
            resolved: OnceLock::from(frames),
            origin: Some(origin),
        })
    }

    /// The trimmed, resolved frames as (function, location) pairs, for the store to write.
    pub(crate) fn resolved_frames(&self) -> Vec<(String, Option<String>)> {
        self.frames()
            .iter()
            .map(|f| (f.name.clone(), f.location.clone()))
            .collect()
    }

    /// Number of raw frames captured.
    pub(crate) fn depth(&self) -> usize {
        self.ips.len()
    }

    fn frames(&self) -> &[Frame] {
        self.resolved.get_or_init(|| {
            let mut frames = Vec::new();
            for &ip in self.ips.iter() {
                let mut found = false;
                backtrace::resolve(ip, |symbol| {
                    found = true;
                    frames.push(Frame {
                        name: symbol
                            .name()
                            .map_or_else(|| format!("{ip:p}"), |n| format!("{n:#}")),
                        location: symbol.filename().map(|file| match symbol.lineno() {
                            Some(line) => format!("{}:{line}", file.display()),
                            None => file.display().to_string(),
                        }),
                    });
                });
                if !found {
                    frames.push(Frame {
                        name: format!("{ip:p}"),
                        location: None,
                    });
                }
            }
            trim(frames)
        })
    }

    /// The resolved function names, outermost last, with the validator's own frames trimmed.
    pub(crate) fn function_names(&self) -> Vec<&str> {
        self.frames().iter().map(|f| f.name.as_str()).collect()
    }
}

/// Walks the current stack, unresolved. `backtrace::trace` takes the crate's global lock, which
/// its symbol resolution holds too — for as long as a first resolution loads a binary's debug
/// information (a second, for a large debug binary): every capture on every thread would wait
/// behind the symbols being loaded for a report (or by [`Trace::warm_up_symbols`]). The lock
/// exists for Windows' `dbghelp`, which is not thread-safe; elsewhere the unwinder is (the
/// standard library's own backtraces walk unsynchronized too), so the walk skips it.
#[inline(always)]
fn walk(cb: impl FnMut(&backtrace::Frame) -> bool) {
    #[cfg(not(windows))]
    // SAFETY: the unsynchronized walk is unsafe only because `dbghelp` (Windows) is not
    // thread-safe; this platform's unwinder is, and `cb` only copies addresses.
    unsafe {
        backtrace::trace_unsynchronized(cb)
    }
    #[cfg(windows)]
    backtrace::trace(cb)
}

/// Whether the current stack runs inside a thread-local's destructor, where a panic aborts the
/// process. This is on the way to every panic a report raises, while the reporting thread still
/// holds the user's locks, so it must cost microseconds, not a symbolization: on glibc the
/// stack is walked unresolved and each return address compared with the address range of the
/// C library's destructor runner (`__call_tls_dtors`, through which the standard library runs
/// every thread-local destructor on glibc), found once with `dlsym`/`dladdr1`.
pub(crate) fn in_thread_local_destructor() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu", target_pointer_width = "64"))]
    if let Some(runner) = glibc::tls_destructor_runner() {
        let mut found = false;
        walk(|frame| {
            found = runner.contains(&(frame.ip() as usize));
            !found
        });
        return found;
    }
    in_thread_local_destructor_by_name()
}

/// [`in_thread_local_destructor`] where the runner's address is not known: the whole stack is
/// walked and resolved, looking for a frame of the standard library's destructor runner
/// (`abort_on_dtor_unwind`, `thread_local::...::destroy`) or of the C library's
/// (`__call_tls_dtors`). Without symbols (a stripped binary) it answers `false`.
fn in_thread_local_destructor_by_name() -> bool {
    let mut found = false;
    backtrace::trace(|frame| {
        backtrace::resolve_frame(frame, |symbol| {
            if let Some(name) = symbol.name() {
                let name = format!("{name:#}");
                found |= name.contains("abort_on_dtor_unwind")
                    || name.contains("call_tls_dtors")
                    || (name.contains("thread_local") && name.contains("destroy"));
            }
        });
        !found
    });
    found
}

/// The address range of glibc's thread-local destructor runner.
#[cfg(all(target_os = "linux", target_env = "gnu", target_pointer_width = "64"))]
mod glibc {
    use std::ops::Range;
    use std::sync::OnceLock;

    /// `RTLD_DL_SYMENT` (glibc's `<dlfcn.h>`): `dladdr1` returns the symbol's ELF entry.
    const RTLD_DL_SYMENT: libc::c_int = 1;

    /// Where `__call_tls_dtors` lies, looked up once; `None` if the C library does not say.
    pub(super) fn tls_destructor_runner() -> Option<Range<usize>> {
        static RUNNER: OnceLock<Option<Range<usize>>> = OnceLock::new();
        RUNNER.get_or_init(look_up).clone()
    }

    fn look_up() -> Option<Range<usize>> {
        // SAFETY: `dlsym` with a NUL-terminated name; the result is only compared, never called.
        let start = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"__call_tls_dtors".as_ptr()) };
        if start.is_null() {
            return None;
        }
        // SAFETY: `Dl_info` is plain data, for `dladdr1` to fill.
        let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
        let mut entry: *mut libc::c_void = std::ptr::null_mut();
        // SAFETY: valid out-pointers; with `RTLD_DL_SYMENT`, `entry` receives a pointer to the
        // symbol's `Elf64_Sym` in the loaded object's symbol table, which stays mapped.
        let found = unsafe { libc::dladdr1(start, &mut info, &mut entry, RTLD_DL_SYMENT) };
        if found == 0 || entry.is_null() {
            return None;
        }
        // SAFETY: see above: a valid `Elf64_Sym` on this 64-bit glibc target.
        let size = unsafe { (*(entry as *const libc::Elf64_Sym)).st_size } as usize;
        (size > 0).then(|| start as usize..start as usize + size)
    }
}

/// A task's future as reports name it: an `async fn`'s (or an async block's) type or poll
/// frame is its function's path followed by `::{{closure}}`, which says nothing to a reader.
pub(crate) fn future_name(name: &str) -> String {
    let mut name = name;
    while let Some(outer) = name.strip_suffix("::{{closure}}") {
        name = outer;
    }
    format!("`{name}`")
}

/// What a plain tokio task runs, as far as a stack captured in it tells: its outermost frame of
/// user code (the task's future being polled; tokio's polling machinery around it is trimmed).
/// Named by the function whose `async` body or block it is, and the line that future is at:
/// for an `async` block (`tokio::spawn(async move { .. })`, the usual way to spawn) that line is
/// in the block, where it was spawned, in the user's code even when a shared helper or a
/// framework made the `spawn` call (tokio records the spawn call's own place only under
/// `tokio_unstable`).
pub(crate) fn task_future(trace: &Trace) -> Option<String> {
    let frame = trace.frames().last()?;
    let name = future_name(&frame.name);
    Some(match &frame.location {
        Some(location) => format!("{name} at {}", relative_to_cwd(location)),
        None => name,
    })
}

/// `location` (`file:line`, as debug information writes the file: often absolute) relative to
/// the current directory where it lies below it, as `Location`s are written.
fn relative_to_cwd(location: &str) -> &str {
    // Miri's isolation refuses `getcwd` outright (an error, not an `Err`).
    if cfg!(miri) {
        return location;
    }
    let Ok(cwd) = std::env::current_dir() else {
        return location;
    };
    let cwd = cwd.display().to_string();
    let stripped = location
        .strip_prefix(cwd.as_str())
        .and_then(|rest| rest.strip_prefix(std::path::MAIN_SEPARATOR));
    stripped.unwrap_or(location)
}

/// Frames of the validator, the lock layers and the standard library glue between them.
fn is_internal(name: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "backtrace::",
        "lockdep_core::",
        "<lockdep_core::",
        "lock_api::",
        "<lock_api::",
        "std::",
        "<std::",
        "core::",
        "<core::",
        "alloc::",
        "<alloc::",
        "__rust",
        "test::",
        "<fn(",
        // The async runtimes' polling machinery around a task's own frames.
        "tokio::",
        "<tokio::",
        "futures_util::",
        "<futures_util::",
        "futures_executor::",
        "<futures_executor::",
    ];
    // The C runtime's entry points below `main` and thread start-up.
    const ENTRY: &[&str] = &[
        "main",
        "_start",
        "start_thread",
        "clone",
        "clone3",
        "thread_start",
    ];
    PREFIXES.iter().any(|p| name.starts_with(p))
        || ENTRY.contains(&name)
        || name.starts_with("__libc")
}

/// Frames of this crate (and the validator's capture), wherever they sit in a stack.
fn is_lockdep(name: &str) -> bool {
    ["lockdep_core::", "<lockdep_core::", "backtrace::"]
        .iter()
        .any(|p| name.starts_with(p))
}

/// Glue between user frames that says nothing about the user's lock order: unwinding catchers
/// (a test's `catch_unwind`, the harness's), closure calls through `FnOnce`, iterator adapters.
fn is_glue(name: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "std::panicking::",
        "std::panic::catch_unwind",
        "__rust_try",
        "core::ops::function::",
        "<core::panic::unwind_safe::AssertUnwindSafe",
        "core::iter::",
        "<core::iter::",
        // A future polled through a runtime, a `Pin` or a combinator between two of the user's
        // futures, as the kernel trims its entry code.
        "tokio::runtime::",
        "<tokio::runtime::",
        "core::future::",
        "<core::future::",
        "<core::pin::Pin<",
        "futures_util::",
        "<futures_util::",
        "futures_executor::",
        "<futures_executor::",
    ];
    PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Keeps the frames from the first to the last frame of user code: what lies before is the
/// capture and the lock layers, what lies after is the thread or test-harness entry glue.
fn trim(mut frames: Vec<Frame>) -> Vec<Frame> {
    // std's marker between a thread's (or test's) entry glue and the code it runs.
    if let Some(entry) = frames
        .iter()
        .position(|f| f.name.contains("__rust_begin_short_backtrace"))
    {
        frames.truncate(entry);
    }
    let first_user = frames.iter().position(|f| !is_internal(&f.name));
    let last_user = frames.iter().rposition(|f| !is_internal(&f.name));
    match (first_user, last_user) {
        (Some(first), Some(last)) => {
            frames.truncate(last + 1);
            frames.drain(..first);
            // Lockdep's own frames between user frames (`capture`, the test attribute's scope,
            // `thread::spawn`'s glue) say nothing about the user's lock order, nor do the
            // catchers and closure calls around them.
            frames.retain(|f| !is_lockdep(&f.name) && !is_glue(&f.name));
            frames
        }
        // No frame of user code: it was inlined into lockdep's (an optimised build inlines a
        // closure into `capture`, say). Lockdep's own frames still say nothing to its user;
        // only where there is nothing else (a unit test of the validator itself) are they
        // kept.
        _ => {
            if frames.iter().all(|f| is_lockdep(&f.name)) {
                return frames;
            }
            frames.retain(|f| !is_lockdep(&f.name));
            frames
        }
    }
}

/// A resolved `Backtrace` (`check_deadlock`'s, which the user may also read whole) written as a
/// report's stacks are: trimmed of lockdep's frames, the test harness, `catch_unwind` and the
/// thread and process start-up, so that the frames that matter are the ones shown.
#[cfg(feature = "deadlock_detection")]
pub(crate) fn fmt_trimmed(
    f: &mut fmt::Formatter<'_>,
    backtrace: &backtrace::Backtrace,
) -> fmt::Result {
    let mut frames = Vec::new();
    for frame in backtrace.frames() {
        for symbol in frame.symbols() {
            frames.push(Frame {
                name: symbol
                    .name()
                    .map_or_else(|| format!("{:?}", frame.ip()), |n| format!("{n:#}")),
                location: symbol.filename().map(|file| match symbol.lineno() {
                    Some(line) => format!("{}:{line}", file.display()),
                    None => file.display().to_string(),
                }),
            });
        }
    }
    for frame in trim(frames) {
        writeln!(f, "       {}", frame.name)?;
        if let Some(location) = &frame.location {
            writeln!(f, "           at {location}")?;
        }
    }
    Ok(())
}

impl fmt::Display for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(origin) = &self.origin {
            writeln!(f, "       first seen in {origin}")?;
        }
        let frames = self.frames();
        if frames.is_empty() {
            return writeln!(f, "       <no frames captured>");
        }
        for frame in frames {
            writeln!(f, "       {}", frame.name)?;
            if let Some(location) = &frame.location {
                writeln!(f, "           at {location}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Trace")
            .field("frames", &self.ips.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[inline(never)]
    fn capture_here() -> Arc<Trace> {
        Trace::capture()
    }

    #[test]
    fn capture_is_bounded_and_resolves_lazily() {
        let trace = capture_here();
        assert!(trace.depth() > 0 && trace.depth() <= MAX_TRACE_FRAMES);
        assert!(
            trace.resolved.get().is_none(),
            "capturing must not resolve symbols"
        );
        let text = trace.to_string();
        assert!(!text.is_empty());
        assert!(trace.resolved.get().is_some());
    }

    /// Outside a destructor the answer is no; inside one, yes — by the cheap check and by
    /// the symbolizing one alike.
    #[test]
    fn thread_local_destructors_are_told_apart() {
        assert!(!in_thread_local_destructor());
        struct Probe;
        impl Drop for Probe {
            fn drop(&mut self) {
                assert!(in_thread_local_destructor());
                assert!(in_thread_local_destructor_by_name());
                SEEN.store(true, Ordering::Relaxed);
            }
        }
        static SEEN: AtomicBool = AtomicBool::new(false);
        thread_local! {
            static PROBE: std::cell::RefCell<Option<Probe>> = const { std::cell::RefCell::new(None) };
        }
        // A failed assertion in the destructor aborts this test binary: a failure all the same.
        std::thread::spawn(|| PROBE.with(|p| *p.borrow_mut() = Some(Probe)))
            .join()
            .unwrap();
        assert!(SEEN.load(Ordering::Relaxed), "the destructor ran");
    }

    /// A resolved frame with no source position.
    fn frame(name: &str) -> Frame {
        Frame {
            name: name.to_string(),
            location: None,
        }
    }

    #[test]
    fn trimming_keeps_user_code_and_drops_lockdeps_own_frames() {
        let frames = vec![
            frame("backtrace::backtrace::trace"),
            frame("lockdep_core::trace::Trace::capture"),
            frame("std::thread::local::LocalKey<T>::with"),
            frame("<lockdep_core::raw::Checked<R> as lock_api::mutex::RawMutex>::lock"),
            frame("my_app::worker"),
            frame("lockdep_core::mode::capture"),
            frame("<lockdep_core::thread::Scoped<F> as core::ops::FnOnce<()>>::call_once"),
            frame("std::thread::local::LocalKey<T>::with"),
            frame("std::panicking::catch_unwind::do_call"),
            frame("__rust_try"),
            frame("std::panic::catch_unwind"),
            frame("<core::iter::adapters::map::Map<I,F> as core::iter::traits::iterator::Iterator>::fold"),
            frame("my_app::main"),
            frame("core::ops::function::FnOnce::call_once"),
            frame("std::rt::lang_start::{{closure}}"),
            frame("main"),
            frame("__libc_start_main"),
        ];
        let names: Vec<_> = trim(frames).into_iter().map(|f| f.name).collect();
        assert_eq!(
            names,
            vec![
                "my_app::worker",
                "std::thread::local::LocalKey<T>::with",
                "my_app::main"
            ]
        );
    }

    #[test]
    fn with_the_users_code_inlined_away_lockdeps_frames_still_go() {
        // An optimised build: the user's closure inlined into `capture`.
        let frames = vec![
            frame("lockdep_core::trace::Trace::capture"),
            frame("lockdep_core::validator::check::slow_check"),
            frame("lockdep_core::mode::collect"),
            frame("core::ops::function::FnOnce::call_once"),
        ];
        let names: Vec<_> = trim(frames).into_iter().map(|f| f.name).collect();
        assert_eq!(names, vec!["core::ops::function::FnOnce::call_once"]);
        // Nothing but lockdep (a unit test of the validator itself): kept whole.
        let own = vec![
            frame("lockdep_core::trace::Trace::capture"),
            frame("lockdep_core::validator::tests::some_test"),
        ];
        assert_eq!(trim(own).len(), 2);
    }
}
