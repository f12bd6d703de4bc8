trait Store {
    #[lockdep_core::requires(self.lock())]
    fn flush(&self);
}

fn main() {}
