//! The name table is bounded like the class table: every distinct `named(...)` string is kept
//! for the life of the process, so past the bound new names give one message and their locks
//! go unchecked (own test binary: it fills the process-wide table).
#![cfg(lockdep_checks)]

use lockdep_core::{capture, is_held, Mutex, ReportKind};

#[test]
fn the_name_table_is_bounded() {
    let max = lockdep_core::stats().max_names;
    // Names are interned when the lock is made, taken or not.
    let mut i = 0;
    while lockdep_core::stats().names < max {
        for _ in 0..1024 {
            drop(Mutex::named(&format!("name-{i}"), ()));
            i += 1;
        }
    }
    let full = lockdep_core::stats().names;
    assert!(full <= max + 1024, "{full} names, max {max}");

    // Further new names are not kept, and their locks work, unchecked.
    for j in 0..1000 {
        drop(Mutex::named(&format!("name-over-{j}"), ()));
    }
    assert_eq!(lockdep_core::stats().names, full);
    let extra = Mutex::named("name-one-too-many", 5);
    let extra2 = Mutex::named("name-two-too-many", 6);
    let reports = capture(|| {
        {
            let _a = extra.lock();
            let _b = extra2.lock();
            assert!(!is_held(&extra));
        }
        let _b = extra2.lock();
        let _a = extra.lock();
    });
    assert!(reports.is_empty(), "{reports:?}");

    // Names interned before are still one class each, and still checked.
    let a = Mutex::named("name-0", ());
    let b = Mutex::named("name-1", ());
    let reports = capture(|| {
        {
            let _a = a.lock();
            let _b = b.lock();
        }
        let _b = b.lock();
        let _a = a.lock();
    });
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].kind(), ReportKind::CircularDependency);
    assert_eq!(reports[0].classes(), ["name-0", "name-1"]);
}
