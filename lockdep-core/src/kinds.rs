//! The kernel's notation for dependency kinds, the one spelling shared by the validator's
//! reports, the graph and the store's tools. A module of its own at the bottom of the crate
//! (always built, imports nothing) so that the graph and the store, which reads graphs back,
//! need not import each other.

/// The kernel's notation for a set of dependency kinds (`EN`, `SR/EN`, ...): bits 1 `SR`,
/// 2 `ER`, 4 `SN`, 8 `EN`, as stored.
pub fn kinds_label(kinds: u8) -> String {
    // The low four bits are blocking kinds, the high four timed ones (written with a `~`).
    let names = [(2u8, "ER"), (8, "EN"), (1, "SR"), (4, "SN")];
    let blocking = names
        .iter()
        .filter(|(bit, _)| kinds & bit != 0)
        .map(|(_, name)| name.to_string());
    let timed = names
        .iter()
        .filter(|(bit, _)| (kinds >> 4) & bit != 0)
        .map(|(_, name)| format!("{name}~"));
    blocking.chain(timed).collect::<Vec<_>>().join("/")
}
