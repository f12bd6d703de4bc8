//! The default mode panics with the report's text (own test binary: it uses the global mode).
// Every test here needs the checks: compiled out with them.
#![cfg(lockdep_checks)]

use lockdep_core::{Mode, Mutex};
use std::panic::{catch_unwind, AssertUnwindSafe};

#[test]
fn default_mode_panics_with_the_report_and_stays_usable() {
    assert_eq!(
        lockdep_core::mode(),
        Mode::Panic,
        "LOCKDEP unset: panic is the default"
    );
    let a = Mutex::named("panic-A", ());
    let b = Mutex::named("panic-B", ());
    {
        let _a = a.lock();
        let _b = b.lock();
    }
    let err = catch_unwind(AssertUnwindSafe(|| {
        let _b = b.lock();
        let _a = a.lock();
    }))
    .expect_err("the inversion panics");
    let message = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains("possible circular locking dependency detected"),
        "{message}"
    );
    assert!(
        message.contains("(panic-A)") && message.contains("(panic-B)"),
        "{message}"
    );
    // The acquisition did not happen, and unwinding released B.
    assert!(!a.is_locked() && !b.is_locked());
    assert!(lockdep_core::held_locks().is_empty());
    // Reported once: the same order again goes through.
    let _b = b.lock();
    let _a = a.lock();
    assert_eq!(lockdep_core::stats().reports, 1);
}
