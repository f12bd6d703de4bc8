//! A report's panic names the user's acquisition site, not a line inside lockdep-core (own test
//! binary: it installs a panic hook and uses the global `Panic` mode).

use lockdep_core::{Mutex, RwLock};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Mutex as StdMutex;

/// Where the last panic on any thread was raised (`file:line`).
static LAST: StdMutex<Option<String>> = StdMutex::new(None);

/// Runs `f`, which must panic, and returns the file and line its panic named.
fn panic_site(f: impl FnOnce()) -> String {
    *LAST.lock().unwrap() = None;
    catch_unwind(AssertUnwindSafe(f)).expect_err("a report panics");
    LAST.lock().unwrap().take().expect("the hook saw the panic")
}

#[derive(Default)]
struct Pair {
    first: Mutex<u32>,
    second: RwLock<u32>,
}

#[test]
#[cfg_attr(not(lockdep_checks), ignore = "needs the checks compiled in")]
fn report_panics_name_the_users_acquisition_site() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()));
        *LAST.lock().unwrap() = location;
        default_hook(info);
    }));
    let here = file!();

    // A circular dependency (parking_lot flavour, a write then a mutex).
    let pair = Pair::default();
    {
        let _f = pair.first.lock();
        let _s = pair.second.write();
    }
    let expected = format!("{here}:{}", line!() + 3);
    let site = panic_site(|| {
        let _s = pair.second.read();
        let _f = pair.first.lock();
    });
    assert_eq!(site, expected);

    // A certain self-deadlock (relocking a held mutex).
    let m = Mutex::new(0u8);
    let expected = format!("{here}:{}", line!() + 3);
    let site = panic_site(|| {
        let _a = m.lock();
        let _b = m.lock();
    });
    assert_eq!(site, expected);

    // The std::sync flavour.
    let a = lockdep_core::sync::Mutex::new(());
    let b = lockdep_core::sync::Mutex::new(());
    {
        let _a = a.lock().unwrap();
        let _b = b.lock().unwrap();
    }
    let expected = format!("{here}:{}", line!() + 3);
    let site = panic_site(|| {
        let _b = b.lock().unwrap();
        let _a = a.lock().unwrap();
    });
    assert_eq!(site, expected);

    // might_lock.
    let c = Mutex::new(());
    let d = Mutex::new(());
    {
        let _c = c.lock();
        let _d = d.lock();
    }
    let expected = format!("{here}:{}", line!() + 3);
    let site = panic_site(|| {
        let _d = d.lock();
        lockdep_core::might_lock(&c);
    });
    assert_eq!(site, expected);

    // The async locks: a report raised inside a lock's future, outside any tokio task (the body
    // of a `#[tokio::test]`, `block_on`), names the user's `.await`.
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let m = lockdep_core::tokio::Mutex::new(());
    let expected = format!("{here}:{}", line!() + 4);
    let site = panic_site(|| {
        rt.block_on(async {
            let _a = m.lock().await;
            let _b = m.lock().await;
        })
    });
    assert_eq!(site, expected, "tokio Mutex relocked in block_on");

    let (e, f) = (
        lockdep_core::tokio::RwLock::new(()),
        lockdep_core::tokio::Mutex::new(()),
    );
    rt.block_on(async {
        let _e = e.write().await;
        let _f = f.lock().await;
    });
    let expected = format!("{here}:{}", line!() + 4);
    let site = panic_site(|| {
        rt.block_on(async {
            let _f = f.lock().await;
            let _e = e.read().await;
        })
    });
    assert_eq!(site, expected, "tokio RwLock inversion in block_on");

    // `futures` and `async_lock` locks, in a `.lockdep()` task polled by `block_on`.
    use lockdep_core::LockdepFutureExt;
    let g = lockdep_core::futures::Mutex::new(());
    let expected = format!("{here}:{}", line!() + 5);
    let site = panic_site(|| {
        futures_executor::block_on(
            async {
                let _a = g.lock().await;
                let _b = g.lock().await;
            }
            .lockdep(),
        )
    });
    assert_eq!(site, expected, "futures Mutex relocked");

    let h = lockdep_core::async_lock::RwLock::new(());
    let expected = format!("{here}:{}", line!() + 5);
    let site = panic_site(|| {
        futures_executor::block_on(
            async {
                let _r = h.read().await;
                let _w = h.write().await;
            }
            .lockdep(),
        )
    });
    assert_eq!(site, expected, "async_lock RwLock write under its read");
    let _ = std::panic::take_hook();
}
