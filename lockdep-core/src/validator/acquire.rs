//! The validated path: a blocking acquisition whose lock chain this thread validated before
//! reads this thread's state (the stack's top key, one cache slot), takes the lock, and pushes
//! an entry. Everything else leaves for the slow path (`check.rs`) through a cold call. (The
//! release of the top entry, its counterpart, is in `release.rs`.)
//!
//! At the top of the validator with `hooks.rs` and `held_set.rs`: it calls down into the slow
//! path, the findings, the task switch and the thread state, and nothing below calls back up.

use super::acquisition::{certain_conflict, Acquisition};
use super::check::validate;
use super::depth::new_max_depth;
use super::findings::Pending;
use super::seam::claim_orphans;
use super::switch;
use super::thread::{
    cache_slot, cache_tag, with_thread, CacheSlot, StackPtr, ThreadState, TASK_SALT,
};
use super::LockRef;
use crate::access::Access;
use crate::held::{chain_mix, self_conflict_is_certain, HeldLock, HeldStack, MAX_LOCK_DEPTH};
use crate::mode::{self, Mode};
use std::panic::Location;

/// What the hot check found: the chain key of the stack with the new entry on top, the depth
/// it goes at, and the stack (see [`push_hot`]).
#[derive(Clone, Copy)]
pub(crate) struct Clean {
    key: u64,
    depth: usize,
    stack: StackPtr,
}

/// The check of the hot path: the same decisions as the slow path's `fast_check` without a
/// `skip`, but it returns only what the push needs, so that nothing large (no `Snapshot`) is
/// built or moved when the chain is known. `None`: go the general way (a chain not in this
/// thread's cache, the same instance held, a stack about to fill).
#[inline(always)]
fn hot_check(t: &mut ThreadState, acq: &Acquisition) -> Option<Clean> {
    hot_check_salted(t, acq, 0)
}

/// [`hot_check`] on a thread that runs tokio tasks, once its stack is in line with the task
/// running (`switch.rs`): the same decisions, against the cache entries of such a thread.
#[inline]
fn hot_check_in_task(t: &mut ThreadState, acq: &Acquisition) -> Option<Clean> {
    if !t.runs_tasks() {
        return None;
    }
    hot_check_salted(t, acq, TASK_SALT)
}

/// [`hot_check`] against the cache entries tagged with `salt` (see [`TASK_SALT`]).
///
/// Every depth takes the same steps, the first lock too: the link (the stack's key xor the
/// new entry's descriptor; for an empty stack the root key's) indexes the cache, whose slot
/// hands back the new key. A lock taken with nothing held is cached as any chain (by
/// [`first_level`], out of line), so no test of the depth or of "this thread's first
/// acquisition" is made here: an empty cache misses.
#[inline(always)]
#[allow(clippy::manual_map)] // see its end
fn hot_check_salted(t: &mut ThreadState, acq: &Acquisition, salt: u64) -> Option<Clean> {
    let depth = t.held.depth();
    // The push that fills the stack builds its filter of held instances (`held.rs`): not one
    // made here. Past this test the accesses below need no bounds checks.
    if depth >= MAX_LOCK_DEPTH - 1 {
        return None;
    }
    let link = t.held.top_key() ^ HeldLock::descriptor(acq.node, acq.access, false);
    let key = if salt != 0 {
        in_task_answer(t, link)
    } else {
        // A thread that runs tokio tasks tags its entries with `TASK_SALT`, which this compare
        // never matches: such a thread goes to the rest, which brings in the task's answer.
        // No test of its own on the hot path of every other thread.
        let slot = t.cache[cache_slot(link)];
        if slot.tag == link {
            // Validated, and no lock of this class is held: no self-deadlock to look for.
            Some(slot.key)
        } else {
            hot_check_rest(t, *acq, link, slot)
        }
    };
    // A `match`, not `Option::map`: in a user's debug build that is a call and a closure.
    match key {
        Some(key) => Some(Clean {
            key,
            depth,
            stack: StackPtr::of(t),
        }),
        None => None,
    }
}

/// The salted cache's answer on a thread that runs tokio tasks, its stack in line with the task
/// running (see [`TASK_SALT`]): a validated chain, or a first lock (cached here too); the rest
/// (a class held already, checking off) goes the general way.
#[inline(always)]
fn in_task_answer(t: &mut ThreadState, link: u64) -> Option<u64> {
    let slot = t.cache[cache_slot(link)];
    if slot.tag == link ^ TASK_SALT {
        return Some(slot.key);
    }
    if t.held.depth() == 0 {
        return first_level(t, link, TASK_SALT);
    }
    None
}

/// A lock taken with nothing held, not in the cache: clean, unless this is the thread's first
/// acquisition (which goes the general way, which registers its exit check and counts its
/// depth: `new_max_depth`). Its chain is cached, so that the next one is a hit; `salt` is the
/// thread's (see [`TASK_SALT`]).
#[inline(never)]
fn first_level(t: &mut ThreadState, link: u64, salt: u64) -> Option<u64> {
    // The hot path pushes only at a depth this thread reached before (`push_validated`).
    if t.held.max_depth() == 0 {
        return None;
    }
    let key = chain_mix(link);
    t.cache[cache_slot(link)] = CacheSlot {
        tag: link ^ salt,
        key,
    };
    Some(key)
}

/// The rest of [`hot_check`], out of line so that what is inlined into every acquisition stays
/// small: a clean answer now needs the instance scan (a validated chain whose class is held
/// already, or checking switched off, which still stops a certain self-deadlock), or is a
/// first lock not cached yet. The acquisition comes by value, so that no caller keeps a copy
/// of it in memory for this call.
#[inline(never)]
fn hot_check_rest(
    t: &mut ThreadState,
    acq: Acquisition,
    link: u64,
    slot: CacheSlot,
) -> Option<u64> {
    // A thread that runs tokio tasks caches its chains salted: when its stack is in line with
    // the task running now (no switch due; asking tokio reaches no validator state), the salted
    // entries answer here, and the caller pushes as on a hit. A switch due goes the general
    // way, which makes it first.
    if t.runs_tasks() {
        if !switch::in_line_now() {
            return None;
        }
        return in_task_answer(t, link);
    }
    if t.held.depth() == 0 {
        // A first lock inside a tokio task, on a thread not seen running tasks yet (one that
        // took locks before it entered a runtime: its first acquisition did not look), goes
        // the general way, which notices the task. Asked on this out-of-line miss only, once
        // per chain and thread: the chain is cached after.
        if switch::task_running() {
            return None;
        }
        return first_level(t, link, 0);
    }
    // The mode is read only here: a cached chain is clean whatever it is. It is known by now
    // (this thread's first push read it, in `new_max_depth`), so this is one atomic load and
    // never the first read, which looks at the environment.
    let key = if slot.tag == cache_tag(link, true) {
        slot.key
    } else {
        // Checking off: no cached chain vouches for the depth (see `push_validated`), so a
        // depth this thread never reached goes the general way, which counts it.
        if mode::mode() != Mode::Off || t.held.depth() >= t.held.max_depth() {
            return None;
        }
        chain_mix(link)
    };
    if certain_conflict(t.held.as_slice(), &acq, None).is_some() {
        return None;
    }
    Some(key)
}

/// A blocking acquisition: validates it, takes the lock with `take`, records it as held.
///
/// The hot path (a chain this thread validated before) touches only this thread's state: the
/// check reads it (the stack's top key, one cache slot, which holds the new entry's chain
/// key), the lock is taken, and the entry is pushed with that key. The push comes after the
/// lock on purpose: an atomic read-modify-write waits for every earlier store to leave the
/// store buffer, so stores made just before it are paid for in its latency; made after it,
/// they drain while the caller goes on. Nothing touches this thread's stack in between (only
/// this thread does, and `take` runs no code of this crate that does), so the check still
/// holds when the entry goes on; and if `take` unwinds there is nothing to undo.
///
/// Returns the report a panicking mode must raise (the lock is then not taken): the typed
/// layer raises it from its `#[track_caller]` method, so that the panic names the user's call.
// The async faces' acquisitions (features `tokio`, `futures`, `async-lock`); the raw lock
// enters through `enter` and `acquire_entered`.
#[cfg_attr(
    not(any(feature = "tokio", feature = "futures", feature = "async-lock")),
    allow(dead_code)
)]
#[inline(always)]
#[must_use = "a pending panic must be raised"]
pub(crate) fn acquire(acq: &Acquisition, take: impl FnOnce()) -> Option<Pending> {
    acquire_entered(acq, check_hot(acq), take)
}

/// [`acquire`] for a caller that brought this thread's stack in line with the tokio task running
/// just before, with nothing run since (an async face's acquisition in a plain task: it asked
/// for the task that owns it, `task::current_owner`): the slow path, which every acquisition of
/// a thread that runs tasks takes, does not ask tokio again.
#[cfg_attr(not(feature = "tokio"), allow(dead_code))]
#[inline(always)]
#[must_use = "a pending panic must be raised"]
pub(crate) fn acquire_in_line(acq: &Acquisition, take: impl FnOnce()) -> Option<Pending> {
    // The thread runs tasks, so its cache entries are the salted ones: straight to that check
    // (the plain hot check would only miss, and call out twice before getting there).
    let Some(clean) = with_thread(|t| hot_check_in_task(t, acq)) else {
        return acquire_slow(*acq, InLine::Already, take).map(|pending| *pending);
    };
    take_validated(acq, clean, take);
    None
}

/// Whether the slow path must first bring the stack in line with the task running.
#[derive(Clone, Copy, PartialEq, Eq)]
enum InLine {
    /// Ask tokio (`switch::notice_tasks`).
    Check,
    /// The caller did, just before.
    Already,
}

/// [`acquire`] past the hot check, whose answer is `hot` (see [`enter`]).
#[inline(always)]
#[must_use = "a pending panic must be raised"]
pub(crate) fn acquire_entered(
    acq: &Acquisition,
    hot: Option<Clean>,
    take: impl FnOnce(),
) -> Option<Pending> {
    let Some(clean) = hot else {
        return acquire_slow(*acq, InLine::Check, take).map(|pending| *pending);
    };
    take_validated(acq, clean, take);
    None
}

/// What [`enter`] found.
pub(crate) enum Entered {
    /// The lock cannot be tracked (the class table is full): take it, nothing else.
    Untracked,
    /// The acquisition, and the hot check's answer (`None`: the general way).
    Tracked(Acquisition, Option<Clean>),
}

/// The start of every blocking acquisition of a checked raw lock: the lock's class resolved
/// (see [`Acquisition::new`]) and the hot check made, in one function that is not generic.
///
/// In an optimised build it is inlined (into the raw lock's generic code, as before). In a
/// build with debug assertions (a user's test profile, where the generic layers above it are
/// compiled unoptimised in the user's crate) it is one call into this crate instead of a dozen
/// layers of closures and accessors instantiated there; [`push_hot`] is the other one.
#[cfg_attr(debug_assertions, inline(never))]
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn enter(
    lock: LockRef<'_>,
    subclass: u32,
    access: Access,
    at: &'static Location<'static>,
) -> Entered {
    match Acquisition::new(lock, subclass, access, Some(at)) {
        Some(acq) => {
            let hot = with_thread(|t| hot_check(t, &acq));
            Entered::Tracked(acq, hot)
        }
        None => Entered::Untracked,
    }
}

/// The hot check alone, not generic (see [`enter`]).
#[cfg_attr(debug_assertions, inline(never))]
#[cfg_attr(not(debug_assertions), inline(always))]
fn check_hot(acq: &Acquisition) -> Option<Clean> {
    with_thread(|t| hot_check(t, acq))
}

/// The hot path past its check: takes the lock, then pushes the entry at the depth checked
/// (kept in a register: the stack is as the check left it).
#[inline(always)]
fn take_validated<T>(acq: &Acquisition, clean: Clean, take: impl FnOnce() -> T) -> T {
    let taken = take();
    push_hot(acq, clean);
    taken
}

/// The push of the hot path, not generic (see [`enter`]).
#[cfg_attr(debug_assertions, inline(never))]
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn push_hot(acq: &Acquisition, clean: Clean) {
    // SAFETY: the check ran on this thread, and since then only the raw lock did (see
    // `StackPtr`).
    let held = unsafe { clean.stack.get() };
    held.push_validated(clean.depth, acq.entry(false), clean.key);
}

/// [`acquire`] for a `take` that returns what it took, raising a pending panic itself: the
/// `std::sync` flavour, whose `take` returns a `LockResult` (more than two registers). Both
/// ways call `take` inline, so that what it returns stays in registers up to the caller:
/// returned from an out-of-line slow path (through memory) and then wrapped in one more
/// `Result`, it was copied through the stack on the hot path too, and those copies (a 16-byte
/// load of what two 8-byte stores had just written) stalled every acquisition on store
/// forwarding. The panic still names the user's call: every frame down to [`Pending::raise`]
/// tracks its caller.
#[inline(always)]
#[track_caller]
pub(crate) fn acquire_or_raise<T>(acq: &Acquisition, take: impl FnOnce() -> T) -> T {
    let Some(clean) = check_hot(acq) else {
        if let Some(pending) = switch::notice_tasks() {
            pending.raise();
        }
        if let Some(clean) = with_thread(|t| hot_check_in_task(t, acq)) {
            return take_validated(acq, clean, take);
        }
        let untracked = match slow_before(*acq) {
            Ok(untracked) => untracked,
            Err(pending) => pending.raise(),
        };
        let taken = take();
        slow_after(*acq, untracked);
        return taken;
    };
    take_validated(acq, clean, take)
}

/// [`acquire_entered`] for the raw paths that must not unwind without the lock (`raw/checked`'s
/// module doc): a panic due is returned only once the lock is taken and its entry pushed; a
/// certain self-deadlock, which taking the lock would turn into a hang, aborts with its report.
#[inline(always)]
#[must_use = "a pending panic must be raised"]
pub(crate) fn acquire_holding_entered(
    acq: &Acquisition,
    hot: Option<Clean>,
    take: impl FnOnce(),
) -> Option<Pending> {
    let Some(clean) = hot else {
        return acquire_slow_holding(*acq, take).map(|pending| *pending);
    };
    take_validated(acq, clean, take);
    None
}

/// The slow half of [`acquire_holding_entered`].
#[cold]
#[inline(never)]
fn acquire_slow_holding(acq: Acquisition, take: impl FnOnce()) -> Option<Box<Pending>> {
    // A task switch's finding is due once the lock is held, like the acquisition's own.
    let switched = switch::notice_tasks();
    if let Some(clean) = with_thread(|t| hot_check_in_task(t, &acq)) {
        take_validated(&acq, clean, take);
        return switched.map(Box::new);
    }
    let (untracked, pending) = match slow_before(acq) {
        Ok(untracked) => (untracked, None),
        Err(pending) if pending.is_certain() => pending.abort(),
        Err(pending) => (false, Some(Box::new(pending))),
    };
    take();
    slow_after(acq, untracked);
    switched.map(Box::new).or(pending)
}

/// Every blocking acquisition the hot path does not take. The acquisition is passed by value,
/// so that its copy is made here, off the hot path, rather than on the stack of every caller.
/// The pending panic comes back boxed (made only here, where a report was built anyway): one
/// register, where a `Pending` returned through memory cost every nested acquisition a few
/// instructions (callgrind, depth 8: 554 against 530 per iteration).
#[cold]
#[inline(never)]
fn acquire_slow(acq: Acquisition, in_line: InLine, take: impl FnOnce()) -> Option<Box<Pending>> {
    // On a thread that runs tokio tasks this is every acquisition (see
    // `ThreadState::cache_salt`): the stack is brought in line with the task running, then the
    // same check as the hot path's against the salted cache.
    if in_line == InLine::Check {
        if let Some(pending) = switch::notice_tasks() {
            return Some(Box::new(pending));
        }
    }
    // Past MAX_LOCK_DEPTH an untracked lock is only counted, here: no further calls out (they
    // were most of its cost).
    if untracked_past_full(&acq) {
        take();
        after_untracked(&acq);
        return None;
    }
    if let Some(clean) = with_thread(|t| hot_check_in_task(t, &acq)) {
        take_validated(&acq, clean, take);
        return None;
    }
    // Not past the stack (looked at above): `slow_before`'s check without its first step.
    if let Some(pending) = check_blocking(&acq) {
        return Some(Box::new(pending));
    }
    take();
    slow_after(acq, false);
    None
}

/// The check of a blocking acquisition the hot path does not take: `Ok(true)` when the lock
/// goes past MAX_LOCK_DEPTH untracked, `Ok(false)` when it is validated (and goes on the
/// stack once taken), the panic due otherwise (the lock is then not taken).
#[cold]
#[inline(never)]
fn slow_before(acq: Acquisition) -> Result<bool, Pending> {
    if untracked_past_full(&acq) {
        return Ok(true);
    }
    match check_blocking(&acq) {
        Some(pending) => Err(pending),
        None => Ok(false),
    }
}

/// Whether the lock goes past MAX_LOCK_DEPTH untracked: the stack is full and its filter says
/// the acquisition cannot be a certain self-deadlock. Looked at first on the general way (a
/// thread that leaked its guards is there for good, so this is its every acquisition): the
/// filter, and nothing else before the lock.
#[inline]
fn untracked_past_full(acq: &Acquisition) -> bool {
    with_thread(|t| t.held.is_full() && !t.held.full_may_conflict(acq.addr, acq.access))
}

/// After a lock [`slow_before`] let through was taken: counted past the stack, or pushed.
#[cold]
#[inline(never)]
fn slow_after(acq: Acquisition, untracked: bool) {
    if untracked {
        after_untracked(&acq);
        return;
    }
    // A raw entry of this very lock, released by another thread while this one waited, is gone
    // before the new entry goes on (see `check`).
    claim_orphans();
    after_lock(&acq, false);
}

/// A lock taken past MAX_LOCK_DEPTH: the releases posted to this thread claimed (as after any
/// lock: `slow_after`), then counted (and remembered, for its release), not tracked; the
/// thread's first such lock says so once. Inlined into the general way's lane for such locks,
/// which makes no further call out.
#[inline]
fn after_untracked(acq: &Acquisition) {
    claim_orphans();
    let first = with_thread(|t| {
        t.held.note_overflow(acq.addr);
        !std::mem::replace(&mut t.overflow_reported, true)
    });
    if first {
        overflow_message(acq);
    }
}

/// The one message a thread gets when it first takes a lock past MAX_LOCK_DEPTH.
#[cold]
#[inline(never)]
fn overflow_message(acq: &Acquisition) {
    eprintln!(
        "lockdep: this thread holds more than {MAX_LOCK_DEPTH} locks (MAX_LOCK_DEPTH); `{}` and \
         further locks are not tracked until it releases some",
        acq.node.name()
    );
}

/// Before a blocking acquisition: validate, deliver findings (which may panic in `Panic` mode:
/// the lock has not been taken yet, so unwinding leaves everything consistent).
#[inline]
#[track_caller]
pub(crate) fn before_lock(acq: &Acquisition) {
    if let Some(pending) = switch::notice_tasks() {
        pending.raise();
    }
    if let Some(pending) = check_blocking(acq) {
        pending.raise();
    }
}

/// The check of a blocking acquisition, on every path but the hot one; returns the panic due.
#[must_use = "a pending panic must be raised"]
fn check_blocking(acq: &Acquisition) -> Option<Pending> {
    // Past MAX_LOCK_DEPTH the lock will not be tracked, and it is not validated either (leaked
    // guards keep the stack full for good, and the kernel turns lockdep off altogether here):
    // no chain, no graph. Only a certain self-deadlock against a tracked entry is still refused,
    // as promised whatever the mode: the full stack's filter says in a few instructions that
    // this instance is not held that way, and only if it may be, the entries are looked at.
    if with_thread(|t| t.held.is_full() && !certain_conflict_when_full(&t.held, acq)) {
        return None;
    }
    validate(acq)
}

/// [`certain_conflict`] for a full stack: its filter first, then (rarely) one plain loop,
/// cheap even unoptimised (std's max-readers pattern fills the stack with the very lock being
/// taken again, read by read: the filter clears those at once).
#[inline]
fn certain_conflict_when_full(held: &HeldStack, acq: &Acquisition) -> bool {
    if !held.full_may_conflict(acq.addr, acq.access) {
        return false;
    }
    for h in held.as_slice() {
        if h.instance == acq.addr && self_conflict_is_certain(h.access, acq.access) {
            return true;
        }
    }
    false
}

/// After a lock (blocking or trylock) was taken: it is held now.
#[inline]
pub(crate) fn after_lock(acq: &Acquisition, trylock: bool) {
    switch::sync_point_quiet();
    /// What happened, acted on once the state is released.
    enum After {
        Pushed { new_max: bool },
        Overflowed { first: bool },
    }
    let after = with_thread(|t| {
        if t.held.is_full() {
            t.held.note_overflow(acq.addr);
            let first = !t.overflow_reported;
            t.overflow_reported = true;
            return After::Overflowed { first };
        }
        After::Pushed {
            new_max: t.held.push(acq.entry(trylock)),
        }
    });
    match after {
        After::Pushed { new_max: true } => new_max_depth(),
        After::Pushed { new_max: false } | After::Overflowed { first: false } => {}
        After::Overflowed { first: true } => overflow_message(acq),
    }
}
