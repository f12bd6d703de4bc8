//! The raw mutexes of the 0.13 face: this crate's raw mutexes (checked, or plain with the checks
//! compiled out) under `lock_api` 0.5's traits, whose guard states are the stateless markers
//! parking_lot 0.13's own raw locks use.

use crate::class::LockTypeFn;
use crate::raw::ops05::Mutex05;
use crate::raw::RawMutexAt;
use lock_api_05 as api;
use std::num::NonZeroUsize;

/// The guard state of every raw lock of the 0.13 face: stateless, as parking_lot 0.13's (`Send`
/// with the `send_guard` feature).
#[cfg(feature = "send_guard")]
pub type Marker = api::GuardSend;
/// The guard state of every raw lock of the 0.13 face: stateless, as parking_lot 0.13's (`Send`
/// with the `send_guard` feature).
#[cfg(not(feature = "send_guard"))]
pub type Marker = api::GuardNoSend;

/// A raw mutex of this crate (`X`: checked, or plain with the checks compiled out) under
/// `lock_api` 0.5's raw traits: [`RawMutex`](super::RawMutex) and
/// [`RawFairMutex`](super::RawFairMutex) are this over parking_lot's raw mutexes.
///
/// Every acquisition goes through `X`, so it is validated as a lock of this crate's typed layer
/// would be, and a report is raised before the lock is taken, at the line that called
/// `lock_api` (its methods are `#[track_caller]`); see the face's doc for the relocks inside a
/// guard's `unlocked`.
#[repr(transparent)]
pub struct RawMutexOf<X>(pub(crate) X);

impl<X> RawMutexOf<X> {
    /// The raw mutex of this crate inside.
    pub fn inner(&self) -> &X {
        &self.0
    }

    /// The raw mutex of this crate inside, by value.
    pub(crate) const fn into_inner(self) -> X {
        // SAFETY: `X` is read once out of `self`, which is forgotten, so it is neither used nor
        // dropped again (a const fn cannot move a field out of a generic value).
        let inner = unsafe { std::ptr::read(&self.0) };
        std::mem::forget(self);
        inner
    }
}

// The bound names this crate's internal entry points; the methods are crate-private too.
#[allow(private_bounds)]
impl<X: RawMutexAt> RawMutexOf<X> {
    /// Blocks for the lock as this crate's typed layer does: a report is returned (to be raised
    /// at the user's line) before the lock is taken.
    #[track_caller]
    #[inline]
    pub(crate) fn lock_at(&self, subclass: u32, ty: Option<LockTypeFn>) -> Marker {
        if let Some(pending) = self.0.lock_at(subclass, std::panic::Location::caller(), ty) {
            pending.raise()
        }
        Marker::new()
    }
}

// SAFETY: every method takes, tries or releases `X`'s lock exactly once, and `X` is a raw mutex
// (`lock_api` 0.4's contract, the same exclusion); the guard state carries nothing. `lock`
// returns only with the lock held; it unwinds only before the lock is taken (`raw/ops05.rs`).
unsafe impl<X: Mutex05> api::RawMutex for RawMutexOf<X> {
    #[allow(clippy::declare_interior_mutable_const)] // as `lock_api` declares `INIT`
    const INIT: Self = RawMutexOf(X::INIT);
    type Guard = Marker;

    #[track_caller]
    #[inline]
    fn lock(&self) -> Marker {
        if let Some(pending) = self.0.lock_05() {
            pending.raise()
        }
        Marker::new()
    }
    #[track_caller]
    #[inline]
    fn try_lock(&self) -> Option<Marker> {
        self.0.try_lock().then(Marker::new)
    }
    #[inline]
    unsafe fn unlock(&self, _: Marker) {
        // SAFETY: forwarded contract: the caller holds the lock.
        unsafe { self.0.unlock() }
    }
    #[inline]
    fn is_locked(&self) -> bool {
        self.0.is_locked()
    }
}

// SAFETY: delegates to `X`; a bump reports before it acts, the lock still held.
unsafe impl<X: Mutex05 + lock_api::RawMutexFair> api::RawMutexFair for RawMutexOf<X> {
    #[inline]
    unsafe fn unlock_fair(&self, _: Marker) {
        // SAFETY: forwarded contract.
        unsafe { self.0.unlock_fair() }
    }
    #[track_caller]
    unsafe fn bump(&self, _: &mut Marker) {
        // SAFETY: forwarded contract: the caller holds the lock.
        unsafe { self.0.bump() }
    }
}

// SAFETY: delegates to `X`; a failed try leaves nothing taken.
unsafe impl<X: Mutex05 + lock_api::RawMutexTimed> api::RawMutexTimed for RawMutexOf<X> {
    type Duration = X::Duration;
    type Instant = X::Instant;

    #[track_caller]
    fn try_lock_for(&self, timeout: X::Duration) -> Option<Marker> {
        self.0.try_lock_for(timeout).then(Marker::new)
    }
    #[track_caller]
    fn try_lock_until(&self, timeout: X::Instant) -> Option<Marker> {
        self.0.try_lock_until(timeout).then(Marker::new)
    }
}

/// The thread ids of [`ReentrantMutex`](super::ReentrantMutex) (parking_lot 0.13's
/// `RawThreadId`): parking_lot's, under `lock_api` 0.5's trait.
pub struct RawThreadId(parking_lot::RawThreadId);

// SAFETY: parking_lot's thread ids are nonzero and distinct between live threads.
unsafe impl api::GetThreadId for RawThreadId {
    #[allow(clippy::declare_interior_mutable_const)] // as `lock_api` declares `INIT`
    const INIT: Self = RawThreadId(<parking_lot::RawThreadId as lock_api::GetThreadId>::INIT);
    #[inline]
    fn nonzero_thread_id(&self) -> NonZeroUsize {
        lock_api::GetThreadId::nonzero_thread_id(&self.0)
    }
}
