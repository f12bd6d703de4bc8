//! What a lock made by `new` is, for reports: its kind and the type of the data it protects
//! (`Mutex<i64>`), shown beside the creation site that names its class.
//!
//! `new` is a `const fn` and `std::any::type_name` is not, so a lock does not carry its type:
//! each typed acquisition hands the validator a [`LockTypeFn`] (a constant, which costs nothing
//! until it is called), and the class table calls it once, on the slow path that registers an
//! instance. The class's key — what the cross-process store and baselines match on — stays the
//! bare site; the type is display only.

/// Gives a lock's kind (`"Mutex"`) and the `type_name` of the data it protects. A function
/// rather than the names themselves: `type_name` cannot run in a `const fn`, and a function
/// pointer is one word that is only called when a class is first registered.
pub(crate) type LockTypeFn = fn() -> (&'static str, &'static str);

/// The [`LockTypeFn`] of a lock of kind `$kind` (a literal, as `generic_class!` takes it)
/// protecting a `$T`, inside code generic over `$T`.
macro_rules! lock_type {
    ($kind:literal, $T:ty) => {
        (|| ($kind, ::std::any::type_name::<$T>())) as $crate::class::LockTypeFn
    };
}
pub(crate) use lock_type;

/// `Mutex<i64>`: the kind, and the protected type with its paths shortened.
#[cfg_attr(not(lockdep_checks), allow(dead_code))]
pub(crate) fn describe(ty: LockTypeFn) -> String {
    let (kind, data) = ty();
    format!("{kind}<{}>", short_type(data))
}

/// `alloc::collections::btree::map::BTreeMap<u64, app::Hash>` → `BTreeMap<u64, Hash>`: every
/// path inside a type name shortened to its last segment.
#[cfg_attr(not(lockdep_checks), allow(dead_code))]
pub(crate) fn short_type(ty: &str) -> String {
    let mut out = String::with_capacity(ty.len());
    let mut word = String::new();
    let mut chars = ty.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ':' && chars.peek() == Some(&':') {
            chars.next();
            word.clear();
        } else if c.is_alphanumeric() || c == '_' {
            word.push(c);
        } else {
            out.push_str(&word);
            word.clear();
            out.push(c);
        }
    }
    out.push_str(&word);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_shortened_to_what_the_code_says() {
        assert_eq!(
            short_type("alloc::collections::btree::map::BTreeMap<u64, app::Hash>"),
            "BTreeMap<u64, Hash>"
        );
        assert_eq!(short_type("(u8, &str)"), "(u8, &str)");
        fn of<T>() -> String {
            describe(lock_type!("Mutex", T))
        }
        assert_eq!(of::<Vec<i64>>(), "Mutex<Vec<i64>>");
        assert_eq!(of::<()>(), "Mutex<()>");
    }
}
