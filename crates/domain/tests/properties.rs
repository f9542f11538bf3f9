//! Property tests: the parser never panics, and the life-cycle checker agrees with a
//! brute-force statement of the rules.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use proptest::prelude::*;
use tracemark_domain::date::PartialDate;
use tracemark_domain::interchange::parse_line;
use tracemark_domain::lifecycle::Lifecycle;
use tracemark_domain::model::{Event, EventType, Record};

const VALID: &[&str] = &[
    r#"{"record":"item","key":"KE-2019-000123","kind":"firearm","type":"assault_rifle","make":"Norinco","model":"Type 56","calibre":"7.62x39mm","country_of_manufacture":"CN","year_of_manufacture":1978,"markings":[{"kind":"serial","text":"5612345","component":"receiver"}]}"#,
    r#"{"record":"event","id":"imp-1","item":"KE-2019-000123","type":"imported","date":"1985-06","from":{"name":"China North Industries","country":"CN","kind":"exporter"},"to":{"name":"Ministry of Defence","country":"KE","kind":"state_agency"},"documents":[{"kind":"import_licence","number":"IL-85/112","issued_by":"KE"}],"place":{"country":"KE","lat":-1.28,"lon":36.8}}"#,
    r#"{"record":"event","item":"K","type":"corrected","date":"2020","corrects":"imp-1","set":{"date":"1985-07"}}"#,
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// Arbitrary bytes: an answer, never a panic.
    #[test]
    fn parser_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = parse_line(&bytes);
    }

    /// Valid records with bytes flipped, cut or spliced: either a record or named errors.
    #[test]
    fn parser_reports_errors_for_mutated_records(
        which in 0..VALID.len(),
        cut in 0usize..600,
        flips in prop::collection::vec((0usize..600, any::<u8>()), 0..4),
    ) {
        let mut b = VALID[which].as_bytes().to_vec();
        for (at, byte) in flips {
            let n = b.len();
            b[at % n] = byte;
        }
        b.truncate(cut.max(1));
        match parse_line(&b) {
            Ok(_) => {}
            Err(errors) => prop_assert!(!errors.is_empty() && errors.iter().all(|e| !e.message.is_empty())),
        }
    }

    /// Any JSON value in any field: never a panic.
    #[test]
    fn parser_never_panics_on_odd_values(
        which in 0..VALID.len(),
        field in "[a-z_]{1,12}",
        value in prop_oneof![
            Just(serde_json::json!(null)), Just(serde_json::json!(-1)), Just(serde_json::json!(1e308)),
            Just(serde_json::json!([])), Just(serde_json::json!({})), Just(serde_json::json!("")),
            Just(serde_json::json!("\u{0}")), Just(serde_json::json!([{"kind":"serial"}])),
            Just(serde_json::json!({"name":""})), Just(serde_json::json!(true)),
        ],
    ) {
        let mut v: serde_json::Value = serde_json::from_str(VALID[which]).unwrap();
        for f in [field.as_str(), "key", "date", "markings", "to", "place", "set", "kind", "type"] {
            v[f] = value.clone();
            let _ = parse_line(v.to_string().as_bytes());
        }
    }
}

const TYPES: &[&str] = &[
    "manufactured",
    "imported",
    "exported",
    "assigned",
    "reported_stolen",
    "seized",
    "destroyed",
    "marked",
];
const DATES: &[&str] = &[
    "1970",
    "1978",
    "1978-05",
    "1978-05-02",
    "1985",
    "1985-06",
    "1990-01-01",
    "2011-02-03",
    "2015",
    "2015-05",
    "2020",
];

fn event(t: &str, d: &str, i: usize) -> Event {
    let line = format!(r#"{{"record":"event","item":"K","type":"{t}","date":"{d}","id":"e{i}"}}"#);
    match parse_line(line.as_bytes()).unwrap().record {
        Record::Event(e) => e,
        Record::Item(_) => unreachable!(),
    }
}

/// The rules of docs/INTERCHANGE.md stated directly over a set of events.
fn rules_hold(year: Option<i32>, events: &[Event]) -> bool {
    let count = |t: EventType| events.iter().filter(|e| e.event_type == t).count();
    if count(EventType::Manufactured) > 1 || count(EventType::Destroyed) > 1 {
        return false;
    }
    let made = events
        .iter()
        .find(|e| e.event_type == EventType::Manufactured)
        .map(|e| e.date.clone());
    let floor = year.map(|y| PartialDate::parse(&format!("{y:04}")).unwrap());
    for e in events {
        for bound in made.iter().chain(floor.iter()) {
            if e.date.definitely_before(bound) {
                return false;
            }
        }
    }
    if let Some(d) = events.iter().find(|e| e.event_type == EventType::Destroyed) {
        if events
            .iter()
            .any(|e| e.event_type != EventType::Destroyed && d.date.definitely_before(&e.date))
        {
            return false;
        }
    }
    true
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn lifecycle_agrees_with_the_rules(
        year in prop::option::of(prop_oneof![Just(1978), Just(1985), Just(2011)]),
        seq in prop::collection::vec((0..TYPES.len(), 0..DATES.len()), 0..12),
    ) {
        let mut l = Lifecycle::new(year);
        let mut accepted: Vec<Event> = Vec::new();
        for (i, (t, d)) in seq.into_iter().enumerate() {
            let e = event(TYPES[t], DATES[d], i);
            let mut with = accepted.clone();
            with.push(e.clone());
            let expect = rules_hold(year, &with);
            let got = l.admit(i as u64, &e).is_ok();
            prop_assert_eq!(got, expect, "event {} {} after {:?}", TYPES[t], DATES[d], accepted.iter().map(|e| (e.event_type, e.date.as_str().to_owned())).collect::<Vec<_>>());
            if got {
                accepted.push(e);
            }
        }
    }
}
