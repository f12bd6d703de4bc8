//! The validator's side of a `LOCKDEP_GRAPH` store: load it when the validator starts, append
//! every new dependency and finding, and check new dependencies against what other processes
//! recorded.
//!
//! Only the slow path (a lock chain this process never validated) reaches this module, and
//! only when `LOCKDEP_GRAPH` is set; a validated acquisition never does. Its lock (a plain
//! `parking_lot` mutex, not instrumented) is taken after the validator's graph lock has been
//! released, and the file lock only inside it: one order, so neither can deadlock.

use super::format::{
    self, FindingKind, Origin, Record, StoredClass, StoredDependency, StoredFinding, StoredFrame,
};
use super::process::{fatal_file_size_limit, program, test_name};
use super::{canonical, LoadError, FILE_NAME, MAX_STORE_BYTES};
use crate::access::Access;
use crate::class::{registry, NodeKey};
use crate::depgraph::{Added, DepGraph};
use crate::kinds::dep_kind;
use crate::report::ChainLink;
use crate::trace::Trace;
use parking_lot::Mutex as InternalMutex;
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::Write;
use std::panic::Location;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

/// A dependency the validator just added (or refused) in its own graph.
pub(crate) struct NewEdge {
    pub(crate) prev: NodeKey,
    pub(crate) prev_access: Access,
    pub(crate) next: NodeKey,
    pub(crate) next_access: Access,
    /// It closed a cycle in this process's graph and was reported there.
    pub(crate) refused: bool,
    /// Index of `prev` in the held-lock snapshot (the caller's, handed back in a cycle).
    pub(crate) held_index: usize,
    /// Where `prev` was taken, stored beside the first-seen stack (which is `next`'s).
    pub(crate) held_at: Option<&'static Location<'static>>,
}

impl NewEdge {
    /// The dependency "`next` taken as `next_access` while `prev` is held as `prev_access` (at
    /// `held_index`, taken at `held_at`)". Given the held entry's parts, not the entry: the store knows nothing of
    /// the held-lock stack.
    pub(crate) fn new(
        (prev, prev_access, held_at): (NodeKey, Access, Option<&'static Location<'static>>),
        next: NodeKey,
        next_access: Access,
        held_index: usize,
        refused: bool,
    ) -> NewEdge {
        NewEdge {
            prev,
            prev_access,
            next,
            next_access,
            refused,
            held_index,
            held_at,
        }
    }
}

/// A cycle that only the shared graph shows: it runs through dependencies other processes
/// recorded.
pub(crate) struct StoreCycle {
    /// The [`NewEdge::held_index`] of the edge that closes it.
    pub(crate) held_index: usize,
    /// Class names from the acquired class along the stored chain back to the held one.
    pub(crate) classes: Vec<String>,
    /// The same classes, as the store names them (the finding's identity).
    pub(crate) nodes: Vec<StoredClass>,
    /// The existing edges, with their first-seen stacks (another process's as stored text).
    pub(crate) links: Vec<ChainLink>,
}

/// What the store knows about a finding this process is about to report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Seen {
    /// Nobody reported it yet (or there is no store).
    New,
    /// Another process reported it.
    Elsewhere,
    /// This process reported it already (through the shared graph).
    Here,
}

struct Store {
    path: PathBuf,
    file: File,
    /// How much of the file has been read (and merged) so far: the end of its last complete
    /// record, where the next one is written.
    offset: u64,
    /// How many lines (the header included) end before `offset`, for messages.
    lines: usize,
    graph: DepGraph<Arc<Trace>>,
    /// Store-local class ids by name (a node is `id << 3 | subclass`, as in the validator).
    ids: HashMap<String, u32>,
    names: Vec<String>,
    /// Findings every process reported, by identity, with the first to report each; and those
    /// this one did.
    findings: HashMap<(FindingKind, Vec<StoredClass>), Origin>,
    /// Findings this process met that another reported first, by their names as reports
    /// show them (see [`reported_elsewhere`]).
    elsewhere: HashMap<(FindingKind, Vec<String>), Origin>,
    mine: HashSet<(FindingKind, Vec<StoredClass>)>,
    /// How many records each dependency has (see [`MAX_TAKERS`]).
    takers: HashMap<(NodeKey, NodeKey), usize>,
    /// Dependencies some process refused (and recorded with a stack).
    refused: HashSet<(NodeKey, NodeKey)>,
    program: String,
}

/// Most records naming the tests that took an already-known dependency.
const MAX_TAKERS: usize = 16;

/// `None`: `LOCKDEP_GRAPH` is unset, or the store could not be used (said once).
static STORE: OnceLock<Option<InternalMutex<Store>>> = OnceLock::new();

/// Loads the store named by `LOCKDEP_GRAPH`, once; called when the validator's global state is
/// created. Reads the environment and nothing else when the variable is unset.
pub(crate) fn init() {
    STORE.get_or_init(|| {
        let dir = crate::message::env_var("LOCKDEP_GRAPH")?;
        let dir = match store_dir(PathBuf::from(dir)) {
            Ok(dir) => dir,
            Err(file) => {
                eprintln!(
                    "lockdep: LOCKDEP_GRAPH ({}) is a file, and it must name a directory (the \
                     store's, or its {FILE_NAME}): point it at a directory, e.g. \
                     target/lockdep; this process checks only its own lock orders",
                    file.display()
                );
                return None;
            }
        };
        match Store::open(&dir) {
            Ok(store) => Some(InternalMutex::new(store)),
            Err(why) => {
                warn(&dir.join(FILE_NAME), &why);
                None
            }
        }
    });
}

/// The store's directory from `LOCKDEP_GRAPH`: a directory (made if missing), or the store file
/// itself (`.../graph.lockdep`, the path `cargo lockdep` prints), taken as its directory. Any
/// other existing file is refused (`Err`).
fn store_dir(path: PathBuf) -> Result<PathBuf, PathBuf> {
    if !path.is_file() {
        return Ok(path);
    }
    match path.parent() {
        Some(dir) if path.file_name() == Some(std::ffi::OsStr::new(FILE_NAME)) => {
            Ok(dir.to_path_buf())
        }
        _ => Err(path),
    }
}

fn store() -> Option<&'static InternalMutex<Store>> {
    if DISABLED.load(Ordering::Relaxed) {
        return None;
    }
    STORE.get()?.as_ref()
}

/// The one warning about an unusable store; the process then checks on its own.
fn warn(path: &Path, why: &str) {
    eprintln!(
        "lockdep: ignoring the shared class graph {}: {why}; this process checks only its own \
         lock orders (delete the file, or point LOCKDEP_GRAPH at a fresh directory, to start a \
         new one)",
        path.display()
    );
}

fn stored_class(node: NodeKey) -> StoredClass {
    StoredClass {
        name: registry::name(node.class()).to_string(),
        subclass: node.subclass(),
    }
}

fn frames(trace: &Trace) -> Vec<StoredFrame> {
    trace
        .resolved_frames()
        .into_iter()
        .map(|(function, location)| StoredFrame { function, location })
        .collect()
}

impl Store {
    fn open(dir: &Path) -> Result<Store, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create the directory: {e}"))?;
        let path = dir.join(FILE_NAME);
        let file = super::open_regular(&path, File::options().read(true).append(true).create(true))
            .map_err(|e| match e {
                LoadError::Io(e) => format!("cannot open it: {e}"),
                e => e.to_string(),
            })?;
        let mut store = Store {
            path,
            file,
            offset: 0,
            lines: 0,
            graph: DepGraph::default(),
            ids: HashMap::new(),
            names: Vec::new(),
            findings: HashMap::new(),
            elsewhere: HashMap::new(),
            mine: HashSet::new(),
            takers: HashMap::new(),
            refused: HashSet::new(),
            program: program(),
        };
        store.locked(|store| {
            // No header read: the file is new, or its first writer was killed while it wrote
            // the header (a torn header, cut off by `write_at_end`).
            if store.offset == 0 {
                store.write_at_end(format!("{}\n", format::HEADER).as_bytes())?;
                store.lines = 1;
            }
            Ok(())
        })?;
        Ok(store)
    }

    /// Runs `f` holding the file's exclusive lock, after merging what other processes appended
    /// since the last call.
    fn locked<T>(&mut self, f: impl FnOnce(&mut Store) -> std::io::Result<T>) -> Result<T, String> {
        self.file
            .lock()
            .map_err(|e| format!("cannot lock it: {e}"))?;
        let result = self
            .catch_up()
            .and_then(|()| f(self).map_err(|e| e.to_string()));
        // Closing the file would release the lock too; an error here changes nothing.
        let _ = self.file.unlock();
        result
    }

    /// Reads and merges the records appended since `offset`. A torn tail (a writer killed in
    /// the middle of a record) is left past `offset`: the next append cuts it off.
    fn catch_up(&mut self) -> Result<(), String> {
        let bytes = super::read_bounded(&self.file, self.offset).map_err(|e| match e {
            LoadError::Io(e) => format!("cannot read it: {e}"),
            e => e.to_string(),
        })?;
        let parsed = if self.offset == 0 {
            format::parse(&bytes)
        } else {
            format::parse_records(&bytes, self.lines + 1)
        }
        .map_err(|e| e.to_string())?;
        if self.offset == 0 && parsed.complete > 0 {
            self.lines = 1;
        }
        self.offset += parsed.complete as u64;
        self.lines += parsed.records.len();
        for record in parsed.records {
            self.merge(record);
        }
        Ok(())
    }

    fn merge(&mut self, record: Record) {
        match record {
            Record::Dependency(dep) => {
                let (from, to) = (self.node(&dep.from), self.node(&dep.to));
                if from == to {
                    return;
                }
                let frames = dep
                    .stack
                    .into_iter()
                    .map(|f| (f.function, f.location))
                    .collect();
                let trace = Trace::stored(frames, dep.origin.to_string());
                // A refused edge closed a cycle: it is in the offline check, not in the graph
                // that decides online, which stays as acyclic as each process keeps its own.
                *self.takers.entry((from, to)).or_insert(0) += 1;
                if dep.refused {
                    self.refused.insert((from, to));
                } else {
                    self.graph.insert_dependency(from, to, dep.kinds, trace);
                }
            }
            Record::Finding(finding) => {
                self.findings
                    .entry((finding.kind, canonical(finding.classes)))
                    .or_insert(finding.origin);
            }
        }
    }

    fn node(&mut self, class: &StoredClass) -> NodeKey {
        let next = self.names.len() as u32 + 1;
        let id = *self.ids.entry(class.name.clone()).or_insert(next);
        if id == next {
            self.names.push(class.name.clone());
        }
        NodeKey((id << 3) | class.subclass)
    }

    fn class(&self, node: NodeKey) -> StoredClass {
        StoredClass {
            name: self.names[(node.0 >> 3) as usize - 1].clone(),
            subclass: node.subclass(),
        }
    }

    fn name(&self, node: NodeKey) -> String {
        self.class(node).to_string()
    }

    fn append(&mut self, record: &Record) -> std::io::Result<()> {
        self.write_at_end(record.encode().as_bytes())?;
        self.lines += 1;
        Ok(())
    }

    /// Appends `bytes` (whole lines) after the last complete record; called under the file's
    /// exclusive lock, after [`Store::catch_up`]. The file keeps only complete records whatever
    /// happens: a torn tail another writer left is cut off first, a write that would cross a
    /// bound is not started, and one that fails is cut back to where it began.
    fn write_at_end(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let start = self.offset;
        // Caught up under the exclusive lock, every complete record is before `offset`: what
        // lies past it is the start of a record whose writer died (other writers wait on the
        // lock). Cut it off, so that this record starts on a fresh line.
        if self.file.metadata()?.len() != start {
            self.file.set_len(start)?;
        }
        let end = start + bytes.len() as u64;
        if end > MAX_STORE_BYTES {
            return Err(std::io::Error::other(format!(
                "it has grown to the most a store may hold ({MAX_STORE_BYTES} bytes)"
            )));
        }
        if let Some(limit) = fatal_file_size_limit() {
            if end > limit {
                return Err(std::io::Error::other(format!(
                    "the next record would pass this process's file-size limit ({limit} bytes, \
                     `ulimit -f`)"
                )));
            }
        }
        if let Err(e) = self.file.write_all(bytes) {
            // A full disk or a file-size limit can stop a write part of the way: cut the part
            // off, still under the lock, so that no reader ever meets it.
            let _ = self.file.set_len(start);
            return Err(e);
        }
        self.offset = end;
        Ok(())
    }
}

/// Records the dependencies the validator just added or refused, and checks the added ones
/// against the shared graph. Returns the cycles only the shared graph shows.
pub(crate) fn on_new_edges(edges: &[NewEdge], trace: &Arc<Trace>) -> Vec<StoreCycle> {
    let Some(store) = store() else {
        return Vec::new();
    };
    let mut store = store.lock();
    let origin = Origin {
        program: store.program.clone(),
        test: test_name(),
    };
    // Resolving the stack (symbolising) is the expensive part: do it before taking the file
    // lock, which other processes wait on, and only when some edge will need it — one that
    // this process's view of the shared graph does not know yet, or a refused one.
    let needs_stack = edges.iter().any(|e| {
        let (prev, next) = (
            store.node(&stored_class(e.prev)),
            store.node(&stored_class(e.next)),
        );
        let kind = dep_kind(e.prev_access, e.next_access);
        if e.refused {
            return !store.refused.contains(&(prev, next));
        }
        store
            .graph
            .dependency(prev, next)
            .is_none_or(|d| d.kinds & kind == 0)
    });
    let stack = if needs_stack {
        frames(trace)
    } else {
        Vec::new()
    };
    let result = store.locked(|store| {
        let mut cycles = Vec::new();
        for edge in edges {
            let (from, to) = (stored_class(edge.prev), stored_class(edge.next));
            let (prev, next) = (store.node(&from), store.node(&to));
            if prev == next {
                // Two classes of one name: one node in the shared graph (see DESIGN.md).
                continue;
            }
            let kinds = dep_kind(edge.prev_access, edge.next_access);
            let mut record = StoredDependency {
                from,
                to,
                kinds,
                refused: edge.refused,
                origin: origin.clone(),
                stack: Vec::new(),
                held_at: None,
            };
            if !edge.refused {
                let added = store.graph.add_dependency(
                    prev,
                    edge.prev_access,
                    next,
                    edge.next_access,
                    || trace.clone(),
                );
                match added {
                    Added::Known => {}
                    Added::New => record.stack = stack.clone(),
                    Added::Cycle(path) => {
                        record.refused = true;
                        cycles.push(StoreCycle {
                            held_index: edge.held_index,
                            classes: path.iter().map(|s| store.name(s.node)).collect(),
                            nodes: path.iter().map(|s| store.class(s.node)).collect(),
                            links: path
                                .windows(2)
                                .map(|w| {
                                    let dep = store
                                        .graph
                                        .edge(w[1].via.expect("steps after the first have edges"));
                                    ChainLink {
                                        from: store.name(w[0].node),
                                        to: store.name(w[1].node),
                                        // The store keeps class names only, not whether a
                                        // class is a once-cell's: its links are worded as locks.
                                        from_initialising: false,
                                        to_initialising: false,
                                        kinds: w[1].kinds,
                                        n_write: dep.n_write,
                                        first_seen: dep.first_seen.clone(),
                                    }
                                })
                                .collect(),
                        });
                    }
                }
            }
            if record.refused && store.refused.insert((prev, next)) {
                record.stack = stack.clone();
            }
            // A known dependency is recorded again only to name the test that took it, and only
            // for the first few: the file, which every process reads, stays bounded by the
            // number of distinct dependencies rather than of tests.
            let takers = store.takers.entry((prev, next)).or_insert(0);
            *takers += 1;
            if !record.stack.is_empty() {
                // Both ends of a first-seen dependency: the stack took `to`, this took `from`.
                record.held_at = edge.held_at.map(ToString::to_string);
            }
            if !record.stack.is_empty() || *takers <= MAX_TAKERS {
                store.append(&Record::Dependency(record))?;
            }
        }
        Ok(cycles)
    });
    result.unwrap_or_else(|why| {
        let path = store.path.clone();
        drop(store);
        disable(&path, &why);
        Vec::new()
    })
}

/// Records a finding this process is about to report (`classes` in dependency order) and says
/// whether this or another process reported it already.
fn note_finding(kind: FindingKind, classes: Vec<StoredClass>) -> Seen {
    let Some(store) = store() else {
        return Seen::New;
    };
    let display: Vec<String> = classes.iter().map(StoredClass::to_string).collect();
    let key = (kind, canonical(classes));
    let mut store = store.lock();
    if store.mine.contains(&key) {
        return Seen::Here;
    }
    let origin = Origin {
        program: store.program.clone(),
        test: test_name(),
    };
    let result = store.locked(|store| {
        store.mine.insert(key.clone());
        if let Some(first) = store.findings.get(&key).cloned() {
            store.elsewhere.insert((kind, canonical(display)), first);
            return Ok(Seen::Elsewhere);
        }
        store.findings.insert(key.clone(), origin.clone());
        let (kind, classes) = key;
        store.append(&Record::Finding(StoredFinding {
            kind,
            classes,
            origin,
        }))?;
        Ok(Seen::New)
    });
    result.unwrap_or_else(|why| {
        let path = store.path.clone();
        drop(store);
        disable(&path, &why);
        Seen::New
    })
}

/// Set once the store became unusable after it was opened (damaged by something else, a full
/// disk): it is then left alone.
static DISABLED: AtomicBool = AtomicBool::new(false);

/// Warns (once) and stops using the store.
fn disable(path: &Path, why: &str) {
    if !DISABLED.swap(true, Ordering::Relaxed) {
        warn(path, why);
    }
}

/// The validator's hook for a finding new to this process (`nodes` in dependency order):
/// records it in the store. Every such finding is delivered as without a store — to
/// `capture`, the handler, the mode — so a test behaves the same whichever process of the
/// suite met the finding first; only `Warn`'s printing is shortened for a finding another
/// process reported ([`reported_elsewhere`]). Returns `false` when this process reported it
/// already through the shared graph.
pub(crate) fn report_finding(kind: FindingKind, nodes: &[NodeKey]) -> bool {
    if store().is_none() {
        return true;
    }
    report_stored(kind, nodes.iter().map(|&n| stored_class(n)).collect())
}

/// [`report_finding`] for a finding already in the store's terms (a [`StoreCycle`]).
pub(crate) fn report_stored(kind: FindingKind, classes: Vec<StoredClass>) -> bool {
    note_finding(kind, classes) != Seen::Here
}

/// For `Warn` mode, which prints each finding of a suite once: who reported `report` first,
/// when that was another process of the suite.
pub(crate) fn reported_elsewhere(report: &crate::Report) -> Option<Origin> {
    let store = store()?;
    let kind = match report.kind() {
        crate::ReportKind::CircularDependency => FindingKind::Cycle,
        _ if report.is_certain_deadlock() => return None,
        _ => FindingKind::Recursive,
    };
    let classes = canonical(report.classes().into_iter().map(String::from).collect());
    store.lock().elsewhere.get(&(kind, classes)).cloned()
}
