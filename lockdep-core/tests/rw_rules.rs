//! Reader-writer rules: fair reads can wait behind a queued writer; `lock_api`'s recursive reads
//! skip the queue only while the lock is read-held at the moment of the call, so once parked
//! they can wait behind a queued writer too. A cycle is a deadlock unless *every* lock in it is
//! entered by a recursive read `-(xR)->` and left as a reader `-(Sx)->` (every dependency
//! `-(SR)->`): DESIGN.md rule 10. The cases follow lockdep-design.rst and
//! lib/locking-selftest.c, with the verdicts of that rule where it differs from the kernel's.
// Tests that need the checks are compiled out one by one; what they share goes unused then.
#![cfg_attr(not(lockdep_checks), allow(unused))]

mod common;

use common::{assert_none, assert_one};
use lockdep_core::{capture, Mutex, ReportKind, RwLock, RwLockUpgradableReadGuard};

fn rw(test: &str, letter: char) -> RwLock<()> {
    RwLock::named(&format!("{test}-{letter}"), ())
}

#[test]
fn recursive_readers_in_both_orders_do_not_deadlock() {
    // A -(SR)-> B and B -(SR)-> A: recursive readers never wait for readers.
    let (a, b) = (rw("rr", 'A'), rw("rr", 'B'));
    let reports = capture(|| {
        {
            let _a = a.read_recursive();
            let _b = b.read_recursive();
        }
        let _b = b.read_recursive();
        let _a = a.read_recursive();
    });
    assert_none(&reports);
}

#[cfg(lockdep_checks)]
#[test]
fn fair_readers_in_both_orders_can_deadlock() {
    // A -(SN)-> B -(SN)-> A: each reader can queue behind a writer waiting on the other lock.
    let (a, b) = (rw("fair", 'A'), rw("fair", 'B'));
    let reports = capture(|| {
        {
            let _a = a.read();
            let _b = b.read();
        }
        let _b = b.read();
        let _a = a.read();
    });
    assert_one(
        &reports,
        ReportKind::CircularDependency,
        &["fair-A", "fair-B"],
    );
}

#[cfg(lockdep_checks)]
#[test]
fn recursive_reads_under_writers_deadlock() {
    // A -(ER)-> B -(ER)-> A: a recursive reader does wait for a writer that holds the lock.
    let (a, b) = (rw("er", 'A'), rw("er", 'B'));
    let reports = capture(|| {
        {
            let _a = a.write();
            let _b = b.read_recursive();
        }
        let _b = b.write();
        let _a = a.read_recursive();
    });
    assert_one(&reports, ReportKind::CircularDependency, &["er-A", "er-B"]);
}

#[test]
#[cfg_attr(not(lockdep_checks), ignore = "needs the checks compiled in")]
fn entered_by_recursive_read_left_as_reader_deadlocks() {
    // A -(ER)-> B -(SN)-> A. B is a breaking junction, A is not: the recursive reader of B may
    // have parked while B was write-held, and stays behind a writer queued since (the kernel
    // calls this safe for its truly recursive reads; parking_lot's are not).
    let (a, b) = (rw("ersn", 'A'), rw("ersn", 'B'));
    let reports = capture(|| {
        {
            let _a = a.write();
            let _b = b.read_recursive();
        }
        let _b = b.read();
        let _a = a.write();
    });
    assert_one(
        &reports,
        ReportKind::CircularDependency,
        &["ersn-A", "ersn-B"],
    );
}

#[test]
#[cfg_attr(not(lockdep_checks), ignore = "needs the checks compiled in")]
fn recursive_read_back_into_a_read_held_lock_deadlocks() {
    // A -(SN)-> B, then B -(ER)-> A: A is a breaking junction, B (entered by SN) is not.
    let (a, b) = (rw("snEr", 'A'), rw("snEr", 'B'));
    let reports = capture(|| {
        {
            let _a = a.read_recursive();
            let _b = b.write();
        }
        let _b = b.write();
        let _a = a.read_recursive();
    });
    assert_one(
        &reports,
        ReportKind::CircularDependency,
        &["snEr-A", "snEr-B"],
    );
}

#[test]
fn a_cycle_of_recursive_reads_under_readers_only_is_not_a_deadlock() {
    // X1 -(SR)-> X2 -(SR)-> X3 -(SR)-> X1: every junction breaking, so no thread can have
    // called before the one it waits for acquired (see DESIGN.md rule 10).
    let l: Vec<_> = (1..=3).map(|i| rw("sr3", char::from(b'0' + i))).collect();
    let reports = capture(|| {
        for i in 0..3 {
            let _x = l[i].read();
            let _y = l[(i + 1) % 3].read_recursive();
        }
    });
    assert_none(&reports);
}

#[cfg(lockdep_checks)]
#[test]
fn fair_read_against_writer_deadlocks() {
    // A -(SN)-> B, B -(EN)-> A: the fair read of A queues behind a writer of A.
    let (a, b) = (rw("snen", 'A'), rw("snen", 'B'));
    let reports = capture(|| {
        {
            let _a = a.read();
            let _b = b.write();
        }
        let _b = b.write();
        let _a = a.read();
    });
    assert_one(
        &reports,
        ReportKind::CircularDependency,
        &["snen-A", "snen-B"],
    );
}

#[cfg(lockdep_checks)]
#[test]
fn mutex_and_rwlock_read_inversion() {
    // The hotplug shape: rwlock read -> mutex, mutex -> rwlock read (fair): a waiting writer
    // makes this a deadlock.
    let hotplug = rw("shape", 'H');
    let alloc = Mutex::named("shape-M", ());
    let reports = capture(|| {
        {
            let _h = hotplug.read();
            let _m = alloc.lock();
        }
        let _m = alloc.lock();
        let _h = hotplug.read();
    });
    assert_one(
        &reports,
        ReportKind::CircularDependency,
        &["shape-H", "shape-M"],
    );
}

#[test]
#[cfg_attr(not(lockdep_checks), ignore = "needs the checks compiled in")]
fn mutex_and_recursive_read_inversion_is_reported() {
    // H -(SN)-> M and M -(ER)-> H: the reported four-thread program really deadlocks this way
    // (`lockdep-core/tests/rw_threads.rs`).
    let hotplug = rw("shape-rec", 'H');
    let alloc = Mutex::named("shape-rec-M", ());
    let reports = capture(|| {
        {
            let _h = hotplug.read_recursive();
            let _m = alloc.lock();
        }
        let _m = alloc.lock();
        let _h = hotplug.read_recursive();
    });
    assert_one(
        &reports,
        ReportKind::CircularDependency,
        &["shape-rec-H", "shape-rec-M"],
    );
}

#[test]
fn recursive_read_of_a_held_read_class_is_legal() {
    // Same class, read then recursive read: the kernel's read-after-read recursion.
    let a = rw("rec-same", 'A');
    let b = RwLock::named("rec-same-A", ());
    let reports = capture(|| {
        let _a = a.read();
        let _a2 = a.read_recursive();
        let _b = b.read_recursive();
    });
    assert_none(&reports);
}

#[cfg(lockdep_checks)]
#[test]
fn fair_read_of_a_held_read_lock_is_recursive_locking() {
    let a = rw("fair-again", 'A');
    let reports = capture(|| {
        let _r1 = a.read();
        let _r2 = a.read(); // proceeds: possible, not certain, deadlock
    });
    assert_one(&reports, ReportKind::RecursiveLocking, &["fair-again-A"]);
    assert!(!reports[0].is_certain_deadlock());
}

#[test]
fn upgradable_reads_are_readers_for_recursive_readers() {
    // A held upgradable is shared: A -(SR)-> B and B -(SR)-> A, every junction breaking.
    let (a, b) = (rw("upg", 'A'), rw("upg", 'B'));
    let reports = capture(|| {
        {
            let _a = a.upgradable_read();
            let _b = b.read_recursive();
        }
        let _b = b.read();
        let _a = a.read_recursive();
    });
    assert_none(&reports);
}

#[cfg(lockdep_checks)]
#[test]
fn upgrade_is_validated_as_a_write() {
    // Holding A upgradable, then B, then upgrading A waits for A's readers: B -(EN)-> A, and
    // with A -(SN)-> B that is a deadlock against a thread reading A and waiting for B.
    let (a, b) = (rw("upgrade", 'A'), rw("upgrade", 'B'));
    let reports = capture(|| {
        let up = a.upgradable_read();
        let _b = b.write();
        let _w = RwLockUpgradableReadGuard::upgrade(up);
    });
    assert_one(
        &reports,
        ReportKind::CircularDependency,
        &["upgrade-A", "upgrade-B"],
    );
}

#[test]
fn downgrade_changes_the_held_mode() {
    let (a, b) = (rw("down", 'A'), rw("down", 'B'));
    let reports = capture(|| {
        {
            let w = a.write();
            let _r = lockdep_core::RwLockWriteGuard::downgrade(w);
            // A is held as a reader now: A -(SR)-> B.
            let _b = b.read_recursive();
        }
        let _b = b.read();
        let _a = a.read_recursive(); // B -(SR)-> A: every junction breaking, if A is shared
    });
    assert_none(&reports);
}

#[test]
fn try_read_never_reports() {
    let a = rw("try-read", 'A');
    let reports = capture(|| {
        let _w = a.read();
        let _r = a.try_read().expect("readers share");
    });
    assert_none(&reports);
}

#[cfg(lockdep_checks)]
#[test]
fn rlock_abba1_read_then_write_inversion_deadlocks() {
    // locking-selftest rlock_ABBA1: RL(X) L(Y) / L(Y) WL(X): X -(SN)-> Y -(EN)-> X.
    let x = rw("rlock-abba1", 'X');
    let y = Mutex::named("rlock-abba1-Y", ());
    let reports = capture(|| {
        {
            let _x = x.read_recursive();
            let _y = y.lock();
        }
        let _y = y.lock();
        let _x = x.write();
    });
    assert_one(
        &reports,
        ReportKind::CircularDependency,
        &["rlock-abba1-X", "rlock-abba1-Y"],
    );
}

#[cfg(lockdep_checks)]
#[test]
fn w1r2_w2r3_w3r1_three_writers_with_recursive_reads_deadlock() {
    // lockdep-design.rst: X1 -(ER)-> X2 -(ER)-> X3 -(ER)-> X1 is strong: each recursive reader
    // waits for the writer holding its lock.
    let l: Vec<_> = (1..=3).map(|i| rw("w1r2", char::from(b'0' + i))).collect();
    let reports = capture(|| {
        for (w, r) in [(0, 1), (1, 2)] {
            let _w = l[w].write();
            let _r = l[r].read_recursive();
        }
        let _w = l[2].write();
        let _r = l[0].read_recursive();
    });
    assert_one(
        &reports,
        ReportKind::CircularDependency,
        &["w1r2-1", "w1r2-2", "w1r2-3"],
    );
}

#[test]
#[cfg_attr(not(lockdep_checks), ignore = "needs the checks compiled in")]
fn w1w2_r2r3_r3w1_deadlocks_with_lock_api_recursive_reads() {
    // lockdep-design.rst: X1 -(EN)-> X2 -(SR)-> X3 -(SN)-> X1. X3 is a breaking junction, so
    // the kernel calls it safe; X1 and X2 are not, and parking_lot's recursive read of X3 can
    // wait behind a queued writer: a deadlock.
    let l: Vec<_> = (1..=3).map(|i| rw("w1w2", char::from(b'0' + i))).collect();
    let reports = capture(|| {
        {
            let _a = l[0].write();
            let _b = l[1].write();
        }
        {
            let _b = l[1].read_recursive();
            let _c = l[2].read_recursive();
        }
        let _c = l[2].read_recursive();
        let _a = l[0].write();
    });
    assert_one(
        &reports,
        ReportKind::CircularDependency,
        &["w1w2-1", "w1w2-2", "w1w2-3"],
    );
}

#[cfg(lockdep_checks)]
#[test]
fn a_recursive_reader_on_top_implies_the_locks_below() {
    // Holding A, then B as a recursive reader, acquiring C: the edges A -(ER)-> B -(SN)-> C
    // stand for A -> C (the path has a dependency other than SR exactly when the direct edge
    // would), so the real ABBA on A and C below is found through B, with no edge A -> C.
    let a = Mutex::named("rr-top-A", ());
    let b = rw("rr-top", 'B');
    let c = Mutex::named("rr-top-C", ());
    let reports = capture(|| {
        {
            let _a = a.lock();
            let _b = b.read_recursive();
            let _c = c.lock();
        }
        let _c = c.lock();
        let _a = a.lock();
    });
    assert_one(
        &reports,
        ReportKind::CircularDependency,
        &["rr-top-A", "rr-top-B", "rr-top-C"],
    );
}

#[test]
#[cfg_attr(not(lockdep_checks), ignore = "needs the checks compiled in")]
fn std_rwlock_reads_are_fair_reads() {
    // std's read is not recursive at all (its futex rwlock queues readers behind a waiting
    // writer): two reads in opposite orders are A -(SN)-> B -(SN)-> A, a deadlock.
    use lockdep_core::sync;
    let (a, b) = (
        sync::RwLock::named("std-reads-A", ()),
        sync::RwLock::named("std-reads-B", ()),
    );
    let reports = capture(|| {
        {
            let _a = a.read().unwrap();
            let _b = b.read().unwrap();
        }
        let _b = b.read().unwrap();
        let _a = a.read().unwrap();
    });
    assert_one(
        &reports,
        ReportKind::CircularDependency,
        &["std-reads-A", "std-reads-B"],
    );
}

/// An upgrade below a recursive read keeps the walk exact: holding A (upgraded with
/// `try_upgrade`, so exclusive) and B (a recursive read), a recursive read of C records
/// A -(ER)-> C, not only B -(SR)-> C, so C then a recursive read of A is the deadlock it is
/// (with parking_lot it really hangs: T1 holds A and B and queues `C.read_recursive()` behind a
/// writer of C that waits for a reader holding C who waits for A).
#[test]
#[cfg(lockdep_checks)]
fn an_upgrade_below_a_recursive_read_keeps_the_walk_exact() {
    use lockdep_core::{capture, RwLock, RwLockUpgradableReadGuard};
    let (a, b, c) = (
        RwLock::named("exact-A", ()),
        RwLock::named("exact-B", ()),
        RwLock::named("exact-C", ()),
    );
    let reports = capture(|| {
        {
            let u = a.upgradable_read();
            let _b = b.read_recursive();
            let _w = RwLockUpgradableReadGuard::try_upgrade(u).ok().unwrap();
            let _c = c.read_recursive();
        }
        let _c = c.read();
        let _a = a.read_recursive();
    });
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(
        reports[0].kind(),
        lockdep_core::ReportKind::CircularDependency
    );
    let mut classes = reports[0].classes();
    classes.sort_unstable();
    assert_eq!(classes, ["exact-A", "exact-C"], "{}", reports[0]);
}
