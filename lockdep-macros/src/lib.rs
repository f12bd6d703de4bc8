//! Procedural macros for `lockdep-core`. Use them through `lockdep_core`, which re-exports them.
