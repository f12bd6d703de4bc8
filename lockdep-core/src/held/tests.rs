//! The held-lock stack's own tests: its push, pop, fast paths and overflow.

use super::*;

fn entry(instance: usize, node: u32) -> HeldLock {
    HeldLock {
        instance,
        node: NodeKey(node),
        ..HeldLock::EMPTY
    }
}

#[test]
fn chain_keys_depend_on_order_and_contents() {
    let mut ab = HeldStack::new();
    ab.push(entry(1, 8));
    ab.push(entry(2, 16));
    let mut ba = HeldStack::new();
    ba.push(entry(2, 16));
    ba.push(entry(1, 8));
    assert_ne!(ab.top_key(), ba.top_key());

    let mut ab_read = HeldStack::new();
    ab_read.push(entry(1, 8));
    ab_read.push(HeldLock {
        access: Access::Read,
        ..entry(2, 16)
    });
    assert_ne!(ab.top_key(), ab_read.top_key());
}

#[test]
fn out_of_order_release_rekeys_the_rest() {
    let mut stack = HeldStack::new();
    stack.push(entry(1, 8));
    stack.push(entry(2, 16));
    stack.push(entry(3, 24));
    let removed = stack.remove(stack.find(1).unwrap());
    assert_eq!(removed.instance, 1);

    let mut expected = HeldStack::new();
    expected.push(entry(2, 16));
    expected.push(entry(3, 24));
    assert_eq!(stack.top_key(), expected.top_key());
    assert_eq!(stack.as_slice().len(), 2);
    assert_eq!(stack.max_depth(), 3);
}

#[test]
fn untracked_locks_past_the_limit_are_released_by_instance() {
    let mut stack = HeldStack::new();
    for i in 0..MAX_LOCK_DEPTH {
        stack.push(entry(i + 1, 8));
    }
    stack.note_overflow(100);
    stack.note_overflow(200);
    assert!(
        !stack.release_overflow(5),
        "a tracked lock is not an untracked one"
    );
    assert!(stack.release_overflow(100), "released out of order");
    assert!(stack.release_overflow(200));
    assert_eq!(stack.overflowed, 0);
    assert!(!stack.release_overflow(200));
    assert_eq!(stack.as_slice().len(), MAX_LOCK_DEPTH);
}

#[test]
fn set_access_changes_the_key() {
    let mut stack = HeldStack::new();
    stack.push(entry(1, 8));
    let before = stack.top_key();
    stack.set_access(0, Access::Read);
    assert_ne!(before, stack.top_key());
    stack.set_access(0, Access::Write);
    assert_eq!(before, stack.top_key());
}

/// The full stack's filter against the plain scan it stands in for, on random full stacks
/// drawn from a few instances (so that instances repeat, as leaked guards do) and from many
/// (so that bits collide): it may say "look" needlessly, never "clean" wrongly.
#[test]
fn the_full_stack_filter_never_misses_a_certain_conflict() {
    let accesses = [
        Access::Write,
        Access::Read,
        Access::RecursiveRead,
        Access::Upgradable,
    ];
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut cleared = 0;
    // Under Miri (CI runs this module there, for the stack's unsafe accesses) a few rounds
    // cover the code; 2 000 took ten of CI's minutes.
    let rounds = if cfg!(miri) { 20 } else { 2000 };
    for round in 0..rounds {
        let pool = if round % 2 == 0 { 4 } else { 1 << 20 };
        let mut stack = HeldStack::new();
        while !stack.is_full() {
            let instance = (next() % pool + 1) as usize * 8 + 2;
            let access = accesses[(next() % 4) as usize];
            stack.push(HeldLock {
                access,
                ..entry(instance, 8)
            });
        }
        for _ in 0..16 {
            // Held instances half the time, others otherwise.
            let instance = if next() % 2 == 0 {
                stack.as_slice()[(next() % MAX_LOCK_DEPTH as u64) as usize].instance
            } else {
                (next() % pool + 1) as usize * 8 + 2
            };
            let access = accesses[(next() % 4) as usize];
            let certain = stack
                .as_slice()
                .iter()
                .any(|h| h.instance == instance && self_conflict_is_certain(h.access, access));
            let look = stack.full_may_conflict(instance, access);
            assert!(look || !certain, "missed: {instance:#x} as {access:?}");
            cleared += usize::from(!look);
        }
        // An access changed in place keeps the filter exact.
        stack.set_access(5, Access::Write);
        let instance = stack.as_slice()[5].instance;
        assert!(stack.full_may_conflict(instance, Access::Read));
    }
    assert!(
        cleared > 0,
        "the filter must clear some acquisitions at once"
    );
}
