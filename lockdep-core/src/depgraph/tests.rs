//! The graph and its search against exhaustive references.

use super::*;
use crate::kinds::DEP_ER;
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
fn a_kept_refused_dependency_is_known_and_carries_later_cycles() {
    let mut g = DepGraph::default();
    add(&mut g, 1, Write, 2, Write);
    assert_eq!(
        cycle_nodes(add(&mut g, 2, Write, 1, Write)),
        vec![n(1), n(2)]
    );
    g.keep_refused(Layer::Blocking, n(2), Write, n(1), Write, ());
    let kept = g.dependency(n(2), n(1)).expect("kept");
    assert_eq!((kept.kinds, kept.refused), (DEP_EN, DEP_EN));
    // Taken again: known, never reported twice.
    assert_eq!(add(&mut g, 2, Write, 1, Write), Added::Known);
    // 1 -> 3, then 3 -> 2 closes 2 -> 1 -> 3 -> 2, through the kept dependency only.
    assert_eq!(add(&mut g, 1, Write, 3, Write), Added::New);
    assert_eq!(
        cycle_nodes(add(&mut g, 3, Write, 2, Write)),
        vec![n(2), n(1), n(3)]
    );
    // A kind added later the ordinary way is not marked.
    g.keep_refused(Layer::Blocking, n(3), Write, n(2), Write, ());
    assert_eq!(g.dependency(n(3), n(2)).unwrap().refused, DEP_EN);
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
fn entered_recursive_left_shared_is_a_deadlock_for_lock_api_recursive_reads() {
    // A -(ER)-> B -(SN)-> A: B is a breaking junction, but A (entered by SN, left by ER) is
    // not: the recursive reader of B may have parked while B was write-held and stay behind
    // a writer queued since (the kernel, for truly recursive reads, would call this safe).
    let mut g = DepGraph::default();
    add(&mut g, 1, Write, 2, RecursiveRead);
    assert!(matches!(add(&mut g, 2, Read, 1, Write), Added::Cycle(_)));
    // ...and A -(EN)-> B -(SN)-> A is a deadlock under any rule.
    let mut g = DepGraph::default();
    add(&mut g, 1, Write, 2, Read);
    assert!(matches!(add(&mut g, 2, Read, 1, Write), Added::Cycle(_)));
}

#[test]
fn recursive_read_into_a_lock_held_as_reader_elsewhere_is_a_deadlock() {
    // 1 -(ER)-> 2 exists; now holding 2 as a reader, acquire 1: 2 -(SN)-> 1 closes a cycle
    // whose junction 1 is not breaking.
    let mut g = DepGraph::default();
    add(&mut g, 1, Write, 2, RecursiveRead);
    assert!(matches!(
        add(&mut g, 2, RecursiveRead, 1, Write),
        Added::Cycle(_)
    ));
}

#[test]
fn a_cycle_of_recursive_reads_under_readers_only_is_safe() {
    // Every junction breaking: 1 -(SR)-> 2 -(SR)-> 3 -(SR)-> 1.
    let mut g = DepGraph::default();
    assert_eq!(add(&mut g, 1, Read, 2, RecursiveRead), Added::New);
    assert_eq!(add(&mut g, 2, Read, 3, RecursiveRead), Added::New);
    assert_eq!(add(&mut g, 3, Upgradable, 1, RecursiveRead), Added::New);
    // One more kind on one edge of it: 2 -(SN)-> 3 makes junction 3 non-breaking.
    assert_eq!(
        cycle_nodes(add(&mut g, 2, Read, 3, Write)),
        vec![n(3), n(1), n(2)]
    );
}

#[test]
fn the_search_prefers_a_path_with_a_non_sr_dependency() {
    // 1 -(SR)-> 2 -(SR)-> 4 and 1 -(SR)-> 3 -(SN)-> 4: closing 4 -(SR)-> 1 is a deadlock
    // only through 3.
    let mut g = DepGraph::default();
    add(&mut g, 1, Read, 2, RecursiveRead);
    add(&mut g, 2, Read, 4, RecursiveRead);
    add(&mut g, 1, Read, 3, RecursiveRead);
    add(&mut g, 3, Read, 4, Write);
    assert_eq!(
        cycle_nodes(add(&mut g, 4, Read, 1, RecursiveRead)),
        vec![n(1), n(3), n(4)]
    );
}

#[test]
fn the_set_state_wins_when_a_node_is_reachable_both_ways() {
    // 1 -> 2 both as SR and as EN; 2 -(SR)-> 3; closing 3 -(SR)-> 1 needs the EN.
    let mut g = DepGraph::default();
    add(&mut g, 1, Read, 2, RecursiveRead);
    add(&mut g, 1, Write, 2, Write);
    add(&mut g, 2, Read, 3, RecursiveRead);
    match add(&mut g, 3, Read, 1, RecursiveRead) {
        Added::Cycle(path) => {
            let nodes: Vec<_> = path.iter().map(|s| s.node).collect();
            assert_eq!(nodes, [n(1), n(2), n(3)]);
            assert_eq!(dep_label(path[1].kinds), "EN/SR");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn timed_dependencies_are_a_layer_of_their_own() {
    let mut g = DepGraph::default();
    let timed = |g: &mut DepGraph<()>, a, b| {
        g.add_dependency_in(Layer::Timed, n(a), Write, n(b), Write, || ())
    };
    assert_eq!(timed(&mut g, 1, 2), Added::New);
    // A blocking 2 -> 1 against a timed 1 -> 2: the timed side gives up; no cycle.
    assert_eq!(add(&mut g, 2, Write, 1, Write), Added::New);
    // A timed 2 -> 1 against the timed 1 -> 2: a timed cycle.
    assert_eq!(cycle_nodes(timed(&mut g, 2, 1)), vec![n(1), n(2)]);
    assert_eq!(dep_label(g.dependency(n(1), n(2)).unwrap().kinds), "EN~");
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

/// Every simple path from `from` to `to` over `edges` (pair -> kinds), as the kinds of its
/// edges: the exhaustive reference the BFS is checked against.
fn simple_paths(
    edges: &HashMap<(u32, u32), u8>,
    from: u32,
    to: u32,
    seen: &mut Vec<u32>,
    kinds: &mut Vec<u8>,
    out: &mut Vec<Vec<u8>>,
) {
    if from == to {
        out.push(kinds.clone());
        return;
    }
    seen.push(from);
    for (&(a, b), &k) in edges {
        if a == from && !seen.contains(&b) {
            kinds.push(k);
            simple_paths(edges, b, to, seen, kinds, out);
            kinds.pop();
        }
    }
    seen.pop();
}

#[test]
fn agrees_with_an_exhaustive_search_on_random_graphs() {
    // A small xorshift generator: reproducible, no dependency.
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n
    };
    let accesses = [Write, Read, RecursiveRead, Upgradable];
    // The generator must reach both verdicts that matter: cycles, and cycles of SR only.
    let (mut cycles, mut sr_only) = (0, 0);
    for _ in 0..300 {
        let mut g = DepGraph::default();
        let mut edges: HashMap<(u32, u32), u8> = HashMap::new();
        for _ in 0..14 {
            let (a, b) = (next(6) as u32 + 1, next(6) as u32 + 1);
            if a == b {
                continue;
            }
            let (aa, ba) = (accesses[next(4) as usize], accesses[next(4) as usize]);
            let kind = dep_kind(aa, ba);
            let known = edges.get(&(a, b)).is_some_and(|k| k & kind != 0);
            let mut paths = Vec::new();
            simple_paths(&edges, b, a, &mut Vec::new(), &mut Vec::new(), &mut paths);
            // A deadlock: some cycle through the new dependency has a kind other than SR.
            let deadlock = paths
                .iter()
                .any(|p| kind != DEP_SR || p.iter().any(|k| k & !DEP_SR != 0));
            match add(&mut g, a, aa, b, ba) {
                Added::Known => assert!(known),
                Added::New => {
                    assert!(!known && !deadlock, "missed a cycle {a} -> {b}: {paths:?}");
                    sr_only += usize::from(!paths.is_empty());
                    *edges.entry((a, b)).or_default() |= kind;
                }
                Added::Cycle(path) => {
                    assert!(!known && deadlock, "false cycle {a} -> {b}");
                    cycles += 1;
                    // A real, simple path from b back to a with a non-SR kind on it.
                    let nodes: Vec<_> = path.iter().map(|s| s.node).collect();
                    assert_eq!((nodes[0], *nodes.last().unwrap()), (n(b), n(a)));
                    let mut sorted = nodes.clone();
                    sorted.sort();
                    sorted.dedup();
                    assert_eq!(sorted.len(), nodes.len(), "not simple: {nodes:?}");
                    let mut non_sr = kind != DEP_SR;
                    for w in path.windows(2) {
                        let pair = (w[0].node.0 >> 3, w[1].node.0 >> 3);
                        let stored = edges[&pair];
                        assert_eq!(w[1].kinds, stored);
                        non_sr |= stored & !DEP_SR != 0;
                    }
                    assert!(non_sr);
                }
            }
        }
    }
    assert!(
        cycles > 100 && sr_only > 10,
        "{cycles} cycles, {sr_only} SR-only"
    );
}

#[test]
fn labels_use_kernel_notation() {
    assert_eq!(dep_label(dep_kind(Write, Write)), "EN");
    assert_eq!(dep_label(dep_kind(Read, RecursiveRead)), "SR");
    assert_eq!(dep_label(dep_kind(Upgradable, Read)), "SN");
    assert_eq!(dep_label(DEP_ER | DEP_SN), "ER/SN");
}

/// The reference for the differential test: the edges as a map, searched by a plain
/// depth-first walk over (node, "a dependency other than SR is on the walk") states, with no
/// order and nothing shared with the graph's own code.
#[derive(Default)]
struct Reference {
    edges: HashMap<(u32, u32), u8>,
}

impl Reference {
    fn known(&self, layer: Layer, a: u32, b: u32, kind: u8) -> bool {
        self.edges
            .get(&(a, b))
            .is_some_and(|k| k & layer.bits(kind) != 0)
    }

    /// Is there a walk from `start` to `target` in `layer` that, closed by `closing`, has a
    /// dependency other than SR?
    fn deadlock(&self, layer: Layer, start: u32, target: u32, closing: u8) -> bool {
        let mut seen = std::collections::HashSet::new();
        let mut stack = vec![(start, closing & !DEP_SR != 0)];
        while let Some((node, flag)) = stack.pop() {
            if node == target && flag {
                return true;
            }
            if !seen.insert((node, flag)) {
                continue;
            }
            for (&(a, b), &bits) in &self.edges {
                let usable = layer.kinds(bits);
                if a == node && usable != 0 {
                    stack.push((b, flag || usable & !DEP_SR != 0));
                }
            }
        }
        false
    }

    /// Which nodes each node reaches, over every edge of either layer (itself included).
    fn closure(&self, nodes: u32) -> Vec<Vec<bool>> {
        let size = nodes as usize + 1;
        let reached_from = |from: usize| {
            let mut seen = vec![false; size];
            let mut stack = vec![from];
            while let Some(node) = stack.pop() {
                if !std::mem::replace(&mut seen[node], true) {
                    stack.extend(
                        self.edges
                            .keys()
                            .filter(|&&(a, _)| a as usize == node)
                            .map(|&(_, b)| b as usize),
                    );
                }
            }
            seen
        };
        (0..size).map(reached_from).collect()
    }
}

/// The order's invariant, against the reference's closure: an edge never runs backwards, and
/// two nodes share a rank exactly when each reaches the other. Returns whether some component
/// holds more than one node.
fn check_order(g: &DepGraph<usize>, model: &Reference, nodes: u32) -> bool {
    let rank = |i: u32| g.index.get(&n(i)).map(|&ix| g.order.rank(ix));
    for &(a, b) in model.edges.keys() {
        assert!(rank(a) <= rank(b), "edge {a} -> {b} runs backwards");
    }
    let reach = model.closure(nodes);
    let mut merged = false;
    for a in 1..=nodes {
        for b in (a + 1)..=nodes {
            let (Some(ra), Some(rb)) = (rank(a), rank(b)) else {
                continue;
            };
            let together = reach[a as usize][b as usize] && reach[b as usize][a as usize];
            assert_eq!(ra == rb, together, "nodes {a} and {b}: ranks {ra}, {rb}");
            merged |= together;
        }
    }
    merged
}

/// A path the graph reported: from `start` to `target` over edges the reference has, each
/// step carrying that edge's kinds in the layer, with a dependency other than SR on it.
fn check_path(model: &Reference, layer: Layer, path: &[Step], start: u32, target: u32, kind: u8) {
    let id = |s: &Step| s.node.0 >> 3;
    assert_eq!((id(&path[0]), id(path.last().unwrap())), (start, target));
    assert_eq!(path[0].via, None);
    let mut non_sr = kind & !DEP_SR != 0;
    for w in path.windows(2) {
        let stored = layer.kinds(model.edges[&(id(&w[0]), id(&w[1]))]);
        assert!(stored != 0 && w[1].via.is_some());
        assert_eq!(w[1].kinds, stored);
        non_sr |= stored & !DEP_SR != 0;
    }
    assert!(non_sr, "a path of SR dependencies only: {path:?}");
}

#[test]
fn the_bounded_search_agrees_with_the_exhaustive_one_on_random_programs() {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n
    };
    let held = [Write, Read, RecursiveRead, Upgradable];
    // Recursive reads often, so that cycles of SR dependencies (components) are common.
    let acquired = [
        Write,
        Read,
        RecursiveRead,
        RecursiveRead,
        RecursiveRead,
        Upgradable,
    ];
    let (mut cycles, mut merged, mut skipped, mut programs_merged) = (0, 0, 0, 0);
    for program in 0..3_000 {
        let nodes = 3 + next(8) as u32;
        let mut g: DepGraph<usize> = DepGraph::default();
        let mut model = Reference::default();
        let mut any_merged = false;
        for op in 0..40 {
            let (a, b) = (1 + next(nodes as u64) as u32, 1 + next(nodes as u64) as u32);
            if a == b {
                continue;
            }
            let choice = next(10);
            if choice == 0 {
                // As the store does: any kinds, unchecked; may close any cycle.
                let bits = 1 + next(255) as u8;
                g.insert_dependency(n(a), n(b), bits, op);
                *model.edges.entry((a, b)).or_default() |= bits;
            } else {
                let layer = if next(5) == 0 {
                    Layer::Timed
                } else {
                    Layer::Blocking
                };
                let (aa, ba) = (
                    held[next(held.len() as u64) as usize],
                    acquired[next(acquired.len() as u64) as usize],
                );
                let kind = dep_kind(aa, ba);
                let known = model.known(layer, a, b, kind);
                let deadlock = model.deadlock(layer, b, a, kind);
                // The search as it was before the order, run first: adding changes the graph.
                g.set_exhaustive(true);
                let reference = g.find_deadlock_path(layer, n(b), n(a), kind);
                g.set_exhaustive(false);
                let rank =
                    |g: &DepGraph<usize>, i: u32| g.index.get(&n(i)).map(|&x| g.order.rank(x));
                skipped += usize::from(rank(&g, b) > rank(&g, a) && rank(&g, a).is_some());
                let added = if choice == 1 {
                    g.check_dependency(layer, n(a), aa, n(b), ba)
                } else {
                    g.add_dependency_in(layer, n(a), aa, n(b), ba, || op)
                };
                let context = format!("program {program}, op {op}: {a} -> {b}, {layer:?}");
                match added {
                    Added::Known => assert!(known, "{context}"),
                    Added::New => {
                        assert!(!known && !deadlock, "{context}: missed a deadlock");
                        assert_eq!(reference, None, "{context}");
                        if choice != 1 {
                            let fresh = !model.edges.contains_key(&(a, b));
                            *model.edges.entry((a, b)).or_default() |= layer.bits(kind);
                            if fresh {
                                assert_eq!(g.dependency(n(a), n(b)).unwrap().first_seen, op);
                            }
                        }
                    }
                    Added::Cycle(path) => {
                        assert!(!known && deadlock, "{context}: false deadlock");
                        check_path(&model, layer, &path, b, a, kind);
                        assert_eq!(Some(path), reference, "{context}: another path");
                        cycles += 1;
                    }
                }
            }
            any_merged |= check_order(&g, &model, nodes);
            assert_eq!(g.edge_count(), model.edges.len());
        }
        programs_merged += usize::from(any_merged);
        merged += usize::from(check_order(&g, &model, nodes));
    }
    // The generator must reach every case that matters: deadlocks, components of several
    // nodes (cycles the graph keeps), and dependencies the order proves safe without a search.
    assert!(
        cycles > 10_000 && merged > 300 && programs_merged > 300 && skipped > 10_000,
        "{cycles} cycles, {merged} programs end with a component, {skipped} proved by the order"
    );
}
