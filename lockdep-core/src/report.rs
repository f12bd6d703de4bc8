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
mod checked {
    use super::{Report, ReportKind};
    use crate::depgraph::dep_label;
    use crate::held::Access;
    use crate::trace::Trace;
    use std::fmt::{self, Write as _};
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

    fn rule(f: &mut fmt::Formatter<'_>, title: &str) -> fmt::Result {
        let line = "=".repeat(title.len());
        let dash = "-".repeat(title.len());
        writeln!(f)?;
        writeln!(f, "{line}")?;
        writeln!(f, "{title}")?;
        writeln!(f, "{dash}")
    }

    /// The two columns of the scenario tables.
    fn scenario_row(f: &mut fmt::Formatter<'_>, column: usize, op: &str) -> fmt::Result {
        let indent = if column == 0 { 2 } else { 31 };
        writeln!(f, "{:indent$}{op};", "")
    }

    fn held_verb(kinds: u8) -> &'static str {
        use crate::depgraph::{DEP_EN, DEP_ER};
        if kinds & (DEP_ER | DEP_EN) != 0 {
            "lock"
        } else {
            "rlock"
        }
    }

    /// How the other thread takes the target: `lock` only when it was taken for writing, a
    /// fair read is `rlock` (it waits behind a queued writer, which is why it is in the cycle).
    fn acquire_verb(kinds: u8, n_write: bool) -> &'static str {
        use crate::depgraph::{DEP_EN, DEP_SN};
        match (kinds & (DEP_SN | DEP_EN) != 0, n_write) {
            (true, true) => "lock",
            (true, false) => "rlock",
            (false, _) => "rlock_recursive",
        }
    }

    /// "taken", or "initialised" for a once-cell, in the chain's lines.
    fn taken(initialising: bool) -> &'static str {
        if initialising {
            "initialised"
        } else {
            "taken"
        }
    }

    /// "holding", or "initialising" for a once-cell, in the chain's lines.
    fn holding(initialising: bool) -> &'static str {
        if initialising {
            "initialising"
        } else {
            "holding"
        }
    }

    impl ReportData {
        /// "thread 'T' is trying to acquire lock:" (or to initialise, for a once-cell).
        fn fmt_acquiring(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            if self.acquiring.initialising {
                writeln!(
                    f,
                    "thread '{}' is trying to initialise (or wait for):",
                    self.thread
                )?;
            } else {
                writeln!(f, "thread '{}' is trying to acquire lock:", self.thread)?;
            }
            writeln!(f, " {}", self.acquiring)
        }

        /// "but thread 'T' is already holding lock:" (or initialising, for a once-cell).
        fn fmt_holding(&self, f: &mut fmt::Formatter<'_>, is_already: &str) -> fmt::Result {
            if self.holding.initialising {
                writeln!(f, "but thread '{}' {is_already} initialising:", self.thread)?;
            } else {
                writeln!(f, "but thread '{}' {is_already} holding lock:", self.thread)?;
            }
            writeln!(f, " {}", self.holding)
        }

        fn fmt_held(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self.held.len() {
                0 => writeln!(f, "no locks held by thread '{}'.", self.thread)?,
                1 => writeln!(f, "1 lock held by thread '{}':", self.thread)?,
                n => writeln!(f, "{n} locks held by thread '{}':", self.thread)?,
            }
            for (i, held) in self.held.iter().enumerate() {
                writeln!(f, " #{i}: {held}")?;
            }
            writeln!(f)?;
            writeln!(f, "stack backtrace:")?;
            write!(f, "{}", self.current)
        }

        fn fmt_cycle(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            let timed = self.kind == ReportKind::TimedInversion;
            if timed {
                rule(
                    f,
                    "WARNING: possible lock inversion between timed acquisitions detected",
                )?;
            } else {
                rule(f, "WARNING: possible circular locking dependency detected")?;
            }
            self.fmt_acquiring(f)?;
            writeln!(f)?;
            self.fmt_holding(f, "is already")?;
            writeln!(f)?;
            writeln!(
                f,
                "which {} already depends on {}.",
                self.holding.noun(),
                if self.acquiring.initialising {
                    "this initialising"
                } else {
                    "the new lock"
                }
            )?;
            writeln!(f)?;
            writeln!(f)?;
            writeln!(f, "the existing dependency chain (in reverse order) is:")?;
            for (i, link) in self.chain.iter().enumerate().rev() {
                writeln!(f)?;
                writeln!(
                    f,
                    "-> #{} ({}) -({})-> {} while {} ({}), first seen at:",
                    i + 1,
                    link.to,
                    dep_label(link.kinds),
                    taken(link.to_initialising),
                    holding(link.from_initialising),
                    link.from
                )?;
                write!(f, "{}", link.first_seen)?;
            }
            writeln!(f)?;
            writeln!(
                f,
                "-> #0 ({}) -({})-> {} while {} ({}): this acquisition, stack below",
                self.acquiring.class,
                dep_label(self.new_kinds),
                taken(self.acquiring.initialising),
                holding(self.holding.initialising),
                self.holding.class
            )?;
            writeln!(f)?;
            writeln!(f, "other info that might help us debug this:")?;
            writeln!(f)?;
            let source = &self.acquiring.class;
            let target = &self.holding.class;
            // The lock the other thread holds while waiting for `target`.
            let last = self.chain.last();
            let parent = last.map_or(source.as_str(), |l| l.from.as_str());
            if parent != source {
                writeln!(f, "Chain exists of:")?;
                writeln!(f, "  {source} --> {parent} --> {target}")?;
                writeln!(f)?;
            }
            writeln!(f, " Possible unsafe locking scenario:")?;
            writeln!(f)?;
            writeln!(f, "       Thread A                Thread B")?;
            writeln!(f, "       --------                --------")?;
            let kinds_into_target = last.map_or(0, |l| l.kinds);
            let target_written = last.is_some_and(|l| l.n_write);
            let parent_initialising =
                last.map_or(self.acquiring.initialising, |l| l.from_initialising);
            let init_or = |initialising: bool, verb: &'static str| {
                if initialising {
                    "initialise"
                } else {
                    verb
                }
            };
            scenario_row(f, 0, &format!("{}({target})", self.holding.verb()))?;
            scenario_row(
                f,
                1,
                &format!(
                    "{}({parent})",
                    init_or(parent_initialising, held_verb(kinds_into_target))
                ),
            )?;
            scenario_row(
                f,
                1,
                &format!(
                    "{}({target})",
                    init_or(
                        self.holding.initialising,
                        acquire_verb(kinds_into_target, target_written)
                    )
                ),
            )?;
            scenario_row(f, 0, &format!("{}({source})", self.acquiring.verb()))?;
            writeln!(f)?;
            if timed {
                writeln!(f, " *** STALL ***")?;
                writeln!(f)?;
                writeln!(
                    f,
                    " Every acquisition of this cycle is timed: none hangs for ever, but each can \
                     wait for its whole"
                )?;
                writeln!(f, " timeout, and again on every retry.")?;
            } else {
                writeln!(f, " *** DEADLOCK ***")?;
            }
            writeln!(f)?;
            self.fmt_held(f)
        }

        fn fmt_recursive(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            let init = self.acquiring.initialising;
            match (self.certain, init) {
                (true, false) => rule(
                    f,
                    "WARNING: self-deadlock detected: the lock is already held by this thread",
                )?,
                (true, true) => rule(
                    f,
                    "WARNING: self-deadlock detected: recursive initialising by this thread",
                )?,
                (false, false) => rule(f, "WARNING: possible recursive locking detected")?,
                (false, true) => rule(f, "WARNING: possible recursive initialising detected")?,
            }
            self.fmt_acquiring(f)?;
            writeln!(f)?;
            if self.certain && init {
                writeln!(
                    f,
                    "but thread '{}' is already initialising it:",
                    self.thread
                )?;
                writeln!(f, " {}", self.holding)?;
            } else if self.certain {
                writeln!(
                    f,
                    "but thread '{}' already holds this very lock:",
                    self.thread
                )?;
                writeln!(f, " {}", self.holding)?;
            } else {
                self.fmt_holding(f, "is already")?;
            }
            writeln!(f)?;
            writeln!(f, "other info that might help us debug this:")?;
            writeln!(f, " Possible unsafe locking scenario:")?;
            writeln!(f)?;
            writeln!(f, "       Thread A")?;
            writeln!(f, "       --------")?;
            let class = &self.acquiring.class;
            scenario_row(f, 0, &format!("{}({class})", self.holding.verb()))?;
            scenario_row(f, 0, &format!("{}({class})", self.acquiring.verb()))?;
            writeln!(f)?;
            writeln!(f, " *** DEADLOCK ***")?;
            writeln!(f)?;
            if self.certain {
                writeln!(
                    f,
                    " This acquisition can only block for ever: lockdep panics instead of hanging."
                )?;
            } else {
                writeln!(
                    f,
                    " May be due to missing lock nesting notation (lock_nested)"
                )?;
            }
            writeln!(f)?;
            self.fmt_held(f)
        }
    }

    impl ReportData {
        /// `thread` names the task here ("task spawned at ..., on thread ..."); `holding` is the
        /// sync lock; `current` is the stack where the task yielded.
        fn fmt_held_across_await(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            rule(
                f,
                "WARNING: lock held across .await: a sync lock is held while the task is suspended",
            )?;
            writeln!(
                f,
                "a task yielded (its poll returned Pending) on thread '{}' while holding lock:",
                self.thread
            )?;
            writeln!(f, " {}", self.holding)?;
            writeln!(f)?;
            writeln!(
                f,
                "A sync lock blocks a thread, not a task. While this task is suspended, another"
            )?;
            writeln!(
                f,
                "task that wants the lock blocks its worker thread; if the holder is to be resumed"
            )?;
            writeln!(
                f,
                "on that thread (a current-thread runtime, a LocalSet), neither ever runs again."
            )?;
            writeln!(f)?;
            writeln!(f, "other info that might help us debug this:")?;
            writeln!(f, " Possible unsafe locking scenario:")?;
            writeln!(f)?;
            writeln!(f, "       Task A                  Task B (same thread)")?;
            writeln!(f, "       ------                  --------")?;
            let class = &self.holding.class;
            scenario_row(f, 0, &format!("{}({class})", self.holding.access.verb()))?;
            scenario_row(f, 0, ".await")?;
            scenario_row(f, 1, &format!("{}({class})", self.holding.access.verb()))?;
            writeln!(f)?;
            writeln!(f, " *** DEADLOCK ***")?;
            writeln!(f)?;
            writeln!(
                f,
                " Drop the guard before the .await, or use an async lock (lockdep_core::tokio)."
            )?;
            writeln!(f)?;
            match self.held.len() {
                1 => writeln!(f, "1 lock held by the task:")?,
                n => writeln!(f, "{n} locks held by the task:")?,
            }
            for (i, held) in self.held.iter().enumerate() {
                writeln!(f, " #{i}: {held}")?;
            }
            writeln!(f)?;
            writeln!(f, "where the task yielded (stack backtrace):")?;
            write!(f, "{}", self.current)
        }
    }

    impl fmt::Display for Report {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self.data.kind {
                ReportKind::CircularDependency | ReportKind::TimedInversion => {
                    self.data.fmt_cycle(f)
                }
                ReportKind::RecursiveLocking => self.data.fmt_recursive(f),
                ReportKind::HeldAcrossAwait => self.data.fmt_held_across_await(f),
            }
        }
    }

    /// The text for a panic: the full report.
    pub(crate) fn panic_text(report: &Report) -> String {
        let mut text = String::new();
        let _ = write!(text, "lockdep: {report}");
        text
    }
}
