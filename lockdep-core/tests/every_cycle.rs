//! Every distinct cycle is reported in the run that takes it: a dependency refused because it
//! closed a reported cycle does not hide a later, unrelated one.
#![cfg(debug_assertions)]

use lockdep_core::{capture, Mutex, ReportKind};

#[test]
fn a_second_cycle_after_a_refused_dependency_is_reported() {
    let (l0, l1, l2) = (
        Mutex::named("every-L0", ()),
        Mutex::named("every-L1", ()),
        Mutex::named("every-L2", ()),
    );
    let reports = capture(|| {
        drop((l0.lock(), l2.lock())); // L0 -> L2
        {
            let _l2 = l2.lock();
            let _l0 = l0.lock(); // L2 -> L0: the first cycle, reported; the dependency refused
            let _l1 = l1.lock(); // L0 -> L1 and, not implied through L0 any more, L2 -> L1
        }
        let _l1 = l1.lock();
        let _l2 = l2.lock(); // L1 -> L2: closes L2 -> L1 -> L2, a second cycle
    });
    let cycles: Vec<Vec<String>> = reports
        .iter()
        .filter(|r| r.kind() == ReportKind::CircularDependency)
        .map(|r| r.classes().iter().map(|c| c.to_string()).collect())
        .collect();
    assert_eq!(cycles.len(), 2, "{cycles:?}");
    assert!(cycles[1].contains(&"every-L1".to_string()), "{cycles:?}");
}
