//! Findings and their human-readable form, modelled on the kernel's lockdep splats.

#[cfg(not(any(debug_assertions, feature = "release-checks")))]
use std::fmt;
#[cfg(any(debug_assertions, feature = "release-checks"))]
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
    #[cfg(any(debug_assertions, feature = "release-checks"))]
    pub(crate) data: Arc<ReportData>,
    #[cfg(not(any(debug_assertions, feature = "release-checks")))]
    never: std::convert::Infallible,
}

#[cfg(not(any(debug_assertions, feature = "release-checks")))]
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

#[cfg(not(any(debug_assertions, feature = "release-checks")))]
impl fmt::Display for Report {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.never {}
    }
}

#[cfg(not(any(debug_assertions, feature = "release-checks")))]
impl fmt::Debug for Report {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.never {}
    }
}

#[cfg(any(debug_assertions, feature = "release-checks"))]
pub(crate) use checked::*;

#[cfg(any(debug_assertions, feature = "release-checks"))]
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
    }

    impl fmt::Display for LockDesc {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "({}){{{}", self.class, self.access.label())?;
            if self.trylock {
                f.write_str(", trylock")?;
            }
            f.write_str("}")?;
            if let Some(at) = self.at {
                write!(f, ", at: {at}")?;
            }
            Ok(())
        }
    }

    /// One existing edge of a reported cycle.
    #[derive(Clone, Debug)]
    pub(crate) struct ChainLink {
        pub(crate) from: String,
        pub(crate) to: String,
        /// The dependency kinds the cycle runs through (`DEP_*` bits).
        pub(crate) kinds: u8,
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

    fn acquire_verb(kinds: u8) -> &'static str {
        use crate::depgraph::{DEP_EN, DEP_SN};
        if kinds & (DEP_SN | DEP_EN) != 0 {
            "lock"
        } else {
            "rlock_recursive"
        }
    }

    impl ReportData {
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
            rule(f, "WARNING: possible circular locking dependency detected")?;
            writeln!(f, "thread '{}' is trying to acquire lock:", self.thread)?;
            writeln!(f, " {}", self.acquiring)?;
            writeln!(f)?;
            writeln!(f, "but thread '{}' is already holding lock:", self.thread)?;
            writeln!(f, " {}", self.holding)?;
            writeln!(f)?;
            writeln!(f, "which lock already depends on the new lock.")?;
            writeln!(f)?;
            writeln!(f)?;
            writeln!(f, "the existing dependency chain (in reverse order) is:")?;
            for (i, link) in self.chain.iter().enumerate().rev() {
                writeln!(f)?;
                writeln!(
                    f,
                    "-> #{} ({}) -({})-> taken while holding ({}), first seen at:",
                    i + 1,
                    link.to,
                    dep_label(link.kinds),
                    link.from
                )?;
                write!(f, "{}", link.first_seen)?;
            }
            writeln!(f)?;
            writeln!(
                f,
                "-> #0 ({}) -({})-> taken while holding ({}): this acquisition, stack below",
                self.acquiring.class,
                dep_label(self.new_kinds),
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
            scenario_row(f, 0, &format!("{}({target})", self.holding.access.verb()))?;
            scenario_row(f, 1, &format!("{}({parent})", held_verb(kinds_into_target)))?;
            scenario_row(
                f,
                1,
                &format!("{}({target})", acquire_verb(kinds_into_target)),
            )?;
            scenario_row(f, 0, &format!("{}({source})", self.acquiring.access.verb()))?;
            writeln!(f)?;
            writeln!(f, " *** DEADLOCK ***")?;
            writeln!(f)?;
            self.fmt_held(f)
        }

        fn fmt_recursive(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            if self.certain {
                rule(
                    f,
                    "WARNING: self-deadlock detected: the lock is already held by this thread",
                )?;
            } else {
                rule(f, "WARNING: possible recursive locking detected")?;
            }
            writeln!(f, "thread '{}' is trying to acquire lock:", self.thread)?;
            writeln!(f, " {}", self.acquiring)?;
            writeln!(f)?;
            if self.certain {
                writeln!(
                    f,
                    "but thread '{}' already holds this very lock:",
                    self.thread
                )?;
            } else {
                writeln!(f, "but thread '{}' is already holding lock:", self.thread)?;
            }
            writeln!(f, " {}", self.holding)?;
            writeln!(f)?;
            writeln!(f, "other info that might help us debug this:")?;
            writeln!(f, " Possible unsafe locking scenario:")?;
            writeln!(f)?;
            writeln!(f, "       Thread A")?;
            writeln!(f, "       --------")?;
            let class = &self.acquiring.class;
            scenario_row(f, 0, &format!("{}({class})", self.holding.access.verb()))?;
            scenario_row(f, 0, &format!("{}({class})", self.acquiring.access.verb()))?;
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

    impl fmt::Display for Report {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self.data.kind {
                ReportKind::CircularDependency => self.data.fmt_cycle(f),
                ReportKind::RecursiveLocking => self.data.fmt_recursive(f),
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
