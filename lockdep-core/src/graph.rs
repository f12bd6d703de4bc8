//! The class dependency graph, drawn in Graphviz DOT: [`to_dot`], [`write_dot`], and the
//! `LOCKDEP_DOT` environment variable.
//!
//! Nodes are lock classes (at a nesting level: a nonzero subclass is its own node), labelled with
//! the class name, the subclass, how many lock instances of the class were taken and how many
//! of them are alive when the graph is drawn (at exit most locals are gone: "3 taken, 0 alive"). An edge `A -> B` means "B was taken while A was held", labelled with the kernel's dependency kinds
//! (`EN`, `ER`, `SN`, `SR`: holder side **E**xclusive or **S**hared, acquirer side
//! **R**ecursive read or **N**ot). Every cycle that was reported is drawn in red; its closing
//! edge, which the validator refused (and keeps only for the search of other cycles), is drawn
//! dashed.
//!
//! Nodes and edges are sorted by class name, so a program that takes the same locks produces the
//! same file on every run, whatever the thread interleaving. Render it with Graphviz:
//! `dot -Tsvg lockdep.dot -o lockdep.svg`.
//!
//! ## `LOCKDEP_DOT=path`
//! When this variable is set, the graph is written to `path` as the process exits (through
//! `atexit`, so at the normal end of `main`, at `std::process::exit`, and at the end of a test
//! binary). It is read once, when the graph is created (the first time the validator checks a
//! lock chain no thread has checked before, or the first [`to_dot`]); a process that never held
//! two locks at once has no graph, and writes no file. A process killed by a signal or
//! ending in an abort does not run exit handlers: call [`write_dot`] yourself there.
//!
//! Writing at exit rather than whenever the graph changes keeps file I/O (and rendering, which
//! is linear in the graph) off the validator's slow path, which runs while the application is
//! starting up and taking each lock order for the first time.

use std::io;
use std::path::Path;

#[cfg(lockdep_checks)]
use crate::class::{registry, NodeKey};

/// The process's class dependency graph, with the backtrace where each dependency was first
/// seen. The validator writes it (under this lock: its own, never instrumented); [`to_dot`] and
/// `stats` read it. Creating it arranges for `LOCKDEP_DOT` to be honoured at exit: the graph
/// owns its drawing, so the validator never needs to know about either.
#[cfg(lockdep_checks)]
pub(crate) static DEPENDENCIES: once_cell::sync::Lazy<
    parking_lot::Mutex<crate::depgraph::DepGraph<std::sync::Arc<crate::trace::Trace>>>,
> = once_cell::sync::Lazy::new(|| {
    install_exit_hook();
    parking_lot::Mutex::new(crate::depgraph::DepGraph::default())
});

/// The class dependency graph as a Graphviz DOT document (see the [module docs](self)).
///
/// With the checks compiled out there is no graph: the document is an empty `digraph`.
///
/// ```
/// use lockdep_core::Mutex;
///
/// let pool = Mutex::named("doc-dot-pool", ());
/// let conn = Mutex::named("doc-dot-conn", ());
/// {
///     let _p = pool.lock();
///     let _c = conn.lock();
/// }
/// let dot = lockdep_core::graph::to_dot();
/// assert!(dot.starts_with("digraph {"));
/// # if lockdep_core::CHECKS_COMPILED_IN {
/// assert!(dot.contains("label = \"doc-dot-pool\\nsubclass 0, 1 live instance\""));
/// # }
/// ```
pub fn to_dot() -> String {
    #[cfg(lockdep_checks)]
    return render::to_dot();
    #[cfg(not(lockdep_checks))]
    "digraph {\n}\n".to_string()
}

/// Writes [`to_dot`] to the file at `path`, replacing it.
///
/// ```no_run
/// lockdep_core::graph::write_dot("lockdep.dot")?;
/// // then: dot -Tsvg lockdep.dot -o lockdep.svg
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn write_dot(path: impl AsRef<Path>) -> io::Result<()> {
    std::fs::write(path, to_dot())
}

/// Arranges for `LOCKDEP_DOT` to be honoured at exit. Called once, when [`DEPENDENCIES`] is
/// created.
#[cfg(lockdep_checks)]
fn install_exit_hook() {
    use std::sync::OnceLock;
    static PATH: OnceLock<std::path::PathBuf> = OnceLock::new();

    extern "C" fn write_at_exit() {
        // Unwinding out of an `extern "C"` function aborts; a failure here only loses the file.
        let _ = std::panic::catch_unwind(|| {
            if let Some(path) = PATH.get() {
                if let Err(e) = write_dot(path) {
                    eprintln!("lockdep: cannot write LOCKDEP_DOT={}: {e}", path.display());
                }
            }
        });
    }

    let Some(path) = crate::message::env_var("LOCKDEP_DOT") else {
        return;
    };
    if PATH.set(path.into()).is_ok() {
        // SAFETY: `write_at_exit` is an `extern "C" fn()` that never unwinds, as `atexit` needs.
        if unsafe { libc::atexit(write_at_exit) } != 0 {
            eprintln!("lockdep: cannot register the LOCKDEP_DOT exit handler");
        }
    }
}

#[cfg(lockdep_checks)]
mod render {
    use super::{registry, NodeKey, DEPENDENCIES};
    use crate::depgraph::dep_label;
    use petgraph::dot::{Config, Dot};
    use petgraph::graph::{DiGraph, NodeIndex};
    use std::collections::{HashMap, HashSet};
    use std::fmt;

    /// A node as drawn.
    struct ClassNode {
        name: String,
        subclass: u32,
        instances: usize,
        /// Instances ever taken, dropped or not.
        seen: usize,
        in_cycle: bool,
    }

    /// An edge as drawn.
    struct DepEdge {
        kinds: u8,
        in_cycle: bool,
        /// The edge that would have closed a reported cycle: never recorded.
        closing: bool,
    }

    // `Dot` needs `Display` weights even though the labels come from the attribute getters
    // (petgraph's own labels write a newline as a left-justified `\l`).
    impl fmt::Display for ClassNode {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(&self.name)
        }
    }

    impl fmt::Display for DepEdge {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(&dep_label(self.kinds))
        }
    }

    /// A DOT string literal's contents: quotes and backslashes escaped, newlines as `\n`.
    fn escape(text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            match c {
                '"' | '\\' => {
                    out.push('\\');
                    out.push(c);
                }
                '\n' => out.push_str("\\n"),
                _ => out.push(c),
            }
        }
        out
    }

    fn node_attrs(node: &ClassNode) -> String {
        // Instances taken (every one resolved, not every one made), and those alive now: a
        // drawing made at exit, when the locals are gone, must not read as "no instance".
        let plural = if node.seen == 1 { "" } else { "s" };
        let label = format!(
            "{}\nsubclass {}, {} instance{plural} taken, {} alive",
            node.name, node.subclass, node.seen, node.instances
        );
        let color = if node.in_cycle {
            ", color = \"red\", fontcolor = \"red\", penwidth = 2"
        } else {
            ""
        };
        format!("label = \"{}\", shape = \"box\"{color} ", escape(&label))
    }

    fn edge_attrs(edge: &DepEdge) -> String {
        let kinds = dep_label(edge.kinds);
        if edge.closing {
            format!(
                "label = \"{kinds} (closes the cycle)\", color = \"red\", \
                 fontcolor = \"red\", style = \"dashed\", penwidth = 2 "
            )
        } else if edge.in_cycle {
            format!("label = \"{kinds}\", color = \"red\", fontcolor = \"red\", penwidth = 2 ")
        } else {
            format!("label = \"{kinds}\" ")
        }
    }

    pub(super) fn to_dot() -> String {
        // Copy what is needed and let go of the graph lock before naming anything: names come
        // from the class registry, which has its own lock.
        let (keys, deps): (Vec<NodeKey>, Vec<(NodeKey, NodeKey, u8)>) = {
            let graph = DEPENDENCIES.lock();
            (
                graph.petgraph().node_weights().copied().collect(),
                graph
                    .edges()
                    // A dependency kept after it closed a reported cycle is drawn as that
                    // cycle's closing edge, below, not twice.
                    .map(|(from, to, dep)| (from, to, dep.kinds & !dep.refused))
                    .filter(|&(_, _, kinds)| kinds != 0)
                    .collect(),
            )
        };
        let cycles: Vec<(Vec<NodeKey>, u8)> = crate::figures::reported_cycles()
            .into_iter()
            .map(|c| (c.nodes, c.closing_kinds))
            .collect();

        let mut cycle_nodes = HashSet::new();
        let mut cycle_edges = HashSet::new();
        let mut closing = Vec::new();
        for (nodes, kinds) in &cycles {
            cycle_nodes.extend(nodes.iter().copied());
            cycle_edges.extend(nodes.windows(2).map(|w| (w[0], w[1])));
            if let (Some(&first), Some(&last)) = (nodes.first(), nodes.last()) {
                closing.push((last, first, *kinds));
            }
        }

        let mut keys: Vec<(String, NodeKey)> = keys
            .into_iter()
            .chain(cycle_nodes.iter().copied())
            .collect::<HashSet<_>>()
            .into_iter()
            .map(|k| (registry::name(k.class()).to_string(), k))
            .collect();
        keys.sort();

        let mut drawn: DiGraph<ClassNode, DepEdge> = DiGraph::new();
        let mut index: HashMap<NodeKey, NodeIndex> = HashMap::new();
        for (name, key) in keys {
            let ix = drawn.add_node(ClassNode {
                name,
                subclass: key.subclass(),
                instances: registry::instances(key.class()),
                seen: registry::instances_seen(key.class()),
                in_cycle: cycle_nodes.contains(&key),
            });
            index.insert(key, ix);
        }
        let mut edges: Vec<(NodeIndex, NodeIndex, DepEdge)> = deps
            .into_iter()
            .map(|(from, to, kinds)| {
                let edge = DepEdge {
                    kinds,
                    in_cycle: cycle_edges.contains(&(from, to)),
                    closing: false,
                };
                (index[&from], index[&to], edge)
            })
            .chain(closing.into_iter().map(|(from, to, kinds)| {
                let edge = DepEdge {
                    kinds,
                    in_cycle: true,
                    closing: true,
                };
                (index[&from], index[&to], edge)
            }))
            .collect();
        edges.sort_by_key(|(from, to, edge)| (*from, *to, edge.closing));
        for (from, to, edge) in edges {
            drawn.add_edge(from, to, edge);
        }

        let dot = Dot::with_attr_getters(
            &drawn,
            &[Config::NodeNoLabel, Config::EdgeNoLabel],
            &|_, edge| edge_attrs(edge.weight()),
            &|_, (_, node)| node_attrs(node),
        );
        dot.to_string()
    }
}
