//! A process-wide, lock-free front for the class tables: the record a code address (a
//! `Location`, a construction) was last resolved to, found again with one atomic load.
//!
//! Why: a class is resolved once per lock *instance* (its first acquisition) and once per
//! construction through `Default`, not once per class, and the tables behind (`DashMap`s keyed
//! by a `Location`'s value) hash a file name and take a shard lock each time. A test suite
//! builds its locks anew in every test, each test on a thread of its own, so a per-thread
//! cache starts cold every time; in a user's debug build (this crate unoptimised) the hash
//! alone is thousands of instructions. The records are leaked (`&'static`), so a slot is one
//! pointer that is never torn: a reader checks that the record it finds is the one it asked
//! for, and a slot overwritten by another key is only a miss.

use std::panic::Location;
use std::sync::atomic::{AtomicPtr, Ordering};

/// Slots per memo: a program's lock sites fit many times over; a collision is a miss.
const SLOTS: usize = 1024;

/// A direct-mapped table of leaked records, indexed by a hash of the key they were filed under.
pub(crate) struct Memo<T: Sync + 'static> {
    slots: [AtomicPtr<T>; SLOTS],
}

impl<T: Sync + 'static> Memo<T> {
    /// An empty memo (for a `static`).
    pub(crate) const fn new() -> Self {
        Memo {
            slots: [const { AtomicPtr::new(std::ptr::null_mut()) }; SLOTS],
        }
    }

    /// The record filed under `key`, if its slot still holds one that `is_it` accepts.
    #[inline]
    pub(crate) fn get(
        &self,
        key: usize,
        is_it: impl FnOnce(&'static T) -> bool,
    ) -> Option<&'static T> {
        let found = self.slots[slot(key)].load(Ordering::Acquire);
        // SAFETY: every non-null pointer stored is a `&'static T` (`put`).
        let record: &'static T = unsafe { found.as_ref() }?;
        is_it(record).then_some(record)
    }

    /// Files `record` under `key`, replacing whatever its slot held.
    #[inline]
    pub(crate) fn put(&self, key: usize, record: &'static T) {
        self.slots[slot(key)].store(std::ptr::from_ref(record).cast_mut(), Ordering::Release);
    }
}

/// Whether a record filed for the site `known` answers for `site`: the very `Location`, or a
/// copy of it (a `Location` has one per instance of a generic function, one per codegen unit,
/// all of one class). A copy found by value is then filed under its own address too.
#[inline]
pub(crate) fn same_site(
    known: &'static Location<'static>,
    site: &'static Location<'static>,
) -> bool {
    std::ptr::eq(known, site) || *known == *site
}

/// The slot of `key`: a multiplicative hash, so that nearby addresses spread.
#[inline]
fn slot(key: usize) -> usize {
    spread(key, SLOTS)
}

/// `key`'s index in a direct-mapped table of `slots` entries (a power of two): the top bits of
/// a multiplicative hash, so that nearby addresses (and keys mixed from them) spread. Computed
/// in 64 bits on every target.
#[inline]
pub(crate) fn spread(key: usize, slots: usize) -> usize {
    ((key as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (u64::BITS - slots.trailing_zeros()))
        as usize
}

#[cfg(test)]
mod tests {
    use super::Memo;

    #[test]
    fn a_record_is_found_under_its_key_and_a_displaced_one_is_a_miss() {
        // Statics, not leaked boxes: a displaced record must stay reachable (as the class
        // tables keep theirs), or Miri reports it leaked.
        static MEMO: Memo<&str> = Memo::new();
        static A: &str = "a";
        static B: &str = "b";
        assert!(MEMO.get(8, |r| *r == "a").is_none());
        MEMO.put(8, &A);
        assert_eq!(MEMO.get(8, |r| *r == "a").copied(), Some("a"));
        // Every key shares a slot with others: find one that does with 8, and displace `a`.
        let other = (9..)
            .step_by(8)
            .find(|&k| super::slot(k) == super::slot(8))
            .expect("a colliding key");
        MEMO.put(other, &B);
        assert!(MEMO.get(8, |r| *r == "a").is_none());
        assert_eq!(MEMO.get(other, |r| *r == "b").copied(), Some("b"));
    }
}
