//! A lock released on a thread that does not hold its entry is released for its holder: salsa's
//! snapshot token (a read taken through the raw API on one thread, released on the thread the
//! token was sent to), in every mode, with no false self-deadlock, no false dependency and no
//! false leak note.
#![cfg(debug_assertions)]

mod common;

use lock_api::{RawRwLock as _, RawRwLockRecursive as _};
use lockdep_core::{capture, is_held, Mode, ReportKind};
use std::sync::{Arc, Mutex as StdMutex, MutexGuard as StdGuard};

/// One test at a time: the first sets the process's mode.
fn serial() -> StdGuard<'static, ()> {
    static ONE: StdMutex<()> = StdMutex::new(());
    ONE.lock().unwrap_or_else(|e| e.into_inner())
}

/// salsa's `RevisionGuard`: a recursive read taken through the raw lock, released in `Drop`.
struct Token(Arc<lockdep_core::RwLock<()>>);

impl Token {
    fn new(lock: &Arc<lockdep_core::RwLock<()>>) -> Token {
        // SAFETY: released exactly once, by `Drop`.
        unsafe { lock.raw().lock_shared_recursive() };
        Token(lock.clone())
    }
}

impl Drop for Token {
    fn drop(&mut self) {
        // SAFETY: the read taken in `new`.
        unsafe { self.0.raw().unlock_shared() };
    }
}

#[test]
fn a_token_released_on_another_thread_is_released_for_its_holder_in_every_mode() {
    let _serial = serial();
    for mode in [Mode::Panic, Mode::Warn, Mode::Off] {
        lockdep_core::set_mode(mode);
        let lock = Arc::new(lockdep_core::RwLock::named(
            &format!("salsa-query-{mode:?}"),
            (),
        ));
        let reports = capture(|| {
            let token = Token::new(&lock);
            assert!(is_held(&*lock));
            std::thread::spawn(move || drop(token)).join().unwrap();
            // parking_lot: fine. lockdep: the entry went with the release.
            assert!(!is_held(&*lock), "{mode:?}");
            let _w = lock.write();
        });
        assert!(reports.is_empty(), "{mode:?}: {reports:?}");
    }
    lockdep_core::set_mode(Mode::Panic);
}

#[test]
fn a_stale_entry_adds_no_dependency() {
    let _serial = serial();
    let l = Arc::new(lockdep_core::RwLock::named("stale-dep-l", ()));
    let m = Arc::new(lockdep_core::Mutex::named("stale-dep-m", ()));
    let reports = capture(|| {
        let token = Token::new(&l);
        std::thread::spawn(move || drop(token)).join().unwrap();
        // `l` is not held any more: taking `m` now orders nothing after `l`.
        drop(m.lock());
        let (l2, m2) = (l.clone(), m.clone());
        std::thread::spawn(move || {
            let _m = m2.lock();
            let _l = l2.write(); // m -> l: no cycle, as `l -> m` was never true
        })
        .join()
        .unwrap();
    });
    assert!(reports.is_empty(), "{reports:?}");
}

#[test]
fn a_real_inversion_is_still_reported_after_a_cross_thread_release() {
    let _serial = serial();
    let a = Arc::new(lockdep_core::RwLock::named("xrel-a", ()));
    let b = Arc::new(lockdep_core::Mutex::named("xrel-b", ()));
    let reports = capture(|| {
        let token = Token::new(&a);
        let _b = b.lock(); // a -> b: `a` really is held here
        drop(_b);
        std::thread::spawn(move || drop(token)).join().unwrap();
        let _b = b.lock();
        let _a = a.write(); // b -> a closes the cycle
    });
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].kind(), ReportKind::CircularDependency);
}

#[test]
fn a_thread_whose_token_was_released_elsewhere_exits_without_a_leak_note() {
    let Some(output) = common::in_child(
        "LOCKDEP_XREL_CHILD",
        "a_thread_whose_token_was_released_elsewhere_exits_without_a_leak_note",
        || {
            let lock = Arc::new(lockdep_core::RwLock::named("xrel-exit", ()));
            let (token_tx, token_rx) = std::sync::mpsc::channel();
            let (done_tx, done_rx) = std::sync::mpsc::channel();
            let l = lock.clone();
            let holder = std::thread::spawn(move || {
                token_tx.send(Token::new(&l)).unwrap();
                // Exits once the receiver has released its read: holding nothing.
                done_rx.recv().unwrap();
            });
            drop(token_rx.recv().unwrap());
            done_tx.send(()).unwrap();
            holder.join().unwrap();
            let _w = lock.write();
            eprintln!("child done");
        },
    ) else {
        return;
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("child done"), "{stderr}");
    assert!(!stderr.contains("exited while holding"), "{stderr}");
}

#[test]
fn an_upgrade_above_an_entry_released_elsewhere_upgrades_its_own_entry() {
    // The release made elsewhere is claimed as the upgrade is checked: the upgraded entry is
    // still found (its index moved down by one), with no false self-deadlock, in every mode.
    let _serial = serial();
    for mode in [Mode::Panic, Mode::Off] {
        lockdep_core::set_mode(mode);
        let query = Arc::new(lockdep_core::RwLock::named(
            &format!("xrel-up-q-{mode:?}"),
            (),
        ));
        let state = lockdep_core::RwLock::named(&format!("xrel-up-s-{mode:?}"), 0);
        let reports = capture(|| {
            let token = Token::new(&query);
            let upgradable = state.upgradable_read();
            std::thread::spawn(move || drop(token)).join().unwrap();
            let mut w = lockdep_core::RwLockUpgradableReadGuard::upgrade(upgradable);
            *w += 1;
        });
        assert!(reports.is_empty(), "{mode:?}: {reports:?}");
    }
    lockdep_core::set_mode(Mode::Panic);
}

#[test]
fn a_write_while_a_raw_token_is_held_elsewhere_waits_for_it_as_parking_lot_does() {
    // salsa's `increment_revision`: the token is still alive on another thread when the writer
    // comes; the writer waits until it is dropped. No report, no panic, in every mode.
    let _serial = serial();
    for mode in [Mode::Panic, Mode::Warn, Mode::Off] {
        lockdep_core::set_mode(mode);
        let lock = Arc::new(lockdep_core::RwLock::named(
            &format!("xrel-wait-{mode:?}"),
            (),
        ));
        let reports = capture(|| {
            let token = Token::new(&lock);
            let snapshot = std::thread::spawn(move || {
                std::thread::sleep(std::time::Duration::from_millis(30));
                drop(token);
            });
            drop(lock.write()); // waits for the snapshot thread's release
            snapshot.join().unwrap();
            assert!(!is_held(&*lock));
        });
        assert!(reports.is_empty(), "{mode:?}: {reports:?}");
    }
    lockdep_core::set_mode(Mode::Panic);
}

#[test]
fn a_token_released_elsewhere_while_its_holder_holds_other_locks_leaves_those_intact() {
    // The holder took `other`, then the token; the token goes away on another thread while
    // `other` is still held. The holder's stack keeps `other` (released later, in order), the
    // token's entry goes, and relocking the token's lock under `other` is an order, not a
    // self-deadlock: in every mode. (Taken the other way round, token then `other`, the
    // relock under `other` would be a real inversion: `l -(SN)-> other -(EN)-> l`.)
    let _serial = serial();
    for mode in [Mode::Panic, Mode::Warn, Mode::Off] {
        lockdep_core::set_mode(mode);
        let lock = Arc::new(lockdep_core::RwLock::named(
            &format!("xrel-under-l-{mode:?}"),
            (),
        ));
        let other = lockdep_core::Mutex::named(&format!("xrel-under-o-{mode:?}"), 0);
        let reports = capture(|| {
            let mut held = other.lock();
            let token = Token::new(&lock);
            std::thread::spawn(move || drop(token)).join().unwrap();
            assert!(!is_held(&*lock), "{mode:?}");
            assert!(is_held(&other), "{mode:?}");
            drop(lock.write());
            *held += 1;
            drop(held);
            assert!(!is_held(&other), "{mode:?}");
        });
        assert!(reports.is_empty(), "{mode:?}: {reports:?}");
    }
    lockdep_core::set_mode(Mode::Panic);
}
