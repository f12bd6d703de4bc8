//! Many threads, thousands of acquisitions: a consistent order raises nothing, one planted
//! inversion raises exactly one report.
// Tests that need the checks are compiled out one by one; what they share goes unused then.
#![cfg_attr(not(lockdep_checks), allow(unused))]

mod common;

use lockdep_core::{Mutex, ReportKind};
use std::sync::Barrier;

const THREADS: usize = 8;
const ROUNDS: usize = 2_000;

fn locks(prefix: &str) -> Vec<Mutex<u64>> {
    (0..4)
        .map(|i| Mutex::named(&format!("{prefix}-{i}"), 0))
        .collect()
}

/// Runs `work(thread, locks)` on THREADS threads, each in its own capture scope, and returns
/// every report raised.
fn run(locks: &[Mutex<u64>], work: fn(usize, &[Mutex<u64>])) -> Vec<lockdep_core::Report> {
    common::on_threads(THREADS, "stress", |t| work(t, locks))
}

fn consistent(t: usize, locks: &[Mutex<u64>]) {
    for round in 0..ROUNDS {
        // Always ascending, with varying subsets: every order agrees.
        let first = (t + round) % 3;
        let mut g1 = locks[first].lock();
        let mut g2 = locks[3].lock();
        *g1 += 1;
        *g2 += 1;
    }
}

#[test]
fn consistent_order_under_contention_reports_nothing() {
    let locks = locks("stress-ok");
    let reports = run(&locks, consistent);
    assert!(reports.is_empty(), "{reports:?}");
    let total: u64 = locks.iter().map(|l| *l.lock()).sum();
    assert_eq!(total, (THREADS * ROUNDS * 2) as u64);
}

static AFTER_WORK: Barrier = Barrier::new(THREADS);

fn planted(t: usize, locks: &[Mutex<u64>]) {
    consistent(t, locks);
    // Every thread is done with the consistent work before the inversion is taken, so this
    // test cannot really deadlock: the point is that lockdep sees it anyway.
    AFTER_WORK.wait();
    if t == 5 {
        let _g3 = locks[3].lock();
        let _g1 = locks[1].lock();
    }
}

#[cfg(lockdep_checks)]
#[test]
fn one_planted_inversion_reports_exactly_once() {
    let locks = locks("stress-bad");
    let reports = run(&locks, planted);
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].kind(), ReportKind::CircularDependency);
    assert_eq!(reports[0].classes(), ["stress-bad-1", "stress-bad-3"]);
    assert_eq!(reports[0].thread_name(), "stress-5");
}
