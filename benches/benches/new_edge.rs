//! A dependency seen for the first time: the slow path, which takes the graph lock, inserts the
//! edge and searches for a cycle (and, normally, captures the backtrace where it was first seen).
//!
//! How it is made honest, with the validator's tables bounded (MAX_CLASSES classes,
//! MAX_DEPENDENCIES edges):
//! - the graph first holds `size` *base* classes (100, 1 000, 10 000), linked in chains of 8 as
//!   nested locks would link them (so the cycle search has real edges to walk);
//! - every timed iteration holds a *fresh* class (created and registered untimed, before the
//!   clock starts: registering a class is not graph work) and acquires a base class under it: a
//!   lock chain nobody has seen, so a miss in the thread cache and the shared chain set, then one
//!   new edge and one search from the base class through its chain (it cannot reach the fresh
//!   class, so the search runs to its end: the case that costs most);
//! - at most `REAL_PER_CALL` iterations run for real per criterion call; when criterion asks for
//!   more, the measured time is scaled up linearly (every iteration does the same work, and each
//!   call still times hundreds of them). After each call the bench checks that every timed
//!   iteration added exactly one dependency, so nothing was skipped.
//!
//! `graph` has the per-edge backtrace capture switched off (a `#[doc(hidden)]` hook,
//! `lockdep_core::raw::bench`): the 2 µs target is the graph work alone. `with_backtrace`
//! is the real thing, and `backtrace_capture` times the capture by itself.

// `criterion_group!` generates undocumented functions.
#![allow(missing_docs)]

use benches::leaked_class;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use lockdep_core::raw::bench::{capture_backtrace, set_dependency_backtraces};
use lockdep_core::{stats, Mutex};
use std::hint::black_box;
use std::time::{Duration, Instant};

const SIZES: [usize; 3] = [100, 1_000, 10_000];
/// Base classes are linked in chains of this length (the deepest nesting the other benches use).
const CHAIN: usize = 8;
/// Iterations timed for real per criterion call (see the module comment).
const REAL_PER_CALL: u64 = 256;

/// The base classes, grown to each size in turn.
struct Base {
    locks: Vec<Mutex<()>>,
}

impl Base {
    fn grow_to(&mut self, size: usize) {
        let first = self.locks.len();
        for i in first..size {
            self.locks.push(Mutex::with_class(
                leaked_class(format!("edge-base-{i}")),
                (),
            ));
        }
        // Nested in chains: base[k] -> base[k+1] -> ... within each chain.
        for chain in self.locks[first..].chunks(CHAIN) {
            let guards: Vec<_> = chain.iter().map(|m| m.lock()).collect();
            drop(guards.into_iter().rev().collect::<Vec<_>>());
        }
    }
}

/// Times `iters` first-time edges (at most `REAL_PER_CALL` of them for real).
fn new_edges(
    base: &[Mutex<()>],
    cursor: &mut usize,
    fresh_made: &mut usize,
    iters: u64,
) -> Duration {
    if iters == 0 {
        return Duration::ZERO;
    }
    let real = iters.min(REAL_PER_CALL);
    let before = stats();
    assert!(
        before.classes + (real as usize) < before.max_classes,
        "new_edge: the class table is nearly full ({} of {}); run fewer samples",
        before.classes,
        before.max_classes
    );
    let fresh: Vec<Mutex<()>> = (0..real)
        .map(|_| {
            *fresh_made += 1;
            Mutex::with_class(leaked_class(format!("edge-fresh-{fresh_made}")), ())
        })
        .collect();
    // Register the classes, untimed: a trylock with nothing held records no dependency.
    for lock in &fresh {
        drop(lock.try_lock());
    }

    let start = Instant::now();
    for held in &fresh {
        let acquired = &base[*cursor % base.len()];
        *cursor += 1;
        let _held = black_box(held).lock();
        let _acquired = black_box(acquired).lock();
    }
    let elapsed = start.elapsed();

    let added = stats().dependencies - before.dependencies;
    assert_eq!(
        added, real as usize,
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

fn new_edge(c: &mut Criterion) {
    let mut group = c.benchmark_group("new_edge");
    // Each call spends fresh classes: keep the number of calls modest. The measurement time is
    // short on purpose: `--quick` doubles the iteration count until it has spent that long in
    // wall-clock time (see the sleep in `new_edges`).
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(100))
        .measurement_time(Duration::from_millis(60));
    let mut base = Base { locks: Vec::new() };
    let (mut cursor, mut fresh_made) = (0, 0);

    for size in SIZES {
        base.grow_to(size);
        let at_start = stats();
        set_dependency_backtraces(false);
        group.bench_with_input(BenchmarkId::new("graph", size), &size, |b, &size| {
            b.iter_custom(|iters| {
                new_edges(&base.locks[..size], &mut cursor, &mut fresh_made, iters)
            })
        });
        set_dependency_backtraces(true);
        let at_end = stats();
        eprintln!(
            "new_edge/graph/{size}: graph had {} classes, {} nodes, {} edges at the start, {} \
             classes, {} nodes, {} edges at the end",
            at_start.classes,
            at_start.nodes,
            at_start.dependencies,
            at_end.classes,
            at_end.nodes,
            at_end.dependencies
        );
    }
    let size = *SIZES.last().expect("sizes");
    group.bench_with_input(
        BenchmarkId::new("with_backtrace", size),
        &size,
        |b, &size| {
            b.iter_custom(|iters| {
                new_edges(&base.locks[..size], &mut cursor, &mut fresh_made, iters)
            })
        },
    );
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
