lockdep_core::lock_class!(static NUMBERED = 7);

fn main() {}
