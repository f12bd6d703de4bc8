//! `lockdep_core::sync` is a drop-in for the whole `std::sync` path: a `use std::sync::{...}`
//! line switched by its path alone builds, the locks are checked and everything else is the
//! standard library's own.

use lockdep_core::sync::atomic::{AtomicUsize, Ordering};
use lockdep_core::sync::mpsc;
use lockdep_core::sync::{Arc, Barrier, BarrierWaitResult, Condvar, Mutex, RwLock, Weak};

/// A small worker pool written against `std::sync`, with only its `use` lines switched.
#[test]
fn a_thread_pool_on_std_sync_switches_by_its_use_line() {
    let jobs = Arc::new((Mutex::new(Vec::<usize>::new()), Condvar::new()));
    let done = Arc::new(AtomicUsize::new(0));
    let barrier = Arc::new(Barrier::new(3));
    let (tx, rx) = mpsc::channel();
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (jobs, done, barrier, tx) =
                (jobs.clone(), done.clone(), barrier.clone(), tx.clone());
            std::thread::spawn(move || {
                let _: BarrierWaitResult = barrier.wait();
                loop {
                    let (queue, ready) = &*jobs;
                    let mut queue = queue.lock().unwrap();
                    while queue.is_empty() {
                        queue = ready.wait(queue).unwrap();
                    }
                    let job = queue.pop().unwrap();
                    drop(queue);
                    if job == usize::MAX {
                        return;
                    }
                    done.fetch_add(1, Ordering::SeqCst);
                    tx.send(job * 2).unwrap();
                }
            })
        })
        .collect();
    barrier.wait();
    for job in 0..10 {
        jobs.0.lock().unwrap().push(job);
        jobs.1.notify_one();
    }
    let mut results: Vec<usize> = (0..10).map(|_| rx.recv().unwrap()).collect();
    results.sort_unstable();
    assert_eq!(results, (0..10).map(|j| j * 2).collect::<Vec<_>>());
    for _ in 0..2 {
        jobs.0.lock().unwrap().push(usize::MAX);
    }
    jobs.1.notify_all();
    for worker in workers {
        worker.join().unwrap();
    }
    assert_eq!(done.load(Ordering::SeqCst), 10);
    let weak: Weak<_> = Arc::downgrade(&jobs);
    assert!(weak.upgrade().is_some());
    let table = RwLock::new(1);
    assert_eq!(*table.read().unwrap(), 1);
}

/// The deprecated `ONCE_INIT` is there too, as this module's `Once`.
#[test]
#[allow(deprecated)]
fn once_init_is_this_modules_once() {
    static INIT: lockdep_core::sync::Once = lockdep_core::sync::ONCE_INIT;
    let mut ran = 0;
    INIT.call_once(|| ran += 1);
    INIT.call_once(|| ran += 1);
    assert_eq!(ran, 1);
}
