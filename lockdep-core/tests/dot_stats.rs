//! `stats()`: the figures move as the validator learns, and `Display` has the layout of the
//! kernel's `/proc/lockdep_stats`.
//!
//! The figures are process-wide and the tests of a binary run in parallel, so the counting test
//! compares before and after with lower bounds only.

use lockdep_core::{capture, stats, Mutex, Stats};

#[test]
fn stats_count_classes_dependencies_chains_depth_and_reports() {
    let before = stats();
    let a = Mutex::named("stats-a", ());
    let b = Mutex::named("stats-b", ());
    let c = Mutex::named("stats-c", ());
    let reports = capture(|| {
        {
            let _a = a.lock();
            let _b = b.lock();
            let _c = c.lock();
        }
        let _c = c.lock();
        let _a = a.lock(); // closes a cycle: one report
    });
    let after = stats();

    if !lockdep_core::CHECKS_COMPILED_IN {
        // Nothing is tracked: every figure, limits included, is zero.
        assert!(reports.is_empty());
        assert_eq!(after, Stats::default());
        return;
    }
    assert_eq!(after.max_lock_depth, lockdep_core::MAX_LOCK_DEPTH);
    assert!(
        after.max_classes >= 8191,
        "at least the kernel's MAX_LOCKDEP_KEYS"
    );
    assert!(after.classes <= after.max_classes);
    assert!(after.dependencies <= after.max_dependencies);
    assert!(after.chains <= after.max_chains);
    assert_eq!(reports.len(), 1);
    assert!(after.classes >= before.classes + 3, "{before:?}\n{after:?}");
    assert!(after.nodes >= before.nodes + 3, "{after:?}");
    assert!(
        after.dependencies >= before.dependencies + 2,
        "a->b, b->c: {after:?}"
    );
    assert!(after.chains >= before.chains + 2, "{after:?}");
    assert!(after.max_depth >= 3, "{after:?}");
    assert!(
        after.reports > before.reports,
        "a captured report counts too: {after:?}"
    );
    assert!(after.memory_bytes > before.memory_bytes, "{after:?}");
}

#[test]
fn display_has_the_layout_of_proc_lockdep_stats() {
    let mut figures: Stats = stats();
    figures.classes = 12;
    figures.dependencies = 14;
    figures.max_depth = 3;
    let text = figures.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 8, "{text}");
    assert_eq!(
        lines[0],
        format!(
            " lock-classes:                           12 [max: {}]",
            figures.max_classes
        )
    );
    assert!(
        lines[1].starts_with(" graph nodes (class, subclass): "),
        "{text}"
    );
    assert_eq!(
        lines[2],
        format!(
            " direct dependencies:                    14 [max: {}]",
            figures.max_dependencies
        )
    );
    assert!(lines[3].starts_with(" dependency chains: "), "{text}");
    assert_eq!(
        lines[4],
        format!(
            " max locking depth:                       3 [max: {}]",
            figures.max_lock_depth
        )
    );
    assert!(lines[5].starts_with(" reports raised: "), "{text}");
    assert!(lines[6].starts_with(" memory used (bytes): "), "{text}");
    let checking = if lockdep_core::CHECKS_COMPILED_IN {
        " checking:                      compiled in, mode "
    } else {
        " checking:                      compiled out"
    };
    assert!(lines[7].starts_with(checking), "{text}");
    // Every figure ends in the same column, as in the kernel's file.
    for line in &lines[..7] {
        let figure_end = line.find(" [max").unwrap_or(line.len());
        assert_eq!(figure_end, 43, "{line:?}");
    }
}
