//! Every type a `parking_lot` user spells through `lock_api` is the type lockdep's locks have,
//! with the checks compiled in and out: `lockdep_core::RawMutex` and its kin are the raw locks
//! *under* the typed locks, so `lock_api::RwLockUpgradableReadGuard<'a, RawRwLock, T>` (salsa
//! 0.16's spelling) is `lockdep_core::RwLockUpgradableReadGuard<'a, T>`, and generic code over
//! `R: lock_api::RawMutex` takes lockdep's guards. A lock built by `lock_api`'s own `new` over
//! them is checked too, with a class of its own.

use lockdep_core::lock_api;
use lockdep_core::{capture, RawFairMutex, RawMutex, RawRwLock, RawThreadId, ReportKind};

/// salsa 0.16's helper, as it is written against `parking_lot`.
fn upgrade<'a, T>(
    guard: lock_api::RwLockUpgradableReadGuard<'a, RawRwLock, T>,
) -> lock_api::RwLockWriteGuard<'a, RawRwLock, T> {
    lock_api::RwLockUpgradableReadGuard::upgrade(guard)
}

/// Generic code over `lock_api`'s traits.
fn bump<R: lock_api::RawMutex>(guard: &mut lock_api::MutexGuard<'_, R, u32>) {
    **guard += 1;
}

fn read_all<R: lock_api::RawRwLock>(guard: lock_api::RwLockReadGuard<'_, R, Vec<u8>>) -> usize {
    guard.len()
}

#[test]
fn guards_spelled_through_lock_api_are_lockdeps_guards() {
    let m = lockdep_core::Mutex::new(1u32);
    let mut g: lock_api::MutexGuard<'_, RawMutex, u32> = m.lock();
    bump(&mut g);
    let alias: lockdep_core::MutexGuard<'_, u32> = g;
    let mapped: lock_api::MappedMutexGuard<'_, RawMutex, u32> =
        lock_api::MutexGuard::map(alias, |v| v);
    assert_eq!(*mapped, 2);
    drop(mapped);

    let l = lockdep_core::RwLock::new(vec![1u8, 2]);
    let r: lock_api::RwLockReadGuard<'_, RawRwLock, Vec<u8>> = l.read();
    assert_eq!(read_all(r), 2);
    let u: lock_api::RwLockUpgradableReadGuard<'_, RawRwLock, Vec<u8>> = l.upgradable_read();
    let mut w: lockdep_core::RwLockWriteGuard<'_, Vec<u8>> = upgrade(u);
    w.push(3);
    let down: lock_api::RwLockReadGuard<'_, RawRwLock, Vec<u8>> =
        lock_api::RwLockWriteGuard::downgrade(w);
    assert_eq!(down.len(), 3);
    drop(down);

    let f = lockdep_core::FairMutex::new(0u32);
    let mut fg: lock_api::MutexGuard<'_, RawFairMutex, u32> = f.lock();
    bump(&mut fg);
    drop(fg);

    let re = lockdep_core::ReentrantMutex::new(0u32);
    let rg: lock_api::ReentrantMutexGuard<'_, RawMutex, RawThreadId, u32> = re.lock();
    assert_eq!(*rg, 0);
}

#[test]
fn const_new_takes_the_raw_lock_as_parking_lot_does() {
    static M: lockdep_core::Mutex<u8> =
        lockdep_core::Mutex::const_new(<RawMutex as lock_api::RawMutex>::INIT, 0);
    static L: lockdep_core::RwLock<u8> =
        lockdep_core::RwLock::const_new(<RawRwLock as lock_api::RawRwLock>::INIT, 0);
    *M.lock() += 1;
    *L.write() += 1;
    assert_eq!((*M.lock(), *L.read()), (1, 1));
}

#[test]
fn locks_built_by_lock_apis_own_new_are_checked_each_with_a_class_of_its_own() {
    static A: lock_api::Mutex<RawMutex, u32> = lock_api::Mutex::new(0);
    let b: lock_api::Mutex<RawMutex, u32> = lock_api::Mutex::new(0);
    let c: lock_api::RwLock<RawRwLock, u32> = lock_api::RwLock::new(0);
    let reports = capture(|| {
        // Nested, three locks that would share one class were `INIT` a class: no recursion.
        let (_a, _b, _c) = (A.lock(), b.lock(), c.read());
        drop((_c, _b, _a));
        // An inversion between two of them: reported.
        let _b = b.lock();
        let _a = A.lock();
    });
    if !lockdep_core::CHECKS_COMPILED_IN {
        assert!(reports.is_empty());
        return;
    }
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].kind(), ReportKind::CircularDependency);
    for class in reports[0].classes() {
        assert!(
            class.starts_with("<built by lock_api's new, instance "),
            "{class}"
        );
    }
    assert_ne!(reports[0].classes()[0], reports[0].classes()[1]);
}

/// Code written over `lock_api`'s lock types takes lockdep's locks by reference: each is its
/// `lock_api` lock (`&Mutex<T>` coerces to `&lock_api::Mutex<RawMutex, T>`), and what that code
/// takes is checked as any acquisition.
#[test]
fn lockdeps_locks_pass_where_lock_api_locks_are_expected() {
    fn bump<R: lock_api::RawMutex>(m: &lock_api::Mutex<R, u32>) {
        *m.lock() += 1;
    }
    fn readers<R: lock_api::RawRwLock>(l: &lock_api::RwLock<R, u32>) -> u32 {
        *l.read()
    }
    fn owned<R: lock_api::RawMutex, G: lock_api::GetThreadId>(
        m: &lock_api::ReentrantMutex<R, G, u32>,
    ) -> bool {
        let _outer = m.lock();
        m.is_owned_by_current_thread()
    }
    let m = lockdep_core::Mutex::new(1u32);
    bump(&m);
    assert_eq!(*m.lock(), 2);
    let l = lockdep_core::RwLock::new(3u32);
    assert_eq!(readers(&l), 3);
    let r = lockdep_core::ReentrantMutex::new(0u32);
    assert!(owned(&r));

    // An inversion taken through such code is reported as any.
    #[cfg(lockdep_checks)]
    {
        let a = lockdep_core::Mutex::named("spelled-deref-a", 0u32);
        let b = lockdep_core::Mutex::named("spelled-deref-b", 0u32);
        let reports = capture(|| {
            {
                let _a = a.lock();
                bump(&b);
            }
            let _b = b.lock();
            bump(&a);
        });
        assert_eq!(reports.len(), 1, "{reports:?}");
        assert_eq!(reports[0].kind(), ReportKind::CircularDependency);
    }
}
