//! One way to build a lock: every lock type (`parking_lot`'s flavour, `FairMutex`, `sync`, the
//! once-cells, `tokio`) takes its class from `new` / `const_new` (the creation site),
//! `with_class` (a static key), `named` (a name), `default()` (one class per field of a derived
//! `Default`) and `from()` (the caller's code, also when called by generic code) in the same
//! way: the constructors are written once (`lockdep-core/src/construct.rs`).
//!
//! Every test here asks for the classes of checked locks.
#![cfg(lockdep_checks)]

mod common;

use common::{assert_none, assert_one};
use lockdep_core::{capture, LockClass, ReportKind, TrackedLock};
use std::sync::Arc;

fn class_of(lock: &impl TrackedLock) -> String {
    lock.lock_instance().class_name()
}

static KEY: LockClass = LockClass::new("constructors-key");

/// For each lock type, given as `Type: (arguments after the class)`: `new` run twice on one
/// line gives one site class, `with_class` and `named` the key's and the name's. (Inside a macro
/// every call has the macro's site: the lines apart are checked below.)
macro_rules! check_constructors {
    ($($lock:ty: ($($arg:expr),*)),+ $(,)?) => {$({
        let sites: Vec<String> = (0..2).map(|_| class_of(&<$lock>::new($($arg),*))).collect();
        assert_eq!(sites[0], sites[1], "{}", stringify!($lock));
        assert!(sites[0].contains("constructors.rs:"), "{}", sites[0]);
        assert_eq!(class_of(&<$lock>::with_class(&KEY, $($arg),*)), "constructors-key");
        let name = concat!("constructors-", stringify!($lock));
        assert_eq!(class_of(&<$lock>::named(name, $($arg),*)), name);
        assert_eq!(class_of(&<$lock>::named(name, $($arg),*)), name);
    })+};
}

/// The class name of a lock made at `line` of this file.
fn made_at(lock: &impl TrackedLock, line: u32) -> bool {
    class_of(lock).contains(&format!("constructors.rs:{line}:"))
}

#[test]
fn new_with_class_and_named_give_every_lock_type_its_class_the_same_way() {
    check_constructors!(
        lockdep_core::Mutex<u8>: (0),
        lockdep_core::FairMutex<u8>: (0),
        lockdep_core::RwLock<u8>: (0),
        lockdep_core::ReentrantMutex<u8>: (0),
        lockdep_core::Once: (),
        lockdep_core::sync::Mutex<u8>: (0),
        lockdep_core::sync::RwLock<u8>: (0),
        lockdep_core::sync::Once: (),
        lockdep_core::sync::OnceLock<u8>: (),
        lockdep_core::sync::LazyLock<u8>: (|| 0),
        lockdep_core::tokio::Mutex<u8>: (0),
        lockdep_core::tokio::RwLock<u8>: (0),
    );
    let here = line!();
    let cell = lockdep_core::sync::OnceLock::<u8>::new();
    let lazy = lockdep_core::sync::LazyLock::new(|| 0u8);
    let fair = lockdep_core::FairMutex::new(0u8);
    let tokio = lockdep_core::tokio::RwLock::new(0u8);
    // tokio's name for `new`, and `parking_lot`'s `const_new` over a raw lock: the site too.
    let tokio_const = lockdep_core::tokio::Mutex::const_new(0u8);
    let raw = <lockdep_core::RawMutex as lockdep_core::lock_api::RawMutex>::INIT;
    let pl_const = lockdep_core::Mutex::const_new(raw, 0u8);
    assert!(made_at(&cell, here + 1) && made_at(&lazy, here + 2) && made_at(&fair, here + 3));
    assert!(made_at(&tokio, here + 4) && made_at(&tokio_const, here + 6));
    assert!(made_at(&pl_const, here + 8));
}

/// Two of each lock type in one derived `Default`: every field its own class, the same again
/// for every instance the derive builds.
#[derive(Default)]
struct EveryKind {
    tokio_a: lockdep_core::tokio::Mutex<u8>,
    tokio_b: lockdep_core::tokio::Mutex<u8>,
    tokio_rw_a: lockdep_core::tokio::RwLock<u8>,
    tokio_rw_b: lockdep_core::tokio::RwLock<u8>,
    cell_a: lockdep_core::sync::OnceLock<u8>,
    cell_b: lockdep_core::sync::OnceLock<u8>,
    lazy_a: lockdep_core::sync::LazyLock<u8>,
    lazy_b: lockdep_core::sync::LazyLock<u8>,
    once_a: lockdep_core::sync::Once,
    once_b: lockdep_core::sync::Once,
    pl_once_a: lockdep_core::Once,
    pl_once_b: lockdep_core::Once,
    fair_a: lockdep_core::FairMutex<u8>,
    fair_b: lockdep_core::FairMutex<u8>,
    reentrant_a: lockdep_core::ReentrantMutex<u8>,
    reentrant_b: lockdep_core::ReentrantMutex<u8>,
}

impl EveryKind {
    fn classes(&self) -> Vec<String> {
        vec![
            class_of(&self.tokio_a),
            class_of(&self.tokio_b),
            class_of(&self.tokio_rw_a),
            class_of(&self.tokio_rw_b),
            class_of(&self.cell_a),
            class_of(&self.cell_b),
            class_of(&self.lazy_a),
            class_of(&self.lazy_b),
            class_of(&self.once_a),
            class_of(&self.once_b),
            class_of(&self.pl_once_a),
            class_of(&self.pl_once_b),
            class_of(&self.fair_a),
            class_of(&self.fair_b),
            class_of(&self.reentrant_a),
            class_of(&self.reentrant_b),
        ]
    }
}

#[test]
fn every_lock_type_built_by_a_derived_default_is_a_class_per_field() {
    let first = EveryKind::default();
    let classes = first.classes();
    for (i, x) in classes.iter().enumerate() {
        for y in &classes[i + 1..] {
            assert_ne!(x, y);
        }
    }
    assert_eq!(EveryKind::default().classes(), classes);
}

/// The ABBA between two fields of one derived struct is found for the async locks too (taken
/// with `blocking_lock`, outside any runtime, each order on a thread of its own).
#[test]
fn inversion_between_two_derived_async_mutexes_is_reported() {
    let shared = Arc::new(EveryKind::default());
    let s = shared.clone();
    let first = std::thread::spawn(move || {
        capture(|| {
            let _a = s.tokio_a.blocking_lock();
            let _b = s.tokio_b.blocking_lock();
        })
    });
    assert_none(&first.join().unwrap());
    let s = shared.clone();
    let second = std::thread::spawn(move || {
        capture(|| {
            let _b = s.tokio_b.blocking_lock();
            let _a = s.tokio_a.blocking_lock();
        })
    });
    assert_one(
        &second.join().unwrap(),
        ReportKind::CircularDependency,
        &[&class_of(&shared.tokio_a), &class_of(&shared.tokio_b)],
    );
}

/// Two locks of type `L` built by `From::from` on two lines, each called by the standard
/// library's `array::map`, so that `from` sees a `Location` inside the standard library.
fn two_by_from<L: From<u8> + TrackedLock>() -> [String; 2] {
    let [first] = [1].map(L::from);
    let [second] = [2].map(L::from);
    [class_of(&first), class_of(&second)]
}

/// `From::from` called by generic code: the class comes from the user code that asked (one per
/// line, the same for every lock that line builds), for every lock type with `From`.
#[test]
fn from_called_by_generic_code_takes_its_class_from_the_callers_line() {
    fn check<L: From<u8> + TrackedLock>() {
        let classes = two_by_from::<L>();
        assert_ne!(classes[0], classes[1], "{}", std::any::type_name::<L>());
        for class in &classes {
            assert!(!class.contains("/rustc/"), "{class}");
        }
        assert_eq!(two_by_from::<L>(), classes);
    }
    check::<lockdep_core::Mutex<u8>>();
    check::<lockdep_core::RwLock<u8>>();
    check::<lockdep_core::ReentrantMutex<u8>>();
    check::<lockdep_core::sync::Mutex<u8>>();
    check::<lockdep_core::sync::RwLock<u8>>();
    check::<lockdep_core::sync::OnceLock<u8>>();
    check::<lockdep_core::tokio::Mutex<u8>>();
    check::<lockdep_core::tokio::RwLock<u8>>();
}
