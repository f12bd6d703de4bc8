// An unknown runtime flavor.
#[lockdep_core::test(flavor = "single_thread")]
async fn asynchronous() {}

// Runtime options on a test that is not async.
#[lockdep_core::test(flavor = "multi_thread")]
fn not_async() {}

fn main() {}
