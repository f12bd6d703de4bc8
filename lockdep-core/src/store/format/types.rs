//! The records a store holds, as values: dependencies, findings, and their parts.

use std::fmt;

/// A class as the store names it: its name and nesting level. See the identity rule in
/// `DESIGN.md`: two processes' classes are the same node when their names are equal.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StoredClass {
    /// The class name (`file:line:col` of a creation site, a static key's or `named` name).
    pub name: String,
    /// The subclass (`lock_nested(n)`), 0 for a plain acquisition.
    pub subclass: u32,
}

impl fmt::Display for StoredClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.subclass {
            0 => f.write_str(&self.name),
            n => write!(f, "{}/{n}", self.name),
        }
    }
}

/// One frame of a stored stack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredFrame {
    /// The demangled function name.
    pub function: String,
    /// `file:line`, when known.
    pub location: Option<String>,
}

/// Which process recorded something.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin {
    /// The executable's name, without cargo's `-<hash>` suffix.
    pub program: String,
    /// The test that was running (the test thread's name), when known.
    pub test: Option<String>,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.program)?;
        if let Some(test) = &self.test {
            write!(f, " (test {test})")?;
        }
        Ok(())
    }
}

/// One dependency, as a process recorded it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredDependency {
    /// The held class.
    pub from: StoredClass,
    /// The class acquired while `from` was held.
    pub to: StoredClass,
    /// The kernel's dependency kinds seen (bits: 1 `SR`, 2 `ER`, 4 `SN`, 8 `EN`).
    pub kinds: u8,
    /// The dependency closed a cycle: the process reported it and did not add it.
    pub refused: bool,
    /// Who recorded it.
    pub origin: Origin,
    /// Where it was first seen (the acquisition of `to`); empty when the store knew the edge
    /// already.
    pub stack: Vec<StoredFrame>,
    /// Where the held lock (`from`) was taken, `file:line:column`, beside a first-seen
    /// `stack`: the other end of the dependency. `None` when the process did not know it, or
    /// in records written before stores kept it.
    pub held_at: Option<String>,
}

/// What a finding was about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FindingKind {
    /// A cycle of classes.
    Cycle,
    /// A class taken while a lock of the same class was held.
    Recursive,
}

impl FindingKind {
    /// The word the store (and the tools' machine formats) use: `cycle` or `recursive`.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::Cycle => "cycle",
            FindingKind::Recursive => "recursive",
        }
    }

    /// The kind named by [`FindingKind::as_str`]'s word.
    pub fn from_word(word: &str) -> Option<FindingKind> {
        match word {
            "cycle" => Some(FindingKind::Cycle),
            "recursive" => Some(FindingKind::Recursive),
            _ => None,
        }
    }
}

/// A finding some process reported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredFinding {
    /// Cycle or recursion.
    pub kind: FindingKind,
    /// The classes, in dependency order, rotated to start at the smallest (its identity).
    pub classes: Vec<StoredClass>,
    /// Who reported it.
    pub origin: Origin,
}

/// One line of a store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    /// A dependency (added or refused).
    Dependency(StoredDependency),
    /// A finding.
    Finding(StoredFinding),
}
