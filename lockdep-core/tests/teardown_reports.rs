//! Reports raised where a panic would abort the process — while the thread is already
//! unwinding, or inside a thread-local's destructor — and `capture` inside such destructors.
//! The validator must never take the program down for its own reasons, nor lose a report.
//!
//! The `Panic`-mode cases run in a child process (this test binary again, one test selected),
//! so that an abort fails the test instead of killing the whole run, and so that the printed
//! report can be read from its stderr.

use lockdep_core::{capture, Mutex, Report, ReportKind};
mod common;
use std::sync::Mutex as StdMutex;

/// Runs `scenario` in a child process when this is the parent; in the child, runs it.
/// Returns the child's stderr.
fn in_child(test: &str, scenario: impl FnOnce()) -> Option<String> {
    let output = common::in_child("LOCKDEP_TEARDOWN_CHILD", test, scenario)?;
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the child died ({}):\n{stdout}\n{stderr}",
        output.status
    );
    Some(stderr)
}

/// A panic's message, whichever form its payload took.
fn message(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("<not a string>")
}

/// Takes `a` then `b`, then `b` then `a`: one inversion.
fn invert(a: &Mutex<()>, b: &Mutex<()>) {
    {
        let _a = a.lock();
        let _b = b.lock();
    }
    let _b = b.lock();
    let _a = a.lock();
}

#[track_caller]
fn assert_printed_once(stderr: &str, class: &str) {
    if !lockdep_core::CHECKS_COMPILED_IN {
        return;
    }
    assert_eq!(
        stderr
            .matches("a report is printed instead of panicking")
            .count(),
        1,
        "{stderr}"
    );
    assert_eq!(
        stderr
            .matches("possible circular locking dependency detected")
            .count(),
        1,
        "{stderr}"
    );
    assert!(stderr.contains(class), "{stderr}");
}

struct InvertsOnDrop(&'static str);

impl Drop for InvertsOnDrop {
    fn drop(&mut self) {
        let a = Mutex::named(&format!("{}-A", self.0), ());
        let b = Mutex::named(&format!("{}-B", self.0), ());
        invert(&a, &b);
        // Reached: the report did not panic out of the destructor.
        println!("{} went on", self.0);
    }
}

#[test]
#[cfg_attr(miri, ignore = "spawns a child process, which Miri cannot")]
fn a_report_while_unwinding_is_printed_not_fatal() {
    let stderr = in_child("a_report_while_unwinding_is_printed_not_fatal", || {
        let unwound = std::panic::catch_unwind(|| {
            let _cleanup = InvertsOnDrop("unwinding");
            panic!("the original panic");
        });
        let payload = unwound.expect_err("the original panic goes on");
        assert_eq!(message(&*payload), "the original panic");
    });
    if let Some(stderr) = stderr {
        assert_printed_once(&stderr, "(unwinding-A)");
        if lockdep_core::CHECKS_COMPILED_IN {
            assert!(stderr.contains("already panicking"), "{stderr}");
        }
    }
}

thread_local! {
    static FIRST_USED_BEFORE_ANY_LOCK: InvertsOnDrop = const { InvertsOnDrop("tls-early") };
    static FIRST_USED_AFTER_A_LOCK: InvertsOnDrop = const { InvertsOnDrop("tls-late") };
}

#[test]
#[cfg_attr(miri, ignore = "spawns a child process, which Miri cannot")]
fn a_report_in_a_thread_local_destructor_is_printed_not_fatal() {
    let stderr = in_child(
        "a_report_in_a_thread_local_destructor_is_printed_not_fatal",
        || {
            std::thread::spawn(|| {
                // Destroyed after the validator's own per-thread state...
                FIRST_USED_BEFORE_ANY_LOCK.with(|_| {});
                drop(Mutex::named("tls-first", ()).lock());
                // ...and before it.
                FIRST_USED_AFTER_A_LOCK.with(|_| {});
            })
            .join()
            .expect("no panic escapes a thread-local destructor");
        },
    );
    if let Some(stderr) = stderr {
        if lockdep_core::CHECKS_COMPILED_IN {
            assert_eq!(
                stderr
                    .matches("a report is printed instead of panicking, because it was raised in a thread-local destructor")
                    .count(),
                2,
                "{stderr}"
            );
            assert!(stderr.contains("(tls-early-A)") && stderr.contains("(tls-late-A)"));
        }
    }
}

/// What the destructors below captured.
static CAPTURED: StdMutex<Vec<(&'static str, Vec<Report>)>> = StdMutex::new(Vec::new());

struct CapturesOnDrop(&'static str);

impl Drop for CapturesOnDrop {
    fn drop(&mut self) {
        let a = Mutex::named(&format!("{}-A", self.0), ());
        let b = Mutex::named(&format!("{}-B", self.0), ());
        let reports = capture(|| invert(&a, &b));
        CAPTURED.lock().unwrap().push((self.0, reports));
    }
}

thread_local! {
    static CAPTURE_EARLY: CapturesOnDrop = const { CapturesOnDrop("capture-early") };
    static CAPTURE_LATE: CapturesOnDrop = const { CapturesOnDrop("capture-late") };
}

#[test]
fn capture_works_in_thread_local_destructors() {
    std::thread::spawn(|| {
        CAPTURE_EARLY.with(|_| {});
        drop(Mutex::named("capture-first", ()).lock());
        CAPTURE_LATE.with(|_| {});
    })
    .join()
    .expect("capture in a thread-local destructor must not abort or panic");
    let mut captured = CAPTURED.lock().unwrap();
    captured.sort_by_key(|(name, _)| *name);
    let names: Vec<&str> = captured.iter().map(|(name, _)| *name).collect();
    assert_eq!(names, ["capture-early", "capture-late"]);
    for (name, reports) in captured.iter() {
        if lockdep_core::CHECKS_COMPILED_IN {
            assert_eq!(reports.len(), 1, "{name}: {reports:?}");
            assert_eq!(reports[0].kind(), ReportKind::CircularDependency);
            assert_eq!(
                reports[0].classes(),
                [format!("{name}-A"), format!("{name}-B")]
            );
        } else {
            assert!(reports.is_empty());
        }
    }
}

#[test]
#[cfg_attr(miri, ignore = "spawns a child process, which Miri cannot")]
fn a_panicking_handler_while_unwinding_is_printed_not_fatal() {
    let stderr = in_child(
        "a_panicking_handler_while_unwinding_is_printed_not_fatal",
        || {
            lockdep_core::set_handler(|report| panic!("handler: {:?}", report.classes()));
            let unwound = std::panic::catch_unwind(|| {
                let _cleanup = InvertsOnDrop("handler");
                panic!("the original panic");
            });
            let payload = unwound.expect_err("the original panic goes on");
            assert_eq!(message(&*payload), "the original panic");
            // Outside unwinding, the handler's panic reaches the acquiring thread as before.
            let a = Mutex::named("handler-outside-A", ());
            let b = Mutex::named("handler-outside-B", ());
            let outside = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| invert(&a, &b)));
            if lockdep_core::CHECKS_COMPILED_IN {
                let payload = outside.expect_err("the handler panics");
                let text = message(&*payload);
                assert!(text.starts_with("handler: "), "{text}");
            }
        },
    );
    if let Some(stderr) = stderr {
        assert_printed_once(&stderr, "(handler-A)");
    }
}
