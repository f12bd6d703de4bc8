//! Runs each scenario of `hotplug-pcpu` as a process and checks what it prints and how it exits.
//!
//! Every run has a deadline and is killed past it, so that a regression that makes a scenario
//! hang fails the test instead of hanging CI.
// Tests that need the checks are compiled out one by one; what they share goes unused then.
#![cfg_attr(not(debug_assertions), allow(unused))]

use std::io::Read;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Generous: a debug build resolving backtraces on a loaded machine takes a few seconds at most;
/// the deadlock scenario's own watchdog fires after 1.5 s.
const DEADLINE: Duration = Duration::from_secs(120);

/// What one run left behind.
struct Run {
    /// The exit status, `None` if killed by a signal.
    code: Option<i32>,
    /// Everything it printed on stdout.
    stdout: String,
    /// Everything it printed on stderr.
    stderr: String,
}

impl Run {
    /// Everything printed, for assertions that do not care which stream.
    fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs the binary with `args`, killing it (and failing) past [`DEADLINE`].
fn run(args: &[&str]) -> Run {
    run_with_lockdep_env(args, None)
}

/// [`run`] with the environment variable `LOCKDEP` set to `lockdep`, or unset.
fn run_with_lockdep_env(args: &[&str], lockdep: Option<&str>) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hotplug-pcpu"));
    // An inherited LOCKDEP must not change the outcome of the other tests.
    match lockdep {
        Some(value) => command.env("LOCKDEP", value),
        None => command.env_remove("LOCKDEP"),
    };
    let mut child = command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start hotplug-pcpu");
    // Drained on threads of their own: a child blocked on a full pipe would look like a hang.
    let drain = |mut pipe: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("piped stdout")));
    let stderr = drain(Box::new(child.stderr.take().expect("piped stderr")));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("poll hotplug-pcpu") {
            break status;
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            let out = stdout.join().unwrap_or_default();
            let err = stderr.join().unwrap_or_default();
            panic!("hotplug-pcpu {args:?} ran past {DEADLINE:?}; killed.\nstdout:\n{out}\nstderr:\n{err}");
        }
        thread::sleep(Duration::from_millis(20));
    };
    Run {
        code: status.code(),
        stdout: stdout.join().expect("read stdout"),
        stderr: stderr.join().expect("read stderr"),
    }
}

/// Asserts that `text` contains every one of `needles`, showing the text if not.
#[track_caller]
fn assert_contains_all(text: &str, needles: &[&str]) {
    for needle in needles {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
}

/// The section of the splat that shows edge `number`'s first-seen backtrace.
fn edge_section(report: &str, number: usize) -> &str {
    let start = report
        .find(&format!("-> #{number} "))
        .unwrap_or_else(|| panic!("no edge #{number} in:\n{report}"));
    let rest = &report[start..];
    let end = rest[3..].find("-> #").map_or(rest.len(), |i| i + 3);
    &rest[..end]
}

// Needs lockdep compiled into the demo (a debug build).
#[cfg(debug_assertions)]
#[test]
fn splat_reports_the_cycle_with_a_backtrace_per_edge_and_exits_0() {
    let run = run(&[]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    let out = &run.stdout;
    assert_contains_all(
        out,
        &[
            "WARNING: possible circular locking dependency detected",
            "cpu_hotplug_lock",
            "pcpu_alloc_mutex",
            "pcpu_drain_mutex",
            "Chain exists of:",
            "*** DEADLOCK ***",
        ],
    );
    // The edge the hotplug thread recorded: through cpu_up and the smpcfd callback.
    let hotplug_edge = edge_section(out, 1);
    assert_contains_all(
        hotplug_edge,
        &[
            "(pcpu_alloc_mutex) -(EN)-> taken while holding (cpu_hotplug_lock)",
            "hotplug_pcpu::kernel::pcpu_alloc",
            "hotplug_pcpu::kernel::__alloc_percpu",
            "hotplug_pcpu::kernel::smpcfd_prepare_cpu",
            "hotplug_pcpu::kernel::cpuhp_invoke_callback",
            "hotplug_pcpu::kernel::_cpu_up",
            "hotplug_pcpu::kernel::cpu_up",
        ],
    );
    // The edge the allocator recorded inside pcpu_alloc.
    assert_contains_all(
        edge_section(out, 2),
        &[
            "(pcpu_drain_mutex) -(EN)-> taken while holding (pcpu_alloc_mutex)",
            "hotplug_pcpu::kernel::drain_all_pages",
            "hotplug_pcpu::kernel::pcpu_populate_chunk",
            "hotplug_pcpu::kernel::pcpu_alloc",
            "hotplug_pcpu::kernel::array_map_alloc",
            "hotplug_pcpu::kernel::bpf_map_create",
        ],
    );
    // The acquisition that closes the cycle: get_online_cpus inside drain_all_pages.
    let current = &out[out.find("stack backtrace:").expect("current stack")..];
    assert_contains_all(
        current,
        &[
            "hotplug_pcpu::kernel::get_online_cpus",
            "hotplug_pcpu::kernel::drain_all_pages",
            "hotplug_pcpu::kernel::bpf_map_create",
        ],
    );
    // Then the explanation, after the report.
    let explained = out.find("What happened").expect("an explanation");
    assert!(explained > out.find("*** DEADLOCK ***").unwrap());
    assert_contains_all(&out[explained..], &["a459eeb7b852", "get_online_cpus()"]);
}

// Needs lockdep compiled into the demo (a debug build).
#[cfg(debug_assertions)]
#[test]
fn splat_with_recursive_reads_is_still_reported_because_the_writer_is_in_the_cycle() {
    let run = run(&["--scenario", "splat", "--recursive-reads"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert_contains_all(
        &run.stdout,
        &[
            "possible circular locking dependency",
            "(cpu_hotplug_lock) -(ER)-> taken while holding (pcpu_drain_mutex)",
            "*write* side",
        ],
    );
}

// Needs lockdep compiled into the demo (a debug build).
#[cfg(debug_assertions)]
#[test]
fn readers_with_fair_reads_are_reported() {
    let run = run(&["--scenario", "readers"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert_contains_all(
        &run.stdout,
        &[
            "thread 'kmem_cache_create'",
            "thread 'hotplug'",
            "thread 'bpf'",
            "possible circular locking dependency",
            "(pcpu_alloc_mutex) -(SN)-> taken while holding (cpu_hotplug_lock)",
            "Reported:",
            "queues",
        ],
    );
}

// Needs lockdep compiled into the demo (a debug build).
#[cfg(debug_assertions)]
#[test]
fn readers_with_recursive_reads_are_reported_and_the_program_says_what_the_kernel_hid() {
    // parking_lot's read_recursive can wait behind a queued writer once parked, so this cycle
    // is a deadlock with it; the kernel's old (truly recursive) annotation hid it.
    let run = run(&["--scenario", "readers", "--recursive-reads"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert_contains_all(
        &run.stdout,
        &[
            "possible circular locking dependency",
            "(cpu_hotplug_lock) -(ER)-> taken while holding (pcpu_drain_mutex)",
            "What the old annotation hid",
            "fc8dffd379ca",
            "queue behind a waiting writer",
            "read-held at the moment of the call",
        ],
    );
}

// Needs lockdep compiled into the demo (a debug build).
#[cfg(debug_assertions)]
#[test]
fn fixed_runs_clean() {
    let run = run(&["--scenario", "fixed"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(!run.all().contains("WARNING"), "{}", run.all());
    assert_contains_all(&run.stdout, &["a459eeb7b852", "No report was raised"]);
}

// Needs lockdep compiled into the demo (a debug build).
#[cfg(debug_assertions)]
#[test]
fn deadlock_is_reported_with_lockdep_on_then_really_hangs_with_it_off() {
    let started = Instant::now();
    let run = run(&["--scenario", "deadlock"]);
    assert_eq!(run.code, Some(3), "{}", run.all());
    let out = &run.stdout;
    // Part 1, lockdep on: the report, and nothing hung.
    let report = out
        .find("WARNING: possible circular locking dependency detected")
        .unwrap_or_else(|| panic!("no report in:\n{out}"));
    let stopped = out
        .find("before it could block")
        .expect("the checked run's outcome");
    // Part 2, lockdep off: the watchdog's verdict, naming the locks and the threads.
    let hung = out
        .find("deadlocked: the threads are stuck on")
        .unwrap_or_else(|| panic!("no watchdog verdict in:\n{out}"));
    assert!(report < stopped && stopped < hung, "wrong order:\n{out}");
    let verdict = &out[hung..];
    assert_contains_all(
        verdict,
        &[
            "thread 'hotplug' holds cpu_hotplug_lock and waits for pcpu_alloc_mutex",
            "thread 'bpf' holds pcpu_alloc_mutex, pcpu_drain_mutex and waits for cpu_hotplug_lock",
        ],
    );
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "the watchdog should fire within seconds"
    );
}

// Needs lockdep compiled into the demo (a debug build).
#[cfg(debug_assertions)]
#[test]
fn lockdep_off_in_the_environment_does_not_silence_the_demo() {
    let run = run_with_lockdep_env(&[], Some("off"));
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert_contains_all(&run.stdout, &["possible circular locking dependency"]);
}

#[test]
fn help_describes_every_scenario() {
    let run = run(&["--help"]);
    assert_eq!(run.code, Some(0));
    assert_contains_all(
        &run.stdout,
        &[
            "--scenario",
            "splat",
            "readers",
            "fixed",
            "deadlock",
            "--recursive-reads",
            "--dot",
        ],
    );
}

#[test]
fn unknown_flags_are_refused_with_exit_code_2() {
    let run = run(&["--frobnicate"]);
    assert_eq!(run.code, Some(2));
    assert_contains_all(&run.stderr, &["unknown argument `--frobnicate`", "--help"]);
    assert!(run.stdout.is_empty());

    let run = self::run(&["--scenario", "nonsense"]);
    assert_eq!(run.code, Some(2));
    assert_contains_all(&run.stderr, &["unknown scenario `nonsense`"]);
}

// Needs lockdep compiled into the demo (a debug build).
#[cfg(debug_assertions)]
#[test]
fn dot_writes_the_class_graph_with_the_cycle() {
    let path = std::env::temp_dir().join(format!("hotplug-pcpu-{}.dot", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let run = run(&["--dot", path.to_str().expect("a UTF-8 temp dir")]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert_contains_all(&run.stdout, &["wrote the lock class graph to"]);
    let dot = std::fs::read_to_string(&path).expect("the DOT file");
    let _ = std::fs::remove_file(&path);
    assert!(dot.starts_with("digraph"), "{dot}");
    assert_contains_all(
        &dot,
        &[
            "cpu_hotplug_lock",
            "pcpu_alloc_mutex",
            "pcpu_drain_mutex",
            "red",
        ],
    );
}

// Needs lockdep compiled into the demo (a debug build).
#[cfg(debug_assertions)]
#[test]
fn dot_to_an_unwritable_path_fails_with_a_reason() {
    let run = run(&["--scenario", "fixed", "--dot", "/nonexistent-dir/graph.dot"]);
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert_contains_all(&run.stderr, &["cannot write /nonexistent-dir/graph.dot"]);
}
