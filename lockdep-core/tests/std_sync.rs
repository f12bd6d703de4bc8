//! The `std::sync` flavour: the same checking, with poisoning and `LockResult`.
// Tests that need the checks are compiled out one by one; what they share goes unused then.
#![cfg_attr(not(lockdep_checks), allow(unused))]

mod common;

use common::{assert_none, assert_one};
use lockdep_core::sync::{Condvar, Mutex, RwLock, TryLockError};
use lockdep_core::{capture, held_locks, is_held, ReportKind};
use std::sync::Arc;
use std::time::Duration;

#[cfg(lockdep_checks)]
#[test]
fn abba_with_std_mutexes() {
    let a = Mutex::named("std-A", 0);
    let b = Mutex::named("std-B", 0);
    let reports = capture(|| {
        {
            let _a = a.lock().unwrap();
            let _b = b.lock().unwrap();
        }
        let _b = b.lock().unwrap();
        let _a = a.lock().unwrap();
    });
    assert_one(
        &reports,
        ReportKind::CircularDependency,
        &["std-A", "std-B"],
    );
}

#[cfg(lockdep_checks)]
#[test]
fn std_and_parking_lot_flavours_share_one_graph() {
    let a = Mutex::named("mixed-A", ());
    let b = lockdep_core::Mutex::named("mixed-B", ());
    let reports = capture(|| {
        {
            let _a = a.lock().unwrap();
            let _b = b.lock();
        }
        let _b = b.lock();
        let _a = a.lock().unwrap();
    });
    assert_one(
        &reports,
        ReportKind::CircularDependency,
        &["mixed-A", "mixed-B"],
    );
}

#[cfg(lockdep_checks)]
#[test]
fn poisoning_works_and_leaves_the_stack_clean() {
    let m = Arc::new(Mutex::named("poison", 1));
    let m2 = Arc::clone(&m);
    let result = std::thread::spawn(move || {
        let _g = m2.lock().unwrap();
        panic!("poison it");
    })
    .join();
    assert!(result.is_err());
    assert!(m.is_poisoned());
    let guard = m.lock().unwrap_err().into_inner();
    assert_eq!(*guard, 1);
    assert!(is_held(&*m));
    drop(guard);
    assert!(held_locks().is_empty());
    match m.try_lock() {
        Err(TryLockError::Poisoned(p)) => assert!(is_held(&*m) && *p.into_inner() == 1),
        _ => panic!("expected a poisoned try_lock"),
    }
    assert!(!is_held(&*m));
    m.clear_poison();
    assert!(m.lock().is_ok());
}

#[test]
fn rwlock_reads_and_writes() {
    let l = RwLock::named("std-rw", 5);
    let reports = capture(|| {
        {
            let r1 = l.read().unwrap();
            let r2 = l.try_read().unwrap();
            assert_eq!(*r1 + *r2, 10);
        }
        *l.write().unwrap() += 1;
        assert!(l.try_write().is_ok());
    });
    assert_none(&reports);
    assert_eq!(l.into_inner().unwrap(), 6);
}

#[cfg(lockdep_checks)]
#[test]
fn condvar_wait_timeout_and_notify() {
    let pair = Arc::new((Mutex::named("std-cv", false), Condvar::new()));
    let pair2 = Arc::clone(&pair);
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(10));
        *pair2.0.lock().unwrap() = true;
        pair2.1.notify_one();
    });
    let guard = pair.0.lock().unwrap();
    let guard = pair.1.wait_while(guard, |ready| !*ready).unwrap();
    assert!(*guard);
    assert_eq!(held_locks(), ["std-cv"]);
    // `wait_while` can return as soon as the flag is set, before the other thread's
    // `notify_one`: join it first, so no late notification can end the timed wait below. A
    // timed wait may still wake spuriously; only a timeout ends the loop.
    t.join().unwrap();
    let mut guard = guard;
    loop {
        let (again, timeout) = pair
            .1
            .wait_timeout(guard, Duration::from_millis(1))
            .unwrap();
        guard = again;
        assert_eq!(held_locks(), ["std-cv"]);
        if timeout.timed_out() {
            break;
        }
    }
    drop(guard);
    assert!(held_locks().is_empty());
}

#[cfg(lockdep_checks)]
#[test]
fn relocking_a_held_std_mutex_panics_instead_of_hanging() {
    let m = Mutex::named("std-aa", ());
    let reports = capture(|| {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _g = m.lock().unwrap();
            let _again = m.lock();
        }));
        assert!(result.is_err());
    });
    assert_one(&reports, ReportKind::RecursiveLocking, &["std-aa"]);
    assert!(reports[0].is_certain_deadlock());
    // The panic unwound through a held guard: std semantics poison the mutex.
    assert!(m.is_poisoned());
    assert!(held_locks().is_empty());
}

#[cfg(lockdep_checks)]
#[test]
fn wait_while_condition_runs_with_the_mutex_held() {
    let m = Mutex::named("std-cv-cond-M", 0);
    let x = Mutex::named("std-cv-cond-X", ());
    let cv = Condvar::new();
    let reports = capture(|| {
        let guard = m.lock().unwrap();
        let (guard, _) = cv
            .wait_timeout_while(guard, Duration::from_millis(1), |_| {
                assert!(is_held(&m), "the condition runs with the mutex held");
                let _x = x.lock().unwrap(); // M -> X
                false
            })
            .unwrap();
        let guard = cv
            .wait_while(guard, |_| {
                assert_eq!(held_locks(), ["std-cv-cond-M"]);
                false
            })
            .unwrap();
        drop(guard);
        assert!(held_locks().is_empty());
        let _x = x.lock().unwrap();
        let _m = m.lock().unwrap(); // X -> M: the inversion is seen
    });
    assert_one(
        &reports,
        ReportKind::CircularDependency,
        &["std-cv-cond-M", "std-cv-cond-X"],
    );
}
