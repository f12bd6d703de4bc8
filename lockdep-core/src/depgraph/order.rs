//! An incremental topological order of the graph's strongly connected components, so that most
//! new dependencies are proved cycle-free without a search and the others search only the
//! region that can hold a cycle.
//!
//! Why components and not nodes: the graph may hold cycles that are not deadlocks (every
//! dependency `-(SR)->`, DESIGN.md rule 10), and the store inserts other processes' dependencies
//! unchecked; a topological order of plain nodes would not exist then. Every edge here counts,
//! whatever its kinds or layer: a path of one layer is a path of this graph, so the order bounds
//! the search of either layer.
//!
//! The invariant: for every edge `u -> v`, `rank(u) <= rank(v)`, with equality exactly when
//! `u` and `v` lie on a common cycle (one component). Hence every node of a path `s ->* t`
//! ranks within `rank(s)..=rank(t)`, and there is no such path when `rank(s) > rank(t)`.
//!
//! Maintenance is Pearce and Kelly's ("A dynamic topological sort algorithm for directed
//! acyclic graphs", JEA 2007) over the components: a new edge `a -> b` with `rank(a) <
//! rank(b)` (or inside one component) changes nothing; otherwise the components reachable from
//! `b` that rank at most `rank(a)` (forward set F) and those reaching `a` that rank at least
//! `rank(b)` (backward set B) are found, and their positions reassigned: B first, then F, each
//! in its old relative order. When `a` is in F the edge closes a cycle: F ∩ B is the new
//! component, merged into one and placed between B and F. Edges are never removed, so
//! components only ever merge.

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::Direction;

/// Positions start here and grow both ways: a new node goes first or last without renumbering.
const MIDDLE: u32 = 1 << 31;

/// The order, indexed like the graph's nodes (petgraph hands them out as 0, 1, 2, ... and never
/// removes one).
pub(super) struct Order {
    /// Per node: its component, named by one node of it (the representative).
    component: Vec<u32>,
    /// Per node: the next node of its component, round a circular list (itself when alone).
    next: Vec<u32>,
    /// Per representative: the component's position. Distinct, not dense.
    position: Vec<u32>,
    /// The lowest and highest position handed out.
    front: u32,
    back: u32,
    // Scratch space kept between updates, so that an update allocates nothing once the graph
    // has stopped growing.
    generation: u32,
    /// Per representative: the generation it was last put in F, and in B.
    marks: Vec<(u32, u32)>,
    stack: Vec<u32>,
    forward: Vec<u32>,
    backward: Vec<u32>,
    slots: Vec<u32>,
}

impl Default for Order {
    fn default() -> Self {
        Order {
            component: Vec::new(),
            next: Vec::new(),
            position: Vec::new(),
            front: MIDDLE,
            back: MIDDLE - 1,
            generation: 0,
            marks: Vec::new(),
            stack: Vec::new(),
            forward: Vec::new(),
            backward: Vec::new(),
            slots: Vec::new(),
        }
    }
}

impl Order {
    /// Places the graph's newest node, a component of its own, before every other node
    /// (`first`) or after them. A node created as the holder of its first dependency goes
    /// first and one created as the acquired lock goes last: the edge that creates it then
    /// already agrees with the order.
    pub(super) fn push(&mut self, first: bool) {
        let node = self.component.len() as u32;
        let position = if first {
            self.front -= 1;
            self.front
        } else {
            self.back += 1;
            self.back
        };
        self.component.push(node);
        self.next.push(node);
        self.position.push(position);
        self.marks.push((0, 0));
    }

    /// The position of `node`'s component: see the module's invariant.
    pub(super) fn rank(&self, node: NodeIndex<u32>) -> u32 {
        self.position[self.component[node.index()] as usize]
    }

    /// Bytes kept per node (for the statistics).
    pub(super) const BYTES_PER_NODE: usize = 4 * 3 + 8;

    /// Restores the invariant after the edge `from -> to` was added to `graph`.
    pub(super) fn add_edge<N, E>(
        &mut self,
        graph: &DiGraph<N, E, u32>,
        from: NodeIndex<u32>,
        to: NodeIndex<u32>,
    ) {
        let (a, b) = (self.component[from.index()], self.component[to.index()]);
        let (low, high) = (self.position[b as usize], self.position[a as usize]);
        if a == b || high < low {
            return;
        }
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            // Wrapped: old marks could alias the new generation.
            self.marks.iter_mut().for_each(|m| *m = (0, 0));
            self.generation = 1;
        }
        let mut forward = std::mem::take(&mut self.forward);
        let mut backward = std::mem::take(&mut self.backward);
        self.reach(graph, b, Direction::Outgoing, low, high, &mut forward);
        self.reach(graph, a, Direction::Incoming, low, high, &mut backward);
        let generation = self.generation;
        let cycle = self.marks[a as usize].0 == generation;

        // The positions to hand out again: those of F and B (a component in both counted once).
        self.slots.clear();
        self.slots
            .extend(forward.iter().map(|&c| self.position[c as usize]));
        self.slots.extend(
            backward
                .iter()
                .filter(|&&c| self.marks[c as usize].0 != generation)
                .map(|&c| self.position[c as usize]),
        );
        self.slots.sort_unstable();

        // F ∩ B (only when the edge closes a cycle) leaves both lists; it becomes `a`'s component.
        let mut merged = std::mem::take(&mut self.stack);
        merged.clear();
        if cycle {
            merged.extend(
                forward
                    .iter()
                    .copied()
                    .filter(|&c| self.marks[c as usize].1 == generation),
            );
            forward.retain(|&c| self.marks[c as usize].1 != generation);
            backward.retain(|&c| self.marks[c as usize].0 != generation);
        }
        forward.sort_unstable_by_key(|&c| self.position[c as usize]);
        backward.sort_unstable_by_key(|&c| self.position[c as usize]);

        // B takes the lowest positions, F the highest, each keeping its old relative order; the
        // merged component (whose only edges from and to the rest of F ∪ B run from B and to F)
        // takes the next one after B's.
        for (&c, &slot) in backward.iter().zip(&self.slots) {
            self.position[c as usize] = slot;
        }
        let top = self.slots.len() - forward.len();
        for (&c, &slot) in forward.iter().zip(&self.slots[top..]) {
            self.position[c as usize] = slot;
        }
        if cycle {
            for &c in merged.iter().filter(|&&c| c != a) {
                self.merge(a, c);
            }
            self.position[a as usize] = self.slots[backward.len()];
        }
        self.stack = merged;
        self.forward = forward;
        self.backward = backward;
    }

    /// Collects into `out` the components reachable from component `root` along `direction`
    /// whose position lies in `low..=high` (`root` included), marking each as in F (outgoing)
    /// or B (incoming).
    fn reach<N, E>(
        &mut self,
        graph: &DiGraph<N, E, u32>,
        root: u32,
        direction: Direction,
        low: u32,
        high: u32,
        out: &mut Vec<u32>,
    ) {
        let generation = self.generation;
        let backward = direction == Direction::Incoming;
        let mark = |marks: &mut Vec<(u32, u32)>, c: u32| {
            let m = &mut marks[c as usize];
            let slot = if backward { &mut m.1 } else { &mut m.0 };
            let new = *slot != generation;
            *slot = generation;
            new
        };
        out.clear();
        self.stack.clear();
        mark(&mut self.marks, root);
        out.push(root);
        self.stack.push(root);
        while let Some(c) = self.stack.pop() {
            // Every member of the component, round its list.
            let mut node = c;
            loop {
                for neighbour in graph.neighbors_directed(NodeIndex::new(node as usize), direction)
                {
                    let d = self.component[neighbour.index()];
                    let position = self.position[d as usize];
                    if position < low || position > high || !mark(&mut self.marks, d) {
                        continue;
                    }
                    out.push(d);
                    self.stack.push(d);
                }
                node = self.next[node as usize];
                if node == c {
                    break;
                }
            }
        }
    }

    /// Moves every node of component `other` into component `into`.
    fn merge(&mut self, into: u32, other: u32) {
        let mut node = other;
        loop {
            self.component[node as usize] = into;
            node = self.next[node as usize];
            if node == other {
                break;
            }
        }
        // Two disjoint circular lists become one by exchanging one successor of each.
        self.next.swap(into as usize, other as usize);
    }
}
