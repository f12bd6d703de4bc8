//! The four scenarios: what runs on which thread, and what the program says about it.

use crate::kernel::{self, Kernel};
use crate::watch::{self, Alarm, Stuck, Watchdog};
use lockdep_core::{Mode, Report, ReportKind};
use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, Barrier, Mutex as StdMutex, PoisonError};
use std::thread;
use std::time::Duration;

/// Exit status of the `deadlock` scenario when the watchdog finds the threads deadlocked: the
/// demonstrated outcome, but a hang all the same, so not success.
pub const EXIT_DEADLOCKED: i32 = 3;

/// Exit status when a scenario did not behave as it should (a missing or unexpected report).
const EXIT_FAILED: u8 = 1;

/// The CPU the hotplug paths bring up or take down; any but the boot CPU would do.
const CPU: u32 = 1;

/// A `BPF_MAP_TYPE_PERCPU_ARRAY` large enough that `pcpu_alloc` needs fresh pages.
const MAP_VALUE_SIZE: usize = 8;
/// See [`MAP_VALUE_SIZE`].
const MAP_MAX_ENTRIES: usize = 4096;

/// How long one thread may wait for one lock before the watchdog calls it stuck. Far more than
/// any uncontended handover takes, even on a loaded CI machine.
const STUCK_AFTER: Duration = Duration::from_millis(1500);
/// The longest any scenario may run; nothing here should come close.
const GIVE_UP_AFTER: Duration = Duration::from_secs(60);

/// Which scenario to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// The two paths one after the other; lockdep reports the cycle.
    Splat,
    /// Reader → mutex, mutex → reader, and a writer: reported only with fair reads.
    Readers,
    /// The allocator path without `get_online_cpus`: clean.
    Fixed,
    /// A real deadlock with checking off, after lockdep stopped the same race with it on.
    Deadlock,
}

impl Scenario {
    /// All scenarios, with the name `--scenario` takes.
    pub const ALL: [(&'static str, Scenario); 4] = [
        ("splat", Scenario::Splat),
        ("readers", Scenario::Readers),
        ("fixed", Scenario::Fixed),
        ("deadlock", Scenario::Deadlock),
    ];
}

/// Options the scenarios share.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// `get_online_cpus` as a recursive read (`--recursive-reads`).
    pub recursive_reads: bool,
    /// Where to write the class graph (`--dot FILE`).
    pub dot: Option<std::path::PathBuf>,
}

/// Runs `scenario`.
pub fn run(scenario: Scenario, options: &Options) -> ExitCode {
    // Checking on whatever `LOCKDEP` says: with it off there would be nothing to show. Warn
    // rather than Panic so that a report the handlers do not expect is printed, not fatal.
    lockdep_core::set_mode(Mode::Warn);
    match scenario {
        Scenario::Splat => splat(options),
        Scenario::Readers => readers(options),
        Scenario::Fixed => fixed(options),
        Scenario::Deadlock => deadlock(options),
    }
}

// ---- reports ----

/// Reports raised on any thread. `capture` only sees its own thread's reports, and each path
/// runs on a thread of its own, so the handler collects them here for the main thread.
static REPORTS: StdMutex<Vec<Report>> = StdMutex::new(Vec::new());

/// The handler of the scenarios that let the threads go on after a report.
fn collect(report: &Report) {
    REPORTS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(report.clone());
}

/// The reports collected so far, emptying the store.
fn take_reports() -> Vec<Report> {
    std::mem::take(&mut *REPORTS.lock().unwrap_or_else(PoisonError::into_inner))
}

/// Prints the reports, each in full.
fn print_reports(reports: &[Report]) {
    for report in reports {
        println!("{report}");
    }
}

/// Whether a report is the cycle through the hotplug lock and the allocator this demo is about.
fn is_the_cycle(report: &Report) -> bool {
    let classes = report.classes();
    report.kind() == ReportKind::CircularDependency
        && classes.contains(&kernel::CPU_HOTPLUG_LOCK_CLASS.name())
        && classes.contains(&kernel::PCPU_ALLOC_MUTEX_CLASS.name())
}

// ---- threads ----

/// Runs `f` on a thread named `name` and waits for it. A thread per path, because lockdep's
/// point is that the two halves of the cycle need not share a thread, or a moment.
fn on_thread(name: &str, f: impl FnOnce() + Send + 'static) -> thread::Result<()> {
    thread::Builder::new()
        .name(name.to_string())
        .spawn(f)
        .expect("spawn a scenario thread")
        .join()
}

/// A watchdog for the scenarios that should never block: if one does, say so and exit.
fn guard_against_hangs() -> Watchdog {
    Watchdog::start(Alarm {
        threads: 1,
        stuck_after: STUCK_AFTER * 4,
        give_up_after: GIVE_UP_AFTER,
        report: Box::new(|_, stuck| {
            eprintln!("error: the scenario hung, which it never should:");
            eprint!("{}", watch::describe(stuck));
        }),
        exit_code: i32::from(EXIT_FAILED),
    })
}

/// The hotplug path, as the threads print it.
const HOTPLUG_PATH: &str = "cpu_up -> _cpu_up -> cpu_hotplug_begin [takes cpu_hotplug_lock, write] \
     -> cpuhp_invoke_callback -> smpcfd_prepare_cpu -> __alloc_percpu -> pcpu_alloc [takes pcpu_alloc_mutex]";
/// The allocator path before the fix.
const BPF_PATH: &str = "bpf_map_create -> array_map_alloc -> __alloc_percpu -> pcpu_alloc \
     [takes pcpu_alloc_mutex] -> pcpu_populate_chunk -> __alloc_pages_slowpath -> drain_all_pages \
     [takes pcpu_drain_mutex] -> get_online_cpus [takes cpu_hotplug_lock, read]";
/// The allocator path after the fix.
const BPF_PATH_FIXED: &str = "bpf_map_create -> array_map_alloc -> __alloc_percpu -> pcpu_alloc \
     [takes pcpu_alloc_mutex] -> pcpu_populate_chunk -> __alloc_pages_slowpath -> drain_all_pages \
     [takes pcpu_drain_mutex; no get_online_cpus]";

/// Runs the hotplug path, then the allocator path, each on its own thread.
fn both_paths_in_turn(fixed: bool) -> Result<(), String> {
    println!("thread 'hotplug': {HOTPLUG_PATH}");
    on_thread("hotplug", || kernel::cpu_up(CPU)).map_err(|_| "thread 'hotplug' panicked")?;
    println!(
        "thread 'bpf': {}",
        if fixed { BPF_PATH_FIXED } else { BPF_PATH }
    );
    on_thread("bpf", || {
        kernel::bpf_map_create(MAP_VALUE_SIZE, MAP_MAX_ENTRIES)
    })
    .map_err(|_| "thread 'bpf' panicked")?;
    println!("both threads finished; neither ever waited for the other.");
    Ok(())
}

// ---- the class graph ----

/// Writes the class graph to `path` in Graphviz DOT (cycle edges in red).
fn write_dot(path: &Path) -> Result<(), String> {
    lockdep_core::graph::write_dot(path)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Writes the graph if `--dot` asked for it; `false` (after saying why) if that failed.
fn dot_if_asked(options: &Options) -> bool {
    let Some(path) = &options.dot else {
        return true;
    };
    match write_dot(path) {
        Ok(()) => {
            println!("wrote the lock class graph to {}", path.display());
            true
        }
        Err(e) => {
            eprintln!("error: {e}");
            false
        }
    }
}

// ---- splat ----

/// The default: the kernel's splat, replayed without a hang.
fn splat(options: &Options) -> ExitCode {
    kernel::boot(Kernel {
        recursive_reads: options.recursive_reads,
        ..Kernel::BUGGY
    });
    lockdep_core::set_handler(collect);
    println!(
        "hotplug-pcpu: the 2017 deadlock between cpu_hotplug_lock and pcpu_alloc_mutex, replayed\n"
    );
    let watchdog = guard_against_hangs();
    let ran = both_paths_in_turn(false);
    watchdog.disarm();
    if let Err(e) = ran {
        eprintln!("error: {e}");
        return ExitCode::from(EXIT_FAILED);
    }
    let reports = take_reports();
    print_reports(&reports);
    if !reports.iter().any(is_the_cycle) {
        eprintln!("error: lockdep raised no report of the cycle; it should have");
        return ExitCode::from(EXIT_FAILED);
    }
    println!("{SPLAT_EXPLANATION}");
    if options.recursive_reads {
        println!("{SPLAT_RECURSIVE_NOTE}");
    }
    if dot_if_asked(options) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILED)
    }
}

/// What the splat means, printed after it.
const SPLAT_EXPLANATION: &str = "\
What happened
  Thread 'hotplug' brought CPU 1 up: cpu_up -> _cpu_up -> cpu_hotplug_begin took
  cpu_hotplug_lock for writing and held it while the CPUHP_SMPCFD_PREPARE callback
  (smpcfd_prepare_cpu) allocated per-cpu memory: __alloc_percpu -> pcpu_alloc took
  pcpu_alloc_mutex. Dependency: cpu_hotplug_lock -> pcpu_alloc_mutex.

  Thread 'bpf' created a per-cpu BPF array map: bpf(BPF_MAP_CREATE) -> array_map_alloc ->
  pcpu_alloc held pcpu_alloc_mutex while pcpu_populate_chunk asked the page allocator for
  pages; its slow path called drain_all_pages, which took pcpu_drain_mutex and then
  get_online_cpus(), a read of cpu_hotplug_lock. Dependency: pcpu_alloc_mutex ->
  pcpu_drain_mutex -> cpu_hotplug_lock.

  Together they form a cycle. Had the two threads run at the same moment, 'hotplug' would
  wait for pcpu_alloc_mutex while 'bpf' waits for cpu_hotplug_lock, for ever. Here they ran
  one after the other and nothing hung, yet lockdep found the cycle in its graph of lock
  classes: that is what syzkaller hit on 4.10 (LKML, February 2017).

  The fix, a459eeb7b852 (\"mm, page_alloc: do not depend on cpu hotplug locks inside the
  allocator\"), removed get_online_cpus() from drain_all_pages.
  Try: --scenario fixed (the fix), --scenario readers (why reads matter),
       --scenario deadlock (the same race, really run).";

/// Printed after the splat with `--recursive-reads`.
const SPLAT_RECURSIVE_NOTE: &str = "
With --recursive-reads get_online_cpus() was a recursive read, as in 4.10 itself, and the
cycle is still reported: it runs through the *write* side of cpu_hotplug_lock, which a
recursive reader does wait for. Compare --scenario readers --recursive-reads, where the
kernel's old annotation hid a cycle that parking_lot's read_recursive cannot.";

// ---- readers ----

/// Three threads: a reader taking the mutex, the allocator taking the reader, and a writer.
fn readers(options: &Options) -> ExitCode {
    let recursive = options.recursive_reads;
    kernel::boot(Kernel {
        recursive_reads: recursive,
        ..Kernel::BUGGY
    });
    lockdep_core::set_handler(collect);
    println!(
        "hotplug-pcpu: a cycle made of reads of cpu_hotplug_lock, with get_online_cpus() as {}\n",
        if recursive {
            "a recursive read (read_recursive, the annotation before fc8dffd379ca)"
        } else {
            "a fair read (read, as percpu_down_read is since fc8dffd379ca)"
        }
    );
    let watchdog = guard_against_hangs();
    let ran = (|| -> thread::Result<()> {
        println!(
            "thread 'kmem_cache_create': kmem_cache_create -> get_online_cpus [takes cpu_hotplug_lock, \
             read] -> alloc_kmem_cache_cpus -> __alloc_percpu -> pcpu_alloc [takes pcpu_alloc_mutex]"
        );
        on_thread("kmem_cache_create", || kernel::kmem_cache_create(256))?;
        println!(
            "thread 'hotplug': cpu_down -> _cpu_down -> cpu_hotplug_begin [takes cpu_hotplug_lock, write]"
        );
        on_thread("hotplug", || kernel::cpu_down(CPU))?;
        println!("thread 'bpf': {BPF_PATH}");
        on_thread("bpf", || {
            kernel::bpf_map_create(MAP_VALUE_SIZE, MAP_MAX_ENTRIES)
        })
    })();
    watchdog.disarm();
    if ran.is_err() {
        eprintln!("error: a scenario thread panicked");
        return ExitCode::from(EXIT_FAILED);
    }
    println!("all three threads finished; none ever waited for another.\n");
    let reports = take_reports();
    print_reports(&reports);
    let reported = reports.iter().any(is_the_cycle);
    // Reported with either spelling: parking_lot's recursive read can wait behind a queued
    // writer once it has parked (lockdep-core's DESIGN.md, rule 10).
    let expected = true;
    if reported {
        println!(
            "{}",
            if recursive {
                READERS_RECURSIVE_REPORTED
            } else {
                READERS_REPORTED
            }
        );
    }
    if reported != expected {
        eprintln!(
            "error: lockdep {} the cycle; with {} reads it should {}",
            if reported {
                "reported"
            } else {
                "did not report"
            },
            if recursive { "recursive" } else { "fair" },
            if expected { "have" } else { "not have" }
        );
        return ExitCode::from(EXIT_FAILED);
    }
    if dot_if_asked(options) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILED)
    }
}

/// Why the fair-read cycle is a deadlock.
const READERS_REPORTED: &str = "\
Reported: a possible deadlock made of two reads and a writer.
  'kmem_cache_create' holds cpu_hotplug_lock for reading and waits for pcpu_alloc_mutex;
  'bpf' holds pcpu_alloc_mutex (and pcpu_drain_mutex) and asks for cpu_hotplug_lock for
  reading; 'hotplug' asks for cpu_hotplug_lock for writing in between. A fair reader queues
  behind a waiting writer, the writer waits for the first reader, the first reader waits for
  the mutex 'bpf' holds: nobody moves. cpu_hotplug_lock is a percpu rwsem since fc8dffd379ca,
  whose readers are fair like this, so lockdep counts every such cycle.
  Run it with --recursive-reads to see what the old annotation hid.";

/// Why the recursive-read cycle is reported here, and why the kernel's old annotation hid it.
const READERS_RECURSIVE_REPORTED: &str = "\
Reported, with get_online_cpus() as parking_lot's read_recursive too.
  What the old annotation hid: before fc8dffd379ca, get_online_cpus() was annotated as a
  recursive read in the kernel's sense, one that never waits for a writer that is merely
  queued. Under that promise a cycle that enters cpu_hotplug_lock by a recursive read and
  leaves it from a lock held only for reading is no deadlock, and the kernel's lockdep
  skipped it. The percpu-rwsem conversion made readers queue behind a waiting writer, and
  the cycle it hid became a real deadlock.
  parking_lot's read_recursive() promises less than the old annotation did: it skips the
  queue only while the lock is read-held at the moment of the call. 'bpf' may call it while
  'hotplug' holds the lock for writing, park, and stay parked behind a writer queued since,
  while 'kmem_cache_create' holds its read and waits for pcpu_alloc_mutex, which 'bpf'
  holds. pcpu_alloc_mutex is entered and left as a mutex, so the cycle is a deadlock, and
  lockdep for Rust reports it with either spelling. Only a cycle in which every lock is
  entered by a recursive read and left from a lock held for reading (every edge -(SR)->)
  cannot hang with such reads.";

// ---- fixed ----

/// The allocator path with the fix applied: no report.
fn fixed(options: &Options) -> ExitCode {
    kernel::boot(Kernel::FIXED);
    lockdep_core::set_handler(collect);
    println!(
        "hotplug-pcpu: the same two paths with a459eeb7b852 applied (drain_all_pages no longer \
         calls get_online_cpus)\n"
    );
    let watchdog = guard_against_hangs();
    let ran = both_paths_in_turn(true);
    watchdog.disarm();
    if let Err(e) = ran {
        eprintln!("error: {e}");
        return ExitCode::from(EXIT_FAILED);
    }
    let reports = take_reports();
    if !reports.is_empty() {
        print_reports(&reports);
        eprintln!(
            "error: lockdep raised {} report(s); the fixed kernel should raise none",
            reports.len()
        );
        return ExitCode::from(EXIT_FAILED);
    }
    println!(
        "\nNo report was raised: the allocator no longer depends on cpu_hotplug_lock, so the only \
         dependencies are\ncpu_hotplug_lock -> pcpu_alloc_mutex -> pcpu_drain_mutex, and they form \
         no cycle."
    );
    if dot_if_asked(options) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILED)
    }
}

// ---- deadlock ----

/// The payload of the panic the checked run's handler raises to stop a thread before it
/// blocks: recognised (and kept quiet) by the panic hook, and by the thread's joiner.
struct StoppedByLockdep;

/// Keeps the deliberate [`StoppedByLockdep`] panics off stderr; every other panic is printed as
/// usual.
fn quiet_deliberate_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !info.payload().is::<StoppedByLockdep>() {
            default(info);
        }
    }));
}

/// Whether a thread's result is the deliberate stop.
fn was_stopped(result: &thread::Result<()>) -> bool {
    matches!(result, Err(payload) if payload.is::<StoppedByLockdep>())
}

/// Starts both paths at once, lined up by a barrier so that each holds its first lock(s) when
/// it asks for the other's; returns their join handles, `hotplug` first.
fn race() -> [(&'static str, thread::JoinHandle<()>); 2] {
    kernel::arm_race(Some(Arc::new(Barrier::new(2))));
    let spawn = |name: &'static str, f: fn()| {
        let handle = thread::Builder::new()
            .name(name.to_string())
            .spawn(f)
            .expect("spawn a scenario thread");
        (name, handle)
    };
    [
        spawn("hotplug", || kernel::cpu_up(CPU)),
        spawn("bpf", || {
            kernel::bpf_map_create(MAP_VALUE_SIZE, MAP_MAX_ENTRIES)
        }),
    ]
}

/// The punchline: lockdep stops the race before it hangs; without lockdep it hangs.
fn deadlock(options: &Options) -> ExitCode {
    kernel::boot(Kernel::BUGGY);
    quiet_deliberate_panics();
    println!("hotplug-pcpu: both paths at the same moment, lined up so that they really collide\n");

    // Part 1 first, because a real deadlock cannot be undone in-process: with lockdep on, the
    // thread whose acquisition closes the cycle is stopped (its handler panics before the lock
    // is taken), unwinds, releases what it holds, and so lets the other one finish.
    println!("== 1. lockdep on ==");
    lockdep_core::set_handler(|report| {
        collect(report);
        std::panic::panic_any(StoppedByLockdep);
    });
    let watchdog = Watchdog::start(Alarm {
        threads: 2,
        stuck_after: STUCK_AFTER,
        give_up_after: GIVE_UP_AFTER,
        report: Box::new(|_, stuck| {
            eprintln!("error: the checked run hung although lockdep was on:");
            eprint!("{}", watch::describe(stuck));
        }),
        exit_code: i32::from(EXIT_FAILED),
    });
    let results: Vec<(&str, thread::Result<()>)> = race()
        .into_iter()
        .map(|(name, handle)| (name, handle.join()))
        .collect();
    watchdog.disarm();
    lockdep_core::clear_handler();
    let reports = take_reports();
    print_reports(&reports);
    let stopped: Vec<&str> = results
        .iter()
        .filter(|(_, r)| was_stopped(r))
        .map(|(name, _)| *name)
        .collect();
    if let Some((name, _)) = results.iter().find(|(_, r)| r.is_err() && !was_stopped(r)) {
        eprintln!("error: thread '{name}' panicked");
        return ExitCode::from(EXIT_FAILED);
    }
    if !reports.iter().any(is_the_cycle) || stopped.len() != 1 {
        eprintln!("error: lockdep should have reported the cycle and stopped exactly one thread");
        return ExitCode::from(EXIT_FAILED);
    }
    let other = results
        .iter()
        .map(|(name, _)| *name)
        .find(|name| *name != stopped[0])
        .unwrap_or("?");
    println!(
        "lockdep reported the inversion while thread '{}' was asking for the lock that closes the \
         cycle, before it could block.\nThe handler stopped that thread (a panic, caught when it \
         was joined); it released its locks, and thread '{other}' finished. Nothing hung.\n",
        stopped[0]
    );
    if !dot_if_asked(options) {
        return ExitCode::from(EXIT_FAILED);
    }

    // Part 2: the very same race with checking off, as the kernel ran without lockdep.
    println!("== 2. lockdep off (set_mode(Mode::Off)): the same race ==");
    lockdep_core::set_mode(Mode::Off);
    let watchdog = Watchdog::start(Alarm {
        threads: 2,
        stuck_after: STUCK_AFTER,
        give_up_after: GIVE_UP_AFTER,
        report: Box::new(report_deadlock),
        exit_code: EXIT_DEADLOCKED,
    });
    for (_, handle) in race() {
        let _ = handle.join();
    }
    // Only reached if the race somehow did not deadlock.
    watchdog.disarm();
    eprintln!("error: the unchecked race finished; it should have deadlocked");
    ExitCode::from(EXIT_FAILED)
}

/// The watchdog's verdict on the unchecked race.
fn report_deadlock(all_stuck: bool, stuck: &[Stuck]) {
    if !all_stuck {
        eprintln!(
            "error: the unchecked race neither finished nor deadlocked in {}s",
            GIVE_UP_AFTER.as_secs()
        );
        eprint!("{}", watch::describe(stuck));
        return;
    }
    println!(
        "deadlocked: the threads are stuck on {} (watchdog, after {:.1}s):",
        watch::waited_locks(stuck),
        STUCK_AFTER.as_secs_f64()
    );
    print!("{}", watch::describe(stuck));
    println!(
        "Neither lock will ever be released: this is the hang the kernel had. With lockdep on \
         (part 1)\nthe same race was reported, and stopped, before either thread blocked. \
         Exiting with status {EXIT_DEADLOCKED}."
    );
}
