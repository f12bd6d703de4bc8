//! `lockdep_core::parking_lot_0_13` is a drop-in for parking_lot 0.13: the same code, written
//! once against parking_lot 0.13's names, builds and behaves the same against both (with the
//! checks compiled in and out); and the 0.13 additions follow lockdep's rules
//! (`RecursiveRwLock`'s reads are recursive reads, `Once::wait` is an acquisition).
#![cfg(feature = "parking_lot-0_13")]

mod common;

macro_rules! drop_in {
    ($name:ident: $($path:ident)::+) => {
        mod $name {
            use std::sync::Arc;
            use std::time::{Duration, Instant};
            use $($path)::+::{
                Condvar, FairMutex, FairMutexGuard, MappedFairMutexGuard, MappedMutexGuard,
                MappedRecursiveRwLockReadGuard, MappedRecursiveRwLockWriteGuard,
                MappedReentrantMutexGuard, MappedRwLockReadGuard, MappedRwLockWriteGuard, Mutex,
                MutexGuard, Once, OnceState, RecursiveRwLock, RecursiveRwLockReadGuard,
                RecursiveRwLockUpgradableReadGuard, RecursiveRwLockWriteGuard, ReentrantMutex,
                ReentrantMutexGuard, RwLock, RwLockReadGuard, RwLockUpgradableReadGuard,
                RwLockWriteGuard, WaitTimeoutResult,
            };
            #[allow(unused_imports)]
            use $($path)::+::{
                lock_api, RawFairMutex, RawMutex, RawRwLock, RawRwLockRecursive, RawThreadId,
            };

            static GLOBAL: Mutex<u32> = Mutex::new(0);
            static TABLE: RwLock<u32> = RwLock::new(0);
            static READY: Once = Once::new();
            static DONE: Once = Once::new_completed();

            fn assert_send_sync<T: Send + Sync>(_: &T) {}

            pub fn exercise() -> Vec<String> {
                let mut seen = Vec::new();

                let m = Mutex::new(1u32);
                assert_send_sync(&m);
                let mut g: MutexGuard<'_, u32> = m.lock();
                *g += 1;
                let mapped: MappedMutexGuard<'_, u32> = MutexGuard::map(g, |v| v);
                seen.push(format!("{}", *mapped));
                drop(mapped);
                assert!(m.try_lock_for(Duration::from_millis(1)).is_some());
                assert!(m.try_lock_until(Instant::now()).is_some());
                let (_raw, value) = m.into_inner_with_raw();
                seen.push(format!("{value}"));
                *GLOBAL.lock() += 1;
                *TABLE.write() += 1;

                let f = FairMutex::new(3u8);
                let g: FairMutexGuard<'_, u8> = f.lock();
                let g: MappedFairMutexGuard<'_, u8> = FairMutexGuard::map(g, |v| v);
                seen.push(format!("{}", *g));
                drop(g);

                let l = RwLock::new(10u32);
                let r: RwLockReadGuard<'_, u32> = l.read();
                let r: MappedRwLockReadGuard<'_, u32> = RwLockReadGuard::map(r, |v| v);
                seen.push(format!("{} {}", *r, l.is_locked()));
                drop(r);
                let u: RwLockUpgradableReadGuard<'_, u32> = l.upgradable_read();
                let mut w: RwLockWriteGuard<'_, u32> = RwLockUpgradableReadGuard::upgrade(u);
                *w += 1;
                let w: MappedRwLockWriteGuard<'_, u32> = RwLockWriteGuard::map(w, |v| v);
                seen.push(format!("{}", *w));
                drop(w);
                seen.push(format!("{:?}", l.into_inner_with_raw().1));

                // 0.13's recursive reader-writer lock: reads nest, writes exclude.
                let rec = Arc::new(RecursiveRwLock::new(5u32));
                assert_send_sync(&*rec);
                let a: RecursiveRwLockReadGuard<'_, u32> = rec.read();
                let b = rec.read();
                assert!(rec.try_write().is_none());
                let a: MappedRecursiveRwLockReadGuard<'_, u32> =
                    RecursiveRwLockReadGuard::map(a, |v| v);
                seen.push(format!("{} {}", *a, *b));
                drop((a, b));
                let u: RecursiveRwLockUpgradableReadGuard<'_, u32> = rec.upgradable_read();
                let w: RecursiveRwLockWriteGuard<'_, u32> =
                    RecursiveRwLockUpgradableReadGuard::upgrade(u);
                let mut w: MappedRecursiveRwLockWriteGuard<'_, u32> =
                    RecursiveRwLockWriteGuard::map(w, |v| v);
                *w += 1;
                drop(w);
                assert!(rec.try_read_for(Duration::from_millis(1)).is_some());
                assert!(rec.try_write_until(Instant::now()).is_some());
                seen.push(format!("{:?} {}", rec, rec.is_locked()));
                let plain = RecursiveRwLock::<Vec<u8>>::default();
                seen.push(format!("{:?}", plain.into_inner()));

                let re = ReentrantMutex::new(7u8);
                let g1: ReentrantMutexGuard<'_, u8> = re.lock();
                let g2 = re.lock();
                let g2: MappedReentrantMutexGuard<'_, u8> = ReentrantMutexGuard::map(g2, |v| v);
                seen.push(format!("{} {}", *g1, *g2));
                drop((g1, g2));
                seen.push(format!("{}", re.into_inner()));

                let pair = Arc::new((Mutex::new(false), Condvar::new()));
                let other = pair.clone();
                let waker = std::thread::spawn(move || {
                    *other.0.lock() = true;
                    other.1.notify_all();
                });
                let mut ready = pair.0.lock();
                while !*ready {
                    let r: WaitTimeoutResult =
                        pair.1.wait_for(&mut ready, Duration::from_millis(10));
                    let _ = r.timed_out();
                }
                drop(ready);
                waker.join().unwrap();

                // 0.13's `Once`: made completed, waited for, its state's new names.
                assert!(DONE.is_completed() && DONE.state().is_completed());
                DONE.call_once(|| unreachable!("made completed"));
                let waiter = std::thread::spawn(|| READY.wait());
                std::thread::sleep(Duration::from_millis(5));
                assert_eq!(READY.state(), OnceState::New);
                READY.call_once(|| {});
                waiter.join().unwrap();
                READY.wait_force();
                let state: OnceState = READY.state();
                seen.push(format!(
                    "{:?} {} {} {} {}",
                    state,
                    state.is_completed(),
                    state.done(),
                    state.is_poisoned(),
                    state.poisoned()
                ));
                let poisoned = Arc::new(Once::new());
                let p = poisoned.clone();
                let _ = std::thread::spawn(move || p.call_once(|| panic!("initialiser"))).join();
                assert!(poisoned.state().is_poisoned());
                let p = poisoned.clone();
                let waited = std::thread::spawn(move || p.wait()).join();
                assert!(waited.is_err(), "wait panics on a poisoned Once");
                poisoned.call_once_force(|state| assert!(state.is_poisoned()));
                poisoned.wait_force();
                seen.push(format!("{:?}", poisoned.state()));
                seen
            }
        }
    };
}

drop_in!(upstream: parking_lot_013);
drop_in!(checked: lockdep_core::parking_lot_0_13);

#[test]
fn the_same_code_builds_and_behaves_the_same_against_both() {
    assert_eq!(checked::exercise(), upstream::exercise());
}

#[cfg(lockdep_checks)]
mod rules {
    use super::common::{assert_none, assert_one, capture_panic, in_child};
    use lockdep_core::parking_lot_0_13::{
        lock_api, Mutex, Once, RecursiveRwLock, RwLock, RwLockUpgradableReadGuard,
    };
    use lockdep_core::{capture, is_held, ReportKind};

    /// A recursive read under a read of the same lock is no recursion; a write under a read of
    /// it is a certain self-deadlock, as with `RwLock::read_recursive`.
    #[test]
    fn recursive_reads_nest_and_are_checked_as_recursive_reads() {
        let lock = RecursiveRwLock::named("pl013-rec", ());
        assert_none(&capture(|| {
            let _a = lock.read();
            let _b = lock.read();
        }));
        // An inversion through a recursive read and a mutex is reported like any.
        let m = Mutex::named("pl013-rec-m", ());
        let other = RecursiveRwLock::named("pl013-rec-w", ());
        let reports = capture(|| {
            {
                let _w = other.write();
                let _m = m.lock();
            }
            let _m = m.lock();
            let _w = other.write();
        });
        assert_one(
            &reports,
            ReportKind::CircularDependency,
            &["pl013-rec-w", "pl013-rec-m"],
        );
    }

    /// parking_lot's recursive-read rule, as for `read_recursive`: recursive reads of two
    /// locks in both orders are safe (every junction of the cycle is breaking), while a
    /// recursive read and a mutex in opposite orders can deadlock (a reader that finds the
    /// lock write-held parks like any reader, behind the writers that queue meanwhile).
    #[test]
    fn recursive_reads_follow_parking_lots_recursive_read_rule() {
        let a = RecursiveRwLock::named("pl013-rule-a", ());
        let b = RecursiveRwLock::named("pl013-rule-b", ());
        assert_none(&capture(|| {
            {
                let _a = a.read();
                let _b = b.read();
            }
            let _b = b.read();
            let _a = a.read();
        }));
        let r = RecursiveRwLock::named("pl013-rule-r", ());
        let m = Mutex::named("pl013-rule-m", ());
        let reports = capture(|| {
            {
                let _r = r.read();
                let _m = m.lock();
            }
            let _m = m.lock();
            let _r = r.read();
        });
        assert_one(
            &reports,
            ReportKind::CircularDependency,
            &["pl013-rule-r", "pl013-rule-m"],
        );
    }

    /// Code written over `lock_api` 0.5 (generic over `R: lock_api::RawMutex`, as libraries
    /// on parking_lot 0.13 write it) takes these locks through `lock_api`'s own methods, and is
    /// checked the same: an inversion through it is reported.
    #[test]
    fn lock_api_05_generic_code_is_checked() {
        fn take<R: lock_api::RawMutex, T>(
            m: &lock_api::Mutex<R, T>,
        ) -> lock_api::MutexGuard<'_, R, T> {
            m.lock()
        }
        let a = Mutex::named("pl013-generic-a", ());
        let b = Mutex::named("pl013-generic-b", ());
        let reports = capture(|| {
            {
                let _a = take(&a);
                let _b = b.lock();
            }
            let _b = b.lock();
            let _a = take(&a);
        });
        assert_one(
            &reports,
            ReportKind::CircularDependency,
            &["pl013-generic-a", "pl013-generic-b"],
        );
    }

    /// A lock built by `lock_api` 0.5's own `new` over the face's raw mutex is checked too, with
    /// a class of its own (it cannot see its creation site): an inversion between two is
    /// reported.
    #[test]
    fn locks_built_by_lock_api_05s_new_are_checked() {
        use lockdep_core::parking_lot_0_13::RawMutex;
        static A: lock_api::Mutex<RawMutex, u32> = lock_api::Mutex::new(0);
        static B: lock_api::Mutex<RawMutex, u32> = lock_api::Mutex::new(0);
        let reports = capture(|| {
            {
                let _a = A.lock();
                let _b = B.lock();
            }
            let _b = B.lock();
            let _a = A.lock();
        });
        assert_eq!(reports.len(), 1, "{reports:?}");
        assert_eq!(reports[0].kind(), ReportKind::CircularDependency);
    }

    /// A report on an acquisition `lock_api` 0.5 makes itself panics before the lock is taken,
    /// as the face's own `lock` does: nothing is left locked or held.
    #[test]
    fn a_self_deadlock_through_lock_api_05_panics_before_the_lock() {
        fn take<R: lock_api::RawMutex, T>(
            m: &lock_api::Mutex<R, T>,
        ) -> lock_api::MutexGuard<'_, R, T> {
            m.lock()
        }
        let m = Mutex::named("pl013-generic-aa", 0u32);
        let (reports, message) = capture_panic(|| {
            let _g = m.lock();
            let _again = take(&m);
        });
        assert_one(
            &reports,
            ReportKind::RecursiveLocking,
            &["pl013-generic-aa"],
        );
        assert!(message.contains("self-deadlock"), "{message}");
        assert!(!m.is_locked() && !is_held(&m));
        *take(&m) += 1;
        assert_eq!(*m.lock(), 1);
    }

    /// `lock_api` 0.5 hands an upgradable guard's state to the raw `upgrade` by value: an upgrade
    /// that is reported releases the upgradable lock before it panics, so nothing stays locked
    /// that no guard owns.
    #[test]
    fn a_reported_upgrade_releases_its_upgradable_lock() {
        let l = RwLock::named("pl013-upgrade", 0u32);
        let (reports, message) = capture_panic(|| {
            let u = l.upgradable_read();
            // A trylock is never reported; the upgrade would wait for this read for ever.
            let _r = l.try_read().expect("reads share with an upgradable read");
            let _w = RwLockUpgradableReadGuard::upgrade(u);
        });
        assert_one(&reports, ReportKind::RecursiveLocking, &["pl013-upgrade"]);
        assert!(message.contains("self-deadlock"), "{message}");
        assert!(!l.is_locked() && !is_held(&l));
        *l.write() += 1;
        assert_eq!(*l.read(), 1);
    }

    /// Inside `with_upgraded`, `lock_api` 0.5 aborts the process if the upgrade unwinds: a
    /// certain self-deadlock there is printed, then the process aborts, rather than hanging.
    #[test]
    #[cfg_attr(miri, ignore = "runs a child process")]
    fn a_self_deadlock_inside_with_upgraded_is_printed_before_the_abort() {
        let Some(output) = in_child(
            "PL013_WITH_UPGRADED",
            "rules::a_self_deadlock_inside_with_upgraded_is_printed_before_the_abort",
            || {
                let l = RwLock::named("pl013-with-upgraded", 0u32);
                let mut u = l.upgradable_read();
                let _r = l.try_read().expect("reads share with an upgradable read");
                u.with_upgraded(|v| *v += 1);
            },
        ) else {
            return;
        };
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("pl013-with-upgraded"), "{stderr}");
        assert!(stderr.contains("self-deadlock"), "{stderr}");
    }

    /// A timed upgrade that unwinds (here a panicking handler's report, before the try) gives
    /// back the upgradable lock `lock_api` 0.5 handed it by value: nothing stays locked or
    /// held.
    #[test]
    #[cfg_attr(miri, ignore = "runs a child process")]
    fn a_timed_upgrade_that_unwinds_releases_its_upgradable_lock() {
        use std::time::Duration;
        let Some(output) = in_child(
            "PL013_TIMED_UPGRADE",
            "rules::a_timed_upgrade_that_unwinds_releases_its_upgradable_lock",
            || {
                lockdep_core::set_handler(|r| panic!("the handler panics on {:?}", r.kind()));
                let l = RwLock::named("pl013-timed-up", 0u32);
                let m = Mutex::named("pl013-timed-up-m", ());
                {
                    let _w = l.write();
                    let _m = m.try_lock_for(Duration::from_millis(10)).unwrap();
                }
                let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    let u = l.upgradable_read();
                    let _m = m.lock();
                    let _upgraded =
                        RwLockUpgradableReadGuard::try_upgrade_for(u, Duration::from_millis(10));
                }));
                assert!(unwound.is_err(), "the handler's panic goes on");
                assert!(
                    !l.is_locked() && !is_held(&l),
                    "{:?}",
                    lockdep_core::held_locks()
                );
                assert!(l.try_write().is_some());
                println!("PL013-TIMED-UPGRADE-OK");
            },
        ) else {
            return;
        };
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && stdout.contains("PL013-TIMED-UPGRADE-OK"),
            "{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// The `Arc` acquisitions go through `lock_api` 0.5's raw `lock`; after a nested guard of
    /// the lock was dropped they are still acquisitions at subclass 0 that report as any, not
    /// relocks.
    #[cfg(feature = "arc_lock")]
    #[test]
    fn arc_acquisitions_after_a_nested_guard_are_not_relocks() {
        use std::sync::Arc;
        let a = Arc::new(Mutex::named("pl013-arc-nested-a", ()));
        let b = Mutex::named("pl013-arc-nested-b", ());
        let reports = capture(|| {
            {
                let _a = a.lock();
                let _b = b.lock();
            }
            drop(a.lock_nested(1));
            let _b = b.lock();
            let _a = a.lock_arc();
        });
        assert_one(
            &reports,
            ReportKind::CircularDependency,
            &["pl013-arc-nested-a", "pl013-arc-nested-b"],
        );
    }

    /// `into_inner_with_raw` ends the lock's instance as a drop does (a leaked guard's entry is
    /// cleared) and gives a fresh raw lock, which `from_raw` gives the class of its own site.
    #[test]
    fn into_inner_with_raw_ends_the_instance() {
        let d = Mutex::named("pl013-raw-roundtrip", ());
        std::mem::forget(d.lock());
        assert!(is_held(&d));
        let (raw, ()) = d.into_inner_with_raw();
        assert!(!lockdep_core::held_locks()
            .iter()
            .any(|h| h.contains("pl013-raw-roundtrip")));
        let again = Mutex::from_raw(raw, ());
        // SAFETY: the raw lock is still locked by the forgotten guard's acquisition, made by
        // this thread with the stateless guard state.
        unsafe { again.force_unlock(Default::default()) };
        assert!(again.try_lock().is_some());
    }

    /// Waiting for a `Once` is an acquisition of its class: waiting while holding a lock its
    /// initialiser takes is reported.
    #[test]
    fn waiting_for_a_once_is_checked_as_an_acquisition() {
        let once = Once::named("pl013-once");
        let m = Mutex::named("pl013-once-m", ());
        let reports = capture(|| {
            once.call_once(|| drop(m.lock()));
            let _m = m.lock();
            once.wait();
        });
        assert_one(
            &reports,
            ReportKind::CircularDependency,
            &["pl013-once", "pl013-once-m"],
        );
    }
}

/// The `Arc` methods of `RecursiveRwLock` (feature `arc_lock`): reads through the `Arc` are
/// recursive reads too, and every guard releases its lock.
#[cfg(feature = "arc_lock")]
#[test]
fn recursive_rwlock_arc_guards_read_recursively_and_release() {
    use lockdep_core::parking_lot_0_13::RecursiveRwLock;
    use std::sync::Arc;
    let lock = Arc::new(RecursiveRwLock::named("pl013-arc", 1u32));
    let a = lock.read_arc();
    let b = lock.try_read_arc().expect("readers share");
    assert!(lock.try_write_arc().is_none());
    assert_eq!(*a + *b, 2);
    drop((a, b));
    let u = lock.upgradable_read_arc();
    drop(u);
    *lock.write_arc() += 1;
    assert_eq!(*lock.read(), 2);
    assert!(!lock.is_locked());
}

/// `is_locked_exclusive` is parking_lot 0.13's: true while a writer holds the lock, not while
/// it waits for readers to leave (parking_lot 0.12's says so as soon as a writer claims it).
#[test]
fn is_locked_exclusive_is_true_only_while_a_writer_holds_the_lock() {
    use std::sync::Arc;
    use std::time::Duration;
    macro_rules! observe {
        ($RwLock:ty) => {{
            let lock = Arc::new(<$RwLock>::new(0u32));
            let read = lock.read();
            let writer = {
                let lock = lock.clone();
                std::thread::spawn(move || *lock.write() += 1)
            };
            std::thread::sleep(Duration::from_millis(100));
            let waiting = lock.is_locked_exclusive();
            drop(read);
            writer.join().unwrap();
            let w = lock.write();
            let held = lock.is_locked_exclusive();
            drop(w);
            (waiting, held, lock.is_locked_exclusive())
        }};
    }
    let upstream = observe!(parking_lot_013::RwLock<u32>);
    let checked = observe!(lockdep_core::parking_lot_0_13::RwLock<u32>);
    assert_eq!(upstream, (false, true, false));
    assert_eq!(checked, upstream);
}

/// A read guard's relock after `unlocked` is a recursive read too, as in parking_lot 0.13: with
/// a writer queued, a thread that still reads the lock takes its other read back at once.
#[test]
fn a_relock_after_unlocked_is_recursive_too() {
    use lockdep_core::parking_lot_0_13::{RecursiveRwLock, RecursiveRwLockReadGuard};
    use std::sync::{mpsc, Arc};
    use std::time::Duration;
    let lock = Arc::new(RecursiveRwLock::named("pl013-relock", 0u32));
    let (done, finished) = mpsc::channel();
    let reader = {
        let lock = lock.clone();
        std::thread::spawn(move || {
            let a = lock.read();
            let mut b = lock.read();
            let writer = {
                let lock = lock.clone();
                std::thread::spawn(move || *lock.write() += 1)
            };
            // Let the writer queue.
            while !lock.is_locked_exclusive() && !writer.is_finished() {
                std::thread::sleep(Duration::from_millis(5));
                if lockdep_core::CHECKS_COMPILED_IN || lock.is_locked() {
                    break;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
            RecursiveRwLockReadGuard::unlocked(&mut b, || {});
            drop((a, b));
            writer.join().unwrap();
            done.send(()).unwrap();
        })
    };
    finished
        .recv_timeout(Duration::from_secs(30))
        .expect("the relock did not wait behind the queued writer");
    reader.join().unwrap();
    assert_eq!(*lock.read(), 1);
}
