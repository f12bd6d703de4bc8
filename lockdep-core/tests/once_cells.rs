//! `Once`, `OnceLock` and `LazyLock`: initialising a cell is an acquisition of its class, held
//! while the initialiser runs; recursive initialisation is a certain self-deadlock.

mod common;

use common::{assert_one, capture_panic};
use lockdep_core::sync::{LazyLock, Mutex, Once, OnceLock, OnceState};
use lockdep_core::{capture, is_held, LockClass, ReportKind};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier};
use std::time::Duration;

/// A plugin whose configuration is loaded on first use; every plugin's `config` is made at one
/// site, so all of them share one class, as locks made by one constructor do.
struct Plugin {
    config: LazyLock<u32, Box<dyn FnOnce() -> u32 + Send>>,
}

impl Plugin {
    fn new(load: impl FnOnce() -> u32 + Send + 'static) -> Plugin {
        Plugin {
            config: LazyLock::named("plugin-config", Box::new(load)),
        }
    }
}

#[test]
#[cfg_attr(not(lockdep_checks), ignore = "needs the checks compiled in")]
fn lazy_lock_forced_under_a_mutex_its_initialiser_takes_is_an_abba() {
    let registry = Arc::new(Mutex::named("plugin-registry", Vec::<u32>::new()));
    let reports = capture(|| {
        // One path: a plugin's loader registers it, taking the registry inside the initialiser.
        let r = Arc::clone(&registry);
        let a = Plugin::new(move || {
            r.lock().unwrap().push(1);
            1
        });
        assert_eq!(*a.config, 1);
        // Another path: under the registry lock, another plugin's configuration is forced.
        let b = Plugin::new(|| 2);
        let list = registry.lock().unwrap();
        assert_eq!(*b.config + list.len() as u32, 3);
    });
    assert_one(
        &reports,
        ReportKind::CircularDependency,
        &["plugin-config", "plugin-registry"],
    );
    let text = reports[0].to_string();
    // The kernel-style text says initialising, not lock, for the cell's class.
    assert!(
        text.contains("is trying to initialise (or wait for):")
            && text.contains("(plugin-config){initialising}")
            && text.contains("initialise(plugin-config);")
            && text.contains("taken while initialising (plugin-config)"),
        "{text}"
    );
}

#[test]
#[cfg_attr(not(lockdep_checks), ignore = "needs the checks compiled in")]
// Optimized, the two `Session::default()` calls are inlined into this function, and each copy
// may get its own class (docs/classes.md: exact in debug builds, where tests run).
#[cfg_attr(
    not(debug_assertions),
    ignore = "one class for a derived `Default` inlined twice needs a debug build"
)]
fn once_lock_initialisers_order_against_locks_both_ways() {
    #[derive(Default)]
    struct Session {
        token: OnceLock<String>,
    }
    let cache = Mutex::named("session-cache", 0u32);
    let reports = capture(|| {
        // The token's initialiser takes the cache...
        let first = Session::default();
        first.token.get_or_init(|| {
            *cache.lock().unwrap() += 1;
            "a".to_string()
        });
        // ...and elsewhere a token is initialised under the cache.
        let second = Session::default();
        let _cache = cache.lock().unwrap();
        second.token.get_or_init(|| "b".to_string());
    });
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].kind(), ReportKind::CircularDependency);
    let classes = reports[0].classes();
    // Both sessions' cells were made by one derived `default()`: one class, a creation site.
    assert!(classes[0].contains("once_cells.rs:"), "{classes:?}");
    assert_eq!(classes[1], "session-cache");
}

#[test]
#[cfg_attr(not(lockdep_checks), ignore = "needs the checks compiled in")]
fn std_once_and_parking_lot_once_take_part_in_cycles() {
    static STD_ONCE_CLASS: LockClass = LockClass::new("std-once-class");
    let m = Mutex::named("once-mutex", ());
    let reports = capture(|| {
        let first = Once::with_class(&STD_ONCE_CLASS);
        first.call_once(|| drop(m.lock().unwrap()));
        let second = Once::with_class(&STD_ONCE_CLASS);
        let _m = m.lock().unwrap();
        second.call_once(|| {});
    });
    assert_one(
        &reports,
        ReportKind::CircularDependency,
        &["std-once-class", "once-mutex"],
    );

    let m = lockdep_core::Mutex::named("pl-once-mutex", ());
    let reports = capture(|| {
        let first = lockdep_core::Once::named("pl-once");
        first.call_once(|| drop(m.lock()));
        let second = lockdep_core::Once::named("pl-once");
        let _m = m.lock();
        second.call_once_force(|state| assert_eq!(state, lockdep_core::OnceState::New));
    });
    assert_one(
        &reports,
        ReportKind::CircularDependency,
        &["pl-once", "pl-once-mutex"],
    );
}

#[test]
#[cfg_attr(not(lockdep_checks), ignore = "needs the checks compiled in")]
fn locks_taken_inside_an_initialiser_are_held_under_the_cell() {
    let cell = OnceLock::named("held-under-cell");
    let inner = Mutex::named("inside-initialiser", ());
    cell.get_or_init(|| {
        assert!(
            is_held(&cell),
            "the cell's class is held while its initialiser runs"
        );
        let _g = inner.lock().unwrap();
        assert_eq!(
            lockdep_core::held_locks(),
            ["held-under-cell", "inside-initialiser"]
        );
        7
    });
    assert!(!is_held(&cell));
    assert!(lockdep_core::held_locks().is_empty());
}

/// tracing-mutex's own `LazyLock` case: an initialiser takes `M`; later, holding `M`, the
/// completed cell is forced again. In a run where that force comes first, the initialiser waits
/// for `M` and `M`'s holder for the initialiser: reported, though this run never waited.
#[test]
#[cfg_attr(not(lockdep_checks), ignore = "needs the checks compiled in")]
fn a_completed_cell_reached_under_a_lock_its_initialiser_took_is_an_abba() {
    let m = Mutex::named("completed-m", ());
    let lazy = LazyLock::named("completed-lazy", || drop(m.lock().unwrap()));
    let cell = OnceLock::named("completed-cell");
    let once = Once::named("completed-once");
    let plain = OnceLock::named("completed-plain");
    let reports = capture(|| {
        // Initialised first without the mutex; the initialisers take it (but `plain`'s).
        LazyLock::force(&lazy);
        cell.get_or_init(|| drop(m.lock().unwrap()));
        once.call_once(|| drop(m.lock().unwrap()));
        plain.get_or_init(|| 7);
        // Complete now: reaching them under the mutex waits for nothing, but the order is the
        // one that deadlocks when the cell is not complete yet.
        let _m = m.lock().unwrap();
        LazyLock::force(&lazy);
        cell.get_or_init(|| unreachable!());
        once.call_once(|| unreachable!());
        assert_eq!(*plain.get_or_init(|| unreachable!()), 7);
        // What never waits records nothing: `get`, `set` on a full cell.
        assert!(cell.get().is_some() && cell.set(()).is_err());
    });
    assert_eq!(reports.len(), 3, "{reports:?}");
    for (report, cell) in reports
        .iter()
        .zip(["completed-lazy", "completed-cell", "completed-once"])
    {
        assert_eq!(report.kind(), ReportKind::CircularDependency, "{report}");
        assert!(report.classes().contains(&cell), "{report}");
        assert!(report.classes().contains(&"completed-m"), "{report}");
    }
}

/// The same order through `wait` (which blocks for an incomplete cell): recorded on a
/// completed one too; with no lock held, reaching a completed cell records nothing.
#[test]
#[cfg_attr(not(lockdep_checks), ignore = "needs the checks compiled in")]
fn a_completed_cells_wait_records_its_order_too() {
    let m = Mutex::named("completed-wait-m", ());
    let cell = OnceLock::named("completed-wait-cell");
    let once = Once::named("completed-wait-once");
    let reports = capture(|| {
        cell.get_or_init(|| drop(m.lock().unwrap()));
        once.call_once(|| drop(m.lock().unwrap()));
        cell.wait();
        once.wait();
        let _m = m.lock().unwrap();
        cell.wait();
        once.wait_force();
    });
    assert_eq!(reports.len(), 2, "{reports:?}");
    assert!(reports
        .iter()
        .all(|r| r.kind() == ReportKind::CircularDependency));
}

#[track_caller]
fn assert_recursive_initialisation(reports: &[lockdep_core::Report], message: &str, class: &str) {
    assert_one(reports, ReportKind::RecursiveLocking, &[class]);
    assert!(reports[0].is_certain_deadlock());
    let text = reports[0].to_string();
    assert!(
        text.contains("self-deadlock detected: recursive initialising by this thread")
            && text.contains("is already initialising it:"),
        "{text}"
    );
    assert!(message.contains("recursive initialising"), "{message}");
}

/// Runs `f` on a thread of its own and fails the test if it does not finish: the watchdog of a
/// test whose failure would be a hang (60 s is for a broken build, not a timing assumption).
fn watchdog(f: impl FnOnce() + Send + 'static) {
    let (done, finished) = mpsc::channel();
    let thread = std::thread::spawn(move || {
        f();
        let _ = done.send(());
    });
    match finished.recv_timeout(Duration::from_secs(60)) {
        Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => {
            if let Err(panic) = thread.join() {
                std::panic::resume_unwind(panic);
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("hung: the self-deadlock was not caught"),
    }
}

#[test]
#[cfg_attr(not(lockdep_checks), ignore = "needs the checks compiled in")]
fn recursive_initialisation_panics_instead_of_hanging() {
    watchdog(recursive_initialisations);
}

fn recursive_initialisations() {
    let cell: OnceLock<u32> = OnceLock::named("recursive-once-lock");
    let (reports, message) = capture_panic(|| {
        cell.get_or_init(|| *cell.get_or_init(|| 1) + 1);
    });
    assert_recursive_initialisation(&reports, &message, "recursive-once-lock");
    // Nothing stays held, and the cell can still be initialised.
    assert!(lockdep_core::held_locks().is_empty());
    assert_eq!(*cell.get_or_init(|| 3), 3);

    static LAZY: LazyLock<u32> = LazyLock::with_class(&LAZY_CLASS, || *LAZY + 1);
    static LAZY_CLASS: LockClass = LockClass::new("recursive-lazy");
    let (reports, message) = capture_panic(|| {
        LazyLock::force(&LAZY);
    });
    assert_recursive_initialisation(&reports, &message, "recursive-lazy");
    // Like std's, a LazyLock whose initialiser panicked is poisoned.
    let again = catch_unwind(|| *LAZY).expect_err("poisoned");
    assert!(
        again
            .downcast_ref::<&str>()
            .is_some_and(|m| m.contains("poisoned")),
        "{again:?}"
    );

    let once = Once::named("recursive-std-once");
    let (reports, message) = capture_panic(|| once.call_once(|| once.call_once(|| {})));
    assert_recursive_initialisation(&reports, &message, "recursive-std-once");

    let once = lockdep_core::Once::named("recursive-pl-once");
    let (reports, message) = capture_panic(|| once.call_once(|| once.call_once(|| {})));
    assert_recursive_initialisation(&reports, &message, "recursive-pl-once");
    assert_eq!(once.state(), lockdep_core::OnceState::Poisoned);
    let mut seen = None;
    once.call_once_force(|state| seen = Some(state));
    assert_eq!(seen, Some(lockdep_core::OnceState::Poisoned));
    assert!(once.state().done());

    // `set` from inside the initialiser would wait for itself as well.
    let cell: OnceLock<u32> = OnceLock::named("recursive-set");
    let (reports, message) = capture_panic(|| {
        cell.get_or_init(|| {
            let _ = cell.set(1);
            2
        });
    });
    assert_recursive_initialisation(&reports, &message, "recursive-set");
}

#[test]
#[cfg_attr(not(lockdep_checks), ignore = "needs the checks compiled in")]
fn initialising_another_cell_of_the_class_inside_an_initialiser_is_recursive() {
    // A tree of lazily computed nodes, one class: two threads initialising two of them in
    // opposite orders would deadlock, as two locks of one class can.
    let left: OnceLock<u32> = OnceLock::named("lazy-node");
    let right: OnceLock<u32> = OnceLock::named("lazy-node");
    let reports = capture(|| {
        left.get_or_init(|| *right.get_or_init(|| 1) + 1);
    });
    assert_one(&reports, ReportKind::RecursiveLocking, &["lazy-node"]);
    assert!(!reports[0].is_certain_deadlock());
    assert!(
        reports[0]
            .to_string()
            .contains("possible recursive initialising detected"),
        "{}",
        reports[0]
    );
    assert_eq!(left.get(), Some(&2));
}

#[test]
fn std_semantics_are_kept() {
    // OnceLock: set, take, into_inner, From, Clone (the same class), Eq, Debug as std's.
    let mut cell = OnceLock::new();
    assert_eq!(
        format!("{cell:?}"),
        format!("{:?}", std::sync::OnceLock::<u8>::new())
    );
    assert_eq!(cell.set(1u8), Ok(()));
    assert_eq!(cell.set(2), Err(2));
    assert_eq!(
        format!("{cell:?}"),
        format!("{:?}", std::sync::OnceLock::from(1u8))
    );
    let copy = cell.clone();
    assert_eq!(copy, cell);
    assert_eq!(cell.get_mut(), Some(&mut 1));
    assert_eq!(cell.take(), Some(1));
    assert_eq!(cell.get(), None);
    assert_eq!(OnceLock::from(5).into_inner(), Some(5));

    // LazyLock: Debug, get, get_mut, force_mut, DerefMut, Default.
    let mut lazy = LazyLock::new(|| vec![1]);
    assert_eq!(
        format!("{lazy:?}"),
        format!("{:?}", std::sync::LazyLock::new(|| vec![1]))
    );
    assert!(LazyLock::get(&lazy).is_none() && LazyLock::get_mut(&mut lazy).is_none());
    LazyLock::force_mut(&mut lazy).push(2);
    lazy.push(3);
    assert_eq!(LazyLock::get(&lazy), Some(&vec![1, 2, 3]));
    assert_eq!(format!("{lazy:?}"), "LazyLock([1, 2, 3])");
    let default: LazyLock<String> = LazyLock::default();
    assert!(default.is_empty());

    // Once: is_completed, call_once_force sees poisoning, wait_force after it.
    let once = Once::new();
    let poisoned = catch_unwind(AssertUnwindSafe(|| once.call_once(|| panic!("boom"))));
    assert!(poisoned.is_err() && !once.is_completed());
    once.call_once_force(|state: &OnceState| assert!(state.is_poisoned()));
    assert!(once.is_completed());
    once.wait_force();
    assert_eq!(format!("{once:?}"), format!("{:?}", std::sync::Once::new()));
}

#[test]
fn lazy_lock_drops_what_it_holds_exactly_once() {
    struct Counted(Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let drops = Arc::new(AtomicUsize::new(0));
    // Never forced: the function (and what it captured) is dropped.
    let captured = Counted(Arc::clone(&drops));
    drop(LazyLock::new(move || captured.0.load(Ordering::SeqCst)));
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    // Forced: the value is dropped (the function was consumed, its capture with it).
    let (f_capture, value) = (Counted(Arc::clone(&drops)), Arc::clone(&drops));
    let lazy = LazyLock::new(move || {
        drop(f_capture);
        Counted(value)
    });
    LazyLock::force(&lazy);
    assert_eq!(drops.load(Ordering::SeqCst), 2);
    drop(lazy);
    assert_eq!(drops.load(Ordering::SeqCst), 3);
    // Poisoned: the function was consumed by the panicking call; nothing left to drop.
    let captured = Counted(Arc::clone(&drops));
    let lazy = LazyLock::new(move || -> u32 {
        let _keep = captured;
        panic!("initialiser fails")
    });
    assert!(catch_unwind(AssertUnwindSafe(|| *lazy)).is_err());
    assert_eq!(drops.load(Ordering::SeqCst), 4);
    drop(lazy);
    assert_eq!(drops.load(Ordering::SeqCst), 4);
}

#[test]
fn generic_code_over_cells_and_locks() {
    // Cells stored in statics and shared between threads, as real code does.
    static COUNTER: OnceLock<Mutex<u64>> = OnceLock::new();
    static TABLE: LazyLock<Vec<u64>> = LazyLock::new(|| (0..4).collect());
    let threads: Vec<_> = (0..4)
        .map(|i| {
            std::thread::spawn(move || {
                let counter = COUNTER.get_or_init(|| Mutex::new(0));
                *counter.lock().unwrap() += TABLE[i];
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(*COUNTER.get().unwrap().lock().unwrap(), 6);
}

#[test]
#[cfg_attr(not(lockdep_checks), ignore = "needs the checks compiled in")]
fn lockdep_stops_the_real_init_versus_lock_race() {
    // The real thing, on two threads: A runs a cell's initialiser, which will take M; B holds M
    // and reaches the same cell, so it waits for A, which waits for M. lockdep knows the order
    // cell -> M from an earlier initialisation of another cell of the class, so B's wait is
    // reported (here: the default mode panics) before B blocks; B's unwinding releases M and A
    // finishes. Without lockdep, both threads hang.
    assert_eq!(lockdep_core::mode(), lockdep_core::Mode::Panic);
    struct Shared {
        m: Mutex<u32>,
        cell: OnceLock<u32>,
    }
    fn shared() -> Shared {
        Shared {
            m: Mutex::named("race-m", 0),
            cell: OnceLock::named("race-cell"),
        }
    }
    let warm = shared();
    warm.cell.get_or_init(|| *warm.m.lock().unwrap());

    let s = Arc::new(shared());
    let barrier = Arc::new(Barrier::new(2));
    let (done, finished) = mpsc::channel();
    let a = {
        let (s, barrier, done) = (Arc::clone(&s), Arc::clone(&barrier), done.clone());
        std::thread::spawn(move || {
            let v = *s.cell.get_or_init(|| {
                barrier.wait(); // B holds M now
                                // B panicked holding M: poisoned, as std's would be.
                *s.m.lock().unwrap_or_else(|e| e.into_inner()) + 1
            });
            done.send("a").unwrap();
            v
        })
    };
    let b = std::thread::spawn(move || {
        let result = catch_unwind(AssertUnwindSafe(|| {
            let _m = s.m.lock().unwrap();
            barrier.wait(); // A is inside the initialiser
            *s.cell.get_or_init(|| 0)
        }));
        done.send("b").unwrap();
        result
    });
    // A watchdog, not a timing assumption: both threads finish at once when lockdep works.
    for _ in 0..2 {
        finished
            .recv_timeout(Duration::from_secs(60))
            .expect("the threads deadlocked: lockdep did not stop the race");
    }
    assert_eq!(a.join().unwrap(), 1);
    let b = b.join().unwrap();
    let payload = b.expect_err("B's wait was reported and panicked");
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(
        message.contains("possible circular locking dependency detected")
            && message.contains("(race-cell){initialising}"),
        "{message}"
    );
}

#[test]
#[cfg_attr(not(lockdep_checks), ignore = "needs the checks compiled in")]
fn set_is_validated_like_an_initialisation() {
    // `set` blocks while another thread initialises the cell, so it is an acquisition too.
    let m = Mutex::named("set-m", ());
    let reports = capture(|| {
        let first: OnceLock<u8> = OnceLock::named("set-cell");
        first.get_or_init(|| {
            drop(m.lock().unwrap());
            1
        });
        let second: OnceLock<u8> = OnceLock::named("set-cell");
        let _m = m.lock().unwrap();
        assert_eq!(second.set(2), Ok(()));
    });
    assert_one(
        &reports,
        ReportKind::CircularDependency,
        &["set-cell", "set-m"],
    );
}

/// A clone of a used `OnceLock` is a new instance of its class: dropping it leaves the
/// original's count alone (it once copied the original's resolved identity, and its drop
/// uncounted an instance it never counted: the DOT graph showed 18446744073709551614).
#[test]
#[cfg_attr(not(lockdep_checks), ignore = "needs the checks compiled in")]
fn a_cloned_once_lock_counts_as_its_own_instance() {
    let m = Mutex::named("clone-cell-m", ());
    let cell = OnceLock::named("clone-cell");
    let _ = capture(|| {
        // An edge, so that the class is drawn: m -> cell.
        let _m = m.lock().unwrap();
        cell.get_or_init(|| 1u32);
    });
    let label = |live: &str| format!("label = \"clone-cell\\nsubclass 0, {live}\"");
    assert!(lockdep_core::graph::to_dot().contains(&label("1 instance taken, 1 alive")));
    for _ in 0..3 {
        let clone = cell.clone();
        assert_eq!(clone.get(), Some(&1));
        drop(clone);
    }
    let used = cell.clone();
    let _ = capture(|| {
        // Reached under `m`: validated, so the clone's class cell is resolved and counted.
        let _m = m.lock().unwrap();
        used.get_or_init(|| unreachable!());
    });
    let dot = lockdep_core::graph::to_dot();
    assert!(dot.contains(&label("2 instances taken, 2 alive")), "{dot}");
    drop(used);
    let dot = lockdep_core::graph::to_dot();
    assert!(dot.contains(&label("2 instances taken, 1 alive")), "{dot}");
}
