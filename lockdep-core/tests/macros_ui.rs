//! Compile errors for misused macros (trybuild). The expected messages are in `tests/ui/*.stderr`;
//! regenerate them with `TRYBUILD=overwrite cargo test -p lockdep-core --test macros_ui`, and
//! review the diff.

#[test]
fn misuse_is_a_clear_compile_error() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
