//! The life of a trace: draft → sent → delivered → acknowledged → answered → follow-up →
//! closed, as a fold over events.
//!
//! Every step is a [`TraceEvent`] value, recorded in the ledger on both sides, and the state
//! of a trace is nothing but the fold of [`TraceState::apply`] over its events ([`replay`]).
//! Nothing else changes a trace, so the state a node shows can always be recomputed from its
//! ledger, and two nodes that hold the same events agree on the state.
//!
//! A request goes to one or more states, and each answers on its own: the trace holds one
//! [`Exchange`] per requested state, each with its own phase. The rules, per exchange:
//!
//! | step | allowed from | why |
//! |---|---|---|
//! | delivered | sent | the automatic receipt of the receiving node |
//! | acknowledged | sent, delivered | a human acknowledgement implies delivery; paper and e-mail channels have no delivery receipt |
//! | answered | sent, delivered, acknowledged, follow-up, answered | an answer implies receipt; a state may add to its answer (e.g. lift a restriction) |
//! | follow-up | answered | the requester asks for what an answer lacked (UNIDIR: follow up incomplete answers) |
//!
//! and for the trace: a draft may be amended until it is sent; it is sent once; it is closed
//! once, with feedback on every answer received, and nothing follows closure. On the requested
//! side the ledger starts with the received `sent` event, so a trace may begin with it.
//! Events never go back in time: each is at or after the one before it.

use crate::completeness::SendableRequest;
use crate::request::TraceRequest;
use crate::text::{Line, Rating, Text, TraceId};
use crate::wire;
use serde::{Deserialize, Serialize};
use std::fmt;
use time::OffsetDateTime;
use tracemark_domain::date::PartialDate;
use tracemark_domain::ids::CountryCode;

/// One step in the life of a trace.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case", deny_unknown_fields)]
pub enum TraceEvent {
    /// The officer starts a request.
    Drafted {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        request: TraceRequest,
    },
    /// The officer changes the draft (the whole new draft is recorded).
    Amended {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        request: TraceRequest,
    },
    /// The cleared request leaves for its confirmed recipients.
    Sent {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        dispatch: SendableRequest,
    },
    /// The receiving node confirmed receipt (automatic).
    Delivered {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        #[serde(with = "wire::one")]
        to: CountryCode,
    },
    /// The requested state's officer acknowledged the request (explicit, human).
    Acknowledged {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        #[serde(with = "wire::one")]
        by: CountryCode,
    },
    /// The requested state answered.
    Answered {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        #[serde(with = "wire::one")]
        by: CountryCode,
        answer: Answer,
    },
    /// The requester asks a requested state for more after its answer.
    FollowUp {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        #[serde(with = "wire::one")]
        to: CountryCode,
        question: Text,
    },
    /// The requester closes the case, rating each answer received.
    Closed {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        feedback: Vec<Feedback>,
    },
}

impl TraceEvent {
    pub fn at(&self) -> OffsetDateTime {
        match self {
            TraceEvent::Drafted { at, .. }
            | TraceEvent::Amended { at, .. }
            | TraceEvent::Sent { at, .. }
            | TraceEvent::Delivered { at, .. }
            | TraceEvent::Acknowledged { at, .. }
            | TraceEvent::Answered { at, .. }
            | TraceEvent::FollowUp { at, .. }
            | TraceEvent::Closed { at, .. } => *at,
        }
    }

    pub fn step(&self) -> Step {
        match self {
            TraceEvent::Drafted { .. } => Step::Draft,
            TraceEvent::Amended { .. } => Step::Amend,
            TraceEvent::Sent { .. } => Step::Send,
            TraceEvent::Delivered { .. } => Step::RecordDelivery,
            TraceEvent::Acknowledged { .. } => Step::Acknowledge,
            TraceEvent::Answered { .. } => Step::Answer,
            TraceEvent::FollowUp { .. } => Step::FollowUp,
            TraceEvent::Closed { .. } => Step::Close,
        }
    }

    /// The requested state the event concerns, for the steps of one exchange.
    pub fn counterpart(&self) -> Option<CountryCode> {
        match self {
            TraceEvent::Delivered { to, .. } | TraceEvent::FollowUp { to, .. } => Some(*to),
            TraceEvent::Acknowledged { by, .. } | TraceEvent::Answered { by, .. } => Some(*by),
            _ => None,
        }
    }
}

/// A requested state's answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    pub outcome: Outcome,
    /// Conditions the requested state sets on the use of its answer (e.g. "not to be disclosed
    /// in court without consent").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions_of_use: Vec<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub officer: Option<Line>,
}

/// What the answer says. A restriction or refusal always states its ground and explains it:
/// the ITI lets a state delay, restrict or refuse only on stated grounds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Outcome {
    /// Everything asked was found and given.
    Full { findings: Findings },
    /// Some of it was found; `missing` says what was not, and why.
    Partial { findings: Findings, missing: Text },
    /// The state has no record of the item; `searched` says what was searched.
    NoRecord { searched: Text },
    /// Part of the answer is withheld.
    Restricted {
        ground: Ground,
        explanation: Text,
        findings: Findings,
    },
    /// No answer will be given.
    Refused { ground: Ground, explanation: Text },
}

impl Outcome {
    pub fn kind(&self) -> OutcomeKind {
        match self {
            Outcome::Full { .. } => OutcomeKind::Full,
            Outcome::Partial { .. } => OutcomeKind::Partial,
            Outcome::NoRecord { .. } => OutcomeKind::NoRecord,
            Outcome::Restricted { .. } => OutcomeKind::Restricted,
            Outcome::Refused { .. } => OutcomeKind::Refused,
        }
    }

    pub fn findings(&self) -> Option<&Findings> {
        match self {
            Outcome::Full { findings }
            | Outcome::Partial { findings, .. }
            | Outcome::Restricted { findings, .. } => Some(findings),
            Outcome::NoRecord { .. } | Outcome::Refused { .. } => None,
        }
    }
}

/// The kind of an outcome, for counting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OutcomeKind {
    Full,
    Partial,
    NoRecord,
    Restricted,
    Refused,
}

impl OutcomeKind {
    pub const ALL: [OutcomeKind; 5] = [
        OutcomeKind::Full,
        OutcomeKind::Partial,
        OutcomeKind::NoRecord,
        OutcomeKind::Restricted,
        OutcomeKind::Refused,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeKind::Full => "full",
            OutcomeKind::Partial => "partial",
            OutcomeKind::NoRecord => "no_record",
            OutcomeKind::Restricted => "restricted",
            OutcomeKind::Refused => "refused",
        }
    }
}

/// The ground for restricting or refusing an answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ground {
    /// An investigation or judicial proceeding would be prejudiced.
    Investigation,
    Confidentiality,
    NationalSecurity,
    Other(Text),
}

/// What the requested state's records show.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Findings {
    /// The answer in words, e.g. "exported 1985-06 under licence X to state Y, consignee Z".
    pub summary: Text,
    /// The last holder authorised to hold the item, as far as this state's records go.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_legal_holder: Option<Holder>,
    /// Where, when and how lawful control was lost, when this state knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub point_of_diversion: Option<DiversionPoint>,
    /// States the item went to next: where a chained trace would go.
    #[serde(default, with = "wire::vec", skip_serializing_if = "Vec::is_empty")]
    pub next_states: Vec<CountryCode>,
}

impl Findings {
    /// Whether the findings name the point of diversion or the last legal holder — what the
    /// SDG 16.4.2 figure counts as an established origin (see `figures`).
    pub fn establishes_origin(&self) -> bool {
        self.last_legal_holder.is_some() || self.point_of_diversion.is_some()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Holder {
    pub name: Line,
    #[serde(default, with = "wire::opt", skip_serializing_if = "Option::is_none")]
    pub country: Option<CountryCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub licence: Option<Line>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiversionPoint {
    pub description: Text,
    #[serde(default, with = "wire::opt", skip_serializing_if = "Option::is_none")]
    pub date: Option<PartialDate>,
    #[serde(default, with = "wire::opt", skip_serializing_if = "Option::is_none")]
    pub country: Option<CountryCode>,
}

/// The requester's rating of one requested state's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Feedback {
    #[serde(with = "wire::one")]
    pub state: CountryCode,
    pub rating: Rating,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<Text>,
}

/// The name of a state of a trace, or of one exchange of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StateName {
    /// No event yet.
    NotStarted,
    Draft,
    Sent,
    Delivered,
    Acknowledged,
    FollowUp,
    Answered,
    Closed,
}

impl fmt::Display for StateName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StateName::NotStarted => "not started",
            StateName::Draft => "a draft",
            StateName::Sent => "sent",
            StateName::Delivered => "delivered",
            StateName::Acknowledged => "acknowledged",
            StateName::FollowUp => "awaiting the answer to a follow-up",
            StateName::Answered => "answered",
            StateName::Closed => "closed",
        })
    }
}

/// The step an event attempts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Step {
    Draft,
    Amend,
    Send,
    RecordDelivery,
    Acknowledge,
    Answer,
    FollowUp,
    Close,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Step::Draft => "draft",
            Step::Amend => "amend",
            Step::Send => "send",
            Step::RecordDelivery => "record delivery",
            Step::Acknowledge => "acknowledge",
            Step::Answer => "answer",
            Step::FollowUp => "follow up",
            Step::Close => "close",
        })
    }
}

/// The phase of one exchange (one requested state).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Phase {
    Sent,
    Delivered,
    Acknowledged,
    /// A follow-up question awaits its answer.
    FollowUp,
    Answered,
}

impl Phase {
    pub fn name(self) -> StateName {
        match self {
            Phase::Sent => StateName::Sent,
            Phase::Delivered => StateName::Delivered,
            Phase::Acknowledged => StateName::Acknowledged,
            Phase::FollowUp => StateName::FollowUp,
            Phase::Answered => StateName::Answered,
        }
    }
}

/// An answer and when it arrived.
#[derive(Clone, Debug, PartialEq)]
pub struct ReceivedAnswer {
    pub at: OffsetDateTime,
    pub answer: Answer,
}

/// A follow-up question and when it was sent.
#[derive(Clone, Debug, PartialEq)]
pub struct FollowUpQuestion {
    pub at: OffsetDateTime,
    pub question: Text,
}

/// The exchange with one requested state.
#[derive(Clone, Debug, PartialEq)]
pub struct Exchange {
    state: CountryCode,
    phase: Phase,
    delivered_at: Option<OffsetDateTime>,
    acknowledged_at: Option<OffsetDateTime>,
    answers: Vec<ReceivedAnswer>,
    follow_ups: Vec<FollowUpQuestion>,
}

impl Exchange {
    pub fn state(&self) -> CountryCode {
        self.state
    }
    pub fn phase(&self) -> Phase {
        self.phase
    }
    pub fn delivered_at(&self) -> Option<OffsetDateTime> {
        self.delivered_at
    }
    /// When the request was acknowledged: explicitly, or by the first answer (an answer
    /// acknowledges the request it answers).
    pub fn acknowledged_at(&self) -> Option<OffsetDateTime> {
        self.acknowledged_at
            .or_else(|| self.answers.first().map(|a| a.at))
    }
    /// Every answer, in order; the last one stands.
    pub fn answers(&self) -> &[ReceivedAnswer] {
        &self.answers
    }
    pub fn follow_ups(&self) -> &[FollowUpQuestion] {
        &self.follow_ups
    }
    pub fn first_answer_at(&self) -> Option<OffsetDateTime> {
        self.answers.first().map(|a| a.at)
    }
    pub fn latest_answer(&self) -> Option<&ReceivedAnswer> {
        self.answers.last()
    }
    /// The open follow-up question, if one awaits its answer.
    pub fn pending_follow_up(&self) -> Option<&FollowUpQuestion> {
        match self.phase {
            Phase::FollowUp => self.follow_ups.last(),
            _ => None,
        }
    }
}

/// A sent trace and its exchanges.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenTrace {
    dispatch: SendableRequest,
    sent_at: OffsetDateTime,
    /// One per confirmed recipient, in the order confirmed.
    exchanges: Vec<Exchange>,
}

impl OpenTrace {
    pub fn dispatch(&self) -> &SendableRequest {
        &self.dispatch
    }
    pub fn request(&self) -> &TraceRequest {
        self.dispatch.request()
    }
    pub fn sent_at(&self) -> OffsetDateTime {
        self.sent_at
    }
    pub fn exchanges(&self) -> &[Exchange] {
        &self.exchanges
    }
    pub fn exchange(&self, state: CountryCode) -> Option<&Exchange> {
        self.exchanges.iter().find(|e| e.state == state)
    }
}

/// A closed trace: what it was when closed, and the requester's feedback.
#[derive(Clone, Debug, PartialEq)]
pub struct ClosedTrace {
    trace: OpenTrace,
    closed_at: OffsetDateTime,
    feedback: Vec<Feedback>,
}

impl ClosedTrace {
    pub fn trace(&self) -> &OpenTrace {
        &self.trace
    }
    pub fn closed_at(&self) -> OffsetDateTime {
        self.closed_at
    }
    pub fn feedback(&self) -> &[Feedback] {
        &self.feedback
    }
}

/// The state of a trace: the fold of its events. Built only by [`TraceState::begin`],
/// [`TraceState::apply`] and [`replay`], so it is always a state the rules can reach.
#[derive(Clone, Debug, PartialEq)]
pub enum TraceState {
    Draft {
        request: TraceRequest,
        drafted_at: OffsetDateTime,
        last_at: OffsetDateTime,
    },
    Open {
        trace: OpenTrace,
        last_at: OffsetDateTime,
    },
    Closed(ClosedTrace),
}

/// Why an event was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// The step is not allowed in the current state.
    NotAllowed,
    /// The state named is not a recipient of this trace.
    NotARecipient,
    /// The event is dated before the previous event.
    BeforePrevious {
        previous: OffsetDateTime,
    },
    /// The event is about another trace.
    OtherTrace {
        found: TraceId,
    },
    FeedbackForUnanswered(CountryCode),
    FeedbackMissing(CountryCode),
    FeedbackTwice(CountryCode),
}

/// An event refused by the rules, naming the current state and the attempted step.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct TransitionError {
    pub trace: Option<TraceId>,
    /// The current state: of the exchange when the step concerns one, else of the trace.
    pub state: StateName,
    pub step: Step,
    pub counterpart: Option<CountryCode>,
    pub problem: Problem,
}

impl fmt::Display for TransitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(t) = &self.trace {
            write!(f, "trace {t}: ")?;
        }
        write!(f, "cannot {}", self.step)?;
        if let Some(c) = self.counterpart {
            let prep = match self.step {
                Step::Acknowledge | Step::Answer => "by",
                _ => "to",
            };
            write!(f, " {prep} {c}")?;
        }
        match &self.problem {
            Problem::NotAllowed => match self.counterpart {
                Some(c)
                    if !matches!(
                        self.state,
                        StateName::NotStarted | StateName::Draft | StateName::Closed
                    ) =>
                {
                    write!(f, ": the exchange with {c} is {}", self.state)
                }
                _ => write!(f, ": the trace is {}", self.state),
            },
            Problem::NotARecipient => write!(
                f,
                ": it is not a requested state of this trace (the trace is {})",
                self.state
            ),
            Problem::BeforePrevious { previous } => write!(
                f,
                ": the event is dated before the previous one ({previous}); the trace is {}",
                self.state
            ),
            Problem::OtherTrace { found } => write!(
                f,
                ": the event is about trace {found} (the trace is {})",
                self.state
            ),
            Problem::FeedbackForUnanswered(c) => write!(
                f,
                ": feedback for {c}, which has not answered (the trace is {})",
                self.state
            ),
            Problem::FeedbackMissing(c) => write!(
                f,
                ": no feedback for the answer of {c} (the trace is {})",
                self.state
            ),
            Problem::FeedbackTwice(c) => write!(
                f,
                ": feedback for {c} given twice (the trace is {})",
                self.state
            ),
        }
    }
}

impl TraceState {
    /// The trace's id.
    pub fn id(&self) -> &TraceId {
        &self.request().id
    }

    /// The request: the draft, or as sent.
    pub fn request(&self) -> &TraceRequest {
        match self {
            TraceState::Draft { request, .. } => request,
            TraceState::Open { trace, .. } => trace.request(),
            TraceState::Closed(c) => c.trace.request(),
        }
    }

    /// The sent trace, open or closed.
    pub fn sent(&self) -> Option<&OpenTrace> {
        match self {
            TraceState::Draft { .. } => None,
            TraceState::Open { trace, .. } => Some(trace),
            TraceState::Closed(c) => Some(&c.trace),
        }
    }

    pub fn closed(&self) -> Option<&ClosedTrace> {
        match self {
            TraceState::Closed(c) => Some(c),
            _ => None,
        }
    }

    /// The time of the last event applied.
    pub fn last_at(&self) -> OffsetDateTime {
        match self {
            TraceState::Draft { last_at, .. } | TraceState::Open { last_at, .. } => *last_at,
            TraceState::Closed(c) => c.closed_at,
        }
    }

    /// The state's name. An open trace is named after its least advanced exchange, the one
    /// the trace is waiting for.
    pub fn name(&self) -> StateName {
        match self {
            TraceState::Draft { .. } => StateName::Draft,
            TraceState::Closed(_) => StateName::Closed,
            TraceState::Open { trace, .. } => trace
                .exchanges
                .iter()
                .map(|e| e.phase)
                .min()
                .map_or(StateName::Sent, Phase::name),
        }
    }

    /// Starts a trace from its first event: a draft (requesting side) or a received request
    /// (requested side).
    pub fn begin(event: &TraceEvent) -> Result<TraceState, TransitionError> {
        match event {
            TraceEvent::Drafted { at, request } => Ok(TraceState::Draft {
                request: request.clone(),
                drafted_at: *at,
                last_at: *at,
            }),
            TraceEvent::Sent { at, dispatch } => Ok(TraceState::Open {
                trace: open(dispatch, *at),
                last_at: *at,
            }),
            other => Err(TransitionError {
                trace: None,
                state: StateName::NotStarted,
                step: other.step(),
                counterpart: other.counterpart(),
                problem: Problem::NotAllowed,
            }),
        }
    }

    /// Applies the next event. On error the state is unchanged.
    pub fn apply(&mut self, event: &TraceEvent) -> Result<(), TransitionError> {
        let trace = self.id().clone();
        let refuse = move |state: StateName, problem: Problem| TransitionError {
            trace: Some(trace.clone()),
            state,
            step: event.step(),
            counterpart: event.counterpart(),
            problem,
        };
        let at = event.at();
        if at < self.last_at() {
            return Err(refuse(
                self.name(),
                Problem::BeforePrevious {
                    previous: self.last_at(),
                },
            ));
        }
        match self {
            TraceState::Closed(_) => Err(refuse(StateName::Closed, Problem::NotAllowed)),
            TraceState::Draft {
                request,
                drafted_at: _,
                last_at,
            } => match event {
                TraceEvent::Amended {
                    request: amended, ..
                } => {
                    if amended.id != request.id {
                        return Err(refuse(
                            StateName::Draft,
                            Problem::OtherTrace {
                                found: amended.id.clone(),
                            },
                        ));
                    }
                    *request = amended.clone();
                    *last_at = at;
                    Ok(())
                }
                TraceEvent::Sent { dispatch, .. } => {
                    if dispatch.id() != &request.id {
                        return Err(refuse(
                            StateName::Draft,
                            Problem::OtherTrace {
                                found: dispatch.id().clone(),
                            },
                        ));
                    }
                    *self = TraceState::Open {
                        trace: open(dispatch, at),
                        last_at: at,
                    };
                    Ok(())
                }
                _ => Err(refuse(StateName::Draft, Problem::NotAllowed)),
            },
            TraceState::Open { .. } => self.apply_open(event, at, &refuse),
        }
    }

    fn apply_open(
        &mut self,
        event: &TraceEvent,
        at: OffsetDateTime,
        refuse: &dyn Fn(StateName, Problem) -> TransitionError,
    ) -> Result<(), TransitionError> {
        let name = self.name();
        let TraceState::Open { trace, last_at } = self else {
            return Err(refuse(name, Problem::NotAllowed));
        };
        if let TraceEvent::Closed { feedback, .. } = event {
            check_feedback(trace, feedback).map_err(|p| refuse(name, p))?;
            let closed = ClosedTrace {
                trace: trace.clone(),
                closed_at: at,
                feedback: feedback.clone(),
            };
            *self = TraceState::Closed(closed);
            return Ok(());
        }
        let Some(counterpart) = event.counterpart() else {
            // Drafted, Amended, Sent: the trace has already been sent.
            return Err(refuse(name, Problem::NotAllowed));
        };
        let Some(ex) = trace.exchanges.iter_mut().find(|e| e.state == counterpart) else {
            return Err(refuse(name, Problem::NotARecipient));
        };
        let phase = ex.phase;
        let allowed = match event {
            TraceEvent::Delivered { .. } => phase == Phase::Sent,
            TraceEvent::Acknowledged { .. } => matches!(phase, Phase::Sent | Phase::Delivered),
            TraceEvent::Answered { .. } => true,
            TraceEvent::FollowUp { .. } => phase == Phase::Answered,
            _ => false,
        };
        if !allowed {
            return Err(refuse(phase.name(), Problem::NotAllowed));
        }
        match event {
            TraceEvent::Delivered { .. } => {
                ex.delivered_at = Some(at);
                ex.phase = Phase::Delivered;
            }
            TraceEvent::Acknowledged { .. } => {
                ex.acknowledged_at = Some(at);
                ex.phase = Phase::Acknowledged;
            }
            TraceEvent::Answered { answer, .. } => {
                ex.answers.push(ReceivedAnswer {
                    at,
                    answer: answer.clone(),
                });
                ex.phase = Phase::Answered;
            }
            TraceEvent::FollowUp { question, .. } => {
                ex.follow_ups.push(FollowUpQuestion {
                    at,
                    question: question.clone(),
                });
                ex.phase = Phase::FollowUp;
            }
            _ => {}
        }
        *last_at = at;
        Ok(())
    }
}

fn open(dispatch: &SendableRequest, at: OffsetDateTime) -> OpenTrace {
    OpenTrace {
        dispatch: dispatch.clone(),
        sent_at: at,
        exchanges: dispatch
            .recipients()
            .states()
            .iter()
            .map(|s| Exchange {
                state: *s,
                phase: Phase::Sent,
                delivered_at: None,
                acknowledged_at: None,
                answers: Vec::new(),
                follow_ups: Vec::new(),
            })
            .collect(),
    }
}

/// Feedback is given once for every state that answered, and only for those.
fn check_feedback(trace: &OpenTrace, feedback: &[Feedback]) -> Result<(), Problem> {
    for (i, f) in feedback.iter().enumerate() {
        if feedback[..i].iter().any(|g| g.state == f.state) {
            return Err(Problem::FeedbackTwice(f.state));
        }
        match trace.exchange(f.state) {
            None => return Err(Problem::NotARecipient),
            Some(e) if e.answers.is_empty() => return Err(Problem::FeedbackForUnanswered(f.state)),
            Some(_) => {}
        }
    }
    for e in &trace.exchanges {
        if !e.answers.is_empty() && !feedback.iter().any(|f| f.state == e.state) {
            return Err(Problem::FeedbackMissing(e.state));
        }
    }
    Ok(())
}

/// A ledger of events that does not replay.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    #[error("a trace has at least one event")]
    Empty,
    #[error("event #{index}: {error}")]
    Refused {
        /// Position of the first refused event (0-based).
        index: usize,
        error: TransitionError,
    },
}

/// The state after `events`, in order: the fold of [`TraceState::apply`], failing at the
/// first event the rules refuse.
pub fn replay<'a>(
    events: impl IntoIterator<Item = &'a TraceEvent>,
) -> Result<TraceState, ReplayError> {
    let mut events = events.into_iter().enumerate();
    let (_, first) = events.next().ok_or(ReplayError::Empty)?;
    let mut state =
        TraceState::begin(first).map_err(|error| ReplayError::Refused { index: 0, error })?;
    for (index, event) in events {
        state
            .apply(event)
            .map_err(|error| ReplayError::Refused { index, error })?;
    }
    Ok(state)
}

#[cfg(test)]
pub(crate) mod fixtures {
    //! Events of a realistic trace, for this module's tests and the others'.

    use super::*;
    use crate::completeness::clear_for_sending;
    use crate::request::fixtures::complete;
    use crate::routing::ConfirmedRecipients;
    use time::macros::datetime;

    pub fn cc(s: &str) -> CountryCode {
        CountryCode::parse(s).unwrap()
    }

    pub fn text(s: &str) -> Text {
        Text::parse(s).unwrap()
    }

    /// The complete request, cleared for CN and ET.
    pub fn dispatch() -> SendableRequest {
        let recipients = ConfirmedRecipients::confirm(cc("KE"), [cc("CN"), cc("ET")]).unwrap();
        clear_for_sending(complete(), recipients, vec![]).unwrap()
    }

    pub fn findings(established: bool) -> Findings {
        Findings {
            summary: text(
                "Exported 1985-06 under licence 85/112 to the Ministry of Defence of ET.",
            ),
            last_legal_holder: established.then(|| Holder {
                name: Line::parse("Ministry of Defence").unwrap(),
                country: Some(cc("ET")),
                licence: Some(Line::parse("85/112").unwrap()),
            }),
            point_of_diversion: None,
            next_states: vec![cc("ET")],
        }
    }

    pub fn full() -> Answer {
        Answer {
            outcome: Outcome::Full {
                findings: findings(true),
            },
            conditions_of_use: vec![text("Not to be disclosed to third states.")],
            officer: None,
        }
    }

    pub fn refused() -> Answer {
        Answer {
            outcome: Outcome::Refused {
                ground: Ground::Investigation,
                explanation: text("An investigation into the importer is under way."),
            },
            conditions_of_use: vec![],
            officer: None,
        }
    }

    pub fn t0() -> OffsetDateTime {
        datetime!(2024-03-10 09:00 UTC)
    }

    /// A whole trace: drafted, sent to CN and ET, CN answers fully after a follow-up, ET
    /// refuses, the case is closed with feedback.
    pub fn story() -> Vec<TraceEvent> {
        use time::Duration as D;
        let t = t0();
        vec![
            TraceEvent::Drafted {
                at: t,
                request: complete(),
            },
            TraceEvent::Amended {
                at: t + D::minutes(20),
                request: complete(),
            },
            TraceEvent::Sent {
                at: t + D::hours(1),
                dispatch: dispatch(),
            },
            TraceEvent::Delivered {
                at: t + D::hours(1) + D::seconds(3),
                to: cc("CN"),
            },
            TraceEvent::Acknowledged {
                at: t + D::hours(30),
                by: cc("CN"),
            },
            TraceEvent::Answered {
                at: t + D::days(12),
                by: cc("CN"),
                answer: Answer {
                    outcome: Outcome::Partial {
                        findings: findings(false),
                        missing: text("The consignee is not in the archive index."),
                    },
                    conditions_of_use: vec![],
                    officer: None,
                },
            },
            TraceEvent::FollowUp {
                at: t + D::days(13),
                to: cc("CN"),
                question: text("Please check the 1985 shipping files for licence 85/112."),
            },
            TraceEvent::Answered {
                at: t + D::days(20),
                by: cc("CN"),
                answer: full(),
            },
            TraceEvent::Answered {
                at: t + D::days(21),
                by: cc("ET"),
                answer: refused(),
            },
            TraceEvent::Closed {
                at: t + D::days(30),
                feedback: vec![
                    Feedback {
                        state: cc("CN"),
                        rating: Rating::new(5).unwrap(),
                        comment: Some(text("Named the consignee.")),
                    },
                    Feedback {
                        state: cc("ET"),
                        rating: Rating::new(1).unwrap(),
                        comment: None,
                    },
                ],
            },
        ]
    }
}

#[cfg(test)]
pub(crate) mod arbitrary {
    //! Random event sequences for the property tests, and the brute-force oracle they are
    //! checked against.
    //!
    //! The oracle is a transition table written out by hand over plain strings, independent
    //! of the implementation's types. The generator walks it: at each step it usually picks
    //! one of the moves the table allows (so long, deep traces are common), and sometimes any
    //! move at all, or a step back in time (so refusals are exercised everywhere).

    use super::fixtures::*;
    use super::*;
    use crate::completeness::clear_for_sending;
    use crate::request::fixtures::edited;
    use crate::routing::ConfirmedRecipients;
    use proptest::prelude::*;
    use serde_json::json;
    use std::collections::BTreeMap;
    use time::Duration as D;

    pub const STATES: [&str; 3] = ["CN", "ET", "UG"];

    /// Per-exchange steps: (phase before, step, phase after). Anything not listed is refused.
    const EXCHANGE_TABLE: &[(&str, &str, &str)] = &[
        ("sent", "delivered", "delivered"),
        ("sent", "acknowledged", "acknowledged"),
        ("delivered", "acknowledged", "acknowledged"),
        ("sent", "answered", "answered"),
        ("delivered", "answered", "answered"),
        ("acknowledged", "answered", "answered"),
        ("follow_up", "answered", "answered"),
        ("answered", "answered", "answered"),
        ("answered", "follow_up", "follow_up"),
    ];

    /// Trace-level steps: (state before, step, state after).
    const TRACE_TABLE: &[(&str, &str, &str)] = &[
        ("none", "drafted", "draft"),
        ("none", "sent", "open"),
        ("draft", "amended", "draft"),
        ("draft", "sent", "open"),
        ("open", "closed", "closed"),
    ];

    fn look(table: &[(&str, &str, &'static str)], from: &str, step: &str) -> Option<&'static str> {
        table
            .iter()
            .find(|(f, s, _)| *f == from && *s == step)
            .map(|(_, _, to)| *to)
    }

    fn step_name(e: &TraceEvent) -> &'static str {
        match e {
            TraceEvent::Drafted { .. } => "drafted",
            TraceEvent::Amended { .. } => "amended",
            TraceEvent::Sent { .. } => "sent",
            TraceEvent::Delivered { .. } => "delivered",
            TraceEvent::Acknowledged { .. } => "acknowledged",
            TraceEvent::Answered { .. } => "answered",
            TraceEvent::FollowUp { .. } => "follow_up",
            TraceEvent::Closed { .. } => "closed",
        }
    }

    /// The brute-force model of a trace.
    #[derive(Clone, Debug)]
    pub struct Oracle {
        pub level: &'static str,
        pub id: String,
        pub last: Option<OffsetDateTime>,
        /// state → (phase, has answered)
        pub exchanges: BTreeMap<String, (&'static str, bool)>,
    }

    impl Default for Oracle {
        fn default() -> Self {
            Oracle {
                level: "none",
                id: String::new(),
                last: None,
                exchanges: BTreeMap::new(),
            }
        }
    }

    impl Oracle {
        /// Applies one event; false (and no change) if the rules refuse it.
        pub fn apply(&mut self, e: &TraceEvent) -> bool {
            if self.last.is_some_and(|last| e.at() < last) {
                return false;
            }
            let step = step_name(e);
            if let Some(cp) = e.counterpart() {
                if self.level != "open" {
                    return false;
                }
                let Some(ex) = self.exchanges.get_mut(cp.as_str()) else {
                    return false;
                };
                let Some(to) = look(EXCHANGE_TABLE, ex.0, step) else {
                    return false;
                };
                ex.0 = to;
                ex.1 |= step == "answered";
            } else {
                let Some(to) = look(TRACE_TABLE, self.level, step) else {
                    return false;
                };
                match e {
                    TraceEvent::Drafted { request, .. } => self.id = request.id.to_string(),
                    TraceEvent::Amended { request, .. } if request.id.as_str() != self.id => {
                        return false;
                    }
                    TraceEvent::Sent { dispatch, .. } => {
                        if self.level == "draft" && dispatch.id().as_str() != self.id {
                            return false;
                        }
                        self.id = dispatch.id().to_string();
                        for s in dispatch.recipients().states() {
                            self.exchanges.insert(s.to_string(), ("sent", false));
                        }
                    }
                    TraceEvent::Closed { feedback, .. } => {
                        let rated: Vec<String> =
                            feedback.iter().map(|f| f.state.to_string()).collect();
                        let mut sorted = rated.clone();
                        sorted.sort();
                        sorted.dedup();
                        if sorted.len() != rated.len() || sorted != self.answered() {
                            return false;
                        }
                    }
                    _ => {}
                }
                self.level = to;
            }
            self.last = Some(e.at());
            true
        }

        fn answered(&self) -> Vec<String> {
            self.exchanges
                .iter()
                .filter(|(_, (_, a))| *a)
                .map(|(s, _)| s.clone())
                .collect()
        }

        /// The state's name: an open trace is named after its least advanced exchange.
        pub fn name(&self) -> &'static str {
            match self.level {
                "open" => ["sent", "delivered", "acknowledged", "follow_up", "answered"]
                    .into_iter()
                    .find(|p| self.exchanges.values().any(|(q, _)| q == p))
                    .unwrap_or("sent"),
                other => other,
            }
        }
    }

    /// What kind of event to make, before its time is known.
    #[derive(Clone, Debug)]
    pub enum Kind {
        Drafted,
        Amended { other_trace: bool },
        Sent { urgent: bool, other_trace: bool },
        Delivered(usize),
        Acknowledged(usize),
        Answered(usize, bool),
        FollowUp(usize),
        Closed(Vec<(usize, u8)>),
    }

    fn request(other_trace: bool, urgent: bool) -> TraceRequest {
        edited(|v| {
            if other_trace {
                v["id"] = json!("OTHER-TRACE");
            }
            if urgent {
                v["priority"] = json!({"level": "urgent", "justification": "Suspect in custody."});
            }
        })
    }

    fn sent(other_trace: bool, urgent: bool) -> SendableRequest {
        let recipients = ConfirmedRecipients::confirm(cc("KE"), [cc("CN"), cc("ET")]).unwrap();
        clear_for_sending(request(other_trace, urgent), recipients, vec![]).unwrap()
    }

    /// Any event kind at all, valid or not.
    fn any_kind() -> impl Strategy<Value = Kind> {
        let c = 0..STATES.len();
        prop_oneof![
            Just(Kind::Drafted),
            any::<bool>().prop_map(|o| Kind::Amended { other_trace: o }),
            (any::<bool>(), any::<bool>()).prop_map(|(u, o)| Kind::Sent {
                urgent: u,
                other_trace: o
            }),
            c.clone().prop_map(Kind::Delivered),
            c.clone().prop_map(Kind::Acknowledged),
            (c.clone(), any::<bool>()).prop_map(|(i, f)| Kind::Answered(i, f)),
            c.clone().prop_map(Kind::FollowUp),
            prop::collection::vec((c, 1u8..=5), 0..3).prop_map(Kind::Closed),
        ]
    }

    fn make(kind: &Kind, at: OffsetDateTime) -> TraceEvent {
        match kind {
            Kind::Drafted => TraceEvent::Drafted {
                at,
                request: request(false, false),
            },
            Kind::Amended { other_trace } => TraceEvent::Amended {
                at,
                request: request(*other_trace, false),
            },
            Kind::Sent {
                urgent,
                other_trace,
            } => TraceEvent::Sent {
                at,
                dispatch: sent(*other_trace, *urgent),
            },
            Kind::Delivered(i) => TraceEvent::Delivered {
                at,
                to: cc(STATES[*i]),
            },
            Kind::Acknowledged(i) => TraceEvent::Acknowledged {
                at,
                by: cc(STATES[*i]),
            },
            Kind::Answered(i, full_answer) => TraceEvent::Answered {
                at,
                by: cc(STATES[*i]),
                answer: if *full_answer { full() } else { refused() },
            },
            Kind::FollowUp(i) => TraceEvent::FollowUp {
                at,
                to: cc(STATES[*i]),
                question: text("And the consignee?"),
            },
            Kind::Closed(fb) => TraceEvent::Closed {
                at,
                feedback: fb
                    .iter()
                    .map(|(i, r)| Feedback {
                        state: cc(STATES[*i]),
                        rating: Rating::new(*r).unwrap(),
                        comment: None,
                    })
                    .collect(),
            },
        }
    }

    /// Every move the oracle allows next (with a fixed rating), in a fixed order.
    fn allowed(oracle: &Oracle, at: OffsetDateTime) -> Vec<TraceEvent> {
        let answered: Vec<(usize, u8)> = STATES
            .iter()
            .enumerate()
            .filter(|(_, s)| oracle.answered().iter().any(|a| a == *s))
            .map(|(i, _)| (i, 4))
            .collect();
        let mut kinds = vec![
            Kind::Drafted,
            Kind::Amended { other_trace: false },
            Kind::Sent {
                urgent: false,
                other_trace: false,
            },
            Kind::Sent {
                urgent: true,
                other_trace: false,
            },
            Kind::Closed(answered),
        ];
        for i in 0..STATES.len() {
            kinds.extend([
                Kind::Delivered(i),
                Kind::Acknowledged(i),
                Kind::Answered(i, true),
                Kind::Answered(i, false),
                Kind::FollowUp(i),
            ]);
        }
        kinds
            .iter()
            .map(|k| make(k, at))
            .filter(|e| oracle.clone().apply(e))
            .collect()
    }

    /// A sequence of up to `max` events, hours apart: mostly moves the rules allow, about one
    /// in fifteen anything at all, sometimes dated before the previous event.
    pub fn events(max: usize) -> impl Strategy<Value = Vec<TraceEvent>> {
        let gap = prop_oneof![20 => 0i64..72, 1 => -6i64..0];
        let step = (any::<prop::sample::Index>(), 0u8..15, any_kind(), gap);
        prop::collection::vec(step, 1..max).prop_map(|steps| {
            let mut oracle = Oracle::default();
            let mut at = t0();
            let mut out = Vec::new();
            for (pick, noise, random, hours) in steps {
                at += D::hours(hours);
                let moves = allowed(&oracle, at);
                let event = if noise == 0 || moves.is_empty() {
                    make(&random, at)
                } else {
                    moves[pick.index(moves.len())].clone()
                };
                oracle.apply(&event);
                out.push(event);
            }
            out
        })
    }

    /// The longest prefix of `events` that replays.
    pub fn valid_prefix(events: &[TraceEvent]) -> Vec<TraceEvent> {
        match replay(events) {
            Ok(_) => events.to_vec(),
            Err(ReplayError::Refused { index, .. }) => events[..index].to_vec(),
            Err(ReplayError::Empty) => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::*;
    use time::Duration as D;

    #[test]
    fn a_whole_trace_replays() {
        let events = story();
        let mut names = Vec::new();
        for n in 1..=events.len() {
            names.push(replay(&events[..n]).unwrap().name());
        }
        use StateName::*;
        assert_eq!(
            names,
            [Draft, Draft, Sent, Sent, Sent, Sent, Sent, Sent, Answered, Closed]
        );
        let state = replay(&events).unwrap();
        let closed = state.closed().unwrap();
        let cn = closed.trace().exchange(cc("CN")).unwrap();
        assert_eq!(cn.answers().len(), 2);
        assert_eq!(cn.follow_ups().len(), 1);
        assert_eq!(cn.acknowledged_at(), Some(t0() + D::hours(30)));
        let et = closed.trace().exchange(cc("ET")).unwrap();
        // ET never acknowledged: its answer stands for the acknowledgement.
        assert_eq!(et.acknowledged_at(), Some(t0() + D::days(21)));
        assert_eq!(et.delivered_at(), None);
        assert_eq!(
            et.latest_answer().unwrap().answer.outcome.kind(),
            OutcomeKind::Refused
        );
    }

    #[test]
    fn events_round_trip_as_json() {
        for e in story() {
            let json = serde_json::to_string(&e).unwrap();
            let back: TraceEvent = serde_json::from_str(&json).unwrap();
            assert_eq!(back, e, "{json}");
        }
        let e: TraceEvent = serde_json::from_str(
            r#"{"event":"acknowledged","at":"2024-03-11T15:00:00Z","by":"CN"}"#,
        )
        .unwrap();
        assert_eq!(e.counterpart(), Some(cc("CN")));
        for bad in [
            r#"{"event":"acknowledged","at":"2024-03-11T15:00:00Z","by":"CN","extra":1}"#,
            r#"{"event":"acknowledged","at":"yesterday","by":"CN"}"#,
            r#"{"event":"acknowledged","at":"2024-03-11T15:00:00Z","by":"XX"}"#,
            r#"{"event":"teleported","at":"2024-03-11T15:00:00Z"}"#,
            r#"{"event":"answered","at":"2024-03-11T15:00:00Z","by":"CN","answer":{"outcome":{"kind":"refused","explanation":"no"}}}"#,
            r#"{"event":"closed","at":"2024-03-11T15:00:00Z","feedback":[{"state":"CN","rating":0}]}"#,
        ] {
            assert!(serde_json::from_str::<TraceEvent>(bad).is_err(), "{bad}");
        }
        let ground: Ground =
            serde_json::from_str(r#"{"other":"Bilateral agreement not ratified"}"#).unwrap();
        assert!(matches!(ground, Ground::Other(_)));
        assert_eq!(
            serde_json::to_string(&Ground::NationalSecurity).unwrap(),
            "\"national_security\""
        );
    }

    fn refused_at(events: &[TraceEvent]) -> (usize, String) {
        match replay(events) {
            Err(ReplayError::Refused { index, error }) => (index, error.to_string()),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn invalid_steps_are_refused_naming_state_and_step() {
        let s = story();
        // Answered → acknowledged: the exchange is past it.
        let mut e = s[..6].to_vec();
        e.push(TraceEvent::Acknowledged {
            at: t0() + D::days(12),
            by: cc("CN"),
        });
        assert_eq!(
            refused_at(&e),
            (
                6,
                "trace KE-DCI-2024-0117: cannot acknowledge by CN: the exchange with CN is answered"
                    .into()
            )
        );
        // Anything after closure.
        let mut e = s.clone();
        e.push(TraceEvent::Answered {
            at: t0() + D::days(40),
            by: cc("ET"),
            answer: full(),
        });
        let (i, msg) = refused_at(&e);
        assert_eq!(i, 10);
        assert!(
            msg.ends_with("cannot answer by ET: the trace is closed"),
            "{msg}"
        );
        // A state the request was not sent to.
        let mut e = s[..3].to_vec();
        e.push(TraceEvent::Delivered {
            at: t0() + D::hours(2),
            to: cc("UG"),
        });
        assert!(refused_at(&e).1.contains("UG: it is not a requested state"));
        // A follow-up before any answer is a reminder, not a follow-up.
        let mut e = s[..3].to_vec();
        e.push(TraceEvent::FollowUp {
            at: t0() + D::hours(2),
            to: cc("CN"),
            question: text("?"),
        });
        assert!(refused_at(&e).1.ends_with("the exchange with CN is sent"));
        // Delivery after acknowledgement.
        let mut e = s[..5].to_vec();
        e.push(TraceEvent::Delivered {
            at: t0() + D::hours(31),
            to: cc("CN"),
        });
        assert!(refused_at(&e)
            .1
            .ends_with("the exchange with CN is acknowledged"));
        // Sending twice; amending after sending; starting with a delivery.
        let mut e = s[..3].to_vec();
        e.push(s[2].clone());
        assert!(refused_at(&e).1.ends_with("cannot send: the trace is sent"));
        let mut e = s[..3].to_vec();
        e.push(TraceEvent::Amended {
            at: t0() + D::hours(2),
            request: crate::request::fixtures::complete(),
        });
        assert!(refused_at(&e).1.contains("cannot amend"));
        assert_eq!(
            refused_at(&s[3..4]),
            (
                0,
                "cannot record delivery to CN: the trace is not started".into()
            )
        );
        // Acknowledging a draft.
        let e = vec![
            s[0].clone(),
            TraceEvent::Acknowledged {
                at: t0(),
                by: cc("CN"),
            },
        ];
        assert!(refused_at(&e)
            .1
            .ends_with("cannot acknowledge by CN: the trace is a draft"));
        // Going back in time.
        let mut e = s[..4].to_vec();
        e.push(TraceEvent::Acknowledged {
            at: t0(),
            by: cc("CN"),
        });
        assert!(refused_at(&e).1.contains("dated before the previous one"));
        assert_eq!(replay(&[]), Err(ReplayError::Empty));
    }

    #[test]
    fn closing_needs_feedback_on_each_answer_and_no_other() {
        let s = story();
        let close = |feedback: Vec<Feedback>| {
            let mut e = s[..9].to_vec();
            e.push(TraceEvent::Closed {
                at: t0() + D::days(30),
                feedback,
            });
            replay(&e)
        };
        let TraceEvent::Closed { feedback, .. } = &s[9] else {
            unreachable!()
        };
        assert!(close(feedback.clone()).is_ok());
        let err = close(feedback[..1].to_vec()).unwrap_err();
        assert!(
            err.to_string().contains("no feedback for the answer of ET"),
            "{err}"
        );
        let mut twice = feedback.clone();
        twice.push(feedback[0].clone());
        assert!(close(twice)
            .unwrap_err()
            .to_string()
            .contains("given twice"));
        // Before ET answered, feedback for ET is refused; closing without any answer is fine.
        let mut e = s[..8].to_vec();
        e.push(TraceEvent::Closed {
            at: t0() + D::days(30),
            feedback: feedback.clone(),
        });
        assert!(replay(&e)
            .unwrap_err()
            .to_string()
            .contains("ET, which has not answered"));
        let mut e = s[..3].to_vec();
        e.push(TraceEvent::Closed {
            at: t0() + D::days(90),
            feedback: vec![],
        });
        assert_eq!(replay(&e).unwrap().name(), StateName::Closed);
    }

    #[test]
    fn the_requested_side_starts_with_the_received_request() {
        let s = story();
        let state = replay(&s[2..9]).unwrap();
        assert_eq!(state.name(), StateName::Answered);
        assert_eq!(state.id().as_str(), "KE-DCI-2024-0117");
    }

    #[test]
    fn a_refused_event_leaves_the_state_unchanged() {
        let s = story();
        let mut state = replay(&s[..5]).unwrap();
        let before = state.clone();
        assert!(state
            .apply(&TraceEvent::Delivered {
                at: t0() + D::days(1),
                to: cc("CN")
            })
            .is_err());
        assert_eq!(state, before);
    }
}

#[cfg(test)]
mod properties {
    //! Replay against the brute-force oracle of [`super::arbitrary`].

    use super::arbitrary::*;
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn phase_str(p: Phase) -> &'static str {
        match p {
            Phase::Sent => "sent",
            Phase::Delivered => "delivered",
            Phase::Acknowledged => "acknowledged",
            Phase::FollowUp => "follow_up",
            Phase::Answered => "answered",
        }
    }

    fn name_str(n: StateName) -> &'static str {
        match n {
            StateName::NotStarted => "none",
            StateName::Draft => "draft",
            StateName::Closed => "closed",
            StateName::Sent => "sent",
            StateName::Delivered => "delivered",
            StateName::Acknowledged => "acknowledged",
            StateName::FollowUp => "follow_up",
            StateName::Answered => "answered",
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Replay either fails at the first event the table refuses, or reaches the state the
        /// table reaches.
        #[test]
        fn replay_agrees_with_the_transition_table(events in events(16)) {
            let mut oracle = Oracle::default();
            let first_refused = events.iter().position(|e| !oracle.apply(e));
            match (replay(&events), first_refused) {
                (Ok(state), None) => {
                    prop_assert_eq!(name_str(state.name()), oracle.name());
                    if let Some(trace) = state.sent() {
                        let phases: BTreeMap<String, (&str, bool)> = trace
                            .exchanges()
                            .iter()
                            .map(|e| {
                                let answered = !e.answers().is_empty();
                                (e.state().to_string(), (phase_str(e.phase()), answered))
                            })
                            .collect();
                        prop_assert_eq!(phases, oracle.exchanges.clone());
                    }
                    prop_assert_eq!(Some(state.last_at()), oracle.last);
                }
                (Err(ReplayError::Refused { index, .. }), Some(i)) => prop_assert_eq!(index, i),
                (got, want) => prop_assert!(
                    false,
                    "replay gave {:?}, the oracle refuses at {:?}",
                    got.map(|s| s.name()),
                    want
                ),
            }
        }

        /// Events are stored as JSON: every one reads back as written.
        #[test]
        fn events_round_trip_through_json(events in events(8)) {
            for e in &events {
                let json = serde_json::to_string(e).unwrap();
                let back: TraceEvent = serde_json::from_str(&json).unwrap();
                prop_assert_eq!(&back, e);
            }
        }
    }

    /// The generator reaches every state, so the property above is not vacuous.
    #[test]
    fn the_generator_reaches_every_state() {
        use proptest::strategy::ValueTree;
        use proptest::test_runner::TestRunner;
        let mut runner = TestRunner::deterministic();
        let strategy = events(16);
        let mut seen = std::collections::BTreeSet::new();
        let mut refused = 0;
        for _ in 0..500 {
            let events = strategy.new_tree(&mut runner).unwrap().current();
            match replay(&events) {
                Ok(s) => {
                    seen.insert(name_str(s.name()));
                }
                Err(_) => refused += 1,
            }
            for n in 1..events.len() {
                if let Ok(s) = replay(&events[..n]) {
                    seen.insert(name_str(s.name()));
                }
            }
        }
        assert_eq!(seen.len(), 7, "{seen:?}");
        assert!((50..450).contains(&refused), "{refused} of 500 refused");
    }
}
