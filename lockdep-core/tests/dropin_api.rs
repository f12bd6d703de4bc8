//! Behaviour of the drop-in surface: each item does what upstream's does,
//! and every way of taking a lock is an acquisition lockdep checks, recorded at the caller's
//! line (not at a line inside `lock_api`). Upstream's own tests, run against these types, are
//! in `parking_lot_ported.rs`; the signatures are pinned by `api_surface.rs`.

mod common;

use common::{assert_none, assert_one};
use lockdep_core::{
    capture, held_locks, is_held, lock_api, FairMutex, FairMutexGuard, Mutex, RawMutex, RawRwLock,
    RawThreadId, ReentrantMutex, ReentrantMutexGuard, ReportKind, RwLock,
    RwLockUpgradableReadGuard,
};
use std::time::{Duration, Instant};

/// Asserts one cycle report naming `classes`, whose held lock (the one the report says this
/// thread "is already holding") was recorded in this file, at the caller's line — not inside
/// `lock_api`, which drives the timed, `Arc` and reentrant acquisitions.
#[track_caller]
fn assert_inversion_held_here(reports: &[lockdep_core::Report], classes: &[&str]) {
    assert_one(reports, ReportKind::CircularDependency, classes);
    let text = reports[0].to_string();
    let held = text
        .lines()
        .skip_while(|l| !l.contains("is already holding lock:"))
        .nth(1)
        .unwrap_or_default();
    assert!(
        held.contains(", at: lockdep-core/tests/dropin_api.rs:"),
        "the held lock should be recorded in this file:\n{text}"
    );
}

#[test]
fn fair_mutex_is_checked_and_fair_unlocks_are_tracked() {
    let fair = FairMutex::named("fair-a", 0u32);
    let plain = Mutex::named("fair-b", 0u32);
    {
        let _f = fair.lock();
        let _p = plain.lock();
    }
    let reports = capture(|| {
        let _p = plain.lock();
        let _f = fair.lock();
    });
    if lockdep_core::CHECKS_COMPILED_IN {
        assert_one(
            &reports,
            ReportKind::CircularDependency,
            &["fair-a", "fair-b"],
        );
    }

    let mut guard = fair.lock();
    FairMutexGuard::bump(&mut guard);
    FairMutexGuard::unlocked_fair(&mut guard, || assert!(!is_held(&fair)));
    assert_eq!(is_held(&fair), lockdep_core::CHECKS_COMPILED_IN);
    FairMutexGuard::unlock_fair(guard);
    assert!(!is_held(&fair) && !fair.is_locked());
    assert!(held_locks().is_empty());
}

#[test]
fn const_new_and_raw_access_are_tracked() {
    let m = Mutex::const_new(<RawMutex as lock_api::RawMutex>::INIT, 5u32);
    let l = RwLock::const_new(<RawRwLock as lock_api::RawRwLock>::INIT, 6u32);
    let r = ReentrantMutex::const_new(<RawMutex as lock_api::RawMutex>::INIT, RawThreadId, 7u32);
    assert!(
        lockdep_core::LockInstance::class_name(&lockdep_core::TrackedLock::lock_instance(&m))
            .contains("dropin_api.rs")
            || !lockdep_core::CHECKS_COMPILED_IN
    );

    // SAFETY: the raw lock is locked here and released by the guard made for it.
    unsafe {
        lock_api::RawMutex::lock(m.raw());
        assert_eq!(is_held(&m), lockdep_core::CHECKS_COMPILED_IN);
        let guard = m.make_guard_unchecked();
        assert_eq!(*guard, 5);
    }
    assert!(!is_held(&m) && !m.is_locked());

    // SAFETY: as above, for each kind of guard.
    unsafe {
        lock_api::RawRwLock::lock_exclusive(l.raw());
        drop(l.make_write_guard_unchecked());
        lock_api::RawRwLock::lock_shared(l.raw());
        drop(l.make_read_guard_unchecked());
        lock_api::RawRwLockUpgrade::lock_upgradable(l.raw());
        drop(l.make_upgradable_guard_unchecked());
        std::mem::forget(r.lock());
        drop(r.make_guard_unchecked());
    }
    assert!(held_locks().is_empty(), "{:?}", held_locks());
    assert!(!l.is_locked() && !r.is_locked());

    std::mem::forget(m.lock());
    // SAFETY: locked above, guard forgotten.
    unsafe { m.force_unlock_fair() };
    std::mem::forget(l.write());
    // SAFETY: as above.
    unsafe { l.force_unlock_write_fair() };
    std::mem::forget(l.read());
    // SAFETY: as above.
    unsafe { l.force_unlock_read_fair() };
    std::mem::forget(r.lock());
    // SAFETY: as above.
    unsafe { r.force_unlock_fair() };
    assert!(held_locks().is_empty(), "{:?}", held_locks());
}

#[test]
fn timed_rwlock_acquisitions_are_held_and_recorded_at_the_caller() {
    let l = RwLock::named("timed-rw", 0u32);
    let later = Instant::now() + Duration::from_secs(5);
    {
        let g = l.try_read_until(later).unwrap();
        assert!(is_held(&l) || !lockdep_core::CHECKS_COMPILED_IN);
        drop(g);
        let g = l.try_write_until(later).unwrap();
        assert!(is_held(&l) || !lockdep_core::CHECKS_COMPILED_IN);
        drop(g);
        let g = l.try_upgradable_read_for(Duration::from_secs(5)).unwrap();
        let g = RwLockUpgradableReadGuard::upgrade(g);
        drop(g);
        let g = l.try_upgradable_read_until(later).unwrap();
        drop(g);
        let a = l.try_read_recursive_for(Duration::from_secs(5)).unwrap();
        let b = l.try_read_recursive_until(later).unwrap();
        assert_eq!(*a + *b, 0);
    }
    assert!(held_locks().is_empty());
    // A timed lock cannot hang for ever, so it gets no dependency *to* itself; locks taken
    // under it depend on it. The report shows where it was taken: this file, not lock_api.
    let inner = Mutex::named("timed-inner", ());
    {
        let _i = inner.lock();
        let _w = l.write();
    }
    let reports = capture(|| {
        let _w = l.try_write_for(Duration::from_secs(5)).unwrap();
        let _i = inner.lock();
    });
    if lockdep_core::CHECKS_COMPILED_IN {
        assert_inversion_held_here(&reports, &["timed-inner", "timed-rw"]);
    }
}

/// The class name of a lock made by `new` (its creation site).
fn r_class<L: lockdep_core::TrackedLock>(lock: &L) -> &'static str {
    lockdep_core::TrackedLock::lock_instance(lock)
        .class_name()
        .leak()
}

#[test]
fn reentrant_mutex_surface_is_checked() {
    let r: ReentrantMutex<Vec<u32>> = ReentrantMutex::from(vec![1, 2]);
    let other = Mutex::named("remutex-other", ());
    {
        let g = r.try_lock_for(Duration::from_secs(5)).unwrap();
        let inner = r
            .try_lock_until(Instant::now() + Duration::from_secs(5))
            .unwrap();
        let first: lockdep_core::MappedReentrantMutexGuard<'_, u32> =
            ReentrantMutexGuard::map(inner, |v| &v[0]);
        assert_eq!(*first + g[1], 3);
        // The nested acquisitions are not acquisitions for lockdep: one entry.
        assert_eq!(
            held_locks().len(),
            usize::from(lockdep_core::CHECKS_COMPILED_IN)
        );
        let _o = other.lock();
    }
    assert!(held_locks().is_empty());
    let reports = capture(|| {
        let _o = other.lock();
        let _g = r.lock();
    });
    if !lockdep_core::CHECKS_COMPILED_IN {
        return assert_none(&reports);
    }
    assert_one(
        &reports,
        ReportKind::CircularDependency,
        &[r_class(&r), "remutex-other"],
    );
    // `lock` goes through lock_api's reentrant layer, yet the report shows this file's line
    // for the lock being acquired.
    let text = reports[0].to_string();
    let acquiring = text
        .lines()
        .skip_while(|l| !l.contains("is trying to acquire lock:"))
        .nth(1)
        .unwrap_or_default();
    assert!(
        acquiring.contains(", at: lockdep-core/tests/dropin_api.rs:"),
        "{text}"
    );
}

#[test]
fn timed_mutex_lock_is_recorded_at_the_caller() {
    let a = Mutex::named("timed-m-a", ());
    let b = Mutex::named("timed-m-b", ());
    {
        let _b = b.lock();
        let _a = a.lock();
    }
    let reports = capture(|| {
        let _a = a
            .try_lock_until(Instant::now() + Duration::from_secs(5))
            .unwrap();
        let _b = b.lock();
    });
    if lockdep_core::CHECKS_COMPILED_IN {
        assert_inversion_held_here(&reports, &["timed-m-b", "timed-m-a"]);
    }
}

#[cfg(std_rwlock_downgrade)]
#[test]
fn std_write_guard_downgrade_keeps_the_lock_held_as_a_reader() {
    use lockdep_core::sync::{RwLock as StdRwLock, RwLockWriteGuard};
    let lock = std::sync::Arc::new(StdRwLock::from(1u32));
    let mut w = lock.write().unwrap();
    *w += 1;
    let r = RwLockWriteGuard::downgrade(w);
    assert!(is_held(&*lock) || !lockdep_core::CHECKS_COMPILED_IN);
    // Readers get in now, writers do not.
    let other = std::sync::Arc::clone(&lock);
    let (read, wrote) =
        std::thread::spawn(move || (other.try_read().map(|g| *g).ok(), other.try_write().is_ok()))
            .join()
            .unwrap();
    assert_eq!((read, wrote), (Some(2), false));
    assert_eq!(format!("{r} {r:?}"), "2 2");
    // Held as a read now: a later lock under it records a read edge, and releasing it
    // empties the stack.
    let after = lockdep_core::sync::Mutex::new(());
    let reports = capture(|| drop(after.lock()));
    assert_none(&reports);
    drop(r);
    assert!(held_locks().is_empty());
    let w = lock.write().unwrap();
    assert_eq!(format!("{w}"), "2");
}

#[test]
#[allow(deprecated)]
fn std_condvar_wait_timeout_ms_reports_whether_it_was_notified() {
    let m = lockdep_core::sync::Mutex::new(());
    let cv = lockdep_core::sync::Condvar::new();
    let (guard, notified) = cv.wait_timeout_ms(m.lock().unwrap(), 1).unwrap();
    assert!(!notified);
    assert!(is_held(&m) || !lockdep_core::CHECKS_COMPILED_IN);
    drop(guard);
}

#[cfg(feature = "arc_lock")]
mod arc_lock {
    use super::*;
    use lockdep_core::{ArcMutexGuard, ArcRwLockWriteGuard};
    use std::sync::Arc;

    #[test]
    fn arc_guards_are_tracked_and_own_their_lock() {
        let m = Arc::new(Mutex::named("arc-m", 1u32));
        let l = Arc::new(RwLock::named("arc-l", 2u32));
        let r = Arc::new(ReentrantMutex::named("arc-r", 3u32));
        {
            let g: ArcMutexGuard<RawMutex, u32> = m.lock_arc();
            assert_eq!(Arc::strong_count(&m), 2);
            assert!(is_held(&*m) || !lockdep_core::CHECKS_COMPILED_IN);
            let w: ArcRwLockWriteGuard<RawRwLock, u32> = l.write_arc();
            let rg = r.lock_arc();
            assert_eq!(*g + *w + *rg, 6);
            assert_eq!(
                held_locks().len(),
                if lockdep_core::CHECKS_COMPILED_IN {
                    3
                } else {
                    0
                }
            );
        }
        assert_eq!(Arc::strong_count(&m), 1);
        assert!(held_locks().is_empty());
        {
            let _r = l.read_arc();
            let _rr = l.read_arc_recursive();
            let _m = m.try_lock_arc_for(Duration::from_secs(1)).unwrap();
        }
        {
            let u = l.upgradable_read_arc();
            let w = lock_api::ArcRwLockUpgradableReadGuard::upgrade(u);
            assert_eq!(*w, 2);
        }
        // The order m -> l was recorded through the Arc guards: the inversion is found, with
        // this file's lines.
        let reports = capture(|| {
            let _l = l.write_arc();
            let _m = m.lock_arc();
        });
        if lockdep_core::CHECKS_COMPILED_IN {
            assert_inversion_held_here(&reports, &["arc-m", "arc-l"]);
        }
        assert!(held_locks().is_empty());
        // The guard keeps the lock alive after the last other Arc is gone.
        let g = Arc::clone(&m).lock_arc();
        drop(m);
        assert_eq!(*g, 1);
    }
}

#[cfg(feature = "serde")]
mod serde_feature {
    use super::*;

    #[test]
    fn locks_serialize_as_their_data_and_deserialize_checked() {
        let m = Mutex::new(vec![1u8, 2]);
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(json, "[1,2]");
        let back: Mutex<Vec<u8>> = serde_json::from_str(&json).unwrap();
        assert_eq!(*back.lock(), vec![1, 2]);
        let l: RwLock<u32> = serde_json::from_str("7").unwrap();
        assert_eq!(serde_json::to_string(&l).unwrap(), "7");
        let r: ReentrantMutex<u32> = serde_json::from_str("8").unwrap();
        assert_eq!(serde_json::to_string(&r).unwrap(), "8");
        let f: FairMutex<u32> = serde_json::from_str("9").unwrap();
        let _g = f.lock();
        assert!(is_held(&f) || !lockdep_core::CHECKS_COMPILED_IN);
    }
}

/// The guards' accessors give the `lock_api` layer (a deliberate difference: the guards are
/// `lock_api`'s own), which is the same tracked lock as the lockdep lock around it.
#[test]
fn guard_accessors_give_the_same_tracked_lock() {
    use lockdep_core::{MutexGuard, RwLockReadGuard};
    let m = Mutex::named("accessor-m", 1u32);
    let l = RwLock::named("accessor-l", 2u32);
    let r = ReentrantMutex::named("accessor-r", 3u32);
    let g = m.lock();
    let lock = MutexGuard::mutex(&g);
    assert!(std::ptr::eq(lock, m.as_lock_api()));
    assert_eq!(is_held(lock), lockdep_core::CHECKS_COMPILED_IN);
    drop(g);
    assert!(!is_held(m.as_lock_api()));
    let g = l.read();
    assert_eq!(
        is_held(RwLockReadGuard::rwlock(&g)),
        lockdep_core::CHECKS_COMPILED_IN
    );
    drop(g);
    let g = r.lock();
    assert_eq!(
        is_held(ReentrantMutexGuard::remutex(&g)),
        lockdep_core::CHECKS_COMPILED_IN
    );
    drop(g);
    assert!(held_locks().is_empty());
}
