//! How reports name what holds a lock: a held entry ([`describe`]) and the thread, with the
//! task it runs ([`thread_name`]), from the task sites `task.rs` and `switch.rs` set here.
//!
//! At the bottom of the validator: every other module names entries and threads, and this one
//! imports none of them (the per-thread task sites are thread-locals of their own, not part of
//! the validator's thread state, so that naming them needs no borrow of it).

use crate::held::HeldLock;
use crate::report::LockDesc;
use std::cell::Cell;
use std::panic::Location;

/// A held entry as reports describe it.
pub(crate) fn describe(h: &HeldLock) -> LockDesc {
    LockDesc {
        class: h.node.display(),
        access: h.access,
        trylock: h.trylock,
        at: h.at,
        initialising: h.node.initialising(),
        annotated: false,
    }
}

/// This thread's name, as reports write it (with the task being polled, if any).
pub(crate) fn thread_name() -> String {
    let thread = std::thread::current();
    let name = match thread.name() {
        Some(name) => name.to_string(),
        None => format!("{:?}", thread.id()),
    };
    // In a task, the task is what holds the locks: say which (where it was made).
    match (task_site(), plain_task()) {
        (Some(task), _) => format!(
            "{name}, task {} made at {}",
            crate::trace::future_name(task.runs),
            task.at
        ),
        (None, 0) => name,
        // What a plain task runs is only known from its stack: the report names it when it is
        // printed (`report/checked/render.rs`).
        (None, id) => format!("{name}, tokio task {id}"),
    }
}

thread_local! {
    /// Where the task being polled on this thread was made (`None` outside any task), for
    /// reports: in a task, the task is what holds the locks.
    static TASK_SITE: Cell<Option<TaskSite>> = const { Cell::new(None) };
    /// tokio's id of the plain task whose entries the stack caches (0: none), for reports.
    static PLAIN_TASK: Cell<u64> = const { Cell::new(0) };
}

/// Says which plain tokio task's entries this thread's stack caches (`switch.rs`).
#[cfg_attr(not(feature = "tokio"), allow(dead_code))]
pub(crate) fn set_plain_task(id: u64) {
    PLAIN_TASK.with(|task| task.set(id));
}

/// tokio's id of the plain task whose entries this thread's stack caches (0: none).
pub(crate) fn plain_task() -> u64 {
    PLAIN_TASK.try_with(Cell::get).unwrap_or(0)
}

/// A `.lockdep()` task as reports name it: what it runs and where it was made.
#[derive(Clone, Copy)]
pub(crate) struct TaskSite {
    /// Where `.lockdep()` (or lockdep's `spawn`) was called: the user's spawn site.
    pub(crate) at: &'static Location<'static>,
    /// The future's type (`std::any::type_name`): an `async fn`'s is its path followed by
    /// `::{{closure}}`.
    pub(crate) runs: &'static str,
}

/// Says which task is being polled on this thread (`task.rs`, around each poll of the
/// outermost task).
pub(crate) fn set_task_site(site: Option<TaskSite>) {
    TASK_SITE.with(|cell| cell.set(site));
}

/// The task being polled on this thread (`None` outside any task).
pub(crate) fn task_site() -> Option<TaskSite> {
    TASK_SITE.try_with(Cell::get).ok().flatten()
}
