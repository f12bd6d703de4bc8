//! A test suite's profile, lockdep ÷ plain in one run: many short processes, each building
//! locks (through `new` and `Default`), starting threads that take them nested, and exiting —
//! what `cargo test` does to a crate with many test binaries and short tests. What such a
//! process pays once (loading symbols, registering classes, the first dependencies' stacks)
//! weighs here as in a real suite, where it made salsa's suite 1.5× its plain time.
//!
//! `cargo run -p benches --example short_suite [-- ROUNDS]` (debug, like a test suite; add
//! `--release` for a release-checks build). Each round runs a batch of plain processes and a
//! batch of checked ones, alternating; the figures are per process (wall, and CPU from
//! `getrusage` of the children where the platform has it), median over the rounds.

use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

/// Processes per batch.
const PROCESSES: usize = 20;
/// Threads each process starts, and the nested acquisitions each makes.
const THREADS: usize = 4;
const ROUNDS_PER_THREAD: usize = 200;

/// A test's state: a few locks built the way real code builds them (a derived `Default`).
#[derive(Default)]
struct Store<M: Default> {
    index: M,
    pages: M,
    log: M,
}

/// The child: what one short test binary does, over `lockdep_core` or `parking_lot`: starts
/// threads that build their locks and take them nested (in one order: no report), joins them.
macro_rules! workload {
    ($mutex:ident, $shared:expr) => {{
        let shared: Vec<Arc<$mutex<u64>>> = $shared;
        let threads: Vec<_> = (0..THREADS)
            .map(|t| {
                let shared = shared.clone();
                std::thread::spawn(move || {
                    // Each test thread its own state, and now and then a lock all share.
                    let store = Store::<$mutex<u64>>::default();
                    for i in 0..ROUNDS_PER_THREAD {
                        let mut index = store.index.lock();
                        let mut pages = store.pages.lock();
                        *store.log.lock() += 1;
                        if i % 20 == 0 {
                            *shared[(t + i) % shared.len()].lock() += 1;
                        }
                        *index += 1;
                        *pages += 1;
                    }
                    assert_eq!(*store.log.lock(), ROUNDS_PER_THREAD as u64);
                })
            })
            .collect();
        for thread in threads {
            thread.join().expect("a worker");
        }
    }};
}

fn child(kind: &str) {
    if kind == "plain" {
        use parking_lot::Mutex;
        workload!(Mutex, (0..8).map(|_| Arc::new(Mutex::new(0))).collect())
    } else {
        use lockdep_core::Mutex;
        // One class for the eight (a collection of locks is one class), taken one at a time.
        workload!(Mutex, (0..8).map(|_| Arc::new(Mutex::new(0))).collect())
    }
}

/// CPU seconds (user + system) of the children waited for so far.
#[cfg(unix)]
fn children_cpu() -> f64 {
    // SAFETY: `getrusage` writes into the zeroed struct it is given.
    let usage = unsafe {
        let mut usage = std::mem::zeroed::<libc::rusage>();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

#[cfg(not(unix))]
fn children_cpu() -> f64 {
    f64::NAN
}

/// Runs a batch of `PROCESSES` children of `kind`; (wall, CPU) per process, in ms.
fn batch(kind: &str) -> (f64, f64) {
    let exe = std::env::current_exe().expect("the bench's own path");
    let cpu = children_cpu();
    let start = Instant::now();
    for _ in 0..PROCESSES {
        let status = Command::new(&exe)
            .args(["--child", kind])
            .env_remove("LOCKDEP")
            .env_remove("LOCKDEP_GRAPH")
            .env_remove("LOCKDEP_DOT")
            .status()
            .expect("a child process");
        assert!(status.success(), "a {kind} child failed");
    }
    let per = |total: f64| total * 1e3 / PROCESSES as f64;
    (
        per(start.elapsed().as_secs_f64()),
        per(children_cpu() - cpu),
    )
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--child") {
        return child(args.get(2).map_or("lockdep", String::as_str));
    }
    let rounds: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(5);
    let (mut plain, mut checked) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        plain.push(batch("plain"));
        checked.push(batch("lockdep"));
    }
    let wall = |v: &[(f64, f64)]| median(v.iter().map(|p| p.0).collect());
    let cpu = |v: &[(f64, f64)]| median(v.iter().map(|p| p.1).collect());
    println!(
        "short processes ({PROCESSES} a batch, {THREADS} threads x {ROUNDS_PER_THREAD} nested \
         rounds each), median of {rounds} rounds, per process:"
    );
    println!(
        "  wall  parking_lot {:7.2} ms  lockdep {:7.2} ms  ratio {:.2}x",
        wall(&plain),
        wall(&checked),
        wall(&checked) / wall(&plain)
    );
    println!(
        "  CPU   parking_lot {:7.2} ms  lockdep {:7.2} ms  ratio {:.2}x",
        cpu(&plain),
        cpu(&checked),
        cpu(&checked) / cpu(&plain)
    );
}
