//! parking_lot 0.13's API, checked by lockdep: a crate written against parking_lot 0.13
//! switches by renaming this crate to `parking_lot` in its `Cargo.toml`, with no edit to its
//! code:
//!
//! ```toml
//! [dependencies]
//! parking_lot = { package = "lockdep-parking-lot", version = "0.13" }
//! ```
//!
//! Every lock is then checked as lockdep checks it (see `lockdep-core`): each acquisition
//! against the locks the thread holds, every new order recorded, an order that closes a
//! deadlock cycle reported at once. What is here is `lockdep_core::parking_lot_0_13`, at a
//! crate root (its documentation says where it differs from parking_lot 0.13: its `lock_api` is
//! 0.4). For parking_lot 0.12, rename `lockdep-core` itself.
//!
//! ```
//! use lockdep_parking_lot::{Once, RecursiveRwLock, RwLock};
//!
//! static CONFIG: RwLock<u32> = RwLock::new(1);
//! static SETUP: Once = Once::new();
//!
//! SETUP.call_once(|| *CONFIG.write() = 2);
//! SETUP.wait();
//! let table = RecursiveRwLock::new(vec![*CONFIG.read()]);
//! let (a, b) = (table.read(), table.read()); // recursive reads nest
//! assert_eq!(a[0] + b[0], 4);
//! ```

pub use lockdep_core::parking_lot_0_13::*;
