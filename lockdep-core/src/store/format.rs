//! The on-disk format of a `LOCKDEP_GRAPH` store: one text file of append-only records.
//!
//! ```text
//! lockdep-graph 2                                        <- header: magic and version
//! E <tab> from <tab> to <tab> kinds <tab> program <tab> test <tab> stack <tab> sum
//! R <tab> ...same fields: a dependency that closed a cycle and was refused...
//! F <tab> kind <tab> classes <tab> program <tab> test <tab> sum
//! ```
//!
//! Every record is one line, written whole by one `write` under an exclusive file lock, and
//! ends with the FNV-1a checksum of the text before it: an edited or damaged record is
//! recognised as such, never half-believed. A field is a list of items separated by U+001E
//! (a finding's classes, a stack's frames), each item its parts separated by U+001F (a class's
//! name and subclass, a frame's function and `file:line`). Every piece is escaped — `\\`,
//! tab, newline, carriage return and both separators (`\\`, `\t`, `\n`, `\r`, `\R`, `\U`) —
//! so no text a program can give a class or a function breaks the structure. A stack is text:
//! the reading process has no way to symbolise another program's addresses.
//!
//! A writer killed in the middle of a record (a signal, a file-size limit) leaves a last line
//! without its newline: a *torn tail*. Readers skip it ([`parse`] says how many bytes it has),
//! and the next writer cuts it off, under the lock, before it appends, so records always start
//! on a fresh line and every complete record stays readable.

use std::fmt;

/// The first line of a store file; the number is the format version.
pub const HEADER: &str = "lockdep-graph 2";
/// The magic word of the header, without the version (to tell "other version" from garbage).
const MAGIC: &str = "lockdep-graph ";
/// Separates the parts of one item: a class's name from its subclass, a frame's function from
/// its location.
const PART_SEP: char = '\u{1f}';
/// Separates the items of a list: a finding's classes, a stack's frames.
const ITEM_SEP: char = '\u{1e}';

/// A class as the store names it: its name and nesting level. See the identity rule in
/// `DESIGN.md`: two processes' classes are the same node when their names are equal.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StoredClass {
    /// The class name (`file:line:col` of a creation site, a static key's or `named` name).
    pub name: String,
    /// The subclass (`lock_nested(n)`), 0 for a plain acquisition.
    pub subclass: u32,
}

impl fmt::Display for StoredClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.subclass {
            0 => f.write_str(&self.name),
            n => write!(f, "{}/{n}", self.name),
        }
    }
}

/// One frame of a stored stack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredFrame {
    /// The demangled function name.
    pub function: String,
    /// `file:line`, when known.
    pub location: Option<String>,
}

/// Which process recorded something.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin {
    /// The executable's name, without cargo's `-<hash>` suffix.
    pub program: String,
    /// The test that was running (the test thread's name), when known.
    pub test: Option<String>,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.program)?;
        if let Some(test) = &self.test {
            write!(f, " (test {test})")?;
        }
        Ok(())
    }
}

/// One dependency, as a process recorded it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredDependency {
    /// The held class.
    pub from: StoredClass,
    /// The class acquired while `from` was held.
    pub to: StoredClass,
    /// The kernel's dependency kinds seen (bits: 1 `SR`, 2 `ER`, 4 `SN`, 8 `EN`).
    pub kinds: u8,
    /// The dependency closed a cycle: the process reported it and did not add it.
    pub refused: bool,
    /// Who recorded it.
    pub origin: Origin,
    /// Where it was first seen; empty when the store knew the edge already.
    pub stack: Vec<StoredFrame>,
}

/// What a finding was about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FindingKind {
    /// A cycle of classes.
    Cycle,
    /// A class taken while a lock of the same class was held.
    Recursive,
}

impl FindingKind {
    /// The word the store (and the tools' machine formats) use: `cycle` or `recursive`.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::Cycle => "cycle",
            FindingKind::Recursive => "recursive",
        }
    }

    /// The kind named by [`FindingKind::as_str`]'s word.
    pub fn from_word(word: &str) -> Option<FindingKind> {
        match word {
            "cycle" => Some(FindingKind::Cycle),
            "recursive" => Some(FindingKind::Recursive),
            _ => None,
        }
    }
}

/// A finding some process reported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredFinding {
    /// Cycle or recursion.
    pub kind: FindingKind,
    /// The classes, in dependency order, rotated to start at the smallest (its identity).
    pub classes: Vec<StoredClass>,
    /// Who reported it.
    pub origin: Origin,
}

/// One line of a store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    /// A dependency (added or refused).
    Dependency(StoredDependency),
    /// A finding.
    Finding(StoredFinding),
}

/// Why a store could not be read.
#[derive(Debug, PartialEq, Eq)]
pub enum FormatError {
    /// Written by another version of this format.
    Version(String),
    /// Not a store, or damaged: what is wrong, and on which line.
    Corrupt {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        what: &'static str,
    },
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormatError::Version(header) => write!(
                f,
                "it was written by another version of lockdep (header `{header}`, this one \
                 reads `{HEADER}`)"
            ),
            FormatError::Corrupt { line, what } => write!(f, "line {line} is damaged: {what}"),
        }
    }
}

/// The FNV-1a hash of `text`, the records' checksum.
fn checksum(text: &[u8]) -> u64 {
    text.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Appends `piece` escaped: afterwards `out` holds no tab, newline or separator of its.
fn escape(out: &mut String, piece: &str) {
    for c in piece.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            ITEM_SEP => out.push_str("\\R"),
            PART_SEP => out.push_str("\\U"),
            c => out.push(c),
        }
    }
}

fn unescape(piece: &str) -> Option<String> {
    let mut out = String::with_capacity(piece.len());
    let mut chars = piece.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match chars.next()? {
            '\\' => '\\',
            't' => '\t',
            'n' => '\n',
            'r' => '\r',
            'R' => ITEM_SEP,
            'U' => PART_SEP,
            _ => return None,
        });
    }
    Some(out)
}

fn push_class(out: &mut String, class: &StoredClass) {
    escape(out, &class.name);
    out.push(PART_SEP);
    out.push_str(&class.subclass.to_string());
}

fn parse_class(text: &str) -> Option<StoredClass> {
    let (name, subclass) = text.split_once(PART_SEP)?;
    Some(StoredClass {
        name: unescape(name)?,
        // As in the validator: at most MAX_SUBCLASSES nesting levels.
        subclass: subclass
            .parse()
            .ok()
            .filter(|&s| s < crate::MAX_SUBCLASSES)?,
    })
}

fn push_stack(out: &mut String, stack: &[StoredFrame]) {
    for (i, frame) in stack.iter().enumerate() {
        if i > 0 {
            out.push(ITEM_SEP);
        }
        escape(out, &frame.function);
        if let Some(at) = &frame.location {
            out.push(PART_SEP);
            escape(out, at);
        }
    }
}

fn parse_stack(text: &str) -> Option<Vec<StoredFrame>> {
    if text.is_empty() {
        return Some(Vec::new());
    }
    text.split(ITEM_SEP)
        .map(|frame| {
            Some(match frame.split_once(PART_SEP) {
                Some((function, at)) => StoredFrame {
                    function: unescape(function)?,
                    location: Some(unescape(at)?),
                },
                None => StoredFrame {
                    function: unescape(frame)?,
                    location: None,
                },
            })
        })
        .collect()
}

/// The program and test fields, each followed by its tab.
fn push_origin(out: &mut String, origin: &Origin) {
    escape(out, &origin.program);
    out.push('\t');
    escape(out, origin.test.as_deref().unwrap_or_default());
    out.push('\t');
}

impl Record {
    /// The record as one line, checksum and newline included.
    pub fn encode(&self) -> String {
        let mut line = String::new();
        let tab = |line: &mut String| line.push('\t');
        match self {
            Record::Dependency(d) => {
                line.push(if d.refused { 'R' } else { 'E' });
                tab(&mut line);
                push_class(&mut line, &d.from);
                tab(&mut line);
                push_class(&mut line, &d.to);
                tab(&mut line);
                line.push_str(&d.kinds.to_string());
                tab(&mut line);
                push_origin(&mut line, &d.origin);
                push_stack(&mut line, &d.stack);
                tab(&mut line);
            }
            Record::Finding(f) => {
                line.push('F');
                tab(&mut line);
                line.push_str(f.kind.as_str());
                tab(&mut line);
                for (i, class) in f.classes.iter().enumerate() {
                    if i > 0 {
                        line.push(ITEM_SEP);
                    }
                    push_class(&mut line, class);
                }
                tab(&mut line);
                push_origin(&mut line, &f.origin);
            }
        }
        let sum = checksum(line.as_bytes());
        line.push_str(&format!("{sum:016x}\n"));
        line
    }

    /// Parses one line (without its newline); `None` when it is damaged.
    fn decode(line: &[u8]) -> Option<Record> {
        let line = std::str::from_utf8(line).ok()?;
        let (body, sum) = line.rsplit_once('\t')?;
        let body_with_tab = &line.as_bytes()[..body.len() + 1];
        if sum.len() != 16 || u64::from_str_radix(sum, 16).ok()? != checksum(body_with_tab) {
            return None;
        }
        let fields: Vec<&str> = body.split('\t').collect();
        let origin = |program: &str, test: &str| -> Option<Origin> {
            let test = unescape(test)?;
            Some(Origin {
                program: unescape(program)?,
                test: (!test.is_empty()).then_some(test),
            })
        };
        match fields.as_slice() {
            [tag, from, to, kinds, program, test, stack] if *tag == "E" || *tag == "R" => {
                let kinds: u8 = kinds.parse().ok()?;
                if kinds == 0 || kinds > 15 {
                    return None;
                }
                Some(Record::Dependency(StoredDependency {
                    from: parse_class(from)?,
                    to: parse_class(to)?,
                    kinds,
                    refused: *tag == "R",
                    origin: origin(program, test)?,
                    stack: parse_stack(stack)?,
                }))
            }
            [tag, kind, classes, program, test] if *tag == "F" => {
                Some(Record::Finding(StoredFinding {
                    kind: FindingKind::from_word(kind)?,
                    classes: classes
                        .split(ITEM_SEP)
                        .map(parse_class)
                        .collect::<Option<_>>()?,
                    origin: origin(program, test)?,
                }))
            }
            _ => None,
        }
    }
}

/// The records of a store's text, and what was left after the last complete one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    /// Every complete record, in file order.
    pub records: Vec<Record>,
    /// How many bytes the complete lines (and the header, for [`parse`]) take: where the next
    /// record belongs.
    pub complete: usize,
    /// The bytes of a torn tail after them (a writer killed in the middle of a record); 0 when
    /// the text ends with a whole line.
    pub torn: usize,
}

/// Checks the header of a store's text: `Ok(Some(offset))` of the first record, `Ok(None)`
/// when the text is empty or a torn header (a writer killed while it wrote the header).
pub fn check_header(text: &[u8]) -> Result<Option<usize>, FormatError> {
    let Some(end) = text.iter().position(|&b| b == b'\n') else {
        return if HEADER.as_bytes().starts_with(text) {
            Ok(None)
        } else if text.starts_with(MAGIC.as_bytes()) {
            Err(FormatError::Version(
                String::from_utf8_lossy(text).into_owned(),
            ))
        } else {
            Err(FormatError::Corrupt {
                line: 1,
                what: "not a lockdep graph store",
            })
        };
    };
    let header = &text[..end];
    if header == HEADER.as_bytes() {
        Ok(Some(end + 1))
    } else if header.starts_with(MAGIC.as_bytes()) {
        Err(FormatError::Version(
            String::from_utf8_lossy(header).into_owned(),
        ))
    } else {
        Err(FormatError::Corrupt {
            line: 1,
            what: "not a lockdep graph store",
        })
    }
}

/// Parses the records of `text` (which starts after the header, at line `first_line`). Every
/// complete line must be a valid record; a last line without its newline is a torn tail,
/// left out and counted in [`Parsed::torn`].
pub fn parse_records(text: &[u8], first_line: usize) -> Result<Parsed, FormatError> {
    let mut parsed = Parsed::default();
    for (line_no, line) in (first_line..).zip(text.split_inclusive(|&b| b == b'\n')) {
        let Some(body) = line.strip_suffix(b"\n") else {
            parsed.torn = line.len();
            break;
        };
        let record = Record::decode(body).ok_or(FormatError::Corrupt {
            line: line_no,
            what: "a record fails its checksum or does not parse",
        })?;
        parsed.records.push(record);
        parsed.complete += line.len();
    }
    Ok(parsed)
}

/// Parses a whole store file: header, complete records, and the size of a torn tail.
pub fn parse(text: &[u8]) -> Result<Parsed, FormatError> {
    match check_header(text)? {
        None => Ok(Parsed {
            records: Vec::new(),
            complete: 0,
            torn: text.len(),
        }),
        Some(start) => {
            let mut parsed = parse_records(&text[start..], 2)?;
            parsed.complete += start;
            Ok(parsed)
        }
    }
}

#[cfg(test)]
mod tests {
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
}
