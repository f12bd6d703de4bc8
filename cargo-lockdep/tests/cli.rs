//! `cargo lockdep` and `LOCKDEP_GRAPH` on a real suite: the fixture workspace in
//! `tests/fixture/`, whose two integration-test files each take one half of an ABBA.
//!
//! The fixture is copied under `CARGO_TARGET_TMPDIR` with the outer workspace's `Cargo.lock`
//! (so it builds offline, with the versions this workspace uses) and builds into a target
//! directory kept there between runs, so lockdep-core is compiled for it once, not per test.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The fixture's copy, made once per run of this binary.
fn fixture() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| copy_fixture("fixture", &["src", "tests"], &[]))
}

/// A copy of `tests/<name>/` under `CARGO_TARGET_TMPDIR` (the files of `dirs`, the manifests of
/// `manifests` besides the root one), its path to lockdep-core made absolute, with the outer
/// workspace's `Cargo.lock`, so that it builds offline, with the versions this workspace uses.
fn copy_fixture(name: &str, dirs: &[&str], manifests: &[&str]) -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(name);
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    for sub in dirs {
        let _ = std::fs::remove_dir_all(dir.join(sub));
        std::fs::create_dir_all(dir.join(sub)).unwrap();
        for file in std::fs::read_dir(source.join(sub)).unwrap() {
            let file = file.unwrap().path();
            std::fs::copy(&file, dir.join(sub).join(file.file_name().unwrap())).unwrap();
        }
    }
    for manifest in manifests {
        std::fs::copy(source.join(manifest), dir.join(manifest)).unwrap();
    }
    let manifest = std::fs::read_to_string(source.join("Cargo.toml")).unwrap();
    let core = workspace.join("lockdep-core");
    let manifest = manifest.replace(
        "path = \"../../../lockdep-core\"",
        &format!("path = {:?}", core.display().to_string()),
    );
    assert!(manifest.contains(&core.display().to_string()));
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    std::fs::copy(workspace.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    dir
}

/// A command run in the fixture, building into the shared fixture target directory, with
/// none of the outer run's lockdep settings.
fn in_fixture(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut cmd = Command::new(program);
    cmd.current_dir(fixture())
        .env(
            "CARGO_TARGET_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("fixture-target"),
        )
        .env_remove("LOCKDEP_GRAPH")
        .env_remove("LOCKDEP")
        .env("LOCKDEP_PROGRESS_SECS", "0");
    cmd
}

fn cargo() -> Command {
    in_fixture(env!("CARGO"))
}

fn cargo_lockdep() -> Command {
    let mut cmd = in_fixture(env!("CARGO_BIN_EXE_cargo-lockdep"));
    cmd.arg("lockdep").env("CARGO", env!("CARGO"));
    cmd
}

/// A fresh store directory.
fn store_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn text(out: &Output) -> String {
    format!(
        "status {}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn without_the_store_the_suite_reports_nothing() {
    let out = cargo()
        .args(["test", "--", "--nocapture"])
        .env("LOCKDEP", "warn")
        .output()
        .unwrap();
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(!all.contains("circular"), "{all}");
}

#[test]
fn the_second_test_process_reports_the_cycle_with_the_first_ones_stack() {
    let dir = store_dir("two-processes");
    let first = cargo()
        .args(["test", "--test", "first_half"])
        .env("LOCKDEP_GRAPH", &dir)
        .output()
        .unwrap();
    assert!(first.status.success(), "{}", text(&first));
    let second = cargo()
        .args(["test", "--test", "second_half", "--", "--nocapture"])
        .env("LOCKDEP_GRAPH", &dir)
        .env("LOCKDEP", "warn")
        .output()
        .unwrap();
    let all = text(&second);
    assert!(second.status.success(), "{all}");
    assert!(
        all.contains("possible circular locking dependency detected"),
        "{all}"
    );
    // The dependency the first process recorded, with its stack and its test.
    assert!(all.contains("first seen in first_half (test "), "{all}");
    assert!(all.contains("lockdep_fixture::Bank::deposit"), "{all}");
    assert!(
        all.contains("lockdep_fixture::Bank::audit_balances"),
        "{all}"
    );
}

#[test]
fn cargo_lockdep_test_fails_and_names_both_tests_and_check_finds_both_cycles() {
    let dir = store_dir("suite");
    let out = cargo_lockdep()
        .args(["test", "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    let all = text(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("1 finding reported while the suite ran"),
        "{all}"
    );
    // Both halves, by test: the one that took accounts -> audit, and the one that reported.
    assert!(stdout.contains("taken by first_half (test "), "{all}");
    assert!(
        stdout.contains("second_half (test audit_takes_audit_then_accounts)"),
        "{all}"
    );

    // Offline: the cycle through the refused dependency as well.
    let check = cargo_lockdep().arg("check").arg(&dir).output().unwrap();
    let all = text(&check);
    assert_eq!(check.status.code(), Some(2), "{all}");
    assert!(
        all.contains("2 strong cycles (1 reported while the suite ran)"),
        "{all}"
    );
    assert!(all.contains("found offline only"), "{all}");
    // The store file's own path, as the summary prints it, names the same store; so does
    // LOCKDEP_GRAPH, as a directory or as that file.
    let file = dir.join("graph.lockdep");
    assert!(stdout.contains(&file.display().to_string()), "{stdout}");
    let by_file = cargo_lockdep().arg("check").arg(&file).output().unwrap();
    assert_eq!(by_file.stdout, check.stdout, "{}", text(&by_file));
    for graph in [&dir, &file] {
        let by_env = cargo_lockdep()
            .arg("check")
            .env("LOCKDEP_GRAPH", graph)
            .output()
            .unwrap();
        assert_eq!(by_env.stdout, check.stdout, "{}", text(&by_env));
    }

    let report = cargo_lockdep().arg("report").arg(&file).output().unwrap();
    assert!(report.status.success(), "{}", text(&report));
    let dot = std::fs::read_to_string(dir.join("graph.dot")).unwrap();
    assert_eq!(dot.matches(", color = red").count(), 4, "{dot}");
    assert!(dot.contains("style = dashed"), "{dot}");
    // With Graphviz installed (CI installs it), the SVG as well.
    if Command::new("dot").arg("-V").output().is_ok() {
        let svg = std::fs::read_to_string(dir.join("graph.svg")).unwrap();
        assert!(svg.contains("<svg"), "{svg}");
    }
}

#[test]
fn the_readmes_summary_is_what_the_fixture_prints() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/suite.md"))
            .unwrap();
    let quoted: Vec<&str> = readme
        .lines()
        .skip_while(|l| {
            !l.starts_with("The summary, from `cargo lockdep test -- --test-threads=1`")
        })
        .skip_while(|l| *l != "```text")
        .skip(1)
        .take_while(|l| *l != "```")
        .collect();
    assert!(quoted.len() > 10, "docs/suite.md's summary block not found");
    let dir = store_dir("readme");
    let out = cargo_lockdep()
        .args(["test", "--dir"])
        .arg(&dir)
        .args(["--", "--test-threads=1"])
        .output()
        .unwrap();
    let all = text(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    let stdout = String::from_utf8_lossy(&out.stdout)
        .replace(&dir.display().to_string(), "/path/to/bank/target/lockdep");
    let printed: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("lockdep: the suite's class graph"))
        .collect();
    assert_eq!(
        quoted.join("\n"),
        printed.join("\n"),
        "docs/suite.md's summary differs from what `cargo lockdep test -- --test-threads=1` prints \
         in the fixture now: update it"
    );
}

#[test]
fn version() {
    for flag in ["--version", "-V"] {
        let out = cargo_lockdep().arg(flag).output().unwrap();
        assert!(out.status.success(), "{}", text(&out));
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("cargo-lockdep {}\n", env!("CARGO_PKG_VERSION"))
        );
    }
}

#[test]
fn report_and_check_before_any_run_say_what_to_run_first() {
    let dir = store_dir("never-run");
    for command in ["report", "check"] {
        for path in [dir.clone(), dir.join("graph.lockdep")] {
            let out = cargo_lockdep().arg(command).arg(&path).output().unwrap();
            let all = text(&out);
            assert_eq!(out.status.code(), Some(1), "{all}");
            assert!(
                all.contains(&format!(
                    "cargo-lockdep: no store in {} (no graph.lockdep): run `cargo lockdep test` \
                     first, or name the directory a run wrote to (`cargo lockdep {command} DIR...`",
                    dir.display()
                )),
                "{all}"
            );
        }
    }
}

#[test]
fn a_file_that_is_not_a_store_is_refused_saying_a_directory_is_needed() {
    let file = Path::new(env!("CARGO_TARGET_TMPDIR")).join("not-a-store.txt");
    std::fs::write(&file, "hello").unwrap();
    let by_env = cargo_lockdep()
        .arg("check")
        .env("LOCKDEP_GRAPH", &file)
        .output()
        .unwrap();
    let by_dir = cargo_lockdep()
        .args(["test", "--dir"])
        .arg(&file)
        .output()
        .unwrap();
    for (out, what) in [(by_env, "LOCKDEP_GRAPH"), (by_dir, "the directory given")] {
        let all = text(&out);
        assert_eq!(out.status.code(), Some(1), "{all}");
        assert!(
            all.contains(&format!(
                "{what} ({}) is a file, and it must name a directory",
                file.display()
            )),
            "{all}"
        );
        assert!(
            all.contains("Name a directory, e.g. target/lockdep."),
            "{all}"
        );
        assert!(!all.contains("running `cargo test"), "{all}");
    }
}

#[test]
fn cargo_lockdep_test_passes_a_clean_suite() {
    let dir = store_dir("clean");
    let out = cargo_lockdep()
        .args(["test", "--dir"])
        .arg(&dir)
        .args(["--test", "first_half"])
        .output()
        .unwrap();
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("no finding was reported"), "{all}");
}

#[test]
fn arguments_after_the_separator_reach_cargo_tests_test_binaries() {
    let dir = store_dir("cargo-test-args");
    let out = cargo_lockdep()
        .args(["test", "--dir"])
        .arg(&dir)
        .args(["--", "--exact", "deposit_takes_accounts_then_audit"])
        .output()
        .unwrap();
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    // libtest got `--exact NAME`: one test of the four ran.
    assert!(
        all.contains("test deposit_takes_accounts_then_audit ... ok"),
        "{all}"
    );
    assert!(
        !all.contains("test audit_takes_audit_then_accounts"),
        "{all}"
    );
    assert!(
        !all.contains("test close_day_takes_accounts_then_ledger"),
        "{all}"
    );
}

/// A store written by a run of `first_half`, and its text.
fn previous_store(name: &str) -> (PathBuf, String) {
    let dir = store_dir(name);
    let out = cargo_lockdep()
        .args(["test", "--dir"])
        .arg(&dir)
        .args(["--test", "first_half"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let store = std::fs::read_to_string(dir.join("graph.lockdep")).unwrap();
    assert!(store.lines().count() > 1, "{store}");
    (dir, store)
}

/// The run did not replace the store, and said so without claiming that no test took two
/// locks.
fn assert_store_kept(dir: &Path, store: &str, all: &str) {
    assert_eq!(
        std::fs::read_to_string(dir.join("graph.lockdep"))
            .ok()
            .as_deref(),
        Some(store),
        "{all}"
    );
    assert!(
        all.contains(&format!("previous store in {} is kept", dir.display())),
        "{all}"
    );
    assert!(all.contains("run `cargo lockdep test` again"), "{all}");
    assert!(!all.contains("no process recorded"), "{all}");
    assert!(!all.contains("no test held two locks"), "{all}");
}

#[test]
fn a_failed_build_is_reported_as_one_and_keeps_the_previous_store() {
    let (dir, store) = previous_store("broken-build");
    let out = cargo_lockdep()
        .args(["test", "--dir"])
        .arg(&dir)
        .args(["--features", "broken"])
        .output()
        .unwrap();
    let all = text(&out);
    assert_eq!(out.status.code(), Some(101), "{all}");
    assert!(
        all.contains(
            "the build failed (`cargo test --no-run --features broken` exited with status \
             101): the tests did not run"
        ),
        "{all}"
    );
    assert_store_kept(&dir, &store, &all);
}

#[test]
fn test_binaries_refusing_their_arguments_keep_the_previous_store() {
    let (dir, store) = previous_store("refused-args");
    let out = cargo_lockdep()
        .args(["test", "--dir"])
        .arg(&dir)
        .args(["--", "--no-such-libtest-flag"])
        .output()
        .unwrap();
    let all = text(&out);
    assert_eq!(out.status.code(), Some(101), "{all}");
    assert!(
        all.contains(
            "`cargo test -- --no-such-libtest-flag` exited with status 101 and no test \
             process recorded a lock dependency"
        ),
        "{all}"
    );
    assert_store_kept(&dir, &store, &all);

    // A run that does run the tests replaces it, and leaves nothing else behind.
    let out = cargo_lockdep()
        .args(["test", "--dir"])
        .arg(&dir)
        .args(["--test", "second_half"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let new = std::fs::read_to_string(dir.join("graph.lockdep")).unwrap();
    assert_ne!(new, store);
    assert!(new.contains("second_half"), "{new}");
    assert!(!new.contains("first_half"), "{new}");
    let entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(entries, ["graph.lockdep"]);
}

#[test]
fn release_turns_the_checks_on_for_the_crates_under_test() {
    let dir = store_dir("release");
    let out = cargo_lockdep()
        .args(["test", "--dir"])
        .arg(&dir)
        .arg("--release")
        .output()
        .unwrap();
    let all = text(&out);
    assert!(
        all.contains("adding `--features lockdep-core/release-checks`"),
        "{all}"
    );
    assert!(
        all.contains("running `cargo test --features lockdep-core/release-checks --release`"),
        "{all}"
    );
    // The checks ran: the same finding as in a debug build.
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(
        all.contains("1 finding reported while the suite ran"),
        "{all}"
    );
}

/// A crate of its own with a test and no dependency on lockdep-core.
fn crate_without_lockdep() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-lockdep");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"no-lockdep\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n\
         [workspace]\n",
    )
    .unwrap();
    std::fs::write(dir.join("src/lib.rs"), "#[test]\nfn passes() {}\n").unwrap();
    dir
}

#[test]
fn release_is_refused_where_the_checks_cannot_be_turned_on() {
    let dir = store_dir("release-refused");
    let out = cargo_lockdep()
        .current_dir(crate_without_lockdep())
        .args(["test", "--dir"])
        .arg(&dir)
        .arg("--release")
        .output()
        .unwrap();
    let all = text(&out);
    assert_eq!(out.status.code(), Some(101), "{all}");
    assert!(
        all.contains(
            "cargo could not turn on `lockdep-core/release-checks` (see its message above): \
             none of the packages tested depends on lockdep-core directly"
        ),
        "{all}"
    );
    assert!(all.contains("the tests did not run"), "{all}");
    assert!(all.contains("features = [\"release-checks\"]"), "{all}");
    assert!(!all.contains("test passes ... ok"), "{all}");
    assert!(!all.contains("no process recorded"), "{all}");
}

#[test]
fn arguments_that_run_no_test_leave_the_store_alone() {
    let (dir, store) = previous_store("no-test-run");
    for args in [&["--no-run"][..], &["--", "--list"][..]] {
        let out = cargo_lockdep()
            .args(["test", "--dir"])
            .arg(&dir)
            .args(args)
            .output()
            .unwrap();
        let all = text(&out);
        assert_eq!(out.status.code(), Some(0), "{all}");
        let what = args.last().unwrap();
        assert!(
            all.contains(&format!(
                "no test ran, so the previous store in {} is kept; run `cargo lockdep test` \
                 without `{what}`",
                dir.display()
            )),
            "{all}"
        );
        assert!(!all.contains("no process recorded"), "{all}");
        assert_eq!(
            std::fs::read_to_string(dir.join("graph.lockdep")).unwrap(),
            store
        );
    }
}

/// Whether `cargo nextest` can run here; says so on stderr when the calling test is skipped.
fn nextest_installed(test: &str) -> bool {
    let nextest = Command::new(env!("CARGO"))
        .args(["nextest", "--version"])
        .output();
    let installed = nextest.is_ok_and(|o| o.status.success());
    if !installed {
        eprintln!(
            "SKIPPED {test}: cargo-nextest is not installed, so this test checks nothing \
             (`cargo install cargo-nextest --locked` to run it)"
        );
    }
    installed
}

#[test]
fn cargo_lockdep_test_with_nextest_runs_each_test_in_its_own_process() {
    if !nextest_installed("cargo_lockdep_test_with_nextest_runs_each_test_in_its_own_process") {
        return;
    }
    let dir = store_dir("nextest");
    // The guide's line (docs/suite.md): nextest's own option written after `--` reaches nextest.
    let out = cargo_lockdep()
        .args(["test", "--nextest", "--dir"])
        .arg(&dir)
        .args(["--", "--no-fail-fast"])
        .output()
        .unwrap();
    let all = text(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(
        all.contains("running `cargo nextest run --no-fail-fast`"),
        "{all}"
    );
    // Whatever order nextest ran them in, the inversion is found and both sides are named.
    assert!(
        all.contains("possible circular locking dependency"),
        "{all}"
    );
    assert!(
        all.contains("(test deposit_takes_accounts_then_audit)"),
        "{all}"
    );
    assert!(
        all.contains("(test audit_takes_audit_then_accounts)"),
        "{all}"
    );
}

#[test]
fn nextest_gets_filters_and_its_own_options_from_after_the_separator() {
    if !nextest_installed("nextest_gets_filters_and_its_own_options_from_after_the_separator") {
        return;
    }
    let dir = store_dir("nextest-filter");
    let out = cargo_lockdep()
        .args(["test", "--nextest", "--dir"])
        .arg(&dir)
        .args([
            "--",
            "deposit_takes_accounts_then_audit",
            "--no-fail-fast",
            "-j",
            "1",
            "--exact",
        ])
        .output()
        .unwrap();
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(
        all.contains(
            "running `cargo nextest run --no-fail-fast -j 1 -- \
             deposit_takes_accounts_then_audit --exact`"
        ),
        "{all}"
    );
    // The filter reached nextest: one test of the four ran.
    assert!(all.contains("1 test run: 1 passed, 3 skipped"), "{all}");
}

#[test]
fn nextest_release_turns_the_checks_on_too() {
    if !nextest_installed("nextest_release_turns_the_checks_on_too") {
        return;
    }
    let dir = store_dir("nextest-release");
    let out = cargo_lockdep()
        .args(["test", "--nextest", "--dir"])
        .arg(&dir)
        .args(["--release", "--", "--no-fail-fast"])
        .output()
        .unwrap();
    let all = text(&out);
    assert!(
        all.contains(
            "running `cargo nextest run --features lockdep-core/release-checks --release \
             --no-fail-fast`"
        ),
        "{all}"
    );
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(
        all.contains("possible circular locking dependency"),
        "{all}"
    );
}

#[test]
fn a_failed_nextest_build_or_setup_keeps_the_previous_store() {
    if !nextest_installed("a_failed_nextest_build_or_setup_keeps_the_previous_store") {
        return;
    }
    let (dir, store) = previous_store("nextest-broken");
    let out = cargo_lockdep()
        .args(["test", "--nextest", "--dir"])
        .arg(&dir)
        .args(["--features", "broken"])
        .output()
        .unwrap();
    let all = text(&out);
    assert_eq!(out.status.code(), Some(101), "{all}");
    assert!(
        all.contains(
            "`cargo nextest run --features broken` exited with status 101: the build failed, \
             so the tests did not run"
        ),
        "{all}"
    );
    assert_store_kept(&dir, &store, &all);

    // An argument nextest does not take after its `--` (the libtest one it does not emulate).
    let out = cargo_lockdep()
        .args(["test", "--nextest", "--dir"])
        .arg(&dir)
        .args(["--", "--skip"])
        .output()
        .unwrap();
    let all = text(&out);
    assert_eq!(out.status.code(), Some(96), "{all}");
    assert!(
        all.contains(
            "`cargo nextest run -- --skip` exited with status 96: nextest could not set the \
             run up"
        ),
        "{all}"
    );
    assert_store_kept(&dir, &store, &all);
}

/// Two shards of the fixture suite, run apart as CI's jobs would be: `first_half`, and
/// `second_half` with `third`, each with its own store. Made once per run.
fn shards() -> &'static [PathBuf; 2] {
    static SHARDS: OnceLock<[PathBuf; 2]> = OnceLock::new();
    SHARDS.get_or_init(|| {
        [&["first_half"][..], &["second_half", "third"][..]].map(|binaries| {
            let half = binaries[0];
            let dir = store_dir(&format!("shard-{half}"));
            let out = cargo_lockdep()
                .args(["test", "--dir"])
                .arg(&dir)
                .args(binaries.iter().flat_map(|b| ["--test", b]))
                .args(["--", "--test-threads=1"])
                .output()
                .unwrap();
            // Each shard is clean on its own: the inversion is split between them.
            assert_eq!(out.status.code(), Some(0), "{}", text(&out));
            assert!(
                text(&out).contains("no finding was reported"),
                "{}",
                text(&out)
            );
            dir
        })
    })
}

#[test]
fn shards_clean_alone_united_show_the_abba_with_both_halves() {
    let [first, second] = shards();
    for shard in [first, second] {
        let out = cargo_lockdep().arg("check").arg(shard).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    }
    let merged = store_dir("merged");
    let out = cargo_lockdep()
        .arg("merge")
        .arg(&merged)
        .arg(first)
        .arg(second.join("graph.lockdep"))
        .output()
        .unwrap();
    let all = text(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    let file = merged.join("graph.lockdep");
    assert!(
        all.contains(&format!("united 2 stores into {}", file.display())),
        "{all}"
    );
    // The ABBA, each half with its program, its test and where it was first seen.
    assert!(
        all.contains(
            "possible circular locking dependency: src/lib.rs:22:23 -> src/lib.rs:23:20 -> \
             src/lib.rs:22:23"
        ),
        "{all}"
    );
    assert!(
        all.contains(
            "src/lib.rs:22:23 -> src/lib.rs:23:20 (EN)  taken by first_half (test \
             close_day_takes_accounts_then_ledger)"
        ),
        "{all}"
    );
    assert!(
        all.contains("first seen at lockdep_fixture::Bank::deposit (src/lib.rs:32)"),
        "{all}"
    );
    assert!(
        all.contains(
            "src/lib.rs:23:20 -> src/lib.rs:22:23 (EN)  taken by second_half (test \
             audit_takes_audit_then_accounts)"
        ),
        "{all}"
    );
    assert!(
        all.contains("first seen at lockdep_fixture::Bank::audit_balances (src/lib.rs:44)"),
        "{all}"
    );
    // Both ends of each half: where the lock already held was taken, beside the stack that
    // took the other one.
    assert!(
        all.contains("while holding src/lib.rs:22:23, taken at src/lib.rs:30:"),
        "{all}"
    );
    assert!(
        all.contains("while holding src/lib.rs:23:20, taken at src/lib.rs:43:"),
        "{all}"
    );
    assert!(all.contains("recorded in different stores"), "{all}");

    // The united store is a store like any other; `check` over the shards themselves finds
    // the same cycles without writing anything.
    let of_merged = cargo_lockdep().arg("check").arg(&merged).output().unwrap();
    let of_shards = cargo_lockdep()
        .arg("check")
        .arg(first)
        .arg(second)
        .output()
        .unwrap();
    assert_eq!(of_merged.status.code(), Some(2), "{}", text(&of_merged));
    assert_eq!(of_shards.status.code(), Some(2), "{}", text(&of_shards));
    let cycles = |out: &Output| -> Vec<String> {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .skip(1)
            .map(String::from)
            .collect()
    };
    assert_eq!(cycles(&of_merged), cycles(&of_shards));
    assert!(
        String::from_utf8_lossy(&of_merged.stdout).contains("2 strong cycles"),
        "{}",
        text(&of_merged)
    );
    let report = cargo_lockdep().arg("report").arg(&merged).output().unwrap();
    assert!(report.status.success(), "{}", text(&report));
    assert!(merged.join("graph.dot").exists());
}

/// The guide's CI recipe (docs/ci.md) as written: nextest partitions of the fixture suite, one store per
/// partition (as one CI job each would upload), merged. `slice:M/3` deals the suite's four
/// tests out round-robin across its binaries (`close_day`, `reconcile` | `deposit` | `audit`), so
/// no partition holds both orders of any cycle.
#[test]
fn nextest_partitions_clean_alone_merged_show_the_abba() {
    if !nextest_installed("nextest_partitions_clean_alone_merged_show_the_abba") {
        return;
    }
    let partitions = ["slice:1/3", "slice:2/3", "slice:3/3"].map(|partition| {
        let dir = store_dir(&format!("partition-{}", &partition[6..7]));
        let out = cargo_lockdep()
            .args(["test", "--nextest", "--dir"])
            .arg(&dir)
            .args(["--", "--partition", partition])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{partition}: {}", text(&out));
        assert!(
            text(&out).contains("no finding was reported"),
            "{partition}: {}",
            text(&out)
        );
        dir
    });
    let merged = store_dir("partitions-merged");
    let out = cargo_lockdep()
        .arg("merge")
        .arg(&merged)
        .args(&partitions)
        .output()
        .unwrap();
    let all = text(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(
        all.contains("close_day_takes_accounts_then_ledger")
            && all.contains("audit_takes_audit_then_accounts")
            && all.contains("possible circular locking dependency")
            && all.contains("recorded in different stores"),
        "{all}"
    );
}

/// A copy of the first shard's store, changed by `edit`, in a directory of its own.
fn edited_shard(name: &str, edit: impl FnOnce(String) -> String) -> PathBuf {
    let dir = store_dir(name);
    std::fs::create_dir_all(&dir).unwrap();
    let text = std::fs::read_to_string(shards()[0].join("graph.lockdep")).unwrap();
    std::fs::write(dir.join("graph.lockdep"), edit(text)).unwrap();
    dir
}

#[test]
fn a_store_that_cannot_be_read_stops_merge_check_and_report_naming_it() {
    let [_, second] = shards();
    let missing = store_dir("merge-missing");
    let other_version = edited_shard("merge-version", |t| {
        t.replacen("lockdep-graph 2", "lockdep-graph 1", 1)
    });
    let damaged = edited_shard("merge-damaged", |t| t.replacen("close_day", "close_dax", 1));
    let cases = [
        (&missing, "no store in"),
        (&other_version, "written by another version of lockdep"),
        (&damaged, "is damaged"),
    ];
    for (bad, why) in cases {
        let out_dir = store_dir("merge-refused");
        let merge = cargo_lockdep()
            .arg("merge")
            .arg(&out_dir)
            .arg(second)
            .arg(bad)
            .output()
            .unwrap();
        let check = cargo_lockdep()
            .arg("check")
            .arg(second)
            .arg(bad)
            .output()
            .unwrap();
        let report = cargo_lockdep()
            .arg("report")
            .arg(bad)
            .arg(second)
            .output()
            .unwrap();
        for out in [&merge, &check, &report] {
            let all = text(out);
            assert_eq!(out.status.code(), Some(1), "{all}");
            assert!(all.contains(&bad.display().to_string()), "{all}");
            assert!(all.contains(why), "{all}");
            assert_eq!(
                String::from_utf8_lossy(&out.stderr)
                    .matches("cargo-lockdep:")
                    .count(),
                1,
                "one message: {all}"
            );
            assert!(out.stdout.is_empty(), "{all}");
        }
        assert!(!out_dir.exists(), "merge wrote {}", out_dir.display());
    }
}

#[test]
fn a_torn_tail_is_left_out_saying_so() {
    let [first, second] = shards();
    let line = std::fs::read_to_string(first.join("graph.lockdep"))
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .to_string();
    let torn = edited_shard("merge-torn", |t| format!("{t}{}", &line[..line.len() / 2]));
    let merged = store_dir("merged-torn");
    let out = cargo_lockdep()
        .arg("merge")
        .arg(&merged)
        .arg(&torn)
        .arg(second)
        .output()
        .unwrap();
    let all = text(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(
        all.contains(&format!(
            "the last record of {} is incomplete ({} bytes",
            torn.join("graph.lockdep").display(),
            line.len() / 2
        )),
        "{all}"
    );
    assert!(
        all.contains("possible circular locking dependency"),
        "{all}"
    );
    let united = std::fs::read_to_string(merged.join("graph.lockdep")).unwrap();
    assert!(united.ends_with('\n'), "{united}");
}

#[test]
fn every_command_documents_its_exit_statuses_and_a_usage_error_is_not_a_finding() {
    for command in [&[][..], &["test"], &["report"], &["check"], &["merge"]] {
        let out = cargo_lockdep()
            .args(command)
            .arg("--help")
            .output()
            .unwrap();
        let all = text(&out);
        assert_eq!(out.status.code(), Some(0), "{all}");
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(help.contains("Exit status:\n  0   "), "{command:?}: {all}");
        assert!(help.contains("\n  64  usage error"), "{command:?}: {all}");
        if command != ["report"] {
            assert!(help.contains("\n  2   "), "{command:?}: {all}");
        }
    }
    // Not 2, which says "found something".
    for wrong in [
        &["merge"][..],
        &["check", "--no-such-option"],
        &["no-such-command"],
    ] {
        let out = cargo_lockdep().args(wrong).output().unwrap();
        assert_eq!(out.status.code(), Some(64), "{wrong:?}: {}", text(&out));
    }
}

#[test]
fn long_merges_and_searches_say_how_far_they_have_come() {
    let [first, second] = shards();
    let merged = store_dir("merged-progress");
    let out = cargo_lockdep()
        .arg("merge")
        .arg(&merged)
        .arg(first)
        .arg(second)
        // A line at every step: as if each took longer than the interval.
        .env("LOCKDEP_PROGRESS_SECS", "0.000001")
        .output()
        .unwrap();
    let all = text(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(" reading store 2 of 2"), "{all}");
    assert!(
        stderr.contains(" searching for cycles: 0 of 4 dependencies searched from"),
        "{all}"
    );
    // The default (15 s) prints nothing for a quick one.
    let quiet = cargo_lockdep()
        .arg("check")
        .arg(&merged)
        .env_remove("LOCKDEP_PROGRESS_SECS")
        .output()
        .unwrap();
    assert!(!text(&quiet).contains("searching"), "{}", text(&quiet));
}

/// `report --format FORMAT` over both shards, written with `--output`, parsed.
fn machine_report(format: &str) -> serde_json::Value {
    let [first, second] = shards();
    let file = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("report.{format}"));
    let _ = std::fs::remove_file(&file);
    let out = cargo_lockdep()
        .args(["report", "--format", format, "--output"])
        .arg(&file)
        .arg(first)
        .arg(second)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(out.stdout.is_empty(), "{}", text(&out));
    serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap()
}

#[test]
fn report_as_json_lists_each_finding_with_its_edges_tests_and_sites() {
    let report = machine_report("json");
    assert_eq!(report["schema"], "cargo-lockdep/report");
    assert_eq!(report["version"], 1);
    assert_eq!(report["stores"].as_array().unwrap().len(), 2);
    assert_eq!(report["graph"]["dependencies"], 4);
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 2, "{report:#}");
    let abba = &findings[0];
    assert_eq!(
        abba["id"], "cycle: src/lib.rs:22:23 -> src/lib.rs:23:20",
        "{abba:#}"
    );
    assert_eq!(abba["kind"], "cycle");
    assert_eq!(abba["found"], "offline");
    assert_eq!(
        abba["classes"][0]["site"],
        serde_json::json!({"file": "src/lib.rs", "line": 22, "column": 23})
    );
    let edges = abba["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 2);
    // accounts -> audit, first seen in deposit; audit -> accounts, which closes the cycle.
    assert_eq!(edges[0]["kinds"], serde_json::json!(["EN"]));
    assert_eq!(edges[0]["taken_by"][0]["program"], "first_half");
    assert_eq!(
        edges[0]["site"],
        serde_json::json!({"file": "src/lib.rs", "line": 32, "column": null})
    );
    assert_eq!(
        edges[0]["frames"][0]["function"],
        "lockdep_fixture::Bank::deposit"
    );
    assert_eq!(edges[1]["closes"], true);
    assert_eq!(
        edges[1]["taken_by"][0],
        serde_json::json!({"program": "second_half", "test": "audit_takes_audit_then_accounts"})
    );
    assert_eq!(edges[1]["site"]["line"], 44);
}

#[test]
fn report_as_sarif_is_valid_sarif_2_1_0_located_at_the_closing_acquisition() {
    let sarif = machine_report("sarif");
    // The official schema, as published. Its patterns for `language` have a stray `]`: a
    // literal `]` in the ECMAScript regexes JSON Schema speaks of, but an error to this
    // validator's regex check of the schema itself. The same literal, escaped, means the same
    // and passes (this output has no `language` anyway).
    let published = include_str!("data/sarif-schema-2.1.0.json");
    let stray = "-[a-zA-Z]{2}]?$";
    assert!(published.matches(stray).count() >= 2);
    let schema: serde_json::Value =
        serde_json::from_str(&published.replace(stray, "-[a-zA-Z]{2}\\\\]?$")).unwrap();
    let validator = jsonschema::draft7::new(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{sarif:#}");
    // And a document that breaks the schema is caught: the validation is real.
    let mut broken = sarif.clone();
    broken["version"] = "2.0.0".into();
    assert!(!validator.is_valid(&broken));

    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "cargo-lockdep");
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "{sarif:#}");
    let abba = &results[0];
    assert_eq!(abba["ruleId"], "lockdep/circular-locking-dependency");
    assert_eq!(
        abba["partialFingerprints"]["lockdepFinding/v1"],
        "cycle: src/lib.rs:22:23 -> src/lib.rs:23:20"
    );
    // audit_balances takes accounts under audit: src/lib.rs:44, relative to the root.
    let at = &abba["locations"][0]["physicalLocation"];
    assert_eq!(at["artifactLocation"]["uri"], "src/lib.rs");
    assert_eq!(at["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    assert_eq!(at["region"]["startLine"], 44);
    // The other half: deposit takes audit under accounts, src/lib.rs:32.
    let related = abba["relatedLocations"].as_array().unwrap();
    assert_eq!(related.len(), 1);
    assert_eq!(related[0]["physicalLocation"]["region"]["startLine"], 32);
    assert!(
        related[0]["message"]["text"]
            .as_str()
            .unwrap()
            .contains("first_half (test close_day_takes_accounts_then_ledger)"),
        "{related:#?}"
    );
    let root = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .unwrap();
    assert!(
        root.starts_with("file:///") && root.ends_with("/fixture/"),
        "{root}"
    );
}

#[test]
fn report_to_an_unwritable_output_fails_saying_so() {
    let [first, _] = shards();
    let file = Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-such-dir/report.json");
    let out = cargo_lockdep()
        .args(["report", "--format", "json", "--output"])
        .arg(&file)
        .arg(first)
        .output()
        .unwrap();
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains(&format!("cannot write the report to {}", file.display())),
        "{all}"
    );
    let bad = cargo_lockdep()
        .args(["report", "--format", "xml"])
        .arg(first)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(64), "{}", text(&bad));
}

/// A fresh directory for baseline files.
fn baseline_dir(name: &str) -> PathBuf {
    let dir = store_dir(&format!("baseline-{name}"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_baseline_accepts_known_findings_fails_on_new_ones_and_lists_stale_ones() {
    let [first, second] = shards();
    let merged = store_dir("baseline-merged");
    let out = cargo_lockdep()
        .arg("merge")
        .arg(&merged)
        .args([first, second])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let file = baseline_dir("accepted").join("lockdep-baseline.toml");
    let out = cargo_lockdep()
        .args(["baseline", "--output"])
        .arg(&file)
        .arg(&merged)
        .output()
        .unwrap();
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(
        all.contains("2 findings accepted, 2 of them new (fill in their `reason`)"),
        "{all}"
    );
    let written = std::fs::read_to_string(&file).unwrap();
    let abba =
        "kind = \"cycle\"\nclasses = [\"src/lib.rs:22:23\", \"src/lib.rs:23:20\"]\nreason = \"\"";
    assert!(written.contains(abba), "{written}");

    // Accepted: the whole suite run at once, another run and another store, finds the same
    // two findings by the same identities.
    let dir = store_dir("baseline-suite");
    let out = cargo_lockdep()
        .args(["test", "--baseline"])
        .arg(&file)
        .arg("--dir")
        .arg(&dir)
        .args(["--", "--test-threads=1"])
        .output()
        .unwrap();
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(
        all.contains("1 finding reported while the suite ran"),
        "{all}"
    );
    assert!(all.contains("2 findings accepted, 0 new"), "{all}");

    // New: the ABBA no longer in the file fails the check and is named.
    let without_abba = baseline_dir("new").join("b.toml");
    std::fs::write(
        &without_abba,
        written.replace(&format!("[[finding]]\n{abba}"), ""),
    )
    .unwrap();
    let out = cargo_lockdep()
        .args(["check", "--baseline"])
        .arg(&without_abba)
        .arg(&merged)
        .output()
        .unwrap();
    let all = text(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(all.contains("1 finding accepted, 1 new"), "{all}");
    assert!(
        all.contains("  new: cycle: src/lib.rs:22:23 -> src/lib.rs:23:20\n"),
        "{all}"
    );

    // Stale: against one clean shard, both entries are listed, with their reasons, and
    // nothing fails; `baseline` then rewrites the file without them.
    let reasoned = baseline_dir("stale").join("b.toml");
    std::fs::write(
        &reasoned,
        written.replacen("reason = \"\"", "reason = \"audited at start-up only\"", 1),
    )
    .unwrap();
    let out = cargo_lockdep()
        .args(["merge", "--baseline"])
        .arg(&reasoned)
        .arg(store_dir("baseline-first-only"))
        .arg(first)
        .output()
        .unwrap();
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("0 findings accepted, 0 new"), "{all}");
    assert!(all.contains("2 baseline entries no longer found"), "{all}");
    assert!(
        all.contains("  stale: cycle: src/lib.rs:22:23 -> src/lib.rs:23:20 (reason: audited at start-up only)"),
        "{all}"
    );
    // Rewritten from the union again, the reason given is kept.
    let out = cargo_lockdep()
        .args(["baseline", "--output"])
        .arg(&reasoned)
        .arg(&merged)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("0 of them new"), "{}", text(&out));
    assert!(std::fs::read_to_string(&reasoned)
        .unwrap()
        .contains("reason = \"audited at start-up only\""));
}

#[test]
fn a_baseline_that_cannot_be_used_stops_the_command_before_it_runs_or_writes() {
    let [first, _] = shards();
    let bad = baseline_dir("bad").join("b.toml");
    let text_of_bad =
        "version = 1\n\n[[finding]]\nkind = \"cycle\"\nclasses = [\"a\", \"b\"]\nreasn = \"typo\"\n";
    std::fs::write(&bad, text_of_bad).unwrap();
    let dir = store_dir("baseline-bad-run");
    let run = cargo_lockdep()
        .args(["test", "--dir"])
        .arg(&dir)
        .arg("--baseline")
        .arg(&bad)
        .output()
        .unwrap();
    let check = cargo_lockdep()
        .args(["check", "--baseline"])
        .arg(&bad)
        .arg(first)
        .output()
        .unwrap();
    let rewrite = cargo_lockdep()
        .args(["baseline", "--output"])
        .arg(&bad)
        .arg(first)
        .output()
        .unwrap();
    for out in [&run, &check, &rewrite] {
        let all = text(out);
        assert_eq!(out.status.code(), Some(1), "{all}");
        assert!(
            all.contains(&format!("cannot use the baseline {}", bad.display())),
            "{all}"
        );
        assert!(all.contains("reasn"), "{all}");
        assert!(!all.contains("running `cargo test"), "{all}");
    }
    assert!(!dir.exists(), "the run wrote {}", dir.display());
    assert_eq!(std::fs::read_to_string(&bad).unwrap(), text_of_bad);
    let missing = cargo_lockdep()
        .args(["check", "--baseline", "no-such-baseline.toml"])
        .arg(first)
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1), "{}", text(&missing));
}

/// An async `#[lockdep_core::test]` where lockdep-core's `tokio` feature is off: one error that
/// names the feature, not a missing function of lockdep's internals.
#[test]
fn an_async_lockdep_test_without_the_tokio_feature_names_the_feature() {
    let out = cargo()
        .args([
            "check",
            "--offline",
            "--lib",
            "--tests",
            "--features",
            "async-test-without-tokio",
        ])
        .output()
        .unwrap();
    let all = text(&out);
    assert!(!out.status.success(), "{all}");
    assert!(
        all.contains("an async `#[lockdep_core::test]` runs on tokio: turn on lockdep-core's `tokio` feature"),
        "{all}"
    );
    assert!(!all.contains("run_async_test"), "{all}");
}

/// The `--all-locks` fixture's copy (`tests/fixture-all-locks/`: an application whose lock and
/// the lock of a path dependency on parking_lot 0.13 are taken in both orders), made once.
fn all_locks_fixture() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        copy_fixture(
            "fixture-all-locks",
            &["src", "tests", "pool/src"],
            &["pool/Cargo.toml"],
        )
    })
}

/// `cargo lockdep test` in the `--all-locks` fixture, with `args`, offline, into `store`.
fn in_all_locks_fixture(store: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cargo-lockdep"));
    cmd.current_dir(all_locks_fixture())
        // The other fixture's target directory: the same dependencies, built once.
        .env(
            "CARGO_TARGET_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("fixture-target"),
        )
        .env_remove("LOCKDEP_GRAPH")
        .env_remove("LOCKDEP")
        .env("LOCKDEP_PROGRESS_SECS", "0")
        .env("CARGO_NET_OFFLINE", "true")
        .args(["lockdep", "test", "--dir"])
        .arg(store)
        .args(args);
    cmd.output().unwrap()
}

/// A deadlock through a dependency's lock: without `--all-locks` the dependency's parking_lot
/// lock is invisible and the suite is clean; with it, parking_lot 0.13 is lockdep's throughout
/// the graph and the inversion between the application's lock and the pool's is reported, the
/// pool's class named by its creation site in the dependency's source.
#[test]
fn all_locks_checks_the_parking_lot_locks_inside_dependencies() {
    let store = Path::new(env!("CARGO_TARGET_TMPDIR")).join("all-locks-store");
    let _ = std::fs::remove_dir_all(&store);

    let out = in_all_locks_fixture(&store, &[]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(!all.contains("reported while the suite ran"), "{all}");

    let out = in_all_locks_fixture(&store, &["--all-locks"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(
        all.contains("--all-locks: parking_lot 0.13 is lockdep's checked locks for: pool"),
        "{all}"
    );
    assert!(
        all.contains("1 finding reported while the suite ran"),
        "{all}"
    );
    // The pool's lock, by its creation site in the dependency's own source.
    assert!(
        all.contains(
            "possible circular locking dependency: pool/src/lib.rs:15:26 -> src/lib.rs:19:23 -> \
             pool/src/lib.rs:15:26"
        ),
        "{all}"
    );
    // Nothing of the project was edited: the shim lives in the store's directory.
    assert!(store.join("parking_lot-shim/Cargo.toml").exists());
    let manifest = std::fs::read_to_string(all_locks_fixture().join("Cargo.toml")).unwrap();
    assert!(!manifest.contains("patch"), "{manifest}");
}
