//! Placeholder: the hotplug / pcpu_alloc replay is being written (issue 3).
fn main() {}
