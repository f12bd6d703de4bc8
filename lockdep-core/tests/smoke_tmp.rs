use lockdep_core::*;
#[test]
fn abba() {
    let a = Mutex::named("A", ());
    let b = Mutex::named("B", ());
    let r = capture(|| {
        { let _a = a.lock(); let _b = b.lock(); }
        let _b = b.lock(); let _a = a.lock();
    });
    assert_eq!(r.len(), 1);
    println!("{}", r[0]);
    assert_eq!(r[0].classes(), ["A", "B"]);
}
