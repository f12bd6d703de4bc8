#[lockdep_core::test]
fn with_parameters(n: u32) {
    assert!(n > 0);
}

fn main() {}
