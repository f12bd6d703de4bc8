//! The hot-path figures measured the second way (criterion and a plain loop can disagree on a
//! shared machine, see RESULTS.md): for each case, rounds alternate the raw lock, lockdep and
//! tracing-mutex in one process, each timing a plain loop; the table gives the median time of
//! each and the median of the per-round ratios.
//!
//! ```sh
//! cargo run --release -p benches --example interleaved            # 15 rounds
//! cargo run --release -p benches --example interleaved -- 31      # more rounds
//! cargo run --release -p benches --example interleaved -- 15 nested_2 single   # some cases
//! cargo run --release -p benches --example interleaved -- --loaded 15   # the loaded regime
//! ```
//!
//! `--loaded` (anywhere on the line) runs the same rounds with a spinning thread on every other
//! CPU, the measuring thread pinned to one (see `benches::load`): the regime of a shared runner,
//! reported beside the idle one.
//!
//! Cases: an uncontended lock+unlock (`single`); `nested_N`, N locks taken in a known order
//! (validated in the untimed warm-up, then found in lockdep's per-thread chain cache) and
//! released innermost first, per iteration of all N; `rw_read` / `rw_write` on a `RwLock`;
//! `overflow_mutex` / `overflow_read`, an acquisition on a thread that leaked `MAX_LOCK_DEPTH`
//! (48) read guards first (std's max-readers test), so every lock it takes is past the
//! held-lock stack (`overflow_read` reads the very lock whose reads fill the stack); `new` and
//! `default`, building (and dropping) a `Mutex<u64>`; `std_single` / `std_nested_2`, the
//! `std::sync` flavour against raw `std::sync::Mutex` (in the parking_lot column).
//!
//! The overflow cases run on a thread of their own (the leaked guards stay on its stack for
//! good), raw and lockdep alike, so that both sides of each ratio ran on the same thread.

use benches::load::{Load, Measuring};
use benches::{median, nest, timed, CHAIN_CLASSES};
use lockdep_core::MAX_LOCK_DEPTH;
use std::hint::black_box;
use std::sync::mpsc;
use std::time::Duration;

const DEFAULT_ROUNDS: usize = 15;

/// One way of running a case: `run(iters)` times `iters` iterations itself and returns the time.
struct Variant<'a> {
    run: Box<dyn FnMut(u64) -> Duration + 'a>,
}

/// A case: its variants, the first being the raw baseline, and the iterations of one run.
struct Case<'a> {
    name: &'static str,
    iters: u64,
    variants: Vec<Variant<'a>>,
}

/// A variant; `name` says which column of the table it fills (parking_lot, lockdep,
/// tracing_mutex, in that order).
fn variant<'a>(name: &'static str, run: impl FnMut(u64) -> Duration + 'a) -> Variant<'a> {
    let _ = name;
    Variant { run: Box::new(run) }
}

/// What the overflow thread is asked to run: (variant index, iterations).
type Request = (usize, u64);

/// The thread whose held-lock stack is full: it leaks `MAX_LOCK_DEPTH` read guards of one
/// lockdep rwlock, then runs the overflow variants on request.
fn overflow_thread(
    requests: mpsc::Receiver<Request>,
    replies: mpsc::Sender<Duration>,
    measuring: Option<Measuring>,
) {
    // Loaded: measured on the main thread's CPU (which waits meanwhile), not on a spinner's.
    if let Some(measuring) = measuring {
        measuring.pin_here();
    }
    let raw = parking_lot::Mutex::new(0u64);
    let raw_rw = parking_lot::RwLock::new(0u64);
    let mutex = lockdep_core::Mutex::new(0u64);
    let leaked = lockdep_core::RwLock::new(0u64);
    for _ in 0..MAX_LOCK_DEPTH {
        std::mem::forget(leaked.read_recursive());
    }
    // The raw rwlock is read-held as often, so that its reads take the same (shared) path.
    for _ in 0..MAX_LOCK_DEPTH {
        std::mem::forget(raw_rw.read_recursive());
    }
    for (which, iters) in requests {
        let time = match which {
            0 => timed(iters, || *black_box(&raw).lock() += 1),
            1 => timed(iters, || *black_box(&mutex).lock() += 1),
            2 => timed(iters, || _ = *black_box(&raw_rw).read_recursive()),
            3 => timed(iters, || _ = *black_box(&leaked).read_recursive()),
            _ => unreachable!("four overflow variants"),
        };
        replies
            .send(time)
            .expect("the main thread waits for each reply");
    }
}

fn main() {
    let (flags, mut args): (Vec<String>, Vec<String>) =
        std::env::args().skip(1).partition(|a| a.starts_with("--"));
    let loaded = match flags.as_slice() {
        [] => false,
        [flag] if flag == "--loaded" => true,
        _ => panic!("usage: interleaved [--loaded] [ROUNDS [CASE...]]"),
    };
    let rounds: usize = if args.is_empty() {
        DEFAULT_ROUNDS
    } else {
        args.remove(0)
            .parse()
            .expect("usage: interleaved [--loaded] [ROUNDS [CASE...]]")
    };
    let only = args;
    let load = loaded.then(Load::start);

    let raw = parking_lot::Mutex::new(0u64);
    let lockdep = lockdep_core::Mutex::new(0u64);
    let tracing = tracing_mutex::parkinglot::tracing::Mutex::new(0u64);
    let raw_chain: Vec<parking_lot::Mutex<()>> =
        (0..8).map(|_| parking_lot::Mutex::new(())).collect();
    let lockdep_chain: Vec<lockdep_core::Mutex<()>> = CHAIN_CLASSES
        .iter()
        .map(|class| lockdep_core::Mutex::with_class(class, ()))
        .collect();
    let tracing_chain: Vec<tracing_mutex::parkinglot::tracing::Mutex<()>> = (0..8)
        .map(|_| tracing_mutex::parkinglot::tracing::Mutex::new(()))
        .collect();
    let raw_std = std::sync::Mutex::new(0u64);
    let lockdep_std = lockdep_core::sync::Mutex::new(0u64);
    let raw_std_chain: Vec<std::sync::Mutex<()>> =
        (0..2).map(|_| std::sync::Mutex::new(())).collect();
    let lockdep_std_chain: Vec<lockdep_core::sync::Mutex<()>> = CHAIN_CLASSES[..2]
        .iter()
        .map(|class| lockdep_core::sync::Mutex::with_class(class, ()))
        .collect();
    let raw_rw = parking_lot::RwLock::new(0u64);
    let lockdep_rw = lockdep_core::RwLock::new(0u64);
    let tracing_rw = tracing_mutex::parkinglot::tracing::RwLock::new(0u64);

    let (request_tx, request_rx) = mpsc::channel::<Request>();
    let (reply_tx, reply_rx) = mpsc::channel::<Duration>();
    let measuring = load.as_ref().map(Load::measuring);
    let worker = std::thread::spawn(move || overflow_thread(request_rx, reply_tx, measuring));
    let overflow = |which: usize| {
        let (request_tx, reply_rx) = (&request_tx, &reply_rx);
        move |iters: u64| {
            request_tx
                .send((which, iters))
                .expect("the overflow thread runs");
            reply_rx.recv().expect("the overflow thread replies")
        }
    };

    let mut cases = vec![Case {
        name: "single",
        iters: 2_000_000,
        variants: vec![
            variant("parking_lot", |n| timed(n, || *black_box(&raw).lock() += 1)),
            variant("lockdep", |n| timed(n, || *black_box(&lockdep).lock() += 1)),
            variant("tracing_mutex", |n| {
                timed(n, || *black_box(&tracing).lock() += 1)
            }),
        ],
    }];
    for (name, depth, iters) in [
        ("nested_2", 2, 1_000_000),
        ("nested_4", 4, 500_000),
        ("nested_8", 8, 250_000),
    ] {
        let (raw, lockdep, tracing) = (
            &raw_chain[..depth],
            &lockdep_chain[..depth],
            &tracing_chain[..depth],
        );
        cases.push(Case {
            name,
            iters,
            variants: vec![
                variant("parking_lot", move |n| {
                    timed(n, || nest!(raw, depth, |m| m.lock()))
                }),
                variant("lockdep", move |n| {
                    timed(n, || nest!(lockdep, depth, |m| m.lock()))
                }),
                variant("tracing_mutex", move |n| {
                    timed(n, || nest!(tracing, depth, |m| m.lock()))
                }),
            ],
        });
    }
    // The `std::sync` flavour against raw `std::sync` (in the parking_lot column).
    cases.push(Case {
        name: "std_single (raw: std)",
        iters: 2_000_000,
        variants: vec![
            variant("std", |n| {
                timed(n, || *black_box(&raw_std).lock().unwrap() += 1)
            }),
            variant("lockdep", |n| {
                timed(n, || *black_box(&lockdep_std).lock().unwrap() += 1)
            }),
        ],
    });
    cases.push(Case {
        name: "std_nested_2 (raw: std)",
        iters: 1_000_000,
        variants: vec![
            variant("std", |n| {
                timed(n, || nest!(&raw_std_chain, 2, |m| m.lock().unwrap()))
            }),
            variant("lockdep", |n| {
                timed(n, || nest!(&lockdep_std_chain, 2, |m| m.lock().unwrap()))
            }),
        ],
    });
    cases.push(Case {
        name: "rw_read",
        iters: 2_000_000,
        variants: vec![
            variant("parking_lot", |n| {
                timed(n, || _ = *black_box(&raw_rw).read())
            }),
            variant("lockdep", |n| {
                timed(n, || _ = *black_box(&lockdep_rw).read())
            }),
            variant("tracing_mutex", |n| {
                timed(n, || _ = *black_box(&tracing_rw).read())
            }),
        ],
    });
    cases.push(Case {
        name: "rw_write",
        iters: 2_000_000,
        variants: vec![
            variant("parking_lot", |n| {
                timed(n, || *black_box(&raw_rw).write() += 1)
            }),
            variant("lockdep", |n| {
                timed(n, || *black_box(&lockdep_rw).write() += 1)
            }),
            variant("tracing_mutex", |n| {
                timed(n, || *black_box(&tracing_rw).write() += 1)
            }),
        ],
    });
    cases.push(Case {
        name: "overflow_mutex",
        iters: 2_000_000,
        variants: vec![
            variant("parking_lot", overflow(0)),
            variant("lockdep", overflow(1)),
        ],
    });
    cases.push(Case {
        name: "overflow_read",
        iters: 2_000_000,
        variants: vec![
            variant("parking_lot", overflow(2)),
            variant("lockdep", overflow(3)),
        ],
    });
    cases.push(Case {
        name: "new",
        iters: 2_000_000,
        variants: vec![
            variant("parking_lot", |n| {
                timed(n, || {
                    _ = black_box(parking_lot::Mutex::new(black_box(0u64)))
                })
            }),
            variant("lockdep", |n| {
                timed(n, || {
                    _ = black_box(lockdep_core::Mutex::new(black_box(0u64)))
                })
            }),
        ],
    });
    cases.push(Case {
        name: "default",
        iters: 500_000,
        variants: vec![
            variant("parking_lot", |n| {
                timed(n, || _ = black_box(parking_lot::Mutex::<u64>::default()))
            }),
            variant("lockdep", |n| {
                timed(n, || _ = black_box(lockdep_core::Mutex::<u64>::default()))
            }),
        ],
    });

    if !only.is_empty() {
        cases.retain(|case| {
            only.iter()
                .any(|name| case.name.split(' ').next() == Some(name))
        });
    }
    // Warm-up, untimed: validates every lockdep order once, fills caches.
    for case in &mut cases {
        for v in &mut case.variants {
            (v.run)(case.iters / 10);
        }
    }

    println!(
        "{rounds} rounds, variants alternating (order reversed every other round); ns per \
         iteration (median), ratios: median of the per-round ratios"
    );
    println!("{}", benches::load::regime(load.as_ref()));
    println!();
    // The last column bounds the one before it: lockdep takes the raw lock too, so tracing-mutex
    // ÷ lockdep can never exceed tracing-mutex ÷ parking_lot on the machine measured.
    println!(
        "| case | parking_lot | lockdep | tracing-mutex | lockdep ÷ parking_lot | tracing-mutex \
         ÷ lockdep | bound: tracing-mutex ÷ parking_lot |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for case in &mut cases {
        let n = case.variants.len();
        let mut times: Vec<Vec<f64>> = vec![Vec::new(); n];
        for round in 0..rounds {
            let order: Vec<usize> = if round % 2 == 0 {
                (0..n).collect()
            } else {
                (0..n).rev().collect()
            };
            for i in order {
                let t = (case.variants[i].run)(case.iters);
                times[i].push(t.as_nanos() as f64 / case.iters as f64);
            }
        }
        let ratio =
            |a: usize, b: usize| median((0..rounds).map(|r| times[a][r] / times[b][r]).collect());
        let time = |i: usize| match times.get(i) {
            Some(t) => format!("{:.2} ns", median(t.clone())),
            None => "–".to_string(),
        };
        let (against_tracing, bound) = if n > 2 {
            (
                format!("{:.2}×", ratio(2, 1)),
                format!("{:.2}×", ratio(2, 0)),
            )
        } else {
            ("–".to_string(), "–".to_string())
        };
        println!(
            "| {} | {} | {} | {} | {:.2}× | {} | {} |",
            case.name,
            time(0),
            time(1),
            time(2),
            ratio(1, 0),
            against_tracing,
            bound
        );
    }
    drop(cases);
    drop(request_tx);
    worker.join().expect("the overflow thread ends cleanly");
    drop(load);
}
