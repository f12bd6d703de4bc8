//! Reading a completed once-cell: lockdep's `LazyLock`, `OnceLock` and `Once` against std's and
//! parking_lot's. The completed path checks completion first and returns, as std's does, so the
//! two should time alike.

// `criterion_group!` generates undocumented functions.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

static STD_LAZY: std::sync::LazyLock<u64> = std::sync::LazyLock::new(|| 7);
static LOCKDEP_LAZY: lockdep_core::sync::LazyLock<u64> = lockdep_core::sync::LazyLock::new(|| 7);

fn completed(c: &mut Criterion) {
    let mut group = c.benchmark_group("completed_once_cell");

    group.bench_function("lazy_lock/std", |b| b.iter(|| *black_box(&*STD_LAZY)));
    group.bench_function("lazy_lock/lockdep", |b| {
        b.iter(|| *black_box(&*LOCKDEP_LAZY))
    });

    let std_cell = std::sync::OnceLock::new();
    std_cell.set(7u64).unwrap();
    group.bench_function("once_lock/std", |b| {
        b.iter(|| *black_box(&std_cell).get_or_init(|| 8))
    });
    let cell = lockdep_core::sync::OnceLock::new();
    cell.set(7u64).unwrap();
    group.bench_function("once_lock/lockdep", |b| {
        b.iter(|| *black_box(&cell).get_or_init(|| 8))
    });

    let std_once = std::sync::Once::new();
    std_once.call_once(|| {});
    group.bench_function("once/std", |b| {
        b.iter(|| black_box(&std_once).call_once(|| {}))
    });
    let once = lockdep_core::sync::Once::new();
    once.call_once(|| {});
    group.bench_function("once/lockdep", |b| {
        b.iter(|| black_box(&once).call_once(|| {}))
    });

    let pl_once = parking_lot::Once::new();
    pl_once.call_once(|| {});
    group.bench_function("pl_once/parking_lot", |b| {
        b.iter(|| black_box(&pl_once).call_once(|| {}))
    });
    let ld_once = lockdep_core::Once::new();
    ld_once.call_once(|| {});
    group.bench_function("pl_once/lockdep", |b| {
        b.iter(|| black_box(&ld_once).call_once(|| {}))
    });

    group.finish();
}

criterion_group!(benches, completed);
criterion_main!(benches);
