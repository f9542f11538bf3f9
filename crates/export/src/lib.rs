//! Export of the register, for other installations and for analysts. **It only reads**: every
//! function here takes a `&dyn Store` and never writes to it, so an export can run beside
//! `serve` or an import.
//!
//! Two kinds of output:
//!
//! - [`export_jsonl`]: every ledger record **as it was recorded** — the `record` object inside
//!   each leaf envelope (`registry::envelope`), in its canonical (RFC 8785) form, one per line
//!   in ledger order. It is interchange format v1 (`docs/INTERCHANGE.md`): importing it into a
//!   fresh store reproduces every item, event and correction, with the same ledger indexes
//!   (so `corrects: "#N"` still names the right record). The acceptance metadata
//!   (`recorded_at`, `recorded_by`) is not part of a record and is not exported; the
//!   importing store records its own.
//! - [`export_tables`]: three flat analyst tables ([`Table::Items`], [`Table::Markings`],
//!   [`Table::Events`]) as CSV ([`csv_out`]) or Parquet ([`parquet_out`]). Items and markings
//!   are the current state (corrections applied) read from the projections; events are the
//!   ledger's event records as recorded, with a `void` flag from the projection. The columns
//!   are described in [`table`].
//!
//! Both stream in bounded memory: the ledger is read leaf by leaf and the projections item by
//! item; Parquet buffers at most one row group. The export covers the ledger as it was when
//! the export started (its size then): records appended meanwhile are left out.

pub mod csv_out;
pub mod parquet_out;
pub mod table;

use serde_json::{Map, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use tracemark_registry::envelope;
use tracemark_store::{ItemRow, LeafRow, Store, StoreError};

pub use table::{Cell, ColType, Column, Table};

/// Everything that can go wrong in an export.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The output file or folder cannot be created (a usage problem: wrong path, no rights).
    #[error("cannot create {path}: {source}")]
    Output {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Writing failed after the output was opened (disk full, closed pipe…).
    #[error("writing {what}: {source}")]
    Write {
        what: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored record or projection row that cannot be read as it should: the store is
    /// damaged (`tracemark ledger verify` says where).
    #[error("stored record damaged: {0}")]
    Damaged(String),
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    /// A row that does not fit its table's columns: a bug.
    #[error("table {table}: {message}")]
    Schema {
        table: &'static str,
        message: String,
    },
}

impl ExportError {
    /// True when writing failed because the reader of a pipe went away (`| head`).
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, ExportError::Write { source, .. }
            if source.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

pub type Result<T, E = ExportError> = std::result::Result<T, E>;

/// The table file formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableFormat {
    Csv,
    Parquet,
}

impl TableFormat {
    pub fn extension(self) -> &'static str {
        match self {
            TableFormat::Csv => "csv",
            TableFormat::Parquet => "parquet",
        }
    }
}

/// What an export wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    /// The ledger size the export covers.
    pub ledger_size: u64,
    /// Per output: the table (None for JSON Lines), the file (None for a stream), the rows.
    pub outputs: Vec<(Option<Table>, Option<PathBuf>, u64)>,
}

/// Decodes a leaf's record object.
pub(crate) fn record_of(index: u64, data: &[u8]) -> Result<Map<String, Value>> {
    envelope::decode(data, false)
        .map(|e| e.record)
        .map_err(|e| ExportError::Damaged(format!("record #{index}: {e}")))
}

/// Writes every ledger record, as recorded, one canonical JSON object per line, in ledger
/// order. Returns the number of records written (= the ledger size when it started).
pub fn export_jsonl(store: &dyn Store, out: &mut dyn Write) -> Result<u64> {
    let size = store.ledger_size()?;
    let mut written = 0u64;
    let mut failure: Option<ExportError> = None;
    let scanned = store.scan_leaves(0, size, &mut |leaf| {
        let step = (|| -> Result<()> {
            let record = record_of(leaf.index, &leaf.data)?;
            let bytes = envelope::canonical_record(&record)
                .map_err(|e| ExportError::Damaged(format!("record #{}: {e}", leaf.index)))?;
            let w = |e| ExportError::Write {
                what: "the JSON Lines export".into(),
                source: e,
            };
            out.write_all(&bytes).map_err(w)?;
            out.write_all(b"\n").map_err(w)?;
            Ok(())
        })();
        match step {
            Ok(()) => {
                written += 1;
                Ok(())
            }
            Err(e) => {
                failure = Some(e);
                // Stop the scan; the real error is kept in `failure`.
                Err(StoreError::Corrupt("export stopped".into()))
            }
        }
    });
    if let Some(e) = failure {
        return Err(e);
    }
    scanned?;
    out.flush().map_err(|e| ExportError::Write {
        what: "the JSON Lines export".into(),
        source: e,
    })?;
    Ok(written)
}

/// A destination for the rows of one table.
pub trait RowSink {
    fn row(&mut self, cells: &[Cell]) -> Result<()>;
    /// Completes the output (flushes buffers, writes footers). Called once.
    fn finish(&mut self) -> Result<()>;
}

/// Runs a store scan whose step can fail with an export error. The store's callbacks return
/// `StoreError`, so the export's own error is kept aside, the scan stopped, and the kept error
/// returned.
fn scan<T>(
    run: impl FnOnce(
        &mut dyn FnMut(T) -> std::result::Result<(), StoreError>,
    ) -> std::result::Result<(), StoreError>,
    mut step: impl FnMut(T) -> Result<()>,
) -> Result<()> {
    let mut failure: Option<ExportError> = None;
    let scanned = run(&mut |x| {
        step(x).map_err(|e| {
            failure = Some(e);
            StoreError::Corrupt("export stopped".into())
        })
    });
    if let Some(e) = failure {
        return Err(e);
    }
    Ok(scanned?)
}

/// Streams the requested tables of `store` into `sinks` (one per table, in the same order as
/// `tables`). Items and markings come from one pass over the item projections, events from one
/// pass over the ledger. Returns the ledger size covered and the rows per table.
pub fn write_tables(
    store: &dyn Store,
    tables: &[Table],
    sinks: &mut [Box<dyn RowSink + '_>],
) -> Result<(u64, Vec<u64>)> {
    if tables.len() != sinks.len() {
        return Err(ExportError::Schema {
            table: "*",
            message: "one sink per table".into(),
        });
    }
    let size = store.ledger_size()?;
    let mut counts = vec![0u64; tables.len()];
    let pos = |t: Table| tables.iter().position(|x| *x == t);
    let (items_at, markings_at, events_at) =
        (pos(Table::Items), pos(Table::Markings), pos(Table::Events));
    if items_at.is_some() || markings_at.is_some() {
        scan(
            |f| store.scan_items(f),
            |row: ItemRow| {
                if row.id >= size {
                    return Ok(()); // declared after the export started
                }
                if let Some(i) = items_at {
                    let cells = table::item_cells(store, size, &row)?;
                    sinks[i].row(&cells)?;
                    counts[i] += 1;
                }
                if let Some(i) = markings_at {
                    for (n, m) in row.attrs.markings.iter().enumerate() {
                        sinks[i].row(&table::marking_cells(&row.key, n, m))?;
                        counts[i] += 1;
                    }
                }
                Ok(())
            },
        )?;
    }
    if let Some(i) = events_at {
        scan(
            |f| store.scan_leaves(0, size, f),
            |leaf: LeafRow| {
                let record = record_of(leaf.index, &leaf.data)?;
                if record.get("record").and_then(Value::as_str) != Some("event") {
                    return Ok(());
                }
                let cells = table::event_cells(store, leaf.index, &record)?;
                sinks[i].row(&cells)?;
                counts[i] += 1;
                Ok(())
            },
        )?;
    }
    for s in sinks.iter_mut() {
        s.finish()?;
    }
    Ok((size, counts))
}

/// Writes the requested tables (all three when `tables` is empty) as `<table>.csv` or
/// `<table>.parquet` files in `dir`, creating it if needed. Each file is written under a
/// temporary name and renamed when complete, so a failed export leaves no half file under the
/// real name.
pub fn export_tables(
    store: &dyn Store,
    format: TableFormat,
    dir: &Path,
    tables: &[Table],
) -> Result<Written> {
    let tables: Vec<Table> = if tables.is_empty() {
        Table::ALL.to_vec()
    } else {
        tables.to_vec()
    };
    std::fs::create_dir_all(dir).map_err(|e| ExportError::Output {
        path: dir.to_owned(),
        source: e,
    })?;
    let finals: Vec<PathBuf> = tables
        .iter()
        .map(|t| dir.join(format!("{}.{}", t.name(), format.extension())))
        .collect();
    let temps: Vec<PathBuf> = tables
        .iter()
        .map(|t| dir.join(format!(".{}.{}.partial", t.name(), format.extension())))
        .collect();
    let result = (|| -> Result<(u64, Vec<u64>)> {
        let mut sinks: Vec<Box<dyn RowSink>> = Vec::with_capacity(tables.len());
        for (t, path) in tables.iter().zip(&temps) {
            let file = std::fs::File::create(path).map_err(|e| ExportError::Output {
                path: path.clone(),
                source: e,
            })?;
            let sink: Box<dyn RowSink> = match format {
                TableFormat::Csv => Box::new(csv_out::CsvSink::new(*t, file, path)?),
                TableFormat::Parquet => Box::new(parquet_out::ParquetSink::new(*t, file)?),
            };
            sinks.push(sink);
        }
        write_tables(store, &tables, &mut sinks)
    })();
    let (size, counts) = match result {
        Ok(r) => r,
        Err(e) => {
            for t in &temps {
                let _ = std::fs::remove_file(t);
            }
            return Err(e);
        }
    };
    for (tmp, fin) in temps.iter().zip(&finals) {
        std::fs::rename(tmp, fin).map_err(|e| ExportError::Write {
            what: fin.display().to_string(),
            source: e,
        })?;
    }
    Ok(Written {
        ledger_size: size,
        outputs: tables
            .iter()
            .zip(finals)
            .zip(counts)
            .map(|((t, f), n)| (Some(*t), Some(f), n))
            .collect(),
    })
}

#[cfg(test)]
mod tests;
