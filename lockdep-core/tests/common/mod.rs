//! Helpers shared by the scenario tests.
#![allow(dead_code)]

use lockdep_core::{Report, ReportKind};

/// Asserts that exactly one report was raised, of `kind`, naming `classes` in this order.
#[track_caller]
pub fn assert_one(reports: &[Report], kind: ReportKind, classes: &[&str]) {
    assert_eq!(
        reports.len(),
        1,
        "expected exactly one report, got {}:\n{}",
        reports.len(),
        reports
            .iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_eq!(reports[0].kind(), kind, "{}", reports[0]);
    assert_eq!(reports[0].classes(), classes, "{}", reports[0]);
}

/// Asserts that no report was raised.
#[track_caller]
pub fn assert_none(reports: &[Report]) {
    assert!(
        reports.is_empty(),
        "expected no report, got {}:\n{}",
        reports.len(),
        reports
            .iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );
}
