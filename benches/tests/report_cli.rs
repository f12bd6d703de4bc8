//! The report's command line: `--help` prints the usage and reports nothing; anything else is
//! refused with it.

use std::process::Command;

fn report(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_report"))
        .args(args)
        .output()
        .expect("the report runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn help_prints_the_usage_and_nothing_else() {
    for flag in ["--help", "-h"] {
        let (code, stdout, stderr) = report(&[flag]);
        assert_eq!(code, Some(0), "{stdout}{stderr}");
        assert!(
            stdout.starts_with("Usage: cargo run --release -p benches --bin report"),
            "{stdout}"
        );
        assert!(stdout.contains("cargo bench -p benches"), "{stdout}");
        // The report itself did not run.
        assert!(!stdout.contains("## Size of each lock"), "{stdout}");
    }
}

#[test]
fn an_unknown_argument_is_refused_with_the_usage() {
    let (code, stdout, stderr) = report(&["--quick"]);
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    assert!(
        stderr.contains("unknown argument `--quick`: the report takes none"),
        "{stderr}"
    );
    assert!(stderr.contains("Usage:"), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
}
