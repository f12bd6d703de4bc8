#[lockdep_core::test(threads = 4)]
fn with_arguments() {}

fn main() {}
