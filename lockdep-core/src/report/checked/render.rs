//! The kernel's report format: the banner, the chain with each dependency's first-seen
//! stack, the "unsafe scenario" table and the held locks.

use super::*;
use crate::depgraph::dep_label;

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
    use crate::kinds::{DEP_EN, DEP_ER};
    if kinds & (DEP_ER | DEP_EN) != 0 {
        "lock"
    } else {
        "rlock"
    }
}

/// How the other thread takes the target: `lock` only when it was taken for writing, a
/// fair read is `rlock` (it waits behind a queued writer, which is why it is in the cycle).
fn acquire_verb(kinds: u8, n_write: bool) -> &'static str {
    use crate::kinds::{DEP_EN, DEP_SN};
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
    /// Who takes the locks in the scenario table: tasks when the acquisition was made in one
    /// (`.lockdep()` or plain tokio: the thread's name then says which), threads otherwise.
    fn party(&self) -> &'static str {
        if self.thread.contains(", task ") && self.thread.contains(" made at ")
            || self.thread.contains(", tokio task ")
        {
            "Task"
        } else {
            "Thread"
        }
    }

    /// The thread as the report names it: for a plain tokio task, also what the task runs, read
    /// off the acquisition's stack (resolved now, when the text is made). Not for
    /// `HeldAcrossAwait` of a plain task, whose stack is the other task's.
    fn who(&self) -> std::borrow::Cow<'_, str> {
        if self.kind != ReportKind::HeldAcrossAwait && self.thread.contains(", tokio task ") {
            if let Some(runs) = crate::trace::task_future(&self.current) {
                return format!("{}, running {runs}", self.thread).into();
            }
        }
        self.thread.as_str().into()
    }

    /// "thread 'T' is trying to acquire lock:" (or to initialise, for a once-cell).
    fn fmt_acquiring(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.acquiring.initialising {
            writeln!(
                f,
                "thread '{}' is trying to initialise (or wait for):",
                self.who()
            )?;
        } else if self.acquiring.annotated {
            writeln!(
                f,
                "thread '{}' may acquire lock (a `might_lock` annotation says so; it was not \
                 taken here):",
                self.who()
            )?;
        } else {
            writeln!(f, "thread '{}' is trying to acquire lock:", self.who())?;
        }
        writeln!(f, " {}", self.acquiring)
    }

    /// "but thread 'T' is already holding lock:" (or initialising, for a once-cell).
    fn fmt_holding(&self, f: &mut fmt::Formatter<'_>, is_already: &str) -> fmt::Result {
        if self.holding.initialising {
            writeln!(f, "but thread '{}' {is_already} initialising:", self.who())?;
        } else {
            writeln!(f, "but thread '{}' {is_already} holding lock:", self.who())?;
        }
        writeln!(f, " {}", self.holding)
    }

    fn fmt_held(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.held.len() {
            0 => writeln!(f, "no locks held by thread '{}'.", self.who())?,
            1 => writeln!(f, "1 lock held by thread '{}':", self.who())?,
            n => writeln!(f, "{n} locks held by thread '{}':", self.who())?,
        }
        for (i, held) in self.held.iter().enumerate() {
            writeln!(f, " #{i}: {held}")?;
        }
        writeln!(f)?;
        writeln!(f, "stack backtrace:")?;
        write!(f, "{}", self.current)
    }

    pub(super) fn fmt_cycle(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
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
        self.fmt_legend(f)?;
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
        let party = self.party();
        writeln!(f, "       {:<24}{party} B", format!("{party} A"))?;
        writeln!(f, "       --------                --------")?;
        let kinds_into_target = last.map_or(0, |l| l.kinds);
        let target_written = last.is_some_and(|l| l.n_write);
        let parent_initialising = last.map_or(self.acquiring.initialising, |l| l.from_initialising);
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

    pub(super) fn fmt_recursive(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
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
            writeln!(f, "but thread '{}' is already initialising it:", self.who())?;
            writeln!(f, " {}", self.holding)?;
        } else if self.certain {
            writeln!(
                f,
                "but thread '{}' already holds this very lock:",
                self.who()
            )?;
            writeln!(f, " {}", self.holding)?;
        } else {
            self.fmt_holding(f, "is already")?;
        }
        writeln!(f)?;
        writeln!(f, "other info that might help us debug this:")?;
        writeln!(f, " Possible unsafe locking scenario:")?;
        writeln!(f)?;
        writeln!(f, "       {} A", self.party())?;
        writeln!(f, "       --------")?;
        // Which lock each line takes: the same one twice, or two locks of the class (which
        // the bare class name would make read like a self-deadlock).
        let class = &self.acquiring.class;
        let (first, second) = if self.certain || self.same_instance {
            ("this lock", "the same lock again")
        } else {
            ("one lock of the class", "another lock of the class")
        };
        let held = format!("{}({class});", self.holding.verb());
        let acquired = format!("{}({class});", self.acquiring.verb());
        let width = held.len().max(acquired.len());
        writeln!(f, "  {held:<width$}  // {first}")?;
        writeln!(f, "  {acquired:<width$}  // {second}")?;
        writeln!(f)?;
        writeln!(f, " *** DEADLOCK ***")?;
        writeln!(f)?;
        if self.certain {
            writeln!(
                f,
                " This acquisition can only block for ever: lockdep panics instead of hanging."
            )?;
        } else if self.same_instance {
            writeln!(
                f,
                " This thread reads the lock it reads already. A writer that queues in between\n \
                 waits for the first read, and this read waits behind the writer: neither \
                 goes on.\n Take the read once, or use `read_recursive` (a reader that skips \
                 the queue)."
            )?;
        } else {
            writeln!(
                f,
                " May be due to missing lock nesting notation (lock_nested)"
            )?;
            writeln!(f)?;
            writeln!(
                f,
                " These are two different locks of one class: every lock made at one place (or \
                 given one\n name or key) shares its class, as in the kernel. If they are always \
                 taken in one order\n (parent, then child), say so with `lock_nested(subclass)`; \
                 if they are unrelated, give\n them classes of their own (`named`, `with_class`)."
            )?;
        }
        writeln!(f)?;
        self.fmt_held(f)
    }
}

impl ReportData {
    /// One legend under the chain: the kernel's dependency codes (only those that appear) and
    /// the subclass suffix, so that a report reads without the kernel's documentation.
    fn fmt_legend(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kinds = self.chain.iter().fold(self.new_kinds, |k, l| k | l.kinds);
        let codes = crate::depgraph::dep_label(kinds);
        writeln!(f)?;
        writeln!(
            f,
            " legend: -(XY)-> reads \"taken as Y while holding as X\" (here: {codes}):"
        )?;
        writeln!(
            f,
            "   X = E held exclusively, S held shared; Y = N taken for writing or as a fair \
             read,\n   R taken as a recursive read{}",
            if codes.contains('~') {
                "; ~ marks a timed acquisition (try_*_for/until)"
            } else {
                ""
            }
        )?;
        let names = self
            .chain
            .iter()
            .flat_map(|l| [&l.from, &l.to])
            .chain([&self.acquiring.class, &self.holding.class]);
        let subclassed = names.into_iter().any(|name| {
            name.rsplit_once('/')
                .is_some_and(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        });
        if subclassed {
            writeln!(
                f,
                " class/N: nesting level N of the class (`lock_nested(N)`), a class of its own"
            )?;
        }
        Ok(())
    }

    /// `thread` names the task here ("task spawned at ..., on thread ..."); `holding` is the
    /// sync lock; `current` is the stack where the task yielded.
    pub(super) fn fmt_held_across_await(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        rule(
            f,
            "WARNING: lock held across .await: a sync lock is held while the task is suspended",
        )?;
        writeln!(
            f,
            "{} on thread '{}' while holding lock:",
            if self.yield_point {
                "a task yielded (its poll returned Pending)"
            } else {
                "a task was suspended (another task ran)"
            },
            self.who()
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
        if self.yield_point {
            writeln!(f, "where the task yielded (stack backtrace):")?;
        } else {
            writeln!(
                f,
                "where the next task took a lock on that thread (stack backtrace):"
            )?;
        }
        write!(f, "{}", self.current)
    }
}
