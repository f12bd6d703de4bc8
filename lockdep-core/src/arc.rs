//! The `arc_lock` feature's plumbing: `lock_api`'s `Arc` guards hold an `Arc` of *its* lock
//! type, and each of ours is a `repr(transparent)` wrapper of one, so an `Arc` of ours can be
//! viewed as an `Arc` of the `lock_api` lock without touching the reference count.

use std::mem::ManuallyDrop;
use std::sync::Arc;

/// A lock type that is a `repr(transparent)` wrapper of a `lock_api` lock.
///
/// # Safety
/// `Self` must be `repr(transparent)` over `Inner`, and `cast` a plain pointer cast.
pub(crate) unsafe trait Transparent {
    /// The `lock_api` lock inside.
    type Inner: ?Sized;
    /// `this`, as a pointer to the lock inside.
    fn cast(this: *const Self) -> *const Self::Inner;
}

/// `arc` viewed as an `Arc` of the `lock_api` lock inside. Cloning the view (as `lock_api`'s
/// `lock_arc` does) adds a real reference; the view itself must not be dropped, which the
/// `ManuallyDrop` ensures.
///
/// # Safety
/// The view must not outlive `arc` (it borrows its count).
#[inline]
pub(crate) unsafe fn view<W: Transparent + ?Sized>(arc: &Arc<W>) -> ManuallyDrop<Arc<W::Inner>> {
    let inner = W::cast(Arc::as_ptr(arc));
    // SAFETY: the allocation holds a `W`, which has the layout of `W::Inner`, so `Arc::from_raw`
    // accepts the pointer; the `ManuallyDrop` keeps the borrowed count from being released.
    ManuallyDrop::new(unsafe { Arc::from_raw(inner) })
}

/// Implements [`Transparent`] for `$ty` over its `inner` field's type.
macro_rules! transparent {
    (impl[$($gen:tt)*] $ty:ty => $inner:ty) => {
        // SAFETY: the type is `repr(transparent)` over its only field, of type `$inner`.
        unsafe impl<$($gen)*> $crate::arc::Transparent for $ty {
            type Inner = $inner;
            #[inline]
            fn cast(this: *const Self) -> *const $inner {
                this as *const $inner
            }
        }
    };
}
pub(crate) use transparent;
