//! Plain tokio tasks on a thread's stack (feature `tokio`): before each acquisition, the stack
//! is brought in line with the task tokio is running now (`task_held.rs` holds the data).
//!
//! The stack caches the entries of one task at a time, above the thread's own. When another
//! task shows up (tokio's current task id is not the cached one), the cached task's entries
//! leave the stack for its home and the new task's come from its home; a sync entry among the
//! leaving ones is a guard alive while its task is suspended: `HeldAcrossAwait`. When the same
//! task shows up again after running on another worker, its copy here is stale (the home says
//! which thread cached it last) and is replaced the same way. So every check sees "this task's
//! locks and the thread's", as under `.lockdep()`, without a wrapper.
//!
//! Below the paths that acquire and release (which call it before they look at the stack) and
//! above the seam it moves entries through: the releases posted to the cached task are applied
//! by `release.rs` (`claim_posted`), which calls down into this module, and the exit check is
//! handed [`thread_exiting`] rather than named here.

use super::exit;
use super::findings::{deliver_all, is_new_held_across_await, Pending};
use super::names::{describe, set_plain_task, thread_name};
use super::seam::{held_depth, restore_held, take_async_held, take_held_from};
use super::thread::with_thread;
use crate::held::HeldLock;
use crate::report::{Report, ReportData, ReportKind};
use crate::task_held;
use crate::trace::Trace;

/// Brings this thread's stack in line with the task running now; the panic due for a finding
/// (`HeldAcrossAwait`) raised on the way, for the caller to raise or print. On a thread never
/// seen running tokio tasks it asks tokio nothing (a call into tokio on every acquisition is a
/// tenth of an uncontended lock's cost): the first acquisition in a task goes the slow way (the
/// thread's first, a chain new to it, or an async lock), which looks ([`notice_tasks`]).
#[inline(always)]
#[must_use = "a pending panic must be raised or printed"]
pub(crate) fn sync_point() -> Option<Pending> {
    if !with_thread(|t| t.runs_tasks()) {
        return None;
    }
    sync_point_seen()
}

/// [`sync_point`] on the slow path: also notices a thread running tokio tasks.
#[inline]
#[must_use = "a pending panic must be raised or printed"]
pub(crate) fn notice_tasks() -> Option<Pending> {
    if !with_thread(|t| t.runs_tasks()) {
        if task_held::running_task() == 0 {
            return None;
        }
        runs_tasks();
    }
    sync_point_seen()
}

/// Whether a tokio task is running on this thread now. Asks tokio only, never the validator's
/// thread state: the hot check's out-of-line rest calls it with that state borrowed
/// (`acquire::hot_check_rest`, for a first lock on a thread not seen running tasks).
#[inline]
pub(crate) fn task_running() -> bool {
    task_held::running_task() != 0
}

/// This thread runs tokio tasks from now on (and has its exit check, which gives the task it
/// caches back when it ends).
pub(crate) fn runs_tasks() {
    with_thread(|t| t.set_runs_tasks());
    exit::register_leaving_tasks(thread_exiting);
}

/// A thread's first acquisition: inside a tokio runtime (the body of `block_on`, whose spawned
/// tasks a current-thread runtime polls on this thread), it runs tasks.
pub(crate) fn first_acquisition() {
    if tokio::runtime::Handle::try_current().is_ok() {
        runs_tasks();
    }
}

/// Inlined into the slow path, which is every acquisition of a thread that runs tasks (out of
/// line, the two calls cost an async lock+unlock in a plain task a tenth more).
#[inline]
fn sync_point_seen() -> Option<Pending> {
    let running = task_held::running_task();
    if task_held::is_current(running) {
        // The common case, on every acquisition of a thread that runs tasks: nothing more.
        // (Releases posted to the task are claimed by its async acquisitions and by the slow
        // path, `claim_posted`: a stale entry adds no dependency before either.)
        return None;
    }
    switch_to(running)
}

/// Whether no switch is due: the task running now (if any) is the one this thread's stack
/// caches, so [`sync_point_seen`] would do nothing. It asks tokio and this thread's task
/// record, never the validator's thread state: the hot check calls it with that state borrowed
/// (`acquire::hot_check_rest`), on a thread that runs tasks.
#[inline]
pub(crate) fn in_line_now() -> bool {
    task_held::is_current(task_held::running_task())
}

/// [`sync_point`] where no panic may be raised (after a lock was taken, a release, a query):
/// a due panic's report is printed instead (it was delivered already).
#[inline(always)]
pub(crate) fn sync_point_quiet() {
    if let Some(pending) = sync_point() {
        pending.print_instead("it was found where a panic would leave a lock without its guard");
    }
}

/// The task running now (its owner id, 0 for none), after bringing the stack in line with it.
#[inline]
pub(crate) fn plain_task_owner() -> u64 {
    if let Some(pending) = notice_tasks() {
        pending.print_instead("it was found where a panic would leave a lock without its guard");
    }
    task_held::cached_task()
}

/// The thread is exiting: the entries of the task its stack caches are the task's (or a stale
/// copy), not the thread's, and leave before the exit check looks for leaked guards.
pub(crate) fn thread_exiting() {
    let reports = leave_cached();
    enter(0);
    task_held::mark_exited();
    if let Some(pending) = deliver_all(reports) {
        pending.print_instead("the thread that found it was exiting");
    }
}

#[cold]
#[inline(never)]
fn switch_to(running: u64) -> Option<Pending> {
    if task_held::has_exited() {
        // Past the exit check (a task future dropped by a later thread-local destructor): the
        // thread caches nothing any more; the task's guards post their releases to it.
        return None;
    }
    let reports = leave_cached();
    enter(running);
    deliver_all(reports)
}

/// The cached task's entries leave the stack (for its home, unless another thread has taken
/// the task on since); without a cached task, the thread's own async entries are set aside.
fn leave_cached() -> Vec<Report> {
    let (task, home, base) = task_held::leave();
    if task == 0 {
        let mut own = Vec::new();
        take_async_held(&mut own);
        if !own.is_empty() {
            task_held::with_hidden(|hidden| hidden.extend(own));
        }
        return Vec::new();
    }
    let mut leaving = Vec::new();
    take_held_from(base.min(held_depth()), &mut leaving);
    match home {
        Some(home) => {
            let mut switch = home.lock();
            if !switch.cached_here() {
                // The task ran on another thread since: this copy is stale.
                return Vec::new();
            }
            // Guards of the task dropped elsewhere (a task that ended handing one on, too).
            task_held::claim_releases(task, |addr, how| {
                task_held::remove_entry(&mut leaving, addr, how);
            });
            let reports = held_across_await(&leaving);
            switch.set_cached_here(false);
            *switch.entries() = leaving;
            let empty = switch.entries().is_empty();
            drop(switch);
            if empty {
                task_held::forget(&home);
            }
            reports
        }
        // No async lock was taken (that makes a home), but sync ones may be held.
        None if leaving.is_empty() => Vec::new(),
        None => {
            let reports = held_across_await(&leaving);
            let home = task_held::make(task, false);
            *home.lock().entries() = leaving;
            reports
        }
    }
}

/// `running`'s entries come onto the stack from its home; for no task, the thread's own.
fn enter(running: u64) {
    set_plain_task(running & !task_held::PLAIN_TASK);
    if running == 0 {
        let own = task_held::with_hidden(std::mem::take).unwrap_or_default();
        restore_held(&own);
        task_held::enter(0, None, 0);
        return;
    }
    let base = held_depth();
    let home = task_held::find(running);
    if let Some(home) = &home {
        let mut switch = home.lock();
        let entries = switch.entries();
        task_held::claim_releases(running, |addr, how| {
            task_held::remove_entry(entries, addr, how);
        });
        task_held::claim_orphans(|addr, how| task_held::remove_entry(entries, addr, how));
        restore_held(entries);
        // From now on the home keeps the async entries only, written through; the sync ones
        // live on this thread's stack (their guards cannot leave it).
        entries.retain(|h| h.asynchronous);
        switch.set_cached_here(true);
    }
    task_held::enter(running, home, base);
}

/// The sync entries among a leaving task's: guards alive while the task is suspended, each
/// (class, place) reported once.
fn held_across_await(leaving: &[HeldLock]) -> Vec<Report> {
    let mut reports = Vec::new();
    for h in leaving.iter().filter(|h| !h.asynchronous) {
        if !is_new_held_across_await(h.node, h.at) {
            continue;
        }
        let holding = describe(h);
        reports.push(Report::new(ReportData {
            kind: ReportKind::HeldAcrossAwait,
            classes: vec![holding.class.clone()],
            // Still the leaving task's name: the next one is entered after this.
            thread: thread_name(),
            acquiring: holding.clone(),
            holding,
            held: leaving.iter().map(describe).collect(),
            chain: Vec::new(),
            new_kinds: 0,
            certain: false,
            yield_point: false,
            same_instance: false,
            current: Trace::capture(),
        }));
    }
    reports
}
