//! Detects what the compiler's standard library offers beyond the crate's minimum Rust version,
//! so that `lockdep_core::sync` mirrors std's stable API on each toolchain without raising that
//! minimum: `RwLockWriteGuard::downgrade` is stable since Rust 1.92 (cfg `std_rwlock_downgrade`).

use std::process::Command;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(std_rwlock_downgrade)");
    println!("cargo::rerun-if-changed=build.rs");
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let minor = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|version| {
            // "rustc 1.95.0 (59807616e 2026-04-14)"
            let numbers = version.split_whitespace().nth(1)?.to_owned();
            numbers.split('.').nth(1)?.parse::<u32>().ok()
        });
    if minor.is_some_and(|minor| minor >= 92) {
        println!("cargo::rustc-cfg=std_rwlock_downgrade");
    }
}
