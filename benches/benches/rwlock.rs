//! Uncontended `RwLock` acquisitions: `read` (fair), `read_recursive` and `write`, each taken and
//! released with nothing else held. std has no recursive read; tracing-mutex has none either
//! (its read is a fair read).

// `criterion_group!` generates undocumented functions.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::hint::black_box;

fn rwlock(c: &mut Criterion) {
    let mut group = c.benchmark_group("rwlock");

    let raw = parking_lot::RwLock::new(0u64);
    group.bench_function(BenchmarkId::new("parking_lot", "read"), |b| {
        b.iter(|| *black_box(&raw).read())
    });
    group.bench_function(BenchmarkId::new("parking_lot", "read_recursive"), |b| {
        b.iter(|| *black_box(&raw).read_recursive())
    });
    group.bench_function(BenchmarkId::new("parking_lot", "write"), |b| {
        b.iter(|| *black_box(&raw).write() += 1)
    });

    let std = std::sync::RwLock::new(0u64);
    group.bench_function(BenchmarkId::new("std", "read"), |b| {
        b.iter(|| *black_box(&std).read().unwrap())
    });
    group.bench_function(BenchmarkId::new("std", "write"), |b| {
        b.iter(|| *black_box(&std).write().unwrap() += 1)
    });

    let lockdep = lockdep_core::RwLock::new(0u64);
    group.bench_function(BenchmarkId::new("lockdep", "read"), |b| {
        b.iter(|| *black_box(&lockdep).read())
    });
    group.bench_function(BenchmarkId::new("lockdep", "read_recursive"), |b| {
        b.iter(|| *black_box(&lockdep).read_recursive())
    });
    group.bench_function(BenchmarkId::new("lockdep", "write"), |b| {
        b.iter(|| *black_box(&lockdep).write() += 1)
    });

    let tracing = tracing_mutex::parkinglot::tracing::RwLock::new(0u64);
    group.bench_function(BenchmarkId::new("tracing_mutex", "read"), |b| {
        b.iter(|| *black_box(&tracing).read())
    });
    group.bench_function(BenchmarkId::new("tracing_mutex", "write"), |b| {
        b.iter(|| *black_box(&tracing).write() += 1)
    });

    group.finish();
}

criterion_group!(benches, rwlock);
criterion_main!(benches);
