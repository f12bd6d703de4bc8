//! Findings: their identities (each is reported once per process), the reports the slow paths
//! build, and their delivery ([`deliver_all`], [`Pending`]).
//!
//! Below the paths that find them (`acquire.rs`, `check.rs`, `switch.rs`, `hooks.rs`): it
//! knows the acquisition and how entries and threads are named, and nothing of the thread's
//! state, so the slow path hands it the copy of the held stack it checked against.

use super::acquisition::Acquisition;
use super::names::{describe, thread_name};
use crate::class::NodeKey;
use crate::held::HeldLock;
use crate::mode;
use crate::report::{Report, ReportData, ReportKind};
use crate::trace::Trace;
use once_cell::sync::Lazy;
use parking_lot::Mutex as InternalMutex;
use std::collections::HashSet;
use std::panic::Location;
use std::sync::Arc;

/// A finding's identity, so each is reported once per process.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(super) enum FindingKey {
    /// The cycle's nodes, rotated to start at the smallest.
    Cycle(Vec<NodeKey>),
    /// The same, for a cycle of timed acquisitions.
    TimedCycle(Vec<NodeKey>),
    Recursive {
        node: NodeKey,
        certain: bool,
    },
    /// A sync lock of this class, taken at this place (the `Location`'s address), held when a
    /// task yielded.
    HeldAcrossAwait {
        node: NodeKey,
        at: usize,
    },
}

/// A panic due for a finding, raised where the user's acquisition site is known — before the
/// lock is taken by this crate's typed layers, after it on the raw paths that `lock_api` drives
/// (see `raw/checked`).
pub(crate) enum Pending {
    /// The `Panic` mode's panic with this report.
    Report(Report),
    /// An acquisition that can only hang (a certain self-deadlock): due whatever the mode. Its
    /// report was delivered already.
    Certain(Report),
    /// A handler panicked on this report: its panic goes on to the acquiring thread.
    Handler(Box<dyn std::any::Any + Send>, Report),
}

impl Pending {
    /// Panics with the report's text (or resumes the handler's panic), at the caller's
    /// (`#[track_caller]`) location. The text is formatted lazily, by whoever prints the panic
    /// (its hook, or the test harness), so no stack is resolved on the way to the panic.
    #[cold]
    #[inline(never)]
    #[track_caller]
    pub(crate) fn raise(self) -> ! {
        match self {
            Pending::Report(report) | Pending::Certain(report) => {
                // In a tokio task the panic goes on to the task's `JoinHandle`, and every
                // `unwrap` of its `JoinError` prints the payload again: the report is printed
                // here, once, and the panic carries one line naming it and the user's line.
                // It unwinds without the panic hook, whose "panicked at" could only name a
                // line of this crate (the acquisition runs inside the lock's future, which no
                // `#[track_caller]` reaches); whoever joins the task sees the line.
                #[cfg(feature = "tokio")]
                if tokio::task::try_id().is_some() {
                    crate::mode::print_raw(format_args!("{}", crate::report::PanicText(&report)));
                    std::panic::resume_unwind(Box::new(
                        crate::report::PanicLine(&report).to_string(),
                    ))
                }
                panic!("{}", crate::report::PanicText(&report))
            }
            Pending::Handler(payload, _) => std::panic::resume_unwind(payload),
        }
    }

    /// The report the panic is due for.
    fn report(&self) -> &Report {
        match self {
            Pending::Report(report) | Pending::Certain(report) | Pending::Handler(_, report) => {
                report
            }
        }
    }

    /// Whether this is a certain self-deadlock: taking the lock would hang.
    pub(crate) fn is_certain(&self) -> bool {
        matches!(self, Pending::Certain(_))
    }

    /// For a raw acquisition that must not unwind and whose lock cannot be taken (it would hang):
    /// prints the report and aborts the process. A panic would leave the caller's guard (a
    /// relock in `lock_api`'s `unlocked`) without its lock; hanging is what the program would
    /// do without lockdep, and the kernel's lockdep cannot stop a kernel either.
    #[cold]
    #[inline(never)]
    pub(crate) fn abort(self) -> ! {
        let report = self.report();
        crate::mode::print_raw(format_args!(
            "lockdep: {report}\nlockdep: this acquisition can only hang, and it was made through \
             a raw lock call (`lock_api`'s relock after `unlocked`, a raw `lock`) that may not \
             unwind without the lock: aborting the process"
        ));
        std::process::abort()
    }

    /// For a raw acquisition that may not unwind at all (the raw mutex of a `ReentrantMutex`,
    /// whose owner and count `lock_api` restores only after the raw call returns): the report
    /// is printed instead of panicking. It was delivered (to the handler, the capture scope, or
    /// the mode) before; only the panic is given up, and the reason said.
    #[cold]
    #[inline(never)]
    pub(crate) fn print_instead(self, because: &str) {
        let report = self.report();
        crate::mode::print_raw(format_args!(
            "lockdep: a report is printed instead of panicking, because {because}:\nlockdep: \
             {report}"
        ));
    }
}

/// The findings reported so far in this process.
static FINDINGS: Lazy<InternalMutex<HashSet<FindingKey>>> =
    Lazy::new(|| InternalMutex::new(HashSet::new()));

/// Whether `key` is reported for the first time (it is marked reported).
pub(super) fn is_new(key: FindingKey) -> bool {
    FINDINGS.lock().insert(key)
}

/// The report of a recursion: `acq` takes a lock of the class (or the very lock) of `held`'s
/// entry at `index`. `certain` when it can only hang.
pub(super) fn recursion_report(
    acq: &Acquisition,
    held: &[HeldLock],
    index: usize,
    certain: bool,
) -> Report {
    recursion_report_with(acq, held, index, certain, Trace::capture())
}

/// [`recursion_report`] with the backtrace the slow path captured already.
pub(super) fn recursion_report_with(
    acq: &Acquisition,
    held: &[HeldLock],
    index: usize,
    certain: bool,
    trace: Arc<Trace>,
) -> Report {
    Report::new(ReportData {
        kind: ReportKind::RecursiveLocking,
        classes: vec![acq.node.name()],
        thread: thread_name(),
        acquiring: acq.desc(false),
        holding: describe(&held[index]),
        held: held.iter().map(describe).collect(),
        chain: Vec::new(),
        new_kinds: 0,
        certain,
        yield_point: false,
        same_instance: held[index].instance == acq.addr,
        current: trace,
    })
}

/// Delivers every report, even when delivering one panics (the `Panic` mode, a panicking
/// handler): each was marked as reported, so one left undelivered would be lost for good. The
/// first panic is raised again once all have been delivered.
///
/// The `Panic` mode's panic, or a handler's, is returned, for the caller to raise where the
/// user's acquisition site is known (and, on the raw paths, once the lock is held).
#[must_use = "a pending panic must be raised"]
pub(crate) fn deliver_all(reports: Vec<Report>) -> Option<Pending> {
    if reports.is_empty() {
        return None;
    }
    enum First {
        Mode(Report),
        Handler(Box<dyn std::any::Any + Send>, Report),
    }
    let mut first = None;
    for report in &reports {
        let delivered = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            // The handler's own acquisitions are real, even while an annotation is validated.
            let _real = crate::report::Annotating::leave();
            mode::deliver_unless_panic(report)
        }));
        match delivered {
            Ok(false) => {}
            Ok(true) => {
                first.get_or_insert(First::Mode(report.clone()));
            }
            Err(payload) => {
                first.get_or_insert(First::Handler(payload, report.clone()));
            }
        }
    }
    match first {
        Some(First::Mode(report)) => Some(Pending::Report(report)),
        Some(First::Handler(payload, report)) => Some(Pending::Handler(payload, report)),
        None => None,
    }
}

/// Whether a finding of this identity is new (a lock class held across `.await` at a place).
pub(crate) fn is_new_held_across_await(
    node: NodeKey,
    at: Option<&'static Location<'static>>,
) -> bool {
    is_new(FindingKey::HeldAcrossAwait {
        node,
        at: at.map_or(0, |at| at as *const Location<'static> as usize),
    })
}
