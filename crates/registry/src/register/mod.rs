//! Import of register exports — CSV and spreadsheets — through the same engine as JSON Lines.
//!
//! A register file is converted row by row by `tracemark-migrate` into interchange records,
//! written to a temporary JSON Lines file in the data folder beside an index that says which
//! row each record came from. The JSON Lines engine ([`crate::import`]) then validates and
//! commits them exactly as it would a `.jsonl` file, so the rules, the idempotency and the
//! ledger are the same whatever the source. What the engine reports by line is mapped back to
//! the register's row and column (a second reading of the file, only when there is something
//! to map), so a clerk is told `row 12, column C "N° de série"`, never a line of a file she has
//! not seen.
//!
//! **The row is the unit.** Without `accept_valid`, one error anywhere means nothing is
//! written, and every problem of every file is reported at once. With it, a row any of whose
//! records is refused is refused whole (its other records are not written either), rows that
//! depended on it (a part whose weapon's row was refused) follow it, and the refused rows are
//! written to the rejects file with the file's own header, ready to be corrected and imported
//! again. When the register has no key column, the rejects file gets a `key` column holding the
//! key each row would have had, so the corrected rows keep their identity.
//!
//! Beside the errors, the report carries what deserves a clerk's look without stopping the
//! import ([`checks`]): likely duplicates (the same serial and make under different keys, in
//! the file, across the files, or against the store) and serials whose form is suspicious
//! (mixed scripts, placeholders, letters among digits). [`report`] writes the whole report as
//! CSV and as a self-contained HTML page.
//!
//! Memory: conversion and both engine passes stream. What grows with the input is the
//! likely-duplicate table (a few dozen bytes per serial) and the problems themselves.

pub mod checks;
pub mod report;

use crate::import::{self, ImportError, ImportOptions, LineError, Phase, Progress, ProgressFn};
use crate::{Clock, Node};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tracemark_migrate::{
    ConvertError, Converted, Mapping, Problem, ReadOptions, Severity, SourceFormat, Summary,
};

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("{0}: {1}")]
    Read(String, io::Error),
    #[error("temporary files in the data folder: {0}")]
    Temp(io::Error),
    #[error("writing rejects to {0}: {1}")]
    Rejects(String, io::Error),
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error(
        "{0} changed while it was being imported; nothing more was written, run the import again"
    )]
    Changed(String),
}

/// How to import register files.
#[derive(Clone, Default)]
pub struct RegisterOptions {
    /// Column mapping; detected from the header names when `None`.
    pub mapping: Option<Mapping>,
    pub read: ReadOptions,
    pub accept_valid: bool,
    /// Where refused rows go (CSV with the file's header), with `accept_valid`. With several
    /// files, each file's rows go to `<stem>.<file stem>.csv` beside it.
    pub rejects: Option<PathBuf>,
    /// Who is recording (e.g. `cli:alice`); goes into every leaf.
    pub recorded_by: String,
    pub batch_records: usize,
    /// Check and report only; write nothing to the store.
    pub check_only: bool,
    pub progress: Option<ProgressFn>,
}

/// What kind of problem a clerk is looking at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// The file as a whole cannot be read as a register (no header, wrong delimiter…).
    File,
    /// A cell could not be converted (a date, a country, an encoding…).
    Conversion,
    /// The records were refused by the registry's rules (life cycle, keys, references).
    Validation,
    /// The row's records were written but another row refused them with it.
    Dependent,
    /// The same serial and make under another key.
    LikelyDuplicate,
    /// A serial whose form deserves a second look.
    Suspicious,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::File => "file",
            Category::Conversion => "conversion",
            Category::Validation => "validation",
            Category::Dependent => "dependent",
            Category::LikelyDuplicate => "likely_duplicate",
            Category::Suspicious => "suspicious",
        }
    }
}

/// One problem, where it is and what to do about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RowProblem {
    pub file: String,
    /// The register's row, numbered as a spreadsheet shows it (the header is row 1).
    pub row: u64,
    /// Column letter (`C`), when the problem is in one cell.
    pub column: Option<String>,
    /// The column's header name.
    pub header: Option<String>,
    pub severity: &'static str,
    pub category: Category,
    /// The interchange field (`markings[0].text`, `date`…) for problems found by the rules.
    pub field: String,
    pub message: String,
    pub suggestion: Option<String>,
    /// The key of the item the row declares, when it has one.
    pub key: Option<String>,
}

impl RowProblem {
    pub fn is_error(&self) -> bool {
        self.severity == "error"
    }

    fn from_problem(file: &str, p: &Problem, key: Option<String>, category: Category) -> Self {
        RowProblem {
            file: file.to_owned(),
            row: p.row,
            column: p.column.as_ref().map(|c| c.letter.clone()),
            header: p
                .column
                .as_ref()
                .map(|c| c.header.trim().to_owned())
                .filter(|h| !h.is_empty()),
            severity: match p.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            },
            category,
            field: String::new(),
            message: p.message.clone(),
            suggestion: p.suggestion.clone(),
            key,
        }
    }
}

/// A column of a file and the field it was read as.
#[derive(Clone, Debug, Serialize)]
pub struct ColumnReport {
    pub letter: String,
    pub header: String,
    /// `None`: not imported.
    pub field: Option<String>,
}

/// What one file was, and what became of its rows.
#[derive(Clone, Debug, Serialize)]
pub struct FileReport {
    pub file: String,
    pub format: &'static str,
    pub encoding: Option<String>,
    pub delimiter: Option<String>,
    pub sheet: Option<String>,
    pub header_row: u64,
    /// Rows after the header, blank rows not counted.
    pub rows: u64,
    /// Rows refused, by the conversion or by the rules.
    pub rows_rejected: u64,
    /// Records the rows became (before the rules).
    pub records: u64,
    pub keys_generated: bool,
    pub columns: Vec<ColumnReport>,
    #[serde(skip)]
    register: String,
    /// The mapping used, as a mapping file (TOML) a clerk can review, edit and pass back.
    #[serde(skip)]
    pub mapping_toml: String,
}

/// The outcome of a register import.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RegisterReport {
    pub files: Vec<FileReport>,
    /// Rows read, over all files.
    pub rows: u64,
    /// Rows refused (nothing of them is written).
    pub rows_rejected: u64,
    /// Records written (or that would have been, had nothing been refused).
    pub accepted: u64,
    /// Records already in the store (importing the same file again adds nothing).
    pub duplicates: u64,
    /// Every problem, by file and row.
    pub problems: Vec<RowProblem>,
    pub committed: bool,
    pub ledger_size: u64,
}

impl RegisterReport {
    pub fn errors(&self) -> impl Iterator<Item = &RowProblem> {
        self.problems.iter().filter(|p| p.is_error())
    }

    pub fn warnings(&self) -> impl Iterator<Item = &RowProblem> {
        self.problems.iter().filter(|p| !p.is_error())
    }

    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(RowProblem::is_error)
    }
}

fn format_name(f: SourceFormat) -> &'static str {
    match f {
        SourceFormat::Csv => "csv",
        SourceFormat::Xlsx => "xlsx",
        SourceFormat::Xlsb => "xlsb",
        SourceFormat::Xls => "xls",
        SourceFormat::Ods => "ods",
    }
}

fn delimiter_name(d: u8) -> String {
    match d {
        b'\t' => "tab".into(),
        other => char::from(other).to_string(),
    }
}

fn file_report(file: &str, s: &Summary) -> FileReport {
    FileReport {
        file: file.to_owned(),
        format: format_name(s.format),
        encoding: s.encoding.clone(),
        delimiter: s.delimiter.map(delimiter_name),
        sheet: s.sheet.clone(),
        header_row: s.header_row,
        rows: s.rows,
        rows_rejected: s.rows_rejected,
        records: s.records,
        keys_generated: s.keys_generated,
        columns: s
            .columns
            .iter()
            .map(|(c, f)| ColumnReport {
                letter: c.letter.clone(),
                header: c.header.trim().to_owned(),
                field: f.as_ref().map(|f| f.name()),
            })
            .collect(),
        register: s.register.clone(),
        mapping_toml: s.mapping.to_toml(),
    }
}

/// True for a file the converter reads as a spreadsheet (by name or by content).
fn is_spreadsheet(path: &Path) -> io::Result<bool> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if matches!(ext.as_str(), "xlsx" | "xlsm" | "xlsb" | "xls" | "ods") {
        return Ok(true);
    }
    let mut magic = [0u8; 4];
    let mut f = File::open(path)?;
    let mut got = 0;
    while got < magic.len() {
        match f.read(&mut magic[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(magic[..got].starts_with(b"PK\x03\x04")
        || magic[..got].starts_with(&[0xD0, 0xCF, 0x11, 0xE0]))
}

/// A reader that counts the bytes it hands out, for progress.
struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Converts one register file, streaming each row to `out`.
fn convert(
    path: &Path,
    opts: &RegisterOptions,
    out: &mut dyn FnMut(Converted) -> io::Result<()>,
) -> Result<Summary, ConvertError> {
    let mapping = opts.mapping.as_ref();
    if is_spreadsheet(path)? {
        let mut rows = 0u64;
        let progress = opts.progress.clone();
        return tracemark_migrate::convert_path(path, mapping, &opts.read, &mut |c| {
            rows += 1;
            if let Some(p) = &progress {
                if rows.is_multiple_of(4096) {
                    p(Progress {
                        phase: Phase::Converting,
                        done: rows,
                        total: None,
                    });
                }
            }
            out(c)
        });
    }
    let total = std::fs::metadata(path)?.len();
    let count = Arc::new(AtomicU64::new(0));
    let reader = Counting {
        inner: File::open(path)?,
        count: count.clone(),
    };
    let register = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let progress = opts.progress.clone();
    let mut rows = 0u64;
    tracemark_migrate::convert_reader(reader, &register, mapping, &opts.read, &mut |c| {
        rows += 1;
        if let Some(p) = &progress {
            if rows.is_multiple_of(4096) {
                p(Progress {
                    phase: Phase::Converting,
                    done: count.load(Ordering::Relaxed),
                    total: Some(total),
                });
            }
        }
        out(c)
    })
}

/// One file's records staged for the engine: the JSON Lines file and, for each of its lines,
/// the register row it came from (little-endian `u32`s).
struct Staged {
    jsonl: PathBuf,
    rows: PathBuf,
}

fn key_of(c: &Converted) -> Option<String> {
    c.records
        .first()
        .and_then(|r| r.get("key"))
        .and_then(|k| k.as_str())
        .map(str::to_owned)
}

/// First reading: converts `path`, writes its records and row index, records the converter's
/// problems and the checks' findings.
fn stage(
    fi: usize,
    path: &Path,
    dir: &Path,
    opts: &RegisterOptions,
    checks: &mut checks::Checks<'_>,
    report: &mut RegisterReport,
) -> Result<Option<Staged>, RegisterError> {
    let name = path.display().to_string();
    let staged = Staged {
        jsonl: dir.join(format!("{fi}.jsonl")),
        rows: dir.join(format!("{fi}.rows")),
    };
    let mut jsonl = BufWriter::with_capacity(
        1 << 20,
        File::create(&staged.jsonl).map_err(RegisterError::Temp)?,
    );
    let mut rows = BufWriter::new(File::create(&staged.rows).map_err(RegisterError::Temp)?);
    let mut problems = Vec::new();
    let result = convert(path, opts, &mut |c| {
        let key = key_of(&c);
        for p in &c.problems {
            problems.push(RowProblem::from_problem(
                &name,
                p,
                key.clone(),
                if c.row <= 1 && c.records.is_empty() && p.column.is_none() {
                    Category::File
                } else {
                    Category::Conversion
                },
            ));
        }
        if c.has_errors() {
            return Ok(());
        }
        if let Some(item) = c.records.first() {
            for mut p in checks.row(&name, fi, c.row, item) {
                if let Some(col) = c.column_for(0, &p.field) {
                    p.column = Some(col.letter.clone());
                    p.header = Some(col.header.trim().to_owned()).filter(|h| !h.is_empty());
                }
                problems.push(p);
            }
        }
        let row = u32::try_from(c.row).map_err(|_| {
            io::Error::other(format!(
                "row {} is beyond the 4,294,967,295 rows an import can hold",
                c.row
            ))
        })?;
        for r in &c.records {
            serde_json::to_writer(&mut jsonl, r).map_err(io::Error::other)?;
            jsonl.write_all(b"\n")?;
            rows.write_all(&row.to_le_bytes())?;
        }
        Ok(())
    });
    report.problems.append(&mut problems);
    match result {
        Ok(summary) => {
            jsonl.flush().map_err(RegisterError::Temp)?;
            rows.flush().map_err(RegisterError::Temp)?;
            report.rows += summary.rows;
            report.rows_rejected += summary.rows_rejected;
            report.files.push(file_report(&name, &summary));
            Ok(Some(staged))
        }
        Err(ConvertError::Rejected(ps)) => {
            for p in &ps {
                report
                    .problems
                    .push(RowProblem::from_problem(&name, p, None, Category::File));
            }
            Ok(None)
        }
        Err(ConvertError::Io(e)) => Err(RegisterError::Read(name, e)),
    }
}

/// Where an engine error points in the register: the row, and which of the row's records.
struct Located {
    row: u64,
    record: usize,
    error: LineError,
}

/// Maps engine errors (by staged line) to register rows, reading the row index once.
fn locate(staged: &Staged, mut errors: Vec<LineError>) -> Result<Vec<Located>, RegisterError> {
    errors.sort_by_key(|e| e.line);
    let mut rows = BufReader::new(File::open(&staged.rows).map_err(RegisterError::Temp)?);
    let mut out = Vec::with_capacity(errors.len());
    let (mut line, mut current_row, mut first_line_of_row) = (0usize, u64::MAX, 0usize);
    let mut buf = [0u8; 4];
    let mut errors = errors.into_iter().peekable();
    while errors.peek().is_some() {
        match rows.read_exact(&mut buf) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                return Err(RegisterError::Changed(staged.rows.display().to_string()))
            }
            Err(e) => return Err(RegisterError::Temp(e)),
        }
        line += 1;
        let row = u64::from(u32::from_le_bytes(buf));
        if row != current_row {
            current_row = row;
            first_line_of_row = line;
        }
        while errors.peek().is_some_and(|e| e.line == line) {
            if let Some(error) = errors.next() {
                out.push(Located {
                    row,
                    record: line - first_line_of_row,
                    error,
                });
            }
        }
    }
    Ok(out)
}

/// Rewrites a staged file without the records of `refused` rows.
fn exclude(staged: &Staged, refused: &BTreeSet<u64>) -> Result<(), RegisterError> {
    let jsonl_new = staged.jsonl.with_extension("jsonl.next");
    let rows_new = staged.rows.with_extension("rows.next");
    {
        let mut lines = BufReader::with_capacity(
            1 << 20,
            File::open(&staged.jsonl).map_err(RegisterError::Temp)?,
        );
        let mut rows = BufReader::new(File::open(&staged.rows).map_err(RegisterError::Temp)?);
        let mut out = BufWriter::with_capacity(
            1 << 20,
            File::create(&jsonl_new).map_err(RegisterError::Temp)?,
        );
        let mut out_rows = BufWriter::new(File::create(&rows_new).map_err(RegisterError::Temp)?);
        let mut line = Vec::new();
        let mut buf = [0u8; 4];
        loop {
            line.clear();
            let n = io::BufRead::read_until(&mut lines, b'\n', &mut line)
                .map_err(RegisterError::Temp)?;
            if n == 0 {
                break;
            }
            rows.read_exact(&mut buf).map_err(RegisterError::Temp)?;
            if refused.contains(&u64::from(u32::from_le_bytes(buf))) {
                continue;
            }
            out.write_all(&line).map_err(RegisterError::Temp)?;
            out_rows.write_all(&buf).map_err(RegisterError::Temp)?;
        }
        out.flush().map_err(RegisterError::Temp)?;
        out_rows.flush().map_err(RegisterError::Temp)?;
    }
    std::fs::rename(&jsonl_new, &staged.jsonl).map_err(RegisterError::Temp)?;
    std::fs::rename(&rows_new, &staged.rows).map_err(RegisterError::Temp)?;
    Ok(())
}

/// The rejects file of file `fi` of `n`.
fn rejects_path(base: &Path, file: &Path, n: usize) -> PathBuf {
    if n <= 1 {
        return base.to_path_buf();
    }
    let stem = base
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "rejects".into());
    let of = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    base.with_file_name(format!("{stem}.{of}.csv"))
}

/// Imports register files as one unit. `report.has_errors()` means rejected data (exit
/// status 1 in the CLI); `report.committed` says whether anything was written.
pub fn import_register(
    node: &mut Node,
    files: &[PathBuf],
    opts: &RegisterOptions,
    clock: &dyn Clock,
) -> Result<RegisterReport, RegisterError> {
    // The registry's own state tells an import (a supplier abroad) from a domestic transfer
    // when the mapping does not say.
    let mut opts = opts.clone();
    let mut mapping = opts.mapping.take().unwrap_or_default();
    if mapping.state.is_none() {
        mapping.state = Some(node.info.state.clone());
    }
    opts.mapping = Some(mapping);
    let opts = &opts;
    let work = tempfile::Builder::new()
        .prefix(".import-")
        .tempdir_in(node.dir())
        .map_err(RegisterError::Temp)?;
    let mut report = RegisterReport::default();
    let index = checks::store_index(node);
    let mut staged = Vec::with_capacity(files.len());
    {
        let mut checks = checks::Checks::new(index.as_ref().map(|s| &s.index));
        for (fi, path) in files.iter().enumerate() {
            staged.push(stage(
                fi,
                path,
                work.path(),
                opts,
                &mut checks,
                &mut report,
            )?);
        }
    }
    let unreadable = staged.iter().any(Option::is_none);
    let converter_refused = report.rows_rejected > 0;
    // Rows refused by the rules, per file (the converter's refusals yield no records).
    let mut refused: Vec<BTreeSet<u64>> = vec![BTreeSet::new(); files.len()];
    // Validation problems, per file: (row, record, field, message, category).
    let mut found: Vec<Vec<(u64, usize, LineError, Category)>> = vec![Vec::new(); files.len()];
    if !unreadable {
        let staged: Vec<&Staged> = staged.iter().flatten().collect();
        let paths: Vec<PathBuf> = staged.iter().map(|s| s.jsonl.clone()).collect();
        let mut round = 0usize;
        loop {
            round += 1;
            let engine = import::import(
                node,
                &paths,
                &ImportOptions {
                    accept_valid: false,
                    rejects: None,
                    recorded_by: opts.recorded_by.clone(),
                    batch_records: opts.batch_records,
                    // All or nothing with refused rows: check everything, write nothing.
                    dry_run: opts.check_only || (converter_refused && !opts.accept_valid),
                    progress: opts.progress.clone(),
                },
                clock,
            )?;
            report.ledger_size = engine.ledger_size;
            if engine.errors.is_empty() {
                report.accepted = engine.accepted;
                report.duplicates = engine.duplicates;
                report.committed = engine.committed;
                break;
            }
            // Group the engine's errors by staged file.
            let mut by_file: BTreeMap<usize, Vec<LineError>> = BTreeMap::new();
            for e in engine.errors {
                let fi = paths
                    .iter()
                    .position(|p| p.display().to_string() == e.file)
                    .unwrap_or(0);
                by_file.entry(fi).or_default().push(e);
            }
            let mut any_new = false;
            for (si, errors) in by_file {
                // `si` indexes the readable files, which are all files here.
                for l in locate(staged[si], errors)? {
                    any_new |= refused[si].insert(l.row);
                    let category = if round == 1 {
                        Category::Validation
                    } else {
                        Category::Dependent
                    };
                    found[si].push((l.row, l.record, l.error, category));
                }
            }
            if !opts.accept_valid || !any_new {
                break;
            }
            for (si, s) in staged.iter().enumerate() {
                if !refused[si].is_empty() {
                    exclude(s, &refused[si])?;
                }
            }
        }
    }
    for (fi, rows) in refused.iter().enumerate() {
        report.rows_rejected += rows.len() as u64;
        if let Some(f) = report.files.get_mut(fi) {
            f.rows_rejected += rows.len() as u64;
        }
    }
    if report.ledger_size == 0 {
        report.ledger_size = node.store.ledger_size().map_err(ImportError::from)?;
    }
    // Second reading, only where there is something to place or to write out.
    let write_rejects = opts.accept_valid && opts.rejects.is_some();
    for (fi, path) in files.iter().enumerate() {
        let needs_rejects =
            write_rejects && report.files.get(fi).is_some_and(|f| f.rows_rejected > 0);
        if found[fi].is_empty() && !needs_rejects {
            continue;
        }
        revisit(fi, path, files.len(), opts, &mut found[fi], &mut report)?;
    }
    if report.has_errors() && !opts.accept_valid {
        // All or nothing, as for JSON Lines: nothing is (or would be) accepted.
        report.accepted = 0;
        report.duplicates = 0;
    }
    report
        .problems
        .sort_by(|a, b| (a.file.as_str(), a.row).cmp(&(b.file.as_str(), b.row)));
    Ok(report)
}

/// Second reading of a file: names the column of each validation problem (from the row's
/// provenance), and writes the refused rows to the rejects file.
fn revisit(
    fi: usize,
    path: &Path,
    nfiles: usize,
    opts: &RegisterOptions,
    found: &mut [(u64, usize, LineError, Category)],
    report: &mut RegisterReport,
) -> Result<(), RegisterError> {
    let name = path.display().to_string();
    let Some(file) = report.files.get(fi).cloned() else {
        return Ok(());
    };
    found.sort_by_key(|f| f.0);
    let refused_rows: BTreeSet<u64> = found.iter().map(|f| f.0).collect();
    let mut rejects = match (&opts.rejects, opts.accept_valid) {
        (Some(base), true) => {
            let p = rejects_path(base, path, nfiles);
            let f =
                File::create(&p).map_err(|e| RegisterError::Rejects(p.display().to_string(), e))?;
            let mut w = csv::WriterBuilder::new()
                .flexible(true)
                .from_writer(BufWriter::new(f));
            let mut header: Vec<String> = file.columns.iter().map(|c| c.header.clone()).collect();
            if file.keys_generated {
                header.push("key".into());
            }
            if file.header_row > 0 {
                w.write_record(&header)
                    .map_err(|e| RegisterError::Rejects(p.display().to_string(), e.into()))?;
            }
            Some((p, w))
        }
        _ => None,
    };
    let mut placed = Vec::new();
    let mut cursor = 0usize;
    let result = convert(path, opts, &mut |c| {
        if c.row == file.header_row && c.records.is_empty() && !c.has_errors() {
            return Ok(());
        }
        let refused_here = c.has_errors() || refused_rows.contains(&c.row);
        while cursor < found.len() && found[cursor].0 < c.row {
            cursor += 1;
        }
        let key = key_of(&c);
        let mut i = cursor;
        while i < found.len() && found[i].0 == c.row {
            let (row, record, e, category) = &found[i];
            let column = c.column_for(*record, &e.field);
            placed.push(RowProblem {
                file: name.clone(),
                row: *row,
                column: column.map(|c| c.letter.clone()),
                header: column
                    .map(|c| c.header.trim().to_owned())
                    .filter(|h| !h.is_empty()),
                severity: "error",
                category: *category,
                field: e.field.clone(),
                message: e.message.clone(),
                suggestion: None,
                key: key.clone(),
            });
            i += 1;
        }
        if refused_here {
            if let Some((p, w)) = &mut rejects {
                let mut cells = c.cells.clone();
                if file.keys_generated {
                    cells.resize(file.columns.len(), String::new());
                    cells.push(
                        key.clone()
                            .unwrap_or_else(|| format!("{}-R{}", file.register, c.row)),
                    );
                }
                w.write_record(&cells)
                    .map_err(|e| io::Error::other(format!("{}: {e}", p.display())))?;
            }
        }
        Ok(())
    });
    match result {
        Ok(_) => {}
        Err(ConvertError::Io(e)) => return Err(RegisterError::Read(name, e)),
        Err(ConvertError::Rejected(_)) => return Err(RegisterError::Changed(name)),
    }
    if placed.len() != found.len() {
        // A row the first reading had is gone: the file changed under us.
        return Err(RegisterError::Changed(name));
    }
    report.problems.extend(placed);
    if let Some((p, mut w)) = rejects {
        w.flush()
            .map_err(|e| RegisterError::Rejects(p.display().to_string(), e))?;
    }
    Ok(())
}
