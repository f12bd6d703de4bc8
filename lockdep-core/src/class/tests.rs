//! The class cell's and the node key's unit tests.

use super::*;

static KEY: LockClass = LockClass::new("class-test-key");

#[test]
fn static_key_resolves_to_one_id() {
    let a = ClassCell::from_key(&KEY);
    let b = ClassCell::from_key(&KEY);
    assert_eq!(a.resolve(), b.resolve());
    assert_eq!(registry::name(a.resolve().unwrap()), "class-test-key");
}

#[test]
fn sites_and_names_intern() {
    let here = Location::caller();
    let a = ClassCell::from_site(here);
    let b = ClassCell::from_site(here);
    assert_eq!(a.resolve(), b.resolve());
    let name = registry::name(a.resolve().unwrap());
    assert!(
        name.ends_with(&format!(":{}:{}", here.line(), here.column())),
        "{name}"
    );

    let x = ClassCell::from_name("class-test-name");
    let y = ClassCell::from_name(&String::from("class-test-name"));
    assert_eq!(x.resolve(), y.resolve());
    assert_ne!(x.resolve(), a.resolve());
}

#[test]
fn a_resolved_cell_keeps_its_id_and_name() {
    let here = Location::caller();
    for cell in [ClassCell::from_key(&KEY), ClassCell::from_site(here)] {
        let before = cell.describe();
        let id = cell.resolve().unwrap();
        // Now in the resolved state: the id comes from the cell itself.
        assert_eq!(cell.resolve(), Some(id));
        assert_eq!(cell.describe(), before);
        assert_eq!(registry::name(id), before);
    }
}

/// A reentrant mutex's cell resolves to the same class as a plain one, keeps its mark
/// through resolution, and a plain cell never has it (64-bit targets, where the bit exists).
#[test]
#[cfg(target_pointer_width = "64")]
fn the_reentrant_mark_survives_resolution_and_changes_nothing_else() {
    let here = Location::caller();
    for (plain, marked) in [
        (
            ClassCell::from_key(&KEY),
            ClassCell::from_key(&KEY).reentrant(),
        ),
        (
            ClassCell::from_site(here),
            ClassCell::from_site(here).reentrant(),
        ),
    ] {
        assert_eq!(marked.describe(), plain.describe());
        assert!(marked.may_be_reentrant() && !plain.may_be_reentrant());
        let (id, identity) = marked.resolve_instance(None).unwrap();
        assert_eq!(plain.resolve(), Some(id));
        assert!(marked.may_be_reentrant() && !plain.may_be_reentrant());
        assert_eq!(marked.identity(), identity);
        assert_ne!(marked.identity(), plain.identity());
        assert_eq!(marked.describe(), plain.describe());
        assert!(marked.same_class().may_be_reentrant());
    }
}

/// A clone of a resolved cell (`OnceLock::clone`) is a new instance: counted when it
/// resolves, uncounted when dropped, never uncounting the original's count.
#[test]
fn a_clone_of_a_resolved_cell_is_a_new_instance() {
    static CLONED: LockClass = LockClass::new("class-test-cloned");
    let original = ClassCell::from_key(&CLONED);
    let id = original.resolve().unwrap();
    assert_eq!(registry::instances(id), 1);
    let clone = original.same_class();
    assert_eq!(registry::instances(id), 1, "not counted before it is used");
    assert_eq!(clone.resolve(), Some(id));
    assert_eq!(registry::instances(id), 2);
    assert_ne!(clone.identity(), original.identity());
    drop(clone);
    assert_eq!(registry::instances(id), 1);
    // An unresolved clone of a resolved cell is dropped without counting anything.
    drop(original.same_class());
    assert_eq!(registry::instances(id), 1);
    drop(original);
    assert_eq!(registry::instances(id), 0);
}

#[test]
fn node_keys_pack_class_and_subclass() {
    let node = NodeKey::new(ClassId(12345), 7);
    assert_eq!(node.class(), ClassId(12345));
    assert_eq!(node.subclass(), 7);
}

#[test]
#[should_panic(expected = "subclass 8 of lock class `class-test-key` is out of range")]
fn subclass_out_of_range_panics() {
    check_subclass(8, &ClassCell::from_key(&KEY));
}

#[test]
fn a_resolved_word_is_its_classs_node_one_shift_away() {
    for _ in 0..100 {
        let cell = ClassCell::from_key(&KEY);
        let (node, identity) = cell.resolve_node(None).unwrap();
        let (id, same) = cell.resolve_instance(None).unwrap();
        assert_eq!(node, NodeKey::new(id, 0));
        assert_eq!(identity, same);
        assert_eq!(node.at_subclass(5), NodeKey::new(id, 5));
    }
    // The largest serial, and every tag, leave the node alone.
    #[cfg(target_pointer_width = "64")]
    {
        let id = ClassId((1 << ID_BITS) - 1);
        let word = ((id.0 as usize) << ID_SHIFT) | (SERIAL_MASK << 3) | SEEN | REENTRANT;
        assert_eq!(seen_node(word), NodeKey::new(id, 0));
        assert_eq!(seen_id(word), id);
    }
}
