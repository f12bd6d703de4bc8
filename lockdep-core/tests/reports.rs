//! The report itself: the kernel-style text, the backtrace where each edge was first recorded,
//! the scenario table and the held locks.
// Every test here needs the checks: compiled out with them.
#![cfg(lockdep_checks)]

use lockdep_core::{capture, Mutex, ReportKind, RwLock};

#[inline(never)]
fn take_alloc_then_drain(alloc: &Mutex<()>, drain: &Mutex<()>) {
    let _a = alloc.lock();
    let _d = drain.lock();
}

#[inline(never)]
fn take_drain_then_alloc(alloc: &Mutex<()>, drain: &Mutex<()>) {
    let _d = drain.lock();
    let _a = alloc.lock();
}

#[test]
fn cycle_report_reads_like_the_kernels() {
    let alloc = Mutex::named("report-alloc", ());
    let drain = Mutex::named("report-drain", ());
    let reports = capture(|| {
        take_alloc_then_drain(&alloc, &drain);
        take_drain_then_alloc(&alloc, &drain);
    });
    assert_eq!(reports.len(), 1);
    let report = &reports[0];
    assert_eq!(report.kind(), ReportKind::CircularDependency);
    assert_eq!(report.thread_name(), "cycle_report_reads_like_the_kernels");
    assert_eq!(report.held_classes(), ["report-drain"]);

    let text = report.to_string();
    let expected_in_order = [
        "WARNING: possible circular locking dependency detected",
        "thread 'cycle_report_reads_like_the_kernels' is trying to acquire lock:",
        " (report-alloc){write}, at: lockdep-core/tests/reports.rs:",
        "but thread 'cycle_report_reads_like_the_kernels' is already holding lock:",
        " (report-drain){write}, at: lockdep-core/tests/reports.rs:",
        "which lock already depends on the new lock.",
        "the existing dependency chain (in reverse order) is:",
        "-> #1 (report-drain) -(EN)-> taken while holding (report-alloc), first seen at:",
        "reports::take_alloc_then_drain",
        "-> #0 (report-alloc) -(EN)-> taken while holding (report-drain): this acquisition",
        // The codes explained once, where they are used.
        " legend: -(XY)-> reads \"taken as Y while holding as X\" (here: EN):",
        "   X = E held exclusively, S held shared; Y = N taken for writing or as a fair read,",
        "   R taken as a recursive read",
        "Possible unsafe locking scenario:",
        "       Thread A                Thread B",
        "  lock(report-drain);",
        "                               lock(report-alloc);",
        "                               lock(report-drain);",
        "  lock(report-alloc);",
        " *** DEADLOCK ***",
        "1 lock held by thread 'cycle_report_reads_like_the_kernels':",
        " #0: (report-drain){write}, at: lockdep-core/tests/reports.rs:",
        "stack backtrace:",
        "reports::take_drain_then_alloc",
    ];
    let mut from = 0;
    for line in expected_in_order {
        match text[from..].find(line) {
            Some(at) => from += at + line.len(),
            None => panic!("missing (or out of order) {line:?} in:\n{text}"),
        }
    }
}

#[test]
fn each_edge_carries_the_backtrace_where_it_was_first_seen() {
    let alloc = Mutex::named("bt-alloc", ());
    let drain = Mutex::named("bt-drain", ());
    let reports = capture(|| {
        take_alloc_then_drain(&alloc, &drain);
        take_drain_then_alloc(&alloc, &drain);
    });
    let report = &reports[0];
    let edges = report.edge_backtrace_functions();
    assert_eq!(edges.len(), 1, "one existing edge: alloc -> drain");
    assert_eq!(
        edges[0][0], "reports::take_alloc_then_drain",
        "{:?}",
        edges[0]
    );
    let current = report.backtrace_functions();
    assert_eq!(current[0], "reports::take_drain_then_alloc", "{current:?}");
    // The validator's own frames are trimmed.
    assert!(current
        .iter()
        .all(|f| !f.starts_with("lockdep_core::validator")));
    assert!(current.iter().all(|f| !f.starts_with("backtrace::")));
}

#[test]
fn longer_chains_show_every_edge_and_the_chain_summary() {
    let a = Mutex::named("chain-A", ());
    let b = Mutex::named("chain-B", ());
    let c = Mutex::named("chain-C", ());
    let reports = capture(|| {
        {
            let _a = a.lock();
            let _b = b.lock();
        }
        {
            let _b = b.lock();
            let _c = c.lock();
        }
        let _c = c.lock();
        let _a = a.lock();
    });
    let text = reports[0].to_string();
    assert_eq!(reports[0].edge_backtrace_functions().len(), 2);
    for line in [
        "-> #2 (chain-C) -(EN)-> taken while holding (chain-B)",
        "-> #1 (chain-B) -(EN)-> taken while holding (chain-A)",
        "-> #0 (chain-A) -(EN)-> taken while holding (chain-C)",
        "Chain exists of:\n  chain-A --> chain-B --> chain-C",
        "                               lock(chain-B);\n                               lock(chain-C);",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
}

#[test]
fn read_acquisitions_are_labelled() {
    let h = RwLock::named("label-H", ());
    let m = Mutex::named("label-M", ());
    let reports = capture(|| {
        {
            let _h = h.read();
            let _m = m.lock();
        }
        let _m = m.lock();
        let _h = h.read();
    });
    let text = reports[0].to_string();
    for line in [
        " (label-H){read}, at:",
        "-> #1 (label-M) -(SN)-> taken while holding (label-H)",
        "-> #0 (label-H) -(EN)-> taken while holding (label-M)",
        "  rlock(label-H);",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
}

#[test]
fn every_read_in_the_scenario_is_written_rlock() {
    let parent = RwLock::named("rlock-P", ());
    let target = RwLock::named("rlock-T", ());
    let reports = capture(|| {
        {
            let _p = parent.read();
            let _t = target.read();
        }
        let _t = target.read();
        let _p = parent.read();
    });
    let text = reports[0].to_string();
    let table = "\
       Thread A                Thread B
       --------                --------
  rlock(rlock-T);
                               rlock(rlock-P);
                               rlock(rlock-T);
  rlock(rlock-P);
";
    assert!(text.contains(table), "missing\n{table}in:\n{text}");
}

#[test]
fn printed_stacks_leave_out_lockdeps_own_frames() {
    let a = Mutex::named("frames-A", ());
    let b = Mutex::named("frames-B", ());
    // `capture` and `thread::scope` put lockdep frames between the user's.
    let reports = lockdep_core::thread::scope(|s| {
        s.spawn(|| {
            capture(|| {
                take_alloc_then_drain(&a, &b);
                take_drain_then_alloc(&a, &b);
            })
        })
        .join()
        .unwrap()
    });
    let report = &reports[0];
    let stacks = std::iter::once(report.backtrace_functions())
        .chain(report.edge_backtrace_functions())
        .collect::<Vec<_>>();
    for stack in &stacks {
        assert!(
            stack.iter().any(|f| f.starts_with("reports::")),
            "{stack:?}"
        );
        assert!(
            stack
                .iter()
                .all(|f| !f.starts_with("lockdep_core::") && !f.starts_with("<lockdep_core::")),
            "{stack:?}"
        );
    }
    assert!(!report.to_string().contains("lockdep_core::"), "{report}");
}

#[test]
fn reports_are_send_sync_clone_and_debug() {
    fn assert_traits<T: Send + Sync + Clone + std::fmt::Debug + std::fmt::Display>() {}
    assert_traits::<lockdep_core::Report>();
    let a = Mutex::named("debug-A", ());
    let a2 = Mutex::named("debug-A", ());
    let reports = capture(|| {
        let _a = a.lock();
        let _a2 = a2.lock();
    });
    let debug = format!("{:?}", reports[0].clone());
    assert!(
        debug.contains("RecursiveLocking") && debug.contains("debug-A"),
        "{debug}"
    );
}

#[test]
fn a_subclass_is_explained_where_it_appears() {
    let a = Mutex::named("legend-parent", ());
    let b = Mutex::named("legend-child", ());
    let reports = capture(|| {
        {
            let _a = a.lock();
            let _b = b.lock_nested(1);
        }
        let _b = b.lock_nested(1);
        let _a = a.lock();
    });
    let text = reports[0].to_string();
    assert!(text.contains("(legend-child/1)"), "{text}");
    assert!(
        text.contains(" class/N: nesting level N of the class (`lock_nested(N)`)"),
        "{text}"
    );
    // Only where a subclass appears.
    let c = Mutex::named("legend-c", ());
    let d = Mutex::named("legend-d", ());
    let reports = capture(|| {
        {
            let _c = c.lock();
            let _d = d.lock();
        }
        let _d = d.lock();
        let _c = c.lock();
    });
    assert!(
        !reports[0].to_string().contains("class/N"),
        "{}",
        reports[0]
    );
}

#[test]
fn two_locks_of_one_class_are_told_apart_in_the_scenario() {
    let locks: Vec<Mutex<()>> = (0..2).map(|_| Mutex::named("scenario-two", ())).collect();
    let reports = capture(|| {
        let _x = locks[0].lock();
        let _y = locks[1].lock();
    });
    let text = reports[0].to_string();
    assert!(
        text.contains("  lock(scenario-two);  // one lock of the class\n")
            && text.contains("  lock(scenario-two);  // another lock of the class\n"),
        "{text}"
    );
}

#[test]
fn a_might_lock_finding_says_it_comes_from_the_annotation() {
    let c = Mutex::named("annotated-c", ());
    let d = Mutex::named("annotated-d", ());
    let reports = capture(|| {
        {
            let _c = c.lock();
            let _d = d.lock();
        }
        let _d = d.lock();
        lockdep_core::might_lock(&c);
    });
    let text = reports[0].to_string();
    assert!(
        text.contains(
            "may acquire lock (a `might_lock` annotation says so; it was not taken here):"
        ),
        "{text}"
    );
    // A real acquisition after it reads as before.
    let e = Mutex::named("annotated-e", ());
    let f = Mutex::named("annotated-f", ());
    let reports = capture(|| {
        {
            let _e = e.lock();
            let _f = f.lock();
        }
        let _f = f.lock();
        let _e = e.lock();
    });
    assert!(
        reports[0]
            .to_string()
            .contains("is trying to acquire lock:"),
        "{}",
        reports[0]
    );
}

#[test]
fn a_read_taken_again_is_the_same_lock_not_another_of_its_class() {
    let lock = RwLock::named("same-read", ());
    let reports = capture(|| {
        let _a = lock.read();
        let _b = lock.read();
    });
    let text = reports[0].to_string();
    assert!(
        text.contains("  // this lock\n") && text.contains("  // the same lock again\n"),
        "{text}"
    );
    assert!(
        text.contains("This thread reads the lock it reads already"),
        "{text}"
    );
    assert!(!text.contains("two different locks"), "{text}");
}

#[test]
fn a_handlers_own_acquisitions_are_not_the_annotations() {
    let (a, b) = (Mutex::named("ann-h-a", ()), Mutex::named("ann-h-b", ()));
    let (c, d) = (Mutex::named("ann-h-c", ()), Mutex::named("ann-h-d", ()));
    {
        let _a = a.lock();
        let _b = b.lock();
        let _c = c.lock();
        let _d = d.lock();
    }
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let s = seen.clone();
    let (c2, d2) = (&c, &d);
    std::thread::scope(|scope| {
        scope
            .spawn(move || {
                lockdep_core::set_handler(move |report| {
                    s.lock().unwrap().push(report.to_string());
                });
                // The annotation's report runs the handler; whatever the handler's thread then
                // takes is real. (Here: the inversion d -> c, inside the handler.)
                let _b = b.lock();
                lockdep_core::might_lock(&a);
                lockdep_core::clear_handler();
            })
            .join()
            .unwrap();
    });
    let _ = (c2, d2);
    let seen = seen.lock().unwrap();
    assert!(
        seen[0].contains("may acquire lock (a `might_lock` annotation"),
        "{seen:?}"
    );
}

/// `file:line:column` of the call `call` on the line of this file that holds `line_text`: the
/// creation site a class made by `new` there is named after.
fn site_of(line_text: &str, call: &str) -> String {
    let (index, line) = include_str!("reports.rs")
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains(line_text))
        .expect("the line is in this file");
    let column = line.find(call).expect("the call is on the line") + 1;
    format!("{}:{}:{column}", file!(), index + 1)
}

/// A class made by `new` names its lock's type beside its creation site in the report's text,
/// for every face (the type being display only: `classes` keeps the bare site, the class's key
/// in the cross-process store and baselines).
#[test]
fn a_class_made_by_new_shows_its_locks_type_beside_its_site() {
    let balance = Mutex::new(0i64); // typed-site: balance
    let ledger = RwLock::new(Vec::<String>::new()); // typed-site: ledger
    let journal = lockdep_core::sync::Mutex::new(Some(1u8)); // typed-site: journal
    let reports = capture(|| {
        {
            let _b = balance.lock();
            let _l = ledger.write();
            let _j = journal.lock().unwrap();
        }
        let _j = journal.lock().unwrap();
        let _b = balance.lock();
    });
    let balance_site = site_of("typed-site: balance", "Mutex::new");
    let ledger_site = site_of("typed-site: ledger", "RwLock::new");
    let journal_site = site_of("typed-site: journal", "lockdep_core::sync::Mutex::new");
    assert_eq!(reports.len(), 1, "{reports:?}");
    let report = &reports[0];
    assert_eq!(
        report.classes(),
        [&balance_site, &ledger_site, &journal_site]
    );
    let text = report.to_string();
    for expected in [
        format!(" ({balance_site} (Mutex<i64>)){{write}}, at: "),
        format!(" ({journal_site} (Mutex<Option<u8>>)){{write}}, at: "),
        format!(
            "-> #2 ({journal_site} (Mutex<Option<u8>>)) -(EN)-> taken while holding \
             ({ledger_site} (RwLock<Vec<String>>)), first seen at:"
        ),
        format!(
            "-> #1 ({ledger_site} (RwLock<Vec<String>>)) -(EN)-> taken while holding \
             ({balance_site} (Mutex<i64>)), first seen at:"
        ),
        format!("lock({balance_site} (Mutex<i64>));"),
    ] {
        assert!(text.contains(&expected), "missing {expected:?} in:\n{text}");
    }
    assert!(!text.contains("lockdep_core::"), "{text}");
}
