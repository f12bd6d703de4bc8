//! One class graph for a whole test suite: `LOCKDEP_GRAPH=<dir>`.
//!
//! `cargo test` runs each test file as its own process and `cargo nextest` each test: without
//! help, an inversion whose two halves are taken by two different tests is never seen. With
//! `LOCKDEP_GRAPH` naming a directory, every process
//! - loads the dependencies earlier processes recorded there, when its validator starts;
//! - appends each dependency it adds (class names, subclass, the kernel's edge labels, the
//!   first-seen stack resolved to text, the program and the test), and each finding, as it is
//!   made — a process that aborts still contributes what it saw;
//! - checks each new dependency against the whole shared graph, re-reading what other processes
//!   appended meanwhile: a cycle through another process's dependency is reported like a local
//!   one, that edge's stack headed "first seen in `<program>` (test `<name>`)";
//! - records each finding, and in `Warn` mode prints a finding another process of the suite
//!   reported already as one line naming that process. Every other delivery is unchanged —
//!   [`capture`](crate::capture), the handler, `Panic` — so a test passes or fails the same
//!   whichever process met a finding first.
//!
//! The file (`<dir>/graph.lockdep`, format in [`format`](mod@format)) is appended under the operating
//! system's exclusive file lock, one whole record at a time, and keeps every complete record
//! whatever happens to a writer: a record torn by a kill is skipped by readers and cut off by
//! the next writer, a failed write is cut back. A damaged or other-version file, or one that is
//! not a regular file or is past [`MAX_STORE_BYTES`], gives one warning and is ignored: the
//! process checks on its own.
//!
//! Nothing of this runs when `LOCKDEP_GRAPH` is unset, and an acquisition whose lock chain was
//! validated before never touches the store: only the slow path that adds a new dependency
//! does.
//!
//! **Class identity across processes** is the class *name* (and subclass): a creation site's
//! `file:line:col` (rustc gives workspace members' files relative to the workspace root, so the
//! same lock in two test binaries of one workspace has one name), a static key's name, a
//! `named` name. Two different classes that share a name are one node of the shared graph.
//!
//! The rest of this module reads a store back whole, for tools such as `cargo lockdep`.

pub mod format;
#[cfg(lockdep_checks)]
pub(crate) mod online;
#[cfg(lockdep_checks)]
mod process;

use format::{
    FindingKind, FormatError, Origin, Record, StoredClass, StoredDependency, StoredFrame,
};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::Read;
use std::path::{Path, PathBuf};

/// The store's file inside the `LOCKDEP_GRAPH` directory.
pub const FILE_NAME: &str = "graph.lockdep";

/// The most a store file may hold (256 MiB). Every process of a suite reads the whole file when
/// its validator starts, so a store is kept far below this by design (at most 16 records per
/// dependency, see `DESIGN.md`); the bound stops a reader from taking in a file that is not a
/// store at all, and a writer appends nothing that would cross it.
pub const MAX_STORE_BYTES: u64 = 256 << 20;

/// Opens `path` for reading, if it is a regular file: a FIFO is opened without blocking (so that
/// a pipe named like a store cannot hang the caller) and then refused like a device.
pub(crate) fn open_regular(path: &Path, options: &mut OpenOptions) -> Result<File, LoadError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(LoadError::Io)?;
    if !file.metadata().map_err(LoadError::Io)?.is_file() {
        return Err(LoadError::NotAFile);
    }
    Ok(file)
}

/// Reads `file` from `start` to its end, at most up to [`MAX_STORE_BYTES`] in all.
pub(crate) fn read_bounded(file: &File, start: u64) -> Result<Vec<u8>, LoadError> {
    use std::io::{Seek, SeekFrom};
    let len = file.metadata().map_err(LoadError::Io)?.len();
    if len > MAX_STORE_BYTES {
        return Err(LoadError::TooLarge(len));
    }
    let mut reader = file;
    reader.seek(SeekFrom::Start(start)).map_err(LoadError::Io)?;
    let mut bytes = Vec::new();
    reader
        .take((MAX_STORE_BYTES + 1).saturating_sub(start))
        .read_to_end(&mut bytes)
        .map_err(LoadError::Io)?;
    let end = start + bytes.len() as u64;
    if end > MAX_STORE_BYTES {
        return Err(LoadError::TooLarge(
            file.metadata().map_or(end, |m| m.len().max(end)),
        ));
    }
    Ok(bytes)
}

/// The store file of a `LOCKDEP_GRAPH` directory.
pub fn file_in(dir: impl AsRef<Path>) -> PathBuf {
    dir.as_ref().join(FILE_NAME)
}

/// Why a store could not be read.
#[derive(Debug)]
pub enum LoadError {
    /// The file could not be opened, locked or read.
    Io(std::io::Error),
    /// It is damaged or of another format version.
    Format(FormatError),
    /// It is not a regular file (a device, a pipe, a directory): never read, since a device
    /// such as `/dev/zero` never ends.
    NotAFile,
    /// It is larger than [`MAX_STORE_BYTES`].
    TooLarge(u64),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Io(e) => write!(f, "{e}"),
            LoadError::Format(e) => write!(f, "{e}"),
            LoadError::NotAFile => f.write_str(
                "it is not a regular file (a device, a pipe or a directory), so it is not read",
            ),
            LoadError::TooLarge(len) => write!(
                f,
                "it is {len} bytes, more than a store may grow to ({MAX_STORE_BYTES} bytes)"
            ),
        }
    }
}

impl std::error::Error for LoadError {}

/// A dependency as the whole suite saw it: every record of one `from -> to` merged.
#[derive(Clone, Debug)]
pub struct Edge {
    /// The held class.
    pub from: StoredClass,
    /// The class acquired while `from` was held.
    pub to: StoredClass,
    /// The dependency kinds seen (bits: 1 `SR`, 2 `ER`, 4 `SN`, 8 `EN`).
    pub kinds: u8,
    /// Some process added it to its graph.
    pub accepted: bool,
    /// Some process refused it because it closed a cycle there.
    pub refused: bool,
    /// The programs and tests that took this order.
    pub origins: BTreeSet<Origin>,
    /// Where it was first seen (the first recorded stack: the acquisition of `to`).
    pub stack: Vec<StoredFrame>,
    /// Where the held lock (`from`) was taken when [`stack`](Self::stack) was recorded
    /// (`file:line:column`); `None` when unknown or stored by an older version.
    pub held_at: Option<String>,
}

/// A finding as the whole suite saw it.
#[derive(Clone, Debug)]
pub struct Finding {
    /// Cycle or recursion.
    pub kind: FindingKind,
    /// Its classes in dependency order, starting at the smallest.
    pub classes: Vec<StoredClass>,
    /// Who reported it (normally one process: findings are deduplicated across processes).
    pub origins: BTreeSet<Origin>,
}

/// A store read back whole.
#[derive(Clone, Debug, Default)]
pub struct StoredGraph {
    records: Vec<Record>,
    torn: u64,
}

/// Reads the store in `dir` (under a shared file lock, so no record is read half-written). A
/// torn tail — the start of a record whose writer was killed in the middle of it — is left out
/// ([`StoredGraph::torn_tail`] says how long it was); every complete record is read.
pub fn load(dir: impl AsRef<Path>) -> Result<StoredGraph, LoadError> {
    load_file(&file_in(dir))
}

/// [`load`] for the store file at `path` itself.
pub fn load_file(path: &Path) -> Result<StoredGraph, LoadError> {
    let file = open_regular(path, OpenOptions::new().read(true))?;
    file.lock_shared().map_err(LoadError::Io)?;
    let read = read_bounded(&file, 0);
    let _ = file.unlock();
    let parsed = format::parse(&read?).map_err(LoadError::Format)?;
    Ok(StoredGraph {
        records: parsed.records,
        torn: parsed.torn as u64,
    })
}

impl StoredGraph {
    /// A graph from records (for tests and tools that build a store in memory).
    pub fn from_records(records: Vec<Record>) -> StoredGraph {
        StoredGraph { records, torn: 0 }
    }

    /// The length in bytes of the torn tail left out when the store was read (0 when the file
    /// ended with a whole record). A writer killed in the middle of a record leaves one; the
    /// next writer cuts it off.
    pub fn torn_tail(&self) -> u64 {
        self.torn
    }

    /// The union of several stores (shards of one suite, run apart): every record of each, in
    /// order. Dependencies and findings are merged by identity when read back, as within one
    /// store.
    pub fn union(graphs: impl IntoIterator<Item = StoredGraph>) -> StoredGraph {
        let mut all = StoredGraph::default();
        for graph in graphs {
            all.records.extend(graph.records);
            all.torn += graph.torn;
        }
        all
    }

    /// The store file's text for these records: the header, then each record on its line.
    pub fn encode(&self) -> String {
        let mut text = format!("{}\n", format::HEADER);
        for record in &self.records {
            text.push_str(&record.encode());
        }
        text
    }

    /// Every record, in file order.
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    fn dependencies(&self) -> impl Iterator<Item = &StoredDependency> {
        self.records.iter().filter_map(|r| match r {
            Record::Dependency(d) => Some(d),
            Record::Finding(_) => None,
        })
    }

    /// Every class that took part in a dependency, sorted.
    pub fn classes(&self) -> BTreeSet<StoredClass> {
        self.dependencies()
            .flat_map(|d| [d.from.clone(), d.to.clone()])
            .collect()
    }

    /// The dependencies, merged per `from -> to` and sorted.
    pub fn edges(&self) -> Vec<Edge> {
        let mut edges: BTreeMap<(StoredClass, StoredClass), Edge> = BTreeMap::new();
        for d in self.dependencies() {
            let edge = edges
                .entry((d.from.clone(), d.to.clone()))
                .or_insert_with(|| Edge {
                    from: d.from.clone(),
                    to: d.to.clone(),
                    kinds: 0,
                    accepted: false,
                    refused: false,
                    origins: BTreeSet::new(),
                    stack: Vec::new(),
                    held_at: None,
                });
            edge.kinds |= d.kinds;
            edge.accepted |= !d.refused;
            edge.refused |= d.refused;
            edge.origins.insert(d.origin.clone());
            if edge.stack.is_empty() {
                edge.stack = d.stack.clone();
                edge.held_at = d.held_at.clone();
            }
        }
        edges.into_values().collect()
    }

    /// The findings processes reported, merged by identity, in the order first reported.
    pub fn findings(&self) -> Vec<Finding> {
        let mut findings: Vec<Finding> = Vec::new();
        for record in &self.records {
            let Record::Finding(f) = record else { continue };
            match findings
                .iter_mut()
                .find(|g| g.kind == f.kind && g.classes == f.classes)
            {
                Some(g) => {
                    g.origins.insert(f.origin.clone());
                }
                None => findings.push(Finding {
                    kind: f.kind,
                    classes: f.classes.clone(),
                    origins: [f.origin.clone()].into(),
                }),
            }
        }
        findings
    }

    /// The edges of a cycle (`classes` in dependency order, closing edge last) as stored.
    pub fn cycle_edges(&self, classes: &[StoredClass]) -> Vec<Option<Edge>> {
        let edges = self.edges();
        (0..classes.len())
            .map(|i| {
                let (from, to) = (&classes[i], &classes[(i + 1) % classes.len()]);
                edges
                    .iter()
                    .find(|e| &e.from == from && &e.to == to)
                    .cloned()
            })
            .collect()
    }

    /// Searches the whole stored graph — refused dependencies included, which no process could
    /// check against — for strong cycles, with the validator's own search
    /// (`find_deadlock_path`, blocking layer). Every dependency that lies on a strong cycle is in at least one
    /// cycle returned (the first the search finds through it); each cycle is in dependency
    /// order, rotated to start at its smallest class, and the list is sorted.
    #[cfg(lockdep_checks)]
    pub fn check(&self) -> Vec<Vec<StoredClass>> {
        self.check_with_progress(|_, _| {})
    }

    /// [`StoredGraph::check`], calling `progress(searched, total)` after each dependency it
    /// searched from, so that a tool can say how far a long search has come.
    #[cfg(lockdep_checks)]
    pub fn check_with_progress(
        &self,
        mut progress: impl FnMut(usize, usize),
    ) -> Vec<Vec<StoredClass>> {
        use crate::class::NodeKey;
        use crate::depgraph::{DepGraph, Layer};

        let classes: Vec<StoredClass> = self.classes().into_iter().collect();
        let key = |c: &StoredClass| NodeKey((classes.binary_search(c).unwrap_or(0) as u32) << 3);
        let mut graph: DepGraph<()> = DepGraph::default();
        let edges = self.edges();
        for e in &edges {
            if e.from != e.to {
                graph.insert_dependency(key(&e.from), key(&e.to), e.kinds, ());
            }
        }
        let mut cycles = BTreeSet::new();
        for (searched, e) in edges.iter().enumerate() {
            progress(searched, edges.len());
            if e.from == e.to {
                continue;
            }
            for bit in [1u8, 2, 4, 8].into_iter().filter(|b| e.kinds & b != 0) {
                if let Some(path) =
                    graph.find_deadlock_path(Layer::Blocking, key(&e.to), key(&e.from), bit)
                {
                    let cycle = path
                        .iter()
                        .map(|s| classes[(s.node.0 >> 3) as usize].clone())
                        .collect();
                    cycles.insert(canonical(cycle));
                }
            }
        }
        progress(edges.len(), edges.len());
        cycles.into_iter().collect()
    }

    /// The class graph in Graphviz DOT: every edge labelled with its kinds and the tests that
    /// took it, the edges of `cycles` in red, dependencies that were only ever refused dashed.
    pub fn to_dot(&self, cycles: &[Vec<StoredClass>]) -> String {
        let on_cycle: BTreeSet<(&StoredClass, &StoredClass)> = cycles
            .iter()
            .flat_map(|c| (0..c.len()).map(move |i| (&c[i], &c[(i + 1) % c.len()])))
            .collect();
        let quote = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
        let mut dot = String::from("digraph lockdep {\n  node [shape = box];\n");
        for class in self.classes() {
            dot.push_str(&format!("  {};\n", quote(&class.to_string())));
        }
        for e in self.edges() {
            let tests: Vec<String> = e.origins.iter().map(Origin::to_string).collect();
            let mut attrs = vec![
                format!("label = {}", quote(&kinds_label(e.kinds))),
                format!("tooltip = {}", quote(&tests.join(", "))),
            ];
            if on_cycle.contains(&(&e.from, &e.to)) {
                attrs.push("color = red".into());
                attrs.push("fontcolor = red".into());
            }
            if !e.accepted {
                attrs.push("style = dashed".into());
            }
            dot.push_str(&format!(
                "  {} -> {} [{}];\n",
                quote(&e.from.to_string()),
                quote(&e.to.to_string()),
                attrs.join(", ")
            ));
        }
        dot.push_str("}\n");
        dot
    }
}

/// A finding's identity: its classes (in dependency order) rotated to start at the smallest.
/// (Only the checks use it: the offline search and the online side.)
#[cfg(lockdep_checks)]
pub(crate) fn canonical<T: Ord>(mut classes: Vec<T>) -> Vec<T> {
    if let Some(min) = (0..classes.len()).min_by_key(|&i| &classes[i]) {
        classes.rotate_left(min);
    }
    classes
}

pub use crate::kinds::kinds_label;

/// A finding's identity, stable across runs and machines: its kind and its classes' names (a
/// subclass written `name/N`), in dependency order, rotated to start at the smallest. A store's
/// findings, `cargo lockdep`'s machine-readable reports and its baseline file all name a
/// finding by it, and [`FindingId::of_report`] gives it for a report this process made, so that
/// an in-process handler can filter by the same list.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FindingId {
    /// Cycle or recursion.
    pub kind: FindingKind,
    /// The class names, in the canonical rotation.
    pub classes: Vec<String>,
}

impl FindingId {
    /// The identity of a finding of `kind` through `classes` (in dependency order, starting
    /// anywhere).
    pub fn new(kind: FindingKind, mut classes: Vec<String>) -> FindingId {
        // The rotation that starts at the smallest name: one order for the same cycle however
        // it was entered.
        if let Some(min) = (0..classes.len()).min_by_key(|&i| &classes[i]) {
            classes.rotate_left(min);
        }
        FindingId { kind, classes }
    }

    /// The identity of a finding through stored classes.
    pub fn of_classes(kind: FindingKind, classes: &[StoredClass]) -> FindingId {
        FindingId::new(kind, classes.iter().map(StoredClass::to_string).collect())
    }

    /// The identity of a report of this process, for the kinds a suite's store records: a
    /// circular dependency or a recursive acquisition. `None` for the others (a certain
    /// deadlock, a timed inversion, ...), which no baseline accepts.
    pub fn of_report(report: &crate::Report) -> Option<FindingId> {
        let kind = match report.kind() {
            crate::ReportKind::CircularDependency => FindingKind::Cycle,
            crate::ReportKind::RecursiveLocking if !report.is_certain_deadlock() => {
                FindingKind::Recursive
            }
            _ => return None,
        };
        let classes = report.classes().into_iter().map(String::from).collect();
        Some(FindingId::new(kind, classes))
    }
}

impl fmt::Display for FindingId {
    /// `cycle: a -> b`, `recursive: a`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.as_str(), self.classes.join(" -> "))
    }
}
