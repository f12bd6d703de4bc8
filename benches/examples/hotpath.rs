//! A driver for instruction counting under callgrind (the machine is too noisy for timings to
//! steer optimisation): `hotpath CASE ITERS` runs one case `ITERS` times after one untimed
//! round. Run it at two `ITERS` and divide the difference in instructions by the difference in
//! iterations to get instructions per iteration, start-up excluded (each case is its own loop,
//! so the figure is the case's and the loop's: about 3 instructions):
//!
//! ```sh
//! CARGO_TARGET_DIR=target-bench cargo build --release -p benches --example hotpath
//! valgrind --tool=callgrind --toggle-collect='*hotpath::repeat*' --callgrind-out-file=/tmp/cg.%p target-bench/release/examples/hotpath nested2 100000
//! ```
//!
//! (`--toggle-collect` counts the loops alone: in a debug build the process loads its symbols on
//! a thread of its own half a second after its first dependency, which a longer run would count.
//! The debug figures: the same with `cargo build -p benches --example hotpath` and
//! `target-bench/debug`.)
//!
//! Cases: `single`, `nested2`, `nested4`, `nested8`, `read`, `read_recursive`, `write`, `std_read`,
//! `std_single`, `std_nested2`, each for lockdep, and `raw_single`, `raw_nested2`, `raw_nested4`, `raw_nested8`,
//! `raw_read`, `raw_write` for parking_lot, `raw_std_single`, `raw_std_nested2`, `raw_std_read`
//! for std; `lazy` / `std_lazy` and
//! `once_lock` / `std_once_lock` read a completed cell, lockdep's and std's. `overflow_CASE` runs
//! `CASE` with MAX_LOCK_DEPTH + 8 guards leaked first (every acquisition is past the held-lock
//! stack); `overflow_leak_read_recursive` and `overflow_leak_std_read` leak every read as well
//! (std's max-readers test), of the lock filling the stack and of another one.

use benches::nest;
use lockdep_core::LockClass;
use std::hint::black_box;

static OUTER: LockClass = LockClass::new("hotpath-outer");
static INNER: LockClass = LockClass::new("hotpath-inner");

/// Runs `f` `n` times: one function per case, with the case's body inlined into its loop.
#[inline(never)]
fn repeat(n: u64, f: impl Fn()) {
    for _ in 0..n {
        f();
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let case = args.next().expect("usage: hotpath CASE ITERS");
    let iters: u64 = args
        .next()
        .expect("usage: hotpath CASE ITERS")
        .parse()
        .expect("ITERS");

    let a = lockdep_core::Mutex::with_class(&OUTER, 0u64);
    let b = lockdep_core::Mutex::with_class(&INNER, 0u64);
    let chain: Vec<lockdep_core::Mutex<u64>> = (0..8)
        .map(|i| lockdep_core::Mutex::named(&format!("hotpath-chain-{i}"), 0))
        .collect();
    let rw = lockdep_core::RwLock::new(0u64);
    let (ra, rb) = (parking_lot::Mutex::new(0u64), parking_lot::Mutex::new(0u64));
    let raw_chain: Vec<parking_lot::Mutex<u64>> =
        (0..8).map(|_| parking_lot::Mutex::new(0)).collect();
    let raw_rw = parking_lot::RwLock::new(0u64);
    let lazy = lockdep_core::sync::LazyLock::new(|| 7u64);
    let std_lazy = std::sync::LazyLock::new(|| 7u64);
    let (cell, std_cell) = (
        lockdep_core::sync::OnceLock::new(),
        std::sync::OnceLock::new(),
    );
    let std_rw = lockdep_core::sync::RwLock::new(0u64);
    let (sa, sb) = (
        lockdep_core::sync::Mutex::with_class(&OUTER, 0u64),
        lockdep_core::sync::Mutex::with_class(&INNER, 0u64),
    );
    let (rsa, rsb) = (std::sync::Mutex::new(0u64), std::sync::Mutex::new(0u64));
    let raw_std_rw = std::sync::RwLock::new(0u64);
    let leaked = lockdep_core::RwLock::new(0u64);
    let case = match case.strip_prefix("overflow_") {
        Some(rest) => {
            for _ in 0..lockdep_core::MAX_LOCK_DEPTH + 8 {
                std::mem::forget(leaked.read_recursive());
            }
            rest.to_string()
        }
        None => case,
    };

    // Each case is its own loop (`repeat` is never inlined, so every closure gets a copy of
    // it): the case is chosen once, and no case's code shares registers with another's.
    let run = |n: u64| match case.as_str() {
        "single" => repeat(n, || {
            *black_box(&a).lock() += 1;
        }),
        "nested2" => repeat(n, || {
            let _a = black_box(&a).lock();
            *black_box(&b).lock() += 1;
        }),
        // `nest!` (the other benches' chain) releases innermost first.
        "nested4" => repeat(n, || {
            nest!(&chain, 4, |m| m.lock());
        }),
        "nested8" => repeat(n, || {
            nest!(&chain, 8, |m| m.lock());
        }),
        "read" => repeat(n, || {
            black_box(*black_box(&rw).read());
        }),
        "read_recursive" => repeat(n, || {
            black_box(*black_box(&rw).read_recursive());
        }),
        "write" => repeat(n, || {
            *black_box(&rw).write() += 1;
        }),
        "std_read" => repeat(n, || {
            black_box(*black_box(&std_rw).read().unwrap());
        }),
        "std_single" => repeat(n, || {
            *black_box(&sa).lock().unwrap() += 1;
        }),
        "std_nested2" => repeat(n, || {
            let _a = black_box(&sa).lock().unwrap();
            *black_box(&sb).lock().unwrap() += 1;
        }),
        "raw_std_single" => repeat(n, || {
            *black_box(&rsa).lock().unwrap() += 1;
        }),
        "raw_std_nested2" => repeat(n, || {
            let _a = black_box(&rsa).lock().unwrap();
            *black_box(&rsb).lock().unwrap() += 1;
        }),
        "raw_std_read" => repeat(n, || {
            black_box(*black_box(&raw_std_rw).read().unwrap());
        }),
        // With `overflow_`: a read of the very lock whose leaked reads fill the stack.
        "leaked_read_recursive" => repeat(n, || {
            black_box(*black_box(&leaked).read_recursive());
        }),
        // std's max-readers test: every read of the one lock is leaked.
        "leak_read_recursive" => repeat(n, || {
            std::mem::forget(black_box(&leaked).read_recursive());
        }),
        "leak_std_read" => repeat(n, || {
            std::mem::forget(black_box(&std_rw).read().unwrap());
        }),
        "raw_single" => repeat(n, || {
            *black_box(&ra).lock() += 1;
        }),
        "raw_nested4" => repeat(n, || {
            nest!(&raw_chain, 4, |m| m.lock());
        }),
        "raw_nested8" => repeat(n, || {
            nest!(&raw_chain, 8, |m| m.lock());
        }),
        "raw_read" => repeat(n, || {
            black_box(*black_box(&raw_rw).read());
        }),
        "raw_write" => repeat(n, || {
            *black_box(&raw_rw).write() += 1;
        }),
        "raw_nested2" => repeat(n, || {
            let _a = black_box(&ra).lock();
            *black_box(&rb).lock() += 1;
        }),
        "lazy" => repeat(n, || {
            _ = black_box(**black_box(&lazy));
        }),
        "std_lazy" => repeat(n, || {
            _ = black_box(**black_box(&std_lazy));
        }),
        "once_lock" => repeat(n, || {
            _ = black_box(*black_box(&cell).get_or_init(|| 7u64));
        }),
        "std_once_lock" => repeat(n, || {
            _ = black_box(*black_box(&std_cell).get_or_init(|| 7u64));
        }),
        other => panic!("unknown case {other}"),
    };
    run(1);
    run(iters);
}
