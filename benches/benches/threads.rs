//! Several threads at once (`LOCKDEP_BENCH_THREADS`, default 2), each taking a pair of locks in
//! a known order, nested, then releasing them:
//!
//! - `unrelated_1`: one thread on its own pair (the per-operation baseline);
//! - `unrelated_N`: N threads, each on its own pair of its own classes. Nothing is shared, so
//!   any slowdown against `unrelated_1` is the validator (or the lock) serialising threads;
//! - `shared_N`: N threads on one shared pair (real contention on the locks themselves).
//!
//! The figure is wall time per iteration in which *every* thread did one pair: with perfect
//! scaling `unrelated_N` equals `unrelated_1`. Thread start-up is not timed
//! (`benches::run_parallel`).

// `criterion_group!` generates undocumented functions.
#![allow(missing_docs)]

use benches::{bench_threads, run_parallel};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::hint::black_box;
use std::time::Duration;

/// One pair per thread, each on cache lines of its own: adjacent pairs in a `Vec` would share a
/// line, and the false sharing would be charged to the locks (128 bytes: the adjacent-line
/// prefetcher pairs lines).
#[repr(align(128))]
struct Padded<T>(T);

/// Runs the three cases for one lock implementation. `make(i)` builds the locks of pair `i`
/// (pair `usize::MAX` is the shared one); `pair(a, b)` takes and releases them.
fn cases<L: Sync>(
    c: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    threads: usize,
    make: impl Fn(usize) -> (L, L),
    pair: impl Fn(&L, &L) + Sync,
) {
    let own: Vec<Padded<(L, L)>> = (0..threads).map(|i| Padded(make(i))).collect();
    let shared = Padded(make(usize::MAX));
    let pair = &pair;
    let run = |pairs: &[&(L, L)], iters: u64| -> Duration {
        run_parallel(pairs.len(), iters, |t, iters| {
            let (a, b) = pairs[t];
            for _ in 0..iters {
                pair(black_box(a), black_box(b));
            }
        })
    };
    let own: Vec<&(L, L)> = own.iter().map(|p| &p.0).collect();
    let shared: Vec<&(L, L)> = vec![&shared.0; threads];
    c.bench_function(BenchmarkId::new(name, "unrelated_1"), |b| {
        b.iter_custom(|iters| run(&own[..1], iters))
    });
    c.bench_function(
        BenchmarkId::new(name, format!("unrelated_{threads}")),
        |b| b.iter_custom(|iters| run(&own, iters)),
    );
    c.bench_function(BenchmarkId::new(name, format!("shared_{threads}")), |b| {
        b.iter_custom(|iters| run(&shared, iters))
    });
}

fn threads(c: &mut Criterion) {
    let threads = bench_threads();
    let mut group = c.benchmark_group("threads");

    cases(
        &mut group,
        "parking_lot",
        threads,
        |_| (parking_lot::Mutex::new(0u64), parking_lot::Mutex::new(0u64)),
        |a, b| {
            let _a = a.lock();
            *b.lock() += 1;
        },
    );
    cases(
        &mut group,
        "lockdep",
        threads,
        // Each pair has classes of its own, so the threads share no lockdep state either.
        |i| {
            (
                lockdep_core::Mutex::named(&format!("threads-{i}-outer"), 0u64),
                lockdep_core::Mutex::named(&format!("threads-{i}-inner"), 0u64),
            )
        },
        |a, b| {
            let _a = a.lock();
            *b.lock() += 1;
        },
    );
    cases(
        &mut group,
        "tracing_mutex",
        threads,
        |_| {
            (
                tracing_mutex::parkinglot::tracing::Mutex::new(0u64),
                tracing_mutex::parkinglot::tracing::Mutex::new(0u64),
            )
        },
        |a, b| {
            let _a = a.lock();
            *b.lock() += 1;
        },
    );
    group.finish();
}

criterion_group!(benches, threads);
criterion_main!(benches);
