//! `lockdep_core::futures::Mutex` (feature `futures`): `futures::lock::Mutex` checked per task
//! on `futures`' own executors (with `.lockdep()`, as they have no task id) and in plain tokio
//! tasks (no wrapper), and never checked — so never falsely reported — where no task is known.
#![cfg(all(feature = "futures", debug_assertions))]

mod common;

use common::{kinds, panic_message, yield_now};
use futures_executor::{block_on, LocalPool};
use futures_util::task::LocalSpawnExt;
use lockdep_core::futures::{MappedMutexGuard, Mutex, MutexGuard, OwnedMutexGuard};
use lockdep_core::{capture, is_held, LockdepFutureExt, ReportKind};
use std::rc::Rc;
use std::sync::Arc;

#[test]
fn abba_across_two_lockdep_tasks_of_a_local_pool_is_reported() {
    let a = Rc::new(Mutex::named("fut-abba-a", 0));
    let b = Rc::new(Mutex::named("fut-abba-b", 0));
    let reports = capture(|| {
        let mut pool = LocalPool::new();
        let (a1, b1) = (a.clone(), b.clone());
        pool.spawner()
            .spawn_local(
                async move {
                    let _a = a1.lock().await;
                    yield_now().await; // the other task runs inside this critical section
                    let _b = b1.lock().await;
                }
                .lockdep(),
            )
            .unwrap();
        pool.run();
        let (a2, b2) = (a.clone(), b.clone());
        pool.spawner()
            .spawn_local(
                async move {
                    let _b = b2.lock().await;
                    yield_now().await;
                    let _a = a2.lock().await; // b -> a closes the cycle
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
fn tasks_interleaved_on_one_thread_never_see_each_others_locks() {
    // Both tasks take the same mutex and hold it across `.await`: the second waits for the
    // first, on the same thread. Per task, neither relocks anything.
    let m = Rc::new(Mutex::named("fut-interleaved-m", 0));
    let n = Rc::new(Mutex::named("fut-interleaved-n", 0));
    let reports = capture(|| {
        let mut pool = LocalPool::new();
        for _ in 0..2 {
            let (m, n) = (m.clone(), n.clone());
            pool.spawner()
                .spawn_local(
                    async move {
                        let mut g = m.lock().await;
                        yield_now().await;
                        *g += 1;
                        drop(g);
                        *n.lock().await += 1; // no m -> n: m is released
                    }
                    .lockdep(),
                )
                .unwrap();
        }
        pool.run();
        // n then m in another task: would close a false cycle had m -> n been recorded.
        pool.spawner()
            .spawn_local(
                async move {
                    let _n = n.lock().await;
                    let _m = m.lock().await;
                }
                .lockdep(),
            )
            .unwrap();
        pool.run();
    });
    assert!(reports.is_empty(), "{reports:?}");
}

#[test]
fn without_a_task_nothing_is_tracked_and_nothing_is_falsely_reported() {
    // A `LocalPool` running unwrapped futures: the thread polls both tasks, which is no owner.
    // Task 1 holds the mutex across `.await` while task 2 waits for it: with the thread as
    // owner that would be a false self-deadlock.
    let m = Rc::new(Mutex::named("fut-untracked-m", 0));
    let reports = capture(|| {
        let mut pool = LocalPool::new();
        for _ in 0..2 {
            let m = m.clone();
            pool.spawner()
                .spawn_local(async move {
                    let mut g = m.lock().await;
                    assert!(!is_held(&*m), "not tracked outside a task");
                    yield_now().await;
                    *g += 1;
                })
                .unwrap();
        }
        pool.run();
    });
    assert!(reports.is_empty(), "{reports:?}");
    assert_eq!(block_on(m.lock()).to_owned(), 2);
}

#[test]
fn relocking_in_a_lockdep_task_panics_instead_of_hanging() {
    let m = Mutex::named("fut-relock-m", 0);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        capture(|| {
            block_on(
                async {
                    let _g = m.lock().await;
                    let _again = m.lock().await; // would wait for ever
                }
                .lockdep(),
            )
        })
    }));
    let message = panic_message(outcome);
    assert!(message.contains("deadlock"), "{message}");
    assert!(!is_held(&m), "the entry went with the unwinding");
}

#[test]
fn in_a_plain_tokio_task_it_is_checked_without_a_wrapper() {
    let a = Arc::new(Mutex::named("fut-tokio-a", 0));
    let b = Arc::new(Mutex::named("fut-tokio-b", 0));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let reports = capture(|| {
        runtime.block_on(async {
            let (a1, b1) = (a.clone(), b.clone());
            // lockdep's spawn carries the capture scope; the task is tracked by tokio's id.
            lockdep_core::tokio::spawn(async move {
                let _a = a1.lock().await;
                tokio::task::yield_now().await;
                let _b = b1.lock().await;
            })
            .await
            .unwrap();
            let (a2, b2) = (a.clone(), b.clone());
            lockdep_core::tokio::spawn(async move {
                let _b = b2.lock().await;
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

#[test]
// The sync guard is held over an `.await` that never waits (the mutex is free): an order, not a
// yield.
#[allow(clippy::await_holding_lock)]
fn a_sync_lock_and_a_futures_mutex_order_one_graph() {
    // async -> sync -> async inversion in one `.lockdep()` task.
    let table = Mutex::named("fut-mixed-table", 0);
    let stats = lockdep_core::Mutex::named("fut-mixed-stats", 0);
    let reports = capture(|| {
        block_on(
            async {
                let _t = table.lock().await;
                *stats.lock() += 1; // table -> stats
            }
            .lockdep(),
        );
        block_on(
            async {
                let _s = stats.lock();
                let _t = table.lock().await; // stats -> table
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
fn owned_mapped_and_tried_guards_hold_and_release() {
    let m = Arc::new(Mutex::named("fut-owned-m", (1u32, 2u32)));
    let n = Mutex::named("fut-owned-n", 0);
    let reports = capture(|| {
        block_on(
            async {
                let owned: OwnedMutexGuard<(u32, u32)> = m.clone().lock_owned().await;
                assert!(is_held(&*m));
                *n.lock().await += 1; // m -> n
                drop(owned);
                assert!(!is_held(&*m));
                let guard: MutexGuard<'_, (u32, u32)> = m.lock().await;
                let mut first: MappedMutexGuard<'_, (u32, u32), u32> =
                    MutexGuard::map(guard, |pair| &mut pair.0);
                *first += 1;
                assert!(is_held(&*m));
                drop(first);
                assert!(!is_held(&*m));
                let tried = m.try_lock().expect("free");
                assert!(is_held(&*m));
                assert!(m.try_lock_owned().is_none(), "held");
                drop(tried);
                let owned = m.try_lock_owned().expect("free");
                assert_eq!(owned.0, 2);
            }
            .lockdep(),
        );
        // n -> m in another task: the order m -> n was recorded through the owned guard.
        block_on(
            async {
                let _n = n.lock().await;
                let _m = m.lock().await;
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
fn a_lock_future_dropped_before_it_is_polled_or_while_waiting_leaves_nothing() {
    let m = Mutex::named("fut-dropped-m", 0);
    let reports = capture(|| {
        block_on(
            async {
                drop(m.lock()); // never polled: nothing validated, nothing recorded
                let g = m.lock().await;
                // A second acquisition polled once while the first holds the mutex would be a
                // certain self-deadlock here; dropped unpolled, it is nothing.
                let second = m.lock();
                drop(second);
                drop(g);
                assert!(!is_held(&m));
                *m.lock().await += 1;
            }
            .lockdep(),
        )
    });
    assert!(reports.is_empty(), "{reports:?}");
}

#[test]
fn a_static_mutex_is_a_const_and_a_tasks_output_guard_is_released_by_its_poller() {
    static GLOBAL: Mutex<u32> = Mutex::new(0);
    let local: Mutex<Vec<u8>> = Mutex::default();
    let reports = capture(|| {
        block_on(
            async {
                *GLOBAL.lock().await += 1;
                local.lock().await.push(1);
                let _g = GLOBAL.lock().await;
                let _l = local.lock().await;
            }
            .lockdep(),
        )
    });
    assert!(reports.is_empty(), "{reports:?}");
    // A guard that is a task's output belongs to whoever polled it: here, this thread.
    let guard = block_on(GLOBAL.lock().lockdep());
    assert_eq!(*guard, 1);
    assert!(is_held(&GLOBAL));
    drop(guard);
    assert!(!is_held(&GLOBAL), "released by the poller that got it");
}

async fn audit_then_accounts(accounts: Rc<Mutex<u32>>, audit: Rc<Mutex<u32>>) {
    let _l = audit.lock().await;
    let _a = accounts.lock().await;
}

#[test]
fn a_lockdep_task_is_named_by_the_async_fn_it_runs_and_where_it_was_made() {
    let accounts = Rc::new(Mutex::named("fut-named-accounts", 0));
    let audit = Rc::new(Mutex::named("fut-named-audit", 0));
    let reports = capture(|| {
        block_on(
            async {
                let _a = accounts.lock().await;
                let _l = audit.lock().await;
            }
            .lockdep(),
        );
        block_on(audit_then_accounts(accounts.clone(), audit.clone()).lockdep());
    });
    let made_at = line!() - 2; // the `.lockdep()` above: the user's spawn site
    assert_eq!(
        kinds(&reports),
        [ReportKind::CircularDependency],
        "{reports:?}"
    );
    let text = reports[0].to_string();
    assert!(
        text.contains(&format!(
            "task `futures_lock::audit_then_accounts` made at {}:{made_at}:",
            file!()
        )),
        "{text}"
    );
    assert!(text.contains("Task A"), "{text}");
}
