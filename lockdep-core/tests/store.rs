//! `LOCKDEP_GRAPH`: one class graph shared by the processes of a suite. Each test here runs
//! this very test binary again as child processes (the `#[ignore]`d tests below, which do
//! nothing without the parent's environment), the way `cargo test` and `cargo nextest` run
//! the processes of a suite.
#![cfg(debug_assertions)]

use lockdep_core::store::format::{FindingKind, HEADER};
use lockdep_core::store::{self, StoredGraph};
use lockdep_core::{capture, LockClass, Mutex};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

// The locks of the children: static keys, so that two processes name them alike.
static ALPHA: LockClass = LockClass::new("store-alpha");
static BETA: LockClass = LockClass::new("store-beta");
static GAMMA: LockClass = LockClass::new("store-gamma");

/// A fresh directory for one test's store.
fn fresh_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("store-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the ignored test `child` of this binary in its own process, with `LOCKDEP_GRAPH` set
/// to `dir` (unset when `None`) and the given extra environment.
fn spawn(child: &str, dir: Option<&Path>, env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([child, "--exact", "--ignored", "--nocapture"]);
    cmd.env_remove("LOCKDEP_GRAPH").env_remove("LOCKDEP");
    if let Some(dir) = dir {
        cmd.env("LOCKDEP_GRAPH", dir);
    }
    cmd.envs(env.iter().copied());
    cmd
}

fn run(child: &str, dir: Option<&Path>, env: &[(&str, &str)]) -> Output {
    let out = spawn(child, dir, env).output().unwrap();
    assert!(
        out.status.success(),
        "child {child} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[inline(never)]
fn take_in_order<T>(first: &Mutex<T>, second: &Mutex<T>) {
    let _a = first.lock();
    let _b = second.lock();
}

#[inline(never)]
fn alpha_then_beta_here() {
    let (a, b) = (Mutex::with_class(&ALPHA, ()), Mutex::with_class(&BETA, ()));
    take_in_order(&a, &b);
}

// ---- the children ----

#[test]
#[ignore = "a child process of the LOCKDEP_GRAPH tests"]
fn child_alpha_then_beta() {
    alpha_then_beta_here();
}

#[test]
#[ignore = "a child process of the LOCKDEP_GRAPH tests"]
fn child_alpha_then_beta_then_abort() {
    alpha_then_beta_here();
    // No exit handler, no unwinding: what was recorded must already be in the file.
    std::process::abort();
}

#[test]
#[ignore = "a child process of the LOCKDEP_GRAPH tests"]
fn child_beta_then_alpha() {
    // Run with LOCKDEP=warn: a finding is printed, and the process goes on.
    let (a, b) = (Mutex::with_class(&ALPHA, ()), Mutex::with_class(&BETA, ()));
    take_in_order(&b, &a);
}

#[test]
#[ignore = "a child process of the LOCKDEP_GRAPH tests"]
fn child_beta_then_alpha_captured() {
    let (a, b) = (Mutex::with_class(&ALPHA, ()), Mutex::with_class(&BETA, ()));
    let reports = capture(|| take_in_order(&b, &a));
    // Another process reported this cycle already: `capture` still sees it.
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].classes(), ["store-alpha", "store-beta"]);
}

#[test]
#[ignore = "a child process of the LOCKDEP_GRAPH tests"]
fn child_beta_then_alpha_panics() {
    let (a, b) = (Mutex::with_class(&ALPHA, ()), Mutex::with_class(&BETA, ()));
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| take_in_order(&b, &a)));
    let message = *caught
        .expect_err("Panic mode panics")
        .downcast::<String>()
        .unwrap();
    assert!(message.contains("possible circular locking dependency detected"));
}

#[test]
#[ignore = "a child process of the LOCKDEP_GRAPH tests"]
fn child_alpha_gamma_beta() {
    // alpha -> gamma, gamma -> beta: with beta -> alpha (refused online) a second cycle.
    let a = Mutex::with_class(&ALPHA, ());
    let b = Mutex::with_class(&BETA, ());
    let c = Mutex::with_class(&GAMMA, ());
    take_in_order(&a, &c);
    take_in_order(&c, &b);
}

#[test]
#[ignore = "a child process of the LOCKDEP_GRAPH tests"]
fn child_distinct_dependencies() {
    // Each writer its own classes, named after its index: 20 dependencies of its own.
    let index: usize = std::env::var("STORE_CHILD_INDEX").unwrap().parse().unwrap();
    let locks: Vec<Arc<Mutex<()>>> = (0..=20)
        .map(|i| Arc::new(Mutex::named(&format!("writer-{index}-lock-{i}"), ())))
        .collect();
    for pair in locks.windows(2) {
        take_in_order(&pair[0], &pair[1]);
    }
}

// ---- the tests ----

#[test]
fn without_the_store_processes_do_not_meet() {
    let first = run("child_alpha_then_beta", None, &[]);
    let second = run("child_beta_then_alpha", None, &[("LOCKDEP", "warn")]);
    for out in [first, second] {
        assert!(!stderr(&out).contains("lockdep"), "{}", stderr(&out));
    }
}

#[test]
fn the_second_process_reports_the_cycle_with_the_first_ones_stack() {
    let dir = fresh_dir("abba");
    let first = run("child_alpha_then_beta", Some(&dir), &[]);
    assert!(!stderr(&first).contains("lockdep"), "{}", stderr(&first));
    let second = run("child_beta_then_alpha", Some(&dir), &[("LOCKDEP", "warn")]);
    let text = stderr(&second);
    assert!(
        text.contains("possible circular locking dependency detected"),
        "{text}"
    );
    let program = "store";
    assert!(
        text.contains(&format!(
            "first seen in {program} (test child_alpha_then_beta)"
        )),
        "{text}"
    );
    // The first process's stack, as it recorded it.
    assert!(text.contains("store::alpha_then_beta_here"), "{text}");

    // A third process meeting the same cycle: printed once per suite, so here one line...
    let third = run("child_beta_then_alpha", Some(&dir), &[("LOCKDEP", "warn")]);
    let text = stderr(&third);
    assert!(!text.contains("detected"), "{text}");
    assert!(
        text.contains(
            "lockdep: possible circular locking dependency (store-alpha -> store-beta) was \
             reported by store (test child_beta_then_alpha) already; not repeated here"
        ),
        "{text}"
    );
    // ...but delivered as ever otherwise: a test does not pass or fail by which process of
    // the suite met a finding first.
    run("child_beta_then_alpha_captured", Some(&dir), &[]);
    run("child_beta_then_alpha_panics", Some(&dir), &[]);

    let graph = store::load(&dir).unwrap();
    let findings = graph.findings();
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0].kind, FindingKind::Cycle);
    let edges = graph.edges();
    let ab = edges
        .iter()
        .find(|e| e.from.name == "store-alpha" && e.to.name == "store-beta")
        .expect("alpha -> beta recorded");
    assert!(ab.accepted && !ab.refused);
    assert!(ab
        .origins
        .iter()
        .any(|o| o.test.as_deref() == Some("child_alpha_then_beta")));
}

#[test]
fn the_offline_check_finds_the_cycles_a_refused_edge_hid() {
    let dir = fresh_dir("offline");
    run("child_alpha_then_beta", Some(&dir), &[]);
    let refused = run("child_beta_then_alpha", Some(&dir), &[("LOCKDEP", "warn")]);
    assert!(
        stderr(&refused).contains("circular"),
        "{}",
        stderr(&refused)
    );
    // alpha -> gamma -> beta closes no cycle online: beta -> alpha was refused.
    let quiet = run("child_alpha_gamma_beta", Some(&dir), &[("LOCKDEP", "warn")]);
    assert!(!stderr(&quiet).contains("circular"), "{}", stderr(&quiet));

    let graph = store::load(&dir).unwrap();
    assert_eq!(graph.findings().len(), 1, "online: one cycle");
    let names = |cycle: &Vec<store::format::StoredClass>| -> Vec<String> {
        cycle.iter().map(|c| c.name.clone()).collect()
    };
    let cycles: Vec<Vec<String>> = graph.check().iter().map(names).collect();
    assert_eq!(
        cycles,
        [
            vec!["store-alpha", "store-beta"],
            vec!["store-alpha", "store-gamma", "store-beta"],
        ],
        "offline: both cycles"
    );
    let dot = graph.to_dot(&graph.check());
    assert!(
        dot.contains("\"store-beta\" -> \"store-alpha\" [label = \"EN\""),
        "{dot}"
    );
    assert!(dot.contains("color = red"), "{dot}");
}

#[test]
fn an_aborted_process_still_contributes_what_it_recorded() {
    let dir = fresh_dir("abort");
    let out = spawn("child_alpha_then_beta_then_abort", Some(&dir), &[])
        .output()
        .unwrap();
    assert!(!out.status.success(), "the child aborts");
    let second = run("child_beta_then_alpha", Some(&dir), &[("LOCKDEP", "warn")]);
    let text = stderr(&second);
    assert!(
        text.contains("first seen in store (test child_alpha_then_beta_then_abort)"),
        "{text}"
    );
}

#[test]
fn halves_taken_at_the_same_time_are_always_combined() {
    // Two processes started together, each taking one half: whichever records second must
    // see the other's record (it re-reads the file under the lock before checking), so the
    // suite always has exactly one finding — never zero.
    for round in 0..4 {
        let dir = fresh_dir(&format!("simultaneous-{round}"));
        let children: Vec<_> = ["child_alpha_then_beta", "child_beta_then_alpha"]
            .into_iter()
            .map(|child| {
                spawn(child, Some(&dir), &[("LOCKDEP", "warn")])
                    .stderr(std::process::Stdio::piped())
                    .stdout(std::process::Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let reported = children
            .into_iter()
            .map(|child| child.wait_with_output().unwrap())
            .filter(|out| stderr(out).contains("possible circular locking dependency detected"))
            .count();
        assert_eq!(reported, 1, "round {round}");
        assert_eq!(store::load(&dir).unwrap().findings().len(), 1);
    }
}

#[test]
fn sixteen_parallel_writers_lose_no_record() {
    let dir = fresh_dir("parallel");
    let children: Vec<_> = (0..16)
        .map(|i| {
            spawn(
                "child_distinct_dependencies",
                Some(&dir),
                &[("STORE_CHILD_INDEX", &i.to_string())],
            )
            .stderr(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(!stderr(&out).contains("lockdep"), "{}", stderr(&out));
    }
    let graph = store::load(&dir).unwrap();
    let edges = graph.edges();
    assert_eq!(edges.len(), 16 * 20);
    for index in 0..16 {
        for i in 0..20 {
            let (from, to) = (
                format!("writer-{index}-lock-{i}"),
                format!("writer-{index}-lock-{}", i + 1),
            );
            assert!(
                edges.iter().any(|e| e.from.name == from && e.to.name == to),
                "{from} -> {to} lost"
            );
        }
    }
    assert!(graph.check().is_empty());
}

/// A damaged store: the child still passes, warns exactly once, and leaves the file alone.
fn damaged_store_is_ignored(name: &str, contents: &[u8]) {
    let dir = fresh_dir(name);
    let file = store::file_in(&dir);
    std::fs::write(&file, contents).unwrap();
    let out = run("child_alpha_then_beta", Some(&dir), &[]);
    let text = stderr(&out);
    assert_eq!(
        text.matches("lockdep: ignoring the shared class graph")
            .count(),
        1,
        "{text}"
    );
    assert_eq!(
        std::fs::read(&file).unwrap(),
        contents,
        "the store was written"
    );
    assert!(store::load(&dir).is_err());
}

fn one_record(name: &str) -> String {
    // A real record, from a real run.
    let dir = fresh_dir(&format!("{name}-source"));
    run("child_alpha_then_beta", Some(&dir), &[]);
    std::fs::read_to_string(store::file_in(&dir)).unwrap()
}

#[test]
fn a_truncated_store_warns_once_and_is_ignored() {
    let whole = one_record("truncated");
    assert!(StoredGraph::from_records(Vec::new()).edges().is_empty());
    damaged_store_is_ignored("truncated", &whole.as_bytes()[..whole.len() - 7]);
}

#[test]
fn a_corrupt_store_warns_once_and_is_ignored() {
    let whole = one_record("corrupt");
    damaged_store_is_ignored(
        "flipped",
        whole.replacen("store-beta", "store-bets", 1).as_bytes(),
    );
    damaged_store_is_ignored("garbage", b"\x7fELF\x02\x01\x01\0\0\0\0");
}

#[test]
fn a_store_of_another_version_warns_once_and_is_ignored() {
    let whole = one_record("version");
    assert!(whole.starts_with(HEADER));
    damaged_store_is_ignored(
        "version",
        whole.replacen(HEADER, "lockdep-graph 99", 1).as_bytes(),
    );
}

#[test]
fn a_known_dependency_is_recorded_for_at_most_sixteen_takers() {
    // Every process of a big suite reads the whole file: a dependency each test takes must not
    // make it grow with the number of tests.
    let dir = fresh_dir("takers");
    for _ in 0..20 {
        run("child_alpha_then_beta", Some(&dir), &[]);
    }
    let graph = store::load(&dir).unwrap();
    let records = graph
        .records()
        .iter()
        .filter(
            |r| matches!(r, store::format::Record::Dependency(d) if d.from.name == "store-alpha"),
        )
        .count();
    assert_eq!(records, 16);
    assert_eq!(graph.edges().len(), 1);
}

#[test]
fn an_unusable_directory_warns_once_and_is_ignored() {
    // A directory that cannot be created: below a regular file.
    let dir = fresh_dir("unusable");
    std::fs::write(dir.join("file"), "").unwrap();
    let out = run("child_alpha_then_beta", Some(&dir.join("file/graph")), &[]);
    let text = stderr(&out);
    assert_eq!(
        text.matches("lockdep: ignoring the shared class graph")
            .count(),
        1,
        "{text}"
    );
    assert!(text.contains("cannot create the directory"), "{text}");
}

#[test]
fn lockdep_graph_may_name_the_store_file_itself() {
    // The path `cargo lockdep` prints is the file: taken as its directory.
    let dir = fresh_dir("file-path");
    run("child_alpha_then_beta", Some(&dir), &[]);
    let second = run(
        "child_beta_then_alpha",
        Some(&dir.join("graph.lockdep")),
        &[("LOCKDEP", "warn")],
    );
    let text = stderr(&second);
    assert!(
        text.contains("possible circular locking dependency detected")
            && text.contains("first seen in store (test child_alpha_then_beta)"),
        "{text}"
    );
}

#[test]
fn lockdep_graph_naming_another_file_says_it_must_be_a_directory() {
    let dir = fresh_dir("other-file");
    let file = dir.join("notes.txt");
    std::fs::write(&file, "not a store").unwrap();
    let out = run("child_alpha_then_beta", Some(&file), &[]);
    let text = stderr(&out);
    assert_eq!(text.matches("lockdep: LOCKDEP_GRAPH").count(), 1, "{text}");
    assert!(
        text.contains("is a file, and it must name a directory"),
        "{text}"
    );
    assert!(!text.contains("delete the file"), "{text}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "not a store");
}
