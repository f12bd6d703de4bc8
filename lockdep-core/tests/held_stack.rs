//! The per-thread held-lock stack: out-of-order release, unwinding, condition-variable waits,
//! the depth limit, and the assertions built on it.
// Tests that need the checks are compiled out one by one; what they share goes unused then.
#![cfg_attr(not(lockdep_checks), allow(unused))]

mod common;

use common::{assert_none, assert_one};
use lockdep_core::{
    assert_held, assert_not_held, capture, held_locks, is_held, Condvar, Mutex, MutexGuard,
    ReportKind, MAX_LOCK_DEPTH,
};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Duration;

#[cfg(lockdep_checks)]
#[test]
fn guards_dropped_out_of_order() {
    // The kernel's "bad unlock order" selftest: no false report, and the stack stays right.
    let a = Mutex::named("ooo-A", ());
    let b = Mutex::named("ooo-B", ());
    let c = Mutex::named("ooo-C", ());
    let reports = capture(|| {
        let ga = a.lock();
        let gb = b.lock();
        drop(ga);
        assert_eq!(held_locks(), ["ooo-B"]);
        let gc = c.lock();
        assert_eq!(held_locks(), ["ooo-B", "ooo-C"]);
        drop(gb);
        assert_eq!(held_locks(), ["ooo-C"]);
        drop(gc);
        assert!(held_locks().is_empty());
        // A is not taken for held: no self-deadlock panic, no recursion report.
        let _a = a.lock();
        assert_eq!(held_locks(), ["ooo-A"]);
    });
    assert_none(&reports);
}

#[test]
fn unwinding_releases_every_held_lock() {
    let a = Mutex::named("unwind-A", ());
    let b = Mutex::named("unwind-B", ());
    let result = catch_unwind(AssertUnwindSafe(|| {
        let _a = a.lock();
        let _b = b.lock();
        panic!("boom while holding two locks");
    }));
    assert!(result.is_err());
    assert!(held_locks().is_empty());
    assert!(!a.is_locked() && !b.is_locked());
}

#[cfg(lockdep_checks)]
#[test]
fn condvar_wait_releases_the_mutex_for_lockdep_too() {
    let pair = Arc::new((Mutex::named("cv-mutex", false), Condvar::new()));
    let other = Mutex::named("cv-other", ());
    let notifier = {
        let pair = Arc::clone(&pair);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            *pair.0.lock() = true;
            pair.1.notify_all();
        })
    };
    let reports = capture(|| {
        let mut ready = pair.0.lock();
        pair.1.wait_while(&mut ready, |ready| !*ready);
        assert!(*ready);
        assert_eq!(
            held_locks(),
            ["cv-mutex"],
            "held again, once, after the wait"
        );
        drop(ready);
        // Taking another lock and then the mutex is fine.
        let _o = other.lock();
        let _m = pair.0.lock();
    });
    notifier.join().unwrap();
    assert_none(&reports);
}

#[cfg(lockdep_checks)]
#[test]
fn condvar_relock_is_validated_against_locks_taken_before() {
    // Holding X, waiting on a condvar whose mutex M was taken *before* X: the wait releases M
    // and retakes it while X is held, i.e. X -> M, which inverts M -> X.
    let m = Mutex::named("cv-order-M", ());
    let x = Mutex::named("cv-order-X", ());
    let cv = Condvar::new();
    let reports = capture(|| {
        let mut gm: MutexGuard<'_, ()> = m.lock();
        let _x = x.lock();
        let timed_out = cv.wait_for(&mut gm, Duration::from_millis(5));
        assert!(timed_out.timed_out());
        assert!(is_held(&m));
    });
    assert_one(
        &reports,
        ReportKind::CircularDependency,
        &["cv-order-M", "cv-order-X"],
    );
}

#[cfg(lockdep_checks)]
#[test]
fn guard_unlocked_releases_and_retakes() {
    let m = Mutex::named("unlocked-M", ());
    let mut g = m.lock();
    MutexGuard::unlocked(&mut g, || {
        assert!(!is_held(&m));
    });
    assert!(is_held(&m));
}

#[cfg(lockdep_checks)]
#[test]
fn assertions_name_the_class() {
    let m = Mutex::named("assert-M", ());
    assert_not_held(&m);
    let g = m.lock();
    assert_held(&m);
    let err = catch_unwind(AssertUnwindSafe(|| assert_not_held(&m))).unwrap_err();
    let message = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains("`assert-M` is held by this thread"),
        "{message}"
    );
    drop(g);
    let err = catch_unwind(AssertUnwindSafe(|| assert_held(&m))).unwrap_err();
    let message = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains("`assert-M` is not held by this thread"),
        "{message}"
    );
}

#[cfg(lockdep_checks)]
#[test]
fn is_held_is_per_thread() {
    let m = Arc::new(Mutex::named("per-thread", ()));
    let _g = m.lock();
    let m2 = Arc::clone(&m);
    let held_elsewhere = std::thread::spawn(move || is_held(&*m2)).join().unwrap();
    assert!(is_held(&*m));
    assert!(!held_elsewhere);
}

#[cfg(lockdep_checks)]
#[test]
fn beyond_max_lock_depth_locks_are_untracked_not_fatal() {
    let locks: Vec<Mutex<()>> = (0..MAX_LOCK_DEPTH + 2)
        .map(|i| Mutex::named(&format!("depth-{i}"), ()))
        .collect();
    let reports = capture(|| {
        let guards: Vec<_> = locks.iter().map(|l| l.lock()).collect();
        assert_eq!(held_locks().len(), MAX_LOCK_DEPTH);
        assert!(!is_held(&locks[MAX_LOCK_DEPTH]));
        drop(guards);
        assert!(held_locks().is_empty());
        // Tracking resumes normally.
        let _g = locks[MAX_LOCK_DEPTH].lock();
        assert!(is_held(&locks[MAX_LOCK_DEPTH]));
    });
    assert_none(&reports);
}

#[cfg(lockdep_checks)]
#[test]
fn forgotten_guard_and_force_unlock() {
    let m = Mutex::named("forgotten", ());
    std::mem::forget(m.lock());
    assert!(is_held(&m));
    // SAFETY: this thread holds the lock and forgot its guard.
    unsafe { m.force_unlock() };
    assert!(!is_held(&m));
    assert!(!m.is_locked());
}
