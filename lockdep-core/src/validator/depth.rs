//! A push that made this thread's stack deeper than ever before (rare): the process-wide
//! maximum depth, and on the thread's first acquisition what each thread registers once.
//!
//! Its own module, between the paths that push (`acquire.rs`, `check.rs`) and what a first
//! acquisition sets up (the exit check, the task switch, the class table's drop callback), so
//! that the thread state below knows none of them.

use super::thread::with_thread;
use super::{exit, seam, switch};
use crate::{figures, mode};

/// A push made this thread's maximum depth grow: update the process-wide maximum, and on the
/// thread's first acquisition register the exit check. Called after the state is released.
#[cold]
#[inline(never)]
pub(super) fn new_max_depth() {
    let depth = with_thread(|t| t.held.max_depth());
    figures::note_depth(depth);
    if depth == 1 {
        // Before this thread's first entry can be leaked: dropping a lock clears its entries.
        crate::class::on_instance_dropped(seam::instance_dropped);
        exit::register();
        // Makes the mode known before the hot path reads it with the state borrowed (see
        // `hot_check`): its first read looks at the environment.
        let _ = mode::mode();
        switch::first_acquisition();
    }
}
