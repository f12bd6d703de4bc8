//! The ways a lock can be acquired and held.

/// How a lock is acquired, and so how it is held.
// With the checks compiled out only the `std::sync` wrappers name these, to pass them to
// hooks that ignore them.
#[cfg_attr(not(lockdep_checks), allow(dead_code))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Access {
    /// A mutex, or the write side of a rwlock.
    Write,
    /// A fair read: waits behind a queued writer, so it can deadlock like a write.
    Read,
    /// A recursive read (`lock_api`'s): skips the queue while the lock is read-held at the
    /// moment of the call; otherwise parks like a reader, and can then wait behind a queued
    /// writer.
    RecursiveRead,
    /// An upgradable read: excludes writers and other upgraders, not readers.
    Upgradable,
}

#[cfg_attr(not(lockdep_checks), allow(dead_code))]
impl Access {
    /// Holder side of an edge: the kernel's E (exclusive) versus S (shared).
    pub(crate) fn held_shared(self) -> bool {
        !matches!(self, Access::Write)
    }

    /// Acquirer side of an edge: the kernel's R (recursive read) versus N.
    pub(crate) fn acquire_recursive(self) -> bool {
        matches!(self, Access::RecursiveRead)
    }

    /// The verb the kernel's scenario tables use.
    pub(crate) fn verb(self) -> &'static str {
        match self {
            Access::Write => "lock",
            Access::Read => "rlock",
            Access::RecursiveRead => "rlock_recursive",
            Access::Upgradable => "upgradable_rlock",
        }
    }

    /// Shown next to a class name in reports, as the kernel shows `{+.+.}`.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Access::Write => "write",
            Access::Read => "read",
            Access::RecursiveRead => "recursive-read",
            Access::Upgradable => "upgradable",
        }
    }

    #[inline(always)]
    pub(crate) fn bits(self) -> u64 {
        match self {
            Access::Write => 0,
            Access::Read => 1,
            Access::RecursiveRead => 2,
            Access::Upgradable => 3,
        }
    }
}
