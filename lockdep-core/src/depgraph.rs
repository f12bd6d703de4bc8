//! The class dependency graph as a plain data structure: no locking, no globals, no I/O.
//!
//! Nodes are (class, subclass) keys; an edge `A -> B` means "B was acquired while A was held".
//! Each edge carries the kernel's four dependency kinds as bits (holder side **E**xclusive or
//! **S**hared, acquirer side **R**ecursive-read or **N**ot) and a payload recorded when the edge
//! was first seen (the validator stores a backtrace there).
//!
//! A new dependency is a deadlock when it closes a *strong* cycle: a cycle in which no lock is
//! entered by a `-(xR)->` edge and left by a `-(Sx)->` edge (a recursive reader never waits for
//! a reader). [`DepGraph::find_strong_path`] is the breadth-first search that decides this, the
//! counterpart of the kernel's `check_noncircular`.

use crate::class::NodeKey;
use crate::held::Access;
use petgraph::graph::{DiGraph, EdgeIndex, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction;
use std::collections::{HashMap, VecDeque};

/// `-(SR)->`: held shared, acquired as a recursive read.
pub(crate) const DEP_SR: u8 = 1;
/// `-(ER)->`: held exclusively, acquired as a recursive read.
pub(crate) const DEP_ER: u8 = 2;
/// `-(SN)->`: held shared, acquired as a write or fair read.
pub(crate) const DEP_SN: u8 = 4;
/// `-(EN)->`: held exclusively, acquired as a write or fair read.
pub(crate) const DEP_EN: u8 = 8;

const DEP_EXCLUSIVE_HOLDER: u8 = DEP_ER | DEP_EN;
const DEP_NON_RECURSIVE: u8 = DEP_SN | DEP_EN;

/// The dependency kind of "`next` acquired as `acquired` while `prev` is held as `held`".
pub(crate) fn dep_kind(held: Access, acquired: Access) -> u8 {
    match (held.held_shared(), acquired.acquire_recursive()) {
        (true, true) => DEP_SR,
        (false, true) => DEP_ER,
        (true, false) => DEP_SN,
        (false, false) => DEP_EN,
    }
}

/// The kernel's notation for a set of dependency kinds, e.g. `EN` or `SR/EN`.
pub(crate) fn dep_label(dep: u8) -> String {
    [
        (DEP_ER, "ER"),
        (DEP_EN, "EN"),
        (DEP_SR, "SR"),
        (DEP_SN, "SN"),
    ]
    .iter()
    .filter(|(bit, _)| dep & bit != 0)
    .map(|(_, name)| *name)
    .collect::<Vec<_>>()
    .join("/")
}

/// One edge of the graph.
#[derive(Debug)]
pub(crate) struct Dependency<P> {
    /// Which of the four kinds have been seen (`DEP_*` bits).
    pub(crate) kinds: u8,
    /// What was recorded when the edge was first seen.
    pub(crate) first_seen: P,
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
    // Breadth-first search scratch space, kept between searches so that a search allocates
    // nothing once the graph has stopped growing.
    generation: u32,
    /// Per node: (generation, visited-via-N, visited-via-R-only).
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

    fn node(&mut self, key: NodeKey) -> NodeIndex<u32> {
        if let Some(&index) = self.index.get(&key) {
            return index;
        }
        let index = self.graph.add_node(key);
        self.index.insert(key, index);
        self.marks.push((0, false, false));
        self.parents.push((0, None));
        self.parents.push((0, None));
        index
    }

    /// The edge `from -> to`, if any.
    pub(crate) fn dependency(&self, from: NodeKey, to: NodeKey) -> Option<&Dependency<P>> {
        let (a, b) = (self.index.get(&from)?, self.index.get(&to)?);
        self.graph.find_edge(*a, *b).map(|e| &self.graph[e])
    }

    /// The edge behind a path step.
    pub(crate) fn edge(&self, edge: EdgeIndex) -> &Dependency<P> {
        &self.graph[edge]
    }

    /// Records "`next` acquired as `next_access` while `prev` is held as `prev_access`", unless
    /// that closes a strong cycle. `first_seen` is called only when a new edge is created.
    pub(crate) fn add_dependency(
        &mut self,
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
        if let Some(dep) = self.dependency(prev, next) {
            if dep.kinds & kind != 0 {
                return Added::Known;
            }
        }
        if let Some(path) = self.find_strong_path(
            next,
            next_access.acquire_recursive(),
            prev,
            prev_access.held_shared(),
        ) {
            return Added::Cycle(path);
        }
        let (a, b) = (self.node(prev), self.node(next));
        match self.graph.find_edge(a, b) {
            Some(e) => self.graph[e].kinds |= kind,
            None => {
                self.graph.add_edge(
                    a,
                    b,
                    Dependency {
                        kinds: kind,
                        first_seen: first_seen(),
                    },
                );
            }
        }
        Added::New
    }

    /// What [`Self::add_dependency`] would answer, recording nothing: used once the dependency
    /// table is full, so that new acquisitions are still checked against the recorded graph.
    /// `New` means "not known, and closes no cycle".
    pub(crate) fn check_dependency(
        &mut self,
        prev: NodeKey,
        prev_access: Access,
        next: NodeKey,
        next_access: Access,
    ) -> Added {
        let kind = dep_kind(prev_access, next_access);
        if self
            .dependency(prev, next)
            .is_some_and(|dep| dep.kinds & kind != 0)
        {
            return Added::Known;
        }
        match self.find_strong_path(
            next,
            next_access.acquire_recursive(),
            prev,
            prev_access.held_shared(),
        ) {
            Some(path) => Added::Cycle(path),
            None => Added::New,
        }
    }

    /// Is there a strong path from `start` to `target` such that, closed by a dependency out of
    /// `target` (held shared if `target_held_shared`) into `start` (entered as a recursive read
    /// if `start_entered_recursive`), it makes a strong cycle? Returns the path, `start` first.
    pub(crate) fn find_strong_path(
        &mut self,
        start: NodeKey,
        start_entered_recursive: bool,
        target: NodeKey,
        target_held_shared: bool,
    ) -> Option<Vec<Step>> {
        let (&start_ix, &target_ix) = (self.index.get(&start)?, self.index.get(&target)?);
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            // Wrapped: old marks could alias the new generation.
            self.marks.iter_mut().for_each(|m| *m = (0, false, false));
            self.generation = 1;
        }
        let generation = self.generation;
        self.queue.clear();
        self.visit(start_ix, start_entered_recursive, None);
        self.queue.push_back((start_ix, start_entered_recursive));

        while let Some((node, only_recursive)) = self.queue.pop_front() {
            // Entered by a recursive read, a lock may only be left through an edge whose holder
            // side is exclusive: a recursive reader does not wait for readers.
            let allowed = if only_recursive {
                DEP_EXCLUSIVE_HOLDER
            } else {
                u8::MAX
            };
            let mut edges = self
                .graph
                .neighbors_directed(node, Direction::Outgoing)
                .detach();
            while let Some((edge, next)) = edges.next(&self.graph) {
                let usable = self.graph[edge].kinds & allowed;
                if usable == 0 {
                    continue;
                }
                // Prefer the N state: it allows every edge out, so it subsumes the R state.
                let next_recursive = usable & DEP_NON_RECURSIVE == 0;
                let (mark_gen, seen_n, seen_r) = self.marks[next.index()];
                let seen = mark_gen == generation && (seen_n || (next_recursive && seen_r));
                if seen {
                    continue;
                }
                self.visit(next, next_recursive, Some((node, only_recursive, edge)));
                if next == target_ix && (!target_held_shared || !next_recursive) {
                    return Some(self.path_to(target_ix, next_recursive));
                }
                self.queue.push_back((next, next_recursive));
            }
        }
        None
    }

    fn visit(
        &mut self,
        node: NodeIndex<u32>,
        recursive: bool,
        parent: Option<(NodeIndex<u32>, bool, EdgeIndex)>,
    ) {
        let mark = &mut self.marks[node.index()];
        if mark.0 != self.generation {
            *mark = (self.generation, false, false);
        }
        if recursive {
            mark.2 = true;
        } else {
            mark.1 = true;
        }
        let slot = node.index() * 2 + recursive as usize;
        self.parents[slot] = match parent {
            Some((p, p_rec, edge)) => ((p.index() * 2 + p_rec as usize) as u32, Some(edge)),
            None => (u32::MAX, None),
        };
    }

    fn path_to(&self, target: NodeIndex<u32>, recursive: bool) -> Vec<Step> {
        let mut path = Vec::new();
        let mut slot = target.index() * 2 + recursive as usize;
        loop {
            let node = NodeIndex::<u32>::new(slot / 2);
            let (parent, via) = self.parents[slot];
            let only_recursive_parent = parent != u32::MAX && parent % 2 == 1;
            let kinds = via.map_or(0, |e| {
                self.graph[e].kinds
                    & if only_recursive_parent {
                        DEP_EXCLUSIVE_HOLDER
                    } else {
                        u8::MAX
                    }
            });
            path.push(Step {
                node: self.graph[node],
                via,
                kinds,
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
mod tests {
    use super::*;
    use Access::*;

    fn n(i: u32) -> NodeKey {
        NodeKey(i << 3)
    }

    fn add(g: &mut DepGraph<()>, a: u32, aa: Access, b: u32, ba: Access) -> Added {
        g.add_dependency(n(a), aa, n(b), ba, || ())
    }

    fn cycle_nodes(added: Added) -> Vec<NodeKey> {
        match added {
            Added::Cycle(path) => path.into_iter().map(|s| s.node).collect(),
            other => panic!("expected a cycle, got {other:?}"),
        }
    }

    #[test]
    fn abba_is_a_cycle_from_next_back_to_prev() {
        let mut g = DepGraph::default();
        assert_eq!(add(&mut g, 1, Write, 2, Write), Added::New);
        assert_eq!(add(&mut g, 1, Write, 2, Write), Added::Known);
        // Holding 2, acquiring 1: the path runs 1 -> 2.
        assert_eq!(
            cycle_nodes(add(&mut g, 2, Write, 1, Write)),
            vec![n(1), n(2)]
        );
        assert_eq!(g.edge_count(), 1, "a cycle-closing edge is not inserted");
    }

    #[test]
    fn long_cycle_reports_every_node_in_order() {
        let mut g = DepGraph::default();
        add(&mut g, 1, Write, 2, Write);
        add(&mut g, 2, Write, 3, Write);
        add(&mut g, 3, Write, 4, Write);
        assert_eq!(
            cycle_nodes(add(&mut g, 4, Write, 1, Write)),
            vec![n(1), n(2), n(3), n(4)]
        );
    }

    #[test]
    fn recursive_readers_do_not_wait_for_readers() {
        // A -(SR)-> B and B -(SR)-> A: two recursive readers never block each other.
        let mut g = DepGraph::default();
        assert_eq!(add(&mut g, 1, RecursiveRead, 2, RecursiveRead), Added::New);
        assert_eq!(add(&mut g, 2, RecursiveRead, 1, RecursiveRead), Added::New);
    }

    #[test]
    fn recursive_read_blocked_by_writer_holder() {
        // Held A as writer, recursive-read B; held B as writer, recursive-read A: deadlock.
        let mut g = DepGraph::default();
        add(&mut g, 1, Write, 2, RecursiveRead);
        assert!(matches!(
            add(&mut g, 2, Write, 1, RecursiveRead),
            Added::Cycle(_)
        ));
    }

    #[test]
    fn entered_recursive_left_shared_breaks_the_path() {
        // A -(ER)-> B -(SN)-> A: B is entered by a recursive read and left as a reader.
        let mut g = DepGraph::default();
        add(&mut g, 1, Write, 2, RecursiveRead);
        assert_eq!(add(&mut g, 2, Read, 1, Write), Added::New);
        // ...but A -(EN)-> B -(SN)-> A is a deadlock (B's reader waits behind a writer).
        let mut g = DepGraph::default();
        add(&mut g, 1, Write, 2, Read);
        assert!(matches!(add(&mut g, 2, Read, 1, Write), Added::Cycle(_)));
    }

    #[test]
    fn the_strong_state_wins_when_a_node_is_reachable_both_ways() {
        // 1 -> 2 both as recursive read (from a writer) and as a write; 2 -(SN)-> 3.
        // Through the N entry, 2 may be left as a reader, so 3 -> 1 closes a strong cycle.
        let mut g = DepGraph::default();
        add(&mut g, 1, Write, 2, RecursiveRead);
        add(&mut g, 1, Write, 2, Write);
        add(&mut g, 2, Read, 3, Write);
        let nodes = cycle_nodes(add(&mut g, 3, Write, 1, Write));
        assert_eq!(nodes, vec![n(1), n(2), n(3)]);
    }

    #[test]
    fn target_held_shared_needs_a_non_recursive_entry() {
        // 1 -(ER)-> 2 exists; now holding 2 as reader, acquire 1: 2 is entered recursively by the
        // old edge and left shared by the new one, so no deadlock.
        let mut g = DepGraph::default();
        add(&mut g, 1, Write, 2, RecursiveRead);
        assert_eq!(add(&mut g, 2, RecursiveRead, 1, Write), Added::New);
    }

    #[test]
    fn path_steps_carry_the_edge_kinds_used() {
        let mut g = DepGraph::default();
        add(&mut g, 1, Read, 2, Write);
        match add(&mut g, 2, Write, 1, Write) {
            Added::Cycle(path) => {
                assert_eq!(path.len(), 2);
                assert_eq!(path[0].via, None);
                assert_eq!(dep_label(path[1].kinds), "SN");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn labels_use_kernel_notation() {
        assert_eq!(dep_label(dep_kind(Write, Write)), "EN");
        assert_eq!(dep_label(dep_kind(Read, RecursiveRead)), "SR");
        assert_eq!(dep_label(dep_kind(Upgradable, Read)), "SN");
        assert_eq!(dep_label(DEP_ER | DEP_SN), "ER/SN");
    }
}
