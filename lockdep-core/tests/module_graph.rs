//! The crate's modules import one way (DESIGN.md, "Layout"): no module reaches, directly or
//! through others, back into a module that imports it. Read from the sources: every
//! `crate::name` path a top-level module's files write (comments left out) is an edge
//! `module -> name`; a strongly connected component of more than one module is a circle.
//!
//! The same holds inside `validator/`, file by file: a file that names a sibling (`super::x`,
//! `crate::validator::x`, or an item `mod.rs` re-exports from `x`) has an edge to it, and no
//! two files may reach each other (the hot path calls down into the slow path and findings,
//! nothing calls back up).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A source text without its comment lines (doc comments name modules freely).
fn code_of(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The identifier at the start of `s` (a module or item name; `""` for `*`, `{`, ...).
fn ident(s: &str) -> String {
    s.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// The first name after every `prefix` in `code`: `prefix x::...` gives `x`, and a group
/// `prefix {x, y::z}` gives `x` and `y`. A `prefix` right after another `super::` is left out
/// (`super::super::x` does not name a sibling).
fn names_after(code: &str, prefix: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (i, _) in code.match_indices(prefix) {
        let before = &code[..i];
        if before.ends_with("super::")
            || before
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            continue;
        }
        let rest = &code[i + prefix.len()..];
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

/// Every `crate::x` (and `crate::{x, y::z}`) a source text names, as the top-level module `x`.
fn named_modules(text: &str) -> BTreeSet<String> {
    let mut found = names_after(&code_of(text), "crate::");
    found.retain(|m| m.starts_with(|c: char| c.is_ascii_lowercase()));
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

/// What `mod.rs` re-exports from its files: each name it gives (`use x::{a, b as c}` gives
/// `a` and `c`), with the file `x` it comes from.
fn reexports(mod_rs: &str, files: &BTreeSet<String>) -> BTreeMap<String, String> {
    let code = code_of(mod_rs);
    let mut names = BTreeMap::new();
    for (i, _) in code.match_indices("use ") {
        if code[..i]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            continue; // `because `, not a `use`
        }
        let statement = &code[i + "use ".len()..];
        let statement = &statement[..statement.find(';').unwrap_or(statement.len())];
        let file = ident(statement);
        if !files.contains(&file) {
            continue; // `crate::...`, `super::...`: not one of the files
        }
        let rest = statement[file.len()..].trim_start_matches("::");
        let items = match rest.strip_prefix('{') {
            Some(group) => group.trim_end_matches('}').split(',').collect(),
            None => vec![rest],
        };
        for item in items {
            let item = item.trim();
            let given = match item.split_once(" as ") {
                Some((_, alias)) => alias.trim(),
                None => item.rsplit("::").next().unwrap_or(item),
            };
            if !given.is_empty() && given != "self" && given != "*" {
                names.insert(given.to_string(), file.clone());
            }
        }
    }
    names
}

/// The sibling files a file of a module folder names: `super::x` or `crate::<module>::x`, for a
/// sibling `x` or a name `mod.rs` re-exports from one.
fn named_siblings(
    text: &str,
    module: &str,
    files: &BTreeSet<String>,
    reexported: &BTreeMap<String, String>,
) -> BTreeSet<String> {
    let code = code_of(text);
    let mut names = names_after(&code, "super::");
    names.extend(names_after(&code, &format!("crate::{module}::")));
    names
        .into_iter()
        .filter_map(|name| {
            if files.contains(&name) {
                Some(name)
            } else {
                reexported.get(&name).cloned()
            }
        })
        .collect()
}

/// The import graph between the files of `src/<module>/` (`mod.rs` left out: it declares and
/// re-exports them all; what a file reaches through it counts as reaching the file).
fn file_graph(module: &str) -> BTreeMap<String, BTreeSet<String>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src")
        .join(module);
    let mut texts = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).expect("read the module's folder") {
        let path = entry.expect("dir entry").path();
        if path.extension().is_some_and(|e| e == "rs") {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            texts.insert(name, std::fs::read_to_string(&path).expect("read source"));
        }
    }
    let mod_rs = texts.remove("mod").expect("the module's mod.rs");
    let files: BTreeSet<String> = texts.keys().cloned().collect();
    let reexported = reexports(&mod_rs, &files);
    texts
        .iter()
        .map(|(file, text)| {
            let mut named = named_siblings(text, module, &files, &reexported);
            named.remove(file);
            (file.clone(), named)
        })
        .collect()
}

#[test]
fn the_sibling_finder_sees_a_circle_through_a_reexport() {
    let files: BTreeSet<String> = ["a", "b", "c"].map(String::from).into();
    let reexported = reexports(
        "mod a;\nmod b;\n// because use c::x\npub(crate) use b::{f, g as h};\nuse crate::q::R;",
        &files,
    );
    assert_eq!(reexported.get("h").map(String::as_str), Some("b"));
    assert!(!reexported.contains_key("x") && !reexported.contains_key("R"));
    let mut graph = BTreeMap::new();
    let mut read = |file: &str, text: &str| {
        graph.insert(
            file.to_string(),
            named_siblings(text, "v", &files, &reexported),
        );
    };
    read("a", "use super::{b::X, c};\nmod tests { use super::*; }");
    read("b", "use super::super::a::Y;\nfn f() { crate::v::c::g() }");
    read("c", "fn g() { super::h() }");
    assert_eq!(graph["a"], BTreeSet::from(["b", "c"].map(String::from)));
    assert_eq!(graph["b"], BTreeSet::from(["c"].map(String::from)));
    assert_eq!(circles(&graph).len(), 1, "b and c, through the re-export h");
    graph.insert("c".to_string(), BTreeSet::new());
    assert!(circles(&graph).is_empty());
}

#[test]
fn no_file_of_the_validator_imports_itself_back() {
    let graph = file_graph("validator");
    assert!(
        graph.len() > 5,
        "read the validator's files: {:?}",
        graph.keys()
    );
    assert!(
        graph["acquire"].contains("check"),
        "the finder reads imports"
    );
    let found = circles(&graph);
    assert!(
        found.is_empty(),
        "import circles among validator/ files: {found:?}"
    );
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
