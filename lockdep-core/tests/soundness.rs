//! Regression tests for the validator defects found by differential testing against a reference
//! model of the rules: condition-variable relocks, upgrades and bumps of nested guards,
//! and `unlocked` on nested guards.

mod common;

use common::{assert_none, assert_one};
use lockdep_core::{
    capture, Condvar, Mutex, MutexGuard, ReentrantMutex, ReentrantMutexGuard, ReportKind, RwLock,
    RwLockReadGuard, RwLockUpgradableReadGuard, RwLockWriteGuard,
};
use std::time::Duration;

#[test]
#[cfg_attr(not(lockdep_checks), ignore = "needs the checks compiled in")]
fn condvar_relock_is_a_blocking_lock_not_the_original_trylock() {
    // The reported program: M is first taken by a trylock under A, then given back by the wait
    // and taken again by a *blocking* lock, so A -> M; C taken after that depends on M only.
    let (a, m, c) = (
        Mutex::named("cv-relock-A", ()),
        Mutex::named("cv-relock-M", ()),
        Mutex::named("cv-relock-C", ()),
    );
    let cv = Condvar::new();
    let reports = capture(|| {
        {
            let _a = a.lock();
            let mut g = m.try_lock().unwrap();
            cv.wait_for(&mut g, Duration::ZERO);
            let _c = c.lock();
        }
        let _c = c.lock();
        let _a = a.lock();
    });
    assert_one(
        &reports,
        ReportKind::CircularDependency,
        &["cv-relock-A", "cv-relock-M", "cv-relock-C"],
    );
}

#[test]
#[cfg_attr(not(lockdep_checks), ignore = "needs the checks compiled in")]
fn std_condvar_relock_is_a_blocking_lock_not_the_original_trylock() {
    use lockdep_core::sync;
    let (a, m, c) = (
        sync::Mutex::named("std-cv-relock-A", ()),
        sync::Mutex::named("std-cv-relock-M", ()),
        sync::Mutex::named("std-cv-relock-C", ()),
    );
    let cv = sync::Condvar::new();
    let reports = capture(|| {
        {
            let _a = a.lock().unwrap();
            let g = m.try_lock().unwrap();
            let (_g, _) = cv.wait_timeout(g, Duration::ZERO).unwrap();
            let _c = c.lock().unwrap();
        }
        let _c = c.lock().unwrap();
        let _a = a.lock().unwrap();
    });
    assert_one(
        &reports,
        ReportKind::CircularDependency,
        &["std-cv-relock-A", "std-cv-relock-M", "std-cv-relock-C"],
    );
}

#[test]
#[cfg_attr(not(lockdep_checks), ignore = "needs the checks compiled in")]
fn upgrade_of_a_nested_guard_is_validated_at_its_subclass() {
    // B/1 -> A, then the upgrade acquires B/1 for writing while A is held: a real ABBA.
    let (a, b) = (Mutex::named("up-sub-A", ()), RwLock::named("up-sub-B", ()));
    let reports = capture(|| {
        let u = b.upgradable_read_nested(1);
        let _a = a.lock();
        let _w = RwLockUpgradableReadGuard::upgrade(u);
    });
    assert_one(
        &reports,
        ReportKind::CircularDependency,
        &["up-sub-B/1", "up-sub-A"],
    );
    // Reported where the guard was taken: `lock_api`'s upgrade cannot pass its caller down.
    let text = reports[0].to_string();
    assert!(
        text.contains("(up-sub-B/1){write}, at: lockdep-core/tests/soundness.rs:")
            || text.contains("(up-sub-B/1){write}, at: tests/soundness.rs:"),
        "{text}"
    );
}

#[test]
fn upgrade_of_a_child_under_its_parent_is_not_recursive_locking() {
    let (p, c) = (RwLock::named("up-tree", ()), RwLock::named("up-tree", ()));
    let reports = capture(|| {
        let _p = p.write();
        let g = c.upgradable_read_nested(1);
        let _w = RwLockUpgradableReadGuard::upgrade(g);
    });
    assert_none(&reports);
}

#[test]
fn bump_of_a_nested_guard_under_its_parent_is_not_recursive_locking() {
    let (p, c) = (Mutex::named("bump-tree", ()), Mutex::named("bump-tree", ()));
    let rw: Vec<RwLock<()>> = (0..3).map(|_| RwLock::named("bump-rw", ())).collect();
    let reports = capture(|| {
        let _p = p.lock();
        let mut g = c.lock_nested(1);
        MutexGuard::bump(&mut g);
        let _rp = rw[0].write();
        let mut w = rw[1].write_nested(1);
        RwLockWriteGuard::bump(&mut w);
        let mut r = rw[2].read_nested(2);
        RwLockReadGuard::bump(&mut r);
    });
    assert_none(&reports);
}

#[test]
#[cfg_attr(not(lockdep_checks), ignore = "needs the checks compiled in")]
fn bump_of_a_nested_guard_still_sees_a_real_inversion() {
    // X/1 -> Y is known; holding Y under a bumped X/1 relocks X/1 after Y: Y -> X/1.
    let (x, y) = (
        Mutex::named("bump-inv-X", ()),
        Mutex::named("bump-inv-Y", ()),
    );
    let reports = capture(|| {
        {
            let _x = x.lock_nested(1);
            let _y = y.lock();
        }
        let mut gx = x.lock_nested(1);
        let _y = y.lock();
        MutexGuard::bump(&mut gx);
    });
    assert_one(
        &reports,
        ReportKind::CircularDependency,
        &["bump-inv-X/1", "bump-inv-Y"],
    );
}

#[test]
#[cfg_attr(not(lockdep_checks), ignore = "needs the checks compiled in")]
fn unlocked_on_a_nested_mutex_guard_relocks_at_its_subclass() {
    // Hand-over-hand: parent and child share the class "tree".
    let (parent, child) = (Mutex::named("unl-tree", ()), Mutex::named("unl-tree", ()));
    let other = Mutex::named("unl-tree", ());
    let reports = capture(|| {
        let _p = parent.lock();
        let mut c = child.lock_nested(1);
        MutexGuard::unlocked(&mut c, || ());
        MutexGuard::unlocked_fair(&mut c, || ());
        assert!(lockdep_core::is_held(&child));
        // The entry is back at subclass 1: one more lock there is a real recursion.
        let _o = other.lock_nested(1);
    });
    assert_one(&reports, ReportKind::RecursiveLocking, &["unl-tree/1"]);
}

#[test]
fn unlocked_on_nested_rwlock_guards_relocks_at_their_subclass() {
    let locks: Vec<RwLock<()>> = (0..4).map(|_| RwLock::named("unl-rw", ())).collect();
    let reports = capture(|| {
        let _p = locks[0].write();
        let mut r = locks[1].read_nested(1);
        RwLockReadGuard::unlocked(&mut r, || ());
        RwLockReadGuard::unlocked_fair(&mut r, || ());
        let mut w = locks[2].write_nested(2);
        RwLockWriteGuard::unlocked(&mut w, || ());
        RwLockWriteGuard::unlocked_fair(&mut w, || ());
        let mut u = locks[3].upgradable_read_nested(3);
        RwLockUpgradableReadGuard::unlocked(&mut u, || ());
        RwLockUpgradableReadGuard::unlocked_fair(&mut u, || ());
    });
    assert_none(&reports);
}

#[test]
fn unlocked_closure_may_take_other_nested_locks() {
    // The closure itself walks a few levels: each relock still finds its own subclass.
    let tree: Vec<Mutex<()>> = (0..5).map(|_| Mutex::named("unl-walk", ())).collect();
    let reports = capture(|| {
        let _root = tree[0].lock();
        let mut a = tree[1].lock_nested(1);
        MutexGuard::unlocked(&mut a, || {
            let mut b = tree[2].lock_nested(2);
            MutexGuard::unlocked(&mut b, || {
                let _c = tree[3].lock_nested(3);
                let _d = tree[4].lock_nested(4);
            });
        });
    });
    assert_none(&reports);
}

#[test]
#[cfg_attr(not(lockdep_checks), ignore = "needs the checks compiled in")]
fn unlocked_on_a_plain_guard_after_a_nested_one_relocks_at_subclass_zero() {
    // A record left by an earlier nested use of the same lock must not leak into a later
    // plain guard's relock.
    let (m, other) = (Mutex::named("unl-stale", ()), Mutex::named("unl-stale", ()));
    let reports = capture(|| {
        drop(m.lock_nested(1));
        let mut g = m.lock();
        MutexGuard::unlocked(&mut g, || ());
        let _o = other.lock(); // same class, subclass 0: a real recursion
    });
    assert_one(&reports, ReportKind::RecursiveLocking, &["unl-stale"]);
}

#[test]
#[cfg_attr(not(lockdep_checks), ignore = "needs the checks compiled in")]
fn unlocked_on_a_reentrant_mutex_guard_is_not_reported() {
    let (a, b) = (
        ReentrantMutex::named("unl-re-A", ()),
        ReentrantMutex::named("unl-re-B", ()),
    );
    let reports = capture(|| {
        let _a = a.lock();
        let mut g = b.lock();
        ReentrantMutexGuard::unlocked(&mut g, || ());
        ReentrantMutexGuard::unlocked_fair(&mut g, || ());
        assert!(lockdep_core::is_held(&b));
    });
    assert_none(&reports);
}
