//! The baseline: findings a project has accepted, each with the reason, so that turning lockdep
//! on in a large code base fails the build only on *new* findings (as linters' baselines do).
//!
//! ```toml
//! version = 1
//!
//! [[finding]]
//! kind = "cycle"
//! classes = ["src/lib.rs:22:23", "src/lib.rs:23:20"]
//! reason = "the audit path runs only at start-up, before any deposit"
//! ```
//!
//! A finding is named by its identity ([`FindingId`]): its kind and its classes' names in the
//! canonical rotation, the same on every run and machine. `cargo lockdep baseline` writes the
//! file from a store (keeping the reasons of entries it already had); `test`, `check` and
//! `merge` take `--baseline FILE`, exit 2 only for findings not in it, and list the entries
//! that no longer occur (stale: the bug was fixed, so the file can shrink).

use lockdep_core::store::format::FindingKind;
use lockdep_core::store::FindingId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The `version` this tool reads and writes.
const VERSION: u32 = 1;

/// The file as written: unknown keys are refused, so that a misspelt `reason` or `classes` is
/// an error rather than an entry that silently matches nothing.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileFormat {
    version: u32,
    #[serde(default, rename = "finding")]
    findings: Vec<Entry>,
}

/// One accepted finding.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    kind: String,
    classes: Vec<String>,
    #[serde(default)]
    reason: String,
}

/// A baseline read from its file.
#[derive(Debug)]
pub struct Baseline {
    path: PathBuf,
    /// The accepted findings, with their reasons.
    entries: BTreeMap<FindingId, String>,
}

/// What a baseline makes of a run's findings.
pub struct Verdict {
    /// Findings the baseline accepts.
    pub accepted: Vec<FindingId>,
    /// Findings not in it: these fail the build.
    pub new: Vec<FindingId>,
    /// Entries no finding matched any more, with their reasons.
    pub stale: Vec<(FindingId, String)>,
}

impl Baseline {
    /// Reads the baseline at `path`: an error (naming the file) when it is missing, not TOML,
    /// of another version, or has a key or a kind this version does not know.
    pub fn read(path: &Path) -> Result<Baseline, String> {
        let bad = |what: String| {
            format!(
                "cannot use the baseline {}: {what}. Write one with `cargo lockdep baseline \
                 --output {}`, or correct it.",
                path.display(),
                path.display()
            )
        };
        let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
        let file: FileFormat = toml::from_str(&text).map_err(|e| bad(one_line(&e.to_string())))?;
        if file.version != VERSION {
            return Err(bad(format!(
                "its version is {}, and this cargo-lockdep reads version {VERSION}",
                file.version
            )));
        }
        let mut entries = BTreeMap::new();
        for (i, entry) in file.findings.into_iter().enumerate() {
            let kind = FindingKind::from_word(&entry.kind).ok_or_else(|| {
                bad(format!(
                    "finding {} has kind `{}`; a kind is `cycle` or `recursive`",
                    i + 1,
                    entry.kind
                ))
            })?;
            if entry.classes.is_empty() {
                return Err(bad(format!("finding {} names no class", i + 1)));
            }
            entries.insert(FindingId::new(kind, entry.classes), entry.reason);
        }
        Ok(Baseline {
            path: path.to_path_buf(),
            entries,
        })
    }

    /// Sorts `findings` into accepted and new, and lists the entries none of them matched.
    pub fn judge(&self, findings: &[FindingId]) -> Verdict {
        let (accepted, new) = findings
            .iter()
            .cloned()
            .partition(|f| self.entries.contains_key(f));
        let stale = self
            .entries
            .iter()
            .filter(|(id, _)| !findings.contains(id))
            .map(|(id, reason)| (id.clone(), reason.clone()))
            .collect();
        Verdict {
            accepted,
            new,
            stale,
        }
    }

    /// The lines that say what the baseline made of a run (after the summary).
    pub fn describe(&self, verdict: &Verdict) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "lockdep: baseline {}: {} accepted, {} new",
            self.path.display(),
            crate::words::count(verdict.accepted.len(), "finding", "findings"),
            verdict.new.len()
        );
        for id in &verdict.new {
            let _ = writeln!(out, "  new: {id}");
        }
        if !verdict.stale.is_empty() {
            let _ = writeln!(
                out,
                "lockdep: {} baseline entr{} no longer found (fixed? remove {} from {}, or \
                 rewrite it with `cargo lockdep baseline --output {}`):",
                verdict.stale.len(),
                if verdict.stale.len() == 1 { "y" } else { "ies" },
                if verdict.stale.len() == 1 {
                    "it"
                } else {
                    "them"
                },
                self.path.display(),
                self.path.display()
            );
            for (id, reason) in &verdict.stale {
                let _ = writeln!(out, "  stale: {id}{}", reason_note(reason));
            }
        }
        out
    }
}

fn reason_note(reason: &str) -> String {
    if reason.is_empty() {
        String::new()
    } else {
        format!(" (reason: {reason})")
    }
}

/// toml's errors span lines (with a caret under the spot): one line for one message.
fn one_line(message: &str) -> String {
    let lines: Vec<&str> = message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.chars().all(|c| c == '|' || c == '^' || c == ' '))
        .collect();
    lines.join("; ")
}

/// The baseline text accepting `findings`, each with the reason `previous` gives it (empty,
/// to fill in, for a finding `previous` does not know).
pub fn write(findings: &[FindingId], previous: Option<&Baseline>) -> String {
    let mut sorted = findings.to_vec();
    sorted.sort();
    sorted.dedup();
    let file = FileFormat {
        version: VERSION,
        findings: sorted
            .into_iter()
            .map(|id| Entry {
                kind: id.kind.as_str().into(),
                reason: previous
                    .and_then(|b| b.entries.get(&id).cloned())
                    .unwrap_or_default(),
                classes: id.classes,
            })
            .collect(),
    };
    let body = toml::to_string(&file).expect("a baseline always encodes");
    format!(
        "# lockdep's baseline: findings this project accepts, each with its reason. `cargo \
         lockdep test --baseline\n# FILE` (and check, merge) fails only on findings not listed \
         here; `cargo lockdep baseline` rewrites it.\n\n{body}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(kind: FindingKind, classes: &[&str]) -> FindingId {
        FindingId::new(kind, classes.iter().map(|c| c.to_string()).collect())
    }

    #[test]
    fn written_baselines_read_back_and_judge_accepted_new_and_stale() {
        let dir = std::env::temp_dir().join(format!("lockdep-baseline-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("b.toml");
        let ab = id(FindingKind::Cycle, &["b", "a"]);
        let r = id(FindingKind::Recursive, &["r"]);
        std::fs::write(&path, write(&[ab.clone(), r.clone()], None)).unwrap();
        let baseline = Baseline::read(&path).unwrap();
        // The same cycle entered elsewhere is the same finding.
        let verdict = baseline.judge(&[
            id(FindingKind::Cycle, &["a", "b"]),
            id(FindingKind::Cycle, &["c", "d"]),
        ]);
        assert_eq!(verdict.accepted, std::slice::from_ref(&ab));
        assert_eq!(verdict.new, [id(FindingKind::Cycle, &["c", "d"])]);
        assert_eq!(verdict.stale, [(r, String::new())]);
        let text = baseline.describe(&verdict);
        assert!(text.contains("1 finding accepted, 1 new"), "{text}");
        assert!(text.contains("  new: cycle: c -> d"), "{text}");
        assert!(text.contains("  stale: recursive: r"), "{text}");

        // Reasons survive a rewrite.
        let with_reason = std::fs::read_to_string(&path).unwrap().replacen(
            "reason = \"\"",
            "reason = \"start-up only\"",
            1,
        );
        std::fs::write(&path, with_reason).unwrap();
        let baseline = Baseline::read(&path).unwrap();
        let again = write(&[ab], Some(&baseline));
        assert!(again.contains("reason = \"start-up only\""), "{again}");

        for (bad, why) in [
            (
                "version = 1\n[[finding]]\nkind = \"cycle\"\nclasses = [\"a\"]\nreasn = \"x\"\n",
                "reasn",
            ),
            ("version = 2\n", "version is 2"),
            (
                "version = 1\n[[finding]]\nkind = \"deadlock\"\nclasses = [\"a\"]\n",
                "kind `deadlock`",
            ),
            (
                "version = 1\n[[finding]]\nkind = \"cycle\"\nclasses = []\n",
                "names no class",
            ),
            ("not toml at all", "cannot use the baseline"),
        ] {
            std::fs::write(&path, bad).unwrap();
            let e = Baseline::read(&path).unwrap_err();
            assert!(
                e.contains(why) && e.contains(&path.display().to_string()),
                "{e}"
            );
            assert!(!e.contains('\n'), "{e}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
