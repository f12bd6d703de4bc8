//! The validator: checks each acquisition against the locks this thread holds, records new
//! dependencies in the class graph, and raises findings.
//!
//! The hot path — an acquisition whose lock chain was validated before — reads the thread's own
//! held-lock stack and a small thread-local cache of validated chain keys, and nothing shared.
//! A chain this thread has not seen yet is looked up in a process-wide `DashMap` (one shard read
//! lock); only a chain nobody has seen takes the graph lock, captures a backtrace and searches.
//!
//! One job per module, and imports run one way, from the top of this list down (no module
//! names one above it, directly or through others; `tests/module_graph.rs` checks it):
//! - `hooks`: upgrades, bumps, condition-variable waits, timed locks, `might_lock`;
//! - `held_set`: the queries on the held set (`is_held`, `held_locks`, ...) and hand-offs;
//! - `acquire`: the validated path (hot check and push) and the hooks every blocking
//!   acquisition goes through;
//! - `check`: the slow path with the graph (`check`, `slow_check`, `check_timed`, `remember`);
//! - `depth`: a push deeper than ever, and a thread's first acquisition;
//! - `release`: the release paths (the hot pop and the general way), the releases posted to a
//!   cached tokio task;
//! - `switch` (feature `tokio`): the stack brought in line with the plain tokio task running
//!   now, before each acquisition;
//! - `exit`: the exit check that names leaked guards;
//! - `seam`: entries that come and go other than by this thread's acquisitions and releases
//!   (a task's, other threads' releases, a dropped lock's leaked ones);
//! - `thread`: the per-thread state and its thread-local access;
//! - `findings`: finding identities, reports, delivery;
//! - `names`, `acquisition`: how reports name entries and threads; what an acquisition is.
//!
//! The hot path calls down into the slow path and the findings; nothing calls back up. Where a
//! lower module must run code of a higher one, it is handed a function: the exit check is given
//! the switch's `thread_exiting` by the switch itself, and the class table is given
//! `seam::instance_dropped` on each thread's first acquisition.
//!
//! Figures flow one way: the validator publishes its counters and reported cycles in
//! [`crate::figures`] and writes dependencies into [`crate::graph::DEPENDENCIES`]; `stats` and
//! `graph` read them. It knows nothing of DOT export or of `LOCKDEP_DOT`'s exit hook (the graph
//! installs that itself when it is created).

mod acquire;
mod acquisition;
mod check;
mod depth;
mod exit;
mod findings;
mod held_set;
mod hooks;
mod names;
mod release;
mod seam;
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
    pub(crate) fn in_line_now() -> bool {
        false
    }

    #[inline(always)]
    pub(crate) fn task_running() -> bool {
        false
    }
}

use crate::class::ClassCell;

pub(crate) use crate::held::Release;
#[cfg(any(feature = "tokio", feature = "futures", feature = "async-lock"))]
pub(crate) use acquire::{acquire, acquire_in_line};
pub(crate) use acquire::{
    acquire_entered, acquire_holding_entered, acquire_or_raise, after_lock, before_lock, enter,
    Entered,
};
// The typed layers' spelled-out hot path, which `deadlock_detection` replaces by a waiting one.
#[cfg(not(feature = "deadlock_detection"))]
pub(crate) use acquire::push_hot;
pub(crate) use acquisition::Acquisition;
pub(crate) use check::chain_count;
pub(crate) use findings::{deliver_all, is_new_held_across_await, Pending};
pub use held_set::held_count;
#[cfg(feature = "deadlock_detection")]
pub(crate) use held_set::held_entries;
pub(crate) use held_set::{hand_off, held_classes, is_held, mark_raw, take_over};
pub(crate) use hooks::{
    after_wait, before_reacquire, before_timed_lock, before_timed_reacquire, before_wait,
    change_access, held_during, might_lock,
};
pub(crate) use names::{
    describe as describe_held, set_task_site, thread_name as current_thread_name, TaskSite,
};
#[cfg(any(feature = "tokio", feature = "futures", feature = "async-lock"))]
pub(crate) use release::release_then_rechecked;
pub(crate) use release::{release, release_then, release_then_once, relock_entry};
pub(crate) use seam::{held_depth, holds_sync_from, restore_held, take_async_held, take_held_from};
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
    /// What the lock is, from its typed layer: names a class made by `new` in reports (read
    /// only where the class is registered). `None` from paths that do not know the type.
    pub(crate) ty: Option<crate::class::LockTypeFn>,
}
