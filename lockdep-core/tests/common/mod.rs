//! Helpers shared by the scenario tests.
#![allow(dead_code)]

use lockdep_core::{Report, ReportKind};

/// Asserts that exactly one report was raised, of `kind`, naming `classes` in this order.
#[track_caller]
pub fn assert_one(reports: &[Report], kind: ReportKind, classes: &[&str]) {
    assert_eq!(
        reports.len(),
        1,
        "expected exactly one report, got {}",
        all(reports)
    );
    assert_eq!(reports[0].kind(), kind, "{}", reports[0]);
    assert_eq!(reports[0].classes(), classes, "{}", reports[0]);
}

/// Asserts that no report was raised.
#[track_caller]
pub fn assert_none(reports: &[Report]) {
    assert!(
        reports.is_empty(),
        "expected no report, got {}",
        all(reports)
    );
}

/// The count and the full text of every report, for assertion messages.
fn all(reports: &[Report]) -> String {
    let texts: Vec<String> = reports.iter().map(Report::to_string).collect();
    format!("{}:\n{}", reports.len(), texts.join("\n"))
}
