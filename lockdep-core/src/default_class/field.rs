//! The field a lock built through `Default` initialises, read from the program's source at
//! report time: `Host { actors: RwLock::default(), .. }` names its class `Host.actors`, which
//! tells two locks of one constructor apart where a function name and an ordinal could not.
//! Any doubt (no source on this machine, no struct literal at the position) gives `None`, and
//! the class keeps its other name.

/// `Struct.field` for the construction at `position` (`file:line:col`, 1-based, as debug
/// information writes it: the column counts bytes), when the source there reads `field:
/// <construction>` inside a struct literal; `self_type` stands for a literal written `Self {
/// .. }`.
pub(super) fn field_name(position: &str, self_type: Option<&str>) -> Option<String> {
    // Miri's isolation refuses to open files outright (an error, not an `Err`).
    if cfg!(miri) {
        return None;
    }
    let mut parts = position.rsplitn(3, ':');
    let col: usize = parts.next()?.parse().ok()?;
    let line: usize = parts.next()?.parse().ok()?;
    let source = std::fs::read_to_string(parts.next()?).ok()?;
    let offset = offset_of(&source, line, col)?;
    name_at(&source[..offset], self_type).or_else(|| declared_at(&source[offset..], self_type?))
}

/// A derived `Default` places each field's construction at the field's declaration
/// (`actors: RwLock<..>,` in `struct Host`): `Host.actors`, `ty` being the type whose
/// `default` built it.
fn declared_at(after: &str, ty: &str) -> Option<String> {
    // The position is the field's definition, which starts at its visibility, if any.
    let mut after = after;
    if let Some(rest) = after.strip_prefix("pub") {
        let rest = rest.trim_start();
        after = match rest.strip_prefix('(') {
            Some(inside) => inside.split_once(')')?.1.trim_start(),
            None => rest,
        };
    }
    let after = after.strip_prefix("r#").unwrap_or(after);
    let end = after
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(after.len());
    let field = &after[..end];
    let rest = after[end..].trim_start();
    let declared = rest.starts_with(':') && !rest.starts_with("::");
    (declared && !field.is_empty() && !field.starts_with(|c: char| c.is_ascii_digit()))
        .then(|| format!("{ty}.{field}"))
}

/// The byte offset of 1-based `line` and `col` (a column counts bytes, as debug information
/// writes it); `None` past the line or inside a character.
fn offset_of(source: &str, line: usize, col: usize) -> Option<usize> {
    let start: usize = source
        .split_inclusive('\n')
        .take(line.checked_sub(1)?)
        .map(str::len)
        .sum();
    let text = source.get(start..)?.lines().next()?;
    let within = col.checked_sub(1)?;
    (within <= text.len() && text.is_char_boundary(within)).then_some(start + within)
}

/// The name for a construction that starts right after `before`.
fn name_at(before: &str, self_type: Option<&str>) -> Option<String> {
    let rest = before.trim_end().strip_suffix(':')?;
    // `a::b` is a path, not a field.
    if rest.ends_with(':') {
        return None;
    }
    let field = trailing_ident(rest)?;
    let before_field = rest[..rest.len() - field.len()].trim_end();
    // The field is the first of the literal (after `{`) or follows another (after `,`).
    if !(before_field.ends_with('{') || before_field.ends_with(',')) {
        return None;
    }
    let ty = literal_type(before_field)?;
    let ty = match ty {
        "Self" => self_type?,
        ty => ty,
    };
    Some(format!("{ty}.{field}"))
}

/// The identifier `text` ends with.
fn trailing_ident(text: &str) -> Option<&str> {
    let start = text
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphanumeric() || *c == '_')
        .last()?
        .0;
    let ident = &text[start..];
    (!ident.starts_with(|c: char| c.is_ascii_digit())).then_some(ident)
}

/// The type of the struct literal that `text` (ending inside it) is in: the path before its
/// unmatched `{`, last segment, generic arguments dropped.
fn literal_type(text: &str) -> Option<&str> {
    let mut depth = 0usize;
    for (i, c) in text.char_indices().rev() {
        match c {
            '}' | ')' | ']' => depth += 1,
            '(' | '[' if depth == 0 => return None,
            '{' if depth == 0 => {
                let mut path = text[..i].trim_end();
                // `Wrapper::<T> {` / `Wrapper<Vec<T>> {`: back past the matching `<`.
                if path.ends_with('>') {
                    let mut depth = 0usize;
                    let mut open = None;
                    for (j, c) in path.char_indices().rev() {
                        match c {
                            '>' => depth += 1,
                            '<' => {
                                depth -= 1;
                                if depth == 0 {
                                    open = Some(j);
                                    break;
                                }
                            }
                            _ => {}
                        }
                    }
                    path = path[..open?].trim_end().trim_end_matches("::");
                }
                let ty = trailing_ident(path)?;
                return ty.starts_with(|c: char| c.is_uppercase()).then_some(ty);
            }
            '{' | '(' | '[' => depth -= 1,
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{name_at, offset_of};

    #[test]
    fn columns_count_bytes() {
        let source = "first\n    é: Lock, pub x: Lock,\n";
        // `pub` starts at byte column 15 of line 2 (character column 14).
        assert_eq!(
            offset_of(source, 2, 15).map(|o| &source[o..o + 3]),
            Some("pub")
        );
        // Inside the two bytes of `é`: no position.
        assert_eq!(offset_of(source, 2, 6), None);
        assert_eq!(offset_of(source, 3, 1), None);
    }

    #[test]
    fn a_field_of_a_struct_literal_names_the_lock() {
        assert_eq!(
            name_at("        Host { actors: ", None).as_deref(),
            Some("Host.actors")
        );
        assert_eq!(
            name_at("Host {\n    actors: RwLock::default(),\n    links: ", None).as_deref(),
            Some("Host.links")
        );
        assert_eq!(
            name_at("Self { inner: Vec::new(), lock: ", Some("Pool")).as_deref(),
            Some("Pool.lock")
        );
        assert_eq!(
            name_at("Wrapper::<T> { a: f(x, Y { b: 1 }), c: ", None).as_deref(),
            Some("Wrapper.c")
        );
        assert_eq!(
            name_at("Wrapper::<Vec<T>> { lock: ", None).as_deref(),
            Some("Wrapper.lock")
        );
    }

    #[test]
    fn a_derived_default_names_the_declared_field() {
        assert_eq!(
            super::declared_at("actors: RwLock<u8>,\n", "Host").as_deref(),
            Some("Host.actors")
        );
        assert_eq!(super::declared_at("RwLock::default()", "Host"), None);
        assert_eq!(
            super::declared_at("pub links: Mutex<u8>,", "Host").as_deref(),
            Some("Host.links")
        );
        assert_eq!(
            super::declared_at("pub(crate) r#type: Mutex<u8>,", "Host").as_deref(),
            Some("Host.type")
        );
    }

    #[test]
    fn anything_else_keeps_its_other_name() {
        assert_eq!(name_at("    let m = ", None), None);
        assert_eq!(name_at("    f(", None), None);
        assert_eq!(name_at("    std::sync::", None), None);
        assert_eq!(name_at("    vec![Mutex::default(), ", None), None);
        assert_eq!(name_at("    Self { a: ", None), None);
        // A type ascription in a `let`, not a literal.
        assert_eq!(name_at("    let m: ", None), None);
    }
}
