//! `cargo lockdep test`: the suite run with one shared store, the runner's arguments put where
//! each runner takes them, the previous store kept unless the tests really ran.

use super::*;

/// Splits `cargo lockdep test`'s own options (`--nextest`, `--dir`, `--baseline`, `--help`, anywhere before
/// the first `--`: neither runner has options of those names) from the arguments for the
/// runner, which keep their order — a `--` included, which clap would swallow.
pub(crate) fn split_test_args(args: &mut Vec<String>) -> Vec<String> {
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
            "--nextest" | "--all-locks" | "-h" | "--help" => args.push(arg),
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

pub(crate) fn test(m: &ArgMatches, passthrough: &[String]) -> Result<ExitCode, String> {
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
    // Every parking_lot 0.13 of the dependency graph replaced by lockdep's (a `--config` patch,
    // which both runners pass on to the builds they make).
    if m.get_flag("all_locks") {
        let patch = all_locks::prepare(&dir, &args)?;
        args.splice(0..0, ["--config".to_string(), patch]);
    }
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
        move || progress::while_running(&done, &staging)
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
