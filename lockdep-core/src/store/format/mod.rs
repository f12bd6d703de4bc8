//! The on-disk format of a `LOCKDEP_GRAPH` store: one text file of append-only records.
//!
//! ```text
//! lockdep-graph 2                                        <- header: magic and version
//! E <tab> from <tab> to <tab> kinds <tab> program <tab> test <tab> stack <tab> held_at <tab> sum
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
//! `held_at` (where the held lock was taken, empty when unknown) came later, in the same
//! version: a dependency record without it (one field fewer) still reads, with the site absent.
//!
//! The modules: `types.rs` the records as values, `codec.rs` a record as one line and back, and
//! this file the header and the reading of a whole store.
//!
//! A writer killed in the middle of a record (a signal, a file-size limit) leaves a last line
//! without its newline: a *torn tail*. Readers skip it ([`parse`] says how many bytes it has),
//! and the next writer cuts it off, under the lock, before it appends, so records always start
//! on a fresh line and every complete record stays readable.

mod codec;
mod types;

use std::fmt;
pub use types::{
    FindingKind, Origin, Record, StoredClass, StoredDependency, StoredFinding, StoredFrame,
};

/// The first line of a store file; the number is the format version.
pub const HEADER: &str = "lockdep-graph 2";
/// The magic word of the header, without the version (to tell "other version" from garbage).
const MAGIC: &str = "lockdep-graph ";
/// Separates the parts of one item: a class's name from its subclass, a frame's function from
/// its location.
const PART_SEP: char = '\u{1f}';
/// Separates the items of a list: a finding's classes, a stack's frames.
const ITEM_SEP: char = '\u{1e}';

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
mod tests;
