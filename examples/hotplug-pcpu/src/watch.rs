//! Knowing where threads are stuck: a table of who waits for which lock, and a watchdog that
//! turns a hang into a message and an exit code.
//!
//! A deadlocked thread cannot say anything, so each one notes what it is about to wait for
//! *before* it blocks. The table and the watchdog use plain `std` locks on purpose: they are
//! the demo's instruments, and must not show up in the lock graph they are observing.

use std::io::Write as _;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Mutex as StdMutex, PoisonError};
use std::thread::{self, JoinHandle, ThreadId};
use std::time::{Duration, Instant};

/// One thread blocked (or about to block) on a lock.
#[derive(Clone, Debug)]
pub struct Stuck {
    /// The thread's name.
    pub thread: String,
    /// Class names of the locks it holds, outermost first, as lockdep tracks them.
    pub holds: Vec<String>,
    /// Class name of the lock it waits for.
    pub lock: &'static str,
    /// How it waits for it (`" (read)"`, `" (write)"` or empty for a mutex).
    pub how: &'static str,
    /// When it started waiting.
    pub since: Instant,
}

/// Every thread currently waiting for a lock, keyed by its id.
static WAITING: StdMutex<Vec<(ThreadId, Stuck)>> = StdMutex::new(Vec::new());

/// Removes its thread's entry from the table when dropped: once the lock is taken, or when the
/// acquisition unwinds (a lockdep handler that stops the thread).
pub struct Waiting {
    /// The waiting thread (the one that made this value).
    id: ThreadId,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        WAITING
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|(id, _)| *id != self.id);
    }
}

/// Notes that the current thread is about to wait for `lock`; keep the result alive until the
/// lock is taken.
pub fn waiting_for(lock: &'static str, how: &'static str) -> Waiting {
    let current = thread::current();
    let entry = Stuck {
        thread: current.name().unwrap_or("<unnamed>").to_string(),
        holds: lockdep_core::held_locks(),
        lock,
        how,
        since: Instant::now(),
    };
    WAITING
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push((current.id(), entry));
    Waiting { id: current.id() }
}

/// The threads waiting right now.
pub fn stuck_threads() -> Vec<Stuck> {
    WAITING
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .map(|(_, stuck)| stuck.clone())
        .collect()
}

/// Says what the watchdog found: called with `true` and the stuck threads when they are all
/// stuck, with `false` and whatever is waiting when the watchdog gives up.
pub type Verdict = Box<dyn FnOnce(bool, &[Stuck]) + Send>;

/// What the watchdog does when it fires.
pub struct Alarm {
    /// Declare a deadlock once this many threads have all been waiting for `stuck_after`.
    pub threads: usize,
    /// How long every one of them must have been waiting: long enough that a lock merely
    /// contended would have been handed over by then.
    pub stuck_after: Duration,
    /// Give up regardless after this long, so that no run can hang (CI included).
    pub give_up_after: Duration,
    /// Prints the message, on the watchdog thread. The watchdog then exits the process with
    /// `exit_code`, since deadlocked threads can be neither woken nor joined.
    pub report: Verdict,
    /// The process's exit status when the alarm goes off.
    pub exit_code: i32,
}

/// A running watchdog; [`Watchdog::disarm`] it when the watched work has finished.
pub struct Watchdog {
    /// Tells the watchdog thread the work finished.
    done: mpsc::Sender<()>,
    /// The watchdog thread, joined on disarming so that it cannot fire afterwards.
    handle: JoinHandle<()>,
}

impl Watchdog {
    /// Starts watching. The process exits from the watchdog thread if the alarm goes off.
    pub fn start(alarm: Alarm) -> Watchdog {
        let (done, finished) = mpsc::channel::<()>();
        let handle = thread::Builder::new()
            .name("watchdog".into())
            .spawn(move || {
                let start = Instant::now();
                // Poll rather than sleep the whole time, so that a finished run is not kept
                // waiting and the stuck check sees fresh state.
                let tick = Duration::from_millis(50);
                loop {
                    match finished.recv_timeout(tick) {
                        Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
                        Err(RecvTimeoutError::Timeout) => {}
                    }
                    let stuck = stuck_threads();
                    let all_stuck = stuck.len() >= alarm.threads
                        && stuck.iter().all(|s| s.since.elapsed() >= alarm.stuck_after);
                    if all_stuck || start.elapsed() >= alarm.give_up_after {
                        (alarm.report)(all_stuck, &stuck);
                        let _ = std::io::stdout().flush();
                        let _ = std::io::stderr().flush();
                        std::process::exit(alarm.exit_code);
                    }
                }
            })
            .expect("spawn the watchdog thread");
        Watchdog { done, handle }
    }

    /// Stops watching: the work finished in time.
    pub fn disarm(self) {
        let _ = self.done.send(());
        let _ = self.handle.join();
    }
}

/// Describes the stuck threads, one line each: who holds what and waits for what.
pub fn describe(stuck: &[Stuck]) -> String {
    let mut text = String::new();
    for s in stuck {
        let holds = if s.holds.is_empty() {
            "nothing".to_string()
        } else {
            s.holds.join(", ")
        };
        text.push_str(&format!(
            "  thread '{}' holds {holds} and waits for {}{}\n",
            s.thread, s.lock, s.how
        ));
    }
    text
}

/// The locks the stuck threads wait for, in a phrase: `a and b`, `a, b and c`.
pub fn waited_locks(stuck: &[Stuck]) -> String {
    let mut locks: Vec<&str> = Vec::new();
    for s in stuck {
        if !locks.contains(&s.lock) {
            locks.push(s.lock);
        }
    }
    match locks.split_last() {
        None => "nothing".to_string(),
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}
