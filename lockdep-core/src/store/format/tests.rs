//! The format's tests: round trips, damage, torn tails, versions.
use super::codec::*;
use super::*;

fn dep(stack: Vec<StoredFrame>) -> Record {
    Record::Dependency(StoredDependency {
        from: StoredClass {
            name: "src/lib.rs:3:5".into(),
            subclass: 0,
        },
        to: StoredClass {
            name: "a\tname\\with\nodd chars".into(),
            subclass: 2,
        },
        kinds: 8,
        refused: false,
        origin: Origin {
            program: "first_half".into(),
            test: Some("takes_a_then_b".into()),
        },
        held_at: (!stack.is_empty()).then(|| "src/lib.rs:9:14".into()),
        stack,
    })
}

#[test]
fn records_round_trip() {
    let stack = vec![
        StoredFrame {
            function: "my_app::worker".into(),
            location: Some("src/main.rs:10".into()),
        },
        StoredFrame {
            function: "my_app::main".into(),
            location: None,
        },
    ];
    let finding = Record::Finding(StoredFinding {
        kind: FindingKind::Cycle,
        classes: vec![
            StoredClass {
                name: "A".into(),
                subclass: 0,
            },
            StoredClass {
                name: "B".into(),
                subclass: 1,
            },
        ],
        origin: Origin {
            program: "p".into(),
            test: None,
        },
    });
    let text = format!(
        "{HEADER}\n{}{}{}",
        dep(stack).encode(),
        dep(Vec::new()).encode(),
        finding.encode()
    );
    let parsed = parse(text.as_bytes()).unwrap();
    assert_eq!((parsed.complete, parsed.torn), (text.len(), 0));
    let records = parsed.records;
    assert_eq!(records.len(), 3);
    assert_eq!(records[2], finding);
    match &records[0] {
        Record::Dependency(d) => {
            assert_eq!(d.to.name, "a\tname\\with\nodd chars");
            assert_eq!(d.stack.len(), 2);
            assert_eq!(d.stack[0].location.as_deref(), Some("src/main.rs:10"));
            assert_eq!(d.held_at.as_deref(), Some("src/lib.rs:9:14"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_separator_in_any_text_round_trips() {
    // Every character the format gives a meaning to, in every piece of text a program
    // controls: class names (`named`), functions and locations, the program and the test.
    let odd = "a\u{1e}b\u{1f}c\\d\te\nf\rg\\R\\U\\";
    let class = |subclass| StoredClass {
        name: odd.into(),
        subclass,
    };
    let origin = Origin {
        program: odd.into(),
        test: Some(odd.into()),
    };
    let records = [
        Record::Dependency(StoredDependency {
            from: class(0),
            to: class(3),
            kinds: 9,
            refused: true,
            origin: origin.clone(),
            stack: vec![
                StoredFrame {
                    function: odd.into(),
                    location: Some(odd.into()),
                },
                StoredFrame {
                    function: odd.into(),
                    location: None,
                },
            ],
            held_at: Some(odd.into()),
        }),
        Record::Finding(StoredFinding {
            kind: FindingKind::Recursive,
            classes: vec![class(1), class(0), class(2)],
            origin,
        }),
    ];
    let mut text = format!("{HEADER}\n");
    for record in &records {
        let line = record.encode();
        assert_eq!(line.matches('\n').count(), 1, "{line:?}");
        text.push_str(&line);
    }
    assert_eq!(parse(text.as_bytes()).unwrap().records, records);
}

#[test]
fn a_torn_tail_is_skipped_and_measured() {
    let line = dep(Vec::new()).encode();
    let whole = format!("{HEADER}\n{line}{line}");
    for cut in 1..line.len() {
        // A writer killed `cut` bytes into its record (mid-character too: bytes, not text).
        let mut torn = whole.as_bytes().to_vec();
        torn.extend_from_slice(&"é".repeat(line.len()).as_bytes()[..cut]);
        let parsed = parse(&torn).unwrap();
        assert_eq!(parsed.records.len(), 2);
        assert_eq!((parsed.complete, parsed.torn), (whole.len(), cut));
    }
    // A torn header: an empty store.
    for cut in 0..HEADER.len() {
        let parsed = parse(&HEADER.as_bytes()[..cut]).unwrap();
        assert!(parsed.records.is_empty());
        assert_eq!((parsed.complete, parsed.torn), (0, cut));
    }
}

#[test]
fn damage_is_detected_never_believed() {
    let line = dep(Vec::new()).encode();
    let good = format!("{HEADER}\n{line}");
    assert!(parse(good.as_bytes()).is_ok());
    // A damaged record before the last line is damage, not a torn tail.
    let cut = format!("{HEADER}\n{}\n{line}", &line[..line.len() - 5]);
    assert!(matches!(
        parse(cut.as_bytes()),
        Err(FormatError::Corrupt { line: 2, .. })
    ));
    // One byte changed.
    let flipped = good.replacen("first_half", "first_hals", 1);
    assert!(matches!(
        parse(flipped.as_bytes()),
        Err(FormatError::Corrupt { .. })
    ));
    // An unknown escape, with a checksum that matches it.
    let bad_escape = Record::Dependency(StoredDependency {
        from: StoredClass {
            name: "x".into(),
            subclass: 0,
        },
        to: StoredClass {
            name: "y".into(),
            subclass: 0,
        },
        kinds: 8,
        refused: false,
        origin: Origin {
            program: "p".into(),
            test: None,
        },
        stack: Vec::new(),
        held_at: None,
    })
    .encode()
    .replacen("\tp\t", "\t\\q\t", 1);
    let body = &bad_escape[..bad_escape.len() - 17];
    let resummed = format!("{body}{:016x}\n", checksum(body.as_bytes()));
    assert!(matches!(
        parse(format!("{HEADER}\n{resummed}").as_bytes()),
        Err(FormatError::Corrupt { line: 2, .. })
    ));
    // Another version (whole or torn), garbage, an empty-header file.
    assert!(matches!(
        parse(b"lockdep-graph 1\n"),
        Err(FormatError::Version(_))
    ));
    assert!(matches!(
        parse(b"lockdep-graph 1"),
        Err(FormatError::Version(_))
    ));
    assert!(matches!(
        parse(b"\x00\x01garbage\n"),
        Err(FormatError::Corrupt { .. })
    ));
    assert!(matches!(
        parse(b"\x7fELF"),
        Err(FormatError::Corrupt { line: 1, .. })
    ));
    assert_eq!(
        parse(format!("{HEADER}\n").as_bytes()).unwrap().records,
        Vec::new()
    );
}

/// A store written before dependency records carried the held lock's site (one field fewer)
/// still loads, the site absent; a new record beside it keeps its own.
#[test]
fn a_dependency_record_without_the_held_site_still_loads() {
    // Exactly what the writer wrote then: the stack's field last, then the checksum.
    let body = "E\tsrc/lib.rs:3:5\u{1f}0\tsrc/lib.rs:4:5\u{1f}0\t8\tfirst_half\ttakes_a_then_b\t\
                my_app::worker\u{1f}src/main.rs:10\t";
    let old = format!("{body}{:016x}\n", checksum(body.as_bytes()));
    let new = dep(vec![StoredFrame {
        function: "my_app::worker".into(),
        location: None,
    }])
    .encode();
    let text = format!("{HEADER}\n{old}{new}");
    let records = parse(text.as_bytes()).unwrap().records;
    match &records[..] {
        [Record::Dependency(old), Record::Dependency(new)] => {
            assert_eq!(old.from.name, "src/lib.rs:3:5");
            assert_eq!(old.kinds, 8);
            assert_eq!(old.stack[0].location.as_deref(), Some("src/main.rs:10"));
            assert_eq!(old.held_at, None);
            assert_eq!(new.held_at.as_deref(), Some("src/lib.rs:9:14"));
        }
        other => panic!("{other:?}"),
    }
    // A record with a field too many is damaged, not a newer site.
    let body = format!("{}extra\t", &new[..new.len() - 17]);
    let damaged = format!("{body}{:016x}\n", checksum(body.as_bytes()));
    assert!(matches!(
        parse(format!("{HEADER}\n{damaged}").as_bytes()),
        Err(FormatError::Corrupt { line: 2, .. })
    ));
}
