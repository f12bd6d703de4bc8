//! Helpers shared by the criterion benches (`benches/*.rs`), the plain-loop examples
//! (`examples/*.rs`) and the `report` binary.
//!
//! The benches measure lockdep's instrumentation overhead *in the same run* as the raw locks
//! (`parking_lot`, `std`) and the closest peer (`tracing-mutex`, its always-checking
//! `parkinglot::tracing` flavour), so that ratios stay meaningful on a noisy machine.

pub mod load;

use std::path::PathBuf;
use std::sync::Barrier;
use std::time::{Duration, Instant};

/// The environment variable that sets the thread count of the `threads` group (criterion owns
/// the command line, so `--threads N` is spelled `LOCKDEP_BENCH_THREADS=N`).
pub const THREADS_VAR: &str = "LOCKDEP_BENCH_THREADS";

/// Threads for the multi-threaded group: `LOCKDEP_BENCH_THREADS`, default 2 (this machine's
/// core count when the benches were written).
pub fn bench_threads() -> usize {
    match std::env::var(THREADS_VAR) {
        Ok(text) => match text.trim().parse::<usize>() {
            Ok(n) if n >= 1 => n,
            _ => panic!("{THREADS_VAR}={text:?}: expected a thread count >= 1"),
        },
        Err(_) => 2,
    }
}

/// Runs `work(thread_index, iters)` on `threads` threads at once and returns the wall time from
/// the moment they were all released to the moment the last one finished.
///
/// Thread start-up is not timed: each thread notes its own start after a barrier and its own end,
/// and the result is the latest end minus the earliest start. With perfect scaling the result
/// equals the one-thread time for the same `iters`, so `time(N) / time(1)` is the per-operation
/// slowdown the "≤ 1.2×" scaling target is about.
pub fn run_parallel<F>(threads: usize, iters: u64, work: F) -> Duration
where
    F: Fn(usize, u64) + Sync,
{
    let barrier = Barrier::new(threads);
    let spans: Vec<(Instant, Instant)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|index| {
                let (barrier, work) = (&barrier, &work);
                scope.spawn(move || {
                    // Warm this thread's own state (lockdep's thread-local cache, say) untimed.
                    work(index, 1);
                    barrier.wait();
                    let start = Instant::now();
                    work(index, iters);
                    (start, Instant::now())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("bench thread panicked"))
            .collect()
    });
    let start = spans
        .iter()
        .map(|s| s.0)
        .min()
        .expect("at least one thread");
    let end = spans
        .iter()
        .map(|s| s.1)
        .max()
        .expect("at least one thread");
    end - start
}

/// Where criterion writes its output: `$CARGO_TARGET_DIR/criterion`, or `target/criterion` of
/// the workspace.
pub fn criterion_dir() -> PathBuf {
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join("target"),
    };
    target.join("criterion")
}

/// Eight classes for a chain of nested locks (`nest!`): the `nested` bench and the plain-loop
/// examples take them in this order, so each process learns the one known order it times.
pub static CHAIN_CLASSES: [lockdep_core::LockClass; 8] = [
    lockdep_core::LockClass::new("chain-0"),
    lockdep_core::LockClass::new("chain-1"),
    lockdep_core::LockClass::new("chain-2"),
    lockdep_core::LockClass::new("chain-3"),
    lockdep_core::LockClass::new("chain-4"),
    lockdep_core::LockClass::new("chain-5"),
    lockdep_core::LockClass::new("chain-6"),
    lockdep_core::LockClass::new("chain-7"),
];

/// Times `iters` runs of `body` in a plain loop (the plain-loop examples' measurement: the
/// body is inlined into the loop, nothing else is on it).
#[inline(always)]
pub fn timed(iters: u64, mut body: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        body();
    }
    start.elapsed()
}

/// The median of `values` (the upper one of an even count).
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// A `'static` lock class for generated names (the new-edge group needs thousands of classes;
/// each is leaked once, as the class table keeps classes for the life of the process anyway).
pub fn leaked_class(name: String) -> &'static lockdep_core::LockClass {
    Box::leak(Box::new(lockdep_core::LockClass::new(Box::leak(
        name.into_boxed_str(),
    ))))
}

/// Takes the first `depth` (2, 4 or 8) of `locks` in order with `take`, holding every guard,
/// then drops them innermost first. Written out per depth so that nothing but the locks is on
/// the timed path. Shared by the `nested` bench and the `interleaved` example.
///
/// ```
/// let locks: Vec<parking_lot::Mutex<()>> = (0..8).map(|_| parking_lot::Mutex::new(())).collect();
/// benches::nest!(&locks, 4, |m| m.lock());
/// ```
#[macro_export]
macro_rules! nest {
    ($locks:expr, $depth:expr, |$m:ident| $take:expr) => {{
        let locks = ::std::hint::black_box($locks);
        macro_rules! take {
            ($lock:expr) => {{
                let $m = $lock;
                $take
            }};
        }
        match $depth {
            2 => {
                let a = take!(&locks[0]);
                let b = take!(&locks[1]);
                drop((b, a));
            }
            4 => {
                let a = take!(&locks[0]);
                let b = take!(&locks[1]);
                let c = take!(&locks[2]);
                let d = take!(&locks[3]);
                drop((d, c, b, a));
            }
            8 => {
                let a = take!(&locks[0]);
                let b = take!(&locks[1]);
                let c = take!(&locks[2]);
                let d = take!(&locks[3]);
                let e = take!(&locks[4]);
                let f = take!(&locks[5]);
                let g = take!(&locks[6]);
                let h = take!(&locks[7]);
                drop((h, g, f, e, d, c, b, a));
            }
            _ => unreachable!("depths are 2, 4 and 8"),
        }
    }};
}
