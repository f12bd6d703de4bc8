//! Feature `send_guard` (as in `parking_lot`): guards are `Send`, and one dropped on another
//! thread releases its holder's entry there.
#![cfg(feature = "send_guard")]

use lockdep_core::{capture, is_held, Mode, Mutex, RwLock};
use std::sync::Arc;

fn assert_send<T: Send>(_: &T) {}

#[test]
fn guards_are_send_in_every_build() {
    let m = Mutex::new(0);
    let r = RwLock::new(0);
    assert_send(&m.lock());
    assert_send(&r.read());
    assert_send(&r.write());
    assert_send(&r.upgradable_read());
}

#[test]
#[cfg(debug_assertions)]
fn a_guard_dropped_on_another_thread_releases_its_holders_entry_in_every_mode() {
    // The only test of this binary that sets the process's mode.
    for mode in [Mode::Panic, Mode::Warn, Mode::Off] {
        lockdep_core::set_mode(mode);
        let m = Arc::new(Mutex::named(&format!("send-guard-m-{mode:?}"), 0u32));
        let n = Arc::new(Mutex::named(&format!("send-guard-n-{mode:?}"), 0u32));
        let r = Arc::new(RwLock::named(&format!("send-guard-r-{mode:?}"), 0u32));
        let reports = capture(|| {
            let guard = m.lock();
            let read = r.read();
            assert!(is_held(&*m));
            std::thread::scope(|s| {
                s.spawn(move || drop(guard));
                s.spawn(move || drop(read));
            });
            assert!(!is_held(&*m), "{mode:?}");
            assert!(!is_held(&*r), "{mode:?}");
            // No false self-deadlock when the holder takes them again, no `m -> n` order
            // after it.
            let mut again = m.lock();
            *again += 1;
            drop(again);
            *r.write() += 1;
            drop(n.lock());
            let (m2, n2) = (m.clone(), n.clone());
            std::thread::spawn(move || {
                let _n = n2.lock();
                let _m = m2.lock();
            })
            .join()
            .unwrap();
        });
        assert!(reports.is_empty(), "{mode:?}: {reports:?}");
    }
    lockdep_core::set_mode(Mode::Panic);
}
