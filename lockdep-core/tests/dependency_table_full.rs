//! A full dependency table: new orders are no longer recorded, but every acquisition is still
//! checked against the recorded graph, so the inversion of a recorded order is still reported
//! (own test binary: it fills the process-wide table).
#![cfg(lockdep_checks)]

use lockdep_core::{capture, Mutex, ReportKind};

#[test]
fn a_full_dependency_table_still_checks_against_what_it_recorded() {
    // Backtraces are not what is tested here; without them filling takes a fraction of the time.
    lockdep_core::raw::bench::set_dependency_backtraces(false);
    let max = lockdep_core::stats().max_dependencies;
    // Holders and sinks: every edge runs from a holder to a sink, and a sink is never held
    // while taking anything, so no cycle search walks far.
    let side = (max as f64).sqrt().ceil() as usize;
    let holders: Vec<Mutex<()>> = (0..side)
        .map(|i| Mutex::named(&format!("full-holder-{i}"), ()))
        .collect();
    let sinks: Vec<Mutex<()>> = (0..side)
        .map(|i| Mutex::named(&format!("full-sink-{i}"), ()))
        .collect();
    // `side * side >= max` orders: the table fills up.
    for holder in &holders {
        let _h = holder.lock();
        for sink in &sinks {
            drop(sink.lock());
        }
    }
    assert_eq!(lockdep_core::stats().dependencies, max, "the table is full");
    lockdep_core::raw::bench::set_dependency_backtraces(true);

    let reports = capture(|| {
        // `full-holder-0 -> full-sink-0` was recorded: the other way round closes a cycle.
        let _s = sinks[0].lock();
        let _h = holders[0].lock();
    });
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].kind(), ReportKind::CircularDependency);
    assert_eq!(reports[0].classes(), ["full-holder-0", "full-sink-0"]);

    // A new order is checked (no report: it closes no recorded cycle) but not recorded.
    let late_a = Mutex::named("full-late-a", ());
    let late_b = Mutex::named("full-late-b", ());
    let reports = capture(|| {
        let _a = late_a.lock();
        let _b = late_b.lock();
    });
    assert!(reports.is_empty(), "{reports:?}");
    assert_eq!(lockdep_core::stats().dependencies, max);
    // The program goes on: locks still work and are still tracked.
    let _a = late_a.lock();
    assert!(lockdep_core::is_held(&late_a));
}
