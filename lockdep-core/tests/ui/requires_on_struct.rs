#[lockdep_core::requires(STATE)]
struct Guarded {
    value: u32,
}

fn main() {}
