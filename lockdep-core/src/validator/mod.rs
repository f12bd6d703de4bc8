//! The validator: checks each acquisition against the locks this thread holds, records new
//! dependencies in the class graph, and raises findings.
//!
//! The hot path — an acquisition whose lock chain was validated before — reads the thread's own
//! held-lock stack and a small thread-local cache of validated chain keys, and nothing shared.
//! A chain this thread has not seen yet is looked up in a process-wide `DashMap` (one shard read
//! lock); only a chain nobody has seen takes the graph lock, captures a backtrace and searches.
//!
//! One job per module:
//! - `thread`: the per-thread state and its thread-local access, the exit check;
//! - `acquire`: the validated path (hot check, push, release of the top entry) and the hooks
//!   every blocking acquisition and release goes through;
//! - `check`: the slow path with the graph (`check`, `slow_check`, `check_timed`, `remember`);
//! - `findings`: finding identities, reports, delivery;
//! - `hooks`: upgrades, bumps, condition-variable waits, timed locks, `might_lock`;
//! - `held_set`: the queries on the held set and the seam for tasks;
//! - `switch` (feature `tokio`): the stack brought in line with the plain tokio task running
//!   now, before each acquisition.
//!
//! Figures flow one way: the validator publishes its counters and reported cycles in
//! [`crate::figures`] and writes dependencies into [`crate::graph::DEPENDENCIES`]; `stats` and
//! `graph` read them. It knows nothing of DOT export or of `LOCKDEP_DOT`'s exit hook (the graph
//! installs that itself when it is created).

mod acquire;
mod check;
mod findings;
mod held_set;
mod hooks;
#[cfg(feature = "tokio")]
mod switch;
mod thread;

/// Without tokio there are no plain tasks to switch between.
#[cfg(not(feature = "tokio"))]
mod switch {
    use super::findings::Pending;

    #[inline(always)]
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    pub(crate) fn sync_point() -> Option<Pending> {
        None
    }

    #[inline(always)]
    pub(crate) fn notice_tasks() -> Option<Pending> {
        None
    }

    #[inline(always)]
    pub(crate) fn sync_point_quiet() {}

    #[inline(always)]
    pub(crate) fn first_acquisition() {}

    #[inline(always)]
    pub(crate) fn thread_exiting() {}

    #[inline(always)]
    pub(crate) fn claim_posted() {}
}

use crate::class::ClassCell;

pub(crate) use crate::held::Release;
#[cfg(any(feature = "tokio", feature = "futures", feature = "async-lock"))]
pub(crate) use acquire::release_then_rechecked;
pub(crate) use acquire::{
    acquire, acquire_holding, acquire_or_raise, after_lock, before_lock, release, release_then,
    relock_entry, Acquisition,
};
pub(crate) use check::chain_count;
pub(crate) use findings::{
    deliver_all, describe as describe_held, is_new_held_across_await,
    thread_name as current_thread_name, Pending,
};
pub use held_set::held_count;
#[cfg(feature = "deadlock_detection")]
pub(crate) use held_set::held_entries;
pub(crate) use held_set::{
    hand_off, held_classes, held_depth, holds_sync_from, instance_dropped, is_held, mark_raw,
    restore_held, set_task_site, take_async_held, take_held_from, take_over, TaskSite,
};
pub(crate) use hooks::{
    after_wait, before_reacquire, before_timed_lock, before_timed_reacquire, before_wait,
    change_access, held_during, might_lock,
};
#[cfg(feature = "tokio")]
pub(crate) use switch::plain_task_owner;

/// Most dependencies (edges) the graph holds (the kernel's MAX_LOCKDEP_ENTRIES is 32768).
pub const MAX_DEPENDENCIES: usize = 1 << 18;
/// Most validated lock chains remembered (the kernel's MAX_LOCKDEP_CHAINS is 65536).
pub const MAX_CHAINS: usize = 1 << 20;

/// A lock instance as the validator sees it.
#[derive(Clone, Copy)]
pub(crate) struct LockRef<'a> {
    /// The lock's class cell, which also gives its identity (see [`ClassCell`]).
    pub(crate) class: &'a ClassCell,
}
