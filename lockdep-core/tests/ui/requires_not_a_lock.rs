#[lockdep_core::requires(count)]
fn tally(count: u32) -> u32 {
    count
}

fn main() {}
