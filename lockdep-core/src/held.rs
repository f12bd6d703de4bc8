//! The per-thread stack of held locks (the kernel's `current->held_locks`).
//!
//! A fixed array, so pushing and popping never allocate. Each entry carries the chain key of the
//! stack up to and including itself, so the key of "the held stack plus one more lock" is one
//! hash step away: that key is what the validated-chain cache is indexed by.

use crate::class::NodeKey;
use std::panic::Location;

/// Most locks one thread may hold at once (the kernel's MAX_LOCK_DEPTH).
pub const MAX_LOCK_DEPTH: usize = 48;

pub(crate) use crate::access::Access;

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
    /// Chain key of the stack up to and including this entry.
    pub(crate) chain_key: u64,
    /// Taken by an async lock (`lockdep_core::tokio`): its guard may live across `.await`, so
    /// the entry belongs to the task, which carries it from poll to poll (`task.rs`). A sync
    /// entry still held when a task yields is a `HeldAcrossAwait` finding.
    pub(crate) asynchronous: bool,
}

impl HeldLock {
    pub(crate) const EMPTY: HeldLock = HeldLock {
        instance: 0,
        node: NodeKey(0),
        access: Access::Write,
        trylock: false,
        at: None,
        chain_key: 0,
        asynchronous: false,
    };

    /// This entry's contribution to a chain key: everything that decides which dependencies an
    /// acquisition on top of it adds.
    pub(crate) fn descriptor(node: NodeKey, access: Access, trylock: bool) -> u64 {
        ((node.0 as u64) << 3) | (access.bits() << 1) | trylock as u64
    }
}

/// How a release names the entry it ends (a rwlock instance may be held several ways at once).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Release {
    Exclusive,
    Shared,
    Upgradable,
}

impl Release {
    /// Whether an entry held as `access` is one this release ends.
    #[inline]
    pub(crate) fn matches(self, access: Access) -> bool {
        match self {
            Release::Exclusive => access == Access::Write,
            Release::Shared => matches!(access, Access::Read | Access::RecursiveRead),
            Release::Upgradable => access == Access::Upgradable,
        }
    }
}

/// The chain key of an empty stack.
pub(crate) const CHAIN_ROOT: u64 = 0x6c6f_636b_6465_7021;

/// One step of the chain hash: the key of `prev` followed by one more entry. The same role as
/// the kernel's `iterate_chain_key`: a multiply-xorshift mix (splitmix64's constants) of
/// `prev ^ descriptor`. The mix is a bijection, so two stacks with the same prefix and different
/// top entries never collide; stacks with different prefixes collide only if their (well mixed,
/// 64-bit) prefix keys differ by exactly the xor of two descriptors, as likely as any other
/// 64-bit coincidence. Descriptors differ in their low bits only, which the first multiply
/// carries upward; so neither spreading the descriptor with a multiply first (as an earlier
/// version did) nor a leading xorshift adds anything. A collision would make a never-validated
/// chain look validated.
#[inline]
pub(crate) fn chain_step(prev: u64, descriptor: u64) -> u64 {
    let mut h = (prev ^ descriptor).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 31;
    h.wrapping_mul(0x94d0_49bb_1331_11eb) ^ (h >> 29)
}

/// The held-lock stack of one thread.
pub(crate) struct HeldStack {
    entries: [HeldLock; MAX_LOCK_DEPTH],
    depth: usize,
    /// Locks taken beyond MAX_LOCK_DEPTH: not tracked, released silently.
    pub(crate) overflowed: usize,
    /// The instances of the first [`OVERFLOW_ADDRS`] of those, in order, so that releasing one
    /// (innermost first, as a rule) is found without scanning the full stack.
    overflow: [usize; OVERFLOW_ADDRS],
    /// Most locks this thread has held at once.
    pub(crate) max_depth: usize,
}

impl HeldStack {
    pub(crate) const fn new() -> Self {
        HeldStack {
            entries: [HeldLock::EMPTY; MAX_LOCK_DEPTH],
            depth: 0,
            overflowed: 0,
            overflow: [0; OVERFLOW_ADDRS],
            max_depth: 0,
        }
    }

    #[inline]
    pub(crate) fn as_slice(&self) -> &[HeldLock] {
        &self.entries[..self.depth]
    }

    #[inline]
    pub(crate) fn is_full(&self) -> bool {
        // `>=`, though the depth never exceeds the maximum: it tells the compiler that past a
        // `!is_full()` the top and the next slot are in bounds.
        self.depth >= MAX_LOCK_DEPTH
    }

    /// Chain key of the current stack.
    #[inline]
    pub(crate) fn top_key(&self) -> u64 {
        match self.depth {
            0 => CHAIN_ROOT,
            d => self.entries[d - 1].chain_key,
        }
    }

    /// Pushes an entry; the caller has checked `is_full`. Returns what [`Self::push_keyed`]
    /// returns.
    #[inline]
    pub(crate) fn push(&mut self, entry: HeldLock) -> bool {
        let key = chain_step(
            self.top_key(),
            HeldLock::descriptor(entry.node, entry.access, entry.trylock),
        );
        self.push_keyed(entry, key)
    }

    /// Pushes an entry whose chain key the caller computed already (the hot path computes it to
    /// look the chain up); the caller has checked `is_full`. Returns whether this thread's
    /// maximum depth grew: the caller then updates the process-wide maximum, a shared line that
    /// is therefore not touched on every push.
    #[inline]
    pub(crate) fn push_keyed(&mut self, mut entry: HeldLock, key: u64) -> bool {
        debug_assert!(!self.is_full());
        debug_assert_eq!(
            key,
            chain_step(
                self.top_key(),
                HeldLock::descriptor(entry.node, entry.access, entry.trylock)
            )
        );
        entry.chain_key = key;
        let depth = self.depth;
        self.entries[depth] = entry;
        self.depth = depth + 1;
        if depth + 1 > self.max_depth {
            self.max_depth = depth + 1;
            return true;
        }
        false
    }

    /// Removes the top entry (the common release: guards dropped innermost first). The entries
    /// below keep their chain keys, so nothing is rekeyed.
    #[inline]
    pub(crate) fn pop(&mut self) {
        debug_assert!(self.depth > 0);
        self.depth -= 1;
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
        match self.overflow[..n].iter().rposition(|&a| a == instance) {
            Some(i) => {
                self.overflow.copy_within(i + 1..n, i);
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

    /// Changes how entry `index` is held (an upgrade or a downgrade).
    pub(crate) fn set_access(&mut self, index: usize, access: Access) {
        self.entries[index].access = access;
        self.rekey_from(index);
    }

    fn rekey_from(&mut self, index: usize) {
        let mut key = match index {
            0 => CHAIN_ROOT,
            i => self.entries[i - 1].chain_key,
        };
        for entry in &mut self.entries[index..self.depth] {
            key = chain_step(
                key,
                HeldLock::descriptor(entry.node, entry.access, entry.trylock),
            );
            entry.chain_key = key;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(instance: usize, node: u32) -> HeldLock {
        HeldLock {
            instance,
            node: NodeKey(node),
            ..HeldLock::EMPTY
        }
    }

    #[test]
    fn chain_keys_depend_on_order_and_contents() {
        let mut ab = HeldStack::new();
        ab.push(entry(1, 8));
        ab.push(entry(2, 16));
        let mut ba = HeldStack::new();
        ba.push(entry(2, 16));
        ba.push(entry(1, 8));
        assert_ne!(ab.top_key(), ba.top_key());

        let mut ab_read = HeldStack::new();
        ab_read.push(entry(1, 8));
        ab_read.push(HeldLock {
            access: Access::Read,
            ..entry(2, 16)
        });
        assert_ne!(ab.top_key(), ab_read.top_key());
    }

    #[test]
    fn out_of_order_release_rekeys_the_rest() {
        let mut stack = HeldStack::new();
        stack.push(entry(1, 8));
        stack.push(entry(2, 16));
        stack.push(entry(3, 24));
        let removed = stack.remove(stack.find(1).unwrap());
        assert_eq!(removed.instance, 1);

        let mut expected = HeldStack::new();
        expected.push(entry(2, 16));
        expected.push(entry(3, 24));
        assert_eq!(stack.top_key(), expected.top_key());
        assert_eq!(stack.as_slice().len(), 2);
        assert_eq!(stack.max_depth, 3);
    }

    #[test]
    fn untracked_locks_past_the_limit_are_released_by_instance() {
        let mut stack = HeldStack::new();
        for i in 0..MAX_LOCK_DEPTH {
            stack.push(entry(i + 1, 8));
        }
        stack.note_overflow(100);
        stack.note_overflow(200);
        assert!(
            !stack.release_overflow(5),
            "a tracked lock is not an untracked one"
        );
        assert!(stack.release_overflow(100), "released out of order");
        assert!(stack.release_overflow(200));
        assert_eq!(stack.overflowed, 0);
        assert!(!stack.release_overflow(200));
        assert_eq!(stack.as_slice().len(), MAX_LOCK_DEPTH);
    }

    #[test]
    fn set_access_changes_the_key() {
        let mut stack = HeldStack::new();
        stack.push(entry(1, 8));
        let before = stack.top_key();
        stack.set_access(0, Access::Read);
        assert_ne!(before, stack.top_key());
        stack.set_access(0, Access::Write);
        assert_eq!(before, stack.top_key());
    }
}
