//! Acknowledgement and answer deadlines, reminders and the overdue list.
//!
//! Non-response is the most common complaint about tracing: requests are neither acknowledged
//! nor answered, and nobody notices for months. A node therefore computes, for every open
//! exchange, what is owed (an acknowledgement, an answer), by when, and which reminder is due.
//! The deadlines are configured per priority ([`DeadlinePolicy`], a serde document; the
//! defaults follow practice: urgent traces acknowledged in a day and answered in three, routine
//! ones in a week and a month) because the ITI says only "within a reasonable time" and
//! "promptly", and states agree their own terms.
//!
//! Both deadlines run from the moment the request was sent — not from its delivery — because
//! on paper and e-mail channels the requester never sees a delivery, and a deadline that waited
//! for a delivery receipt would never start for the message that was lost, the very case it
//! exists to catch. A follow-up question restarts the answer deadline from when it was asked.
//!
//! Time is an argument: every function takes `now` and never reads the clock, so the same
//! ledger gives the same overdue list in a test, in a replay and in production.

use crate::lifecycle::{Phase, TraceState};
use crate::text::TraceId;
use serde::{Deserialize, Serialize};
use std::fmt;
use time::{Duration, OffsetDateTime};
use tracemark_domain::ids::CountryCode;

/// Longest deadline accepted: ten years, in hours. Longer is a configuration mistake.
pub const MAX_HOURS: u32 = 87_600;

/// A whole number of hours, 1 to [`MAX_HOURS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct Hours(u32);

impl Hours {
    pub fn new(h: u32) -> Result<Self, ConfigError> {
        if (1..=MAX_HOURS).contains(&h) {
            Ok(Hours(h))
        } else {
            Err(ConfigError::Hours(h))
        }
    }
    pub fn get(self) -> u32 {
        self.0
    }
    pub fn duration(self) -> Duration {
        Duration::hours(i64::from(self.0))
    }
}

impl TryFrom<u32> for Hours {
    type Error = ConfigError;
    fn try_from(h: u32) -> Result<Self, ConfigError> {
        Hours::new(h)
    }
}

impl From<Hours> for u32 {
    fn from(h: Hours) -> u32 {
        h.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("a deadline is 1 to {MAX_HOURS} hours, not {0}")]
    Hours(u32),
    #[error(
        "the answer deadline ({answer} h) is before the acknowledgement deadline ({acknowledge} h)"
    )]
    AnswerBeforeAcknowledgement { acknowledge: u32, answer: u32 },
    #[error("reminder thresholds are percentages from 1 to 99 in increasing order, not {0:?}")]
    Thresholds(Vec<u8>),
}

/// The deadlines for one priority.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "DeadlinesWire", into = "DeadlinesWire")]
pub struct Deadlines {
    acknowledge_within: Hours,
    answer_within: Hours,
}

#[derive(Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeadlinesWire {
    acknowledge_within_hours: Hours,
    answer_within_hours: Hours,
}

impl Deadlines {
    /// An answer cannot be due before the acknowledgement.
    pub fn new(acknowledge_within: Hours, answer_within: Hours) -> Result<Self, ConfigError> {
        if answer_within < acknowledge_within {
            return Err(ConfigError::AnswerBeforeAcknowledgement {
                acknowledge: acknowledge_within.get(),
                answer: answer_within.get(),
            });
        }
        Ok(Deadlines {
            acknowledge_within,
            answer_within,
        })
    }
    pub fn acknowledge_within(&self) -> Hours {
        self.acknowledge_within
    }
    pub fn answer_within(&self) -> Hours {
        self.answer_within
    }
    fn window(&self, obligation: Obligation) -> Duration {
        match obligation {
            Obligation::Acknowledgement => self.acknowledge_within.duration(),
            Obligation::Answer => self.answer_within.duration(),
        }
    }
}

impl TryFrom<DeadlinesWire> for Deadlines {
    type Error = ConfigError;
    fn try_from(w: DeadlinesWire) -> Result<Self, ConfigError> {
        Deadlines::new(w.acknowledge_within_hours, w.answer_within_hours)
    }
}

impl From<Deadlines> for DeadlinesWire {
    fn from(d: Deadlines) -> Self {
        DeadlinesWire {
            acknowledge_within_hours: d.acknowledge_within,
            answer_within_hours: d.answer_within,
        }
    }
}

/// When reminders fall due, in percent of a deadline's window (e.g. 50 and 90). A reminder
/// is also due once the deadline has passed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<u8>", into = "Vec<u8>")]
pub struct Thresholds(Vec<u8>);

impl Thresholds {
    pub fn new(percents: Vec<u8>) -> Result<Self, ConfigError> {
        let in_range = percents.iter().all(|p| (1..=99).contains(p));
        let increasing = percents.windows(2).all(|w| w[0] < w[1]);
        if in_range && increasing {
            Ok(Thresholds(percents))
        } else {
            Err(ConfigError::Thresholds(percents))
        }
    }
    pub fn percents(&self) -> &[u8] {
        &self.0
    }
}

impl TryFrom<Vec<u8>> for Thresholds {
    type Error = ConfigError;
    fn try_from(v: Vec<u8>) -> Result<Self, ConfigError> {
        Thresholds::new(v)
    }
}

impl From<Thresholds> for Vec<u8> {
    fn from(t: Thresholds) -> Vec<u8> {
        t.0
    }
}

/// The deadline configuration of a node. Every field has a default, so a configuration file
/// states only what it changes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeadlinePolicy {
    pub urgent: Deadlines,
    pub routine: Deadlines,
    pub reminders_at_percent: Thresholds,
}

impl Default for DeadlinePolicy {
    fn default() -> Self {
        DeadlinePolicy {
            urgent: Deadlines {
                acknowledge_within: Hours(24),
                answer_within: Hours(72),
            },
            routine: Deadlines {
                acknowledge_within: Hours(7 * 24),
                answer_within: Hours(30 * 24),
            },
            reminders_at_percent: Thresholds(vec![50, 90]),
        }
    }
}

/// What a requested state owes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Obligation {
    Acknowledgement,
    Answer,
}

impl fmt::Display for Obligation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Obligation::Acknowledgement => "acknowledgement",
            Obligation::Answer => "answer",
        })
    }
}

/// Something owed in one exchange, and when it is due.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    pub trace: TraceId,
    /// The requested state that owes it.
    pub counterpart: CountryCode,
    pub obligation: Obligation,
    /// When the clock started: the sending, or the follow-up question.
    pub since: OffsetDateTime,
    pub window: Duration,
    /// `None` when the deadline falls beyond the representable calendar (never, in practice).
    pub due_at: Option<OffsetDateTime>,
}

/// How far along a deadline a reminder is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReminderLevel {
    /// This percentage of the window has passed.
    Percent(u8),
    /// The deadline has passed.
    Overdue,
}

/// A reminder that is due. Its `(trace, counterpart, obligation, level)` is a stable key, so
/// the caller records the reminders it sent and sends each once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reminder {
    pub trace: TraceId,
    pub counterpart: CountryCode,
    pub obligation: Obligation,
    pub level: ReminderLevel,
    /// When it fell due.
    pub at: OffsetDateTime,
}

/// An obligation past its deadline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Overdue {
    pub trace: TraceId,
    pub counterpart: CountryCode,
    pub obligation: Obligation,
    pub due_at: OffsetDateTime,
    pub by: Duration,
}

/// The overdue list and the reminders due, at one instant.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Review {
    /// Most overdue first.
    pub overdue: Vec<Overdue>,
    /// The most advanced reminder due for each pending obligation, earliest first.
    pub reminders: Vec<Reminder>,
}

/// What is owed in `state` under `policy`. Drafts and closed traces owe nothing.
pub fn pending(policy: &DeadlinePolicy, state: &TraceState) -> Vec<Pending> {
    let TraceState::Open { trace, .. } = state else {
        return Vec::new();
    };
    let deadlines = if trace.dispatch().priority().is_urgent() {
        &policy.urgent
    } else {
        &policy.routine
    };
    let mut out = Vec::new();
    let mut owe = |counterpart: CountryCode, obligation: Obligation, since: OffsetDateTime| {
        let window = deadlines.window(obligation);
        out.push(Pending {
            trace: state.id().clone(),
            counterpart,
            obligation,
            since,
            window,
            due_at: since.checked_add(window),
        });
    };
    for ex in trace.exchanges() {
        if ex.acknowledged_at().is_none() {
            owe(ex.state(), Obligation::Acknowledgement, trace.sent_at());
        }
        match ex.phase() {
            Phase::Sent | Phase::Delivered | Phase::Acknowledged => {
                owe(ex.state(), Obligation::Answer, trace.sent_at());
            }
            Phase::FollowUp => {
                let since = ex.pending_follow_up().map_or(trace.sent_at(), |f| f.at);
                owe(ex.state(), Obligation::Answer, since);
            }
            Phase::Answered => {}
        }
    }
    out
}

/// The most advanced reminder due at `now` for `p`, if any.
pub fn reminder_due(policy: &DeadlinePolicy, p: &Pending, now: OffsetDateTime) -> Option<Reminder> {
    let make = |level, at| Reminder {
        trace: p.trace.clone(),
        counterpart: p.counterpart,
        obligation: p.obligation,
        level,
        at,
    };
    if let Some(due) = p.due_at.filter(|due| now > *due) {
        return Some(make(ReminderLevel::Overdue, due));
    }
    let window = p.window.whole_seconds();
    policy
        .reminders_at_percent
        .percents()
        .iter()
        .rev()
        .find_map(|&pct| {
            let at = p
                .since
                .checked_add(Duration::seconds(window * i64::from(pct) / 100))?;
            (now >= at).then(|| make(ReminderLevel::Percent(pct), at))
        })
}

/// The overdue list and the reminders due at `now`, over a set of traces.
pub fn review<'a>(
    policy: &DeadlinePolicy,
    traces: impl IntoIterator<Item = &'a TraceState>,
    now: OffsetDateTime,
) -> Review {
    let mut out = Review::default();
    for state in traces {
        for p in pending(policy, state) {
            if let Some(due) = p.due_at.filter(|due| now > *due) {
                out.overdue.push(Overdue {
                    trace: p.trace.clone(),
                    counterpart: p.counterpart,
                    obligation: p.obligation,
                    due_at: due,
                    by: now - due,
                });
            }
            if let Some(r) = reminder_due(policy, &p, now) {
                out.reminders.push(r);
            }
        }
    }
    out.overdue.sort_by(|a, b| {
        (a.due_at, &a.trace, a.counterpart, a.obligation).cmp(&(
            b.due_at,
            &b.trace,
            b.counterpart,
            b.obligation,
        ))
    });
    out.reminders.sort_by(|a, b| {
        (a.at, &a.trace, a.counterpart, a.obligation).cmp(&(
            b.at,
            &b.trace,
            b.counterpart,
            b.obligation,
        ))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::fixtures::*;
    use crate::lifecycle::{replay, TraceEvent};
    use time::macros::datetime;
    use time::Duration as D;

    #[test]
    fn policy_defaults_and_json() {
        let p = DeadlinePolicy::default();
        assert_eq!(p.urgent.acknowledge_within().get(), 24);
        assert_eq!(p.urgent.answer_within().get(), 72);
        assert_eq!(p.routine.acknowledge_within().get(), 168);
        assert_eq!(p.routine.answer_within().get(), 720);
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "urgent": {"acknowledge_within_hours": 24, "answer_within_hours": 72},
                "routine": {"acknowledge_within_hours": 168, "answer_within_hours": 720},
                "reminders_at_percent": [50, 90]
            })
        );
        let partial: DeadlinePolicy = serde_json::from_str(
            r#"{"routine":{"acknowledge_within_hours":48,"answer_within_hours":240}}"#,
        )
        .unwrap();
        assert_eq!(partial.routine.answer_within().get(), 240);
        assert_eq!(partial.urgent, p.urgent);
        for bad in [
            r#"{"routine":{"acknowledge_within_hours":0,"answer_within_hours":240}}"#,
            r#"{"routine":{"acknowledge_within_hours":48,"answer_within_hours":24}}"#,
            r#"{"routine":{"acknowledge_within_hours":48}}"#,
            r#"{"reminders_at_percent":[90,50]}"#,
            r#"{"reminders_at_percent":[100]}"#,
            r#"{"remind_at":[50]}"#,
            r#"{"urgent":{"acknowledge_within_hours":24,"answer_within_hours":9999999}}"#,
        ] {
            assert!(
                serde_json::from_str::<DeadlinePolicy>(bad).is_err(),
                "{bad}"
            );
        }
    }

    /// The story's trace, sent at 10:00 on 10 March 2024 (routine) to CN and ET.
    fn sent_only() -> TraceState {
        replay(&story()[..3]).unwrap()
    }

    fn keys(r: &Review) -> Vec<(String, &'static str, ReminderLevel)> {
        r.reminders
            .iter()
            .map(|r| {
                let o = match r.obligation {
                    Obligation::Acknowledgement => "ack",
                    Obligation::Answer => "answer",
                };
                (r.counterpart.to_string(), o, r.level)
            })
            .collect()
    }

    #[test]
    fn reminders_and_overdue_with_an_injected_clock() {
        let policy = DeadlinePolicy::default();
        let state = sent_only();
        let sent = datetime!(2024-03-10 10:00 UTC);
        assert_eq!(state.sent().unwrap().sent_at(), sent);

        // Just before half of the acknowledgement window (3.5 days): nothing.
        let r = review(&policy, [&state], sent + D::hours(83));
        assert_eq!(r, Review::default());

        // At 3.5 days: the 50% acknowledgement reminders for both states.
        let r = review(&policy, [&state], sent + D::hours(84));
        use ReminderLevel::*;
        assert_eq!(
            keys(&r),
            [
                ("CN".into(), "ack", Percent(50)),
                ("ET".into(), "ack", Percent(50))
            ]
        );
        assert!(r.overdue.is_empty());

        // Eight days: acknowledgement overdue by a day; answer at 26.7% — no answer reminder.
        let now = sent + D::days(8);
        let r = review(&policy, [&state], now);
        assert_eq!(r.overdue.len(), 2);
        assert_eq!(r.overdue[0].obligation, Obligation::Acknowledgement);
        assert_eq!(r.overdue[0].due_at, datetime!(2024-03-17 10:00 UTC));
        assert_eq!(r.overdue[0].by, D::days(1));
        assert_eq!(
            keys(&r),
            [("CN".into(), "ack", Overdue), ("ET".into(), "ack", Overdue)]
        );

        // CN acknowledges; at 27 days the answer is at 90% for both, ET's ack still overdue.
        let mut events = story()[..3].to_vec();
        events.push(TraceEvent::Acknowledged {
            at: sent + D::days(2),
            by: cc("CN"),
        });
        let state = replay(&events).unwrap();
        let r = review(&policy, [&state], sent + D::days(27));
        assert_eq!(
            keys(&r),
            [
                ("ET".into(), "ack", Overdue),
                ("CN".into(), "answer", Percent(90)),
                ("ET".into(), "answer", Percent(90)),
            ]
        );
        assert_eq!(r.overdue.len(), 1);
        assert_eq!(r.overdue[0].counterpart, cc("ET"));
        assert_eq!(r.overdue[0].by, D::days(20));
    }

    #[test]
    fn an_answer_settles_both_and_a_follow_up_restarts_the_answer_clock() {
        let policy = DeadlinePolicy::default();
        let s = story();
        // After CN's partial answer (day 12) and the follow-up (day 13, at 09:00 UTC).
        let state = replay(&s[..7]).unwrap();
        let follow_up = t0() + D::days(13);
        let p = pending(&policy, &state);
        let cn: Vec<_> = p.iter().filter(|p| p.counterpart == cc("CN")).collect();
        assert_eq!(cn.len(), 1);
        assert_eq!(cn[0].obligation, Obligation::Answer);
        assert_eq!(cn[0].since, follow_up);
        assert_eq!(cn[0].due_at, Some(follow_up + D::days(30)));
        let r = review(&policy, [&state], follow_up + D::days(31));
        let cn_overdue: Vec<_> = r
            .overdue
            .iter()
            .filter(|o| o.counterpart == cc("CN"))
            .collect();
        assert_eq!(cn_overdue.len(), 1);
        assert_eq!(cn_overdue[0].by, D::days(1));
        // Closed traces and drafts owe nothing.
        assert!(pending(&policy, &replay(&s).unwrap()).is_empty());
        assert!(pending(&policy, &replay(&s[..1]).unwrap()).is_empty());
    }

    #[test]
    fn urgent_deadlines() {
        let policy = DeadlinePolicy::default();
        let urgent = crate::request::fixtures::edited(|v| {
            v["priority"] = serde_json::json!({"level": "urgent", "justification": "Suspect held for 48 hours."});
        });
        let recipients =
            crate::routing::ConfirmedRecipients::confirm(cc("KE"), [cc("CN")]).unwrap();
        let dispatch = crate::completeness::clear_for_sending(urgent, recipients, vec![]).unwrap();
        let sent = t0();
        let state = replay(&[TraceEvent::Sent { at: sent, dispatch }]).unwrap();
        let r = review(&policy, [&state], sent + D::hours(25));
        assert_eq!(r.overdue.len(), 1);
        assert_eq!(r.overdue[0].by, D::hours(1));
        // 25 h of 72 h is past a third, not half: only the acknowledgement is reminded.
        assert_eq!(r.reminders.len(), 1);
        let r = review(&policy, [&state], sent + D::hours(65));
        assert_eq!(
            r.reminders.iter().map(|r| r.level).collect::<Vec<_>>(),
            [ReminderLevel::Overdue, ReminderLevel::Percent(90)]
        );
    }

    #[test]
    fn far_future_does_not_overflow() {
        let policy = DeadlinePolicy::default();
        let mut events = story()[..3].to_vec();
        if let TraceEvent::Sent { at, .. } = &mut events[2] {
            *at = datetime!(9999-12-30 00:00 UTC);
        }
        let state = replay(&events[2..]).unwrap();
        let p = pending(&policy, &state);
        assert!(p.iter().all(|p| p.due_at.is_none()));
        let r = review(&policy, [&state], datetime!(9999-12-31 23:59 UTC));
        assert!(r.overdue.is_empty());
    }
}

#[cfg(test)]
mod properties {
    //! The overdue list and reminders against a naive computation straight from the events.

    use super::*;
    use crate::lifecycle::arbitrary::{events, valid_prefix};
    use crate::lifecycle::fixtures::t0;
    use crate::lifecycle::{replay, TraceEvent};
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    type Row = (String, String, Obligation, OffsetDateTime, Duration);
    type Remind = (String, String, Obligation, ReminderLevel, OffsetDateTime);

    /// Reads the events one by one: who has acknowledged, who owes an answer since when.
    fn naive(
        policy: &DeadlinePolicy,
        events: &[TraceEvent],
        now: OffsetDateTime,
    ) -> (Vec<Row>, Vec<Remind>) {
        let mut sent: Option<(OffsetDateTime, bool, String)> = None;
        let mut closed = false;
        // state → (acknowledged, answer owed since)
        let mut owed: BTreeMap<String, (bool, Option<OffsetDateTime>)> = BTreeMap::new();
        for e in events {
            match e {
                TraceEvent::Sent { at, dispatch } => {
                    sent = Some((
                        *at,
                        dispatch.priority().is_urgent(),
                        dispatch.id().to_string(),
                    ));
                    for s in dispatch.recipients().states() {
                        owed.insert(s.to_string(), (false, Some(*at)));
                    }
                }
                TraceEvent::Acknowledged { by, .. } => {
                    owed.get_mut(by.as_str()).unwrap().0 = true;
                }
                TraceEvent::Answered { by, .. } => {
                    *owed.get_mut(by.as_str()).unwrap() = (true, None);
                }
                TraceEvent::FollowUp { at, to, .. } => {
                    owed.get_mut(to.as_str()).unwrap().1 = Some(*at);
                }
                TraceEvent::Closed { .. } => closed = true,
                _ => {}
            }
        }
        let (mut rows, mut reminders) = (Vec::new(), Vec::new());
        let Some((sent_at, urgent, id)) = sent else {
            return (rows, reminders);
        };
        if closed {
            return (rows, reminders);
        }
        let d = if urgent {
            &policy.urgent
        } else {
            &policy.routine
        };
        for (state, (acked, answer_since)) in &owed {
            let mut obligations = Vec::new();
            if !acked {
                obligations.push((
                    Obligation::Acknowledgement,
                    sent_at,
                    d.acknowledge_within().get(),
                ));
            }
            if let Some(since) = answer_since {
                obligations.push((Obligation::Answer, *since, d.answer_within().get()));
            }
            for (ob, since, hours) in obligations {
                let window = i64::from(hours) * 3600;
                let due = since + Duration::seconds(window);
                if now > due {
                    rows.push((id.clone(), state.clone(), ob, due, now - due));
                    reminders.push((id.clone(), state.clone(), ob, ReminderLevel::Overdue, due));
                    continue;
                }
                let mut last = None;
                for &p in policy.reminders_at_percent.percents() {
                    let at = since + Duration::seconds(window * i64::from(p) / 100);
                    if at <= now {
                        last = Some((ReminderLevel::Percent(p), at));
                    }
                }
                if let Some((level, at)) = last {
                    reminders.push((id.clone(), state.clone(), ob, level, at));
                }
            }
        }
        (rows, reminders)
    }

    fn policy() -> impl Strategy<Value = DeadlinePolicy> {
        let deadlines = (1u32..500, 0u32..2000).prop_map(|(ack, extra)| {
            Deadlines::new(Hours::new(ack).unwrap(), Hours::new(ack + extra).unwrap()).unwrap()
        });
        (
            deadlines.clone(),
            deadlines,
            prop::collection::btree_set(1u8..=99, 0..4),
        )
            .prop_map(|(urgent, routine, pcts)| DeadlinePolicy {
                urgent,
                routine,
                reminders_at_percent: Thresholds::new(pcts.into_iter().collect()).unwrap(),
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        #[test]
        fn review_agrees_with_a_naive_reading_of_the_events(
            policy in policy(),
            traces in prop::collection::vec(events(12), 1..4),
            now_hours in 0i64..3000,
        ) {
            let now = t0() + Duration::hours(now_hours);
            let ledgers: Vec<Vec<TraceEvent>> =
                traces.iter().map(|t| valid_prefix(t)).filter(|t| !t.is_empty()).collect();
            let states: Vec<TraceState> = ledgers.iter().map(|l| replay(l).unwrap()).collect();
            let got = review(&policy, states.iter(), now);

            let (mut rows, mut reminders) = (Vec::new(), Vec::new());
            for l in &ledgers {
                let (r, m) = naive(&policy, l, now);
                rows.extend(r);
                reminders.extend(m);
            }
            let mut got_rows: Vec<Row> = got
                .overdue
                .iter()
                .map(|o| (o.trace.to_string(), o.counterpart.to_string(), o.obligation, o.due_at, o.by))
                .collect();
            let mut got_reminders: Vec<Remind> = got
                .reminders
                .iter()
                .map(|r| (r.trace.to_string(), r.counterpart.to_string(), r.obligation, r.level, r.at))
                .collect();
            // The review's own order: most overdue, then earliest reminder, first.
            prop_assert!(got.overdue.windows(2).all(|w| w[0].due_at <= w[1].due_at));
            prop_assert!(got.reminders.windows(2).all(|w| w[0].at <= w[1].at));
            rows.sort();
            reminders.sort();
            got_rows.sort();
            got_reminders.sort();
            prop_assert_eq!(got_rows, rows);
            prop_assert_eq!(got_reminders, reminders);
        }
    }
}
