//! Deadlocks happening right now (feature `deadlock_detection`): `parking_lot`'s
//! `deadlock::check_deadlock`, with the kernel's "show all locks held" for every stuck thread.
//!
//! lockdep predicts deadlocks from the orders a run took; a hang in code no test ran is still
//! possible. With this feature, a thread that is about to block on a lock (its first try
//! failed) registers what it waits for, the locks it holds (by class, with where each was
//! taken) and its backtrace, and removes the entry once it has the lock. [`check_deadlock`],
//! called from a watcher thread, finds the registered threads that wait for each other in a
//! cycle. An uncontended acquisition succeeds on its first try and registers nothing; with the
//! feature off none of this is compiled.
//!
//! The feature turns on `release-checks`: the held locks come from lockdep's held-lock stacks.
//! With `Mode::Off` those are still tracked, so a release build can watch for hangs without
//! validating lock orders.
//!
//! ```no_run
//! // A watcher thread, as with parking_lot:
//! std::thread::spawn(|| loop {
//!     std::thread::sleep(std::time::Duration::from_secs(10));
//!     for (i, cycle) in lockdep_core::deadlock::check_deadlock().iter().enumerate() {
//!         eprintln!("deadlock #{i}:");
//!         for thread in cycle {
//!             eprintln!("{thread}"); // what it waits for, the locks it holds, its backtrace
//!         }
//!     }
//! });
//! ```
//!
//! Seen: waits for a lock held by another waiting thread, in a mode that excludes the wait
//! (a reader does not wait for readers), on every lock type of this crate and on `Once`,
//! `OnceLock` and `LazyLock` initialisations, upgrades, and the re-lock after a `Condvar` wait.
//! A fair read (or an upgradable read) also waits for a writer queued on the lock. Not seen: a
//! bump (an unlock that lets others in, then a re-lock), the re-lock at the end of a `std::sync::Condvar` wait (it happens inside
//! the standard library), and waits on anything that is not a lock (channels, joins).

use crate::access::Access;
use crate::held::HeldLock;
use crate::validator::Acquisition;
use backtrace::Backtrace;
use once_cell::sync::Lazy;
use parking_lot::Mutex as InternalMutex;
use std::collections::HashMap;
use std::fmt;
use std::panic::Location;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::{Thread, ThreadId};

/// A thread registered as blocked on a lock.
#[derive(Clone)]
struct Entry {
    thread: Thread,
    waiting_for: HeldLock,
    held: Vec<HeldLock>,
    backtrace: Backtrace,
    /// Returned by [`check_deadlock`] already: each deadlock is reported once.
    reported: bool,
}

/// Registered waits, by registration token. A plain `parking_lot` mutex: the validator's own
/// locks are never instrumented.
static WAITING: Lazy<InternalMutex<HashMap<u64, Entry>>> =
    Lazy::new(|| InternalMutex::new(HashMap::new()));
static NEXT_TOKEN: AtomicU64 = AtomicU64::new(1);

/// A registered wait; dropping it removes the registration.
pub(crate) struct Waiting(u64);

impl Waiting {
    /// Registers this thread as about to block on `acq`, holding the first `held_before`
    /// entries of its held-lock stack. Called only once the lock could not be had at once (or
    /// a once-cell is incomplete): the one cost of the feature.
    #[cold]
    #[inline(never)]
    pub(crate) fn begin(acq: &Acquisition, held_before: usize) -> Waiting {
        let mut held = crate::validator::held_entries();
        // Only what was held before this acquisition: the lock being taken is waited for, not
        // held (the validator pushes its entry once it is taken; the count keeps that so).
        held.truncate(held_before);
        let entry = Entry {
            thread: std::thread::current(),
            waiting_for: acq.entry(false),
            held,
            backtrace: Backtrace::new_unresolved(),
            reported: false,
        };
        let token = NEXT_TOKEN.fetch_add(1, Ordering::Relaxed);
        WAITING.lock().insert(token, entry);
        Waiting(token)
    }

    /// Runs `take` (a blocking acquisition of `acq`) after `try_take` failed, registered as
    /// waiting meanwhile (see [`Waiting::begin`] for `held_before`).
    #[inline]
    pub(crate) fn around<T>(
        acq: &Acquisition,
        held_before: usize,
        try_take: impl FnOnce() -> Option<T>,
        take: impl FnOnce() -> T,
    ) -> T {
        if let Some(taken) = try_take() {
            return taken;
        }
        let _waiting = Waiting::begin(acq, held_before);
        take()
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        WAITING.lock().remove(&self.0);
    }
}

/// Whether holding a lock as `held` makes an acquisition as `wanted` wait for the holder.
fn excludes(held: Access, wanted: Access) -> bool {
    matches!(
        (held, wanted),
        (Access::Write, _) | (_, Access::Write) | (Access::Upgradable, Access::Upgradable)
    )
}

/// A lock as [`check_deadlock`] shows it: its class, how it is (or would be) held, and where
/// it was taken.
#[derive(Clone, Debug)]
pub struct LockInfo {
    class: String,
    access: Access,
    initialising: bool,
    at: Option<&'static Location<'static>>,
}

impl LockInfo {
    fn of(h: &HeldLock) -> LockInfo {
        LockInfo {
            class: h.node.display(),
            access: h.access,
            initialising: h.node.initialising(),
            at: h.at,
        }
    }

    /// The lock's class name (`name/N` for a nonzero subclass).
    pub fn class_name(&self) -> &str {
        &self.class
    }

    /// How the lock is held or wanted: `"write"`, `"read"`, `"recursive-read"`,
    /// `"upgradable"`, or `"initialising"` for a `Once`, `OnceLock` or `LazyLock`.
    pub fn mode(&self) -> &'static str {
        if self.initialising {
            "initialising"
        } else {
            self.access.label()
        }
    }

    /// Where the lock was taken (or is being taken), when known.
    pub fn location(&self) -> Option<&'static Location<'static>> {
        self.at
    }
}

impl fmt::Display for LockInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({}){{{}}}", self.class, self.mode())?;
        if let Some(at) = self.at {
            write!(f, ", at: {at}")?;
        }
        Ok(())
    }
}

/// One thread of a deadlock found by [`check_deadlock`] (`parking_lot`'s type, with the lock it
/// waits for and the locks it holds).
pub struct DeadlockedThread {
    thread: Thread,
    backtrace: Backtrace,
    waiting_for: LockInfo,
    held: Vec<LockInfo>,
    /// The thread of the cycle that holds what this one waits for.
    blocked_by: String,
}

impl DeadlockedThread {
    /// The thread's id.
    pub fn thread_id(&self) -> ThreadId {
        self.thread.id()
    }

    /// The thread's name, if it has one.
    pub fn thread_name(&self) -> Option<&str> {
        self.thread.name()
    }

    /// Where the thread blocked (resolved).
    pub fn backtrace(&self) -> &Backtrace {
        &self.backtrace
    }

    /// The lock the thread waits for.
    pub fn waiting_for(&self) -> &LockInfo {
        &self.waiting_for
    }

    /// The locks the thread holds, outermost first.
    pub fn held_locks(&self) -> &[LockInfo] {
        &self.held
    }
}

fn name_of(thread: &Thread) -> String {
    match thread.name() {
        Some(name) => name.to_string(),
        None => format!("{:?}", thread.id()),
    }
}

impl fmt::Debug for DeadlockedThread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeadlockedThread")
            .field("thread", &name_of(&self.thread))
            .field("waiting_for", &self.waiting_for)
            .field("held", &self.held)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for DeadlockedThread {
    /// The kernel's "show all locks held" for this thread: what it waits for and who holds it,
    /// its locks, its stack.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = name_of(&self.thread);
        writeln!(f, "thread '{name}' is blocked on:")?;
        writeln!(f, " {}", self.waiting_for)?;
        writeln!(f, "held by thread '{}'.", self.blocked_by)?;
        match self.held.len() {
            1 => writeln!(f, "1 lock held by thread '{name}':")?,
            n => writeln!(f, "{n} locks held by thread '{name}':")?,
        }
        for (i, held) in self.held.iter().enumerate() {
            writeln!(f, " #{i}: {held}")?;
        }
        writeln!(f, "stack backtrace:")?;
        // Trimmed as a report's stacks are (`backtrace()` has them all).
        crate::trace::fmt_trimmed(f, &self.backtrace)
    }
}

/// The deadlocks found *since the last call*: each a cycle of threads, every one blocked on a
/// lock that the next one holds (the same function as `parking_lot::deadlock::check_deadlock`).
/// Each thread comes with the lock it waits for, the locks it holds by class and where each
/// was taken, and its backtrace. Call it from a watcher thread.
pub fn check_deadlock() -> Vec<Vec<DeadlockedThread>> {
    // Copied out under the registry lock; named and resolved (slow) after it is released, so
    // that threads about to block are not held up.
    let cycles: Vec<Vec<(Entry, String)>> = {
        let mut waiting = WAITING.lock();
        let tokens: Vec<u64> = waiting
            .iter()
            .filter(|(_, e)| !e.reported)
            .map(|(t, _)| *t)
            .collect();
        // Who waits for whom: thread `i` waits for `j` when `j` holds what `i` wants, in an
        // excluding mode, or when `i` wants a fair or upgradable read and `j` is a writer queued
        // on the same lock (they wait behind a queued writer; a recursive read does not). A
        // registered thread holds exactly its snapshot until it deregisters, so a cycle among
        // them is a deadlock now, not a race with a release.
        let mut graph = petgraph::graphmap::DiGraphMap::<usize, ()>::new();
        for (i, ti) in tokens.iter().enumerate() {
            graph.add_node(i);
            let want = &waiting[ti].waiting_for;
            for (j, tj) in tokens.iter().enumerate() {
                let other = &waiting[tj];
                let holds = other
                    .held
                    .iter()
                    .any(|h| h.instance == want.instance && excludes(h.access, want.access));
                let queued_writer = matches!(want.access, Access::Read | Access::Upgradable)
                    && other.waiting_for.instance == want.instance
                    && other.waiting_for.access == Access::Write;
                if i != j && (holds || queued_writer) {
                    graph.add_edge(i, j, ());
                }
            }
        }
        let mut cycles = Vec::new();
        for cycle in petgraph::algo::tarjan_scc(&graph) {
            if cycle.len() < 2 {
                continue;
            }
            let mut threads = Vec::new();
            for &i in &cycle {
                // The holder inside the cycle (a lock may be read by several threads).
                let blocked_by = graph
                    .neighbors(i)
                    .find(|j| cycle.contains(j))
                    .map_or_else(String::new, |j| name_of(&waiting[&tokens[j]].thread));
                let entry = waiting.get_mut(&tokens[i]).expect("registered");
                entry.reported = true;
                threads.push((entry.clone(), blocked_by));
            }
            cycles.push(threads);
        }
        cycles
    };
    cycles
        .into_iter()
        .map(|threads| {
            threads
                .into_iter()
                .map(|(entry, blocked_by)| {
                    let mut backtrace = entry.backtrace;
                    backtrace.resolve();
                    DeadlockedThread {
                        thread: entry.thread,
                        backtrace,
                        waiting_for: LockInfo::of(&entry.waiting_for),
                        held: entry.held.iter().map(LockInfo::of).collect(),
                        blocked_by,
                    }
                })
                .collect()
        })
        .collect()
}
