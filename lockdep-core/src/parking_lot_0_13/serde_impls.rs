//! The `serde` feature for the 0.13 face, as parking_lot 0.13's: a lock serializes as its data
//! (locking it) and deserializes to a new lock whose class is the caller's site.

use super::generic::{Mutex, ReentrantMutex, RwLock};
use super::RawRwLock12;
use lock_api::RawMutex;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

impl<X: RawMutex, T: ?Sized + Serialize> Serialize for Mutex<X, T> {
    #[track_caller]
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.lock().serialize(serializer)
    }
}

impl<'de, X: RawMutex, T: Deserialize<'de>> Deserialize<'de> for Mutex<X, T> {
    /// The class is the caller's site, as for [`Default`].
    #[track_caller]
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = T::deserialize(deserializer)?;
        // Called here, not in a closure, so `new` sees this function's caller.
        Ok(Mutex::new(value))
    }
}

impl<X: RawRwLock12, const R: bool, T: ?Sized + Serialize> Serialize for RwLock<X, R, T> {
    #[track_caller]
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.read().serialize(serializer)
    }
}

impl<'de, X: RawRwLock12, const R: bool, T: Deserialize<'de>> Deserialize<'de> for RwLock<X, R, T> {
    /// The class is the caller's site, as for [`Default`].
    #[track_caller]
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = T::deserialize(deserializer)?;
        // Called here, not in a closure, so `new` sees this function's caller.
        Ok(RwLock::new(value))
    }
}

impl<X: RawMutex, T: ?Sized + Serialize> Serialize for ReentrantMutex<X, T> {
    #[track_caller]
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.lock().serialize(serializer)
    }
}

impl<'de, X: RawMutex, T: Deserialize<'de>> Deserialize<'de> for ReentrantMutex<X, T> {
    /// The class is the caller's site, as for [`Default`].
    #[track_caller]
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = T::deserialize(deserializer)?;
        // Called here, not in a closure, so `new` sees this function's caller.
        Ok(ReentrantMutex::new(value))
    }
}
