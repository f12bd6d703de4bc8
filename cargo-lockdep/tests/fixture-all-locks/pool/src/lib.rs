//! A connection pool that runs a callback while it holds its lock: the shape of many real
//! lock-order bugs through a library (the callback takes the application's lock).

use parking_lot::Mutex;

/// Connections, behind the pool's own lock.
pub struct Pool {
    connections: Mutex<Vec<u32>>,
}

impl Pool {
    /// A pool of `n` connections.
    pub fn new(n: u32) -> Pool {
        Pool {
            connections: Mutex::new((0..n).collect()),
        }
    }

    /// Runs `f` on a connection, with the pool's lock held.
    pub fn with<R>(&self, f: impl FnOnce(u32) -> R) -> R {
        let connections = self.connections.lock();
        f(connections[0])
    }
}
