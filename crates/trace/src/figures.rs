//! The figures a node keeps about tracing: requests sent and received, how quickly each
//! counterpart state acknowledges and answers, the outcomes, and SDG indicator 16.4.2.
//!
//! They are computed from trace states (themselves folds over the ledger), never stored
//! apart, so they cannot drift from the record. Times are measured from the sending of the
//! request; an answer counts as the acknowledgement when none was sent separately (see
//! [`Exchange::acknowledged_at`]); the time to answer is the time to the *first* answer.
//!
//! ## SDG 16.4.2, as computed here
//!
//! The indicator is "the proportion of seized, found or surrendered arms whose illicit origin
//! or context has been traced or established by a competent authority". Here:
//!
//! - an **item** is a trace *sent by this state* whose reason is in the indicator's scope
//!   ([`IllicitReason::in_sdg_16_4_2_scope`]: seized, found, surrendered, captured). Traces
//!   chained from one another (`parent_trace`) or naming the same registry item are one item,
//!   so a trace forwarded along a chain of three states is counted once;
//! - its origin is **established** when some answer in its traces is `full` or `partial` and
//!   its findings name the point of diversion or the last legal holder
//!   ([`Findings::establishes_origin`]). A `restricted` answer does not count, even with
//!   findings: the requester may not be free to use them. `no_record` and `refused` do not.
//!
//! Items never traced (seized but no request sent, or only drafted) are not in the trace
//! ledger; a node that knows how many there are adds them with [`Sdg16_4_2::with_untraced`] to
//! report the official denominator.

use crate::lifecycle::{Exchange, Findings, OutcomeKind, TraceState};
use crate::request::IllicitReason;
use std::collections::BTreeMap;
use time::Duration;
use tracemark_domain::ids::CountryCode;

/// Counts of outcomes, one per [`OutcomeKind`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutcomeCounts([u64; 5]);

impl OutcomeCounts {
    fn slot(kind: OutcomeKind) -> usize {
        match kind {
            OutcomeKind::Full => 0,
            OutcomeKind::Partial => 1,
            OutcomeKind::NoRecord => 2,
            OutcomeKind::Restricted => 3,
            OutcomeKind::Refused => 4,
        }
    }
    pub fn get(&self, kind: OutcomeKind) -> u64 {
        self.0[Self::slot(kind)]
    }
    fn add(&mut self, kind: OutcomeKind) {
        self.0[Self::slot(kind)] += 1;
    }
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }
}

/// How one counterpart state responded (or how this state responded to it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Responsiveness {
    /// Requests (exchanges) sent.
    pub requests: u64,
    pub acknowledged: u64,
    pub answered: u64,
    pub median_to_acknowledge: Option<Duration>,
    pub median_to_answer: Option<Duration>,
    /// The standing (latest) answer of each answered exchange.
    pub outcomes: OutcomeCounts,
    /// Usefulness ratings given at closure: `ratings[0]` counts the 1s, `ratings[4]` the 5s.
    pub ratings: [u64; 5],
}

/// SDG indicator 16.4.2 over this node's traces (see the module documentation).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sdg16_4_2 {
    /// Seized, found or surrendered items (the denominator).
    pub items: u64,
    /// Of those, items whose origin was established (the numerator).
    pub established: u64,
}

impl Sdg16_4_2 {
    /// The share established, or `None` when there are no items.
    pub fn share(&self) -> Option<f64> {
        (self.items > 0).then(|| self.established as f64 / self.items as f64)
    }

    /// Adds seized, found or surrendered items that were never traced to the denominator.
    pub fn with_untraced(self, untraced: u64) -> Self {
        Sdg16_4_2 {
            items: self.items + untraced,
            established: self.established,
        }
    }
}

/// The figures of one node.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Figures {
    /// Requests this state sent (open or closed).
    pub sent: u64,
    /// Requests this state received.
    pub received: u64,
    /// Requests this state is still drafting.
    pub drafts: u64,
    /// How each requested state responded to this state's requests.
    pub by_requested_state: BTreeMap<CountryCode, Responsiveness>,
    /// How this state responded to each requesting state.
    pub by_requesting_state: BTreeMap<CountryCode, Responsiveness>,
    /// Outcomes of the answers this state received (all counterparts).
    pub outcomes_received: OutcomeCounts,
    /// Outcomes of the answers this state gave.
    pub outcomes_given: OutcomeCounts,
    pub sdg_16_4_2: Sdg16_4_2,
}

fn median(mut v: Vec<Duration>) -> Option<Duration> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2
    })
}

/// Durations gathered for one counterpart before the medians are taken.
#[derive(Default)]
struct Tally {
    r: Responsiveness,
    to_ack: Vec<Duration>,
    to_answer: Vec<Duration>,
}

impl Tally {
    fn count(&mut self, sent_at: time::OffsetDateTime, ex: &Exchange) -> Option<OutcomeKind> {
        self.r.requests += 1;
        if let Some(at) = ex.acknowledged_at() {
            self.r.acknowledged += 1;
            self.to_ack.push(at - sent_at);
        }
        if let Some(at) = ex.first_answer_at() {
            self.r.answered += 1;
            self.to_answer.push(at - sent_at);
        }
        let kind = ex.latest_answer().map(|a| a.answer.outcome.kind());
        if let Some(k) = kind {
            self.r.outcomes.add(k);
        }
        kind
    }

    fn finish(self) -> Responsiveness {
        Responsiveness {
            median_to_acknowledge: median(self.to_ack),
            median_to_answer: median(self.to_answer),
            ..self.r
        }
    }
}

/// Whether an answer establishes the item's origin for SDG 16.4.2.
fn establishes(ex: &Exchange) -> bool {
    ex.answers().iter().any(|a| {
        matches!(
            a.answer.outcome.kind(),
            OutcomeKind::Full | OutcomeKind::Partial
        ) && a
            .answer
            .outcome
            .findings()
            .is_some_and(Findings::establishes_origin)
    })
}

/// The figures of the node of state `own`, over its traces (sent, received and drafts).
pub fn figures<'a>(own: CountryCode, traces: impl IntoIterator<Item = &'a TraceState>) -> Figures {
    let traces: Vec<&TraceState> = traces.into_iter().collect();
    let mut f = Figures::default();
    let mut requested: BTreeMap<CountryCode, Tally> = BTreeMap::new();
    let mut requesting: BTreeMap<CountryCode, Tally> = BTreeMap::new();
    for state in &traces {
        let request = state.request();
        let Some(trace) = state.sent() else {
            if request.requesting_state == own {
                f.drafts += 1;
            }
            continue;
        };
        let feedback = state.closed().map(|c| c.feedback()).unwrap_or_default();
        if request.requesting_state == own {
            f.sent += 1;
            for ex in trace.exchanges() {
                let tally = requested.entry(ex.state()).or_default();
                if let Some(kind) = tally.count(trace.sent_at(), ex) {
                    f.outcomes_received.add(kind);
                }
                if let Some(fb) = feedback.iter().find(|fb| fb.state == ex.state()) {
                    tally.r.ratings[usize::from(fb.rating.get() - 1)] += 1;
                }
            }
        } else if let Some(ex) = trace.exchange(own) {
            f.received += 1;
            let tally = requesting.entry(request.requesting_state).or_default();
            if let Some(kind) = tally.count(trace.sent_at(), ex) {
                f.outcomes_given.add(kind);
            }
            if let Some(fb) = feedback.iter().find(|fb| fb.state == own) {
                tally.r.ratings[usize::from(fb.rating.get() - 1)] += 1;
            }
        }
    }
    f.by_requested_state = requested
        .into_iter()
        .map(|(k, t)| (k, t.finish()))
        .collect();
    f.by_requesting_state = requesting
        .into_iter()
        .map(|(k, t)| (k, t.finish()))
        .collect();
    f.sdg_16_4_2 = sdg_16_4_2(own, &traces);
    f
}

/// Union-find root with path halving.
fn root(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

fn sdg_16_4_2(own: CountryCode, traces: &[&TraceState]) -> Sdg16_4_2 {
    // The traces this state sent; drafts and received traces are not its seizures' traces.
    let mine: Vec<&TraceState> = traces
        .iter()
        .copied()
        .filter(|s| s.request().requesting_state == own && s.sent().is_some())
        .collect();
    let mut parent: Vec<usize> = (0..mine.len()).collect();
    let mut by_id: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_item: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, s) in mine.iter().enumerate() {
        by_id.entry(s.id().as_str()).or_insert(i);
    }
    for (i, s) in mine.iter().enumerate() {
        let r = s.request();
        let join = |j: usize, parent: &mut Vec<usize>| {
            let (a, b) = (root(parent, i), root(parent, j));
            parent[a] = b;
        };
        if let Some(&j) = r.parent_trace.as_ref().and_then(|p| by_id.get(p.as_str())) {
            join(j, &mut parent);
        }
        if let Some(&j) = by_id.get(s.id().as_str()) {
            join(j, &mut parent);
        }
        if let Some(key) = &r.registry_item {
            let j = *by_item.entry(key.as_str()).or_insert(i);
            join(j, &mut parent);
        }
    }
    // Per group: in scope, established.
    let mut groups: BTreeMap<usize, (bool, bool)> = BTreeMap::new();
    for (i, s) in mine.iter().enumerate() {
        let g = root(&mut parent, i);
        let in_scope = s
            .request()
            .illicit
            .as_ref()
            .is_some_and(|il| IllicitReason::in_sdg_16_4_2_scope(il.reason));
        let established = s
            .sent()
            .is_some_and(|t| t.exchanges().iter().any(establishes));
        let e = groups.entry(g).or_default();
        e.0 |= in_scope;
        e.1 |= established;
    }
    let mut out = Sdg16_4_2::default();
    for (in_scope, established) in groups.into_values() {
        if in_scope {
            out.items += 1;
            if established {
                out.established += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::completeness::clear_for_sending;
    use crate::lifecycle::fixtures::*;
    use crate::lifecycle::{replay, Answer, Outcome, TraceEvent};
    use crate::request::fixtures::edited;
    use crate::routing::ConfirmedRecipients;
    use serde_json::json;
    use time::Duration as D;

    /// A trace with `id` (optionally chained from `parent`), sent to `to` at `t0 + sent_h`
    /// hours, with the given events after it.
    fn trace(
        id: &str,
        parent: Option<&str>,
        reason: &str,
        to: &[&str],
        then: impl FnOnce(time::OffsetDateTime) -> Vec<TraceEvent>,
    ) -> TraceState {
        let request = edited(|v| {
            v["id"] = json!(id);
            v["illicit"] = json!({"reason": reason, "details": "x"});
            if let Some(p) = parent {
                v["parent_trace"] = json!(p);
            }
        });
        let recipients = ConfirmedRecipients::confirm(cc("KE"), to.iter().map(|s| cc(s))).unwrap();
        let dispatch = clear_for_sending(request, recipients, vec![]).unwrap();
        let sent = t0();
        let mut events = vec![TraceEvent::Sent { at: sent, dispatch }];
        events.extend(then(sent));
        replay(&events).unwrap()
    }

    fn answer(outcome: Outcome) -> Answer {
        Answer {
            outcome,
            conditions_of_use: vec![],
            officer: None,
        }
    }

    #[test]
    fn medians_outcomes_and_ratings_from_the_story() {
        let story = replay(&story()).unwrap();
        let draft = replay(&crate::lifecycle::fixtures::story()[..1]).unwrap();
        let f = figures(cc("KE"), [&story, &draft]);
        assert_eq!((f.sent, f.received, f.drafts), (1, 0, 1));
        let cn = &f.by_requested_state[&cc("CN")];
        assert_eq!((cn.requests, cn.acknowledged, cn.answered), (1, 1, 1));
        // Sent at t0+1h; acknowledged at t0+30h; first answer at t0+12d.
        assert_eq!(cn.median_to_acknowledge, Some(D::hours(29)));
        assert_eq!(cn.median_to_answer, Some(D::days(12) - D::hours(1)));
        assert_eq!(
            cn.outcomes.get(OutcomeKind::Full),
            1,
            "the latest answer stands"
        );
        assert_eq!(cn.outcomes.get(OutcomeKind::Partial), 0);
        assert_eq!(cn.ratings, [0, 0, 0, 0, 1]);
        let et = &f.by_requested_state[&cc("ET")];
        assert_eq!(et.outcomes.get(OutcomeKind::Refused), 1);
        assert_eq!(et.ratings, [1, 0, 0, 0, 0]);
        assert_eq!(f.outcomes_received.total(), 2);
        // CN's full answer names the last legal holder: established.
        assert_eq!(
            f.sdg_16_4_2,
            Sdg16_4_2 {
                items: 1,
                established: 1
            }
        );
        // From CN's side, the same trace is one received request.
        let g = figures(cc("CN"), [&story]);
        assert_eq!((g.sent, g.received), (0, 1));
        let ke = &g.by_requesting_state[&cc("KE")];
        assert_eq!(ke.median_to_acknowledge, Some(D::hours(29)));
        assert_eq!(g.outcomes_given.get(OutcomeKind::Full), 1);
        assert_eq!(ke.ratings, [0, 0, 0, 0, 1]);
        assert_eq!(g.sdg_16_4_2, Sdg16_4_2::default());
    }

    #[test]
    fn medians_of_several() {
        let ack_after = |h: i64| {
            trace(&format!("T-{h}"), None, "seized", &["CN"], move |s| {
                vec![TraceEvent::Acknowledged {
                    at: s + D::hours(h),
                    by: cc("CN"),
                }]
            })
        };
        let (a, b, c, d) = (ack_after(2), ack_after(10), ack_after(4), ack_after(30));
        let f = figures(cc("KE"), [&a, &b, &c]);
        assert_eq!(
            f.by_requested_state[&cc("CN")].median_to_acknowledge,
            Some(D::hours(4))
        );
        let f = figures(cc("KE"), [&a, &b, &c, &d]);
        assert_eq!(
            f.by_requested_state[&cc("CN")].median_to_acknowledge,
            Some(D::hours(7))
        );
        assert_eq!(f.by_requested_state[&cc("CN")].median_to_answer, None);
    }

    #[test]
    fn sdg_16_4_2_definition() {
        let established = |by: &'static str| {
            move |s: time::OffsetDateTime| {
                vec![TraceEvent::Answered {
                    at: s + D::days(3),
                    by: cc(by),
                    answer: answer(Outcome::Full {
                        findings: findings(true),
                    }),
                }]
            }
        };
        let answered_with = |by: &'static str, outcome: Outcome| {
            move |s: time::OffsetDateTime| {
                vec![TraceEvent::Answered {
                    at: s + D::days(3),
                    by: cc(by),
                    answer: answer(outcome),
                }]
            }
        };
        let traces = [
            // A chain of three: CN names ET, ET names UG, UG establishes. One item, established.
            trace("A", None, "seized", &["CN"], |_| vec![]),
            trace("A-2", Some("A"), "seized", &["ET"], |_| vec![]),
            trace("A-3", Some("A-2"), "seized", &["UG"], established("UG")),
            // Full answer without holder or diversion: traced, origin not established.
            trace(
                "B",
                None,
                "found",
                &["CN"],
                answered_with(
                    "CN",
                    Outcome::Full {
                        findings: findings(false),
                    },
                ),
            ),
            // Restricted with findings: not counted as established.
            trace(
                "C",
                None,
                "surrendered",
                &["CN"],
                answered_with(
                    "CN",
                    Outcome::Restricted {
                        ground: crate::lifecycle::Ground::Confidentiality,
                        explanation: text("Commercial confidentiality of the exporter."),
                        findings: findings(true),
                    },
                ),
            ),
            // Out of scope ("other"), even though established.
            trace("D", None, "other", &["CN"], established("CN")),
            // Captured counts as seized; established by a partial answer.
            trace(
                "E",
                None,
                "captured",
                &["CN"],
                answered_with(
                    "CN",
                    Outcome::Partial {
                        findings: findings(true),
                        missing: text("End user unknown."),
                    },
                ),
            ),
        ];
        let f = figures(cc("KE"), traces.iter());
        assert_eq!(
            f.sdg_16_4_2,
            Sdg16_4_2 {
                items: 4,
                established: 2
            }
        );
        assert_eq!(f.sdg_16_4_2.share(), Some(0.5));
        assert_eq!(f.sdg_16_4_2.with_untraced(4).share(), Some(0.25));
        assert_eq!(Sdg16_4_2::default().share(), None);
        assert_eq!(f.sent, 7);
    }

    #[test]
    fn same_registry_item_is_one_item() {
        let with_item = |id: &str, key: &str| {
            let request = edited(|v| {
                v["id"] = json!(id);
                v["registry_item"] = json!(key);
            });
            let recipients = ConfirmedRecipients::confirm(cc("KE"), [cc("CN")]).unwrap();
            let dispatch = clear_for_sending(request, recipients, vec![]).unwrap();
            replay(&[TraceEvent::Sent { at: t0(), dispatch }]).unwrap()
        };
        let a = with_item("X-1", "KE-ITEM-1");
        let b = with_item("X-2", "KE-ITEM-1");
        let c = with_item("X-3", "KE-ITEM-2");
        let f = figures(cc("KE"), [&a, &b, &c]);
        assert_eq!(f.sdg_16_4_2.items, 2);
    }
}
