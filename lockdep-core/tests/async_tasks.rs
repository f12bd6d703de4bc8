//! Async locks tracked per task (feature `tokio`): each rule of DESIGN.md's "Tasks" section, on
//! the current-thread and the multi-thread runtime.
#![cfg(all(feature = "tokio", debug_assertions))]

mod common;

use common::{assert_none, assert_one};
use lockdep_core::tokio::{spawn, spawn_blocking, Mutex, RwLock};
use lockdep_core::{capture, is_held, LockdepFutureExt, ReportKind, TrackedLock};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use tokio::runtime::{Builder, Runtime};
use tokio::sync::{oneshot, Notify};

/// Both runtimes, each with its name (class names include it: a finding is reported once per
/// process, so each runtime's run needs classes of its own).
fn runtimes() -> [(&'static str, Runtime); 2] {
    [
        (
            "current",
            Builder::new_current_thread().enable_all().build().unwrap(),
        ),
        (
            "multi",
            Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap(),
        ),
    ]
}

#[derive(Default)]
struct Accounts {
    balance: u64,
}

#[derive(Default)]
struct AuditLog {
    lines: Vec<String>,
}

/// The async fns whose names the reports' backtraces must show.
async fn transfer(accounts: &Mutex<Accounts>, audit: &Mutex<AuditLog>) {
    let mut accounts = accounts.lock().await;
    tokio::task::yield_now().await;
    accounts.balance += 1;
    audit.lock().await.lines.push("transfer".into());
}

async fn rotate_log(accounts: &Mutex<Accounts>, audit: &Mutex<AuditLog>) {
    let mut audit = audit.lock().await;
    tokio::task::yield_now().await;
    audit.lines.clear();
    let _accounts = accounts.lock().await;
}

#[test]
fn abba_between_two_tasks_run_one_after_the_other_is_reported() {
    for (flavor, rt) in runtimes() {
        let accounts = Arc::new(Mutex::named(
            &format!("{flavor}-accounts"),
            Accounts::default(),
        ));
        let audit = Arc::new(Mutex::named(
            &format!("{flavor}-audit"),
            AuditLog::default(),
        ));
        let reports = capture(|| {
            rt.block_on(async {
                let (a, l) = (accounts.clone(), audit.clone());
                spawn(async move { transfer(&a, &l).await }).await.unwrap();
                let (a, l) = (accounts.clone(), audit.clone());
                spawn(async move { rotate_log(&a, &l).await })
                    .await
                    .unwrap();
            })
        });
        let accounts_class = format!("{flavor}-accounts");
        let audit_class = format!("{flavor}-audit");
        assert_one(
            &reports,
            ReportKind::CircularDependency,
            &[&accounts_class, &audit_class],
        );
        let text = reports[0].to_string();
        assert!(text.contains("possible circular locking dependency detected"));
        assert!(text.contains("Possible unsafe locking scenario"));
        // The edge accounts -> audit was first seen in `transfer`, an async fn.
        let edges = reports[0].edge_backtrace_functions();
        assert!(
            edges[0].iter().any(|f| f.contains("transfer")),
            "{flavor}: {edges:?}"
        );
        assert!(
            reports[0]
                .backtrace_functions()
                .iter()
                .any(|f| f.contains("rotate_log")),
            "{text}"
        );
        // Neither task ever waited for the other: both are done, the locks free.
        assert!(accounts.try_lock().is_ok() && audit.try_lock().is_ok());
    }
}

#[test]
fn the_check_runs_before_waiting_so_a_held_lock_is_no_excuse() {
    // Task 2 wants `a` while a third task holds it: the inversion is reported as the wait
    // starts, before the lock is free.
    let rt = Builder::new_current_thread().enable_all().build().unwrap();
    let a = Arc::new(Mutex::named("before-wait-a", ()));
    let b = Arc::new(Mutex::named("before-wait-b", ()));
    let reports = capture(|| {
        rt.block_on(async {
            let (a1, b1) = (a.clone(), b.clone());
            spawn(async move {
                let _a = a1.lock().await;
                let _b = b1.lock().await;
            })
            .await
            .unwrap();
            let holder = a.clone().lock_owned().await;
            let (a2, b2) = (a.clone(), b.clone());
            let waiter = spawn(async move {
                let _b = b2.lock().await;
                let _a = a2.lock().await;
            });
            // The waiter is parked on `a` (its report already raised); let it through.
            tokio::task::yield_now().await;
            drop(holder);
            waiter.await.unwrap();
        })
    });
    assert_one(
        &reports,
        ReportKind::CircularDependency,
        &["before-wait-a", "before-wait-b"],
    );
}

#[test]
fn relocking_an_async_mutex_the_task_holds_is_reported_and_panics() {
    for (flavor, rt) in runtimes() {
        let m = Arc::new(Mutex::named(&format!("{flavor}-relock"), 0u32));
        let reports = capture(|| {
            rt.block_on(async {
                let m = m.clone();
                let outcome = spawn(async move {
                    let _first = m.lock().await;
                    tokio::task::yield_now().await;
                    let _second = m.lock().await; // would hang for ever
                })
                .await;
                let panic = outcome.expect_err("the relock must panic").into_panic();
                let text = panic.downcast_ref::<String>().cloned().unwrap_or_default();
                assert!(text.contains("self-deadlock"), "{text}");
            })
        });
        assert_eq!(reports.len(), 1, "{flavor}");
        assert_eq!(reports[0].kind(), ReportKind::RecursiveLocking);
        assert!(reports[0].is_certain_deadlock());
        // The panic unwound through the guard: the mutex is free, nothing stale remains.
        assert!(m.try_lock().is_ok());
    }
}

#[test]
fn a_task_resumed_on_another_worker_keeps_its_locks() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let a = Arc::new(Mutex::named("resumed-a", ()));
    let b = Arc::new(Mutex::named("resumed-b", ()));
    let reports = capture(|| {
        rt.block_on(async {
            let (a1, b1) = (a.clone(), b.clone());
            spawn(async move {
                let _a = a1.lock().await;
                for _ in 0..200 {
                    // Resumed wherever the scheduler likes: the lock comes along.
                    tokio::task::yield_now().await;
                    assert!(is_held(&*a1), "the task lost its lock when resumed");
                }
                let _b = b1.lock().await; // a -> b, learnt across many resumptions
            })
            .await
            .unwrap();
            let (a2, b2) = (a.clone(), b.clone());
            spawn(async move {
                let _b = b2.lock().await;
                let _a = a2.lock().await;
            })
            .await
            .unwrap();
        })
    });
    assert_one(
        &reports,
        ReportKind::CircularDependency,
        &["resumed-a", "resumed-b"],
    );
}

/// A waker that does nothing: the test below polls by hand.
struct NoWake;

impl Wake for NoWake {
    fn wake(self: Arc<Self>) {}
}

/// Pending once, then ready: a yield point the test controls.
#[derive(Default)]
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if std::mem::replace(&mut self.0, true) {
            Poll::Ready(())
        } else {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

#[test]
fn a_suspended_task_takes_its_locks_to_the_thread_that_resumes_it() {
    // Deterministic: poll the task on this thread until it is suspended holding `a`, then
    // finish it on another thread.
    let a = Arc::new(Mutex::named("moved-a", ()));
    let b = Arc::new(Mutex::named("moved-b", ()));
    let (a1, b1) = (a.clone(), b.clone());
    let mut task = Box::pin(
        async move {
            let _a = a1.lock().await;
            YieldOnce::default().await;
            assert!(is_held(&*a1), "resumed without its lock");
            let _b = b1.lock().await;
        }
        .lockdep(),
    );
    let waker = Waker::from(Arc::new(NoWake));
    assert!(task
        .as_mut()
        .poll(&mut Context::from_waker(&waker))
        .is_pending());
    // Suspended: the lock went with the task, not left on this thread.
    assert!(!is_held(&*a));
    assert!(lockdep_core::held_locks().is_empty());
    // Another task on this thread meanwhile: it does not see `a`, so `a -> c` is not learnt.
    let c = Mutex::named("moved-c", ());
    let reports = capture(|| {
        let mut other = Box::pin(
            async {
                assert!(!is_held(&*a));
                let _c = c.lock().await;
            }
            .lockdep(),
        );
        assert!(other
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_ready());
    });
    assert_none(&reports);
    std::thread::spawn(move || {
        let waker = Waker::from(Arc::new(NoWake));
        assert!(task
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_ready());
        assert!(lockdep_core::held_locks().is_empty());
    })
    .join()
    .unwrap();
    // The order a -> b was learnt across the move: b then a is an inversion.
    let reports = capture(|| {
        let _b = b.blocking_lock();
        let _a = a.blocking_lock();
    });
    assert_one(
        &reports,
        ReportKind::CircularDependency,
        &["moved-a", "moved-b"],
    );
    // And c was never ordered after a.
    let reports = capture(|| {
        let _c = c.blocking_lock();
        let _a = a.blocking_lock();
    });
    assert_none(&reports);
}

#[test]
fn two_tasks_interleaved_on_one_thread_never_see_each_others_locks() {
    let rt = Builder::new_current_thread().enable_all().build().unwrap();
    let a = Arc::new(Mutex::named("interleaved-a", ()));
    let b = Arc::new(Mutex::named("interleaved-b", ()));
    let reports = capture(|| {
        rt.block_on(async {
            let notify = Arc::new(Notify::new());
            let (holding_tx, holding_rx) = oneshot::channel();
            let (a1, n1) = (a.clone(), notify.clone());
            let holder = spawn(async move {
                let _a = a1.lock().await;
                holding_tx.send(()).unwrap();
                n1.notified().await; // suspended, holding `a`
            });
            holding_rx.await.unwrap();
            let (a2, b2) = (a.clone(), b.clone());
            spawn(async move {
                assert!(!is_held(&*a2), "another task's lock leaked into this one");
                let _b = b2.lock().await; // no a -> b: this task does not hold a
            })
            .await
            .unwrap();
            notify.notify_one();
            holder.await.unwrap();
            // b then a: fine, since a -> b was never learnt.
            let (a3, b3) = (a.clone(), b.clone());
            spawn(async move {
                let _b = b3.lock().await;
                let _a = a3.lock().await;
            })
            .await
            .unwrap();
        })
    });
    assert_none(&reports);
}

#[test]
fn sync_lock_held_across_await_is_reported_with_where_the_task_yielded() {
    let rt = Builder::new_current_thread().enable_all().build().unwrap();
    let config = lockdep_core::Mutex::named("held-across-await-config", 1u32);

    // The bug under test (clippy's static lint sees this one; lockdep sees it at run time).
    #[allow(clippy::await_holding_lock)]
    async fn reload(config: &lockdep_core::Mutex<u32>) {
        let guard = config.lock();
        tokio::task::yield_now().await; // the guard is alive across this .await
        drop(guard);
    }

    let reports = capture(|| rt.block_on(reload(&config).lockdep()));
    assert_one(
        &reports,
        ReportKind::HeldAcrossAwait,
        &["held-across-await-config"],
    );
    let text = reports[0].to_string();
    assert!(text.contains("lock held across .await"), "{text}");
    // Where it was taken ...
    assert!(text.contains("tests/async_tasks.rs:"), "{text}");
    // ... and where the task yielded: the async fn's frame.
    assert!(
        reports[0]
            .backtrace_functions()
            .iter()
            .any(|f| f.contains("reload")),
        "{text}"
    );
    // Dropped before the .await: clean.
    let reports = capture(|| {
        rt.block_on(
            async {
                drop(config.lock());
                tokio::task::yield_now().await;
            }
            .lockdep(),
        )
    });
    assert_none(&reports);
}

#[test]
// A sync guard across an await on a free lock (no yield): an edge, not a finding.
#[allow(clippy::await_holding_lock)]
fn a_mixed_cycle_async_sync_async_is_reported() {
    for (flavor, rt) in runtimes() {
        let first = Arc::new(Mutex::named(&format!("{flavor}-mixed-async-1"), ()));
        let sync = Arc::new(lockdep_core::Mutex::named(
            &format!("{flavor}-mixed-sync"),
            (),
        ));
        let second = Arc::new(Mutex::named(&format!("{flavor}-mixed-async-2"), ()));
        let reports = capture(|| {
            rt.block_on(async {
                let (f, s) = (first.clone(), sync.clone());
                spawn(async move {
                    let _f = f.lock().await;
                    tokio::task::yield_now().await;
                    drop(s.lock()); // async 1 -> sync
                })
                .await
                .unwrap();
                // A sync guard makes the future !Send: run it as a task of its own right here.
                async {
                    let _s = sync.lock();
                    drop(second.try_lock()); // sync -> (trylock: no edge)
                    let guard = second.lock().await; // sync -> async 2 (free: no yield)
                    drop(guard);
                }
                .lockdep()
                .await;
                let (f, g) = (first.clone(), second.clone());
                spawn(async move {
                    let _g = g.lock().await;
                    tokio::task::yield_now().await;
                    let _f = f.lock().await; // async 2 -> async 1: closes the cycle
                })
                .await
                .unwrap();
            })
        });
        let classes = [
            format!("{flavor}-mixed-async-1"),
            format!("{flavor}-mixed-sync"),
            format!("{flavor}-mixed-async-2"),
        ];
        let classes: Vec<&str> = classes.iter().map(String::as_str).collect();
        assert_one(&reports, ReportKind::CircularDependency, &classes);
    }
}

#[test]
fn select_dropping_a_pending_lock_future_leaves_no_stale_state() {
    for (flavor, rt) in runtimes() {
        let m = Arc::new(Mutex::named(&format!("{flavor}-select"), ()));
        let other = Arc::new(Mutex::named(&format!("{flavor}-select-other"), ()));
        let reports = capture(|| {
            rt.block_on(async {
                let held = m.clone().lock_owned().await;
                let (m1, o1) = (m.clone(), other.clone());
                spawn(async move {
                    tokio::select! {
                        biased;
                        _ = m1.lock() => unreachable!("the mutex is held elsewhere"),
                        _ = tokio::task::yield_now() => {}
                    }
                    // The lock future was dropped while waiting: nothing of it remains.
                    assert!(!is_held(&*m1));
                    assert!(lockdep_core::held_locks().is_empty());
                    let _o = o1.lock().await; // no m -> other edge
                })
                .await
                .unwrap();
                drop(held);
                let (m2, o2) = (m.clone(), other.clone());
                spawn(async move {
                    let _o = o2.lock().await;
                    let _m = m2.lock().await; // other -> m: fine
                })
                .await
                .unwrap();
            })
        });
        assert_none(&reports);
    }
}

#[test]
fn an_aborted_task_holding_a_guard_releases_it() {
    for (flavor, rt) in runtimes() {
        let m = Arc::new(Mutex::named(&format!("{flavor}-aborted"), ()));
        let after = Arc::new(Mutex::named(&format!("{flavor}-after-abort"), ()));
        let reports = capture(|| {
            rt.block_on(async {
                let (locked_tx, locked_rx) = oneshot::channel();
                let m1 = m.clone();
                let task = spawn(async move {
                    let _g = m1.lock().await;
                    locked_tx.send(()).unwrap();
                    std::future::pending::<()>().await;
                });
                locked_rx.await.unwrap();
                task.abort();
                assert!(task.await.unwrap_err().is_cancelled());
                // The guard was dropped with the task: the mutex is free for tokio and for
                // lockdep, on every worker.
                let (m2, a2) = (m.clone(), after.clone());
                for _ in 0..4 {
                    let (m2, a2) = (m2.clone(), a2.clone());
                    spawn(async move {
                        assert!(lockdep_core::held_locks().is_empty());
                        let _a = a2.lock().await;
                        let _m = m2.lock().await; // after -> m, not m -> after -> m
                    })
                    .await
                    .unwrap();
                }
            })
        });
        assert_none(&reports);
    }
}

#[test]
fn spawn_blocking_takes_sync_locks_on_its_own_thread() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let task_lock = Arc::new(Mutex::named("blocking-task-lock", ()));
    let first = Arc::new(lockdep_core::Mutex::named("blocking-first", ()));
    let second = Arc::new(lockdep_core::Mutex::named("blocking-second", ()));
    let reports = capture(|| {
        rt.block_on(async {
            let (t, f, s) = (task_lock.clone(), first.clone(), second.clone());
            spawn(async move {
                let _t = t.lock().await;
                let t2 = t.clone();
                spawn_blocking(move || {
                    // The blocking thread is not the task: it holds none of its locks.
                    assert!(!is_held(&*t2));
                    let _f = f.lock();
                    let _s = s.lock();
                })
                .await
                .unwrap();
            })
            .await
            .unwrap();
            let (f, s) = (first.clone(), second.clone());
            // Reported on the blocking thread, to this test's scope.
            spawn_blocking(move || {
                let _s = s.lock();
                let _f = f.lock();
            })
            .await
            .unwrap();
        })
    });
    assert_one(
        &reports,
        ReportKind::CircularDependency,
        &["blocking-first", "blocking-second"],
    );
    // The task held its async lock while the blocking closure ran, but the closure's locks are
    // its thread's: no blocking-task-lock -> blocking-first edge.
    let reports = capture(|| {
        let _f = first.lock();
        let _t = task_lock.blocking_lock();
    });
    assert_none(&reports);
}

#[test]
fn a_guard_dropped_by_another_task_is_released_for_its_owner() {
    for (flavor, rt) in runtimes() {
        let m = Arc::new(Mutex::named(&format!("{flavor}-handed-over"), 0u32));
        let reports = capture(|| {
            rt.block_on(async {
                let m1 = m.clone();
                spawn(async move {
                    let guard = m1.clone().lock_owned().await;
                    // Handed to another task, which drops it.
                    spawn(async move {
                        let mut guard = guard;
                        *guard += 1;
                    })
                    .await
                    .unwrap();
                    // Not a self-deadlock: this task no longer holds it.
                    assert!(!is_held(&*m1));
                    *m1.lock().await += 1;
                })
                .await
                .unwrap();
            })
        });
        assert_none(&reports);
        assert_eq!(*m.try_lock().unwrap(), 2);
    }
}

#[test]
fn fair_async_reads_in_opposite_orders_can_deadlock() {
    // tokio's RwLock queues a reader behind a waiting writer: fair reads, non-recursive.
    let rt = Builder::new_current_thread().enable_all().build().unwrap();
    let a = Arc::new(RwLock::named("fair-read-a", ()));
    let b = Arc::new(RwLock::named("fair-read-b", ()));
    let reports = capture(|| {
        rt.block_on(async {
            let (a1, b1) = (a.clone(), b.clone());
            spawn(async move {
                let _a = a1.read().await;
                let _b = b1.read().await;
            })
            .await
            .unwrap();
            let (a2, b2) = (a.clone(), b.clone());
            spawn(async move {
                let _b = b2.read().await;
                let _a = a2.read().await;
            })
            .await
            .unwrap();
        })
    });
    assert_one(
        &reports,
        ReportKind::CircularDependency,
        &["fair-read-a", "fair-read-b"],
    );
    assert!(reports[0].to_string().contains("(fair-read-a){read}"));
}

#[test]
fn write_after_read_of_the_same_async_rwlock_panics() {
    let rt = Builder::new_current_thread().enable_all().build().unwrap();
    let lock = Arc::new(RwLock::named("async-rw-self", 0));
    let reports = capture(|| {
        rt.block_on(async {
            let l = lock.clone();
            let outcome = spawn(async move {
                let _r = l.read().await;
                let _w = l.write().await;
            })
            .await;
            assert!(outcome.unwrap_err().is_panic());
        })
    });
    assert_eq!(reports.len(), 1);
    assert!(reports[0].is_certain_deadlock());
}

#[test]
fn downgrade_and_owned_guards_are_tracked() {
    let rt = Builder::new_current_thread().enable_all().build().unwrap();
    let lock = Arc::new(RwLock::named("async-rw-guards", vec![1, 2, 3]));
    let limited = RwLock::with_max_readers(0u8, 1);
    let reports = capture(|| {
        rt.block_on(
            async {
                let mut write = lock.write().await;
                write.push(4);
                let read = write.downgrade();
                let first = lockdep_core::tokio::RwLockReadGuard::map(read, |v| &v[0]);
                assert_eq!(*first, 1);
                assert!(is_held(&*lock));
                drop(first);
                assert!(!is_held(&*lock));
                let owned = lock.clone().write_owned().await;
                let mut last = lockdep_core::tokio::OwnedRwLockWriteGuard::map(owned, |v| {
                    v.last_mut().unwrap()
                });
                *last = 40;
                assert!(is_held(&*lock));
                drop(last);
                let owned = lock.clone().read_owned().await;
                assert_eq!(owned[3], 40);
                drop(owned);
                assert!(lockdep_core::held_locks().is_empty());
                let one = limited.read().await;
                assert!(limited.try_read().is_err(), "one reader at most");
                drop(one);
            }
            .lockdep(),
        )
    });
    assert_none(&reports);
}

#[test]
fn outside_any_task_the_thread_owns_async_locks() {
    let m = Mutex::named("thread-owned", ());
    let guard = m.blocking_lock();
    assert!(is_held(&m));
    drop(guard);
    // A plain block_on (no task): the thread is the owner, across .await too.
    let rt = Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let _g = m.lock().await;
        tokio::task::yield_now().await;
        assert!(is_held(&m));
    });
    assert!(!is_held(&m));
    // A task polled under the thread's `blocking_lock` sees it: relocking it there would hang
    // the thread for ever, so it is reported and panics.
    let guard = m.blocking_lock();
    let reports = capture(|| {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rt.block_on(
                async {
                    let _again = m.lock().await;
                }
                .lockdep(),
            )
        }));
        assert!(outcome.is_err(), "relocking must panic, not hang");
    });
    assert_eq!(reports.len(), 1);
    assert!(reports[0].is_certain_deadlock());
    drop(guard);
    assert!(lockdep_core::held_locks().is_empty());
}

#[test]
fn constructors_give_the_classes_of_the_sync_locks() {
    lockdep_core::lock_class!(static ASYNC_STATIC = "async-static-class");
    static GLOBAL: Mutex<u32> = Mutex::with_class(&ASYNC_STATIC, 0);
    static TABLE: RwLock<u32> = RwLock::const_new(0);
    fn make() -> Mutex<()> {
        Mutex::new(())
    }
    let rt = Builder::new_current_thread().enable_all().build().unwrap();
    let (one, two) = (make(), make());
    let reports = capture(|| {
        rt.block_on(
            async {
                let _g = GLOBAL.lock().await;
                let _t = TABLE.write().await;
                let _one = one.lock().await;
                let _two = two.lock().await; // the same creation site: the same class
            }
            .lockdep(),
        )
    });
    let site = one.lock_instance().class_name();
    assert!(site.contains("async_tasks.rs"), "{site}");
    assert_one(&reports, ReportKind::RecursiveLocking, &[&site]);
    assert_eq!(GLOBAL.lock_instance().class_name(), "async-static-class");
    // A nesting level makes the second one a distinct node.
    let reports = capture(|| {
        rt.block_on(
            async {
                let _one = one.lock().await;
                let _two = two.lock_nested(1).await;
            }
            .lockdep(),
        )
    });
    assert_none(&reports);
}

#[test]
fn a_guard_moved_into_spawn_blocking_is_released_for_its_task() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let m = Arc::new(Mutex::named("into-blocking", 0u32));
    let reports = capture(|| {
        rt.block_on(async {
            let m1 = m.clone();
            spawn(async move {
                let guard = m1.clone().lock_owned().await;
                spawn_blocking(move || {
                    let mut guard = guard;
                    *guard += 1; // dropped on the blocking thread
                })
                .await
                .unwrap();
                assert!(!is_held(&*m1));
                *m1.lock().await += 1; // no false self-deadlock
            })
            .await
            .unwrap();
        })
    });
    assert_none(&reports);
    assert_eq!(*m.try_lock().unwrap(), 2);
}

#[test]
fn many_tasks_in_one_order_on_many_workers_report_nothing_and_leave_nothing() {
    // A real multi-threaded run: 64 tasks, each many times taking the pair in one order with
    // yields in between (resumed on any worker), some through owned guards, some giving up a
    // wait in select!. Nothing may be reported and no entry may be left anywhere.
    let rt = Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    let outer = Arc::new(Mutex::named("stress-async-outer", 0u64));
    let inner = Arc::new(RwLock::named("stress-async-inner", 0u64));
    let reports = capture(|| {
        rt.block_on(async {
            let tasks: Vec<_> = (0..64)
                .map(|i| {
                    let (outer, inner) = (outer.clone(), inner.clone());
                    spawn(async move {
                        for round in 0..50u64 {
                            if (i + round) % 3 == 0 {
                                let o = outer.clone().lock_owned().await;
                                tokio::task::yield_now().await;
                                *inner.write().await += *o;
                            } else {
                                let mut o = outer.lock().await;
                                tokio::task::yield_now().await;
                                *o += *inner.read().await % 7;
                            }
                            tokio::select! {
                                biased;
                                _ = tokio::task::yield_now() => {}
                                _ = inner.write() => {}
                            }
                            assert!(lockdep_core::held_locks().is_empty());
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
            for _ in 0..16 {
                spawn(async { assert!(lockdep_core::held_locks().is_empty()) })
                    .await
                    .unwrap();
            }
        })
    });
    assert_none(&reports);
}
