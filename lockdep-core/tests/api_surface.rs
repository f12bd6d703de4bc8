//! Compile-only: names every public item of `parking_lot` 0.12's crate root (and the methods of
//! its lock types) and of the standard library's lock types (`std::sync::{Mutex, RwLock,
//! Condvar}` and their guards, stable API as of Rust 1.95), each with the signature upstream
//! gives it, as lockdep's drop-in replacements. A gap in the surface is a build error here.
//!
//! `parking_lot::{Once, OnceState}`, std's `Once`/`OnceLock`/`LazyLock` and the `deadlock`
//! module (feature `deadlock_detection`) are named in `once_cells` below. The guards are `Send`
//! exactly with the feature `send_guard`, as upstream's (`auto_traits` below).
//! The behaviour behind each item is tested in `parking_lot_ported.rs`, `dropin_api.rs` and
//! `std_sync.rs`.

// The items are named, not used: discarding guards at once is the point here.
#![allow(
    dead_code,
    unused_variables,
    unused_must_use,
    deprecated,
    clippy::let_underscore_lock
)]

use std::time::{Duration, Instant};

/// Every item of `parking_lot`'s root, under the same name.
mod parking_lot_root {
    use lockdep_core::{
        const_fair_mutex, const_mutex, const_reentrant_mutex, const_rwlock, lock_api, Condvar,
        FairMutex, FairMutexGuard, MappedFairMutexGuard, MappedMutexGuard,
        MappedReentrantMutexGuard, MappedRwLockReadGuard, MappedRwLockWriteGuard, Mutex,
        MutexGuard, RawFairMutex, RawMutex, RawRwLock, RawThreadId, ReentrantMutex,
        ReentrantMutexGuard, RwLock, RwLockReadGuard, RwLockUpgradableReadGuard, RwLockWriteGuard,
        WaitTimeoutResult,
    };
    #[cfg(feature = "arc_lock")]
    use lockdep_core::{
        ArcMutexGuard, ArcReentrantMutexGuard, ArcRwLockReadGuard, ArcRwLockUpgradableReadGuard,
        ArcRwLockWriteGuard,
    };
    use std::time::{Duration, Instant};

    // The `const_*` constructors build statics, as in parking_lot.
    pub(crate) static M: Mutex<u8> = const_mutex(0);
    pub(crate) static F: FairMutex<u8> = const_fair_mutex(0);
    pub(crate) static RW: RwLock<u8> = const_rwlock(0);
    pub(crate) static RE: ReentrantMutex<u8> = const_reentrant_mutex(0);
    pub(crate) static CV: Condvar = Condvar::new();
    pub(crate) static M2: Mutex<u8> = Mutex::const_new(<RawMutex as lock_api::RawMutex>::INIT, 0);
    pub(crate) static RW2: RwLock<u8> =
        RwLock::const_new(<RawRwLock as lock_api::RawRwLock>::INIT, 0);
    pub(crate) static RE2: ReentrantMutex<u8> =
        ReentrantMutex::const_new(<RawMutex as lock_api::RawMutex>::INIT, RawThreadId, 0);

    fn mutex(m: &Mutex<u8>, mut owned: Mutex<u8>) {
        let _: fn(u8) -> Mutex<u8> = Mutex::new;
        let _: fn(&Mutex<u8>) -> MutexGuard<'_, u8> = Mutex::lock;
        let _: fn(&Mutex<u8>) -> Option<MutexGuard<'_, u8>> = Mutex::try_lock;
        let _: fn(&Mutex<u8>, Duration) -> Option<MutexGuard<'_, u8>> = Mutex::try_lock_for;
        let _: fn(&Mutex<u8>, Instant) -> Option<MutexGuard<'_, u8>> = Mutex::try_lock_until;
        let _: fn(&Mutex<u8>) -> bool = Mutex::is_locked;
        let _: fn(&mut Mutex<u8>) -> &mut u8 = Mutex::get_mut;
        let _: fn(&Mutex<u8>) -> *mut u8 = Mutex::data_ptr;
        let _: fn(Mutex<u8>) -> u8 = Mutex::into_inner;
        let _: unsafe fn(&Mutex<u8>) = Mutex::force_unlock;
        let _: unsafe fn(&Mutex<u8>) = Mutex::force_unlock_fair;
        let _: unsafe fn(&Mutex<u8>) -> MutexGuard<'_, u8> = Mutex::make_guard_unchecked;
        // SAFETY: not called; this only names the method.
        let _raw = || unsafe { lock_api::RawMutex::is_locked(m.raw()) };
        let _: Mutex<u8> = Mutex::default();
        let _: Mutex<u8> = Mutex::from(1);
        let _ = format!("{m:?}");
        let _ = owned.get_mut();

        let mut g = m.lock();
        let _ = format!("{g:?} {g}");
        *g += 1;
        let _: &lock_api::Mutex<_, u8> = MutexGuard::mutex(&g);
        MutexGuard::unlocked(&mut g, || ());
        MutexGuard::unlocked_fair(&mut g, || ());
        MutexGuard::bump(&mut g);
        let mapped: MappedMutexGuard<'_, u8> = MutexGuard::map(g, |v| v);
        let _: Result<MappedMutexGuard<'_, u8>, _> = MappedMutexGuard::try_map(mapped, |v| Some(v));
        let g = m.lock();
        let _: Result<MappedMutexGuard<'_, u8>, MutexGuard<'_, u8>> =
            MutexGuard::try_map(g, |v| Some(v));
        let g = m.lock();
        let _ = MutexGuard::try_map_or_err(g, |v| Ok::<_, ()>(v));
        MutexGuard::unlock_fair(m.lock());
        let _: &mut u8 = MutexGuard::leak(m.lock());
    }

    fn fair_mutex(m: &FairMutex<u8>) {
        let g: FairMutexGuard<'_, u8> = m.lock();
        let _: MappedFairMutexGuard<'_, u8> = FairMutexGuard::map(g, |v| v);
        let _ = m.try_lock_for(Duration::ZERO);
        FairMutexGuard::unlock_fair(m.lock());
    }

    fn rwlock(l: &RwLock<u8>) {
        let _: fn(u8) -> RwLock<u8> = RwLock::new;
        let _: fn(&RwLock<u8>) -> RwLockReadGuard<'_, u8> = RwLock::read;
        let _: fn(&RwLock<u8>) -> Option<RwLockReadGuard<'_, u8>> = RwLock::try_read;
        let _: fn(&RwLock<u8>, Duration) -> Option<RwLockReadGuard<'_, u8>> = RwLock::try_read_for;
        let _: fn(&RwLock<u8>, Instant) -> Option<RwLockReadGuard<'_, u8>> = RwLock::try_read_until;
        let _: fn(&RwLock<u8>) -> RwLockReadGuard<'_, u8> = RwLock::read_recursive;
        let _: fn(&RwLock<u8>) -> Option<RwLockReadGuard<'_, u8>> = RwLock::try_read_recursive;
        let _: fn(&RwLock<u8>, Duration) -> Option<RwLockReadGuard<'_, u8>> =
            RwLock::try_read_recursive_for;
        let _: fn(&RwLock<u8>, Instant) -> Option<RwLockReadGuard<'_, u8>> =
            RwLock::try_read_recursive_until;
        let _: fn(&RwLock<u8>) -> RwLockWriteGuard<'_, u8> = RwLock::write;
        let _: fn(&RwLock<u8>) -> Option<RwLockWriteGuard<'_, u8>> = RwLock::try_write;
        let _: fn(&RwLock<u8>, Duration) -> Option<RwLockWriteGuard<'_, u8>> =
            RwLock::try_write_for;
        let _: fn(&RwLock<u8>, Instant) -> Option<RwLockWriteGuard<'_, u8>> =
            RwLock::try_write_until;
        let _: fn(&RwLock<u8>) -> RwLockUpgradableReadGuard<'_, u8> = RwLock::upgradable_read;
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
        let _: unsafe fn(&RwLock<u8>) = RwLock::force_unlock_read;
        let _: unsafe fn(&RwLock<u8>) = RwLock::force_unlock_write;
        let _: unsafe fn(&RwLock<u8>) = RwLock::force_unlock_read_fair;
        let _: unsafe fn(&RwLock<u8>) = RwLock::force_unlock_write_fair;
        let _: unsafe fn(&RwLock<u8>) -> RwLockReadGuard<'_, u8> =
            RwLock::make_read_guard_unchecked;
        let _: unsafe fn(&RwLock<u8>) -> RwLockWriteGuard<'_, u8> =
            RwLock::make_write_guard_unchecked;
        let _: unsafe fn(&RwLock<u8>) -> RwLockUpgradableReadGuard<'_, u8> =
            RwLock::make_upgradable_guard_unchecked;
        // SAFETY: not called; this only names the method.
        let _raw = || unsafe { lock_api::RawRwLock::is_locked(l.raw()) };
        let _: RwLock<u8> = RwLock::default();
        let _: RwLock<u8> = RwLock::from(1);
        let _ = format!("{l:?}");

        let r = l.read();
        let _ = format!("{r:?} {r}");
        let _: &lock_api::RwLock<_, u8> = RwLockReadGuard::rwlock(&r);
        let _: MappedRwLockReadGuard<'_, u8> = RwLockReadGuard::map(r, |v| v);
        RwLockReadGuard::unlock_fair(l.read());

        let mut w = l.write();
        let _ = format!("{w:?} {w}");
        RwLockWriteGuard::bump(&mut w);
        RwLockWriteGuard::unlocked(&mut w, || ());
        let _: RwLockReadGuard<'_, u8> = RwLockWriteGuard::downgrade(w);
        let w = l.write();
        let _: RwLockUpgradableReadGuard<'_, u8> = RwLockWriteGuard::downgrade_to_upgradable(w);
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
        let w: RwLockWriteGuard<'_, u8> = RwLockUpgradableReadGuard::upgrade(u);
        let u = RwLockWriteGuard::downgrade_to_upgradable(w);
        let _: RwLockReadGuard<'_, u8> = RwLockUpgradableReadGuard::downgrade(u);
    }

    fn reentrant(m: &ReentrantMutex<u8>) {
        let _: fn(u8) -> ReentrantMutex<u8> = ReentrantMutex::new;
        let _: fn(&ReentrantMutex<u8>) -> ReentrantMutexGuard<'_, u8> = ReentrantMutex::lock;
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
        let _: unsafe fn(&ReentrantMutex<u8>) = ReentrantMutex::force_unlock;
        let _: unsafe fn(&ReentrantMutex<u8>) = ReentrantMutex::force_unlock_fair;
        let _: unsafe fn(&ReentrantMutex<u8>) -> ReentrantMutexGuard<'_, u8> =
            ReentrantMutex::make_guard_unchecked;
        // SAFETY: not called; this only names the method.
        let _raw = || unsafe { lock_api::RawMutex::is_locked(m.raw()) };
        let _: ReentrantMutex<u8> = ReentrantMutex::default();
        let _: ReentrantMutex<u8> = ReentrantMutex::from(1);
        let _ = format!("{m:?}");

        let mut g = m.lock();
        let _ = format!("{g:?} {g}");
        let _: &lock_api::ReentrantMutex<_, _, u8> = ReentrantMutexGuard::remutex(&g);
        ReentrantMutexGuard::unlocked(&mut g, || ());
        ReentrantMutexGuard::bump(&mut g);
        let _: MappedReentrantMutexGuard<'_, u8> = ReentrantMutexGuard::map(g, |v| v);
        ReentrantMutexGuard::unlock_fair(m.lock());
    }

    fn condvar(cv: &Condvar, m: &Mutex<u8>) {
        let _: Condvar = Condvar::new();
        let _: Condvar = Condvar::default();
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
        let _: WaitTimeoutResult = cv.wait_while_until(&mut g, |v| *v == 0, Instant::now());
    }

    #[cfg(feature = "arc_lock")]
    fn arc_lock(
        m: std::sync::Arc<Mutex<u8>>,
        l: std::sync::Arc<RwLock<u8>>,
        r: std::sync::Arc<ReentrantMutex<u8>>,
    ) {
        let _: ArcMutexGuard<RawMutex, u8> = m.lock_arc();
        let _: Option<ArcMutexGuard<RawMutex, u8>> = m.try_lock_arc();
        let _: Option<ArcMutexGuard<RawMutex, u8>> = m.try_lock_arc_for(Duration::ZERO);
        let _: Option<ArcMutexGuard<RawMutex, u8>> = m.try_lock_arc_until(Instant::now());
        let _: ArcRwLockReadGuard<RawRwLock, u8> = l.read_arc();
        let _: Option<ArcRwLockReadGuard<RawRwLock, u8>> = l.try_read_arc();
        let _: Option<ArcRwLockReadGuard<RawRwLock, u8>> = l.try_read_arc_for(Duration::ZERO);
        let _: Option<ArcRwLockReadGuard<RawRwLock, u8>> = l.try_read_arc_until(Instant::now());
        let _: ArcRwLockReadGuard<RawRwLock, u8> = l.read_arc_recursive();
        let _: Option<ArcRwLockReadGuard<RawRwLock, u8>> = l.try_read_recursive_arc();
        let _: Option<ArcRwLockReadGuard<RawRwLock, u8>> =
            l.try_read_arc_recursive_for(Duration::ZERO);
        let _: Option<ArcRwLockReadGuard<RawRwLock, u8>> =
            l.try_read_arc_recursive_until(Instant::now());
        let _: ArcRwLockWriteGuard<RawRwLock, u8> = l.write_arc();
        let _: Option<ArcRwLockWriteGuard<RawRwLock, u8>> = l.try_write_arc();
        let _: Option<ArcRwLockWriteGuard<RawRwLock, u8>> = l.try_write_arc_for(Duration::ZERO);
        let _: Option<ArcRwLockWriteGuard<RawRwLock, u8>> = l.try_write_arc_until(Instant::now());
        let _: ArcRwLockUpgradableReadGuard<RawRwLock, u8> = l.upgradable_read_arc();
        let _: Option<ArcRwLockUpgradableReadGuard<RawRwLock, u8>> = l.try_upgradable_read_arc();
        let _: Option<ArcRwLockUpgradableReadGuard<RawRwLock, u8>> =
            l.try_upgradable_read_arc_for(Duration::ZERO);
        let _: Option<ArcRwLockUpgradableReadGuard<RawRwLock, u8>> =
            l.try_upgradable_read_arc_until(Instant::now());
        let _: ArcReentrantMutexGuard<RawMutex, RawThreadId, u8> = r.lock_arc();
        let _: Option<ArcReentrantMutexGuard<RawMutex, RawThreadId, u8>> = r.try_lock_arc();
        let _: Option<ArcReentrantMutexGuard<RawMutex, RawThreadId, u8>> =
            r.try_lock_arc_for(Duration::ZERO);
        let _: Option<ArcReentrantMutexGuard<RawMutex, RawThreadId, u8>> =
            r.try_lock_arc_until(Instant::now());
    }

    #[cfg(feature = "serde")]
    fn serde_feature() {
        fn both<T: serde::Serialize + for<'de> serde::Deserialize<'de>>() {}
        both::<Mutex<u8>>();
        both::<FairMutex<u8>>();
        both::<RwLock<u8>>();
        both::<ReentrantMutex<u8>>();
    }

    fn raw_types() {
        // The raw locks are parking_lot's own, so `lock_api` types can be built over them.
        fn raw_mutex<R: lock_api::RawMutex>() {}
        fn raw_rwlock<R: lock_api::RawRwLock>() {}
        fn thread_id<G: lock_api::GetThreadId>() {}
        raw_mutex::<RawMutex>();
        raw_mutex::<RawFairMutex>();
        raw_rwlock::<RawRwLock>();
        thread_id::<RawThreadId>();
    }

    /// The auto traits upstream's locks have (guards: `Sync`, and `Send` with `send_guard`).
    fn auto_traits() {
        #[cfg(feature = "send_guard")]
        {
            fn send<T: Send>() {}
            send::<MutexGuard<'static, u8>>();
            send::<RwLockReadGuard<'static, u8>>();
            send::<RwLockWriteGuard<'static, u8>>();
            send::<RwLockUpgradableReadGuard<'static, u8>>();
        }
        fn send_sync<T: Send + Sync>() {}
        fn sync<T: Sync>() {}
        send_sync::<Mutex<u8>>();
        send_sync::<FairMutex<u8>>();
        send_sync::<RwLock<u8>>();
        send_sync::<ReentrantMutex<u8>>();
        send_sync::<Condvar>();
        sync::<MutexGuard<'static, u8>>();
        sync::<RwLockReadGuard<'static, u8>>();
        sync::<RwLockWriteGuard<'static, u8>>();
        sync::<RwLockUpgradableReadGuard<'static, u8>>();
        sync::<ReentrantMutexGuard<'static, u8>>();
    }
}

/// Every stable item of `std::sync`'s lock types (Rust 1.95), under `lockdep_core::sync`.
mod std_sync {
    use lockdep_core::sync::{
        Condvar, LockResult, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard,
        RwLockWriteGuard, TryLockError, TryLockResult, WaitTimeoutResult,
    };
    use std::panic::{RefUnwindSafe, UnwindSafe};
    use std::time::Duration;

    pub(crate) static M: Mutex<u8> = Mutex::new(0);
    pub(crate) static RW: RwLock<u8> = RwLock::new(0);
    pub(crate) static CV: Condvar = Condvar::new();

    fn mutex(m: &Mutex<u8>, mut owned: Mutex<u8>) {
        let _: fn(u8) -> Mutex<u8> = Mutex::new;
        let _: fn(&Mutex<u8>) -> LockResult<MutexGuard<'_, u8>> = Mutex::lock;
        let _: fn(&Mutex<u8>) -> TryLockResult<MutexGuard<'_, u8>> = Mutex::try_lock;
        let _: fn(&Mutex<u8>) -> bool = Mutex::is_poisoned;
        let _: fn(&Mutex<u8>) = Mutex::clear_poison;
        let _: fn(Mutex<u8>) -> LockResult<u8> = Mutex::into_inner;
        let _: fn(&mut Mutex<u8>) -> LockResult<&mut u8> = Mutex::get_mut;
        let _: Mutex<u8> = Mutex::default();
        let _: Mutex<u8> = Mutex::from(1);
        let _ = format!("{m:?}");
        let _ = owned.get_mut();
        let mut g = m.lock().unwrap();
        *g += 1;
        let _ = format!("{g:?} {g}");
        drop(g);
        match m.try_lock() {
            Ok(_) | Err(TryLockError::WouldBlock) => {}
            Err(TryLockError::Poisoned(p)) => {
                let _: MutexGuard<'_, u8> = PoisonError::into_inner(p);
            }
        }
    }

    fn rwlock(l: &RwLock<u8>) {
        let _: fn(u8) -> RwLock<u8> = RwLock::new;
        let _: fn(&RwLock<u8>) -> LockResult<RwLockReadGuard<'_, u8>> = RwLock::read;
        let _: fn(&RwLock<u8>) -> TryLockResult<RwLockReadGuard<'_, u8>> = RwLock::try_read;
        let _: fn(&RwLock<u8>) -> LockResult<RwLockWriteGuard<'_, u8>> = RwLock::write;
        let _: fn(&RwLock<u8>) -> TryLockResult<RwLockWriteGuard<'_, u8>> = RwLock::try_write;
        let _: fn(&RwLock<u8>) -> bool = RwLock::is_poisoned;
        let _: fn(&RwLock<u8>) = RwLock::clear_poison;
        let _: fn(RwLock<u8>) -> LockResult<u8> = RwLock::into_inner;
        let _: fn(&mut RwLock<u8>) -> LockResult<&mut u8> = RwLock::get_mut;
        // Stable in std since 1.92 (above this crate's minimum Rust version; see build.rs).
        #[cfg(std_rwlock_downgrade)]
        let _: fn(RwLockWriteGuard<'static, u8>) -> RwLockReadGuard<'static, u8> =
            RwLockWriteGuard::downgrade;
        let _: RwLock<u8> = RwLock::default();
        let _: RwLock<u8> = RwLock::from(1);
        let _ = format!("{l:?}");
        let r = l.read().unwrap();
        let _ = format!("{r:?} {r}");
        drop(r);
        let mut w = l.write().unwrap();
        *w += 1;
        let _ = format!("{w:?} {w}");
    }

    fn condvar(cv: &Condvar, m: &Mutex<u8>) {
        let _: Condvar = Condvar::default();
        let _ = format!("{cv:?}");
        cv.notify_one();
        cv.notify_all();
        let g = m.lock().unwrap();
        let g: MutexGuard<'_, u8> = cv.wait(g).unwrap();
        let g = cv.wait_while(g, |v| *v == 0).unwrap();
        let (g, r): (MutexGuard<'_, u8>, WaitTimeoutResult) =
            cv.wait_timeout(g, Duration::ZERO).unwrap();
        let _: bool = r.timed_out();
        let (g, _) = cv
            .wait_timeout_while(g, Duration::ZERO, |v| *v == 0)
            .unwrap();
        let (_, _): (MutexGuard<'_, u8>, bool) = cv.wait_timeout_ms(g, 0).unwrap();
    }

    /// The auto traits std's locks have: `Send`/`Sync`, unwind safety (a poisoned lock is the
    /// unwinding story), and guards `Sync` but not `Send`.
    fn auto_traits() {
        fn send_sync<T: Send + Sync>() {}
        fn unwind_safe<T: UnwindSafe + RefUnwindSafe>() {}
        fn sync<T: Sync>() {}
        send_sync::<Mutex<u8>>();
        send_sync::<RwLock<u8>>();
        send_sync::<Condvar>();
        unwind_safe::<Mutex<u8>>();
        unwind_safe::<RwLock<u8>>();
        unwind_safe::<Condvar>();
        sync::<MutexGuard<'static, u8>>();
        sync::<RwLockReadGuard<'static, u8>>();
        sync::<RwLockWriteGuard<'static, u8>>();
    }
}

/// The `const_*` constructors and `const_new` give each static its creation site as class, as
/// `new` does: an inversion between two of them is a cycle of two classes, not a recursion.
#[test]
fn const_constructors_give_each_static_its_own_class() {
    let reports = lockdep_core::capture(|| {
        {
            let _m = parking_lot_root::M.lock();
            let _f = parking_lot_root::F.lock();
            let _r = parking_lot_root::RE.lock();
            let _m2 = parking_lot_root::M2.lock();
        }
        let _m2 = parking_lot_root::M2.lock();
        let _m = parking_lot_root::M.lock();
    });
    if lockdep_core::CHECKS_COMPILED_IN {
        assert_eq!(reports.len(), 1, "{reports:?}");
        assert_eq!(
            reports[0].kind(),
            lockdep_core::ReportKind::CircularDependency
        );
        let classes = reports[0].classes();
        assert!(
            classes.iter().all(|c| c.contains("api_surface.rs")),
            "{classes:?}"
        );
    } else {
        assert!(reports.is_empty());
    }
    let _ = (Duration::ZERO, Instant::now());
}

/// `parking_lot`'s `Once`/`OnceState`, std's once-cells and the `deadlock` module, under the
/// same names (their behaviour: `once_cells.rs`, `deadlock_detection.rs`).
mod once_cells {
    use lockdep_core::{Once, OnceState};

    static O: Once = Once::new();

    fn parking_lot_once() {
        O.call_once(|| {});
        O.call_once_force(|s: OnceState| {
            let _: bool = s.poisoned();
            let _: bool = s.done();
        });
        let _: OnceState = O.state();
    }

    fn std_cells() {
        use lockdep_core::sync::{LazyLock, Once, OnceLock, OnceState};
        static SO: Once = Once::new();
        SO.call_once(|| {});
        SO.call_once_force(|s: &OnceState| {
            let _: bool = s.is_poisoned();
        });
        let _: bool = SO.is_completed();
        SO.wait();
        static CELL: OnceLock<u8> = OnceLock::new();
        let _: &u8 = CELL.get_or_init(|| 1);
        let _: Option<&u8> = CELL.get();
        let _: Result<(), u8> = CELL.set(2);
        let _: &u8 = CELL.wait();
        let mut cell = OnceLock::<u8>::new();
        let _: Option<&mut u8> = cell.get_mut();
        let _: Option<u8> = cell.take();
        let _: Option<u8> = cell.into_inner();
        static LAZY: LazyLock<u8> = LazyLock::new(|| 3);
        let _: &u8 = LazyLock::force(&LAZY);
        let _: u8 = *LAZY;
    }

    #[cfg(feature = "deadlock_detection")]
    fn deadlock() {
        let _ = lockdep_core::deadlock::check_deadlock();
    }
}
