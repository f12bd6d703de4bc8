//! Warn mode: the report goes to stderr once and the program goes on (own test binary).
// Every test here needs the checks: compiled out with them.
#![cfg(lockdep_checks)]

use lockdep_core::{set_mode, Mode, Mutex};

#[test]
fn warn_mode_reports_once_and_proceeds() {
    set_mode(Mode::Warn);
    let a = Mutex::named("warn-A", ());
    let b = Mutex::named("warn-B", ());
    {
        let _a = a.lock();
        let _b = b.lock();
    }
    for _ in 0..3 {
        let _b = b.lock();
        let _a = a.lock(); // printed the first time only
        assert!(lockdep_core::is_held(&a));
    }
    assert_eq!(lockdep_core::stats().reports, 1);
}
