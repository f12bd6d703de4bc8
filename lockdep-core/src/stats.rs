//! Counters about the validator itself, like the kernel's `/proc/lockdep_stats`.

use std::fmt;
#[cfg(any(debug_assertions, feature = "release-checks"))]
use std::sync::atomic::{AtomicUsize, Ordering};

#[cfg(any(debug_assertions, feature = "release-checks"))]
pub(crate) static REPORTS: AtomicUsize = AtomicUsize::new(0);
#[cfg(any(debug_assertions, feature = "release-checks"))]
static MAX_DEPTH: AtomicUsize = AtomicUsize::new(0);

#[cfg(any(debug_assertions, feature = "release-checks"))]
pub(crate) fn note_dependency() {}

#[cfg(any(debug_assertions, feature = "release-checks"))]
#[inline]
pub(crate) fn note_depth(depth: usize) {
    // A relaxed load first: the shared line is only written when a new maximum is seen.
    if depth > MAX_DEPTH.load(Ordering::Relaxed) {
        MAX_DEPTH.fetch_max(depth, Ordering::Relaxed);
    }
}

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
}

/// The current figures (all zero with the checks compiled out).
pub fn stats() -> Stats {
    #[cfg(any(debug_assertions, feature = "release-checks"))]
    {
        use crate::validator::GLOBAL;
        let (nodes, dependencies, trace_bytes) = {
            let graph = GLOBAL.graph.lock();
            let mut traces = std::collections::HashSet::new();
            let trace_bytes: usize = graph
                .edges()
                .filter(|(_, _, dep)| traces.insert(std::sync::Arc::as_ptr(&dep.first_seen)))
                .map(|(_, _, dep)| 48 + dep.first_seen.depth() * std::mem::size_of::<usize>())
                .sum();
            (graph.node_count(), graph.edge_count(), trace_bytes)
        };
        let chains = crate::validator::chain_count();
        let classes = crate::validator::class_count();
        // petgraph stores a node in 12 bytes plus ours, an edge in 16 plus ours; the node index
        // map and the search marks add about 40 bytes a node; a cached chain about 16 bytes.
        let memory_bytes = nodes * (16 + 40)
            + dependencies * (16 + std::mem::size_of::<crate::depgraph::Dependency<std::sync::Arc<()>>>())
            + trace_bytes
            + chains * 16
            + classes * 48;
        Stats {
            classes,
            nodes,
            dependencies,
            chains,
            max_depth: MAX_DEPTH.load(Ordering::Relaxed),
            reports: REPORTS.load(Ordering::Relaxed),
            max_classes: crate::class::registry::MAX_CLASSES,
            max_dependencies: crate::validator::MAX_DEPENDENCIES,
            max_chains: crate::validator::MAX_CHAINS,
            max_lock_depth: crate::MAX_LOCK_DEPTH,
            memory_bytes,
        }
    }
    #[cfg(not(any(debug_assertions, feature = "release-checks")))]
    Stats::default()
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows: [(&str, String); 8] = [
            ("lock-classes", format!("{} [max: {}]", self.classes, self.max_classes)),
            ("graph nodes (class, subclass)", self.nodes.to_string()),
            (
                "direct dependencies",
                format!("{} [max: {}]", self.dependencies, self.max_dependencies),
            ),
            ("lock chains", format!("{} [max: {}]", self.chains, self.max_chains)),
            (
                "max locking depth",
                format!("{} [max: {}]", self.max_depth, self.max_lock_depth),
            ),
            ("reports raised", self.reports.to_string()),
            ("memory used (approx.)", format!("{} bytes", self.memory_bytes)),
            ("checking", if cfg!(any(debug_assertions, feature = "release-checks")) {
                format!("compiled in, mode {:?}", crate::mode())
            } else {
                "compiled out".to_string()
            }),
        ];
        for (name, value) in rows {
            writeln!(f, " {name:<32}: {value}")?;
        }
        Ok(())
    }
}
