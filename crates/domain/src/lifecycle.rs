//! Life-cycle rules: what may be recorded about an item, given what is already recorded.
//!
//! The checker works on compact [`EventFacts`] (type, date range, id, void) rather than whole
//! events, so an import can hold the state of millions of items in memory. It evaluates a new
//! record by building the state the item would have with it and checking every rule on that
//! state; since every state already accepted satisfied the rules, any violation is the new
//! record's.

use crate::date::{year_start, PartialDate};
use crate::ids::EventId;
use crate::interchange::FieldError;
use crate::model::{CorrectionTarget, Event, EventType};

/// What the rules need to know about one recorded event.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct EventFacts {
    /// The ledger index of the record (or, before commit, a provisional sequence).
    pub seq: u64,
    pub id: Option<EventId>,
    pub event_type: EventType,
    pub start: i64,
    pub end: i64,
    pub void: bool,
}

impl EventFacts {
    pub fn of(seq: u64, event: &Event) -> Self {
        EventFacts {
            seq,
            id: event.id.clone(),
            event_type: event.event_type,
            start: event.date.start(),
            end: event.date.end(),
            void: false,
        }
    }
}

/// The rule-relevant state of one item.
#[derive(Clone, Default, Debug)]
pub struct Lifecycle {
    pub year_of_manufacture: Option<i32>,
    pub events: Vec<EventFacts>,
}

impl Lifecycle {
    pub fn new(year_of_manufacture: Option<i32>) -> Self {
        Lifecycle {
            year_of_manufacture,
            events: Vec::new(),
        }
    }

    /// Checks `event` (to be recorded at `seq`) and, if it is acceptable, records it.
    /// On error the state is unchanged.
    pub fn admit(&mut self, seq: u64, event: &Event) -> Result<(), FieldError> {
        let mut next = self.clone();
        next.apply(seq, event)?;
        next.check(seq, event)?;
        *self = next;
        Ok(())
    }

    fn apply(&mut self, seq: u64, event: &Event) -> Result<(), FieldError> {
        self.events.push(EventFacts::of(seq, event));
        let Some(c) = &event.correction else {
            return Ok(());
        };
        let target_pos = match &c.target {
            CorrectionTarget::Item => {
                if let Some(y) = c.set.get("year_of_manufacture") {
                    self.year_of_manufacture = y.as_i64().map(|y| y as i32);
                }
                return Ok(());
            }
            CorrectionTarget::Event(id) => self
                .events
                .iter()
                .position(|f| f.id.as_ref() == Some(id))
                .ok_or_else(|| FieldError {
                    field: "corrects".into(),
                    message: format!(
                        "no event with id '{id}' is recorded for item '{}'",
                        event.item
                    ),
                })?,
            CorrectionTarget::LedgerIndex(i) => self
                .events
                .iter()
                .position(|f| f.seq == *i)
                .ok_or_else(|| FieldError {
                    field: "corrects".into(),
                    message: format!(
                        "ledger record #{i} is not an event of item '{}'",
                        event.item
                    ),
                })?,
        };
        let target = &mut self.events[target_pos];
        if target.event_type == EventType::Corrected {
            return Err(FieldError {
                field: "corrects".into(),
                message: "a correction cannot itself be corrected; correct the original event"
                    .into(),
            });
        }
        if target.void {
            return Err(FieldError {
                field: "corrects".into(),
                message: "the event was voided by an earlier correction".into(),
            });
        }
        if c.void {
            target.void = true;
        }
        if let Some(d) = c.set.get("date").and_then(|d| d.as_str()) {
            let d = PartialDate::parse(d).map_err(|m| FieldError {
                field: "set.date".into(),
                message: m,
            })?;
            target.start = d.start();
            target.end = d.end();
        }
        Ok(())
    }

    fn check(&self, seq: u64, event: &Event) -> Result<(), FieldError> {
        let history = || {
            self.events
                .iter()
                .filter(|f| !f.void && f.event_type != EventType::Corrected)
        };
        let violation = |message: String| {
            let field = if event.event_type == EventType::Corrected {
                "set.date"
            } else {
                "date"
            };
            Err(FieldError {
                field: field.into(),
                message,
            })
        };
        for once in [EventType::Manufactured, EventType::Destroyed] {
            if history().filter(|f| f.event_type == once).count() > 1 {
                return Err(FieldError {
                    field: "type".into(),
                    message: format!("the item already has a {once} event"),
                });
            }
        }
        let manufactured = history().find(|f| f.event_type == EventType::Manufactured);
        let year_floor = self.year_of_manufacture.and_then(year_start);
        for f in history() {
            if let Some(m) = manufactured {
                if f.end <= m.start {
                    return violation(format!(
                        "a {} event dated before the item's manufacture is impossible",
                        f.event_type
                    ));
                }
            }
            if let (Some(floor), Some(y)) = (year_floor, self.year_of_manufacture) {
                if f.end <= floor {
                    return violation(format!(
                        "a {} event dated before the year of manufacture ({y}) is impossible",
                        f.event_type
                    ));
                }
            }
        }
        if let Some(d) = history().find(|f| f.event_type == EventType::Destroyed) {
            if let Some(f) = history().find(|f| f.seq != d.seq && f.start >= d.end) {
                let what = if f.seq == seq && event.event_type != EventType::Corrected {
                    format!(
                        "the item was destroyed; only a corrected event may follow, not {}",
                        f.event_type
                    )
                } else {
                    format!(
                        "a {} event would come after the item's destruction",
                        f.event_type
                    )
                };
                return violation(what);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interchange::parse_line;
    use crate::model::Record;

    fn ev(json: &str) -> Event {
        match parse_line(json.as_bytes()).unwrap().record {
            Record::Event(e) => e,
            Record::Item(_) => panic!(),
        }
    }
    fn e(t: &str, date: &str, id: &str) -> Event {
        ev(&format!(
            r#"{{"record":"event","item":"K","type":"{t}","date":"{date}","id":"{id}"}}"#
        ))
    }

    #[test]
    fn nothing_before_manufacture() {
        let mut l = Lifecycle::new(Some(1978));
        assert_eq!(
            l.admit(0, &e("imported", "1977", "a")).unwrap_err().field,
            "date"
        );
        l.admit(1, &e("manufactured", "1978-05", "m")).unwrap();
        assert!(l.admit(2, &e("exported", "1978-04-30", "x")).is_err());
        l.admit(3, &e("exported", "1978", "x")).unwrap();
        l.admit(4, &e("imported", "1985-06", "i")).unwrap();
    }

    #[test]
    fn only_corrections_after_destruction() {
        let mut l = Lifecycle::new(None);
        l.admit(0, &e("manufactured", "1980", "m")).unwrap();
        l.admit(1, &e("destroyed", "2015-03-01", "d")).unwrap();
        let err = l.admit(2, &e("assigned", "2016", "a")).unwrap_err();
        assert!(err.message.contains("destroyed"), "{err:?}");
        // Late-recorded history from before the destruction is accepted (migration).
        l.admit(3, &e("assigned", "2001", "b")).unwrap();
        assert_eq!(
            l.admit(4, &e("destroyed", "2016", "d2")).unwrap_err().field,
            "type"
        );
        assert_eq!(
            l.admit(5, &e("manufactured", "1980", "m2"))
                .unwrap_err()
                .field,
            "type"
        );
        // A correction that moves an event past the destruction is refused.
        let c = ev(
            r#"{"record":"event","item":"K","type":"corrected","date":"2020","corrects":"b","set":{"date":"2017"}}"#,
        );
        assert_eq!(l.admit(6, &c).unwrap_err().field, "set.date");
        let c = ev(
            r#"{"record":"event","item":"K","type":"corrected","date":"2020","corrects":"b","set":{"date":"2002"}}"#,
        );
        l.admit(7, &c).unwrap();
    }

    #[test]
    fn corrections_name_a_real_target() {
        let mut l = Lifecycle::new(None);
        l.admit(0, &e("imported", "1990", "i")).unwrap();
        let c = ev(
            r#"{"record":"event","item":"K","type":"corrected","date":"2020","corrects":"nope","void":true}"#,
        );
        assert_eq!(l.admit(1, &c).unwrap_err().field, "corrects");
        let c = ev(
            r##"{"record":"event","item":"K","type":"corrected","date":"2020","corrects":"#0","void":true}"##,
        );
        l.admit(2, &c).unwrap();
        assert!(l.events[0].void);
        let c = ev(
            r##"{"record":"event","item":"K","type":"corrected","date":"2020","corrects":"#0","void":true}"##,
        );
        assert!(l.admit(3, &c).unwrap_err().message.contains("voided"));
        // A voided manufacture no longer blocks a new one.
        l.admit(4, &e("manufactured", "1989", "m")).unwrap();
    }

    #[test]
    fn correcting_the_year_of_manufacture_is_checked() {
        let mut l = Lifecycle::new(Some(1970));
        l.admit(0, &e("imported", "1975", "i")).unwrap();
        let c = ev(
            r#"{"record":"event","item":"K","type":"corrected","date":"2020","corrects":"item","set":{"year_of_manufacture":1980}}"#,
        );
        assert!(l.admit(1, &c).is_err());
        assert_eq!(l.year_of_manufacture, Some(1970));
    }
}
