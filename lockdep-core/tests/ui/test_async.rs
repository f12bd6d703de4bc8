// `worker_threads` without the multi-thread flavor, as `#[tokio::test]` rejects it.
#[lockdep_core::test(worker_threads = 2)]
async fn asynchronous() {}

fn main() {}
