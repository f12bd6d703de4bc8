//! Async locks: lockdep's `tokio::Mutex` against tokio's own, uncontended, on a current-thread
//! runtime. `single`: one `lock().await` and unlock per iteration; `nested2`: a pair taken in a
//! known order (validated on the first iteration, a cache hit on every timed one). The lockdep
//! loop runs as a lockdep task (`.lockdep()`), as a user's task would; the loop is timed inside
//! one poll, so the figure is the acquisition path, not the runtime's scheduling.
//! `owned_write_downgrade`: `write_owned().await`, `downgrade()`, drop, on an `Arc<RwLock>`
//! (lockdep's unmapped owned write guard boxes tokio's guard: one allocation each).

// `criterion_group!` generates undocumented functions.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};
use lockdep_core::{LockClass, LockdepFutureExt};
use std::hint::black_box;
use std::time::{Duration, Instant};

static OUTER: LockClass = LockClass::new("bench-async-outer");
static INNER: LockClass = LockClass::new("bench-async-inner");

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime")
}

fn async_locks(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("tokio");

    let raw = tokio::sync::Mutex::new(0u64);
    let checked = lockdep_core::tokio::Mutex::with_class(&OUTER, 0u64);
    group.bench_function("single/tokio", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let mut guard = black_box(&raw).lock().await;
                    *guard += 1;
                }
                start.elapsed()
            })
        })
    });
    group.bench_function("single/lockdep", |b| {
        b.iter_custom(|iters| {
            rt.block_on(
                async {
                    let start = Instant::now();
                    for _ in 0..iters {
                        let mut guard = black_box(&checked).lock().await;
                        *guard += 1;
                    }
                    start.elapsed()
                }
                .lockdep(),
            )
        })
    });

    let raw_pair = (tokio::sync::Mutex::new(()), tokio::sync::Mutex::new(()));
    let checked_pair = (
        lockdep_core::tokio::Mutex::with_class(&OUTER, ()),
        lockdep_core::tokio::Mutex::with_class(&INNER, ()),
    );
    group.bench_function("nested2/tokio", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let (a, b) = black_box(&raw_pair);
                let start = Instant::now();
                for _ in 0..iters {
                    let ga = a.lock().await;
                    let gb = b.lock().await;
                    drop((gb, ga));
                }
                start.elapsed()
            })
        })
    });
    group.bench_function("nested2/lockdep", |b| {
        b.iter_custom(|iters| {
            rt.block_on(
                async {
                    let (a, b) = black_box(&checked_pair);
                    let start = Instant::now();
                    for _ in 0..iters {
                        let ga = a.lock().await;
                        let gb = b.lock().await;
                        drop((gb, ga));
                    }
                    start.elapsed()
                }
                .lockdep(),
            )
        })
    });

    let raw_rw = std::sync::Arc::new(tokio::sync::RwLock::new(0u64));
    let checked_rw = std::sync::Arc::new(lockdep_core::tokio::RwLock::with_class(&OUTER, 0u64));
    group.bench_function("owned_write_downgrade/tokio", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let mut guard = black_box(&raw_rw).clone().write_owned().await;
                    *guard += 1;
                    black_box(*guard.downgrade());
                }
                start.elapsed()
            })
        })
    });
    group.bench_function("owned_write_downgrade/lockdep", |b| {
        b.iter_custom(|iters| {
            rt.block_on(
                async {
                    let start = Instant::now();
                    for _ in 0..iters {
                        let mut guard = black_box(&checked_rw).clone().write_owned().await;
                        *guard += 1;
                        black_box(*guard.downgrade());
                    }
                    start.elapsed()
                }
                .lockdep(),
            )
        })
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = async_locks
}
criterion_main!(benches);
