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
static POSTED: Lazy<DashMap<u64, Vec<(usize, Release)>>> = Lazy::new(DashMap::new);
static POSTED_BITS: [AtomicU64; 64] = [const { AtomicU64::new(0) }; 64];
/// The owners that can still claim a post: `.lockdep()` tasks and threads, from their id's
/// making to their end. (A plain tokio task can while it has a home: `task_held::find`.)
static LIVE: Lazy<DashMap<u64, ()>> = Lazy::new(DashMap::new);

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
            entries.remove(index);
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
mod plain {
    use super::{remove_entry, thread_owner, PLAIN_TASK};
    use crate::access::Access;
    use crate::held::{HeldLock, Release};
    use dashmap::DashMap;
    use once_cell::sync::Lazy;
    use parking_lot::{Mutex as InternalMutex, MutexGuard as InternalGuard};
    use std::cell::{Cell, UnsafeCell};
    use std::hash::{Hash, Hasher};
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
    use std::sync::Arc;

    /// The owner id of the tokio task running on this thread (0: none: the thread itself, a
    /// `block_on` future).
    #[inline]
    pub(crate) fn running_task() -> u64 {
        match tokio::task::try_id() {
            Some(id) => PLAIN_TASK | id_bits(id),
            None => 0,
        }
    }

    /// tokio's id as a number: `tokio::task::Id` shows it (`Display`) but has no accessor; its
    /// `Hash` writes exactly that `u64`, which this hasher keeps.
    #[inline]
    fn id_bits(id: tokio::task::Id) -> u64 {
        struct Keep(u64);
        impl Hasher for Keep {
            fn finish(&self) -> u64 {
                self.0
            }
            fn write(&mut self, bytes: &[u8]) {
                // Not reached with tokio 1.x; still a faithful function of the id.
                for &b in bytes {
                    self.0 = self.0.rotate_left(8) ^ b as u64;
                }
            }
            fn write_u64(&mut self, value: u64) {
                self.0 = value;
            }
        }
        let mut keep = Keep(0);
        id.hash(&mut keep);
        keep.0 & !PLAIN_TASK
    }

    /// A plain task's held entries, for the thread that runs it next.
    ///
    /// # Safety rules for `entries`
    /// It is read and written only (a) by a thread holding `switch`, or (b) by the thread whose
    /// owner id is in `cached_on`, while tokio runs this task on it. (b) is exclusive: only a
    /// thread that runs the task sets `cached_on` to itself (under `switch`), tokio runs the
    /// task on one thread at a time, and each run is ordered after the last by tokio's own
    /// synchronisation, so the thread that set `cached_on` last is the one running the task now
    /// or the one that ran it last. A thread that cached the task before and finds `cached_on`
    /// changed reads nothing but that word (`validator/switch.rs`).
    pub(crate) struct Home {
        /// The task's owner id.
        pub(crate) owner: u64,
        switch: InternalMutex<()>,
        /// The owner id of the thread whose stack caches this task's entries; 0: none.
        cached_on: AtomicU64,
        entries: UnsafeCell<Vec<HeldLock>>,
    }

    // SAFETY: `entries` is reached by the rules on `Home` only: under `switch`, or by the one
    // thread tokio runs the task on, which is ordered after every earlier access.
    unsafe impl Sync for Home {}

    impl Home {
        /// Whether this thread's stack is the one caching the task.
        #[inline]
        pub(crate) fn cached_here(&self) -> bool {
            self.cached_on.load(Ordering::Relaxed) == thread_owner()
        }

        /// Takes the home's lock for a switch.
        pub(crate) fn lock(&self) -> Switch<'_> {
            Switch {
                home: self,
                _guard: self.switch.lock(),
            }
        }

        /// The write-through half: the thread caching the task (rule (b)) changes its entries.
        ///
        /// # Safety
        /// The caller is the thread running the task, with `cached_here()` true.
        #[inline]
        unsafe fn change_entries<R>(&self, change: impl FnOnce(&mut Vec<HeldLock>) -> R) -> R {
            // SAFETY: rule (b), as the caller promises; the reference does not leave `change`.
            change(unsafe { &mut *self.entries.get() })
        }
    }

    /// A home locked for a switch (rule (a)).
    pub(crate) struct Switch<'a> {
        home: &'a Home,
        _guard: InternalGuard<'a, ()>,
    }

    impl Switch<'_> {
        /// Whether this thread caches the task.
        pub(crate) fn cached_here(&self) -> bool {
            self.home.cached_here()
        }

        /// The task's entries (rule (a)).
        pub(crate) fn entries(&mut self) -> &mut Vec<HeldLock> {
            // SAFETY: rule (a): `switch` is held for as long as `self` lives; and a thread
            // under rule (b) exists only while `cached_on` names it, which this thread checks
            // (`cached_here`) or sets before writing.
            unsafe { &mut *self.home.entries.get() }
        }

        /// This thread now caches the task (or, `false`, none does).
        pub(crate) fn set_cached_here(&mut self, here: bool) {
            let on = if here { thread_owner() } else { 0 };
            self.home.cached_on.store(on, Ordering::Relaxed);
        }
    }

    /// Homes by owner id, only of tasks that hold (or held, while cached) a lock: a task that
    /// takes none costs nothing here.
    static HOMES: Lazy<DashMap<u64, Arc<Home>>> = Lazy::new(DashMap::new);
    /// `HOMES.len()` without visiting its shards: a switch to a task looks it up only if some
    /// task has a home at all.
    static HOME_COUNT: AtomicUsize = AtomicUsize::new(0);

    /// The home of the task with owner id `task`, if it has one.
    pub(crate) fn find(task: u64) -> Option<Arc<Home>> {
        if HOME_COUNT.load(Ordering::Acquire) == 0 {
            return None;
        }
        HOMES.get(&task).map(|home| Arc::clone(&home))
    }

    /// A new, empty home for `task`, cached on this thread when `cached_here`.
    pub(crate) fn make(task: u64, cached_here: bool) -> Arc<Home> {
        let home = Arc::new(Home {
            owner: task,
            switch: InternalMutex::new(()),
            cached_on: AtomicU64::new(if cached_here { thread_owner() } else { 0 }),
            entries: UnsafeCell::new(Vec::with_capacity(4)),
        });
        if HOMES.insert(task, Arc::clone(&home)).is_none() {
            HOME_COUNT.fetch_add(1, Ordering::Release);
        }
        home
    }

    /// The task holds nothing any more (its home is empty and cached nowhere): its home goes.
    pub(crate) fn forget(home: &Home) {
        if HOMES
            .remove_if(&home.owner, |_, h| std::ptr::eq(&**h, home))
            .is_some()
        {
            HOME_COUNT.fetch_sub(1, Ordering::Release);
            // Nothing held any more: nothing to post to.
            super::forget_posts(home.owner);
        }
    }

    /// A guard of the plain task `owner` was dropped elsewhere: if no thread caches the task
    /// (it is suspended, or it ended), its entry goes from its home at once, and the home with
    /// it once empty; true if so (or if the task holds nothing). Otherwise the release is
    /// posted, for the thread that caches it.
    pub(crate) fn release_at_rest(owner: u64, addr: usize, how: Release) -> bool {
        let Some(home) = find(owner) else {
            return true;
        };
        let mut switch = home.lock();
        if home.cached_on.load(Ordering::Relaxed) != 0 {
            return false;
        }
        remove_entry(switch.entries(), addr, how);
        let empty = switch.entries().is_empty();
        drop(switch);
        if empty {
            forget(&home);
        }
        true
    }

    /// About what a home costs: the `Arc`'d home, its map slot, four entries.
    pub(crate) const HOME_BYTES: usize = 64 + 32 + 4 * std::mem::size_of::<HeldLock>();

    /// How many plain tasks have a home now (they hold locks, or one did when last cached).
    pub(crate) fn home_count() -> usize {
        HOME_COUNT.load(Ordering::Acquire)
    }

    /// Which task's entries this thread's stack caches, above which depth.
    struct Here {
        /// The task's owner id; 0: none (the thread's own context).
        task: Cell<u64>,
        /// Its home, if it has one: a counted reference (`Arc::into_raw`), null if none.
        home: Cell<*const Home>,
        /// The stack depth below the task's entries.
        base: Cell<usize>,
        /// The thread's exit check has run: no task is cached here any more (a task future
        /// that a later thread-local destructor drops, tokio's among them, must not adopt its
        /// home here, where nothing would release it).
        exited: Cell<bool>,
    }

    thread_local! {
        static HERE: Here = const {
            Here {
                task: Cell::new(0),
                home: Cell::new(std::ptr::null()),
                base: Cell::new(0),
                exited: Cell::new(false),
            }
        };
        /// The thread's own async entries (a `block_on` future's), set aside while a task runs.
        static HIDDEN: std::cell::RefCell<Vec<HeldLock>> = const {
            std::cell::RefCell::new(Vec::new())
        };
    }

    /// Whether this thread's stack is in line with `running` (the task running now, 0: none):
    /// it caches that task, and its copy is not stale. The one test on every acquisition.
    #[inline]
    pub(crate) fn is_current(running: u64) -> bool {
        HERE.with(|here| {
            if here.task.get() != running {
                return false;
            }
            let home = here.home.get();
            // SAFETY: `home`, when not null, is a counted reference this thread holds.
            home.is_null() || unsafe { &*home }.cached_here()
        })
    }

    /// The task this thread's stack caches (0: none).
    #[inline]
    pub(crate) fn cached_task() -> u64 {
        HERE.with(|here| here.task.get())
    }

    /// The depth below the cached task's entries, lowered to `depth` if the stack is shallower
    /// now (the task released a lock of the thread's from below them).
    #[inline]
    pub(crate) fn base_at_most(depth: usize) -> usize {
        HERE.with(|here| {
            let base = here.base.get().min(depth);
            here.base.set(base);
            base
        })
    }

    /// Stops caching: returns the task, its home and the depth below its entries.
    pub(crate) fn leave() -> (u64, Option<Arc<Home>>, usize) {
        HERE.with(|here| {
            let home = here.home.replace(std::ptr::null());
            let home = (!home.is_null()).then(|| {
                // SAFETY: a counted reference made by `Arc::into_raw` in `enter`/`adopt`.
                unsafe { Arc::from_raw(home) }
            });
            (here.task.replace(0), home, here.base.replace(0))
        })
    }

    /// The thread's exit check has run: from now on it caches no task ([`has_exited`]).
    pub(crate) fn mark_exited() {
        let _ = HERE.try_with(|here| here.exited.set(true));
    }

    /// Whether the thread's exit check has run (an unreachable thread-local counts as run).
    pub(crate) fn has_exited() -> bool {
        HERE.try_with(|here| here.exited.get()).unwrap_or(true)
    }

    /// Starts caching `task` (its entries go on above `base`), with its home if it has one.
    pub(crate) fn enter(task: u64, home: Option<Arc<Home>>, base: usize) {
        HERE.with(|here| {
            here.task.set(task);
            here.base.set(base);
            let old = here
                .home
                .replace(home.map_or(std::ptr::null(), Arc::into_raw));
            debug_assert!(old.is_null(), "left before entering");
        });
    }

    /// The thread's own async entries are set aside (`take`) or put back (`put`).
    pub(crate) fn with_hidden<R>(f: impl FnOnce(&mut Vec<HeldLock>) -> R) -> Option<R> {
        HIDDEN.try_with(|hidden| f(&mut hidden.borrow_mut())).ok()
    }

    /// The home of the task cached here, made if it has none yet (its first async lock).
    #[inline]
    fn home_here(here: &Here) -> Option<&Home> {
        let task = here.task.get();
        if task == 0 {
            return None;
        }
        let mut home = here.home.get();
        if home.is_null() {
            home = Arc::into_raw(make(task, true));
            here.home.set(home);
        }
        // SAFETY: a counted reference this thread holds, released only by `leave`.
        Some(unsafe { &*home })
    }

    /// Write-through: the task running here took an async lock; `entry` is on the stack.
    #[inline]
    pub(crate) fn pushed(entry: HeldLock) {
        HERE.with(|here| {
            if let Some(home) = home_here(here) {
                // SAFETY: the stack is current for the running task (the caller synced it:
                // `is_current`), so this thread caches it and runs it: rule (b).
                unsafe { home.change_entries(|entries| entries.push(entry)) };
            }
        });
    }

    /// Write-through: the task running here released an async lock it held as `how`.
    #[inline]
    pub(crate) fn released(addr: usize, how: Release) {
        HERE.with(|here| {
            let home = here.home.get();
            if here.task.get() != 0 && !home.is_null() {
                // SAFETY: as in `pushed`; `home` is a counted reference this thread holds.
                unsafe { (*home).change_entries(|entries| remove_entry(entries, addr, how)) };
            }
        });
    }

    /// Write-through: the task running here now holds `addr` as `access` (a downgrade).
    pub(crate) fn access_changed(addr: usize, from: Release, access: Access) {
        HERE.with(|here| {
            let home = here.home.get();
            if here.task.get() != 0 && !home.is_null() {
                let change = |entries: &mut Vec<HeldLock>| {
                    if let Some(entry) = entries
                        .iter_mut()
                        .rev()
                        .find(|h| h.instance == addr && from.matches(h.access))
                    {
                        entry.access = access;
                        entry.fast_release = HeldLock::fast_release_of(entry.node, access);
                    }
                };
                // SAFETY: as in `released`.
                unsafe { (*home).change_entries(change) };
            }
        });
    }
}
