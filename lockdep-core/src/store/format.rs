//! The on-disk format of a `LOCKDEP_GRAPH` store: one text file of append-only records.
//!
//! ```text
//! lockdep-graph 1                                        <- header: magic and version
//! E <tab> from <tab> sub <tab> to <tab> sub <tab> kinds <tab> program <tab> test <tab> stack <tab> sum
//! R <tab> ...same fields: a dependency that closed a cycle and was refused...
//! F <tab> kind <tab> classes <tab> program <tab> test <tab> sum
//! ```
//!
//! Every record is one line, written whole by one `write` under an exclusive file lock, and
//! ends with the FNV-1a checksum of the text before it: a torn, truncated or edited record
//! is recognised as such, never half-believed. Fields escape `\`, tab and newline. A stack is
//! its frames, one per line (`function` or `function<US>file:line`), as text: the reading
//! process has no way to symbolise another program's addresses.

use std::fmt;

/// The first line of a store file; the number is the format version.
pub const HEADER: &str = "lockdep-graph 1";
/// The magic word of the header, without the version (to tell "other version" from garbage).
const MAGIC: &str = "lockdep-graph ";
/// Separates a frame's function name from its location inside a stack field.
const FRAME_SEP: char = '\u{1f}';
/// Separates class names in a finding's class list.
const CLASS_SEP: char = '\u{1e}';

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
fn checksum(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn escape(out: &mut String, field: &str) {
    for c in field.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

fn unescape(field: &str) -> Option<String> {
    let mut out = String::with_capacity(field.len());
    let mut chars = field.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match chars.next()? {
            '\\' => '\\',
            't' => '\t',
            'n' => '\n',
            _ => return None,
        });
    }
    Some(out)
}

fn class_text(class: &StoredClass) -> String {
    format!("{}{FRAME_SEP}{}", class.name, class.subclass)
}

fn parse_class(text: &str) -> Option<StoredClass> {
    let (name, subclass) = text.rsplit_once(FRAME_SEP)?;
    Some(StoredClass {
        name: name.to_string(),
        // As in the validator: at most MAX_SUBCLASSES nesting levels.
        subclass: subclass
            .parse()
            .ok()
            .filter(|&s| s < crate::MAX_SUBCLASSES)?,
    })
}

fn stack_text(stack: &[StoredFrame]) -> String {
    let frames: Vec<String> = stack
        .iter()
        .map(|f| match &f.location {
            Some(at) => format!("{}{FRAME_SEP}{at}", f.function),
            None => f.function.clone(),
        })
        .collect();
    frames.join("\n")
}

fn parse_stack(text: &str) -> Vec<StoredFrame> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| match l.split_once(FRAME_SEP) {
            Some((function, at)) => StoredFrame {
                function: function.to_string(),
                location: Some(at.to_string()),
            },
            None => StoredFrame {
                function: l.to_string(),
                location: None,
            },
        })
        .collect()
}

impl Record {
    /// The record as one line, checksum and newline included.
    pub fn encode(&self) -> String {
        let fields: Vec<String> = match self {
            Record::Dependency(d) => vec![
                if d.refused { "R" } else { "E" }.to_string(),
                class_text(&d.from),
                class_text(&d.to),
                d.kinds.to_string(),
                d.origin.program.clone(),
                d.origin.test.clone().unwrap_or_default(),
                stack_text(&d.stack),
            ],
            Record::Finding(f) => vec![
                "F".to_string(),
                match f.kind {
                    FindingKind::Cycle => "cycle",
                    FindingKind::Recursive => "recursive",
                }
                .to_string(),
                f.classes
                    .iter()
                    .map(class_text)
                    .collect::<Vec<_>>()
                    .join(&CLASS_SEP.to_string()),
                f.origin.program.clone(),
                f.origin.test.clone().unwrap_or_default(),
            ],
        };
        let mut line = String::new();
        for field in &fields {
            escape(&mut line, field);
            line.push('\t');
        }
        let sum = checksum(&line);
        line.push_str(&format!("{sum:016x}\n"));
        line
    }

    /// Parses one line (without its newline); `None` when it is damaged.
    fn decode(line: &str) -> Option<Record> {
        let (body, sum) = line.rsplit_once('\t')?;
        let body_with_tab = &line[..body.len() + 1];
        if u64::from_str_radix(sum, 16).ok()? != checksum(body_with_tab) {
            return None;
        }
        let fields: Vec<String> = body.split('\t').map(unescape).collect::<Option<_>>()?;
        let origin = |program: &String, test: &String| Origin {
            program: program.clone(),
            test: (!test.is_empty()).then(|| test.clone()),
        };
        match fields.as_slice() {
            [tag, from, to, kinds, program, test, stack] if tag == "E" || tag == "R" => {
                let kinds: u8 = kinds.parse().ok()?;
                if kinds == 0 || kinds > 15 {
                    return None;
                }
                Some(Record::Dependency(StoredDependency {
                    from: parse_class(from)?,
                    to: parse_class(to)?,
                    kinds,
                    refused: tag == "R",
                    origin: origin(program, test),
                    stack: parse_stack(stack),
                }))
            }
            [tag, kind, classes, program, test] if tag == "F" => {
                Some(Record::Finding(StoredFinding {
                    kind: match kind.as_str() {
                        "cycle" => FindingKind::Cycle,
                        "recursive" => FindingKind::Recursive,
                        _ => return None,
                    },
                    classes: classes
                        .split(CLASS_SEP)
                        .map(parse_class)
                        .collect::<Option<_>>()?,
                    origin: origin(program, test),
                }))
            }
            _ => None,
        }
    }
}

/// Checks the header of a store's text; `Ok(offset)` of the first record.
pub fn check_header(text: &str) -> Result<usize, FormatError> {
    let Some(end) = text.find('\n') else {
        return Err(if text.starts_with(MAGIC) || MAGIC.starts_with(text) {
            FormatError::Corrupt {
                line: 1,
                what: "the header is truncated",
            }
        } else {
            FormatError::Corrupt {
                line: 1,
                what: "not a lockdep graph store",
            }
        });
    };
    let header = &text[..end];
    if header == HEADER {
        Ok(end + 1)
    } else if header.starts_with(MAGIC) {
        Err(FormatError::Version(header.to_string()))
    } else {
        Err(FormatError::Corrupt {
            line: 1,
            what: "not a lockdep graph store",
        })
    }
}

/// Parses the records of `text` (which starts after the header, at line `first_line`). Every
/// record must be whole: a last line without its newline is a truncated store.
pub fn parse_records(text: &str, first_line: usize) -> Result<Vec<Record>, FormatError> {
    let mut records = Vec::new();
    let mut rest = text;
    let mut line_no = first_line;
    while !rest.is_empty() {
        let Some(end) = rest.find('\n') else {
            return Err(FormatError::Corrupt {
                line: line_no,
                what: "the last record is truncated",
            });
        };
        let record = Record::decode(&rest[..end]).ok_or(FormatError::Corrupt {
            line: line_no,
            what: "a record fails its checksum or does not parse",
        })?;
        records.push(record);
        rest = &rest[end + 1..];
        line_no += 1;
    }
    Ok(records)
}

/// Parses a whole store file.
pub fn parse(text: &str) -> Result<Vec<Record>, FormatError> {
    let start = check_header(text)?;
    parse_records(&text[start..], 2)
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
        let records = parse(&text).unwrap();
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
    fn damage_is_detected_never_believed() {
        let line = dep(Vec::new()).encode();
        let good = format!("{HEADER}\n{line}");
        assert!(parse(&good).is_ok());
        // Truncated in the middle of the last record.
        let cut = &good[..good.len() - 5];
        assert!(matches!(
            parse(cut),
            Err(FormatError::Corrupt { line: 2, .. })
        ));
        // One byte changed.
        let flipped = good.replacen("first_half", "first_hals", 1);
        assert!(matches!(parse(&flipped), Err(FormatError::Corrupt { .. })));
        // Another version, garbage, an empty-header file.
        assert!(matches!(
            parse("lockdep-graph 2\n"),
            Err(FormatError::Version(_))
        ));
        assert!(matches!(
            parse("\u{0}\u{1}garbage\n"),
            Err(FormatError::Corrupt { .. })
        ));
        assert!(matches!(
            parse("lockdep-gr"),
            Err(FormatError::Corrupt { line: 1, .. })
        ));
        assert_eq!(parse(&format!("{HEADER}\n")), Ok(Vec::new()));
    }
}
