//! The dependency kinds (`DEP_*`, [`dep_kind`]) and the kernel's notation for them, the one
//! spelling shared by the validator's reports, the graph and the store's tools. A module of its
//! own at the bottom of the crate (always built, importing only the `Access` vocabulary, which is
//! as low) so that the graph, the store (which reads graphs back) and the reports need not
//! import each other, nor the held-lock stack, for it.

use crate::access::Access;

// With the checks compiled out only `kinds_label` is used (by the store's offline tools).

/// `-(SR)->`: held shared, acquired as a recursive read.
#[cfg_attr(not(lockdep_checks), allow(dead_code))]
pub(crate) const DEP_SR: u8 = 1;
/// `-(ER)->`: held exclusively, acquired as a recursive read.
#[cfg_attr(not(lockdep_checks), allow(dead_code))]
pub(crate) const DEP_ER: u8 = 2;
/// `-(SN)->`: held shared, acquired as a write or fair read.
#[cfg_attr(not(lockdep_checks), allow(dead_code))]
pub(crate) const DEP_SN: u8 = 4;
/// `-(EN)->`: held exclusively, acquired as a write or fair read.
#[cfg_attr(not(lockdep_checks), allow(dead_code))]
pub(crate) const DEP_EN: u8 = 8;

/// The dependency kind of "`next` acquired as `acquired` while `prev` is held as `held`".
#[cfg_attr(not(lockdep_checks), allow(dead_code))]
pub(crate) fn dep_kind(held: Access, acquired: Access) -> u8 {
    match (held.held_shared(), acquired.acquire_recursive()) {
        (true, true) => DEP_SR,
        (false, true) => DEP_ER,
        (true, false) => DEP_SN,
        (false, false) => DEP_EN,
    }
}

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
