//! The `serde` feature, as `parking_lot`'s: a lock serializes as its data (locking it) and
//! deserializes to a new lock whose class is the caller's site, as with `Default`.

use super::generic::{Mutex, ReentrantMutex, RwLock};
use lock_api::{GetThreadId, RawMutex, RawRwLock};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

impl<R: RawMutex, T: ?Sized + Serialize> Serialize for Mutex<R, T> {
    #[track_caller]
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.lock().serialize(serializer)
    }
}

impl<'de, R: RawMutex, T: Deserialize<'de>> Deserialize<'de> for Mutex<R, T> {
    /// The class is the caller's site, as for [`Default`].
    #[track_caller]
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = T::deserialize(deserializer)?;
        // Called here, not in a closure, so `new` sees this function's caller.
        Ok(Mutex::new(value))
    }
}

impl<R: RawRwLock, T: ?Sized + Serialize> Serialize for RwLock<R, T> {
    #[track_caller]
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.read().serialize(serializer)
    }
}

impl<'de, R: RawRwLock, T: Deserialize<'de>> Deserialize<'de> for RwLock<R, T> {
    /// The class is the caller's site, as for [`Default`].
    #[track_caller]
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = T::deserialize(deserializer)?;
        // Called here, not in a closure, so `new` sees this function's caller.
        Ok(RwLock::new(value))
    }
}

impl<R: RawMutex, G: GetThreadId, T: ?Sized + Serialize> Serialize for ReentrantMutex<R, G, T> {
    #[track_caller]
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.lock().serialize(serializer)
    }
}

impl<'de, R: RawMutex, G: GetThreadId, T: Deserialize<'de>> Deserialize<'de>
    for ReentrantMutex<R, G, T>
{
    /// The class is the caller's site, as for [`Default`].
    #[track_caller]
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = T::deserialize(deserializer)?;
        // Called here, not in a closure, so `new` sees this function's caller.
        Ok(ReentrantMutex::new(value))
    }
}
