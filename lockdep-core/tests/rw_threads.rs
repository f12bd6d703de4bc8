//! DESIGN.md rule 10 checked on real threads: `parking_lot`'s `read_recursive` really deadlocks
//! in a cycle with a non-breaking junction (and lockdep reports it from a run that does not
//! hang), while recursive reads of two locks in opposite orders cannot hang, whatever writers
//! do (and lockdep reports nothing).
//!
//! The schedules are forced, not hoped for: a thread is known to be parked on a lock when
//! `/proc/self/task/TID/syscall` shows it sleeping in `futex` (parking_lot parks with futexes),
//! so the test is Linux-only.
#![cfg(target_os = "linux")]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

/// How long a thread that should finish may take before the test calls it hung. Not a speed
/// bound: the runs take milliseconds.
const HANG: Duration = Duration::from_secs(120);
/// How long threads that keep running may make no progress at all before the test calls them
/// hung: a deadlock never progresses again; a loaded machine is slow but never stops.
const STALLED: Duration = Duration::from_secs(60);

fn tid() -> i32 {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::syscall(libc::SYS_gettid) as i32 }
}

/// Waits until thread `tid` sleeps in a futex wait: parked on a lock. The file shows a syscall
/// number only while the thread sleeps in it; a brief futex wait on the way (an allocator's
/// lock) would not stay, so the state must be seen on a few polls in a row.
fn wait_until_parked(tid: i32) {
    let path = format!("/proc/self/task/{tid}/syscall");
    let futex = libc::SYS_futex.to_string();
    let mut seen = 0;
    while seen < 3 {
        let now = std::fs::read_to_string(&path).expect("the thread is alive");
        if now.split_whitespace().next() == Some(futex.as_str()) {
            seen += 1;
        } else {
            seen = 0;
        }
        thread::sleep(Duration::from_millis(2));
    }
}

/// What a run of the reported four-thread program did.
struct FourThreads {
    /// Threads that finished, by name.
    finished: mpsc::Receiver<&'static str>,
    /// T2's thread: `Err` with the panic payload if it panicked.
    t2: thread::JoinHandle<()>,
    t2_tid: i32,
    t3_tid: i32,
    t4_tid: i32,
}

/// The reported program, with its sleeps replaced by waiting until each thread is parked, and
/// T1's release made fair (`unlock_fair` hands the lock over to the readers and the one writer
/// it wakes, so T2 holds its read while T3 holds WRITER_BIT and waits for it — the moment the
/// reported sleeps aim at, every time):
///
/// - T1 holds L for writing;
/// - T2 queues a fair read of L, then, holding it, wants M;
/// - T3 queues a write of L;
/// - T4 holds M and queues a recursive read of L.
///
/// After T1's release, T2 waits for M (T4), T4 for L (parked behind T3, not woken: the unpark
/// stops at the first writer), T3 for T2's read to end.
macro_rules! four_threads {
    ($l:expr, $m:expr) => {{
        let (l, m) = (Arc::new($l), Arc::new($m));
        let (tids, tid_rx) = mpsc::channel::<i32>();
        let (release, release_rx) = mpsc::channel::<()>();
        let (done, finished) = mpsc::channel::<&'static str>();
        let (read_taken, read_taken_rx) = mpsc::channel::<()>();

        let t1 = {
            let (l, tids, done) = (l.clone(), tids.clone(), done.clone());
            thread::spawn(move || {
                let w = l.write();
                tids.send(tid()).unwrap();
                release_rx.recv().unwrap();
                lock_api::RwLockWriteGuard::unlock_fair(w);
                let _ = done.send("T1");
            })
        };
        let _t1_tid = tid_rx.recv().unwrap();
        let t2 = {
            let (l, m, tids, done) = (l.clone(), m.clone(), tids.clone(), done.clone());
            thread::spawn(move || {
                tids.send(tid()).unwrap();
                let _r = l.read();
                read_taken.send(()).unwrap();
                let _m = m.lock();
                let _ = done.send("T2");
            })
        };
        let t2_tid = tid_rx.recv().unwrap();
        wait_until_parked(t2_tid);
        {
            let (l, tids, done) = (l.clone(), tids.clone(), done.clone());
            thread::spawn(move || {
                tids.send(tid()).unwrap();
                let _w = l.write();
                let _ = done.send("T3");
            });
        }
        let t3_tid = tid_rx.recv().unwrap();
        wait_until_parked(t3_tid);
        {
            let (l, m, tids, done) = (l.clone(), m.clone(), tids.clone(), done.clone());
            thread::spawn(move || {
                let _m = m.lock();
                tids.send(tid()).unwrap();
                let _r = l.read_recursive();
                let _ = done.send("T4");
            });
        }
        let t4_tid = tid_rx.recv().unwrap();
        wait_until_parked(t4_tid);
        release.send(()).unwrap();
        t1.join().unwrap();
        read_taken_rx.recv().unwrap();
        FourThreads {
            finished,
            t2,
            t2_tid,
            t3_tid,
            t4_tid,
        }
    }};
}

#[test]
fn the_issue_s_four_threads_really_deadlock_with_plain_parking_lot() {
    let run = four_threads!(parking_lot::RwLock::new(()), parking_lot::Mutex::new(()));
    // T2 holds its read and parks on M; T3 parks waiting for readers; T4 is still parked on L.
    // All three asleep at once, each waiting for another of them: nobody is left to wake them.
    for tid in [run.t2_tid, run.t3_tid, run.t4_tid] {
        wait_until_parked(tid);
    }
    assert_eq!(run.finished.recv().unwrap(), "T1");
    // The watchdog: give them a while anyway. They are leaked, parked for good, when the test
    // binary exits.
    assert_eq!(
        run.finished.recv_timeout(Duration::from_millis(500)),
        Err(mpsc::RecvTimeoutError::Timeout),
        "the program was expected to deadlock"
    );
}

#[test]
#[cfg_attr(
    not(lockdep_checks),
    ignore = "needs the checks compiled in: without them the four threads really deadlock"
)]
fn lockdep_reports_the_four_threads_before_they_hang() {
    // The same schedule with lockdep's locks, in the default `Panic` mode: T4's recursive read,
    // validated before it parks, records M -(ER)-> L; T2, holding its read of L, is about to
    // wait for M: L -(SN)-> M closes a cycle whose junction M is not breaking. T2 gets the
    // report instead of the deadlock, unwinds, drops its read, and everyone finishes.
    let run = four_threads!(
        lockdep_core::RwLock::named("thr-L", ()),
        lockdep_core::Mutex::named("thr-M", ())
    );
    let payload = run.t2.join().expect_err("T2 gets the report");
    let text = payload
        .downcast_ref::<String>()
        .expect("a lockdep report as the panic message");
    assert!(
        text.contains("possible circular locking dependency detected"),
        "{text}"
    );
    assert!(
        text.contains("(thr-L) -(ER)-> taken while holding (thr-M)"),
        "{text}"
    );
    assert!(
        text.contains("(thr-M) -(SN)-> taken while holding (thr-L)"),
        "{text}"
    );
    let mut finished: Vec<_> = (0..3)
        .map(|_| run.finished.recv_timeout(HANG).expect("no thread hangs"))
        .collect();
    finished.sort_unstable();
    assert_eq!(finished, ["T1", "T3", "T4"]);
}

/// Two readers take recursive reads of A and B in opposite orders while two writers hammer
/// each lock, so that writers are queued at every moment they can be: by the breaking-junction
/// argument (DESIGN.md rule 10) this cannot hang.
macro_rules! opposite_recursive_reads {
    ($a:expr, $b:expr, $rounds:expr) => {{
        let (a, b) = (Arc::new($a), Arc::new($b));
        // Every round of every thread counts: a hang is no progress at all for `STALLED`, not
        // a run slower than some bound (a loaded CI runner can be many times slower).
        let progress = Arc::new(AtomicU64::new(0));
        let (done, finished) = mpsc::channel::<()>();
        let mut threads = Vec::new();
        for reverse in [false, true] {
            let (a, b, done, progress) = (a.clone(), b.clone(), done.clone(), progress.clone());
            threads.push(lockdep_core::thread::spawn(move || {
                let (first, second) = if reverse { (&b, &a) } else { (&a, &b) };
                for _ in 0..$rounds {
                    let _x = first.read_recursive();
                    thread::yield_now();
                    let _y = second.read_recursive();
                    thread::yield_now();
                    progress.fetch_add(1, Ordering::Relaxed);
                }
                done.send(()).unwrap();
            }));
        }
        for lock in [a.clone(), b.clone()] {
            let (done, progress) = (done.clone(), progress.clone());
            threads.push(lockdep_core::thread::spawn(move || {
                for _ in 0..$rounds {
                    let _w = lock.write();
                    thread::yield_now();
                    progress.fetch_add(1, Ordering::Relaxed);
                }
                done.send(()).unwrap();
            }));
        }
        let mut left = threads.len();
        let (mut seen, mut since) = (progress.load(Ordering::Relaxed), Instant::now());
        while left > 0 {
            match finished.recv_timeout(Duration::from_millis(200)) {
                Ok(()) => left -= 1,
                Err(_) => {
                    let now = progress.load(Ordering::Relaxed);
                    if now != seen {
                        (seen, since) = (now, Instant::now());
                    }
                    assert!(
                        since.elapsed() < STALLED,
                        "recursive reads in opposite orders hung: no progress for {STALLED:?}"
                    );
                }
            }
        }
        for t in threads {
            t.join().unwrap();
        }
    }};
}

#[test]
fn recursive_reads_in_opposite_orders_cannot_hang_under_writers() {
    opposite_recursive_reads!(
        parking_lot::RwLock::new(()),
        parking_lot::RwLock::new(()),
        20_000
    );
}

#[test]
fn lockdep_reports_nothing_for_recursive_reads_in_opposite_orders() {
    let reports = lockdep_core::capture(|| {
        opposite_recursive_reads!(
            lockdep_core::RwLock::named("thr-opp-A", ()),
            lockdep_core::RwLock::named("thr-opp-B", ()),
            2_000
        );
    });
    assert!(reports.is_empty(), "{reports:?}");
}
