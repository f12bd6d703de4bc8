//! `#[lockdep_core::test]` on an `async fn`: a tokio runtime per test (current-thread, or
//! `flavor = "multi_thread"` with `worker_threads`), the body run as a lockdep task, and the
//! reports of the tasks it spawns failing the test.
#![cfg(feature = "tokio")]

use lockdep_core::tokio::{spawn, Mutex};
use lockdep_core::LockdepFutureExt;
use std::sync::Arc;

/// Takes `first` then `second` in one task, then the other order in another.
async fn invert(first: &str, second: &str) {
    let a = Arc::new(Mutex::named(first, ()));
    let b = Arc::new(Mutex::named(second, ()));
    let (a1, b1) = (a.clone(), b.clone());
    spawn(async move {
        let _a = a1.lock().await;
        let _b = b1.lock().await;
    })
    .await
    .unwrap();
    spawn(async move {
        let _b = b.lock().await;
        let _a = a.lock().await;
    })
    .await
    .unwrap();
}

#[lockdep_core::test]
#[cfg_attr(not(lockdep_checks), ignore = "needs the checks compiled in")]
async fn an_async_test_that_keeps_one_order_passes() {
    let accounts = Mutex::named("async-attr-clean-accounts", 10);
    let audit = Mutex::named("async-attr-clean-audit", 0);
    for _ in 0..3 {
        let mut a = accounts.lock().await;
        tokio::task::yield_now().await;
        *audit.lock().await += *a;
        *a -= 1;
    }
    // The body is a lockdep task: what it holds across .await is its own.
    let _a = accounts.lock().await;
    tokio::task::yield_now().await;
    assert!(lockdep_core::is_held(&accounts));
}

#[lockdep_core::test]
#[cfg_attr(not(lockdep_checks), ignore = "needs the checks compiled in")]
#[should_panic(expected = "raised 1 lockdep report:")]
async fn an_inversion_in_spawned_tasks_fails_the_test() {
    invert("async-attr-fail-a", "async-attr-fail-b").await;
}

#[lockdep_core::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(lockdep_checks), ignore = "needs the checks compiled in")]
#[should_panic(expected = "async-attr-multi-b")]
async fn on_the_multi_thread_runtime_reports_from_workers_reach_the_test() {
    assert_eq!(
        tokio::runtime::Handle::current().runtime_flavor(),
        tokio::runtime::RuntimeFlavor::MultiThread
    );
    invert("async-attr-multi-a", "async-attr-multi-b").await;
}

#[lockdep_core::test(flavor = "current_thread")]
#[cfg_attr(not(lockdep_checks), ignore = "needs the checks compiled in")]
#[should_panic(expected = "lock held across .await")]
#[allow(clippy::await_holding_lock)] // the bug under test
async fn a_sync_guard_held_across_await_fails_the_test() {
    let config = lockdep_core::Mutex::named("async-attr-held-config", ());
    let _guard = config.lock();
    tokio::task::yield_now().await;
}

#[lockdep_core::test]
async fn an_async_test_can_return_a_result() -> Result<(), String> {
    let m = Mutex::named("async-attr-result", 1);
    let value = async { *m.lock().await }.lockdep().await;
    if value == 1 {
        Ok(())
    } else {
        Err(format!("unexpected {value}"))
    }
}

/// The example of the guide's "Async code" page (`docs/async.md`), as written there.
#[lockdep_core::test]
async fn transfer_and_export_take_the_locks_in_one_order() {
    let accounts = Arc::new(Mutex::named("accounts", 100i64));
    let audit = Arc::new(Mutex::named("audit_log", Vec::<String>::new()));
    let (a, l) = (accounts.clone(), audit.clone());
    spawn(async move {
        let mut balance = a.lock().await;
        *balance -= 30;
        l.lock().await.push("transfer 30".into()); // accounts -> audit_log
    })
    .await
    .unwrap();
    assert_eq!(*accounts.lock().await, 70);
}
