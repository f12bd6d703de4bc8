//! Dropping a lock ends its instance identity: a new lock at a freed lock's address is a new
//! instance (never "already held"), and a guard leaked on a lock that is then dropped is
//! reported once, as a leak, never later as a false self-deadlock.

use lockdep_core::{capture, held_locks, is_held, Mutex, RwLock};
use std::mem::forget;
use std::process::Command;
use std::sync::mpsc::channel;
use std::sync::{Arc, Mutex as StdMutex};

#[test]
fn a_new_lock_at_a_freed_locks_address_is_not_held() {
    // The lock lives inline in `slot`, so the replacement has exactly the same address.
    let mut slot = Some(Mutex::named("identity-old", 1));
    forget(slot.as_ref().unwrap().lock()); // a leaked guard
    let old_addr = slot.as_ref().unwrap() as *const Mutex<i32>;
    drop(slot.take()); // dropping the lock ends its identity (and this thread's stale entry)
    slot = Some(Mutex::named("identity-new", 2));
    let new = slot.as_ref().unwrap();
    assert_eq!(old_addr, new as *const Mutex<i32>, "same address");

    assert!(!is_held(new), "a new lock is not held before it is locked");
    assert!(held_locks().is_empty(), "{:?}", held_locks());
    let reports = capture(|| {
        let guard = new.lock(); // no false self-deadlock
        assert_eq!(*guard, 2);
        assert_eq!(is_held(new), lockdep_core::CHECKS_COMPILED_IN);
    });
    assert!(reports.is_empty(), "{reports:?}");
    assert!(!is_held(new));
}

#[test]
fn the_same_creation_site_again_at_the_same_address() {
    // One class (one creation site), one stack slot: each round's lock is a new instance.
    for round in 0..3 {
        let lock = RwLock::new(round);
        forget(lock.write());
        assert!(is_held(&lock) == lockdep_core::CHECKS_COMPILED_IN);
        // `lock` is dropped at the end of the round, its leaked write lock with it.
    }
    assert!(held_locks().is_empty(), "{:?}", held_locks());
}

/// A guard leaked on one thread, its lock dropped on another and replaced at the same
/// address: the leaking thread takes the new lock as a new instance.
#[test]
fn a_guard_leaked_on_another_thread_never_matches_a_new_lock() {
    type Slot = Arc<StdMutex<Option<Mutex<()>>>>;
    let slot: Slot = Arc::new(StdMutex::new(Some(Mutex::named("identity-x-old", ()))));
    let (to_main, from_worker) = channel();
    let (to_worker, from_main) = channel::<()>();
    let worker = {
        let slot = Arc::clone(&slot);
        std::thread::spawn(move || {
            let addr = {
                let slot = slot.lock().unwrap();
                let lock = slot.as_ref().unwrap();
                forget(lock.lock());
                lock as *const Mutex<()> as usize
            };
            to_main.send(()).unwrap();
            from_main.recv().unwrap(); // the lock has been dropped and replaced
            let slot = slot.lock().unwrap();
            let new = slot.as_ref().unwrap();
            assert_eq!(addr, new as *const Mutex<()> as usize, "same address");
            assert!(!is_held(new), "the stale entry must not match the new lock");
            let reports = capture(|| {
                let _g = new.lock();
                assert_eq!(is_held(new), lockdep_core::CHECKS_COMPILED_IN);
            });
            assert!(reports.is_empty(), "{reports:?}");
            // The leaked guard's entry is still this thread's (its lock died elsewhere); it is
            // named when the thread exits.
            if lockdep_core::CHECKS_COMPILED_IN {
                assert_eq!(held_locks(), ["identity-x-old"]);
            }
        })
    };
    from_worker.recv().unwrap();
    {
        let mut slot = slot.lock().unwrap();
        *slot = None;
        *slot = Some(Mutex::named("identity-x-new", ()));
    }
    to_worker.send(()).unwrap();
    worker.join().expect("no false self-deadlock on the worker");
}

#[test]
#[cfg_attr(miri, ignore = "spawns a child process, which Miri cannot")]
fn a_leaked_guard_of_a_dropped_lock_is_reported_once() {
    if std::env::var_os("LOCKDEP_IDENTITY_CHILD").is_some() {
        std::thread::spawn(|| {
            let mut slot = Some(Mutex::named("identity-leak", ()));
            forget(slot.as_ref().unwrap().lock());
            drop(slot.take());
            slot = Some(Mutex::named("identity-leak", ()));
            drop(slot.as_ref().unwrap().lock());
            drop(slot);
        })
        .join()
        .unwrap();
        return;
    }
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "a_leaked_guard_of_a_dropped_lock_is_reported_once",
            "--exact",
            "--nocapture",
        ])
        .env("LOCKDEP_IDENTITY_CHILD", "1")
        .env_remove("LOCKDEP")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    if lockdep_core::CHECKS_COMPILED_IN {
        assert_eq!(
            stderr
                .matches("lockdep: a lock was dropped while thread")
                .count(),
            1,
            "{stderr}"
        );
        assert!(
            stderr.contains("its guard was leaked") && stderr.contains("(identity-leak){write}"),
            "{stderr}"
        );
        // Not named again when the thread exits, and no self-deadlock.
        assert!(!stderr.contains("exited while holding"), "{stderr}");
        assert!(!stderr.contains("self-deadlock"), "{stderr}");
    }
}

#[test]
fn the_dot_label_counts_live_instances() {
    let outer = Mutex::named("identity-live-outer", ());
    let make = || Mutex::named("identity-live", ());
    let kept = make();
    for _ in 0..5 {
        let short_lived = make();
        let _o = outer.lock();
        drop(short_lived.lock());
    }
    {
        let _o = outer.lock();
        drop(kept.lock());
    }
    if lockdep_core::CHECKS_COMPILED_IN {
        let dot = lockdep_core::graph::to_dot();
        assert!(
            dot.contains("label = \"identity-live\\nsubclass 0, 6 instances taken, 1 alive\""),
            "{dot}"
        );
    }
}
