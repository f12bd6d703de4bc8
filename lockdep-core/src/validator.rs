//! The validator: checks each acquisition against the locks this thread holds, records new
//! dependencies in the class graph, and raises findings.
//!
//! The hot path — an acquisition whose lock chain was validated before — reads the thread's own
//! held-lock stack and a small thread-local cache of validated chain keys, and nothing shared.
//! A chain this thread has not seen yet is looked up in a process-wide `DashMap` (one shard read
//! lock); only a chain nobody has seen takes the graph lock, captures a backtrace and searches.

use crate::class::{registry, ClassCell, NodeKey};
use crate::depgraph::{dep_kind, Added, DepGraph, Layer};
use crate::held::{chain_step, Access, HeldLock, HeldStack, MAX_LOCK_DEPTH};
use crate::mode::{self, Mode};
use crate::relock::Relocks;
use crate::report::ReportKind;
use crate::report::{ChainLink, LockDesc, Report, ReportData};
use crate::stats;
use crate::store::format::FindingKind;
use crate::store::online as store;
use crate::trace::Trace;
use dashmap::DashSet;
use once_cell::sync::Lazy;
use parking_lot::Mutex as InternalMutex;
#[cfg(debug_assertions)]
use std::cell::Cell;
use std::cell::UnsafeCell;
use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use std::panic::Location;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Most dependencies (edges) the graph holds (the kernel's MAX_LOCKDEP_ENTRIES is 32768).
pub const MAX_DEPENDENCIES: usize = 1 << 18;
/// Most validated lock chains remembered (the kernel's MAX_LOCKDEP_CHAINS is 65536).
pub const MAX_CHAINS: usize = 1 << 20;
/// Slots of the per-thread validated-chain cache (direct-mapped).
const CACHE_SLOTS: usize = 256;

/// The cache slot of a chain key.
#[inline(always)]
fn cache_slot(key: u64) -> usize {
    (key >> 1) as usize % CACHE_SLOTS
}

/// What a cache slot holds for a validated chain: the key with its low bit replaced by "the
/// acquired lock's class is already held". When it is not, the same *instance* cannot be held
/// either, so a hit skips the scan for a self-deadlock (the low bit is not in the slot index).
#[inline(always)]
fn cache_tag(key: u64, class_held: bool) -> u64 {
    (key & !1) | class_held as u64
}

/// A lock instance as the validator sees it.
#[derive(Clone, Copy)]
pub(crate) struct LockRef<'a> {
    /// The lock's class cell, which also gives its identity (see [`ClassCell`]).
    pub(crate) class: &'a ClassCell,
}

/// How a release names the entry it ends (a rwlock instance may be held several ways at once).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Release {
    Exclusive,
    Shared,
    Upgradable,
}

impl Release {
    pub(crate) fn matches(self, access: Access) -> bool {
        match self {
            Release::Exclusive => access == Access::Write,
            Release::Shared => matches!(access, Access::Read | Access::RecursiveRead),
            Release::Upgradable => access == Access::Upgradable,
        }
    }
}

struct ThreadState {
    held: HeldStack,
    /// Validated chain keys; a slot holds the key that last hashed to it.
    cache: [u64; CACHE_SLOTS],
    overflow_reported: bool,
    /// Nested entries released lately, for `unlocked` relocks (`relock.rs`).
    relocks: Relocks,
}

/// This thread's [`ThreadState`], reached only through [`with_thread`].
///
/// It has no destructor, on purpose: a `thread_local!` whose type needs dropping checks on every
/// access whether its destructor is registered yet or has run already, and becomes unusable
/// while the thread's locals are torn down. Without one, an access is a plain address
/// computation, and locks taken in other thread-locals' destructors are still tracked. The
/// leaked-guard warning a destructor used to give lives in [`ExitCheck`], registered once per
/// thread.
struct ThreadCell {
    state: UnsafeCell<ThreadState>,
    /// Debug builds check the no-re-entry rule [`with_thread`] relies on.
    #[cfg(debug_assertions)]
    busy: Cell<bool>,
}

thread_local! {
    static THREAD: ThreadCell = const {
        ThreadCell {
            state: UnsafeCell::new(ThreadState {
                held: HeldStack::new(),
                cache: [0; CACHE_SLOTS],
                overflow_reported: false,
                relocks: Relocks::new(),
            }),
            #[cfg(debug_assertions)]
            busy: Cell::new(false),
        }
    };
    static EXIT_CHECK: ExitCheck = const { ExitCheck };
}

/// Runs `f` on this thread's validator state.
///
/// Every `f` given here only reads and writes the state (and plain data): it never calls user
/// code, takes a lock of this crate, allocates, prints or delivers a report, so nothing can
/// reach `with_thread` again while the `&mut` is live; anything of that kind happens after `f`
/// returns, on copies. (A signal handler that takes a lock could interrupt `f`, but taking a
/// lock in a signal handler is not async-signal-safe to begin with: the lock itself could be
/// held by the code it interrupted.)
#[inline(always)]
fn with_thread<T>(f: impl FnOnce(&mut ThreadState) -> T) -> T {
    // Only the address comes out of `with`: a closure this small lets `with` and the key's
    // accessor inline to one thread-pointer-relative address, where wrapping all of `f` made
    // the compiler call them out of line.
    let cell = THREAD.with(|cell| cell as *const ThreadCell);
    // SAFETY: `THREAD` has no destructor, so its storage is valid for as long as this thread
    // runs, and the reference does not leave this call.
    let cell = unsafe { &*cell };
    #[cfg(debug_assertions)]
    let _busy = Busy::enter(&cell.busy);
    // SAFETY: the state is thread-local, so only this thread reaches it, and only through this
    // function; by the rule above no other `&mut` to it is live while `f` runs.
    f(unsafe { &mut *cell.state.get() })
}

/// The re-entry check of debug builds: would a second `&mut` to the state be made?
#[cfg(debug_assertions)]
struct Busy<'a>(&'a Cell<bool>);

#[cfg(debug_assertions)]
impl<'a> Busy<'a> {
    fn enter(flag: &'a Cell<bool>) -> Self {
        assert!(
            !flag.replace(true),
            "lockdep: the validator's thread state was re-entered"
        );
        Busy(flag)
    }
}

#[cfg(debug_assertions)]
impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.set(false);
    }
}

/// Warns, when the thread exits, about locks it still holds (the kernel's "lock held when
/// returning to user space": a leaked guard). Registered by the thread's first acquisition, so
/// its destructor runs after those of thread-locals created later.
struct ExitCheck;

impl Drop for ExitCheck {
    fn drop(&mut self) {
        let held = with_thread(|t| Snapshot::of(t.held.as_slice(), None));
        let held = held.as_slice();
        if !held.is_empty() {
            let names: Vec<String> = held.iter().map(|h| describe(h).to_string()).collect();
            eprintln!(
                "lockdep: a thread exited while holding {} lock(s) (a guard was leaked with \
                 mem::forget?):\n  {}",
                held.len(),
                names.join("\n  ")
            );
        }
    }
}

/// Whether this thread's thread-locals are being destroyed, as far as the validator's own exit
/// check can tell: once it has been destroyed (or while it runs), every later destructor is
/// part of the teardown. (Destructors of thread-locals first used after the thread's first
/// acquisition run before it; [`crate::trace::in_thread_local_destructor`] covers those.)
pub(crate) fn thread_exiting() -> bool {
    EXIT_CHECK.try_with(|_| {}).is_err()
}

/// A push made this thread's maximum depth grow (rare): update the process-wide maximum, and on
/// the thread's first acquisition register the exit check. Called after the state is released.
#[cold]
#[inline(never)]
fn new_max_depth() {
    let depth = with_thread(|t| t.held.max_depth);
    stats::note_depth(depth);
    if depth == 1 {
        // Fails only while the thread's locals are being torn down: nothing left to warn about.
        let _ = EXIT_CHECK.try_with(|_| {});
        // Makes the mode known before the hot path reads it with the state borrowed (see
        // `hot_check`): its first read looks at the environment.
        let _ = mode::mode();
    }
}

/// The keys are already hashes: pass them through.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | b as u64;
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// A finding's identity, so each is reported once per process.
#[derive(Clone, PartialEq, Eq, Hash)]
enum FindingKey {
    /// The cycle's nodes, rotated to start at the smallest.
    Cycle(Vec<NodeKey>),
    /// The same, for a cycle of timed acquisitions.
    TimedCycle(Vec<NodeKey>),
    Recursive {
        node: NodeKey,
        certain: bool,
    },
    /// A sync lock of this class, taken at this place (the `Location`'s address), held when a
    /// task yielded.
    HeldAcrossAwait {
        node: NodeKey,
        at: usize,
    },
}

pub(crate) struct Global {
    pub(crate) graph: InternalMutex<DepGraph<Arc<Trace>>>,
    chains: DashSet<u64, BuildHasherDefault<KeyHasher>>,
    findings: InternalMutex<HashSet<FindingKey>>,
}

pub(crate) static GLOBAL: Lazy<Global> = Lazy::new(|| {
    // The graph is about to exist: arrange for LOCKDEP_DOT to write it at exit.
    crate::graph::install_exit_hook();
    // LOCKDEP_GRAPH: load the suite's shared graph before the first dependency is checked.
    crate::store::online::init();
    Global {
        graph: InternalMutex::new(DepGraph::default()),
        chains: DashSet::with_hasher(BuildHasherDefault::default()),
        findings: InternalMutex::new(HashSet::new()),
    }
});

static DEPENDENCIES_FULL: AtomicBool = AtomicBool::new(false);
static CHAINS_FULL: AtomicBool = AtomicBool::new(false);

pub(crate) fn chain_count() -> usize {
    GLOBAL.chains.len()
}

fn describe(h: &HeldLock) -> LockDesc {
    LockDesc {
        class: h.node.name(),
        access: h.access,
        trylock: h.trylock,
        at: h.at,
        initialising: h.node.initialising(),
    }
}

fn thread_name() -> String {
    let thread = std::thread::current();
    let name = match thread.name() {
        Some(name) => name.to_string(),
        None => format!("{:?}", thread.id()),
    };
    // In a task, the task is what holds the locks: say which (where it was made).
    match crate::task::current_task_site() {
        Some(at) => format!("{name}, task made at {at}"),
        None => name,
    }
}

/// What holding `held` and then acquiring the same *instance* as `acquired` means.
fn self_conflict_is_certain(held: Access, acquired: Access) -> bool {
    use Access::*;
    match (held, acquired) {
        // A writer waits for every holder, and every acquirer waits for a writer.
        (Write, _) | (_, Write) => true,
        // Upgradable reads exclude each other.
        (Upgradable, Upgradable) => true,
        // A reader beside a reader or an upgrader only blocks behind a queued writer: possible,
        // not certain; the class-level recursion check reports it.
        _ => false,
    }
}

/// A copy of the held stack, taken only on the slow path, so that nothing stays borrowed while
/// the graph is searched and reports are delivered.
struct Snapshot {
    entries: [HeldLock; MAX_LOCK_DEPTH],
    len: usize,
}

impl Snapshot {
    fn of(held: &[HeldLock], skip: Option<usize>) -> Snapshot {
        let mut snapshot = Snapshot {
            entries: [held.first().copied().unwrap_or(HeldLock::EMPTY); MAX_LOCK_DEPTH],
            len: 0,
        };
        for (i, h) in held.iter().enumerate() {
            if Some(i) != skip {
                snapshot.entries[snapshot.len] = *h;
                snapshot.len += 1;
            }
        }
        snapshot
    }

    fn as_slice(&self) -> &[HeldLock] {
        &self.entries[..self.len]
    }
}

/// What the fast check found.
enum Fast {
    /// Nothing to do: no locks held, checking off, or the chain was validated before.
    Clean,
    /// The same instance is held in a way that makes this acquisition hang.
    Certain(Snapshot, usize),
    /// A chain not validated by this thread yet.
    Check(Snapshot, u64),
}

/// An acquisition being validated.
#[derive(Clone, Copy)]
pub(crate) struct Acquisition {
    pub(crate) addr: usize,
    pub(crate) node: NodeKey,
    pub(crate) access: Access,
    pub(crate) at: Option<&'static Location<'static>>,
    /// An async lock's acquisition (see [`HeldLock::asynchronous`]).
    pub(crate) asynchronous: bool,
}

impl Acquisition {
    /// Resolves the lock's class; `None` when it cannot be tracked (the class table is full).
    #[inline]
    pub(crate) fn new(
        lock: LockRef<'_>,
        subclass: u32,
        access: Access,
        at: Option<&'static Location<'static>>,
    ) -> Option<Acquisition> {
        if subclass != 0 {
            crate::class::check_subclass(subclass, lock.class);
        }
        let (class, identity) = lock.class.resolve_instance()?;
        Some(Acquisition {
            addr: identity,
            node: NodeKey::new(class, subclass),
            access,
            at,
            asynchronous: false,
        })
    }

    /// [`Self::new`] for a lock whose held entry is named by an address rather than by its
    /// class cell's identity: once-cells (an odd address, see `init.rs`) and tokio's locks,
    /// whose guards know only the tokio lock inside. An address never equals an identity word
    /// (those carry the class id in their top bits); a new lock at a freed one's address can
    /// be confused with a leaked entry of the old one, which identity words rule out.
    #[inline]
    pub(crate) fn at_address(
        lock: LockRef<'_>,
        addr: usize,
        subclass: u32,
        access: Access,
        at: Option<&'static Location<'static>>,
    ) -> Option<Acquisition> {
        let mut acq = Acquisition::new(lock, subclass, access, at)?;
        acq.addr = addr;
        Some(acq)
    }

    fn desc(&self, trylock: bool) -> LockDesc {
        LockDesc {
            class: self.node.name(),
            access: self.access,
            trylock,
            at: self.at,
            initialising: self.node.initialising(),
        }
    }

    pub(crate) fn entry(&self, trylock: bool) -> HeldLock {
        HeldLock {
            instance: self.addr,
            node: self.node,
            access: self.access,
            trylock,
            at: self.at,
            chain_key: 0,
            asynchronous: self.asynchronous,
        }
    }
}

/// Index of a held entry of this very instance (other than `skip`) that makes `acq` certain to
/// hang.
#[inline(always)]
fn certain_conflict(held: &[HeldLock], acq: &Acquisition, skip: Option<usize>) -> Option<usize> {
    held.iter().enumerate().position(|(i, h)| {
        h.instance == acq.addr && Some(i) != skip && self_conflict_is_certain(h.access, acq.access)
    })
}

fn fast_check(t: &ThreadState, acq: &Acquisition, skip: Option<usize>, off: bool) -> Fast {
    let held = t.held.as_slice();
    if let Some(i) = certain_conflict(held, acq, skip) {
        return Fast::Certain(Snapshot::of(held, skip), i);
    }
    // Nothing else held (the skipped entry aside): no dependency to check.
    if held.len() == usize::from(skip.is_some()) || off {
        return Fast::Clean;
    }
    let prefix = match skip {
        None => t.held.top_key(),
        Some(skip) => held
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != skip)
            .fold(crate::held::CHAIN_ROOT, |key, (_, h)| {
                chain_step(key, HeldLock::descriptor(h.node, h.access, h.trylock))
            }),
    };
    let key = chain_step(prefix, HeldLock::descriptor(acq.node, acq.access, false));
    if t.cache[cache_slot(key)] | 1 == key | 1 {
        return Fast::Clean;
    }
    Fast::Check(Snapshot::of(held, skip), key)
}

/// What the hot-path check found.
enum Hot {
    /// Validated before (or nothing to validate): take the lock and push an entry with this
    /// chain key.
    Clean(u64),
    /// Anything else (a chain not in this thread's cache, the same instance held, the
    /// thread-local state gone): go the general way, [`before_lock`] and [`after_lock`].
    Slow,
}

/// The check of the hot path: the same decisions as [`fast_check`] without a `skip`, but it
/// returns only a key, so that nothing large (no [`Snapshot`]) is built or moved when the chain
/// is known, and the key it computes is the one the pushed entry needs.
#[inline(always)]
fn hot_check(t: &ThreadState, acq: &Acquisition) -> Hot {
    let held = t.held.as_slice();
    let key = chain_step(
        t.held.top_key(),
        HeldLock::descriptor(acq.node, acq.access, false),
    );
    if held.is_empty() {
        return Hot::Clean(key);
    }
    let cached = t.cache[cache_slot(key)];
    if cached == cache_tag(key, false) {
        // Validated, and no lock of this class is held: no self-deadlock to look for.
        return Hot::Clean(key);
    }
    // Otherwise a clean answer needs the instance scan: a validated chain whose class is held
    // already, or checking switched off (which still stops a certain self-deadlock). The mode
    // is read only here: a cached chain is clean whatever it is. It is known by now (this
    // thread's first push read it, in `new_max_depth`), so this is one atomic load and never
    // the first read, which looks at the environment.
    if cached != cache_tag(key, true) && mode::mode() != Mode::Off {
        return Hot::Slow;
    }
    if certain_conflict(held, acq, None).is_some() {
        return Hot::Slow;
    }
    Hot::Clean(key)
}

/// A blocking acquisition: validates it, takes the lock with `take`, records it as held.
///
/// The hot path (a chain this thread validated before) touches only this thread's state, in one
/// thread-local access: check, compute the new entry's chain key, push the entry. The entry goes
/// on before the lock is taken; nothing else reads this thread's stack meanwhile, and if `take`
/// unwinds (a raw lock that panics) [`Unpush`] takes the entry off again.
///
/// Returns the report a panicking mode must raise (the lock is then not taken): the typed
/// layer raises it from its `#[track_caller]` method, so that the panic names the user's call.
/// (This costs the validated path about three instructions per acquisition, the test of the
/// returned flag; `#[track_caller]` all the way down cost more.)
#[inline]
#[must_use = "a pending panic must be raised"]
pub(crate) fn acquire(acq: &Acquisition, take: impl FnOnce()) -> Option<Pending> {
    let pushed = with_thread(|t| hot_push(t, acq));
    if pushed == Pushed::No {
        return acquire_slow(acq, take);
    }
    if pushed == Pushed::NewMax {
        new_max_depth();
    }
    let unpush = Unpush(acq.addr);
    take();
    std::mem::forget(unpush);
    None
}

/// A report the `Panic` mode (or a certain self-deadlock) must panic with, raised where the
/// user's acquisition site is known.
pub(crate) struct Pending(Report);

impl Pending {
    /// Panics with the report's text, at the caller's (`#[track_caller]`) location.
    #[cold]
    #[inline(never)]
    #[track_caller]
    pub(crate) fn raise(self) -> ! {
        panic!("{}", crate::report::panic_text(&self.0))
    }
}

/// What [`hot_push`] did.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pushed {
    /// Nothing: go the slow way.
    No,
    Yes,
    /// Pushed, and this thread never held so many locks before.
    NewMax,
}

/// Checks and, when the chain is known, pushes the entry.
#[inline(always)]
fn hot_push(t: &mut ThreadState, acq: &Acquisition) -> Pushed {
    // First: past it the depth is known to be in bounds, so the accesses below need no checks.
    if t.held.is_full() {
        return Pushed::No;
    }
    match hot_check(t, acq) {
        Hot::Clean(key) => {
            if t.held.push_keyed(acq.entry(false), key) {
                Pushed::NewMax
            } else {
                Pushed::Yes
            }
        }
        _ => Pushed::No,
    }
}

/// Removes the entry [`acquire`] pushed if taking the lock unwinds; forgotten otherwise.
struct Unpush(usize);

impl Drop for Unpush {
    fn drop(&mut self) {
        with_thread(|t| {
            if let Some(index) = t.held.find(self.0) {
                t.held.remove(index);
            }
        });
    }
}

#[cold]
#[inline(never)]
#[must_use = "a pending panic must be raised"]
fn acquire_slow(acq: &Acquisition, take: impl FnOnce()) -> Option<Pending> {
    if let Some(pending) = validate(acq) {
        return Some(pending);
    }
    take();
    after_lock(acq, false);
    None
}

/// Validates `acq` against this thread's held locks (leaving out entry `skip`, the lock being
/// upgraded or bumped). Returns the new findings, not yet delivered; panics — after delivering
/// the report — if the acquisition can only hang.
fn check(acq: &Acquisition, skip: Option<usize>) -> Result<Vec<Report>, Pending> {
    // Read before the state is borrowed: the first read looks at the environment.
    let off = mode::mode() == Mode::Off;
    match with_thread(|t| fast_check(t, acq, skip, off)) {
        Fast::Clean => Ok(Vec::new()),
        Fast::Certain(held, index) => {
            let report = recursion_report(acq, &held, index, true);
            if is_new(FindingKey::Recursive {
                node: acq.node,
                certain: true,
            }) {
                // The panic below is due whatever the mode says.
                let _ = mode::deliver_unless_panic(&report);
            }
            Err(Pending(report))
        }
        Fast::Check(held, key) => {
            if GLOBAL.chains.contains(&key) {
                remember(key, acq, held.as_slice());
                return Ok(Vec::new());
            }
            Ok(slow_check(acq, held.as_slice(), key, Layer::Blocking))
        }
    }
}

/// Validates `acq` and delivers its findings; returns the panic due, if any.
#[must_use = "a pending panic must be raised"]
fn validate(acq: &Acquisition) -> Option<Pending> {
    match check(acq, None) {
        Ok(reports) => deliver_all(reports),
        Err(pending) => Some(pending),
    }
}

/// Caches a validated chain for this thread (see [`cache_tag`]); `held` is the stack `acq` was
/// validated against.
fn remember(key: u64, acq: &Acquisition, held: &[HeldLock]) {
    let class_held = held.iter().any(|h| h.node.class() == acq.node.class());
    with_thread(|t| t.cache[cache_slot(key)] = cache_tag(key, class_held));
}

fn is_new(key: FindingKey) -> bool {
    GLOBAL.findings.lock().insert(key)
}

/// Validates a timed acquisition (`try_lock_for`, ...; leaving out entry `skip`, a lock being
/// upgraded) in the timed layer of the graph. It never panics for a self-deadlock: a timed lock
/// gives up. Chain keys are those of the acquisition taken as a trylock, which is never
/// validated otherwise, so they cannot be mistaken for a validated blocking chain.
fn check_timed(acq: &Acquisition, skip: Option<usize>) -> Vec<Report> {
    if mode::mode() == Mode::Off {
        return Vec::new();
    }
    let found = with_thread(|t| {
        let held = t.held.as_slice();
        if held.len() == usize::from(skip.is_some()) {
            return None;
        }
        let prefix = held
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != skip)
            .fold(crate::held::CHAIN_ROOT, |key, (_, h)| {
                chain_step(key, HeldLock::descriptor(h.node, h.access, h.trylock))
            });
        let key = chain_step(prefix, HeldLock::descriptor(acq.node, acq.access, true));
        if t.cache[cache_slot(key)] | 1 == key | 1 {
            return None;
        }
        Some((Snapshot::of(held, skip), key))
    });
    let Some((held, key)) = found else {
        return Vec::new();
    };
    if GLOBAL.chains.contains(&key) {
        remember(key, acq, held.as_slice());
        return Vec::new();
    }
    slow_check(acq, held.as_slice(), key, Layer::Timed)
}

/// The slow path: a lock chain never validated in this process. `layer` says whether the
/// acquisition blocks or gives up after a timeout.
#[cold]
#[inline(never)]
fn slow_check(acq: &Acquisition, held: &[HeldLock], key: u64, layer: Layer) -> Vec<Report> {
    // Captured before taking the graph lock: it is the expensive part.
    let trace = Trace::for_dependency();
    let mut findings = Vec::new();
    let mut cycles = Vec::new();
    // For the LOCKDEP_GRAPH store: the dependencies added or refused here.
    let mut new_edges = Vec::new();

    // Recursion: another lock of this class (and subclass) is held. A recursive read beside
    // readers is fine; anything else can deadlock (a timed lock only stalls: not checked).
    if let Some(index) = held.iter().rposition(|h| {
        layer == Layer::Blocking
            && h.node == acq.node
            && !(acq.access.acquire_recursive() && h.access.held_shared())
    }) {
        if is_new(FindingKey::Recursive {
            node: acq.node,
            certain: false,
        }) && store::report_finding(FindingKind::Recursive, &[acq.node])
        {
            findings.push(recursion_report_with(
                acq,
                held,
                index,
                false,
                trace.clone(),
            ));
        }
    }

    {
        let mut graph = GLOBAL.graph.lock();
        // Edges from the held locks, topmost first, down to the first one that implies the rest.
        for (index, h) in held.iter().enumerate().rev() {
            if h.node != acq.node {
                // A full table still checks against what it recorded: the best knowledge left.
                let recorded = graph.edge_count() < MAX_DEPENDENCIES;
                let added = if recorded {
                    graph.add_dependency_in(layer, h.node, h.access, acq.node, acq.access, || {
                        trace.clone()
                    })
                } else {
                    if !DEPENDENCIES_FULL.swap(true, Ordering::Relaxed) {
                        mode::notice(format_args!(
                            "lockdep: the dependency table is full ({MAX_DEPENDENCIES} edges); new \
                             lock orders are no longer recorded, but every acquisition is still \
                             checked against the recorded ones (an inversion of an order first \
                             taken from now on goes unseen)"
                        ));
                    }
                    graph.check_dependency(layer, h.node, h.access, acq.node, acq.access)
                };
                match added {
                    Added::Known => {}
                    // The shared store holds blocking dependencies only (a timed one is a local
                    // warning-level matter, DESIGN.md rule 26), and only recorded ones.
                    Added::New => {
                        if layer == Layer::Blocking && recorded {
                            new_edges.push(store::NewEdge::new(h, acq, index, false));
                        }
                    }
                    Added::Cycle(path) => {
                        if layer == Layer::Blocking {
                            new_edges.push(store::NewEdge::new(h, acq, index, true));
                        }
                        let links: Vec<(NodeKey, NodeKey, u8, bool, Arc<Trace>)> = path
                            .windows(2)
                            .map(|w| {
                                let edge = graph.edge(
                                    w[1].via.expect("path steps after the first have an edge"),
                                );
                                let first_seen = edge.first_seen.clone();
                                (w[0].node, w[1].node, w[1].kinds, edge.n_write, first_seen)
                            })
                            .collect();
                        let nodes: Vec<NodeKey> = path.iter().map(|s| s.node).collect();
                        cycles.push((index, nodes, links));
                    }
                }
            }
            // Stop at the first lock below which every dependency is implied through this one.
            // A trylock implies nothing (nothing depends on it). A lock taken as a recursive
            // read does: the path below -(xR)-> it -(Sx)-> here has a dependency other than SR
            // exactly when the direct edge would (DESIGN.md, rules 4 and 10).
            if !h.trylock {
                break;
            }
        }
    }

    // Cycles through dependencies other processes recorded (an empty list without a store).
    let store_cycles = store::on_new_edges(&new_edges, &trace);

    for (index, nodes, links) in cycles {
        let mut canonical = nodes.clone();
        let min = canonical
            .iter()
            .enumerate()
            .min_by_key(|(_, n)| **n)
            .map_or(0, |(i, _)| i);
        canonical.rotate_left(min);
        let (finding, kind) = match layer {
            Layer::Blocking => (FindingKey::Cycle(canonical), ReportKind::CircularDependency),
            Layer::Timed => (
                FindingKey::TimedCycle(canonical),
                ReportKind::TimedInversion,
            ),
        };
        if !is_new(finding)
            || (layer == Layer::Blocking && !store::report_finding(FindingKind::Cycle, &nodes))
        {
            continue;
        }
        let holding = &held[index];
        let new_kinds = dep_kind(holding.access, acq.access);
        // For `graph::to_dot`, which draws reported cycles (closing edge included) in red.
        crate::graph::note_cycle(&nodes, layer.bits(new_kinds));
        findings.push(Report::new(ReportData {
            kind,
            classes: nodes.iter().map(|n| n.name()).collect(),
            thread: thread_name(),
            acquiring: acq.desc(false),
            holding: describe(holding),
            held: held.iter().map(describe).collect(),
            chain: links
                .into_iter()
                .map(|(from, to, kinds, n_write, first_seen)| ChainLink {
                    from: from.name(),
                    to: to.name(),
                    from_initialising: from.initialising(),
                    to_initialising: to.initialising(),
                    kinds,
                    n_write,
                    first_seen,
                })
                .collect(),
            new_kinds,
            certain: false,
            current: trace.clone(),
        }));
    }

    for cycle in store_cycles {
        if !store::report_stored(FindingKind::Cycle, cycle.nodes) {
            continue;
        }
        let holding = &held[cycle.held_index];
        findings.push(Report::new(ReportData {
            kind: ReportKind::CircularDependency,
            classes: cycle.classes,
            thread: thread_name(),
            acquiring: acq.desc(false),
            holding: describe(holding),
            held: held.iter().map(describe).collect(),
            chain: cycle.links,
            new_kinds: dep_kind(holding.access, acq.access),
            certain: false,
            current: trace.clone(),
        }));
    }

    if GLOBAL.chains.len() < MAX_CHAINS {
        GLOBAL.chains.insert(key);
    } else if !CHAINS_FULL.swap(true, Ordering::Relaxed) {
        eprintln!(
            "lockdep: the lock-chain cache is full ({MAX_CHAINS} chains); new chains are \
             validated again each time they are taken (slower, still correct)"
        );
    }
    remember(key, acq, held);
    findings
}

fn recursion_report(acq: &Acquisition, held: &Snapshot, index: usize, certain: bool) -> Report {
    recursion_report_with(acq, held.as_slice(), index, certain, Trace::capture())
}

fn recursion_report_with(
    acq: &Acquisition,
    held: &[HeldLock],
    index: usize,
    certain: bool,
    trace: Arc<Trace>,
) -> Report {
    Report::new(ReportData {
        kind: ReportKind::RecursiveLocking,
        classes: vec![acq.node.name()],
        thread: thread_name(),
        acquiring: acq.desc(false),
        holding: describe(&held[index]),
        held: held.iter().map(describe).collect(),
        chain: Vec::new(),
        new_kinds: 0,
        certain,
        current: trace,
    })
}

/// Delivers every report, even when delivering one panics (the `Panic` mode, a panicking
/// handler): each was marked as reported, so one left undelivered would be lost for good. The
/// first panic is raised again once all have been delivered.
///
/// The `Panic` mode's panic is returned, for the caller to raise where the user's acquisition
/// site is known.
#[must_use = "a pending panic must be raised"]
pub(crate) fn deliver_all(reports: Vec<Report>) -> Option<Pending> {
    if reports.is_empty() {
        return None;
    }
    enum First {
        Mode(Report),
        Handler(Box<dyn std::any::Any + Send>),
    }
    let mut first = None;
    for report in &reports {
        let delivered = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            mode::deliver_unless_panic(report)
        }));
        match delivered {
            Ok(false) => {}
            Ok(true) => {
                first.get_or_insert(First::Mode(report.clone()));
            }
            Err(payload) => {
                first.get_or_insert(First::Handler(payload));
            }
        }
    }
    match first {
        Some(First::Mode(report)) => Some(Pending(report)),
        Some(First::Handler(payload)) => std::panic::resume_unwind(payload),
        None => None,
    }
}

// ---- the hooks the lock types call ----

/// Before a blocking acquisition: validate, deliver findings (which may panic in `Panic` mode:
/// the lock has not been taken yet, so unwinding leaves everything consistent).
#[inline]
#[track_caller]
pub(crate) fn before_lock(acq: &Acquisition) {
    // Past MAX_LOCK_DEPTH the lock will not be tracked, and it is not validated either (leaked
    // guards keep the stack full for good, and the kernel turns lockdep off altogether here):
    // no chain, no graph. Only a certain self-deadlock against a tracked entry is still refused,
    // as promised whatever the mode: a tight pass over the stack for this very instance, and
    // only if it is there, the finer look at how it is held.
    if with_thread(|t| t.held.is_full() && !certain_conflict_when_full(&t.held, acq)) {
        return;
    }
    if let Some(pending) = validate(acq) {
        pending.raise();
    }
}

/// [`certain_conflict`] for the full stack's cheap path: one plain loop, cheap even unoptimised
/// (std's max-readers pattern fills the stack with the very lock being taken again).
#[inline]
fn certain_conflict_when_full(held: &HeldStack, acq: &Acquisition) -> bool {
    for h in held.as_slice() {
        if h.instance == acq.addr && self_conflict_is_certain(h.access, acq.access) {
            return true;
        }
    }
    false
}

/// After a lock (blocking or trylock) was taken: it is held now.
#[inline]
pub(crate) fn after_lock(acq: &Acquisition, trylock: bool) {
    /// What happened, acted on once the state is released.
    enum After {
        Pushed { new_max: bool },
        Overflowed { first: bool },
    }
    let after = with_thread(|t| {
        if t.held.is_full() {
            t.held.note_overflow(acq.addr);
            let first = !t.overflow_reported;
            t.overflow_reported = true;
            return After::Overflowed { first };
        }
        After::Pushed {
            new_max: t.held.push(acq.entry(trylock)),
        }
    });
    match after {
        After::Pushed { new_max: true } => new_max_depth(),
        After::Pushed { new_max: false } | After::Overflowed { first: false } => {}
        After::Overflowed { first: true } => eprintln!(
            "lockdep: this thread holds more than {MAX_LOCK_DEPTH} locks (MAX_LOCK_DEPTH); `{}` \
             and further locks are not tracked until it releases some",
            acq.node.name()
        ),
    }
}

/// A lock is being released.
#[inline]
pub(crate) fn release(addr: usize, how: Release) {
    // Guards are mostly dropped innermost first: popping the top needs no search or rekey, and
    // is small enough to inline into the guard's drop.
    // A nested entry (or any, while `unlocked` records exist) goes the general way too.
    let popped = with_thread(|t| match t.held.as_slice().last() {
        Some(top)
            if top.instance == addr && how.matches(top.access) && !t.relocks.concerns(top) =>
        {
            t.held.pop();
            true
        }
        _ => false,
    });
    if !popped {
        release_slow(addr, how);
    }
}

/// A release of a lock that is not on top of the stack (or not tracked, or of interest to the
/// `unlocked` records).
#[cold]
#[inline(never)]
fn release_slow(addr: usize, how: Release) {
    with_thread(|t| {
        // Past MAX_LOCK_DEPTH the untracked locks are on top: found without a scan.
        if t.held.release_overflow(addr) {
            return;
        }
        let found = t
            .held
            .as_slice()
            .iter()
            .rposition(|h| h.instance == addr && how.matches(h.access));
        match found {
            Some(index) => {
                let removed = t.held.remove(index);
                if t.relocks.concerns(&removed) {
                    t.relocks.released(&removed);
                }
            }
            // Taken beyond MAX_LOCK_DEPTH, or of a class that could not be registered.
            None if t.held.overflowed > 0 => t.held.overflowed -= 1,
            None => {}
        }
    });
}

/// A plain raw acquisition of `addr` as `how` (`lock_api` relocking after a guard's
/// `unlocked`): the nested entry this thread last released that way, if any (`relock.rs`).
#[inline]
pub(crate) fn relock_entry(addr: usize, how: Release) -> Option<HeldLock> {
    with_thread(|t| t.relocks.take(addr, how))
}

/// Validates an upgrade (or a bump, which may let other threads in before retaking the lock):
/// the lock is acquired again as `access` while every other held lock stays held. It is
/// acquired at the node (class and subclass) its guard holds, and reported at the location
/// where the guard was taken: `lock_api` cannot pass the caller's location down.
#[track_caller]
pub(crate) fn before_reacquire(addr: usize, held_as: Release, access: Access) {
    if let Some((skip, acq)) = reacquisition(addr, held_as, access) {
        let pending = match check(&acq, Some(skip)) {
            Ok(reports) => deliver_all(reports),
            Err(pending) => Some(pending),
        };
        if let Some(pending) = pending {
            pending.raise();
        }
    }
}

/// The held entry of `addr` held as `held_as`, and its acquisition again as `access` at the
/// same node and with the same location.
fn reacquisition(addr: usize, held_as: Release, access: Access) -> Option<(usize, Acquisition)> {
    let (index, entry) = with_thread(|t| {
        let held = t.held.as_slice();
        held.iter()
            .rposition(|h| h.instance == addr && held_as.matches(h.access))
            .map(|i| (i, held[i]))
    })?;
    let acq = Acquisition {
        addr,
        node: entry.node,
        access,
        at: entry.at,
        asynchronous: entry.asynchronous,
    };
    Some((index, acq))
}

/// An upgrade or downgrade completed: the lock is now held as `access`.
pub(crate) fn change_access(addr: usize, from: Release, access: Access) {
    with_thread(|t| {
        if let Some(index) = t
            .held
            .as_slice()
            .iter()
            .rposition(|h| h.instance == addr && from.matches(h.access))
        {
            t.held.set_access(index, access);
        }
    });
}

/// A condition-variable wait releases the mutex: returns its entry, to be restored by
/// [`after_wait`].
pub(crate) fn before_wait(addr: usize) -> Option<HeldLock> {
    with_thread(|t| {
        let index = t
            .held
            .as_slice()
            .iter()
            .rposition(|h| h.instance == addr && h.access == Access::Write)?;
        Some(t.held.remove(index))
    })
}

/// The mutex was taken again after a wait. It is validated like any acquisition (locks taken
/// while it was released now come before it), but the report is delivered only once it is held
/// again, because the caller's guard will release it when unwinding.
#[track_caller]
pub(crate) fn after_wait(entry: Option<HeldLock>) {
    let Some(entry) = entry else { return };
    let acq = Acquisition {
        addr: entry.instance,
        node: entry.node,
        access: entry.access,
        at: entry.at,
        asynchronous: entry.asynchronous,
    };
    let reports = match check(&acq, None) {
        Ok(reports) => reports,
        Err(pending) => pending.raise(),
    };
    // Taken back by a blocking lock, whatever took it first: a trylock flag kept from the
    // original acquisition would let later acquisitions add edges from the locks below it.
    after_lock(&acq, false);
    if let Some(pending) = deliver_all(reports) {
        pending.raise();
    }
}

/// Runs `f` with a waiting mutex's `entry` back on the stack (a wait's condition runs with the
/// mutex held), removing it again afterwards, also when `f` unwinds.
pub(crate) fn held_during<R>(entry: Option<HeldLock>, f: impl FnOnce() -> R) -> R {
    let Some(entry) = entry else { return f() };
    let acq = Acquisition {
        addr: entry.instance,
        node: entry.node,
        access: entry.access,
        at: entry.at,
        asynchronous: entry.asynchronous,
    };
    after_lock(&acq, entry.trylock);
    struct Remove(usize);
    impl Drop for Remove {
        fn drop(&mut self) {
            release(self.0, Release::Exclusive);
        }
    }
    let _remove = Remove(entry.instance);
    f()
}

/// Before a timed acquisition (`try_lock_for`, `try_read_until`, ...): validate it in the timed
/// layer and deliver any finding, before the lock is tried.
pub(crate) fn before_timed_lock(acq: &Acquisition) {
    if let Some(pending) = deliver_all(check_timed(acq, None)) {
        pending.raise();
    }
}

/// Validates a timed upgrade (`try_upgrade_for`, ...) as a timed write acquisition of the lock
/// at the node its guard holds, every other held lock staying held.
pub(crate) fn before_timed_reacquire(addr: usize, held_as: Release, access: Access) {
    if let Some((skip, acq)) = reacquisition(addr, held_as, access) {
        if let Some(pending) = deliver_all(check_timed(&acq, Some(skip))) {
            pending.raise();
        }
    }
}

/// Validates `acq` as if the lock were taken here, without taking it (the kernel's
/// `might_lock`).
#[track_caller]
pub(crate) fn might_lock(acq: &Acquisition) {
    // Validated even past MAX_LOCK_DEPTH: it was asked for explicitly.
    if let Some(pending) = validate(acq) {
        pending.raise();
    }
}

/// A lock instance is being dropped (its identity ends). An entry this thread still holds for
/// it can only come from a leaked guard (a live guard borrows the lock): it is removed, with
/// one message, so that the thread does not go on "holding" a lock that no longer exists.
#[inline]
pub(crate) fn instance_dropped(identity: usize) {
    let leaked = with_thread(|t| t.held.find(identity).is_some());
    if leaked {
        leaked_guard_of_dropped_lock(identity);
    }
}

#[cold]
#[inline(never)]
fn leaked_guard_of_dropped_lock(identity: usize) {
    let (first, count) = with_thread(|t| {
        let mut first = None;
        let mut count = 0;
        while let Some(index) = t.held.find(identity) {
            first = Some(t.held.remove(index));
            count += 1;
        }
        (first, count)
    });
    let Some(first) = first else { return };
    if mode::mode() == Mode::Off {
        return;
    }
    let times = if count == 1 {
        String::new()
    } else {
        format!(" ({count} times)")
    };
    mode::notice(format_args!(
        "lockdep: a lock was dropped while thread '{}' still held it{times}: its guard was \
         leaked (mem::forget?). The lock: {}. It is no longer tracked as held.",
        thread_name(),
        describe(&first)
    ));
}

/// Is this lock instance held by the current thread?
pub(crate) fn is_held(addr: usize) -> bool {
    with_thread(|t| t.held.find(addr).is_some())
}

/// Class names of the locks this thread holds, outermost first.
pub(crate) fn held_classes() -> Vec<String> {
    // Copied out first: naming a class reads the class table and allocates.
    let held = with_thread(|t| Snapshot::of(t.held.as_slice(), None));
    held.as_slice().iter().map(|h| h.node.name()).collect()
}

/// A copy of this thread's held-lock entries, outermost first (deadlock detection's waiting
/// path: never called on an acquisition that did not have to wait).
#[cfg(feature = "deadlock_detection")]
pub(crate) fn held_entries() -> Vec<HeldLock> {
    let held = with_thread(|t| Snapshot::of(t.held.as_slice(), None));
    held.as_slice().to_vec()
}

/// How many locks the current thread holds (tracked ones).
pub fn held_count() -> usize {
    with_thread(|t| t.held.as_slice().len())
}

/// Registered class names, for statistics.
pub(crate) fn class_count() -> usize {
    registry::count()
}

// ---- the current held set: the seam for tasks (`task.rs`) ----
//
// The validator knows one held set per thread. A task's locks are put on top of its thread's
// stack when the task is polled and taken off again when the poll returns, so every check above
// sees "the task's locks and the thread's" as one stack, and none of it needs to know about
// tasks.

/// How many entries this thread's held stack has.
pub(crate) fn held_depth() -> usize {
    with_thread(|t| t.held.as_slice().len())
}

/// Moves the entries at `from` and above out of this thread's held stack, into `out`.
pub(crate) fn take_held_from(from: usize, out: &mut Vec<HeldLock>) {
    // Copied out under the borrow, pushed to `out` (which may allocate) after it.
    let taken = with_thread(|t| {
        let held = t.held.as_slice();
        if held.len() <= from {
            return None;
        }
        let taken = Snapshot::of(&held[from..], None);
        while t.held.as_slice().len() > from {
            t.held.pop();
        }
        Some(taken)
    });
    if let Some(taken) = taken {
        out.extend_from_slice(taken.as_slice());
    }
}

/// Moves this thread's async entries out of its held stack, into `out`, keeping the others.
pub(crate) fn take_async_held(out: &mut Vec<HeldLock>) {
    let taken = with_thread(|t| {
        if !t.held.as_slice().iter().any(|h| h.asynchronous) {
            return None;
        }
        let taken = Snapshot::of(t.held.as_slice(), None);
        let mut index = t.held.as_slice().len();
        while index > 0 {
            index -= 1;
            if t.held.as_slice()[index].asynchronous {
                t.held.remove(index);
            }
        }
        Some(taken)
    });
    if let Some(taken) = taken {
        out.extend(taken.as_slice().iter().filter(|h| h.asynchronous));
    }
}

/// Puts `entries` back on top of this thread's held stack, in order, with fresh chain keys.
/// Entries beyond [`MAX_LOCK_DEPTH`] are counted as untracked, as any lock taken there is.
pub(crate) fn restore_held(entries: &[HeldLock]) {
    if entries.is_empty() {
        return;
    }
    with_thread(|t| {
        for entry in entries {
            if t.held.is_full() {
                t.held.overflowed += 1;
            } else {
                t.held.push(*entry);
            }
        }
    });
}

/// Whether this thread holds a sync (not async) lock at stack index `from` or above.
pub(crate) fn holds_sync_from(from: usize) -> bool {
    with_thread(|t| {
        t.held
            .as_slice()
            .get(from..)
            .is_some_and(|above| above.iter().any(|h| !h.asynchronous))
    })
}

/// Whether a finding of this identity is new (a lock class held across `.await` at a place).
pub(crate) fn is_new_held_across_await(
    node: NodeKey,
    at: Option<&'static Location<'static>>,
) -> bool {
    is_new(FindingKey::HeldAcrossAwait {
        node,
        at: at.map_or(0, |at| at as *const Location<'static> as usize),
    })
}

/// This thread's name, as reports write it.
pub(crate) fn current_thread_name() -> String {
    thread_name()
}

/// A held entry as reports describe it.
pub(crate) fn describe_held(h: &HeldLock) -> LockDesc {
    describe(h)
}
