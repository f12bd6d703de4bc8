//! Timed locks (`try_lock_for`, `try_read_until`, ...) cannot hang for ever, but an inversion
//! taken with timed locks on every side stalls each thread for its whole timeout: DESIGN.md
//! rule 26, `ReportKind::TimedInversion`, a warning-level finding.

mod common;

use common::{assert_none, assert_one};
use lockdep_core::{capture, Mutex, ReportKind, RwLock, RwLockUpgradableReadGuard};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

const SHORT: Duration = Duration::from_millis(1);

#[test]
#[cfg_attr(not(lockdep_checks), ignore = "needs the checks compiled in")]
fn timed_locks_on_both_sides_are_a_timed_inversion() {
    let (a, b) = (Mutex::named("timed-A", 0), Mutex::named("timed-B", 0));
    let reports = capture(|| {
        {
            let _a = a.lock();
            let _b = b.try_lock_for(SHORT).expect("free");
        }
        let _b = b.lock();
        let _a = a.try_lock_for(SHORT).expect("free");
    });
    assert_one(
        &reports,
        ReportKind::TimedInversion,
        &["timed-A", "timed-B"],
    );
    assert!(reports[0].kind().is_warning());
    let text = reports[0].to_string();
    assert!(text.contains("timed acquisitions"), "{text}");
    assert!(text.contains("*** STALL ***"), "{text}");
    assert!(!ReportKind::CircularDependency.is_warning());
}

/// A lock held below another blocking one still gets its timed dependency: holding A and B,
/// a timed C records A ~> C too (the timed search does not follow the blocking A -> B), so the
/// timed-only cycle with C then a timed A is reported, as it stalls both sides.
#[test]
#[cfg_attr(not(lockdep_checks), ignore = "needs the checks compiled in")]
fn a_timed_acquisition_depends_on_every_held_lock() {
    let (a, b, c) = (
        Mutex::named("timed-deep-A", ()),
        Mutex::named("timed-deep-B", ()),
        Mutex::named("timed-deep-C", ()),
    );
    let reports = capture(|| {
        {
            let _a = a.lock();
            let _b = b.lock();
            let _c = c.try_lock_for(Duration::ZERO).expect("free");
        }
        let _c = c.lock();
        let _a = a.try_lock_for(Duration::ZERO).expect("free");
    });
    assert_one(
        &reports,
        ReportKind::TimedInversion,
        &["timed-deep-A", "timed-deep-C"],
    );
    // And a variant: the lock between is a reader, the outer one a timed read.
    let (l, m, n) = (
        RwLock::named("timed-deep-L", ()),
        Mutex::named("timed-deep-M", ()),
        Mutex::named("timed-deep-N", ()),
    );
    let reports = capture(|| {
        {
            let _l = l.try_read_for(Duration::ZERO).expect("free");
            let _m = m.lock();
            let _n = n.try_lock_for(Duration::ZERO).expect("free");
        }
        let _n = n.lock();
        let _l = l.try_write_for(Duration::ZERO).expect("free");
    });
    assert_one(
        &reports,
        ReportKind::TimedInversion,
        &["timed-deep-L", "timed-deep-N"],
    );
}

#[test]
fn a_timed_lock_against_a_blocking_order_is_the_back_off_pattern_not_reported() {
    // Blocking A -> B, timed B -> A: the timed side gives up and lets the blocking side on.
    let (a, b) = (Mutex::named("backoff-A", ()), Mutex::named("backoff-B", ()));
    let (c, d) = (Mutex::named("backoff-C", ()), Mutex::named("backoff-D", ()));
    let reports = capture(|| {
        {
            let _a = a.lock();
            let _b = b.lock();
        }
        {
            let _b = b.lock();
            let _a = a.try_lock_for(SHORT);
        }
        // And the other way round: timed C -> D first, then blocking D -> C.
        {
            let _c = c.lock();
            let _d = d.try_lock_for(SHORT);
        }
        let _d = d.lock();
        let _c = c.lock();
    });
    assert_none(&reports);
}

#[test]
#[cfg_attr(not(lockdep_checks), ignore = "needs the checks compiled in")]
fn timed_rwlock_acquisitions_follow_the_reader_writer_rules() {
    let (a, b) = (
        RwLock::named("timed-rw-A", ()),
        RwLock::named("timed-rw-B", ()),
    );
    let (c, d) = (
        RwLock::named("timed-rw-C", ()),
        RwLock::named("timed-rw-D", ()),
    );
    let reports = capture(|| {
        {
            let _a = a.read();
            let _b = b.try_write_for(SHORT).expect("free");
        }
        {
            let _b = b.read();
            let _a = a.try_write_for(SHORT).expect("free");
        }
        // Timed recursive reads under readers in both orders: every dependency SR, no stall.
        {
            let _c = c.read();
            let _d = d.as_lock_api().try_read_recursive_for(SHORT).expect("free");
        }
        let _d = d.read();
        let _c = c.as_lock_api().try_read_recursive_for(SHORT).expect("free");
    });
    assert_one(
        &reports,
        ReportKind::TimedInversion,
        &["timed-rw-A", "timed-rw-B"],
    );
}

#[test]
#[cfg_attr(not(lockdep_checks), ignore = "needs the checks compiled in")]
fn a_timed_upgrade_is_a_timed_write_at_the_guard_s_subclass() {
    let (a, b) = (
        Mutex::named("timed-up-A", ()),
        RwLock::named("timed-up-B", ()),
    );
    let reports = capture(|| {
        {
            let _u = b.upgradable_read_nested(1);
            let _a = a.try_lock_for(SHORT).expect("free");
        }
        let u = b.upgradable_read_nested(1);
        let _a = a.lock();
        let _w = RwLockUpgradableReadGuard::try_upgrade_for(u, SHORT).expect("no readers");
    });
    assert_one(
        &reports,
        ReportKind::TimedInversion,
        &["timed-up-B/1", "timed-up-A"],
    );
}

#[test]
fn a_timed_inversion_only_warns_in_the_panic_mode() {
    // No capture, no handler: the default `Panic` mode prints this finding and goes on.
    let (a, b) = (
        Mutex::named("timed-warn-A", ()),
        Mutex::named("timed-warn-B", ()),
    );
    {
        let _a = a.lock();
        let _b = b.try_lock_for(SHORT);
    }
    let _b = b.lock();
    let _a = a.try_lock_for(SHORT);
}

#[test]
#[cfg_attr(not(lockdep_checks), ignore = "needs the checks compiled in")]
fn timed_locks_on_both_sides_really_stall_for_the_whole_timeout() {
    // Two real threads, each holding its first lock until both timed tries of the other's have
    // returned: both wait out their whole timeout and fail, every time. lockdep reports it.
    let (a, b) = (
        Arc::new(Mutex::named("timed-thr-A", ())),
        Arc::new(Mutex::named("timed-thr-B", ())),
    );
    let timeout = Duration::from_millis(50);
    let barrier = Arc::new(Barrier::new(2));
    let (results, reports) = lockdep_core::capture_with(|| {
        lockdep_core::thread::scope(|s| {
            let handles: Vec<_> = [(a.clone(), b.clone()), (b.clone(), a.clone())]
                .into_iter()
                .map(|(first, second)| {
                    let barrier = barrier.clone();
                    s.spawn(move || {
                        let _held = first.lock();
                        barrier.wait();
                        let started = Instant::now();
                        let got = second.try_lock_for(timeout).is_some();
                        let waited = started.elapsed();
                        // Both keep their first lock until both tries have returned.
                        barrier.wait();
                        (got, waited)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap())
                .collect::<Vec<_>>()
        })
    });
    for (got, waited) in results {
        assert!(!got, "a timed try got a lock its owner held throughout");
        assert!(
            waited >= timeout,
            "gave up after {waited:?}, before its timeout"
        );
    }
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].kind(), ReportKind::TimedInversion);
}
