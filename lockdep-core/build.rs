//! Two cfgs for lockdep-core:
//!
//! - `lockdep_checks`: the checks are compiled in — `debug_assertions` is on or the feature
//!   `release-checks` is enabled. The one spelling of that condition in the library's code.
//! - `std_rwlock_downgrade`: what the compiler's standard library offers beyond the crate's
//!   minimum Rust version, so that `lockdep_core::sync` mirrors std's stable API on each
//!   toolchain without raising that minimum: `RwLockWriteGuard::downgrade` is stable since
//!   Rust 1.92.

use std::process::Command;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(lockdep_checks)");
    println!("cargo::rustc-check-cfg=cfg(std_rwlock_downgrade)");
    println!("cargo::rerun-if-changed=build.rs");
    // Cargo tells a build script the target's cfgs (`debug_assertions` as the profile or
    // RUSTFLAGS set it) and the package's enabled features through the environment.
    let debug_assertions = std::env::var_os("CARGO_CFG_DEBUG_ASSERTIONS").is_some();
    let release_checks = std::env::var_os("CARGO_FEATURE_RELEASE_CHECKS").is_some();
    if debug_assertions || release_checks {
        println!("cargo::rustc-cfg=lockdep_checks");
    }
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
