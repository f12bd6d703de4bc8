//! Regression tests for the four places where lockdep's types behaved differently from
//! `parking_lot` / `std`: one condvar with two mutexes, `wait_while_for`'s timeout,
//! the `Debug` of `sync::Condvar`, and locks taken past MAX_LOCK_DEPTH. (How cheap the last one
//! stays is measured by `benches/benches/overflow.rs`, not timed here.)

mod common;

use common::assert_none;
use lockdep_core::{capture, held_locks, is_held, Condvar, Mutex, MAX_LOCK_DEPTH};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

/// Runs `f` on its own thread and fails the test if it has not finished after `secs` seconds,
/// so a regression that hangs fails instead of blocking the suite.
fn watchdog<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        let _ = tx.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)));
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(Ok(value)) => {
            worker.join().unwrap();
            value
        }
        Ok(Err(payload)) => std::panic::resume_unwind(payload),
        Err(_) => panic!("hung: still running after {secs}s"),
    }
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

#[derive(Default)]
struct Shared {
    first: Mutex<bool>,
    second: Mutex<()>,
    cv: Condvar,
}

#[test]
fn one_condvar_with_two_mutexes_panics_like_parking_lot() {
    watchdog(20, || {
        let shared = Arc::new(Shared::default());
        let (waiting_tx, waiting_rx) = mpsc::channel();
        let waiter = {
            let shared = Arc::clone(&shared);
            std::thread::spawn(move || {
                let mut done = shared.first.lock();
                waiting_tx.send(()).unwrap();
                while !*done {
                    shared.cv.wait(&mut done);
                }
            })
        };
        waiting_rx.recv().unwrap();
        // The waiter released `first` only by waiting: it is registered with `first` now.
        drop(shared.first.lock());

        let misuse = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut second = shared.second.lock();
            shared.cv.wait_for(&mut second, Duration::from_secs(30));
        }));
        let payload = misuse.expect_err("waiting with a second mutex must panic, not hang");
        assert_eq!(
            panic_text(&*payload),
            "attempted to use a condition variable with more than one mutex"
        );
        // The panic left the second mutex unlocked and untracked, and the first waiter intact.
        assert!(!shared.second.is_locked());
        assert!(held_locks().is_empty(), "{:?}", held_locks());

        *shared.first.lock() = true;
        shared.cv.notify_all();
        waiter.join().unwrap();

        // Once no thread waits, the condvar may be used with another mutex, as in parking_lot.
        let timed_out = shared
            .cv
            .wait_for(&mut shared.second.lock(), Duration::from_millis(1));
        assert!(timed_out.timed_out());
    });
}

#[test]
fn wait_while_for_does_not_ask_the_condition_again_after_the_timeout() {
    let m = Mutex::new(0u32);
    let cv = Condvar::new();
    let calls = AtomicUsize::new(0);
    let mut guard = m.lock();
    // True on the first call only: nobody notifies, so the wait times out; the condition, were
    // it asked again, would now say "stop waiting" and the old code answered `timed_out() ==
    // false`. parking_lot returns `timed_out() == true` after exactly one call.
    let result = cv.wait_while_for(
        &mut guard,
        |_| calls.fetch_add(1, Ordering::SeqCst) == 0,
        Duration::from_millis(20),
    );
    assert!(result.timed_out());
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    let deadline = std::time::Instant::now() + Duration::from_millis(20);
    let result = cv.wait_while_until(
        &mut guard,
        |_| calls.fetch_add(1, Ordering::SeqCst) == 1,
        deadline,
    );
    assert!(result.timed_out());
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[test]
fn wait_while_for_not_timed_out_when_the_condition_ends_the_wait() {
    let pair = Arc::new((Mutex::new(false), Condvar::new()));
    let notifier = {
        let pair = Arc::clone(&pair);
        std::thread::spawn(move || {
            *pair.0.lock() = true;
            pair.1.notify_all();
        })
    };
    let mut ready = pair.0.lock();
    let result = pair
        .1
        .wait_while_for(&mut ready, |ready| !*ready, Duration::from_secs(60));
    assert!(!result.timed_out());
    assert!(*ready);
    drop(ready);
    notifier.join().unwrap();
}

#[test]
fn sync_condvar_debug_prints_like_std() {
    assert_eq!(
        format!("{:?}", lockdep_core::sync::Condvar::new()),
        format!("{:?}", std::sync::Condvar::new())
    );
    assert_eq!(
        format!("{:?}", Condvar::new()),
        format!("{:?}", parking_lot::Condvar::new())
    );
}

/// How many locks the held-lock stack shows when full (none with the checks compiled out).
const TRACKED_WHEN_FULL: usize = if lockdep_core::CHECKS_COMPILED_IN {
    MAX_LOCK_DEPTH
} else {
    0
};

/// std's max-readers test leaks guards with `mem::forget`; past MAX_LOCK_DEPTH every further
/// lock is untracked — taken and released correctly, in any order, and tracking resumes as soon
/// as the stack has room again.
#[test]
fn leaked_guards_past_max_lock_depth_keep_locking_correct() {
    let readers = lockdep_core::sync::RwLock::new(0u32);
    let other = Mutex::new(0u32);
    let third = Mutex::new(0u32);
    let reports = capture(|| {
        for _ in 0..MAX_LOCK_DEPTH + 10 {
            std::mem::forget(readers.try_read().unwrap());
        }
        assert_eq!(held_locks().len(), TRACKED_WHEN_FULL);
        for _ in 0..1000 {
            *other.lock() += 1;
        }
        // Untracked locks released out of order.
        let a = other.lock();
        let b = third.lock();
        assert!(!is_held(&other) && !is_held(&third));
        drop(a);
        drop(b);
        assert_eq!(held_locks().len(), TRACKED_WHEN_FULL);
    });
    assert_none(&reports);
    assert_eq!(*other.lock(), 1000);
    // `readers` stays read-locked (the guards were leaked), as with std.
    assert!(readers.try_write().is_err());
}

#[test]
fn tracking_resumes_when_the_overflowed_locks_are_released() {
    let locks: Vec<Mutex<()>> = (0..MAX_LOCK_DEPTH + 3)
        .map(|i| Mutex::named(&format!("overflow-{i}"), ()))
        .collect();
    for lock in &locks {
        std::mem::forget(lock.lock());
    }
    assert_eq!(held_locks().len(), TRACKED_WHEN_FULL);
    for lock in locks.iter().rev() {
        // SAFETY: this thread locked each one and forgot its guard.
        unsafe { lock.force_unlock() };
    }
    assert!(held_locks().is_empty());
    let _g = locks[0].lock();
    assert_eq!(is_held(&locks[0]), lockdep_core::CHECKS_COMPILED_IN);
}

/// The count of waiters behind the one-mutex check must come back to zero however the waits
/// end — notified one by one, all at once, or timed out, racing each other — or a condvar
/// would wrongly refuse another mutex afterwards (or miss a real misuse).
#[test]
fn condvar_waiter_count_survives_racing_notifies_and_timeouts() {
    watchdog(60, || {
        let shared = Arc::new(Shared::default());
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        // Every waiter is running before the notifications start, and waits at least once
        // (a loaded machine may otherwise schedule a waiter only after the last notification).
        let started = Arc::new(std::sync::Barrier::new(7));
        let waiters: Vec<_> = (0..6u64)
            .map(|i| {
                let shared = Arc::clone(&shared);
                let stop = Arc::clone(&stop);
                let started = Arc::clone(&started);
                std::thread::spawn(move || {
                    started.wait();
                    let mut rounds = 0;
                    loop {
                        let mut g = shared.first.lock();
                        // Short timeouts of different lengths, so timeouts and notifications
                        // race.
                        shared
                            .cv
                            .wait_for(&mut g, Duration::from_micros(50 + 37 * i));
                        rounds += 1;
                        if stop.load(Ordering::Relaxed) {
                            break rounds;
                        }
                    }
                })
            })
            .collect();
        started.wait();
        for round in 0..3000 {
            if round % 3 == 0 {
                shared.cv.notify_all();
            } else {
                shared.cv.notify_one();
            }
            if round % 100 == 0 {
                std::thread::yield_now();
            }
        }
        stop.store(true, Ordering::Relaxed);
        let rounds: usize = waiters.into_iter().map(|w| w.join().unwrap()).sum();
        assert!(rounds >= 6);
        // No waiter is left: the condvar takes the other mutex, and then refuses the first
        // while a thread waits with the second.
        let timed_out = shared
            .cv
            .wait_for(&mut shared.second.lock(), Duration::from_millis(1));
        assert!(timed_out.timed_out());
    });
}

/// Several threads past MAX_LOCK_DEPTH at once, sharing two locks taken in one order: the
/// untracked acquisitions stay correct (no lost update, nothing reported, every thread's stack
/// back to empty after it releases what it leaked).
#[test]
fn threads_past_max_lock_depth_share_locks_correctly() {
    struct Bank {
        ledger: Mutex<u64>,
        audit: Mutex<u64>,
    }
    let bank = Arc::new(Bank {
        ledger: Mutex::named("overflow-ledger", 0),
        audit: Mutex::named("overflow-audit", 0),
    });
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let bank = Arc::clone(&bank);
            std::thread::spawn(move || {
                let mine = lockdep_core::RwLock::new(());
                for _ in 0..MAX_LOCK_DEPTH + 5 {
                    std::mem::forget(mine.read_recursive());
                }
                let reports = capture(|| {
                    for _ in 0..500 {
                        let mut ledger = bank.ledger.lock();
                        *ledger += 1;
                        *bank.audit.lock() += 1;
                    }
                });
                for _ in 0..MAX_LOCK_DEPTH + 5 {
                    // SAFETY: this thread holds each of these reads, guards forgotten.
                    unsafe { mine.force_unlock_read() };
                }
                (reports.len(), held_locks().len())
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), (0, 0));
    }
    assert_eq!(*bank.ledger.lock(), 2000);
    assert_eq!(*bank.audit.lock(), 2000);
}

/// Past MAX_LOCK_DEPTH nothing new is validated, but taking a tracked lock this thread already
/// holds is still refused (it could only hang), as everywhere else.
#[test]
fn a_certain_self_deadlock_past_max_lock_depth_still_panics() {
    if !lockdep_core::CHECKS_COMPILED_IN {
        return;
    }
    watchdog(20, || {
        let locks: Vec<Mutex<()>> = (0..MAX_LOCK_DEPTH)
            .map(|i| Mutex::named(&format!("full-{i}"), ()))
            .collect();
        let guards: Vec<_> = locks.iter().map(|l| l.lock()).collect();
        let relock = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            capture(|| drop(locks[3].lock()))
        }));
        let payload = relock.expect_err("relocking a held mutex must panic, not hang");
        let text = panic_text(&*payload);
        assert!(text.contains("self-deadlock"), "{text}");
        drop(guards);
        assert!(held_locks().is_empty());
    });
}
