#[lockdep_core::test]
#[test]
fn marked_twice() {}

fn main() {}
