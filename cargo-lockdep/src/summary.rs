//! The suite's summary: what the stored graph holds, every finding with the tests that took
//! each of its dependencies, and the cycles only the offline search sees.

use crate::machine::GraphSize;
use lockdep_core::store::format::{FindingKind, Origin, StoredClass, StoredFrame};
use lockdep_core::store::{kinds_label, StoredGraph};
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// What a summary found.
pub struct Findings {
    /// Findings the processes reported while the suite ran.
    pub reported: Vec<Vec<StoredClass>>,
    /// Cycles only the offline search found (through dependencies a process refused).
    pub offline_only: Vec<Vec<StoredClass>>,
}

/// "classes a -> b -> a" for a cycle, "a" for a recursion.
pub fn chain(classes: &[StoredClass], cycle: bool) -> String {
    let mut names: Vec<String> = classes.iter().map(StoredClass::to_string).collect();
    if cycle {
        if let Some(first) = names.first().cloned() {
            names.push(first);
        }
    }
    names.join(" -> ")
}

/// A source location, relative to the current directory (the workspace) when inside it.
fn relative(location: &str) -> &str {
    let dir = std::env::current_dir().ok();
    let dir = dir
        .as_ref()
        .and_then(|d| d.to_str())
        .map(|d| format!("{d}/"));
    dir.and_then(|dir| location.strip_prefix(dir.as_str()))
        .unwrap_or(location)
}

fn origins(origins: &BTreeSet<Origin>) -> String {
    let list: Vec<String> = origins.iter().map(Origin::to_string).collect();
    list.join(", ")
}

/// The lines for each dependency of a cycle: kinds, the tests that took it, refused or not.
pub fn cycle_edges(graph: &StoredGraph, classes: &[StoredClass], out: &mut String) {
    for (i, edge) in graph.cycle_edges(classes).into_iter().enumerate() {
        let (from, to) = (&classes[i], &classes[(i + 1) % classes.len()]);
        match edge {
            Some(e) => {
                let note = if e.accepted {
                    ""
                } else {
                    "  [refused: it closed the cycle]"
                };
                let _ = writeln!(
                    out,
                    "        {from} -> {to} ({})  taken by {}{note}",
                    kinds_label(e.kinds),
                    origins(&e.origins)
                );
                // The function that took the lock, and the outermost one that led there (the
                // test, or the thread's entry): a helper alone seldom says which path it was.
                if let Some(frame) = e.stack.first() {
                    let at = frame.location.as_deref().map_or("?", relative);
                    let _ = writeln!(out, "            first seen at {} ({at})", frame.function);
                }
                let path = callers(&e.stack);
                if let (2.., Some((function, location))) = (path.len(), path.last()) {
                    let at = location.map_or("?", relative);
                    let via = match path.len() - 2 {
                        0 => String::new(),
                        n => format!(" through {}", crate::words::count(n, "call", "calls")),
                    };
                    let _ = writeln!(out, "              called from {function} ({at}){via}");
                }
                // The other end: where the lock already held was taken (the stack above is
                // the new acquisition's).
                if let Some(at) = &e.held_at {
                    let _ = writeln!(
                        out,
                        "            while holding {from}, taken at {}",
                        relative(at)
                    );
                }
            }
            None => {
                let _ = writeln!(out, "        {from} -> {to}  (not recorded)");
            }
        }
    }
}

/// The functions of a stack, innermost first, each once: a closure (`f::{{closure}}`, the
/// test harness's around a test) is its function, and where the stack passes through one
/// function twice in a row the innermost line (the call) is kept.
fn callers(stack: &[StoredFrame]) -> Vec<(&str, Option<&str>)> {
    let mut path: Vec<(&str, Option<&str>)> = Vec::new();
    for frame in stack {
        let mut function = frame.function.as_str();
        while let Some(outer) = function.strip_suffix("::{{closure}}") {
            function = outer;
        }
        if path.last().map(|(f, _)| *f) != Some(function) {
            path.push((function, frame.location.as_deref()));
        }
    }
    path
}

/// Writes the summary of `graph` (read from `source`, a file or a list of them) to `out`;
/// `cycles` is the offline search's result for it.
pub fn summarize(
    graph: &StoredGraph,
    source: &str,
    cycles: Vec<Vec<StoredClass>>,
    out: &mut String,
) -> Findings {
    let size = GraphSize::of(graph);
    let _ = writeln!(
        out,
        "lockdep: the suite's class graph ({}): {}, {}, taken by {} in {}",
        source,
        crate::words::count(size.classes, "class", "classes"),
        crate::words::count(size.dependencies, "dependency", "dependencies"),
        crate::words::count(size.tests, "test", "tests"),
        crate::words::count(size.programs, "program", "programs")
    );

    let findings = graph.findings();
    let mut reported = Vec::new();
    let mut n = 0;
    if findings.is_empty() {
        let _ = writeln!(out, "lockdep: no finding was reported while the suite ran");
    } else {
        let _ = writeln!(
            out,
            "lockdep: {} reported while the suite ran:",
            crate::words::count(findings.len(), "finding", "findings")
        );
    }
    for finding in &findings {
        n += 1;
        let cycle = finding.kind == FindingKind::Cycle;
        let what = if cycle {
            "possible circular locking dependency"
        } else {
            "possible recursive locking"
        };
        let _ = writeln!(out, "  [{n}] {what}: {}", chain(&finding.classes, cycle));
        if cycle {
            cycle_edges(graph, &finding.classes, out);
            reported.push(finding.classes.clone());
        }
        let _ = writeln!(out, "      reported by {}", origins(&finding.origins));
    }

    let offline_only: Vec<Vec<StoredClass>> = cycles
        .into_iter()
        .filter(|c| !reported.contains(c))
        .collect();
    if !offline_only.is_empty() {
        // A cycle no process met runs through a dependency some process refused, or (stores
        // of shards united) through dependencies recorded by processes that never shared a
        // store.
        let through_refused = offline_only.iter().all(|cycle| {
            graph
                .cycle_edges(cycle)
                .iter()
                .any(|e| e.as_ref().is_some_and(|e| e.refused))
        });
        let why = if through_refused {
            "they run through a dependency some process refused, which no other process takes \
             into its own graph"
        } else {
            "no process could see them all: they run through a dependency some process \
             refused, or through dependencies recorded in different stores"
        };
        let _ = writeln!(
            out,
            "lockdep: {} found by the offline check ({why}):",
            crate::words::count(offline_only.len(), "more cycle", "more cycles")
        );
        for cycle in &offline_only {
            n += 1;
            let _ = writeln!(
                out,
                "  [{n}] possible circular locking dependency: {}",
                chain(cycle, true)
            );
            cycle_edges(graph, cycle, out);
        }
    }
    Findings {
        reported,
        offline_only,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockdep_core::store::format::{Record, StoredDependency};

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
            stack: Vec::new(),
            held_at: None,
        })
    }

    #[test]
    fn a_cycle_only_the_offline_check_sees_is_summarised_with_its_tests() {
        let graph = StoredGraph::from_records(vec![
            dep("a", "b", false, "t_ab"),
            dep("b", "c", false, "t_bc"),
            dep("c", "a", true, "t_ca"),
        ]);
        let mut out = String::new();
        let findings = summarize(&graph, "graph.lockdep", graph.check(), &mut out);
        assert_eq!(findings.offline_only.len(), 1, "{out}");
        assert!(findings.reported.is_empty());
        assert!(
            out.contains("3 classes, 3 dependencies, taken by 3 tests in 1 program"),
            "{out}"
        );
        assert!(out.contains("a -> b -> c -> a"), "{out}");
        assert!(
            out.contains("c -> a (EN)  taken by suite (test t_ca)  [refused"),
            "{out}"
        );
    }

    #[test]
    fn a_stack_is_told_by_its_functions_each_once() {
        let frame = |function: &str, location: &str| StoredFrame {
            function: function.to_string(),
            location: Some(location.to_string()),
        };
        let stack = [
            frame("bank::Bank::deposit", "src/lib.rs:32"),
            frame("first::pays", "tests/first.rs:14"),
            frame("first::pays::{{closure}}", "tests/first.rs:9"),
        ];
        assert_eq!(
            super::callers(&stack),
            [
                ("bank::Bank::deposit", Some("src/lib.rs:32")),
                ("first::pays", Some("tests/first.rs:14")),
            ]
        );
    }
}
