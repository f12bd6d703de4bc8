//! Helpers shared by the scenario tests.
#![allow(dead_code)]

use lockdep_core::{capture, Report, ReportKind};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Asserts that exactly one report was raised, of `kind`, naming `classes` in this order.
#[track_caller]
pub fn assert_one(reports: &[Report], kind: ReportKind, classes: &[&str]) {
    assert_eq!(
        reports.len(),
        1,
        "expected exactly one report, got {}",
        all(reports)
    );
    assert_eq!(reports[0].kind(), kind, "{}", reports[0]);
    assert_eq!(reports[0].classes(), classes, "{}", reports[0]);
}

/// Asserts that no report was raised.
#[track_caller]
pub fn assert_none(reports: &[Report]) {
    assert!(
        reports.is_empty(),
        "expected no report, got {}",
        all(reports)
    );
}

/// The count and the full text of every report, for assertion messages.
fn all(reports: &[Report]) -> String {
    let texts: Vec<String> = reports.iter().map(Report::to_string).collect();
    format!("{}:\n{}", reports.len(), texts.join("\n"))
}

/// Runs `f` inside a capture scope, expecting it to panic; returns the reports and the panic
/// message.
pub fn capture_panic(f: impl FnOnce()) -> (Vec<Report>, String) {
    let mut message = String::new();
    let reports = capture(|| {
        let err = catch_unwind(AssertUnwindSafe(f)).expect_err("the acquisition must panic");
        message = err
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
    });
    (reports, message)
}

/// Runs `work(thread)` on `threads` threads named `{prefix}-{thread}`, each in its own capture
/// scope, and returns every report raised.
pub fn on_threads(threads: usize, prefix: &str, work: impl Fn(usize) + Sync) -> Vec<Report> {
    let work = &work;
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                std::thread::Builder::new()
                    .name(format!("{prefix}-{t}"))
                    .spawn_scoped(scope, move || capture(|| work(t)))
                    .unwrap()
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    })
}

/// Runs `scenario` in a child process (this test binary again, with only `test` selected and
/// the environment variable `marker` set) when this is the parent, and returns what the child
/// left; in the child, runs it and returns `None`. For scenarios that abort the process, or
/// must own the process's once-read settings.
pub fn in_child(marker: &str, test: &str, scenario: impl FnOnce()) -> Option<std::process::Output> {
    if std::env::var_os(marker).is_some() {
        scenario();
        return None;
    }
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(marker, "1")
        .env_remove("LOCKDEP")
        .output()
        .unwrap();
    Some(output)
}

/// Yields once, so that another task of the executor runs in between (any executor).
pub async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if std::mem::replace(&mut yielded, true) {
            std::task::Poll::Ready(())
        } else {
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await
}

/// The kinds of `reports`, in order.
pub fn kinds(reports: &[Report]) -> Vec<ReportKind> {
    reports.iter().map(|r| r.kind()).collect()
}

/// The message of a panic that `outcome` (of `catch_unwind`) must be.
#[track_caller]
pub fn panic_message(outcome: std::thread::Result<Vec<Report>>) -> String {
    match outcome {
        Err(payload) => payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default(),
        Ok(reports) => panic!("no panic: {reports:?}"),
    }
}
