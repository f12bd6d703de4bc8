#[lockdep_core::requires]
fn needs_something() {}

fn main() {}
