//! Tasks: the locks an async task holds belong to the task, not to the thread polling it.
//!
//! The validator keeps one held-lock stack per thread. A task is a future that many threads may
//! poll in turn, and one thread polls many tasks in turn, so a guard held across `.await` must
//! leave the thread's stack when the task is suspended and come back when it is resumed,
//! wherever that is. [`Tracked`] (made by [`LockdepFutureExt::lockdep`], by
//! `lockdep_core::tokio::spawn` and by an async `#[lockdep_core::test]`) does that at every poll:
//!
//! * **entering a poll** puts the task's saved entries back on top of the thread's stack, so
//!   every acquisition in the task is validated against the task's async locks *and* the sync
//!   locks the thread holds, by the unchanged validator, in one graph;
//! * **leaving a poll that returned `Pending`** moves every entry above the point it entered at
//!   back into the task. A *sync* entry among them is a guard alive across `.await`: the finding
//!   [`ReportKind::HeldAcrossAwait`](crate::ReportKind::HeldAcrossAwait);
//! * **leaving with `Ready`** leaves the entries where they are: the output (a guard returned by
//!   the future) now belongs to whoever polled it — the enclosing task, or the thread (`block_on`).
//!   A spawned task's output goes to its `JoinHandle`, so its leftovers are dropped instead.
//!
//! A `Tracked` polled inside another (a `.lockdep()` future awaited in a task) is part of the
//! same task: it sees the enclosing task's locks and splits off only its own at `Pending`. A
//! top-level poll hides the async entries a plain (untracked) `block_on` future left on the
//! thread, since on a current-thread runtime those belong to another task.
//!
//! Every async guard remembers its owner (the outermost task, or the thread). A guard dropped by
//! another owner (a guard moved into another task, or into `spawn_blocking`) cannot reach the
//! owner's entries, which may be suspended in a task or on another thread's stack; its release
//! is posted to the owner, which applies it when it next enters a poll or takes an async lock
//! (see `claim_releases`).

use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

/// `.lockdep()` on any future: its locks are tracked per task, and sync locks held across
/// `.await` are reported (in the manner of `tracing`'s `.instrument()`).
///
/// ```
/// use lockdep_core::LockdepFutureExt;
///
/// async fn handler() { /* takes lockdep_core::tokio locks */ }
/// # fn spawn<F>(_: F) {}
/// spawn(handler().lockdep()); // e.g. tokio::spawn, or lockdep_core::tokio::spawn
/// ```
pub trait LockdepFutureExt: Future + Sized {
    /// Wraps the future so that the locks it holds across `.await` belong to it, whichever
    /// thread polls it; the task is named after this call's location in reports.
    #[track_caller]
    fn lockdep(self) -> Tracked<Self> {
        Tracked::new(self, Location::caller(), false)
    }
}

impl<F: Future> LockdepFutureExt for F {}

/// A future whose held locks are tracked as a task's (see [`LockdepFutureExt::lockdep`]). With
/// the checks compiled out it only polls the future.
#[must_use = "futures do nothing unless polled"]
pub struct Tracked<F> {
    /// Structurally pinned; dropped in place by `Drop`, inside the task (so that the guards it
    /// holds release their entries from the task's set).
    future: ManuallyDrop<F>,
    #[cfg(lockdep_checks)]
    state: checked::TaskState,
}

impl<F> Tracked<F> {
    /// `detached`: the output leaves for another owner (a spawned task's `JoinHandle`).
    #[cfg_attr(not(lockdep_checks), allow(unused_variables))]
    pub(crate) fn new(future: F, at: &'static Location<'static>, detached: bool) -> Self {
        Tracked {
            future: ManuallyDrop::new(future),
            #[cfg(lockdep_checks)]
            state: checked::TaskState::new(at, std::any::type_name::<F>(), detached),
        }
    }

    /// The wrapped future.
    pub fn get_ref(&self) -> &F {
        &self.future
    }
}

impl<F: Future> Future for Tracked<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: pin projection. `future` is structurally pinned: it is never moved out, only
        // dropped in place in `Drop`; `state` is not pinned and `Tracked` is not `Unpin`-dependent
        // on it.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: see above: `future` stays where it is for as long as `Tracked` lives.
        let future = unsafe { Pin::new_unchecked(&mut *this.future) };
        #[cfg(lockdep_checks)]
        return this.state.poll(future, cx);
        #[cfg(not(lockdep_checks))]
        future.poll(cx)
    }
}

impl<F> Drop for Tracked<F> {
    fn drop(&mut self) {
        #[cfg(lockdep_checks)]
        {
            let future = &mut self.future;
            self.state.drop_inside(|| {
                // SAFETY: dropped once, in place (never moved since pinned), never used again.
                unsafe { ManuallyDrop::drop(future) }
            });
        }
        #[cfg(not(lockdep_checks))]
        // SAFETY: dropped once, in place, never used again.
        unsafe {
            ManuallyDrop::drop(&mut self.future)
        }
    }
}

impl<F> std::fmt::Debug for Tracked<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracked").finish_non_exhaustive()
    }
}

#[cfg(all(
    any(feature = "tokio", feature = "futures", feature = "async-lock"),
    lockdep_checks
))]
pub(crate) use checked::{current_owner, current_task_owner};

#[cfg(lockdep_checks)]
// The owner bookkeeping serves the async locks of the async faces only.
#[cfg_attr(
    not(any(feature = "tokio", feature = "futures", feature = "async-lock")),
    allow(dead_code)
)]
mod checked {
    use crate::held::HeldLock;
    use crate::mode::Sink;
    use crate::report::{Report, ReportData, ReportKind};
    use crate::task_held;
    use crate::trace::Trace;
    use crate::validator;
    use std::cell::Cell;
    use std::future::Future;
    use std::panic::Location;
    use std::pin::Pin;
    use std::sync::{Arc, OnceLock};
    use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

    thread_local! {
        /// The owner id of the task being polled here (the outermost [`Tracked`]), 0 if none.
        static TASK: Cell<u64> = const { Cell::new(0) };
    }

    /// The owner of what is acquired here now: the `.lockdep()` task being polled, else the
    /// plain tokio task running (feature `tokio`), else the thread.
    #[inline]
    pub(crate) fn current_owner() -> u64 {
        current_task_owner().unwrap_or_else(task_held::thread_owner)
    }

    /// The task acquiring here now: the `.lockdep()` task being polled, else the plain tokio
    /// task running (feature `tokio`); `None` when no task lockdep can see is running (plain
    /// code on a thread, or a poll by an executor with no task id and no `.lockdep()`).
    #[inline]
    pub(crate) fn current_task_owner() -> Option<u64> {
        match TASK.with(Cell::get) {
            #[cfg(feature = "tokio")]
            0 => match validator::plain_task_owner() {
                0 => None,
                plain => Some(plain),
            },
            #[cfg(not(feature = "tokio"))]
            0 => None,
            task => Some(task),
        }
    }

    /// Whether the stack caches a plain tokio task's entries now (brought in line with the
    /// task running first).
    fn in_plain_task() -> bool {
        #[cfg(feature = "tokio")]
        return validator::plain_task_owner() != 0;
        #[cfg(not(feature = "tokio"))]
        false
    }

    /// The task side of a [`Tracked`](super::Tracked).
    pub(super) struct TaskState {
        /// The task's held entries while it is suspended, outermost first.
        saved: Vec<HeldLock>,
        /// The report scope current where the task was made (a test's, a `capture`'s): reports
        /// raised in the task go there, whichever thread polls it.
        sink: Option<Sink>,
        site: validator::TaskSite,
        detached: bool,
        owner: u64,
    }

    impl TaskState {
        pub(super) fn new(
            at: &'static Location<'static>,
            runs: &'static str,
            detached: bool,
        ) -> Self {
            TaskState {
                saved: Vec::new(),
                sink: crate::mode::current_sink(),
                site: validator::TaskSite { at, runs },
                detached,
                owner: task_held::new_owner(),
            }
        }

        pub(super) fn poll<F: Future>(
            &mut self,
            future: Pin<&mut F>,
            cx: &mut Context<'_>,
        ) -> Poll<F::Output> {
            match self.sink.clone() {
                Some(sink) => crate::mode::with_sink(sink, || self.poll_inside(future, cx)),
                None => self.poll_inside(future, cx),
            }
        }

        fn poll_inside<F: Future>(
            &mut self,
            future: Pin<&mut F>,
            cx: &mut Context<'_>,
        ) -> Poll<F::Output> {
            let entered = Entered::enter(self);
            let yielded = YieldPoint {
                inner: cx.waker(),
                base: entered.base,
                trace: OnceLock::new(),
            };
            let waker = yielded.waker();
            let result = future.poll(&mut Context::from_waker(&waker));
            let pending = result.is_pending();
            let reports = entered.leave(pending, Some(&yielded));
            // Every finding is delivered before a panic the mode asks for is raised.
            if let Some(pending) = crate::validator::deliver_all(reports) {
                pending.raise();
            }
            result
        }

        /// Runs `drop_future` inside the task, so that its guards find their entries; whatever
        /// is left (a leaked guard) goes with the task.
        pub(super) fn drop_inside(&mut self, drop_future: impl FnOnce()) {
            let entered = Entered::enter(self);
            drop_future();
            entered.discard();
        }
    }

    impl Drop for TaskState {
        fn drop(&mut self) {
            // Posts to the task end with it (a guard it handed on is released there).
            task_held::owner_gone(self.owner);
        }
    }

    /// A task entered on this thread: undone by [`Entered::leave`], or by `Drop` when the poll
    /// unwinds (the entries then go back to the task, without reports, for the future's drop).
    struct Entered<'a> {
        state: &'a mut TaskState,
        /// The thread's stack depth below the task's entries.
        base: usize,
        /// The owner that was current before (0: none, a top-level poll).
        outer: u64,
        /// Async entries of a plain `block_on` future, hidden during a top-level poll.
        hidden: Vec<HeldLock>,
        done: bool,
    }

    impl<'a> Entered<'a> {
        /// Must not panic: `Tracked::poll` enters before it polls, and a panic here would
        /// unwind out of the poll with the task half entered (and, from `Tracked::drop`, free a
        /// pinned future without dropping it). It only reads and writes thread-local cells
        /// without destructors (their `with` cannot fail) and the validator's thread state
        /// (whose re-entry check, in debug builds, cannot fire: nothing here re-enters it).
        fn enter(state: &'a mut TaskState) -> Self {
            let outer = TASK.with(Cell::get);
            let mut hidden = Vec::new();
            if outer == 0 && !in_plain_task() {
                // Async entries of a plain `block_on` future: on a current-thread runtime they
                // belong to another task. (Inside a plain tokio task, the stack holds that
                // task's entries, which are this task's too: a `.lockdep()` future awaited in
                // it.)
                validator::take_async_held(&mut hidden);
            }
            // A nested `Tracked` is part of the enclosing task: same owner.
            let owner = if outer == 0 { state.owner } else { outer };
            TASK.with(|t| t.set(owner));
            if outer == 0 {
                validator::set_task_site(Some(state.site));
            }
            let saved = &mut state.saved;
            task_held::claim_releases(owner, |addr, how| {
                task_held::remove_entry(saved, addr, how);
            });
            // Releases other threads made of locks the suspended task holds (orphan releases).
            task_held::claim_orphans(|addr, how| task_held::remove_entry(saved, addr, how));
            let base = validator::held_depth();
            validator::restore_held(&state.saved);
            state.saved.clear();
            Entered {
                state,
                base,
                outer,
                hidden,
                done: false,
            }
        }

        /// Leaves the poll; returns the findings to deliver once everything is consistent.
        fn leave(mut self, pending: bool, yielded: Option<&YieldPoint<'_>>) -> Vec<Report> {
            self.done = true;
            let mut reports = Vec::new();
            if pending {
                validator::take_held_from(self.base, &mut self.state.saved);
                if let Some(yielded) = yielded {
                    reports = self.held_across_await(yielded);
                }
            } else if self.state.detached && self.outer == 0 {
                let mut output = Vec::new();
                validator::take_held_from(self.base, &mut output);
            }
            self.restore_outer();
            reports
        }

        /// Ends a drop inside the task: what its guards did not release is forgotten.
        fn discard(mut self) {
            self.done = true;
            let mut leftover = Vec::new();
            validator::take_held_from(self.base, &mut leftover);
            self.restore_outer();
        }

        fn restore_outer(&mut self) {
            validator::restore_held(&self.hidden);
            self.hidden.clear();
            TASK.with(|t| t.set(self.outer));
            if self.outer == 0 {
                validator::set_task_site(None);
            }
        }

        /// The sync entries the task now holds while suspended, each finding once.
        fn held_across_await(&self, yielded: &YieldPoint<'_>) -> Vec<Report> {
            let saved = &self.state.saved;
            if saved.iter().all(|h| h.asynchronous) {
                return Vec::new();
            }
            let mut reports = Vec::new();
            for h in saved.iter().filter(|h| !h.asynchronous) {
                if !validator::is_new_held_across_await(h.node, h.at) {
                    continue;
                }
                let current = yielded.trace.get().cloned().unwrap_or_else(Trace::capture);
                let holding = validator::describe_held(h);
                reports.push(Report::new(ReportData {
                    kind: ReportKind::HeldAcrossAwait,
                    classes: vec![holding.class.clone()],
                    thread: validator::current_thread_name(),
                    acquiring: holding.clone(),
                    holding,
                    held: saved.iter().map(validator::describe_held).collect(),
                    chain: Vec::new(),
                    new_kinds: 0,
                    certain: false,
                    yield_point: true,
                    same_instance: false,
                    current,
                }));
            }
            reports
        }
    }

    impl Drop for Entered<'_> {
        fn drop(&mut self) {
            if !self.done {
                // Unwinding out of the poll: keep the task's entries for the future's drop.
                validator::take_held_from(self.base, &mut self.state.saved);
                self.restore_outer();
            }
        }
    }

    /// The waker a task's future sees: the real one, plus a note of where the task yielded. A
    /// future that returns `Pending` has registered the waker (cloned it, or woken it to be
    /// polled again) from inside the `.await` it is stuck at, with the task's own async
    /// frames on the stack: that stack is "where the task yielded". It is captured only while
    /// the task holds a sync lock, so a clean task pays nothing for it.
    struct YieldPoint<'a> {
        inner: &'a Waker,
        base: usize,
        trace: OnceLock<Arc<Trace>>,
    }

    impl YieldPoint<'_> {
        fn waker(&self) -> ManuallyDrop<Waker> {
            let raw = RawWaker::new(self as *const Self as *const (), &YIELD_VTABLE);
            // SAFETY: the vtable's functions uphold `RawWaker`'s contract: `clone` returns a
            // clone of the real waker (which owns itself), and the data pointer (this
            // `YieldPoint`) outlives the `Context` the waker is lent through, which lives only
            // for the poll below it; `ManuallyDrop` because dropping it must not happen at all.
            ManuallyDrop::new(unsafe { Waker::from_raw(raw) })
        }

        #[inline]
        fn note(&self) {
            if self.trace.get().is_none() && validator::holds_sync_from(self.base) {
                let _ = self.trace.set(Trace::capture());
            }
        }
    }

    use std::mem::ManuallyDrop;

    static YIELD_VTABLE: RawWakerVTable =
        RawWakerVTable::new(yield_clone, yield_wake, yield_wake, yield_drop);

    /// # Safety
    /// `data` is the `YieldPoint` of a poll still running.
    unsafe fn yield_point<'a>(data: *const ()) -> &'a YieldPoint<'a> {
        // SAFETY: forwarded contract.
        unsafe { &*(data as *const YieldPoint<'a>) }
    }

    unsafe fn yield_clone(data: *const ()) -> RawWaker {
        // SAFETY: a waker of this vtable is only lent during its poll.
        let point = unsafe { yield_point(data) };
        point.note();
        let real = point.inner.clone();
        let raw = RawWaker::new(real.data(), real.vtable());
        std::mem::forget(real);
        raw
    }

    unsafe fn yield_wake(data: *const ()) {
        // SAFETY: as in `yield_clone`. (`wake` by value is never called on the lent waker: the
        // only owned one is never dropped or woken; it is handled like `wake_by_ref` anyway.)
        let point = unsafe { yield_point(data) };
        point.note();
        point.inner.wake_by_ref();
    }

    unsafe fn yield_drop(_: *const ()) {}
}
