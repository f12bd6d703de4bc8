//! A panicking closure inside any async guard conversion (`map`, `try_map`, `downgrade_map`,
//! `try_downgrade_map`, borrowed and owned): tokio's unwinding releases tokio's lock, and
//! lockdep's entry goes with it — no stale entry (`is_held` stays false) and no false
//! self-deadlock on the next acquisition.
#![cfg(all(feature = "tokio", debug_assertions))]

mod common;

use common::assert_none;
use lockdep_core::tokio::{
    MappedMutexGuard, Mutex, OwnedMappedMutexGuard, OwnedMutexGuard, OwnedRwLockMappedWriteGuard,
    OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock, RwLockMappedWriteGuard, RwLockReadGuard,
    RwLockWriteGuard,
};
use lockdep_core::{capture, held_locks, is_held, LockdepFutureExt};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

/// Runs `body` as a lockdep task on a current-thread runtime, expecting no report.
fn in_task<F: std::future::Future<Output = ()>>(body: F) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    assert_none(&capture(|| rt.block_on(body.lockdep())));
}

/// Runs the conversion `convert`, whose closure panics, and checks that it unwound.
fn panics<T>(convert: impl FnOnce() -> T) {
    let unwound = catch_unwind(AssertUnwindSafe(|| drop(convert())));
    assert!(unwound.is_err(), "the closure's panic must come through");
}

fn boom<T>(_: T) -> T {
    panic!("the user's closure panics")
}

/// After a conversion panicked: nothing held, and the lock is free for tokio and for lockdep.
macro_rules! released {
    ($mutex_or_rwlock:expr, $relock:expr) => {{
        assert!(
            !is_held(&*$mutex_or_rwlock),
            "lockdep's entry stayed behind"
        );
        assert!(held_locks().is_empty(), "{:?}", held_locks());
        drop($relock.await);
        assert!(held_locks().is_empty());
    }};
}

#[test]
fn mutex_guard_conversions() {
    let m = Arc::new(Mutex::named("panic-mutex", (1u32, 2u32)));
    in_task(async {
        let g = m.lock().await;
        panics(|| lockdep_core::tokio::MutexGuard::map(g, |v| boom(v)));
        released!(m, m.lock());
        let g = m.lock().await;
        panics(|| lockdep_core::tokio::MutexGuard::try_map(g, |v| Some(boom(&mut v.0))));
        released!(m, m.lock());
        let g = lockdep_core::tokio::MutexGuard::map(m.lock().await, |v| v);
        panics(|| MappedMutexGuard::map(g, |v| boom(v)));
        released!(m, m.lock());
        let g = lockdep_core::tokio::MutexGuard::map(m.lock().await, |v| v);
        panics(|| MappedMutexGuard::try_map(g, |v| Some(boom(v))));
        released!(m, m.lock());
        let g = m.clone().lock_owned().await;
        panics(|| OwnedMutexGuard::map(g, |v| boom(v)));
        released!(m, m.lock());
        let g = m.clone().lock_owned().await;
        panics(|| OwnedMutexGuard::try_map(g, |v| Some(boom(v))));
        released!(m, m.lock());
        let g = OwnedMutexGuard::map(m.clone().lock_owned().await, |v| v);
        panics(|| OwnedMappedMutexGuard::map(g, |v| boom(v)));
        released!(m, m.lock());
        let g = OwnedMutexGuard::map(m.clone().lock_owned().await, |v| v);
        panics(|| OwnedMappedMutexGuard::try_map(g, |v| Some(boom(v))));
        released!(m, m.lock());
    });
}

#[test]
fn rwlock_guard_conversions() {
    let l = Arc::new(RwLock::named("panic-rwlock", (1u32, 2u32)));
    in_task(async {
        let g = l.read().await;
        panics(|| RwLockReadGuard::map(g, |v| boom(v)));
        released!(l, l.write());
        let g = l.read().await;
        panics(|| RwLockReadGuard::try_map(g, |v| Some(boom(v))));
        released!(l, l.write());
        let g = l.write().await;
        panics(|| RwLockWriteGuard::map(g, |v| boom(v)));
        released!(l, l.write());
        let g = l.write().await;
        panics(|| RwLockWriteGuard::try_map(g, |v| Some(boom(v))));
        released!(l, l.write());
        let g = l.write().await;
        panics(|| RwLockWriteGuard::downgrade_map(g, |v| boom(v)));
        released!(l, l.write());
        let g = l.write().await;
        panics(|| RwLockWriteGuard::try_downgrade_map(g, |v| Some(boom(v))));
        released!(l, l.write());
        let g = RwLockWriteGuard::into_mapped(l.write().await);
        panics(|| RwLockMappedWriteGuard::map(g, |v| boom(v)));
        released!(l, l.write());
        let g = RwLockWriteGuard::into_mapped(l.write().await);
        panics(|| RwLockMappedWriteGuard::try_map(g, |v| Some(boom(v))));
        released!(l, l.write());
    });
}

#[test]
fn owned_rwlock_guard_conversions() {
    let l = Arc::new(RwLock::named("panic-owned-rwlock", (1u32, 2u32)));
    in_task(async {
        let g = l.clone().read_owned().await;
        panics(|| OwnedRwLockReadGuard::map(g, |v| boom(v)));
        released!(l, l.write());
        let g = l.clone().read_owned().await;
        panics(|| OwnedRwLockReadGuard::try_map(g, |v| Some(boom(v))));
        released!(l, l.write());
        let g = l.clone().write_owned().await;
        panics(|| OwnedRwLockWriteGuard::map(g, |v| boom(v)));
        released!(l, l.write());
        let g = l.clone().write_owned().await;
        panics(|| OwnedRwLockWriteGuard::try_map(g, |v| Some(boom(v))));
        released!(l, l.write());
        let g = l.clone().write_owned().await;
        panics(|| OwnedRwLockWriteGuard::downgrade_map(g, |v| boom(v)));
        released!(l, l.write());
        let g = l.clone().write_owned().await;
        panics(|| OwnedRwLockWriteGuard::try_downgrade_map(g, |v| Some(boom(v))));
        released!(l, l.write());
        let g = OwnedRwLockWriteGuard::into_mapped(l.clone().write_owned().await);
        panics(|| OwnedRwLockMappedWriteGuard::map(g, |v| boom(v)));
        released!(l, l.write());
        let g = OwnedRwLockWriteGuard::into_mapped(l.clone().write_owned().await);
        panics(|| OwnedRwLockMappedWriteGuard::try_map(g, |v| Some(boom(v))));
        released!(l, l.write());
    });
}
