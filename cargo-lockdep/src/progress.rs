//! Progress lines on stderr for the long steps (a suite's run, reading and uniting stores, the
//! offline search), so that a large suite's merge in CI is not mistaken for a hang.

use crate::machine::GraphSize;
use lockdep_core::store::{self, StoredGraph};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How often a long step says how far it has come: `LOCKDEP_PROGRESS_SECS` seconds (fractions
/// allowed), 15 by default; `None` (never) for 0.
fn progress_interval() -> Option<Duration> {
    let secs = std::env::var("LOCKDEP_PROGRESS_SECS")
        .ok()
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .unwrap_or(15.0);
    (secs > 0.0).then(|| Duration::from_secs_f64(secs))
}

/// "m:ss" of a duration, for progress lines.
fn clock(elapsed: Duration) -> String {
    format!("{}:{:02}", elapsed.as_secs() / 60, elapsed.as_secs() % 60)
}

/// A progress line on stderr at most every [`progress_interval`] while a long step (reading
/// and uniting stores, the offline search) runs, so that a large suite's merge in CI is not
/// mistaken for a hang; nothing for a step quicker than that.
pub struct Progress {
    every: Option<Duration>,
    start: Instant,
    next: Duration,
}

impl Progress {
    pub fn new() -> Progress {
        let every = progress_interval();
        Progress {
            every,
            start: Instant::now(),
            next: every.unwrap_or_default(),
        }
    }

    /// Prints `what()` if the interval has passed since the last line (or the start).
    pub fn tick(&mut self, what: impl FnOnce() -> String) {
        let Some(every) = self.every else { return };
        let elapsed = self.start.elapsed();
        if elapsed >= self.next {
            eprintln!("cargo-lockdep: {} {}", clock(elapsed), what());
            self.next = elapsed + every;
        }
    }
}

/// The offline search of `graph`, with progress lines.
pub fn search(graph: &StoredGraph) -> Vec<Vec<store::format::StoredClass>> {
    let mut progress = Progress::new();
    graph.check_with_progress(|searched, total| {
        progress.tick(|| {
            format!("searching for cycles: {searched} of {total} dependencies searched from")
        })
    })
}

/// Every [`progress_interval`] while the suite runs, one line on stderr with what the shared
/// graph holds so far.
pub fn while_running(done: &AtomicBool, dir: &Path) {
    let mut progress = Progress::new();
    if progress.every.is_none() {
        return;
    }
    while !done.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(100));
        progress.tick(|| {
            let size = store::load(dir).map_or(
                GraphSize {
                    classes: 0,
                    dependencies: 0,
                    tests: 0,
                    programs: 0,
                },
                |graph| GraphSize::of(&graph),
            );
            format!(
                "running; so far {} between {}, from {}",
                crate::words::count(size.dependencies, "dependency", "dependencies"),
                crate::words::count(size.classes, "class", "classes"),
                crate::words::count(size.tests, "test", "tests")
            )
        });
    }
}
