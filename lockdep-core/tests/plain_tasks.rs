//! Async locks in *plain* tokio tasks (feature `tokio`): `tokio::spawn`, `spawn_local`,
//! `JoinSet`, `#[tokio::test]`, with no wrapper and no change but the locks' `use` line. Each
//! rule of DESIGN.md's "Tasks" section that concerns plain tasks, on the current-thread and the
//! multi-thread runtime.
//!
//! Reports raised in a plain task go to the process's handler (no capture scope follows a task
//! that lockdep did not spawn): every test here runs under one handler that collects them, one
//! test at a time, and looks at the reports naming its own classes.
#![cfg(all(feature = "tokio", debug_assertions))]

mod common;

use lockdep_core::tokio::Mutex;
use lockdep_core::{is_held, Report, ReportKind};
use std::sync::{Arc, Mutex as StdMutex, MutexGuard as StdGuard, Once};
use std::time::Duration;
use tokio::runtime::{Builder, Runtime};
use tokio::sync::{oneshot, Notify};

static SEEN: StdMutex<Vec<Report>> = StdMutex::new(Vec::new());
static ONE_AT_A_TIME: StdMutex<()> = StdMutex::new(());

/// Serialises this file's tests and installs the collecting handler.
fn serial() -> StdGuard<'static, ()> {
    static HANDLER: Once = Once::new();
    HANDLER.call_once(|| lockdep_core::set_handler(|r| SEEN.lock().unwrap().push(r.clone())));
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// The reports naming a class that starts with `prefix`.
fn reports_about(prefix: &str) -> Vec<Report> {
    SEEN.lock()
        .unwrap()
        .iter()
        .filter(|r| r.classes().iter().any(|c| c.starts_with(prefix)))
        .cloned()
        .collect()
}

fn texts(reports: &[Report]) -> String {
    reports
        .iter()
        .map(|r| r.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Both runtimes, each with its name (a finding is reported once per process, so each run
/// needs classes of its own).
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

async fn transfer(accounts: &Mutex<u64>, audit: &Mutex<Vec<String>>) {
    let mut accounts = accounts.lock().await;
    // Suspended inside the critical section: on the multi-thread runtime the task may resume
    // on the other worker.
    tokio::task::yield_now().await;
    *accounts += 1;
    audit.lock().await.push("transfer".into());
}

async fn rotate_log(accounts: &Mutex<u64>, audit: &Mutex<Vec<String>>) {
    let mut audit = audit.lock().await;
    tokio::task::yield_now().await;
    audit.clear();
    let _accounts = accounts.lock().await;
}

#[test]
fn abba_between_two_plain_spawned_tasks_is_reported() {
    let _serial = serial();
    for (flavor, rt) in runtimes() {
        let prefix = format!("plain-abba-{flavor}");
        let accounts = Arc::new(Mutex::named(&format!("{prefix}-accounts"), 0u64));
        let audit = Arc::new(Mutex::named(&format!("{prefix}-audit"), Vec::new()));
        rt.block_on(async {
            let (a, l) = (accounts.clone(), audit.clone());
            tokio::spawn(async move { transfer(&a, &l).await })
                .await
                .unwrap();
            let (a, l) = (accounts.clone(), audit.clone());
            tokio::spawn(async move { rotate_log(&a, &l).await })
                .await
                .unwrap();
        });
        let reports = reports_about(&prefix);
        assert_eq!(reports.len(), 1, "{flavor}: {}", texts(&reports));
        assert_eq!(reports[0].kind(), ReportKind::CircularDependency);
        assert_eq!(
            reports[0].classes(),
            [format!("{prefix}-accounts"), format!("{prefix}-audit")]
        );
        let text = reports[0].to_string();
        assert!(text.contains("tokio task "), "{text}");
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
        assert!(accounts.try_lock().is_ok() && audit.try_lock().is_ok());
    }
}

#[test]
fn joinset_and_spawn_local_tasks_are_checked_too() {
    let _serial = serial();
    for (flavor, rt) in runtimes() {
        let prefix = format!("plain-joinset-{flavor}");
        let a = Arc::new(Mutex::named(&format!("{prefix}-a"), ()));
        let b = Arc::new(Mutex::named(&format!("{prefix}-b"), ()));
        let local = tokio::task::LocalSet::new();
        local.block_on(&rt, async {
            let mut set = tokio::task::JoinSet::new();
            let (a1, b1) = (a.clone(), b.clone());
            set.spawn(async move {
                let _a = a1.lock().await;
                tokio::task::yield_now().await;
                let _b = b1.lock().await;
            });
            while set.join_next().await.is_some() {}
            let (a2, b2) = (a.clone(), b.clone());
            tokio::task::spawn_local(async move {
                let _b = b2.lock().await;
                tokio::task::yield_now().await;
                let _a = a2.lock().await;
            })
            .await
            .unwrap();
        });
        let reports = reports_about(&prefix);
        assert_eq!(reports.len(), 1, "{flavor}: {}", texts(&reports));
        assert_eq!(reports[0].kind(), ReportKind::CircularDependency);
    }
}

#[test]
fn two_plain_tasks_interleaved_on_one_thread_never_see_each_others_locks() {
    let _serial = serial();
    for (flavor, rt) in runtimes() {
        let prefix = format!("plain-interleaved-{flavor}");
        let a = Arc::new(Mutex::named(&format!("{prefix}-a"), ()));
        let b = Arc::new(Mutex::named(&format!("{prefix}-b"), ()));
        let local = tokio::task::LocalSet::new();
        local.block_on(&rt, async {
            let go = Arc::new(Notify::new());
            let (taken_tx, taken_rx) = oneshot::channel::<()>();
            let (a1, go1) = (a.clone(), go.clone());
            // Task 1 holds `a` while suspended; task 2 runs on the same thread meanwhile.
            let first = tokio::task::spawn_local(async move {
                let _a = a1.lock().await;
                taken_tx.send(()).unwrap();
                go1.notified().await;
            });
            taken_rx.await.unwrap();
            let b2 = b.clone();
            tokio::task::spawn_local(async move {
                let _b = b2.lock().await; // not after `a`: task 2 does not hold it
                assert!(lockdep_core::held_locks() == [format!("plain-interleaved-{flavor}-b")]);
            })
            .await
            .unwrap();
            go.notify_one();
            first.await.unwrap();
            // b then a: an inversion only if `a -> b` had been recorded.
            let (a3, b3) = (a.clone(), b.clone());
            tokio::spawn(async move {
                let _b = b3.lock().await;
                let _a = a3.lock().await;
            })
            .await
            .unwrap();
        });
        let reports = reports_about(&prefix);
        assert!(reports.is_empty(), "{flavor}: {}", texts(&reports));
    }
}

#[test]
fn a_mixed_async_sync_async_cycle_in_plain_tasks_is_reported() {
    let _serial = serial();
    for (flavor, rt) in runtimes() {
        let prefix = format!("plain-mixed-{flavor}");
        let first = Arc::new(Mutex::named(&format!("{prefix}-async-1"), ()));
        let sync = Arc::new(lockdep_core::Mutex::named(&format!("{prefix}-sync"), ()));
        let second = Arc::new(Mutex::named(&format!("{prefix}-async-2"), ()));
        let local = tokio::task::LocalSet::new();
        local.block_on(&rt, async {
            let (f, s) = (first.clone(), sync.clone());
            tokio::spawn(async move {
                let _f = f.lock().await;
                tokio::task::yield_now().await;
                drop(s.lock()); // async 1 -> sync
            })
            .await
            .unwrap();
            // A sync guard makes the future !Send: a local task.
            let (s, g) = (sync.clone(), second.clone());
            #[allow(clippy::await_holding_lock)] // on a free lock: no yield, an edge only
            tokio::task::spawn_local(async move {
                let _s = s.lock();
                drop(g.lock().await); // sync -> async 2
            })
            .await
            .unwrap();
            let (f, g) = (first.clone(), second.clone());
            tokio::spawn(async move {
                let _g = g.lock().await;
                tokio::task::yield_now().await;
                let _f = f.lock().await; // async 2 -> async 1: closes the cycle
            })
            .await
            .unwrap();
        });
        let reports = reports_about(&prefix);
        assert_eq!(reports.len(), 1, "{flavor}: {}", texts(&reports));
        assert_eq!(reports[0].kind(), ReportKind::CircularDependency);
        let classes = reports[0].classes();
        for class in ["async-1", "sync", "async-2"] {
            assert!(
                classes.iter().any(|c| c.ends_with(class)),
                "{flavor}: {classes:?}"
            );
        }
    }
}

#[test]
fn relocking_an_async_mutex_in_a_plain_task_panics_instead_of_hanging() {
    let _serial = serial();
    for (flavor, rt) in runtimes() {
        let prefix = format!("plain-relock-{flavor}");
        let m = Arc::new(Mutex::named(&prefix, ()));
        let m1 = m.clone();
        let joined = rt.block_on(async move {
            tokio::spawn(async move {
                let _g = m1.lock().await;
                tokio::task::yield_now().await;
                let _again = m1.lock().await; // would hang forever
            })
            .await
        });
        let err = joined.expect_err("the task must panic");
        assert!(err.is_panic(), "{flavor}");
        let message = err.into_panic();
        let message = message
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default();
        assert!(message.contains("self-deadlock"), "{flavor}: {message}");
        // The guard went with the panicking task: the lock is free, nothing is left held.
        rt.block_on(async {
            let m2 = m.clone();
            tokio::spawn(async move {
                let _g = m2.lock().await;
            })
            .await
            .unwrap();
        });
        assert!(m.try_lock().is_ok());
    }
}

/// A plain `#[tokio::test]`: its body runs in `block_on`, which owns what it takes.
#[tokio::test]
#[allow(clippy::await_holding_lock)] // the test lock: held for the whole test, on purpose
#[should_panic(expected = "self-deadlock")]
async fn a_plain_tokio_test_relocking_its_async_mutex_panics() {
    let _serial = serial();
    let m = Mutex::named("plain-tokio-test-relock", ());
    let _g = m.lock().await;
    let _again = m.lock().await;
}

/// A thread that took locks before it entered a runtime (its first acquisition was not in one):
/// a plain task's first sync lock there still belongs to the task, so a guard of it alive
/// while another task runs is `HeldAcrossAwait`, and the other task's lock is not ordered
/// after it.
#[test]
fn a_thread_with_locks_before_its_runtime_still_sees_its_plain_tasks() {
    let _serial = serial();
    std::thread::spawn(|| {
        let before = lockdep_core::Mutex::named("plain-before-runtime-setup", ());
        drop(before.lock());
        let rt = Builder::new_current_thread().enable_all().build().unwrap();
        let config = Arc::new(lockdep_core::Mutex::named(
            "plain-before-runtime-config",
            1u32,
        ));
        let other = Arc::new(Mutex::named("plain-before-runtime-other", ()));
        let local = tokio::task::LocalSet::new();
        local.block_on(&rt, async {
            let c = config.clone();
            #[allow(clippy::await_holding_lock)] // the bug under test
            let holder = tokio::task::spawn_local(async move {
                let guard = c.lock();
                tokio::task::yield_now().await;
                drop(guard);
            });
            let o = other.clone();
            let runner = tokio::task::spawn_local(async move {
                let _o = o.lock().await;
            });
            holder.await.unwrap();
            runner.await.unwrap();
        });
    })
    .join()
    .unwrap();
    let reports = reports_about("plain-before-runtime");
    assert_eq!(reports.len(), 1, "{}", texts(&reports));
    assert_eq!(reports[0].kind(), ReportKind::HeldAcrossAwait);
    assert_eq!(reports[0].classes(), ["plain-before-runtime-config"]);
}

#[test]
fn a_sync_guard_held_across_await_in_a_plain_task_is_reported() {
    let _serial = serial();
    for (flavor, rt) in runtimes() {
        let prefix = format!("plain-across-await-{flavor}");
        let config = Arc::new(lockdep_core::Mutex::named(
            &format!("{prefix}-config"),
            1u32,
        ));
        let other = Arc::new(Mutex::named(&format!("{prefix}-other"), ()));
        let clean = Arc::new(lockdep_core::Mutex::named(&format!("{prefix}-clean"), 1u32));

        // The bug under test (clippy's static lint sees this one; lockdep sees it at run time).
        #[allow(clippy::await_holding_lock)]
        async fn reload(config: &lockdep_core::Mutex<u32>) {
            let guard = config.lock();
            tokio::task::yield_now().await; // the guard is alive across this .await
            drop(guard);
        }

        let local = tokio::task::LocalSet::new();
        local.block_on(&rt, async {
            let c = config.clone();
            let holder = tokio::task::spawn_local(async move { reload(&c).await });
            let o = other.clone();
            // Runs on this thread while `reload` is suspended holding the sync guard.
            let runner = tokio::task::spawn_local(async move {
                let _o = o.lock().await;
            });
            holder.await.unwrap();
            runner.await.unwrap();
            // Dropped before the .await: clean.
            let c = clean.clone();
            let tidy = tokio::task::spawn_local(async move {
                drop(c.lock());
                tokio::task::yield_now().await;
            });
            let o = other.clone();
            let runner = tokio::task::spawn_local(async move {
                let _o = o.lock().await;
            });
            tidy.await.unwrap();
            runner.await.unwrap();
        });
        let reports = reports_about(&prefix);
        assert_eq!(reports.len(), 1, "{flavor}: {}", texts(&reports));
        assert_eq!(reports[0].kind(), ReportKind::HeldAcrossAwait);
        assert_eq!(reports[0].classes(), [format!("{prefix}-config")]);
        let text = reports[0].to_string();
        assert!(text.contains("lock held across .await"), "{text}");
        assert!(text.contains("another task ran"), "{text}");
        assert!(text.contains("tests/plain_tasks.rs:"), "{text}");
        assert!(text.contains("tokio task "), "{text}");
        // No dependency from `config` to `other`: the runner does not hold `config`.
        let dot = lockdep_core::graph::to_dot();
        assert!(
            !dot.lines().any(|l| l.contains(&format!("{prefix}-config"))
                && l.contains("->")
                && l.contains(&format!("{prefix}-other"))),
            "{flavor}: {dot}"
        );
    }
}

#[test]
fn cancelled_timed_out_and_panicking_plain_tasks_leave_nothing_held() {
    let _serial = serial();
    for (flavor, rt) in runtimes() {
        let prefix = format!("plain-cancel-{flavor}");
        let a = Arc::new(Mutex::named(&format!("{prefix}-a"), ()));
        let b = Arc::new(Mutex::named(&format!("{prefix}-b"), ()));
        let before = lockdep_core::stats().task_held_sets;
        rt.block_on(async {
            // Aborted while holding `a`.
            let (a1, held_tx) = (a.clone(), oneshot::channel::<()>());
            let (held_tx, held_rx) = (held_tx.0, held_tx.1);
            let aborted = tokio::spawn(async move {
                let _a = a1.lock().await;
                held_tx.send(()).unwrap();
                std::future::pending::<()>().await;
            });
            held_rx.await.unwrap();
            aborted.abort();
            assert!(aborted.await.unwrap_err().is_cancelled());
            // Timed out while holding `a`, and `select!` dropping a branch that holds it.
            let a2 = a.clone();
            tokio::spawn(async move {
                let r = tokio::time::timeout(Duration::from_millis(10), async {
                    let _a = a2.lock().await;
                    std::future::pending::<()>().await;
                })
                .await;
                assert!(r.is_err());
                tokio::select! {
                    _ = async { let _a = a2.lock().await; std::future::pending::<()>().await } => {}
                    _ = tokio::time::sleep(Duration::from_millis(5)) => {}
                }
                assert!(!is_held(&*a2));
                assert!(lockdep_core::held_locks().is_empty());
            })
            .await
            .unwrap();
            // Panicking while holding `a`.
            let a3 = a.clone();
            let panicked = tokio::spawn(async move {
                let _a = a3.lock().await;
                tokio::task::yield_now().await;
                panic!("the task fails while holding the lock");
            })
            .await;
            assert!(panicked.unwrap_err().is_panic());
            // After all of that, `b` then `a` in a new task: no edge from a stale `a`.
            let (a4, b4) = (a.clone(), b.clone());
            tokio::spawn(async move {
                let _b = b4.lock().await;
                let _a = a4.lock().await;
            })
            .await
            .unwrap();
            let (a5, b5) = (a.clone(), b.clone());
            tokio::spawn(async move {
                let _a = a5.lock().await; // a -> b: inverse of the above, a real finding
                let _b = b5.lock().await;
            })
            .await
            .unwrap();
        });
        let reports = reports_about(&prefix);
        assert_eq!(reports.len(), 1, "{flavor}: {}", texts(&reports));
        assert_eq!(
            reports[0].classes(),
            [format!("{prefix}-b"), format!("{prefix}-a")],
            "{flavor}: the one finding is the real inversion, with `b -> a` first"
        );
        drop(rt);
        assert!(
            lockdep_core::stats().task_held_sets <= before + 2,
            "{flavor}: held sets kept for tasks that ended"
        );
    }
}

#[test]
fn a_guard_moved_to_another_task_or_spawn_blocking_is_released_for_its_owner() {
    let _serial = serial();
    for (flavor, rt) in runtimes() {
        let prefix = format!("plain-moved-{flavor}");
        let m = Arc::new(Mutex::named(&prefix, ()));
        rt.block_on(async {
            let m1 = m.clone();
            tokio::spawn(async move {
                // Taken here, dropped by another task: this task's entry goes.
                let guard = m1.clone().lock_owned().await;
                let (tx, rx) = oneshot::channel();
                let dropper = tokio::spawn(async move { drop(rx.await.unwrap()) });
                tx.send(guard).unwrap();
                dropper.await.unwrap();
                assert!(!is_held(&*m1));
                let _again = m1.lock().await; // no false self-deadlock
                drop(_again);
                // Dropped in spawn_blocking: the same.
                let guard = m1.clone().lock_owned().await;
                tokio::task::spawn_blocking(move || drop(guard))
                    .await
                    .unwrap();
                let _again = m1.lock().await;
            })
            .await
            .unwrap();
        });
        let reports = reports_about(&prefix);
        assert!(reports.is_empty(), "{flavor}: {}", texts(&reports));
    }
}

#[test]
fn held_sets_stay_bounded_over_many_short_tasks() {
    let _serial = serial();
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let m = Arc::new(Mutex::named("plain-many", 0u64));
    let before = lockdep_core::stats().task_held_sets;
    rt.block_on(async {
        for _ in 0..20 {
            let mut set = tokio::task::JoinSet::new();
            for _ in 0..500 {
                let m = m.clone();
                set.spawn(async move {
                    let mut g = m.lock().await;
                    tokio::task::yield_now().await; // suspended holding it
                    *g += 1;
                });
            }
            while let Some(done) = set.join_next().await {
                done.unwrap();
            }
        }
    });
    assert_eq!(*m.try_lock().unwrap(), 10_000);
    let after = lockdep_core::stats().task_held_sets;
    // At most one per thread that ran a task (its last, cached there until another runs).
    assert!(
        after <= before + 3,
        "held sets: {before} before, {after} after 10 000 tasks"
    );
    assert!(reports_about("plain-many").is_empty());
}

#[test]
fn many_plain_tasks_in_one_order_on_many_workers_report_nothing_and_leave_nothing() {
    // A real multi-threaded run: 64 plain tasks on 4 workers, each many times taking the pair
    // in one order with yields in between (resumed on any worker, often another), some through
    // owned guards handed to another task to drop, some giving up a wait in select!, with
    // short sync critical sections in between. Nothing may be reported, no entry left anywhere.
    let _serial = serial();
    let rt = Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    let outer = Arc::new(Mutex::named("plain-stress-outer", 0u64));
    let inner = Arc::new(lockdep_core::tokio::RwLock::named(
        "plain-stress-inner",
        0u64,
    ));
    let counter = Arc::new(lockdep_core::Mutex::named("plain-stress-sync", 0u64));
    let before = lockdep_core::stats().task_held_sets;
    rt.block_on(async {
        let tasks: Vec<_> = (0..64)
            .map(|i| {
                let (outer, inner, counter) = (outer.clone(), inner.clone(), counter.clone());
                tokio::spawn(async move {
                    for round in 0..50u64 {
                        if (i + round) % 3 == 0 {
                            let o = outer.clone().lock_owned().await;
                            tokio::task::yield_now().await;
                            *inner.write().await += *o;
                            // Dropped by another task.
                            tokio::spawn(async move { drop(o) }).await.unwrap();
                        } else {
                            let mut o = outer.lock().await;
                            tokio::task::yield_now().await;
                            *counter.lock() += 1; // outer -> sync
                            *o += *inner.read().await % 7;
                        }
                        tokio::select! {
                            biased;
                            _ = tokio::task::yield_now() => {}
                            _ = inner.write() => {}
                        }
                        *counter.lock() += 1;
                        assert!(lockdep_core::held_locks().is_empty());
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        for _ in 0..16 {
            tokio::spawn(async { assert!(lockdep_core::held_locks().is_empty()) })
                .await
                .unwrap();
        }
    });
    drop(rt);
    assert!(
        reports_about("plain-stress").is_empty(),
        "{}",
        texts(&reports_about("plain-stress"))
    );
    assert!(lockdep_core::stats().task_held_sets <= before + 5);
}

#[test]
fn an_async_self_deadlock_report_names_the_users_lock_call() {
    let _serial = serial();
    let rt = Builder::new_current_thread().enable_all().build().unwrap();
    let m = Arc::new(Mutex::named("plain-relock-location", ()));
    let m1 = m.clone();
    let line = line!() + 5;
    let joined = rt.block_on(async move {
        tokio::spawn(async move {
            let _g = m1.lock().await;
            tokio::task::yield_now().await;
            let _again = m1.lock().await;
        })
        .await
    });
    let message = joined.unwrap_err().into_panic();
    let message = message
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(message.contains("self-deadlock"), "{message}");
    assert!(
        message.contains(&format!("at: lockdep-core/tests/plain_tasks.rs:{line}:")),
        "{message}"
    );
}

#[test]
fn a_worker_exiting_with_a_moved_tasks_stale_copy_reports_no_leak() {
    // A task starts waiting on one worker (its entry recorded there), is woken and finishes on
    // the other; the first worker takes no other lock before the runtime shuts down. Its
    // stale copy of the task's entries is not a guard the worker leaked.
    let Some(output) = common::in_child(
        "LOCKDEP_PLAIN_TASKS_CHILD",
        "a_worker_exiting_with_a_moved_tasks_stale_copy_reports_no_leak",
        || {
            let rt = Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            let m = Arc::new(Mutex::named("plain-exit-stale", 0u64));
            rt.block_on(async {
                for _ in 0..20 {
                    let mut set = tokio::task::JoinSet::new();
                    for _ in 0..200 {
                        let m = m.clone();
                        set.spawn(async move {
                            let mut g = m.lock().await;
                            tokio::task::yield_now().await;
                            *g += 1;
                        });
                    }
                    while set.join_next().await.is_some() {}
                }
            });
            drop(rt);
            eprintln!("child done");
        },
    ) else {
        return;
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("child done"), "{stderr}");
    assert!(!stderr.contains("exited while holding"), "{stderr}");
}

/// A task spawned straight from an `async fn` (`tokio::spawn(export(a, l))`).
async fn export_task(accounts: Arc<Mutex<u64>>, audit: Arc<Mutex<Vec<String>>>) {
    rotate_log(&accounts, &audit).await
}

#[test]
fn a_plain_task_is_named_by_the_async_fn_it_runs_and_runtime_frames_are_trimmed() {
    let _serial = serial();
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let prefix = "plain-named";
    let accounts = Arc::new(Mutex::named(&format!("{prefix}-accounts"), 0u64));
    let audit = Arc::new(Mutex::named(&format!("{prefix}-audit"), Vec::new()));
    rt.block_on(async {
        let (a, l) = (accounts.clone(), audit.clone());
        tokio::spawn(async move { transfer(&a, &l).await })
            .await
            .unwrap();
        tokio::spawn(export_task(accounts.clone(), audit.clone()))
            .await
            .unwrap();
    });
    let reports = reports_about(prefix);
    assert_eq!(reports.len(), 1, "{}", texts(&reports));
    let text = reports[0].to_string();
    // The thread line names the task's id and the async fn it runs (read off its stack).
    assert!(
        text.contains(", running `plain_tasks::export_task`"),
        "{text}"
    );
    // The runtime's polling machinery is trimmed from every stack, ends and middle.
    for machinery in ["tokio::runtime", "core::future", "<core::pin::Pin"] {
        assert!(!text.contains(machinery), "{machinery}: {text}");
    }
}

#[test]
fn a_report_raised_in_a_task_is_printed_once_though_its_join_error_is_printed_too() {
    // In a child process: the `Panic` mode with no handler, as a plain program has it.
    let Some(output) = common::in_child(
        "LOCKDEP_CHILD_JOIN_ONCE",
        "a_report_raised_in_a_task_is_printed_once_though_its_join_error_is_printed_too",
        || {
            let rt = Builder::new_current_thread().enable_all().build().unwrap();
            let accounts = Arc::new(Mutex::named("plain-once-accounts", 0u64));
            let audit = Arc::new(Mutex::named("plain-once-audit", Vec::new()));
            rt.block_on(async {
                let (a, l) = (accounts.clone(), audit.clone());
                tokio::spawn(async move { transfer(&a, &l).await })
                    .await
                    .unwrap();
                let (a, l) = (accounts.clone(), audit.clone());
                let joined = tokio::spawn(async move { rotate_log(&a, &l).await }).await;
                // What `joined.unwrap()` would print after the panic's own message.
                eprintln!("joined: {:?}", joined.unwrap_err());
            });
        },
    ) else {
        return;
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(
        stderr
            .matches("WARNING: possible circular locking dependency detected")
            .count(),
        1,
        "{stderr}"
    );
    // No "panicked at" naming a line of lockdep's: the panic unwinds without the hook.
    assert!(!stderr.contains("panicked at lockdep-core/src"), "{stderr}");
    // The panic (and so the `JoinError`) carries one line that names the report and the
    // user's acquisition.
    assert!(
        stderr.contains(
            "acquiring (plain-once-accounts){write}, at: lockdep-core/tests/plain_tasks.rs:"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("joined: JoinError::Panic(")
            && stderr.contains(
                "possible circular locking dependency detected: plain-once-accounts -> \
                 plain-once-audit (the report is printed above)"
            ),
        "{stderr}"
    );
}

/// A task spawned with an `async` block (the usual way) is named by where the block is: in the
/// user's code, the block's own lines, whoever made the `spawn` call (the path is the process's
/// working directory's, the package's under `cargo test`).
#[test]
fn a_plain_task_running_an_async_block_is_named_by_where_the_block_is() {
    let _serial = serial();
    let rt = Builder::new_current_thread().enable_all().build().unwrap();
    let prefix = "plain-block";
    let accounts = Arc::new(Mutex::named(&format!("{prefix}-accounts"), 0u64));
    let audit = Arc::new(Mutex::named(&format!("{prefix}-audit"), Vec::<u64>::new()));
    /// A shared spawning helper: its own line must not name the task.
    fn spawn_helper<F: std::future::Future<Output = ()> + Send + 'static>(
        f: F,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(f)
    }
    rt.block_on(async {
        let (a, l) = (accounts.clone(), audit.clone());
        spawn_helper(async move {
            let _a = a.lock().await;
            l.lock().await.push(1);
        })
        .await
        .unwrap();
        let (a, l) = (accounts.clone(), audit.clone());
        let line = line!() + 3;
        spawn_helper(async move {
            let _l = l.lock().await;
            *a.lock().await += 1;
        })
        .await
        .unwrap();
        let reports = reports_about(prefix);
        assert_eq!(reports.len(), 1, "{}", texts(&reports));
        let text = reports[0].to_string();
        assert!(
            text.contains(&format!(
                ", running \
                 `plain_tasks::a_plain_task_running_an_async_block_is_named_by_where_the_block_is` \
                 at tests/plain_tasks.rs:{line}'"
            )),
            "{text}"
        );
    });
}
