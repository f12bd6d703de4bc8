//! A full class table: one clear message, and locks of further classes still work, unchecked
//! (own test binary: it fills the process-wide table).
// Every test here needs the checks: compiled out with them.
#![cfg(lockdep_checks)]

use lockdep_core::Mutex;

#[test]
fn full_class_table_degrades_gracefully() {
    let max = lockdep_core::stats().max_classes;
    let mut registered = lockdep_core::stats().classes;
    let mut i = 0;
    while registered < max {
        assert!(i <= max, "registration stopped before the table was full");
        let m = Mutex::named(&format!("fill-{i}"), ());
        drop(m.lock()); // registration happens at first use
        registered = lockdep_core::stats().classes;
        i += 1;
        if i % 4096 == 0 {
            assert_eq!(registered, lockdep_core::stats().classes);
        }
    }
    assert_eq!(lockdep_core::stats().classes, max);

    // One class too many: the lock works, is simply not tracked.
    let extra = Mutex::named("one-too-many", 5);
    let other = Mutex::named("one-too-many-either", 6);
    {
        let g = extra.lock();
        let h = other.lock();
        assert_eq!(*g + *h, 11);
        assert!(!lockdep_core::is_held(&extra));
    }
    assert_eq!(lockdep_core::stats().classes, max);
    assert!(lockdep_core::held_locks().is_empty());

    // Known classes are still checked.
    let known_a = Mutex::named("fill-0", ());
    let known_b = Mutex::named("fill-1", ());
    let reports = lockdep_core::capture(|| {
        {
            let _a = known_a.lock();
            let _b = known_b.lock();
        }
        let _b = known_b.lock();
        let _a = known_a.lock();
    });
    assert_eq!(reports.len(), 1);
}
