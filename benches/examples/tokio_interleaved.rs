//! The async figures measured the second way (see shared notes: criterion and a plain loop can
//! disagree on a shared machine): rounds alternating raw tokio and lockdep in one process, the
//! median of each. `cargo run --release -p benches --example tokio_interleaved`. Each case runs
//! in a `.lockdep()` task and, as `plain ...`, in a plain `tokio::spawn` task (tracked by tokio's
//! task id). `-- --loaded`: the same with a spinning thread on every other CPU, the runtime's
//! thread pinned to one (see `benches::load`).

use benches::median;
use lockdep_core::{LockClass, LockdepFutureExt};
use std::hint::black_box;
use std::time::Instant;

static OUTER: LockClass = LockClass::new("interleaved-async-outer");
static INNER: LockClass = LockClass::new("interleaved-async-inner");

const ITERS: u32 = 200_000;
const ROUNDS: usize = 31;

fn main() {
    let loaded = match std::env::args().nth(1).as_deref() {
        None => false,
        Some("--loaded") => true,
        Some(_) => panic!("usage: tokio_interleaved [--loaded]"),
    };
    // A current-thread runtime: every task runs on this (pinned, when loaded) thread.
    let load = loaded.then(benches::load::Load::start);
    println!("{}", benches::load::regime(load.as_ref()));
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let raw = (tokio::sync::Mutex::new(0u64), tokio::sync::Mutex::new(0u64));
    let checked = (
        lockdep_core::tokio::Mutex::with_class(&OUTER, 0u64),
        lockdep_core::tokio::Mutex::with_class(&INNER, 0u64),
    );
    let (mut single, mut nested) = ([Vec::new(), Vec::new()], [Vec::new(), Vec::new()]);
    // The same loops in a plain `tokio::spawn` task (no `.lockdep()`): tracked by tokio's task id.
    let (mut plain_single, mut plain_nested) = ([Vec::new(), Vec::new()], [Vec::new(), Vec::new()]);
    let mut sync_in_task = [Vec::new(), Vec::new()];
    let sync_locks = (
        std::sync::Arc::new((parking_lot::Mutex::new(0u64), parking_lot::Mutex::new(0u64))),
        std::sync::Arc::new((
            lockdep_core::Mutex::named("interleaved-sync-in-task-a", 0u64),
            lockdep_core::Mutex::named("interleaved-sync-in-task-b", 0u64),
        )),
    );
    let raw = std::sync::Arc::new(raw);
    let checked = std::sync::Arc::new(checked);
    // The same acquisition strategy as lockdep's `lock()` (tokio's try_lock first), unchecked:
    // lockdep's own cost is the difference from this one.
    let mut fast_path = Vec::new();
    for _ in 0..ROUNDS {
        fast_path.push(rt.block_on(async {
            let start = Instant::now();
            for _ in 0..ITERS {
                let m = black_box(&raw.0);
                let mut guard = match m.try_lock() {
                    Ok(guard) => guard,
                    Err(_) => m.lock().await,
                };
                *guard += 1;
            }
            start.elapsed().as_nanos() as f64 / ITERS as f64
        }));
        single[0].push(rt.block_on(async {
            let start = Instant::now();
            for _ in 0..ITERS {
                *black_box(&raw.0).lock().await += 1;
            }
            start.elapsed().as_nanos() as f64 / ITERS as f64
        }));
        single[1].push(
            rt.block_on(
                async {
                    let start = Instant::now();
                    for _ in 0..ITERS {
                        *black_box(&checked.0).lock().await += 1;
                    }
                    start.elapsed().as_nanos() as f64 / ITERS as f64
                }
                .lockdep(),
            ),
        );
        nested[0].push(rt.block_on(async {
            let (a, b) = black_box(&*raw);
            let start = Instant::now();
            for _ in 0..ITERS {
                let ga = a.lock().await;
                let gb = b.lock().await;
                drop((gb, ga));
            }
            start.elapsed().as_nanos() as f64 / ITERS as f64
        }));
        nested[1].push(
            rt.block_on(
                async {
                    let (a, b) = black_box(&*checked);
                    let start = Instant::now();
                    for _ in 0..ITERS {
                        let ga = a.lock().await;
                        let gb = b.lock().await;
                        drop((gb, ga));
                    }
                    start.elapsed().as_nanos() as f64 / ITERS as f64
                }
                .lockdep(),
            ),
        );
        let (r, c) = (raw.clone(), checked.clone());
        let (p_single, p_nested) = rt.block_on(async move {
            tokio::spawn(async move {
                let start = Instant::now();
                for _ in 0..ITERS {
                    *black_box(&r.0).lock().await += 1;
                }
                let raw_single = start.elapsed().as_nanos() as f64 / ITERS as f64;
                let start = Instant::now();
                for _ in 0..ITERS {
                    *black_box(&c.0).lock().await += 1;
                }
                let checked_single = start.elapsed().as_nanos() as f64 / ITERS as f64;
                let start = Instant::now();
                for _ in 0..ITERS {
                    let ga = black_box(&r.0).lock().await;
                    let gb = black_box(&r.1).lock().await;
                    drop((gb, ga));
                }
                let raw_nested = start.elapsed().as_nanos() as f64 / ITERS as f64;
                let start = Instant::now();
                for _ in 0..ITERS {
                    let ga = black_box(&c.0).lock().await;
                    let gb = black_box(&c.1).lock().await;
                    drop((gb, ga));
                }
                let checked_nested = start.elapsed().as_nanos() as f64 / ITERS as f64;
                ((raw_single, checked_single), (raw_nested, checked_nested))
            })
            .await
            .unwrap()
        });
        // Sync locks taken inside a plain task (a thread that runs tokio tasks goes the general
        // way: it first brings its stack in line with the task running).
        let (sync_raw, sync_checked) = (sync_locks.0.clone(), sync_locks.1.clone());
        let in_task = rt.block_on(async move {
            tokio::spawn(async move {
                let (a, b) = &*sync_raw;
                let start = Instant::now();
                for _ in 0..ITERS {
                    let ga = black_box(a).lock();
                    let gb = black_box(b).lock();
                    drop((gb, ga));
                }
                let raw = start.elapsed().as_nanos() as f64 / ITERS as f64;
                let (a, b) = &*sync_checked;
                let start = Instant::now();
                for _ in 0..ITERS {
                    let ga = black_box(a).lock();
                    let gb = black_box(b).lock();
                    drop((gb, ga));
                }
                (raw, start.elapsed().as_nanos() as f64 / ITERS as f64)
            })
            .await
            .unwrap()
        });
        sync_in_task[0].push(in_task.0);
        sync_in_task[1].push(in_task.1);
        plain_single[0].push(p_single.0);
        plain_single[1].push(p_single.1);
        plain_nested[0].push(p_nested.0);
        plain_nested[1].push(p_nested.1);
    }
    let fast_path = median(fast_path);
    let checked_single = median(single[1].clone());
    println!(
        "single   tokio try_lock-then-lock {fast_path:6.1} ns  lockdep {checked_single:6.1} ns  ratio {:.2}x",
        checked_single / fast_path
    );
    for (name, [raw, checked]) in [
        ("single", single),
        ("nested2", nested),
        ("plain single", plain_single),
        ("plain nested2", plain_nested),
        ("sync pair in a plain task (vs parking_lot)", sync_in_task),
    ] {
        let (raw, checked) = (median(raw), median(checked));
        println!(
            "{name:14} tokio {raw:6.1} ns  lockdep {checked:6.1} ns  ratio {:.2}x",
            checked / raw
        );
    }
}
