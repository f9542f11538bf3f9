//! The overdue list and the reminders of `traces::review` as the clock moves on, over a trace
//! on record. (The CLI reads the wall clock and cannot be moved, so `tracemark trace overdue`
//! is tested only at the moment of sending; the timing lives here.)

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};
use tracemark_domain::ids::CountryCode;
use tracemark_registry::traces::{self, Actor, Channel};
use tracemark_registry::{FixedClock, Node};
use tracemark_trace::deadlines::{Obligation, ReminderLevel};
use tracemark_trace::request::TraceRequest;

const SENT: &str = "2026-03-01T10:00:00Z";

fn request() -> TraceRequest {
    serde_json::from_value(serde_json::json!({
        "id": "TR-1", "requesting_state": "KE", "requesting_agency": "DCI",
        "officer": "Insp. W. Otieno", "case_reference": "CR 1",
        "priority": {"level": "routine"},
        "item": {"kind": "firearm", "type": "assault_rifle", "make": "Norinco",
                 "model": "Type 56", "calibre": "7.62x39mm", "country_of_manufacture": "CN",
                 "markings": [{"text": "5612345", "kind": "serial", "component": "receiver"}]},
        "illicit": {"reason": "seized", "details": "Seized at a roadblock."},
        "legal_basis": "Firearms Act (Cap. 114)",
        "circumstances": {"date": "2026-02-20", "country": "KE", "description": "A roadblock."},
        "intended_use": "Prosecution."
    }))
    .unwrap()
}

fn at(t: OffsetDateTime, hours: i64) -> OffsetDateTime {
    t + Duration::hours(hours)
}

/// A KE node with trace KE:TR-1 sent to UG and TZ at `SENT` (routine: acknowledge within
/// 7 days, answer within 30; reminders at 50 % and 90 %).
fn sent(dir: &std::path::Path) -> (Node, OffsetDateTime) {
    let mut node = Node::init(dir, "KE", None, &FixedClock(SENT.into())).unwrap();
    let t0 = OffsetDateTime::parse(SENT, &Rfc3339).unwrap();
    traces::draft(&mut node, request(), "test", t0).unwrap();
    let to = [
        CountryCode::parse("UG").unwrap(),
        CountryCode::parse("TZ").unwrap(),
    ];
    let r = traces::send(&mut node, "KE:TR-1", &to, Vec::new(), "test", t0).unwrap();
    assert_eq!(r.not_federated, ["UG", "TZ"]);
    (node, t0)
}

#[test]
fn deadlines_fall_due_as_the_clock_moves_on() {
    let dir = tempfile::tempdir().unwrap();
    let (mut node, t0) = sent(dir.path());
    let ug = CountryCode::parse("UG").unwrap();

    // An hour later: nothing owed yet, no reminder.
    let r = traces::review(&node, at(t0, 1)).unwrap();
    assert!(r.overdue.is_empty() && r.reminders.is_empty(), "{r:?}");

    // Half-way to the acknowledgement (3.5 days): a 50 % reminder for each state.
    let r = traces::review(&node, at(t0, 85)).unwrap();
    assert!(r.overdue.is_empty(), "{r:?}");
    let acks: Vec<_> = r
        .reminders
        .iter()
        .filter(|m| m.obligation == Obligation::Acknowledgement)
        .collect();
    assert_eq!(acks.len(), 2, "{r:?}");
    assert!(acks.iter().all(|m| m.level == ReminderLevel::Percent(50)));

    // Eight days on: both acknowledgements a day overdue.
    let r = traces::review(&node, at(t0, 8 * 24)).unwrap();
    assert_eq!(r.overdue.len(), 2, "{r:?}");
    for o in &r.overdue {
        assert_eq!(o.trace.as_str(), "TR-1");
        assert_eq!(o.obligation, Obligation::Acknowledgement);
        assert_eq!(o.due_at, at(t0, 7 * 24));
        assert_eq!(o.by, Duration::hours(24));
    }

    // UG's acknowledgement arrives on paper on day 9: only TZ still owes one.
    traces::acknowledge(
        &mut node,
        "KE:TR-1",
        Actor::Recorded {
            state: ug,
            channel: Channel::Paper,
        },
        None,
        "test",
        at(t0, 9 * 24),
    )
    .unwrap();
    let r = traces::review(&node, at(t0, 9 * 24)).unwrap();
    let owing: Vec<_> = r.overdue.iter().map(|o| o.counterpart.as_str()).collect();
    assert_eq!(owing, ["TZ"], "{r:?}");

    // After 31 days both answers are overdue too.
    let r = traces::review(&node, at(t0, 31 * 24)).unwrap();
    let answers = r
        .overdue
        .iter()
        .filter(|o| o.obligation == Obligation::Answer)
        .count();
    assert_eq!(answers, 2, "{r:?}");

    // Closed: nothing owed any more.
    traces::close(&mut node, "KE:TR-1", Vec::new(), "test", at(t0, 32 * 24)).unwrap();
    let r = traces::review(&node, at(t0, 40 * 24)).unwrap();
    assert!(r.overdue.is_empty() && r.reminders.is_empty(), "{r:?}");
}

/// The node's own deadlines (`deadlines.json` in its folder) replace the defaults.
#[test]
fn the_node_policy_sets_the_deadlines() {
    let dir = tempfile::tempdir().unwrap();
    let (node, t0) = sent(dir.path());
    std::fs::write(
        node.dir().join("deadlines.json"),
        r#"{"routine": {"acknowledge_within_hours": 48, "answer_within_hours": 240}}"#,
    )
    .unwrap();
    let r = traces::review(&node, at(t0, 50)).unwrap();
    assert_eq!(r.overdue.len(), 2, "{r:?}");
    assert!(r.overdue.iter().all(|o| o.due_at == at(t0, 48)), "{r:?}");
    std::fs::write(node.dir().join("deadlines.json"), "{\"routine\": 3}").unwrap();
    assert!(traces::review(&node, at(t0, 50)).is_err());
}
