//! How close lockdep's validated path is to the floor *on the machine at hand*: we measured
//! a throwaway prototype of the same bookkeeping (a thread-local held stack, one chain-key step,
//! one direct-mapped thread-local cache probe, nothing else) at 0.99× raw `parking_lot` on one
//! host, but what that bookkeeping costs next to the lock's atomics differs from one core to
//! the next (RESULTS.md: 1.1× and more on an Intel host). This example keeps
//! that prototype, as a `lock_api` raw mutex over `parking_lot`'s, and times raw `parking_lot`,
//! the prototype and lockdep in alternating rounds in one process (as `interleaved` does), so a
//! reader can tell lockdep's own overhead (lockdep ÷ prototype) from the machine's (prototype ÷
//! raw).
//!
//! ```sh
//! cargo run --release -p benches --example floor          # 15 rounds
//! cargo run --release -p benches --example floor -- 31    # more rounds
//! ```
//!
//! The instructions of one run, for callgrind (deterministic where the timings are not): `count
//! CASE WHO ITERS` runs only that case's run of `WHO` (`parking_lot`, `prototype`, `lockdep`),
//! ITERS iterations inside `floor::repeat`; the difference between two ITERS, divided by
//! theirs, is the per-iteration count.
//!
//! ```sh
//! valgrind --tool=callgrind --toggle-collect='*floor::repeat*' \
//!     target/release/examples/floor count single prototype 10000   # then 20000
//! ```
//!
//! The prototype validates nothing: its cache is filled on the first acquisition of each chain
//! (where lockdep would search its graph) and it does not record reports, locations, access
//! kinds or overflow. It is the least any validator of this design does on a known chain, not a
//! validator.

use benches::{median, nest, timed, CHAIN_CLASSES};
use parking_lot::lock_api::{self, GuardNoSend, RawMutex};
use std::cell::UnsafeCell;
use std::hint::black_box;
use std::time::Duration;

const DEFAULT_ROUNDS: usize = 15;
/// The prototype's stack depth (the cases nest at most 8 locks).
const DEPTH: usize = 8;
const SLOTS: usize = 256;

/// The prototype's per-thread state: what lockdep's `ThreadState` holds on the hot path.
struct Proto {
    depth: usize,
    /// `keys[d]`: the chain key of the bottom `d` held locks.
    keys: [u64; DEPTH + 1],
    held: [usize; DEPTH],
    cache: [u64; SLOTS],
}

thread_local! {
    static PROTO: UnsafeCell<Proto> = const {
        UnsafeCell::new(Proto {
            depth: 0,
            keys: [0x6c6f_636b_6465_7021; DEPTH + 1],
            held: [0; DEPTH],
            cache: [0; SLOTS],
        })
    };
}

/// The same chain step as lockdep's (`held.rs`), so the comparison is of everything else.
#[inline(always)]
fn chain_step(prev: u64, descriptor: u64) -> u64 {
    let mut h = (prev ^ descriptor).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 31;
    h.wrapping_mul(0x94d0_49bb_1331_11eb) ^ (h >> 29)
}

#[inline(always)]
fn proto() -> *mut Proto {
    PROTO.with(|p| p.get())
}

/// `parking_lot`'s raw mutex with the prototype's bookkeeping; `class` stands for the class id
/// lockdep resolves from the lock's class cell.
struct ProtoRaw {
    class: u64,
    raw: parking_lot::RawMutex,
}

/// A chain seen for the first time: where lockdep searches its graph, the prototype only
/// caches the key.
#[cold]
#[inline(never)]
fn first_time(key: u64) {
    // SAFETY: thread-local, and no other reference to it is live here.
    unsafe { (*proto()).cache[(key >> 1) as usize % SLOTS] = key };
}

// SAFETY: locking and unlocking are `parking_lot`'s; the bookkeeping only touches this thread's
// state.
unsafe impl RawMutex for ProtoRaw {
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: ProtoRaw = ProtoRaw {
        class: 0,
        raw: parking_lot::RawMutex::INIT,
    };
    type GuardMarker = GuardNoSend;

    #[inline(always)]
    fn lock(&self) {
        let p = proto();
        // SAFETY: thread-local; the reference ends before anything else can reach it.
        let (depth, key) = unsafe {
            let depth = (*p).depth.min(DEPTH - 1);
            (depth, chain_step((*p).keys[depth], self.class))
        };
        // SAFETY: as above.
        if depth > 0 && unsafe { (*p).cache[(key >> 1) as usize % SLOTS] } != key {
            first_time(key);
        }
        self.raw.lock();
        // SAFETY: as above; `depth < DEPTH`.
        unsafe {
            (*p).held[depth] = self as *const ProtoRaw as usize;
            (*p).keys[depth + 1] = key;
            (*p).depth = depth + 1;
        }
    }

    fn try_lock(&self) -> bool {
        self.raw.try_lock()
    }

    #[inline(always)]
    unsafe fn unlock(&self) {
        let p = proto();
        // SAFETY: thread-local, as in `lock`.
        let top = unsafe {
            let top = (*p).depth.wrapping_sub(1);
            (top < DEPTH && (*p).held[top] == self as *const ProtoRaw as usize).then_some(top)
        };
        // SAFETY: the caller holds the lock.
        unsafe { self.raw.unlock() };
        if let Some(top) = top {
            // SAFETY: as above.
            unsafe { (*p).depth = top };
        }
    }
}

type ProtoMutex<T> = lock_api::Mutex<ProtoRaw, T>;

fn proto_mutex<T>(class: u64, value: T) -> ProtoMutex<T> {
    ProtoMutex::from_raw(
        ProtoRaw {
            class,
            raw: parking_lot::RawMutex::INIT,
        },
        value,
    )
}

/// A case: raw, prototype and lockdep runs of `iters` iterations each.
type Runs<'a> = [Box<dyn FnMut(u64) -> Duration + 'a>; 3];

/// `count CASE WHO ITERS`: one run, warmed up, then ITERS iterations inside [`repeat`].
fn count_one(cases: &mut [(&str, u64, Runs)], args: &[String]) {
    const USAGE: &str = "usage: floor count CASE WHO ITERS (CASE: single, nested_2, nested_4, \
                         nested_8; WHO: parking_lot, prototype, lockdep)";
    let [case, who, iters] = args else {
        panic!("{USAGE}")
    };
    let who = ["parking_lot", "prototype", "lockdep"]
        .iter()
        .position(|w| w == who)
        .expect(USAGE);
    let iters: u64 = iters.parse().expect(USAGE);
    let (_, _, runs) = cases
        .iter_mut()
        .find(|(name, ..)| name == case)
        .expect(USAGE);
    // Every chain seen (and cached) once, as in the timed rounds.
    runs[who](100);
    repeat(iters, &mut runs[who]);
}

/// The counted iterations, a function of their own for callgrind's `--toggle-collect`.
#[inline(never)]
fn repeat(iters: u64, run: &mut dyn FnMut(u64) -> Duration) {
    black_box(run(iters));
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let count = args.first().is_some_and(|a| a == "count");
    let rounds: usize = if count {
        0
    } else {
        args.first()
            .map(|n| {
                n.parse()
                    .expect("usage: floor [ROUNDS] | floor count CASE WHO ITERS")
            })
            .unwrap_or(DEFAULT_ROUNDS)
    };

    let raw: Vec<parking_lot::Mutex<u64>> =
        (0..DEPTH).map(|_| parking_lot::Mutex::new(0)).collect();
    // Class ids as lockdep's nodes look (small multiples of 8).
    let proto: Vec<ProtoMutex<u64>> = (0..DEPTH)
        .map(|i| proto_mutex(8 * (i as u64 + 1), 0))
        .collect();
    let lockdep: Vec<lockdep_core::Mutex<u64>> = CHAIN_CLASSES
        .iter()
        .map(|class| lockdep_core::Mutex::with_class(class, 0))
        .collect();

    let mut cases: Vec<(&str, u64, Runs)> = vec![(
        "single",
        2_000_000,
        [
            Box::new(|n| timed(n, || *black_box(&raw[0]).lock() += 1)),
            Box::new(|n| timed(n, || *black_box(&proto[0]).lock() += 1)),
            Box::new(|n| timed(n, || *black_box(&lockdep[0]).lock() += 1)),
        ],
    )];
    for (name, depth, iters) in [
        ("nested_2", 2, 1_000_000),
        ("nested_4", 4, 500_000),
        ("nested_8", 8, 250_000),
    ] {
        let (raw, proto, lockdep) = (&raw[..depth], &proto[..depth], &lockdep[..depth]);
        cases.push((
            name,
            iters,
            [
                Box::new(move |n| timed(n, || nest!(raw, depth, |m| m.lock()))),
                Box::new(move |n| timed(n, || nest!(proto, depth, |m| m.lock()))),
                Box::new(move |n| timed(n, || nest!(lockdep, depth, |m| m.lock()))),
            ],
        ));
    }
    if count {
        count_one(&mut cases, &args[1..]);
        return;
    }
    // Warm-up, untimed: every chain is seen (and cached) once.
    for (_, iters, runs) in &mut cases {
        for run in runs.iter_mut() {
            run(*iters / 10);
        }
    }

    println!(
        "{rounds} rounds, raw parking_lot, the prototype and lockdep alternating (order reversed \
         every other round); ns per iteration (median), ratios: median of the per-round ratios"
    );
    println!();
    println!(
        "| case | parking_lot | prototype | lockdep | prototype ÷ parking_lot | lockdep ÷ \
         parking_lot | lockdep ÷ prototype |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (name, iters, runs) in &mut cases {
        let mut times: [Vec<f64>; 3] = Default::default();
        for round in 0..rounds {
            let order = if round % 2 == 0 { [0, 1, 2] } else { [2, 1, 0] };
            for i in order {
                let t = runs[i](*iters);
                times[i].push(t.as_nanos() as f64 / *iters as f64);
            }
        }
        let ratio =
            |a: usize, b: usize| median((0..rounds).map(|r| times[a][r] / times[b][r]).collect());
        println!(
            "| {name} | {:.2} ns | {:.2} ns | {:.2} ns | {:.2}× | {:.2}× | {:.2}× |",
            median(times[0].clone()),
            median(times[1].clone()),
            median(times[2].clone()),
            ratio(1, 0),
            ratio(2, 0),
            ratio(2, 1),
        );
    }
}
