//! A driver for counting the instructions of building (and dropping) locks under callgrind, as
//! `hotpath` does for acquisitions: `construct_count CASE ITERS` builds one case `ITERS` times
//! after one untimed round. Run it at two `ITERS` and divide the difference in instructions by
//! the difference in iterations:
//!
//! ```sh
//! cargo build --release -p benches --example construct_count
//! valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.%p target/release/examples/construct_count new 100000
//! ```
//!
//! Cases: `raw_new` / `raw_default` (`parking_lot::Mutex`), `new`, `default`, `named`,
//! `with_class`, `derived_2` (a derived `Default` of two `RwLock`s), `sync_new`,
//! `sync_default`, `once_lock_default`, `tokio_new` and `tokio_default` (lockdep's).

use lockdep_core::LockClass;
use std::hint::black_box;

static KEY: LockClass = LockClass::new("construct-count-key");

// Built to be dropped: the construction is what is counted.
#[allow(dead_code)]
#[derive(Default)]
struct State {
    numbers: lockdep_core::RwLock<Vec<u64>>,
    blocks: lockdep_core::RwLock<Vec<u64>>,
}

fn main() {
    let mut args = std::env::args().skip(1);
    let case = args.next().expect("usage: construct_count CASE ITERS");
    let iters: u64 = args
        .next()
        .expect("usage: construct_count CASE ITERS")
        .parse()
        .expect("ITERS");
    let run = |n: u64| {
        for _ in 0..n {
            match case.as_str() {
                "raw_new" => drop(black_box(parking_lot::Mutex::new(black_box(0u64)))),
                "raw_default" => drop(black_box(parking_lot::Mutex::<u64>::default())),
                "new" => drop(black_box(lockdep_core::Mutex::new(black_box(0u64)))),
                "default" => drop(black_box(lockdep_core::Mutex::<u64>::default())),
                "named" => drop(black_box(lockdep_core::Mutex::named(
                    "construct-count",
                    0u64,
                ))),
                "with_class" => drop(black_box(lockdep_core::Mutex::with_class(&KEY, 0u64))),
                "derived_2" => drop(black_box(State::default())),
                "sync_new" => drop(black_box(lockdep_core::sync::Mutex::new(black_box(0u64)))),
                "sync_default" => drop(black_box(lockdep_core::sync::Mutex::<u64>::default())),
                "once_lock_default" => {
                    drop(black_box(lockdep_core::sync::OnceLock::<u64>::default()))
                }
                "tokio_new" => drop(black_box(lockdep_core::tokio::Mutex::new(black_box(0u64)))),
                "tokio_default" => drop(black_box(lockdep_core::tokio::Mutex::<u64>::default())),
                other => panic!("unknown case {other}"),
            }
        }
    };
    run(1);
    run(iters);
}
