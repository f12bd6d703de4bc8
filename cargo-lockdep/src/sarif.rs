//! `cargo lockdep report --format sarif`: the findings as a SARIF 2.1.0 log, the format code
//! scanning reads (GitHub and GitLab show each result as an annotation on its line, as they do
//! clippy's through clippy-sarif). Built with `serde-sarif`'s types, which are generated from
//! the format's official schema.
//!
//! One result per finding, located at the acquisition that closed the cycle (the dependency a
//! process refused, else the cycle's last), with a related location at every other
//! dependency's acquisition; a recursion is located at its class's creation site when the class
//! is named by one. Each result's `partialFingerprints` holds the finding's identity, so that a
//! code-scanning service follows one finding from run to run.

use crate::machine::{Dependency, Finding, Report, Site};
use serde_sarif::sarif::{
    ArtifactLocation, Location, Message, MultiformatMessageString, PhysicalLocation, Region,
    ReportingConfiguration, ReportingDescriptor, Result as SarifResult, ResultLevel, Run, Sarif,
    Tool, ToolComponent,
};
use std::collections::BTreeMap;

/// The schema a SARIF 2.1.0 log names in `$schema`.
const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The base of relative paths: the workspace root, given in `originalUriBaseIds`.
const ROOT_ID: &str = "%SRCROOT%";
/// The rule of a cycle.
const CYCLE_RULE: &str = "lockdep/circular-locking-dependency";
/// The rule of a recursion.
const RECURSIVE_RULE: &str = "lockdep/recursive-locking";
/// The key of a finding's identity in `partialFingerprints`.
const FINGERPRINT: &str = "lockdepFinding/v1";

fn text(text: impl Into<String>) -> Message {
    Message::builder().text(text.into()).build()
}

fn description(text: &str) -> MultiformatMessageString {
    MultiformatMessageString::builder().text(text).build()
}

fn rule(id: &str, name: &str, short: &str, full: &str) -> ReportingDescriptor {
    ReportingDescriptor::builder()
        .id(id)
        .name(name)
        .short_description(description(short))
        .full_description(description(full))
        .help(description(full))
        .default_configuration(
            ReportingConfiguration::builder()
                .level(serde_json::Value::from("warning"))
                .build(),
        )
        .build()
}

/// A file URI for an absolute path (a frame outside the workspace).
fn file_uri(path: &str) -> String {
    let path = path
        .replace('\\', "/")
        .replace('%', "%25")
        .replace(' ', "%20");
    if path.starts_with('/') {
        format!("file://{path}")
    } else {
        format!("file:///{path}")
    }
}

fn location(site: &Site, message: Option<String>, id: Option<i64>) -> Location {
    let absolute = site.file.starts_with('/') || site.file.get(1..3) == Some(":/");
    let artifact = if absolute {
        ArtifactLocation::builder()
            .uri(file_uri(&site.file))
            .build()
    } else {
        ArtifactLocation::builder()
            .uri(site.file.replace('%', "%25").replace(' ', "%20"))
            .uri_base_id(ROOT_ID)
            .build()
    };
    let region = match site.column {
        Some(column) => Region::builder()
            .start_line(i64::from(site.line))
            .start_column(i64::from(column))
            .build(),
        None => Region::builder().start_line(i64::from(site.line)).build(),
    };
    let physical = PhysicalLocation::builder()
        .artifact_location(artifact)
        .region(region)
        .build();
    match (message, id) {
        (Some(m), Some(id)) => Location::builder()
            .id(id)
            .message(text(m))
            .physical_location(physical)
            .build(),
        _ => Location::builder().physical_location(physical).build(),
    }
}

/// "taken by P (test T), Q", for messages.
fn takers(d: &Dependency) -> String {
    let list: Vec<String> = d
        .taken_by
        .iter()
        .map(|t| match &t.test {
            Some(test) => format!("{} (test {test})", t.program),
            None => t.program.clone(),
        })
        .collect();
    if list.is_empty() {
        "not recorded in the store".into()
    } else {
        format!("taken by {}", list.join(", "))
    }
}

fn cycle_result(finding: &Finding) -> SarifResult {
    let names: Vec<&str> = finding.classes.iter().map(|c| c.name.as_str()).collect();
    let mut chain = names.join(" -> ");
    if let Some(first) = names.first() {
        chain = format!("{chain} -> {first}");
    }
    let closing = finding.edges.iter().find(|d| d.closes);
    let mut message = format!("possible circular locking dependency: {chain}.");
    if let Some(d) = closing {
        message += &format!(
            " Here {} is acquired while {} is held, which closes the cycle ({}).",
            d.to,
            d.from,
            takers(d)
        );
    }
    if finding.found == "offline" {
        message += " Found by the offline check of the stored graph: no test process met it.";
    }
    // Where to put the annotation: the closing acquisition, else a creation site.
    let primary = closing
        .and_then(|d| d.site.clone())
        .or_else(|| finding.classes.iter().find_map(|c| c.site.clone()));
    let related: Vec<Location> = finding
        .edges
        .iter()
        .filter(|d| !d.closes)
        .filter_map(|d| {
            let site = d.site.as_ref()?;
            let m = format!("{} acquired while {} is held ({})", d.to, d.from, takers(d));
            Some((site.clone(), m))
        })
        .zip(1..)
        .map(|((site, m), id)| location(&site, Some(m), Some(id)))
        .collect();
    let mut result = SarifResult::builder()
        .rule_id(CYCLE_RULE)
        .rule_index(0)
        .level(ResultLevel::Warning)
        .message(text(message))
        .partial_fingerprints(BTreeMap::from([(
            FINGERPRINT.to_string(),
            finding.id.clone(),
        )]))
        .build();
    result.locations = primary.map(|site| vec![location(&site, None, None)]);
    result.related_locations = (!related.is_empty()).then_some(related);
    result
}

fn recursive_result(finding: &Finding) -> SarifResult {
    let class = finding.classes.first();
    let name = class.map_or("?", |c| c.name.as_str());
    let mut result = SarifResult::builder()
        .rule_id(RECURSIVE_RULE)
        .rule_index(1)
        .level(ResultLevel::Warning)
        .message(text(format!(
            "possible recursive locking: a lock of class {name} is acquired while a lock of the \
             same class is held (a self-deadlock, or two locks that share a class and need \
             lock_nested, named or with_class)."
        )))
        .partial_fingerprints(BTreeMap::from([(
            FINGERPRINT.to_string(),
            finding.id.clone(),
        )]))
        .build();
    result.locations = class
        .and_then(|c| c.site.as_ref())
        .map(|site| vec![location(site, None, None)]);
    result
}

/// The SARIF log of `report`.
pub fn sarif(report: &Report) -> Sarif {
    let rules = vec![
        rule(
            CYCLE_RULE,
            "CircularLockingDependency",
            "Possible circular locking dependency (a lock-order inversion that can deadlock)",
            "Two or more code paths take the same lock classes in orders that form a cycle: run \
             at the same time, they can deadlock. lockdep records the order of every lock \
             acquisition in the test suite, so the cycle is found even if no run ever hung. \
             Take the locks in one order everywhere, or do not hold one while taking the other.",
        ),
        rule(
            RECURSIVE_RULE,
            "RecursiveLocking",
            "Possible recursive locking (a lock taken while a lock of its class is held)",
            "A lock is acquired while a lock of the same class is held: the same lock again (a \
             self-deadlock), or another lock of that class, whose order lockdep cannot check. \
             Give the locks their own classes (named, with_class) or annotate the nesting \
             (lock_nested).",
        ),
    ];
    let driver = ToolComponent::builder()
        .name(report.tool.name.clone())
        .version(report.tool.version.clone())
        .semantic_version(report.tool.version.clone())
        .rules(rules)
        .build();
    let results: Vec<SarifResult> = report
        .findings
        .iter()
        .map(|f| match f.kind.as_str() {
            "recursive" => recursive_result(f),
            _ => cycle_result(f),
        })
        .collect();
    let root = if report.root.ends_with('/') {
        report.root.clone()
    } else {
        format!("{}/", report.root)
    };
    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .original_uri_base_ids(BTreeMap::from([(
            ROOT_ID.to_string(),
            ArtifactLocation::builder().uri(file_uri(&root)).build(),
        )]))
        .results(results)
        .build();
    Sarif::builder()
        .schema(SCHEMA_URI)
        .version(serde_json::Value::from("2.1.0"))
        .runs(vec![run])
        .build()
}
