//! The validator's concurrent maps, built with a fixed number of shards.
//!
//! `DashMap::new` sizes its shards from `available_parallelism`, which on Linux reads the
//! process's cgroup files: a dozen system calls, paid once per process at the first lock
//! class. A test suite runs many short processes, and each paid them (about a tenth of a
//! millisecond of a debug test binary's run). The maps here are read far more than written
//! (the lock-free memos in front of them answer most lookups), so a fixed count serves a
//! large machine as well.

use dashmap::DashMap;
use std::hash::{BuildHasher, Hash};

/// Shards of every map: enough that threads inserting new classes, chains or tasks at once
/// rarely meet on one, few enough that a map costs one small allocation.
pub(crate) const SHARDS: usize = 32;

/// An empty map with the default hasher and [`SHARDS`] shards.
pub(crate) fn map<K: Eq + Hash, V>() -> DashMap<K, V> {
    DashMap::with_shard_amount(SHARDS)
}

/// An empty map with `hasher` and [`SHARDS`] shards.
pub(crate) fn map_with<K: Eq + Hash, V, S: BuildHasher + Clone>(hasher: S) -> DashMap<K, V, S> {
    DashMap::with_hasher_and_shard_amount(hasher, SHARDS)
}
