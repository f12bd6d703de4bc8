//! `LOCKDEP=warn` in the environment sets the mode at the first lock operation (own binary:
//! the variable is read once per process).
// Every test here needs the checks: compiled out with them.
#![cfg(lockdep_checks)]

#[test]
fn environment_variable_sets_the_initial_mode() {
    // Set before any lock operation in this process; the variable is read once.
    std::env::set_var("LOCKDEP", "warn");
    let a = lockdep_core::Mutex::named("env-A", ());
    let b = lockdep_core::Mutex::named("env-B", ());
    {
        let _a = a.lock();
        let _b = b.lock();
    }
    assert_eq!(lockdep_core::mode(), lockdep_core::Mode::Warn);
    // In warn mode the inversion does not panic.
    let _b = b.lock();
    let _a = a.lock();
    assert_eq!(lockdep_core::stats().reports, 1);
    // Changing the variable later changes nothing: it was read at start-up.
    std::env::set_var("LOCKDEP", "off");
    assert_eq!(lockdep_core::mode(), lockdep_core::Mode::Warn);
}
