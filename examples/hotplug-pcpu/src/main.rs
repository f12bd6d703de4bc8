//! # hotplug-pcpu: the bug lockdep for Rust exists for
//!
//! In February 2017 syzkaller found a deadlock in Linux 4.10 between CPU hotplug and the per-cpu
//! allocator (LKML: "mm: deadlock between get_online_cpus/pcpu_alloc"):
//!
//! - `cpu_up` → `_cpu_up` → `cpu_hotplug_begin` holds the hotplug lock for writing while
//!   `cpuhp_invoke_callback` → `smpcfd_prepare_cpu` → `__alloc_percpu` → `pcpu_alloc` takes
//!   `pcpu_alloc_mutex`;
//! - `bpf(BPF_MAP_CREATE)` → `array_map_alloc` → `pcpu_alloc` holds `pcpu_alloc_mutex` while
//!   `pcpu_populate_chunk` → page allocator → `drain_all_pages` takes `pcpu_drain_mutex` and then
//!   `get_online_cpus()`, a read of the hotplug lock.
//!
//! This program replays both paths with `lockdep_core` locks on real threads, with functions
//! named after the kernel's, so that lockdep's report reads like the kernel's splat. Scenarios:
//! `splat` (default), `readers`, `fixed`, `deadlock`; see `--help`.

mod kernel;
mod scenarios;
mod watch;

use scenarios::{Options, Scenario};
use std::process::ExitCode;

/// Exit status for a command line the program does not understand.
const EXIT_USAGE: u8 = 2;

/// `--help`.
const USAGE: &str = "\
hotplug-pcpu: replays the 2017 Linux deadlock between CPU hotplug (cpu_hotplug_lock) and the
per-cpu allocator (pcpu_alloc_mutex), and shows lockdep for Rust catching it.

Usage: hotplug-pcpu [--scenario NAME] [--recursive-reads] [--dot FILE]

Options:
  --scenario NAME     which scenario to run (default: splat)
      splat           the two paths one after the other on two threads: no hang, but lockdep
                      reports the circular dependency, with the backtrace of each edge
      readers         reader -> mutex, mutex -> reader, and a writer, on three threads:
                      reported with fair reads and with --recursive-reads (which the
                      kernel's old annotation hid: the program says why)
      fixed           the allocator path without get_online_cpus (the fix, a459eeb7b852):
                      no report
      deadlock        both paths at the same moment: with lockdep on the inversion is reported
                      and the race stopped before anything blocks; then with lockdep off the
                      threads really deadlock and a watchdog exits with status 3
  --recursive-reads   get_online_cpus() as parking_lot's recursive read (read_recursive), the
                      spelling of the annotation the hotplug lock had before it became a
                      percpu rwsem (splat, readers)
  --dot FILE          write the lock class graph to FILE (Graphviz DOT, reported cycles in
                      red), when the scenario has run (deadlock: after its checked part)
  -h, --help          print this help

Exit status: 0 the scenario behaved as described; 1 it did not; 2 bad command line;
             3 (deadlock) the threads deadlocked, as demonstrated.

Needs lockdep's checks compiled in: a debug build (cargo run -p hotplug-pcpu) or lockdep-core's
feature `release-checks`.";

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
enum Command {
    /// Print the help.
    Help,
    /// Run a scenario.
    Run(Scenario, Options),
}

/// Parses the arguments (without the program name). Hand-rolled: four flags do not justify a
/// dependency, and the project keeps its dependency list short.
fn parse_args<I: IntoIterator<Item = String>>(args: I) -> Result<Command, String> {
    let mut scenario = None;
    let mut options = Options::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        // `--flag=value` and `--flag value` both work, as with most command-line parsers.
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_string(), Some(value.to_string()))
            }
            _ => (arg.clone(), None),
        };
        let mut value = |what: &str| -> Result<String, String> {
            match inline.clone().or_else(|| args.next()) {
                Some(v) if !v.is_empty() => Ok(v),
                _ => Err(format!("{flag} needs a value ({what})")),
            }
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--scenario" => {
                let name = value("splat, readers, fixed or deadlock")?;
                let found = Scenario::ALL
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, s)| *s)
                    .ok_or_else(|| {
                        format!("unknown scenario `{name}` (expected splat, readers, fixed or deadlock)")
                    })?;
                if scenario.replace(found).is_some() {
                    return Err("--scenario given twice".to_string());
                }
            }
            "--recursive-reads" if inline.is_none() => options.recursive_reads = true,
            "--dot" => {
                let file = value("a file name")?;
                options.dot = Some(file.into());
            }
            _ => return Err(format!("unknown argument `{arg}`")),
        }
    }
    let scenario = scenario.unwrap_or(Scenario::Splat);
    if options.recursive_reads && !matches!(scenario, Scenario::Splat | Scenario::Readers) {
        return Err("--recursive-reads applies to --scenario splat and readers only".to_string());
    }
    Ok(Command::Run(scenario, options))
}

/// Parses the command line and runs the scenario; the exit status says how it went.
fn main() -> ExitCode {
    let (scenario, options) = match parse_args(std::env::args().skip(1)) {
        Ok(Command::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(Command::Run(scenario, options)) => (scenario, options),
        Err(e) => {
            eprintln!("error: {e}\n\nUsage: hotplug-pcpu [--scenario NAME] [--recursive-reads] [--dot FILE]\nTry --help for more.");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    if !lockdep_core::CHECKS_COMPILED_IN {
        eprintln!(
            "error: lockdep's checks are compiled out of this build (release without the \
             `release-checks` feature of lockdep-core), so there is nothing to show.\n\
             Run a debug build: cargo run -p hotplug-pcpu"
        );
        return ExitCode::from(1);
    }
    scenarios::run(scenario, &options)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`parse_args`] over string literals.
    fn parse(args: &[&str]) -> Result<Command, String> {
        parse_args(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn no_arguments_run_the_splat() {
        assert_eq!(
            parse(&[]),
            Ok(Command::Run(Scenario::Splat, Options::default()))
        );
    }

    #[test]
    fn scenarios_and_flags_parse_in_both_spellings() {
        let readers = Options {
            recursive_reads: true,
            dot: Some("g.dot".into()),
        };
        assert_eq!(
            parse(&[
                "--scenario",
                "readers",
                "--recursive-reads",
                "--dot",
                "g.dot"
            ]),
            Ok(Command::Run(Scenario::Readers, readers.clone()))
        );
        assert_eq!(
            parse(&["--dot=g.dot", "--recursive-reads", "--scenario=readers"]),
            Ok(Command::Run(Scenario::Readers, readers))
        );
        for (name, scenario) in Scenario::ALL {
            assert_eq!(
                parse(&["--scenario", name]),
                Ok(Command::Run(scenario, Options::default()))
            );
        }
        assert_eq!(parse(&["-h"]), Ok(Command::Help));
        assert_eq!(parse(&["--scenario", "fixed", "--help"]), Ok(Command::Help));
    }

    #[test]
    fn bad_command_lines_are_refused_with_a_reason() {
        let error = |args: &[&str]| parse(args).unwrap_err();
        assert!(error(&["--frobnicate"]).contains("unknown argument `--frobnicate`"));
        assert!(error(&["splat"]).contains("unknown argument `splat`"));
        assert!(error(&["--scenario"]).contains("needs a value"));
        assert!(error(&["--scenario", "oops"]).contains("unknown scenario `oops`"));
        assert!(error(&["--dot"]).contains("needs a value"));
        assert!(error(&["--recursive-reads=yes"]).contains("unknown argument"));
        assert!(error(&["--scenario", "fixed", "--recursive-reads"]).contains("splat and readers"));
        assert!(error(&["--scenario", "splat", "--scenario", "fixed"]).contains("twice"));
    }
}
