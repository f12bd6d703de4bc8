//! `lockdep_core::futures` is a drop-in for `futures::lock`: the same code, written once, builds
//! and behaves the same against both (with the checks compiled in and out), naming every public
//! item of `futures_util::lock`'s mutex with the types upstream gives it.
#![cfg(feature = "futures")]

macro_rules! drop_in {
    ($name:ident: $($path:ident)::+) => {
        mod $name {
            use futures_util::future::FusedFuture;
            use std::sync::Arc;
            use $($path)::+::{
                MappedMutexGuard, Mutex, MutexGuard, MutexLockFuture, OwnedMutexGuard,
                OwnedMutexLockFuture,
            };

            static GLOBAL: Mutex<u32> = Mutex::new(0);

            fn assert_send_sync<T: Send + Sync>(_: &T) {}
            fn assert_send<T: Send>(_: &T) {}

            pub async fn exercise() -> (u32, u32, String, bool) {
                let m = Arc::new(Mutex::new((1u32, 2u32)));
                assert_send_sync(&*m);
                let f: MutexLockFuture<'_, (u32, u32)> = m.lock();
                assert_send(&f);
                assert!(!f.is_terminated());
                let g: MutexGuard<'_, (u32, u32)> = f.await;
                assert_send(&g);
                let mut first: MappedMutexGuard<'_, (u32, u32), u32> =
                    MutexGuard::map(g, |pair| &mut pair.0);
                *first += 1;
                let mut first = MappedMutexGuard::map(first, |v| v);
                *first += 1;
                drop(first);
                let of: OwnedMutexLockFuture<(u32, u32)> = m.clone().lock_owned();
                let mut owned: OwnedMutexGuard<(u32, u32)> = of.await;
                assert_send_sync(&owned);
                owned.1 += 10;
                assert!(m.try_lock().is_none());
                assert!(m.try_lock_owned().is_none());
                let debug = format!("{owned:?}");
                drop(owned);
                let tried = m.try_lock().expect("free");
                drop(tried);
                let mut plain = Mutex::from(5u32);
                *plain.get_mut() += 1;
                let six = plain.into_inner();
                let empty: Mutex<Vec<u8>> = Mutex::default();
                let debug = format!("{debug} {:?}", empty);
                *GLOBAL.lock().await += six;
                let mut done = m.lock();
                let _ = (&mut done).await;
                let terminated = done.is_terminated();
                let result = (m.lock().await.0, *GLOBAL.lock().await, debug, terminated);
                result
            }
        }
    };
}

drop_in!(upstream: futures_util::lock);
drop_in!(ours: lockdep_core::futures);

#[test]
fn the_same_code_behaves_the_same_against_futures_and_lockdep() {
    let theirs = futures_executor::block_on(upstream::exercise());
    let mine = futures_executor::block_on(ours::exercise());
    assert_eq!(theirs.0, mine.0);
    assert_eq!(theirs.1, mine.1);
    assert_eq!(theirs.3, mine.3);
    // Debug of a guard shows the data; of a free mutex, what `futures` shows.
    assert_eq!(theirs.2, mine.2, "{theirs:?} / {mine:?}");
}
