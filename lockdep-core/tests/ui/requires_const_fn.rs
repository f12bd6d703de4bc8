static STATE: lockdep_core::Mutex<()> = lockdep_core::Mutex::new(());

#[lockdep_core::requires(STATE)]
const fn constant() -> u32 {
    1
}

fn main() {}
