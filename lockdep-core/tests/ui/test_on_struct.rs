#[lockdep_core::test]
struct NotATest;

fn main() {}
