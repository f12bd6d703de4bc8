//! The class dependency graph as a plain data structure: no locking, no globals, no I/O.
//!
//! Nodes are (class, subclass) keys; an edge `A -> B` means "B was acquired while A was held".
//! Each edge carries the kernel's four dependency kinds as bits (holder side **E**xclusive or
//! **S**hared, acquirer side **R**ecursive-read or **N**ot) and a payload recorded when the edge
//! was first seen (the validator stores a backtrace there).
//!
//! A new dependency is a deadlock when it closes a cycle with at least one dependency that is
//! not `-(SR)->` (the rule for `lock_api`'s recursive reads, which only skip the queue while the
//! lock is read-held at the moment of the call; see [`DepGraph::find_deadlock_path`]).
//! That breadth-first search is the counterpart of the kernel's `check_noncircular`. Timed
//! acquisitions record their dependencies in a layer of their own ([`Layer`]), searched apart.
//!
//! Unlike the kernel's, the search does not cost more as the graph grows: an incremental
//! topological order of the graph's components ([`order`]) proves most new dependencies
//! cycle-free without a search (the acquired lock comes later in the order than the held one),
//! and bounds the others' search to the nodes ranked between the two. The bound only leaves
//! out nodes that lie on no path between them, so the verdict and the path found are exactly
//! those of the search over the whole graph (`exhaustive`, kept for the tests and the benches).

use crate::access::Access;
use crate::class::NodeKey;
use crate::kinds::{dep_kind, DEP_EN, DEP_SN, DEP_SR};
use petgraph::graph::{DiGraph, EdgeIndex, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction;
use std::collections::{HashMap, VecDeque};

mod order;

/// Which kind of wait a dependency stands for. One edge keeps both layers' kinds in one byte:
/// the blocking kinds in the low four bits, the timed ones in the high four.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Layer {
    /// The acquirer blocks until it gets the lock: a cycle of these is a deadlock.
    Blocking,
    /// The acquirer gives up after a timeout (`try_lock_for`, `try_read_until`, ...): a cycle
    /// made only of these cannot hang for ever, but can stall every thread in it for its whole
    /// timeout, on every attempt.
    Timed,
}

impl Layer {
    fn shift(self) -> u32 {
        match self {
            Layer::Blocking => 0,
            Layer::Timed => 4,
        }
    }

    /// A kind (`DEP_*`) as stored in this layer.
    pub(crate) fn bits(self, kind: u8) -> u8 {
        kind << self.shift()
    }

    /// This layer's kinds of a stored edge, as `DEP_*` bits.
    pub(crate) fn kinds(self, bits: u8) -> u8 {
        (bits >> self.shift()) & 0xF
    }
}

/// The kernel's notation for a set of dependency kinds, e.g. `EN` or `SR/EN`; timed kinds (the
/// high four bits of a stored edge) are written with a `~`, e.g. `EN~`.
pub(crate) fn dep_label(dep: u8) -> String {
    // One spelling for the validator's reports and the store's tools (which also build
    // without the checks, where this module does not exist).
    crate::kinds::kinds_label(dep)
}

/// One edge of the graph.
#[derive(Debug)]
pub(crate) struct Dependency<P> {
    /// Which kinds have been seen: `DEP_*` bits for blocking acquisitions, the same shifted into
    /// the high four bits for timed ones ([`Layer`]).
    pub(crate) kinds: u8,
    /// What was recorded when the edge was first seen.
    pub(crate) first_seen: P,
    /// Whether some non-recursive (N) acquisition of the edge's target was a write (or a
    /// mutex): when none was, the report's scenario writes the target `rlock(...)`.
    pub(crate) n_write: bool,
    /// The kinds (as in `kinds`) that are here only because they closed a reported cycle
    /// ([`DepGraph::keep_refused`]): searched like the others, drawn as the closing edge.
    pub(crate) refused: u8,
}

/// One step of a path: a node and the edge that led to it (`None` for the first node).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Step {
    pub(crate) node: NodeKey,
    pub(crate) via: Option<EdgeIndex>,
    /// The dependency kinds of `via` that the strong path may use.
    pub(crate) kinds: u8,
}

/// What adding a dependency did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Added {
    /// This kind of dependency between these nodes was already known.
    Known,
    /// A new edge, or a new kind on an existing edge.
    New,
    /// The dependency would close a strong cycle; it was not added. The path runs from `next`
    /// through existing edges back to `prev`.
    Cycle(Vec<Step>),
}

/// The class graph.
pub(crate) struct DepGraph<P> {
    graph: DiGraph<NodeKey, Dependency<P>, u32>,
    index: HashMap<NodeKey, NodeIndex<u32>>,
    /// The edge between two nodes: petgraph's `find_edge` walks the source's edge list, which
    /// grows with the graph (hundreds of edges a node in a dense graph).
    edge_index: HashMap<(NodeIndex<u32>, NodeIndex<u32>), EdgeIndex<u32>>,
    /// The topological order of the graph's components that bounds the search.
    order: order::Order,
    /// Search the whole reachable graph, ignoring the order (the search before the order
    /// existed: the reference of the tests, and the benches' "before").
    exhaustive: bool,
    // Breadth-first search scratch space, kept between searches so that a search allocates
    // nothing once the graph has stopped growing.
    generation: u32,
    /// Per node: (generation, visited with a non-SR dependency on the path, visited without).
    marks: Vec<(u32, bool, bool)>,
    /// Per (node, state): the (node, state) and edge it was reached from.
    parents: Vec<(u32, Option<EdgeIndex>)>,
    queue: VecDeque<(NodeIndex<u32>, bool)>,
}

impl<P> Default for DepGraph<P> {
    fn default() -> Self {
        DepGraph {
            graph: DiGraph::default(),
            index: HashMap::new(),
            edge_index: HashMap::new(),
            order: order::Order::default(),
            exhaustive: false,
            generation: 0,
            marks: Vec::new(),
            parents: Vec::new(),
            queue: VecDeque::new(),
        }
    }
}

impl<P> DepGraph<P> {
    /// Number of nodes (class, subclass pairs that took part in a dependency).
    pub(crate) fn node_count(&self) -> usize {
        self.graph.node_count()
    }

    /// Number of edges.
    pub(crate) fn edge_count(&self) -> usize {
        self.graph.edge_count()
    }

    /// The underlying petgraph graph, for export.
    pub(crate) fn petgraph(&self) -> &DiGraph<NodeKey, Dependency<P>, u32> {
        &self.graph
    }

    /// Bytes the order and the search keep per node, beside petgraph's and the index's.
    pub(crate) const SEARCH_BYTES_PER_NODE: usize = order::Order::BYTES_PER_NODE
        + std::mem::size_of::<(u32, bool, bool)>()
        + 2 * std::mem::size_of::<(u32, Option<EdgeIndex>)>();

    /// Bytes the edge lookup keeps per edge (hashbrown: the entry, a control byte, and a table
    /// at most 7/8 full; up to twice that just after it grows).
    pub(crate) const LOOKUP_BYTES_PER_EDGE: usize =
        (std::mem::size_of::<((NodeIndex<u32>, NodeIndex<u32>), EdgeIndex<u32>)>() + 1) * 8 / 7;

    /// Makes [`Self::find_deadlock_path`] search the whole reachable graph, as it did before
    /// the order bounded it (`true`), or not. The order is kept up to date either way.
    pub(crate) fn set_exhaustive(&mut self, exhaustive: bool) {
        self.exhaustive = exhaustive;
    }

    /// The node of `key`, created if new: placed first in the order when it is the holder of
    /// the dependency that creates it (`holder`), last when it is the acquired lock.
    fn node(&mut self, key: NodeKey, holder: bool) -> NodeIndex<u32> {
        if let Some(&index) = self.index.get(&key) {
            return index;
        }
        let index = self.graph.add_node(key);
        self.index.insert(key, index);
        self.order.push(holder);
        self.marks.push((0, false, false));
        self.parents.push((0, None));
        self.parents.push((0, None));
        index
    }

    /// The edge `from -> to`, if any.
    pub(crate) fn dependency(&self, from: NodeKey, to: NodeKey) -> Option<&Dependency<P>> {
        let (a, b) = (self.index.get(&from)?, self.index.get(&to)?);
        self.edge_index.get(&(*a, *b)).map(|&e| &self.graph[e])
    }

    /// The edge behind a path step.
    pub(crate) fn edge(&self, edge: EdgeIndex) -> &Dependency<P> {
        &self.graph[edge]
    }

    /// Records "`next` acquired as `next_access` while `prev` is held as `prev_access`", unless
    /// that closes a deadlock cycle. `first_seen` is called only when a new edge is created.
    // The validator names the layer ([`Self::add_dependency_in`]); the unit tests use this.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn add_dependency(
        &mut self,
        prev: NodeKey,
        prev_access: Access,
        next: NodeKey,
        next_access: Access,
        first_seen: impl FnOnce() -> P,
    ) -> Added {
        self.add_dependency_in(
            Layer::Blocking,
            prev,
            prev_access,
            next,
            next_access,
            first_seen,
        )
    }

    /// [`Self::add_dependency`] in the given layer: a blocking dependency is checked against
    /// the blocking ones, a timed one against the timed ones.
    pub(crate) fn add_dependency_in(
        &mut self,
        layer: Layer,
        prev: NodeKey,
        prev_access: Access,
        next: NodeKey,
        next_access: Access,
        first_seen: impl FnOnce() -> P,
    ) -> Added {
        debug_assert_ne!(
            prev, next,
            "self-dependencies are the recursion check's business"
        );
        let kind = dep_kind(prev_access, next_access);
        let bits = layer.bits(kind);
        let n_write = next_access == Access::Write;
        if let Some(dep) = self.dependency(prev, next) {
            if dep.kinds & bits != 0 {
                if n_write && !dep.n_write {
                    let (a, b) = (self.index[&prev], self.index[&next]);
                    if let Some(&e) = self.edge_index.get(&(a, b)) {
                        self.graph[e].n_write = true;
                    }
                }
                return Added::Known;
            }
        }
        if let Some(path) = self.find_deadlock_path(layer, next, prev, kind) {
            return Added::Cycle(path);
        }
        let (a, b) = (self.node(prev, true), self.node(next, false));
        match self.edge_index.get(&(a, b)).copied() {
            Some(e) => {
                self.graph[e].kinds |= bits;
                self.graph[e].n_write |= n_write;
            }
            None => {
                let e = self.graph.add_edge(
                    a,
                    b,
                    Dependency {
                        kinds: bits,
                        first_seen: first_seen(),
                        n_write,
                        refused: 0,
                    },
                );
                self.edge_index.insert((a, b), e);
                self.order.add_edge(&self.graph, a, b);
            }
        }
        Added::New
    }

    /// What [`Self::add_dependency_in`] would answer, recording nothing: used once the
    /// dependency table is full, so that new acquisitions are still checked against the
    /// recorded graph. `New` means "not known, and closes no cycle".
    pub(crate) fn check_dependency(
        &mut self,
        layer: Layer,
        prev: NodeKey,
        prev_access: Access,
        next: NodeKey,
        next_access: Access,
    ) -> Added {
        let kind = dep_kind(prev_access, next_access);
        if self
            .dependency(prev, next)
            .is_some_and(|dep| dep.kinds & layer.bits(kind) != 0)
        {
            return Added::Known;
        }
        match self.find_deadlock_path(layer, next, prev, kind) {
            Some(path) => Added::Cycle(path),
            None => Added::New,
        }
    }

    /// Records a dependency that [`Self::add_dependency_in`] refused because it closed a
    /// deadlock cycle (reported by the caller), marked as refused. Kept because later searches
    /// need it: a *different* cycle may run through it (a third lock taken under one of the
    /// two, and so on), and without the edge that cycle would go unseen in this run. The same
    /// dependency is `Known` from now on, so it is never reported twice; the order absorbs
    /// the cycle as one component.
    pub(crate) fn keep_refused(
        &mut self,
        layer: Layer,
        prev: NodeKey,
        prev_access: Access,
        next: NodeKey,
        next_access: Access,
        first_seen: P,
    ) {
        let bits = layer.bits(dep_kind(prev_access, next_access));
        let n_write = next_access == Access::Write;
        let (a, b) = (self.node(prev, true), self.node(next, false));
        match self.edge_index.get(&(a, b)).copied() {
            Some(e) => {
                let dep = &mut self.graph[e];
                dep.refused |= bits & !dep.kinds;
                dep.kinds |= bits;
                dep.n_write |= n_write;
            }
            None => {
                let e = self.graph.add_edge(
                    a,
                    b,
                    Dependency {
                        kinds: bits,
                        first_seen,
                        n_write,
                        refused: bits,
                    },
                );
                self.edge_index.insert((a, b), e);
                self.order.add_edge(&self.graph, a, b);
            }
        }
    }

    /// Inserts (or widens) the edge `prev -> next` with `kinds` without any check: for
    /// dependencies another process recorded, and for the offline search, which must see the
    /// closing edges that were refused online. `first_seen` is kept only for a new edge.
    pub(crate) fn insert_dependency(
        &mut self,
        prev: NodeKey,
        next: NodeKey,
        kinds: u8,
        first_seen: P,
    ) {
        let (a, b) = (self.node(prev, true), self.node(next, false));
        match self.edge_index.get(&(a, b)).copied() {
            Some(e) => self.graph[e].kinds |= kinds,
            None => {
                let e = self.graph.add_edge(
                    a,
                    b,
                    Dependency {
                        kinds,
                        first_seen,
                        // A stored dependency says how the lock was waited for (N), not whether
                        // it was written: a non-recursive acquisition is shown as `lock`.
                        n_write: kinds & (DEP_EN | DEP_SN) != 0,
                        refused: 0,
                    },
                );
                self.edge_index.insert((a, b), e);
                // Unchecked: this may close any cycle, which the order absorbs (a component).
                self.order.add_edge(&self.graph, a, b);
            }
        }
    }

    /// Is there a path from `start` to `target`, over the dependencies of `layer`, such that
    /// closed by a dependency of kind `closing` (`DEP_*`) out of `target` into `start` it makes a
    /// deadlock cycle? Returns the path, `start` first; each step's `kinds` are the edge's kinds
    /// in that layer, as `DEP_*` bits.
    ///
    /// The rule (see DESIGN.md, rule 10): every reader-writer lock here is a `lock_api` raw lock,
    /// whose recursive read is only promised not to block while the lock is read-held *at the
    /// moment of the call*; once parked it can stay behind a writer that queued meanwhile. Call
    /// a lock of a cycle a *breaking junction* when it is entered by `-(xR)->` and left by
    /// `-(Sx)->`. A thread can wait for ever at a breaking junction only if it called before the
    /// reader there acquired it, and that reader called its own next lock later still; were every
    /// junction breaking, those "called before" relations would run round the whole cycle and
    /// contradict each other. So a cycle is a deadlock iff **at least one** junction is not
    /// breaking, that is (every edge being the way into one junction and the way out of the
    /// previous one) iff at least one of its dependencies is not `-(SR)->`. The search is a BFS
    /// over (node, "a dependency other than SR is on the path") states, preferring the set state,
    /// which subsumes the other.
    ///
    /// Every node of a path from `start` to `target` ranks between them in the order, so the
    /// search skips the others, and does not run at all when `start` ranks after `target`.
    /// Skipping a node that lies on no such path changes neither the verdict nor the path: no
    /// state that leads to `target` is ever reached through it, so the states that do are
    /// queued, and found, in the same order.
    pub(crate) fn find_deadlock_path(
        &mut self,
        layer: Layer,
        start: NodeKey,
        target: NodeKey,
        closing: u8,
    ) -> Option<Vec<Step>> {
        let (&start_ix, &target_ix) = (self.index.get(&start)?, self.index.get(&target)?);
        let (low, high) = if self.exhaustive {
            (0, u32::MAX)
        } else {
            (self.order.rank(start_ix), self.order.rank(target_ix))
        };
        if low > high {
            return None;
        }
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            // Wrapped: old marks could alias the new generation.
            self.marks.iter_mut().for_each(|m| *m = (0, false, false));
            self.generation = 1;
        }
        let generation = self.generation;
        self.queue.clear();
        let start_flag = closing & !DEP_SR != 0;
        self.visit(start_ix, start_flag, None);
        self.queue.push_back((start_ix, start_flag));

        while let Some((node, flag)) = self.queue.pop_front() {
            let mut edges = self
                .graph
                .neighbors_directed(node, Direction::Outgoing)
                .detach();
            while let Some((edge, next)) = edges.next(&self.graph) {
                let usable = layer.kinds(self.graph[edge].kinds);
                if usable == 0 {
                    continue;
                }
                let rank = self.order.rank(next);
                if rank < low || rank > high {
                    continue;
                }
                let next_flag = flag || usable & !DEP_SR != 0;
                let (mark_gen, seen_set, seen_clear) = self.marks[next.index()];
                let seen = mark_gen == generation && (seen_set || (!next_flag && seen_clear));
                if seen {
                    continue;
                }
                self.visit(next, next_flag, Some((node, flag, edge)));
                if next == target_ix && next_flag {
                    return Some(self.path_to(layer, target_ix, next_flag));
                }
                self.queue.push_back((next, next_flag));
            }
        }
        None
    }

    fn visit(
        &mut self,
        node: NodeIndex<u32>,
        flag: bool,
        parent: Option<(NodeIndex<u32>, bool, EdgeIndex)>,
    ) {
        let mark = &mut self.marks[node.index()];
        if mark.0 != self.generation {
            *mark = (self.generation, false, false);
        }
        if flag {
            mark.1 = true;
        } else {
            mark.2 = true;
        }
        let slot = node.index() * 2 + flag as usize;
        self.parents[slot] = match parent {
            Some((p, p_flag, edge)) => ((p.index() * 2 + p_flag as usize) as u32, Some(edge)),
            None => (u32::MAX, None),
        };
    }

    fn path_to(&self, layer: Layer, target: NodeIndex<u32>, flag: bool) -> Vec<Step> {
        let mut path = Vec::new();
        let mut slot = target.index() * 2 + flag as usize;
        loop {
            let node = NodeIndex::<u32>::new(slot / 2);
            let (parent, via) = self.parents[slot];
            path.push(Step {
                node: self.graph[node],
                via,
                kinds: via.map_or(0, |e| layer.kinds(self.graph[e].kinds)),
            });
            if parent == u32::MAX {
                break;
            }
            slot = parent as usize;
        }
        path.reverse();
        path
    }

    /// Every edge as (from, to, kinds, payload), for export and statistics.
    pub(crate) fn edges(&self) -> impl Iterator<Item = (NodeKey, NodeKey, &Dependency<P>)> {
        self.graph
            .edge_references()
            .map(|e| (self.graph[e.source()], self.graph[e.target()], e.weight()))
    }
}

#[cfg(test)]
mod tests;
