//! With neither `debug_assertions` nor the `release-checks` feature, every lock type is the
//! plain lock underneath: same size, the `parking_lot` guard types themselves, and queries that
//! answer as if nothing were tracked. CI runs this file with
//! `cargo test --release -p lockdep-core --test compiled_out`; in checking builds it checks the
//! size overhead bound instead.

use std::mem::size_of;

#[cfg(not(any(debug_assertions, feature = "release-checks")))]
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

#[cfg(any(debug_assertions, feature = "release-checks"))]
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
                size_of::<lockdep_core::sync::Mutex<u64>>(),
                size_of::<std::sync::Mutex<u64>>(),
            ),
            (
                size_of::<lockdep_core::sync::RwLock<u64>>(),
                size_of::<std::sync::RwLock<u64>>(),
            ),
        ];
        for (checked, plain) in pairs {
            assert!(checked <= plain + 16, "{checked} vs {plain}");
        }
    }
}
