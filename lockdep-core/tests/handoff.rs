//! Hand-offs (`hand_off` / `HandOff::take_over`, the kernel's `lock_release`/`lock_acquire`
//! pair): salsa's revision token — a raw read taken on one thread, released on the one the
//! token was sent to — in every mode, with no stale entry and no false report.

use lock_api::{RawRwLock as _, RawRwLockRecursive as _};
use lockdep_core::{capture, hand_off, is_held, set_mode, HandOff, Mode, Mutex, RwLock};
use std::sync::Arc;

/// The mode is process-wide and one test here goes through all of them: the tests of this
/// file run one at a time (a plain std mutex, not one of lockdep's).
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// salsa's `RevisionGuard`, with the hand-off written where the token changes threads.
struct Token {
    lock: Arc<RwLock<()>>,
    handed: Option<HandOff>,
}

impl Token {
    fn new(lock: &Arc<RwLock<()>>) -> Token {
        // SAFETY: released exactly once, by `Drop`.
        unsafe { lock.raw().lock_shared_recursive() };
        Token {
            lock: lock.clone(),
            handed: None,
        }
    }

    /// Before sending it to another thread.
    fn send(mut self) -> Token {
        self.handed = Some(hand_off(&*self.lock));
        self
    }

    /// On the thread that received it.
    fn received(mut self) -> Token {
        if let Some(handed) = self.handed.take() {
            handed.take_over();
        }
        self
    }
}

impl Drop for Token {
    fn drop(&mut self) {
        // SAFETY: taken in `new`.
        unsafe { self.lock.raw().unlock_shared() };
    }
}

#[test]
fn a_token_released_on_another_thread_leaves_nothing_behind_in_any_mode() {
    let _serial = serial();
    for mode in [Mode::Panic, Mode::Warn, Mode::Off] {
        set_mode(mode);
        let lock = Arc::new(RwLock::named("handoff-revision", ()));
        let other = Mutex::named("handoff-other", ());
        let reports = capture(|| {
            let token = Token::new(&lock).send();
            // The owner holds another lock meanwhile; the token's entry is gone from here.
            let _o = other.lock();
            assert!(!is_held(&*lock), "{mode:?}");
            let lock2 = lock.clone();
            std::thread::spawn(move || {
                let token = token.received();
                assert!(is_held(&*lock2) || !lockdep_core::CHECKS_COMPILED_IN);
                drop(token);
                assert!(!is_held(&*lock2));
            })
            .join()
            .unwrap();
            drop(_o);
            // parking_lot: fine; lockdep: no stale read, so no self-deadlock.
            let _w = lock.write();
        });
        assert!(reports.is_empty(), "{mode:?}: {reports:?}");
        assert!(lockdep_core::held_locks().is_empty(), "{mode:?}");
    }
    set_mode(Mode::Panic);
}

#[test]
fn a_hand_off_of_a_lock_not_held_carries_nothing() {
    let _serial = serial();
    let lock = RwLock::named("handoff-not-held", ());
    let handed = hand_off(&lock);
    assert!(!handed.is_held());
    handed.take_over();
    assert!(!is_held(&lock));
}

/// Taken over, the lock orders what the receiving thread takes next.
#[test]
#[cfg_attr(not(lockdep_checks), ignore = "needs the checks compiled in")]
fn a_lock_taken_over_orders_the_receivers_next_locks() {
    let _serial = serial();
    let held = Arc::new(Mutex::named("handoff-held", ()));
    let next = Arc::new(Mutex::named("handoff-next", ()));
    let guard = held.lock();
    std::mem::forget(guard);
    let handed = hand_off(&*held);
    assert!(handed.is_held());
    let (held2, next2) = (held.clone(), next.clone());
    let reports = std::thread::spawn(move || {
        capture(|| {
            handed.take_over();
            // handoff-held -> handoff-next, recorded here...
            drop(next2.lock());
            // SAFETY: this thread holds it now (taken over), and releases it once.
            unsafe { held2.force_unlock() };
            // ...so the other order is the inversion it is.
            let _n = next2.lock();
            let _h = held2.lock();
        })
    })
    .join()
    .unwrap();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(
        reports[0].classes(),
        ["handoff-held", "handoff-next"],
        "{}",
        reports[0]
    );
}
