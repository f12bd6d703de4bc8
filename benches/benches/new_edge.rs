//! A dependency seen for the first time: the slow path, which takes the graph lock, checks the
//! new edge for a cycle and inserts it (and, normally, captures the backtrace where it was first
//! seen).
//!
//! How it is made honest:
//! - one set of `CLASSES` (1 000) base classes, as a program with that many lock classes; the
//!   graph grows among them to 1 000, 10 000 and 100 000 dependencies (the three sizes), each
//!   one an order a correct program takes: `i -> j` for base classes `i < j`, in a random
//!   (seeded) order of all such pairs, so the graph is learnt in no particular order;
//! - every timed iteration takes the next never-seen pair of that list (`i` held, `j` acquired):
//!   a lock chain nobody has seen (a miss in the thread cache and the shared chain set), then
//!   one new dependency between two classes already in the graph. Nothing else is held;
//! - `exhaustive` is a search without the topological order (the whole graph
//!   reachable from `j` walked, for a path back to `i` that does not exist: the case that costs
//!   it most), switched on by a `#[doc(hidden)]` hook, `set_exhaustive_search`; the order is
//!   still maintained then, so that figure is the old search plus the new upkeep. `graph` is
//!   the search bounded by the order, as shipped. Both run in the same process, one after the
//!   other at each size;
//! - every criterion call times a batch of exactly `REAL_PER_CALL` real new dependencies and
//!   answers their mean times the iterations criterion asked for (every iteration does the same
//!   work). A batch of its own, rather than criterion's count: criterion plans its samples from
//!   a warm-up whose first call may land on the rare expensive dependency (one that reorders a
//!   region, or a table that grows), and would then time single dependencies. After each call
//!   the bench checks that every timed dependency was new (the count grew by the batch), so
//!   nothing was skipped. The timed dependencies grow the graph too: the bench prints its size
//!   at the start and the end of each case.
//!
//! `graph` and `exhaustive` have the per-edge backtrace capture switched off (a `#[doc(hidden)]`
//! hook, `set_dependency_backtraces`): the target (≤ 10 µs at 100 000 dependencies) is
//! the graph work alone. `with_backtrace` is the real thing, and `backtrace_capture` times the
//! capture by itself.

// `criterion_group!` generates undocumented functions.
#![allow(missing_docs)]

use benches::leaked_class;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use lockdep_core::raw::bench::{
    capture_backtrace, set_dependency_backtraces, set_exhaustive_search,
};
use lockdep_core::{stats, Mutex};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Base classes: the program's lock classes.
const CLASSES: usize = 1_000;
/// Dependencies among them at which each case is timed.
const SIZES: [usize; 3] = [1_000, 10_000, 100_000];
/// Iterations timed for real per criterion call (see the module comment): small, so that the
/// timed iterations do not grow the smallest graph much.
const REAL_PER_CALL: u64 = 16;

/// The base classes and the never-seen orders among them, next first.
struct Base {
    locks: Vec<Mutex<()>>,
    pairs: Vec<(u16, u16)>,
}

impl Base {
    fn new() -> Self {
        let locks = (0..CLASSES)
            .map(|i| Mutex::with_class(leaked_class(format!("edge-base-{i}")), ()))
            .collect();
        let mut pairs: Vec<(u16, u16)> = (0..CLASSES as u16)
            .flat_map(|i| (i + 1..CLASSES as u16).map(move |j| (i, j)))
            .collect();
        // Fisher-Yates with a small xorshift generator: reproducible, no dependency.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for k in (1..pairs.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            pairs.swap(k, (state % (k as u64 + 1)) as usize);
        }
        Base { locks, pairs }
    }

    /// Takes the next never-seen order: `i` held, `j` acquired.
    fn take_next(&mut self) {
        let (i, j) = self
            .pairs
            .pop()
            .expect("every order among the base classes was taken");
        let _held = black_box(&self.locks[i as usize]).lock();
        let _acquired = black_box(&self.locks[j as usize]).lock();
    }

    /// Takes never-seen orders, untimed, until the graph holds `size` dependencies (each adds
    /// one; `stats` walks the whole graph, so it is asked once per batch, not per order).
    fn grow_to(&mut self, size: usize) {
        loop {
            let missing = size.saturating_sub(stats().dependencies);
            if missing == 0 {
                break;
            }
            for _ in 0..missing {
                self.take_next();
            }
        }
    }
}

/// The time of `iters` first-time dependencies, from a batch of `REAL_PER_CALL` real ones.
fn new_edges(base: &mut Base, iters: u64) -> Duration {
    if iters == 0 {
        return Duration::ZERO;
    }
    let real = REAL_PER_CALL;
    let before = stats().dependencies;
    let start = Instant::now();
    for _ in 0..real {
        base.take_next();
    }
    let elapsed = start.elapsed();
    assert_eq!(
        stats().dependencies - before,
        real as usize,
        "every timed iteration must record one new dependency"
    );
    if iters > real {
        // Untimed, and only to keep criterion's wall-clock logic sane: `--quick` doubles the
        // iteration count until enough *wall* time has passed, and with the scaling above that
        // would take so many calls that the count overflows. A short sleep per scaled call ends
        // `--quick` after a few dozen calls.
        std::thread::sleep(Duration::from_millis(2));
    }
    Duration::from_nanos((elapsed.as_nanos() * u128::from(iters) / u128::from(real)) as u64)
}

/// One case: `function/size`, printing the graph's size before and after.
fn case(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    base: &mut Base,
    function: &str,
    size: usize,
) {
    let at_start = stats().dependencies;
    group.bench_with_input(BenchmarkId::new(function, size), &size, |b, _| {
        b.iter_custom(|iters| new_edges(base, iters))
    });
    eprintln!(
        "new_edge/{function}/{size}: {at_start} dependencies at the start, {} at the end",
        stats().dependencies
    );
}

fn new_edge(c: &mut Criterion) {
    let mut group = c.benchmark_group("new_edge");
    // Each call spends never-seen orders: keep the number of calls modest. The measurement time
    // is short on purpose: `--quick` doubles the iteration count until it has spent that long
    // in wall-clock time (see the sleep in `new_edges`).
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(5))
        .measurement_time(Duration::from_millis(60));
    assert_eq!(
        stats().dependencies,
        0,
        "new_edge: the graph must start empty"
    );
    let mut base = Base::new();

    for size in SIZES {
        set_dependency_backtraces(false);
        base.grow_to(size);
        set_exhaustive_search(true);
        case(&mut group, &mut base, "exhaustive", size);
        set_exhaustive_search(false);
        case(&mut group, &mut base, "graph", size);
        set_dependency_backtraces(true);
    }
    let size = *SIZES.last().expect("sizes");
    case(&mut group, &mut base, "with_backtrace", size);
    group.finish();
}

/// Recurses `depth` frames, then captures: the capture keeps at most MAX_TRACE_FRAMES (32).
#[inline(never)]
fn capture_at_depth(depth: usize) -> usize {
    if depth == 0 {
        capture_backtrace()
    } else {
        // `black_box` after the call keeps it from becoming a tail call: the frames are real.
        black_box(capture_at_depth(black_box(depth - 1)))
    }
}

fn backtrace_capture(c: &mut Criterion) {
    let mut group = c.benchmark_group("backtrace_capture");
    // Extra frames above criterion's own stack: 0 (as deep as the bench is), and 40 (capped).
    for extra in [0usize, 40] {
        let frames = capture_at_depth(extra);
        eprintln!("backtrace_capture/{extra}: {frames} frames kept");
        group.bench_with_input(
            BenchmarkId::new("extra_frames", extra),
            &extra,
            |b, &extra| b.iter(|| capture_at_depth(black_box(extra))),
        );
    }
    group.finish();
}

criterion_group!(benches, new_edge, backtrace_capture);
criterion_main!(benches);
