//! An application whose registry lock and its pool's lock are taken in both orders: one path
//! takes the registry, then a connection; the pool's callback takes the registry.

use lockdep_core::Mutex;
use pool::Pool;

/// The application's state.
pub struct App {
    /// Sessions, behind the application's own lock.
    pub registry: Mutex<Vec<u32>>,
    /// A pool from a library.
    pub pool: Pool,
}

impl App {
    /// An empty application with a pool of two connections.
    pub fn new() -> App {
        App {
            registry: Mutex::new(Vec::new()),
            pool: Pool::new(2),
        }
    }

    /// registry, then the pool's lock.
    pub fn register(&self) {
        let mut registry = self.registry.lock();
        let connection = self.pool.with(|c| c);
        registry.push(connection);
    }

    /// The pool's lock (inside `with`), then registry: the inversion.
    pub fn audit(&self) -> usize {
        self.pool.with(|_| self.registry.lock().len())
    }
}

impl Default for App {
    fn default() -> App {
        App::new()
    }
}
