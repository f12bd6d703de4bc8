//! A user handler receives reports instead of the mode's action; `capture` still wins on its
//! own thread; a panicking handler propagates and leaves the validator usable (own binary).
// Every test here needs the checks: compiled out with them.
#![cfg(lockdep_checks)]

use lockdep_core::{capture, clear_handler, set_handler, Mutex, Report, ReportKind};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex as StdMutex};

fn invert(a: &Mutex<()>, b: &Mutex<()>) {
    {
        let _a = a.lock();
        let _b = b.lock();
    }
    let _b = b.lock();
    let _a = a.lock();
}

#[test]
fn handler_capture_and_panicking_handler() {
    let seen: Arc<StdMutex<Vec<Report>>> = Arc::default();
    let sink = Arc::clone(&seen);
    set_handler(move |report| sink.lock().unwrap().push(report.clone()));

    // Reports from any thread reach the handler.
    let (a, b) = (Mutex::named("handler-A", ()), Mutex::named("handler-B", ()));
    std::thread::scope(|s| {
        s.spawn(|| invert(&a, &b));
    });
    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].kind(), ReportKind::CircularDependency);
        assert_eq!(seen[0].classes(), ["handler-A", "handler-B"]);
    }

    // A capture scope on this thread takes precedence over the handler.
    let (c, d) = (Mutex::named("handler-C", ()), Mutex::named("handler-D", ()));
    let captured = capture(|| invert(&c, &d));
    assert_eq!(captured.len(), 1);
    assert_eq!(seen.lock().unwrap().len(), 1);

    // A handler that panics: the panic reaches the acquiring thread, the lock is not taken,
    // and the validator keeps working.
    set_handler(|report| panic!("handler refuses: {:?}", report.classes()));
    let (e, f) = (Mutex::named("handler-E", ()), Mutex::named("handler-F", ()));
    let err = catch_unwind(AssertUnwindSafe(|| invert(&e, &f))).expect_err("handler panics");
    let message = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("handler refuses"), "{message}");
    assert!(!e.is_locked() && !f.is_locked());
    assert!(lockdep_core::held_locks().is_empty());

    clear_handler();
    let (g, h) = (Mutex::named("handler-G", ()), Mutex::named("handler-H", ()));
    let captured = capture(|| invert(&g, &h));
    assert_eq!(
        captured.len(),
        1,
        "still checking after a panicking handler"
    );
}
