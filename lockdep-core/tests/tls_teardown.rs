//! Locks taken while a thread's thread-locals are torn down: the validator's per-thread state
//! has no destructor of its own, so it must stay usable (and keep tracking) in other
//! thread-locals' destructors, whatever order they run in.

use lockdep_core::{is_held, Mutex};
use std::sync::atomic::{AtomicUsize, Ordering};

static A: Mutex<()> = Mutex::new(());
static B: Mutex<u32> = Mutex::new(0);
static RAN: AtomicUsize = AtomicUsize::new(0);

struct TakesLocks;

impl Drop for TakesLocks {
    fn drop(&mut self) {
        let _a = A.lock();
        let mut b = B.lock();
        *b += 1;
        if lockdep_core::CHECKS_COMPILED_IN {
            assert!(is_held(&A) && is_held(&B));
        }
        RAN.fetch_add(1, Ordering::Relaxed);
    }
}

thread_local! {
    static BEFORE: TakesLocks = const { TakesLocks };
    static AFTER: TakesLocks = const { TakesLocks };
}

#[test]
fn locks_in_thread_local_destructors() {
    std::thread::spawn(|| {
        // Registered before the thread's first acquisition, so destroyed after the validator's
        // exit check: the latest point a lock can be taken on this thread.
        BEFORE.with(|_| {});
        {
            let _a = A.lock();
            let _b = B.lock();
        }
        // Registered after it: destroyed first.
        AFTER.with(|_| {});
    })
    .join()
    .unwrap();
    assert_eq!(RAN.load(Ordering::Relaxed), 2);
    assert!(!is_held(&A));
    assert_eq!(*B.lock(), 2);
}
