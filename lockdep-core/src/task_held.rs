//! Held sets that belong to someone other than the thread: owner ids, releases posted to an
//! owner, and the held sets of *plain* tokio tasks (feature `tokio`), keyed by tokio's task id.
//!
//! A task spawned with plain `tokio::spawn` (by the program, a library, `spawn_local`, or the
//! body of a `#[tokio::test]`'s spawned tasks) runs no code of this crate between its polls, so
//! nothing takes its locks off a worker thread's stack when it is suspended. The validator
//! notices a change of task instead, at the next acquisition on that thread: it compares
//! tokio's current task id with the task whose entries its stack caches
//! (`validator/switch.rs`). This module is the data that needs, and nothing more:
//!
//! * **here**: which task's entries this thread's stack caches (above which depth), and that
//!   task's home;
//! * each task's **home**: while a thread caches the task, its *async* entries, kept current by
//!   every async acquisition and release (written through); while none does, all its entries
//!   (async ones, and sync ones it still held when another task ran on its thread). A worker
//!   that resumes the task finds its locks there, whichever worker ran it before.
//!
//! **Why the write-through needs no lock.** Only the thread running the task writes its home
//! outside a switch, and tokio runs a task on one thread at a time, handing it from worker to
//! worker with a release/acquire pair on the task's state: consecutive runs of one task are
//! ordered, as the task's own future's fields are. tokio's task ids are unique among the tasks
//! alive (tokio 1.x draws them from a 64-bit counter, never reused in practice), so "the
//! thread whose tokio task id is T" is "the thread running T". A switch (a thread starts or
//! stops caching a task) takes the home's own lock and sets `cached_on`, so a thread that cached
//! the task earlier and sees the task move on can tell that its copy is stale. See
//! [`Home`]'s safety rules.
//!
//! The owner ids and posted releases serve every owner that is not the thread holding an
//! entry: `.lockdep()` tasks (`task.rs`), plain tokio tasks (here), threads.

// Without tokio only `.lockdep()` tasks post releases, and those exist for tokio's locks.
#![cfg_attr(not(feature = "tokio"), allow(dead_code))]

use crate::held::{HeldLock, Release};
use dashmap::DashMap;
use once_cell::sync::Lazy;
use parking_lot::Mutex as InternalMutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Owner ids: tasks and threads alike, never 0, below [`PLAIN_TASK`].
static NEXT_OWNER: AtomicU64 = AtomicU64::new(1);

/// A new owner id (a `.lockdep()` task, a thread), live until [`owner_gone`].
pub(crate) fn new_owner() -> u64 {
    let owner = NEXT_OWNER.fetch_add(1, Ordering::Relaxed);
    owner_made(owner);
    owner
}

/// The owner id of a plain tokio task: its tokio id with this bit set. tokio's ids count up from
/// 1, as lockdep's own do; the bit keeps the two apart.
pub(crate) const PLAIN_TASK: u64 = 1 << 63;

thread_local! {
    /// This thread's own owner id, given on first use (0: not yet).
    static THREAD_OWNER: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// This thread is exiting: its owner id is gone (its posts with it).
pub(crate) fn thread_gone() {
    if let Ok(owner) = THREAD_OWNER.try_with(std::cell::Cell::get) {
        if owner != 0 {
            owner_gone(owner);
        }
    }
}

/// This thread's owner id: the owner of what it takes outside any task.
#[inline]
pub(crate) fn thread_owner() -> u64 {
    THREAD_OWNER.with(|id| match id.get() {
        0 => {
            let new = new_owner();
            id.set(new);
            new
        }
        known => known,
    })
}

/// Releases posted to owners that could not be reached where their guards were dropped (a
/// guard moved into another task, or into `spawn_blocking`), by owner. A post lives only as
/// long as its owner: one to an owner that is gone is not made ([`post_release`]), and an
/// owner's posts go with it ([`owner_gone`]), so the map holds the few posts of live owners
/// and is never trimmed. A bit per `owner % 4096` says whether an owner needs to look, so that
/// nobody else pays more than one relaxed load (and, with a few hundred owners posted to, one
/// in ten or fewer looks in the map for nothing).
static POSTED: Lazy<DashMap<u64, Vec<(usize, Release)>>> = Lazy::new(crate::sharded::map);
static POSTED_BITS: [AtomicU64; 64] = [const { AtomicU64::new(0) }; 64];
/// The owners that can still claim a post: `.lockdep()` tasks and threads, from their id's
/// making to their end. (A plain tokio task can while it has a home: `task_held::find`.)
static LIVE: Lazy<DashMap<u64, ()>> = Lazy::new(crate::sharded::map);

/// The word and the bit of `owner` in [`POSTED_BITS`].
fn bit(owner: u64) -> (usize, u64) {
    let index = (owner % 4096) as usize;
    (index / 64, 1 << (index % 64))
}

/// Whether posts to `owner` may exist.
#[inline]
fn maybe_posted(owner: u64) -> bool {
    let (word, bit) = bit(owner);
    POSTED_BITS[word].load(Ordering::Acquire) & bit != 0
}

/// `owner` (a `.lockdep()` task, a thread) can be posted to from now on.
pub(crate) fn owner_made(owner: u64) {
    LIVE.insert(owner, ());
}

/// `owner` has ended: its posts go, and none are made to it any more.
pub(crate) fn owner_gone(owner: u64) {
    LIVE.remove(&owner);
    forget_posts(owner);
}

/// Drops the posts to `owner` (it ended, or it holds nothing any more).
fn forget_posts(owner: u64) {
    if maybe_posted(owner) && POSTED.remove(&owner).is_some() {
        refresh_bits();
    }
}

/// Recomputes the bits from the owners that have posts (rare: after a claim or a forget).
fn refresh_bits() {
    let mut bits = [0u64; 64];
    for entry in POSTED.iter() {
        let (word, bit) = bit(*entry.key());
        bits[word] |= bit;
    }
    for (word, bits) in POSTED_BITS.iter().zip(bits) {
        word.store(bits, Ordering::Release);
    }
}

/// How many posted releases wait to be applied.
pub(crate) fn posted_count() -> usize {
    POSTED.iter().map(|entry| entry.value().len()).sum()
}

/// Whether `owner` can still claim a post.
fn can_claim(owner: u64) -> bool {
    #[cfg(feature = "tokio")]
    if owner & PLAIN_TASK != 0 {
        // A plain task that holds an async lock has a home (its entries are written through).
        return plain::find(owner).is_some();
    }
    LIVE.contains_key(&owner)
}

/// A guard of `owner` was dropped by someone else: post the release to `owner`, unless it has
/// ended (a guard a finished task handed on: its entry went with the task, or to whoever polled
/// the task's output, see `task.rs`). Whether the release was taken care of (`false`: the
/// owner has ended).
#[cold]
pub(crate) fn post_release(owner: u64, addr: usize, how: Release) -> bool {
    #[cfg(feature = "tokio")]
    if owner & PLAIN_TASK != 0 && plain::release_at_rest(owner, addr, how) {
        return true;
    }
    if !can_claim(owner) {
        return false;
    }
    POSTED.entry(owner).or_default().push((addr, how));
    let (word, bit) = bit(owner);
    POSTED_BITS[word].fetch_or(bit, Ordering::Release);
    true
}

/// Applies the releases posted to `owner`: `apply` removes one entry. Cheap when nothing is
/// posted to it.
#[inline]
pub(crate) fn claim_releases(owner: u64, apply: impl FnMut(usize, Release)) {
    if !maybe_posted(owner) {
        return;
    }
    claim_posted(owner, apply);
}

#[cold]
fn claim_posted(owner: u64, mut apply: impl FnMut(usize, Release)) {
    let Some((_, mine)) = POSTED.remove(&owner) else {
        return;
    };
    refresh_bits();
    for (addr, how) in mine {
        apply(addr, how);
    }
}

/// A release made on a thread that holds no entry for it: a raw `unlock` on another thread (a
/// token taken from a held lock and dropped where it was sent), a `Send` guard dropped
/// elsewhere. The holder is not known where it happens, so the release is posted to whoever
/// holds a matching entry: each thread (or task) looks at its next slow step — any acquisition
/// it has not validated before, any report, query or exit check — and the first that finds one
/// takes it off. The hot path never looks: a stale entry cannot add a dependency there (a chain
/// it hits was validated, with its dependencies recorded, before), and a lock taken again with
/// the stale entry below it is never a cached chain, so it reaches the slow step, which claims
/// the release before it decides on a self-deadlock.
struct Orphan {
    instance: usize,
    how: Release,
}

/// Orphan releases not claimed yet; rare, so one plain lock.
static ORPHANS: InternalMutex<Vec<Orphan>> = InternalMutex::new(Vec::new());
/// `ORPHANS.len()`, read without the lock by every slow step.
static ORPHAN_COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
/// Beyond this many unclaimed orphan releases (each one that matched no holder: a lock never
/// tracked as held), the oldest is forgotten, with a note.
const MAX_ORPHANS: usize = 4096;

/// A release of `instance` as `how` found no entry on the releasing thread: post it.
#[cold]
pub(crate) fn post_orphan(instance: usize, how: Release) {
    let mut orphans = ORPHANS.lock();
    if orphans.len() >= MAX_ORPHANS {
        orphans.remove(0);
        crate::message::notice(format_args!(
            "lockdep: {MAX_ORPHANS} releases made on threads that did not hold their locks \
             matched no holder; the oldest is forgotten (a lock released that lockdep never saw \
             taken?)"
        ));
    }
    orphans.push(Orphan { instance, how });
    ORPHAN_COUNT.store(orphans.len(), Ordering::Release);
}

/// Whether orphan releases wait to be claimed (one relaxed load).
#[inline]
pub(crate) fn orphans_pending() -> bool {
    ORPHAN_COUNT.load(Ordering::Relaxed) != 0
}

/// Offers each orphan release to `take`, which removes a matching entry of its holder and says
/// whether it did; those taken are gone.
pub(crate) fn claim_orphans(mut take: impl FnMut(usize, Release) -> bool) {
    if !orphans_pending() {
        return;
    }
    let mut orphans = ORPHANS.lock();
    orphans.retain(|o| !take(o.instance, o.how));
    ORPHAN_COUNT.store(orphans.len(), Ordering::Release);
}

/// Removes the topmost entry of `addr` held as `how` from `entries`; whether there was one.
pub(crate) fn remove_entry(entries: &mut Vec<HeldLock>, addr: usize, how: Release) -> bool {
    match entries
        .iter()
        .rposition(|h| h.instance == addr && how.matches(h.access))
    {
        Some(index) => {
            // The top one as a rule (guards dropped innermost first): a pop, not a `remove`,
            // which calls `memmove` even for nothing to move.
            if index + 1 == entries.len() {
                entries.pop();
            } else {
                entries.remove(index);
            }
            true
        }
        None => false,
    }
}

#[cfg(feature = "tokio")]
pub(crate) use plain::*;

/// Without tokio there is no plain task: the async faces' write-through to a plain task's home
/// is never called (no owner is a plain task), but still named.
#[cfg(not(feature = "tokio"))]
#[allow(dead_code)]
mod no_plain {
    use crate::access::Access;
    use crate::held::{HeldLock, Release};

    pub(crate) fn pushed(_: HeldLock) {
        unreachable!("no plain task without tokio")
    }

    pub(crate) fn released(_: usize, _: Release) {
        unreachable!("no plain task without tokio")
    }

    pub(crate) fn access_changed(_: usize, _: Release, _: Access) {
        unreachable!("no plain task without tokio")
    }
}
#[cfg(not(feature = "tokio"))]
#[allow(unused_imports)]
pub(crate) use no_plain::*;

#[cfg(feature = "tokio")]
mod plain;
