//! The validator's own messages (a table is full, a guard leaked): not reports, so no mode,
//! handler or capture scope sees them. A module of its own, below everything that prints one,
//! so that printing one imports nothing.

/// The value of the environment variable `name` (`LOCKDEP`, `LOCKDEP_GRAPH`, `LOCKDEP_DOT`),
/// read by one rule for all of them: unset is `None`; set but empty is `None` with a one-line
/// message saying it is ignored (an empty value is a mistake more often than a choice); a value
/// that is not valid UTF-8 is returned as it is, for the caller to use (a path) or refuse with
/// its own message (a mode).
pub(crate) fn env_var(name: &str) -> Option<std::ffi::OsString> {
    let value = std::env::var_os(name)?;
    if value.is_empty() {
        notice(format_args!(
            "lockdep: {name} is set but empty; ignored (unset it, or give it a value)"
        ));
        return None;
    }
    Some(value)
}

/// Prints one of the validator's own messages to stderr. Errors are ignored: `eprintln!`
/// panics when stderr is gone, and a message is never worth taking the program down.
pub(crate) fn notice(message: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{message}");
}
