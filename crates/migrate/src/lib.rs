//! Register migration, the conversion half: a register exported as CSV or as a spreadsheet
//! (.xlsx, .xlsm, .xlsb, .xls, .ods) becomes the records of the interchange format
//! (`docs/INTERCHANGE.md`) — an `item` per row, with its markings, and the events the row
//! tells (acquisition, current holder, status) — plus a list of [`Problem`]s, each naming the
//! row, the column (letter and header name) and what to do about it.
//!
//! This crate does not touch a store: it produces JSON objects, and the import engine validates
//! them with the same rules as JSON Lines, mapping its errors back to rows and columns through
//! [`Converted::provenance`] (see [`Converted::column_for`]).
//!
//! # Rows and columns
//!
//! A CSV file's rows are numbered as a spreadsheet shows them: the header is row 1 and each
//! record after it is the next row; a blank line is a row (skipped, but counted), and a record
//! whose quoted cell spans several lines is one row. A spreadsheet's rows are the sheet's own row numbers, so a header on the sheet's
//! first row is row 1, and a header below title rows keeps the number Excel shows. Columns are
//! named by letter and header, `C "N° de série"`.
//!
//! A row with any [`Severity::Error`] problem yields no records at all (nothing of it is half
//! imported); warnings leave its records as they are. Problems that concern the file as a whole
//! and make it unusable (empty file, one column only, no header, an ambiguous or wrong mapping,
//! a line over [`MAX_RECORD_BYTES`]) end the conversion with [`ConvertError::Rejected`]. The
//! file-level warnings (columns not mapped, other sheets ignored…) come first, as a
//! [`Converted`] for the header row with no records.
//!
//! # What a row yields
//!
//! - `records[0]`, the **item**: `key` from the key column, or, when the mapping has none,
//!   `<register>-R<row>` (register: the mapping's `register`, else the file name without its
//!   extension — so keys are stable only while rows keep their places: give registers that
//!   will be re-imported after editing a key column); `kind` from a kind column, else implied
//!   by the type (mortars, launchers: `light_weapon`; receivers, barrels…: `part`), else the
//!   mapping's `kind`, else `firearm`; `type` (usual words in the four languages mapped to
//!   `pistol`, `assault_rifle`…, other text kept as written); `make`, `model`, `calibre`;
//!   `country_of_manufacture` as ISO alpha-2 (codes, alpha-3 codes and country names in
//!   English, French, Spanish and Portuguese are accepted; former states such as the USSR are
//!   refused with the fix); `year_of_manufacture`; and **markings**: every marking column
//!   gives `{"kind": …, "text": <the cell exactly as written, never trimmed or altered>}`
//!   (with `component` when the mapping says where the marking is).
//! - then the **events**, each with a deterministic `id`, `<key>:acquisition`,
//!   `<key>:holder` or `<key>:status` (a hash of the key stands in for it when the key is
//!   too long), so that importing the same file again adds nothing; the id names the role of
//!   the column group, not its header, so renaming a header does not change it:
//!   - acquisition date (+ supplier, supplier country, document number, acquisition type) →
//!     `imported` or `transferred` (or `manufactured`, `seized`, `surrendered`…, from the
//!     acquisition type column; without one: the mapping's `acquisition`, else `imported` when
//!     the supplier's country differs from the mapping's `state`, else `transferred`);
//!   - current holder (+ holder date) → `assigned` to that holder;
//!   - status (+ status date): stolen/volé/robado/roubado → `reported_stolen`, lost → `reported_lost`,
//!     seized, destroyed, deactivated, exported, surrendered, recovered, returned → that
//!     event; "in service", "in stock" and the like give no event.
//!
//!   Holder and status events without a date of their own take the mapping's `as_of` (the
//!   date of the register's state); without one, the row is in error.
//!
//! # Mapping file (TOML; JSON with the same fields when the name ends in `.json`)
//!
//! ```toml
//! version = 1                     # optional
//! register = "police-nord"        # for derived keys (default: the file name)
//! header = true                   # false: no header row; columns by letter only
//! detect = true                   # also detect the columns not listed (default: = header)
//! date_format = "DMY"             # DMY | MDY | YMD (also "dd/mm/yyyy", "jj/mm/aaaa"…)
//! as_of = "2024-06-30"            # date of the holder/status events without one
//! kind = "firearm"                # item kind when nothing else says
//! state = "KE"                    # registry's state: a foreign supplier means an import
//! acquisition = "transferred"     # event type of acquisitions (no acquisition type column)
//! acquirer = { name = "Kenya Police Service", kind = "police", country = "KE" }
//! holder_kind = "police"          # to.kind of assigned events
//! supplier_kind = "dealer"        # from.kind of acquisition events
//!
//! [columns]                       # header name (case/accent/space-insensitive) or letter
//! "N° de série" = "marking.serial"
//! "N° culasse" = { field = "marking.serial", component = "slide" }
//! "Marque" = "make"
//! F = "country_of_manufacture"
//! "Observations" = "ignore"
//! ```
//!
//! Fields: see [`Field::names`]. A header name wins over a letter (a column headed `C` is
//! matched by name). [`MappingGuess::to_toml`] writes the detected mapping in this form, with
//! the columns left to decide as comments, for a clerk to complete.
//!
//! # Reading
//!
//! CSV is streamed record by record in constant memory: delimiter (`,` `;` tab `|`: the one
//! that gives the header more than one column and the most rows of the header's width) and
//! encoding are detected from the first 64 KiB, or declared. Encoding: a BOM (UTF-8, UTF-16
//! LE/BE); else UTF-16 without BOM when every other byte is zero; else UTF-8 when the sample
//! is mostly well-formed UTF-8; else `chardetng`, mapped to Windows-1251 for a Cyrillic guess
//! and Windows-1252 otherwise. Cells are decoded one by one, so a file that mixes encodings is
//! reported at each cell that does not fit (bytes that are not UTF-8 in a UTF-8 file, UTF-8
//! text in a Windows-125x file, bytes undefined in the encoding, U+FFFD left by an earlier
//! conversion); such a row yields nothing. A record longer than [`MAX_RECORD_BYTES`] stops the conversion at its row after
//! reading at most that much of it. Spreadsheets are read with `calamine`, which loads the
//! whole sheet in memory (a sheet is at most about a million rows); formulas are flagged (the
//! cached value is used), merged cells are reported for .xlsx and .xls (calamine does not
//! report them for .ods, where the continuation cells simply read as empty).

mod csvsrc;
mod mapping;
mod normalize;
mod resolve;
mod row;
mod sheet;
mod values;

pub use mapping::{
    detect_mapping, Actor, Ambiguity, ColumnMap, Field, Mapping, MappingError, MappingGuess,
};
pub use values::DateFormat;

use std::fmt;
use std::io::{self, Read};
use std::path::Path;

/// The longest CSV record (one row, all its cells) read: 1 MiB. A longer one — a file whose
/// lines are not rows, an unclosed quote, a 2 GB single line — is reported at its row without
/// being read further.
pub const MAX_RECORD_BYTES: usize = 1 << 20;

/// A column of the file: its 0-based index, its letter (`A`, `B`, … `AA`) and its header name
/// (empty when the file has no header row).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ColumnRef {
    pub index: usize,
    pub letter: String,
    pub header: String,
}

impl ColumnRef {
    pub fn new(index: usize, header: &str) -> Self {
        ColumnRef {
            index,
            letter: column_letter(index),
            header: header.to_owned(),
        }
    }
}

impl fmt::Display for ColumnRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.header.trim().is_empty() {
            write!(f, "{}", self.letter)
        } else {
            write!(f, "{} {:?}", self.letter, self.header.trim())
        }
    }
}

/// The spreadsheet letter of a 0-based column index: 0 → `A`, 25 → `Z`, 26 → `AA`.
pub fn column_letter(index: usize) -> String {
    let mut n = index + 1;
    let mut out = Vec::new();
    while n > 0 {
        let r = (n - 1) % 26;
        out.push(b'A' + r as u8);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// How serious a problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// The row yields no records until this is fixed.
    Error,
    /// The row's records are produced; this deserves a look.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// Something wrong with a row, a cell, or the file, in words a clerk can act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// 1-based row (the header is row 1; see the crate documentation).
    pub row: u64,
    pub column: Option<ColumnRef>,
    pub severity: Severity,
    pub message: String,
    pub suggestion: Option<String>,
}

impl Problem {
    pub(crate) fn error(
        row: u64,
        column: Option<&ColumnRef>,
        message: impl Into<String>,
        suggestion: Option<String>,
    ) -> Self {
        Problem {
            row,
            column: column.cloned(),
            severity: Severity::Error,
            message: message.into(),
            suggestion,
        }
    }

    pub(crate) fn warning(
        row: u64,
        column: Option<&ColumnRef>,
        message: impl Into<String>,
        suggestion: Option<String>,
    ) -> Self {
        Problem {
            severity: Severity::Warning,
            ..Problem::error(row, column, message, suggestion)
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "row {}", self.row)?;
        if let Some(c) = &self.column {
            write!(f, ", column {c}")?;
        }
        write!(f, ": {}: {}", self.severity, self.message)?;
        if let Some(s) = &self.suggestion {
            write!(f, " (fix: {s})")?;
        }
        Ok(())
    }
}

/// What one row of the register became.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Converted {
    /// The row (see the crate documentation for the numbering).
    pub row: u64,
    /// Interchange records, in order: the item, then its events. Empty when the row has an
    /// error, and for the header row.
    pub records: Vec<serde_json::Map<String, serde_json::Value>>,
    pub problems: Vec<Problem>,
    /// Where each value came from: a JSON path into `records` (`records[0].markings[0].text`,
    /// `records[1].date`; `records[1]` alone for the record as a whole) and the column.
    pub provenance: Vec<(String, ColumnRef)>,
    /// The row's cells as read (decoded to UTF-8; spreadsheet values as text), for a rejects
    /// file a clerk can correct and import again. The header row's are the header names.
    pub cells: Vec<String>,
}

impl Converted {
    /// The column an error about `field` of `records[record]` should name (a field path as the
    /// interchange parser reports it: `markings[0].text`, `to.name`, `date`, `""` for the
    /// record as a whole). The exact path first, then a value under it (`to` → `to.name`), then
    /// a value it is part of, then the record's main column.
    pub fn column_for(&self, record: usize, field: &str) -> Option<&ColumnRef> {
        let base = format!("records[{record}]");
        let full = if field.is_empty() {
            base.clone()
        } else {
            format!("{base}.{field}")
        };
        let under = |p: &str, prefix: &str| {
            p.strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
        };
        let find = |pred: &dyn Fn(&str) -> bool| {
            self.provenance
                .iter()
                .find(|(p, _)| pred(p))
                .map(|(_, c)| c)
        };
        if let Some(c) = find(&|p| p == full).or_else(|| find(&|p| under(p, &full))) {
            return Some(c);
        }
        // The nearest enclosing value that has a column: `from.kind` → the supplier column.
        let mut path = full.as_str();
        while path.len() > base.len() {
            let cut = path.rfind(['.', '[']).unwrap_or(0).max(base.len());
            path = &path[..cut];
            if path.len() == base.len() {
                break;
            }
            if let Some(c) = find(&|p| p == path).or_else(|| find(&|p| under(p, path))) {
                return Some(c);
            }
        }
        find(&|p| p == base)
    }

    /// True when the row has an error (and so no records).
    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(|p| p.severity == Severity::Error)
    }
}

/// How to read the file. Every field left `None` is detected.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// CSV separator; detected among `,` `;` tab `|` when `None`.
    pub delimiter: Option<u8>,
    /// CSV encoding, by WHATWG label (`utf-8`, `utf-16le`, `windows-1252`, `windows-1251`,
    /// `latin1`…); detected when `None` (see the crate documentation).
    pub encoding: Option<String>,
    /// Order of day, month and year in dates written `31/01/2001`; overrides the mapping's.
    pub date_format: Option<DateFormat>,
    /// Worksheet to read (default: the first).
    pub sheet: Option<String>,
}

/// What kind of file was read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceFormat {
    Csv,
    Xlsx,
    Xlsb,
    Xls,
    Ods,
}

/// The conversion of a whole file, once every row has been passed on.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    pub format: SourceFormat,
    /// CSV: the encoding read (`UTF-8`, `UTF-16LE`, `windows-1252`…).
    pub encoding: Option<String>,
    /// CSV: the separator used.
    pub delimiter: Option<u8>,
    /// Spreadsheet: the sheet read.
    pub sheet: Option<String>,
    /// The header row (0 when the file has none).
    pub header_row: u64,
    /// Rows read after the header, blank rows not counted.
    pub rows: u64,
    /// Rows that yielded no records because of an error.
    pub rows_rejected: u64,
    /// Records produced.
    pub records: u64,
    pub errors: u64,
    pub warnings: u64,
    /// Keys were derived from the register name and row (no key column).
    pub keys_generated: bool,
    /// The register's name in derived keys (`<register>-R<row>`).
    pub register: String,
    /// Every column and the field it was read as (`None`: not imported).
    pub columns: Vec<(ColumnRef, Option<Field>)>,
    /// The mapping used, as a mapping file would give it (detected columns included).
    pub mapping: Mapping,
}

/// A file that cannot be converted at all.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    /// Reading the file failed, or the output callback failed.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The file cannot be converted as it stands: the problems say why and how to fix it.
    #[error("{}", display_problems(.0))]
    Rejected(Vec<Problem>),
}

fn display_problems(ps: &[Problem]) -> String {
    ps.iter()
        .filter(|p| p.severity == Severity::Error)
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl ConvertError {
    pub(crate) fn file(
        row: u64,
        column: Option<&ColumnRef>,
        message: impl Into<String>,
        suggestion: impl Into<String>,
    ) -> Self {
        ConvertError::Rejected(vec![Problem::error(
            row,
            column,
            message,
            Some(suggestion.into()),
        )])
    }
}

/// Converts a register file: CSV (any other name) or a spreadsheet (.xlsx, .xlsm, .xlsb, .xls,
/// .ods, also recognised by content). `out` receives each row's [`Converted`] in order (the
/// header row first when it has warnings); an error from `out` stops the conversion. Without a
/// mapping, the columns are detected from the header names.
pub fn convert_path(
    path: &Path,
    mapping: Option<&Mapping>,
    opts: &ReadOptions,
    out: &mut dyn FnMut(Converted) -> io::Result<()>,
) -> Result<Summary, ConvertError> {
    let register = mapping
        .and_then(|m| m.register.clone())
        .or_else(|| path.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let mut file = std::fs::File::open(path)?;
    let mut magic = [0u8; 8];
    let mut got = 0;
    while got < magic.len() {
        match file.read(&mut magic[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let zip = magic[..got].starts_with(b"PK\x03\x04");
    let ole = magic[..got].starts_with(&[0xD0, 0xCF, 0x11, 0xE0]);
    let sheet_ext = matches!(ext.as_str(), "xlsx" | "xlsm" | "xlsb" | "xls" | "ods");
    if sheet_ext || zip || ole {
        drop(file);
        return sheet::convert_workbook(path, &register, mapping, opts, out);
    }
    let head = io::Cursor::new(magic[..got].to_vec());
    csvsrc::convert_csv(head.chain(file), &register, mapping, opts, out)
}

/// Converts CSV from any reader (standard input, an upload), streaming. `register` names the
/// register for derived keys when the mapping gives no name.
pub fn convert_reader(
    input: impl Read,
    register: &str,
    mapping: Option<&Mapping>,
    opts: &ReadOptions,
    out: &mut dyn FnMut(Converted) -> io::Result<()>,
) -> Result<Summary, ConvertError> {
    let register = mapping
        .and_then(|m| m.register.clone())
        .unwrap_or_else(|| register.to_owned());
    csvsrc::convert_csv(input, &register, mapping, opts, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_for_falls_back_sensibly() {
        let c = |i: usize, h: &str| ColumnRef::new(i, h);
        let conv = Converted {
            row: 2,
            records: vec![],
            problems: vec![],
            provenance: vec![
                ("records[0]".into(), c(0, "Key")),
                ("records[0].key".into(), c(0, "Key")),
                ("records[0].markings[0].text".into(), c(1, "Serial")),
                ("records[1]".into(), c(5, "Date")),
                ("records[1].date".into(), c(5, "Date")),
                ("records[1].from.name".into(), c(6, "Supplier")),
                ("records[1].from.country".into(), c(7, "Supplier country")),
            ],
            cells: vec![],
        };
        assert_eq!(conv.column_for(0, "markings[0].text").unwrap().letter, "B");
        assert_eq!(conv.column_for(0, "markings[0]").unwrap().letter, "B");
        assert_eq!(conv.column_for(0, "markings").unwrap().letter, "B");
        assert_eq!(conv.column_for(1, "from").unwrap().letter, "G");
        assert_eq!(conv.column_for(1, "from.kind").unwrap().letter, "G");
        assert_eq!(conv.column_for(1, "").unwrap().letter, "F");
        assert_eq!(conv.column_for(0, "kind").unwrap().letter, "A");
        assert!(conv.column_for(2, "").is_none());
        assert_eq!(c(2, "N° de série").to_string(), "C \"N° de série\"");
    }
}
