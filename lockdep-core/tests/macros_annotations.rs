//! `#[requires]`, `#[excludes]`, `#[might_lock]` and `lock_class!`.

use lockdep_core::{capture, lock_class, Mutex, ReportKind, RwLock};
use std::sync::Arc;

struct Account {
    balance: Mutex<u64>,
    history: Mutex<Vec<u64>>,
}

impl Account {
    fn new() -> Self {
        Account {
            balance: Mutex::named("macros-ann-balance", 100),
            history: Mutex::named("macros-ann-history", Vec::new()),
        }
    }

    #[lockdep_core::requires(self.balance)]
    fn audit(&self) -> &'static str {
        "audited"
    }

    #[lockdep_core::requires(self.balance, &self.history)]
    fn record(&self, amount: u64) -> Result<u64, String> {
        let parsed: u64 = amount
            .to_string()
            .parse()
            .map_err(|_| "unparsable".to_string())?;
        Ok(parsed)
    }

    #[lockdep_core::excludes(self.balance)]
    fn deposit(&self, amount: u64) -> u64 {
        let mut balance = self.balance.lock();
        *balance += amount;
        *balance
    }
}

trait Ledger {
    fn lock(&self) -> &Mutex<u64>;

    /// A default method can carry the annotation too.
    #[lockdep_core::requires(self.lock())]
    fn peek(&self) -> bool {
        true
    }
}

impl Ledger for Account {
    fn lock(&self) -> &Mutex<u64> {
        &self.balance
    }
}

#[test]
fn requires_passes_when_every_lock_is_held() {
    let account = Account::new();
    let _b = account.balance.lock();
    assert_eq!(account.audit(), "audited");
    assert!(account.peek());
    let _h = account.history.lock();
    assert_eq!(account.record(7), Ok(7));
}

#[test]
#[cfg_attr(not(lockdep_checks), ignore = "the checks are compiled out")]
#[should_panic(
    expected = "lockdep: `audit` requires `self.balance` (class `macros-ann-balance`) to be held \
                by this thread, but it is not"
)]
fn requires_panics_naming_function_expression_and_class() {
    Account::new().audit();
}

#[test]
#[cfg_attr(not(lockdep_checks), ignore = "the checks are compiled out")]
#[should_panic(expected = "`record` requires `&self.history`")]
fn requires_checks_every_listed_lock() {
    let account = Account::new();
    let _b = account.balance.lock();
    let _ = account.record(1);
}

#[test]
#[cfg_attr(not(lockdep_checks), ignore = "the checks are compiled out")]
#[should_panic(expected = "`peek` requires `self.lock()`")]
fn requires_works_on_default_trait_methods() {
    Account::new().peek();
}

#[test]
fn excludes_passes_when_the_lock_is_free() {
    assert_eq!(Account::new().deposit(5), 105);
}

#[test]
#[cfg_attr(not(lockdep_checks), ignore = "the checks are compiled out")]
#[should_panic(
    expected = "lockdep: `deposit` must not be called with `self.balance` (class \
                `macros-ann-balance`) held, but this thread holds it"
)]
fn excludes_panics_before_the_self_deadlock() {
    let account = Account::new();
    let _b = account.balance.lock();
    account.deposit(5);
}

static DEVICES: Mutex<u32> = Mutex::new(0);

#[test]
fn statics_and_arcs_are_lock_expressions_too() {
    static TABLE: RwLock<u32> = RwLock::new(0);
    let shared = Arc::new(Mutex::named("macros-ann-arc", ()));

    #[lockdep_core::requires(TABLE, shared)]
    #[lockdep_core::excludes(DEVICES)]
    fn both(shared: &Arc<Mutex<()>>) -> usize {
        Arc::strong_count(shared)
    }

    let _t = TABLE.read();
    let _s = shared.lock();
    assert_eq!(both(&shared), 1);
}

/// Takes `cache` only on a miss, which the tests below never have.
#[lockdep_core::might_lock(cache)]
fn lookup(cache: &Mutex<Vec<u32>>, hit: bool) -> Option<u32> {
    if hit {
        return Some(1);
    }
    cache.lock().first().copied()
}

#[test]
fn might_lock_records_the_order_of_a_path_not_taken() {
    let db = Mutex::named("macros-ann-might-db", ());
    let cache = Mutex::named("macros-ann-might-cache", Vec::new());
    let reports = capture(|| {
        {
            let _db = db.lock();
            // Only a hit: `cache` is never taken under `db` in this run...
            assert_eq!(lookup(&cache, true), Some(1));
        }
        // ...yet the order db -> cache is known, so the inversion is found.
        let _c = cache.lock();
        let _db = db.lock();
    });
    if lockdep_core::CHECKS_COMPILED_IN {
        assert_eq!(reports.len(), 1, "{reports:?}");
        assert_eq!(reports[0].kind(), ReportKind::CircularDependency);
        assert_eq!(
            reports[0].classes(),
            ["macros-ann-might-db", "macros-ann-might-cache"]
        );
    } else {
        assert!(reports.is_empty());
    }
}

#[test]
fn might_lock_reports_an_inversion_at_the_call() {
    let a = Mutex::named("macros-ann-might-a", ());
    let b = Mutex::named("macros-ann-might-b", Vec::new());
    let reports = capture(|| {
        {
            let _b = b.lock();
            let _a = a.lock(); // b -> a
        }
        let _a = a.lock();
        lookup(&b, true); // a -> b, though `b` is not taken
    });
    if lockdep_core::CHECKS_COMPILED_IN {
        assert_eq!(reports.len(), 1, "{reports:?}");
        assert_eq!(
            reports[0].classes(),
            ["macros-ann-might-b", "macros-ann-might-a"]
        );
    }
}

#[test]
fn might_lock_takes_nothing() {
    let cache = Mutex::named("macros-ann-might-free", vec![3]);
    assert_eq!(lookup(&cache, false), Some(3));
    assert!(!cache.is_locked());
}

lock_class!(
    /// One invocation, one class, named explicitly.
    pub static PCPU_ALLOC = "macros-ann-pcpu_alloc_mutex"
);
lock_class! {
    /// Several declarations in one invocation; the name defaults to the identifier.
    static MACROS_ANN_HOTPLUG;
    pub(crate) static MACROS_ANN_SLAB = concat!("macros-ann-", "slab");
}

static ALLOC_A: Mutex<u32> = Mutex::with_class(&PCPU_ALLOC, 0);
static ALLOC_B: Mutex<u32> = Mutex::with_class(&PCPU_ALLOC, 0);

#[test]
fn lock_class_names_classes() {
    assert_eq!(PCPU_ALLOC.name(), "macros-ann-pcpu_alloc_mutex");
    assert_eq!(MACROS_ANN_HOTPLUG.name(), "MACROS_ANN_HOTPLUG");
    assert_eq!(MACROS_ANN_SLAB.name(), "macros-ann-slab");
}

#[test]
fn locks_of_one_declared_class_share_it() {
    let reports = capture(|| {
        let _a = ALLOC_A.lock();
        let _b = ALLOC_B.lock(); // another instance of the same class
    });
    if lockdep_core::CHECKS_COMPILED_IN {
        assert_eq!(reports.len(), 1, "{reports:?}");
        assert_eq!(reports[0].kind(), ReportKind::RecursiveLocking);
        assert_eq!(reports[0].classes(), ["macros-ann-pcpu_alloc_mutex"]);
    }
    let hotplug = RwLock::with_class(&MACROS_ANN_HOTPLUG, ());
    drop(hotplug.write());
    assert!(!lockdep_core::is_held(&hotplug));
}
