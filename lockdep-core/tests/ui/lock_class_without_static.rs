lockdep_core::lock_class!(PCPU_ALLOC);

fn main() {}
