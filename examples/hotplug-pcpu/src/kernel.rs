//! The kernel, reduced to the three locks and the two code paths of the 2017 deadlock.
//!
//! Every function is named after its kernel counterpart (v4.10, before the fix) and marked
//! `#[inline(never)]`, so that the stacks lockdep records read like the kernel's splat. The
//! bodies keep only what matters to the bug — which lock is taken, in which mode, while holding
//! what — and leave out the memory management itself.

use crate::watch;
use lockdep_core::{LockClass, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier, Mutex as StdMutex, PoisonError};

/// The CPU-hotplug lock: written for a whole CPU up/down operation, read by `get_online_cpus`.
pub static CPU_HOTPLUG_LOCK_CLASS: LockClass = LockClass::new("cpu_hotplug_lock");
/// The per-cpu allocator's mutex (`mm/percpu.c`), held across chunk population.
pub static PCPU_ALLOC_MUTEX_CLASS: LockClass = LockClass::new("pcpu_alloc_mutex");
/// Serialises `drain_all_pages` (`mm/page_alloc.c`).
pub static PCPU_DRAIN_MUTEX_CLASS: LockClass = LockClass::new("pcpu_drain_mutex");

/// A kernel `struct mutex`: the lockdep-checked lock plus its class, so the watchdog can name
/// what a stuck thread waits for without asking the validator.
pub struct KernelMutex {
    /// The lock's class, for naming it.
    class: &'static LockClass,
    /// The lock itself; it guards no data, as the kernel's locks here guard state left out.
    inner: Mutex<()>,
}

impl KernelMutex {
    /// A mutex of class `class`; `const` so that the kernel's locks can be plain statics.
    const fn new(class: &'static LockClass) -> Self {
        KernelMutex {
            class,
            inner: Mutex::with_class(class, ()),
        }
    }
}

/// A `struct percpu_rw_semaphore`, which `cpu_hotplug_lock` became in fc8dffd379ca.
pub struct KernelRwSem {
    /// The lock's class, for naming it.
    class: &'static LockClass,
    /// The lock itself (no data, as for [`KernelMutex`]).
    inner: RwLock<()>,
}

impl KernelRwSem {
    /// A rwsem of class `class`; `const` for the same reason as [`KernelMutex::new`].
    const fn new(class: &'static LockClass) -> Self {
        KernelRwSem {
            class,
            inner: RwLock::with_class(class, ()),
        }
    }
}

/// `cpu_hotplug_lock` (in 4.10: `cpu_hotplug.lock` with its lockdep map).
static CPU_HOTPLUG_LOCK: KernelRwSem = KernelRwSem::new(&CPU_HOTPLUG_LOCK_CLASS);
/// `pcpu_alloc_mutex` in `mm/percpu.c`.
static PCPU_ALLOC_MUTEX: KernelMutex = KernelMutex::new(&PCPU_ALLOC_MUTEX_CLASS);
/// `pcpu_drain_mutex` in `mm/page_alloc.c`.
static PCPU_DRAIN_MUTEX: KernelMutex = KernelMutex::new(&PCPU_DRAIN_MUTEX_CLASS);

/// The two kernel changes the scenarios compare.
#[derive(Clone, Copy, Debug)]
pub struct Kernel {
    /// `get_online_cpus` annotated as a *recursive* read, as it was before the percpu-rwsem
    /// conversion; otherwise a fair read, which queues behind a waiting writer.
    pub recursive_reads: bool,
    /// `drain_all_pages` calls `get_online_cpus`, as it did until a459eeb7b852.
    pub drain_takes_hotplug_lock: bool,
}

impl Kernel {
    /// The kernel syzkaller ran into: the allocator depends on the hotplug lock.
    pub const BUGGY: Kernel = Kernel {
        recursive_reads: false,
        drain_takes_hotplug_lock: true,
    };
    /// With a459eeb7b852 ("mm, page_alloc: do not depend on cpu hotplug locks inside the
    /// allocator") applied.
    pub const FIXED: Kernel = Kernel {
        recursive_reads: false,
        drain_takes_hotplug_lock: false,
    };
}

// Globals rather than a parameter threaded through every call: in the kernel these are
// properties of the build, and keeping them out of the signatures keeps the functions (and so
// the backtraces) shaped like the kernel's.
/// [`Kernel::recursive_reads`] of the booted kernel.
static RECURSIVE_READS: AtomicBool = AtomicBool::new(false);
/// [`Kernel::drain_takes_hotplug_lock`] of the booted kernel.
static DRAIN_TAKES_HOTPLUG_LOCK: AtomicBool = AtomicBool::new(true);

/// Selects the kernel the code paths behave like. Called before any path runs.
pub fn boot(kernel: Kernel) {
    RECURSIVE_READS.store(kernel.recursive_reads, Ordering::SeqCst);
    DRAIN_TAKES_HOTPLUG_LOCK.store(kernel.drain_takes_hotplug_lock, Ordering::SeqCst);
}

/// Where the two paths meet when a scenario wants them to race; `None` lets them run freely.
static RACE: StdMutex<Option<Arc<Barrier>>> = StdMutex::new(None);

/// Makes the paths wait for each other at the one point where each holds its first lock(s) and
/// is about to take the other's: the window the real deadlock needs.
pub fn arm_race(barrier: Option<Arc<Barrier>>) {
    *RACE.lock().unwrap_or_else(PoisonError::into_inner) = barrier;
}

/// The race window: a no-op unless a scenario armed it.
#[inline(never)]
fn race_window() {
    let barrier = RACE.lock().unwrap_or_else(PoisonError::into_inner).clone();
    if let Some(barrier) = barrier {
        barrier.wait();
    }
}

// ---- lock primitives, named after the kernel's so that they top the stacks like theirs ----

/// `mutex_lock`. `#[track_caller]` so that lockdep records the kernel function's line as the
/// place the lock was taken, not this helper's.
#[track_caller]
#[inline(never)]
fn mutex_lock(lock: &'static KernelMutex) -> MutexGuard<'static, ()> {
    let _waiting = watch::waiting_for(lock.class.name(), "");
    lock.inner.lock()
}

/// `percpu_down_write`: the writer waits for every reader and excludes new ones.
#[track_caller]
#[inline(never)]
fn percpu_down_write(sem: &'static KernelRwSem) -> RwLockWriteGuard<'static, ()> {
    let _waiting = watch::waiting_for(sem.class.name(), " (write)");
    sem.inner.write()
}

/// `percpu_down_read`: a fair read, which queues behind a writer that is waiting.
#[track_caller]
#[inline(never)]
fn percpu_down_read(sem: &'static KernelRwSem) -> RwLockReadGuard<'static, ()> {
    let _waiting = watch::waiting_for(sem.class.name(), " (read)");
    sem.inner.read()
}

/// A recursive read: how `get_online_cpus` was annotated before fc8dffd379ca, spelt with
/// `parking_lot`'s `read_recursive`, which promises less than the kernel's recursive read did
/// (it can wait behind a queued writer once it has parked; see `--scenario readers`).
#[track_caller]
#[inline(never)]
fn down_read_recursive(sem: &'static KernelRwSem) -> RwLockReadGuard<'static, ()> {
    let _waiting = watch::waiting_for(sem.class.name(), " (recursive read)");
    sem.inner.read_recursive()
}

// ---- kernel/cpu.c ----

/// `cpu_hotplug_begin`: takes the hotplug lock for writing, for the whole operation.
#[inline(never)]
pub fn cpu_hotplug_begin() -> RwLockWriteGuard<'static, ()> {
    percpu_down_write(&CPU_HOTPLUG_LOCK)
}

/// `get_online_cpus`: keeps the set of online CPUs stable while the caller walks it.
#[inline(never)]
pub fn get_online_cpus() -> RwLockReadGuard<'static, ()> {
    if RECURSIVE_READS.load(Ordering::SeqCst) {
        down_read_recursive(&CPU_HOTPLUG_LOCK)
    } else {
        percpu_down_read(&CPU_HOTPLUG_LOCK)
    }
}

/// `put_online_cpus`: the guard does the work; kept so the call sites read like the kernel's.
#[inline(never)]
pub fn put_online_cpus(guard: RwLockReadGuard<'static, ()>) {
    drop(guard);
}

/// `cpuhp_invoke_callback`: runs one hotplug state's callback for `cpu`.
#[inline(never)]
pub fn cpuhp_invoke_callback(cpu: u32, callback: fn(u32)) {
    // The hotplug lock is held here; the race scenario lines the other path up at this point.
    race_window();
    callback(cpu);
}

/// `_cpu_up`: the work of `cpu_up`, all of it under the hotplug lock.
#[inline(never)]
pub fn _cpu_up(cpu: u32) {
    let _hotplug = cpu_hotplug_begin();
    // CPUHP_SMPCFD_PREPARE: the first state that allocates per-cpu memory.
    cpuhp_invoke_callback(cpu, smpcfd_prepare_cpu);
}

/// `cpu_up`: what writing 1 to `/sys/devices/system/cpu/cpuN/online` ends up calling.
#[inline(never)]
pub fn cpu_up(cpu: u32) {
    _cpu_up(cpu);
}

/// `_cpu_down`: the work of `cpu_down`, under the hotplug lock.
#[inline(never)]
pub fn _cpu_down(cpu: u32) {
    let _hotplug = cpu_hotplug_begin();
    cpuhp_invoke_callback(cpu, smpcfd_dead_cpu);
}

/// `cpu_down`: a plain writer of the hotplug lock (its callbacks free, they don't allocate).
#[inline(never)]
pub fn cpu_down(cpu: u32) {
    _cpu_down(cpu);
}

// ---- kernel/smp.c ----

/// `smpcfd_prepare_cpu`: allocates the new CPU's `call_function_data` masks — per-cpu memory,
/// so `pcpu_alloc_mutex`, taken while the hotplug lock is held for writing.
#[inline(never)]
pub fn smpcfd_prepare_cpu(_cpu: u32) {
    // A few cpumasks: small enough for the already populated part of a chunk.
    __alloc_percpu(64);
}

/// `smpcfd_dead_cpu`: frees what `smpcfd_prepare_cpu` allocated (no sleeping lock needed).
#[inline(never)]
pub fn smpcfd_dead_cpu(_cpu: u32) {}

// ---- mm/percpu.c ----

/// Bytes `pcpu_alloc` can hand out from pages it has already populated; anything larger needs
/// fresh pages, which is where the page allocator (and its draining) comes in.
const PCPU_POPULATED_BYTES: usize = 4096;

/// `__alloc_percpu`: the entry point every per-cpu allocation goes through.
#[inline(never)]
pub fn __alloc_percpu(size: usize) {
    pcpu_alloc(size);
}

/// `pcpu_alloc`: holds `pcpu_alloc_mutex` while it finds (and, if needed, populates) a chunk.
#[inline(never)]
pub fn pcpu_alloc(size: usize) {
    let _pcpu_alloc = mutex_lock(&PCPU_ALLOC_MUTEX);
    if size > PCPU_POPULATED_BYTES {
        pcpu_populate_chunk(size);
    }
}

/// `pcpu_populate_chunk`: backs a chunk's area with pages from the page allocator.
#[inline(never)]
pub fn pcpu_populate_chunk(size: usize) {
    __alloc_pages_slowpath(size.div_ceil(4096));
}

// ---- mm/page_alloc.c ----

/// `__alloc_pages_slowpath`: the demo assumes memory pressure, so every page allocation lands
/// here and tries to reclaim the per-cpu page lists first.
#[inline(never)]
pub fn __alloc_pages_slowpath(_pages: usize) {
    drain_all_pages();
}

/// `drain_all_pages`: returns every CPU's per-cpu free pages to the buddy allocator. Before the
/// fix it called `get_online_cpus` to keep the CPU set stable while draining — the dependency of
/// the allocator on the hotplug lock that closed the cycle.
#[inline(never)]
pub fn drain_all_pages() {
    let _drain = mutex_lock(&PCPU_DRAIN_MUTEX);
    if DRAIN_TAKES_HOTPLUG_LOCK.load(Ordering::SeqCst) {
        // The allocator path holds both of its mutexes here; the race scenario lines the
        // hotplug path up at this point.
        race_window();
        let cpus = get_online_cpus();
        drain_local_pages_on_each_cpu();
        put_online_cpus(cpus);
    } else {
        // a459eeb7b852: the CPU set may change under us; pages of a CPU going away are drained
        // by the hotplug callback instead, so no hotplug lock is needed here.
        drain_local_pages_on_each_cpu();
    }
}

/// Stands in for the per-CPU drain work (`drain_local_pages` on each CPU); takes no lock.
#[inline(never)]
fn drain_local_pages_on_each_cpu() {}

// ---- kernel/bpf ----

/// `array_map_alloc` for `BPF_MAP_TYPE_PERCPU_ARRAY`: one per-cpu value per entry.
#[inline(never)]
pub fn array_map_alloc(value_size: usize, max_entries: usize) {
    __alloc_percpu(value_size * max_entries);
}

/// `bpf(BPF_MAP_CREATE, ...)`: the syscall syzkaller used to reach the allocator.
#[inline(never)]
pub fn bpf_map_create(value_size: usize, max_entries: usize) {
    array_map_alloc(value_size, max_entries);
}

// ---- mm/slab_common.c ----

/// `kmem_cache_create` (SLUB): holds `get_online_cpus` while it sets the cache up, which
/// allocates the cache's per-cpu slabs — a reader of the hotplug lock taking `pcpu_alloc_mutex`.
#[inline(never)]
pub fn kmem_cache_create(object_size: usize) {
    let cpus = get_online_cpus();
    alloc_kmem_cache_cpus(object_size);
    put_online_cpus(cpus);
}

/// `alloc_kmem_cache_cpus`: the cache's `struct kmem_cache_cpu`, one per CPU.
#[inline(never)]
pub fn alloc_kmem_cache_cpus(_object_size: usize) {
    // Small: served from populated pages, so no page allocation (and no second
    // get_online_cpus) under the read lock.
    __alloc_percpu(32);
}
