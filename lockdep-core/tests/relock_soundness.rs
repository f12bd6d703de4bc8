//! No safe program observes two guards of one lock, in any mode: a finding raised inside a raw
//! acquisition that `lock_api` drives (the relock of a guard's `unlocked`, a bump) never
//! unwinds without the lock. An inversion found there is raised once the lock is held (the
//! guard then releases it while unwinding); a certain self-deadlock there aborts the process
//! with the report; a `ReentrantMutex`'s raw relock and bump never unwind at all.
//!
//! The aborting cases run in a child process (this test binary again, one test selected).
#![cfg(lockdep_checks)]

use lockdep_core::{
    is_held, lock_api, set_mode, Mode, Mutex, MutexGuard, ReentrantMutex, ReentrantMutexGuard,
    RwLock, RwLockReadGuard,
};
use std::panic::{catch_unwind, AssertUnwindSafe};
mod common;
use std::sync::Arc;

const CHILD: &str = "LOCKDEP_RELOCK_CHILD";

/// Runs `scenario` in a child process when this is the parent; in the child, runs it. Returns
/// the child's exit status and stderr.
fn in_child(test: &str, scenario: impl FnOnce()) -> Option<(std::process::ExitStatus, String)> {
    let output = common::in_child(CHILD, test, scenario)?;
    Some((
        output.status,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    ))
}

/// A process killed by `abort` (SIGABRT) rather than exiting.
#[cfg(unix)]
fn aborted(status: &std::process::ExitStatus) -> bool {
    use std::os::unix::process::ExitStatusExt;
    status.signal() == Some(6)
}
#[cfg(not(unix))]
fn aborted(status: &std::process::ExitStatus) -> bool {
    !status.success()
}

/// Asserts that `lock` is locked and that no other thread can take it.
fn assert_locked_elsewhere<T: Send>(lock: &Mutex<T>) {
    assert!(lock.is_locked());
    std::thread::scope(|s| {
        s.spawn(|| assert!(lock.try_lock().is_none(), "another thread took the lock"));
    });
}

/// The first reproduction: the closure takes the mutex its guard unlocked and keeps the guard,
/// so the relock can only hang. It must never return (or unwind) with two live guards: the
/// process aborts with the report.
#[test]
#[cfg_attr(
    miri,
    ignore = "runs itself as a child process, which Miri cannot spawn"
)]
fn a_certain_self_deadlock_in_a_relock_aborts_with_the_report() {
    let child = in_child(
        "a_certain_self_deadlock_in_a_relock_aborts_with_the_report",
        || {
            let m = Mutex::named("relock-self", 0u64);
            let mut g = m.lock();
            let mut keep = None;
            let _ = catch_unwind(AssertUnwindSafe(|| {
                MutexGuard::unlocked(&mut g, || keep = Some(m.lock()))
            }));
            // Never reached: two live guards of one mutex.
            let mut keep = keep.unwrap();
            *keep += 1;
            *g += 1;
            println!("UNSOUND: two guards of relock-self");
        },
    );
    if let Some((status, stderr)) = child {
        assert!(
            aborted(&status),
            "the child was not aborted ({status}):\n{stderr}"
        );
        assert!(stderr.contains("self-deadlock detected"), "{stderr}");
        assert!(stderr.contains("relock-self"), "{stderr}");
        assert!(stderr.contains("aborting the process"), "{stderr}");
        assert!(!stderr.contains("UNSOUND"), "{stderr}");
    }
}

/// The second: a read guard's `unlocked` closure takes the write lock and keeps it.
#[test]
#[cfg_attr(
    miri,
    ignore = "runs itself as a child process, which Miri cannot spawn"
)]
fn a_read_relock_under_the_write_lock_aborts_with_the_report() {
    let child = in_child(
        "a_read_relock_under_the_write_lock_aborts_with_the_report",
        || {
            let l = RwLock::named("relock-rw", 0u64);
            let mut r = l.read();
            let mut keep = None;
            let _ = catch_unwind(AssertUnwindSafe(|| {
                RwLockReadGuard::unlocked(&mut r, || keep = Some(l.write()))
            }));
            let mut w = keep.unwrap();
            *w += *r;
            println!("UNSOUND: a read and a write guard of relock-rw");
        },
    );
    if let Some((status, stderr)) = child {
        assert!(
            aborted(&status),
            "the child was not aborted ({status}):\n{stderr}"
        );
        assert!(stderr.contains("relock-rw"), "{stderr}");
        assert!(!stderr.contains("UNSOUND"), "{stderr}");
    }
}

/// The third: the relock of `a` under `b` is a real inversion, reported in the `Panic` mode —
/// and the guard that survives the panic holds its lock.
#[test]
fn an_inversion_in_a_relock_is_raised_with_the_lock_held() {
    set_mode(Mode::Panic);
    let a = Mutex::named("relock-inv-a", 0u64);
    let b = Mutex::named("relock-inv-b", ());
    drop((a.lock(), b.lock())); // a -> b
    let mut ga = a.lock();
    let gb = b.lock();
    let caught = catch_unwind(AssertUnwindSafe(|| MutexGuard::unlocked(&mut ga, || ())));
    let message = caught.expect_err("the relock's inversion must panic in the Panic mode");
    let text = message.downcast_ref::<String>().expect("the report's text");
    assert!(
        text.contains("possible circular locking dependency"),
        "{text}"
    );
    drop(gb);
    // `ga` holds `a`, for lockdep and for real: no other thread gets in while it lives.
    assert!(is_held(&a));
    assert_locked_elsewhere(&a);
    *ga += 1;
    drop(ga);
    assert!(!is_held(&a));
    assert!(!a.is_locked());
    assert_eq!(*a.lock(), 1);
}

/// The same inversion without `catch_unwind`, as in a `#[test]`: unwinding drops the guard,
/// which releases the lock this thread holds — never one another thread holds.
#[test]
fn an_inversion_in_a_relock_unwinds_releasing_the_lock_once() {
    set_mode(Mode::Panic);
    let a = Arc::new(Mutex::named("relock-unwind-a", 0u64));
    let b = Arc::new(Mutex::named("relock-unwind-b", ()));
    drop((a.lock(), b.lock()));
    let (a2, b2) = (a.clone(), b.clone());
    let joined = std::thread::spawn(move || {
        let mut ga = a2.lock();
        let _gb = b2.lock();
        MutexGuard::unlocked(&mut ga, || ());
        unreachable!("the relock must panic");
    })
    .join();
    assert!(joined.is_err());
    assert!(!a.is_locked(), "the unwinding guard left `a` locked");
    assert!(!b.is_locked());
    *a.lock() += 1;
}

/// `lock_api`'s own typed layer over the instrumented raw lock (`lock_api::Mutex<Raw, T>`): a
/// report there comes with the lock taken, never as a guard without it.
#[test]
fn a_relock_through_lock_apis_own_layer_keeps_its_lock() {
    set_mode(Mode::Panic);
    type Raw = lockdep_core::raw::Checked<parking_lot::RawMutex>;
    static A_CLASS: lockdep_core::LockClass = lockdep_core::LockClass::new("relock-api-a");
    let plain = <parking_lot::RawMutex as lock_api::RawMutex>::INIT;
    let a: lock_api::Mutex<Raw, u32> =
        lock_api::Mutex::from_raw(Raw::with_class(plain, &A_CLASS), 0);
    let b = Mutex::named("relock-api-b", ());
    drop((a.lock(), b.lock()));
    let mut ga = a.lock();
    let gb = b.lock();
    let caught = catch_unwind(AssertUnwindSafe(|| {
        lock_api::MutexGuard::unlocked(&mut ga, || ())
    }));
    assert!(caught.is_err());
    drop(gb);
    assert!(a.is_locked());
    *ga += 1;
    drop(ga);
    assert!(!a.is_locked());
}

/// A reentrant mutex's relock and bump: `lock_api` zeroes the owner and count around the raw
/// call, so a panic there would leave the guard with a broken count. The report is printed
/// instead, and the mutex stays usable.
#[test]
#[cfg_attr(
    miri,
    ignore = "runs itself as a child process, which Miri cannot spawn"
)]
fn a_reentrant_relock_or_bump_never_unwinds() {
    let child = in_child("a_reentrant_relock_or_bump_never_unwinds", || {
        set_mode(Mode::Panic);
        let a = Arc::new(ReentrantMutex::named("relock-re-a", 0u64));
        let b = Mutex::named("relock-re-b", ());
        drop((a.lock(), b.lock())); // a -> b
        {
            let mut ga = a.lock();
            let gb = b.lock();
            // b -> a, through the relock: printed, not raised.
            ReentrantMutexGuard::unlocked(&mut ga, || ());
            // And through the bump (validated as a reacquisition under `b`).
            ReentrantMutexGuard::bump(&mut ga);
            drop(gb);
            assert!(a.is_owned_by_current_thread());
        }
        assert!(!a.is_locked());
        let a2 = a.clone();
        std::thread::spawn(move || drop(a2.lock())).join().unwrap();
        println!("REENTRANT-OK");
    });
    if let Some((status, stderr)) = child {
        assert!(status.success(), "the child failed ({status}):\n{stderr}");
        assert!(
            stderr.contains("printed instead of panicking")
                && stderr.contains("possible circular locking dependency"),
            "{stderr}"
        );
    }
}

/// A panicking handler is a panic due like the `Panic` mode's: on a relock it reaches the
/// caller only once the lock is held.
#[test]
#[cfg_attr(
    miri,
    ignore = "runs itself as a child process, which Miri cannot spawn"
)]
fn a_panicking_handler_in_a_relock_panics_with_the_lock_held() {
    let child = in_child(
        "a_panicking_handler_in_a_relock_panics_with_the_lock_held",
        || {
            lockdep_core::set_handler(|_| panic!("handler says no"));
            let a = Mutex::named("relock-h-a", 0u64);
            let b = Mutex::named("relock-h-b", ());
            drop((a.lock(), b.lock()));
            let mut ga = a.lock();
            let gb = b.lock();
            let caught = catch_unwind(AssertUnwindSafe(|| MutexGuard::unlocked(&mut ga, || ())));
            let payload = caught.expect_err("the handler's panic");
            assert_eq!(payload.downcast_ref::<&str>(), Some(&"handler says no"));
            drop(gb);
            assert!(is_held(&a));
            assert_locked_elsewhere(&a);
            drop(ga);
            assert!(!a.is_locked());
            println!("HANDLER-OK");
        },
    );
    if let Some((status, stderr)) = child {
        assert!(status.success(), "the child failed ({status}):\n{stderr}");
    }
}

/// `Condvar` has `parking_lot`'s auto traits (`parking_lot::Condvar` is `RefUnwindSafe`).
#[test]
fn condvar_is_unwind_safe_as_parking_lots_is() {
    fn unwind_safe<T: std::panic::UnwindSafe + std::panic::RefUnwindSafe + Send + Sync>() {}
    unwind_safe::<lockdep_core::Condvar>();
}
