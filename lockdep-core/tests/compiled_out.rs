//! With neither `debug_assertions` nor the `release-checks` feature, every lock type is the
//! plain lock underneath: same size, the `parking_lot` guard types themselves, and queries that
//! answer as if nothing were tracked. CI runs this file with
//! `cargo test --release -p lockdep-core --test compiled_out`; in checking builds it checks the
//! size overhead bound instead.

use std::mem::size_of;

#[cfg(not(lockdep_checks))]
mod compiled_out {
    use super::size_of;

    #[test]
    fn every_type_is_the_size_of_the_plain_lock() {
        assert_eq!(
            size_of::<lockdep_core::Mutex<u64>>(),
            size_of::<parking_lot::Mutex<u64>>()
        );
        assert_eq!(
            size_of::<lockdep_core::RwLock<u64>>(),
            size_of::<parking_lot::RwLock<u64>>()
        );
        assert_eq!(
            size_of::<lockdep_core::ReentrantMutex<u64>>(),
            size_of::<parking_lot::ReentrantMutex<u64>>()
        );
        assert_eq!(
            size_of::<lockdep_core::Condvar>(),
            size_of::<parking_lot::Condvar>()
        );
        assert_eq!(
            size_of::<lockdep_core::FairMutex<u64>>(),
            size_of::<parking_lot::FairMutex<u64>>()
        );
        assert_eq!(
            size_of::<lockdep_core::sync::RwLockWriteGuard<'static, u64>>(),
            size_of::<std::sync::RwLockWriteGuard<'static, u64>>()
        );
        assert_eq!(
            size_of::<lockdep_core::sync::Mutex<u64>>(),
            size_of::<std::sync::Mutex<u64>>()
        );
        assert_eq!(
            size_of::<lockdep_core::sync::RwLock<u64>>(),
            size_of::<std::sync::RwLock<u64>>()
        );
        assert_eq!(
            size_of::<lockdep_core::sync::MutexGuard<'static, u64>>(),
            size_of::<std::sync::MutexGuard<'static, u64>>()
        );
        assert_eq!(
            size_of::<lockdep_core::sync::Condvar>(),
            size_of::<std::sync::Condvar>()
        );
    }

    #[cfg(feature = "tokio")]
    #[test]
    fn async_locks_are_tokios_own_size() {
        assert_eq!(
            size_of::<lockdep_core::tokio::Mutex<u64>>(),
            size_of::<tokio::sync::Mutex<u64>>()
        );
        assert_eq!(
            size_of::<lockdep_core::tokio::RwLock<u64>>(),
            size_of::<tokio::sync::RwLock<u64>>()
        );
        // The borrowed guards are tokio's guard and nothing else.
        assert_eq!(
            size_of::<lockdep_core::tokio::MutexGuard<'static, u64>>(),
            size_of::<tokio::sync::MutexGuard<'static, u64>>()
        );
        assert_eq!(
            size_of::<lockdep_core::tokio::RwLockWriteGuard<'static, u64>>(),
            size_of::<tokio::sync::RwLockWriteGuard<'static, u64>>()
        );
        // `.lockdep()` adds nothing to the future.
        let future = async {};
        assert_eq!(
            size_of_val(&lockdep_core::LockdepFutureExt::lockdep(async {})),
            size_of_val(&future)
        );
    }

    #[cfg(feature = "tokio")]
    #[test]
    fn async_guard_conversions_work_compiled_out() {
        use lockdep_core::tokio::{OwnedRwLockWriteGuard, RwLock};
        use std::sync::Arc;
        let lock = Arc::new(RwLock::new(vec![1, 2]));
        let mut write = lock.clone().try_write_owned().unwrap();
        write.push(3);
        let read = write.downgrade();
        assert!(lock.try_write().is_err());
        assert_eq!(*lock.try_read().unwrap(), [1, 2, 3]);
        drop(read);
        let write = lock.clone().try_write_owned().unwrap();
        let write = OwnedRwLockWriteGuard::try_map(write, |v| v.get_mut(9)).unwrap_err();
        let mut last = OwnedRwLockWriteGuard::map(write, |v| v.last_mut().unwrap());
        *last = 30;
        drop(last);
        let first =
            OwnedRwLockWriteGuard::downgrade_map(lock.clone().try_write_owned().unwrap(), |v| {
                &v[0]
            });
        assert_eq!(*first, 1);
        drop(first);
        assert_eq!(*lock.try_write().unwrap(), [1, 2, 30]);
    }

    #[test]
    fn once_cells_are_the_plain_cells() {
        assert_eq!(
            size_of::<lockdep_core::Once>(),
            size_of::<parking_lot::Once>()
        );
        assert_eq!(
            size_of::<lockdep_core::sync::Once>(),
            size_of::<std::sync::Once>()
        );
        assert_eq!(
            size_of::<lockdep_core::sync::OnceLock<u64>>(),
            size_of::<std::sync::OnceLock<u64>>()
        );
        assert_eq!(
            size_of::<lockdep_core::sync::LazyLock<[u64; 4]>>(),
            size_of::<std::sync::LazyLock<[u64; 4]>>()
        );
        // `OnceState` is parking_lot's own type.
        let state: parking_lot::OnceState = lockdep_core::Once::new().state();
        assert_eq!(state, lockdep_core::OnceState::New);

        // An initialiser taking a lock, and the lock held around another cell of the class:
        // nothing is tracked, nothing reported.
        let m = lockdep_core::Mutex::named("out-cell-m", ());
        let reports = lockdep_core::capture(|| {
            let cells: Vec<lockdep_core::sync::OnceLock<u8>> = (0..2)
                .map(|_| lockdep_core::sync::OnceLock::new())
                .collect();
            cells[0].get_or_init(|| {
                let _m = m.lock();
                1
            });
            let _m = m.lock();
            assert_eq!(*cells[1].get_or_init(|| 2), 2);
            assert!(!lockdep_core::is_held(&cells[1]));
        });
        assert!(reports.is_empty());
    }

    #[test]
    fn guards_are_parking_lots_own() {
        // These only compile if the guard types are identical.
        fn takes_plain(guard: parking_lot::MutexGuard<'_, u64>) -> u64 {
            *guard
        }
        fn takes_plain_read(guard: parking_lot::RwLockReadGuard<'_, u64>) -> u64 {
            *guard
        }
        let m = lockdep_core::Mutex::new(7);
        let l = lockdep_core::RwLock::new(8);
        assert_eq!(takes_plain(m.lock()) + takes_plain_read(l.read()), 15);
        let cv = lockdep_core::Condvar::new();
        let mut g = m.lock();
        assert!(cv
            .wait_for(&mut g, std::time::Duration::from_millis(1))
            .timed_out());
    }

    #[test]
    fn the_added_surface_is_parking_lots_own_underneath() {
        use std::time::{Duration, Instant};
        // The raw locks, guards and constructors added for the drop-in surface are the plain
        // ones: these only compile if the types are identical.
        fn plain_raw(_: &parking_lot::RawMutex) {}
        fn plain_fair(guard: parking_lot::FairMutexGuard<'_, u64>) -> u64 {
            *guard
        }
        fn plain_mapped(guard: parking_lot::MappedReentrantMutexGuard<'_, u64>) -> u64 {
            *guard
        }
        fn plain_upgradable(guard: parking_lot::RwLockUpgradableReadGuard<'_, u64>) -> u64 {
            *guard
        }
        static M: lockdep_core::Mutex<u64> = lockdep_core::const_mutex(1);
        let fair = lockdep_core::const_fair_mutex(2);
        let re = lockdep_core::ReentrantMutex::from(3);
        let rw = lockdep_core::RwLock::const_new(
            <parking_lot::RawRwLock as lock_api::RawRwLock>::INIT,
            4,
        );
        // SAFETY: only the reference is taken.
        plain_raw(unsafe { M.raw() });
        let mapped = parking_lot::ReentrantMutexGuard::map(re.lock(), |v| v);
        let sum = plain_fair(fair.lock())
            + plain_mapped(mapped)
            + plain_upgradable(rw.try_upgradable_read_until(Instant::now()).unwrap());
        assert_eq!(sum, 9);
        let later = Instant::now() + Duration::from_secs(1);
        assert!(rw.try_read_recursive_for(Duration::ZERO).is_some());
        assert!(rw.try_write_until(later).is_some());
        assert!(re.try_lock_for(Duration::ZERO).is_some());
        let std_rw = lockdep_core::sync::RwLock::from(5);
        #[cfg(std_rwlock_downgrade)]
        let read = lockdep_core::sync::RwLockWriteGuard::downgrade(std_rw.write().unwrap());
        #[cfg(not(std_rwlock_downgrade))]
        let read = std_rw.read().unwrap();
        assert_eq!(format!("{read}"), "5");
    }

    #[test]
    fn queries_answer_as_if_nothing_were_tracked() {
        const { assert!(!lockdep_core::CHECKS_COMPILED_IN) };
        let a = lockdep_core::Mutex::named("out-A", ());
        let b = lockdep_core::Mutex::named("out-B", ());
        let reports = lockdep_core::capture(|| {
            {
                let _a = a.lock();
                let _b = b.lock();
            }
            let _b = b.lock();
            let _a = a.lock();
            assert!(!lockdep_core::is_held(&a));
            lockdep_core::assert_not_held(&a);
            lockdep_core::assert_held(&b); // compiled out: no panic
        });
        assert!(reports.is_empty());
        assert_eq!(lockdep_core::mode(), lockdep_core::Mode::Off);
        assert_eq!(lockdep_core::stats(), lockdep_core::Stats::default());
        assert!(lockdep_core::held_locks().is_empty());
    }
}

#[cfg(lockdep_checks)]
mod compiled_in {
    use super::size_of;

    #[test]
    fn wrapper_overhead_is_at_most_sixteen_bytes() {
        const { assert!(lockdep_core::CHECKS_COMPILED_IN) };
        let pairs = [
            (
                size_of::<lockdep_core::Mutex<u64>>(),
                size_of::<parking_lot::Mutex<u64>>(),
            ),
            (
                size_of::<lockdep_core::RwLock<u64>>(),
                size_of::<parking_lot::RwLock<u64>>(),
            ),
            (
                size_of::<lockdep_core::ReentrantMutex<u64>>(),
                size_of::<parking_lot::ReentrantMutex<u64>>(),
            ),
            (
                size_of::<lockdep_core::Condvar>(),
                size_of::<parking_lot::Condvar>(),
            ),
            (
                size_of::<lockdep_core::FairMutex<u64>>(),
                size_of::<parking_lot::FairMutex<u64>>(),
            ),
            (
                size_of::<lockdep_core::sync::Mutex<u64>>(),
                size_of::<std::sync::Mutex<u64>>(),
            ),
            (
                size_of::<lockdep_core::sync::RwLock<u64>>(),
                size_of::<std::sync::RwLock<u64>>(),
            ),
            (
                size_of::<lockdep_core::Once>(),
                size_of::<parking_lot::Once>(),
            ),
            (
                size_of::<lockdep_core::sync::Once>(),
                size_of::<std::sync::Once>(),
            ),
            (
                size_of::<lockdep_core::sync::OnceLock<u64>>(),
                size_of::<std::sync::OnceLock<u64>>(),
            ),
            (
                size_of::<lockdep_core::sync::LazyLock<u64>>(),
                size_of::<std::sync::LazyLock<u64>>(),
            ),
        ];
        for (checked, plain) in pairs {
            assert!(checked <= plain + 16, "{checked} vs {plain}");
        }
    }
}

/// One public API in every build: code using every part of it compiles (and runs) whether the
/// checks are compiled in or out.
mod same_api_in_every_build {
    use lock_api::RawMutex as _;
    use lockdep_core::{raw, LockClass, Report};

    static CLASS: LockClass = LockClass::new("same-api-raw");

    /// Every accessor of a report (with the checks compiled out no report exists, but the
    /// methods must, for code like this to build).
    fn describe(report: &Report) -> String {
        format!(
            "{:?} {:?} {} {} {:?} {:?} {:?} {}",
            report.kind(),
            report.classes(),
            report.is_certain_deadlock(),
            report.thread_name(),
            report.held_classes(),
            report.backtrace_functions(),
            report.edge_backtrace_functions(),
            report
        )
    }

    #[test]
    fn every_public_item_exists() {
        let reports = lockdep_core::capture(|| ());
        assert!(reports.iter().map(describe).next().is_none());

        // The instrumented raw lock under `lock_api`'s own typed layer.
        let checked = raw::Checked::with_class(parking_lot::RawMutex::INIT, &CLASS);
        assert!(!checked.inner().is_locked());
        let mutex: lock_api::Mutex<raw::Checked<parking_lot::RawMutex>, u32> =
            lock_api::Mutex::from_raw(checked, 3);
        assert_eq!(*mutex.lock(), 3);

        assert!(lockdep_core::held_locks().is_empty());
        assert_eq!(lockdep_core::__private::held_count(), 0);
        lockdep_core::raw::bench::set_dependency_backtraces(true);
        let _ = lockdep_core::raw::bench::capture_backtrace();
        let stats = lockdep_core::stats();
        assert!(stats.names <= stats.max_names || !lockdep_core::CHECKS_COMPILED_IN);
    }
}
