//! What the store records about the process writing it (its program, the test running) and
//! what the process may write before the kernel would end it (the file-size limit).

use std::path::Path;

/// The executable's name without cargo's `-<16 hex digits>` suffix.
pub(super) fn program() -> String {
    let exe = std::env::current_exe().ok();
    let stem = exe.as_deref().and_then(Path::file_stem).map_or_else(
        || "<unknown>".to_string(),
        |s| s.to_string_lossy().into_owned(),
    );
    match stem.rsplit_once('-') {
        Some((name, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            name.to_string()
        }
        _ => stem,
    }
}

/// The test running on this thread: libtest names each test's thread after the test; nextest
/// runs one test per process and says which in `NEXTEST_TEST_NAME`.
pub(super) fn test_name() -> Option<String> {
    match std::thread::current().name() {
        Some(name) if name != "main" => Some(name.to_string()),
        _ => std::env::var("NEXTEST_TEST_NAME")
            .ok()
            .filter(|n| !n.is_empty()),
    }
}

/// The file-size limit (`ulimit -f`, in bytes) when crossing it would kill this process: the
/// kernel sends SIGXFSZ to a write that passes it, and that signal's default action ends the
/// process in the middle of the record. Where the signal is ignored or handled the write fails
/// with `EFBIG` instead, which `Store::write_at_end` undoes like any failed write.
#[cfg(unix)]
pub(super) fn fatal_file_size_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `getrlimit` writes one `rlimit` through the valid pointer it is given.
    if unsafe { libc::getrlimit(libc::RLIMIT_FSIZE, &mut limit) } != 0
        || limit.rlim_cur == libc::RLIM_INFINITY
    {
        return None;
    }
    // SAFETY: an all-zero `sigaction` is a valid value of the plain C struct, only written to.
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: a null new action only queries; the old one is written through a valid pointer.
    let queried = unsafe { libc::sigaction(libc::SIGXFSZ, std::ptr::null(), &mut action) } == 0;
    // `rlim_t` is 64 bits here but not on every unix.
    #[allow(clippy::unnecessary_cast)]
    let limit = limit.rlim_cur as u64;
    (!queried || action.sa_sigaction == libc::SIG_DFL).then_some(limit)
}

#[cfg(not(unix))]
pub(super) fn fatal_file_size_limit() -> Option<u64> {
    None
}
