//! The loading of the program's symbols ahead of a report (a thread named `lockdep-symbols`):
//! never started in a process that stops finding new lock orders within half a second of its
//! first (a short test process pays nothing for it), started by the first new order found after
//! that. One test, so that nothing else in this process records lock orders.

#![cfg(all(target_os = "linux", not(miri)))]

use lockdep_core::Mutex;
use std::time::{Duration, Instant};

/// Whether a thread of this process is named `lockdep-symbols` now.
fn loader_running() -> bool {
    std::fs::read_dir("/proc/self/task")
        .expect("/proc/self/task")
        .any(|task| {
            let comm = std::fs::read_to_string(task.expect("a task").path().join("comm"));
            comm.is_ok_and(|comm| comm.trim() == "lockdep-symbols")
        })
}

#[test]
fn symbols_load_only_once_a_process_finds_a_new_order_past_the_delay() {
    if !lockdep_core::CHECKS_COMPILED_IN {
        return;
    }
    let (a, b, c) = (Mutex::new(0), Mutex::new(0), Mutex::new(0));
    let first = Instant::now();
    {
        let _a = a.lock();
        let _b = b.lock();
    }
    {
        let _b = b.lock();
        let _c = c.lock();
    }
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        !loader_running(),
        "started within the delay, which a short test process would pay"
    );
    std::thread::sleep(Duration::from_millis(600).saturating_sub(first.elapsed()));
    // Past the delay, orders seen before: nothing new, nothing started.
    {
        let _a = a.lock();
        let _b = b.lock();
    }
    assert!(!loader_running(), "started without a new lock order");
    // A new order past the delay starts it (the thread names itself as it starts, and loading
    // a debug binary's symbols takes far longer than the polls below).
    {
        let _a = a.lock();
        let _c = c.lock();
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while !loader_running() {
        assert!(
            Instant::now() < deadline,
            "no symbol loading after a new lock order past the delay"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}
