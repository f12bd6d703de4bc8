//! The per-thread stack of held locks (the kernel's `current->held_locks`).
//!
//! A fixed array, so pushing and popping never allocate. Beside the entries, a second array
//! keeps the chain key of the stack up to each depth (the empty stack's too), so the key of "the
//! held stack plus one more lock" is one load and one hash step away, with no special case for
//! an empty stack: that key is what the validated-chain cache is indexed by.

use crate::class::NodeKey;
use std::panic::Location;

/// Most locks one thread may hold at once (the kernel's MAX_LOCK_DEPTH).
pub const MAX_LOCK_DEPTH: usize = 48;

use crate::access::Access;

/// How many locks taken past MAX_LOCK_DEPTH are remembered by instance (beyond that they are
/// only counted).
const OVERFLOW_ADDRS: usize = 64;

/// One held lock.
#[derive(Clone, Copy, Debug)]
pub(crate) struct HeldLock {
    /// The lock instance's address: identifies the instance while it is held (a held lock is
    /// borrowed, so it cannot move).
    pub(crate) instance: usize,
    pub(crate) node: NodeKey,
    pub(crate) access: Access,
    /// Taken with a trylock (or a timed lock): it adds no edge *to* itself.
    pub(crate) trylock: bool,
    pub(crate) at: Option<&'static Location<'static>>,
    /// Taken by an async lock (`lockdep_core::tokio`): its guard may live across `.await`, so
    /// the entry belongs to the task, which carries it from poll to poll (`task.rs`). A sync
    /// entry still held when a task yields is a `HeldAcrossAwait` finding.
    pub(crate) asynchronous: bool,
    /// The release that may pop this entry on the fast path, as `Release as u8`: the one that
    /// ends it ([`Release::of`] its access), or [`HeldLock::NESTED`] for an entry at a nonzero
    /// subclass, whose release the `unlocked` records (`relock.rs`) must see. One byte compare
    /// on every release instead of three tests; kept by [`HeldStack::set_access`].
    pub(crate) fast_release: u8,
}

impl HeldLock {
    pub(crate) const EMPTY: HeldLock = HeldLock {
        instance: 0,
        node: NodeKey(0),
        access: Access::Write,
        trylock: false,
        at: None,
        asynchronous: false,
        fast_release: HeldLock::NESTED,
    };

    /// [`Self::fast_release`] of an entry no release pops on the fast path.
    pub(crate) const NESTED: u8 = u8::MAX;

    /// [`Self::fast_release`] of a read taken through the raw API (a raw `lock_shared*` call,
    /// or `lock_api`'s own typed layer), not by this crate's guards: such a read may be a token
    /// that another thread releases (salsa's snapshots), so a conflict with it is neither a
    /// certain self-deadlock nor a recursion (the kernel does not track a lock taken for
    /// another owner, `down_read_non_owner`), and its release goes the general way.
    pub(crate) const RAW: u8 = u8::MAX - 1;

    /// Whether this entry was taken through the raw API (see [`Self::RAW`]).
    #[inline]
    pub(crate) fn is_raw(&self) -> bool {
        self.fast_release == HeldLock::RAW
    }

    /// What a release must match to pop this entry on the fast path: the instance xor the
    /// release that ends it (`Release as usize`, 0 to 2), compared with the releasing lock's
    /// identity xor its release; 0, which no release matches, for an entry no release pops so
    /// ([`Self::NESTED`], [`Self::RAW`]). One compare is exact: identities differ in more than
    /// their two low bits (a `SEEN` word has them fixed, `10`; elsewhere the identity is the
    /// cell's address, aligned to 4), and none is 0 or 1 or 2.
    #[inline(always)]
    pub(crate) fn pop_key(&self) -> usize {
        if self.fast_release <= Release::Upgradable as u8 {
            self.instance ^ self.fast_release as usize
        } else {
            0
        }
    }

    /// [`Self::fast_release`] for an entry of `node` held as `access`.
    #[inline(always)]
    pub(crate) fn fast_release_of(node: NodeKey, access: Access) -> u8 {
        if node.subclass() == 0 {
            Release::of(access) as u8
        } else {
            HeldLock::NESTED
        }
    }

    /// This entry's contribution to a chain key: everything that decides which dependencies an
    /// acquisition on top of it adds. The node is the low word as it is, so that a plain
    /// blocking write (access and trylock bits 0) is the node itself: the hot path then hashes
    /// the node it stores anyway, with no shift or copy to make its descriptor.
    #[inline(always)]
    pub(crate) fn descriptor(node: NodeKey, access: Access, trylock: bool) -> u64 {
        (node.0 as u64) | (access.bits() << 32) | ((trylock as u64) << 34)
    }
}

/// How a release names the entry it ends (a rwlock instance may be held several ways at once).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub(crate) enum Release {
    Exclusive,
    Shared,
    Upgradable,
}

impl Release {
    /// The release that ends an entry held as `access`.
    #[inline(always)]
    pub(crate) fn of(access: Access) -> Release {
        match access {
            Access::Write => Release::Exclusive,
            Access::Read | Access::RecursiveRead => Release::Shared,
            Access::Upgradable => Release::Upgradable,
        }
    }

    /// Whether an entry held as `access` is one this release ends.
    #[inline]
    pub(crate) fn matches(self, access: Access) -> bool {
        Release::of(access) == self
    }
}

/// The chain key of an empty stack.
pub(crate) const CHAIN_ROOT: u64 = 0x6c6f_636b_6465_7021;

/// One step of the chain hash: the key of `prev` followed by one more entry. The same role as
/// the kernel's `iterate_chain_key`: a multiply-xorshift mix (splitmix64's constants) of
/// `prev ^ descriptor`. The mix is a bijection, so two stacks with the same prefix and different
/// top entries never collide; stacks with different prefixes collide only if their (well mixed,
/// 64-bit) prefix keys differ by exactly the xor of two descriptors, as likely as any other
/// 64-bit coincidence. Descriptors differ in their low 35 bits only, which the first multiply
/// carries upward and the xorshift brings back down; so neither spreading the descriptor with
/// a multiply first nor a leading xorshift adds anything. A collision would make a
/// never-validated chain look validated.
#[inline]
pub(crate) fn chain_step(prev: u64, descriptor: u64) -> u64 {
    chain_mix(prev ^ descriptor)
}

/// The mix of [`chain_step`], applied to `prev ^ descriptor` (the *link*): a bijection, so two
/// links give the same key exactly when they are equal. The per-thread cache is therefore
/// tagged with the link and hands back the key it mixes to, and a hit computes no mix at all.
#[inline]
pub(crate) fn chain_mix(link: u64) -> u64 {
    let mut h = link.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 31;
    h.wrapping_mul(0x94d0_49bb_1331_11eb) ^ (h >> 29)
}

/// The held-lock stack of one thread.
pub(crate) struct HeldStack {
    entries: [HeldLock; MAX_LOCK_DEPTH],
    /// `keys[d]`: the chain key of the bottom `d` entries; `keys[0]` is [`CHAIN_ROOT`].
    keys: [u64; MAX_LOCK_DEPTH + 1],
    /// `pops[d]`: what a release must match to pop entry `d - 1` on the fast path while it is
    /// the top one ([`HeldLock::pop_key`]; 0 for an entry no release pops so, and for the entry
    /// that fills the stack); `pops[0]` is 0. The hot release compares one word here instead of
    /// testing the entry's instance and its `fast_release` apart.
    pops: [usize; MAX_LOCK_DEPTH + 1],
    depth: usize,
    /// Locks taken beyond MAX_LOCK_DEPTH: not tracked, released silently.
    pub(crate) overflowed: usize,
    /// The instances of the first [`OVERFLOW_ADDRS`] of those, in order, so that releasing one
    /// (innermost first, as a rule) is found without scanning the full stack.
    overflow: [usize; OVERFLOW_ADDRS],
    /// Most locks this thread has held at once.
    max_depth: usize,
    /// While the stack is full: which instances it holds, and how.
    full: FullFilter,
    /// Entries from this index up were pushed before an entry below them was upgraded to
    /// exclusive: the edges into them were recorded with the weaker access, so they do not
    /// imply the dependencies of the locks below (`check.rs`'s walk). Reset lazily.
    pub(crate) exact_from: usize,
}

/// What holding `held` and then acquiring the same *instance* as `acquired` means: true when
/// the acquisition can only hang.
#[inline]
pub(crate) fn self_conflict_is_certain(held: Access, acquired: Access) -> bool {
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

/// A summary of the full stack's instances, so that an acquisition past MAX_LOCK_DEPTH (a
/// thread that leaked its guards takes every lock there) can tell in a few instructions that it
/// is not a certain self-deadlock, instead of scanning all 48 entries each time. One Bloom
/// filter of 256 bits per way of acquiring: the instances held so that acquiring them that way
/// again is [certain to hang](self_conflict_is_certain). A clear bit is exact (not held so); a
/// set bit sends the check to the scan. Built whenever the stack becomes full (the push that
/// fills it, an access changed in place while full), which only pushes outside the hot path can
/// do; a full stack changes in no other way, so the filter is exact for as long as it is full.
#[derive(Clone, Copy)]
struct FullFilter {
    /// Indexed by the acquisition's [`Access::bits`].
    conflicts: [[u64; 4]; 4],
}

impl FullFilter {
    const EMPTY: FullFilter = FullFilter {
        conflicts: [[0; 4]; 4],
    };
    const ACCESSES: [Access; 4] = [
        Access::Write,
        Access::Read,
        Access::RecursiveRead,
        Access::Upgradable,
    ];

    /// The word and bit of `instance` (identity words differ mostly in their middle bits: the
    /// multiply carries them to the top).
    #[inline(always)]
    fn bit(instance: usize) -> (usize, u64) {
        let h = (instance as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 56;
        ((h >> 6) as usize, 1 << (h & 63))
    }

    fn of(entries: &[HeldLock]) -> FullFilter {
        let mut filter = FullFilter::EMPTY;
        for h in entries {
            let (word, bit) = FullFilter::bit(h.instance);
            for acquired in FullFilter::ACCESSES {
                if self_conflict_is_certain(h.access, acquired) {
                    filter.conflicts[acquired.bits() as usize][word] |= bit;
                }
            }
        }
        filter
    }

    /// Whether an entry of `instance` may be held so that acquiring it again as `access` is
    /// certain to hang: false is exact, true means "look".
    #[inline]
    fn may_conflict(&self, instance: usize, access: Access) -> bool {
        let (word, bit) = FullFilter::bit(instance);
        self.conflicts[access.bits() as usize][word] & bit != 0
    }
}

impl HeldStack {
    pub(crate) const fn new() -> Self {
        let mut keys = [0; MAX_LOCK_DEPTH + 1];
        keys[0] = CHAIN_ROOT;
        HeldStack {
            entries: [HeldLock::EMPTY; MAX_LOCK_DEPTH],
            keys,
            pops: [0; MAX_LOCK_DEPTH + 1],
            depth: 0,
            overflowed: 0,
            overflow: [0; OVERFLOW_ADDRS],
            max_depth: 0,
            full: FullFilter::EMPTY,
            exact_from: MAX_LOCK_DEPTH,
        }
    }

    #[inline]
    pub(crate) fn as_slice(&self) -> &[HeldLock] {
        &self.entries[..self.depth]
    }

    #[inline(always)]
    pub(crate) fn depth(&self) -> usize {
        self.depth
    }

    #[inline]
    pub(crate) fn is_full(&self) -> bool {
        // `>=`, though the depth never exceeds the maximum: it tells the compiler that past a
        // `!is_full()` the top and the next slot are in bounds.
        self.depth >= MAX_LOCK_DEPTH
    }

    /// Chain key of the current stack.
    #[inline(always)]
    pub(crate) fn top_key(&self) -> u64 {
        // Not `min`: a call of `Ord::min` in a build with debug assertions (`validator::enter`).
        self.keys[if self.depth < MAX_LOCK_DEPTH {
            self.depth
        } else {
            MAX_LOCK_DEPTH
        }]
    }

    /// The depth the stack goes back to when a release that must match `pop_key` (see
    /// [`HeldLock::pop_key`]) pops the top entry on the fast path: `Some` if the stack has at
    /// least one and fewer than `limit + 1` entries, and the top one's pop key is `pop_key`. A
    /// limit of 0 leaves out every stack (while `unlocked` records exist: `relock.rs`).
    ///
    /// # Safety
    /// `limit` must be at most `MAX_LOCK_DEPTH` (the release path's limits are
    /// `MAX_LOCK_DEPTH - 1` and 0): then `top < limit` alone proves the index in bounds, and the
    /// hot release does one compare instead of two (a checked index cost three instructions).
    #[inline(always)]
    pub(crate) unsafe fn pops_to(&self, limit: usize, pop_key: usize) -> Option<usize> {
        // In this crate's unit tests only (`push_validated`).
        #[cfg(test)]
        assert!(limit <= MAX_LOCK_DEPTH);
        // One compare for both ends: `depth - 1` wraps for an empty stack.
        let top = self.depth.wrapping_sub(1);
        // SAFETY: `top + 1 <= limit <= MAX_LOCK_DEPTH`, below the length of `pops`.
        if top < limit && unsafe { known_in_bounds(&self.pops, top + 1) } == pop_key {
            return Some(top);
        }
        None
    }

    /// Pushes an entry; the caller has checked `is_full`. Returns whether this thread's maximum
    /// depth grew: the caller then updates the process-wide maximum, a shared line that is
    /// therefore not touched on every push.
    #[inline]
    pub(crate) fn push(&mut self, entry: HeldLock) -> bool {
        // The upgraded entry `exact_from` speaks of is gone: every entry implies again.
        if self.depth < self.exact_from {
            self.exact_from = MAX_LOCK_DEPTH;
        }
        let key = chain_step(
            self.top_key(),
            HeldLock::descriptor(entry.node, entry.access, entry.trylock),
        );
        let grew = self.push_keyed(self.depth, entry, key);
        if self.is_full() {
            self.full = FullFilter::of(self.as_slice());
            // A release while the stack is full never takes the fast path (rule 15).
            self.pops[MAX_LOCK_DEPTH] = 0;
        }
        grew
    }

    /// Pushes an entry whose chain key the caller computed already (the hot path computes it to
    /// look the chain up) at `depth`, the current depth, which the caller read already and
    /// checked against `is_full`. It does not build the [`FullFilter`]: a caller that may fill
    /// the stack goes through [`Self::push`] (the hot path leaves for the slow one one entry
    /// earlier). Returns what [`Self::push`] returns.
    #[inline(always)]
    pub(crate) fn push_keyed(&mut self, depth: usize, entry: HeldLock, key: u64) -> bool {
        debug_assert_eq!(depth, self.depth);
        debug_assert!(self.depth < MAX_LOCK_DEPTH);
        debug_assert_eq!(
            key,
            chain_step(
                self.top_key(),
                HeldLock::descriptor(entry.node, entry.access, entry.trylock)
            )
        );
        let depth = self.store(depth, entry, key);
        self.reach_depth(depth + 1)
    }

    /// The stores of a push at `depth` (see [`Self::push_keyed`]); returns the depth it used.
    #[inline(always)]
    fn store(&mut self, depth: usize, entry: HeldLock, key: u64) -> usize {
        let depth = if depth < MAX_LOCK_DEPTH {
            depth
        } else {
            MAX_LOCK_DEPTH - 1
        };
        self.entries[depth] = entry;
        self.keys[depth + 1] = key;
        self.pops[depth + 1] = entry.pop_key();
        self.depth = depth + 1;
        depth
    }

    /// [`Self::push_keyed`] for the hot path, which does not look at the maximum depth: the
    /// caller knows that this thread held more than `depth` locks before. It does for every
    /// acquisition its hot check lets through: a chain this thread cached, which `remember`
    /// caches only after raising the maximum to the depth that chain's lock goes on at (a
    /// first lock once the maximum is nonzero; with checking off, a depth below the maximum).
    /// One load and compare fewer on every nested acquisition.
    #[inline(always)]
    pub(crate) fn push_validated(&mut self, depth: usize, entry: HeldLock, key: u64) {
        // These checks in this crate's unit tests only: as debug assertions they cost every
        // acquisition of a user's debug build (the key: a hash; the others a call each).
        #[cfg(test)]
        assert!(
            depth < self.max_depth() && depth == self.depth,
            "the hot path only reaches known depths, at the depth it checked"
        );
        #[cfg(test)]
        assert_eq!(
            key,
            chain_step(
                self.top_key(),
                HeldLock::descriptor(entry.node, entry.access, entry.trylock)
            )
        );
        self.store(depth, entry, key);
    }

    /// Raises this thread's maximum depth to `depth` (a chain whose lock goes on at
    /// `depth - 1` is being cached: see [`Self::push_validated`]); whether it grew.
    #[inline]
    pub(crate) fn reach_depth(&mut self, depth: usize) -> bool {
        if depth > self.max_depth() {
            self.max_depth = depth;
            return true;
        }
        false
    }

    /// Most locks this thread has held at once.
    #[inline(always)]
    pub(crate) fn max_depth(&self) -> usize {
        self.max_depth
    }

    /// Removes the top entry (the common release: guards dropped innermost first). The entries
    /// below keep their chain keys, so nothing is rekeyed.
    #[inline]
    pub(crate) fn pop(&mut self) {
        debug_assert!(self.depth > 0);
        self.depth -= 1;
    }

    /// [`Self::pop`], for a caller that read the depth already: the stack goes back to `depth`,
    /// one entry less than it has.
    #[inline(always)]
    pub(crate) fn pop_to(&mut self, depth: usize) {
        // In this crate's unit tests only: a debug assertion costs every release of a user's
        // debug build (`push_validated`).
        #[cfg(test)]
        assert_eq!(depth + 1, self.depth);
        self.depth = depth;
    }

    /// Whether the full stack may hold `instance` so that acquiring it as `access` is certain
    /// to hang: false is exact; true means the caller must look at the entries.
    #[inline]
    pub(crate) fn full_may_conflict(&self, instance: usize, access: Access) -> bool {
        debug_assert!(self.is_full());
        self.full.may_conflict(instance, access)
    }

    /// Counts a lock taken while the stack is full: it is not tracked.
    #[inline]
    pub(crate) fn note_overflow(&mut self, instance: usize) {
        if let Some(slot) = self.overflow.get_mut(self.overflowed) {
            *slot = instance;
        }
        self.overflowed += 1;
    }

    /// Releases `instance` if it is one of the remembered untracked locks (O(1) for the
    /// innermost, at most [`OVERFLOW_ADDRS`] steps otherwise); false if it is not among them.
    #[inline]
    pub(crate) fn release_overflow(&mut self, instance: usize) -> bool {
        let n = self.overflowed;
        if n == 0 || n > OVERFLOW_ADDRS {
            return false;
        }
        if self.overflow[n - 1] == instance {
            self.overflowed = n - 1;
            return true;
        }
        match self.overflow[..n].iter().rposition(|&a| a == instance) {
            Some(i) => {
                if i + 1 < n {
                    self.overflow.copy_within(i + 1..n, i);
                }
                self.overflowed = n - 1;
                true
            }
            None => false,
        }
    }

    /// Index of the topmost entry for `instance`.
    #[inline]
    pub(crate) fn find(&self, instance: usize) -> Option<usize> {
        self.as_slice().iter().rposition(|h| h.instance == instance)
    }

    /// Removes entry `index`. Guards may be dropped in any order; the entries above it move down
    /// and get their chain keys recomputed, as the kernel re-adds the locks above a released one.
    pub(crate) fn remove(&mut self, index: usize) -> HeldLock {
        let removed = self.entries[index];
        self.entries.copy_within(index + 1..self.depth, index);
        self.depth -= 1;
        self.rekey_from(index);
        removed
    }

    /// Marks entry `index` as taken through the raw API (see [`HeldLock::RAW`]): its release
    /// goes the general way; the chain keys do not change.
    pub(crate) fn mark_raw(&mut self, index: usize) {
        self.entries[index].fast_release = HeldLock::RAW;
        self.pops[index + 1] = 0;
    }

    /// Changes how entry `index` is held (an upgrade or a downgrade).
    pub(crate) fn set_access(&mut self, index: usize, access: Access) {
        if access == Access::Write && self.entries[index].access != Access::Write {
            self.exact_from = self.exact_from.min(index + 1);
        }
        let entry = &mut self.entries[index];
        entry.access = access;
        if !entry.is_raw() {
            entry.fast_release = HeldLock::fast_release_of(entry.node, access);
        }
        self.rekey_from(index);
        if self.is_full() {
            self.full = FullFilter::of(self.as_slice());
        }
    }

    fn rekey_from(&mut self, index: usize) {
        for i in index..self.depth {
            let entry = &self.entries[i];
            self.keys[i + 1] = chain_step(
                self.keys[i],
                HeldLock::descriptor(entry.node, entry.access, entry.trylock),
            );
            self.pops[i + 1] = if i + 1 < MAX_LOCK_DEPTH {
                entry.pop_key()
            } else {
                0
            };
        }
    }
}

/// `slots[i]` where the caller has proved `i` in bounds: unchecked in an optimised build (the
/// caller's compare is the only one), checked in a build with debug assertions (a user's test
/// profile), where `get_unchecked` is three calls, its precondition check included, and a
/// checked index one compare inline.
///
/// # Safety
/// `i < slots.len()`.
#[inline(always)]
unsafe fn known_in_bounds<T: Copy>(slots: &[T], i: usize) -> T {
    #[cfg(debug_assertions)]
    {
        slots[i]
    }
    // SAFETY: the caller's.
    #[cfg(not(debug_assertions))]
    unsafe {
        *slots.get_unchecked(i)
    }
}

#[cfg(test)]
mod tests;
