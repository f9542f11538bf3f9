//! One register row → an item record, its markings, and its events.

use crate::mapping::{Field, Mapping};
use crate::values::{
    canonical_type, kind_of_type, parse_acquisition, parse_country, parse_date, parse_kind,
    parse_positive, parse_status, parse_whole, parse_year, Bad,
};
use crate::{ColumnRef, Converted, Problem, Severity};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use tracemark_domain::ids::ItemKey;

/// A cell as read, with what the source knows about it.
#[derive(Clone, Debug, Default)]
pub(crate) struct Cell {
    pub text: String,
    /// The formula, when the cell is one (its cached value is `text`).
    pub formula: Option<String>,
    /// The top-left cell (`C2`) of the merged area this empty cell continues.
    pub merged_from: Option<String>,
    /// The spreadsheet stored a number (leading zeros of a serial may be lost).
    pub numeric: bool,
}

/// How rows of one file are converted: the resolved columns and the file-wide declarations.
pub(crate) struct Plan {
    pub columns: Vec<ColumnRef>,
    pub fields: Vec<Option<(Field, Option<String>)>>,
    pub mapping: Mapping,
    register: String,
    pub keys_generated: bool,
    has_serial_column: bool,
}

const MAX_MARKING_CHARS: usize = 256;
const MAX_MARKINGS: usize = 64;
const MAX_NOTE_CHARS: usize = 4096;
const MAX_ID_CHARS: usize = 128;

impl Plan {
    /// The summary of a conversion about to start with this plan (counts at zero). The CSV
    /// and spreadsheet sources fill in what they know of the file.
    pub fn summary(
        &self,
        format: crate::SourceFormat,
        encoding: Option<String>,
        delimiter: Option<u8>,
        sheet: Option<String>,
        header_row: u64,
    ) -> crate::Summary {
        crate::Summary {
            format,
            encoding,
            delimiter,
            sheet,
            header_row,
            rows: 0,
            rows_rejected: 0,
            records: 0,
            errors: 0,
            warnings: 0,
            keys_generated: self.keys_generated,
            register: self.register.clone(),
            columns: self
                .columns
                .iter()
                .cloned()
                .zip(
                    self.fields
                        .iter()
                        .map(|f| f.as_ref().map(|(f, _)| f.clone())),
                )
                .collect(),
            mapping: self.mapping.clone(),
        }
    }

    pub fn new(
        columns: Vec<ColumnRef>,
        fields: Vec<Option<(Field, Option<String>)>>,
        register: &str,
        mapping: Mapping,
    ) -> Plan {
        let has = |f: &Field| {
            fields
                .iter()
                .any(|x| x.as_ref().is_some_and(|(g, _)| g == f))
        };
        let keys_generated = !has(&Field::Key);
        let has_serial_column = has(&Field::Marking("serial".into()));
        // The register's name as a key prefix: no spaces or control characters, not too long.
        let mut reg: String = register
            .trim()
            .chars()
            .map(|c| {
                if c.is_whitespace() || c.is_control() {
                    '-'
                } else {
                    c
                }
            })
            .take(100)
            .collect();
        if reg.is_empty() {
            reg = "register".to_owned();
        }
        Plan {
            columns,
            fields,
            mapping,
            register: reg,
            keys_generated,
            has_serial_column,
        }
    }

    /// The key derived for a row when the register has no key column.
    pub fn derived_key(&self, row: u64) -> String {
        format!("{}-R{row}", self.register)
    }

    /// Converts one row. `problems` holds what the reader already found (encoding, ragged
    /// row…). Returns `None` for a blank row with nothing to report.
    pub fn convert(&self, row: u64, cells: &[Cell], problems: Vec<Problem>) -> Option<Converted> {
        let blank = cells.iter().all(|c| c.text.trim().is_empty());
        if blank && problems.is_empty() {
            return None;
        }
        let mut r = RowBuild {
            row,
            problems,
            provenance: Vec::new(),
        };
        let mut records = self.build(&mut r, cells);
        if r.problems.iter().any(|p| p.severity == Severity::Error) {
            records.clear();
            r.provenance.clear();
        }
        Some(Converted {
            row,
            records,
            problems: r.problems,
            provenance: r.provenance,
            cells: cells.iter().map(|c| c.text.clone()).collect(),
        })
    }

    fn value<'a>(&'a self, cells: &'a [Cell], field: &Field) -> Option<(&'a ColumnRef, &'a Cell)> {
        let i = self
            .fields
            .iter()
            .position(|f| f.as_ref().is_some_and(|(g, _)| g == field))?;
        static EMPTY: Cell = Cell {
            text: String::new(),
            formula: None,
            merged_from: None,
            numeric: false,
        };
        Some((&self.columns[i], cells.get(i).unwrap_or(&EMPTY)))
    }

    /// The trimmed, non-empty text of a field's column.
    fn text<'a>(&'a self, cells: &'a [Cell], field: &Field) -> Option<(&'a ColumnRef, &'a str)> {
        let (c, cell) = self.value(cells, field)?;
        let t = cell.text.trim();
        (!t.is_empty()).then_some((c, t))
    }

    fn build(&self, r: &mut RowBuild, cells: &[Cell]) -> Vec<Map<String, Value>> {
        // Cell-level checks on every mapped column.
        for (i, f) in self.fields.iter().enumerate() {
            let Some((field, _)) = f else { continue };
            if *field == Field::Ignore {
                continue;
            }
            let Some(cell) = cells.get(i) else { continue };
            let col = &self.columns[i];
            let exact = matches!(field, Field::Key | Field::Marking(_));
            if let Some(formula) = &cell.formula {
                let formula: String = formula.chars().take(80).collect();
                if exact {
                    r.error(
                        col,
                        format!("the cell is a formula (={formula}); a key or marking must be typed as it is, not computed"),
                        "replace the formula by the value typed from the register (Paste Special → Values, then check it)",
                    );
                } else if cell.text.trim().is_empty() {
                    r.error(
                        col,
                        format!("the cell is a formula (={formula}) with no computed value saved in the file"),
                        "open and save the file in a spreadsheet program, or replace the formula by its value",
                    );
                } else {
                    r.warning(
                        col,
                        format!("the cell is a formula (={formula}); its last computed value \"{}\" is imported", cell.text.trim()),
                        "check the value, or replace the formula by it (Paste Special → Values)",
                    );
                }
            }
            if let Some(from) = &cell.merged_from {
                if cell.text.trim().is_empty() {
                    r.error(
                        col,
                        format!("the cell is part of merged cells whose value is in {from}: for this row the column reads as empty"),
                        "unmerge the cells and fill the value into every row it applies to",
                    );
                }
            }
            if cell.text.contains('\u{FFFD}') {
                r.error(
                    col,
                    format!("the cell contains the replacement character � (\"{}\"): its text was damaged by a wrong conversion", shorten(&cell.text)),
                    "retype the value from the register, or re-export the file in one encoding (UTF-8)",
                );
            }
        }

        // Key.
        let key = match self.value(cells, &Field::Key) {
            Some((col, cell)) => {
                let k = cell.text.trim();
                if k.is_empty() {
                    if cell.merged_from.is_none() {
                        r.error(
                            col,
                            "the key (registry number) is empty",
                            "fill in the registry number, or drop the key column from the mapping to derive keys from the row",
                        );
                    }
                    return Vec::new();
                }
                r.provenance.push(("records[0]".into(), col.clone()));
                r.provenance.push(("records[0].key".into(), col.clone()));
                if let Err(m) = ItemKey::parse(k) {
                    r.error(
                        col,
                        format!("the key (registry number) is not usable: {m}"),
                        "correct the registry number: at most 128 characters, no control characters",
                    );
                }
                k.to_owned()
            }
            None => self.derived_key(r.row),
        };

        let mut item = Map::new();
        item.insert("record".into(), json!("item"));
        item.insert("key".into(), json!(key));

        // Type and kind.
        let mut kind_from_type = None;
        if let Some((col, t)) = self.text(cells, &Field::Type) {
            let canonical = canonical_type(t);
            check_text(r, col, &canonical, 64);
            kind_from_type = kind_of_type(&canonical);
            item.insert("type".into(), json!(canonical));
            r.provenance.push(("records[0].type".into(), col.clone()));
        }
        let kind = match self.text(cells, &Field::Kind) {
            Some((col, t)) => {
                r.provenance.push(("records[0].kind".into(), col.clone()));
                match parse_kind(t) {
                    Ok(k) => k.to_owned(),
                    Err(b) => {
                        r.bad(col, b);
                        "other".to_owned()
                    }
                }
            }
            None => kind_from_type
                .map(str::to_owned)
                .or_else(|| self.mapping.kind.clone())
                .unwrap_or_else(|| "firearm".to_owned()),
        };
        item.insert("kind".into(), json!(kind));

        // Plain text attributes, within the interchange's limits.
        for (field, name, max) in [
            (Field::Make, "make", 128),
            (Field::Model, "model", 128),
            (Field::Calibre, "calibre", 128),
            (Field::NationalId, "national_id", 128),
            (Field::Action, "action", 64),
            (Field::LegalCategory, "legal_category", 64),
            (Field::CatalogueRef, "catalogue_ref", 128),
            (Field::Note, "note", MAX_NOTE_CHARS),
        ] {
            if let Some((col, t)) = self.text(cells, &field) {
                check_text(r, col, t, max);
                item.insert(name.into(), json!(t));
                r.provenance
                    .push((format!("records[0].{name}"), col.clone()));
            }
        }
        if let Some((col, t)) = self.text(cells, &Field::Parent) {
            r.provenance.push(("records[0].parent".into(), col.clone()));
            if let Err(m) = ItemKey::parse(t) {
                r.error(
                    col,
                    format!("the parent key is not usable: {m}"),
                    "write the key of the weapon the part belongs to",
                );
            } else if kind != "part" {
                r.error(
                    col,
                    format!("only a part belongs to a parent weapon, and this item is a {kind}"),
                    "clear the parent, or record the item as a part (kind column, or a part type such as barrel or slide)",
                );
            } else if t == key {
                r.error(
                    col,
                    "an item cannot be its own parent",
                    "write the key of the weapon the part belongs to",
                );
            }
            item.insert("parent".into(), json!(t));
        }
        if let Some((col, t)) = self.text(cells, &Field::CountryOfManufacture) {
            r.provenance
                .push(("records[0].country_of_manufacture".into(), col.clone()));
            match parse_country(t) {
                Ok(c) => {
                    item.insert("country_of_manufacture".into(), json!(c));
                }
                Err(b) => r.bad(col, b),
            }
        }
        if let Some((col, t)) = self.text(cells, &Field::YearOfManufacture) {
            r.provenance
                .push(("records[0].year_of_manufacture".into(), col.clone()));
            match parse_year(t) {
                Ok(y) => {
                    item.insert("year_of_manufacture".into(), json!(y));
                }
                Err(b) => r.bad(col, b),
            }
        }
        if let Some((col, t)) = self.text(cells, &Field::Capacity) {
            r.provenance
                .push(("records[0].capacity".into(), col.clone()));
            match parse_whole(t, "capacity", 0..=100_000) {
                Ok(n) => {
                    item.insert("capacity".into(), json!(n));
                }
                Err(b) => r.bad(col, b),
            }
        }
        if let Some((col, t)) = self.text(cells, &Field::Quantity) {
            r.provenance
                .push(("records[0].quantity".into(), col.clone()));
            match parse_whole(t, "quantity", 1..=1_000_000_000_000) {
                Ok(_) if kind != "ammunition_lot" => r.error(
                    col,
                    format!("only an ammunition lot has a quantity, and this item is a {kind}"),
                    "clear the quantity, or record the item as an ammunition lot (kind column)",
                ),
                Ok(n) => {
                    item.insert("quantity".into(), json!(n));
                }
                Err(b) => r.bad(col, b),
            }
        }
        if let Some((col, t)) = self.text(cells, &Field::BarrelLengthMm) {
            r.provenance
                .push(("records[0].barrel_length_mm".into(), col.clone()));
            match parse_positive(t, "barrel length") {
                Ok(n) => {
                    item.insert("barrel_length_mm".into(), json!(n));
                }
                Err(b) => r.bad(col, b),
            }
        }

        // Markings: the cell's text exactly as written.
        let mut markings = Vec::new();
        let mut serials = 0;
        for (i, f) in self.fields.iter().enumerate() {
            let Some((Field::Marking(kind), component)) = f else {
                continue;
            };
            let Some(cell) = cells.get(i) else { continue };
            if cell.text.trim().is_empty() {
                continue;
            }
            let col = &self.columns[i];
            let text = &cell.text;
            if text.chars().count() > MAX_MARKING_CHARS {
                r.error(
                    col,
                    format!("the marking is longer than {MAX_MARKING_CHARS} characters"),
                    "check the cell: a marking is one inscription; put remarks in a note column",
                );
            }
            if text
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t')
            {
                r.error(
                    col,
                    "the marking contains a control character",
                    "retype the marking as it is on the weapon",
                );
            }
            if cell.numeric && kind == "serial" {
                r.warning(
                    col,
                    format!("the serial number is stored as a number ({text}): leading zeros or letters may have been lost"),
                    "format the column as Text in the spreadsheet and retype the serial as it is on the weapon",
                );
            }
            if kind == "serial" {
                serials += 1;
            }
            let idx = markings.len();
            let mut m = Map::new();
            m.insert("kind".into(), json!(kind));
            m.insert("text".into(), json!(text));
            if let Some(c) = component {
                m.insert("component".into(), json!(c));
            }
            markings.push(Value::Object(m));
            r.provenance
                .push((format!("records[0].markings[{idx}]"), col.clone()));
            r.provenance
                .push((format!("records[0].markings[{idx}].text"), col.clone()));
        }
        if markings.len() > MAX_MARKINGS {
            if let Some((_, col)) = r
                .provenance
                .iter()
                .rev()
                .find(|(p, _)| p.contains("markings"))
            {
                let col = col.clone();
                r.error(
                    &col,
                    format!(
                        "the row has {} markings; an item has at most {MAX_MARKINGS}",
                        markings.len()
                    ),
                    "map fewer columns as markings",
                );
            }
        }
        if !markings.is_empty() {
            item.insert("markings".into(), Value::Array(markings));
        }
        if self.has_serial_column && serials == 0 {
            if let Some((col, _)) = self.value(cells, &Field::Marking("serial".into())) {
                r.warning(
                    col,
                    "no serial number: the item is recorded without one",
                    "fill in the serial number if the weapon has one (write what is legible)",
                );
            }
        }
        if !r.provenance.iter().any(|(p, _)| p == "records[0]") {
            if let Some((_, col)) = r
                .provenance
                .iter()
                .find(|(p, _)| p.starts_with("records[0].markings"))
            {
                let col = col.clone();
                r.provenance.push(("records[0]".into(), col));
            }
        }

        let mut records = vec![item];
        if let Some(ev) = self.acquisition(r, cells, &key) {
            records.push(ev);
        }
        let date_hint = "add the date to the row, or declare as_of (the date of the register's state) in the mapping file";
        // Current holder → assigned.
        let holder = self.text(cells, &Field::Holder);
        let holder_date = self.text(cells, &Field::HolderDate);
        // The holder event, when its date is not in the row (it then takes the status's date
        // when the row has a dated status event, else as_of).
        let mut undated_holder: Option<usize> = None;
        let status_dated = match (
            self.text(cells, &Field::Status),
            self.text(cells, &Field::StatusDate),
        ) {
            (Some((_, s)), Some(_)) => matches!(parse_status(s), Ok(Some(_))),
            _ => false,
        };
        match (holder, holder_date) {
            (Some((hcol, name)), date) => {
                let idx = records.len();
                if date.is_none() {
                    undated_holder = Some(idx);
                }
                let date = match date {
                    Some((dcol, d)) => {
                        r.provenance
                            .push((format!("records[{idx}].date"), dcol.clone()));
                        match parse_date(d, self.mapping.date_format) {
                            Ok(d) => Some(d),
                            Err(b) => {
                                r.bad(dcol, b);
                                None
                            }
                        }
                    }
                    None => {
                        if self.mapping.as_of.is_none() && !status_dated {
                            r.error(
                                hcol,
                                "the current holder is given without a date",
                                date_hint,
                            );
                        }
                        self.mapping.as_of.clone()
                    }
                };
                check_text(r, hcol, name, 256);
                let mut to = Map::new();
                to.insert("name".into(), json!(name));
                if let Some(k) = &self.mapping.holder_kind {
                    to.insert("kind".into(), json!(k));
                }
                let mut ev = self.event(&key, "holder", "assigned", date);
                ev.insert("to".into(), Value::Object(to));
                r.provenance.push((format!("records[{idx}]"), hcol.clone()));
                r.provenance
                    .push((format!("records[{idx}].to.name"), hcol.clone()));
                records.push(ev);
            }
            (None, Some((dcol, _))) => r.error(
                dcol,
                "a holder date is given without a holder",
                "fill in the holder, or clear the date",
            ),
            (None, None) => {}
        }
        // Status → the event that gives it.
        let status = self.text(cells, &Field::Status);
        let status_date = self.text(cells, &Field::StatusDate);
        let status_date_col = status_date.map(|(c, _)| c);
        match (status, status_date) {
            (Some((scol, s)), date) => match parse_status(s) {
                Ok(Some(event_type)) => {
                    let idx = records.len();
                    let date = match date {
                        Some((dcol, d)) => {
                            r.provenance
                                .push((format!("records[{idx}].date"), dcol.clone()));
                            match parse_date(d, self.mapping.date_format) {
                                Ok(d) => Some(d),
                                Err(b) => {
                                    r.bad(dcol, b);
                                    None
                                }
                            }
                        }
                        None => {
                            if self.mapping.as_of.is_none() {
                                r.error(
                                    scol,
                                    format!("status \"{s}\" is given without a date"),
                                    date_hint,
                                );
                            }
                            self.mapping.as_of.clone()
                        }
                    };
                    // A register that names a holder without a date and a status with one
                    // (stolen on 17/08/2011 from the Lille station) says the holder held the
                    // weapon then: dating the holder at as_of, after the theft, would make a
                    // stolen weapon look in service. The holder is dated with the status (and
                    // placed before it), and the event says the date was inferred.
                    if let (Some(h), Some(d), Some(dcol)) = (undated_holder, &date, status_date_col)
                    {
                        if let Some(holder_ev) = records.get_mut(h) {
                            holder_ev.insert("date".into(), json!(d));
                            holder_ev.insert(
                                "note".into(),
                                json!(format!(
                                    "date not in the register: the holder held the item when its status became \"{s}\""
                                )),
                            );
                            r.provenance
                                .push((format!("records[{h}].date"), dcol.clone()));
                        }
                    }
                    let ev = self.event(&key, "status", event_type, date);
                    r.provenance.push((format!("records[{idx}]"), scol.clone()));
                    r.provenance
                        .push((format!("records[{idx}].type"), scol.clone()));
                    records.push(ev);
                }
                Ok(None) => {}
                Err(b) => r.bad(scol, b),
            },
            (None, Some((dcol, _))) => r.error(
                dcol,
                "a status date is given without a status",
                "fill in the status (stolen, lost, seized…), or clear the date",
            ),
            (None, None) => {}
        }
        // Every event record points back at the key column too.
        if let Some((kcol, _)) = self.value(cells, &Field::Key) {
            for idx in 1..records.len() {
                r.provenance
                    .push((format!("records[{idx}].item"), kcol.clone()));
            }
        }
        records
    }

    fn acquisition(
        &self,
        r: &mut RowBuild,
        cells: &[Cell],
        key: &str,
    ) -> Option<Map<String, Value>> {
        let date = self.text(cells, &Field::AcquisitionDate);
        let from = self.text(cells, &Field::AcquisitionFrom);
        let from_country = self.text(cells, &Field::AcquisitionFromCountry);
        let kind = self.text(cells, &Field::AcquisitionType);
        let document = self.text(cells, &Field::AcquisitionDocument);
        let Some((dcol, d)) = date else {
            if let Some((col, _)) = from.or(from_country).or(kind).or(document) {
                let fix = if self.value(cells, &Field::AcquisitionDate).is_some() {
                    "fill in the date of acquisition (a year alone will do: 1985)"
                } else {
                    "map the column that holds the date of acquisition (acquisition.date), or mark this column \"ignore\""
                };
                r.error(
                    col,
                    "acquisition details are given without a date of acquisition",
                    fix,
                );
            }
            return None;
        };
        let idx = 1;
        r.provenance.push((format!("records[{idx}]"), dcol.clone()));
        r.provenance
            .push((format!("records[{idx}].date"), dcol.clone()));
        let date = match parse_date(d, self.mapping.date_format) {
            Ok(d) => Some(d),
            Err(b) => {
                r.bad(dcol, b);
                None
            }
        };
        if let Some((col, name)) = from {
            check_text(r, col, name, 256);
            r.provenance
                .push((format!("records[{idx}].from.name"), col.clone()));
        }
        let country = match from_country {
            Some((col, c)) => {
                r.provenance
                    .push((format!("records[{idx}].from.country"), col.clone()));
                match parse_country(c) {
                    Ok(c) => Some(c),
                    Err(b) => {
                        r.bad(col, b);
                        None
                    }
                }
            }
            None => None,
        };
        let event_type = match kind {
            Some((col, t)) => {
                r.provenance
                    .push((format!("records[{idx}].type"), col.clone()));
                match parse_acquisition(t) {
                    Ok(t) => t.to_owned(),
                    Err(b) => {
                        r.bad(col, b);
                        "transferred".to_owned()
                    }
                }
            }
            None => match (&self.mapping.acquisition, &self.mapping.state, &country) {
                (Some(a), _, _) => a.clone(),
                (None, Some(state), Some(c)) if state != c => "imported".to_owned(),
                _ => "transferred".to_owned(),
            },
        };
        let mut ev = self.event(key, "acquisition", &event_type, date);
        match from {
            Some((_, name)) => {
                let mut a = Map::new();
                a.insert("name".into(), json!(name));
                if let Some(c) = &country {
                    a.insert("country".into(), json!(c));
                }
                if let Some(k) = &self.mapping.supplier_kind {
                    a.insert("kind".into(), json!(k));
                }
                ev.insert("from".into(), Value::Object(a));
            }
            None => {
                if let Some((col, _)) = from_country {
                    r.error(
                        col,
                        "the supplier's country is given without the supplier",
                        "write the supplier's name (or \"unknown\"), or clear the country",
                    );
                }
            }
        }
        if let Some(a) = &self.mapping.acquirer {
            let mut to = Map::new();
            to.insert("name".into(), json!(a.name));
            for (k, v) in [
                ("country", &a.country),
                ("kind", &a.kind),
                ("licence", &a.licence),
            ] {
                if let Some(v) = v {
                    to.insert(k.into(), json!(v));
                }
            }
            ev.insert("to".into(), Value::Object(to));
        }
        if let Some((col, number)) = document {
            check_text(r, col, number, 128);
            let doc_kind = if event_type == "imported" {
                "import_licence"
            } else {
                "acquisition_document"
            };
            ev.insert(
                "documents".into(),
                json!([{ "kind": doc_kind, "number": number }]),
            );
            r.provenance
                .push((format!("records[{idx}].documents[0].number"), col.clone()));
        }
        Some(ev)
    }

    /// An event record with its deterministic id.
    fn event(
        &self,
        key: &str,
        role: &str,
        event_type: &str,
        date: Option<String>,
    ) -> Map<String, Value> {
        let mut ev = Map::new();
        ev.insert("record".into(), json!("event"));
        ev.insert("id".into(), json!(event_id(key, role)));
        ev.insert("item".into(), json!(key));
        ev.insert("type".into(), json!(event_type));
        if let Some(d) = date {
            ev.insert("date".into(), json!(d));
        }
        ev
    }
}

/// The idempotency id of a row's event: `<key>:<role>`, or a hash of the key when that would
/// exceed the interchange's 128 characters.
pub(crate) fn event_id(key: &str, role: &str) -> String {
    let id = format!("{key}:{role}");
    if id.chars().count() <= MAX_ID_CHARS {
        return id;
    }
    let digest = Sha256::digest(key.as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("sha256-{hex}:{role}")
}

/// The interchange's rules for a text value: not too long, no control characters but line
/// breaks and tabs.
fn check_text(r: &mut RowBuild, col: &ColumnRef, t: &str, max: usize) {
    if t.chars().count() > max {
        r.error(
            col,
            format!("the value is longer than {max} characters"),
            "shorten it; put long remarks in a note column",
        );
    }
    if t.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        r.error(
            col,
            "the value contains a control character",
            "retype the value",
        );
    }
}

fn shorten(s: &str) -> String {
    let mut out: String = s.chars().take(60).collect();
    if s.chars().count() > 60 {
        out.push('…');
    }
    out
}

struct RowBuild {
    row: u64,
    problems: Vec<Problem>,
    provenance: Vec<(String, ColumnRef)>,
}

impl RowBuild {
    fn error(&mut self, col: &ColumnRef, message: impl Into<String>, fix: impl Into<String>) {
        self.problems.push(Problem::error(
            self.row,
            Some(col),
            message,
            Some(fix.into()),
        ));
    }
    fn warning(&mut self, col: &ColumnRef, message: impl Into<String>, fix: impl Into<String>) {
        self.problems.push(Problem::warning(
            self.row,
            Some(col),
            message,
            Some(fix.into()),
        ));
    }
    fn bad(&mut self, col: &ColumnRef, b: Bad) {
        self.problems
            .push(Problem::error(self.row, Some(col), b.message, b.suggestion));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_are_deterministic_and_bounded() {
        assert_eq!(event_id("KE-1", "holder"), "KE-1:holder");
        assert_eq!(event_id("KE-1", "holder"), event_id("KE-1", "holder"));
        let long = "K".repeat(128);
        let id = event_id(&long, "acquisition");
        assert!(id.chars().count() <= 128);
        assert_eq!(id, event_id(&long, "acquisition"));
        assert_ne!(id, event_id(&"K".repeat(127), "acquisition"));
    }
}
