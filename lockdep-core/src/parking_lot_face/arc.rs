//! The `arc_lock` feature, as `parking_lot`'s: `lock_arc`, `read_arc`, `write_arc`, ... and the
//! `Arc*Guard` types. `lock_api`'s `Arc` guards hold an `Arc` of *its* lock type, and each of
//! ours is a `repr(transparent)` wrapper of one, so an `Arc` of ours is viewed as an `Arc` of
//! the `lock_api` lock without touching the reference count, and `lock_api`'s methods run on
//! it with the caller's location.

use std::mem::ManuallyDrop;
use std::sync::Arc;

/// A lock type that is a `repr(transparent)` wrapper of a `lock_api` lock.
///
/// # Safety
/// `Self` must be `repr(transparent)` over `Inner`, and `cast` a plain pointer cast. `Self`
/// must have no `Drop` of its own and no drop glue beyond `Inner`'s: the `Arc` guards that
/// `lock_api` makes through the view may hold the last reference, and then free the allocation
/// as an `Arc<Inner>`, running `Inner`'s drop only.
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
        unsafe impl<$($gen)*> $crate::parking_lot_face::arc::Transparent for $ty {
            type Inner = $inner;
            #[inline]
            fn cast(this: *const Self) -> *const $inner {
                this as *const $inner
            }
        }
    };
}
// The 0.13 face's lock types are made transparent by path; this face's own use is textual.
#[cfg_attr(not(feature = "parking_lot-0_13"), allow(unused_imports))]
pub(crate) use transparent;

/// `Arc` methods: each is `lock_api`'s method of the same name, on the `lock_api` lock the
/// `Arc` is viewed as, run with the caller's location (so a blocking acquisition reports
/// before it locks). For a lock type made [`Transparent`] by `transparent!`; this face's and
/// the 0.13 face's lock types use it.
macro_rules! arc_methods {
    ($($(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {$(
        $(#[$doc])*
        #[track_caller]
        #[inline]
        pub fn $name(self: &::std::sync::Arc<Self>, $($arg: $ty),*) -> $ret {
            $crate::caller::at_caller(::std::panic::Location::caller(), || {
                // SAFETY: the lock type is a `repr(transparent)` wrapper of the `lock_api` lock
                // it is viewed as (`transparent!` at its definition).
                unsafe { $crate::parking_lot_face::arc::view(self) }.$name($($arg),*)
            })
        }
    )*};
}
// The 0.13 face's lock types call it by path; this face's own use is textual.
#[cfg_attr(not(feature = "parking_lot-0_13"), allow(unused_imports))]
pub(crate) use arc_methods;

mod impls {
    use crate::parking_lot_face::generic::{Mutex, ReentrantMutex, RwLock};
    use crate::raw::Raw;
    use lock_api::{
        GetThreadId, RawMutex, RawMutexTimed, RawRwLock, RawRwLockRecursive,
        RawRwLockRecursiveTimed, RawRwLockTimed, RawRwLockUpgrade, RawRwLockUpgradeTimed,
    };

    transparent!(impl[R, T: ?Sized] Mutex<R, T> => lock_api::Mutex<Raw<R>, T>);
    transparent!(impl[R, T: ?Sized] RwLock<R, T> => lock_api::RwLock<Raw<R>, T>);
    transparent!(impl[R, G, T: ?Sized] ReentrantMutex<R, G, T> => lock_api::ReentrantMutex<Raw<R>, G, T>);

    /// A guard of an `Arc<Mutex>`, holding the `Arc` (`lock_api`'s over the instrumented raw
    /// lock).
    pub type ArcMutexGuard<R, T> = lock_api::ArcMutexGuard<Raw<R>, T>;
    /// A read guard of an `Arc<RwLock>`, holding the `Arc`.
    pub type ArcRwLockReadGuard<R, T> = lock_api::ArcRwLockReadGuard<Raw<R>, T>;
    /// A write guard of an `Arc<RwLock>`, holding the `Arc`.
    pub type ArcRwLockWriteGuard<R, T> = lock_api::ArcRwLockWriteGuard<Raw<R>, T>;
    /// An upgradable read guard of an `Arc<RwLock>`, holding the `Arc`.
    pub type ArcRwLockUpgradableReadGuard<R, T> = lock_api::ArcRwLockUpgradableReadGuard<Raw<R>, T>;
    /// A guard of an `Arc<ReentrantMutex>`, holding the `Arc`.
    pub type ArcReentrantMutexGuard<R, G, T> = lock_api::ArcReentrantMutexGuard<Raw<R>, G, T>;

    impl<R: RawMutex, T: ?Sized> Mutex<R, T> {
        arc_methods! {
            /// Like [`lock`](Self::lock), for an `Arc`: the guard owns a clone of it.
            fn lock_arc() -> ArcMutexGuard<R, T>;
            /// Like [`try_lock`](Self::try_lock), for an `Arc`.
            fn try_lock_arc() -> Option<ArcMutexGuard<R, T>>;
        }
    }

    impl<R: RawMutexTimed, T: ?Sized> Mutex<R, T> {
        arc_methods! {
            /// Like [`try_lock_for`](Self::try_lock_for), for an `Arc`.
            fn try_lock_arc_for(timeout: R::Duration) -> Option<ArcMutexGuard<R, T>>;
            /// Like [`try_lock_until`](Self::try_lock_until), for an `Arc`.
            fn try_lock_arc_until(timeout: R::Instant) -> Option<ArcMutexGuard<R, T>>;
        }
    }

    impl<R: RawMutex, G: GetThreadId, T: ?Sized> ReentrantMutex<R, G, T> {
        arc_methods! {
            /// Like [`lock`](Self::lock), for an `Arc`: the guard owns a clone of it.
            fn lock_arc() -> ArcReentrantMutexGuard<R, G, T>;
            /// Like [`try_lock`](Self::try_lock), for an `Arc`.
            fn try_lock_arc() -> Option<ArcReentrantMutexGuard<R, G, T>>;
        }
    }

    impl<R: RawMutexTimed, G: GetThreadId, T: ?Sized> ReentrantMutex<R, G, T> {
        arc_methods! {
            /// Like [`try_lock_for`](Self::try_lock_for), for an `Arc`.
            fn try_lock_arc_for(timeout: R::Duration) -> Option<ArcReentrantMutexGuard<R, G, T>>;
            /// Like [`try_lock_until`](Self::try_lock_until), for an `Arc`.
            fn try_lock_arc_until(timeout: R::Instant) -> Option<ArcReentrantMutexGuard<R, G, T>>;
        }
    }

    impl<R: RawRwLock, T: ?Sized> RwLock<R, T> {
        arc_methods! {
            /// Like [`read`](Self::read), for an `Arc`: the guard owns a clone of it.
            fn read_arc() -> ArcRwLockReadGuard<R, T>;
            /// Like [`try_read`](Self::try_read), for an `Arc`.
            fn try_read_arc() -> Option<ArcRwLockReadGuard<R, T>>;
            /// Like [`write`](Self::write), for an `Arc`.
            fn write_arc() -> ArcRwLockWriteGuard<R, T>;
            /// Like [`try_write`](Self::try_write), for an `Arc`.
            fn try_write_arc() -> Option<ArcRwLockWriteGuard<R, T>>;
        }
    }

    impl<R: RawRwLockTimed, T: ?Sized> RwLock<R, T> {
        arc_methods! {
            /// Like [`try_read_for`](Self::try_read_for), for an `Arc`.
            fn try_read_arc_for(timeout: R::Duration) -> Option<ArcRwLockReadGuard<R, T>>;
            /// Like [`try_read_until`](Self::try_read_until), for an `Arc`.
            fn try_read_arc_until(timeout: R::Instant) -> Option<ArcRwLockReadGuard<R, T>>;
            /// Like [`try_write_for`](Self::try_write_for), for an `Arc`.
            fn try_write_arc_for(timeout: R::Duration) -> Option<ArcRwLockWriteGuard<R, T>>;
            /// Like [`try_write_until`](Self::try_write_until), for an `Arc`.
            fn try_write_arc_until(timeout: R::Instant) -> Option<ArcRwLockWriteGuard<R, T>>;
        }
    }

    impl<R: RawRwLockRecursive, T: ?Sized> RwLock<R, T> {
        arc_methods! {
            /// Like [`read_recursive`](Self::read_recursive), for an `Arc`.
            fn read_arc_recursive() -> ArcRwLockReadGuard<R, T>;
            /// Like [`try_read_recursive`](Self::try_read_recursive), for an `Arc`.
            fn try_read_recursive_arc() -> Option<ArcRwLockReadGuard<R, T>>;
        }
    }

    impl<R: RawRwLockRecursiveTimed, T: ?Sized> RwLock<R, T> {
        arc_methods! {
            /// Like [`try_read_recursive_for`](Self::try_read_recursive_for), for an `Arc`.
            fn try_read_arc_recursive_for(timeout: R::Duration) -> Option<ArcRwLockReadGuard<R, T>>;
            /// Like [`try_read_recursive_until`](Self::try_read_recursive_until), for an `Arc`.
            fn try_read_arc_recursive_until(timeout: R::Instant) -> Option<ArcRwLockReadGuard<R, T>>;
        }
    }

    impl<R: RawRwLockUpgrade, T: ?Sized> RwLock<R, T> {
        arc_methods! {
            /// Like [`upgradable_read`](Self::upgradable_read), for an `Arc`.
            fn upgradable_read_arc() -> ArcRwLockUpgradableReadGuard<R, T>;
            /// Like [`try_upgradable_read`](Self::try_upgradable_read), for an `Arc`.
            fn try_upgradable_read_arc() -> Option<ArcRwLockUpgradableReadGuard<R, T>>;
        }
    }

    impl<R: RawRwLockUpgradeTimed, T: ?Sized> RwLock<R, T> {
        arc_methods! {
            /// Like [`try_upgradable_read_for`](Self::try_upgradable_read_for), for an `Arc`.
            fn try_upgradable_read_arc_for(timeout: R::Duration) -> Option<ArcRwLockUpgradableReadGuard<R, T>>;
            /// Like [`try_upgradable_read_until`](Self::try_upgradable_read_until), for an `Arc`.
            fn try_upgradable_read_arc_until(timeout: R::Instant) -> Option<ArcRwLockUpgradableReadGuard<R, T>>;
        }
    }
}

pub use impls::{
    ArcMutexGuard, ArcReentrantMutexGuard, ArcRwLockReadGuard, ArcRwLockUpgradableReadGuard,
    ArcRwLockWriteGuard,
};
