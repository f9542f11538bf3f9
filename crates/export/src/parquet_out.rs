//! Parquet tables, written with the `parquet` crate's own column writer.
//!
//! **Why not Arrow.** The `parquet` crate's default features pull in `arrow-array`,
//! `arrow-select`, `arrow-ipc` and friends and five compression codecs. The tables here are
//! flat (no nesting, no repetition) and have five column types, so the low-level
//! `SerializedFileWriter` / `ColumnWriter` API is short and enough: each column is buffered as a
//! plain `Vec` of its values plus definition levels, and written one row group at a time. The
//! dependency is `parquet` with `default-features = false, features = ["snap"]` (Snappy, the
//! usual Parquet codec, a small pure-Rust crate). Measured on the 2-core development machine
//! (dev profile, dependencies at `opt-level = 2` as in this workspace), clean builds in a scratch
//! project: parquet with these features and all its dependencies, 147 s of user CPU (about
//! 3 minutes wall on the shared machine); with `arrow` added, 383 s of user CPU, arrow-select
//! and arrow-ipc alone longer than parquet itself. In this workspace, where syn, libc, bytes…
//! are built already, the new units (parquet, num-bigint, chrono, half, snap, twox-hash…) add
//! about two minutes of compile time to a clean build and nothing to incremental ones.
//!
//! Types: text is `BYTE_ARRAY` annotated `STRING` (UTF-8), integers `INT64`, floats `DOUBLE`,
//! flags `BOOLEAN`, instants `INT64` annotated `TIMESTAMP(MILLIS, isAdjustedToUTC)`. Columns
//! that may be empty are `OPTIONAL` (nulls are definition level 0), the others `REQUIRED`.
//! Rows are buffered up to [`ROW_GROUP_ROWS`] rows or [`ROW_GROUP_BYTES`] of text, whichever
//! comes first, then written as one row group, so memory stays bounded whatever the store's
//! size (measured: about 60 MB for the three tables at once, the same for 114,000 and 342,000
//! records; the process also holds SQLite's page cache, which the store caps at 256 MiB).

use crate::table::{check_row, Cell, ColType, Table};
use crate::{ExportError, Result, RowSink};
use parquet::basic::{Compression, LogicalType, Repetition, TimeUnit, Type as PhysicalType};
use parquet::column::writer::ColumnWriter;
use parquet::data_type::ByteArray;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;
use std::io::Write;
use std::sync::Arc;

/// Rows per row group at most.
pub const ROW_GROUP_ROWS: usize = 16_384;
/// Bytes of buffered text per row group at most (approximately).
pub const ROW_GROUP_BYTES: usize = 8 << 20;

/// The Parquet schema of a table.
pub fn schema(table: Table) -> Result<Type> {
    let mut fields = Vec::with_capacity(table.columns().len());
    for c in table.columns() {
        let (physical, logical) = match c.ty {
            ColType::Str => (PhysicalType::BYTE_ARRAY, Some(LogicalType::String)),
            ColType::Int => (PhysicalType::INT64, None),
            ColType::Float => (PhysicalType::DOUBLE, None),
            ColType::Bool => (PhysicalType::BOOLEAN, None),
            ColType::Time => (
                PhysicalType::INT64,
                Some(LogicalType::timestamp(true, TimeUnit::MILLIS)),
            ),
        };
        let field = Type::primitive_type_builder(c.name, physical)
            .with_repetition(if c.nullable {
                Repetition::OPTIONAL
            } else {
                Repetition::REQUIRED
            })
            .with_logical_type(logical)
            .build()?;
        fields.push(Arc::new(field));
    }
    Ok(
        Type::group_type_builder(&format!("tracemark_{}", table.name()))
            .with_fields(fields)
            .build()?,
    )
}

/// One column's buffered values (non-null values only) and, for optional columns, the
/// definition level of every row.
enum Values {
    Bytes(Vec<ByteArray>),
    Int(Vec<i64>),
    Float(Vec<f64>),
    Bool(Vec<bool>),
}

struct ColumnBuffer {
    values: Values,
    /// `Some` for optional columns: 1 where the row has a value, 0 where it is null.
    levels: Option<Vec<i16>>,
}

/// Writes one table as a Parquet file.
pub struct ParquetSink<W: Write + Send> {
    table: Table,
    writer: Option<SerializedFileWriter<W>>,
    columns: Vec<ColumnBuffer>,
    rows: usize,
    bytes: usize,
}

impl<W: Write + Send> ParquetSink<W> {
    pub fn new(table: Table, out: W) -> Result<Self> {
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_created_by(format!(
                "tracemark export {} (parquet-rs)",
                env!("CARGO_PKG_VERSION")
            ))
            .build();
        let writer = SerializedFileWriter::new(out, Arc::new(schema(table)?), Arc::new(props))?;
        let columns = table
            .columns()
            .iter()
            .map(|c| ColumnBuffer {
                values: match c.ty {
                    ColType::Str => Values::Bytes(Vec::new()),
                    ColType::Int | ColType::Time => Values::Int(Vec::new()),
                    ColType::Float => Values::Float(Vec::new()),
                    ColType::Bool => Values::Bool(Vec::new()),
                },
                levels: c.nullable.then(Vec::new),
            })
            .collect();
        Ok(ParquetSink {
            table,
            writer: Some(writer),
            columns,
            rows: 0,
            bytes: 0,
        })
    }

    fn schema_error(&self, message: String) -> ExportError {
        ExportError::Schema {
            table: self.table.name(),
            message,
        }
    }

    /// Writes the buffered rows as one row group.
    fn flush_group(&mut self) -> Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let table = self.table;
        let Some(writer) = self.writer.as_mut() else {
            return Err(self.schema_error("row after finish".into()));
        };
        let mut group = writer.next_row_group()?;
        for buf in self.columns.iter_mut() {
            let Some(mut col) = group.next_column()? else {
                return Err(ExportError::Schema {
                    table: table.name(),
                    message: "fewer Parquet columns than table columns".into(),
                });
            };
            let levels = buf.levels.as_deref();
            let written = match (col.untyped(), &buf.values) {
                (ColumnWriter::ByteArrayColumnWriter(w), Values::Bytes(v)) => {
                    w.write_batch(v, levels, None)?
                }
                (ColumnWriter::Int64ColumnWriter(w), Values::Int(v)) => {
                    w.write_batch(v, levels, None)?
                }
                (ColumnWriter::DoubleColumnWriter(w), Values::Float(v)) => {
                    w.write_batch(v, levels, None)?
                }
                (ColumnWriter::BoolColumnWriter(w), Values::Bool(v)) => {
                    w.write_batch(v, levels, None)?
                }
                _ => {
                    return Err(ExportError::Schema {
                        table: table.name(),
                        message: "a column's buffer does not match its Parquet type".into(),
                    })
                }
            };
            let expected = match &buf.values {
                Values::Bytes(v) => v.len(),
                Values::Int(v) => v.len(),
                Values::Float(v) => v.len(),
                Values::Bool(v) => v.len(),
            };
            if written != expected {
                return Err(ExportError::Schema {
                    table: table.name(),
                    message: format!("wrote {written} of {expected} values"),
                });
            }
            col.close()?;
            match &mut buf.values {
                Values::Bytes(v) => v.clear(),
                Values::Int(v) => v.clear(),
                Values::Float(v) => v.clear(),
                Values::Bool(v) => v.clear(),
            }
            if let Some(l) = buf.levels.as_mut() {
                l.clear();
            }
        }
        group.close()?;
        self.rows = 0;
        self.bytes = 0;
        Ok(())
    }
}

impl<W: Write + Send> RowSink for ParquetSink<W> {
    fn row(&mut self, cells: &[Cell]) -> Result<()> {
        check_row(self.table, cells)?;
        for (buf, cell) in self.columns.iter_mut().zip(cells) {
            if let Some(l) = buf.levels.as_mut() {
                l.push(i16::from(!matches!(cell, Cell::Null)));
            }
            match (&mut buf.values, cell) {
                (_, Cell::Null) => {}
                (Values::Bytes(v), Cell::Str(s)) => {
                    self.bytes += s.len();
                    v.push(ByteArray::from(s.as_bytes().to_vec()));
                }
                (Values::Int(v), Cell::Int(n)) => v.push(*n),
                (Values::Int(v), Cell::Time(t)) => v.push(t.saturating_mul(1000)),
                (Values::Float(v), Cell::Float(f)) => v.push(*f),
                (Values::Bool(v), Cell::Bool(b)) => v.push(*b),
                _ => {
                    return Err(ExportError::Schema {
                        table: self.table.name(),
                        message: format!("{cell:?} does not fit its column"),
                    })
                }
            }
        }
        self.rows += 1;
        if self.rows >= ROW_GROUP_ROWS || self.bytes >= ROW_GROUP_BYTES {
            self.flush_group()?;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<()> {
        self.flush_group()?;
        if let Some(w) = self.writer.take() {
            let mut inner = w.into_inner()?;
            inner.flush().map_err(|e| ExportError::Write {
                what: format!("{}.parquet", self.table.name()),
                source: e,
            })?;
        }
        Ok(())
    }
}
