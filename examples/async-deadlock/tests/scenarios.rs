//! Each scenario of the example, run as the binary a user runs.

use std::process::Command;

fn run(args: &[&str]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_async-deadlock"))
        .args(args)
        .env_remove("LOCKDEP")
        .output()
        .expect("the example runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.code().unwrap_or(-1), text)
}

#[test]
#[cfg_attr(not(debug_assertions), ignore = "needs the checks compiled in")]
fn the_default_run_reports_the_cycle_from_a_run_that_never_hung() {
    let (code, text) = run(&[]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("possible circular locking dependency detected"),
        "{text}"
    );
    assert!(text.contains("(accounts){write}"), "{text}");
    assert!(text.contains("taken while holding (accounts)"), "{text}");
    // The edge's backtrace names the async fns.
    assert!(text.contains("async_deadlock::transfer"), "{text}");
    assert!(text.contains("async_deadlock::export_audit"), "{text}");
    // Plain `tokio::spawn` tasks, named by tokio's task id; the scenario speaks of tasks.
    assert!(text.contains("tokio task "), "{text}");
    assert!(text.contains("Task A                  Task B"), "{text}");
    assert!(text.contains("neither ever waited for the other"), "{text}");
}

#[test]
fn the_fixed_handler_is_clean() {
    let (code, text) = run(&["--scenario", "fixed"]);
    assert_eq!(code, 0, "{text}");
    assert!(!text.contains("WARNING"), "{text}");
}

#[test]
#[cfg_attr(not(debug_assertions), ignore = "needs the checks compiled in")]
fn the_race_is_stopped_with_lockdep_on_and_hangs_with_it_off() {
    let (code, text) = run(&["--scenario", "deadlock"]);
    assert_eq!(code, 3, "{text}");
    assert!(text.contains("stopped by lockdep"), "{text}");
    assert!(text.contains("deadlocked"), "{text}");
    assert!(
        text.contains("task 'transfer' holds accounts and waits for audit_log"),
        "{text}"
    );
    assert!(
        text.contains("task 'export_audit' holds audit_log and waits for accounts"),
        "{text}"
    );
}

#[test]
fn a_bad_command_line_exits_2() {
    assert_eq!(run(&["--scenario", "nope"]).0, 2);
    let (code, text) = run(&["--loud"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("unknown argument `--loud`"), "{text}");
    assert!(text.contains("Usage: async-deadlock"), "{text}");
}

#[test]
fn help_prints_the_usage_and_runs_nothing() {
    for flag in ["--help", "-h"] {
        let (code, text) = run(&[flag]);
        assert_eq!(code, 0, "{text}");
        assert!(
            text.starts_with("Usage: async-deadlock [--scenario splat|fixed|deadlock]"),
            "{text}"
        );
        assert!(text.contains("--scenario deadlock"), "{text}");
        assert!(!text.contains("WARNING"), "{text}");
    }
}
