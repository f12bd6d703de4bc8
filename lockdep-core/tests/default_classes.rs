//! Classes of locks built through `Default`: one class per lock field of a derived or
//! hand-written `Default`, classes from user code for locks built by the standard library's
//! generic paths, and one class for every instance one construction site builds.
//!
//! The two patterns come from real, since-fixed deadlocks (a chain state's two maps; a queue's
//! two `Arc<RwLock<_>>` halves); each is run the way the real program ran: every code path on
//! its own thread, one after the other, so nothing ever blocks.
//!
//! Every test here asks for the reports or the classes of checked locks.
#![cfg(lockdep_checks)]

mod common;

use common::{assert_none, assert_one};
use lockdep_core::{capture, Mutex, ReportKind, RwLock, TrackedLock};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, LazyLock};

fn class_of(lock: &impl TrackedLock) -> String {
    lock.lock_instance().class_name()
}

/// Names come from debug information (the test profile's): an optimized build without it names
/// classes by function and code offset instead, and its class *identities* are what the tests
/// check there.
const NAMES_FROM_DEBUG_INFO: bool = cfg!(debug_assertions);

/// Runs `f` on a thread of its own and returns the reports it raised there.
fn on_thread(f: impl FnOnce() + Send + 'static) -> Vec<lockdep_core::Report> {
    on_thread_value(move || capture(f))
}

type Hash = [u8; 4];

/// The line of `InMemoryState::numbers` (checked by `names_say_which_field_and_type`).
const FIELD_LINE: u32 = 47;

#[derive(Default, Clone)]
struct Block {
    number: u64,
}

/// Pattern 1: a chain state, both maps behind locks of the same shape, built by the derive.
#[derive(Default)]
struct InMemoryState {
    // FIELD_LINE below is this line's number.
    numbers: RwLock<BTreeMap<u64, Hash>>,
    blocks: RwLock<HashMap<Hash, Block>>,
}

impl InMemoryState {
    fn update(&self, hash: Hash, block: Block) {
        let mut numbers = self.numbers.write();
        let mut blocks = self.blocks.write();
        numbers.insert(block.number, hash);
        blocks.insert(hash, block);
    }

    /// The bug: the opposite order.
    fn remove(&self, hash: Hash) {
        let mut blocks = self.blocks.write();
        if let Some(block) = blocks.remove(&hash) {
            self.numbers.write().remove(&block.number);
        }
    }
}

#[test]
fn derived_default_fields_inversion_is_reported() {
    let state = Arc::new(InMemoryState::default());
    assert_ne!(class_of(&state.numbers), class_of(&state.blocks));
    let s = state.clone();
    let first = on_thread(move || s.update([1; 4], Block { number: 1 }));
    assert_none(&first);
    let s = state.clone();
    let second = on_thread(move || s.remove([1; 4]));
    assert_one(
        &second,
        ReportKind::CircularDependency,
        &[&class_of(&state.numbers), &class_of(&state.blocks)],
    );
}

/// The fixed version: the same struct shape, both paths in one order.
#[derive(Default)]
struct FixedState {
    numbers: RwLock<BTreeMap<u64, Hash>>,
    blocks: RwLock<HashMap<Hash, Block>>,
}

impl FixedState {
    fn update(&self, hash: Hash, block: Block) {
        let mut numbers = self.numbers.write();
        let mut blocks = self.blocks.write();
        numbers.insert(block.number, hash);
        blocks.insert(hash, block);
    }

    fn remove(&self, hash: Hash) {
        let mut numbers = self.numbers.write();
        let mut blocks = self.blocks.write();
        if let Some(block) = blocks.remove(&hash) {
            numbers.remove(&block.number);
        }
    }
}

#[test]
fn derived_default_fields_in_a_fixed_order_are_clean() {
    let state = Arc::new(FixedState::default());
    for _ in 0..2 {
        let s = state.clone();
        assert_none(&on_thread(move || s.update([2; 4], Block { number: 2 })));
        let s = state.clone();
        assert_none(&on_thread(move || s.remove([2; 4])));
    }
}

/// Pattern 2: two halves of a queue, each an `Arc<RwLock<_>>` built by `Arc::default()`, whose
/// `Location` is inside the standard library.
#[derive(Default)]
struct Pending {
    pop: Arc<RwLock<Vec<u32>>>,
    push: Arc<RwLock<Vec<u32>>>,
}

impl Pending {
    fn refill(&self) {
        let mut pop = self.pop.write();
        let mut push = self.push.write();
        pop.append(&mut push);
    }

    /// The bug: `push` held while `pop` is read.
    fn len(&self) -> usize {
        let push = self.push.read();
        push.len() + self.pop.read().len()
    }
}

#[test]
fn arc_default_fields_inversion_is_reported() {
    let pending = Arc::new(Pending::default());
    let (pop, push) = (class_of(&*pending.pop), class_of(&*pending.push));
    assert_ne!(pop, push);
    for (class, field) in [(&pop, "Pending.pop "), (&push, "Pending.push ")] {
        if NAMES_FROM_DEBUG_INFO {
            assert!(!class.contains("/rustc/"), "{class}");
            // Named by the field the derived `default()` initialises.
            assert!(class.starts_with(field), "{class}");
        }
    }
    let p = pending.clone();
    assert_none(&on_thread(move || p.refill()));
    let p = pending.clone();
    let reports = on_thread(move || {
        p.len();
    });
    assert_one(&reports, ReportKind::CircularDependency, &[&pop, &push]);
}

#[derive(Default)]
struct FixedPending {
    pop: Arc<RwLock<Vec<u32>>>,
    push: Arc<RwLock<Vec<u32>>>,
}

impl FixedPending {
    fn refill(&self) {
        let mut pop = self.pop.write();
        let mut push = self.push.write();
        pop.append(&mut push);
    }

    fn len(&self) -> usize {
        let pop = self.pop.read();
        pop.len() + self.push.read().len()
    }
}

#[test]
fn arc_default_fields_in_a_fixed_order_are_clean() {
    let pending = Arc::new(FixedPending::default());
    let p = pending.clone();
    assert_none(&on_thread(move || p.refill()));
    let p = pending.clone();
    assert_none(&on_thread(move || {
        p.len();
    }));
}

/// Instances built by one constructor share their classes, so an inversion between two *other*
/// instances is found.
struct Account {
    balance: Mutex<u64>,
    history: Mutex<Vec<u64>>,
}

impl Account {
    fn new() -> Self {
        Account {
            balance: Mutex::new(0),
            history: Mutex::default(),
        }
    }
}

#[test]
#[cfg_attr(
    not(debug_assertions),
    ignore = "an optimized build may inline a constructor twice into one function, and each copy \
              then has its classes (DESIGN.md, Classes)"
)]
fn instances_of_one_constructor_share_classes() {
    let (a, b) = (Account::new(), Account::new());
    assert_eq!(class_of(&a.balance), class_of(&b.balance));
    assert_eq!(class_of(&a.history), class_of(&b.history));
    assert_ne!(class_of(&a.balance), class_of(&a.history));

    let (c, d) = (InMemoryState::default(), InMemoryState::default());
    assert_eq!(class_of(&c.numbers), class_of(&d.numbers));
    assert_eq!(class_of(&c.blocks), class_of(&d.blocks));

    // Built on other threads, in a loop, through a helper: still the same classes.
    let remote = std::thread::spawn(|| {
        let states: Vec<InMemoryState> = (0..3).map(|_| InMemoryState::default()).collect();
        states
            .iter()
            .map(|s| (class_of(&s.numbers), class_of(&s.blocks)))
            .collect::<Vec<_>>()
    })
    .join()
    .unwrap();
    for (numbers, blocks) in remote {
        assert_eq!(numbers, class_of(&c.numbers));
        assert_eq!(blocks, class_of(&c.blocks));
    }
}

/// One thread building locks through `Default` at more sites than it keeps construction records
/// for (32): the records of the first are evicted, and its next constructions still get the
/// classes they got before, one per field.
#[test]
fn constructions_past_a_threads_records_keep_their_classes() {
    let (numbers, blocks) = on_thread_value(|| {
        let first = InMemoryState::default();
        let before = (class_of(&first.numbers), class_of(&first.blocks));
        // Forty sites (each element is one: its own line), each its own record.
        let many: Vec<Mutex<u8>> = vec![
            Mutex::default(),
            Mutex::default(),
            Mutex::default(),
            Mutex::default(),
            Mutex::default(),
            Mutex::default(),
            Mutex::default(),
            Mutex::default(),
            Mutex::default(),
            Mutex::default(),
            Mutex::default(),
            Mutex::default(),
            Mutex::default(),
            Mutex::default(),
            Mutex::default(),
            Mutex::default(),
            Mutex::default(),
            Mutex::default(),
            Mutex::default(),
            Mutex::default(),
            Mutex::default(),
            Mutex::default(),
            Mutex::default(),
            Mutex::default(),
            Mutex::default(),
            Mutex::default(),
            Mutex::default(),
            Mutex::default(),
            Mutex::default(),
            Mutex::default(),
            Mutex::default(),
            Mutex::default(),
            Mutex::default(),
            Mutex::default(),
            Mutex::default(),
            Mutex::default(),
            Mutex::default(),
            Mutex::default(),
            Mutex::default(),
            Mutex::default(),
        ];
        let classes: std::collections::HashSet<String> = many.iter().map(class_of).collect();
        assert_eq!(classes.len(), 40, "forty sites, forty classes");
        let again = InMemoryState::default();
        assert_eq!(class_of(&again.numbers), before.0);
        assert_eq!(class_of(&again.blocks), before.1);
        before
    });
    assert_ne!(numbers, blocks);
    // And on another thread, whose records never saw these sites.
    let other = InMemoryState::default();
    assert_eq!(class_of(&other.numbers), numbers);
    assert_eq!(class_of(&other.blocks), blocks);
}

/// Runs `f` on a thread of its own and returns what it returned.
fn on_thread_value<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(f).join().unwrap()
}

#[derive(Default)]
struct Ledger {
    debit: Mutex<u64>,
    credit: Mutex<u64>,
}

#[test]
fn inversion_between_other_instances_of_derived_fields_is_found() {
    let first = Arc::new(Ledger::default());
    let f = first.clone();
    assert_none(&on_thread(move || {
        let _d = f.debit.lock();
        let _c = f.credit.lock();
    }));
    // Another instance, built later on another thread, the other way round.
    let reports = on_thread(|| {
        let second = Ledger::default();
        let _c = second.credit.lock();
        let _d = second.debit.lock();
    });
    assert_one(
        &reports,
        ReportKind::CircularDependency,
        &[&class_of(&first.debit), &class_of(&first.credit)],
    );
}

/// A struct nesting another derived struct between its lock fields.
#[derive(Default)]
struct Inner {
    a: Mutex<u8>,
    b: Mutex<u8>,
}

#[derive(Default)]
struct Outer {
    first: Mutex<u8>,
    inner: Inner,
    boxed: Box<Mutex<u8>>,
    reentrant: lockdep_core::ReentrantMutex<u8>,
    last: Mutex<u8>,
}

#[test]
fn nested_derived_structs_give_every_lock_its_class() {
    let o = Outer::default();
    let classes = [
        class_of(&o.first),
        class_of(&o.inner.a),
        class_of(&o.inner.b),
        class_of(&*o.boxed),
        class_of(&o.last),
        class_of(&o.reentrant),
    ];
    for (i, x) in classes.iter().enumerate() {
        for y in &classes[i + 1..] {
            assert_ne!(x, y);
        }
    }
    let again = Outer::default();
    assert_eq!(class_of(&again.last), classes[4]);
    assert_eq!(class_of(&*again.boxed), classes[3]);
    let reports = capture(|| {
        let _f = o.first.lock();
        let _a = o.inner.a.lock();
        let _b = o.inner.b.lock();
        let _x = o.boxed.lock();
        let _r = o.reentrant.lock();
        let _l = o.last.lock();
    });
    assert_none(&reports);
}

/// A hand-written `Default` and `Box::default()` / `Arc::default()` / `into()` written out.
struct Cache {
    map: Mutex<HashMap<u32, u32>>,
    lru: Mutex<Vec<u32>>,
    stats: Box<Mutex<u64>>,
    hits: Arc<Mutex<u64>>,
    misses: Mutex<u64>,
}

impl Default for Cache {
    fn default() -> Self {
        Cache {
            map: Mutex::default(),
            lru: Default::default(),
            stats: Box::default(),
            hits: Arc::default(),
            misses: 0.into(),
        }
    }
}

#[test]
fn hand_written_default_and_generic_paths_give_distinct_classes() {
    let c = Cache::default();
    let classes = [
        class_of(&c.map),
        class_of(&c.lru),
        class_of(&*c.stats),
        class_of(&*c.hits),
        class_of(&c.misses),
    ];
    for (i, x) in classes.iter().enumerate() {
        if NAMES_FROM_DEBUG_INFO {
            assert!(
                !x.contains("/rustc/") && !x.contains("src/parking_lot_face/mutex.rs"),
                "{x}"
            );
        }
        for y in &classes[i + 1..] {
            assert_ne!(x, y);
        }
    }
    let again = Cache::default();
    assert_eq!(class_of(&*again.hits), classes[3]);
    assert_eq!(class_of(&again.misses), classes[4]);
}

#[test]
fn option_get_or_insert_with_default_takes_the_callers_class() {
    let mut first: Option<Mutex<u32>> = None;
    let mut second: Option<Mutex<u32>> = None;
    let a = class_of(first.get_or_insert_with(Default::default));
    let b = class_of(second.get_or_insert_with(Mutex::default));
    assert_ne!(a, b);
    for class in [&a, &b] {
        if NAMES_FROM_DEBUG_INFO {
            assert!(!class.contains("/rustc/"), "{class}");
            assert!(class.contains("default_classes.rs"), "{class}");
        }
    }
    let reports = capture(|| {
        let _a = first.as_ref().unwrap().lock();
        let _b = second.as_ref().unwrap().lock();
    });
    assert_none(&reports);
}

// Both forms on purpose: a closure (its symbol names the static) and a fn item (its `Location`
// is inside this crate, so the class comes from the frame that first touches it).
#[allow(clippy::redundant_closure)]
static GRAPH_POOL: LazyLock<Mutex<Vec<u32>>> = LazyLock::new(|| Mutex::default());
static GRAPH_INDEX: LazyLock<Mutex<Vec<u32>>> = LazyLock::new(Mutex::default);
static ONCE_POOL: once_cell::sync::Lazy<RwLock<Vec<u32>>> =
    once_cell::sync::Lazy::new(RwLock::default);

thread_local! {
    static SCRATCH: Mutex<Vec<u32>> = Mutex::default();
}

#[test]
fn lazy_statics_and_thread_locals_take_classes_from_user_code() {
    let pool = class_of(&*GRAPH_POOL);
    let index = class_of(&*GRAPH_INDEX);
    let once = class_of(&*ONCE_POOL);
    let scratch = SCRATCH.with(class_of);
    let all = [&pool, &index, &once, &scratch];
    for (i, x) in all.iter().enumerate() {
        if NAMES_FROM_DEBUG_INFO {
            assert!(
                !x.contains("/rustc/") && !x.contains("src/parking_lot_face/mutex.rs"),
                "{x}"
            );
        }
        for y in &all[i + 1..] {
            assert_ne!(x, y);
        }
    }
    if NAMES_FROM_DEBUG_INFO {
        assert!(pool.starts_with("GRAPH_POOL"), "{pool}");
        assert!(scratch.contains("SCRATCH"), "{scratch}");
    }
    // Each is one lock: taking them together in any order is no finding.
    let reports = capture(|| {
        let _p = GRAPH_POOL.lock();
        let _i = GRAPH_INDEX.lock();
        let _o = ONCE_POOL.write();
        SCRATCH.with(|s| s.lock().push(1));
    });
    assert_none(&reports);
}

// lockdep's own once-cells put more frames of this crate and std (`Init::run`, `Once`'s
// closures) between the lock's `default` and the user code that forces them than std's do.
static LAZY_QUEUE: lockdep_core::sync::LazyLock<lockdep_core::sync::Mutex<Vec<u32>>> =
    lockdep_core::sync::LazyLock::new(Default::default);
static LAZY_CONFIG: lockdep_core::sync::LazyLock<lockdep_core::sync::Mutex<Vec<u32>>> =
    lockdep_core::sync::LazyLock::new(Default::default);
static CELL_QUEUE: lockdep_core::sync::OnceLock<Mutex<Vec<u32>>> =
    lockdep_core::sync::OnceLock::new();
static CELL_CONFIG: lockdep_core::sync::OnceLock<Mutex<Vec<u32>>> =
    lockdep_core::sync::OnceLock::new();

#[test]
fn statics_in_lockdeps_own_once_cells_built_by_default_are_separate_classes() {
    // Two statics of one type taken together, in one order only: no finding (one class for
    // both made this a `RecursiveLocking` report, and a panic in the default mode).
    let reports = capture(|| {
        let _q = LAZY_QUEUE.lock().unwrap();
        let _c = LAZY_CONFIG.lock().unwrap();
        let _cq = CELL_QUEUE.get_or_init(Default::default).lock();
        let _cc = CELL_CONFIG.get_or_init(Default::default).lock();
    });
    assert_none(&reports);
    // Their names come from the user code that forced them. (Without debug information, in a
    // test whose body the harness's `FnOnce::call_once` inlined, no frame is user code by its
    // symbol: the classes still differ, by the return addresses walked, but both are named
    // after the same standard-library frame.)
    if NAMES_FROM_DEBUG_INFO {
        let (lazy_queue, lazy_config) = (class_of(&*LAZY_QUEUE), class_of(&*LAZY_CONFIG));
        let (cell_queue, cell_config) = (
            class_of(CELL_QUEUE.get().unwrap()),
            class_of(CELL_CONFIG.get().unwrap()),
        );
        let all = [&lazy_queue, &lazy_config, &cell_queue, &cell_config];
        for (i, x) in all.iter().enumerate() {
            assert!(
                !x.contains("/rustc/") && !x.contains("lockdep-core/src/"),
                "{x}"
            );
            for y in &all[i + 1..] {
                assert_ne!(x, y);
            }
        }
    }
}

#[test]
fn std_sync_types_built_by_default_are_separate_classes() {
    #[derive(Default)]
    struct Shared {
        queue: lockdep_core::sync::Mutex<Vec<u8>>,
        config: lockdep_core::sync::Mutex<Vec<u8>>,
        index: lockdep_core::sync::RwLock<Vec<u8>>,
        table: lockdep_core::sync::RwLock<Vec<u8>>,
    }
    let s = Shared::default();
    assert_ne!(class_of(&s.queue), class_of(&s.config));
    assert_ne!(class_of(&s.index), class_of(&s.table));
    let reports = capture(|| {
        let _q = s.queue.lock().unwrap();
        let _c = s.config.lock().unwrap();
        let _i = s.index.write().unwrap();
        let _t = s.table.read().unwrap();
    });
    assert_none(&reports);
}

#[test]
#[cfg_attr(
    not(debug_assertions),
    ignore = "an optimized build may unroll the loop: each unrolled call then has its class"
)]
fn a_collection_of_locks_is_one_class() {
    let locks: Vec<Mutex<u32>> = (0..4).map(|_| Mutex::default()).collect();
    let mut resized: Vec<Mutex<u32>> = Vec::new();
    resized.resize_with(3, Mutex::default);
    assert!(locks.iter().all(|l| class_of(l) == class_of(&locks[0])));
    assert!(resized.iter().all(|l| class_of(l) == class_of(&resized[0])));
    assert_ne!(class_of(&locks[0]), class_of(&resized[0]));
    // Hand-over-hand over one class needs `lock_nested`, as in the kernel.
    let reports = capture(|| {
        let _a = locks[0].lock();
        let _b = locks[1].lock_nested(1);
    });
    assert_none(&reports);
    let reports = capture(|| {
        let _a = resized[0].lock();
        let _b = resized[1].lock();
    });
    assert_one(
        &reports,
        ReportKind::RecursiveLocking,
        &[&class_of(&resized[0])],
    );
}

#[test]
#[cfg_attr(not(debug_assertions), ignore = "names come from debug information")]
fn names_say_which_field_and_type() {
    let state = InMemoryState::default();
    let numbers = class_of(&state.numbers);
    let blocks = class_of(&state.blocks);
    assert!(
        numbers.starts_with("InMemoryState.numbers (RwLock<BTreeMap<u64, [u8; 4]>>) at "),
        "{numbers}"
    );
    assert!(
        blocks.starts_with("InMemoryState.blocks (RwLock<HashMap<[u8; 4], Block>>) at "),
        "{blocks}"
    );
    // Each is placed at its field's own line (debug information), not the shared derive line.
    assert!(
        numbers.ends_with(&format!(
            "at lockdep-core/tests/default_classes.rs:{FIELD_LINE}:5"
        )),
        "{numbers}"
    );
    assert!(
        blocks.ends_with(&format!(
            "at lockdep-core/tests/default_classes.rs:{}:5",
            FIELD_LINE + 1
        )),
        "{blocks}"
    );
    let named = Mutex::named("pcpu_alloc_mutex", ());
    assert_eq!(class_of(&named), "pcpu_alloc_mutex");
}

#[derive(Default)]
struct Shard {
    index: Mutex<Vec<u32>>,
    data: Mutex<Vec<u32>>,
    meta: RwLock<Vec<u32>>,
}

/// Many threads build the same struct at once, some through `Arc::default()`, and agree on
/// every class: the bursts are per thread, so interleaving cannot shift an ordinal.
#[test]
fn concurrent_construction_on_many_threads_agrees() {
    const THREADS: usize = 8;
    let barrier = Arc::new(std::sync::Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                (0..50)
                    .map(|_| {
                        let shard: Arc<Shard> = Arc::default();
                        let plain = Shard::default();
                        let classes =
                            |s: &Shard| [class_of(&s.index), class_of(&s.data), class_of(&s.meta)];
                        (classes(&shard), classes(&plain))
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let all: Vec<_> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    let (first, _) = &all[0];
    assert!(first[0] != first[1] && first[1] != first[2] && first[0] != first[2]);
    for (shared, plain) in &all {
        assert_eq!(shared, first);
        assert_eq!(plain, first);
    }
}

/// Two locks a hand-written constructor builds apart (each the first of its own burst): each is
/// named by its own line, with no ordinal that would print "#1" for both.
struct Host {
    actors: lockdep_core::RwLock<Vec<u8>>,
    links: lockdep_core::RwLock<Vec<u16>>,
}

impl Host {
    #[inline(never)]
    fn new() -> Host {
        let actors = lockdep_core::RwLock::default();
        let names: Vec<String> = (0..3).map(|i| i.to_string()).collect();
        std::hint::black_box(names);
        let links = lockdep_core::RwLock::default();
        Host { actors, links }
    }
}

#[test]
#[cfg_attr(not(debug_assertions), ignore = "names come from debug information")]
fn two_locks_built_apart_in_one_constructor_print_two_names() {
    let host = Host::new();
    let (actors, links) = (class_of(&host.actors), class_of(&host.links));
    assert_ne!(actors, links);
    assert!(
        !actors.contains('#') && !links.contains('#'),
        "{actors} / {links}"
    );
    assert!(
        actors.starts_with("Host::new lock (RwLock<Vec<u8>>) at "),
        "{actors}"
    );
    assert!(
        links.starts_with("Host::new lock (RwLock<Vec<u16>>) at "),
        "{links}"
    );
}

/// A constructor that builds two locks through `Default` in one struct literal.
struct Wasmbus {
    actors: RwLock<Vec<u32>>,
    links: RwLock<Vec<u32>>,
}

impl Wasmbus {
    fn new() -> Self {
        Self {
            actors: RwLock::default(),
            links: RwLock::default(),
        }
    }
}

#[test]
#[cfg_attr(not(debug_assertions), ignore = "names come from debug information")]
fn the_fields_of_a_struct_literal_name_its_locks_apart() {
    let host = Wasmbus::new();
    let (actors, links) = (class_of(&host.actors), class_of(&host.links));
    // The struct and the field the literal initialises, never one shared "lock #1".
    assert!(
        actors.starts_with("Wasmbus.actors (RwLock<Vec<u32>>) at "),
        "{actors}"
    );
    assert!(
        links.starts_with("Wasmbus.links (RwLock<Vec<u32>>) at "),
        "{links}"
    );
    for name in [&actors, &links] {
        assert!(!name.contains('#'), "{name}");
    }
}
