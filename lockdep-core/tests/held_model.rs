//! Random lock programs against a reference model of the held set: what the validator's
//! per-thread stack says is held (`held_locks`, `is_held`) must be exactly what the program
//! holds, whatever the order of releases, upgrades and downgrades, on the hot path (chains
//! validated before, entries pushed after the lock and popped after the unlock) and off it; and
//! past MAX_LOCK_DEPTH, what it says is held must still be held, and tracking must come back
//! once the program lets go.
// Tests that need the checks are compiled out one by one; what they share goes unused then.
#![cfg_attr(not(lockdep_checks), allow(unused))]

mod common;

use common::assert_none;
use lockdep_core::{capture, held_locks, is_held, Mutex, RwLock, MAX_LOCK_DEPTH};

/// A guard the program holds (for its drop: the fields are never read).
#[allow(dead_code)]
enum Guard<'a> {
    Mutex(lockdep_core::MutexGuard<'a, ()>),
    Read(lockdep_core::RwLockReadGuard<'a, ()>),
    Write(lockdep_core::RwLockWriteGuard<'a, ()>),
    Upgradable(lockdep_core::RwLockUpgradableReadGuard<'a, ()>),
    StdMutex(lockdep_core::sync::MutexGuard<'a, ()>),
    StdRead(lockdep_core::sync::RwLockReadGuard<'a, ()>),
    StdWrite(lockdep_core::sync::RwLockWriteGuard<'a, ()>),
}

/// How the model holds a lock: (lock number, class name, shared).
type Held = (usize, String, bool);

/// A small xorshift generator: the same programs on every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

const MUTEXES: usize = 6;
const RWLOCKS: usize = 4;
/// The `std::sync` flavour's locks, numbered after the others.
const STD_MUTEXES: usize = 3;
const STD_RWLOCKS: usize = 2;
const LOCKS: usize = MUTEXES + RWLOCKS + STD_MUTEXES + STD_RWLOCKS;

struct Locks {
    mutexes: Vec<Mutex<()>>,
    rwlocks: Vec<RwLock<()>>,
    std_mutexes: Vec<lockdep_core::sync::Mutex<()>>,
    std_rwlocks: Vec<lockdep_core::sync::RwLock<()>>,
}

impl Locks {
    fn new(prefix: &str) -> Locks {
        Locks {
            mutexes: (0..MUTEXES)
                .map(|i| Mutex::named(&format!("{prefix}-m{i}"), ()))
                .collect(),
            rwlocks: (0..RWLOCKS)
                .map(|i| RwLock::named(&format!("{prefix}-rw{i}"), ()))
                .collect(),
            std_mutexes: (0..STD_MUTEXES)
                .map(|i| lockdep_core::sync::Mutex::named(&format!("{prefix}-sm{i}"), ()))
                .collect(),
            std_rwlocks: (0..STD_RWLOCKS)
                .map(|i| lockdep_core::sync::RwLock::named(&format!("{prefix}-srw{i}"), ()))
                .collect(),
        }
    }

    fn name(&self, lock: usize, prefix: &str) -> String {
        match lock {
            _ if lock < MUTEXES => format!("{prefix}-m{lock}"),
            _ if lock < MUTEXES + RWLOCKS => format!("{prefix}-rw{}", lock - MUTEXES),
            _ if lock < MUTEXES + RWLOCKS + STD_MUTEXES => {
                format!("{prefix}-sm{}", lock - MUTEXES - RWLOCKS)
            }
            _ => format!("{prefix}-srw{}", lock - MUTEXES - RWLOCKS - STD_MUTEXES),
        }
    }

    fn is_held(&self, lock: usize) -> bool {
        match lock {
            _ if lock < MUTEXES => is_held(&self.mutexes[lock]),
            _ if lock < MUTEXES + RWLOCKS => is_held(&self.rwlocks[lock - MUTEXES]),
            _ if lock < MUTEXES + RWLOCKS + STD_MUTEXES => {
                is_held(&self.std_mutexes[lock - MUTEXES - RWLOCKS])
            }
            _ => is_held(&self.std_rwlocks[lock - MUTEXES - RWLOCKS - STD_MUTEXES]),
        }
    }
}

/// Runs `steps` random operations; locks are taken in increasing number only, and upgraded
/// only when no higher one is held (so the program has no inversion and nothing is reported),
/// released in any order. With `check_exact`, the
/// validator's view is compared with the model after every step; without, only that whatever
/// it says is held is held.
fn run(locks: &Locks, prefix: &str, seed: u64, steps: usize, check_exact: bool) {
    let mut rng = Rng(seed);
    let mut guards: Vec<Guard<'_>> = Vec::new();
    let mut model: Vec<Held> = Vec::new();
    for _ in 0..steps {
        let highest = model.iter().map(|h| h.0).max();
        match rng.below(10) {
            // Take a lock above every held one.
            0..=4 => {
                let lock = rng.below(LOCKS);
                if highest.is_some_and(|h| lock <= h) {
                    continue;
                }
                let name = locks.name(lock, prefix);
                if lock >= MUTEXES + RWLOCKS + STD_MUTEXES {
                    let rw = &locks.std_rwlocks[lock - MUTEXES - RWLOCKS - STD_MUTEXES];
                    if rng.below(2) == 0 {
                        guards.push(Guard::StdRead(rw.read().unwrap()));
                        model.push((lock, name, true));
                    } else {
                        guards.push(Guard::StdWrite(rw.write().unwrap()));
                        model.push((lock, name, false));
                    }
                } else if lock >= MUTEXES + RWLOCKS {
                    let m = &locks.std_mutexes[lock - MUTEXES - RWLOCKS];
                    let guard = if rng.below(4) == 0 {
                        m.try_lock().expect("nobody else holds it")
                    } else {
                        m.lock().unwrap()
                    };
                    guards.push(Guard::StdMutex(guard));
                    model.push((lock, name, false));
                } else if lock < MUTEXES {
                    let m = &locks.mutexes[lock];
                    let guard = if rng.below(4) == 0 {
                        m.try_lock().expect("nobody else holds it")
                    } else {
                        m.lock()
                    };
                    guards.push(Guard::Mutex(guard));
                    model.push((lock, name, false));
                } else {
                    let rw = &locks.rwlocks[lock - MUTEXES];
                    match rng.below(3) {
                        0 => {
                            guards.push(Guard::Read(rw.read_recursive()));
                            model.push((lock, name, true));
                        }
                        1 => {
                            guards.push(Guard::Write(rw.write()));
                            model.push((lock, name, false));
                        }
                        _ => {
                            guards.push(Guard::Upgradable(rw.upgradable_read()));
                            model.push((lock, name, true));
                        }
                    }
                }
            }
            // Release any held lock.
            5..=7 => {
                if guards.is_empty() {
                    continue;
                }
                let i = rng.below(guards.len());
                drop(guards.remove(i));
                model.remove(i);
            }
            // Upgrade an upgradable read (the highest lock held: an upgrade waits for readers
            // while the others stay held, so below another lock it would be an inversion), or
            // downgrade a write.
            _ => {
                if guards.is_empty() {
                    continue;
                }
                let i = rng.below(guards.len());
                if matches!(guards[i], Guard::Upgradable(_)) && Some(model[i].0) != highest {
                    continue;
                }
                let guard = guards.remove(i);
                let guard = match guard {
                    Guard::Upgradable(g) => {
                        model[i].2 = false;
                        Guard::Write(lockdep_core::RwLockUpgradableReadGuard::upgrade(g))
                    }
                    Guard::Write(g) => {
                        model[i].2 = true;
                        Guard::Read(lockdep_core::RwLockWriteGuard::downgrade(g))
                    }
                    other => other,
                };
                guards.insert(i, guard);
            }
        }
        let said = held_locks();
        if check_exact {
            let expected: Vec<String> = model.iter().map(|h| h.1.clone()).collect();
            assert_eq!(said, expected, "seed {seed}");
            for lock in 0..LOCKS {
                let held = model.iter().any(|h| h.0 == lock);
                assert_eq!(locks.is_held(lock), held, "seed {seed}, lock {lock}");
            }
        } else {
            assert!(said.len() <= MAX_LOCK_DEPTH);
            for lock in 0..LOCKS {
                if locks.is_held(lock) {
                    assert!(
                        model.iter().any(|h| h.0 == lock),
                        "seed {seed}, lock {lock}"
                    );
                }
            }
        }
    }
    drop(guards);
}

#[cfg(lockdep_checks)]
#[test]
fn random_programs_keep_the_held_set_exact() {
    let locks = Locks::new("model");
    let reports = capture(|| {
        for seed in 1..=200 {
            run(&locks, "model", seed * 0x9e37_79b9, 200, true);
            assert!(held_locks().is_empty());
        }
    });
    assert_none(&reports);
}

/// The same on four threads at once, over locks of the same classes (each thread its own
/// instances): the chains one thread validated reach the others through the process-wide
/// table, whose hits raise each thread's maximum depth before its hot path pushes there.
#[cfg(lockdep_checks)]
#[test]
fn random_programs_on_threads_keep_the_held_set_exact() {
    let reports = capture(|| {
        std::thread::scope(|s| {
            for thread in 0..4u64 {
                s.spawn(move || {
                    let locks = Locks::new("threads");
                    for seed in 1..=60 {
                        run(
                            &locks,
                            "threads",
                            (seed + thread * 1000) * 0x2545_f491,
                            200,
                            true,
                        );
                        assert!(held_locks().is_empty());
                    }
                });
            }
        });
    });
    assert_none(&reports);
}

#[cfg(lockdep_checks)]
#[test]
fn random_programs_past_max_lock_depth_stay_sound_and_recover() {
    let locks = Locks::new("deep");
    let filler = RwLock::named("deep-filler", ());
    let reports = capture(|| {
        for seed in 1..=60 {
            // Leave a few slots, or none, or go past the limit before the program starts.
            let leaked = MAX_LOCK_DEPTH - 4 + seed as usize % 10;
            for _ in 0..leaked {
                std::mem::forget(filler.read_recursive());
            }
            run(&locks, "deep", seed * 0x51_7cc1_b727, 300, false);
            for _ in 0..leaked {
                // SAFETY: this thread holds these reads; their guards were forgotten.
                unsafe { filler.force_unlock_read() };
            }
            assert!(held_locks().is_empty(), "seed {seed}");
            // Tracking is back: the next lock is on the stack.
            let _g = locks.mutexes[0].lock();
            assert!(is_held(&locks.mutexes[0]), "seed {seed}");
        }
    });
    assert_none(&reports);
}
