//! The validated path: a blocking acquisition whose lock chain this thread validated before
//! costs one thread-local access (check the cache, compute the new entry's chain key, push),
//! and a release of the top entry one more (pop). Everything else leaves for the slow path
//! (`check.rs`) through a cold call.

use super::check::validate;
use super::findings::Pending;
use super::thread::{cache_slot, cache_tag, new_max_depth, with_thread, ThreadState};
use super::LockRef;
use crate::class::NodeKey;
use crate::held::{chain_step, Access, HeldLock, HeldStack, Release, MAX_LOCK_DEPTH};
use crate::mode::{self, Mode};
use crate::report::LockDesc;
use std::panic::Location;

/// What holding `held` and then acquiring the same *instance* as `acquired` means.
fn self_conflict_is_certain(held: Access, acquired: Access) -> bool {
    use Access::*;
    match (held, acquired) {
        // A writer waits for every holder, and every acquirer waits for a writer.
        (Write, _) | (_, Write) => true,
        // Upgradable reads exclude each other.
        (Upgradable, Upgradable) => true,
        // A reader beside a reader or an upgrader only blocks behind a queued writer: possible,
        // not certain; the class-level recursion check reports it.
        _ => false,
    }
}

/// An acquisition being validated.
#[derive(Clone, Copy)]
pub(crate) struct Acquisition {
    pub(crate) addr: usize,
    pub(crate) node: NodeKey,
    pub(crate) access: Access,
    pub(crate) at: Option<&'static Location<'static>>,
    /// An async lock's acquisition (see [`HeldLock::asynchronous`]).
    pub(crate) asynchronous: bool,
}

impl Acquisition {
    /// Resolves the lock's class; `None` when it cannot be tracked (the class table is full).
    #[inline]
    pub(crate) fn new(
        lock: LockRef<'_>,
        subclass: u32,
        access: Access,
        at: Option<&'static Location<'static>>,
    ) -> Option<Acquisition> {
        if subclass != 0 {
            crate::class::check_subclass(subclass, lock.class);
        }
        let (class, identity) = lock.class.resolve_instance()?;
        Some(Acquisition {
            addr: identity,
            node: NodeKey::new(class, subclass),
            access,
            at,
            asynchronous: false,
        })
    }

    /// [`Self::new`] for a lock whose held entry is named by an address rather than by its
    /// class cell's identity: once-cells (an odd address, see `init.rs`) and tokio's locks,
    /// whose guards know only the tokio lock inside. An address never equals an identity word
    /// (those carry the class id in their top bits); a new lock at a freed one's address can
    /// be confused with a leaked entry of the old one, which identity words rule out.
    #[inline]
    pub(crate) fn at_address(
        lock: LockRef<'_>,
        addr: usize,
        subclass: u32,
        access: Access,
        at: Option<&'static Location<'static>>,
    ) -> Option<Acquisition> {
        let mut acq = Acquisition::new(lock, subclass, access, at)?;
        acq.addr = addr;
        Some(acq)
    }

    pub(super) fn desc(&self, trylock: bool) -> LockDesc {
        LockDesc {
            class: self.node.name(),
            access: self.access,
            trylock,
            at: self.at,
            initialising: self.node.initialising(),
        }
    }

    pub(crate) fn entry(&self, trylock: bool) -> HeldLock {
        HeldLock {
            instance: self.addr,
            node: self.node,
            access: self.access,
            trylock,
            at: self.at,
            chain_key: 0,
            asynchronous: self.asynchronous,
        }
    }
}

/// Index of a held entry of this very instance (other than `skip`) that makes `acq` certain to
/// hang.
#[inline(always)]
pub(super) fn certain_conflict(
    held: &[HeldLock],
    acq: &Acquisition,
    skip: Option<usize>,
) -> Option<usize> {
    held.iter().enumerate().position(|(i, h)| {
        h.instance == acq.addr && Some(i) != skip && self_conflict_is_certain(h.access, acq.access)
    })
}

/// What the hot-path check found.
enum Hot {
    /// Validated before (or nothing to validate): take the lock and push an entry with this
    /// chain key.
    Clean(u64),
    /// Anything else (a chain not in this thread's cache, the same instance held, the
    /// thread-local state gone): go the general way, [`before_lock`] and [`after_lock`].
    Slow,
}

/// The check of the hot path: the same decisions as [`fast_check`] without a `skip`, but it
/// returns only a key, so that nothing large (no [`Snapshot`]) is built or moved when the chain
/// is known, and the key it computes is the one the pushed entry needs.
#[inline(always)]
fn hot_check(t: &ThreadState, acq: &Acquisition) -> Hot {
    let held = t.held.as_slice();
    let key = chain_step(
        t.held.top_key(),
        HeldLock::descriptor(acq.node, acq.access, false),
    );
    if held.is_empty() {
        return Hot::Clean(key);
    }
    let cached = t.cache[cache_slot(key)];
    if cached == cache_tag(key, false) {
        // Validated, and no lock of this class is held: no self-deadlock to look for.
        return Hot::Clean(key);
    }
    // Otherwise a clean answer needs the instance scan: a validated chain whose class is held
    // already, or checking switched off (which still stops a certain self-deadlock). The mode
    // is read only here: a cached chain is clean whatever it is. It is known by now (this
    // thread's first push read it, in `new_max_depth`), so this is one atomic load and never
    // the first read, which looks at the environment.
    if cached != cache_tag(key, true) && mode::mode() != Mode::Off {
        return Hot::Slow;
    }
    if certain_conflict(held, acq, None).is_some() {
        return Hot::Slow;
    }
    Hot::Clean(key)
}

/// A blocking acquisition: validates it, takes the lock with `take`, records it as held.
///
/// The hot path (a chain this thread validated before) touches only this thread's state, in one
/// thread-local access: check, compute the new entry's chain key, push the entry. The entry goes
/// on before the lock is taken; nothing else reads this thread's stack meanwhile, and if `take`
/// unwinds (a raw lock that panics) [`Unpush`] takes the entry off again.
///
/// Returns the report a panicking mode must raise (the lock is then not taken): the typed
/// layer raises it from its `#[track_caller]` method, so that the panic names the user's call.
/// (This costs the validated path about three instructions per acquisition, the test of the
/// returned flag; `#[track_caller]` all the way down cost more.)
#[inline]
#[must_use = "a pending panic must be raised"]
pub(crate) fn acquire(acq: &Acquisition, take: impl FnOnce()) -> Option<Pending> {
    let pushed = with_thread(|t| hot_push(t, acq));
    if pushed == Pushed::No {
        return acquire_slow(acq, take);
    }
    if pushed == Pushed::NewMax {
        new_max_depth();
    }
    let unpush = Unpush(acq.addr);
    take();
    std::mem::forget(unpush);
    None
}

/// What [`hot_push`] did.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pushed {
    /// Nothing: go the slow way.
    No,
    Yes,
    /// Pushed, and this thread never held so many locks before.
    NewMax,
}

/// Checks and, when the chain is known, pushes the entry.
#[inline(always)]
fn hot_push(t: &mut ThreadState, acq: &Acquisition) -> Pushed {
    // First: past it the depth is known to be in bounds, so the accesses below need no checks.
    if t.held.is_full() {
        return Pushed::No;
    }
    match hot_check(t, acq) {
        Hot::Clean(key) => {
            if t.held.push_keyed(acq.entry(false), key) {
                Pushed::NewMax
            } else {
                Pushed::Yes
            }
        }
        _ => Pushed::No,
    }
}

/// Removes the entry [`acquire`] pushed if taking the lock unwinds; forgotten otherwise.
struct Unpush(usize);

impl Drop for Unpush {
    fn drop(&mut self) {
        with_thread(|t| {
            if let Some(index) = t.held.find(self.0) {
                t.held.remove(index);
            }
        });
    }
}

#[cold]
#[inline(never)]
#[must_use = "a pending panic must be raised"]
fn acquire_slow(acq: &Acquisition, take: impl FnOnce()) -> Option<Pending> {
    if let Some(pending) = validate(acq) {
        return Some(pending);
    }
    take();
    after_lock(acq, false);
    None
}

/// Before a blocking acquisition: validate, deliver findings (which may panic in `Panic` mode:
/// the lock has not been taken yet, so unwinding leaves everything consistent).
#[inline]
#[track_caller]
pub(crate) fn before_lock(acq: &Acquisition) {
    // Past MAX_LOCK_DEPTH the lock will not be tracked, and it is not validated either (leaked
    // guards keep the stack full for good, and the kernel turns lockdep off altogether here):
    // no chain, no graph. Only a certain self-deadlock against a tracked entry is still refused,
    // as promised whatever the mode: a tight pass over the stack for this very instance, and
    // only if it is there, the finer look at how it is held.
    if with_thread(|t| t.held.is_full() && !certain_conflict_when_full(&t.held, acq)) {
        return;
    }
    if let Some(pending) = validate(acq) {
        pending.raise();
    }
}

/// [`certain_conflict`] for the full stack's cheap path: one plain loop, cheap even unoptimised
/// (std's max-readers pattern fills the stack with the very lock being taken again).
#[inline]
fn certain_conflict_when_full(held: &HeldStack, acq: &Acquisition) -> bool {
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
        After::Overflowed { first: true } => eprintln!(
            "lockdep: this thread holds more than {MAX_LOCK_DEPTH} locks (MAX_LOCK_DEPTH); `{}` \
             and further locks are not tracked until it releases some",
            acq.node.name()
        ),
    }
}

/// A lock is being released.
#[inline]
pub(crate) fn release(addr: usize, how: Release) {
    // Guards are mostly dropped innermost first: popping the top needs no search or rekey, and
    // is small enough to inline into the guard's drop.
    // A nested entry (or any, while `unlocked` records exist) goes the general way too.
    let popped = with_thread(|t| match t.held.as_slice().last() {
        Some(top)
            if top.instance == addr && how.matches(top.access) && !t.relocks.concerns(top) =>
        {
            t.held.pop();
            true
        }
        _ => false,
    });
    if !popped {
        release_slow(addr, how);
    }
}

/// A release of a lock that is not on top of the stack (or not tracked, or of interest to the
/// `unlocked` records).
#[cold]
#[inline(never)]
fn release_slow(addr: usize, how: Release) {
    with_thread(|t| {
        // Past MAX_LOCK_DEPTH the untracked locks are on top: found without a scan.
        if t.held.release_overflow(addr) {
            return;
        }
        let found = t
            .held
            .as_slice()
            .iter()
            .rposition(|h| h.instance == addr && how.matches(h.access));
        match found {
            Some(index) => {
                let removed = t.held.remove(index);
                if t.relocks.concerns(&removed) {
                    t.relocks.released(&removed);
                }
            }
            // Taken beyond MAX_LOCK_DEPTH, or of a class that could not be registered.
            None if t.held.overflowed > 0 => t.held.overflowed -= 1,
            None => {}
        }
    });
}

/// A plain raw acquisition of `addr` as `how` (`lock_api` relocking after a guard's
/// `unlocked`): the nested entry this thread last released that way, if any (`relock.rs`).
#[inline]
pub(crate) fn relock_entry(addr: usize, how: Release) -> Option<HeldLock> {
    with_thread(|t| t.relocks.take(addr, how))
}
