//! CSV tables: UTF-8 (no byte-order mark), a header row, comma-separated, CRLF line ends and
//! RFC 4180 quoting (a field is quoted when it holds a comma, a double quote, CR or LF, and a
//! quote inside it is doubled). Text is written exactly as stored — a marking that begins with
//! `=` or `+` stays so, because markings are never altered; spreadsheet users should open the
//! file with the import dialog rather than by double-click if that matters to them.
//!
//! Empty fields are nulls. Integers and floats are written in the shortest form that reads back
//! to the same value; booleans as `true`/`false`; instants as RFC 3339 UTC
//! (`1985-06-01T00:00:00Z`).

use crate::table::{check_row, Cell, Table};
use crate::{ExportError, Result, RowSink};
use std::io::Write;
use std::path::Path;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Writes one table as CSV to any writer.
pub struct CsvSink<W: Write> {
    table: Table,
    writer: Option<csv::Writer<W>>,
    what: String,
    fields: Vec<String>,
}

impl CsvSink<std::io::BufWriter<std::fs::File>> {
    /// A CSV file for `table` (the header row is written at once).
    pub fn new(table: Table, file: std::fs::File, path: &Path) -> Result<Self> {
        CsvSink::to_writer(
            table,
            std::io::BufWriter::with_capacity(1 << 16, file),
            path.display().to_string(),
        )
    }
}

impl<W: Write> CsvSink<W> {
    /// CSV for `table` on any writer; `what` names it in errors.
    pub fn to_writer(table: Table, inner: W, what: String) -> Result<Self> {
        let writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .quote_style(csv::QuoteStyle::Necessary)
            .from_writer(inner);
        let mut sink = CsvSink {
            table,
            writer: Some(writer),
            what,
            fields: Vec::with_capacity(table.columns().len()),
        };
        let header: Vec<String> = table.columns().iter().map(|c| c.name.to_owned()).collect();
        sink.write_fields(&header)?;
        Ok(sink)
    }

    fn err(&self, e: csv::Error) -> ExportError {
        let source = match e.into_kind() {
            csv::ErrorKind::Io(e) => e,
            other => std::io::Error::other(format!("{other:?}")),
        };
        ExportError::Write {
            what: self.what.clone(),
            source,
        }
    }

    fn write_fields(&mut self, fields: &[String]) -> Result<()> {
        let Some(w) = self.writer.as_mut() else {
            return Err(ExportError::Schema {
                table: self.table.name(),
                message: "row after finish".into(),
            });
        };
        match w.write_record(fields) {
            Ok(()) => Ok(()),
            Err(e) => Err(self.err(e)),
        }
    }

    /// The underlying writer, after [`RowSink::finish`].
    pub fn into_inner(mut self) -> Option<W> {
        self.writer.take().and_then(|w| w.into_inner().ok())
    }
}

/// The CSV text of a cell.
pub fn cell_text(c: &Cell) -> String {
    match c {
        Cell::Null => String::new(),
        Cell::Str(s) => s.clone(),
        Cell::Int(n) => n.to_string(),
        Cell::Float(f) => f.to_string(),
        Cell::Bool(b) => b.to_string(),
        Cell::Time(t) => time_text(*t),
    }
}

/// RFC 3339 UTC text of Unix seconds.
pub fn time_text(t: i64) -> String {
    OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| d.format(&Rfc3339).ok())
        .unwrap_or_else(|| t.to_string())
}

impl<W: Write> RowSink for CsvSink<W> {
    fn row(&mut self, cells: &[Cell]) -> Result<()> {
        check_row(self.table, cells)?;
        let mut fields = std::mem::take(&mut self.fields);
        fields.clear();
        fields.extend(cells.iter().map(cell_text));
        let r = self.write_fields(&fields);
        self.fields = fields;
        r
    }

    fn finish(&mut self) -> Result<()> {
        if let Some(w) = self.writer.as_mut() {
            w.flush().map_err(|e| ExportError::Write {
                what: self.what.clone(),
                source: e,
            })?;
        }
        Ok(())
    }
}
