//! The loaded regime of the plain-loop examples: a spinning thread on every other CPU this
//! process may run on, as on a shared CI runner whose other cores (or the SMT sibling of the
//! measuring core) are busy. The bookkeeping of a validated acquisition is bound by issue width
//! as much as by the atomics' latency, so it loses issue slots to a busy sibling that the
//! atomic-bound raw lock does not need: the ratio can move between the two regimes on one
//! host, and both are reported.
//!
//! On Linux the measuring thread is pinned to the first allowed CPU and each spinner to one of
//! the others (so a spinner is never on the measuring CPU, and on an SMT host one is on its
//! sibling); elsewhere the spinners are one fewer than the available parallelism, unpinned.

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

/// Spinning threads on the other CPUs, stopped and joined when dropped.
pub struct Load {
    stop: Arc<AtomicBool>,
    spinners: Vec<JoinHandle<()>>,
    /// The CPU the measuring threads are pinned to (Linux).
    measuring: Option<usize>,
}

impl Load {
    /// Pins the calling thread to the first allowed CPU and starts one spinner per other one.
    pub fn start() -> Load {
        let cpus = allowed_cpus();
        let stop = Arc::new(AtomicBool::new(false));
        let (measuring, others) = match cpus.split_first() {
            Some((&first, rest)) => (Some(first), rest.iter().map(|&c| Some(c)).collect()),
            None => {
                let n = std::thread::available_parallelism().map_or(1, |n| n.get());
                (None, vec![None; n.saturating_sub(1)])
            }
        };
        if let Some(cpu) = measuring {
            pin_current(cpu);
        }
        let spinners = others
            .into_iter()
            .map(|cpu: Option<usize>| {
                let stop = Arc::clone(&stop);
                std::thread::spawn(move || {
                    if let Some(cpu) = cpu {
                        pin_current(cpu);
                    }
                    spin(&stop)
                })
            })
            .collect();
        Load {
            stop,
            spinners,
            measuring,
        }
    }

    /// How many spinning threads run.
    pub fn spinners(&self) -> usize {
        self.spinners.len()
    }

    /// The measuring CPU, for a helper thread that times while the main one waits for it.
    pub fn measuring(&self) -> Measuring {
        Measuring(self.measuring)
    }

    /// One line for a table's heading: what ran beside the measurement.
    pub fn describe(&self) -> String {
        match self.measuring {
            Some(cpu) => format!(
                "loaded: measured on CPU {cpu}, a spinning thread pinned to each of the {} other \
                 allowed CPUs",
                self.spinners()
            ),
            None => format!("loaded: {} spinning threads, unpinned", self.spinners()),
        }
    }
}

/// Where a [`Load`] measures (see [`Load::measuring`]): a value another thread can take.
#[derive(Clone, Copy, Debug)]
pub struct Measuring(Option<usize>);

impl Measuring {
    /// Pins the calling thread to the measuring CPU (nothing where no CPU is known).
    pub fn pin_here(self) {
        if let Some(cpu) = self.0 {
            pin_current(cpu);
        }
    }
}

/// One line for a table's heading in either regime: `load`'s (see [`Load::describe`]), or idle.
pub fn regime(load: Option<&Load>) -> String {
    match load {
        Some(load) => load.describe(),
        None => "idle: nothing else runs in this process".to_string(),
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for spinner in self.spinners.drain(..) {
            spinner.join().expect("a spinner only loops");
        }
    }
}

/// Integer work until `stop`: instructions for the core's issue slots (as a shell's
/// `while :; do :; done`), no memory traffic to speak of.
fn spin(stop: &AtomicBool) {
    let mut x = 1u64;
    while !stop.load(Ordering::Relaxed) {
        for _ in 0..4096 {
            x = black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1));
        }
    }
    black_box(x);
}

/// The CPUs this process may run on, in order (empty where that cannot be read).
#[cfg(target_os = "linux")]
fn allowed_cpus() -> Vec<usize> {
    // SAFETY: a zeroed `cpu_set_t` is a valid empty set, and `sched_getaffinity` writes at most
    // its size into it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return Vec::new();
        }
        (0..libc::CPU_SETSIZE as usize)
            .filter(|&cpu| libc::CPU_ISSET(cpu, &set))
            .collect()
    }
}

#[cfg(not(target_os = "linux"))]
fn allowed_cpus() -> Vec<usize> {
    Vec::new()
}

/// Pins the calling thread to `cpu` (best effort: a refusal leaves it where it was).
#[cfg(target_os = "linux")]
fn pin_current(cpu: usize) {
    // SAFETY: as in `allowed_cpus`; `CPU_SET` writes inside the set for any `cpu` below
    // `CPU_SETSIZE`, which `allowed_cpus` only returns.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

#[cfg(not(target_os = "linux"))]
fn pin_current(_cpu: usize) {}
