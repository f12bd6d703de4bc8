//! `lockdep_core::async_lock` is a drop-in for `async_lock`: the same code, written once, builds
//! and behaves the same against both (with the checks compiled in and out), naming every public
//! item of `async_lock`'s root and `futures` module with the types upstream gives it.
#![cfg(feature = "async-lock")]

macro_rules! drop_in {
    ($name:ident: $($path:ident)::+) => {
        mod $name {
            use std::sync::Arc;
            use $($path)::+::futures::{
                Acquire, AcquireArc, BarrierWait, Lock, LockArc, Read, ReadArc, UpgradableRead,
                UpgradableReadArc, Upgrade, UpgradeArc, Write, WriteArc,
            };
            use $($path)::+::{
                Barrier, BarrierWaitResult, Mutex, MutexGuard, MutexGuardArc, OnceCell, RwLock,
                RwLockReadGuard, RwLockReadGuardArc, RwLockUpgradableReadGuard,
                RwLockUpgradableReadGuardArc, RwLockWriteGuard, RwLockWriteGuardArc, Semaphore,
                SemaphoreGuard, SemaphoreGuardArc,
            };

            static GLOBAL: Mutex<u32> = Mutex::new(0);
            static TABLE: RwLock<u32> = RwLock::new(0);

            fn assert_send_sync<T: Send + Sync>(_: &T) {}

            pub async fn exercise() -> Vec<String> {
                let mut seen = Vec::new();
                let m = Arc::new(Mutex::new(1u32));
                assert_send_sync(&*m);
                let f: Lock<'_, u32> = m.lock();
                let mut g: MutexGuard<'_, u32> = f.await;
                *g += 1;
                assert!(std::ptr::eq(MutexGuard::source(&g), &*m));
                seen.push(format!("{g:?} {g}"));
                drop(g);
                let f: LockArc<u32> = m.lock_arc();
                let g: MutexGuardArc<u32> = f.await;
                assert_send_sync(&g);
                assert!(Arc::ptr_eq(MutexGuardArc::source(&g), &m));
                assert!(m.try_lock().is_none() && m.try_lock_arc().is_none());
                drop(g);
                drop(m.lock_blocking());
                drop(m.lock_arc_blocking());
                drop(m.try_lock().expect("free"));
                let mut plain = Mutex::from(5u32);
                *plain.get_mut() += 1;
                seen.push(format!("{} {:?}", plain.into_inner(), Mutex::<Vec<u8>>::default()));
                *GLOBAL.lock().await += 1;

                let l = Arc::new(RwLock::new(10u32));
                assert_send_sync(&*l);
                let f: Read<'_, u32> = l.read();
                let r: RwLockReadGuard<'_, u32> = f.await;
                let r2 = l.try_read().expect("readers share");
                seen.push(format!("{} {:?}", *r + *r2, l.try_write().is_none()));
                drop((r, r2));
                let f: UpgradableRead<'_, u32> = l.upgradable_read();
                let u: RwLockUpgradableReadGuard<'_, u32> = f.await;
                assert!(l.try_upgradable_read().is_none());
                let f: Upgrade<'_, u32> = RwLockUpgradableReadGuard::upgrade(u);
                let mut w: RwLockWriteGuard<'_, u32> = f.await;
                *w += 1;
                let u = RwLockWriteGuard::downgrade_to_upgradable(w);
                let w = RwLockUpgradableReadGuard::try_upgrade(u).expect("no readers");
                let r = RwLockWriteGuard::downgrade(w);
                seen.push(format!("{r:?} {r}"));
                drop(r);
                let u = l.upgradable_read_blocking();
                let w = RwLockUpgradableReadGuard::upgrade_blocking(u);
                let u = RwLockWriteGuard::downgrade_to_upgradable(w);
                drop(RwLockUpgradableReadGuard::downgrade(u));
                let f: Write<'_, u32> = l.write();
                let mut w = f.await;
                *w += 1;
                drop(w);
                drop(l.read_blocking());
                drop(l.write_blocking());
                drop(l.try_upgradable_read().expect("free"));

                let f: ReadArc<'_, u32> = l.read_arc();
                let r: RwLockReadGuardArc<u32> = f.await;
                assert_send_sync(&r);
                drop(r);
                let f: UpgradableReadArc<'_, u32> = l.upgradable_read_arc();
                let u: RwLockUpgradableReadGuardArc<u32> = f.await;
                let f: UpgradeArc<u32> = RwLockUpgradableReadGuardArc::upgrade(u);
                let mut w: RwLockWriteGuardArc<u32> = f.await;
                assert_send_sync(&w);
                *w += 1;
                let u = RwLockWriteGuardArc::downgrade_to_upgradable(w);
                let w = RwLockUpgradableReadGuardArc::try_upgrade(u).expect("free");
                let r = RwLockWriteGuardArc::downgrade(w);
                seen.push(format!("{r:?} {r}"));
                drop(r);
                let u = l.upgradable_read_arc_blocking();
                let w = RwLockUpgradableReadGuardArc::upgrade_blocking(u);
                drop(RwLockUpgradableReadGuardArc::downgrade(
                    RwLockWriteGuardArc::downgrade_to_upgradable(w),
                ));
                let f: WriteArc<'_, u32> = l.write_arc();
                drop(f.await);
                drop((l.read_arc_blocking(), l.try_read_arc().expect("shared")));
                drop(l.write_arc_blocking());
                drop(l.try_upgradable_read_arc().expect("free"));
                drop(l.try_write_arc().expect("free"));
                let mut plain = RwLock::from(7u32);
                *plain.get_mut() += 1;
                seen.push(format!("{} {:?}", plain.into_inner(), RwLock::<u8>::default()));
                *TABLE.write().await += *GLOBAL.lock().await;
                seen.push(format!("{}", *TABLE.read().await));

                // The re-exported primitives, as they are.
                let barrier = Barrier::new(1);
                let wait: BarrierWait<'_> = barrier.wait();
                let result: BarrierWaitResult = wait.await;
                let cell: OnceCell<u32> = OnceCell::new();
                let semaphore = Arc::new(Semaphore::new(1));
                let acquire: Acquire<'_> = semaphore.acquire();
                let permit: SemaphoreGuard<'_> = acquire.await;
                drop(permit);
                let acquire: AcquireArc = semaphore.acquire_arc();
                let permit: SemaphoreGuardArc = acquire.await;
                drop(permit);
                seen.push(format!("{} {:?}", result.is_leader(), cell.get_or_init(|| async { 3 }).await));
                seen
            }
        }
    };
}

drop_in!(upstream: async_lock);
drop_in!(ours: lockdep_core::async_lock);

#[test]
fn the_same_code_behaves_the_same_against_async_lock_and_lockdep() {
    let theirs = futures_executor::block_on(upstream::exercise());
    // Not in a `.lockdep()` task: every lock made in the macro shares one creation site (the
    // macro's call), so nested acquisitions of two of them would be a recursion of one class;
    // the rules are `async_lock_rules`' business, this is the API's.
    let mine = futures_executor::block_on(ours::exercise());
    assert_eq!(theirs, mine);
}
