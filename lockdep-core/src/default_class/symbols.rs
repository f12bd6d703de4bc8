//! Reading the program's own symbols for `default_class`: which frames are user code, and the
//! names reports give the classes (made lazily, at report time).

use super::{Anchor, FrameInfo, GenericSite, FRAMES};
use crate::class::memo::spread;
use crate::class::short_type;
use std::ffi::c_void;
use std::fmt::Write as _;
use std::panic::Location;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Whether the frame at return address `ip` is user code (some inlined function in it is), and
/// the innermost such function's position when debug information gives one. Cached.
pub(super) fn frame_info(ip: usize) -> FrameInfo {
    if let Some(known) = FRAMES.get(&ip) {
        return *known;
    }
    let info = match user_symbol(ip) {
        Some((_, position)) => FrameInfo {
            user: true,
            position: position.map(|p| -> &'static str { Box::leak(p.into_boxed_str()) }),
        },
        None => FrameInfo {
            user: false,
            position: None,
        },
    };
    FRAMES.insert(ip, info);
    info
}

/// The innermost user-code symbol at return address `ip`: its name and `file:line:col`.
fn user_symbol(ip: usize) -> Option<(String, Option<String>)> {
    let mut found = None;
    // A return address points after the call; one byte back is inside it.
    backtrace::resolve(ip.wrapping_sub(1) as *mut c_void, |symbol| {
        if found.is_some() {
            return;
        }
        let name = symbol.name().map(|n| format!("{n:#}"));
        let file = symbol.filename().map(|f| f.display().to_string());
        let internal = match (&file, &name) {
            (_, Some(name)) if is_runtime_entry(name) => true,
            (Some(file), _) => is_internal_file(file),
            (None, Some(name)) => is_internal_name(name),
            (None, None) => true,
        };
        if !internal {
            let position = file.map(|file| {
                let mut text = file;
                if let Some(line) = symbol.lineno() {
                    let _ = write!(text, ":{line}");
                    if let Some(col) = symbol.colno() {
                        let _ = write!(text, ":{col}");
                    }
                }
                text
            });
            found = Some((name.unwrap_or_else(|| format!("{ip:#x}")), position));
        }
    });
    found
}

/// The innermost symbol name at return address `ip`, whoever's code it is.
fn symbol_name(ip: usize) -> Option<String> {
    let mut found = None;
    backtrace::resolve(ip.wrapping_sub(1) as *mut c_void, |symbol| {
        if found.is_none() {
            found = symbol.name().map(|n| format!("{n:#}"));
        }
    });
    found
}

/// [`is_internal_file`] of a construction site's file, remembered per `Location` address in
/// one word (the address, which a `Location`'s alignment leaves two low bits clear of, with
/// the answer in bit 0 and bit 1 set): the file test is some thousand instructions in a debug
/// build, and a site builds locks over and over.
pub(super) fn is_internal_site(site: &'static Location<'static>) -> bool {
    const SLOTS: usize = 256;
    static KNOWN: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];
    let addr = std::ptr::from_ref(site).addr();
    let slot = &KNOWN[spread(addr, SLOTS)];
    let known = slot.load(Ordering::Relaxed);
    if known & !3 == addr {
        return known & 1 != 0;
    }
    let internal = is_internal_file(site.file());
    slot.store(addr | 2 | usize::from(internal), Ordering::Relaxed);
    internal
}

/// Source files whose generic code builds locks on behalf of its caller: the standard library,
/// this crate, and the crates it forwards `Default` through.
pub(super) fn is_internal_file(file: &str) -> bool {
    let own_src = file!().trim_end_matches("default_class/symbols.rs");
    // C: the runtime, never a Rust lock's construction.
    if [".c", ".h", ".S"].iter().any(|ext| file.ends_with(ext)) {
        return true;
    }
    // A relative path is a crate of the user's workspace (the common case, decided here).
    if !file.starts_with('/') && !file.starts_with(own_src) {
        return false;
    }
    file.starts_with("/rustc/")
        || [
            "/library/core/src/",
            "/library/alloc/src/",
            "/library/std/src/",
        ]
        .iter()
        .any(|lib| file.contains(lib))
        || file.contains(own_src)
        || file.contains("/once_cell-")
        || file.contains("/lock_api-")
}

/// The C runtime's thread and process entry points (glibc ships their line tables).
fn is_runtime_entry(name: &str) -> bool {
    [
        "main",
        "_start",
        "start_thread",
        "clone",
        "clone3",
        "thread_start",
    ]
    .contains(&name)
        || name.starts_with("__libc")
}

/// The same by symbol name, for code without debug information.
fn is_internal_name(name: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "std::",
        "<std::",
        "core::",
        "<core::",
        "alloc::",
        "<alloc::",
        "lockdep_core::",
        "<lockdep_core::",
        "once_cell::",
        "<once_cell::",
        "lock_api::",
        "<lock_api::",
        "backtrace::",
        "__rust",
        "test::",
        "<test::",
    ];
    PREFIXES.iter().any(|p| name.starts_with(p))
}

impl crate::class::NamedLater for GenericSite {
    /// The name reports show; computed (symbols resolved) on first use, then kept.
    fn name(&'static self) -> &'static str {
        self.name
            .get_or_init(|| Box::leak(self.make_name().into_boxed_str()))
    }
}

impl GenericSite {
    fn make_name(&self) -> String {
        // The innermost user function at the construction: past the lock type's own
        // `default()`, inlined there.
        let function = user_symbol(self.ra)
            .map(|(name, _)| name)
            .or_else(|| symbol_name(self.ra));
        let ty = short_type(self.ty);
        let mut name = String::new();
        let static_name = function.as_deref().and_then(static_item);
        // Where a source position will tell this lock from its siblings, an ordinal would only
        // mislead: two locks built apart in one constructor are each the first of their burst,
        // and numbered 1 both. It numbers the fields only where no position is known.
        let positioned = match self.anchor {
            Anchor::Position(_) => true,
            Anchor::None => user_symbol(self.ra).is_some_and(|(_, position)| position.is_some()),
            Anchor::Chain(_) => false,
        };
        let ordinal = if positioned {
            String::new()
        } else {
            format!(" {}", self.ordinal + 1)
        };
        // The field the construction initialises, where the source says so (`Host.actors`).
        let position = match self.anchor {
            Anchor::Position(position) => Some(position.to_string()),
            Anchor::None => user_symbol(self.ra).and_then(|(_, position)| position),
            Anchor::Chain(_) => None,
        };
        let field = position.as_deref().and_then(|position| {
            let short = function.as_deref().map(short_function);
            let self_type = short
                .as_deref()
                .and_then(|f| f.rsplit_once("::"))
                .map(|(ty, _)| ty)
                .filter(|ty| ty.starts_with(|c: char| c.is_uppercase()));
            super::field::field_name(position, self_type)
        });
        match (&function, static_name) {
            (_, Some(item)) => name.push_str(item),
            _ if field.is_some() => name.push_str(field.as_deref().unwrap_or_default()),
            (Some(function), None) => {
                let _ = write!(name, "{} lock{ordinal}", short_function(function));
            }
            (None, None) => {
                let _ = write!(name, "lock{ordinal}");
            }
        }
        let _ = write!(name, " ({}<{ty}>", self.kind);
        if self.via != 0 {
            if let Some(via) = symbol_name(self.via) {
                let _ = write!(name, " via {}", short_function(&via));
            }
        }
        name.push(')');
        match self.anchor {
            Anchor::Position(position) => {
                let _ = write!(name, " at {position}");
            }
            // Debug information places each field's construction on the field's own line
            // (the `Location` of a derived `default()` is the derive line for all of them).
            Anchor::None => match user_symbol(self.ra).and_then(|(_, position)| position) {
                Some(position) => {
                    let _ = write!(name, " at {}", relative_to(&position, self.site.file()));
                }
                None => {
                    let _ = write!(name, " at {}", self.site);
                }
            },
            // No source position: the machine-code offset of the call tells the classes apart
            // (the same in every run of one binary).
            Anchor::Chain(_) => {
                for (what, ip, start) in [
                    ("via", self.via, self.via_fn),
                    ("from", self.ra, self.ra_fn),
                ] {
                    if let (Some(function), true) = (symbol_name(ip), start != 0) {
                        let offset = ip.wrapping_sub(start);
                        let _ = write!(name, " {what} {}+{offset:#x}", short_function(&function));
                    }
                }
                // The site where it is the user's: one inside the standard library or this
                // crate (`From::from` called by `array::map`, inlined in an optimised build)
                // would send the reader into the toolchain's sources; the offsets above tell
                // the classes apart already.
                if !is_internal_file(self.site.file()) {
                    let _ = write!(name, " in {}", self.site);
                }
            }
        }
        name
    }
}

/// `position` (`file:line:col`, the file as debug information has it, often absolute) with the
/// file written as `site_file` (as `Location` has it, relative to the workspace) when it is the
/// same file, so that names read alike whichever directory the program was built in.
fn relative_to(position: &str, site_file: &str) -> String {
    let mut parts = position.rsplitn(3, ':');
    let (col, line, file) = (parts.next(), parts.next(), parts.next());
    match (file, line, col) {
        (Some(file), Some(line), Some(col)) if file.ends_with(site_file) => {
            format!("{site_file}:{line}:{col}")
        }
        _ => position.to_string(),
    }
}

/// A static's name in a function path (`app::GRAPH_POOL::{{closure}}` → `GRAPH_POOL`): the
/// closure of a `LazyLock` or `thread_local!` initialiser.
fn static_item(function: &str) -> Option<&str> {
    split_path(function).into_iter().find(|segment| {
        segment.len() > 1
            && segment.chars().any(|c| c.is_ascii_uppercase())
            && segment
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    })
}

/// `<app::state::InMemoryState as core::default::Default>::default` → `InMemoryState::default`;
/// `alloc::sync::Arc<T>::default` → `Arc::default`.
fn short_function(function: &str) -> String {
    let mut text = function;
    let owned;
    // `<Type as Trait>::rest` → `Type::rest`.
    if let Some(inner) = text.strip_prefix('<') {
        let mut depth = 0;
        let mut end = None;
        for (i, c) in inner.char_indices() {
            match c {
                '<' => depth += 1,
                '>' if depth == 0 => {
                    end = Some(i);
                    break;
                }
                '>' => depth -= 1,
                _ => {}
            }
        }
        if let Some(end) = end {
            let qualified = &inner[..end];
            let ty = qualified.split(" as ").next().unwrap_or(qualified);
            owned = format!("{ty}{}", &inner[end + 1..]);
            text = &owned;
        }
    }
    let segments: Vec<String> = split_path(text)
        .into_iter()
        .map(|segment| match segment.find('<') {
            Some(open) => segment[..open].to_string(),
            None => segment.to_string(),
        })
        .filter(|segment| !segment.starts_with("{{") && !segment.is_empty())
        .collect();
    // Drop the module path: keep from the first type-like segment, else the last two.
    let first_type = segments
        .iter()
        .position(|s| s.starts_with(|c: char| c.is_ascii_uppercase()));
    let from = first_type.unwrap_or(segments.len().saturating_sub(2));
    segments[from..].join("::")
}

/// Splits a path at `::` outside generic arguments.
fn split_path(path: &str) -> Vec<&str> {
    let mut segments = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    let bytes = path.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'<' | b'(' | b'[' => depth += 1,
            b'>' | b')' | b']' => depth -= 1,
            b':' if depth == 0 && bytes.get(i + 1) == Some(&b':') => {
                segments.push(&path[start..i]);
                i += 2;
                start = i;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    segments.push(&path[start..]);
    segments
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_shortened_to_what_the_code_says() {
        assert_eq!(
            short_function("<app::state::InMemoryState as core::default::Default>::default"),
            "InMemoryState::default"
        );
        assert_eq!(
            short_function("<alloc::sync::Arc<T> as core::default::Default>::default"),
            "Arc::default"
        );
        assert_eq!(short_function("app::worker::run"), "worker::run");
        assert_eq!(
            static_item("app::GRAPH_POOL::{{closure}}"),
            Some("GRAPH_POOL")
        );
        assert_eq!(static_item("app::Pool::default"), None);
        assert_eq!(
            relative_to("/home/me/app/src/state.rs:12:5", "src/state.rs"),
            "src/state.rs:12:5"
        );
        assert_eq!(
            relative_to("/other/x.rs:1:2", "src/state.rs"),
            "/other/x.rs:1:2"
        );
    }

    #[test]
    fn standard_library_and_own_sources_are_internal() {
        assert!(is_internal_file(
            "/rustc/59807616e1fa2540724bfbac14d7976d7e4a3860/library/alloc/src/sync.rs"
        ));
        assert!(is_internal_file(file!()));
        assert!(!is_internal_file("src/main.rs"));
        assert!(!is_internal_file("lockdep-core/tests/default_classes.rs"));
        assert!(is_internal_name(
            "<alloc::sync::Arc<T> as core::default::Default>::default"
        ));
        assert!(!is_internal_name(
            "<app::Pool as core::default::Default>::default"
        ));
    }
}
