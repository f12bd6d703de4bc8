//! What the validator checks: an [`Acquisition`] (a lock instance, its class node, the access
//! and the user's location), built by the faces and the raw layer and read by every path of
//! the validator; and [`certain_conflict`], the self-deadlock test the hot path and the slow
//! path share.
//!
//! At the bottom of the validator with `names.rs`, so that the slow path and the findings can
//! take an acquisition without importing the hot path (`acquire.rs`) that calls them.

use super::LockRef;
use crate::access::Access;
use crate::class::NodeKey;
use crate::held::{self_conflict_is_certain, HeldLock, Release};
use crate::report::LockDesc;
use std::panic::Location;

/// An acquisition being validated.
#[derive(Clone, Copy)]
pub(crate) struct Acquisition {
    pub(crate) addr: usize,
    pub(crate) node: NodeKey,
    pub(crate) access: Access,
    pub(crate) at: Option<&'static Location<'static>>,
    /// An async lock's acquisition (see [`HeldLock::asynchronous`]).
    pub(crate) asynchronous: bool,
    /// Taken at a nonzero subclass: said where the subclass is known (a constant on the typed
    /// layers' path), so that the push need not test the node's bits (see
    /// [`HeldLock::fast_release`]).
    pub(super) nested: bool,
}

impl Acquisition {
    /// Resolves the lock's class; `None` when it cannot be tracked (the class table is full).
    #[inline(always)]
    pub(crate) fn new(
        lock: LockRef<'_>,
        subclass: u32,
        access: Access,
        at: Option<&'static Location<'static>>,
    ) -> Option<Acquisition> {
        if subclass != 0 {
            crate::class::check_subclass(subclass, lock.class);
        }
        // `let else`, not `?`: in a user's debug build that is a call (`Try::branch`).
        #[allow(clippy::question_mark)]
        let Some((node, identity)) = lock.class.resolve_node(lock.ty) else {
            return None;
        };
        Some(Acquisition {
            addr: identity,
            node: node.at_subclass(subclass),
            access,
            at,
            asynchronous: false,
            nested: subclass != 0,
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

    /// The acquisition that takes a held entry's lock again as it was held (a condition
    /// variable's mutex after the wait).
    pub(crate) fn of_entry(entry: &HeldLock) -> Acquisition {
        Acquisition {
            addr: entry.instance,
            node: entry.node,
            access: entry.access,
            at: entry.at,
            asynchronous: entry.asynchronous,
            nested: entry.node.subclass() != 0,
        }
    }

    pub(super) fn desc(&self, trylock: bool) -> LockDesc {
        LockDesc {
            class: self.node.display(),
            access: self.access,
            trylock,
            at: self.at,
            initialising: self.node.initialising(),
            annotated: crate::report::annotating(),
        }
    }

    #[inline(always)]
    pub(crate) fn entry(&self, trylock: bool) -> HeldLock {
        HeldLock {
            instance: self.addr,
            node: self.node,
            access: self.access,
            trylock,
            at: self.at,
            asynchronous: self.asynchronous,
            fast_release: if self.nested {
                HeldLock::NESTED
            } else {
                Release::of(self.access) as u8
            },
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
        h.instance == acq.addr
            && Some(i) != skip
            && self_conflict_is_certain(h.access, acq.access)
            && !h.is_raw()
    })
}
