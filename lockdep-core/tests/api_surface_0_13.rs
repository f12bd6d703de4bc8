//! Compile-only: names every public item of parking_lot 0.13's crate root, the methods of its
//! lock types and the `lock_api` 0.5 spellings of its types, each with the signature upstream
//! gives it, written once and built against parking_lot 0.13 itself and against
//! `lockdep_core::parking_lot_0_13` (with the checks compiled in and out). A gap in the surface,
//! or a type that differs, is a build error here.
#![cfg(feature = "parking_lot-0_13")]
// The items are named, not used: discarding guards at once is the point here.
#![allow(
    dead_code,
    unused_variables,
    unused_must_use,
    clippy::let_underscore_lock,
    clippy::needless_borrow
)]

macro_rules! surface {
    ($name:ident: $($path:ident)::+) => {
        mod $name {
            #[cfg(feature = "arc_lock")]
            use std::sync::Arc;
            use std::time::{Duration, Instant};
            use $($path)::+::{
                lock_api, Condvar, FairMutex, FairMutexGuard, MappedFairMutexGuard,
                MappedMutexGuard, MappedRecursiveRwLockReadGuard, MappedRecursiveRwLockWriteGuard,
                MappedReentrantMutexGuard, MappedRwLockReadGuard, MappedRwLockWriteGuard, Mutex,
                MutexGuard, Once, OnceState, RawCondvar, RawFairMutex, RawMutex, RawRwLock,
                RawRwLockRecursive, RawThreadId, RecursiveRwLock, RecursiveRwLockReadGuard,
                RecursiveRwLockUpgradableReadGuard, RecursiveRwLockWriteGuard, ReentrantMutex,
                ReentrantMutexGuard, RwLock, RwLockReadGuard, RwLockUpgradableReadGuard,
                RwLockWriteGuard, WaitTimeoutResult,
            };
            #[cfg(feature = "arc_lock")]
            use $($path)::+::{
                ArcMutexGuard, ArcReentrantMutexGuard, ArcRwLockReadGuard,
                ArcRwLockUpgradableReadGuard, ArcRwLockWriteGuard,
            };
            use lock_api::{RawMutex as _, RawRwLock as _};

            type State = <RawMutex as lock_api::RawMutex>::Guard;
            type Shared = <RawRwLock as lock_api::RawRwLock>::SharedGuard;
            type Exclusive = <RawRwLock as lock_api::RawRwLock>::ExclusiveGuard;
            type Upgradable = <RawRwLock as lock_api::RawRwLockUpgrade>::UpgradableGuard;

            static M: Mutex<u8> = Mutex::new(0);
            static RW: RwLock<u8> = RwLock::new(0);
            static REC: RecursiveRwLock<u8> = RecursiveRwLock::new(0);
            static RE: ReentrantMutex<u8> = ReentrantMutex::new(0);
            static CV: Condvar = Condvar::new();
            static ONCE: Once = Once::new();
            static M2: Mutex<u8> = Mutex::from_raw(RawMutex::INIT, 0);
            static RW2: RwLock<u8> = RwLock::from_raw(RawRwLock::INIT, 0);

            /// Code written over `lock_api` 0.5, as libraries on parking_lot 0.13 write it.
            fn generic_lock<R: lock_api::RawMutex, T>(m: &lock_api::Mutex<R, T>) -> bool {
                m.try_lock().is_some()
            }
            fn generic_guard<R: lock_api::RawMutex>(g: &mut lock_api::MutexGuard<'_, R, u8>) {
                **g += 1;
            }
            fn upgrade<'a, T>(
                g: lock_api::RwLockUpgradableReadGuard<'a, RawRwLock, T>,
            ) -> lock_api::RwLockWriteGuard<'a, RawRwLock, T> {
                lock_api::RwLockUpgradableReadGuard::upgrade(g)
            }

            pub fn mutex(m: &Mutex<u8>, mut owned: Mutex<u8>) {
                let _: fn(u8) -> Mutex<u8> = Mutex::new;
                let _: fn(&Mutex<u8>) -> MutexGuard<'_, u8> = Mutex::lock;
                let _: fn(&Mutex<u8>) -> Option<MutexGuard<'_, u8>> = Mutex::try_lock;
                let _: fn(&Mutex<u8>, Duration) -> Option<MutexGuard<'_, u8>> = Mutex::try_lock_for;
                let _: fn(&Mutex<u8>, Instant) -> Option<MutexGuard<'_, u8>> =
                    Mutex::try_lock_until;
                let _: fn(&Mutex<u8>) -> bool = Mutex::is_locked;
                let _: fn(&mut Mutex<u8>) -> &mut u8 = Mutex::get_mut;
                let _: fn(&Mutex<u8>) -> *mut u8 = Mutex::data_ptr;
                let _: fn(Mutex<u8>) -> u8 = Mutex::into_inner;
                let _: fn(Mutex<u8>) -> (RawMutex, u8) = Mutex::into_inner_with_raw;
                let _: unsafe fn(&Mutex<u8>, State) = Mutex::force_unlock;
                let _: unsafe fn(&Mutex<u8>, State) = Mutex::force_unlock_fair;
                let _: unsafe fn(&Mutex<u8>, State) -> MutexGuard<'_, u8> =
                    Mutex::make_guard_unchecked;
                let _: unsafe fn(&Mutex<u8>) -> &RawMutex = Mutex::raw;
                let _: Mutex<u8> = Mutex::default();
                let _: Mutex<u8> = Mutex::from(1);
                let _ = format!("{m:?}");
                let _ = owned.get_mut();
                assert!(generic_lock(m));

                let mut g = m.lock();
                generic_guard(&mut g);
                let _ = format!("{g:?} {g}");
                let _: &lock_api::Mutex<RawMutex, u8> = MutexGuard::mutex(&g);
                MutexGuard::unlocked(&mut g, || ());
                MutexGuard::unlocked_fair(&mut g, || ());
                MutexGuard::bump(&mut g);
                let mapped: MappedMutexGuard<'_, u8> = MutexGuard::map(g, |v| v);
                let _ = MappedMutexGuard::try_map(mapped, |v| Some(v));
                let _ = MutexGuard::try_map(m.lock(), |v| Some(v));
                let _: Result<MappedMutexGuard<'_, u8>, (MutexGuard<'_, u8>, ())> =
                    MutexGuard::try_map_or_err(m.lock(), |_| Err(()));
                MutexGuard::unlock_fair(m.lock());
                let _: &mut u8 = MutexGuard::leak(m.lock());
                // SAFETY: not called; this only names the raw calls with their guard states.
                let _raw = || unsafe {
                    let state: State = m.raw().lock();
                    m.force_unlock(state);
                };
            }

            pub fn fair_mutex(m: &FairMutex<u8>) {
                let g: FairMutexGuard<'_, u8> = m.lock();
                let _: MappedFairMutexGuard<'_, u8> = FairMutexGuard::map(g, |v| v);
                let _ = m.try_lock_for(Duration::ZERO);
                FairMutexGuard::unlock_fair(m.lock());
                let _: &lock_api::Mutex<RawFairMutex, u8> = FairMutexGuard::mutex(&m.lock());
            }

            pub fn rwlock(l: &RwLock<u8>) {
                let _: fn(u8) -> RwLock<u8> = RwLock::new;
                let _: fn(&RwLock<u8>) -> RwLockReadGuard<'_, u8> = RwLock::read;
                let _: fn(&RwLock<u8>) -> Option<RwLockReadGuard<'_, u8>> = RwLock::try_read;
                let _: fn(&RwLock<u8>, Duration) -> Option<RwLockReadGuard<'_, u8>> =
                    RwLock::try_read_for;
                let _: fn(&RwLock<u8>, Instant) -> Option<RwLockReadGuard<'_, u8>> =
                    RwLock::try_read_until;
                let _: fn(&RwLock<u8>) -> RwLockWriteGuard<'_, u8> = RwLock::write;
                let _: fn(&RwLock<u8>) -> Option<RwLockWriteGuard<'_, u8>> = RwLock::try_write;
                let _: fn(&RwLock<u8>, Duration) -> Option<RwLockWriteGuard<'_, u8>> =
                    RwLock::try_write_for;
                let _: fn(&RwLock<u8>, Instant) -> Option<RwLockWriteGuard<'_, u8>> =
                    RwLock::try_write_until;
                let _: fn(&RwLock<u8>) -> RwLockUpgradableReadGuard<'_, u8> =
                    RwLock::upgradable_read;
                let _: fn(&RwLock<u8>) -> Option<RwLockUpgradableReadGuard<'_, u8>> =
                    RwLock::try_upgradable_read;
                let _: fn(&RwLock<u8>, Duration) -> Option<RwLockUpgradableReadGuard<'_, u8>> =
                    RwLock::try_upgradable_read_for;
                let _: fn(&RwLock<u8>, Instant) -> Option<RwLockUpgradableReadGuard<'_, u8>> =
                    RwLock::try_upgradable_read_until;
                let _: fn(&RwLock<u8>) -> bool = RwLock::is_locked;
                let _: fn(&RwLock<u8>) -> bool = RwLock::is_locked_exclusive;
                let _: fn(&mut RwLock<u8>) -> &mut u8 = RwLock::get_mut;
                let _: fn(&RwLock<u8>) -> *mut u8 = RwLock::data_ptr;
                let _: fn(RwLock<u8>) -> u8 = RwLock::into_inner;
                let _: fn(RwLock<u8>) -> (RawRwLock, u8) = RwLock::into_inner_with_raw;
                let _: unsafe fn(&RwLock<u8>, Shared) = RwLock::force_unlock_read;
                let _: unsafe fn(&RwLock<u8>, Exclusive) = RwLock::force_unlock_write;
                let _: unsafe fn(&RwLock<u8>, Shared) = RwLock::force_unlock_read_fair;
                let _: unsafe fn(&RwLock<u8>, Exclusive) = RwLock::force_unlock_write_fair;
                let _: unsafe fn(&RwLock<u8>, Shared) -> RwLockReadGuard<'_, u8> =
                    RwLock::make_read_guard_unchecked;
                let _: unsafe fn(&RwLock<u8>, Exclusive) -> RwLockWriteGuard<'_, u8> =
                    RwLock::make_write_guard_unchecked;
                let _: unsafe fn(&RwLock<u8>, Upgradable) -> RwLockUpgradableReadGuard<'_, u8> =
                    RwLock::make_upgradable_guard_unchecked;
                let _: unsafe fn(&RwLock<u8>) -> &RawRwLock = RwLock::raw;
                let _: RwLock<u8> = RwLock::default();
                let _: RwLock<u8> = RwLock::from(1);
                let _ = format!("{l:?}");

                let r = l.read();
                let _ = format!("{r:?} {r}");
                let _: &lock_api::RwLock<RawRwLock, u8> = RwLockReadGuard::rwlock(&r);
                let _: MappedRwLockReadGuard<'_, u8> = RwLockReadGuard::map(r, |v| v);
                RwLockReadGuard::unlock_fair(l.read());
                let _ = RwLockReadGuard::try_map_or_err(l.read(), |_| Err::<&u8, _>(()));

                let mut w = l.write();
                RwLockWriteGuard::bump(&mut w);
                RwLockWriteGuard::unlocked(&mut w, || ());
                let _: RwLockReadGuard<'_, u8> = RwLockWriteGuard::downgrade(w);
                let w = l.write();
                let _: RwLockUpgradableReadGuard<'_, u8> =
                    RwLockWriteGuard::downgrade_to_upgradable(w);
                let w = l.write();
                let _: MappedRwLockWriteGuard<'_, u8> = RwLockWriteGuard::map(w, |v| v);

                let mut u = l.upgradable_read();
                let _ = format!("{u:?} {u}");
                u.with_upgraded(|v| *v += 1);
                let _: Option<()> = u.try_with_upgraded(|_| ());
                let u = match RwLockUpgradableReadGuard::try_upgrade(u) {
                    Ok(w) => RwLockWriteGuard::downgrade_to_upgradable(w),
                    Err(u) => u,
                };
                let u = match RwLockUpgradableReadGuard::try_upgrade_for(u, Duration::ZERO) {
                    Ok(w) => RwLockWriteGuard::downgrade_to_upgradable(w),
                    Err(u) => u,
                };
                let w: RwLockWriteGuard<'_, u8> = upgrade(u);
                let u = RwLockWriteGuard::downgrade_to_upgradable(w);
                let _: RwLockReadGuard<'_, u8> = RwLockUpgradableReadGuard::downgrade(u);
            }

            pub fn recursive(l: &RecursiveRwLock<u8>) {
                let _: fn(u8) -> RecursiveRwLock<u8> = RecursiveRwLock::new;
                let _: fn(&RecursiveRwLock<u8>) -> RecursiveRwLockReadGuard<'_, u8> =
                    RecursiveRwLock::read;
                let _: fn(&RecursiveRwLock<u8>) -> RecursiveRwLockWriteGuard<'_, u8> =
                    RecursiveRwLock::write;
                let _: fn(&RecursiveRwLock<u8>) -> RecursiveRwLockUpgradableReadGuard<'_, u8> =
                    RecursiveRwLock::upgradable_read;
                let _: unsafe fn(&RecursiveRwLock<u8>) -> &RawRwLockRecursive =
                    RecursiveRwLock::raw;
                let a = l.read();
                let b = l.read();
                let _: MappedRecursiveRwLockReadGuard<'_, u8> =
                    RecursiveRwLockReadGuard::map(a, |v| v);
                drop(b);
                let w: MappedRecursiveRwLockWriteGuard<'_, u8> =
                    RecursiveRwLockWriteGuard::map(l.write(), |v| v);
                drop(w);
                let _: &lock_api::RwLock<RawRwLockRecursive, u8> =
                    RecursiveRwLockReadGuard::rwlock(&l.read());
            }

            pub fn reentrant(m: &ReentrantMutex<u8>) {
                let _: fn(u8) -> ReentrantMutex<u8> = ReentrantMutex::new;
                let _: fn(&ReentrantMutex<u8>) -> ReentrantMutexGuard<'_, u8> =
                    ReentrantMutex::lock;
                let _: fn(&ReentrantMutex<u8>) -> Option<ReentrantMutexGuard<'_, u8>> =
                    ReentrantMutex::try_lock;
                let _: fn(&ReentrantMutex<u8>, Duration) -> Option<ReentrantMutexGuard<'_, u8>> =
                    ReentrantMutex::try_lock_for;
                let _: fn(&ReentrantMutex<u8>, Instant) -> Option<ReentrantMutexGuard<'_, u8>> =
                    ReentrantMutex::try_lock_until;
                let _: fn(&ReentrantMutex<u8>) -> bool = ReentrantMutex::is_locked;
                let _: fn(&ReentrantMutex<u8>) -> bool = ReentrantMutex::is_owned_by_current_thread;
                let _: fn(&mut ReentrantMutex<u8>) -> &mut u8 = ReentrantMutex::get_mut;
                let _: fn(&ReentrantMutex<u8>) -> *mut u8 = ReentrantMutex::data_ptr;
                let _: fn(ReentrantMutex<u8>) -> u8 = ReentrantMutex::into_inner;
                let _: fn(ReentrantMutex<u8>) -> (RawMutex, RawThreadId, u8) =
                    ReentrantMutex::into_inner_with_raw;
                let _: unsafe fn(&ReentrantMutex<u8>) = ReentrantMutex::force_unlock;
                let _: unsafe fn(&ReentrantMutex<u8>) = ReentrantMutex::force_unlock_fair;
                let _: unsafe fn(&ReentrantMutex<u8>) -> ReentrantMutexGuard<'_, u8> =
                    ReentrantMutex::make_guard_unchecked;
                let _: ReentrantMutex<u8> = ReentrantMutex::default();
                let mut g = m.lock();
                let _: &lock_api::ReentrantMutex<RawMutex, RawThreadId, u8> =
                    ReentrantMutexGuard::remutex(&g);
                ReentrantMutexGuard::unlocked(&mut g, || ());
                ReentrantMutexGuard::bump(&mut g);
                let _: MappedReentrantMutexGuard<'_, u8> = ReentrantMutexGuard::map(g, |v| v);
                ReentrantMutexGuard::unlock_fair(m.lock());
            }

            pub fn condvar(cv: &Condvar, m: &Mutex<u8>) {
                let _: Condvar = Condvar::new();
                let _: Condvar = Condvar::default();
                let _: &RawCondvar = cv.raw();
                let _ = format!("{cv:?}");
                let _: bool = cv.notify_one();
                let _: usize = cv.notify_all();
                let mut g = m.lock();
                cv.wait(&mut g);
                let r: WaitTimeoutResult = cv.wait_for(&mut g, Duration::ZERO);
                let _: bool = r.timed_out();
                let _: WaitTimeoutResult = cv.wait_until(&mut g, Instant::now());
                cv.wait_while(&mut g, |v| *v == 0);
                let _: WaitTimeoutResult = cv.wait_while_for(&mut g, |v| *v == 0, Duration::ZERO);
                let _: WaitTimeoutResult =
                    cv.wait_while_until(&mut g, |v| *v == 0, Instant::now());
                fn raw_condvar<C: lock_api::RawCondvarTimed<RawMutex = RawMutex>>() {}
                raw_condvar::<RawCondvar>();
            }

            pub fn once() {
                let _: Once = Once::new_completed();
                let _: bool = ONCE.is_completed();
                let _: OnceState = ONCE.state();
                ONCE.call_once(|| ());
                ONCE.call_once_force(|s: OnceState| {
                    let _: bool = s.is_poisoned();
                    let _: bool = s.is_completed();
                });
                ONCE.wait();
                ONCE.wait_force();
            }

            #[cfg(feature = "arc_lock")]
            pub fn arc_lock(
                m: Arc<Mutex<u8>>,
                l: Arc<RwLock<u8>>,
                r: Arc<ReentrantMutex<u8>>,
            ) {
                let _: ArcMutexGuard<RawMutex, u8> = m.lock_arc();
                let _: Option<ArcMutexGuard<RawMutex, u8>> = m.try_lock_arc();
                let _: Option<ArcMutexGuard<RawMutex, u8>> = m.try_lock_arc_for(Duration::ZERO);
                let _: Option<ArcMutexGuard<RawMutex, u8>> =
                    m.try_lock_arc_until(Instant::now());
                let _: ArcRwLockReadGuard<RawRwLock, u8> = l.read_arc();
                let _: Option<ArcRwLockReadGuard<RawRwLock, u8>> = l.try_read_arc();
                let _: Option<ArcRwLockReadGuard<RawRwLock, u8>> =
                    l.try_read_arc_for(Duration::ZERO);
                let _: Option<ArcRwLockReadGuard<RawRwLock, u8>> =
                    l.try_read_arc_until(Instant::now());
                let _: ArcRwLockWriteGuard<RawRwLock, u8> = l.write_arc();
                let _: Option<ArcRwLockWriteGuard<RawRwLock, u8>> = l.try_write_arc();
                let _: Option<ArcRwLockWriteGuard<RawRwLock, u8>> =
                    l.try_write_arc_for(Duration::ZERO);
                let _: Option<ArcRwLockWriteGuard<RawRwLock, u8>> =
                    l.try_write_arc_until(Instant::now());
                let _: ArcRwLockUpgradableReadGuard<RawRwLock, u8> = l.upgradable_read_arc();
                let _: Option<ArcRwLockUpgradableReadGuard<RawRwLock, u8>> =
                    l.try_upgradable_read_arc();
                let _: Option<ArcRwLockUpgradableReadGuard<RawRwLock, u8>> =
                    l.try_upgradable_read_arc_for(Duration::ZERO);
                let _: Option<ArcRwLockUpgradableReadGuard<RawRwLock, u8>> =
                    l.try_upgradable_read_arc_until(Instant::now());
                let _: ArcReentrantMutexGuard<RawMutex, RawThreadId, u8> = r.lock_arc();
                let _: Option<ArcReentrantMutexGuard<RawMutex, RawThreadId, u8>> =
                    r.try_lock_arc();
            }

            #[cfg(feature = "serde")]
            pub fn serde_feature() {
                fn both<T: serde::Serialize + for<'de> serde::Deserialize<'de>>() {}
                both::<Mutex<u8>>();
                both::<FairMutex<u8>>();
                both::<RwLock<u8>>();
                both::<RecursiveRwLock<u8>>();
                both::<ReentrantMutex<u8>>();
            }

            pub fn raw_types() {
                fn raw_mutex<R: lock_api::RawMutexFair + lock_api::RawMutexTimed>() {}
                fn raw_rwlock<
                    R: lock_api::RawRwLockUpgradeDowngrade
                        + lock_api::RawRwLockUpgradeFair
                        + lock_api::RawRwLockUpgradeTimed,
                >() {
                }
                fn thread_id<G: lock_api::GetThreadId>() {}
                raw_mutex::<RawMutex>();
                raw_mutex::<RawFairMutex>();
                raw_rwlock::<RawRwLock>();
                raw_rwlock::<RawRwLockRecursive>();
                thread_id::<RawThreadId>();
            }

            pub fn auto_traits() {
                fn send_sync<T: Send + Sync>() {}
                fn sync<T: Sync>() {}
                send_sync::<Mutex<u8>>();
                send_sync::<FairMutex<u8>>();
                send_sync::<RwLock<u8>>();
                send_sync::<RecursiveRwLock<u8>>();
                send_sync::<ReentrantMutex<u8>>();
                send_sync::<Condvar>();
                send_sync::<Once>();
                sync::<MutexGuard<'static, u8>>();
                sync::<RwLockReadGuard<'static, u8>>();
                sync::<RwLockWriteGuard<'static, u8>>();
                sync::<RwLockUpgradableReadGuard<'static, u8>>();
                sync::<ReentrantMutexGuard<'static, u8>>();
            }
        }
    };
}

surface!(upstream: parking_lot_013);
surface!(checked: lockdep_core::parking_lot_0_13);
