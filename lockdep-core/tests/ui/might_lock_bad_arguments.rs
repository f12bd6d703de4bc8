static CACHE: lockdep_core::Mutex<()> = lockdep_core::Mutex::new(());

#[lockdep_core::might_lock(CACHE; other)]
fn lookup() {}

fn main() {}
