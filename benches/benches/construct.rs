//! Building locks: `new` (a creation-site class, nothing computed) against `Default` (a few
//! caller frames walked, unresolved, to tell the fields of a derived `default()` apart; see
//! `lockdep-core/src/default_class/`), and against raw `parking_lot`.
//!
//! Every timed iteration builds and drops the locks; the class itself is interned once, before
//! timing (criterion's warm-up), so what is timed is the per-construction cost a program pays.

// `criterion_group!` generates undocumented functions.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::sync::Arc;

// Built to be dropped: the construction is what is timed.
#[allow(dead_code)]
#[derive(Default)]
struct RawState {
    numbers: parking_lot::RwLock<Vec<u64>>,
    blocks: parking_lot::RwLock<Vec<u64>>,
}

// Built to be dropped: the construction is what is timed.
#[allow(dead_code)]
#[derive(Default)]
struct State {
    numbers: lockdep_core::RwLock<Vec<u64>>,
    blocks: lockdep_core::RwLock<Vec<u64>>,
}

// Built to be dropped: the construction is what is timed.
#[allow(dead_code)]
#[derive(Default)]
struct ArcState {
    numbers: Arc<lockdep_core::RwLock<Vec<u64>>>,
    blocks: Arc<lockdep_core::RwLock<Vec<u64>>>,
}

fn construct(c: &mut Criterion) {
    let mut group = c.benchmark_group("construct");

    group.bench_function("parking_lot_default", |b| {
        b.iter(|| black_box(parking_lot::Mutex::<u64>::default()))
    });
    group.bench_function("lockdep_new", |b| {
        b.iter(|| black_box(lockdep_core::Mutex::new(black_box(0u64))))
    });
    group.bench_function("lockdep_default", |b| {
        b.iter(|| black_box(lockdep_core::Mutex::<u64>::default()))
    });
    // Two locks per iteration.
    group.bench_function("parking_lot_derived_2", |b| {
        b.iter(|| black_box(RawState::default()))
    });
    group.bench_function("lockdep_derived_2", |b| {
        b.iter(|| black_box(State::default()))
    });
    // Two `Arc::default()` per iteration: a site inside the standard library, walked up to the
    // user frame (resolved once per return address, then a cache lookup).
    group.bench_function("lockdep_arc_default_2", |b| {
        b.iter(|| black_box(ArcState::default()))
    });

    group.finish();
}

criterion_group!(benches, construct);
criterion_main!(benches);
