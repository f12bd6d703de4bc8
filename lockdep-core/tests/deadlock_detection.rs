//! `deadlock::check_deadlock()` (feature `deadlock_detection`): real deadlocks of real threads,
//! found by a watcher, with each stuck thread's held locks by class and the lock it waits for.
//! The deadlocked threads are leaked; the test process exits anyway.
//!
//! Run with `cargo test -p lockdep-core --features deadlock_detection --test deadlock_detection`
//! (CI does).
#![cfg(feature = "deadlock_detection")]

use lockdep_core::deadlock::{check_deadlock, DeadlockedThread};
use lockdep_core::{capture, sync};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

/// `check_deadlock` returns each deadlock once, to whichever caller comes first: the tests of
/// this file take turns.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The watcher: polls until a deadlock shows up. The limit is a watchdog for a broken
/// detector, not a timing assumption: the deadlock below is certain once both threads block.
fn watch() -> Vec<Vec<DeadlockedThread>> {
    let start = Instant::now();
    loop {
        let found = check_deadlock();
        if !found.is_empty() {
            return found;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no deadlock found in 60s"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Spawns a named thread that runs `f` with lockdep's reports captured, so the inversion is
/// reported and the acquisition goes ahead into the real deadlock (it is never joined).
fn spawn(name: &str, f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .name(name.to_string())
        .spawn(move || {
            capture(f);
        })
        .unwrap();
}

fn by_name<'a>(cycle: &'a [DeadlockedThread], name: &str) -> &'a DeadlockedThread {
    cycle
        .iter()
        .find(|t| t.thread_name() == Some(name))
        .unwrap_or_else(|| panic!("thread {name} is not in {cycle:?}"))
}

fn classes(t: &DeadlockedThread) -> Vec<&str> {
    t.held_locks().iter().map(|l| l.class_name()).collect()
}

#[test]
fn abba_of_two_threads_is_found_with_held_locks_by_class() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // One parking_lot-style mutex and one std-style mutex: both blocking paths register.
    let accounts = Arc::new(lockdep_core::Mutex::named("dd-accounts", 0u64));
    let audit = Arc::new(sync::Mutex::named("dd-audit", Vec::<u64>::new()));
    let barrier = Arc::new(Barrier::new(2));
    {
        let (accounts, audit, barrier) = (accounts.clone(), audit.clone(), barrier.clone());
        spawn("dd-transfer", move || {
            let _a = accounts.lock();
            barrier.wait();
            let _l = audit.lock();
        });
    }
    spawn("dd-report", move || {
        let _l = audit.lock();
        barrier.wait();
        let _a = accounts.lock();
    });

    let deadlocks = watch();
    assert_eq!(deadlocks.len(), 1, "{deadlocks:?}");
    let cycle = &deadlocks[0];
    assert_eq!(cycle.len(), 2, "{cycle:?}");

    let transfer = by_name(cycle, "dd-transfer");
    assert_eq!(classes(transfer), ["dd-accounts"]);
    assert_eq!(transfer.waiting_for().class_name(), "dd-audit");
    assert_eq!(transfer.waiting_for().mode(), "write");
    let report = by_name(cycle, "dd-report");
    assert_eq!(classes(report), ["dd-audit"]);
    assert_eq!(report.waiting_for().class_name(), "dd-accounts");
    // Where each lock was taken: this file.
    let at = transfer.held_locks()[0].location().expect("a location");
    assert!(at.file().ends_with("deadlock_detection.rs"), "{at}");

    // The kernel's "show all locks held", and the stack where the thread blocked.
    let text = transfer.to_string();
    assert!(
        text.contains("thread 'dd-transfer' is blocked on:")
            && text.contains("(dd-audit){write}, at: ")
            && text.contains("held by thread 'dd-report'.")
            && text.contains("1 lock held by thread 'dd-transfer':")
            && text.contains(" #0: (dd-accounts){write}, at: "),
        "{text}"
    );
    assert!(
        text.contains("abba_of_two_threads_is_found_with_held_locks_by_class"),
        "the backtrace shows the test's closure:\n{text}"
    );
    // Trimmed as reports are: no thread start-up, harness or lockdep frames.
    let stack = &text[text.find("stack backtrace:").unwrap()..];
    for noise in [
        "__rust_begin_short_backtrace",
        "std::thread::",
        "start_thread",
        "clone3",
        "lockdep_core::",
        "core::ops::function::FnOnce",
    ] {
        assert!(!stack.contains(noise), "{noise} in:\n{stack}");
    }
    assert!(stack.lines().count() <= 8, "{stack}");
    assert_ne!(transfer.thread_id(), report.thread_id());
    assert!(!transfer.backtrace().frames().is_empty());

    // Reported once: the threads are still stuck, but a second look returns nothing new.
    assert!(check_deadlock().is_empty());
}

#[test]
fn a_writer_waiting_for_a_reader_that_waits_for_it_is_a_deadlock() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let table = Arc::new(lockdep_core::RwLock::named("dd-table", 0u32));
    let index = Arc::new(lockdep_core::Mutex::named("dd-index", ()));
    let barrier = Arc::new(Barrier::new(2));
    {
        let (table, index, barrier) = (table.clone(), index.clone(), barrier.clone());
        spawn("dd-reader", move || {
            let _r = table.read();
            barrier.wait();
            let _i = index.lock();
        });
    }
    spawn("dd-writer", move || {
        let _i = index.lock();
        barrier.wait();
        let _w = table.write();
    });
    let deadlocks = watch();
    assert_eq!(deadlocks.len(), 1, "{deadlocks:?}");
    let reader = by_name(&deadlocks[0], "dd-reader");
    assert_eq!(
        reader.held_locks()[0].to_string().split(", at:").next(),
        Some("(dd-table){read}")
    );
    let writer = by_name(&deadlocks[0], "dd-writer");
    assert_eq!(writer.waiting_for().mode(), "write");
    assert_eq!(classes(writer), ["dd-index"]);
}

#[test]
fn an_upgrade_waiting_for_a_reader_that_waits_for_it_is_a_deadlock() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let rw = Arc::new(lockdep_core::RwLock::named("dd-upgrade-rw", 0u32));
    let m = Arc::new(lockdep_core::Mutex::named("dd-upgrade-m", ()));
    let (held, barrier) = (Arc::new(Barrier::new(2)), Arc::new(Barrier::new(2)));
    {
        let (rw, m, held, barrier) = (rw.clone(), m.clone(), held.clone(), barrier.clone());
        spawn("dd-upgrader", move || {
            let _m = m.lock();
            let u = rw.upgradable_read();
            held.wait();
            barrier.wait(); // the reader holds its read now
            let _w = lockdep_core::RwLockUpgradableReadGuard::upgrade(u);
        });
    }
    spawn("dd-upgrade-reader", move || {
        held.wait(); // the upgrader holds m and its upgradable read
        let _r = rw.read();
        barrier.wait();
        let _m = m.lock();
    });
    let deadlocks = watch();
    assert_eq!(deadlocks.len(), 1, "{deadlocks:?}");
    let upgrader = by_name(&deadlocks[0], "dd-upgrader");
    assert_eq!(classes(upgrader), ["dd-upgrade-m", "dd-upgrade-rw"]);
    assert_eq!(upgrader.held_locks()[1].mode(), "upgradable");
    assert_eq!(upgrader.waiting_for().class_name(), "dd-upgrade-rw");
    assert_eq!(upgrader.waiting_for().mode(), "write");
    let reader = by_name(&deadlocks[0], "dd-upgrade-reader");
    assert_eq!(reader.waiting_for().class_name(), "dd-upgrade-m");
}

#[test]
fn a_second_read_behind_a_queued_writer_is_a_deadlock() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // The fair-read recursion: the writer queues behind the first read, the second read queues
    // behind the writer. No thread holds anything the other wants in the plain sense.
    let rw = Arc::new(lockdep_core::RwLock::named("dd-queued-rw", 0u32));
    let barrier = Arc::new(Barrier::new(2));
    {
        let (rw, barrier) = (rw.clone(), barrier.clone());
        spawn("dd-twice-reader", move || {
            let _first = rw.read();
            barrier.wait();
            // Not a timing assumption: the writer has reserved the lock once it shows as
            // exclusively locked, while it waits for this read to end.
            while !rw.is_locked_exclusive() {
                std::thread::yield_now();
            }
            let _second = rw.read();
        });
    }
    spawn("dd-queued-writer", move || {
        barrier.wait();
        let _w = rw.write();
    });
    let deadlocks = watch();
    assert_eq!(deadlocks.len(), 1, "{deadlocks:?}");
    let reader = by_name(&deadlocks[0], "dd-twice-reader");
    assert_eq!(classes(reader), ["dd-queued-rw"]);
    assert_eq!(reader.waiting_for().mode(), "read");
    let writer = by_name(&deadlocks[0], "dd-queued-writer");
    assert!(writer.held_locks().is_empty());
    assert_eq!(writer.waiting_for().mode(), "write");
}

#[test]
fn a_thread_waiting_for_an_initialisation_is_part_of_the_cycle() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    struct Shared {
        m: sync::Mutex<()>,
        cell: sync::OnceLock<u32>,
    }
    let s = Arc::new(Shared {
        m: sync::Mutex::named("dd-init-m", ()),
        cell: sync::OnceLock::named("dd-init-cell"),
    });
    let barrier = Arc::new(Barrier::new(2));
    {
        let (s, barrier) = (s.clone(), barrier.clone());
        spawn("dd-initialiser", move || {
            s.cell.get_or_init(|| {
                barrier.wait();
                let _m = s.m.lock();
                1
            });
        });
    }
    spawn("dd-waiter", move || {
        let _m = s.m.lock();
        barrier.wait();
        s.cell.get_or_init(|| 2);
    });
    let deadlocks = watch();
    assert_eq!(deadlocks.len(), 1, "{deadlocks:?}");
    let initialiser = by_name(&deadlocks[0], "dd-initialiser");
    assert_eq!(classes(initialiser), ["dd-init-cell"]);
    assert_eq!(initialiser.held_locks()[0].mode(), "initialising");
    assert_eq!(initialiser.waiting_for().class_name(), "dd-init-m");
    let waiter = by_name(&deadlocks[0], "dd-waiter");
    assert_eq!(waiter.waiting_for().class_name(), "dd-init-cell");
    assert_eq!(waiter.waiting_for().mode(), "initialising");
}

#[test]
fn contended_locks_that_make_progress_are_no_deadlock() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // Six threads hammer three locks in one order, readers and writers queueing on the rwlock:
    // many waits are registered, none in a cycle.
    let rw = Arc::new(lockdep_core::RwLock::named("dd-busy-rw", 0u64));
    let a = Arc::new(lockdep_core::Mutex::named("dd-busy-a", 0u64));
    let b = Arc::new(sync::Mutex::named("dd-busy-b", 0u64));
    let threads: Vec<_> = (0..6)
        .map(|k| {
            let (rw, a, b) = (rw.clone(), a.clone(), b.clone());
            std::thread::spawn(move || {
                for _ in 0..2000 {
                    if k % 3 == 2 {
                        *rw.write() += 1;
                        continue;
                    }
                    let _r = rw.read();
                    let mut a = a.lock();
                    let mut b = b.lock().unwrap();
                    *a += 1;
                    *b += 1;
                }
            })
        })
        .collect();
    let mut checks = 0;
    while !threads.iter().all(|t| t.is_finished()) {
        assert!(check_deadlock().is_empty());
        checks += 1;
    }
    for t in threads {
        t.join().unwrap();
    }
    assert!(check_deadlock().is_empty());
    assert_eq!(*a.lock(), 8000);
    assert_eq!(*rw.read(), 4000);
    assert!(checks > 0);
}

#[test]
fn with_checking_off_held_locks_are_still_tracked_and_deadlocks_found() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // A release build watching for hangs without validating orders. (The other tests capture
    // their reports, so the global mode does not touch them.)
    lockdep_core::set_mode(lockdep_core::Mode::Off);
    let a = Arc::new(lockdep_core::Mutex::named("dd-off-a", ()));
    let b = Arc::new(lockdep_core::Mutex::named("dd-off-b", ()));
    let barrier = Arc::new(Barrier::new(2));
    for (name, first, second) in [("dd-off-1", a.clone(), b.clone()), ("dd-off-2", b, a)] {
        let barrier = barrier.clone();
        std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                let _first = first.lock();
                barrier.wait();
                let _second = second.lock(); // Off: no report, no panic; a real deadlock
            })
            .unwrap();
    }
    let deadlocks = watch();
    assert_eq!(deadlocks.len(), 1, "{deadlocks:?}");
    assert_eq!(classes(by_name(&deadlocks[0], "dd-off-1")), ["dd-off-a"]);
    assert_eq!(classes(by_name(&deadlocks[0], "dd-off-2")), ["dd-off-b"]);
}
