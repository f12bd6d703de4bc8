//! Uncontended `lock` + `unlock` of one mutex: lockdep against the raw locks and tracing-mutex.
//!
//! With nothing else held, lockdep's validated path is: resolve the class (one load), scan the
//! (empty) held stack, push an entry; on release, pop it.

// `criterion_group!` generates undocumented functions.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

fn single_lock(c: &mut Criterion) {
    let mut group = c.benchmark_group("single_lock");

    let raw = parking_lot::Mutex::new(0u64);
    group.bench_function("parking_lot", |b| b.iter(|| *black_box(&raw).lock() += 1));

    let std = std::sync::Mutex::new(0u64);
    group.bench_function("std", |b| b.iter(|| *black_box(&std).lock().unwrap() += 1));

    let lockdep = lockdep_core::Mutex::new(0u64);
    group.bench_function("lockdep", |b| b.iter(|| *black_box(&lockdep).lock() += 1));

    // The `std::sync` flavour, against the `std` column.
    let lockdep_std = lockdep_core::sync::Mutex::new(0u64);
    group.bench_function("lockdep_std", |b| {
        b.iter(|| *black_box(&lockdep_std).lock().unwrap() += 1)
    });

    let tracing = tracing_mutex::parkinglot::tracing::Mutex::new(0u64);
    group.bench_function("tracing_mutex", |b| {
        b.iter(|| *black_box(&tracing).lock() += 1)
    });

    group.finish();
}

criterion_group!(benches, single_lock);
criterion_main!(benches);
