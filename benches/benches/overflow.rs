//! Acquisitions past MAX_LOCK_DEPTH (48): once a thread has leaked 48 guards (`mem::forget`,
//! as std's max-readers test does), every further lock is beyond the held-lock stack. Such an
//! acquisition is not tracked, and it must stay about as cheap as one with nothing held, not
//! pay a slow-path validation each time.
//!
//! The baselines run first; the leaked guards stay on this thread's stack for the rest of the
//! process, so the overflow cases come last.

// `criterion_group!` generates undocumented functions.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use lockdep_core::MAX_LOCK_DEPTH;
use std::hint::black_box;

fn overflow(c: &mut Criterion) {
    let mut group = c.benchmark_group("overflow");

    let raw = parking_lot::Mutex::new(0u64);
    let mutex = lockdep_core::Mutex::new(0u64);
    let std_rw = lockdep_core::sync::RwLock::new(0u64);
    let pl_rw = lockdep_core::RwLock::new(0u64);

    group.bench_function(BenchmarkId::new("parking_lot", "depth0"), |b| {
        b.iter(|| *black_box(&raw).lock() += 1)
    });
    group.bench_function(BenchmarkId::new("mutex", "depth0"), |b| {
        b.iter(|| *black_box(&mutex).lock() += 1)
    });
    group.bench_function(BenchmarkId::new("sync_rwlock_read", "depth0"), |b| {
        b.iter(|| *black_box(&std_rw).read().unwrap())
    });
    group.bench_function(BenchmarkId::new("rwlock_read", "depth0"), |b| {
        b.iter(|| *black_box(&pl_rw).read())
    });

    // Fill the stack: MAX_LOCK_DEPTH leaked read guards of one std rwlock (std's max-readers
    // test) and of one parking_lot rwlock, so both kinds of lock are held past the limit.
    // A second fair read of one rwlock is reported (once) as recursive locking: expected here.
    lockdep_core::set_handler(|_| {});
    for _ in 0..MAX_LOCK_DEPTH {
        std::mem::forget(std_rw.read().unwrap());
        std::mem::forget(pl_rw.read_recursive());
    }

    group.bench_function(BenchmarkId::new("mutex", "overflowed"), |b| {
        b.iter(|| *black_box(&mutex).lock() += 1)
    });
    group.bench_function(BenchmarkId::new("sync_rwlock_read", "overflowed"), |b| {
        b.iter(|| *black_box(&std_rw).read().unwrap())
    });
    group.bench_function(BenchmarkId::new("rwlock_read", "overflowed"), |b| {
        b.iter(|| *black_box(&pl_rw).read_recursive())
    });
    group.bench_function(
        BenchmarkId::new("sync_rwlock_try_read", "overflowed"),
        |b| b.iter(|| *black_box(&std_rw).try_read().unwrap()),
    );

    group.finish();
}

criterion_group!(benches, overflow);
criterion_main!(benches);
