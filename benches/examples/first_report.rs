//! The cost of a process's first report while the reporting thread still holds its locks: the
//! time from the acquisition that closes an ABBA cycle to the handler call (`handler` mode) or
//! to the start of the panic (`panic` mode: the panic hook's first line), and, in the `warn`
//! mode, until the acquisition returns after printing the report (stderr, which resolves the
//! stacks: the only mode whose delivery itself formats the report).
//!
//! Each measurement is the first report of a fresh process (the costs of a first report —
//! symbol tables, DWARF — are paid once per process), so the program runs itself once per
//! sample:
//!
//! ```text
//! cargo run --release -p benches --example first_report -- [SAMPLES]
//! ```
//!
//! It prints, per mode, the median and the worst of SAMPLES runs (default 9) in milliseconds.
//! `panic-later` is the `panic` mode with the report 3 s after the first dependency.

use lockdep_core::{Mode, Mutex};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Nanoseconds from the acquisition to the delivery, written by the handler or the hook.
static DELIVERED_NS: AtomicU64 = AtomicU64::new(0);

/// One sample, in this (child) process: prints the delay in nanoseconds.
fn child(mode: &str) {
    let a = Mutex::named("first-report-a", ());
    let b = Mutex::named("first-report-b", ());
    drop((a.lock(), b.lock()));
    // `panic-later`: the report comes 3 s after the process's first dependency, by when the
    // symbols lockdep starts loading at that first dependency are loaded (a test suite whose
    // first report is not in its first milliseconds).
    let mode = match mode {
        "panic-later" => {
            std::thread::sleep(std::time::Duration::from_secs(3));
            "panic"
        }
        mode => mode,
    };
    let start = Instant::now();
    let elapsed = move || start.elapsed().as_nanos() as u64;
    match mode {
        "handler" => {
            lockdep_core::set_handler(move |_| {
                DELIVERED_NS.store(start.elapsed().as_nanos() as u64, Ordering::Relaxed);
            });
            let _b = b.lock();
            // The handler runs inside this acquisition.
            drop(a.lock());
        }
        "panic" => {
            lockdep_core::set_mode(Mode::Panic);
            std::panic::set_hook(Box::new(move |_| {
                DELIVERED_NS.store(start.elapsed().as_nanos() as u64, Ordering::Relaxed);
            }));
            let _b = b.lock();
            let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(a.lock())));
            assert!(caught.is_err(), "the inversion must panic");
        }
        "warn" => {
            lockdep_core::set_mode(Mode::Warn);
            let _b = b.lock();
            drop(a.lock());
            DELIVERED_NS.store(elapsed(), Ordering::Relaxed);
        }
        other => panic!("unknown mode {other}"),
    }
    let ns = DELIVERED_NS.load(Ordering::Relaxed);
    assert!(ns > 0, "no report was delivered");
    println!("{ns}");
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, mode] = args.as_slice() {
        if flag == "--child" {
            return child(mode);
        }
    }
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("usage: first_report [SAMPLES]   (each sample is a fresh process)");
        return;
    }
    let samples: usize = args.first().and_then(|s| s.parse().ok()).unwrap_or(9);
    let exe = std::env::current_exe().expect("this program's path");
    println!(
        "first report of a process, from the acquisition to its delivery ({samples} runs each)"
    );
    for mode in ["handler", "panic", "panic-later", "warn"] {
        let mut ms: Vec<f64> = (0..samples)
            .map(|_| {
                let out = Command::new(&exe)
                    .args(["--child", mode])
                    .env_remove("LOCKDEP")
                    .output()
                    .expect("run a sample");
                assert!(
                    out.status.success(),
                    "{mode}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                let ns: u64 = String::from_utf8_lossy(&out.stdout)
                    .trim()
                    .parse()
                    .expect("a sample prints its nanoseconds");
                ns as f64 / 1e6
            })
            .collect();
        ms.sort_by(f64::total_cmp);
        println!(
            "{mode:>11}: median {:8.3} ms, worst {:8.3} ms",
            ms[ms.len() / 2],
            ms[ms.len() - 1]
        );
    }
}
