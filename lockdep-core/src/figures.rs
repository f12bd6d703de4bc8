//! Figures the validator publishes for the modules that show them: the counters `stats` prints
//! and the reported cycles `graph::to_dot` draws in red.
//!
//! It sits below the validator, `mode`, `stats` and `graph` and imports none of them, so that
//! figures flow one way: the validator and `mode` write here, `stats` and `graph` read.

use crate::class::NodeKey;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Reports raised (each distinct finding once).
static REPORTS: AtomicUsize = AtomicUsize::new(0);
/// Most locks one thread has held at once.
static MAX_DEPTH: AtomicUsize = AtomicUsize::new(0);

/// A report was raised.
#[inline]
pub(crate) fn note_report() {
    REPORTS.fetch_add(1, Ordering::Relaxed);
}

/// Reports raised so far.
pub(crate) fn reports() -> usize {
    REPORTS.load(Ordering::Relaxed)
}

/// A thread holds `depth` locks, more than it ever did.
#[inline]
pub(crate) fn note_depth(depth: usize) {
    // A relaxed load first: the shared line is only written when a new maximum is seen.
    if depth > MAX_DEPTH.load(Ordering::Relaxed) {
        MAX_DEPTH.fetch_max(depth, Ordering::Relaxed);
    }
}

/// Most locks one thread has held at once.
pub(crate) fn max_depth() -> usize {
    MAX_DEPTH.load(Ordering::Relaxed)
}

/// A cycle the validator reported: its nodes, from the lock being acquired along the recorded
/// edges to the held lock that closes it, and the dependency kinds of the closing edge (which is
/// not in the graph).
#[derive(Clone)]
pub(crate) struct ReportedCycle {
    pub(crate) nodes: Vec<NodeKey>,
    pub(crate) closing_kinds: u8,
}

static CYCLES: parking_lot::Mutex<Vec<ReportedCycle>> = parking_lot::const_mutex(Vec::new());

/// Remembers a reported cycle. `nodes` runs from the lock being acquired to the held lock; the
/// closing edge runs from the last node back to the first.
pub(crate) fn note_cycle(nodes: &[NodeKey], closing_kinds: u8) {
    CYCLES.lock().push(ReportedCycle {
        nodes: nodes.to_vec(),
        closing_kinds,
    });
}

/// The cycles reported so far, in order.
pub(crate) fn reported_cycles() -> Vec<ReportedCycle> {
    CYCLES.lock().clone()
}
