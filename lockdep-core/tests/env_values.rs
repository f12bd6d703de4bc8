//! One rule for lockdep's environment variables (`LOCKDEP`, `LOCKDEP_GRAPH`, `LOCKDEP_DOT`):
//! unset means unset; set but empty is ignored with a one-line message; a `LOCKDEP` that is not
//! a mode (or not UTF-8) is ignored with a message and the default mode is used. Each case runs
//! this binary again as a child, since the variables are read once per process.
#![cfg(lockdep_checks)]

use std::ffi::OsStr;
use std::process::Command;

const CHILD: &str = "LOCKDEP_ENV_CHILD";

/// In the child: takes two locks nested (reading the mode, the store and the DOT variable) and
/// prints the mode.
#[test]
fn child_takes_two_locks() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let a = lockdep_core::Mutex::named("env-values-a", ());
    let b = lockdep_core::Mutex::named("env-values-b", ());
    drop((a.lock(), b.lock()));
    println!("MODE={:?}", lockdep_core::mode());
}

/// Runs the child with `vars` set (and the others removed); returns its stdout and stderr.
fn child(vars: &[(&str, &OsStr)]) -> (String, String) {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["child_takes_two_locks", "--exact", "--nocapture"])
        .env(CHILD, "1")
        .env_remove("LOCKDEP")
        .env_remove("LOCKDEP_GRAPH")
        .env_remove("LOCKDEP_DOT");
    for (name, value) in vars {
        cmd.env(name, value);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn empty_values_are_ignored_with_one_message_each() {
    for name in ["LOCKDEP", "LOCKDEP_GRAPH", "LOCKDEP_DOT"] {
        let (out, err) = child(&[(name, OsStr::new(""))]);
        assert_eq!(
            err.matches(&format!("lockdep: {name} is set but empty; ignored"))
                .count(),
            1,
            "{name}: {err}"
        );
        assert!(out.contains("MODE=Panic"), "{name}: {out}");
    }
}

#[test]
fn unset_values_say_nothing() {
    let (out, err) = child(&[]);
    assert!(!err.contains("lockdep:"), "{err}");
    assert!(out.contains("MODE=Panic"), "{out}");
}

#[test]
fn a_lockdep_value_that_is_not_a_mode_says_so() {
    let (out, err) = child(&[("LOCKDEP", OsStr::new("loud"))]);
    assert!(err.contains("lockdep: ignoring LOCKDEP=\"loud\""), "{err}");
    assert!(out.contains("MODE=Panic"), "{out}");
    let (out, err) = child(&[("LOCKDEP", OsStr::new(" Warn "))]);
    assert!(!err.contains("lockdep:"), "{err}");
    assert!(out.contains("MODE=Warn"), "{out}");
}

#[cfg(unix)]
#[test]
fn a_lockdep_value_that_is_not_utf8_says_so() {
    use std::os::unix::ffi::OsStrExt;
    let (out, err) = child(&[("LOCKDEP", OsStr::from_bytes(b"w\xffrn"))]);
    assert!(err.contains("not valid UTF-8"), "{err}");
    assert!(out.contains("MODE=Panic"), "{out}");
}
