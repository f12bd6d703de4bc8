//! `graph::to_dot` and `LOCKDEP_DOT`: a snapshot of the lines this binary's classes produce.
//!
//! The graph is global, so every test here uses class names of its own and asserts on the lines
//! that mention them; the DOT output is sorted by class name, so those lines are stable.

use lockdep_core::{capture, graph, Mutex, RwLock};
use std::collections::HashMap;

/// The node lines (`index -> line`), the edge lines, and the index of every class in `dot`
/// (keyed `name`, or `name/N` for subclass N).
struct Parsed {
    index: HashMap<String, usize>,
    nodes: HashMap<usize, String>,
    edges: Vec<String>,
}

fn parse(dot: &str) -> Parsed {
    let mut parsed = Parsed {
        index: HashMap::new(),
        nodes: HashMap::new(),
        edges: Vec::new(),
    };
    for line in dot.lines().map(str::trim) {
        if line.contains(" -> ") {
            parsed.edges.push(line.to_string());
        } else if let Some((ix, rest)) = line.split_once(" [ label = \"") {
            let ix: usize = ix.parse().unwrap();
            // `name\nsubclass N, ...`: key subclass 0 by the name, others as the kernel
            // writes them, `name/N`.
            let (name, rest) = rest.split_once("\\nsubclass ").unwrap();
            let subclass = rest.split(',').next().unwrap();
            let key = match subclass {
                "0" => name.to_string(),
                n => format!("{name}/{n}"),
            };
            parsed.index.insert(key, ix);
            parsed.nodes.insert(ix, line.to_string());
        }
    }
    parsed
}

impl Parsed {
    /// A node's line, with its index replaced by `N`.
    fn node(&self, class: &str) -> String {
        let ix = self.index[class];
        self.nodes[&ix].replacen(&ix.to_string(), "N", 1)
    }

    /// The edge lines from `from` to `to`, with the indices replaced by the class names.
    fn edges(&self, from: &str, to: &str) -> Vec<String> {
        let prefix = format!("{} -> {} [", self.index[from], self.index[to]);
        self.edges
            .iter()
            .filter(|e| e.starts_with(&prefix))
            .map(|e| e.replacen(&prefix, &format!("{from} -> {to} ["), 1))
            .collect()
    }
}

#[test]
fn classes_edges_kinds_and_reported_cycles() {
    if !lockdep_core::CHECKS_COMPILED_IN {
        assert_eq!(graph::to_dot(), "digraph {\n}\n");
        return;
    }
    let a = Mutex::named("dot-a", ());
    let a2 = Mutex::named("dot-a", ()); // a second instance of the class
    let b = Mutex::named("dot-b", ());
    let c = Mutex::named("dot-c", ());
    let shared = RwLock::named("dot-rw", ());
    let inner = RwLock::named("dot-rw-inner", ());

    // dot-a -> dot-b -> dot-c, then dot-c -> dot-a closes a cycle: reported, kept as the closing edge.
    let reports = capture(|| {
        {
            let _a = a.lock();
            let _b = b.lock();
            let _c = c.lock();
        }
        drop(a2.lock());
        let _c = c.lock();
        let _a = a.lock();
    });
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].classes(), ["dot-a", "dot-b", "dot-c"]);

    // The read/write kinds: S(hared holder) -> N(ormal acquire), E -> R(ecursive read),
    // S -> R, and a nested subclass of dot-a.
    {
        let _r = shared.read();
        let _w = inner.write(); // SN
    }
    {
        let _b = b.lock();
        let _r = inner.read_recursive(); // ER
    }
    {
        let _r = shared.read_recursive();
        let _rr = inner.read_recursive(); // SR
    }
    {
        let _a = a.lock();
        let _nested = a2.lock_nested(1); // dot-a -> dot-a/1
    }

    let dot = graph::to_dot();
    assert!(dot.starts_with("digraph {\n"), "{dot}");
    assert!(dot.ends_with("}\n"), "{dot}");
    let p = parse(&dot);

    // Nodes: name, subclass, instances; the cycle's in red.
    let red = "color = \"red\", fontcolor = \"red\", penwidth = 2";
    assert_eq!(
        p.node("dot-a"),
        format!("N [ label = \"dot-a\\nsubclass 0, 2 instances taken, 2 alive\", shape = \"box\", {red} ]")
    );
    assert_eq!(
        p.node("dot-b"),
        format!("N [ label = \"dot-b\\nsubclass 0, 1 instance taken, 1 alive\", shape = \"box\", {red} ]")
    );
    assert_eq!(
        p.node("dot-rw"),
        "N [ label = \"dot-rw\\nsubclass 0, 1 instance taken, 1 alive\", shape = \"box\" ]"
    );
    assert_eq!(
        p.node("dot-a/1"),
        "N [ label = \"dot-a\\nsubclass 1, 2 instances taken, 2 alive\", shape = \"box\" ]"
    );

    // Edges: the cycle's two recorded edges and its dashed closing edge in red.
    assert_eq!(
        p.edges("dot-a", "dot-b"),
        [format!("dot-a -> dot-b [ label = \"EN\", {red} ]")]
    );
    assert_eq!(
        p.edges("dot-b", "dot-c"),
        [format!("dot-b -> dot-c [ label = \"EN\", {red} ]")]
    );
    assert_eq!(
        p.edges("dot-c", "dot-a"),
        [
            "dot-c -> dot-a [ label = \"EN (closes the cycle)\", color = \"red\", \
             fontcolor = \"red\", style = \"dashed\", penwidth = 2 ]"
        ]
    );
    assert_eq!(
        p.edges("dot-rw", "dot-rw-inner"),
        ["dot-rw -> dot-rw-inner [ label = \"SR/SN\" ]"]
    );
    assert_eq!(
        p.edges("dot-b", "dot-rw-inner"),
        ["dot-b -> dot-rw-inner [ label = \"ER\" ]"]
    );
    assert_eq!(
        p.edges("dot-a", "dot-a/1"),
        ["dot-a -> dot-a/1 [ label = \"EN\" ]"]
    );
    assert!(
        p.edges("dot-a", "dot-c").is_empty(),
        "only direct dependencies are edges"
    );
}

#[test]
fn write_dot_writes_what_to_dot_renders() {
    let outer = Mutex::named("dot-write-outer", ());
    let inner = Mutex::named("dot-write-inner", ());
    drop((outer.lock(), inner.lock()));
    let path = std::env::temp_dir().join(format!("lockdep-dot-{}.dot", std::process::id()));
    graph::write_dot(&path).unwrap();
    let written = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert!(written.starts_with("digraph {"));
    if lockdep_core::CHECKS_COMPILED_IN {
        assert!(
            written.contains("\"dot-write-outer\\nsubclass 0, 1 instance taken, 1 alive\""),
            "{written}"
        );
    }
}

/// Run in a child process by the next test, with `LOCKDEP_DOT` set.
#[test]
#[ignore = "run by lockdep_dot_writes_the_graph_at_exit in a child process"]
fn child_takes_two_locks() {
    let outer = Mutex::named("dot-exit-outer", ());
    let inner = Mutex::named("dot-exit-inner", ());
    drop((outer.lock(), inner.lock()));
}

#[test]
fn lockdep_dot_writes_the_graph_at_exit() {
    let path = std::env::temp_dir().join(format!("lockdep-exit-{}.dot", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "child_takes_two_locks",
            "--test-threads=1",
        ])
        .env("LOCKDEP_DOT", &path)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    if !lockdep_core::CHECKS_COMPILED_IN {
        assert!(!path.exists());
        return;
    }
    let written = std::fs::read_to_string(&path).expect("LOCKDEP_DOT was written at exit");
    std::fs::remove_file(&path).unwrap();
    let p = parse(&written);
    assert_eq!(
        p.edges("dot-exit-outer", "dot-exit-inner"),
        ["dot-exit-outer -> dot-exit-inner [ label = \"EN\" ]"]
    );
}

#[test]
fn graphviz_renders_it() {
    let outer = Mutex::named("dot-render-outer", ());
    let inner = RwLock::named("dot-render \"quoted\\name\"", ());
    let reports = capture(|| {
        {
            let _o = outer.lock();
            let _i = inner.write();
        }
        let _i = inner.read();
        let _o = outer.lock();
    });
    assert_eq!(reports.len(), usize::from(lockdep_core::CHECKS_COMPILED_IN));
    let dot = graph::to_dot();
    // Graphviz is optional here (Debian: `apt-get install graphviz`); without it the syntax is
    // left to the other tests' line checks.
    let child = std::process::Command::new("dot")
        .arg("-Tsvg")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        eprintln!("graphviz_renders_it: `dot` is not installed; skipped");
        return;
    };
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(dot.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stderr.is_empty(),
        "{stderr}\n{dot}"
    );
    let svg = String::from_utf8_lossy(&output.stdout);
    assert!(svg.contains("<svg"), "{svg}");
    if lockdep_core::CHECKS_COMPILED_IN {
        assert!(svg.contains("&quot;quoted\\name&quot;"), "{svg}");
    }
}

/// Drawn after its locks are gone (as `LOCKDEP_DOT` draws at exit, when the locals are
/// dropped), a class still says how many instances were taken.
#[test]
#[cfg_attr(not(lockdep_checks), ignore = "needs the checks compiled in")]
fn a_class_whose_locks_are_gone_still_says_how_many_were_taken() {
    {
        let outer = Mutex::named("dot-gone-outer", ());
        let inner: Vec<Mutex<()>> = (0..3).map(|_| Mutex::named("dot-gone-inner", ())).collect();
        let _o = outer.lock();
        for m in &inner {
            drop(m.lock());
        }
    }
    let dot = graph::to_dot();
    assert!(
        dot.contains("\"dot-gone-inner\\nsubclass 0, 3 instances taken, 0 alive\""),
        "{dot}"
    );
}
