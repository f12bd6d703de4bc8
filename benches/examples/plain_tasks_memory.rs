//! Held-set memory and time over a million short plain tokio tasks, each taking a
//! `lockdep_core::tokio::Mutex` and suspended while it holds it (the case that gives a task a
//! held set of its own), against tokio's own mutex in the same run.
//!
//! `cargo run --release -p benches --example plain_tasks_memory [TASKS]` (default 1 000 000).

use std::sync::Arc;
use std::time::Instant;

const BATCH: usize = 10_000;

/// Resident memory of this process, in KiB (Linux; 0 elsewhere).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4)
}

fn main() {
    let tasks: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("a runtime");
    let raw = Arc::new(tokio::sync::Mutex::new(0u64));
    let checked = Arc::new(lockdep_core::tokio::Mutex::named("million-tasks", 0u64));
    let rss_before = rss_kib();

    let start = Instant::now();
    rt.block_on(async {
        for _ in 0..tasks / BATCH {
            let mut set = tokio::task::JoinSet::new();
            for _ in 0..BATCH {
                let m = raw.clone();
                set.spawn(async move {
                    let mut g = m.lock().await;
                    tokio::task::yield_now().await;
                    *g += 1;
                });
            }
            while set.join_next().await.is_some() {}
        }
    });
    let raw_ns = start.elapsed().as_nanos() as f64 / tasks as f64;

    let mut most_sets = 0;
    let start = Instant::now();
    rt.block_on(async {
        for _ in 0..tasks / BATCH {
            let mut set = tokio::task::JoinSet::new();
            for _ in 0..BATCH {
                let m = checked.clone();
                set.spawn(async move {
                    let mut g = m.lock().await;
                    tokio::task::yield_now().await;
                    *g += 1;
                });
            }
            while set.join_next().await.is_some() {}
            most_sets = most_sets.max(lockdep_core::stats().task_held_sets);
        }
    });
    let checked_ns = start.elapsed().as_nanos() as f64 / tasks as f64;
    let stats = lockdep_core::stats();
    println!("{tasks} plain tokio tasks (2 workers), each suspended while holding the mutex:");
    println!(
        "  per task: tokio {raw_ns:.0} ns, lockdep {checked_ns:.0} ns ({:.2}x)",
        checked_ns / raw_ns
    );
    println!(
        "  held sets kept: {} at the end, at most {most_sets} after a batch of {BATCH}",
        stats.task_held_sets
    );
    println!(
        "  lockdep memory (stats): {} bytes; process RSS {} KiB before, {} KiB after",
        stats.memory_bytes,
        rss_before,
        rss_kib()
    );
    assert_eq!(*checked.try_lock().unwrap(), (tasks / BATCH * BATCH) as u64);
}
