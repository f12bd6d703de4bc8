//! The guide's quoted output, checked against what the code prints now, so that the guide
//! cannot drift from it:
//!
//! - the hotplug splat (`cargo run -p hotplug-pcpu`): every line `docs/hotplug.md` quotes, in
//!   its order, is a line of the demo's output (`...` marks what the page leaves out, absolute
//!   paths are shortened to `.../`);
//! - the `stats()` figures: `docs/figures.md`'s program is `readme/figures.rs` (included below),
//!   and the figures it prints in a process of its own are the page's, line for line (the memory
//!   figure within 10%: it counts the recorded backtraces, as deep as the stack they came from).

use std::path::{Path, PathBuf};
use std::process::Command;

include!("readme/figures.rs");

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// A page of the guide, `docs/{name}`.
fn page(name: &str) -> String {
    std::fs::read_to_string(workspace().join("docs").join(name)).unwrap()
}

/// The lines of the first fenced block in `lang` after the first line containing `after`.
fn block(readme: &str, after: &str, lang: &str) -> Vec<String> {
    let mut lines = readme.lines().skip_while(|l| !l.contains(after));
    assert!(
        lines.next().is_some(),
        "the page has no line containing {after:?}"
    );
    let mut lines = lines.skip_while(|l| l.trim_end() != format!("```{lang}"));
    assert!(
        lines.next().is_some(),
        "the page has no ```{lang} block after {after:?}"
    );
    lines
        .take_while(|l| l.trim_end() != "```")
        .map(str::to_string)
        .collect()
}

/// Without the checks compiled in there is nothing to compare (the release run of CI).
fn checks_compiled_in(test: &str) -> bool {
    if !lockdep_core::CHECKS_COMPILED_IN {
        eprintln!("SKIPPED {test}: the checks are compiled out of this build, nothing is reported");
    }
    lockdep_core::CHECKS_COMPILED_IN
}

/// A command with none of the caller's lockdep settings.
fn clean(mut cmd: Command) -> Command {
    for var in ["LOCKDEP", "LOCKDEP_GRAPH", "LOCKDEP_DOT"] {
        cmd.env_remove(var);
    }
    cmd
}

#[test]
fn the_readmes_hotplug_splat_is_what_the_demo_prints() {
    if !checks_compiled_in("the_readmes_hotplug_splat_is_what_the_demo_prints") {
        return;
    }
    let quoted = block(
        &page("hotplug.md"),
        "Neither thread ever waits for the other, yet the report comes",
        "text",
    );
    let out = clean(Command::new(env!("CARGO_BIN_EXE_hotplug-pcpu")))
        .output()
        .unwrap();
    let root = format!("{}/", workspace().display());
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
    .replace(&root, ".../");
    assert!(out.status.success(), "{printed}");
    let printed_lines: Vec<&str> = printed.lines().map(str::trim_end).collect();

    // Each quoted line, in order, is a printed line; one ending in "..." is a printed line's
    // beginning.
    let mut at = 0;
    for line in quoted.iter().map(|l| l.trim_end()) {
        if line.is_empty() || line.trim() == "..." {
            continue;
        }
        let matches = |printed: &&str| match line.strip_suffix("...") {
            Some(prefix) => printed.starts_with(prefix),
            None => *printed == line,
        };
        match printed_lines[at..].iter().position(matches) {
            Some(i) => at += i + 1,
            None => panic!(
                "docs/hotplug.md quotes the line\n{line}\nwhich `cargo run -p hotplug-pcpu` does \
                 not print (not after the line before it): update the page's block with what it \
                 prints now:\n{printed}"
            ),
        }
    }
    assert!(
        quoted.len() > 40,
        "the page's block is shorter than expected"
    );
}

#[test]
fn the_readmes_figures_are_what_its_example_prints() {
    const TEST: &str = "the_readmes_figures_are_what_its_example_prints";
    // In the process started below: the program alone, between markers.
    if std::env::var_os("README_FIGURES_CHILD").is_some() {
        println!("<figures>");
        main();
        println!("</figures>");
        return;
    }
    if !checks_compiled_in(TEST) {
        return;
    }
    let readme = page("figures.md");
    let program = block(&readme, "# The figures", "rust");
    assert_eq!(
        program.join("\n") + "\n",
        include_str!("readme/figures.rs"),
        "docs/figures.md's stats() program differs from tests/readme/figures.rs"
    );
    let figures = block(&readme, "prints, run as a debug build", "text");

    // A process of its own: the figures are process-wide.
    let mut cmd = clean(Command::new(std::env::current_exe().unwrap()));
    let out = cmd
        .args([TEST, "--exact", "--nocapture", "--test-threads=1"])
        .env("README_FIGURES_CHILD", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let printed = stdout
        .split_once("<figures>\n")
        .and_then(|(_, rest)| rest.split_once("</figures>"))
        .map(|(figures, _)| figures)
        .unwrap_or_else(|| panic!("no figures in\n{stdout}"));
    let printed: Vec<&str> = printed.lines().collect();
    assert_eq!(
        figures.len(),
        printed.len(),
        "docs/figures.md's figures differ from what its program prints now: update them\n{}",
        printed.join("\n")
    );
    for (quoted, printed) in figures.iter().zip(&printed) {
        // The memory figure counts the recorded backtraces, whose depth depends on the thread
        // the program runs on (a test's thread here, `main` as the page runs it): within 10%.
        let memory = |line: &str| {
            line.strip_prefix(" memory used (bytes):")
                .and_then(|n| n.trim().parse::<usize>().ok())
        };
        match (memory(quoted), memory(printed)) {
            (Some(quoted_bytes), Some(printed_bytes)) => assert!(
                quoted_bytes.abs_diff(printed_bytes) * 10 <= quoted_bytes,
                "docs/figures.md quotes {quoted_bytes} bytes of memory, its program uses \
                 {printed_bytes} now: update the figure"
            ),
            _ => assert_eq!(
                quoted, printed,
                "docs/figures.md's figures differ from what its program prints now: update them"
            ),
        }
    }
}
