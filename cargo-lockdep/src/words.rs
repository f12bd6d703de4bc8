//! Counts written as a reader says them: "1 test", "2 tests", never "1 tests" or "finding(s)".

/// `n` and the noun in the number `n` calls for.
pub(crate) fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::count;

    #[test]
    fn one_is_singular_and_everything_else_plural() {
        assert_eq!(count(1, "test", "tests"), "1 test");
        assert_eq!(count(0, "test", "tests"), "0 tests");
        assert_eq!(count(2, "entry", "entries"), "2 entries");
    }
}
