//! A record as one line of text and back: the escaping of pieces, the fields of each record,
//! the checksum.

use super::types::{
    FindingKind, Origin, Record, StoredClass, StoredDependency, StoredFinding, StoredFrame,
};
use super::{ITEM_SEP, PART_SEP};

/// The FNV-1a hash of `text`, the records' checksum.
pub(super) fn checksum(text: &[u8]) -> u64 {
    text.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Appends `piece` escaped: afterwards `out` holds no tab, newline or separator of its.
pub(super) fn escape(out: &mut String, piece: &str) {
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

pub(super) fn unescape(piece: &str) -> Option<String> {
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
                escape(&mut line, d.held_at.as_deref().unwrap_or_default());
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
    pub(super) fn decode(line: &[u8]) -> Option<Record> {
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
            // Records written before the held lock's site was stored end at the stack.
            [tag, from, to, kinds, program, test, stack, held_at @ ..]
                if (*tag == "E" || *tag == "R") && held_at.len() <= 1 =>
            {
                let held_at = match held_at.first() {
                    Some(at) => Some(unescape(at)?).filter(|at| !at.is_empty()),
                    None => None,
                };
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
                    held_at,
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
