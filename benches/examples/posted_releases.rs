//! The cost of releases posted to another owner: an async `lock().await` + unlock in a
//! `.lockdep()` task, measured fresh, after 100 000 guards were handed on by tasks that ended
//! (their posts are not kept), and while 1 000 posts wait for live, suspended owners (the
//! measuring task is not one of them: it pays one relaxed load).
//!
//! `cargo run --release -p benches --example posted_releases`

use lockdep_core::tokio::Mutex;
use lockdep_core::LockdepFutureExt;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

const ITERS: u32 = 200_000;

fn measure(rt: &tokio::runtime::Runtime, m: &Mutex<u64>) -> f64 {
    rt.block_on(
        async {
            let start = Instant::now();
            for _ in 0..ITERS {
                *black_box(m).lock().await += 1;
            }
            start.elapsed().as_nanos() as f64 / ITERS as f64
        }
        .lockdep(),
    )
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let m = Mutex::named("posted-bench", 0u64);
    let fresh = measure(&rt, &m);

    // 100 000 guards returned by tasks that then ended, dropped afterwards.
    let locks: Vec<Arc<Mutex<u32>>> = (0..1_000)
        .map(|_| Arc::new(Mutex::named("posted-bench-handed", 0)))
        .collect();
    let start = Instant::now();
    rt.block_on(async {
        for round in 0..100 {
            let mut guards = Vec::new();
            for lock in &locks {
                let lock = lock.clone();
                let task = if round % 2 == 0 {
                    lockdep_core::tokio::spawn(async move { lock.lock_owned().await })
                } else {
                    tokio::spawn(async move { lock.lock_owned().await })
                };
                guards.push(task.await.unwrap());
            }
            drop(guards);
        }
    });
    let handed_ns = start.elapsed().as_nanos() as f64 / 100_000.0;
    let after_finished = measure(&rt, &m);
    let kept = lockdep_core::stats().posted_releases;

    // 1 000 posts pending for 25 live owners (suspended while their guards are dropped).
    let resume = Arc::new(tokio::sync::Notify::new());
    let owners: Vec<Vec<Arc<Mutex<u32>>>> = (0..25)
        .map(|t| {
            (0..40)
                .map(|i| Arc::new(Mutex::named(&format!("posted-bench-live-{t}-{i}"), 0)))
                .collect()
        })
        .collect();
    let mut tasks = Vec::new();
    rt.block_on(async {
        for locks in &owners {
            let (tx, rx) = tokio::sync::oneshot::channel();
            let (locks, resume) = (locks.clone(), resume.clone());
            tasks.push(lockdep_core::tokio::spawn(async move {
                let mut guards = Vec::new();
                for lock in &locks {
                    guards.push(lock.clone().lock_owned().await);
                }
                tx.send(guards).unwrap();
                resume.notified().await;
            }));
            drop(rx.await.unwrap());
        }
    });
    let pending = lockdep_core::stats().posted_releases;
    let with_live_posts = measure(&rt, &m);
    rt.block_on(async {
        resume.notify_waiters();
        for task in tasks {
            task.await.unwrap();
        }
    });
    println!("async lock().await + unlock in a .lockdep() task:");
    println!("  fresh                                   {fresh:6.1} ns");
    println!(
        "  after 100 000 guards handed on by tasks that ended ({handed_ns:.0} ns each; {kept} posts kept) {after_finished:6.1} ns"
    );
    println!("  with {pending} posts pending for live owners      {with_live_posts:6.1} ns");
    println!(
        "  after the owners claimed them: {} posts",
        lockdep_core::stats().posted_releases
    );
}
