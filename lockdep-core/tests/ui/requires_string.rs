struct Account {
    balance: lockdep_core::Mutex<u64>,
}

impl Account {
    #[lockdep_core::requires("self.balance")]
    fn audit(&self) {}
}

fn main() {}
