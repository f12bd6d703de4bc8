//! One acquisition raising two findings in Panic mode: both are delivered before the panic
//! unwinds, so neither is lost (own test binary: it uses the global mode and counters).
// Every test here needs the checks: compiled out with them.
#![cfg(lockdep_checks)]

use lockdep_core::{capture, Mutex};
use std::panic::{catch_unwind, AssertUnwindSafe};

#[test]
fn every_finding_is_delivered_before_unwinding() {
    let x1 = Mutex::named("two-X", ());
    let x2 = Mutex::named("two-X", ());
    let t = Mutex::named("two-T", ());
    {
        let _x = x1.lock();
        let _t = t.lock(); // X -> T
    }
    let err = catch_unwind(AssertUnwindSafe(|| {
        let _x = x1.lock();
        let _t = t.try_lock().expect("uncontended");
        // Another X while holding X (recursion) and T -> X against X -> T (a cycle).
        let _x2 = x2.lock();
    }))
    .expect_err("panic mode");
    let message = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("lockdep:"), "{message}");
    assert_eq!(lockdep_core::stats().reports, 2, "both findings delivered");
    assert!(lockdep_core::held_locks().is_empty());
    // Both were reported, so neither comes again.
    let again = capture(|| {
        let _t = t.lock();
        let _x = x1.lock();
    });
    assert!(again.is_empty(), "{again:?}");
}
