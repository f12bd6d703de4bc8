//! The test runner's command line: what `cargo lockdep test [--nextest] ARGS` runs.
//!
//! - `cargo test ARGS`: ARGS verbatim, so those after `--` reach the test binaries (libtest),
//!   as with `cargo test` itself.
//! - `cargo nextest run ARGS`: nextest takes its own options (`--no-fail-fast`, `-j 4`,
//!   `-E 'test(foo)'`, ...) only *before* its `--`; after it, only test-name filters and the
//!   libtest arguments it emulates (`--ignored`, `--include-ignored`, `--skip PATTERN`,
//!   `--exact`, `--nocapture`), and anything else there fails with "arguments are
//!   unsupported" (exit 96). So `cargo lockdep test --nextest -- --no-fail-fast` moves each
//!   nextest option found after the `--` in front of it, with its value, and leaves the
//!   filters and the emulated libtest arguments behind it.

/// Which runner `cargo lockdep test` starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runner {
    /// `cargo test`.
    CargoTest,
    /// `cargo nextest run`.
    Nextest,
}

impl Runner {
    /// The cargo subcommand's words: `["test"]` or `["nextest", "run"]`.
    pub fn subcommand(self) -> &'static [&'static str] {
        match self {
            Runner::CargoTest => &["test"],
            Runner::Nextest => &["nextest", "run"],
        }
    }

    /// "cargo test" or "cargo nextest run", for messages.
    pub fn name(self) -> String {
        format!("cargo {}", self.subcommand().join(" "))
    }

    /// The arguments after the subcommand, from those given to `cargo lockdep test`.
    pub fn args(self, given: &[String]) -> Vec<String> {
        match self {
            Runner::CargoTest => given.to_vec(),
            Runner::Nextest => nextest_args(given),
        }
    }
}

/// What a run of the runner tells about the tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// They ran (passing or failing): the run's store replaces the previous one.
    Ran,
    /// They did not run, or nothing shows that they did: why, as a clause that follows
    /// "`cargo test ...` exited with status N".
    NotRun(&'static str),
}

/// `cargo nextest run`'s exit statuses that mean the tests did not run.
const NEXTEST_NOT_RUN: &[(i32, &str)] = &[
    (4, ": no test matched the filters, so none ran"),
    (
        96,
        ": nextest could not set the run up (an argument or a configuration it does not \
         accept), so the tests did not run",
    ),
    (101, ": the build failed, so the tests did not run"),
    (
        102,
        ": nextest could not list the tests, so they did not run",
    ),
];

/// No dependency recorded and a status that does not say why.
const NOTHING_RECORDED: &str = " and no test process recorded a lock dependency: the tests \
                                did not run, or failed before any took two locks at once";

/// nextest's status when tests ran and some failed.
const NEXTEST_TESTS_FAILED: i32 = 100;

impl Runner {
    /// Whether `args` (as [`Runner::args`] gives them) build with a profile other than `dev`
    /// and `test`, whose `debug_assertions` are off: `--release`, `-r`, or cargo test's
    /// `--profile NAME` / nextest's `--cargo-profile NAME`.
    pub fn optimized(self, args: &[String]) -> bool {
        let profile_option = match self {
            Runner::CargoTest => "--profile",
            Runner::Nextest => "--cargo-profile",
        };
        let mut cargo_args = args.iter().take_while(|a| *a != "--");
        while let Some(arg) = cargo_args.next() {
            let profile = if arg == profile_option {
                cargo_args.next().map(String::as_str)
            } else {
                arg.strip_prefix(profile_option)
                    .and_then(|rest| rest.strip_prefix('='))
            };
            if arg == "--release" || arg == "-r" {
                return true;
            }
            if profile.is_some_and(|p| p != "dev" && p != "test") {
                return true;
            }
        }
        false
    }

    /// The argument in `args` that makes the runner run no test (`--no-run`; `--list` for the
    /// test binaries of cargo test), if any.
    pub fn runs_no_test(self, args: &[String]) -> Option<&'static str> {
        let split = args.iter().position(|a| a == "--").unwrap_or(args.len());
        if args[..split].iter().any(|a| a == "--no-run") {
            return Some("--no-run");
        }
        let libtest = args.get(split + 1..).unwrap_or_default();
        if self == Runner::CargoTest && libtest.iter().any(|a| a == "--list") {
            return Some("--list");
        }
        None
    }

    /// `cargo test --no-run ...`'s arguments for the build before the run, `None` when the
    /// build cannot be done apart (`--doc`) or is not needed (nextest's exit status says
    /// whether its build failed).
    pub fn build_args(self, args: &[String]) -> Option<Vec<String>> {
        if self == Runner::Nextest {
            return None;
        }
        let cargo_args: Vec<String> = args.iter().take_while(|a| *a != "--").cloned().collect();
        if cargo_args.iter().any(|a| a == "--doc") {
            return None;
        }
        let mut build = vec!["--no-run".to_string()];
        build.extend(cargo_args);
        Some(build)
    }

    /// Whether the tests ran, from the runner's exit status and whether any test process
    /// recorded a dependency. (cargo test's build is checked before its run, so a failing
    /// `cargo test` that recorded nothing failed in the tests or in libtest's arguments.)
    pub fn outcome(self, success: bool, code: Option<i32>, recorded: bool) -> Outcome {
        if success || recorded {
            return Outcome::Ran;
        }
        match (self, code) {
            (Runner::Nextest, Some(NEXTEST_TESTS_FAILED)) => Outcome::Ran,
            (Runner::Nextest, Some(code)) => NEXTEST_NOT_RUN
                .iter()
                .find(|(c, _)| *c == code)
                .map_or(Outcome::NotRun(NOTHING_RECORDED), |(_, why)| {
                    Outcome::NotRun(why)
                }),
            (_, _) => Outcome::NotRun(NOTHING_RECORDED),
        }
    }
}

/// The libtest arguments nextest accepts after `--` (it emulates them), and whether each takes
/// a value.
const NEXTEST_EMULATED: &[(&str, bool)] = &[
    ("--ignored", false),
    ("--include-ignored", false),
    ("--exact", false),
    ("--nocapture", false),
    ("--no-capture", false),
    ("--skip", true),
];

/// Options of `cargo nextest run` (0.9) that take a separate value (`-j 4`, `--profile ci`).
/// An option not listed is moved alone; `--option=value` and `-j4` always travel whole.
const NEXTEST_VALUED: &[&str] = &[
    "--color",
    "-p",
    "--package",
    "--exclude",
    "--bin",
    "--example",
    "--test",
    "--bench",
    "-F",
    "--features",
    "--build-jobs",
    "--cargo-profile",
    "--target",
    "--target-dir",
    "--manifest-path",
    "--cargo-message-format",
    "--config",
    "-R",
    "--rerun",
    "--run-ignored",
    "--partition",
    "--platform-filter",
    "-E",
    "--filterset",
    "-j",
    "--test-threads",
    "--retries",
    "--flaky-result",
    "--max-fail",
    "--debugger",
    "--tracer",
    "--no-tests",
    "--stress-count",
    "--stress-duration",
    "--failure-output",
    "--success-output",
    "--status-level",
    "--final-status-level",
    "--show-progress",
    "--max-progress-running",
    "--message-format",
    "--message-format-version",
    "--archive-file",
    "--archive-format",
    "--extract-to",
    "--cargo-metadata",
    "--workspace-remap",
    "--binaries-metadata",
    "--target-dir-remap",
    "--build-dir-remap",
    "--config-file",
    "--user-config-file",
    "--tool-config-file",
    "-P",
    "--profile",
];

/// `cargo nextest run`'s arguments: those before the first `--` verbatim, then the nextest
/// options found after it (moved in front of the `--`), then `--` and what nextest accepts
/// there (filters, emulated libtest arguments), if anything is left.
fn nextest_args(given: &[String]) -> Vec<String> {
    let Some(split) = given.iter().position(|a| a == "--") else {
        return given.to_vec();
    };
    let mut options: Vec<String> = given[..split].to_vec();
    let mut after: Vec<String> = Vec::new();
    let mut rest = given[split + 1..].iter();
    while let Some(arg) = rest.next() {
        let name = arg.split_once('=').map_or(arg.as_str(), |(name, _)| name);
        if arg == "--" {
            // A second `--`: what follows is for nextest's side of its own `--`, as written.
            after.extend(rest.by_ref().cloned());
        } else if !arg.starts_with('-') || arg == "-" {
            after.push(arg.clone()); // a test-name filter
        } else if let Some(&(_, valued)) = NEXTEST_EMULATED.iter().find(|(n, _)| *n == name) {
            after.push(arg.clone());
            if valued && !arg.contains('=') {
                after.extend(rest.next().cloned());
            }
        } else {
            options.push(arg.clone());
            if NEXTEST_VALUED.contains(&name) && !arg.contains('=') {
                options.extend(rest.next().cloned());
            }
        }
    }
    if !after.is_empty() {
        options.push("--".into());
        options.extend(after);
    }
    options
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(runner: Runner, line: &str) -> Vec<String> {
        let given: Vec<String> = line.split_whitespace().map(String::from).collect();
        runner.args(&given)
    }

    #[test]
    fn the_build_before_a_cargo_test_run_takes_cargos_arguments() {
        let given =
            |line: &str| -> Vec<String> { line.split_whitespace().map(String::from).collect() };
        assert_eq!(
            Runner::CargoTest.build_args(&given("-p foo bank -- --nocapture")),
            Some(given("--no-run -p foo bank"))
        );
        assert_eq!(Runner::CargoTest.build_args(&given("--doc")), None);
        assert_eq!(Runner::Nextest.build_args(&given("-p foo")), None);
    }

    #[test]
    fn optimized_builds_are_recognised_for_each_runner() {
        let given =
            |line: &str| -> Vec<String> { line.split_whitespace().map(String::from).collect() };
        for runner in [Runner::CargoTest, Runner::Nextest] {
            assert!(runner.optimized(&given("-p foo --release")));
            assert!(runner.optimized(&given("-r")));
            assert!(!runner.optimized(&given("-p foo")));
            // After `--`: the test binaries' (or nextest's filters), not cargo's.
            assert!(!runner.optimized(&given("-- --release")));
        }
        assert!(Runner::CargoTest.optimized(&given("--profile bench")));
        assert!(Runner::CargoTest.optimized(&given("--profile=ci")));
        assert!(!Runner::CargoTest.optimized(&given("--profile test")));
        assert!(!Runner::CargoTest.optimized(&given("--profile=dev")));
        assert!(Runner::Nextest.optimized(&given("--cargo-profile release")));
        // nextest's `--profile` is its own (retries, timeouts), not cargo's.
        assert!(!Runner::Nextest.optimized(&given("--profile ci")));
    }

    #[test]
    fn arguments_that_run_no_test_are_recognised() {
        let given =
            |line: &str| -> Vec<String> { line.split_whitespace().map(String::from).collect() };
        for runner in [Runner::CargoTest, Runner::Nextest] {
            assert_eq!(
                runner.runs_no_test(&given("-p a --no-run")),
                Some("--no-run")
            );
            assert_eq!(runner.runs_no_test(&given("-p a -- --no-run")), None);
            assert_eq!(runner.runs_no_test(&given("-p a")), None);
        }
        assert_eq!(
            Runner::CargoTest.runs_no_test(&given("-- --list")),
            Some("--list")
        );
        assert_eq!(Runner::CargoTest.runs_no_test(&given("--list")), None);
    }

    #[test]
    fn the_runners_status_says_whether_the_tests_ran() {
        use Outcome::*;
        for runner in [Runner::CargoTest, Runner::Nextest] {
            assert_eq!(runner.outcome(true, Some(0), false), Ran);
            assert_eq!(runner.outcome(false, Some(101), true), Ran);
            assert!(matches!(runner.outcome(false, None, false), NotRun(_)));
        }
        assert!(matches!(
            Runner::CargoTest.outcome(false, Some(101), false),
            NotRun(_)
        ));
        assert_eq!(Runner::Nextest.outcome(false, Some(100), false), Ran);
        assert_eq!(
            Runner::Nextest.outcome(false, Some(101), false),
            NotRun(": the build failed, so the tests did not run")
        );
        assert!(matches!(
            Runner::Nextest.outcome(false, Some(96), false),
            NotRun(why) if why.contains("an argument or a configuration")
        ));
    }

    #[test]
    fn cargo_test_gets_every_argument_verbatim() {
        assert_eq!(
            args(Runner::CargoTest, "-p foo -- --nocapture --test-threads 1"),
            ["-p", "foo", "--", "--nocapture", "--test-threads", "1"]
        );
        assert_eq!(
            args(Runner::CargoTest, "-- --no-fail-fast"),
            ["--", "--no-fail-fast"]
        );
    }

    #[test]
    fn nextest_gets_its_own_options_before_the_filters() {
        // The README's line.
        assert_eq!(
            args(Runner::Nextest, "-- --no-fail-fast"),
            ["--no-fail-fast"]
        );
        // Options with values travel with them; filters and emulated libtest arguments stay
        // after the `--`.
        assert_eq!(
            args(
                Runner::Nextest,
                "-p foo -- --no-fail-fast -j 2 bank --skip slow --retries=1 --nocapture -E all()"
            ),
            [
                "-p",
                "foo",
                "--no-fail-fast",
                "-j",
                "2",
                "--retries=1",
                "-E",
                "all()",
                "--",
                "bank",
                "--skip",
                "slow",
                "--nocapture",
            ]
        );
        // Nothing after `--`, or nothing to move: unchanged.
        assert_eq!(args(Runner::Nextest, "-p foo bank"), ["-p", "foo", "bank"]);
        assert_eq!(
            args(Runner::Nextest, "-- bank --exact"),
            ["--", "bank", "--exact"]
        );
        assert!(args(Runner::Nextest, "--").is_empty());
        assert_eq!(
            args(Runner::Nextest, "-- --no-fail-fast -- --weird"),
            ["--no-fail-fast", "--", "--weird"]
        );
    }
}
