//! `cargo lockdep`: run a whole test suite with one shared lockdep class graph.
//!
//! - `cargo lockdep test [--nextest] [--dir DIR] [ARGS...]` runs `cargo test ARGS` (or
//!   `cargo nextest run ARGS`, its own options moved before its `--`: see [`runner`]) with
//!   `LOCKDEP_GRAPH` pointing at a fresh store, streams its output, and prints the summary:
//!   classes, dependencies, every finding with the tests that took each of its dependencies,
//!   and the cycles only the offline search sees. The store (by default `<target
//!   dir>/lockdep`) is replaced only by a run whose tests ran: `cargo test` is built first
//!   (`--no-run`), the run writes to a directory of its own inside the store's, and a failed
//!   build, or a runner that refused its arguments, is reported as such and leaves the
//!   previous store as it was. An optimized build (`--release`, `--profile`) gets
//!   `--features lockdep-core/release-checks`, without which it would check nothing; where
//!   cargo cannot turn that on, the run is refused, saying how. Exit status: the runner's
//!   own when it failed, otherwise 2 when lockdep found anything, 0 when not.
//! - `cargo lockdep report [DIR...]` prints the summary again and writes the class graph as
//!   `DIR/graph.dot` (and `DIR/graph.svg` when Graphviz's `dot` is installed), cycles in red;
//!   `--format json` and `--format sarif` write the findings for machines instead ([`machine`],
//!   [`sarif`]), `--output FILE` to a file.
//! - `cargo lockdep check [DIR...]` searches the stored graph offline for every strong cycle,
//!   including those no process could see because it refused the closing dependency; exit
//!   status 2 when it finds one.
//! - `cargo lockdep merge OUT DIR...` unites the stores of a suite's shards (CI jobs run apart)
//!   into `OUT`, then summarises the union like `test` does. `report` and `check` read several
//!   stores as one graph too. Every store is read before anything is written: a missing,
//!   damaged or other-version one stops the command, naming it.
//! - `cargo lockdep baseline [--output FILE] [DIR...]` writes the current findings as accepted
//!   ([`baseline`]); `test`, `check` and `merge` take `--baseline FILE` and then exit 2 only
//!   for findings not in it, listing the entries no longer found.

mod baseline;
mod machine;
mod runner;
mod sarif;
mod summary;

use baseline::Baseline;
use clap::{Arg, ArgAction, ArgMatches, Command};
use lockdep_core::store::format::StoredClass;
use lockdep_core::store::{self, FindingId, StoredGraph};
use runner::{Outcome, Runner};
use std::path::{Path, PathBuf};
use std::process::{Command as ProcessCommand, ExitCode};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Writes to stdout, ignoring a closed pipe (`cargo lockdep check | head`): what is left
/// unread was not wanted.
fn emit(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// `println!` through [`emit`].
macro_rules! outln {
    ($($arg:tt)*) => {
        emit(&format!("{}\n", format_args!($($arg)*)))
    };
}

/// The exit status for "lockdep found something" (cargo's own failures keep their status).
const FOUND: u8 = 2;
/// The exit status for a command line cargo-lockdep does not accept (sysexits' `EX_USAGE`):
/// not clap's default 2, which CI would read as a finding.
const USAGE: u8 = 64;

/// The exit statuses every command shares, for `--help`.
const EXIT_COMMON: &str = "  1   cargo-lockdep could not do it: no store, a damaged one or one \
                           of another version, a file it cannot write (the message says which)
  64  usage error: an option or argument it does not accept";

/// `--help`'s "Exit status" section: `specific` lines (status, two spaces, meaning), then
/// [`EXIT_COMMON`].
fn exit_help(specific: &str) -> String {
    format!("Exit status:\n{specific}\n{EXIT_COMMON}")
}

fn cli() -> Command {
    let baseline = || {
        Arg::new("baseline")
            .long("baseline")
            .value_name("FILE")
            .help(
                "Findings listed in FILE are accepted: exit 2 only for others, and list the \
                 entries no longer found (write FILE with `cargo lockdep baseline`)",
            )
    };
    let stores = || {
        Arg::new("stores").value_name("DIR").num_args(0..).help(
            "The stores to read, each a directory or its graph.lockdep file; several are read \
             as one graph (the shards of a suite) [default: $LOCKDEP_GRAPH, else <target \
             dir>/lockdep]",
        )
    };
    Command::new("cargo-lockdep")
        .bin_name("cargo")
        .version(env!("CARGO_PKG_VERSION"))
        .subcommand_required(true)
        .subcommand(
            Command::new("lockdep")
                .about("Check a whole test suite's lock orders with one shared lockdep graph")
                .after_help(exit_help(
                    "  0   nothing found\n  2   lockdep found something (see each command's \
                     --help)\n  N   `test`: the runner's own status when the suite failed or \
                     did not build",
                ))
                .version(env!("CARGO_PKG_VERSION"))
                .subcommand_required(true)
                .subcommand(
                    Command::new("test")
                        .after_help(exit_help(
                            "  0   the suite passed and lockdep found nothing (with --baseline: \
                             nothing it does not accept)\n  2   the suite passed and lockdep \
                             found something: a finding reported while it ran, or a cycle the \
                             offline check found (with --baseline: one it does not accept)\n  N   the suite failed \
                             or did not build: the runner's own status (cargo test: 101; cargo \
                             nextest run: 100 tests failed, 101 build failed, 4 no test ran, \
                             96 it refused its arguments); the store is summarised all the \
                             same when the tests ran",
                        ))
                        .about(
                            "Run the suite with a fresh shared graph, then summarise it \
                             (exit 2 on a finding)",
                        )
                        .arg(
                            Arg::new("nextest")
                                .long("nextest")
                                .action(ArgAction::SetTrue)
                                .help("Run `cargo nextest run` instead of `cargo test`"),
                        )
                        .arg(baseline())
                        .arg(Arg::new("dir").long("dir").value_name("DIR").help(
                            "The store's directory, or its graph.lockdep file [default: \
                                 $LOCKDEP_GRAPH, else <target dir>/lockdep]",
                        ))
                        .arg(
                            Arg::new("args")
                                .value_name("ARGS")
                                .num_args(0..)
                                .trailing_var_arg(true)
                                .allow_hyphen_values(true)
                                .help(
                                    "Arguments for the runner (this command's own options may \
                                     come anywhere before `--`): cargo test gets them \
                                     verbatim (those after `--` go to the test binaries); \
                                     cargo nextest run gets its own options written after \
                                     `--` moved before it, and the test filters and libtest \
                                     arguments it emulates after it. With --release or \
                                     --profile, `--features lockdep-core/release-checks` is \
                                     added (or the run refused)",
                                ),
                        ),
                )
                .subcommand(
                    Command::new("report")
                        .after_help(exit_help(
                            "  0   the report was written, whatever it lists (`check` and \
                             `merge` exit 2 on a finding)",
                        ))
                        .arg(
                            Arg::new("format")
                                .long("format")
                                .value_name("FORMAT")
                                .value_parser(["text", "json", "sarif"])
                                .default_value("text")
                                .help(
                                    "text: the summary, and the class graph drawn (DOT, SVG) \
                                     beside a single store; json: every finding with its \
                                     classes, dependencies, tests and stacks (the schema \
                                     cargo-lockdep/report, version 1); sarif: SARIF 2.1.0 for \
                                     code scanning, paths relative to the workspace root",
                                ),
                        )
                        .arg(
                            Arg::new("output")
                                .long("output")
                                .short('o')
                                .value_name("FILE")
                                .help("Write the report to FILE instead of stdout"),
                        )
                        .about(
                            "Summarise stored graphs (one store, or several united) and draw \
                             one (DOT, and SVG with Graphviz)",
                        )
                        .arg(stores()),
                )
                .subcommand(
                    Command::new("check")
                        .after_help(exit_help(
                            "  0   no strong cycle in the stored graph (with --baseline: none \
                             but those it accepts)\n  2   at least one strong cycle (with \
                             --baseline: one it does not accept)",
                        ))
                        .arg(baseline())
                        .about(
                            "Search stored graphs (one store, or several united) offline for \
                             every strong cycle (exit 2 if any)",
                        )
                        .arg(stores()),
                )
                .subcommand(
                    Command::new("baseline")
                        .about(
                            "Write a baseline from stored graphs: every current finding, \
                             accepted, each with a reason to fill in (reasons already in \
                             FILE are kept)",
                        )
                        .after_help(exit_help("  0   the baseline was written"))
                        .arg(
                            Arg::new("output")
                                .long("output")
                                .short('o')
                                .value_name("FILE")
                                .default_value("lockdep-baseline.toml")
                                .help("The baseline file to write"),
                        )
                        .arg(stores()),
                )
                .subcommand(
                    Command::new("merge")
                        .after_help(exit_help(
                            "  0   united; the union holds no finding (with --baseline: none but \
                             those it accepts)\n  2   united; the union holds a finding \
                             (reported by a shard, or found by the offline check, e.g. split \
                             across shards; with --baseline: one it does not accept)",
                        ))
                        .arg(baseline())
                        .about(
                            "Unite the stores of a suite's shards into one, then summarise it \
                             (exit 2 on a finding)",
                        )
                        .arg(Arg::new("out").value_name("OUT").required(true).help(
                            "The directory to write the united store to (OUT/graph.lockdep), \
                                     or that file's path",
                        ))
                        .arg(
                            Arg::new("stores")
                                .value_name("DIR")
                                .required(true)
                                .num_args(1..)
                                .help(
                                    "The stores to unite: each a store's directory or its \
                                     graph.lockdep file, written by this version of lockdep",
                                ),
                        ),
                ),
        )
}

fn main() -> ExitCode {
    // `cargo lockdep ...` runs `cargo-lockdep lockdep ...`; accept a direct call too.
    let mut args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) != Some("lockdep") {
        args.insert(1, "lockdep".into());
    }
    // clap would print its generated name for the subcommand ("cargo-lockdep-lockdep").
    if matches!(args.get(2).map(String::as_str), Some("--version" | "-V")) {
        outln!("cargo-lockdep {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    let passthrough = split_test_args(&mut args);
    let matches = match cli().try_get_matches_from(args) {
        Ok(matches) => matches,
        // `--help` comes here too, as a success.
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let Some(("lockdep", matches)) = matches.subcommand() else {
        unreachable!("clap requires the subcommand");
    };
    let result = match matches.subcommand() {
        Some(("test", m)) => test(m, &passthrough),
        Some(("report", m)) => stores_of(m).and_then(|dirs| {
            let format = m.get_one::<String>("format").map_or("text", String::as_str);
            let output = m.get_one::<String>("output").map(PathBuf::from);
            report(&dirs, format, output.as_deref())
        }),
        Some(("check", m)) => stores_of(m).and_then(|dirs| check(&dirs, &baseline_of(m)?)),
        Some(("merge", m)) => merge(m),
        Some(("baseline", m)) => stores_of(m).and_then(|dirs| {
            let output = m.get_one::<String>("output").expect("clap gives a default");
            write_baseline(&dirs, Path::new(output))
        }),
        _ => unreachable!("clap requires the subcommand"),
    };
    result.unwrap_or_else(|e| {
        eprintln!("cargo-lockdep: {e}");
        ExitCode::FAILURE
    })
}

/// The cargo that ran us (cargo sets `CARGO` for its subcommands).
fn cargo() -> ProcessCommand {
    ProcessCommand::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// The store's directory: the one given, else `LOCKDEP_GRAPH`'s, else `<target dir>/lockdep`.
fn dir_of(m: &ArgMatches) -> Result<PathBuf, String> {
    if let Some(dir) = m.get_one::<String>("dir") {
        return store_dir(Path::new(dir), "the directory given");
    }
    default_dir()
}

/// The stores `report` and `check` read: those named, else the default one ([`dir_of`]'s).
fn stores_of(m: &ArgMatches) -> Result<Vec<PathBuf>, String> {
    match m.get_many::<String>("stores") {
        Some(given) => given
            .map(|store| store_dir(Path::new(store), "the store given"))
            .collect(),
        None => Ok(vec![default_dir()?]),
    }
}

/// `LOCKDEP_GRAPH`'s directory, else `<target dir>/lockdep`.
fn default_dir() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("LOCKDEP_GRAPH").filter(|d| !d.is_empty()) {
        return store_dir(Path::new(&dir), "LOCKDEP_GRAPH");
    }
    Ok(target_dir()?.join("lockdep"))
}

/// A store's directory from a path naming it or its file (`.../graph.lockdep`, the path the
/// summary prints).
fn store_dir(path: &Path, what: &str) -> Result<PathBuf, String> {
    let is_store_file = path.file_name() == Some(std::ffi::OsStr::new(store::FILE_NAME));
    if is_store_file && !path.is_dir() {
        return Ok(match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        });
    }
    if path.exists() && !path.is_dir() {
        return Err(format!(
            "{what} ({}) is a file, and it must name a directory: the store's (where `cargo \
             lockdep test` writes {file}), or its {file} itself. Name a directory, e.g. \
             target/lockdep.",
            path.display(),
            file = store::FILE_NAME
        ));
    }
    Ok(path.to_path_buf())
}

/// `CARGO_TARGET_DIR`, or `target/` beside the workspace's root manifest.
fn target_dir() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    let out = cargo()
        .args(["locate-project", "--workspace", "--message-format", "plain"])
        .output()
        .map_err(cannot_run_cargo)?;
    if !out.status.success() {
        return Err(format!(
            "cannot find the cargo workspace, whose target directory holds the store: {}. Run \
             this inside a cargo project, or name the store's directory (`--dir DIR` for \
             `test`, `cargo lockdep report DIR`).",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let manifest = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    Ok(manifest.parent().unwrap_or(Path::new(".")).join("target"))
}

fn cannot_run_cargo(e: std::io::Error) -> String {
    format!(
        "cannot run cargo ({e}): run this as `cargo lockdep`, or put cargo on PATH (or in \
         $CARGO)"
    )
}

/// Reads the store in `dir`; `None` when there is none. Damage or another format version is
/// an error naming the file; a torn tail (a writer killed mid-record) is left out, saying so.
fn load(dir: &Path) -> Result<Option<StoredGraph>, String> {
    let file = store::file_in(dir);
    if !file.exists() {
        return Ok(None);
    }
    let graph = store::load(dir).map_err(|e| {
        let what = match e {
            store::LoadError::Format(store::format::FormatError::Version(_)) => {
                "A store is read only by the version of lockdep that wrote it: run that suite \
                 (or shard) again with this version"
            }
            store::LoadError::Format(_) => {
                "It is damaged: run `cargo lockdep test` again to write a new one"
            }
            _ => "Name a store written by `cargo lockdep test`",
        };
        format!("cannot read the store {}: {e}. {what}.", file.display())
    })?;
    if graph.torn_tail() > 0 {
        eprintln!(
            "cargo-lockdep: the last record of {} is incomplete ({} bytes: a process was killed \
             while it wrote it, or the disk filled up); it is left out, every complete record \
             is read",
            file.display(),
            graph.torn_tail()
        );
    }
    Ok(Some(graph))
}

/// Several stores read as one graph, and how the summary names them.
struct Loaded {
    graph: StoredGraph,
    source: String,
    /// The store files read, in the order given.
    files: Vec<String>,
}

/// Reads every store in `dirs` (all of them, or an error naming the first that cannot be read)
/// and unites them; `usage` is the command line to name in "no store" messages.
fn load_stores(dirs: &[PathBuf], usage: &str) -> Result<Loaded, String> {
    let mut progress = Progress::new();
    let mut graphs = Vec::new();
    for (i, dir) in dirs.iter().enumerate() {
        progress.tick(|| format!("reading store {} of {}", i + 1, dirs.len()));
        graphs.push(load(dir)?.ok_or_else(|| no_store(dir, usage))?);
    }
    let files: Vec<String> = dirs
        .iter()
        .map(|d| store::file_in(d).display().to_string())
        .collect();
    let source = match files.as_slice() {
        [one] => one.clone(),
        many => format!("{} stores: {}", many.len(), many.join(", ")),
    };
    Ok(Loaded {
        graph: StoredGraph::union(graphs),
        source,
        files,
    })
}

/// Splits `cargo lockdep test`'s own options (`--nextest`, `--dir`, `--baseline`, `--help`, anywhere before
/// the first `--`: neither runner has options of those names) from the arguments for the
/// runner, which keep their order — a `--` included, which clap would swallow.
fn split_test_args(args: &mut Vec<String>) -> Vec<String> {
    if args.get(2).map(String::as_str) != Some("test") {
        return Vec::new();
    }
    let given = args.split_off(3.min(args.len()));
    let mut passthrough = Vec::new();
    let mut given = given.into_iter();
    while let Some(arg) = given.next() {
        match arg.as_str() {
            "--" => {
                passthrough.push(arg);
                passthrough.extend(given.by_ref());
            }
            "--nextest" | "-h" | "--help" => args.push(arg),
            "--dir" => {
                args.push(arg);
                args.extend(given.next());
            }
            "--baseline" => {
                args.push(arg);
                args.extend(given.next());
            }
            a if a.starts_with("--dir=") || a.starts_with("--baseline=") => args.push(arg),
            _ => passthrough.push(arg),
        }
    }
    passthrough
}

fn test(m: &ArgMatches, passthrough: &[String]) -> Result<ExitCode, String> {
    // Read first: a baseline that cannot be used stops the run before anything is run or
    // written.
    let baseline = baseline_of(m)?;
    let dir = dir_of(m)?;
    let dir = std::path::absolute(&dir).map_err(|e| {
        format!(
            "cannot use {} as the store's directory ({e}): name another with `--dir DIR`",
            dir.display()
        )
    })?;
    let runner = if m.get_flag("nextest") {
        Runner::Nextest
    } else {
        Runner::CargoTest
    };
    if runner == Runner::Nextest && !nextest_installed() {
        return Err(
            "`--nextest` runs `cargo nextest run`, and cargo-nextest is not installed: \
                    install it (`cargo install cargo-nextest --locked`), or drop `--nextest`"
                .into(),
        );
    }
    let mut args = runner.args(passthrough);
    // An optimized build compiles the checks out unless lockdep-core's `release-checks` is
    // on: turn it on, or say why it cannot be (never a run that checks nothing).
    let release_checks = runner.optimized(&args);
    if release_checks {
        args.splice(0..0, ["--features".to_string(), RELEASE_CHECKS.to_string()]);
        eprintln!(
            "cargo-lockdep: an optimized build compiles lockdep's checks out unless \
             lockdep-core's feature `release-checks` is on: adding `--features {RELEASE_CHECKS}`"
        );
    }
    std::fs::create_dir_all(&dir).map_err(|e| cannot_create(&dir, e))?;
    let refuse = |status| {
        eprintln!(
            "cargo-lockdep: cargo could not turn on `{RELEASE_CHECKS}` (see its message above): \
             none of the packages tested depends on lockdep-core directly. Without it this \
             optimized build would check nothing, so the tests did not run, and {}. Turn the \
             feature on in the crate that depends on lockdep-core (`lockdep-core = {{ ..., \
             features = [\"release-checks\"] }}`), or test without `--release`/`--profile`.",
            kept(&dir)
        );
        Ok(exit_code(status))
    };

    // Arguments that make the runner run no test: run it as asked, leaving the store alone.
    if let Some(what) = runner.runs_no_test(&args) {
        eprintln!(
            "cargo-lockdep: running `{}`: {what}",
            command_line(runner, &args)
        );
        let mut cmd = cargo();
        cmd.args(runner.subcommand()).args(&args);
        let (status, _) = status_of(&mut cmd, false)?;
        eprintln!(
            "cargo-lockdep: no test ran, so {}; run `cargo lockdep test` without `{what}` to \
             check the suite.",
            kept(&dir)
        );
        return Ok(if status.success() {
            ExitCode::SUCCESS
        } else {
            exit_code(status)
        });
    }

    // cargo test: build first, so that a failed build is reported as one and the previous
    // store stays as it is (`--doc` cannot be built apart from its run).
    if let Some(build) = runner.build_args(&args) {
        let mut cmd = cargo();
        cmd.arg("test").args(&build);
        let (status, named) = status_of(&mut cmd, release_checks)?;
        if !status.success() && named {
            return refuse(status);
        }
        if !status.success() {
            eprintln!(
                "cargo-lockdep: the build failed (`{}` exited with {}): the tests did not \
                 run, and {}. Fix the build, then run `cargo lockdep test` again.",
                command_line(Runner::CargoTest, &build),
                exit_status(status),
                kept(&dir)
            );
            return Ok(exit_code(status));
        }
    }

    // The run writes to a fresh directory inside the store's; its store replaces the previous
    // one only if the tests ran, so that the summary is about this run only.
    clear_leftover_runs(&dir);
    let staging = dir.join(format!("{STAGING_PREFIX}{}", std::process::id()));
    std::fs::create_dir_all(&staging).map_err(|e| cannot_create(&staging, e))?;
    let mut cmd = cargo();
    cmd.args(runner.subcommand())
        .args(&args)
        .env("LOCKDEP_GRAPH", &staging);
    // One finding should not stop the rest of the suite: the summary decides the exit status.
    if std::env::var_os("LOCKDEP").is_none() {
        cmd.env("LOCKDEP", "warn");
    }
    eprintln!(
        "cargo-lockdep: running `{}`; the suite's class graph goes to {}",
        command_line(runner, &args),
        dir.display()
    );

    let done = Arc::new(AtomicBool::new(false));
    let progress = std::thread::spawn({
        let (done, staging) = (done.clone(), staging.clone());
        move || progress(&done, &staging)
    });
    let status = status_of(&mut cmd, release_checks && runner == Runner::Nextest);
    done.store(true, Ordering::Relaxed);
    let _ = progress.join();
    let (status, named) = status?;
    if !status.success() && named {
        let _ = std::fs::remove_dir_all(&staging);
        return refuse(status);
    }

    let recorded = store::file_in(&staging).exists();
    let outcome = runner.outcome(status.success(), status.code(), recorded);
    let result = match &outcome {
        Outcome::Ran => replace_store(&staging, &dir),
        Outcome::NotRun(_) => Ok(()),
    };
    if result.is_ok() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    result?;
    if let Outcome::NotRun(why) = outcome {
        eprintln!(
            "cargo-lockdep: `{}` exited with {}{why}. {}; fix what `{}` says above, then run \
             `cargo lockdep test` again.",
            command_line(runner, &args),
            exit_status(status),
            capitalized(&kept(&dir)),
            runner.name(),
        );
        return Ok(exit_code(status));
    }

    let findings = summarize(&dir)?;
    let found = judged(&findings, &baseline);
    if !status.success() {
        return Ok(exit_code(status));
    }
    Ok(found)
}

/// The baseline named by `--baseline`, read.
fn baseline_of(m: &ArgMatches) -> Result<Option<Baseline>, String> {
    m.get_one::<String>("baseline")
        .map(|file| Baseline::read(Path::new(file)))
        .transpose()
}

/// The identity of every finding of `graph`: those reported while the suite ran, and the
/// `cycles` of the offline search.
fn finding_ids(graph: &StoredGraph, cycles: &[Vec<StoredClass>]) -> Vec<FindingId> {
    let mut ids: Vec<FindingId> = graph
        .findings()
        .iter()
        .map(|f| FindingId::of_classes(f.kind, &f.classes))
        .collect();
    for cycle in cycles {
        let id = FindingId::of_classes(store::format::FindingKind::Cycle, cycle);
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}

/// The exit status for `findings`: 2 when there is any (with a baseline: any it does not
/// accept, after saying what it made of them), 0 otherwise.
fn judged(findings: &[FindingId], baseline: &Option<Baseline>) -> ExitCode {
    let found = match baseline {
        None => !findings.is_empty(),
        Some(baseline) => {
            let verdict = baseline.judge(findings);
            emit(&baseline.describe(&verdict));
            !verdict.new.is_empty()
        }
    };
    if found {
        ExitCode::from(FOUND)
    } else {
        ExitCode::SUCCESS
    }
}

/// `cargo lockdep baseline`: every current finding of the stores, accepted, written to
/// `output` (reasons it had kept). An existing file that cannot be read is left as it is.
fn write_baseline(dirs: &[PathBuf], output: &Path) -> Result<ExitCode, String> {
    let loaded = load_stores(dirs, "cargo lockdep baseline DIR...")?;
    let cycles = search(&loaded.graph);
    let ids = finding_ids(&loaded.graph, &cycles);
    let previous = if output.exists() {
        Some(Baseline::read(output)?)
    } else {
        None
    };
    std::fs::write(output, baseline::write(&ids, previous.as_ref())).map_err(|e| {
        format!(
            "cannot write the baseline to {}: {e}. Check that its directory exists and is \
             writable, or name another file with --output.",
            output.display()
        )
    })?;
    let (new, removed) = match &previous {
        Some(previous) => {
            let verdict = previous.judge(&ids);
            (verdict.new.len(), verdict.stale.len())
        }
        None => (ids.len(), 0),
    };
    outln!(
        "lockdep: baseline {} written: {} finding(s) accepted, {new} of them new (fill in \
         their `reason`), {removed} entr{} no longer found removed",
        output.display(),
        ids.len(),
        if removed == 1 { "y" } else { "ies" }
    );
    Ok(ExitCode::SUCCESS)
}

/// The feature that keeps lockdep's checks in an optimized build.
const RELEASE_CHECKS: &str = "lockdep-core/release-checks";

/// Runs `cmd` to its end. With `watch`, its stderr passes through this process line by line
/// and the second value says whether a line named [`RELEASE_CHECKS`] (cargo refusing the
/// feature); without, it is the terminal's and the value is false.
fn status_of(
    cmd: &mut ProcessCommand,
    watch: bool,
) -> Result<(std::process::ExitStatus, bool), String> {
    use std::io::{BufRead, IsTerminal, Write};
    let cannot = |e| cannot_run_cargo(e);
    if !watch {
        return cmd.status().map(|status| (status, false)).map_err(cannot);
    }
    if std::env::var_os("CARGO_TERM_COLOR").is_none() && std::io::stderr().is_terminal() {
        cmd.env("CARGO_TERM_COLOR", "always");
    }
    let mut child = cmd
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(cannot)?;
    let mut named = false;
    if let Some(stderr) = child.stderr.take() {
        let mut stderr = std::io::BufReader::new(stderr);
        let mut line = Vec::new();
        while stderr.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
            let _ = std::io::stderr().write_all(&line);
            named |= String::from_utf8_lossy(&line).contains(RELEASE_CHECKS);
            line.clear();
        }
    }
    child.wait().map(|status| (status, named)).map_err(cannot)
}

/// What a run that did not run the tests leaves in `dir`.
fn kept(dir: &Path) -> String {
    if store::file_in(dir).exists() {
        format!("the previous store in {} is kept", dir.display())
    } else {
        format!("nothing was stored in {}", dir.display())
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// The directories a run writes its store to, inside the store's own: `.run-<pid>`.
const STAGING_PREFIX: &str = ".run-";

/// Removes what runs that were killed left behind.
fn clear_leftover_runs(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with(STAGING_PREFIX)
        {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// The run's store (none when nothing was recorded) becomes the store in `dir`; the drawing of
/// the previous one goes with it.
fn replace_store(staging: &Path, dir: &Path) -> Result<(), String> {
    for stale in ["graph.dot", "graph.svg"] {
        let _ = std::fs::remove_file(dir.join(stale));
    }
    let (new, old) = (store::file_in(staging), store::file_in(dir));
    if new.exists() {
        std::fs::rename(&new, &old).map_err(|e| {
            format!(
                "cannot move the run's store {} to {}: {e}. Check the permissions of {}, then \
                 move it yourself (`cargo lockdep report {}` reads it where it is).",
                new.display(),
                old.display(),
                dir.display(),
                staging.display(),
            )
        })
    } else {
        match std::fs::remove_file(&old) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(format!(
                "cannot remove the previous store {}: {e}. Check the permissions of {}, or \
                 name another directory with `--dir DIR`.",
                old.display(),
                dir.display()
            )),
        }
    }
}

fn cannot_create(dir: &Path, e: std::io::Error) -> String {
    format!(
        "cannot create the store's directory {}: {e}. Check its permissions, or name another \
         with `--dir DIR`.",
        dir.display()
    )
}

/// Why `report`, `check` or `merge` has nothing to read; `usage` names the command's stores.
fn no_store(dir: &Path, usage: &str) -> String {
    format!(
        "no store in {} (no {}): run `cargo lockdep test` first, or name the directory a run \
         wrote to (`{usage}`; the {} path the summary prints is accepted too)",
        dir.display(),
        store::FILE_NAME,
        store::FILE_NAME
    )
}

/// Whether `cargo nextest` runs here.
fn nextest_installed() -> bool {
    cargo()
        .args(["nextest", "--version"])
        .output()
        .is_ok_and(|out| out.status.success())
}

/// "status 101", or the signal that ended the process.
fn exit_status(status: std::process::ExitStatus) -> String {
    match status.code() {
        Some(code) => format!("status {code}"),
        None => format!("{status}"),
    }
}

/// The runner's exit status as ours (1 when a signal ended it).
fn exit_code(status: std::process::ExitStatus) -> ExitCode {
    ExitCode::from(status.code().unwrap_or(1).clamp(1, 255) as u8)
}

/// `cargo test ARGS`, for messages.
fn command_line(runner: Runner, args: &[String]) -> String {
    let mut line = runner.name();
    for arg in args {
        line.push(' ');
        line.push_str(arg);
    }
    line
}

/// How often a long step says how far it has come: `LOCKDEP_PROGRESS_SECS` seconds (fractions
/// allowed), 15 by default; `None` (never) for 0.
fn progress_interval() -> Option<Duration> {
    let secs = std::env::var("LOCKDEP_PROGRESS_SECS")
        .ok()
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .unwrap_or(15.0);
    (secs > 0.0).then(|| Duration::from_secs_f64(secs))
}

/// "m:ss" of a duration, for progress lines.
fn clock(elapsed: Duration) -> String {
    format!("{}:{:02}", elapsed.as_secs() / 60, elapsed.as_secs() % 60)
}

/// A progress line on stderr at most every [`progress_interval`] while a long step (reading
/// and uniting stores, the offline search) runs, so that a large suite's merge in CI is not
/// mistaken for a hang; nothing for a step quicker than that.
struct Progress {
    every: Option<Duration>,
    start: Instant,
    next: Duration,
}

impl Progress {
    fn new() -> Progress {
        let every = progress_interval();
        Progress {
            every,
            start: Instant::now(),
            next: every.unwrap_or_default(),
        }
    }

    /// Prints `what()` if the interval has passed since the last line (or the start).
    fn tick(&mut self, what: impl FnOnce() -> String) {
        let Some(every) = self.every else { return };
        let elapsed = self.start.elapsed();
        if elapsed >= self.next {
            eprintln!("cargo-lockdep: {} {}", clock(elapsed), what());
            self.next = elapsed + every;
        }
    }
}

/// The offline search of `graph`, with progress lines.
fn search(graph: &StoredGraph) -> Vec<Vec<store::format::StoredClass>> {
    let mut progress = Progress::new();
    graph.check_with_progress(|searched, total| {
        progress.tick(|| {
            format!("searching for cycles: {searched} of {total} dependencies searched from")
        })
    })
}

/// Every [`progress_interval`] while the suite runs, one line on stderr with what the shared
/// graph holds so far.
fn progress(done: &AtomicBool, dir: &Path) {
    let Some(every) = progress_interval() else {
        return;
    };
    let start = Instant::now();
    let mut next = every;
    while !done.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(100));
        let elapsed = start.elapsed();
        if elapsed < next {
            continue;
        }
        next += every;
        let (classes, deps, tests) = match store::load(dir) {
            Ok(graph) => {
                let edges = graph.edges();
                let tests: std::collections::BTreeSet<_> = edges
                    .iter()
                    .flat_map(|e| e.origins.iter().cloned())
                    .collect();
                (graph.classes().len(), edges.len(), tests.len())
            }
            Err(_) => (0, 0, 0),
        };
        eprintln!(
            "cargo-lockdep: {} running; so far {deps} dependencies between {classes} classes, \
             from {tests} tests",
            clock(elapsed)
        );
    }
}

/// Prints the summary of the store in `dir` after a run; returns the findings it lists.
fn summarize(dir: &Path) -> Result<Vec<FindingId>, String> {
    let Some(graph) = load(dir)? else {
        outln!(
            "lockdep: no process recorded a dependency in {} (no test held two locks at once, \
             or the suite does not use lockdep_core's locks in a checked build)",
            dir.display()
        );
        return Ok(Vec::new());
    };
    let source = store::file_in(dir).display().to_string();
    Ok(print_summary(&graph, &source))
}

/// Prints the summary of `graph`, read from `source`; returns the findings it lists.
fn print_summary(graph: &StoredGraph, source: &str) -> Vec<FindingId> {
    let cycles = search(graph);
    let ids = finding_ids(graph, &cycles);
    let mut out = String::new();
    summary::summarize(graph, source, cycles, &mut out);
    emit(&out);
    ids
}

/// The workspace root, which machine formats give paths relative to: cargo's, else the current
/// directory.
fn workspace_root() -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    cargo()
        .args(["locate-project", "--workspace", "--message-format", "plain"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| {
            let manifest = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            manifest.parent().map(Path::to_path_buf)
        })
        .unwrap_or(cwd)
}

/// Writes `text` to `output`, or to stdout when there is none.
fn deliver(text: &str, output: Option<&Path>) -> Result<(), String> {
    match output {
        None => {
            emit(text);
            Ok(())
        }
        Some(file) => std::fs::write(file, text).map_err(|e| {
            format!(
                "cannot write the report to {}: {e}. Check that its directory exists and is \
                 writable, or name another file with --output.",
                file.display()
            )
        }),
    }
}

fn report(dirs: &[PathBuf], format: &str, output: Option<&Path>) -> Result<ExitCode, String> {
    let loaded = load_stores(dirs, "cargo lockdep report DIR...")?;
    let graph = &loaded.graph;
    if format != "text" {
        let cycles = search(graph);
        let report = machine::report(graph, &loaded.files, &cycles, &workspace_root());
        let json = if format == "sarif" {
            serde_json::to_string_pretty(&sarif::sarif(&report))
        } else {
            serde_json::to_string_pretty(&report)
        }
        .map_err(|e| format!("cannot encode the report: {e}"))?;
        deliver(&format!("{json}\n"), output)?;
        return Ok(ExitCode::SUCCESS);
    }
    let cycles = search(graph);
    let mut text = String::new();
    let findings = summary::summarize(graph, &loaded.source, cycles, &mut text);
    deliver(&text, output)?;
    let [dir] = dirs else {
        outln!(
            "lockdep: no drawing of several stores: unite them (`cargo lockdep merge OUT \
             DIR...`) and report OUT to draw the union"
        );
        return Ok(ExitCode::SUCCESS);
    };
    let mut cycles = findings.reported;
    cycles.extend(findings.offline_only);
    let dot_file = dir.join("graph.dot");
    std::fs::write(&dot_file, graph.to_dot(&cycles)).map_err(|e| {
        format!(
            "cannot write {}: {e}. Check the permissions of {}, or copy the store \
                 somewhere writable and run `cargo lockdep report` on that copy.",
            dot_file.display(),
            dir.display()
        )
    })?;
    outln!("lockdep: class graph written to {}", dot_file.display());
    let svg_file = dir.join("graph.svg");
    match ProcessCommand::new("dot")
        .arg("-Tsvg")
        .arg(&dot_file)
        .arg("-o")
        .arg(&svg_file)
        .status()
    {
        Ok(status) if status.success() => {
            outln!("lockdep: rendered to {}", svg_file.display());
        }
        Ok(status) => eprintln!(
            "cargo-lockdep: Graphviz `dot` failed ({status}) on {}: see its message above; the \
             DOT file is complete, render it with another viewer if need be",
            dot_file.display()
        ),
        Err(_) => outln!("lockdep: install Graphviz (`dot`) to get an SVG as well"),
    }
    Ok(ExitCode::SUCCESS)
}

fn check(dirs: &[PathBuf], baseline: &Option<Baseline>) -> Result<ExitCode, String> {
    let loaded = load_stores(dirs, "cargo lockdep check DIR...")?;
    let graph = &loaded.graph;
    let reported: Vec<_> = graph.findings().into_iter().map(|f| f.classes).collect();
    let cycles = search(graph);
    outln!(
        "lockdep: offline check of {}: {} strong cycle(s) ({} reported while the suite ran)",
        loaded.source,
        cycles.len(),
        cycles.iter().filter(|c| reported.contains(c)).count()
    );
    let mut out = String::new();
    for (i, cycle) in cycles.iter().enumerate() {
        let when = if reported.contains(cycle) {
            "reported online"
        } else {
            "found offline only"
        };
        out += &format!("  [{}] {} ({when})\n", i + 1, summary::chain(cycle, true));
        summary::cycle_edges(graph, cycle, &mut out);
    }
    emit(&out);
    if baseline.is_some() {
        return Ok(judged(&finding_ids(graph, &cycles), baseline));
    }
    Ok(if cycles.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(FOUND)
    })
}

/// `cargo lockdep merge OUT STORE...`: every store is read before anything is written, so a
/// missing, damaged or other-version store leaves OUT as it was.
fn merge(m: &ArgMatches) -> Result<ExitCode, String> {
    let baseline = baseline_of(m)?;
    let out = m.get_one::<String>("out").expect("clap requires OUT");
    let out = store_dir(Path::new(out), "the output given")?;
    let inputs = m
        .get_many::<String>("stores")
        .expect("clap requires a store")
        .map(|store| store_dir(Path::new(store), "the store given"))
        .collect::<Result<Vec<_>, _>>()?;
    let loaded = load_stores(&inputs, "cargo lockdep merge OUT DIR...")?;
    let cannot_write = |what: &Path, e: std::io::Error| {
        format!(
            "cannot write the united store to {}: {e}. Check its permissions, or name another \
             OUT.",
            what.display()
        )
    };
    std::fs::create_dir_all(&out).map_err(|e| cannot_write(&out, e))?;
    // Written beside its place and renamed, so that OUT never holds half a store (and OUT may
    // be one of the stores read).
    let file = store::file_in(&out);
    let partial = out.join(format!(
        ".{}.merging-{}",
        store::FILE_NAME,
        std::process::id()
    ));
    std::fs::write(&partial, loaded.graph.encode())
        .and_then(|()| std::fs::rename(&partial, &file))
        .map_err(|e| {
            let _ = std::fs::remove_file(&partial);
            cannot_write(&file, e)
        })?;
    // A drawing of what OUT held before would no longer match it.
    for stale in ["graph.dot", "graph.svg"] {
        let _ = std::fs::remove_file(out.join(stale));
    }
    outln!(
        "lockdep: united {} store(s) into {} ({} records)",
        inputs.len(),
        file.display(),
        loaded.graph.records().len()
    );
    let findings = print_summary(&loaded.graph, &file.display().to_string());
    Ok(judged(&findings, &baseline))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(line: &str) -> (Vec<String>, Vec<String>) {
        let mut args: Vec<String> = line.split_whitespace().map(String::from).collect();
        let rest = split_test_args(&mut args);
        (args, rest)
    }

    #[test]
    fn runner_arguments_pass_on_in_order_around_our_own() {
        let (ours, cargo) = split("cargo-lockdep lockdep test -- --nocapture");
        assert_eq!(ours, ["cargo-lockdep", "lockdep", "test"]);
        assert_eq!(cargo, ["--", "--nocapture"]);
        let (ours, cargo) = split("cargo-lockdep lockdep test -p foo --nextest --dir d --release");
        assert_eq!(
            ours,
            [
                "cargo-lockdep",
                "lockdep",
                "test",
                "--nextest",
                "--dir",
                "d"
            ]
        );
        assert_eq!(cargo, ["-p", "foo", "--release"]);
        let (ours, cargo) = split("cargo-lockdep lockdep test -- --dir x --nextest");
        assert_eq!(ours.len(), 3);
        assert_eq!(cargo, ["--", "--dir", "x", "--nextest"]);
        let (_, cargo) = split("cargo-lockdep lockdep test --dir=d");
        assert!(cargo.is_empty());
        let (ours, cargo) = split("cargo-lockdep lockdep check d");
        assert_eq!((ours.len(), cargo.len()), (4, 0));
        let matches =
            cli().get_matches_from(["cargo", "lockdep", "test", "--nextest", "--dir", "d"]);
        let (_, m) = matches.subcommand().unwrap();
        let (name, m) = m.subcommand().unwrap();
        assert_eq!(name, "test");
        assert!(m.get_flag("nextest"));
        assert_eq!(dir_of(m).unwrap(), PathBuf::from("d"));
    }
}
