//! The crate's modules import one way (DESIGN.md, "Layout"): no module reaches, directly or
//! through others, back into a module that imports it. Read from the sources: every
//! `crate::name` path a top-level module's files write (comments left out) is an edge
//! `module -> name`; a strongly connected component of more than one module is a circle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Every `crate::x` (and `crate::{x, y::z}`) a source text names, as the top-level module `x`.
fn named_modules(text: &str) -> BTreeSet<String> {
    let code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut found = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
            .collect()
    };
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            for item in group.split(',') {
                found.insert(ident(item.trim()));
            }
        } else {
            found.insert(ident(rest));
        }
    }
    found.retain(|m| !m.is_empty());
    found
}

fn collect(dir: &Path, top: Option<&str>, graph: &mut BTreeMap<String, BTreeSet<String>>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let module = top.map(str::to_owned).unwrap_or(name);
        if path.is_dir() {
            collect(&path, Some(&module), graph);
        } else if path.extension().is_some_and(|e| e == "rs") && module != "lib" {
            let text = std::fs::read_to_string(&path).expect("read source");
            graph
                .entry(module)
                .or_default()
                .extend(named_modules(&text));
        }
    }
}

/// The components of more than one module (Tarjan's algorithm, small enough to write out).
fn circles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'g> {
        graph: &'g BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'g>(s: &mut State<'g>, v: &'g str) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        for w in &s.graph[v] {
            let Some((w, _)) = s.graph.get_key_value(w.as_str()) else {
                continue; // a name that is not a module of this crate (a macro, a type)
            };
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if s.stack.contains(&w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let at = s.stack.iter().rposition(|m| *m == v).unwrap();
            let component: Vec<String> = s.stack.drain(at..).map(str::to_owned).collect();
            if component.len() > 1 {
                s.out.push(component);
            }
        }
    }
    let mut s = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.out
}

#[test]
fn the_finder_sees_a_circle_when_there_is_one() {
    let mut graph = BTreeMap::new();
    graph.insert("a".to_string(), named_modules("use crate::{b::X, c};"));
    graph.insert(
        "b".to_string(),
        named_modules("// crate::a in a comment\nuse crate::c::Y;"),
    );
    graph.insert("c".to_string(), named_modules("fn f() { crate::a::g() }"));
    assert_eq!(circles(&graph).len(), 1);
    graph.insert("c".to_string(), named_modules("// crate::a::g()"));
    assert!(circles(&graph).is_empty());
}

#[test]
fn no_module_of_the_crate_imports_itself_back() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph = BTreeMap::new();
    collect(&src, None, &mut graph);
    assert!(
        graph.len() > 20,
        "read the crate's modules: {:?}",
        graph.keys()
    );
    assert!(
        graph["validator"].contains("depgraph"),
        "the finder reads imports"
    );
    let found = circles(&graph);
    assert!(found.is_empty(), "import circles among modules: {found:?}");
}
