//! The workspace README and the guide's pages (`docs/*.md`), included as documentation so that
//! every `rust` block in them is compiled and run as a doc test: the pages are runnable as
//! written. Doc tests only (`#[cfg(doctest)]` in `lib.rs`): a normal build, `cargo doc` and
//! `cargo package` never read these files, which lie outside the crate.
//!
//! A block that defines `#[lockdep_core::test]` functions is marked `rust,test_harness`, so that
//! rustdoc builds it with the test harness and its tests run. Every block holds with the checks
//! compiled in and compiled out (CI's release run): what needs the checks is asserted under
//! `if lockdep_core::CHECKS_COMPILED_IN`.
//!
//! The crate's own tests turn on `tokio`, `futures` and `async-lock` (its self dev-dependency),
//! and `macros` is a default feature, so every page's blocks run in `cargo test`; the gates
//! below only keep a narrower build from failing on a page it cannot run.

#[doc = include_str!("../../README.md")]
pub struct Readme;

#[doc = include_str!("../../docs/README.md")]
pub struct Guide;

#[doc = include_str!("../../docs/drop-in.md")]
pub struct DropIn;

#[doc = include_str!("../../docs/classes.md")]
pub struct Classes;

#[doc = include_str!("../../docs/reports.md")]
pub struct Reports;

#[cfg(feature = "macros")]
#[doc = include_str!("../../docs/test-attribute.md")]
pub struct TestAttribute;

#[cfg(feature = "macros")]
#[doc = include_str!("../../docs/annotations.md")]
pub struct Annotations;

#[cfg(all(feature = "tokio", feature = "macros"))]
#[doc = include_str!("../../docs/async.md")]
pub struct Async;

#[doc = include_str!("../../docs/once.md")]
pub struct Once;

#[doc = include_str!("../../docs/deadlock-detection.md")]
pub struct DeadlockDetection;

#[doc = include_str!("../../docs/graph.md")]
pub struct Graph;

#[doc = include_str!("../../docs/figures.md")]
pub struct Figures;

#[doc = include_str!("../../docs/suite.md")]
pub struct Suite;

#[doc = include_str!("../../docs/ci.md")]
pub struct Ci;

#[doc = include_str!("../../docs/hotplug.md")]
pub struct Hotplug;

#[doc = include_str!("../../docs/cost.md")]
pub struct Cost;

#[doc = include_str!("../../docs/workspace.md")]
pub struct Workspace;
