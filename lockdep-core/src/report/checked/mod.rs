//! What a report records (checks compiled in), and its text for a panic; `render.rs` writes
//! it out in the kernel's format.

use super::{Report, ReportKind};
use crate::access::Access;
use crate::trace::Trace;
use std::fmt;
use std::panic::Location;
use std::sync::Arc;

/// A lock as a report shows it.
#[derive(Clone, Debug)]
pub(crate) struct LockDesc {
    pub(crate) class: String,
    pub(crate) access: Access,
    pub(crate) trylock: bool,
    pub(crate) at: Option<&'static Location<'static>>,
    /// A once-cell's class: acquiring it is initialising it (or waiting for that).
    pub(crate) initialising: bool,
    /// Not taken: a `might_lock` annotation validated it as if it were (the report says so).
    pub(crate) annotated: bool,
}

thread_local! {
    /// Set while a `might_lock` annotation is validated on this thread, so that the
    /// acquisition a report describes says it comes from the annotation.
    static ANNOTATING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Marks this thread's acquisitions as an annotation's until dropped (`might_lock`).
pub(crate) struct Annotating(bool);

impl Annotating {
    pub(crate) fn enter() -> Annotating {
        Annotating(ANNOTATING.try_with(|a| a.replace(true)).unwrap_or(false))
    }

    /// Marks this thread's acquisitions as real ones until dropped: a report's handler, run
    /// while an annotation is validated, takes real locks.
    pub(crate) fn leave() -> Annotating {
        Annotating(ANNOTATING.try_with(|a| a.replace(false)).unwrap_or(false))
    }
}

impl Drop for Annotating {
    fn drop(&mut self) {
        let _ = ANNOTATING.try_with(|a| a.set(self.0));
    }
}

/// Whether the acquisition being described comes from a `might_lock` annotation.
pub(crate) fn annotating() -> bool {
    ANNOTATING.try_with(|a| a.get()).unwrap_or(false)
}

impl LockDesc {
    /// What the text calls it: "lock", or "initialising" for a once-cell.
    fn noun(&self) -> &'static str {
        noun(self.initialising)
    }

    /// The verb of the scenario tables.
    fn verb(&self) -> &'static str {
        if self.initialising {
            "initialise"
        } else {
            self.access.verb()
        }
    }
}

fn noun(initialising: bool) -> &'static str {
    if initialising {
        "initialising"
    } else {
        "lock"
    }
}

impl fmt::Display for LockDesc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = if self.initialising {
            "initialising"
        } else {
            self.access.label()
        };
        write!(f, "({}){{{label}", self.class)?;
        if self.trylock {
            f.write_str(", trylock")?;
        }
        f.write_str("}")?;
        if let Some(at) = self.at.filter(|at| !inside_lock_api(at)) {
            write!(f, ", at: {at}")?;
        }
        Ok(())
    }
}

/// Whether a location is in `lock_api`'s own source: its typed layer relocking after
/// `unlocked`, or used directly over `Checked`, cannot pass its caller's location down, and
/// a line of `lock_api` would mislead (the report's backtrace shows the real caller).
fn inside_lock_api(at: &Location<'_>) -> bool {
    let file = at.file();
    file.contains("/lock_api-") || file.contains("\\lock_api-")
}

/// One existing edge of a reported cycle.
#[derive(Clone, Debug)]
pub(crate) struct ChainLink {
    pub(crate) from: String,
    pub(crate) to: String,
    /// Whether `from` / `to` are once-cells' classes (the text says "initialising").
    pub(crate) from_initialising: bool,
    pub(crate) to_initialising: bool,
    /// The dependency kinds the cycle runs through (`DEP_*` bits).
    pub(crate) kinds: u8,
    /// Whether `to` was ever taken for writing through this edge (else: only read).
    pub(crate) n_write: bool,
    pub(crate) first_seen: Arc<Trace>,
}

#[derive(Debug)]
pub(crate) struct ReportData {
    pub(crate) kind: ReportKind,
    /// Class names in dependency order.
    pub(crate) classes: Vec<String>,
    pub(crate) thread: String,
    pub(crate) acquiring: LockDesc,
    /// The held lock the report is about: the one that closes the cycle, or the one of the
    /// same class.
    pub(crate) holding: LockDesc,
    /// All locks held by the acquiring thread, outermost first.
    pub(crate) held: Vec<LockDesc>,
    /// For a cycle: the existing edges from the acquired class back to the held one.
    pub(crate) chain: Vec<ChainLink>,
    /// Kind of the dependency this acquisition would add (for a cycle).
    pub(crate) new_kinds: u8,
    /// The same lock instance is held: the acquisition cannot succeed.
    pub(crate) certain: bool,
    /// `HeldAcrossAwait`: `current` is where the task yielded (under `.lockdep()`, which sees
    /// the poll end), or else where its thread was next seen running another task.
    pub(crate) yield_point: bool,
    /// `RecursiveLocking`: the lock held is the very lock acquired (a read taken again),
    /// not another lock of its class.
    pub(crate) same_instance: bool,
    pub(crate) current: Arc<Trace>,
}

impl Report {
    pub(crate) fn new(data: ReportData) -> Report {
        Report {
            data: Arc::new(data),
        }
    }

    /// The kind of finding.
    pub fn kind(&self) -> ReportKind {
        self.data.kind
    }

    /// The class names involved, in dependency order.
    ///
    /// For a cycle: the class being acquired first, then the existing chain back to the held
    /// class that closes it (holding B, acquiring A, with A→B known: `["A", "B"]`). For
    /// recursive locking: the one class. A nonzero subclass is shown as `name/N`.
    pub fn classes(&self) -> Vec<&str> {
        self.data.classes.iter().map(String::as_str).collect()
    }

    /// Whether the acquisition was certain to block for ever (the same lock instance is
    /// already held by this thread): such an acquisition panics after the report is
    /// delivered, whatever the mode.
    pub fn is_certain_deadlock(&self) -> bool {
        self.data.certain
    }

    /// Name (or id) of the thread that made the acquisition.
    pub fn thread_name(&self) -> &str {
        &self.data.thread
    }

    /// Class names of the locks the thread held at the time, outermost first.
    pub fn held_classes(&self) -> Vec<&str> {
        self.data.held.iter().map(|h| h.class.as_str()).collect()
    }

    /// Function names of the acquisition's own stack (resolved now, innermost first, the
    /// validator's frames trimmed).
    pub fn backtrace_functions(&self) -> Vec<String> {
        self.data
            .current
            .function_names()
            .into_iter()
            .map(str::to_string)
            .collect()
    }

    /// For a cycle: the function names of each existing edge's first-seen stack, in chain
    /// order (edge `classes[i] -> classes[i + 1]` first).
    pub fn edge_backtrace_functions(&self) -> Vec<Vec<String>> {
        self.data
            .chain
            .iter()
            .map(|l| {
                l.first_seen
                    .function_names()
                    .into_iter()
                    .map(str::to_string)
                    .collect()
            })
            .collect()
    }
}

impl fmt::Debug for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Report")
            .field("kind", &self.data.kind)
            .field("classes", &self.data.classes)
            .field("thread", &self.data.thread)
            .field("certain", &self.data.certain)
            .finish_non_exhaustive()
    }
}

mod render;

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.data.kind {
            ReportKind::CircularDependency | ReportKind::TimedInversion => self.data.fmt_cycle(f),
            ReportKind::RecursiveLocking => self.data.fmt_recursive(f),
            ReportKind::HeldAcrossAwait => self.data.fmt_held_across_await(f),
        }
    }
}

/// The text of a report's panic: the full report, formatted only when the panic is printed
/// (its stacks resolved then), not on the way to it.
pub(crate) struct PanicText<'a>(pub(crate) &'a Report);

impl std::fmt::Display for PanicText<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "lockdep: {}", self.0)
    }
}

/// One line for a report's panic where the report itself was printed already: a panic in a
/// tokio task, which its `JoinHandle` hands on (`JoinError`'s `Debug` prints the payload), so
/// that the report is printed once, not once by the panic and again by every `unwrap` of it.
#[cfg_attr(not(feature = "tokio"), allow(dead_code))]
pub(crate) struct PanicLine<'a>(pub(crate) &'a Report);

impl std::fmt::Display for PanicLine<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let data = &self.0.data;
        let what = match (data.kind, data.certain) {
            (ReportKind::CircularDependency, _) => "possible circular locking dependency detected",
            (ReportKind::RecursiveLocking, true) => {
                "self-deadlock detected: the lock is already held by this task"
            }
            (ReportKind::RecursiveLocking, false) => "possible recursive locking detected",
            (ReportKind::TimedInversion, _) => "timed lock inversion detected",
            (ReportKind::HeldAcrossAwait, _) => "lock held across .await",
        };
        // The acquisition, with the user's line: a task's panic is raised inside the lock's
        // future, where no `#[track_caller]` reaches.
        write!(
            f,
            "lockdep: {what}: {} (the report is printed above); acquiring {}",
            data.classes.join(" -> "),
            data.acquiring
        )
    }
}
