//! The validator's own messages (a table is full, a guard leaked): not reports, so no mode,
//! handler or capture scope sees them. A module of its own, below everything that prints one,
//! so that printing one imports nothing.

/// Prints one of the validator's own messages to stderr. Errors are ignored: `eprintln!`
/// panics when stderr is gone, and a message is never worth taking the program down.
pub(crate) fn notice(message: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{message}");
}
