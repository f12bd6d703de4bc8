//! Forwarding of `lock_api` 0.5's methods to the 0.13 face's lock types, so that every method
//! is an inherent method of the lock type, as it is of parking_lot 0.13's: `Mutex::try_lock`
//! named as a path (`.map(Mutex::is_locked)`) resolves, where `Deref` alone serves only method
//! calls. Each forwarded method is `lock_api` 0.5's method of the same name, run on the
//! `lock_api` lock inside (its `#[track_caller]` chain reaches the checked raw lock), and the
//! `Arc` ones on the `Arc` viewed as an `Arc` of that lock.

/// `fn name(&self, args) -> ret;` forwards to `self.inner.name(args)`; `unsafe fn` likewise
/// (with its `# Safety` doc written at the call); `arc fn name(args) -> ret;` is the `Arc` face's
/// `arc_methods!` (feature `arc_lock`).
macro_rules! forward {
    () => {};
    (
        $(#[$doc:meta])*
        fn $name:ident(&self $(, $arg:ident: $ty:ty)*) $(-> $ret:ty)?;
        $($rest:tt)*
    ) => {
        $(#[$doc])*
        #[track_caller]
        #[inline]
        pub fn $name(&self $(, $arg: $ty)*) $(-> $ret)? {
            self.inner.$name($($arg),*)
        }
        $crate::parking_lot_0_13::forward::forward!($($rest)*);
    };
    (
        $(#[$doc:meta])*
        fn $name:ident(&mut self) -> $ret:ty;
        $($rest:tt)*
    ) => {
        $(#[$doc])*
        #[inline]
        pub fn $name(&mut self) -> $ret {
            self.inner.$name()
        }
        $crate::parking_lot_0_13::forward::forward!($($rest)*);
    };
    (
        $(#[$doc:meta])*
        unsafe fn $name:ident(&self $(, $arg:ident: $ty:ty)*) $(-> $ret:ty)?;
        $($rest:tt)*
    ) => {
        $(#[$doc])*
        #[track_caller]
        #[inline]
        pub unsafe fn $name(&self $(, $arg: $ty)*) $(-> $ret)? {
            // SAFETY: forwarded contract (the doc above).
            unsafe { self.inner.$name($($arg),*) }
        }
        $crate::parking_lot_0_13::forward::forward!($($rest)*);
    };
    (
        $(#[$doc:meta])*
        arc fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;
        $($rest:tt)*
    ) => {
        #[cfg(feature = "arc_lock")]
        $crate::parking_lot_face::arc::arc_methods! {
            $(#[$doc])*
            fn $name($($arg: $ty),*) -> $ret;
        }
        $crate::parking_lot_0_13::forward::forward!($($rest)*);
    };
}
pub(crate) use forward;
