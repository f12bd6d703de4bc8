struct Device;

#[lockdep_core::excludes(self.lock)]
impl Device {
    fn reset(&self) {}
}

fn main() {}
