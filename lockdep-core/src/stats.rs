//! Counters about the validator itself, like the kernel's `/proc/lockdep_stats`.
//!
//! It reads what the validator publishes (`figures`, the graph, the chain count) and writes
//! nothing back.

use std::fmt;

/// A snapshot of the validator's tables; `Display` prints it like `/proc/lockdep_stats`.
///
/// ```
/// let stats = lockdep_core::stats();
/// println!("{stats}");
/// assert!(stats.dependencies <= stats.max_dependencies);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Lock classes registered (a class is registered when one of its locks is first taken).
    pub classes: usize,
    /// Graph nodes: (class, subclass) pairs that took part in a dependency.
    pub nodes: usize,
    /// Dependencies (edges) recorded.
    pub dependencies: usize,
    /// Lock chains validated and cached.
    pub chains: usize,
    /// Most locks held at once by one thread.
    pub max_depth: usize,
    /// Reports raised (each distinct finding once).
    pub reports: usize,
    /// Distinct names interned by `named(...)` (each kept for the life of the process).
    pub names: usize,
    /// Capacity of the name table; locks named with a new name beyond it are not checked.
    pub max_names: usize,
    /// Capacity of the class table.
    pub max_classes: usize,
    /// Capacity of the dependency table.
    pub max_dependencies: usize,
    /// Capacity of the chain cache.
    pub max_chains: usize,
    /// Most locks one thread can hold and have tracked.
    pub max_lock_depth: usize,
    /// Approximate bytes of memory held by the graph, the stored backtraces and the caches.
    pub memory_bytes: usize,
    /// Plain tokio tasks (feature `tokio`) that have a held set kept for them: each holds a
    /// lock now, or held one when another task last ran on its thread. A task that holds
    /// nothing has none, so this stays small however many tasks run.
    pub task_held_sets: usize,
    /// Releases posted to a task or thread that took a lock whose guard another one dropped,
    /// not yet applied by it. Posts to an owner that ended are not kept.
    pub posted_releases: usize,
}

/// The current figures (all zero with the checks compiled out).
pub fn stats() -> Stats {
    #[cfg(lockdep_checks)]
    {
        let (nodes, dependencies, trace_bytes) = {
            let graph = crate::graph::DEPENDENCIES.lock();
            let mut traces = std::collections::HashSet::new();
            let trace_bytes: usize = graph
                .edges()
                .filter(|(_, _, dep)| traces.insert(std::sync::Arc::as_ptr(&dep.first_seen)))
                .map(|(_, _, dep)| 48 + dep.first_seen.depth() * std::mem::size_of::<usize>())
                .sum();
            (graph.node_count(), graph.edge_count(), trace_bytes)
        };
        let chains = crate::validator::chain_count();
        #[cfg(feature = "tokio")]
        let task_held_sets = crate::task_held::home_count();
        #[cfg(feature = "tokio")]
        let home_bytes = crate::task_held::HOME_BYTES;
        #[cfg(not(feature = "tokio"))]
        let (task_held_sets, home_bytes) = (0, 0);
        let classes = crate::class::registry::count();
        // petgraph stores a node in 12 bytes plus ours, an edge in 16 plus ours; the node index
        // map adds about 16 bytes a node, the search's marks and the order what the graph says,
        // the edge lookup what the graph says an edge; a cached chain about 16 bytes.
        let memory_bytes = nodes
            * (16 + 16 + crate::depgraph::DepGraph::<()>::SEARCH_BYTES_PER_NODE)
            + dependencies
                * (16
                    + std::mem::size_of::<crate::depgraph::Dependency<std::sync::Arc<()>>>()
                    + crate::depgraph::DepGraph::<()>::LOOKUP_BYTES_PER_EDGE)
            + trace_bytes
            + chains * 16
            + classes * 48
            + task_held_sets * home_bytes;
        Stats {
            classes,
            nodes,
            dependencies,
            chains,
            max_depth: crate::figures::max_depth(),
            reports: crate::figures::reports(),
            names: crate::class::registry::name_count(),
            max_names: crate::class::registry::MAX_NAMES,
            max_classes: crate::class::registry::MAX_CLASSES,
            max_dependencies: crate::validator::MAX_DEPENDENCIES,
            max_chains: crate::validator::MAX_CHAINS,
            max_lock_depth: crate::MAX_LOCK_DEPTH,
            memory_bytes,
            task_held_sets,
            posted_releases: crate::task_held::posted_count(),
        }
    }
    #[cfg(not(lockdep_checks))]
    Stats::default()
}

/// The layout of the kernel's `/proc/lockdep_stats`: a label padded to a column, the figure
/// right-aligned in 11 characters, then the table's limit where there is one.
///
/// ```text
///  lock-classes:                            5 [max: 65536]
///  graph nodes (class, subclass):           5
///  direct dependencies:                     3 [max: 262144]
///  dependency chains:                       4 [max: 1048576]
///  max locking depth:                       2 [max: 48]
///  reports raised:                          1
///  memory used (bytes):                  1400
///  checking:                      compiled in, mode Panic
/// ```
impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows: [(&str, usize, Option<usize>); 7] = [
            ("lock-classes", self.classes, Some(self.max_classes)),
            ("graph nodes (class, subclass)", self.nodes, None),
            (
                "direct dependencies",
                self.dependencies,
                Some(self.max_dependencies),
            ),
            ("dependency chains", self.chains, Some(self.max_chains)),
            (
                "max locking depth",
                self.max_depth,
                Some(self.max_lock_depth),
            ),
            ("reports raised", self.reports, None),
            ("memory used (bytes)", self.memory_bytes, None),
        ];
        for (name, value, max) in rows {
            let label = format!("{name}:");
            write!(f, " {label:<30} {value:>11}")?;
            match max {
                Some(max) => writeln!(f, " [max: {max}]")?,
                None => writeln!(f)?,
            }
        }
        let checking = if cfg!(lockdep_checks) {
            format!("compiled in, mode {:?}", crate::mode())
        } else {
            "compiled out".to_string()
        };
        writeln!(f, " {:<30} {checking}", "checking:")
    }
}
