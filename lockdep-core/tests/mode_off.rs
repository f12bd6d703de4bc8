//! Off: nothing is recorded or reported, but a certain self-deadlock still panics (own binary).
// Every test here needs the checks: compiled out with them.
#![cfg(lockdep_checks)]

use lockdep_core::{set_mode, Mode, Mutex};
use std::panic::{catch_unwind, AssertUnwindSafe};

#[test]
fn off_records_nothing_but_still_refuses_to_hang() {
    set_mode(Mode::Off);
    let a = Mutex::named("off-A", ());
    let b = Mutex::named("off-B", ());
    {
        let _a = a.lock();
        let _b = b.lock();
    }
    {
        let _b = b.lock();
        let _a = a.lock();
    }
    assert_eq!(lockdep_core::stats().reports, 0);
    assert_eq!(lockdep_core::stats().dependencies, 0);
    assert!(lockdep_core::capture(|| {
        let _b = b.lock();
        let _a = a.lock();
    })
    .is_empty());

    // Held locks are still tracked...
    let g = a.lock();
    assert!(lockdep_core::is_held(&a));
    // ...so relocking one panics instead of hanging, whatever the mode.
    let err = catch_unwind(AssertUnwindSafe(|| {
        let _again = a.lock();
    }))
    .expect_err("certain self-deadlock");
    let message = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("self-deadlock"), "{message}");
    drop(g);

    // With checking off no cached chain vouches for a depth, yet the hot path must still
    // count every depth this thread reaches (it pushes without looking at the maximum only
    // where one does): a fresh thread goes seven deep, past anything taken above.
    let chain: Vec<Mutex<()>> = (0..7)
        .map(|i| Mutex::named(&format!("off-depth-{i}"), ()))
        .collect();
    std::thread::scope(|s| {
        s.spawn(|| {
            for _ in 0..3 {
                let guards: Vec<_> = chain.iter().map(|m| m.lock()).collect();
                assert_eq!(lockdep_core::held_locks().len(), 7);
                drop(guards);
            }
        });
    });
    assert!(
        lockdep_core::stats().max_depth >= 7,
        "{:?}",
        lockdep_core::stats()
    );

    // Switching back on mid-run is consistent: the order learnt from now on is checked.
    set_mode(Mode::Panic);
    let reports = lockdep_core::capture(|| {
        {
            let _a = a.lock();
            let _b = b.lock();
        }
        let _b = b.lock();
        let _a = a.lock();
    });
    assert_eq!(reports.len(), 1);
}
