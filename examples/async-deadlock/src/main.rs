//! An async deadlock, found by lockdep from a run that never hung.
//!
//! A small bank service keeps its accounts and its audit log behind tokio locks
//! (`lockdep_core::tokio::Mutex`). Two handlers take them in opposite orders:
//!
//! * `transfer` locks the accounts, moves the money, then appends to the audit log while still
//!   holding the accounts (so the entry and the balances agree);
//! * `export_audit` locks the audit log to flush it, and under it reads the balances for the
//!   export's footer.
//!
//! The handlers are spawned with plain `tokio::spawn`, as a service spawns them: the only line
//! that names lockdep is the locks' `use` line (`lockdep_core::tokio::Mutex` for
//! `tokio::sync::Mutex`), and every tokio task is checked however it was spawned.
//!
//! Run one after the other, neither ever waits for the other, yet lockdep reports the cycle
//! `accounts -> audit_log -> accounts`. Under load the two interleave, each task holding one
//! lock and waiting for the other, and the service goes quiet: no thread is stuck anywhere, so
//! there is nothing to see in a debugger.
//!
//! ```sh
//! cargo run -p async-deadlock                       # the report, from a run that never hung
//! cargo run -p async-deadlock -- --scenario fixed   # export_audit takes the accounts first: clean
//! cargo run -p async-deadlock -- --scenario deadlock  # the race: lockdep on, then off (hangs)
//! ```
//!
//! Exit status: 0 the scenario behaved as described; 1 it did not; 2 bad command line; 3 the
//! deadlock scenario hung with checking off, as it should (the watchdog ended it).

use lockdep_core::tokio::Mutex;
use lockdep_core::{Mode, Report, ReportKind};
use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::{Arc, Mutex as StdMutex, PoisonError};
use std::time::Duration;
use tokio::sync::Barrier;

/// The service's state: two async locks, of the classes `accounts` and `audit_log`.
struct Bank {
    accounts: Mutex<BTreeMap<&'static str, i64>>,
    audit: Mutex<Vec<String>>,
}

impl Bank {
    fn new() -> Arc<Bank> {
        Arc::new(Bank {
            accounts: Mutex::named("accounts", BTreeMap::from([("alice", 100), ("bob", 50)])),
            audit: Mutex::named("audit_log", Vec::new()),
        })
    }
}

/// Where the handlers meet in the deadlock scenario: each holds its first lock there, so both
/// then wait for the other's. `None`: run without waiting for anyone.
type Meet = Option<Arc<Barrier>>;

async fn meet(point: &Meet) {
    if let Some(barrier) = point {
        barrier.wait().await;
    }
}

/// Handler 1: accounts, then the audit log.
async fn transfer(bank: &Bank, from: &'static str, to: &'static str, amount: i64, point: &Meet) {
    let mut accounts = bank.accounts.lock().await;
    *accounts.entry(from).or_default() -= amount;
    *accounts.entry(to).or_default() += amount;
    meet(point).await;
    waiting("transfer", "accounts", "audit_log");
    bank.audit
        .lock()
        .await
        .push(format!("transfer {amount} from {from} to {to}"));
    done("transfer");
}

/// Handler 2 (the bug): the audit log, then the accounts under it.
async fn export_audit(bank: &Bank, point: &Meet) -> String {
    let mut audit = bank.audit.lock().await;
    meet(point).await;
    waiting("export_audit", "audit_log", "accounts");
    let total: i64 = bank.accounts.lock().await.values().sum();
    done("export_audit");
    let export = format!("{} entries, total {total}", audit.len());
    audit.clear();
    export
}

/// Handler 2 fixed: the same order as `transfer` (accounts, then the audit log).
async fn export_audit_fixed(bank: &Bank) -> String {
    let accounts = bank.accounts.lock().await;
    let mut audit = bank.audit.lock().await;
    let total: i64 = accounts.values().sum();
    let export = format!("{} entries, total {total}", audit.len());
    audit.clear();
    export
}

/// Who waits for what: the watchdog's table. Plain `std` locks, so the instruments stay out of
/// the graph they observe.
static WAITING: StdMutex<Vec<String>> = StdMutex::new(Vec::new());

fn waiting(task: &str, holds: &str, wants: &str) {
    WAITING
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(format!("task '{task}' holds {holds} and waits for {wants}"));
}

fn done(task: &str) {
    WAITING
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .retain(|line| !line.starts_with(&format!("task '{task}'")));
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Scenario {
    Splat,
    Fixed,
    Deadlock,
}

/// What `--help` prints.
const USAGE: &str = "\
Usage: async-deadlock [--scenario splat|fixed|deadlock]

An async service whose two handlers take two tokio locks in opposite orders, checked by lockdep.

Options:
  --scenario splat     the report, from a run that never hung (the default)
  --scenario fixed     export_audit takes the accounts first: no report
  --scenario deadlock  the race for real: stopped by lockdep with checking on, then hanging
                       with checking off until a watchdog ends it
  -h, --help           print this help

Exit status: 0 the scenario behaved as described; 1 it did not; 2 bad command line; 3 the
deadlock scenario hung with checking off, as it should (the watchdog ended it).";

/// `Ok(None)`: print the usage.
fn parse_args(args: impl Iterator<Item = String>) -> Result<Option<Scenario>, String> {
    let mut scenario = Scenario::Splat;
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        let value = match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--scenario" => args
                .next()
                .ok_or("--scenario needs a value (splat, fixed or deadlock)")?,
            other => match other.strip_prefix("--scenario=") {
                Some(value) => value.to_string(),
                None => {
                    return Err(format!(
                        "unknown argument `{other}` (`--help` lists the options)"
                    ))
                }
            },
        };
        scenario = match value.as_str() {
            "splat" => Scenario::Splat,
            "fixed" => Scenario::Fixed,
            "deadlock" => Scenario::Deadlock,
            other => {
                return Err(format!(
                    "unknown scenario `{other}` (expected splat, fixed or deadlock)"
                ))
            }
        };
    }
    Ok(Some(scenario))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// Reports collected by the handler (printed as they come).
static REPORTS: StdMutex<Vec<Report>> = StdMutex::new(Vec::new());

fn collect_reports() {
    lockdep_core::set_handler(|report| {
        println!("{report}");
        REPORTS
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(report.clone());
    });
}

fn reports() -> Vec<Report> {
    REPORTS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
}

/// The two handlers one after the other: nobody waits, lockdep reports the cycle.
fn splat(fixed: bool) -> ExitCode {
    collect_reports();
    let bank = Bank::new();
    let export = runtime().block_on(async {
        let b = bank.clone();
        tokio::spawn(async move { transfer(&b, "alice", "bob", 30, &None).await })
            .await
            .unwrap();
        println!("transfer: done (accounts -> audit_log)");
        let b = bank.clone();
        tokio::spawn(async move {
            if fixed {
                export_audit_fixed(&b).await
            } else {
                export_audit(&b, &None).await
            }
        })
        .await
        .unwrap()
    });
    println!(
        "export_audit: done ({export}; {})",
        if fixed {
            "accounts -> audit_log"
        } else {
            "audit_log -> accounts"
        }
    );
    println!("both handlers finished; neither ever waited for the other.");
    let cycles = reports()
        .iter()
        .filter(|r| r.kind() == ReportKind::CircularDependency)
        .count();
    match (fixed, cycles) {
        (false, 1) | (true, 0) => ExitCode::SUCCESS,
        _ => {
            eprintln!("unexpected: {cycles} circular-dependency report(s)");
            ExitCode::FAILURE
        }
    }
}

/// Runs both handlers at once, meeting while each holds its first lock; returns whether they
/// finished within the watchdog's time.
fn race(bank: &Arc<Bank>) -> bool {
    let (tx, rx) = std::sync::mpsc::channel();
    let bank = bank.clone();
    // The runtime runs on a thread of its own: if it deadlocks, it cannot be shut down.
    std::thread::spawn(move || {
        let rt = runtime();
        rt.block_on(async {
            let point = Some(Arc::new(Barrier::new(2)));
            let (b1, p1) = (bank.clone(), point.clone());
            let t = tokio::spawn(async move { transfer(&b1, "alice", "bob", 30, &p1).await });
            let (b2, p2) = (bank.clone(), point.clone());
            let e = tokio::spawn(async move { export_audit(&b2, &p2).await });
            // A task stopped by lockdep (a panic) ends with an error; the other completes.
            let outcomes = (t.await.is_ok(), e.await.is_ok());
            let _ = tx.send(outcomes);
        });
        std::mem::forget(rt);
    });
    match rx.recv_timeout(Duration::from_millis(1500)) {
        Ok((transfer_ok, export_ok)) => {
            println!(
                "finished: transfer {}, export_audit {}",
                if transfer_ok {
                    "completed"
                } else {
                    "stopped by lockdep"
                },
                if export_ok {
                    "completed"
                } else {
                    "stopped by lockdep"
                },
            );
            WAITING
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clear();
            true
        }
        Err(_) => false,
    }
}

/// The race for real: with lockdep on, the second acquisition closes the cycle, is reported and
/// panics before it waits, so its task lets go; with lockdep off, it hangs.
fn deadlock() -> ExitCode {
    collect_reports();
    // The handler reports and then stops the task that closes the cycle, as the Panic mode does.
    lockdep_core::set_handler(|report| {
        println!("{report}");
        REPORTS
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(report.clone());
        panic!("lockdep stopped this task before it waited");
    });
    println!("== 1. lockdep on: the same race ==");
    if !race(&Bank::new()) {
        eprintln!("unexpected: the race hung with lockdep on");
        return ExitCode::FAILURE;
    }
    if reports().is_empty() {
        eprintln!("unexpected: no report with lockdep on");
        return ExitCode::FAILURE;
    }
    println!();
    println!("== 2. lockdep off (set_mode(Mode::Off)): the same race ==");
    lockdep_core::clear_handler();
    lockdep_core::set_mode(Mode::Off);
    if race(&Bank::new()) {
        eprintln!("unexpected: the race finished with lockdep off");
        return ExitCode::FAILURE;
    }
    println!("deadlocked: the tasks are stuck on accounts and audit_log (watchdog, after 1.5s):");
    for line in WAITING
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
    {
        println!("  {line}");
    }
    println!("no thread is blocked: both workers are idle, the tasks parked for ever.");
    ExitCode::from(3)
}

fn main() -> ExitCode {
    let scenario = match parse_args(std::env::args().skip(1)) {
        Ok(Some(scenario)) => scenario,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("error: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    // A report is also a panic in the default mode; the scenarios collect them instead.
    std::panic::set_hook(Box::new(|info| {
        if !info.to_string().contains("lockdep stopped this task") {
            eprintln!("{info}");
        }
    }));
    match scenario {
        Scenario::Splat => splat(false),
        Scenario::Fixed => splat(true),
        Scenario::Deadlock => deadlock(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<Scenario>, String> {
        parse_args(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn scenarios_parse_in_both_spellings() {
        assert_eq!(parse(&[]), Ok(Some(Scenario::Splat)));
        assert_eq!(parse(&["--scenario", "fixed"]), Ok(Some(Scenario::Fixed)));
        assert_eq!(
            parse(&["--scenario=deadlock"]),
            Ok(Some(Scenario::Deadlock))
        );
        assert_eq!(parse(&["--help"]), Ok(None));
        assert_eq!(parse(&["--scenario", "fixed", "-h"]), Ok(None));
        assert!(parse(&["--scenario"])
            .unwrap_err()
            .contains("needs a value"));
        assert!(parse(&["--scenario", "x"])
            .unwrap_err()
            .contains("unknown scenario"));
        assert!(parse(&["--loud"]).unwrap_err().contains("unknown argument"));
    }
}
