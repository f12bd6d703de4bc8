//! The exit check: when a thread exits, the locks it still holds are leaked guards, named in a
//! warning (the kernel's "lock held when returning to user space").
//!
//! Below the task switch (`switch.rs`), which registers the check when a thread starts running
//! tokio tasks: the switch hands down the function that takes the cached task's entries off the
//! stack at exit ([`register_leaving_tasks`]), rather than this module calling up into it.

use super::names::describe;
use super::seam::claim_orphans;
use super::thread::{with_thread, Snapshot};
use crate::mode;
use std::cell::Cell;

/// Warns, when the thread exits, about locks it still holds (a leaked guard). Registered by
/// the thread's first acquisition, so its destructor runs after those of thread-locals created
/// later.
struct ExitCheck {
    /// What takes the entries of the tokio task this thread's stack caches off it, first: set
    /// (by `switch.rs`) exactly when the thread runs tokio tasks.
    leave_task: Cell<Option<fn()>>,
}

thread_local! {
    static EXIT_CHECK: ExitCheck = const { ExitCheck { leave_task: Cell::new(None) } };
}

impl Drop for ExitCheck {
    fn drop(&mut self) {
        // From here on every destructor of this thread is part of its teardown, where a panic
        // would abort: `mode` delivers reports accordingly.
        mode::note_thread_exiting();
        // A tokio task's entries cached here are the task's, not leaked by the thread.
        if let Some(leave_task) = self.leave_task.get() {
            leave_task();
        }
        // Releases other threads made for it are not leaks; posts to it end with it.
        claim_orphans();
        crate::task_held::thread_gone();
        let held = with_thread(|t| Snapshot::of(t.held.as_slice(), None));
        let held = held.as_slice();
        if !held.is_empty() {
            let names: Vec<String> = held.iter().map(|h| describe(h).to_string()).collect();
            eprintln!(
                "lockdep: a thread exited while holding {} lock{} (a guard was leaked with \
                 mem::forget?):\n  {}",
                held.len(),
                if held.len() == 1 { "" } else { "s" },
                names.join("\n  ")
            );
        }
    }
}

/// Registers the thread's exit check if it is not yet (the thread's first acquisition does).
pub(super) fn register() {
    // Fails only while the thread's locals are being torn down: nothing left to warn about.
    let _ = EXIT_CHECK.try_with(|_| {});
}

/// Registers the exit check of a thread that runs tokio tasks, with `leave_task`, which takes
/// the cached task's entries off the stack before the check looks for leaked guards. A thread
/// that starts caching a tokio task's entries may never acquire anything itself (a worker that
/// only resumes a task to drop its guards), and the exit check is what gives the task's home
/// back when the thread ends.
#[cfg_attr(not(feature = "tokio"), allow(dead_code))]
pub(super) fn register_leaving_tasks(leave_task: fn()) {
    let _ = EXIT_CHECK.try_with(|check| check.leave_task.set(Some(leave_task)));
}
