//! `lockdep_core::thread`: spawned threads report to the scope they were spawned in.

use lockdep_core::{capture, thread, Mutex, ReportKind};

/// One order on this thread, the inverse wherever `inverse` runs.
fn setup(prefix: &str) -> (Mutex<()>, Mutex<()>) {
    let a = Mutex::named(&format!("{prefix}-a"), ());
    let b = Mutex::named(&format!("{prefix}-b"), ());
    {
        let _a = a.lock();
        let _b = b.lock();
    }
    (a, b)
}

fn inverse(a: &Mutex<()>, b: &Mutex<()>) {
    let _b = b.lock();
    let _a = a.lock();
}

fn expect_one_cycle(reports: &[lockdep_core::Report], prefix: &str) {
    if !lockdep_core::CHECKS_COMPILED_IN {
        assert!(reports.is_empty());
        return;
    }
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].kind(), ReportKind::CircularDependency);
    let a = format!("{prefix}-a");
    let b = format!("{prefix}-b");
    assert_eq!(reports[0].classes(), [a.as_str(), b.as_str()]);
}

#[test]
fn spawn_carries_the_capture_scope() {
    let (a, b) = setup("thread-spawn");
    let (a, b) = (std::sync::Arc::new(a), std::sync::Arc::new(b));
    let reports = capture(|| {
        let (a, b) = (a.clone(), b.clone());
        thread::spawn(move || inverse(&a, &b)).join().unwrap();
    });
    expect_one_cycle(&reports, "thread-spawn");
}

#[test]
fn spawned_threads_report_on_their_own_thread_name() {
    let (a, b) = setup("thread-named");
    let reports = capture(|| {
        thread::scope(|s| {
            std::thread::Builder::new()
                .name("worker-7".into())
                .spawn_scoped(s.as_std(), thread::carry_scope(|| inverse(&a, &b)))
                .unwrap()
                .join()
                .unwrap();
        })
    });
    expect_one_cycle(&reports, "thread-named");
    if lockdep_core::CHECKS_COMPILED_IN {
        assert!(
            reports[0].to_string().contains("worker-7"),
            "{}",
            reports[0]
        );
    }
}

#[test]
fn scope_spawn_carries_the_capture_scope_and_nests() {
    let (a, b) = setup("thread-scope");
    let reports = capture(|| {
        thread::scope(|s| {
            s.spawn(|| {
                // A thread started by a scoped thread inherits the scope again.
                s.spawn(|| inverse(&a, &b));
            });
        })
    });
    expect_one_cycle(&reports, "thread-scope");
}

#[test]
fn carry_scope_serves_other_spawners() {
    let (a, b) = setup("thread-carry");
    let (a, b) = (std::sync::Arc::new(a), std::sync::Arc::new(b));
    let reports = capture(|| {
        let (a, b) = (a.clone(), b.clone());
        let job = thread::carry_scope(move || inverse(&a, &b));
        std::thread::spawn(job).join().unwrap();
    });
    expect_one_cycle(&reports, "thread-carry");
}

#[test]
fn std_spawn_does_not_carry_the_scope() {
    let (a, b) = setup("thread-std");
    let (a, b) = (std::sync::Arc::new(a), std::sync::Arc::new(b));
    let reports = capture(|| {
        let (a, b) = (a.clone(), b.clone());
        // The report follows the global mode on that thread (a panic by default).
        let _ = std::thread::spawn(move || inverse(&a, &b)).join();
    });
    assert!(reports.is_empty(), "{reports:?}");
}

#[test]
fn without_a_scope_they_are_std() {
    assert_eq!(thread::spawn(|| 6 * 7).join().unwrap(), 42);
    let mut data = vec![1, 2, 3];
    let sum = thread::scope(|s| s.spawn(|| data.iter().sum::<i32>()).join().unwrap());
    data.push(sum);
    assert_eq!(data, [1, 2, 3, 6]);
}

#[test]
fn a_thread_that_outlives_its_scope_reports_as_if_it_had_none() {
    let (a, b) = setup("thread-late");
    let (a, b) = (std::sync::Arc::new(a), std::sync::Arc::new(b));
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let mut handle = None;
    let reports = capture(|| {
        let (a, b) = (a.clone(), b.clone());
        handle = Some(thread::spawn(move || {
            go_rx.recv().unwrap();
            // The capture above has returned by now: this report is not lost in it, but
            // delivered to this thread's own capture.
            capture(|| inverse(&a, &b))
        }));
    });
    assert!(reports.is_empty());
    go_tx.send(()).unwrap();
    let late = handle.unwrap().join().unwrap();
    expect_one_cycle(&late, "thread-late");
}

#[test]
fn a_thread_that_outlives_its_scope_follows_the_global_mode() {
    let (a, b) = setup("thread-late-mode");
    let (a, b) = (std::sync::Arc::new(a), std::sync::Arc::new(b));
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let mut handle = None;
    let reports = capture(|| {
        let (a, b) = (a.clone(), b.clone());
        handle = Some(thread::spawn(move || {
            go_rx.recv().unwrap();
            inverse(&a, &b);
        }));
    });
    assert!(reports.is_empty());
    go_tx.send(()).unwrap();
    let outcome = handle.unwrap().join();
    // Panic mode (the default; this binary changes no mode): the late report panics there.
    if lockdep_core::CHECKS_COMPILED_IN && lockdep_core::mode() == lockdep_core::Mode::Panic {
        let payload = outcome.expect_err("the report went to the global mode");
        let text = payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default();
        assert!(text.contains("thread-late-mode-a"), "{text}");
    }
}
