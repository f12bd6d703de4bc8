//! The global class table. Written only when a class is first used; read only to name
//! classes in reports and statistics, so its lock is never on the hot path.

use super::memo::{same_site, Memo};
use super::{describe_type, site_name, ClassId, LockClass, LockTypeFn};
use dashmap::DashMap;
use once_cell::sync::Lazy;
use parking_lot::RwLock;
use std::panic::Location;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::OnceLock;

/// Most classes the table holds (the kernel's MAX_LOCKDEP_KEYS is 8191).
pub const MAX_CLASSES: usize = 1 << 16;

/// Most distinct names `named(...)` interns: one per class the table can hold. Each costs
/// its text and a leaked `LockClass`, kept for the life of the process.
pub const MAX_NAMES: usize = MAX_CLASSES;

pub(crate) struct ClassInfo {
    pub(crate) class: Option<&'static LockClass>,
    /// Acquired by initialising a once-cell (see `init.rs`): only changes report wording.
    pub(crate) initialising: AtomicBool,
    /// For a class made by `new`: what its locks are, as the first typed instance said.
    ty: OnceLock<LockTypeFn>,
    /// [`ty`](Self::ty) written out (`Mutex<i64>`), made when a report first asks.
    ty_name: OnceLock<&'static str>,
}

impl ClassInfo {
    fn new(class: Option<&'static LockClass>) -> Self {
        ClassInfo {
            class,
            initialising: AtomicBool::new(false),
            ty: OnceLock::new(),
            ty_name: OnceLock::new(),
        }
    }
}

static CLASSES: Lazy<RwLock<Vec<ClassInfo>>> = Lazy::new(|| {
    // Index 0 is reserved so that a zero id means "not registered".
    RwLock::new(vec![ClassInfo::new(None)])
});
/// Records what the locks of class `id` (made by `new`) are, unless an instance said so
/// before. Called once per instance, on the slow path that registers it.
pub(crate) fn set_type(id: ClassId, ty: LockTypeFn) {
    if let Some(info) = CLASSES.read().get(id.0 as usize) {
        let _ = info.ty.set(ty);
    }
}

/// What the locks of class `id` are (`Mutex<i64>`), for a class made by `new` whose typed
/// instance was registered; written out (and kept) on the first call, outside the table's
/// lock.
pub(crate) fn lock_type(id: ClassId) -> Option<&'static str> {
    let (ty, written) = {
        let classes = CLASSES.read();
        let info = classes.get(id.0 as usize)?;
        (*info.ty.get()?, info.ty_name.get().copied())
    };
    if written.is_some() {
        return written;
    }
    let name: &'static str = Box::leak(describe_type(ty).into_boxed_str());
    let classes = CLASSES.read();
    Some(*classes.get(id.0 as usize)?.ty_name.get_or_init(|| name))
}

/// Live (resolved, not yet dropped) instances per class id. A fixed array, so counting a
/// drop takes no lock; untouched pages of it cost nothing.
static LIVE: [AtomicUsize; MAX_CLASSES + 1] = [const { AtomicUsize::new(0) }; MAX_CLASSES + 1];
/// Instances per class id ever counted (resolved), dropped or not: what a drawing made at
/// exit, when most locks are gone, can still say of a class.
static SEEN: [AtomicUsize; MAX_CLASSES + 1] = [const { AtomicUsize::new(0) }; MAX_CLASSES + 1];
static SITES: Lazy<DashMap<Location<'static>, &'static SiteClass>> = Lazy::new(crate::sharded::map);
/// [`SITES`] by the address of the `Location` asked for: one load for an instance of a site
/// seen before (the table hashes the file name and takes a shard lock).
static SITES_BY_ADDRESS: Memo<SiteClass> = Memo::new();

/// The class of a creation site, with the `Location` it was first made for.
struct SiteClass {
    /// The `Location` the class was first made for (a copy elsewhere compares equal).
    site: &'static Location<'static>,
    /// The class of every lock built there by `new`.
    class: LockClass,
}
static NAMES: Lazy<DashMap<&'static str, &'static LockClass>> = Lazy::new(crate::sharded::map);
static FULL_REPORTED: AtomicBool = AtomicBool::new(false);
static NAMES_FULL_REPORTED: AtomicBool = AtomicBool::new(false);
/// The class of every lock named after the name table filled up: it is never registered,
/// so those locks go unchecked (like locks of classes beyond a full class table).
static NAME_TABLE_FULL: LockClass = LockClass::new("<name table full: not checked>");

/// A class of its own for a lock built by `lock_api`'s `new` (through the raw lock's
/// `INIT`, keyed by [`UNCLASSED`](crate::raw::UNCLASSED)), which cannot say where it was
/// created: one class per instance, made (and leaked) when the instance is first taken.
/// Sound — no two such locks share a class, so nesting two is no recursion — but an
/// inversion between two instances that a creation-site class would have tied together
/// goes unseen. Bounded by the class table, like every class.
pub(crate) fn instance_class() -> &'static LockClass {
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let name: &'static str =
        Box::leak(format!("<built by lock_api's new, instance {n}>").into_boxed_str());
    Box::leak(Box::new(LockClass::new(name)))
}

/// The class of a creation site, created (and leaked, once per site) on first use.
pub(crate) fn intern_site(site: &'static Location<'static>) -> &'static LockClass {
    let key = std::ptr::from_ref(site).addr();
    let found = SITES_BY_ADDRESS.get(key, |known| same_site(known.site, site));
    if let Some(known) = found {
        return &known.class;
    }
    let interned: &'static SiteClass = *SITES.entry(*site).or_insert_with(|| {
        let name: &'static str = Box::leak(site_name(site).into_boxed_str());
        Box::leak(Box::new(SiteClass {
            site,
            class: LockClass::new(name),
        }))
    });
    SITES_BY_ADDRESS.put(key, interned);
    &interned.class
}

/// The class of an explicit name: one class per distinct name, process-wide.
pub(crate) fn intern_name(name: &str) -> &'static LockClass {
    if let Some(class) = NAMES.get(name) {
        return *class;
    }
    // Bounded like the class table (and useless once that is full: a new name could not
    // be registered). Racing threads may overshoot by a few names, never without bound.
    if NAMES.len() >= MAX_NAMES || FULL_REPORTED.load(Ordering::Relaxed) {
        if !NAMES_FULL_REPORTED.swap(true, Ordering::Relaxed) {
            crate::message::notice(format_args!(
                "lockdep: the lock name table is full ({} names{}); locks named with a new \
                 name (first: `{name}`) are not checked from now on",
                NAMES.len(),
                if FULL_REPORTED.load(Ordering::Relaxed) {
                    ", and the class table is full"
                } else {
                    ""
                }
            ));
        }
        return &NAME_TABLE_FULL;
    }
    let name: &'static str = Box::leak(name.to_string().into_boxed_str());
    *NAMES
        .entry(name)
        .or_insert_with(|| Box::leak(Box::new(LockClass::new(name))))
}

/// Gives `class` its id, or `None` when the table is full (the lock then goes unchecked and
/// a one-time message says so).
pub(crate) fn register(class: &'static LockClass) -> Option<ClassId> {
    let id = class.id.load(Ordering::Acquire);
    if id != 0 {
        return Some(ClassId(id));
    }
    if std::ptr::eq(class, &NAME_TABLE_FULL) {
        return None;
    }
    let mut classes = CLASSES.write();
    let id = class.id.load(Ordering::Acquire);
    if id != 0 {
        return Some(ClassId(id));
    }
    // Slot 0 is reserved, so the table is full at MAX_CLASSES + 1 entries.
    if classes.len() > MAX_CLASSES {
        drop(classes);
        if !FULL_REPORTED.swap(true, Ordering::Relaxed) {
            crate::message::notice(format_args!(
                "lockdep: the class table is full ({MAX_CLASSES} classes); locks of new \
                 classes (first: `{}`) are not checked from now on",
                class.report_name()
            ));
        }
        return None;
    }
    classes.push(ClassInfo::new(Some(class)));
    let id = (classes.len() - 1) as u32;
    class.id.store(id, Ordering::Release);
    Some(ClassId(id))
}

/// The class registered as `id`.
pub(crate) fn class(id: ClassId) -> Option<&'static LockClass> {
    CLASSES
        .read()
        .get(id.0 as usize)
        .and_then(|info| info.class)
}

pub(crate) fn count_instance(id: ClassId) {
    if let Some(live) = LIVE.get(id.0 as usize) {
        live.fetch_add(1, Ordering::Relaxed);
    }
    if let Some(seen) = SEEN.get(id.0 as usize) {
        seen.fetch_add(1, Ordering::Relaxed);
    }
}

/// A counted instance was dropped.
pub(crate) fn drop_instance(id: ClassId) {
    if let Some(live) = LIVE.get(id.0 as usize) {
        live.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Distinct names interned by `named(...)`.
pub(crate) fn name_count() -> usize {
    NAMES.len()
}

/// Marks `id` as a once-cell's class. Called on the (rare) path of a cell not yet
/// initialised, never when reading a completed one.
pub(crate) fn mark_initialising(id: ClassId) {
    if let Some(info) = CLASSES.read().get(id.0 as usize) {
        info.initialising.store(true, Ordering::Relaxed);
    }
}

pub(crate) fn is_initialising(id: ClassId) -> bool {
    CLASSES
        .read()
        .get(id.0 as usize)
        .is_some_and(|c| c.initialising.load(Ordering::Relaxed))
}

/// The name reports show. A class made through `Default` is named (its symbols resolved)
/// on the first call, outside the table's lock.
pub(crate) fn name(id: ClassId) -> &'static str {
    let class = CLASSES.read().get(id.0 as usize).and_then(|c| c.class);
    class.map_or("<unknown>", LockClass::report_name)
}

/// Live instances of a class: resolved (taken at least once) and not dropped yet.
pub(crate) fn instances(id: ClassId) -> usize {
    LIVE.get(id.0 as usize)
        .map_or(0, |live| live.load(Ordering::Relaxed))
}

/// Instances of a class ever taken (counted when first resolved), dropped or not.
pub(crate) fn instances_seen(id: ClassId) -> usize {
    SEEN.get(id.0 as usize)
        .map_or(0, |seen| seen.load(Ordering::Relaxed))
}

/// Registered classes (not counting the reserved slot).
pub(crate) fn count() -> usize {
    CLASSES.read().len() - 1
}
