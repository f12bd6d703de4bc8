//! Findings and their human-readable form, modelled on the kernel's lockdep splats.

#[cfg(not(lockdep_checks))]
use std::fmt;
#[cfg(lockdep_checks)]
use std::sync::Arc;

/// What kind of problem a [`Report`] describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReportKind {
    /// Acquiring a lock would close a cycle in the class dependency graph: two (or more)
    /// threads taking these locks in these orders can deadlock.
    CircularDependency,
    /// Acquiring a lock of a class this thread already holds (without a distinct nesting
    /// subclass), or a lock instance this thread already holds.
    RecursiveLocking,
    /// A cycle made only of *timed* acquisitions (`try_lock_for`, `try_read_until`, ...): no
    /// thread can hang for ever, but each can stall for its whole timeout, and again on every
    /// retry. A warning-level finding: the `Panic` mode prints it instead of panicking
    /// ([`capture`](crate::capture) and handlers receive it like any report). A cycle mixing
    /// blocking and timed acquisitions is not reported: the timed side gives up and lets the
    /// blocking side on (the back-off pattern).
    TimedInversion,
    /// A sync lock's guard (`lockdep_core::Mutex`, `sync::Mutex`, ...) was alive when a task's
    /// poll returned `Pending`: the task is suspended holding a lock that blocks its thread, so
    /// another task polled there that wants it hangs the thread, and the holder with it. The
    /// report names the lock, where it was taken, and where the task yielded.
    HeldAcrossAwait,
}

impl ReportKind {
    /// Whether this kind of finding is a warning rather than a possible deadlock (the `Panic`
    /// mode prints warnings and goes on).
    pub fn is_warning(self) -> bool {
        matches!(self, ReportKind::TimedInversion)
    }
}

/// One finding of the validator.
///
/// With the checks compiled out no report can exist (the type is uninhabited), but every
/// method is there, so code written against it builds in every configuration.
///
/// Reports reach the caller of [`capture`](crate::capture), the handler installed with
/// [`set_handler`](crate::set_handler), or the action of the current [`Mode`](crate::Mode).
/// `Display` gives the full text, modelled on the kernel's: the lock being acquired, the locks
/// held, the dependency chain with the backtrace where each edge was first recorded, and the
/// "possible unsafe locking scenario".
#[derive(Clone)]
pub struct Report {
    #[cfg(lockdep_checks)]
    pub(crate) data: Arc<ReportData>,
    #[cfg(not(lockdep_checks))]
    never: std::convert::Infallible,
}

#[cfg(not(lockdep_checks))]
impl Report {
    /// The kind of finding.
    pub fn kind(&self) -> ReportKind {
        match self.never {}
    }
    /// The classes involved, in dependency order.
    pub fn classes(&self) -> Vec<&str> {
        match self.never {}
    }
    /// Whether the acquisition could only block for ever.
    pub fn is_certain_deadlock(&self) -> bool {
        match self.never {}
    }
    /// Name (or id) of the thread that made the acquisition.
    pub fn thread_name(&self) -> &str {
        match self.never {}
    }
    /// Class names of the locks the thread held at the time, outermost first.
    pub fn held_classes(&self) -> Vec<&str> {
        match self.never {}
    }
    /// Function names of the acquisition's own stack.
    pub fn backtrace_functions(&self) -> Vec<String> {
        match self.never {}
    }
    /// For a cycle: the function names of each existing edge's first-seen stack.
    pub fn edge_backtrace_functions(&self) -> Vec<Vec<String>> {
        match self.never {}
    }
}

#[cfg(not(lockdep_checks))]
impl fmt::Display for Report {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.never {}
    }
}

#[cfg(not(lockdep_checks))]
impl fmt::Debug for Report {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.never {}
    }
}

#[cfg(lockdep_checks)]
pub(crate) use checked::*;

#[cfg(lockdep_checks)]
mod checked;
