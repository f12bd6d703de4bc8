use lockdep_core::{stats, Mutex};

fn main() {
    let accounts = Mutex::named("accounts", 100u64);
    let audit = Mutex::named("audit_log", Vec::<u64>::new());
    let ledger = Mutex::named("ledger", 0u64);
    for _ in 0..2 {
        let balance = accounts.lock();
        audit.lock().push(*balance); // accounts -> audit_log
        *ledger.lock() += *balance; // accounts -> ledger
    }
    print!("{}", stats());
}
