//! The runtime of the attribute macros (`lockdep-macros`), reached through
//! `lockdep_core::__private`: what `#[lockdep_core::test]` (sync and async) expands to call, and
//! the checks of `#[requires]` / `#[excludes]`. The behaviour lives (and is tested) here, the
//! macros only generate the calls.

use crate::TrackedLock;

#[cfg(lockdep_checks)]
pub use crate::validator::held_count;

/// How many locks the current thread holds: none are tracked with the checks compiled out.
#[cfg(not(lockdep_checks))]
pub fn held_count() -> usize {
    0
}

/// The runtime of `#[lockdep_core::test]`: runs `body` in a report scope of its own and
/// fails (panics) with every report in full if any was raised. If the body panics, the
/// reports are printed and the panic goes on unchanged, so `#[should_panic]` sees its own
/// message. The failure is located at the caller's line: the macro places the call at the
/// test function's name.
#[track_caller]
pub fn run_test<R>(name: &'static str, body: impl FnOnce() -> R) -> R {
    #[cfg(lockdep_checks)]
    {
        // A thread the test started and did not join reports, once the test is over, as if
        // it had no scope: to the handler or the global mode.
        let (outcome, reports) =
            crate::mode::collect(|| std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)));
        match outcome {
            Ok(value) if reports.is_empty() => value,
            Ok(_) => panic!("{}", test_failure(name, &reports)),
            Err(payload) => {
                // A report that is the panic itself (a certain self-deadlock, a `Panic`-mode
                // report) was printed with it: each report is printed once.
                let message = payload
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| payload.downcast_ref::<&str>().copied())
                    .unwrap_or("");
                // (A task's panic carries one line naming the report, which was printed when
                // it was raised.)
                let others: Vec<crate::Report> = reports
                    .into_iter()
                    .filter(|report| {
                        !message.contains(&report.to_string())
                            && !message.contains(&crate::report::PanicLine(report).to_string())
                    })
                    .collect();
                if !others.is_empty() {
                    eprintln!("{}", test_failure(name, &others));
                }
                std::panic::resume_unwind(payload)
            }
        }
    }
    #[cfg(not(lockdep_checks))]
    {
        let _ = name;
        body()
    }
}

/// The runtime of an async `#[lockdep_core::test]`: builds the runtime from `builder` and
/// runs the body on it as a lockdep task (see [`crate::task`]), inside the test's report
/// scope.
#[cfg(feature = "tokio")]
#[track_caller]
pub fn run_async_test<F: std::future::Future>(
    name: &'static str,
    mut builder: ::tokio::runtime::Builder,
    body: impl FnOnce() -> F,
) -> F::Output {
    let at = std::panic::Location::caller();
    run_test(name, move || {
        let runtime = builder
            .enable_all()
            .build()
            .expect("lockdep: could not build the tokio runtime of the test");
        runtime.block_on(crate::task::Tracked::new(body(), at, false))
    })
}

/// The failure message of a test that raised `reports`.
#[cfg(lockdep_checks)]
fn test_failure(name: &str, reports: &[crate::Report]) -> String {
    use std::fmt::Write;
    let n = reports.len();
    let mut text = format!(
        "lockdep: test `{name}` raised {n} lockdep report{}:\n",
        if n == 1 { "" } else { "s" }
    );
    for (i, report) in reports.iter().enumerate() {
        let _ = write!(text, "\n--- report {} of {n} ---\n{report}\n", i + 1);
    }
    text
}

/// `#[lockdep_core::requires(lock)]` on `function`: `lock` (written `expr`) must be held.
#[track_caller]
pub fn requires<L: TrackedLock + ?Sized>(lock: &L, function: &str, expr: &str) {
    if !crate::is_held(lock) && crate::CHECKS_COMPILED_IN {
        panic!(
            "lockdep: `{function}` requires `{expr}` (class `{}`) to be held by this \
             thread, but it is not",
            lock.lock_instance().class_name()
        );
    }
}

/// `#[lockdep_core::excludes(lock)]` on `function`: `lock` (written `expr`) must not be
/// held.
#[track_caller]
pub fn excludes<L: TrackedLock + ?Sized>(lock: &L, function: &str, expr: &str) {
    if crate::is_held(lock) {
        panic!(
            "lockdep: `{function}` must not be called with `{expr}` (class `{}`) held, but \
             this thread holds it",
            lock.lock_instance().class_name()
        );
    }
}
