//! Current state and chain of custody, derived from an item's records.
//!
//! A projection is a pure function of the item declaration and its events in ledger order:
//! corrections are applied (field replacement, voiding), events are put in chronological
//! order, and the status and holder are folded over them. The store persists the result for
//! fast reads, and `ledger verify` recomputes it from the ledger and compares.

use crate::interchange::{apply_set, parse_record, FieldError};
use crate::model::*;
use serde_json::{Map, Value};

/// One record of the item's history, as stored: its ledger index and its JSON object.
#[derive(Clone, Debug)]
pub struct StoredEvent {
    pub seq: u64,
    pub object: Map<String, Value>,
}

/// An event as it stands after corrections, with the state it left the item in.
#[derive(Clone, Debug)]
pub struct CustodyEntry {
    pub seq: u64,
    pub event: Event,
    /// The event's object with corrections applied (what is shown).
    pub object: Map<String, Value>,
    pub void: bool,
    /// Ledger indexes of the corrections applied to this event.
    pub corrected_by: Vec<u64>,
    pub status_after: Status,
    pub holder_after: Option<Actor>,
}

/// Where lawful control of the item was lost, as far as the records show.
#[derive(Clone, Debug)]
pub struct Diversion {
    /// The event that shows the loss of control: a report of loss or theft, or a seizure of
    /// an item that was never reported missing (then the point lies between the last legal
    /// event and the seizure).
    pub seq: u64,
    pub event_type: EventType,
    pub reported: bool,
    pub last_legal_holder: Option<Actor>,
    /// Ledger index of the last legal transfer before the loss.
    pub last_legal_seq: Option<u64>,
}

#[derive(Clone, Debug)]
pub struct Projection {
    /// The item with item corrections applied.
    pub item: Item,
    pub item_object: Map<String, Value>,
    pub status: Status,
    pub holder: Option<Actor>,
    pub last_legal_holder: Option<Actor>,
    pub diversion: Option<Diversion>,
    /// Every event (corrections included, voided ones flagged) in chronological order.
    pub events: Vec<CustodyEntry>,
}

#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error("record #{seq} does not parse: {field}: {message}")]
    Invalid {
        seq: u64,
        field: String,
        message: String,
    },
    #[error("record #{seq} is not of the expected kind")]
    WrongKind { seq: u64 },
}

fn parse_as(seq: u64, object: &Map<String, Value>) -> Result<Record, ProjectionError> {
    parse_record(object).map(|(r, _)| r).map_err(|errors| {
        let FieldError { field, message } = errors.into_iter().next().unwrap_or(FieldError {
            field: String::new(),
            message: "invalid".into(),
        });
        ProjectionError::Invalid {
            seq,
            field,
            message,
        }
    })
}

fn parse_event(seq: u64, object: &Map<String, Value>) -> Result<Event, ProjectionError> {
    match parse_as(seq, object)? {
        Record::Event(e) => Ok(e),
        Record::Item(_) => Err(ProjectionError::WrongKind { seq }),
    }
}

/// The status an event leaves the item in, given the status before it.
pub fn status_after(before: Status, event: &Event) -> Status {
    match event.event_type {
        EventType::Manufactured | EventType::Imported | EventType::Returned => Status::InStock,
        EventType::Exported => Status::Exported,
        EventType::Transferred => match event.to.as_ref().and_then(|a| a.kind) {
            Some(ActorKind::PrivatePerson) => Status::CivilianHeld,
            _ => Status::InStock,
        },
        EventType::Assigned => Status::InService,
        EventType::ReportedLost => Status::Lost,
        EventType::ReportedStolen => Status::Stolen,
        EventType::Recovered => Status::Recovered,
        EventType::Seized => Status::Seized,
        EventType::Surrendered => Status::Surrendered,
        EventType::Deactivated => Status::Deactivated,
        EventType::Destroyed => Status::Destroyed,
        EventType::Marked
        | EventType::ComponentReplaced
        | EventType::Converted
        | EventType::Corrected
        | EventType::Photographed => before,
    }
}

/// The holder after an event, given the holder before it.
pub fn holder_after(before: Option<Actor>, event: &Event) -> Option<Actor> {
    match event.event_type {
        EventType::Manufactured => event.to.clone().or_else(|| event.from.clone()).or(before),
        EventType::Imported
        | EventType::Exported
        | EventType::Transferred
        | EventType::Assigned
        | EventType::Seized
        | EventType::Surrendered
        | EventType::Returned
        | EventType::Recovered => event.to.clone().or(before),
        _ => before,
    }
}

/// Projects an item from its declaration and its events (in any order; each with its ledger
/// index). Stored records always parse; an error here means the ledger is damaged.
pub fn project(
    item_seq: u64,
    item_object: &Map<String, Value>,
    events: &[StoredEvent],
) -> Result<Projection, ProjectionError> {
    let mut order: Vec<&StoredEvent> = events.iter().collect();
    order.sort_by_key(|e| e.seq);

    // Each record is parsed once; corrections (rare) re-parse only their target.
    struct Entry {
        seq: u64,
        object: Map<String, Value>,
        event: Event,
        void: bool,
        corrected_by: Vec<u64>,
    }
    let mut item_object = item_object.clone();
    let mut entries: Vec<Entry> = Vec::with_capacity(order.len());
    for stored in order {
        let event = parse_event(stored.seq, &stored.object)?;
        if let Some(c) = &event.correction {
            match &c.target {
                CorrectionTarget::Item => apply_set(&mut item_object, &c.set),
                target => {
                    let found = entries.iter_mut().find(|e| match target {
                        CorrectionTarget::Event(id) => {
                            e.event.id.as_ref().map(|i| i.as_str()) == Some(id.as_str())
                        }
                        CorrectionTarget::LedgerIndex(i) => e.seq == *i,
                        CorrectionTarget::Item => false,
                    });
                    if let Some(target) = found {
                        if !c.set.is_empty() {
                            apply_set(&mut target.object, &c.set);
                            target.event = parse_event(target.seq, &target.object)?;
                        }
                        target.void |= c.void;
                        target.corrected_by.push(stored.seq);
                    }
                }
            }
        }
        entries.push(Entry {
            seq: stored.seq,
            object: stored.object.clone(),
            event,
            void: false,
            corrected_by: Vec::new(),
        });
    }
    let Record::Item(item) = parse_as(item_seq, &item_object)? else {
        return Err(ProjectionError::WrongKind { seq: item_seq });
    };
    entries.sort_by(|a, b| {
        a.event
            .date
            .chronological_cmp(&b.event.date)
            .then(a.seq.cmp(&b.seq))
    });

    let mut status = Status::Recorded;
    let mut holder: Option<Actor> = None;
    let mut last_legal: Option<(u64, Option<Actor>)> = None;
    let mut in_control = true;
    let mut diversion: Option<Diversion> = None;
    let mut out = Vec::with_capacity(entries.len());
    for Entry {
        seq,
        object,
        event,
        void,
        corrected_by,
    } in entries
    {
        if !void && event.event_type != EventType::Corrected {
            status = status_after(status, &event);
            holder = holder_after(holder, &event);
            let t = event.event_type;
            if t.is_legal_transfer() || t == EventType::Recovered {
                in_control = true;
            }
            if t.is_legal_transfer() {
                last_legal = Some((seq, holder.clone()));
            }
            if in_control && (t.is_control_loss() || t == EventType::Seized) {
                in_control = false;
                diversion = Some(Diversion {
                    seq,
                    event_type: t,
                    reported: t.is_control_loss(),
                    last_legal_holder: last_legal.as_ref().and_then(|(_, h)| h.clone()),
                    last_legal_seq: last_legal.as_ref().map(|(s, _)| *s),
                });
            }
        }
        out.push(CustodyEntry {
            seq,
            event,
            object,
            void,
            corrected_by,
            status_after: status,
            holder_after: holder.clone(),
        });
    }
    let last_legal_holder = match &diversion {
        Some(d) => d.last_legal_holder.clone(),
        None => last_legal.and_then(|(_, h)| h),
    };
    Ok(Projection {
        item,
        item_object,
        status,
        holder,
        last_legal_holder,
        diversion,
        events: out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(s: &str) -> Map<String, Value> {
        match serde_json::from_str(s).unwrap() {
            Value::Object(m) => m,
            _ => panic!(),
        }
    }
    fn ev(seq: u64, s: &str) -> StoredEvent {
        StoredEvent {
            seq,
            object: obj(s),
        }
    }

    const ITEM: &str = r#"{"record":"item","key":"K","kind":"firearm","model":"Type 56"}"#;

    #[test]
    fn custody_in_date_order_with_diversion() {
        let events = [
            ev(
                2,
                r#"{"record":"event","item":"K","type":"assigned","date":"1990-02","to":{"name":"3rd Battalion","kind":"armed_forces"}}"#,
            ),
            ev(
                1,
                r#"{"record":"event","item":"K","type":"imported","date":"1985-06","to":{"name":"Ministry of Defence","kind":"state_agency"}}"#,
            ),
            ev(
                3,
                r#"{"record":"event","item":"K","type":"reported_stolen","date":"2011-02-03"}"#,
            ),
            ev(
                4,
                r#"{"record":"event","item":"K","type":"seized","date":"2014","to":{"name":"Police","kind":"police"}}"#,
            ),
            // Recorded late: a manufacture date from a catalogue.
            ev(
                5,
                r#"{"record":"event","item":"K","type":"manufactured","date":"1978"}"#,
            ),
        ];
        let p = project(0, &obj(ITEM), &events).unwrap();
        let seqs: Vec<u64> = p.events.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [5, 1, 2, 3, 4]);
        assert_eq!(p.status, Status::Seized);
        assert_eq!(p.holder.unwrap().name, "Police");
        let d = p.diversion.unwrap();
        assert_eq!(
            (d.seq, d.event_type, d.reported),
            (3, EventType::ReportedStolen, true)
        );
        assert_eq!(d.last_legal_holder.unwrap().name, "3rd Battalion");
        assert_eq!(p.last_legal_holder.unwrap().name, "3rd Battalion");
    }

    #[test]
    fn seizure_without_report_is_the_diversion_point() {
        let events = [
            ev(
                1,
                r#"{"record":"event","item":"K","type":"transferred","date":"2001","to":{"name":"A. Person","kind":"private_person"}}"#,
            ),
            ev(
                2,
                r#"{"record":"event","item":"K","type":"seized","date":"2009","to":{"name":"Customs","kind":"customs"}}"#,
            ),
        ];
        let p = project(0, &obj(ITEM), &events).unwrap();
        let d = p.diversion.unwrap();
        assert!(!d.reported);
        assert_eq!(d.last_legal_seq, Some(1));
        assert_eq!(p.last_legal_holder.unwrap().name, "A. Person");
    }

    #[test]
    fn corrections_apply_and_void() {
        let events = [
            ev(
                1,
                r#"{"record":"event","item":"K","type":"imported","id":"i","date":"1985","to":{"name":"MoD"}}"#,
            ),
            ev(
                2,
                r#"{"record":"event","item":"K","type":"reported_lost","id":"l","date":"1999"}"#,
            ),
            ev(
                3,
                r#"{"record":"event","item":"K","type":"corrected","date":"2020","corrects":"l","void":true}"#,
            ),
            ev(
                4,
                r#"{"record":"event","item":"K","type":"corrected","date":"2020","corrects":"item","set":{"model":"AKM"}}"#,
            ),
            ev(
                5,
                r#"{"record":"event","item":"K","type":"corrected","date":"2020","corrects":"i","set":{"date":"1985-06"}}"#,
            ),
        ];
        let p = project(0, &obj(ITEM), &events).unwrap();
        assert_eq!(p.status, Status::InStock);
        assert!(p.diversion.is_none());
        assert_eq!(p.item.model.as_deref(), Some("AKM"));
        let imported = p.events.iter().find(|e| e.seq == 1).unwrap();
        assert_eq!(imported.event.date.as_str(), "1985-06");
        assert_eq!(imported.corrected_by, [5]);
        assert!(p.events.iter().find(|e| e.seq == 2).unwrap().void);
    }

    #[test]
    fn no_events_is_recorded() {
        let p = project(0, &obj(ITEM), &[]).unwrap();
        assert_eq!(p.status, Status::Recorded);
        assert!(p.holder.is_none());
    }
}
