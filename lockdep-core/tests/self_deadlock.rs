//! Recursive locking: a lock instance already held (certain: panics instead of hanging) and a
//! second lock of a held class (possible: reported, then the acquisition proceeds).
// Tests that need the checks are compiled out one by one; what they share goes unused then.
#![cfg_attr(not(lockdep_checks), allow(unused))]

mod common;

use common::{assert_none, assert_one, capture_panic};
use lockdep_core::{capture, is_held, Mutex, ReentrantMutex, ReportKind, RwLock};
use std::panic::{catch_unwind, AssertUnwindSafe};

#[cfg(lockdep_checks)]
#[test]
fn aa_relocking_a_held_mutex_panics_instead_of_hanging() {
    let m = Mutex::named("aa-mutex", 0);
    let (reports, message) = capture_panic(|| {
        let _g = m.lock();
        let _again = m.lock();
    });
    assert_one(&reports, ReportKind::RecursiveLocking, &["aa-mutex"]);
    assert!(reports[0].is_certain_deadlock());
    assert!(message.contains("self-deadlock"), "{message}");
    assert!(message.contains("aa-mutex"), "{message}");
    // The validator is still consistent: the guard was released while unwinding.
    assert!(!is_held(&m));
    *m.lock() += 1;
}

#[cfg(lockdep_checks)]
#[test]
fn write_after_read_of_the_same_rwlock_panics() {
    let l = RwLock::named("w-after-r", ());
    let (reports, _) = capture_panic(|| {
        let _r = l.read();
        let _w = l.write();
    });
    assert_one(&reports, ReportKind::RecursiveLocking, &["w-after-r"]);
    assert!(reports[0].is_certain_deadlock());
}

#[cfg(lockdep_checks)]
#[test]
fn read_after_write_of_the_same_rwlock_panics() {
    let l = RwLock::named("r-after-w", ());
    let (reports, _) = capture_panic(|| {
        let _w = l.write();
        let _r = l.read_recursive();
    });
    assert_one(&reports, ReportKind::RecursiveLocking, &["r-after-w"]);
}

#[cfg(lockdep_checks)]
#[test]
fn upgradable_twice_panics() {
    let l = RwLock::named("upg-twice", ());
    let (reports, _) = capture_panic(|| {
        let _u = l.upgradable_read();
        let _u2 = l.upgradable_read();
    });
    assert_one(&reports, ReportKind::RecursiveLocking, &["upg-twice"]);
}

#[cfg(lockdep_checks)]
#[test]
fn upgrade_while_also_reading_panics() {
    let l = RwLock::named("upg-read", ());
    let (reports, _) = capture_panic(|| {
        let _r = l.read_recursive();
        let u = l.upgradable_read();
        let _w = lockdep_core::RwLockUpgradableReadGuard::upgrade(u);
    });
    // The upgradable read beside a read may queue behind a writer (possible); the upgrade
    // waits for this thread's own read to end (certain).
    let kinds: Vec<_> = reports
        .iter()
        .map(|r| (r.kind(), r.is_certain_deadlock()))
        .collect();
    assert_eq!(
        kinds,
        [
            (ReportKind::RecursiveLocking, false),
            (ReportKind::RecursiveLocking, true)
        ]
    );
    assert_eq!(reports[1].classes(), ["upg-read"]);
}

#[cfg(lockdep_checks)]
#[test]
fn nested_subclass_does_not_excuse_the_same_instance() {
    let m = Mutex::named("same-instance-nested", ());
    let (reports, _) = capture_panic(|| {
        let _g = m.lock();
        let _again = m.lock_nested(1);
    });
    assert_eq!(reports.len(), 1);
    assert!(reports[0].is_certain_deadlock());
}

#[cfg(lockdep_checks)]
#[test]
fn second_instance_of_a_held_class_is_reported_and_proceeds() {
    let make = || Mutex::new(0u8); // one creation site: one class
    let (a, b) = (make(), make());
    let reports = capture(|| {
        let _a = a.lock();
        let _b = b.lock();
        assert!(is_held(&a) && is_held(&b), "the acquisition proceeded");
    });
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].kind(), ReportKind::RecursiveLocking);
    assert!(!reports[0].is_certain_deadlock());
    assert!(reports[0].classes()[0].contains("self_deadlock.rs"));
    let text = reports[0].to_string();
    assert!(
        text.contains("possible recursive locking detected"),
        "{text}"
    );
    assert!(
        text.contains("May be due to missing lock nesting notation"),
        "{text}"
    );
    // Two locks of one class, told apart, with the remedies named.
    assert!(
        text.contains("These are two different locks of one class")
            && text.contains("`lock_nested(subclass)`")
            && text.contains("`named`, `with_class`"),
        "{text}"
    );
}

#[test]
fn try_lock_of_a_held_mutex_just_fails() {
    let m = Mutex::named("try-held", ());
    let reports = capture(|| {
        let _g = m.lock();
        assert!(m.try_lock().is_none());
    });
    assert_none(&reports);
}

#[cfg(lockdep_checks)]
#[test]
fn reentrant_mutex_recursion_is_legal() {
    let m = ReentrantMutex::named("reentrant", 5);
    let reports = capture(|| {
        let g1 = m.lock();
        let g2 = m.lock();
        let g3 = m.try_lock().expect("owner may relock");
        assert_eq!(*g1 + *g2 + *g3, 15);
        assert!(is_held(&m));
    });
    assert_none(&reports);
    assert!(!is_held(&m));
}

#[cfg(lockdep_checks)]
#[test]
fn reentrant_mutex_takes_part_in_cycles() {
    let r = ReentrantMutex::named("reentrant-cycle-R", ());
    let m = Mutex::named("reentrant-cycle-M", ());
    let reports = capture(|| {
        {
            let _r = r.lock();
            let _r2 = r.lock();
            let _m = m.lock();
        }
        let _m = m.lock();
        let _r = r.lock();
    });
    assert_one(
        &reports,
        ReportKind::CircularDependency,
        &["reentrant-cycle-R", "reentrant-cycle-M"],
    );
}

#[cfg(lockdep_checks)]
#[test]
fn subclass_beyond_the_limit_panics_clearly() {
    let m = Mutex::named("too-deep", ());
    let err = catch_unwind(AssertUnwindSafe(|| {
        let _g = m.lock_nested(lockdep_core::MAX_SUBCLASSES);
    }))
    .expect_err("subclass 8 is out of range");
    let message = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains("subclass 8 of lock class `too-deep` is out of range"),
        "{message}"
    );
    assert!(!m.is_locked());
}

/// An upgrade while this thread also reads the lock (a read taken by `try_read`, which is never
/// reported) waits for that read for ever: a certain self-deadlock, reported with both entries
/// named, and the validator stays consistent once the guards unwind.
#[cfg(lockdep_checks)]
#[test]
fn an_upgrade_under_a_read_of_its_own_lock_panics_instead_of_hanging() {
    let l = RwLock::named("upgrade-under-read", 0);
    let (reports, message) = capture_panic(|| {
        let u = l.upgradable_read();
        let _r = l.try_read().expect("reads share with an upgradable read");
        let _w = lockdep_core::RwLockUpgradableReadGuard::upgrade(u);
    });
    assert_one(
        &reports,
        ReportKind::RecursiveLocking,
        &["upgrade-under-read"],
    );
    assert!(reports[0].is_certain_deadlock());
    assert!(message.contains("self-deadlock"), "{message}");
    assert!(!l.is_locked() && !is_held(&l));
    *l.write() += 1;
}
