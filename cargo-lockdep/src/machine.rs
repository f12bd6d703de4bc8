//! Findings for machines: `cargo lockdep report --format json` (this tool's own schema,
//! versioned, described in `cargo-lockdep/REPORT-FORMAT.md`) and `--format sarif` (SARIF 2.1.0,
//! in [`crate::sarif`]), both built from one [`Report`].
//!
//! Every path in them is relative to the workspace root where it lies inside it — class names
//! of creation sites already are (rustc names workspace members' files so), stack frames carry
//! the absolute paths of the machine that ran the test — so that code scanning places an
//! annotation on the line of the repository it belongs to.

use lockdep_core::store::format::{FindingKind, Origin, StoredClass, StoredFrame};
use lockdep_core::store::{kinds_label, Edge, FindingId, StoredGraph};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::Path;

/// The `schema` field of a JSON report: what the document is.
pub const SCHEMA: &str = "cargo-lockdep/report";
/// The `version` field of a JSON report. Raised when a field changes meaning or goes away;
/// fields may be added within a version, so a reader should ignore those it does not know.
pub const VERSION: u32 = 1;

/// A whole JSON report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// Always [`VERSION`] for this tool.
    pub version: u32,
    /// The tool that wrote the report.
    pub tool: Tool,
    /// The store files read (several when shards were read as one graph).
    pub stores: Vec<String>,
    /// The directory the relative paths below are relative to: the workspace root.
    pub root: String,
    /// What the stored graph holds.
    pub graph: GraphSize,
    /// Every finding: those reported while the suite ran, then the cycles only the offline
    /// search found.
    pub findings: Vec<Finding>,
}

/// The tool that wrote a report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tool {
    /// `cargo-lockdep`.
    pub name: String,
    /// Its version.
    pub version: String,
}

/// The size of the stored graph.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphSize {
    /// Classes that took part in a dependency.
    pub classes: usize,
    /// Distinct dependencies (`from -> to`).
    pub dependencies: usize,
    /// Distinct tests that recorded a dependency.
    pub tests: usize,
    /// Distinct programs (test binaries) among them.
    pub programs: usize,
}

impl GraphSize {
    /// What `graph` holds: the summary's first line, the JSON report's `graph` and the progress
    /// line while a suite runs all count it this one way.
    pub fn of(graph: &StoredGraph) -> GraphSize {
        let edges = graph.edges();
        let tests: BTreeSet<&Origin> = edges.iter().flat_map(|e| e.origins.iter()).collect();
        let programs: BTreeSet<&str> = tests.iter().map(|o| o.program.as_str()).collect();
        GraphSize {
            classes: graph.classes().len(),
            dependencies: edges.len(),
            tests: tests.len(),
            programs: programs.len(),
        }
    }
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Its identity, stable across runs and machines: the kind and the class names in
    /// dependency order, starting at the smallest (`cycle: a -> b`, `recursive: a`). The
    /// baseline file names findings by it.
    pub id: String,
    /// `cycle` (a circular locking dependency) or `recursive` (a class taken while a lock of
    /// the same class was held).
    pub kind: String,
    /// `online` (reported by a test process while the suite ran) or `offline` (found only by
    /// the offline search of the stored graph).
    pub found: String,
    /// The classes, in dependency order.
    pub classes: Vec<Class>,
    /// A cycle's dependencies, in order (`classes[i] -> classes[i + 1]`, the last back to the
    /// first); empty for a recursion.
    pub edges: Vec<Dependency>,
    /// The processes that reported it (empty when found offline).
    pub reported_by: Vec<Taker>,
}

/// A class.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Class {
    /// The class name: a creation site's `file:line:col`, a static key's or a `named` name.
    pub name: String,
    /// The nesting level (`lock_nested`), 0 for a plain acquisition.
    pub subclass: u32,
    /// Where the lock was created, when the name is a creation site.
    pub site: Option<Site>,
}

/// A dependency of a cycle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dependency {
    /// The held class (as `name` or `name/subclass`).
    pub from: String,
    /// The class acquired while `from` was held.
    pub to: String,
    /// The kernel's kinds seen: `ER`, `EN`, `SR`, `SN` (`~` after a timed one).
    pub kinds: Vec<String>,
    /// Whether the store holds it (a finding reported online names its classes only).
    pub recorded: bool,
    /// A process refused it because it closed a cycle there.
    pub refused: bool,
    /// The dependency that closed the cycle: the one refused, else (a cycle no process saw)
    /// the last. SARIF locates the result at its site.
    pub closes: bool,
    /// The programs and tests that took it.
    pub taken_by: Vec<Taker>,
    /// Where `to` was acquired while `from` was held: the first frame of `frames` that has a
    /// location.
    pub site: Option<Site>,
    /// The stack where it was first seen, innermost first.
    pub frames: Vec<Frame>,
}

/// A program and test that took a dependency or reported a finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Taker {
    /// The test binary's name.
    pub program: String,
    /// The test's name, when known.
    pub test: Option<String>,
}

/// A stack frame.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Frame {
    /// The demangled function name.
    pub function: String,
    /// Its source file (relative to `root` when inside it), when known.
    pub file: Option<String>,
    /// Its line, when known.
    pub line: Option<u32>,
}

/// A source location.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Site {
    /// The file, relative to `root` when inside it.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, when known.
    pub column: Option<u32>,
}

/// `file:line` or `file:line:col` split, `file` made relative to `root`.
fn site(text: &str, root: &Path) -> Option<Site> {
    let (rest, last) = text.rsplit_once(':')?;
    let last: u32 = last.parse().ok()?;
    let (file, line, column) = match rest.rsplit_once(':') {
        Some((file, line)) if line.parse::<u32>().is_ok() => (file, line.parse().ok()?, Some(last)),
        _ => (rest, last, None),
    };
    (!file.is_empty() && line > 0).then(|| Site {
        file: relative(file, root),
        line,
        column,
    })
}

/// `file` relative to `root` when inside it, with `/` separators.
fn relative(file: &str, root: &Path) -> String {
    let path = Path::new(file);
    let inside = path.strip_prefix(root).unwrap_or(path);
    inside.to_string_lossy().replace('\\', "/")
}

fn class(c: &StoredClass, root: &Path) -> Class {
    Class {
        name: c.name.clone(),
        subclass: c.subclass,
        site: site(&c.name, root),
    }
}

fn taker(o: &Origin) -> Taker {
    Taker {
        program: o.program.clone(),
        test: o.test.clone(),
    }
}

fn frame(f: &StoredFrame, root: &Path) -> Frame {
    let at = f.location.as_deref().and_then(|l| site(l, root));
    Frame {
        function: f.function.clone(),
        file: at.as_ref().map(|s| s.file.clone()),
        line: at.map(|s| s.line),
    }
}

/// A finding's identity: kind and class names (see [`Finding::id`]).
pub fn identity(kind: FindingKind, classes: &[StoredClass]) -> String {
    FindingId::of_classes(kind, classes).to_string()
}

fn dependencies(graph: &StoredGraph, classes: &[StoredClass], root: &Path) -> Vec<Dependency> {
    let edges: Vec<Option<Edge>> = graph.cycle_edges(classes);
    let closing = edges
        .iter()
        .position(|e| e.as_ref().is_some_and(|e| e.refused))
        .unwrap_or(edges.len().saturating_sub(1));
    edges
        .iter()
        .enumerate()
        .map(|(i, edge)| {
            let (from, to) = (&classes[i], &classes[(i + 1) % classes.len()]);
            let frames: Vec<Frame> = edge
                .as_ref()
                .map(|e| e.stack.iter().map(|f| frame(f, root)).collect())
                .unwrap_or_default();
            let site = edge.as_ref().and_then(|e| {
                e.stack
                    .iter()
                    .find_map(|f| f.location.as_deref().and_then(|l| site(l, root)))
            });
            Dependency {
                from: from.to_string(),
                to: to.to_string(),
                kinds: edge
                    .as_ref()
                    .map(|e| {
                        kinds_label(e.kinds)
                            .split('/')
                            .filter(|k| !k.is_empty())
                            .map(String::from)
                            .collect()
                    })
                    .unwrap_or_default(),
                recorded: edge.is_some(),
                refused: edge.as_ref().is_some_and(|e| e.refused),
                closes: i == closing,
                taken_by: edge
                    .as_ref()
                    .map(|e| e.origins.iter().map(taker).collect())
                    .unwrap_or_default(),
                site,
                frames,
            }
        })
        .collect()
}

/// The report of `graph` (read from `stores`), whose offline search found `cycles`; paths
/// relative to `root`.
pub fn report(
    graph: &StoredGraph,
    stores: &[String],
    cycles: &[Vec<StoredClass>],
    root: &Path,
) -> Report {
    let mut findings = Vec::new();
    let reported = graph.findings();
    for f in &reported {
        findings.push(Finding {
            id: identity(f.kind, &f.classes),
            kind: f.kind.as_str().into(),
            found: "online".into(),
            classes: f.classes.iter().map(|c| class(c, root)).collect(),
            edges: match f.kind {
                FindingKind::Cycle => dependencies(graph, &f.classes, root),
                FindingKind::Recursive => Vec::new(),
            },
            reported_by: f.origins.iter().map(taker).collect(),
        });
    }
    for cycle in cycles {
        if reported
            .iter()
            .any(|f| f.kind == FindingKind::Cycle && &f.classes == cycle)
        {
            continue;
        }
        findings.push(Finding {
            id: identity(FindingKind::Cycle, cycle),
            kind: FindingKind::Cycle.as_str().into(),
            found: "offline".into(),
            classes: cycle.iter().map(|c| class(c, root)).collect(),
            edges: dependencies(graph, cycle, root),
            reported_by: Vec::new(),
        });
    }
    Report {
        schema: SCHEMA.into(),
        version: VERSION,
        tool: Tool {
            name: env!("CARGO_PKG_NAME").into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        stores: stores.to_vec(),
        root: root.display().to_string(),
        graph: GraphSize::of(graph),
        findings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use lockdep_core::store::format::{Record, StoredDependency, StoredFinding};

    fn class(name: &str) -> StoredClass {
        StoredClass {
            name: name.into(),
            subclass: 0,
        }
    }

    fn dep(from: &str, to: &str, refused: bool, test: &str) -> Record {
        Record::Dependency(StoredDependency {
            from: class(from),
            to: class(to),
            kinds: 8,
            refused,
            origin: Origin {
                program: "suite".into(),
                test: Some(test.into()),
            },
            stack: vec![StoredFrame {
                function: format!("suite::{test}"),
                location: Some(format!("/ws/tests/{test}.rs:7")),
            }],
            held_at: None,
        })
    }

    #[test]
    fn the_json_report_reads_back_as_written() {
        let graph = StoredGraph::from_records(vec![
            dep("src/a.rs:1:5", "src/b.rs:2:5", false, "t_ab"),
            dep("src/b.rs:2:5", "src/a.rs:1:5", true, "t_ba"),
            Record::Finding(StoredFinding {
                kind: FindingKind::Cycle,
                classes: vec![class("src/a.rs:1:5"), class("src/b.rs:2:5")],
                origin: Origin {
                    program: "suite".into(),
                    test: Some("t_ba".into()),
                },
            }),
            Record::Finding(StoredFinding {
                kind: FindingKind::Recursive,
                classes: vec![class("named lock")],
                origin: Origin {
                    program: "suite".into(),
                    test: None,
                },
            }),
        ]);
        let report = report(
            &graph,
            &["graph.lockdep".into()],
            &graph.check(),
            Path::new("/ws"),
        );
        let json = serde_json::to_string_pretty(&report).unwrap();
        let back: Report = serde_json::from_str(&json).unwrap();
        assert_eq!(back, report);
        assert_eq!(report.findings.len(), 2, "{json}");
        let cycle = &report.findings[0];
        assert_eq!(cycle.id, "cycle: src/a.rs:1:5 -> src/b.rs:2:5");
        assert_eq!(cycle.found, "online");
        assert!(cycle.edges[1].closes && cycle.edges[1].refused);
        assert_eq!(
            cycle.edges[1].site,
            Some(Site {
                file: "tests/t_ba.rs".into(),
                line: 7,
                column: None
            })
        );
        assert_eq!(report.findings[1].id, "recursive: named lock");
        assert_eq!(report.findings[1].classes[0].site, None);
        // SARIF from the same report: one result per finding, at the closing acquisition.
        let sarif = serde_json::to_value(crate::sarif::sarif(&report)).unwrap();
        let results = sarif["runs"][0]["results"].as_array().unwrap();
        assert_eq!(results.len(), 2);
        assert_eq!(
            results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "tests/t_ba.rs"
        );
        assert!(results[1].get("locations").is_none(), "{sarif:#}");
    }

    #[test]
    fn sites_are_split_and_made_relative() {
        let root = Path::new("/ws");
        assert_eq!(
            site("src/lib.rs:22:23", root),
            Some(Site {
                file: "src/lib.rs".into(),
                line: 22,
                column: Some(23)
            })
        );
        assert_eq!(
            site("/ws/src/lib.rs:32", root),
            Some(Site {
                file: "src/lib.rs".into(),
                line: 32,
                column: None
            })
        );
        assert_eq!(
            site("/elsewhere/a.rs:3", root).unwrap().file,
            "/elsewhere/a.rs"
        );
        assert_eq!(site("store-alpha", root), None);
        assert_eq!(site("name:with:colons", root), None);
        assert_eq!(site(":3", root), None);
    }
}
