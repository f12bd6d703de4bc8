//! Releases posted to an owner (a guard moved into another task and dropped there) live as long
//! as their owner, and no longer: none is kept for an owner that ended, and none of a live
//! owner's is ever dropped.
#![cfg(all(feature = "tokio", debug_assertions))]

use lockdep_core::capture;
use lockdep_core::tokio::Mutex;
use std::sync::Arc;
use tokio::runtime::Builder;
use tokio::sync::{oneshot, Notify};

/// One test at a time: both look at the process's count of posts.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static ONE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    ONE.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn guards_handed_on_by_tasks_that_ended_leave_no_post() {
    let _serial = serial();
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let locks: Vec<Arc<Mutex<u32>>> = (0..5_000)
        .map(|_| Arc::new(Mutex::named("posted-finished", 0)))
        .collect();
    let reports = capture(|| {
        rt.block_on(async {
            let mut guards = Vec::new();
            for (i, lock) in locks.iter().enumerate() {
                let lock = lock.clone();
                // Each task (tracked, and plain) takes a lock and returns its guard: it ends.
                let guard = if i % 2 == 0 {
                    lockdep_core::tokio::spawn(async move { lock.lock_owned().await }).await
                } else {
                    tokio::spawn(async move { lock.lock_owned().await }).await
                };
                guards.push(guard.unwrap());
            }
            drop(guards); // released here, after their tasks ended
        });
    });
    assert!(reports.is_empty(), "{reports:?}");
    // At most the last task each worker ran still has a post, until another runs there.
    assert!(lockdep_core::stats().posted_releases <= 2);
    // The locks are all free and usable, with nothing stale anywhere.
    rt.block_on(async {
        for lock in &locks {
            *lock.lock().await += 1;
        }
    });
    drop(rt); // the workers exit: what they cached goes
    assert_eq!(lockdep_core::stats().posted_releases, 0);
}

#[test]
fn a_live_tasks_posts_are_never_dropped() {
    let _serial = serial();
    // 30 tasks hand 40 guards each to another task, which drops them all while every owner is
    // suspended (1 200 posts pending at once); then each owner takes its locks again. Each
    // release must have reached its owner: a lost one would be a false self-deadlock.
    let rt = Builder::new_current_thread().build().unwrap();
    let owners: Vec<Vec<Arc<Mutex<u32>>>> = (0..30)
        .map(|t| {
            (0..40)
                .map(|i| Arc::new(Mutex::named(&format!("posted-live-{t}-{i}"), 0)))
                .collect()
        })
        .collect();
    let reports = capture(|| {
        rt.block_on(async {
            let resume = Arc::new(Notify::new());
            let mut tasks = Vec::new();
            let mut handed = Vec::new();
            for locks in &owners {
                let (tx, rx) = oneshot::channel();
                let (locks, resume) = (locks.clone(), resume.clone());
                tasks.push(lockdep_core::tokio::spawn(async move {
                    let mut guards = Vec::new();
                    for lock in &locks {
                        guards.push(lock.clone().lock_owned().await);
                    }
                    tx.send(guards).unwrap();
                    resume.notified().await;
                    for lock in &locks {
                        *lock.lock().await += 1;
                    }
                }));
                handed.push(rx);
            }
            tokio::spawn(async move {
                for rx in handed {
                    drop(rx.await.unwrap());
                }
            })
            .await
            .unwrap();
            assert_eq!(lockdep_core::stats().posted_releases, 1_200); // none dropped
            resume.notify_waiters();
            for task in tasks {
                task.await.unwrap();
            }
        });
    });
    assert!(reports.is_empty(), "{reports:?}");
    assert_eq!(lockdep_core::stats().posted_releases, 0);
}
