//! Lock classes: the nodes of the dependency graph.
//!
//! As in the kernel, dependencies are recorded between *classes*, not between lock instances:
//! every lock created at one source location (or with one static key, or one name) shares a
//! class, so an inversion between two instances is found even when the run only ever saw other
//! instances of the same two classes in the opposite order.

mod lock_type;

#[cfg(lockdep_checks)]
pub(crate) use lock_type::{describe as describe_type, short_type};
pub(crate) use lock_type::{lock_type, LockTypeFn};
use std::panic::Location;
#[cfg(lockdep_checks)]
use std::sync::atomic::{AtomicPtr, AtomicU32, Ordering};

/// A named static lock-class key, like the kernel's `struct lock_class_key`.
///
/// Every lock made with [`Mutex::with_class`](crate::Mutex::with_class) (or the same constructor
/// of any other lock type) and the same key belongs to one class, whatever its creation site.
///
/// ```
/// use lockdep_core::{LockClass, Mutex};
///
/// static PCPU_ALLOC: LockClass = LockClass::new("pcpu_alloc_mutex");
/// static ALLOC_LOCK: Mutex<u32> = Mutex::with_class(&PCPU_ALLOC, 0);
///
/// *ALLOC_LOCK.lock() += 1;
/// assert_eq!(PCPU_ALLOC.name(), "pcpu_alloc_mutex");
/// ```
pub struct LockClass {
    name: &'static str,
    /// Index in the class registry plus one; 0 until the class is first used.
    #[cfg(lockdep_checks)]
    id: AtomicU32,
    /// For a class made for a lock built through `Default`: what names it at report time.
    #[cfg(lockdep_checks)]
    generic: Option<&'static dyn NamedLater>,
}

impl LockClass {
    /// A class key with a human-readable name (the name shown in reports).
    pub const fn new(name: &'static str) -> Self {
        LockClass {
            name,
            #[cfg(lockdep_checks)]
            id: AtomicU32::new(0),
            #[cfg(lockdep_checks)]
            generic: None,
        }
    }

    /// The class of locks built through `Default` at one site (see `default_class`).
    #[cfg(lockdep_checks)]
    pub(crate) const fn generic(site: &'static dyn NamedLater) -> Self {
        LockClass {
            name: "<default>",
            id: AtomicU32::new(0),
            generic: Some(site),
        }
    }

    /// The name reports show: the given name, or for a class made through `Default` the one
    /// built (lazily, once) from its site.
    #[cfg(lockdep_checks)]
    pub(crate) fn report_name(&self) -> &'static str {
        match self.generic {
            Some(site) => site.name(),
            None => self.name,
        }
    }

    /// The name given to [`LockClass::new`].
    pub const fn name(&self) -> &'static str {
        self.name
    }
}

/// The key of locks built by `lock_api`'s own `new` (through a raw lock's `INIT`), which cannot
/// say where they were created: each such lock gets a class of its own when first taken,
/// named after it ("built by lock_api's new, instance N"). Nesting two of them is never taken
/// for a recursion; an inversion between two instances goes unseen unless they are the very
/// locks of the cycle. Prefer this crate's constructors, which give the creation site.
pub static UNCLASSED: LockClass = LockClass::new("<built by lock_api's new>");

/// What names a class at report time when its name is not known when it is made: a class
/// built through `Default` (`default_class`), whose name is read from debug information only
/// if a report needs it. A trait here, implemented there, so that the class table does not
/// import the module that builds such classes.
#[cfg(lockdep_checks)]
pub(crate) trait NamedLater: Sync {
    /// The name reports show; computed on first use, then kept.
    fn name(&'static self) -> &'static str;
}

impl std::fmt::Debug for LockClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("LockClass").field(&self.name).finish()
    }
}

/// Where a lock instance takes its class from; stored in every instrumented lock.
///
/// With the checks compiled out this is a zero-sized type, so a lock costs exactly what the
/// lock underneath costs.
#[cfg(not(lockdep_checks))]
#[derive(Clone, Copy)]
pub(crate) struct ClassCell;

#[cfg(not(lockdep_checks))]
impl ClassCell {
    pub(crate) const fn from_key(_: &'static LockClass) -> Self {
        ClassCell
    }
    pub(crate) const fn from_site(_: &'static Location<'static>) -> Self {
        ClassCell
    }
    pub(crate) fn from_name(_: &str) -> Self {
        ClassCell
    }
    pub(crate) fn same_class(&self) -> Self {
        ClassCell
    }
    pub(crate) const fn reentrant(self) -> Self {
        self
    }
}

/// Where a lock instance takes its class from, resolved lazily on first acquisition.
///
/// One pointer wide. Its low bits say what it holds: `SITE` marks a creation site that is not
/// yet interned to a class (a `const fn` cannot intern), no tag a `&'static LockClass` not yet
/// registered or counted for this instance, and `SEEN` (not a pointer) once the instance has
/// been counted: the state the hot path wants to find, where resolving is one load and no
/// second one through the class. A `SEEN` word holds the class's registered id in its top
/// [`ID_BITS`] bits (so the id, and the class's node, are one shift away) and, on 64-bit
/// targets, a serial number drawn once per instance in 41 of the bits between (never reused in
/// practice; the three just below the id stay clear).
///
/// The whole `SEEN` word is the instance's identity on the held-lock stack: a new lock at a
/// freed lock's address gets a new one, so a stale entry left by a leaked guard can never be
/// taken for it. Dropping the cell ends the identity (see the `Drop` impl).
#[cfg(lockdep_checks)]
pub(crate) struct ClassCell(AtomicPtr<()>);

#[cfg(lockdep_checks)]
const SITE: usize = 1;
#[cfg(lockdep_checks)]
const SEEN: usize = 2;
/// Marks the raw mutex inside a `ReentrantMutex` (64-bit targets; kept through resolution, in
/// the bit a `SEEN` word leaves free below its serial): `lock_api`'s reentrant layer keeps its
/// owner and count beside the raw lock and cannot survive a panic out of the raw `lock` or
/// `bump` it calls (see `raw/checked`). Smaller targets have no bit to spare: there every raw
/// lock is treated as possibly reentrant.
#[cfg(all(target_pointer_width = "64", lockdep_checks))]
const REENTRANT: usize = 4;
#[cfg(all(not(target_pointer_width = "64"), lockdep_checks))]
const REENTRANT: usize = 0;
/// Every tag an unresolved word may carry.
#[cfg(lockdep_checks)]
const TAGS: usize = SITE | REENTRANT;
// Only a `SEEN` word has the `SEEN` bit (what `resolve_word` tests alone): the pointers a
// cell holds otherwise, plain or with `SITE` (and `REENTRANT`) added, are aligned past it.
#[cfg(lockdep_checks)]
const _: () = assert!(
    std::mem::align_of::<LockClass>() > (SEEN | REENTRANT)
        && std::mem::align_of::<Location<'static>>() > (SITE | SEEN | REENTRANT)
);
/// Bits of the class id in a `SEEN` word (ids go up to `MAX_CLASSES`, `1 << 16`).
#[cfg(lockdep_checks)]
const ID_BITS: u32 = 17;
/// Where the class id starts in a `SEEN` word: the top bits.
#[cfg(lockdep_checks)]
const ID_SHIFT: u32 = usize::BITS - ID_BITS;
/// Serials fill the bits between the tags and the three bits below the id (64-bit targets
/// only: on smaller ones a serial would wrap, and the cell's address is the identity
/// instead). Those three bits stay clear, so that the word shifted right by `ID_SHIFT - 3` is
/// the class's node at subclass 0 (`class << 3`): one shift on the validated path
/// ([`ClassCell::resolve_node`]).
#[cfg(all(target_pointer_width = "64", lockdep_checks))]
const SERIAL_MASK: usize = (1 << (ID_SHIFT - 6)) - 1;
/// The next instance serial.
#[cfg(all(target_pointer_width = "64", lockdep_checks))]
static NEXT_SERIAL: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);

/// The class id in a `SEEN` word.
#[cfg(lockdep_checks)]
#[inline(always)]
fn seen_id(word: usize) -> ClassId {
    ClassId((word >> ID_SHIFT) as u32)
}

/// The node of a `SEEN` word's class at subclass 0 (`class << 3`): the three bits below the
/// id are clear (see [`SERIAL_MASK`]), so one shift gives it.
#[cfg(lockdep_checks)]
#[inline(always)]
fn seen_node(word: usize) -> NodeKey {
    NodeKey((word >> (ID_SHIFT - 3)) as u32)
}

#[cfg(lockdep_checks)]
impl ClassCell {
    pub(crate) const fn from_key(key: &'static LockClass) -> Self {
        ClassCell(AtomicPtr::new(key as *const LockClass as *mut ()))
    }

    pub(crate) const fn from_site(site: &'static Location<'static>) -> Self {
        let ptr = site as *const Location<'static> as *mut ();
        ClassCell(AtomicPtr::new(ptr.wrapping_byte_add(SITE)))
    }

    pub(crate) fn from_name(name: &str) -> Self {
        ClassCell::from_key(registry::intern_name(name))
    }

    /// Another cell of the same class (a clone of a lock-like value keeps its class): a new
    /// instance, so a resolved cell gives its class's key, never its own `SEEN` word (which
    /// is this instance's identity and count: a copy of it would be uncounted when dropped).
    pub(crate) fn same_class(&self) -> Self {
        let word = self.0.load(Ordering::Acquire);
        if word.addr() & SEEN == 0 {
            return ClassCell(AtomicPtr::new(word));
        }
        // Every id in a `SEEN` word is registered (slot 0, the only empty one, is never given).
        let Some(class) = registry::class(seen_id(word.addr())) else {
            return ClassCell(AtomicPtr::new(word));
        };
        let cell = ClassCell::from_key(class);
        if word.addr() & REENTRANT != 0 {
            cell.reentrant()
        } else {
            cell
        }
    }

    /// The same cell, marked as the raw mutex of a `ReentrantMutex` (see [`REENTRANT`]).
    pub(crate) const fn reentrant(self) -> Self {
        // SAFETY: `ClassCell` is one `AtomicPtr<()>`, which has the same in-memory
        // representation as `*mut ()`; the cell is consumed without its `Drop` (which matters
        // only for a resolved cell, and this one is not: see below).
        let ptr = unsafe { std::mem::transmute::<ClassCell, *mut ()>(self) };
        // Built by `from_key` or `from_site`: an unresolved word, whose pointer is aligned past
        // every tag.
        ClassCell(AtomicPtr::new(ptr.wrapping_byte_add(REENTRANT)))
    }

    /// Whether this may be the raw mutex of a `ReentrantMutex` (always, where no bit says).
    #[cold]
    pub(crate) fn may_be_reentrant(&self) -> bool {
        REENTRANT == 0 || self.0.load(Ordering::Relaxed).addr() & REENTRANT != 0
    }

    /// The class of this instance, registering it (and counting the instance) on first use.
    #[cfg(test)]
    pub(crate) fn resolve(&self) -> Option<ClassId> {
        self.resolve_instance(None).map(|(id, _)| id)
    }

    /// The class of this instance and its identity (see [`Self::resolve_node`]).
    #[cfg(test)]
    pub(crate) fn resolve_instance(&self, ty: Option<LockTypeFn>) -> Option<(ClassId, usize)> {
        let word = self.resolve_word(ty)?;
        Some((seen_id(word), self.identity_of(word)))
    }

    /// The node of this instance's class at subclass 0 and the instance's identity (see the
    /// type's doc), registering the class and counting the instance on first use. `None` when
    /// the class table is full. The node is one shift of the word (see [`SERIAL_MASK`]).
    ///
    /// `ty`: what the lock is, from a typed acquisition (see `lock_type.rs`); read only on the
    /// slow path, so a constant passed here costs the validated path nothing once inlined.
    #[inline(always)]
    pub(crate) fn resolve_node(&self, ty: Option<LockTypeFn>) -> Option<(NodeKey, usize)> {
        // `let else`, not `?`: in a user's debug build that is a call (`Try::branch`).
        #[allow(clippy::question_mark)]
        let Some(word) = self.resolve_word(ty) else {
            return None;
        };
        Some((seen_node(word), self.identity_of(word)))
    }

    /// This instance's `SEEN` word, resolving it on first use; `None` when the class table is
    /// full.
    #[inline(always)]
    fn resolve_word(&self, ty: Option<LockTypeFn>) -> Option<usize> {
        let ptr = self.0.load(Ordering::Acquire);
        // The `SEEN` bit alone: the other words are pointers to types aligned to at least 4
        // (checked below), so neither an untagged nor a `SITE`-tagged one has it. One `test`
        // where masking both tags and comparing took three instructions and a copy.
        if ptr.addr() & SEEN != 0 {
            return Some(ptr.addr());
        }
        // One word back (0: none), in a register: an `Option` of a pair came back through a
        // stack slot, which every acquisition then stored and loaded around the lock's address.
        match self.resolve_slow(ptr, ty) {
            0 => None,
            word => Some(word),
        }
    }

    /// This instance's identity on the held-lock stack. For an instance never tracked it is
    /// the cell's unresolved word, which no held entry has: those all carry a `SEEN` word, and
    /// an unresolved one is a `LockClass` pointer (bits 0 and 1 clear) or `SITE`-tagged (bit 0
    /// set). So releases need no test of the tag: one load.
    #[inline(always)]
    pub(crate) fn identity(&self) -> usize {
        // Relaxed: the cell changes once, to `SEEN`, and a thread that holds the lock saw that.
        self.identity_of(self.0.load(Ordering::Relaxed).addr())
    }

    #[inline(always)]
    fn identity_of(&self, word: usize) -> usize {
        #[cfg(target_pointer_width = "64")]
        {
            word
        }
        #[cfg(not(target_pointer_width = "64"))]
        {
            let _ = word;
            self as *const Self as usize
        }
    }

    /// The `SEEN` word of an instance not resolved yet (0 when the class table is full).
    #[cold]
    fn resolve_slow(&self, ptr: *mut (), ty: Option<LockTypeFn>) -> usize {
        let tags = ptr.addr() & TAGS;
        let untagged = ptr.wrapping_byte_sub(tags);
        let class: &'static LockClass = if tags & SITE != 0 {
            // SAFETY: a SITE-tagged pointer was made from a `&'static Location` in `from_site`.
            let site = unsafe { &*(untagged as *const Location<'static>) };
            registry::intern_site(site)
        } else {
            // SAFETY: a pointer without `SITE` was made from a `&'static LockClass` in
            // `from_key` (`REENTRANT` is taken off above).
            let key = unsafe { &*(untagged as *const LockClass) };
            if std::ptr::eq(key, &UNCLASSED) {
                registry::instance_class()
            } else {
                key
            }
        };
        let Some(id) = registry::register(class) else {
            return 0;
        };
        // A class made by `new` shows what its locks are (the first typed instance says).
        if let (true, Some(ty)) = (tags & SITE != 0, ty) {
            registry::set_type(id, ty);
        }
        #[cfg(target_pointer_width = "64")]
        let serial = (NEXT_SERIAL.fetch_add(1, Ordering::Relaxed) & SERIAL_MASK) << 3;
        #[cfg(not(target_pointer_width = "64"))]
        let serial = 0;
        let seen = ((id.0 as usize) << ID_SHIFT) | serial | SEEN | (tags & REENTRANT);
        match self.0.compare_exchange(
            ptr,
            std::ptr::without_provenance_mut(seen),
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => {
                registry::count_instance(id);
                seen
            }
            // Another thread resolved this instance first: its word is the one.
            Err(_) => self.resolve_word(ty).unwrap_or(0),
        }
    }

    /// The class name without registering anything (for messages about a lock that is not
    /// tracked).
    pub(crate) fn describe(&self) -> String {
        let ptr = self.0.load(Ordering::Acquire);
        if ptr.addr() & SEEN != 0 {
            return registry::name(seen_id(ptr.addr())).to_string();
        }
        let untagged = ptr.wrapping_byte_sub(ptr.addr() & TAGS);
        if ptr.addr() & SITE != 0 {
            // SAFETY: see `resolve_slow`.
            let site = unsafe { &*(untagged as *const Location<'static>) };
            return site_name(site);
        }
        // SAFETY: a pointer without `SITE` is a `&'static LockClass` (see `resolve_slow`).
        unsafe { &*(untagged as *const LockClass) }
            .report_name()
            .to_string()
    }
}

/// Dropping a lock ends its instance identity: it no longer counts as a live instance of its
/// class, and an entry this thread still holds for it (its guard was leaked) is removed, with
/// a message. One atomic-free read when the lock was never taken; otherwise a scan of this
/// thread's (short) held stack. An entry a guard leaked on *another* thread stays on that
/// thread's stack until it exits (and is named then): it cannot be reached from here, and,
/// identities never being reused (on 64-bit targets), it can never be mistaken for a later
/// lock. (Elsewhere the identity is the cell's address.)
#[cfg(lockdep_checks)]
impl Drop for ClassCell {
    fn drop(&mut self) {
        let word = self.0.get_mut().addr();
        if word & (SITE | SEEN) == SEEN {
            registry::drop_instance(seen_id(word));
            if let Some(dropped) = INSTANCE_DROPPED.get() {
                dropped(self.identity_of(word));
            }
        }
    }
}

/// What else dropping a tracked instance does: the validator's `instance_dropped`, which clears
/// a leaked entry of it from this thread's held stack. The validator sits above this module (it
/// resolves classes through it), so it hands the function down rather than being called by
/// name: [`on_instance_dropped`], on each thread's first push. No entry exists before the
/// first push of any thread, so no drop that matters can come before it.
#[cfg(lockdep_checks)]
static INSTANCE_DROPPED: std::sync::OnceLock<fn(usize)> = std::sync::OnceLock::new();

/// Sets what dropping a tracked instance does besides counting it (see [`INSTANCE_DROPPED`]).
#[cfg(lockdep_checks)]
pub(crate) fn on_instance_dropped(dropped: fn(usize)) {
    let _ = INSTANCE_DROPPED.set(dropped);
}

/// The class name of a creation-site class: `file:line:col`, as the kernel names a class after
/// its key's symbol.
#[cfg(lockdep_checks)]
fn site_name(site: &Location<'_>) -> String {
    format!("{}:{}:{}", site.file(), site.line(), site.column())
}

/// A registered class: a small integer, so held-lock entries and graph keys stay compact.
#[cfg(lockdep_checks)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct ClassId(pub(crate) u32);

/// How many nesting levels (`lock_nested(subclass)`) one class may have, as in the kernel.
pub const MAX_SUBCLASSES: u32 = 8;

/// A graph node: a class at one nesting level, packed as `class << 3 | subclass`.
#[cfg(lockdep_checks)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct NodeKey(pub(crate) u32);

#[cfg(lockdep_checks)]
impl NodeKey {
    #[cfg(test)]
    pub(crate) fn new(class: ClassId, subclass: u32) -> Self {
        debug_assert!(subclass < MAX_SUBCLASSES);
        NodeKey((class.0 << 3) | subclass)
    }
    /// This node's class at `subclass` (this node being at subclass 0).
    // `inline(always)`, as the other accessors on the validated path: in a build with debug
    // assertions a call costs more than the work (see `validator::enter`).
    #[inline(always)]
    pub(crate) fn at_subclass(self, subclass: u32) -> Self {
        debug_assert!(subclass < MAX_SUBCLASSES && self.subclass() == 0);
        NodeKey(self.0 | subclass)
    }
    pub(crate) fn class(self) -> ClassId {
        ClassId(self.0 >> 3)
    }
    #[inline(always)]
    pub(crate) fn subclass(self) -> u32 {
        self.0 & 7
    }
    /// The node's key: the class name, with `/N` for a nonzero subclass as the kernel writes
    /// it. What the cross-process store, the DOT drawing and `held_locks` name a node by.
    pub(crate) fn name(self) -> String {
        let base = registry::name(self.class());
        match self.subclass() {
            0 => base.to_string(),
            n => format!("{base}/{n}"),
        }
    }

    /// The name reports show: [`name`](Self::name), and for a class made by `new` what its
    /// locks are (`src/lib.rs:17:22 (Mutex<i64>)`), so that a reader need not open the source.
    /// The type goes before a subclass's `/N`, which stays last as reports expect it.
    pub(crate) fn display(self) -> String {
        let Some(ty) = registry::lock_type(self.class()) else {
            return self.name();
        };
        let base = registry::name(self.class());
        match self.subclass() {
            0 => format!("{base} ({ty})"),
            n => format!("{base} ({ty})/{n}"),
        }
    }
    /// Whether the class is a once-cell's (its acquisition is an initialisation): reports say
    /// "initialising" rather than "lock" for it.
    pub(crate) fn initialising(self) -> bool {
        registry::is_initialising(self.class())
    }
}

/// Panics with a clear message when a subclass is out of range (a misuse, not a finding).
#[cfg(lockdep_checks)]
#[track_caller]
pub(crate) fn check_subclass(subclass: u32, class: &ClassCell) {
    if subclass >= MAX_SUBCLASSES {
        panic!(
            "lockdep: subclass {subclass} of lock class `{}` is out of range: at most {} nesting \
             levels (0..={}) are allowed per class",
            class.describe(),
            MAX_SUBCLASSES,
            MAX_SUBCLASSES - 1
        );
    }
}

#[cfg(lockdep_checks)]
pub(crate) mod memo;
#[cfg(lockdep_checks)]
pub(crate) mod registry;

#[cfg(all(test, lockdep_checks))]
mod tests;
