#[lockdep_core::test]
async fn asynchronous() {}

fn main() {}
