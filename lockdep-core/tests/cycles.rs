//! Circular dependencies between classes: the kernel's locking-selftest set (AA is in
//! self_deadlock.rs), with the exact class order each report must give.
// Tests that need the checks are compiled out one by one; what they share goes unused then.
#![cfg_attr(not(lockdep_checks), allow(unused))]

mod common;

use common::{assert_none, assert_one};
use lockdep_core::{capture, Mutex, ReportKind};

/// Locks named `<test>-<letter>`, so tests in this binary never share classes.
fn locks<const N: usize>(test: &str) -> [Mutex<()>; N] {
    std::array::from_fn(|i| Mutex::named(&format!("{test}-{}", (b'A' + i as u8) as char), ()))
}

/// Takes `first` then `second`, then releases both.
fn pair(first: &Mutex<()>, second: &Mutex<()>) {
    let _a = first.lock();
    let _b = second.lock();
}

#[cfg(lockdep_checks)]
#[test]
fn abba_is_reported_with_the_acquired_class_first() {
    let [a, b] = locks::<2>("abba");
    let reports = capture(|| {
        pair(&a, &b);
        pair(&b, &a);
    });
    assert_one(
        &reports,
        ReportKind::CircularDependency,
        &["abba-A", "abba-B"],
    );
}

#[cfg(lockdep_checks)]
#[test]
fn abbcca_three_lock_cycle() {
    let [a, b, c] = locks::<3>("abbcca");
    let reports = capture(|| {
        pair(&a, &b);
        pair(&b, &c);
        pair(&c, &a);
    });
    assert_one(
        &reports,
        ReportKind::CircularDependency,
        &["abbcca-A", "abbcca-B", "abbcca-C"],
    );
}

#[cfg(lockdep_checks)]
#[test]
fn abbccdda_four_lock_cycle() {
    let [a, b, c, d] = locks::<4>("abbccdda");
    let reports = capture(|| {
        pair(&a, &b);
        pair(&b, &c);
        pair(&c, &d);
        pair(&d, &a);
    });
    assert_one(
        &reports,
        ReportKind::CircularDependency,
        &["abbccdda-A", "abbccdda-B", "abbccdda-C", "abbccdda-D"],
    );
}

#[cfg(lockdep_checks)]
#[test]
fn abcabc_cycle_closed_in_the_middle() {
    let [a, b, c] = locks::<3>("abcabc");
    let reports = capture(|| {
        pair(&a, &b);
        pair(&c, &a);
        pair(&b, &c);
    });
    // Holding B, acquiring C: the existing chain is C -> A -> B.
    assert_one(
        &reports,
        ReportKind::CircularDependency,
        &["abcabc-C", "abcabc-A", "abcabc-B"],
    );
}

#[cfg(lockdep_checks)]
#[test]
fn abcdbcda_cycle_through_two_pairs() {
    let [a, b, c, d] = locks::<4>("abcdbcda");
    let reports = capture(|| {
        pair(&a, &b);
        pair(&c, &d);
        pair(&b, &c);
        pair(&d, &a);
    });
    assert_one(
        &reports,
        ReportKind::CircularDependency,
        &["abcdbcda-A", "abcdbcda-B", "abcdbcda-C", "abcdbcda-D"],
    );
}

#[cfg(lockdep_checks)]
#[test]
fn abcdbdda_cycle_skipping_a_lock() {
    let [a, b, c, d] = locks::<4>("abcdbdda");
    let reports = capture(|| {
        pair(&a, &b);
        pair(&c, &d);
        pair(&b, &d);
        pair(&d, &a);
    });
    assert_one(
        &reports,
        ReportKind::CircularDependency,
        &["abcdbdda-A", "abcdbdda-B", "abcdbdda-D"],
    );
}

#[test]
fn consistent_order_is_never_reported() {
    let [a, b, c] = locks::<3>("consistent");
    let reports = capture(|| {
        for _ in 0..3 {
            let _a = a.lock();
            let _b = b.lock();
            let _c = c.lock();
        }
        pair(&a, &c);
        pair(&b, &c);
    });
    assert_none(&reports);
}

#[cfg(lockdep_checks)]
#[test]
fn inversion_between_other_instances_of_the_same_classes() {
    // One class per creation site: the order is learnt on one pair of instances and the
    // inversion happens on another pair, as it would on another object.
    fn make() -> (Mutex<()>, Mutex<()>) {
        (Mutex::new(()), Mutex::new(()))
    }
    let (a1, b1) = make();
    let (a2, b2) = make();
    let reports = capture(|| {
        pair(&a1, &b1);
        pair(&b2, &a2);
    });
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].kind(), ReportKind::CircularDependency);
    let classes = reports[0].classes();
    assert!(
        classes[0].contains("cycles.rs") && classes[1].contains("cycles.rs"),
        "{classes:?}"
    );
    assert_ne!(classes[0], classes[1]);
}

#[cfg(lockdep_checks)]
#[test]
fn orders_taken_on_different_threads_are_combined() {
    let [a, b] = locks::<2>("threads");
    std::thread::scope(|s| {
        s.spawn(|| pair(&a, &b)).join().unwrap();
    });
    let reports = capture(|| pair(&b, &a));
    assert_one(
        &reports,
        ReportKind::CircularDependency,
        &["threads-A", "threads-B"],
    );
}

#[cfg(lockdep_checks)]
#[test]
fn the_same_cycle_is_reported_once() {
    let [a, b] = locks::<2>("once");
    let reports = capture(|| {
        pair(&a, &b);
        pair(&b, &a);
        pair(&b, &a);
    });
    assert_eq!(reports.len(), 1);
    // Checking goes on after a report: a new cycle is still found.
    let [c] = locks::<1>("once-more");
    let reports = capture(|| {
        pair(&a, &c);
        pair(&c, &a);
    });
    assert_one(
        &reports,
        ReportKind::CircularDependency,
        &["once-A", "once-more-A"],
    );
}

#[cfg(lockdep_checks)]
#[test]
fn edges_come_from_the_top_held_lock_only() {
    // Holding A and B, acquiring C records B -> C (A -> C follows through A -> B). C -> A
    // must still be found through the chain.
    let [a, b, c] = locks::<3>("top");
    let reports = capture(|| {
        {
            let _a = a.lock();
            let _b = b.lock();
            let _c = c.lock();
        }
        pair(&c, &a);
    });
    assert_one(
        &reports,
        ReportKind::CircularDependency,
        &["top-A", "top-B", "top-C"],
    );
}

#[test]
fn trylock_adds_no_dependency_to_itself() {
    let [a, b] = locks::<2>("try-to");
    let reports = capture(|| {
        {
            let _a = a.lock();
            let _b = b.try_lock().expect("uncontended");
        }
        pair(&b, &a);
    });
    assert_none(&reports);
}

#[cfg(lockdep_checks)]
#[test]
fn held_trylock_adds_dependencies_from_itself() {
    let [a, b, c] = locks::<3>("try-from");
    let reports = capture(|| {
        {
            let _a = a.lock();
            let _b = b.try_lock().expect("uncontended");
            // Edges B -> C (the trylock on top) and A -> C (the first non-trylock below).
            let _c = c.lock();
        }
        pair(&c, &b);
    });
    assert_one(
        &reports,
        ReportKind::CircularDependency,
        &["try-from-B", "try-from-C"],
    );
    let reports = capture(|| pair(&c, &a));
    assert_one(
        &reports,
        ReportKind::CircularDependency,
        &["try-from-A", "try-from-C"],
    );
}

#[cfg(lockdep_checks)]
#[test]
fn might_lock_checks_without_taking() {
    let [a, b] = locks::<2>("might");
    let reports = capture(|| {
        pair(&a, &b);
        let _b = b.lock();
        lockdep_core::might_lock(&a);
        assert!(!a.is_locked(), "might_lock must not take the lock");
    });
    assert_one(
        &reports,
        ReportKind::CircularDependency,
        &["might-A", "might-B"],
    );
}

#[cfg(lockdep_checks)]
#[test]
fn nested_subclasses_are_distinct_nodes() {
    let parent = Mutex::named("nested-inode", ());
    let child = Mutex::named("nested-inode", ());
    let reports = capture(|| {
        let _p = parent.lock();
        let _c = child.lock_nested(1);
    });
    assert_none(&reports);
    // ...and an inversion between the levels is a cycle like any other.
    let reports = capture(|| {
        let _c = child.lock_nested(1);
        let _p = parent.lock();
    });
    assert_one(
        &reports,
        ReportKind::CircularDependency,
        &["nested-inode", "nested-inode/1"],
    );
}

#[cfg(lockdep_checks)]
#[test]
fn static_class_keys_share_a_class() {
    static DEVICE: lockdep_core::LockClass = lockdep_core::LockClass::new("static-device");
    static LIST: Mutex<()> = Mutex::new(());
    let dev0 = Mutex::with_class(&DEVICE, ());
    let dev1 = Mutex::with_class(&DEVICE, ());
    let reports = capture(|| {
        pair(&dev0, &LIST);
        pair(&LIST, &dev1);
    });
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].classes()[0], "static-device");
}
