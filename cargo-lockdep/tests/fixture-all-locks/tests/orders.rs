//! Both orders, one after the other: no thread ever waits, but the two can deadlock.

#[test]
fn register_then_audit() {
    let app = lockdep_fixture_all_locks::App::new();
    app.register();
    assert_eq!(app.audit(), 1);
}
