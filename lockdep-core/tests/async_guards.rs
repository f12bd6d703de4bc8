//! The async guards' conversions (tokio 1.x's guard API): each keeps lockdep's entry right —
//! released once, by the right name, a downgrade seen as a read (DESIGN.md, Tasks, T11).
#![cfg(all(feature = "tokio", debug_assertions))]

mod common;

use common::assert_none;
use lockdep_core::tokio::{
    spawn, MappedMutexGuard, Mutex, OwnedMappedMutexGuard, OwnedMutexGuard,
    OwnedRwLockMappedWriteGuard, OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock,
    RwLockMappedWriteGuard, RwLockReadGuard, RwLockWriteGuard,
};
use lockdep_core::{capture, held_locks, is_held, LockdepFutureExt};
use std::sync::Arc;
use tokio::runtime::{Builder, Runtime};

fn runtime() -> Runtime {
    Builder::new_current_thread().enable_all().build().unwrap()
}

/// Runs `body` as a lockdep task and returns what it reported.
fn in_task<F: std::future::Future<Output = ()>>(body: F) -> Vec<lockdep_core::Report> {
    let rt = runtime();
    capture(|| rt.block_on(body.lockdep()))
}

#[test]
fn an_owned_downgrade_is_seen_by_lockdep() {
    let lock = Arc::new(RwLock::named("owned-downgrade", vec![1, 2]));
    let reports = in_task(async {
        let mut write = lock.clone().write_owned().await;
        write.push(3);
        let read = write.downgrade();
        // tokio's lock is read-locked: other readers get in, writers do not.
        assert!(lock.try_read().is_ok());
        assert!(lock.try_write().is_err());
        assert_eq!(*read, [1, 2, 3]);
        assert!(Arc::ptr_eq(OwnedRwLockReadGuard::rwlock(&read), &lock));
        // Released as a read: the entry was turned into one.
        drop(read);
        assert!(!is_held(&*lock));
        assert!(held_locks().is_empty());
        // The lock is free again, for tokio and for lockdep.
        let again = lock.clone().write_owned().await;
        drop(again);
        assert!(held_locks().is_empty());
    });
    assert_none(&reports);
}

#[test]
fn a_write_after_an_owned_downgrade_is_a_self_deadlock_only_while_the_read_lives() {
    let lock = Arc::new(RwLock::named("owned-downgrade-relock", 0));
    let rt = runtime();
    let reports = capture(|| {
        rt.block_on(async {
            // After the read guard is gone, writing again is fine.
            let l = lock.clone();
            spawn(async move {
                let read = l.clone().write_owned().await.downgrade();
                drop(read);
                *l.write().await += 1;
            })
            .await
            .unwrap();
            // While it lives, a write by the same task would hang for ever: reported, panics.
            let l = lock.clone();
            let outcome = spawn(async move {
                let _read = l.clone().write_owned().await.downgrade();
                let _write = l.write().await;
            })
            .await;
            assert!(outcome.unwrap_err().is_panic());
        })
    });
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert!(reports[0].is_certain_deadlock());
    assert_eq!(*lock.try_read().unwrap(), 1);
}

#[test]
fn owned_write_guards_map_try_map_and_downgrade_map() {
    let lock = Arc::new(RwLock::named("owned-write-maps", vec![1, 2, 3]));
    let reports = in_task(async {
        // try_map that finds nothing gives the write guard back, still writing.
        let write = lock.clone().write_owned().await;
        let mut write = OwnedRwLockWriteGuard::try_map(write, |v| v.get_mut(9)).unwrap_err();
        write[0] = 10;
        assert!(is_held(&*lock));
        let mut second = OwnedRwLockWriteGuard::try_map(write, |v| v.get_mut(1)).unwrap();
        *second = 20;
        let mut second =
            OwnedRwLockMappedWriteGuard::try_map(second, |_| None::<&mut u8>).unwrap_err();
        *second += 1;
        let second = OwnedRwLockMappedWriteGuard::try_map(second, |x| Some(x)).unwrap();
        assert!(Arc::ptr_eq(
            OwnedRwLockMappedWriteGuard::rwlock(&second),
            &lock
        ));
        drop(second);
        assert!(!is_held(&*lock));
        // into_mapped: the whole data, write-locked until dropped.
        let mut whole = OwnedRwLockWriteGuard::into_mapped(lock.clone().write_owned().await);
        whole.push(4);
        assert!(lock.try_read().is_err());
        drop(whole);
        assert!(!is_held(&*lock));
        // try_downgrade_map that finds nothing: still a write guard, released as one.
        let write = lock.clone().write_owned().await;
        let write = OwnedRwLockWriteGuard::try_downgrade_map(write, |v| v.get(9)).unwrap_err();
        assert!(lock.try_read().is_err());
        drop(write);
        assert!(!is_held(&*lock));
        // downgrade_map and try_downgrade_map that find a part: read guards of that part.
        let last = OwnedRwLockWriteGuard::downgrade_map(lock.clone().write_owned().await, |v| {
            v.last().unwrap()
        });
        assert_eq!(*last, 4);
        assert!(lock.try_read().is_ok());
        drop(last);
        assert!(!is_held(&*lock));
        let first =
            OwnedRwLockWriteGuard::try_downgrade_map(lock.clone().write_owned().await, |v| {
                v.first()
            })
            .unwrap();
        assert_eq!(*first, 10);
        drop(first);
        assert!(held_locks().is_empty());
        assert_eq!(*lock.read().await, [10, 21, 3, 4]);
    });
    assert_none(&reports);
}

#[test]
fn owned_read_and_mutex_guards_try_map() {
    let lock = Arc::new(RwLock::named("owned-read-try-map", vec![1, 2]));
    let mutex = Arc::new(Mutex::named("owned-mutex-try-map", vec![1, 2]));
    let reports = in_task(async {
        let read = lock.clone().read_owned().await;
        let read = OwnedRwLockReadGuard::try_map(read, |v| v.get(5)).unwrap_err();
        let second = OwnedRwLockReadGuard::try_map(read, |v| v.get(1)).unwrap();
        assert_eq!(*second, 2);
        drop(second);
        assert!(!is_held(&*lock));

        let guard = mutex.clone().lock_owned().await;
        let guard = OwnedMutexGuard::try_map(guard, |v| v.get_mut(5)).unwrap_err();
        let mut first = OwnedMutexGuard::try_map(guard, |v| v.get_mut(0)).unwrap();
        *first = 7;
        let mut first = OwnedMappedMutexGuard::try_map(first, |_| None::<&mut u8>).unwrap_err();
        *first += 1;
        let first = OwnedMappedMutexGuard::try_map(first, |x| Some(x)).unwrap();
        assert!(Arc::ptr_eq(OwnedMappedMutexGuard::mutex(&first), &mutex));
        drop(first);
        assert!(!is_held(&*mutex));
        assert_eq!(*mutex.lock().await, [8, 2]);
        assert!(held_locks().is_empty());
    });
    assert_none(&reports);
}

#[test]
fn borrowed_guards_try_map_into_mapped_and_downgrade_map() {
    let lock = RwLock::named("borrowed-rw-maps", vec![1, 2, 3]);
    let mutex = Mutex::named("borrowed-mutex-maps", vec![1, 2]);
    let reports = in_task(async {
        let read = RwLockReadGuard::try_map(lock.read().await, |v| v.get(9)).unwrap_err();
        let read = RwLockReadGuard::try_map(read, |v| v.get(2)).unwrap();
        assert_eq!(*read, 3);
        drop(read);
        assert!(!is_held(&lock));

        let write = RwLockWriteGuard::try_map(lock.write().await, |v| v.get_mut(9)).unwrap_err();
        let mut whole = RwLockWriteGuard::into_mapped(write);
        whole.push(4);
        let whole = RwLockMappedWriteGuard::try_map(whole, |_| None::<&mut u8>).unwrap_err();
        let mut first = RwLockMappedWriteGuard::try_map(whole, |v| v.get_mut(0)).unwrap();
        *first = 10;
        drop(first);
        assert!(!is_held(&lock));

        let last = RwLockWriteGuard::downgrade_map(lock.write().await, |v| v.last().unwrap());
        assert_eq!(*last, 4);
        assert!(lock.try_read().is_ok());
        drop(last);
        assert!(!is_held(&lock));
        let write =
            RwLockWriteGuard::try_downgrade_map(lock.write().await, |v| v.get(9)).unwrap_err();
        assert!(lock.try_read().is_err());
        drop(write);
        assert!(!is_held(&lock));
        let first = RwLockWriteGuard::try_downgrade_map(lock.write().await, |v| v.first()).unwrap();
        assert_eq!(*first, 10);
        drop(first);
        assert!(!is_held(&lock));

        let guard = lockdep_core::tokio::MutexGuard::map(mutex.lock().await, |v| v);
        let guard = MappedMutexGuard::try_map(guard, |v| v.get_mut(5)).unwrap_err();
        let mut second = MappedMutexGuard::try_map(guard, |v| v.get_mut(1)).unwrap();
        *second = 20;
        drop(second);
        assert!(held_locks().is_empty());
        assert_eq!(*mutex.lock().await, [1, 20]);
    });
    assert_none(&reports);
}

#[test]
fn an_owned_guard_downgraded_on_another_worker_is_released_there() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let lock = Arc::new(RwLock::named("owned-downgrade-mt", 0u32));
    let reports = capture(|| {
        rt.block_on(async {
            let mut tasks = Vec::new();
            for _ in 0..8 {
                let l = lock.clone();
                tasks.push(spawn(async move {
                    let mut write = l.clone().write_owned().await;
                    *write += 1;
                    let read = write.downgrade();
                    tokio::task::yield_now().await;
                    assert!(*read >= 1);
                    drop(read);
                    assert!(held_locks().is_empty());
                }));
            }
            for task in tasks {
                task.await.unwrap();
            }
        })
    });
    assert_none(&reports);
    assert_eq!(*lock.try_read().unwrap(), 8);
}
