//! The homes of plain tokio tasks (feature `tokio`): which task's entries this thread's stack
//! caches, and each task's home, keyed by tokio's task id (the module doc of `task_held.rs`).

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
static HOMES: Lazy<DashMap<u64, Arc<Home>>> = Lazy::new(crate::sharded::map);
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
