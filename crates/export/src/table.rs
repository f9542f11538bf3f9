//! The three analyst tables: their columns and how a row is made.
//!
//! Column names are the CSV headers and the Parquet field names. The items table's headers are
//! the names Tracemark's register import (`tracemark-migrate`) recognises where the field
//! exists there (`key`, `kind`, `type`, `make`, `model`, `calibre`, `country_of_manufacture`,
//! `year_of_manufacture`, `parent`, `quantity`, `status`, `holder`, `serial`); the other
//! columns have names that import does not take for a field (it reports them as not
//! recognised and leaves them out). Reading an `items.csv` back with `tracemark import
//! --format csv` needs a mapping file that declares `as_of` (the date for the holder's
//! `assigned` event and the status event); rows whose status the register import has no word
//! for (`recorded`, `civilian_held`) are refused there, and the joined `serial` comes back as
//! one marking. JSON Lines, not these tables, is the lossless way between installations.
//!
//! **items** (one row per item; current state, corrections applied):
//! `key`, `internal_id` (`tm:N`, as `item show` prints it), `ledger_index` (N, the ledger index
//! of the declaration), `kind`, `type`, `make`, `model`, `calibre`, `country_of_manufacture`,
//! `year_of_manufacture`, `parent`, `quantity`, `status`, `holder` (the current holder's
//! name), `holdercountry` and `holderkind` (spelt without a separator on purpose: a header
//! with the words "holder" or "country" in it would be taken by the register import for the
//! holder or the country of manufacture), `serial` (the texts of the `serial` markings, in
//! order, joined by `"; "`; the exact texts are in the markings table).
//!
//! **markings** (one row per marking of each item, current markings in recorded order):
//! `item` (key), `position` (0-based, within the item), `kind`, `text` (exactly as recorded),
//! `component`, `legibility`, `canonical` (`C(text)`, the search's canonical form:
//! `tracemark_search::canonical`).
//!
//! **events** (one row per event record of the ledger, in ledger order, *as recorded*: a
//! correction is a row of its own, of type `corrected`, naming what it corrects in `corrects`
//! and the new values in `set`; a withdrawn event has `void` true):
//! `seq` (ledger index), `item`, `id`, `type`, `date` (as recorded), `date_precision` (`year`,
//! `month`, `day`, `instant`), `date_start` and `date_end` (the range the date covers, UTC;
//! the end is the first instant after it), `from_name`, `from_country`, `from_kind`,
//! `from_licence`, `to_name`, `to_country`, `to_kind`, `to_licence`, `place_country`,
//! `place_admin1`, `place_locality`, `place_lat`, `place_lon`, `documents` (`kind:number`
//! joined by `"; "`), `note`, `part`, `removed_part`, `corrects`, `set` (compact JSON),
//! `void`.

use crate::{record_of, ExportError, Result};
use serde_json::{Map, Value};
use tracemark_domain::date::{PartialDate, Precision};
use tracemark_store::{ItemRow, MarkingRow, Store};

/// The tables an export can write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Table {
    Items,
    Markings,
    Events,
}

impl Table {
    pub const ALL: [Table; 3] = [Table::Items, Table::Markings, Table::Events];

    pub fn name(self) -> &'static str {
        match self {
            Table::Items => "items",
            Table::Markings => "markings",
            Table::Events => "events",
        }
    }

    pub fn parse(s: &str) -> Option<Table> {
        Table::ALL.into_iter().find(|t| t.name() == s)
    }

    pub fn columns(self) -> &'static [Column] {
        match self {
            Table::Items => ITEMS,
            Table::Markings => MARKINGS,
            Table::Events => EVENTS,
        }
    }
}

/// A column's type, which decides its CSV text and its Parquet type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColType {
    /// UTF-8 text (Parquet `BYTE_ARRAY` annotated `STRING`).
    Str,
    /// Parquet `INT64`.
    Int,
    /// Parquet `DOUBLE`.
    Float,
    /// Parquet `BOOLEAN`.
    Bool,
    /// An instant, kept as seconds since the Unix epoch: CSV RFC 3339 UTC text, Parquet
    /// `INT64` annotated `TIMESTAMP(MILLIS, UTC)`.
    Time,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub ty: ColType,
    /// May be empty (CSV: an empty field; Parquet: an `OPTIONAL` column).
    pub nullable: bool,
}

const fn req(name: &'static str, ty: ColType) -> Column {
    Column {
        name,
        ty,
        nullable: false,
    }
}

const fn opt(name: &'static str, ty: ColType) -> Column {
    Column {
        name,
        ty,
        nullable: true,
    }
}

use ColType::{Bool, Float, Int, Str, Time};

pub const ITEMS: &[Column] = &[
    req("key", Str),
    req("internal_id", Str),
    req("ledger_index", Int),
    req("kind", Str),
    opt("type", Str),
    opt("make", Str),
    opt("model", Str),
    opt("calibre", Str),
    opt("country_of_manufacture", Str),
    opt("year_of_manufacture", Int),
    opt("parent", Str),
    opt("quantity", Int),
    req("status", Str),
    opt("holder", Str),
    opt("holdercountry", Str),
    opt("holderkind", Str),
    opt("serial", Str),
];

pub const MARKINGS: &[Column] = &[
    req("item", Str),
    req("position", Int),
    req("kind", Str),
    req("text", Str),
    opt("component", Str),
    req("legibility", Str),
    req("canonical", Str),
];

pub const EVENTS: &[Column] = &[
    req("seq", Int),
    req("item", Str),
    opt("id", Str),
    req("type", Str),
    req("date", Str),
    req("date_precision", Str),
    req("date_start", Time),
    req("date_end", Time),
    opt("from_name", Str),
    opt("from_country", Str),
    opt("from_kind", Str),
    opt("from_licence", Str),
    opt("to_name", Str),
    opt("to_country", Str),
    opt("to_kind", Str),
    opt("to_licence", Str),
    opt("place_country", Str),
    opt("place_admin1", Str),
    opt("place_locality", Str),
    opt("place_lat", Float),
    opt("place_lon", Float),
    opt("documents", Str),
    opt("note", Str),
    opt("part", Str),
    opt("removed_part", Str),
    opt("corrects", Str),
    opt("set", Str),
    req("void", Bool),
];

/// One value of a row.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Null,
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// Seconds since the Unix epoch, UTC.
    Time(i64),
}

impl Cell {
    fn opt_str(v: Option<&str>) -> Cell {
        v.map_or(Cell::Null, |s| Cell::Str(s.to_owned()))
    }
}

/// The string at `o[k]`, if it is one.
fn s<'a>(o: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    o.get(k).and_then(Value::as_str)
}

fn obj<'a>(o: &'a Map<String, Value>, k: &str) -> Option<&'a Map<String, Value>> {
    o.get(k).and_then(Value::as_object)
}

/// The items row of a projection row. The declaration's `type` and `quantity` (which the
/// projection does not keep) are read from the ledger with the item corrections that precede
/// `size` applied, in ledger order, as the projection does.
pub(crate) fn item_cells(store: &dyn Store, size: u64, row: &ItemRow) -> Result<Vec<Cell>> {
    let leaf = store.leaf(row.id)?.ok_or_else(|| {
        ExportError::Damaged(format!("record #{} (item {}) missing", row.id, row.key))
    })?;
    let mut item = record_of(row.id, &leaf.data)?;
    for e in store.item_events(row.id)? {
        if e.event_type != "corrected" || e.seq >= size {
            continue;
        }
        let leaf = store
            .leaf(e.seq)?
            .ok_or_else(|| ExportError::Damaged(format!("record #{} missing", e.seq)))?;
        let c = record_of(e.seq, &leaf.data)?;
        if s(&c, "corrects") == Some("item") {
            if let Some(set) = obj(&c, "set") {
                tracemark_domain::interchange::apply_set(&mut item, set);
            }
        }
    }
    let holder: Option<Value> = match &row.state.holder {
        Some(text) => Some(
            serde_json::from_str(text)
                .map_err(|e| ExportError::Damaged(format!("holder of item {}: {e}", row.key)))?,
        ),
        None => None,
    };
    let holder = holder.as_ref().and_then(Value::as_object);
    let serials: Vec<&str> = row
        .attrs
        .markings
        .iter()
        .filter(|m| m.kind == "serial")
        .map(|m| m.text.as_str())
        .collect();
    let a = &row.attrs;
    Ok(vec![
        Cell::Str(row.key.clone()),
        Cell::Str(format!("tm:{}", row.id)),
        Cell::Int(int(row.id)?),
        Cell::Str(row.kind.clone()),
        Cell::opt_str(s(&item, "type")),
        Cell::opt_str(a.make.as_deref()),
        Cell::opt_str(a.model.as_deref()),
        Cell::opt_str(a.calibre.as_deref()),
        Cell::opt_str(a.country.as_deref()),
        a.year.map_or(Cell::Null, |y| Cell::Int(i64::from(y))),
        Cell::opt_str(a.parent.as_deref()),
        item.get("quantity")
            .and_then(Value::as_i64)
            .map_or(Cell::Null, Cell::Int),
        Cell::Str(row.state.status.clone()),
        Cell::opt_str(holder.and_then(|h| s(h, "name"))),
        Cell::opt_str(holder.and_then(|h| s(h, "country"))),
        Cell::opt_str(holder.and_then(|h| s(h, "kind"))),
        if serials.is_empty() {
            Cell::Null
        } else {
            Cell::Str(serials.join("; "))
        },
    ])
}

fn int(n: u64) -> Result<i64> {
    i64::try_from(n).map_err(|_| ExportError::Damaged(format!("index {n} out of range")))
}

/// The markings row of an item's `n`th marking.
pub(crate) fn marking_cells(key: &str, n: usize, m: &MarkingRow) -> Vec<Cell> {
    vec![
        Cell::Str(key.to_owned()),
        Cell::Int(n as i64),
        Cell::Str(m.kind.clone()),
        Cell::Str(m.text.clone()),
        Cell::opt_str(m.component.as_deref()),
        Cell::Str(m.legibility.clone()),
        Cell::Str(tracemark_search::canonical(&m.text)),
    ]
}

pub fn precision_name(p: Precision) -> &'static str {
    match p {
        Precision::Year => "year",
        Precision::Month => "month",
        Precision::Day => "day",
        Precision::Instant => "instant",
    }
}

/// The events row of the event record at ledger index `seq`.
pub(crate) fn event_cells(
    store: &dyn Store,
    seq: u64,
    record: &Map<String, Value>,
) -> Result<Vec<Cell>> {
    let damaged = |what: &str| ExportError::Damaged(format!("record #{seq}: {what}"));
    let item = s(record, "item").ok_or_else(|| damaged("event without 'item'"))?;
    let event_type = s(record, "type").ok_or_else(|| damaged("event without 'type'"))?;
    let date_text = s(record, "date").ok_or_else(|| damaged("event without 'date'"))?;
    let date = PartialDate::parse(date_text).map_err(|e| damaged(&e))?;
    let projected = store
        .event_by_seq(seq)?
        .ok_or_else(|| damaged("not in the events projection"))?;
    let actor = |k: &str| -> [Cell; 4] {
        let a = obj(record, k);
        ["name", "country", "kind", "licence"].map(|f| Cell::opt_str(a.and_then(|a| s(a, f))))
    };
    let [from_name, from_country, from_kind, from_licence] = actor("from");
    let [to_name, to_country, to_kind, to_licence] = actor("to");
    let place = obj(record, "place");
    let place_s = |f: &str| Cell::opt_str(place.and_then(|p| s(p, f)));
    let place_f = |f: &str| {
        place
            .and_then(|p| p.get(f))
            .and_then(Value::as_f64)
            .map_or(Cell::Null, Cell::Float)
    };
    let documents: Vec<String> = record
        .get("documents")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .map(|d| {
            format!(
                "{}:{}",
                s(d, "kind").unwrap_or_default(),
                s(d, "number").unwrap_or_default()
            )
        })
        .collect();
    Ok(vec![
        Cell::Int(int(seq)?),
        Cell::Str(item.to_owned()),
        Cell::opt_str(s(record, "id")),
        Cell::Str(event_type.to_owned()),
        Cell::Str(date_text.to_owned()),
        Cell::Str(precision_name(date.precision()).to_owned()),
        Cell::Time(date.start()),
        Cell::Time(date.end()),
        from_name,
        from_country,
        from_kind,
        from_licence,
        to_name,
        to_country,
        to_kind,
        to_licence,
        place_s("country"),
        place_s("admin1"),
        place_s("locality"),
        place_f("lat"),
        place_f("lon"),
        if documents.is_empty() {
            Cell::Null
        } else {
            Cell::Str(documents.join("; "))
        },
        Cell::opt_str(s(record, "note")),
        Cell::opt_str(s(record, "part")),
        Cell::opt_str(s(record, "removed_part")),
        Cell::opt_str(s(record, "corrects")),
        record
            .get("set")
            .map_or(Cell::Null, |v| Cell::Str(v.to_string())),
        Cell::Bool(projected.void),
    ])
}

/// Checks that a row fits the table's columns (count, types, nulls); every sink calls it.
pub(crate) fn check_row(table: Table, cells: &[Cell]) -> Result<()> {
    let cols = table.columns();
    if cells.len() != cols.len() {
        return Err(ExportError::Schema {
            table: table.name(),
            message: format!("{} cells for {} columns", cells.len(), cols.len()),
        });
    }
    for (c, v) in cols.iter().zip(cells) {
        let fits = match (c.ty, v) {
            (_, Cell::Null) => c.nullable,
            (ColType::Str, Cell::Str(_))
            | (ColType::Int, Cell::Int(_))
            | (ColType::Float, Cell::Float(_))
            | (ColType::Bool, Cell::Bool(_))
            | (ColType::Time, Cell::Time(_)) => true,
            _ => false,
        };
        if !fits {
            return Err(ExportError::Schema {
                table: table.name(),
                message: format!("column {}: {v:?} does not fit {:?}", c.name, c.ty),
            });
        }
    }
    Ok(())
}
