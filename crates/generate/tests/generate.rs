//! Properties of generated data, checked by an independent reader of the interchange format.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{Map, Value};
use tracemark_generate::{catalogue, generate, GenerateOptions, GenerateStats};

fn run(items: u64, seed: u64, state: &str) -> (Vec<u8>, GenerateStats) {
    let mut out = Vec::new();
    let opts = GenerateOptions {
        items,
        seed,
        state: state.to_string(),
    };
    let stats = generate(&opts, &mut out).unwrap();
    (out, stats)
}

fn lines(data: &[u8]) -> Vec<Map<String, Value>> {
    let text = std::str::from_utf8(data).unwrap();
    assert!(text.is_empty() || text.ends_with('\n'));
    text.lines()
        .enumerate()
        .map(|(i, l)| match serde_json::from_str::<Value>(l) {
            Ok(Value::Object(m)) => m,
            other => panic!("line {}: not a JSON object: {other:?}", i + 1),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Dates, independently of the generator.

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: i64) -> i64 {
    let next = if m == 12 {
        days_from_civil(y + 1, 1, 1)
    } else {
        days_from_civil(y, m + 1, 1)
    };
    next - days_from_civil(y, m, 1)
}

/// A parsed date: the range it covers in UTC seconds `[start, end]` and its precision rank.
#[derive(Debug, Clone, Copy)]
struct Range {
    start: i64,
    end: i64,
    rank: u8,
    /// The calendar date as written (local for timestamps).
    local_day: i64,
}

fn num(s: &str, len: usize) -> Option<i64> {
    (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

fn parse_date(s: &str) -> Option<Range> {
    let day = 86_400;
    let b = s.as_bytes();
    let y = num(s.get(0..4)?, 4)?;
    if s.len() == 4 {
        let a = days_from_civil(y, 1, 1);
        let z = days_from_civil(y + 1, 1, 1);
        return Some(Range {
            start: a * day,
            end: z * day - 1,
            rank: 0,
            local_day: a,
        });
    }
    if b.get(4) != Some(&b'-') {
        return None;
    }
    let m = num(s.get(5..7)?, 2)?;
    if !(1..=12).contains(&m) {
        return None;
    }
    if s.len() == 7 {
        let a = days_from_civil(y, m, 1);
        let z = a + days_in_month(y, m);
        return Some(Range {
            start: a * day,
            end: z * day - 1,
            rank: 1,
            local_day: a,
        });
    }
    if b.get(7) != Some(&b'-') {
        return None;
    }
    let d = num(s.get(8..10)?, 2)?;
    if d < 1 || d > days_in_month(y, m) {
        return None;
    }
    let a = days_from_civil(y, m, d);
    if s.len() == 10 {
        return Some(Range {
            start: a * day,
            end: a * day + day - 1,
            rank: 2,
            local_day: a,
        });
    }
    // RFC 3339: THH:MM:SS(Z|±HH:MM)
    if b.get(10) != Some(&b'T') || b.get(13) != Some(&b':') || b.get(16) != Some(&b':') {
        return None;
    }
    let hh = num(s.get(11..13)?, 2)?;
    let mi = num(s.get(14..16)?, 2)?;
    let ss = num(s.get(17..19)?, 2)?;
    if hh > 23 || mi > 59 || ss > 59 {
        return None;
    }
    let rest = s.get(19..)?;
    let off = if rest == "Z" {
        0
    } else {
        let rb = rest.as_bytes();
        if rest.len() != 6 || rb[3] != b':' {
            return None;
        }
        let sign = match rb[0] {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        sign * (num(&rest[1..3], 2)? * 3600 + num(&rest[4..6], 2)? * 60)
    };
    let t = a * day + hh * 3600 + mi * 60 + ss - off;
    Some(Range {
        start: t,
        end: t,
        rank: 3,
        local_day: a,
    })
}

// ---------------------------------------------------------------------------------------------
// The checker.

const ITEM_KINDS: &[&str] = &["firearm", "light_weapon", "part", "ammunition_lot", "other"];
const MARK_KINDS: &[&str] = &[
    "serial",
    "manufacturer",
    "country",
    "year",
    "model",
    "calibre",
    "import",
    "proof",
    "factory_code",
    "secondary",
    "state_ownership",
    "lot",
    "headstamp",
    "code_2d",
    "rfid",
    "covert",
    "other",
];
const EVENT_TYPES: &[&str] = &[
    "manufactured",
    "imported",
    "exported",
    "transferred",
    "assigned",
    "returned",
    "reported_lost",
    "reported_stolen",
    "recovered",
    "seized",
    "surrendered",
    "marked",
    "component_replaced",
    "converted",
    "deactivated",
    "destroyed",
    "corrected",
];
const ACTOR_KINDS: &[&str] = &[
    "manufacturer",
    "exporter",
    "importer",
    "dealer",
    "broker",
    "carrier",
    "state_agency",
    "armed_forces",
    "police",
    "customs",
    "private_person",
    "company",
    "armed_group",
    "unknown",
];
const LEGIBILITY: &[&str] = &["clear", "partial", "obliterated", "restored"];

fn alpha2(v: Option<&Value>) -> bool {
    v.and_then(Value::as_str)
        .is_some_and(|s| s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase()))
}

fn text_ok(s: &str, max: usize) -> bool {
    let n = s.chars().count();
    n >= 1 && n <= max && !s.chars().any(char::is_control)
}

fn str_of<'a>(m: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    m.get(k).and_then(Value::as_str)
}

#[derive(Default)]
struct ItemState {
    kind: String,
    year: Option<i64>,
    man: Option<Range>,
    destroyed: bool,
    last: Option<(i64, u8)>,
    event_ids: HashSet<String>,
    events: usize,
}

#[derive(Debug, Default)]
struct Report {
    items: u64,
    events: u64,
    markings: u64,
    kinds: BTreeMap<String, u64>,
    weapon_events: u64,
    weapons: u64,
    weapon_markings: u64,
    event_types: BTreeMap<String, u64>,
    precisions: [u64; 4],
    corrected_item: u64,
    corrected_event: u64,
    voids: u64,
    unknown_fields: u64,
    partial: u64,
    obliterated: u64,
}

fn check(data: &[u8], state: &str) -> Report {
    let max_day = days_from_civil(2026, 6, 30);
    let mut items: HashMap<String, ItemState> = HashMap::new();
    let mut ids: HashSet<String> = HashSet::new();
    let mut r = Report::default();
    let item_fields: HashSet<&str> = [
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
        "note",
        "capacity",
        "barrel_length_mm",
    ]
    .into();
    let event_fields: HashSet<&str> = [
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
    ]
    .into();
    for (i, m) in lines(data).iter().enumerate() {
        let line = i + 1;
        match str_of(m, "record") {
            Some("item") => {
                r.items += 1;
                r.unknown_fields += m
                    .keys()
                    .filter(|k| !item_fields.contains(k.as_str()))
                    .count() as u64;
                let key = str_of(m, "key").unwrap_or_else(|| panic!("line {line}: no key"));
                assert!(
                    text_ok(key, 128) && key.trim() == key,
                    "line {line}: bad key"
                );
                assert!(
                    key.starts_with(&format!("{state}-")),
                    "line {line}: key {key}"
                );
                let kind = str_of(m, "kind").unwrap_or("");
                assert!(ITEM_KINDS.contains(&kind), "line {line}: kind {kind}");
                *r.kinds.entry(kind.to_string()).or_default() += 1;
                if let Some(t) = m.get("type") {
                    assert!(
                        t.as_str().is_some_and(|t| text_ok(t, 64)),
                        "line {line}: type"
                    );
                }
                for f in ["make", "model", "calibre"] {
                    if let Some(v) = m.get(f) {
                        assert!(
                            v.as_str().is_some_and(|t| text_ok(t, 128)),
                            "line {line}: {f}"
                        );
                    }
                }
                if m.contains_key("country_of_manufacture") {
                    assert!(
                        alpha2(m.get("country_of_manufacture")),
                        "line {line}: country"
                    );
                }
                let year = m.get("year_of_manufacture").map(|v| {
                    let y = v.as_i64().unwrap_or_else(|| panic!("line {line}: year"));
                    assert!((1800..=2100).contains(&y), "line {line}: year {y}");
                    y
                });
                let marks = m
                    .get("markings")
                    .and_then(Value::as_array)
                    .unwrap_or_else(|| panic!("line {line}: markings"));
                assert!(marks.len() <= 64);
                for mk in marks {
                    let mk = mk.as_object().unwrap();
                    assert!(
                        MARK_KINDS.contains(&str_of(mk, "kind").unwrap_or("")),
                        "line {line}"
                    );
                    assert!(
                        str_of(mk, "text").is_some_and(|t| text_ok(t, 256)),
                        "line {line}"
                    );
                    if let Some(l) = mk.get("legibility") {
                        let l = l.as_str().unwrap();
                        assert!(LEGIBILITY.contains(&l), "line {line}: legibility");
                        assert!(
                            mk.contains_key("note"),
                            "line {line}: legibility without note"
                        );
                        r.partial += u64::from(l == "partial");
                        r.obliterated += u64::from(l == "obliterated");
                    }
                }
                r.markings += marks.len() as u64;
                if let Some(p) = m.get("parent") {
                    assert_eq!(kind, "part", "line {line}: parent on a non-part");
                    let p = p.as_str().unwrap();
                    let parent = items
                        .get(p)
                        .unwrap_or_else(|| panic!("line {line}: parent {p} not earlier"));
                    assert!(parent.kind == "firearm" || parent.kind == "light_weapon");
                } else {
                    assert_ne!(kind, "part", "line {line}: part without parent");
                }
                match m.get("quantity") {
                    Some(q) => {
                        assert_eq!(kind, "ammunition_lot");
                        assert!(q.as_u64().is_some_and(|q| q >= 1), "line {line}: quantity");
                    }
                    None => assert_ne!(kind, "ammunition_lot", "line {line}: lot without quantity"),
                }
                if kind == "firearm" || kind == "light_weapon" {
                    r.weapons += 1;
                    r.weapon_markings += marks.len() as u64;
                }
                let prev = items.insert(
                    key.to_string(),
                    ItemState {
                        kind: kind.to_string(),
                        year,
                        ..ItemState::default()
                    },
                );
                assert!(prev.is_none(), "line {line}: duplicate key {key}");
            }
            Some("event") => {
                r.events += 1;
                r.unknown_fields += m
                    .keys()
                    .filter(|k| !event_fields.contains(k.as_str()))
                    .count() as u64;
                let key = str_of(m, "item").unwrap_or_else(|| panic!("line {line}: no item"));
                let ty = str_of(m, "type").unwrap_or("");
                assert!(EVENT_TYPES.contains(&ty), "line {line}: type {ty}");
                *r.event_types.entry(ty.to_string()).or_default() += 1;
                let ds = str_of(m, "date").unwrap_or_else(|| panic!("line {line}: no date"));
                let d = parse_date(ds).unwrap_or_else(|| panic!("line {line}: bad date {ds}"));
                r.precisions[d.rank as usize] += 1;
                assert!(
                    d.local_day <= max_day,
                    "line {line}: date {ds} after 2026-06-30"
                );
                if let Some(id) = m.get("id") {
                    let id = id.as_str().unwrap();
                    assert!(text_ok(id, 128));
                    assert!(ids.insert(id.to_string()), "line {line}: duplicate id {id}");
                }
                for k in ["from", "to"] {
                    if let Some(a) = m.get(k) {
                        let a = a.as_object().unwrap();
                        assert!(
                            str_of(a, "name").is_some_and(|n| text_ok(n, 256)),
                            "line {line}"
                        );
                        if a.contains_key("country") {
                            assert!(alpha2(a.get("country")), "line {line}: actor country");
                        }
                        if let Some(k) = a.get("kind") {
                            assert!(ACTOR_KINDS.contains(&k.as_str().unwrap()), "line {line}");
                        }
                    }
                }
                if let Some(p) = m.get("place") {
                    let p = p.as_object().unwrap();
                    assert!(alpha2(p.get("country")), "line {line}: place country");
                    if let Some(la) = p.get("lat") {
                        assert!(la.as_f64().is_some_and(|x| (-90.0..=90.0).contains(&x)));
                        assert!(p
                            .get("lon")
                            .and_then(Value::as_f64)
                            .is_some_and(|x| (-180.0..=180.0).contains(&x)));
                    }
                }
                if let Some(docs) = m.get("documents") {
                    for d in docs.as_array().unwrap() {
                        let d = d.as_object().unwrap();
                        assert!(str_of(d, "kind").is_some_and(|t| text_ok(t, 64)));
                        assert!(str_of(d, "number").is_some_and(|t| text_ok(t, 128)));
                        if d.contains_key("issued_by") {
                            assert!(alpha2(d.get("issued_by")));
                        }
                    }
                }
                if ty == "component_replaced" {
                    let p = str_of(m, "part").unwrap_or_else(|| panic!("line {line}: no part"));
                    assert!(
                        items.get(p).is_some_and(|s| s.kind == "part"),
                        "line {line}"
                    );
                }
                let st = items
                    .get_mut(key)
                    .unwrap_or_else(|| panic!("line {line}: event before its item {key}"));
                st.events += 1;
                // Chronological in file order, the registry's order.
                let k = (d.start, d.rank);
                if let Some(last) = st.last {
                    assert!(k >= last, "line {line}: {key} event {ds} out of order");
                }
                st.last = Some(k);
                if ty == "corrected" {
                    match str_of(m, "corrects") {
                        Some("item") => {
                            assert!(m.get("set").is_some_and(Value::is_object), "line {line}");
                            r.corrected_item += 1;
                        }
                        Some(target) => {
                            assert!(
                                st.event_ids.contains(target),
                                "line {line}: corrects unknown {target}"
                            );
                            let void = m.get("void").and_then(Value::as_bool).unwrap_or(false);
                            assert!(
                                void || m.get("set").is_some_and(Value::is_object),
                                "line {line}"
                            );
                            if let Some(ds) = m.get("set").and_then(|s| s.get("date")) {
                                let nd = parse_date(ds.as_str().unwrap()).unwrap();
                                assert!(nd.local_day <= max_day);
                                if let Some(man) = st.man {
                                    assert!(
                                        nd.end >= man.start,
                                        "line {line}: corrected date before manufacture"
                                    );
                                }
                            }
                            r.corrected_event += 1;
                            r.voids += u64::from(void);
                        }
                        None => panic!("line {line}: corrected names nothing"),
                    }
                } else {
                    assert!(!st.destroyed, "line {line}: {key} has {ty} after destroyed");
                    if let Some(man) = st.man {
                        assert!(
                            d.end >= man.start,
                            "line {line}: {key} dated before manufacture"
                        );
                    }
                    if let Some(y) = st.year {
                        assert!(
                            d.end >= days_from_civil(y, 1, 1) * 86_400,
                            "line {line}: before year of manufacture"
                        );
                    }
                    if ty == "manufactured" {
                        assert!(st.man.is_none(), "line {line}: second manufactured");
                        assert_eq!(
                            st.events, 1,
                            "line {line}: manufactured is not the first event"
                        );
                        let y = ds[..4].parse::<i64>().unwrap();
                        assert_eq!(
                            Some(y),
                            st.year,
                            "line {line}: manufactured year != year_of_manufacture"
                        );
                        st.man = Some(d);
                    }
                    if ty == "destroyed" {
                        st.destroyed = true;
                    }
                }
                if let Some(id) = m.get("id").and_then(Value::as_str) {
                    st.event_ids.insert(id.to_string());
                }
                if matches!(st.kind.as_str(), "firearm" | "light_weapon") {
                    r.weapon_events += 1;
                }
            }
            other => panic!("line {line}: record {other:?}"),
        }
    }
    r
}

// ---------------------------------------------------------------------------------------------

#[test]
fn deterministic() {
    let (a, _) = run(3000, 42, "KE");
    let (b, _) = run(3000, 42, "KE");
    assert!(a == b, "same seed, different bytes");
    let (c, _) = run(3000, 43, "KE");
    assert!(a != c, "different seeds, same bytes");
}

#[test]
fn item_count_is_exact() {
    for n in [0u64, 1, 2, 17, 250, 5000] {
        let (data, stats) = run(n, n + 3, "KE");
        let r = check(&data, "KE");
        assert_eq!(r.items, n);
        assert_eq!(stats.items, n);
        assert_eq!(stats.events, r.events);
        assert_eq!(stats.markings, r.markings);
    }
}

#[test]
fn valid_and_realistic_for_kenya() {
    let (data, _) = run(5000, 1, "KE");
    let r = check(&data, "KE");
    eprintln!("{r:#?}");
    assert_eq!(r.items, 5000);
    let share = |k: &str| *r.kinds.get(k).unwrap_or(&0) as f64 / r.items as f64;
    let weapons = share("firearm") + share("light_weapon") + share("other");
    assert!((0.74..0.86).contains(&weapons), "weapons {weapons}");
    assert!(
        (0.09..0.15).contains(&share("part")),
        "parts {}",
        share("part")
    );
    assert!(
        (0.06..0.10).contains(&share("ammunition_lot")),
        "lots {}",
        share("ammunition_lot")
    );
    let ev = r.weapon_events as f64 / r.weapons as f64;
    assert!((4.0..7.0).contains(&ev), "events per weapon {ev}");
    let mk = r.weapon_markings as f64 / r.weapons as f64;
    assert!((1.6..2.6).contains(&mk), "markings per weapon {mk}");
    for t in [
        "manufactured",
        "exported",
        "imported",
        "transferred",
        "assigned",
        "returned",
        "reported_lost",
        "reported_stolen",
        "recovered",
        "seized",
        "surrendered",
        "marked",
        "component_replaced",
        "deactivated",
        "destroyed",
        "corrected",
    ] {
        assert!(r.event_types.contains_key(t), "no {t} event");
    }
    assert!(
        r.precisions.iter().all(|&n| n > 0),
        "precisions {:?}",
        r.precisions
    );
    assert!(r.corrected_item > 0 && r.corrected_event > 0 && r.voids > 0);
    assert!(r.unknown_fields > 0, "no unknown extra fields");
    assert!(r.partial > 0 && r.obliterated > 0);
}

#[test]
fn generic_state_is_valid() {
    let (data, _) = run(3000, 9, "GH");
    let r = check(&data, "GH");
    assert_eq!(r.items, 3000);
    let text = String::from_utf8(data).unwrap();
    assert!(text.contains("\"Ministry of Defence\""));
    assert!(!text.contains("\"Kenya Wildlife Service\""));
    // Lower case is accepted.
    let (a, _) = run(50, 9, "gh");
    let (b, _) = run(50, 9, "GH");
    assert_eq!(a, b);
}

#[test]
fn bad_state_is_refused() {
    let opts = GenerateOptions {
        items: 1,
        seed: 0,
        state: "KEN".into(),
    };
    let err = generate(&opts, Vec::new()).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}

fn serials(items: &[Map<String, Value>]) -> Vec<String> {
    items
        .iter()
        .filter(|m| str_of(m, "record") == Some("item"))
        .flat_map(|m| m["markings"].as_array().unwrap().clone())
        .filter(|mk| mk["kind"] == "serial")
        .map(|mk| mk["text"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn scripts_are_present() {
    let (data, _) = run(5000, 1, "KE");
    let recs = lines(&data);
    let s = serials(&recs);
    let cyr = s
        .iter()
        .filter(|t| t.chars().any(|c| ('\u{0410}'..='\u{042F}').contains(&c)))
        .count();
    let arabic = s
        .iter()
        .filter(|t| t.chars().any(|c| ('\u{0660}'..='\u{0669}').contains(&c)))
        .count();
    let persian = s
        .iter()
        .filter(|t| t.chars().any(|c| ('\u{06F0}'..='\u{06F9}').contains(&c)))
        .count();
    let sep = s
        .iter()
        .filter(|t| t.contains(' ') || t.contains('-'))
        .count();
    assert!(cyr > 50, "Cyrillic serials: {cyr}");
    assert!(arabic > 3, "Arabic-Indic serials: {arabic}");
    assert!(persian > 3, "Persian serials: {persian}");
    assert!(sep > 50, "serials with separators: {sep}");
    let text = String::from_utf8(data).unwrap();
    assert!(text.contains("56式"), "no Chinese model marking");
}

#[test]
fn diversion_cases_are_traceable() {
    let (data, _) = run(5000, 1, "KE");
    let recs = lines(&data);
    let mut serial_of: HashMap<String, String> = HashMap::new();
    let mut model_of: HashMap<String, String> = HashMap::new();
    for m in recs.iter().filter(|m| str_of(m, "record") == Some("item")) {
        let key = str_of(m, "key").unwrap().to_string();
        if let Some(s) = m["markings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|mk| mk["kind"] == "serial")
        {
            serial_of.insert(key.clone(), s["text"].as_str().unwrap().to_string());
        }
        model_of.insert(
            key,
            format!("{}", m.get("catalogue_ref").unwrap_or(&Value::Null)),
        );
    }
    // Thefts by incident number.
    let mut thefts: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut seized_abroad: HashSet<String> = HashSet::new();
    let mut with_coords = 0;
    for m in recs.iter().filter(|m| str_of(m, "record") == Some("event")) {
        let item = str_of(m, "item").unwrap().to_string();
        match str_of(m, "type") {
            Some("reported_stolen") => {
                if let Some(d) = m.get("documents").and_then(|d| d.get(0)) {
                    let key = format!("{} {}", d["number"], m["date"]);
                    thefts.entry(key).or_default().push(item);
                }
            }
            Some("seized") | Some("recovered") => {
                let place = m.get("place").unwrap();
                if place.get("lat").is_some() {
                    with_coords += 1;
                }
                if place["country"] != "KE" {
                    seized_abroad.insert(item);
                }
            }
            _ => {}
        }
    }
    assert!(with_coords > 20);
    let mut found = false;
    for group in thefts.values().filter(|g| g.len() >= 3) {
        let model = &model_of[&group[0]];
        assert!(
            group.iter().all(|k| &model_of[k] == model),
            "one break-in, several models"
        );
        // Consecutive serials: same length, same non-digit skeleton, numbers within a shipment.
        let ser: Vec<&String> = group.iter().map(|k| &serial_of[k]).collect();
        let skeleton = |s: &str| s.chars().filter(|c| !c.is_numeric()).collect::<String>();
        assert!(ser.iter().all(
            |s| skeleton(s) == skeleton(ser[0]) && s.chars().count() == ser[0].chars().count()
        ));
        if group.iter().any(|k| seized_abroad.contains(k)) {
            found = true;
        }
    }
    assert!(found, "no shipment theft with a weapon seized abroad");
}

#[test]
fn craft_and_parts() {
    let (data, _) = run(5000, 1, "KE");
    let recs = lines(&data);
    let craft = recs
        .iter()
        .filter(|m| str_of(m, "type") == Some("craft") && str_of(m, "record") == Some("item"))
        .collect::<Vec<_>>();
    assert!(!craft.is_empty());
    assert!(craft
        .iter()
        .all(|m| m["markings"].as_array().unwrap().is_empty() && m.contains_key("note")));
    let parts = recs
        .iter()
        .filter(|m| str_of(m, "kind") == Some("part"))
        .count();
    let fitted = recs
        .iter()
        .filter(|m| str_of(m, "type") == Some("component_replaced"))
        .count();
    assert!(parts > 300 && fitted > 50, "parts {parts}, fitted {fitted}");
    let imports = recs
        .iter()
        .filter(|m| str_of(m, "record") == Some("item"))
        .flat_map(|m| m["markings"].as_array().unwrap().clone())
        .filter(|mk| mk["kind"] == "import")
        .count();
    assert!(imports > 100);
}

#[test]
fn catalogue_is_broad_and_honest() {
    let c = catalogue().unwrap();
    assert!(c.note.to_lowercase().contains("not an authoritative"));
    assert!(c.models.len() >= 25);
    let countries: HashSet<&str> = c
        .models
        .iter()
        .filter_map(|m| c.manufacturers.iter().find(|x| x.id == m.manufacturer))
        .map(|x| x.country.as_str())
        .collect();
    assert!(countries.len() >= 12, "{countries:?}");
    let licensed = c.models.iter().filter(|m| m.licence.is_some()).count();
    assert!(licensed >= 10);
    let type56 = c.models.iter().find(|m| m.model == "Type 56").unwrap();
    assert_eq!(type56.licence.as_ref().unwrap().of, "akm-izhmash");
}

#[test]
fn many_seeds_are_valid() {
    for seed in 100..124 {
        let state = if seed % 3 == 0 { "US" } else { "KE" };
        let (data, stats) = run(1500, seed, state);
        let r = check(&data, state);
        assert_eq!(r.items, 1500);
        assert_eq!(r.events, stats.events);
    }
}
