//! Classes for locks built through `Default` and the standard library's generic paths.
//!
//! `new` is `#[track_caller]` and a `const fn`: its class is its caller's `Location`, which is
//! exact for a call written in user code. `Default::default()` is where that breaks down:
//!
//! - every field of a `#[derive(Default)]` struct gets the *same* `Location` (the derive line),
//!   so two lock fields of one struct would share a class — a false "recursive locking" when
//!   both are taken, and an ABBA between them never seen;
//! - a lock built by generic code of the standard library (`Arc::default()`, `Box::default()`,
//!   `get_or_insert_with(Default::default)`, a fn item passed as a closure) gets a `Location`
//!   inside the standard library (or, through a fn pointer, inside this crate), shared by every
//!   such lock in the program.
//!
//! So the lock types' `default()` (and `From::from` when called from generic code) work out a
//! class once per *construction* (never per acquisition) and key it by (site, anchor, ordinal).
//! `default()` is `#[inline(always)]`: inlined into its caller, it reads the instruction and
//! stack pointers *there* ([`call_site`], two instructions, no unwinding), which is all the
//! common case needs; only a site outside user code walks frames (`backtrace::trace`,
//! unresolved, up to the first user frame).
//!
//!
//! - **site** is the `Location` the constructor saw;
//! - **anchor** is empty when that site is in user code; when it is inside the standard library
//!   or this crate, the walk goes up to the first frame of user code (each distinct frame
//!   address resolved once, cached) and the anchor is that frame's source position — or, with
//!   no debug information to give one (or no user frame to be found: user code inlined into
//!   std's glue), the return addresses walked up to there;
//! - **ordinal** separates the fields of one derived `default()`: within one call each field's
//!   construction sits at its own code address, though the `Location` is the same. Per thread
//!   and per (site, anchor), the constructions form *bursts*: a burst ends when a code address
//!   comes back (the same constructor called again) or the calling frame changes (another call
//!   of it elsewhere); the ordinal is the position in the burst. So the fields of one struct
//!   get 0, 1, 2…, every instance built by that constructor gets the same ordinals again, and
//!   an inlined copy of the constructor in another frame lines up with the first (two copies
//!   inlined into one frame do not: each keeps its own classes, never sharing one between two
//!   fields).
//!
//! Names are made only when a report (or the DOT graph) asks: the user frame's function,
//! the lock's type (`type_name`, free) and where it was built (the field's own line, from
//! debug information, else the site), e.g.
//! `InMemoryState::default lock (RwLock<HashMap<Hash, Block>>) at src/state.rs:6:5`.

mod field;
mod symbols;

use crate::class::memo::{same_site, spread, Memo};
use crate::class::{ClassCell, LockClass};
use dashmap::DashMap;
use once_cell::sync::Lazy;
use std::cell::RefCell;
use std::panic::Location;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use symbols::{frame_info, is_internal_site};

/// The return address of [`generic_cell`]'s call into the unwinder, once known.
static OWN_FRAME: AtomicUsize = AtomicUsize::new(0);

/// What a class built through `Default` knows about itself, for naming it at report time.
pub(crate) struct GenericSite {
    site: &'static Location<'static>,
    /// Where in user code the site was reached from, when the site is not user code.
    anchor: Anchor,
    ordinal: u32,
    /// `Mutex`, `RwLock`, …
    kind: &'static str,
    /// `type_name` of the protected data.
    ty: &'static str,
    /// Code address in the user frame (first construction of the class).
    ra: usize,
    /// Return address into the first standard-library frame (0 when the site is user code).
    via: usize,
    /// Start of the function holding `via` (for naming without debug information).
    via_fn: usize,
    /// Start of the function holding `ra`, when known (naming without debug information).
    ra_fn: usize,
    name: OnceLock<&'static str>,
    /// The class this names (set as it is made, before the record is shared).
    class: OnceLock<&'static LockClass>,
}

impl GenericSite {
    /// The class this record names (set before the record is shared, so always there).
    fn class(&self) -> &'static LockClass {
        self.class
            .get()
            .copied()
            .expect("a generic class is made with its record")
    }
}

/// The class key: the site by value (a `Location` may have several copies in a binary).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    site: Location<'static>,
    anchor: Anchor,
    ordinal: u32,
}

/// Where a construction at a site inside the standard library came from.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Anchor {
    /// The site is user code.
    None,
    /// The first user frame's `file:line:col` (interned).
    Position(&'static str),
    /// A hash of the return addresses walked (no debug information).
    Chain(u64),
}

impl Anchor {
    fn id(self) -> usize {
        match self {
            Anchor::None => 0,
            Anchor::Position(position) => position.as_ptr() as usize,
            Anchor::Chain(hash) => hash as usize | 1,
        }
    }
}

/// A frame as the walk sees it (cached per return address).
#[derive(Clone, Copy)]
struct FrameInfo {
    user: bool,
    position: Option<&'static str>,
}

/// Frames walked up from a site inside the standard library before giving up on finding user
/// code (and hashing them into an [`Anchor::Chain`]). Enough for this crate's own once-cells:
/// a `sync::LazyLock::new(Default::default)` static is built nine frames below the user code
/// that forces it (the fn item's shim, `Init::run`, `force_slow` and its closure, `Once`'s
/// three, `force`, `deref`), and with 8 every such static got one class, the same chain of
/// internal frames. The walk stops at the first user frame, so a larger bound costs only paths
/// that find none.
const MAX_CHAIN: usize = 32;

/// Every class made through `Default`, by key (one leaked record each, as for sites and names).
static CLASSES: Lazy<DashMap<Key, &'static GenericSite>> = Lazy::new(crate::sharded::map);
/// [`CLASSES`] by the address of the site's `Location` (with the anchor and the ordinal):
/// one load where the table would hash the file name and take a shard lock. A test suite
/// builds its locks again in every test, on a new thread each, whose own cache
/// ([`remember`]) starts cold.
static BY_ADDRESS: Memo<GenericSite> = Memo::new();

/// Per return address: whose code it is, and the user frame's position (interned). Bounded by
/// the size of the program's code.
static FRAMES: Lazy<DashMap<usize, FrameInfo>> = Lazy::new(crate::sharded::map);

/// Where a lock type's `default()` was inlined: the instruction address and the stack pointer
/// there. `default()` is `#[inline(always)]`, so this is a point in its caller's code — one per
/// field of a derived `default()`, the same for every call of it — read with two instructions,
/// no unwinding.
#[derive(Clone, Copy)]
pub(crate) struct CallSite {
    ip: usize,
    sp: usize,
}

/// The [`CallSite`] of the code this is inlined into.
#[inline(always)]
pub(crate) fn call_site() -> CallSite {
    #[cfg(all(target_arch = "x86_64", not(miri)))]
    {
        let (ip, sp): (usize, usize);
        // SAFETY: reads the instruction and stack pointers into registers; touches no memory.
        unsafe {
            std::arch::asm!(
                "lea {ip}, [rip]",
                "mov {sp}, rsp",
                ip = out(reg) ip,
                sp = out(reg) sp,
                options(nomem, nostack, preserves_flags)
            );
        }
        CallSite { ip, sp }
    }
    #[cfg(all(target_arch = "aarch64", not(miri)))]
    {
        let (ip, sp): (usize, usize);
        // SAFETY: as above.
        unsafe {
            std::arch::asm!(
                "adr {ip}, .",
                "mov {sp}, sp",
                ip = out(reg) ip,
                sp = out(reg) sp,
                options(nomem, nostack, preserves_flags)
            );
        }
        CallSite { ip, sp }
    }
    #[cfg(not(all(any(target_arch = "x86_64", target_arch = "aarch64"), not(miri))))]
    {
        // Elsewhere: the frame walk below finds the caller.
        CallSite { ip: 0, sp: 0 }
    }
}

/// The class of a lock built by `default()` (`by_default`) or `from()` at `site`, called from
/// the lock type's `default`/`from` (inlined into its caller, `at`).
#[inline(never)]
pub(crate) fn generic_cell(
    site: &'static Location<'static>,
    kind: &'static str,
    ty: &'static str,
    by_default: bool,
    at: CallSite,
) -> ClassCell {
    let internal = is_internal_site(site);
    if !internal && !by_default {
        // `From::from` written in user code: one call site, one class, as `new`.
        return ClassCell::from_site(site);
    }
    if !internal && at.ip != 0 {
        // The common case: no frames to walk.
        return interned(site, kind, ty, Anchor::None, at.sp, [at.ip, 0, 0, 0]);
    }
    // (return address, stack pointer, start of the function) per frame above this one.
    let mut frames = [(0usize, 0usize, 0usize); MAX_CHAIN];
    let mut n = walk(internal, &mut frames);
    if n == 0 && OWN_FRAME.swap(0, Ordering::Relaxed) != 0 {
        // Not found by the remembered return address: look for it by start address again.
        n = walk(internal, &mut frames);
    }
    if n == 0 {
        // The walk did not find this function (an unwinder without symbol addresses).
        return ClassCell::from_site(site);
    }
    if !internal {
        let (ra, cfa, _) = frames[0];
        return interned(site, kind, ty, Anchor::None, cfa, [ra, 0, 0, 0]);
    }
    let (user, anchor) = walk_to_user_code(&frames[..n]);
    let (ra, cfa, ra_fn) = frames[user];
    let (via, _, via_fn) = frames[0];
    interned(site, kind, ty, anchor, cfa, [ra, ra_fn, via, via_fn])
}

/// Fills `frames` with the frames above [`generic_cell`] (up to the first user frame when the
/// site is `internal`, else just the first); returns how many.
fn walk(internal: bool, frames: &mut [(usize, usize, usize); MAX_CHAIN]) -> usize {
    let me = generic_cell as fn(&'static Location<'static>, _, _, _, _) -> ClassCell as usize;
    // `generic_cell`'s own frame: found once by its start address (a lookup per frame), then by
    // its return address into the unwinder, the same on every call.
    let own = OWN_FRAME.load(Ordering::Relaxed);
    let mut n = 0;
    let mut found = false;
    backtrace::trace(|frame| {
        let ip = frame.ip() as usize;
        if !found {
            if own == 0 && frame.symbol_address() as usize == me {
                OWN_FRAME.store(ip, Ordering::Relaxed);
                found = true;
            } else if own != 0 && ip == own {
                found = true;
            }
            return true;
        }
        // The function starts only matter (and are looked up) on the walk.
        let start = if internal {
            frame.symbol_address() as usize
        } else {
            0
        };
        frames[n] = (ip, frame.sp() as usize, start);
        n += 1;
        // Up to the first user frame (resolved once per return address, then cached).
        internal && n < MAX_CHAIN && !frame_info(ip).user
    });
    n
}

/// The class of the construction at `ra` (frame `cfa`) for `site` and `anchor`; `code` is
/// `[ra, ra_fn, via, via_fn]` (see [`GenericSite`]).
fn interned(
    site: &'static Location<'static>,
    kind: &'static str,
    ty: &'static str,
    anchor: Anchor,
    cfa: usize,
    code: [usize; 4],
) -> ClassCell {
    let [ra, ra_fn, via, via_fn] = code;
    let (ordinal, cached) = ordinal(site, anchor, cfa, ra);
    if let Some(class) = cached {
        return ClassCell::from_key(class);
    }
    // Another thread (an earlier test's) met this construction: one load.
    let memo_key = mix(cache_key(site, anchor, ordinal));
    let seen = BY_ADDRESS.get(memo_key, |info| {
        info.anchor == anchor && info.ordinal == ordinal && same_site(info.site, site)
    });
    let info = seen.unwrap_or_else(|| {
        let key = Key {
            site: *site,
            anchor,
            ordinal,
        };
        let known = CLASSES.get(&key).map(|info| *info);
        let info = known.unwrap_or_else(|| {
            *CLASSES.entry(key).or_insert_with(|| {
                let info: &'static GenericSite = Box::leak(Box::new(GenericSite {
                    site,
                    anchor,
                    ordinal,
                    kind,
                    ty,
                    ra,
                    via,
                    via_fn,
                    ra_fn,
                    name: OnceLock::new(),
                    class: OnceLock::new(),
                }));
                info.class
                    .get_or_init(|| Box::leak(Box::new(LockClass::generic(info))));
                info
            })
        });
        BY_ADDRESS.put(memo_key, info);
        info
    });
    let class = info.class();
    remember(site, anchor, ordinal, class);
    ClassCell::from_key(class)
}

/// A per-thread cache of (site, anchor, ordinal) → class, so that building a lock again costs
/// no lookup in the process-wide table.
fn remember(
    site: &'static Location<'static>,
    anchor: Anchor,
    ordinal: u32,
    class: &'static LockClass,
) {
    let key = cache_key(site, anchor, ordinal);
    let _ = BURSTS.try_with(|bursts| {
        let mut bursts = bursts.borrow_mut();
        let slot = cache_slot(key);
        bursts.classes[slot] = (key, Some(class));
    });
}

type CacheKey = (usize, usize, u32);

fn cache_key(site: &'static Location<'static>, anchor: Anchor, ordinal: u32) -> CacheKey {
    (
        site as *const Location<'static> as usize,
        anchor.id(),
        ordinal,
    )
}

fn cache_slot(key: CacheKey) -> usize {
    spread(mix(key), 64)
}

/// The three parts of a [`CacheKey`] in one word.
fn mix((site, anchor, ordinal): CacheKey) -> usize {
    site ^ anchor.rotate_left(17) ^ (ordinal as usize).rotate_left(41)
}

/// From a site inside the standard library: the index of the first user frame and the anchor.
fn walk_to_user_code(frames: &[(usize, usize, usize)]) -> (usize, Anchor) {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, &(ip, _, _)) in frames.iter().enumerate() {
        hash = (hash ^ ip as u64).wrapping_mul(0x0100_0000_01b3);
        let frame = frame_info(ip);
        if frame.user {
            return (
                i,
                frame.position.map_or(Anchor::Chain(hash), Anchor::Position),
            );
        }
        if i + 1 == MAX_CHAIN {
            break;
        }
    }
    // No user frame near (user code inlined into the standard library's glue): the walked
    // return addresses still tell one call site from another; the frame that called the
    // first standard-library one names it.
    (1.min(frames.len() - 1), Anchor::Chain(hash))
}

/// One run of constructions at one (site, anchor) on one thread.
#[derive(Clone, Copy)]
struct Burst {
    site: usize,
    anchor: usize,
    cfa: usize,
    ras: [usize; 16],
    len: usize,
    next: u32,
    used: u64,
}

const EMPTY: Burst = Burst {
    site: 0,
    anchor: 0,
    cfa: 0,
    ras: [0; 16],
    len: 0,
    next: 0,
    used: 0,
};

struct Bursts {
    entries: [Burst; 32],
    /// The entry the last construction used.
    last: usize,
    clock: u64,
    /// Direct-mapped: see [`remember`].
    classes: [(CacheKey, Option<&'static LockClass>); 64],
}

thread_local! {
    static BURSTS: RefCell<Bursts> = const {
        RefCell::new(Bursts {
            entries: [EMPTY; 32],
            last: 0,
            clock: 0,
            classes: [((0, 0, 0), None); 64],
        })
    };
}

/// The position of this construction in the current burst of its (site, anchor) (see the module
/// comment), and its class if this thread has met it before.
fn ordinal(
    site_ref: &'static Location<'static>,
    anchor_key: Anchor,
    cfa: usize,
    ra: usize,
) -> (u32, Option<&'static LockClass>) {
    let site = site_ref as *const Location<'static> as usize;
    let anchor = anchor_key.id();
    BURSTS
        .try_with(|bursts| {
            let mut guard = bursts.borrow_mut();
            // One `deref_mut` for all: in a user's debug build each is a call.
            let bursts: &mut Bursts = &mut guard;
            bursts.clock += 1;
            let clock = bursts.clock;
            // Plain loops, not iterator adapters: in a user's debug build each adapter is
            // a call per element, and every construction through `Default` comes here.
            // The entry of (site, anchor), else the least recently used one (the first such).
            // The last one used first: a loop building many locks at one site comes back to it.
            let (mut slot, mut found, mut oldest) = (0, false, u64::MAX);
            let last = &bursts.entries[bursts.last];
            let mut i = if last.site == site && last.anchor == anchor {
                (slot, found) = (bursts.last, true);
                bursts.entries.len()
            } else {
                0
            };
            while i < bursts.entries.len() {
                let entry = &bursts.entries[i];
                if entry.site == site && entry.anchor == anchor {
                    (slot, found) = (i, true);
                    break;
                }
                if entry.used < oldest {
                    (slot, oldest) = (i, entry.used);
                }
                i += 1;
            }
            if !found {
                bursts.entries[slot] = Burst {
                    site,
                    anchor,
                    cfa,
                    ..EMPTY
                };
            }
            bursts.last = slot;
            let burst = &mut bursts.entries[slot];
            burst.used = clock;
            let mut again = false;
            let mut i = 0;
            while i < burst.len {
                again |= burst.ras[i] == ra;
                i += 1;
            }
            if burst.cfa != cfa || again {
                *burst = Burst {
                    site,
                    anchor,
                    cfa,
                    used: clock,
                    ..EMPTY
                };
            }
            let ordinal = burst.next;
            burst.next += 1;
            if burst.len < burst.ras.len() {
                burst.ras[burst.len] = ra;
                burst.len += 1;
            }
            let key = cache_key(site_ref, anchor_key, ordinal);
            let (cached_key, class) = bursts.classes[cache_slot(key)];
            (ordinal, class.filter(|_| cached_key == key))
        })
        // During thread teardown: no burst state; the site alone.
        .unwrap_or((0, None))
}
