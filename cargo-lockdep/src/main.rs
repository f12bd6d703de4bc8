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
mod cli;
mod machine;
mod progress;
mod runner;
mod sarif;
mod summary;

use baseline::Baseline;
use clap::ArgMatches;
use cli::cli;
use lockdep_core::store::format::StoredClass;
use lockdep_core::store::{self, FindingId, StoredGraph};
use progress::{search, Progress};
use runner::{Outcome, Runner};
use std::path::{Path, PathBuf};
use std::process::{Command as ProcessCommand, ExitCode};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

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

// After `outln!`, which they use.
mod all_locks;
mod test_run;
mod words;

/// The exit status for "lockdep found something" (cargo's own failures keep their status).
pub(crate) const FOUND: u8 = 2;
/// The exit status for a command line cargo-lockdep does not accept (sysexits' `EX_USAGE`):
/// not clap's default 2, which CI would read as a finding.
pub(crate) const USAGE: u8 = 64;

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
    let passthrough = test_run::split_test_args(&mut args);
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
        Some(("test", m)) => test_run::test(m, &passthrough),
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
        "lockdep: baseline {} written: {} accepted, {new} of them new (fill in their \
         `reason`), {} no longer found removed",
        output.display(),
        words::count(ids.len(), "finding", "findings"),
        words::count(removed, "entry", "entries"),
    );
    Ok(ExitCode::SUCCESS)
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
        "lockdep: offline check of {}: {} ({} reported while the suite ran)",
        loaded.source,
        words::count(cycles.len(), "strong cycle", "strong cycles"),
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
        "lockdep: united {} into {} ({})",
        words::count(inputs.len(), "store", "stores"),
        file.display(),
        words::count(loaded.graph.records().len(), "record", "records")
    );
    let findings = print_summary(&loaded.graph, &file.display().to_string());
    Ok(judged(&findings, &baseline))
}
