//! The validator's per-thread state: the held-lock stack, the validated-chain cache and the
//! `unlocked` records, reached through [`with_thread`] (a `%fs`-relative address); and
//! [`Snapshot`], the copy of the stack the slow paths work on.
//!
//! At the bottom of the validator (with `names.rs` and `acquisition.rs`), importing none of its
//! other modules: what a thread does on its first acquisition and at its exit reaches up (into
//! the task switch, the class table) and lives above, in `depth.rs` and `exit.rs`.

use crate::held::{HeldLock, HeldStack, MAX_LOCK_DEPTH};
use crate::relock::Relocks;
use std::cell::UnsafeCell;

/// Slots of the per-thread validated-chain cache (direct-mapped).
pub(super) const CACHE_SLOTS: usize = 256;

/// One slot of the validated-chain cache: a chain's *link* (`prefix ^ descriptor`, which
/// [`chain_mix`](crate::held::chain_mix) turns into its key, one to one) and that key. Tagged
/// by the link, the cache hands the hot path the key it pushes, so that a hit mixes nothing:
/// the hot path's whole chain step is an xor, a mask and a compare.
#[derive(Clone, Copy)]
pub(super) struct CacheSlot {
    /// The link, with [`CLASS_HELD`] and the thread's salt xored in (see [`cache_tag`]).
    pub(super) tag: u64,
    pub(super) key: u64,
}

impl CacheSlot {
    pub(super) const EMPTY: CacheSlot = CacheSlot { tag: 0, key: 0 };
}

/// The cache slot of a link: its bits 3 to 10, which for a lock taken with nothing held (the
/// link is the root key xor the descriptor) are the low bits of the class id.
#[inline(always)]
pub(super) fn cache_slot(link: u64) -> usize {
    (link >> 3) as usize % CACHE_SLOTS
}

/// What a slot's tag has flipped when "the acquired lock's class is already held": bit 3, bit
/// 0 of the slot index, so a flagged tag never equals a link of its own slot (a hit is always
/// clean) while either variant still matches its link in every other bit. When the class is
/// not held, the same *instance* cannot be held either, so a hit skips the scan for a
/// self-deadlock.
pub(super) const CLASS_HELD: u64 = 1 << 3;

/// The salt of a thread that runs tokio tasks (see `ThreadState::cache_salt`): bit 4, bit 1 of
/// the slot index ([`cache_slot`]), so a salted tag never equals a link of its slot, flagged
/// ([`CLASS_HELD`]) or not.
pub(super) const TASK_SALT: u64 = 1 << 4;

/// What a cache slot's tag holds for a validated chain's link (salt aside).
#[inline(always)]
pub(super) fn cache_tag(link: u64, class_held: bool) -> u64 {
    if class_held {
        link ^ CLASS_HELD
    } else {
        link
    }
}

pub(super) struct ThreadState {
    pub(super) held: HeldStack,
    /// Validated chains; a slot holds the chain whose link last mapped to it.
    pub(super) cache: [CacheSlot; CACHE_SLOTS],
    pub(super) overflow_reported: bool,
    /// Nested entries released lately, for `unlocked` relocks (`relock.rs`).
    pub(super) relocks: Relocks,
    /// The release fast path pops the top entry only when it is at an index below this:
    /// `MAX_LOCK_DEPTH - 1` (so never from a full stack) while there are no `unlocked` records,
    /// 0 (never) while there are, since each release must then be seen by them. One compare on
    /// every release for both; kept by [`ThreadState::relocks_changed`].
    pub(super) fast_release_below: usize,
    /// XORed into every cache entry: 0, or [`TASK_SALT`] on a thread that runs tokio tasks
    /// (feature `tokio`), whose acquisitions must first bring the stack in line with the task
    /// running (`switch.rs`): the hot path's compare never matches a salted entry, so such a
    /// thread goes the general way at no cost to any other thread.
    pub(super) cache_salt: u64,
}

impl ThreadState {
    /// Whether this thread runs tokio tasks (see `cache_salt`).
    #[inline(always)]
    pub(super) fn runs_tasks(&self) -> bool {
        self.cache_salt != 0
    }

    /// This thread runs tokio tasks from now on (see `cache_salt`): its cached chains are
    /// forgotten, to be cached again salted.
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    pub(super) fn set_runs_tasks(&mut self) {
        if self.cache_salt == 0 {
            self.cache_salt = TASK_SALT;
            self.cache = [CacheSlot::EMPTY; CACHE_SLOTS];
        }
    }

    /// The `unlocked` records changed: so may the fast release path's limit.
    pub(super) fn relocks_changed(&mut self) {
        self.fast_release_below = if self.relocks.is_empty() {
            MAX_LOCK_DEPTH - 1
        } else {
            0
        };
    }

    /// Removes held entry `index` as a release does: a nested entry is remembered for a later
    /// relock (`relock.rs`), and older records of its instance are forgotten.
    pub(super) fn remove_held(&mut self, index: usize) -> HeldLock {
        let removed = self.held.remove(index);
        if self.relocks.concerns(&removed) {
            self.relocks.released(&removed);
            self.relocks_changed();
        }
        removed
    }
}

/// This thread's [`ThreadState`], reached only through [`with_thread`].
///
/// It has no destructor, on purpose: a `thread_local!` whose type needs dropping checks on every
/// access whether its destructor is registered yet or has run already, and becomes unusable
/// while the thread's locals are torn down. Without one, an access is a plain address
/// computation, and locks taken in other thread-locals' destructors are still tracked. The
/// leaked-guard warning lives in the exit check (`exit.rs`), registered once per thread.
struct ThreadCell {
    state: UnsafeCell<ThreadState>,
    /// Debug builds check the no-re-entry rule [`with_thread`] relies on. An `UnsafeCell` read
    /// and written through its pointer, not a `Cell`: unoptimised, `Cell`'s methods are calls,
    /// and this runs on every access of a user's debug build (`validator::enter`).
    #[cfg(debug_assertions)]
    busy: UnsafeCell<bool>,
}

thread_local! {
    static THREAD: ThreadCell = const {
        ThreadCell {
            state: UnsafeCell::new(ThreadState {
                held: HeldStack::new(),
                cache: [CacheSlot::EMPTY; CACHE_SLOTS],
                overflow_reported: false,
                relocks: Relocks::new(),
                fast_release_below: MAX_LOCK_DEPTH - 1,
                cache_salt: 0,
            }),
            #[cfg(debug_assertions)]
            busy: UnsafeCell::new(false),
        }
    };
}

/// Runs `f` on this thread's validator state.
///
/// Every `f` given here only reads and writes the state (and plain data): it never calls user
/// code, takes a lock of this crate, allocates, prints or delivers a report, so nothing can
/// reach `with_thread` again while the `&mut` is live; anything of that kind happens after `f`
/// returns, on copies. (A signal handler that takes a lock could interrupt `f`, but taking a
/// lock in a signal handler is not async-signal-safe to begin with: the lock itself could be
/// held by the code it interrupted.)
#[inline(always)]
pub(super) fn with_thread<T>(f: impl FnOnce(&mut ThreadState) -> T) -> T {
    // Only the address comes out of `with`: a closure this small lets `with` and the key's
    // accessor inline to one thread-pointer-relative address, where wrapping all of `f` made
    // the compiler call them out of line.
    // `try_with` and a `match` rather than `with`: the same code optimised, one layer of
    // calls fewer unoptimised (a user's debug build: `acquire::enter`). It never fails: the
    // cell has no destructor, so it is never torn down.
    let cell = match THREAD.try_with(|cell| cell as *const ThreadCell) {
        Ok(cell) => cell,
        Err(_) => unreachable!("lockdep: a thread-local without a destructor is never gone"),
    };
    // SAFETY: `THREAD` has no destructor, so its storage is valid for as long as this thread
    // runs, and the reference does not leave this call.
    let cell = unsafe { &*cell };
    #[cfg(debug_assertions)]
    let _busy = Busy::enter(&cell.busy);
    // SAFETY: the state is thread-local, so only this thread reaches it, and only through this
    // function; by the rule above no other `&mut` to it is live while `f` runs.
    f(unsafe { &mut *cell.state.get() })
}

/// This thread's held-lock stack, kept from a hot check to the push or pop that follows it
/// once the raw lock is taken or released: the write then needs no second thread-local access
/// (in a build with debug assertions each costs more than the push itself: `acquire::enter`).
///
/// Sound for the same reason as [`with_thread`]: the stack lives as long as the thread (no
/// destructor), only this thread reaches it, and between the check and the write only the raw
/// lock runs, which never reaches the validator, so no other reference to the state is live
/// when the write makes its own.
#[derive(Clone, Copy)]
pub(super) struct StackPtr(*mut HeldStack);

impl StackPtr {
    #[inline(always)]
    pub(super) fn of(t: &mut ThreadState) -> StackPtr {
        StackPtr(&mut t.held)
    }

    /// The stack.
    ///
    /// # Safety
    /// On the thread that made this, with no other reference to its state live (see the type).
    #[inline(always)]
    #[allow(clippy::mut_from_ref)]
    pub(super) unsafe fn get(&self) -> &mut HeldStack {
        // SAFETY: forwarded to the caller.
        unsafe { &mut *self.0 }
    }
}

/// The re-entry check of debug builds: would a second `&mut` to the state be made?
#[cfg(debug_assertions)]
struct Busy(*mut bool);

#[cfg(debug_assertions)]
impl Busy {
    #[inline(always)]
    fn enter(flag: &UnsafeCell<bool>) -> Self {
        let flag = flag.get();
        // SAFETY: the flag is thread-local and only read and written here, never borrowed.
        if unsafe { *flag } {
            re_entered();
        }
        // SAFETY: as above.
        unsafe { *flag = true };
        Busy(flag)
    }
}

#[cfg(debug_assertions)]
#[cold]
#[inline(never)]
fn re_entered() -> ! {
    panic!("lockdep: the validator's thread state was re-entered")
}

#[cfg(debug_assertions)]
impl Drop for Busy {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: the thread-local flag of `enter`, which has no destructor (`ThreadCell`).
        unsafe { *self.0 = false };
    }
}

/// A copy of the held stack, taken only on the slow path, so that nothing stays borrowed while
/// the graph is searched and reports are delivered.
pub(super) struct Snapshot {
    entries: [HeldLock; MAX_LOCK_DEPTH],
    len: usize,
    /// See `HeldStack::exact_from`, in this snapshot's indices.
    pub(super) exact_from: usize,
}

impl Snapshot {
    pub(super) fn of(held: &[HeldLock], skip: Option<usize>) -> Snapshot {
        let mut snapshot = Snapshot {
            entries: [held.first().copied().unwrap_or(HeldLock::EMPTY); MAX_LOCK_DEPTH],
            len: 0,
            exact_from: MAX_LOCK_DEPTH,
        };
        for (i, h) in held.iter().enumerate() {
            if Some(i) != skip {
                snapshot.entries[snapshot.len] = *h;
                snapshot.len += 1;
            }
        }
        snapshot
    }

    /// [`Snapshot::of`] a thread's stack, keeping where its walk must be exact.
    pub(super) fn of_stack(stack: &crate::held::HeldStack, skip: Option<usize>) -> Snapshot {
        let mut snapshot = Snapshot::of(stack.as_slice(), skip);
        let exact_from = stack.exact_from;
        snapshot.exact_from = match skip {
            Some(skip) if skip < exact_from => exact_from - 1,
            _ => exact_from,
        };
        snapshot
    }

    pub(super) fn as_slice(&self) -> &[HeldLock] {
        &self.entries[..self.len]
    }
}
