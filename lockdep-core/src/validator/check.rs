//! The slow path: a lock chain this thread has not validated yet. It is looked up among the
//! chains any thread validated (one shard read lock); only a chain nobody has seen takes the
//! graph lock, captures a backtrace and searches the graph for a cycle. Also the checks that
//! leave an entry out (upgrades) and those of timed acquisitions.
//!
//! Below the hot path (`acquire.rs`) and the hooks, which call it; it calls down only: into the
//! findings, the releases (to apply those posted to the cached tokio task), the seam (to claim
//! those other threads made) and the thread state.

use super::acquisition::{certain_conflict, Acquisition};
use super::depth::new_max_depth;
use super::findings::{
    deliver_all, is_new, recursion_report, recursion_report_with, FindingKey, Pending,
};
use super::names::{describe, thread_name};
use super::release::claim_posted;
use super::seam::claim_orphans;
use super::thread::{
    cache_slot, cache_tag, with_thread, CacheSlot, Snapshot, ThreadState, CLASS_HELD,
};
use super::{MAX_CHAINS, MAX_DEPENDENCIES};
use crate::class::NodeKey;
use crate::depgraph::{Added, Layer};
use crate::figures;
use crate::held::{chain_mix, chain_step, HeldLock};
use crate::kinds::dep_kind;
use crate::mode::{self, Mode};
use crate::report::{ChainLink, Report, ReportData, ReportKind};
use crate::store::format::FindingKind;
use crate::store::online as store;
use crate::trace::Trace;
use dashmap::DashMap;
use once_cell::sync::Lazy;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

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

/// The lock chains validated in this process (by any thread): a chain found here is only
/// copied into the thread's own cache.
static CHAINS: Lazy<DashMap<u64, (), BuildHasherDefault<KeyHasher>>> = Lazy::new(|| {
    // LOCKDEP_GRAPH: load the suite's shared graph before the first dependency is checked
    // (every check looks here before it reaches the graph).
    crate::store::online::init();
    crate::sharded::map_with(BuildHasherDefault::default())
});

static DEPENDENCIES_FULL: AtomicBool = AtomicBool::new(false);
static CHAINS_FULL: AtomicBool = AtomicBool::new(false);
/// How many chains [`CHAINS`] holds: counted as they go in, since the map's own `len` takes
/// every shard's lock, and it is asked at each new chain.
static CHAIN_COUNT: AtomicUsize = AtomicUsize::new(0);

/// How many lock chains were validated (for `stats`).
pub(crate) fn chain_count() -> usize {
    CHAIN_COUNT.load(Ordering::Relaxed)
}

/// What the fast check found.
enum Fast {
    /// Nothing to do: no locks held, checking off, or the chain was validated before.
    Clean,
    /// The same instance is held in a way that makes this acquisition hang.
    Certain(Snapshot, usize),
    /// A chain not validated by this thread yet: its link and key.
    Check(Snapshot, u64, u64),
}

fn fast_check(t: &ThreadState, acq: &Acquisition, skip: Option<usize>, off: bool) -> Fast {
    let held = t.held.as_slice();
    if let Some(i) = certain_conflict(held, acq, skip) {
        // The snapshot leaves the skipped entry out: the conflicting entry's index in it is one
        // less when it sat above the skipped one (an upgrade under a read of its own lock).
        let i = match skip {
            Some(skip) if skip < i => i - 1,
            _ => i,
        };
        return Fast::Certain(Snapshot::of_stack(&t.held, skip), i);
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
    let link = prefix ^ HeldLock::descriptor(acq.node, acq.access, false);
    if cached(t, link) {
        return Fast::Clean;
    }
    Fast::Check(Snapshot::of_stack(&t.held, skip), link, chain_mix(link))
}

/// Validates `acq` against this thread's held locks (leaving out entry `skip`, the lock being
/// upgraded or bumped). Returns the new findings, not yet delivered; panics — after delivering
/// the report — if the acquisition can only hang.
pub(super) fn check(acq: &Acquisition, skip: Option<usize>) -> Result<Vec<Report>, Pending> {
    // Releases made elsewhere first: a self-deadlock is certain only against a live entry. (A
    // caller that passes `skip` claimed them before it found that index.)
    if skip.is_none() {
        claim_orphans();
        claim_posted();
    }
    // An entry of this very lock taken through the raw API may be held by a token that another
    // thread releases (salsa's snapshots: this acquisition then waits for it, as with
    // `parking_lot`): it is left out of the check, as an upgrade leaves out the entry upgraded,
    // and taken off once the lock is taken (`slow_after` claims its release).
    let skip = skip.or_else(|| {
        with_thread(|t| {
            t.held
                .as_slice()
                .iter()
                .rposition(|h| h.instance == acq.addr && h.is_raw())
        })
    });
    // Read before the state is borrowed: the first read looks at the environment.
    let off = mode::mode() == Mode::Off;
    match with_thread(|t| fast_check(t, acq, skip, off)) {
        Fast::Clean => Ok(Vec::new()),
        Fast::Certain(held, index) => {
            let report = recursion_report(acq, held.as_slice(), index, true);
            if is_new(FindingKey::Recursive {
                node: acq.node,
                certain: true,
            }) {
                // The panic (or abort) below is due whatever the mode says; a handler's own
                // panic must not unwind from here either: on the raw paths the lock is not
                // taken yet, and a caller's guard may be waiting for it (`raw/checked`).
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    mode::deliver_unless_panic(&report)
                }));
            }
            Err(Pending::Certain(report))
        }
        Fast::Check(held, link, key) => {
            if CHAINS.contains_key(&key) {
                remember(link, key, acq, held.as_slice());
                return Ok(Vec::new());
            }
            Ok(slow_check(acq, &held, link, key, Layer::Blocking))
        }
    }
}

/// Validates `acq` and delivers its findings; returns the panic due, if any.
#[must_use = "a pending panic must be raised"]
pub(super) fn validate(acq: &Acquisition) -> Option<Pending> {
    match check(acq, None) {
        Ok(reports) => deliver_all(reports),
        Err(pending) => Some(pending),
    }
}

/// Whether this thread's cache holds the chain of `link`, flagged or not (see [`cache_tag`]).
fn cached(t: &ThreadState, link: u64) -> bool {
    (t.cache[cache_slot(link)].tag ^ t.cache_salt) | CLASS_HELD == link | CLASS_HELD
}

/// Caches a validated chain (its link and key) for this thread (see [`cache_tag`]); `held` is
/// the stack `acq` was validated against.
fn remember(link: u64, key: u64, acq: &Acquisition, held: &[HeldLock]) {
    let class_held = held.iter().any(|h| h.node.class() == acq.node.class());
    // The hot path pushes on a cached chain without looking at the maximum depth
    // (`HeldStack::push_validated`): it is raised here, before the chain can be hit.
    let grew = with_thread(|t| {
        t.cache[cache_slot(link)] = CacheSlot {
            tag: cache_tag(link, class_held) ^ t.cache_salt,
            key,
        };
        t.held.reach_depth(held.len() + 1)
    });
    if grew {
        new_max_depth();
    }
}

/// Validates a timed acquisition (`try_lock_for`, ...; leaving out entry `skip`, a lock being
/// upgraded) in the timed layer of the graph. It never panics for a self-deadlock: a timed lock
/// gives up. Chain keys are those of the acquisition taken as a trylock, which is never
/// validated otherwise, so they cannot be mistaken for a validated blocking chain.
pub(super) fn check_timed(acq: &Acquisition, skip: Option<usize>) -> Vec<Report> {
    if skip.is_none() {
        claim_orphans();
    }
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
        let link = prefix ^ HeldLock::descriptor(acq.node, acq.access, true);
        if cached(t, link) {
            return None;
        }
        Some((Snapshot::of_stack(&t.held, skip), link))
    });
    let Some((held, link)) = found else {
        return Vec::new();
    };
    let key = chain_mix(link);
    if CHAINS.contains_key(&key) {
        remember(link, key, acq, held.as_slice());
        return Vec::new();
    }
    slow_check(acq, &held, link, key, Layer::Timed)
}

/// The slow path: a lock chain never validated in this process. `layer` says whether the
/// acquisition blocks or gives up after a timeout.
#[cold]
#[inline(never)]
fn slow_check(
    acq: &Acquisition,
    snapshot: &Snapshot,
    link: u64,
    key: u64,
    layer: Layer,
) -> Vec<Report> {
    let held = snapshot.as_slice();
    // Captured before taking the graph lock: it is the expensive part.
    let trace = Trace::for_dependency();
    let mut findings = Vec::new();
    let mut cycles = Vec::new();
    // For the LOCKDEP_GRAPH store: the dependencies added or refused here.
    let mut new_edges = Vec::new();

    // Recursion: another lock of this class (and subclass) is held. A recursive read beside
    // readers is fine; anything else can deadlock (a timed lock only stalls: not checked). An
    // entry taken through the raw API may belong to a token another thread holds now (see
    // `HeldLock::RAW`): not a recursion of this thread's, as the kernel does not track a
    // lock taken for another owner (`down_read_non_owner`). Its orders are still recorded.
    if let Some(index) = held.iter().rposition(|h| {
        layer == Layer::Blocking
            && h.node == acq.node
            && !(acq.access.acquire_recursive() && h.access.held_shared())
            && !h.is_raw()
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
        let mut graph = crate::graph::DEPENDENCIES.lock();
        // Edges from the held locks, topmost first, down to the first one that implies the rest.
        for (index, h) in held.iter().enumerate().rev() {
            // A dependency refused here (it closed a cycle, reported) is kept in the graph, but
            // what it implies below was never checked: the walk goes on.
            let mut refused = false;
            if h.node != acq.node {
                // A full table still checks against what it recorded: the best knowledge left.
                let recorded = graph.edge_count() < MAX_DEPENDENCIES;
                let added = if recorded {
                    graph.add_dependency_in(layer, h.node, h.access, acq.node, acq.access, || {
                        trace.clone()
                    })
                } else {
                    if !DEPENDENCIES_FULL.swap(true, Ordering::Relaxed) {
                        crate::message::notice(format_args!(
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
                            new_edges.push(store::NewEdge::new(
                                (h.node, h.access, h.at),
                                acq.node,
                                acq.access,
                                index,
                                false,
                            ));
                        }
                    }
                    Added::Cycle(path) => {
                        refused = true;
                        if layer == Layer::Blocking {
                            new_edges.push(store::NewEdge::new(
                                (h.node, h.access, h.at),
                                acq.node,
                                acq.access,
                                index,
                                true,
                            ));
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
                        // Kept, marked, for the cycles that run through it (DESIGN.md 11b).
                        if recorded {
                            graph.keep_refused(
                                layer,
                                h.node,
                                h.access,
                                acq.node,
                                acq.access,
                                trace.clone(),
                            );
                        }
                    }
                }
            }
            // Stop at the first lock below which every dependency is implied through this one.
            // A trylock implies nothing (nothing depends on it). A lock taken as a recursive
            // read does: the path below -(xR)-> it -(Sx)-> here has a dependency other than SR
            // exactly when the direct edge would (DESIGN.md, rules 4 and 10). In the timed
            // layer nothing below a blocking entry is implied: the edges into it are blocking
            // ones, which the timed search does not follow (rule 26), so every held lock gets
            // its timed dependency.
            // Nor does an entry pushed before a lock below it was upgraded to exclusive: the
            // edges into it were recorded with the weaker access (`HeldStack::exact_from`).
            if !refused && !h.trylock && layer == Layer::Blocking && index < snapshot.exact_from {
                break;
            }
        }
    }

    if layer == Layer::Blocking && !cycles.is_empty() {
        // The lock goes on with a dependency refused: a later acquisition above it must not
        // take the locks below as implied through it (the same rule as after an upgrade), or
        // a second, unrelated cycle through them would go unseen in this run.
        with_thread(|t| {
            if t.held.depth() == held.len() {
                t.held.exact_from = t.held.exact_from.min(held.len());
            }
        });
    }
    if !new_edges.is_empty() {
        trace.warm_up_symbols();
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
        // Published for whoever draws reported cycles (`graph::to_dot`, in red).
        figures::note_cycle(&nodes, layer.bits(new_kinds));
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
                    from: from.display(),
                    to: to.display(),
                    from_initialising: from.initialising(),
                    to_initialising: to.initialising(),
                    kinds,
                    n_write,
                    first_seen,
                })
                .collect(),
            new_kinds,
            certain: false,
            yield_point: false,
            same_instance: false,
            current: trace.clone(),
        }));
    }

    for cycle in store_cycles {
        if !store::report_stored(FindingKind::Cycle, cycle.nodes) {
            continue;
        }
        let holding = &held[cycle.held_index];
        // The store names classes by their keys; the chain's two ends are this process's
        // classes, named as the rest of the report names them (with a `new` class's type).
        let mut links = cycle.links;
        if let Some(first) = links.first_mut().filter(|l| l.from == acq.node.name()) {
            first.from = acq.node.display();
        }
        if let Some(last) = links.last_mut().filter(|l| l.to == holding.node.name()) {
            last.to = holding.node.display();
        }
        findings.push(Report::new(ReportData {
            kind: ReportKind::CircularDependency,
            classes: cycle.classes,
            thread: thread_name(),
            acquiring: acq.desc(false),
            holding: describe(holding),
            held: held.iter().map(describe).collect(),
            chain: links,
            new_kinds: dep_kind(holding.access, acq.access),
            certain: false,
            yield_point: false,
            same_instance: false,
            current: trace.clone(),
        }));
    }

    if CHAIN_COUNT.load(Ordering::Relaxed) < MAX_CHAINS {
        if CHAINS.insert(key, ()).is_none() {
            CHAIN_COUNT.fetch_add(1, Ordering::Relaxed);
        }
    } else if !CHAINS_FULL.swap(true, Ordering::Relaxed) {
        eprintln!(
            "lockdep: the lock-chain cache is full ({MAX_CHAINS} chains); new chains are \
             validated again each time they are taken (slower, still correct)"
        );
    }
    remember(link, key, acq, held);
    findings
}
