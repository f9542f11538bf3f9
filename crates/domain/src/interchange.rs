//! The interchange format v1 (JSON Lines): parsing one line into a validated [`Record`].
//!
//! Parsing never panics and reports every defect of a line as a [`FieldError`] naming the
//! field (`markings[1].text`, `to.country`). Fields this version does not know are kept in the
//! record's object, which is what the ledger stores, and reported as warnings.
//! The full definition is `docs/INTERCHANGE.md`.

use crate::date::PartialDate;
use crate::ids::{CountryCode, EventId, ItemKey};
use crate::model::*;
use serde_json::{Map, Value};

/// Longest line accepted. A register line is a few hundred bytes; anything beyond this is
/// a broken file (or an attack), and refusing it keeps memory bounded.
pub const MAX_LINE_BYTES: usize = 1 << 20;
const MAX_TEXT_CHARS: usize = 4096;
const MAX_MARKINGS: usize = 64;
const MAX_DOCUMENTS: usize = 64;

#[derive(Clone, PartialEq, Eq, Debug)]
pub struct FieldError {
    /// The field, as a path into the record (`""` for the line as a whole).
    pub field: String,
    pub message: String,
}

impl FieldError {
    fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A line that parsed and validated.
#[derive(Clone, Debug)]
pub struct ParsedRecord {
    pub record: Record,
    /// The JSON object exactly as given, unknown fields included: this is what the ledger keeps.
    pub object: Map<String, Value>,
    /// Unknown fields, by path.
    pub unknown_fields: Vec<String>,
}

const ITEM_FIELDS: &[&str] = &[
    "record",
    "key",
    "kind",
    "type",
    "make",
    "model",
    "calibre",
    "country_of_manufacture",
    "year_of_manufacture",
    "markings",
    "parent",
    "quantity",
    "national_id",
    "action",
    "legal_category",
    "catalogue_ref",
    "capacity",
    "barrel_length_mm",
    "note",
];
/// Item fields a `corrected` event may replace (`corrects: "item"`). The key, kind and parent
/// are identity: changing them is a new item, not a correction.
pub const CORRECTABLE_ITEM_FIELDS: &[&str] = &[
    "type",
    "make",
    "model",
    "calibre",
    "country_of_manufacture",
    "year_of_manufacture",
    "markings",
    "quantity",
    "national_id",
    "action",
    "legal_category",
    "catalogue_ref",
    "capacity",
    "barrel_length_mm",
    "note",
];
const EVENT_FIELDS: &[&str] = &[
    "record",
    "item",
    "type",
    "date",
    "id",
    "from",
    "to",
    "place",
    "documents",
    "note",
    "corrects",
    "set",
    "void",
    "part",
    "removed_part",
];
/// Event fields a correction may replace. The type and item are identity.
pub const CORRECTABLE_EVENT_FIELDS: &[&str] = &[
    "date",
    "from",
    "to",
    "place",
    "documents",
    "note",
    "part",
    "removed_part",
];
const MARKING_FIELDS: &[&str] = &["kind", "text", "component", "legibility", "note"];
const ACTOR_FIELDS: &[&str] = &["name", "country", "kind", "licence", "address"];
const PLACE_FIELDS: &[&str] = &["country", "admin1", "locality", "lat", "lon"];
const DOCUMENT_FIELDS: &[&str] = &["kind", "number", "issued_by"];

/// Collects errors and unknown fields while walking one record.
struct Walk {
    errors: Vec<FieldError>,
    unknown: Vec<String>,
}

fn path(prefix: &str, field: &str) -> String {
    if prefix.is_empty() {
        field.to_owned()
    } else {
        format!("{prefix}.{field}")
    }
}

impl Walk {
    fn err(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    fn note_unknown(&mut self, obj: &Map<String, Value>, known: &[&str], prefix: &str) {
        for k in obj.keys() {
            if !known.contains(&k.as_str()) {
                self.unknown.push(path(prefix, k));
            }
        }
    }

    fn text(
        &mut self,
        obj: &Map<String, Value>,
        prefix: &str,
        field: &str,
        max: usize,
    ) -> Option<String> {
        match obj.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => {
                // The path is only built for an error: this runs for every field of every record.
                let p = || path(prefix, field);
                // One pass over the characters: length and control characters.
                let (mut chars, mut control, mut blank) = (0usize, false, true);
                for c in s.chars() {
                    chars += 1;
                    control |= c.is_control() && c != '\n' && c != '\t';
                    blank &= c.is_whitespace();
                }
                if blank {
                    self.err(p(), "must not be empty (leave the field out instead)");
                    None
                } else if chars > max {
                    self.err(p(), format!("is longer than {max} characters"));
                    None
                } else if control {
                    self.err(p(), "contains a control character");
                    None
                } else {
                    Some(s.clone())
                }
            }
            Some(other) => {
                self.err(
                    path(prefix, field),
                    format!("must be a string, not {}", kind_of(other)),
                );
                None
            }
        }
    }

    fn required_text(
        &mut self,
        obj: &Map<String, Value>,
        prefix: &str,
        field: &str,
        max: usize,
    ) -> Option<String> {
        if obj.get(field).is_none_or(Value::is_null) {
            self.err(path(prefix, field), "is required");
            return None;
        }
        self.text(obj, prefix, field, max)
    }

    fn country(
        &mut self,
        obj: &Map<String, Value>,
        prefix: &str,
        field: &str,
    ) -> Option<CountryCode> {
        self.parsed(obj, prefix, field, 8, false, CountryCode::parse)
    }

    /// A string field turned into a checked value by `parse`, whose message names the defect.
    fn parsed<T>(
        &mut self,
        obj: &Map<String, Value>,
        prefix: &str,
        field: &str,
        max: usize,
        required: bool,
        parse: fn(&str) -> Result<T, String>,
    ) -> Option<T> {
        let s = if required {
            self.required_text(obj, prefix, field, max)?
        } else {
            self.text(obj, prefix, field, max)?
        };
        match parse(&s) {
            Ok(v) => Some(v),
            Err(m) => {
                self.err(path(prefix, field), m);
                None
            }
        }
    }

    fn integer(
        &mut self,
        obj: &Map<String, Value>,
        prefix: &str,
        field: &str,
        range: std::ops::RangeInclusive<i64>,
    ) -> Option<i64> {
        self.ranged(obj, prefix, field, range, Value::as_i64, "a whole number")
    }

    fn number(
        &mut self,
        obj: &Map<String, Value>,
        prefix: &str,
        field: &str,
        range: std::ops::RangeInclusive<f64>,
    ) -> Option<f64> {
        self.ranged(obj, prefix, field, range, Value::as_f64, "a number")
    }

    /// A numeric field within `range`; `convert` decides what counts as a number of the kind.
    fn ranged<T: PartialOrd + std::fmt::Display>(
        &mut self,
        obj: &Map<String, Value>,
        prefix: &str,
        field: &str,
        range: std::ops::RangeInclusive<T>,
        convert: fn(&Value) -> Option<T>,
        kind: &str,
    ) -> Option<T> {
        let v = obj.get(field)?;
        if v.is_null() {
            return None;
        }
        match convert(v) {
            Some(n) if range.contains(&n) => Some(n),
            Some(n) => {
                self.err(
                    path(prefix, field),
                    format!("{n} is out of range ({}–{})", range.start(), range.end()),
                );
                None
            }
            None => {
                self.err(path(prefix, field), format!("must be {kind}, not {v}"));
                None
            }
        }
    }

    fn enumerated<T>(
        &mut self,
        obj: &Map<String, Value>,
        prefix: &str,
        field: &str,
        parse: fn(&str) -> Option<T>,
        expected: fn() -> String,
    ) -> Option<T> {
        let s = self.text(obj, prefix, field, 64)?;
        let v = parse(&s);
        if v.is_none() {
            self.err(
                path(prefix, field),
                format!("'{s}' is not one of: {}", expected()),
            );
        }
        v
    }

    /// A required field whose value is one of a fixed set of names.
    fn required_enum<T>(
        &mut self,
        obj: &Map<String, Value>,
        prefix: &str,
        field: &str,
        parse: fn(&str) -> Option<T>,
        expected: fn() -> String,
    ) -> Option<T> {
        if obj.get(field).is_none_or(Value::is_null) {
            self.err(
                path(prefix, field),
                format!("is required (one of: {})", expected()),
            );
            return None;
        }
        self.enumerated(obj, prefix, field, parse, expected)
    }

    fn object<'a>(&mut self, v: &'a Value, p: &str) -> Option<&'a Map<String, Value>> {
        match v {
            Value::Object(o) => Some(o),
            other => {
                self.err(
                    p.to_owned(),
                    format!("must be an object, not {}", kind_of(other)),
                );
                None
            }
        }
    }

    fn array<'a>(&mut self, obj: &'a Map<String, Value>, field: &str, max: usize) -> &'a [Value] {
        match obj.get(field) {
            None | Some(Value::Null) => &[],
            Some(Value::Array(a)) if a.len() <= max => a,
            Some(Value::Array(_)) => {
                self.err(field, format!("has more than {max} entries"));
                &[]
            }
            Some(other) => {
                self.err(field, format!("must be an array, not {}", kind_of(other)));
                &[]
            }
        }
    }

    fn item_key(
        &mut self,
        obj: &Map<String, Value>,
        field: &str,
        required: bool,
    ) -> Option<ItemKey> {
        self.parsed(obj, "", field, 256, required, ItemKey::parse)
    }

    fn marking(&mut self, v: &Value, p: &str) -> Option<Marking> {
        let o = self.object(v, p)?;
        self.note_unknown(o, MARKING_FIELDS, p);
        let kind = self.required_enum(o, p, "kind", MarkingKind::parse, MarkingKind::expected);
        let text = self.required_text(o, p, "text", 256);
        let component = self.text(o, p, "component", 64);
        let legibility = if o.contains_key("legibility") {
            self.enumerated(o, p, "legibility", Legibility::parse, Legibility::expected)
        } else {
            Some(Legibility::Clear)
        };
        let note = self.text(o, p, "note", MAX_TEXT_CHARS);
        Some(Marking {
            kind: kind?,
            text: text?,
            component,
            legibility: legibility?,
            note,
        })
    }

    fn actor(&mut self, obj: &Map<String, Value>, field: &str) -> Option<Actor> {
        let v = obj.get(field).filter(|v| !v.is_null())?;
        let o = self.object(v, field)?;
        self.note_unknown(o, ACTOR_FIELDS, field);
        let name = self.required_text(o, field, "name", 256);
        let country = self.country(o, field, "country");
        let kind = if o.contains_key("kind") {
            self.enumerated(o, field, "kind", ActorKind::parse, ActorKind::expected)
        } else {
            None
        };
        let licence = self.text(o, field, "licence", 128);
        let address = self.text(o, field, "address", 512);
        Some(Actor {
            name: name?,
            country,
            kind,
            licence,
            address,
        })
    }

    fn place(&mut self, obj: &Map<String, Value>) -> Option<Place> {
        let v = obj.get("place").filter(|v| !v.is_null())?;
        let o = self.object(v, "place")?;
        self.note_unknown(o, PLACE_FIELDS, "place");
        if o.get("country").is_none_or(Value::is_null) {
            self.err("place.country", "is required");
        }
        let country = self.country(o, "place", "country");
        let admin1 = self.text(o, "place", "admin1", 128);
        let locality = self.text(o, "place", "locality", 256);
        let lat = self.number(o, "place", "lat", -90.0..=90.0);
        let lon = self.number(o, "place", "lon", -180.0..=180.0);
        Some(Place {
            country: country?,
            admin1,
            locality,
            lat,
            lon,
        })
    }

    fn documents(&mut self, obj: &Map<String, Value>) -> Vec<Document> {
        let mut out = Vec::new();
        for (i, v) in self
            .array(obj, "documents", MAX_DOCUMENTS)
            .iter()
            .enumerate()
        {
            let p = format!("documents[{i}]");
            let Some(o) = self.object(v, &p) else {
                continue;
            };
            self.note_unknown(o, DOCUMENT_FIELDS, &p);
            let kind = self.required_text(o, &p, "kind", 64);
            let number = self.required_text(o, &p, "number", 128);
            let issued_by = self.country(o, &p, "issued_by");
            if let (Some(kind), Some(number)) = (kind, number) {
                out.push(Document {
                    kind,
                    number,
                    issued_by,
                });
            }
        }
        out
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Parses one line of a JSON Lines file. The caller skips blank lines.
pub fn parse_line(line: &[u8]) -> Result<ParsedRecord, Vec<FieldError>> {
    if line.len() > MAX_LINE_BYTES {
        return Err(vec![FieldError::new(
            "",
            format!(
                "line is {} bytes, longer than the limit of {MAX_LINE_BYTES}",
                line.len()
            ),
        )]);
    }
    let text = std::str::from_utf8(line).map_err(|e| {
        vec![FieldError::new(
            "",
            format!("invalid UTF-8 at byte {}", e.valid_up_to()),
        )]
    })?;
    let value: Value = serde_json::from_str(text)
        .map_err(|e| vec![FieldError::new("", format!("malformed JSON: {e}"))])?;
    match value {
        Value::Object(object) => parse_object(object),
        other => Err(vec![FieldError::new(
            "",
            format!("a record must be a JSON object, not {}", kind_of(&other)),
        )]),
    }
}

/// Validates a JSON object as an interchange record, keeping the object.
pub fn parse_object(object: Map<String, Value>) -> Result<ParsedRecord, Vec<FieldError>> {
    let (record, unknown_fields) = parse_record(&object)?;
    Ok(ParsedRecord {
        record,
        object,
        unknown_fields,
    })
}

/// Validates a JSON object as an interchange record; returns it with its unknown fields.
pub fn parse_record(object: &Map<String, Value>) -> Result<(Record, Vec<String>), Vec<FieldError>> {
    let mut w = Walk {
        errors: Vec::new(),
        unknown: Vec::new(),
    };
    let record = match object.get("record") {
        Some(Value::String(s)) if s == "item" => parse_item(&mut w, object).map(Record::Item),
        Some(Value::String(s)) if s == "event" => parse_event(&mut w, object).map(Record::Event),
        Some(Value::String(s)) => {
            w.err(
                "record",
                format!("unknown record type '{s}' (expected item or event)"),
            );
            None
        }
        Some(other) => {
            w.err(
                "record",
                format!("must be a string, not {}", kind_of(other)),
            );
            None
        }
        None => {
            w.err("record", "is required (\"item\" or \"event\")");
            None
        }
    };
    match record {
        Some(record) if w.errors.is_empty() => Ok((record, w.unknown)),
        _ => {
            if w.errors.is_empty() {
                w.err("", "invalid record");
            }
            Err(w.errors)
        }
    }
}

fn parse_item(w: &mut Walk, o: &Map<String, Value>) -> Option<Item> {
    w.note_unknown(o, ITEM_FIELDS, "");
    let key = w.item_key(o, "key", true);
    let kind = w.required_enum(o, "", "kind", ItemKind::parse, ItemKind::expected);
    let item_type = w.text(o, "", "type", 64);
    let make = w.text(o, "", "make", 128);
    let model = w.text(o, "", "model", 128);
    let calibre = w.text(o, "", "calibre", 128);
    let country_of_manufacture = w.country(o, "", "country_of_manufacture");
    let year_of_manufacture = w
        .integer(o, "", "year_of_manufacture", 1800..=2100)
        .map(|y| y as i32);
    let mut markings = Vec::new();
    for (i, v) in w.array(o, "markings", MAX_MARKINGS).iter().enumerate() {
        if let Some(m) = w.marking(v, &format!("markings[{i}]")) {
            markings.push(m);
        }
    }
    let parent = w.item_key(o, "parent", false);
    let quantity = w.integer(o, "", "quantity", 1..=i64::MAX).map(|q| q as u64);
    let national_id = w.text(o, "", "national_id", 128);
    let action = w.text(o, "", "action", 64);
    let legal_category = w.text(o, "", "legal_category", 64);
    let catalogue_ref = w.text(o, "", "catalogue_ref", 128);
    let capacity = w.integer(o, "", "capacity", 0..=100_000).map(|c| c as u32);
    let barrel_length_mm = w.number(o, "", "barrel_length_mm", 1.0..=20_000.0);
    let note = w.text(o, "", "note", MAX_TEXT_CHARS);
    let (key, kind) = (key?, kind?);
    if parent.is_some() && kind != ItemKind::Part {
        w.err(
            "parent",
            "only a part belongs to a parent weapon (kind must be part)",
        );
    }
    if parent.as_ref() == Some(&key) {
        w.err("parent", "an item cannot be its own parent");
    }
    if quantity.is_some() && kind != ItemKind::AmmunitionLot {
        w.err("quantity", "only an ammunition_lot has a quantity");
    }
    Some(Item {
        key,
        kind,
        item_type,
        make,
        model,
        calibre,
        country_of_manufacture,
        year_of_manufacture,
        markings,
        parent,
        quantity,
        national_id,
        action,
        legal_category,
        catalogue_ref,
        capacity,
        barrel_length_mm,
        note,
    })
}

fn parse_event(w: &mut Walk, o: &Map<String, Value>) -> Option<Event> {
    w.note_unknown(o, EVENT_FIELDS, "");
    let item = w.item_key(o, "item", true);
    let event_type = w.required_enum(o, "", "type", EventType::parse, EventType::expected);
    let date = w.parsed(o, "", "date", 64, true, PartialDate::parse);
    let id = w.parsed(o, "", "id", 256, false, EventId::parse);
    let from = w.actor(o, "from");
    let to = w.actor(o, "to");
    let place = w.place(o);
    let documents = w.documents(o);
    let note = w.text(o, "", "note", MAX_TEXT_CHARS);
    let part = w.item_key(o, "part", false);
    let removed_part = w.item_key(o, "removed_part", false);
    let event_type = event_type?;
    let correction = if event_type == EventType::Corrected {
        parse_correction(w, o)
    } else {
        for f in ["corrects", "set", "void"] {
            if o.contains_key(f) {
                w.err(f, "only a corrected event has this field");
            }
        }
        None
    };
    if event_type != EventType::ComponentReplaced {
        for f in ["part", "removed_part"] {
            if o.contains_key(f) {
                w.err(f, "only a component_replaced event has this field");
            }
        }
    }
    Some(Event {
        item: item?,
        event_type,
        date: date?,
        id,
        from,
        to,
        place,
        documents,
        note,
        correction,
        part,
        removed_part,
    })
}

fn parse_correction(w: &mut Walk, o: &Map<String, Value>) -> Option<Correction> {
    let target = match w.required_text(o, "", "corrects", 256) {
        Some(s) if s == "item" => Some(CorrectionTarget::Item),
        Some(s) => match s.strip_prefix('#') {
            Some(n) => match n.parse::<u64>() {
                Ok(i) => Some(CorrectionTarget::LedgerIndex(i)),
                Err(_) => {
                    w.err("corrects", format!("'{s}' is not a ledger index (#N)"));
                    None
                }
            },
            None => match EventId::parse(&s) {
                Ok(id) => Some(CorrectionTarget::Event(id)),
                Err(m) => {
                    w.err("corrects", m);
                    None
                }
            },
        },
        None => None,
    };
    let void = match o.get("void") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            w.err(
                "void",
                format!("must be true or false, not {}", kind_of(other)),
            );
            false
        }
    };
    let set = match o.get("set") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(other) => {
            w.err("set", format!("must be an object, not {}", kind_of(other)));
            Map::new()
        }
    };
    let target = target?;
    if set.is_empty() && !void {
        w.err(
            "set",
            "a correction must replace at least one field (set) or void the event",
        );
    }
    if void && target == CorrectionTarget::Item {
        w.err(
            "void",
            "an item cannot be voided; record its destruction or correct its fields",
        );
    }
    check_set(w, &target, &set);
    Some(Correction { target, set, void })
}

/// Validates the replacement values of a correction by parsing them in a minimal record of
/// the target's kind, so a corrected value obeys exactly the rules of an original one.
fn check_set(w: &mut Walk, target: &CorrectionTarget, set: &Map<String, Value>) {
    if set.is_empty() {
        return;
    }
    let (allowed, mut probe) = match target {
        // A quantity is checked as an ammunition lot's; whether the corrected item is one is
        // for the import to check, which knows the item.
        CorrectionTarget::Item => (
            CORRECTABLE_ITEM_FIELDS,
            serde_json::json!({
                "record": "item", "key": "probe",
                "kind": if set.contains_key("quantity") { "ammunition_lot" } else { "other" }
            }),
        ),
        _ => (
            CORRECTABLE_EVENT_FIELDS,
            serde_json::json!({
                "record": "event", "item": "probe", "type": "marked", "date": "2000"
            }),
        ),
    };
    let mut fine = true;
    for (k, v) in set {
        if !allowed.contains(&k.as_str()) {
            w.err(
                format!("set.{k}"),
                format!("cannot be corrected (correctable: {})", allowed.join(", ")),
            );
            fine = false;
        } else if let Some(p) = probe.as_object_mut() {
            p.insert(k.clone(), v.clone());
        }
    }
    if !fine {
        return;
    }
    if let Value::Object(p) = probe {
        if let Err(errors) = parse_object(p) {
            for e in errors {
                w.err(format!("set.{}", e.field), e.message);
            }
        }
    }
}

/// Applies a correction's replacement fields to a record object.
pub fn apply_set(object: &mut Map<String, Value>, set: &Map<String, Value>) {
    for (k, v) in set {
        object.insert(k.clone(), v.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(line: &str) -> Vec<(String, String)> {
        match parse_line(line.as_bytes()) {
            Ok(_) => vec![],
            Err(e) => e.into_iter().map(|e| (e.field, e.message)).collect(),
        }
    }

    #[test]
    fn contract_examples_parse() {
        let lines = [
            r#"{"record":"item","key":"KE-2019-000123","kind":"firearm","type":"assault_rifle","make":"Norinco","model":"Type 56","calibre":"7.62x39mm","country_of_manufacture":"CN","year_of_manufacture":1978,"markings":[{"kind":"serial","text":"5612345","component":"receiver"},{"kind":"factory_code","text":"66","component":"receiver"}]}"#,
            r#"{"record":"event","id":"imp-85-112-0001","item":"KE-2019-000123","type":"imported","date":"1985-06","from":{"name":"China North Industries","country":"CN","kind":"exporter"},"to":{"name":"Ministry of Defence","country":"KE","kind":"state_agency"},"documents":[{"kind":"import_licence","number":"IL-85/112","issued_by":"KE"}]}"#,
            r#"{"record":"event","item":"KE-2019-000123","type":"reported_stolen","date":"2011-02-03","place":{"country":"KE","admin1":"Nairobi"}}"#,
        ];
        for l in lines {
            let p = parse_line(l.as_bytes()).unwrap();
            assert!(p.unknown_fields.is_empty());
        }
    }

    #[test]
    fn every_defect_is_named() {
        let e = errors(
            r#"{"record":"item","key":"","kind":"gun","country_of_manufacture":"ke","markings":[{"kind":"serial"},{"kind":"x","text":"1"}]}"#,
        );
        let fields: Vec<&str> = e.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            [
                "key",
                "kind",
                "country_of_manufacture",
                "markings[0].text",
                "markings[1].kind"
            ]
        );
        assert!(errors("{")
            .iter()
            .any(|(_, m)| m.starts_with("malformed JSON")));
        assert_eq!(
            errors("[1]")[0].1,
            "a record must be a JSON object, not an array"
        );
        assert_eq!(errors(r#"{"record":"weapon"}"#)[0].0, "record");
        let e = errors(r#"{"record":"event","item":"A","type":"sold","date":"2001-02-31"}"#);
        assert_eq!(e[0].0, "type");
        assert_eq!(e[1].0, "date");
        let e = errors(
            r#"{"record":"event","item":"A","type":"seized","date":"2001","place":{"admin1":"X","lat":91}}"#,
        );
        assert_eq!(
            e.iter().map(|(f, _)| f.as_str()).collect::<Vec<_>>(),
            ["place.country", "place.lat"]
        );
    }

    #[test]
    fn invalid_utf8_and_long_lines() {
        assert!(
            parse_line(b"{\"record\":\"item\",\"key\":\"\xff\"}").unwrap_err()[0]
                .message
                .contains("UTF-8")
        );
        let long = vec![b' '; MAX_LINE_BYTES + 1];
        assert!(parse_line(&long).unwrap_err()[0]
            .message
            .contains("longer than"));
    }

    #[test]
    fn unknown_fields_are_kept_and_reported() {
        let p = parse_line(br#"{"record":"item","key":"K","kind":"other","legacy_ref":"Book 3","markings":[{"kind":"serial","text":"1","colour":"red"}]}"#).unwrap();
        assert_eq!(p.unknown_fields, ["legacy_ref", "markings[0].colour"]);
        assert_eq!(p.object["legacy_ref"], "Book 3");
    }

    #[test]
    fn corrections_are_checked_like_originals() {
        let ok = parse_line(br#"{"record":"event","item":"K","type":"corrected","date":"2020","corrects":"ev-1","set":{"date":"1985-07"}}"#).unwrap();
        let Record::Event(e) = ok.record else {
            panic!()
        };
        assert_eq!(
            e.correction.unwrap().target,
            CorrectionTarget::Event(EventId::parse("ev-1").unwrap())
        );
        let e = errors(
            r#"{"record":"event","item":"K","type":"corrected","date":"2020","corrects":"ev-1","set":{"date":"1985-13","type":"seized"}}"#,
        );
        assert_eq!(e[0].0, "set.type");
        let e = errors(
            r#"{"record":"event","item":"K","type":"corrected","date":"2020","corrects":"item","set":{"country_of_manufacture":"XX"}}"#,
        );
        assert_eq!(e[0].0, "set.country_of_manufacture");
        assert_eq!(
            errors(r#"{"record":"event","item":"K","type":"corrected","date":"2020"}"#)[0].0,
            "corrects"
        );
        assert_eq!(
            errors(
                r#"{"record":"event","item":"K","type":"corrected","date":"2020","corrects":"x"}"#
            )[0]
            .0,
            "set"
        );
        assert_eq!(
            errors(r#"{"record":"event","item":"K","type":"seized","date":"2020","corrects":"x"}"#)
                [0]
            .0,
            "corrects"
        );
        assert!(parse_line(br##"{"record":"event","item":"K","type":"corrected","date":"2020","corrects":"#12","void":true}"##).is_ok());
    }

    #[test]
    fn kind_specific_fields() {
        assert_eq!(
            errors(r#"{"record":"item","key":"K","kind":"firearm","parent":"P"}"#)[0].0,
            "parent"
        );
        assert_eq!(
            errors(r#"{"record":"item","key":"K","kind":"firearm","quantity":5}"#)[0].0,
            "quantity"
        );
        assert_eq!(
            errors(r#"{"record":"item","key":"K","kind":"ammunition_lot","quantity":0}"#)[0].0,
            "quantity"
        );
        assert!(errors(r#"{"record":"item","key":"K","kind":"part","parent":"P"}"#).is_empty());
    }
}
