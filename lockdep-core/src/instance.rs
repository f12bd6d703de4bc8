//! What the query functions and lock annotations take: [`TrackedLock`], implemented by every
//! lock type of the crate, and the [`LockInstance`] it gives.

use crate::class;
#[cfg(lockdep_checks)]
use crate::{access, raw, validator};

/// One lock instance, as the query functions see it. Obtained from [`TrackedLock`].
#[derive(Clone, Copy)]
pub struct LockInstance<'a> {
    /// The lock's class cell, which also carries its instance identity.
    #[cfg(lockdep_checks)]
    class: &'a class::ClassCell,
    /// For locks whose held entries are named by an address (once-cells, tokio's locks: see
    /// `Acquisition::at_address`), that address; 0 for the class cell's identity.
    #[cfg(lockdep_checks)]
    addr: usize,
    _lock: std::marker::PhantomData<&'a ()>,
}

impl<'a> LockInstance<'a> {
    #[cfg(lockdep_checks)]
    pub(crate) fn of_raw<R>(raw: &'a raw::Checked<R>) -> Self {
        LockInstance::of_class(raw.class_cell())
    }

    #[cfg(not(lockdep_checks))]
    pub(crate) fn of_raw<R>(_: &'a R) -> Self {
        LockInstance {
            _lock: std::marker::PhantomData,
        }
    }

    #[cfg_attr(not(lockdep_checks), allow(unused_variables))]
    pub(crate) fn of_class(class: &'a class::ClassCell) -> Self {
        LockInstance::of_parts(0, class)
    }

    /// An instance whose held entries are named by `addr` (see the field's doc).
    #[cfg_attr(not(lockdep_checks), allow(unused_variables))]
    pub(crate) fn of_parts(addr: usize, class: &'a class::ClassCell) -> Self {
        LockInstance {
            #[cfg(lockdep_checks)]
            class,
            #[cfg(lockdep_checks)]
            addr,
            _lock: std::marker::PhantomData,
        }
    }

    /// The name of this instance's held entries.
    #[cfg(lockdep_checks)]
    pub(crate) fn key(&self) -> usize {
        if self.addr != 0 {
            self.addr
        } else {
            self.class.identity()
        }
    }

    /// Its acquisition as `access` at `at`, as the validator sees it.
    #[cfg(lockdep_checks)]
    pub(crate) fn acquisition(
        &self,
        access: access::Access,
        at: &'static std::panic::Location<'static>,
    ) -> Option<validator::Acquisition> {
        let acq = validator::Acquisition::new(self.lock_ref(), 0, access, Some(at));
        if self.addr == 0 {
            return acq;
        }
        validator::Acquisition::at_address(self.lock_ref(), self.addr, 0, access, Some(at))
    }

    /// The name of the lock's class (`"<unchecked>"` with the checks compiled out).
    pub fn class_name(&self) -> String {
        #[cfg(lockdep_checks)]
        return self.class.describe();
        #[cfg(not(lockdep_checks))]
        "<unchecked>".to_string()
    }

    #[cfg(lockdep_checks)]
    fn lock_ref(&self) -> validator::LockRef<'a> {
        validator::LockRef {
            class: self.class,
            ty: None,
        }
    }
}

/// A lock the validator tracks: every lock type of this crate.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a lock that lockdep tracks",
    label = "not a lockdep lock",
    note = "lockdep's queries and lock annotations take its lock types (`lockdep_core::Mutex`, \
            `RwLock`, `ReentrantMutex`, `sync::Mutex`, ...), references to them, or `Arc`s of them"
)]
pub trait TrackedLock {
    /// The instance the query functions ask about.
    fn lock_instance(&self) -> LockInstance<'_>;
}

impl<L: TrackedLock + ?Sized> TrackedLock for &L {
    fn lock_instance(&self) -> LockInstance<'_> {
        (**self).lock_instance()
    }
}

impl<L: TrackedLock + ?Sized> TrackedLock for std::sync::Arc<L> {
    fn lock_instance(&self) -> LockInstance<'_> {
        (**self).lock_instance()
    }
}
