//! `#[lockdep_core::test]`: a test fails when lockdep reports anything on its thread or on the
//! threads it starts through `lockdep_core::thread`, and only then.
//!
//! Every test here uses class names of its own: a finding is reported once per process, and the
//! tests of this binary run in parallel.

use lockdep_core::{thread, Mutex};
use std::panic::catch_unwind;
use std::sync::{Arc, Barrier};

/// Takes two fresh classes in one order, then the other: one circular-dependency report.
fn invert(first: &str, second: &str) {
    let a = Mutex::named(first, ());
    let b = Mutex::named(second, ());
    {
        let _a = a.lock();
        let _b = b.lock();
    }
    let _b = b.lock();
    let _a = a.lock();
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[lockdep_core::test]
fn a_test_that_keeps_one_order_passes() {
    let outer = Mutex::named("macros-test-clean-outer", 1);
    let inner = Mutex::named("macros-test-clean-inner", 2);
    for _ in 0..3 {
        let o = outer.lock();
        let i = inner.lock();
        assert_eq!(*o + *i, 3);
    }
}

#[lockdep_core::test]
#[cfg_attr(not(lockdep_checks), ignore = "needs the checks compiled in")]
#[should_panic(expected = "raised 1 lockdep report:")]
fn an_inversion_fails_the_test() {
    invert("macros-test-fail-a", "macros-test-fail-b");
}

#[lockdep_core::test]
#[cfg_attr(not(lockdep_checks), ignore = "needs the checks compiled in")]
#[should_panic(expected = "raised 1 lockdep report:")]
fn an_inversion_on_a_thread_it_spawned_fails_the_test() {
    thread::spawn(|| invert("macros-test-spawn-a", "macros-test-spawn-b"))
        .join()
        .unwrap();
}

#[lockdep_core::test]
#[cfg_attr(not(lockdep_checks), ignore = "needs the checks compiled in")]
#[should_panic(expected = "raised 1 lockdep report:")]
fn an_inversion_on_a_scoped_thread_fails_the_test() {
    let a = Mutex::named("macros-test-scope-a", ());
    let b = Mutex::named("macros-test-scope-b", ());
    thread::scope(|s| {
        s.spawn(|| {
            let _a = a.lock();
            let _b = b.lock();
        })
        .join()
        .unwrap();
        // Nested: a thread started by a scoped thread carries the report scope on.
        s.spawn(|| {
            s.spawn(|| {
                let _b = b.lock();
                let _a = a.lock();
            });
        });
    });
}

#[lockdep_core::test]
#[cfg_attr(not(lockdep_checks), ignore = "needs the checks compiled in")]
#[should_panic(expected = "self-deadlock detected")]
fn a_certain_self_deadlock_still_panics_at_once() {
    let m = Mutex::named("macros-test-self", ());
    let _g = m.lock();
    let _again = m.lock(); // would hang: panics after the report reached the test's scope
}

#[lockdep_core::test]
fn a_report_on_a_thread_not_started_through_lockdep_is_not_the_tests() {
    // std's spawn does not carry the test's scope: this report follows the global mode (a panic
    // on that thread, by default), and this test passes.
    let _ = std::thread::spawn(|| invert("macros-test-foreign-a", "macros-test-foreign-b")).join();
}

#[lockdep_core::test]
fn result_returning_tests_keep_their_type() -> Result<(), std::num::ParseIntError> {
    let n: u32 = "42".parse()?;
    assert_eq!(n, 42);
    Ok(())
}

#[lockdep_core::test]
#[should_panic(expected = "the test's own message")]
fn should_panic_sees_the_tests_own_message() {
    panic!("the test's own message");
}

#[lockdep_core::test]
#[ignore = "shows that #[ignore] passes through: it would fail if run"]
fn ignored_tests_stay_ignored() {
    unreachable!("an ignored test ran");
}

#[test]
fn the_failure_message_holds_every_report_in_full() {
    if !lockdep_core::CHECKS_COMPILED_IN {
        return;
    }
    let payload = catch_unwind(|| {
        lockdep_core::__private::run_test("demo::two_findings", || {
            invert("macros-test-full-a", "macros-test-full-b");
            invert("macros-test-full-c", "macros-test-full-d");
        })
    })
    .expect_err("a test with reports fails");
    let text = panic_text(&*payload);
    assert!(
        text.starts_with("lockdep: test `demo::two_findings` raised 2 lockdep reports:"),
        "{text}"
    );
    assert!(text.contains("--- report 1 of 2 ---"), "{text}");
    assert!(text.contains("--- report 2 of 2 ---"), "{text}");
    assert_eq!(
        text.matches("possible circular locking dependency detected")
            .count(),
        2,
        "{text}"
    );
    for class in ["macros-test-full-a", "macros-test-full-d"] {
        assert!(text.contains(class), "{class} missing from:\n{text}");
    }
    assert!(text.contains("Possible unsafe locking scenario"), "{text}");
}

#[test]
fn a_report_in_one_test_never_fails_another_running_at_the_same_time() {
    // Two test bodies on two threads, as cargo runs them, in lock step: the first raises its
    // report while the second is inside its own scope.
    let barrier = Arc::new(Barrier::new(2));
    let run = |name: &'static str, faulty: bool, barrier: Arc<Barrier>| {
        std::thread::spawn(move || {
            catch_unwind(move || {
                lockdep_core::__private::run_test(name, || {
                    barrier.wait();
                    if faulty {
                        invert("macros-test-parallel-a", "macros-test-parallel-b");
                    }
                    barrier.wait();
                    let m = Mutex::named("macros-test-parallel-clean", ());
                    drop(m.lock());
                })
            })
            .is_ok()
        })
    };
    let faulty = run("faulty", true, barrier.clone());
    let clean = run("clean", false, barrier);
    assert_eq!(faulty.join().unwrap(), !lockdep_core::CHECKS_COMPILED_IN);
    assert!(
        clean.join().unwrap(),
        "the clean test failed for the other's report"
    );
}

/// Runs one test of this binary in a child process (`--nocapture`); its stderr.
fn child_stderr(test: &str) -> String {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--include-ignored"])
        .env_remove("LOCKDEP")
        .env_remove("LOCKDEP_GRAPH")
        .env_remove("LOCKDEP_DOT")
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
#[cfg_attr(not(lockdep_checks), ignore = "needs the checks compiled in")]
fn a_failing_test_is_located_at_its_own_line_and_a_self_deadlock_printed_once() {
    // The test's failure names the test function's line, not one inside lockdep.
    let err = child_stderr("an_inversion_fails_the_test");
    let here = file!();
    let line = line_of("fn an_inversion_fails_the_test()");
    assert!(
        err.contains(&format!("panicked at {here}:{line}:")),
        "{err}"
    );
    assert!(!err.contains("test_runtime.rs"), "{err}");
    // A certain self-deadlock is the test's panic: its report is printed once, not a second
    // time as the test's failure.
    let err = child_stderr("a_certain_self_deadlock_still_panics_at_once");
    assert_eq!(
        err.matches("WARNING: self-deadlock detected").count(),
        1,
        "{err}"
    );
}

/// The line of this file that holds `text`.
fn line_of(text: &str) -> usize {
    include_str!("macros_test_attr.rs")
        .lines()
        .position(|line| line.contains(text) && !line.contains("line_of("))
        .expect("the text is in this file")
        + 1
}
