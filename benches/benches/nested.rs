//! Nested acquisition in a known order, depth 2, 4 and 8: the hot case. The order was validated
//! on the first iteration (criterion's warm-up); every timed iteration finds its lock chain in
//! lockdep's thread-local cache. One iteration takes all `depth` locks, then releases them
//! innermost first; the figure is per iteration (per `depth` lock/unlock pairs).

// `criterion_group!` generates undocumented functions.
#![allow(missing_docs)]

use benches::{nest, CHAIN_CLASSES};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

const DEPTHS: [usize; 3] = [2, 4, 8];
const MAX_DEPTH: usize = 8;

fn nested(c: &mut Criterion) {
    let mut group = c.benchmark_group("nested");

    let raw: Vec<parking_lot::Mutex<()>> = (0..MAX_DEPTH)
        .map(|_| parking_lot::Mutex::new(()))
        .collect();
    let std: Vec<std::sync::Mutex<()>> =
        (0..MAX_DEPTH).map(|_| std::sync::Mutex::new(())).collect();
    let lockdep_std: Vec<lockdep_core::sync::Mutex<()>> = CHAIN_CLASSES
        .iter()
        .map(|class| lockdep_core::sync::Mutex::with_class(class, ()))
        .collect();
    let lockdep: Vec<lockdep_core::Mutex<()>> = CHAIN_CLASSES
        .iter()
        .map(|class| lockdep_core::Mutex::with_class(class, ()))
        .collect();
    let tracing: Vec<tracing_mutex::parkinglot::tracing::Mutex<()>> = (0..MAX_DEPTH)
        .map(|_| tracing_mutex::parkinglot::tracing::Mutex::new(()))
        .collect();

    for depth in DEPTHS {
        group.bench_with_input(BenchmarkId::new("parking_lot", depth), &depth, |b, &d| {
            b.iter(|| nest!(&raw, d, |m| m.lock()))
        });
        group.bench_with_input(BenchmarkId::new("std", depth), &depth, |b, &d| {
            b.iter(|| nest!(&std, d, |m| m.lock().unwrap()))
        });
        group.bench_with_input(BenchmarkId::new("lockdep", depth), &depth, |b, &d| {
            b.iter(|| nest!(&lockdep, d, |m| m.lock()))
        });
        // The `std::sync` flavour, against the `std` column.
        group.bench_with_input(BenchmarkId::new("lockdep_std", depth), &depth, |b, &d| {
            b.iter(|| nest!(&lockdep_std, d, |m| m.lock().unwrap()))
        });
        group.bench_with_input(BenchmarkId::new("tracing_mutex", depth), &depth, |b, &d| {
            b.iter(|| nest!(&tracing, d, |m| m.lock()))
        });
    }
    group.finish();
}

criterion_group!(benches, nested);
criterion_main!(benches);
