//! `lockdep_core::async_lock::{Mutex, RwLock}` (feature `async-lock`): smol's and async-std's
//! locks checked per task of a `.lockdep()` future (their executors have no task id), with the
//! rules of the other faces: orders across tasks, fair reads, upgradable reads and upgrades,
//! the `Arc` guards and their conversions, and nothing tracked where no task is known.
#![cfg(all(feature = "async-lock", debug_assertions))]

mod common;

use common::{kinds, panic_message, yield_now};
use futures_executor::{block_on, LocalPool};
use futures_util::task::LocalSpawnExt;
use lockdep_core::async_lock::{
    Mutex, RwLock, RwLockUpgradableReadGuard, RwLockUpgradableReadGuardArc, RwLockWriteGuard,
    RwLockWriteGuardArc,
};
use lockdep_core::{capture, is_held, LockdepFutureExt, ReportKind};
use std::rc::Rc;
use std::sync::Arc;

#[test]
fn a_mutex_and_a_fair_read_in_opposite_orders_in_two_tasks_are_reported() {
    let table = Rc::new(Mutex::named("al-abba-table", 0));
    let index = Rc::new(RwLock::named("al-abba-index", 0));
    let reports = capture(|| {
        let mut pool = LocalPool::new();
        let (t, i) = (table.clone(), index.clone());
        pool.spawner()
            .spawn_local(
                async move {
                    let _t = t.lock().await;
                    yield_now().await;
                    let _i = i.read().await; // a read waits behind a waiting writer
                }
                .lockdep(),
            )
            .unwrap();
        pool.run();
        let (t, i) = (table.clone(), index.clone());
        pool.spawner()
            .spawn_local(
                async move {
                    let _i = i.write().await;
                    let _t = t.lock().await;
                }
                .lockdep(),
            )
            .unwrap();
        pool.run();
    });
    assert_eq!(
        kinds(&reports),
        [ReportKind::CircularDependency],
        "{reports:?}"
    );
}

#[test]
fn tasks_sharing_a_lock_on_one_thread_see_nothing_of_each_other() {
    let lock = Rc::new(RwLock::named("al-share-lock", 0));
    let other = Rc::new(Mutex::named("al-share-other", 0));
    let reports = capture(|| {
        let mut pool = LocalPool::new();
        for _ in 0..3 {
            let (lock, other) = (lock.clone(), other.clone());
            pool.spawner()
                .spawn_local(
                    async move {
                        let mut w = lock.write().await; // the others wait: no self-deadlock
                        yield_now().await;
                        *w += 1;
                        drop(w);
                        *other.lock().await += 1;
                    }
                    .lockdep(),
                )
                .unwrap();
        }
        pool.run();
    });
    assert!(reports.is_empty(), "{reports:?}");
    assert_eq!(*block_on(lock.read()), 3);
}

#[test]
fn without_a_task_nothing_is_tracked_and_nothing_is_falsely_reported() {
    let lock = Rc::new(Mutex::named("al-untracked", 0));
    let reports = capture(|| {
        let mut pool = LocalPool::new();
        for _ in 0..2 {
            let lock = lock.clone();
            pool.spawner()
                .spawn_local(async move {
                    let mut g = lock.lock().await;
                    assert!(!is_held(&*lock));
                    yield_now().await;
                    *g += 1;
                })
                .unwrap();
        }
        pool.run();
    });
    assert!(reports.is_empty(), "{reports:?}");
}

#[test]
fn an_upgrade_while_the_task_also_reads_panics_instead_of_hanging() {
    let lock = RwLock::named("al-upgrade-reading", 0);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        capture(|| {
            block_on(
                async {
                    let _r = lock.read().await;
                    let u = lock.upgradable_read().await; // beside the read: fine
                    let _w = RwLockUpgradableReadGuard::upgrade(u).await; // waits for `_r`
                }
                .lockdep(),
            )
        })
    }));
    let text = panic_message(outcome);
    assert!(text.contains("deadlock"), "{text}");
    assert!(!is_held(&lock), "the entries went with the unwinding");
}

#[test]
fn relocking_a_mutex_in_a_task_panics_and_a_blocking_lock_is_the_threads() {
    let m = Mutex::named("al-relock", 0);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        capture(|| {
            block_on(
                async {
                    let _g = m.lock().await;
                    let _again = m.lock().await;
                }
                .lockdep(),
            )
        })
    }));
    let text = panic_message(outcome);
    assert!(text.contains("deadlock"), "{text}");
    assert!(!is_held(&m));
    // Synchronous code: the thread holds it, tracked with no task.
    let g = m.lock_blocking();
    assert!(is_held(&m));
    drop(g);
    assert!(!is_held(&m));
}

#[test]
fn borrowed_conversions_keep_the_entry_and_its_access() {
    let lock = RwLock::named("al-convert", 0);
    let after = Mutex::named("al-convert-after", 0);
    let reports = capture(|| {
        block_on(
            async {
                let u = lock.upgradable_read().await;
                assert!(is_held(&lock));
                let w = RwLockUpgradableReadGuard::upgrade(u).await;
                let u = RwLockWriteGuard::downgrade_to_upgradable(w);
                let w = RwLockUpgradableReadGuard::try_upgrade(u).expect("no readers");
                let r = RwLockWriteGuard::downgrade(w);
                *after.lock().await += 1; // convert -> after
                drop(r);
                assert!(!is_held(&lock));
                // An upgrade future dropped before it completes releases the lock.
                let u = lock.upgradable_read().await;
                drop(RwLockUpgradableReadGuard::upgrade(u));
                assert!(!is_held(&lock));
                assert!(lock.try_write().is_some(), "released for `async_lock` too");
                let u = lock.upgradable_read_blocking();
                let r = RwLockUpgradableReadGuard::downgrade(u);
                assert!(is_held(&lock));
                drop(r);
            }
            .lockdep(),
        );
        // after -> convert in another task: the order recorded through the conversions.
        block_on(
            async {
                let _a = after.lock().await;
                let _w = lock.write().await;
            }
            .lockdep(),
        );
    });
    assert_eq!(
        kinds(&reports),
        [ReportKind::CircularDependency],
        "{reports:?}"
    );
}

#[test]
fn arc_guards_and_their_conversions_hold_and_release() {
    let lock = Arc::new(RwLock::named("al-arc", 1u32));
    let m = Arc::new(Mutex::named("al-arc-m", 0u32));
    let reports = capture(|| {
        block_on(
            async {
                let r = lock.read_arc().await;
                assert_eq!(*r, 1);
                assert!(lock.try_write_arc().is_none());
                drop(r);
                let u = lock.upgradable_read_arc().await;
                let mut w = RwLockUpgradableReadGuardArc::upgrade(u).await;
                *w += 1;
                let u = RwLockWriteGuardArc::downgrade_to_upgradable(w);
                let w = RwLockUpgradableReadGuardArc::try_upgrade(u).expect("free");
                let r = RwLockWriteGuardArc::downgrade(w);
                assert!(is_held(&*lock));
                let mut g = m.lock_arc().await; // al-arc -> al-arc-m
                *g += *r;
                assert!(Arc::ptr_eq(
                    lockdep_core::async_lock::MutexGuardArc::source(&g),
                    &m
                ));
                drop((g, r));
                assert!(!is_held(&*lock) && !is_held(&*m));
                let w = lock.write_arc_blocking();
                let u = RwLockWriteGuardArc::downgrade_to_upgradable(w);
                let w = RwLockUpgradableReadGuardArc::upgrade_blocking(u);
                drop(w);
                let tried = m.try_lock_arc().expect("free");
                drop(tried);
                assert!(!is_held(&*lock) && !is_held(&*m));
            }
            .lockdep(),
        );
        block_on(
            async {
                let _g = m.lock_arc_blocking();
                let _w = lock.write_arc().await; // al-arc-m -> al-arc: the inversion
            }
            .lockdep(),
        );
    });
    assert_eq!(
        kinds(&reports),
        [ReportKind::CircularDependency],
        "{reports:?}"
    );
}

#[test]
fn in_a_plain_tokio_task_it_is_checked_without_a_wrapper() {
    let a = Arc::new(Mutex::named("al-tokio-a", 0));
    let b = Arc::new(RwLock::named("al-tokio-b", 0));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let reports = capture(|| {
        runtime.block_on(async {
            let (a1, b1) = (a.clone(), b.clone());
            lockdep_core::tokio::spawn(async move {
                let _a = a1.lock().await;
                let _b = b1.write().await;
            })
            .await
            .unwrap();
            let (a2, b2) = (a.clone(), b.clone());
            lockdep_core::tokio::spawn(async move {
                let _b = b2.read().await;
                let _a = a2.lock().await;
            })
            .await
            .unwrap();
        })
    });
    assert_eq!(
        kinds(&reports),
        [ReportKind::CircularDependency],
        "{reports:?}"
    );
}
