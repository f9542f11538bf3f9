//! Traces on record: every step of every trace is a record in the node's trace log, and
//! nothing else changes a trace (issue #5, item 4).
//!
//! The trace log is the store's third Merkle log (beside the ledger and the audit log): one
//! leaf per step, in the ledger's leaf format (`envelope`: canonical JSON of
//! `{"v":1,"recorded_at","recorded_by","record"}`), the record being
//! `{"record":"trace","trace":KEY,"event":TraceEvent,…}`, and after each step a checkpoint
//! signed with the node key under the origin `<ledger origin>/traces`. It is a log of its own,
//! not leaves of the item ledger, for two reasons: a trace request and its answer carry what
//! states share only with the states in the trace (the item ledger's leaves are served to
//! every registry reader), and the item ledger's contract is that every leaf is an item or
//! an event of the interchange format, which exports and other installations rely on.
//!
//! A trace's key is `<requesting state>:<trace id>` (ids are the requesting state's own
//! numbering). Its state is the fold of `tracemark_trace::lifecycle` over its records; the
//! `traces` projection row (status, priority, requested states, times) is derived from it in
//! the same transaction as the record, and `verify` recomputes every row from the log.
//!
//! Steps that cross a border are also federation messages: the step's event, sealed with
//! `tracemark_federation::envelope` for the one peer it goes to, is put in the outbox in the
//! same transaction as the record ([`Outgoing`]), and a received message becomes a record
//! in the same transaction as the inbox row ([`apply_received`]), so a message is never
//! acknowledged without being on record, nor recorded twice. A received event is dated by
//! this node's clock when it arrives (the sender's time is kept in the record): deadlines are
//! measured by the clock of the node that measures them, and two nodes' clocks never have
//! to agree for the events to stay in order.

use crate::envelope;
use crate::federation::{self, FederationError};
use crate::{Clock, Node};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tracemark_domain::ids::CountryCode;
use tracemark_federation::{envelope::Header, MessageId, MessageKind};
use tracemark_ledger::merkle::Hash;
use tracemark_store::{
    InboxRow, OutboxDelivery, OutboxFailure, OutboxRow, StoreError, TraceCommit, TraceCommitted,
    TraceRow,
};
use tracemark_trace::completeness::{self, ClearanceError, SendableRequest, Waiver};
use tracemark_trace::lifecycle::{Answer, Feedback, StateName, TraceEvent, TraceState};
use tracemark_trace::request::TraceRequest;
use tracemark_trace::routing::ConfirmedRecipients;
use tracemark_trace::text::{Text, TraceId};

/// Appended to the ledger origin to name the trace log.
pub const TRACE_ORIGIN_SUFFIX: &str = "/traces";

/// The version of the message payload (the plaintext inside a federation envelope).
pub const PAYLOAD_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    #[error("no trace {0} on this node")]
    NotFound(String),
    #[error("trace {0} is already on this node")]
    Exists(String),
    /// The step breaks the life-cycle rules (the message names the state and the step).
    #[error("{0}")]
    Rules(#[from] tracemark_trace::lifecycle::TransitionError),
    #[error("the request may not be sent: {0}")]
    NotSendable(String),
    /// The step is one the other side takes (e.g. answering one's own request).
    #[error("{0}")]
    WrongSide(String),
    #[error("a stored trace record does not read back: {0}")]
    Damaged(String),
    #[error(transparent)]
    Federation(#[from] FederationError),
    #[error("sealing the message: {0}")]
    Seal(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Which side of a trace this node is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Requesting,
    Requested,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Requesting => "requesting",
            Role::Requested => "requested",
        }
    }
}

/// The machine name of a life-cycle state, as the projection and the API give it.
pub fn status_name(name: StateName) -> &'static str {
    match name {
        StateName::NotStarted => "not_started",
        StateName::Draft => "draft",
        StateName::Sent => "sent",
        StateName::Delivered => "delivered",
        StateName::Acknowledged => "acknowledged",
        StateName::FollowUp => "follow_up",
        StateName::Answered => "answered",
        StateName::Closed => "closed",
    }
}

/// The node-wide key of a trace.
pub fn key_of(requesting_state: CountryCode, id: &TraceId) -> String {
    format!("{}:{}", requesting_state.as_str(), id.as_str())
}

/// How a step reached this node when it did not come as a federation message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// Received on paper (post, diplomatic bag, hand delivery).
    Paper,
    Email,
    Fax,
    Phone,
    /// Through INTERPOL (e.g. an iARMS or I-24/7 exchange).
    Interpol,
}

/// The message a received record came in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceivedVia {
    pub from: String,
    pub message: String,
    /// The sender's time for the step, as it said.
    pub sent_at: String,
}

/// A message a record sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SentVia {
    pub to: String,
    pub message: String,
}

/// The record in one trace-log leaf.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceRecord {
    /// Always `trace`.
    pub record: String,
    pub trace: String,
    pub event: TraceEvent,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received: Option<ReceivedVia>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sent: Vec<SentVia>,
    /// For a delivery: the peer's signed receipt (JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<String>,
    /// For a step recorded by hand from another channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Text>,
}

/// The plaintext of a federation message: one trace event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Payload {
    pub v: u32,
    #[serde(with = "tracemark_trace::wire::one")]
    pub requesting_state: CountryCode,
    pub trace: TraceId,
    pub event: TraceEvent,
}

/// A trace as this node holds it: its records and its replayed state.
#[derive(Clone, Debug)]
pub struct StoredTrace {
    pub key: String,
    pub role: Role,
    pub records: Vec<(u64, String, String, TraceRecord)>,
    pub state: TraceState,
}

impl StoredTrace {
    /// The index, time, recorder and record of each step.
    pub fn steps(&self) -> impl Iterator<Item = (u64, &str, &str, &TraceRecord)> {
        self.records
            .iter()
            .map(|(i, at, by, r)| (*i, at.as_str(), by.as_str(), r))
    }
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

/// The instant a clock says.
pub fn now_of(clock: &dyn Clock) -> Result<OffsetDateTime, TraceError> {
    let text = clock.now_rfc3339();
    OffsetDateTime::parse(&text, &Rfc3339)
        .map_err(|e| TraceError::Damaged(format!("the clock said '{text}': {e}")))
}

fn own_state(node: &Node) -> Result<CountryCode, TraceError> {
    CountryCode::parse(&node.info.state)
        .map_err(|e| TraceError::Damaged(format!("node state '{}': {e}", node.info.state)))
}

/// Loads a trace and replays it.
pub fn load(node: &Node, key: &str) -> Result<Option<StoredTrace>, TraceError> {
    let leaves = node.store.trace_records(key)?;
    if leaves.is_empty() {
        return Ok(None);
    }
    let mut records = Vec::with_capacity(leaves.len());
    let mut state: Option<TraceState> = None;
    for leaf in leaves {
        let (at, by, record) = decode_leaf(&leaf.data)
            .map_err(|m| TraceError::Damaged(format!("trace log #{}: {m}", leaf.index)))?;
        if record.trace != key {
            return Err(TraceError::Damaged(format!(
                "trace log #{} is filed under {key} but is about {}",
                leaf.index, record.trace
            )));
        }
        match state.as_mut() {
            None => state = Some(TraceState::begin(&record.event)?),
            Some(s) => s.apply(&record.event)?,
        }
        records.push((leaf.index, at, by, record));
    }
    let state = state.ok_or_else(|| TraceError::NotFound(key.to_owned()))?;
    let me = own_state(node)?;
    let role = if state.request().requesting_state == me {
        Role::Requesting
    } else {
        Role::Requested
    };
    Ok(Some(StoredTrace {
        key: key.to_owned(),
        role,
        records,
        state,
    }))
}

fn require(node: &Node, key: &str) -> Result<StoredTrace, TraceError> {
    load(node, key)?.ok_or_else(|| TraceError::NotFound(key.to_owned()))
}

/// Decodes one trace-log leaf: its time, its recorder and its record.
pub fn decode_leaf(data: &[u8]) -> Result<(String, String, TraceRecord), String> {
    let env = envelope::decode(data, false).map_err(|e| e.to_string())?;
    let record: TraceRecord =
        serde_json::from_value(Value::Object(env.record)).map_err(|e| e.to_string())?;
    if record.record != "trace" {
        return Err(format!("record type '{}' in the trace log", record.record));
    }
    Ok((env.recorded_at, env.recorded_by, record))
}

/// The projection row of a trace in `state` with `records` records.
pub fn projection(
    key: &str,
    role: Role,
    me: CountryCode,
    state: &TraceState,
    records: u64,
) -> TraceRow {
    let request = state.request();
    let status = match (role, state) {
        // The requested side follows its own exchange, not the slowest of all recipients.
        (Role::Requested, TraceState::Open { trace, .. }) => trace
            .exchange(me)
            .map(|e| e.phase().name())
            .unwrap_or(StateName::Sent),
        _ => state.name(),
    };
    let (priority, requested, opened_at) = match state.sent() {
        Some(open) => (
            Some(if open.dispatch().priority().is_urgent() {
                "urgent"
            } else {
                "routine"
            }),
            open.dispatch()
                .recipients()
                .states()
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(","),
            match state {
                TraceState::Draft { drafted_at, .. } => *drafted_at,
                _ => open.sent_at(),
            },
        ),
        None => (
            None,
            String::new(),
            match state {
                TraceState::Draft { drafted_at, .. } => *drafted_at,
                _ => state.last_at(),
            },
        ),
    };
    TraceRow {
        key: key.to_owned(),
        role: role.as_str().to_owned(),
        requesting_state: request.requesting_state.as_str().to_owned(),
        case_reference: request.case_reference.as_str().to_owned(),
        parent: request
            .parent_trace
            .as_ref()
            .map(|p| key_of(request.requesting_state, p)),
        status: status_name(status).to_owned(),
        priority: priority.map(str::to_owned),
        requested_states: requested,
        opened_at: rfc3339(opened_at),
        updated_at: rfc3339(state.last_at()),
        records,
    }
}

fn leaf(record: &TraceRecord, recorded_at: &str, by: &str) -> Result<Vec<u8>, TraceError> {
    let Value::Object(map) = serde_json::to_value(record)
        .map_err(|e| TraceError::Damaged(format!("encoding the record: {e}")))?
    else {
        return Err(TraceError::Damaged("a record is not an object".into()));
    };
    envelope::encode(&map, recorded_at, by).map_err(|e| TraceError::Damaged(e.to_string()))
}

/// Writes one step, signing the trace log's new checkpoint with the node key.
fn commit(node: &mut Node, c: &TraceCommit) -> Result<TraceCommitted, StoreError> {
    let origin = format!("{}{TRACE_ORIGIN_SUFFIX}", node.info.origin);
    let signer = &node.signer;
    let sign = |size: u64, root: &Hash| {
        let text = tracemark_ledger::Checkpoint {
            origin: origin.clone(),
            size,
            root: *root,
        }
        .to_note_text();
        signer.sign(&text).map_err(|e| e.to_string())
    };
    node.store.commit_trace(c, &sign)
}

/// A message a step sends to one peer.
struct Outgoing {
    to: CountryCode,
    kind: MessageKind,
    event: TraceEvent,
}

fn kind_of(event: &TraceEvent) -> Option<MessageKind> {
    Some(match event {
        TraceEvent::Sent { .. } => MessageKind::TraceRequest,
        TraceEvent::Acknowledged { .. } => MessageKind::Ack,
        TraceEvent::Answered { .. } => MessageKind::Answer,
        TraceEvent::FollowUp { .. } => MessageKind::FollowUp,
        TraceEvent::Closed { .. } => MessageKind::Close,
        TraceEvent::Drafted { .. } | TraceEvent::Amended { .. } | TraceEvent::Delivered { .. } => {
            return None
        }
    })
}

/// What one step recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recorded {
    pub key: String,
    /// The index of the (last) record in the trace log.
    pub index: u64,
    pub status: String,
    /// The peers a message was queued for.
    pub queued_for: Vec<String>,
    /// Requested states that are not peers: the request must reach them another way (the
    /// printable request), and their answers are recorded by hand.
    pub not_federated: Vec<String>,
}

/// How many times a step is recomputed when the trace moved under it (another app server or
/// process took a step on the same trace at the same moment).
const RETRIES: usize = 8;

/// Records `events` as steps of the trace `key` (new when `existing` is `None`), queueing a
/// message to each peer in `outgoing`, in one transaction. If the trace moved meanwhile, the
/// events are applied again to its new state (and refused if they no longer apply).
#[allow(clippy::too_many_arguments)]
fn record(
    node: &mut Node,
    key: &str,
    mut existing: Option<StoredTrace>,
    events: Vec<TraceEvent>,
    outgoing: Vec<Outgoing>,
    by: &str,
    channel: Option<Channel>,
    note: Option<Text>,
    now: OffsetDateTime,
) -> Result<Recorded, TraceError> {
    let mut tries = 0;
    loop {
        match record_once(
            node,
            key,
            existing,
            events.clone(),
            &outgoing,
            by,
            channel,
            note.clone(),
            now,
        ) {
            Err(TraceError::Store(StoreError::TraceMoved { .. })) if tries < RETRIES => {
                tries += 1;
                existing = load(node, key)?;
            }
            other => return other,
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn record_once(
    node: &mut Node,
    key: &str,
    existing: Option<StoredTrace>,
    events: Vec<TraceEvent>,
    outgoing: &[Outgoing],
    by: &str,
    channel: Option<Channel>,
    note: Option<Text>,
    now: OffsetDateTime,
) -> Result<Recorded, TraceError> {
    let me = own_state(node)?;
    let expected = existing.as_ref().map_or(0, |t| t.records.len() as u64);
    let (mut state, mut count) = match &existing {
        Some(t) => (Some(t.state.clone()), t.records.len() as u64),
        None => (None, 0),
    };
    for event in &events {
        match state.as_mut() {
            None => state = Some(TraceState::begin(event)?),
            Some(s) => s.apply(event)?,
        }
    }
    let state = state.ok_or_else(|| TraceError::NotFound(key.to_owned()))?;
    let role = if state.request().requesting_state == me {
        Role::Requesting
    } else {
        Role::Requested
    };
    // Seal the messages first: a peer missing from the directory is not federated.
    let directory = federation::directory(node)?;
    let identity = if outgoing.is_empty() {
        None
    } else {
        Some(federation::identity(node)?)
    };
    let mut outbox = Vec::new();
    let mut sent_via = Vec::new();
    let mut not_federated = Vec::new();
    let request = state.request();
    for out in outgoing {
        let Some(peer) = directory.get(out.to) else {
            not_federated.push(out.to.as_str().to_owned());
            continue;
        };
        let Some(me_id) = identity.as_ref() else {
            continue;
        };
        let payload = Payload {
            v: PAYLOAD_VERSION,
            requesting_state: request.requesting_state,
            trace: request.id.clone(),
            event: out.event.clone(),
        };
        let bytes = serde_json::to_vec(&payload)
            .map_err(|e| TraceError::Seal(format!("encoding the payload: {e}")))?;
        let id = MessageId::random(&mut rand_core::OsRng)
            .map_err(|e| TraceError::Seal(format!("drawing a message id: {e}")))?;
        let sealed = tracemark_federation::envelope::seal(
            me_id,
            std::slice::from_ref(&peer.identity),
            out.kind,
            id,
            now,
            &bytes,
        )
        .map_err(|e| TraceError::Seal(e.to_string()))?;
        sent_via.push(SentVia {
            to: out.to.as_str().to_owned(),
            message: id.to_string(),
        });
        outbox.push(OutboxRow {
            peer: out.to.as_str().to_owned(),
            message_id: id.to_string(),
            trace: key.to_owned(),
            kind: out.kind.as_str().to_owned(),
            envelope: sealed.to_json().into_bytes(),
            created_at: rfc3339(now),
            attempts: 0,
            next_attempt_at: rfc3339(now),
            last_error: None,
            delivered_at: None,
            receipt: None,
            refused: None,
        });
    }
    let at = rfc3339(now);
    let last = events.len().saturating_sub(1);
    let mut records = Vec::with_capacity(events.len());
    for (i, event) in events.into_iter().enumerate() {
        let r = TraceRecord {
            record: "trace".into(),
            trace: key.to_owned(),
            event,
            received: None,
            // The messages go with the last step (the one that crosses the border).
            sent: if i == last {
                std::mem::take(&mut sent_via)
            } else {
                Vec::new()
            },
            receipt: None,
            channel,
            note: if i == last { note.clone() } else { None },
        };
        records.push((key.to_owned(), leaf(&r, &at, by)?));
        count += 1;
    }
    let row = projection(key, role, me, &state, count);
    let status = row.status.clone();
    let queued_for = outbox.iter().map(|o| o.peer.clone()).collect();
    let commit = TraceCommit {
        records,
        projections: vec![row],
        outbox,
        inbox: None,
        delivered: None,
        expect: vec![(key.to_owned(), expected)],
    };
    let first = match self::commit(node, &commit)? {
        TraceCommitted::Appended(first) => first,
        TraceCommitted::DuplicateMessage => {
            return Err(TraceError::Damaged(
                "a local step was taken for a message".into(),
            ))
        }
    };
    Ok(Recorded {
        key: key.to_owned(),
        index: first + commit.records.len() as u64 - 1,
        status,
        queued_for,
        not_federated,
    })
}

/// Starts a trace request as a draft. The request's requesting state must be this node's.
pub fn draft(
    node: &mut Node,
    request: TraceRequest,
    by: &str,
    now: OffsetDateTime,
) -> Result<Recorded, TraceError> {
    let me = own_state(node)?;
    if request.requesting_state != me {
        return Err(TraceError::WrongSide(format!(
            "the request names {} as the requesting state; this node is {me}'s",
            request.requesting_state
        )));
    }
    let key = key_of(me, &request.id);
    if node.store.trace(&key)?.is_some() {
        return Err(TraceError::Exists(key));
    }
    let event = TraceEvent::Drafted { at: now, request };
    record(
        node,
        &key,
        None,
        vec![event],
        Vec::new(),
        by,
        None,
        None,
        now,
    )
}

/// Replaces the draft `key` with `request` (same id).
pub fn amend(
    node: &mut Node,
    key: &str,
    request: TraceRequest,
    by: &str,
    now: OffsetDateTime,
) -> Result<Recorded, TraceError> {
    let t = require(node, key)?;
    if key_of(request.requesting_state, &request.id) != key {
        return Err(TraceError::WrongSide(format!(
            "the amended request is trace {}:{}, not {key}",
            request.requesting_state, request.id
        )));
    }
    let event = TraceEvent::Amended { at: now, request };
    record(
        node,
        key,
        Some(t),
        vec![event],
        Vec::new(),
        by,
        None,
        None,
        now,
    )
}

/// Sends the draft `key` to `recipients` (the officer's confirmed choice) with `waivers` for
/// the gaps that remain: a message to each recipient that is a peer, in the same step.
pub fn send(
    node: &mut Node,
    key: &str,
    recipients: &[CountryCode],
    waivers: Vec<Waiver>,
    by: &str,
    now: OffsetDateTime,
) -> Result<Recorded, TraceError> {
    let t = require(node, key)?;
    if t.role != Role::Requesting {
        return Err(TraceError::WrongSide(format!(
            "trace {key} was received from {}; only its requesting state sends it",
            t.state.request().requesting_state
        )));
    }
    let TraceState::Draft { request, .. } = &t.state else {
        return Err(TraceError::NotSendable(format!(
            "trace {key} is {}, not a draft",
            t.state.name()
        )));
    };
    let dispatch = clear(request.clone(), recipients, waivers)?;
    sent_step(node, key, Some(t), Vec::new(), dispatch, by, now)
}

fn clear(
    request: TraceRequest,
    recipients: &[CountryCode],
    waivers: Vec<Waiver>,
) -> Result<SendableRequest, TraceError> {
    let confirmed =
        ConfirmedRecipients::confirm(request.requesting_state, recipients.iter().copied())
            .map_err(|e| TraceError::NotSendable(format!("requested states: {e}")))?;
    completeness::clear_for_sending(request, confirmed, waivers)
        .map_err(|e: ClearanceError| TraceError::NotSendable(e.to_string()))
}

fn sent_step(
    node: &mut Node,
    key: &str,
    existing: Option<StoredTrace>,
    mut before: Vec<TraceEvent>,
    dispatch: SendableRequest,
    by: &str,
    now: OffsetDateTime,
) -> Result<Recorded, TraceError> {
    let event = TraceEvent::Sent { at: now, dispatch };
    let outgoing = match &event {
        TraceEvent::Sent { dispatch, .. } => dispatch
            .recipients()
            .states()
            .iter()
            .map(|to| Outgoing {
                to: *to,
                kind: MessageKind::TraceRequest,
                event: event.clone(),
            })
            .collect(),
        _ => Vec::new(),
    };
    before.push(event);
    record(node, key, existing, before, outgoing, by, None, None, now)
}

/// Forwards the sent trace `parent_key` to the next state(s) in the chain in one step: a
/// new request with the same item, case reference and waivers, naming its parent, drafted
/// and sent together. `id` defaults to the parent's id, `-`, and the first new recipient.
pub fn chain(
    node: &mut Node,
    parent_key: &str,
    id: Option<TraceId>,
    recipients: &[CountryCode],
    waivers: Option<Vec<Waiver>>,
    by: &str,
    now: OffsetDateTime,
) -> Result<Recorded, TraceError> {
    let parent = require(node, parent_key)?;
    if parent.role != Role::Requesting {
        return Err(TraceError::WrongSide(format!(
            "trace {parent_key} was received from {}; its requesting state chains it",
            parent.state.request().requesting_state
        )));
    }
    let Some(sent) = parent.state.sent() else {
        return Err(TraceError::NotSendable(format!(
            "trace {parent_key} is a draft: send it before chaining from it"
        )));
    };
    let first = recipients
        .first()
        .ok_or_else(|| TraceError::NotSendable("name the next state in the chain".into()))?;
    let mut request = sent.request().clone();
    let id = match id {
        Some(id) => id,
        None => TraceId::parse(&format!("{}-{}", request.id.as_str(), first.as_str()))
            .map_err(|e| TraceError::NotSendable(format!("the chained trace's id: {e}")))?,
    };
    request.parent_trace = Some(request.id.clone());
    request.id = id;
    let waivers = waivers.unwrap_or_else(|| sent.dispatch().waivers().to_vec());
    let key = key_of(request.requesting_state, &request.id);
    if node.store.trace(&key)?.is_some() {
        return Err(TraceError::Exists(key));
    }
    let drafted = TraceEvent::Drafted {
        at: now,
        request: request.clone(),
    };
    let dispatch = clear(request, recipients, waivers)?;
    sent_step(node, &key, None, vec![drafted], dispatch, by, now)
}

/// Who takes a step that the requested state owes: on the requested side this node (and the
/// step goes to the requesting state as a message); on the requesting side a requested state
/// whose step arrived another way, recorded by hand with its channel.
pub enum Actor {
    ThisNode,
    Recorded {
        state: CountryCode,
        channel: Channel,
    },
}

fn requested_step(
    node: &mut Node,
    key: &str,
    actor: Actor,
    make: impl FnOnce(CountryCode) -> TraceEvent,
    note: Option<Text>,
    by: &str,
    now: OffsetDateTime,
) -> Result<Recorded, TraceError> {
    let t = require(node, key)?;
    let me = own_state(node)?;
    let requesting = t.state.request().requesting_state;
    match (actor, t.role) {
        (Actor::ThisNode, Role::Requested) => {
            let event = make(me);
            let out = Outgoing {
                to: requesting,
                kind: kind_of(&event).unwrap_or(MessageKind::Ack),
                event: event.clone(),
            };
            record(
                node,
                key,
                Some(t),
                vec![event],
                vec![out],
                by,
                None,
                note,
                now,
            )
        }
        (Actor::Recorded { state, channel }, Role::Requesting) => {
            let event = make(state);
            record(
                node,
                key,
                Some(t),
                vec![event],
                Vec::new(),
                by,
                Some(channel),
                note,
                now,
            )
        }
        (Actor::ThisNode, Role::Requesting) => Err(TraceError::WrongSide(format!(
            "trace {key} is this node's own request: record the requested state's step with \
             the state and the channel it came by"
        ))),
        (Actor::Recorded { .. }, Role::Requested) => Err(TraceError::WrongSide(format!(
            "trace {key} was received from {requesting}: this node takes the step itself"
        ))),
    }
}

/// Acknowledges the request (requested side), or records a requested state's acknowledgement
/// received another way (requesting side).
pub fn acknowledge(
    node: &mut Node,
    key: &str,
    actor: Actor,
    note: Option<Text>,
    by: &str,
    now: OffsetDateTime,
) -> Result<Recorded, TraceError> {
    requested_step(
        node,
        key,
        actor,
        |s| TraceEvent::Acknowledged { at: now, by: s },
        note,
        by,
        now,
    )
}

/// Answers the request (requested side), or records an answer received on paper or by e-mail
/// (requesting side).
pub fn answer(
    node: &mut Node,
    key: &str,
    actor: Actor,
    answer: Answer,
    note: Option<Text>,
    by: &str,
    now: OffsetDateTime,
) -> Result<Recorded, TraceError> {
    requested_step(
        node,
        key,
        actor,
        |s| TraceEvent::Answered {
            at: now,
            by: s,
            answer,
        },
        note,
        by,
        now,
    )
}

fn requesting_only(t: &StoredTrace, what: &str) -> Result<(), TraceError> {
    if t.role == Role::Requesting {
        Ok(())
    } else {
        Err(TraceError::WrongSide(format!(
            "trace {} was received from {}; only its requesting state may {what}",
            t.key,
            t.state.request().requesting_state
        )))
    }
}

/// Asks a requested state for more after its answer.
pub fn follow_up(
    node: &mut Node,
    key: &str,
    to: CountryCode,
    question: Text,
    by: &str,
    now: OffsetDateTime,
) -> Result<Recorded, TraceError> {
    let t = require(node, key)?;
    requesting_only(&t, "follow it up")?;
    let event = TraceEvent::FollowUp {
        at: now,
        to,
        question,
    };
    let out = Outgoing {
        to,
        kind: MessageKind::FollowUp,
        event: event.clone(),
    };
    record(
        node,
        key,
        Some(t),
        vec![event],
        vec![out],
        by,
        None,
        None,
        now,
    )
}

/// Closes the trace with feedback on every answer received; each requested state that is a
/// peer is told, with the feedback on its own answer only.
pub fn close(
    node: &mut Node,
    key: &str,
    feedback: Vec<Feedback>,
    by: &str,
    now: OffsetDateTime,
) -> Result<Recorded, TraceError> {
    let t = require(node, key)?;
    requesting_only(&t, "close it")?;
    let recipients: Vec<CountryCode> = t
        .state
        .sent()
        .map(|s| s.dispatch().recipients().states().to_vec())
        .unwrap_or_default();
    let outgoing = recipients
        .iter()
        .map(|to| Outgoing {
            to: *to,
            kind: MessageKind::Close,
            event: TraceEvent::Closed {
                at: now,
                feedback: feedback
                    .iter()
                    .filter(|f| f.state == *to)
                    .cloned()
                    .collect(),
            },
        })
        .collect();
    let event = TraceEvent::Closed { at: now, feedback };
    record(
        node,
        key,
        Some(t),
        vec![event],
        outgoing,
        by,
        None,
        None,
        now,
    )
}

/// Why a received message was not taken (the sender is told, with the code
/// `not_applicable`, and does not send it again).
#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    #[error("{0}")]
    NotApplicable(String),
    #[error(transparent)]
    Failed(#[from] TraceError),
}

/// Applies a received, opened message to this node's traces, storing `inbox` with it in the
/// same transaction. `DuplicateMessage` when another server stored the message first.
pub fn apply_received(
    node: &mut Node,
    header: &Header,
    payload: &[u8],
    inbox: InboxRow,
    now: OffsetDateTime,
) -> Result<TraceCommitted, ReceiveError> {
    let mut tries = 0;
    loop {
        match apply_received_once(node, header, payload, inbox.clone(), now) {
            Err(ReceiveError::Failed(TraceError::Store(StoreError::TraceMoved { .. })))
                if tries < RETRIES =>
            {
                tries += 1;
            }
            // Another app server took the same message while this one was reading the trace:
            // it is a duplicate, not a step that does not apply.
            Err(ReceiveError::NotApplicable(reason)) => {
                return match node
                    .store
                    .inbox_get(&inbox.sender, &inbox.message_id)
                    .map_err(TraceError::from)?
                {
                    Some(_) => Ok(TraceCommitted::DuplicateMessage),
                    None => Err(ReceiveError::NotApplicable(reason)),
                }
            }
            other => return other,
        }
    }
}

fn apply_received_once(
    node: &mut Node,
    header: &Header,
    payload: &[u8],
    inbox: InboxRow,
    now: OffsetDateTime,
) -> Result<TraceCommitted, ReceiveError> {
    let na = |m: String| ReceiveError::NotApplicable(m);
    let me = own_state(node)?;
    let sender = header.from();
    let p: Payload = serde_json::from_slice(payload)
        .map_err(|e| na(format!("the payload is not a trace message: {e}")))?;
    if p.v != PAYLOAD_VERSION {
        return Err(na(format!(
            "payload version {} (this node reads {PAYLOAD_VERSION})",
            p.v
        )));
    }
    if kind_of(&p.event) != Some(header.kind()) {
        return Err(na(format!(
            "a {} message carries a '{}' step",
            header.kind(),
            p.event.step()
        )));
    }
    let key = key_of(p.requesting_state, &p.trace);
    // Who may send which step: the requesting state sends the request, follow-ups and the
    // closing; a requested state acknowledges and answers for itself only.
    let allowed = match &p.event {
        TraceEvent::Sent { dispatch, .. } => {
            dispatch.request().requesting_state == sender
                && p.requesting_state == sender
                && dispatch.id() == &p.trace
                && dispatch.recipients().states().contains(&me)
        }
        TraceEvent::FollowUp { to, .. } => p.requesting_state == sender && *to == me,
        TraceEvent::Closed { .. } => p.requesting_state == sender,
        TraceEvent::Acknowledged { by, .. } | TraceEvent::Answered { by, .. } => {
            *by == sender && p.requesting_state == me
        }
        _ => false,
    };
    if !allowed {
        return Err(na(format!(
            "{sender} may not send this node the step '{}' of trace {key}",
            p.event.step()
        )));
    }
    let existing = load(node, &key)?;
    let sent_at = rfc3339(p.event.at());
    // Dated by this node's clock on arrival, never before the trace's last step.
    let at = match &existing {
        Some(t) => now.max(t.state.last_at()),
        None => now,
    };
    let event = redate(p.event, at);
    let (mut state, count) = match &existing {
        Some(t) => (t.state.clone(), t.records.len() as u64),
        None => match &event {
            TraceEvent::Sent { .. } => {
                (TraceState::begin(&event).map_err(|e| na(e.to_string()))?, 0)
            }
            _ => return Err(na(format!("no trace {key} on this node"))),
        },
    };
    if existing.is_some() {
        state.apply(&event).map_err(|e| na(e.to_string()))?;
    }
    let role = if p.requesting_state == me {
        Role::Requesting
    } else {
        Role::Requested
    };
    let record = TraceRecord {
        record: "trace".into(),
        trace: key.clone(),
        event,
        received: Some(ReceivedVia {
            from: sender.as_str().to_owned(),
            message: header.id().to_string(),
            sent_at,
        }),
        sent: Vec::new(),
        receipt: None,
        channel: None,
        note: None,
    };
    let data = leaf(&record, &rfc3339(now), &format!("federation:{sender}"))?;
    let commit = TraceCommit {
        records: vec![(key.clone(), data)],
        projections: vec![projection(&key, role, me, &state, count + 1)],
        outbox: Vec::new(),
        inbox: Some(inbox),
        delivered: None,
        expect: vec![(key.clone(), count)],
    };
    Ok(self::commit(node, &commit).map_err(TraceError::from)?)
}

fn redate(event: TraceEvent, at: OffsetDateTime) -> TraceEvent {
    match event {
        TraceEvent::Drafted { request, .. } => TraceEvent::Drafted { at, request },
        TraceEvent::Amended { request, .. } => TraceEvent::Amended { at, request },
        TraceEvent::Sent { dispatch, .. } => TraceEvent::Sent { at, dispatch },
        TraceEvent::Delivered { to, .. } => TraceEvent::Delivered { at, to },
        TraceEvent::Acknowledged { by, .. } => TraceEvent::Acknowledged { at, by },
        TraceEvent::Answered { by, answer, .. } => TraceEvent::Answered { at, by, answer },
        TraceEvent::FollowUp { to, question, .. } => TraceEvent::FollowUp { at, to, question },
        TraceEvent::Closed { feedback, .. } => TraceEvent::Closed { at, feedback },
    }
}

/// A message due for delivery, with where it goes.
#[derive(Clone, Debug)]
pub struct DueMessage {
    pub row: OutboxRow,
    /// The peer's inbox URL.
    pub inbox_url: String,
}

/// The messages to try now: per peer, its oldest undelivered message that was not refused —
/// later ones wait for it, so a peer receives one trace's steps in the order they were taken —
/// if its time has come.
pub fn due(node: &Node, now: OffsetDateTime) -> Result<Vec<DueMessage>, TraceError> {
    let directory = federation::directory(node)?;
    let mut seen: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for row in node.store.outbox()? {
        if row.delivered_at.is_some() || row.refused.is_some() || seen.contains(&row.peer) {
            continue;
        }
        seen.push(row.peer.clone());
        let next = OffsetDateTime::parse(&row.next_attempt_at, &Rfc3339)
            .map_err(|e| TraceError::Damaged(format!("outbox next attempt time: {e}")))?;
        if next > now {
            continue;
        }
        let Some(peer) = CountryCode::parse(&row.peer)
            .ok()
            .and_then(|c| directory.get(c))
        else {
            continue;
        };
        let base = peer.url.as_str().trim_end_matches('/');
        out.push(DueMessage {
            inbox_url: format!("{base}/api/v1/federation/inbox"),
            row,
        });
    }
    Ok(out)
}

/// How a delivery attempt went, as the transport saw it.
#[derive(Clone, Debug)]
pub enum Attempt {
    /// The peer answered 200 with this body (its receipt).
    Answered(Vec<u8>),
    /// The peer refused with a 4xx and, when it said, the federation's rejection code.
    Refused {
        status: u16,
        rejection: Option<String>,
        message: String,
    },
    /// No answer, or a 5xx: try again later.
    Failed(String),
}

/// What became of a due message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Settled {
    Delivered,
    /// To be tried again at this time (RFC 3339).
    Retry(String),
    Refused(String),
}

/// Records the outcome of a delivery attempt: a verified receipt marks the message delivered
/// (and a request's exchange `delivered`, in the trace log, in the same transaction); a
/// refusal stops it for good except when it was only too old (sealed again and retried at
/// once); anything else backs off.
pub fn settle(
    node: &mut Node,
    due: &DueMessage,
    attempt: Attempt,
    now: OffsetDateTime,
    policy: &tracemark_federation::RetryPolicy,
) -> Result<Settled, TraceError> {
    let mut tries = 0;
    loop {
        match settle_once(node, due, attempt.clone(), now, policy) {
            Err(TraceError::Store(StoreError::TraceMoved { .. })) if tries < RETRIES => {
                tries += 1;
            }
            other => return other,
        }
    }
}

fn settle_once(
    node: &mut Node,
    due: &DueMessage,
    attempt: Attempt,
    now: OffsetDateTime,
    policy: &tracemark_federation::RetryPolicy,
) -> Result<Settled, TraceError> {
    let row = &due.row;
    let id = MessageId::parse(&row.message_id)
        .map_err(|e| TraceError::Damaged(format!("outbox message id: {e}")))?;
    let retry = |node: &mut Node, error: String, resealed: Option<Vec<u8>>| {
        let attempts = row.attempts.saturating_add(1);
        let next = if resealed.is_some() {
            now
        } else {
            policy.next_attempt(id, attempts, now)
        };
        let next = rfc3339(next);
        node.store.outbox_failed(
            &row.peer,
            &row.message_id,
            &OutboxFailure {
                attempts,
                next_attempt_at: next.clone(),
                error,
                refused: false,
                resealed,
            },
        )?;
        Ok::<_, TraceError>(Settled::Retry(next))
    };
    let sent = tracemark_federation::Envelope::from_json(&row.envelope)
        .map_err(|e| TraceError::Damaged(format!("outbox envelope: {e}")))?;
    match attempt {
        Attempt::Failed(e) => retry(node, e, None),
        Attempt::Refused {
            rejection: Some(code),
            ..
        } if code == "too_old" => {
            let me = federation::identity(node)?;
            let directory = federation::directory(node)?;
            let again = tracemark_federation::envelope::reseal(&me, &sent, &directory, now)
                .map_err(|e| TraceError::Seal(e.to_string()))?;
            retry(
                node,
                "the peer found the message too old; sealed again".into(),
                Some(again.to_json().into_bytes()),
            )
        }
        Attempt::Refused {
            status,
            rejection,
            message,
        } if status != 429 && status != 408 => {
            let what = format!(
                "{} ({status}): {message}",
                rejection.as_deref().unwrap_or("refused")
            );
            node.store.outbox_failed(
                &row.peer,
                &row.message_id,
                &OutboxFailure {
                    attempts: row.attempts.saturating_add(1),
                    next_attempt_at: rfc3339(now),
                    error: what.clone(),
                    refused: true,
                    resealed: None,
                },
            )?;
            Ok(Settled::Refused(what))
        }
        Attempt::Refused {
            status, message, ..
        } => retry(node, format!("{status}: {message}"), None),
        Attempt::Answered(body) => {
            let directory = federation::directory(node)?;
            let receipt: tracemark_federation::Receipt = match serde_json::from_slice(&body) {
                Ok(r) => r,
                Err(e) => return retry(node, format!("the answer is not a receipt: {e}"), None),
            };
            if let Err(e) = receipt.verify(&sent, &directory) {
                return retry(node, format!("the receipt does not verify: {e}"), None);
            }
            let receipt_json = String::from_utf8_lossy(&body).into_owned();
            let delivered = OutboxDelivery {
                peer: row.peer.clone(),
                message_id: row.message_id.clone(),
                delivered_at: rfc3339(now),
                receipt: receipt_json.clone(),
            };
            let mut commit = TraceCommit {
                delivered: Some(delivered),
                ..TraceCommit::default()
            };
            // A request's delivery is a step of the exchange (unless the peer's officer was
            // quicker and its acknowledgement is already here).
            let peer = CountryCode::parse(&row.peer)
                .map_err(|e| TraceError::Damaged(format!("outbox peer: {e}")))?;
            if row.kind == MessageKind::TraceRequest.as_str() {
                if let Some(t) = load(node, &row.trace)? {
                    let in_sent = t
                        .state
                        .sent()
                        .and_then(|s| s.exchange(peer))
                        .map(|e| e.phase() == tracemark_trace::lifecycle::Phase::Sent)
                        .unwrap_or(false);
                    if in_sent && t.state.closed().is_none() {
                        let at = now.max(t.state.last_at());
                        let event = TraceEvent::Delivered { at, to: peer };
                        let mut state = t.state.clone();
                        state.apply(&event)?;
                        let me = own_state(node)?;
                        let r = TraceRecord {
                            record: "trace".into(),
                            trace: row.trace.clone(),
                            event,
                            received: None,
                            sent: Vec::new(),
                            receipt: Some(receipt_json),
                            channel: None,
                            note: None,
                        };
                        commit.records.push((
                            row.trace.clone(),
                            leaf(&r, &rfc3339(now), &format!("federation:{peer}"))?,
                        ));
                        commit.projections.push(projection(
                            &row.trace,
                            t.role,
                            me,
                            &state,
                            t.records.len() as u64 + 1,
                        ));
                        commit
                            .expect
                            .push((row.trace.clone(), t.records.len() as u64));
                    }
                }
            }
            self::commit(node, &commit)?;
            Ok(Settled::Delivered)
        }
    }
}

/// Every trace this node holds, replayed (for the overdue list and the figures).
pub fn all(node: &Node) -> Result<Vec<StoredTrace>, TraceError> {
    let mut out = Vec::new();
    for row in node.store.traces()? {
        if let Some(t) = load(node, &row.key)? {
            out.push(t);
        }
    }
    Ok(out)
}

/// The node's deadline policy: `deadlines.json` in the data folder (a
/// `tracemark_trace::deadlines::DeadlinePolicy`: any of `urgent`, `routine` — each
/// `{"acknowledge_within_hours": H, "answer_within_hours": H}` — and `reminders_at_percent`), or
/// the defaults (urgent: acknowledge within 24 h, answer within 72 h; routine: 7 and 30 days;
/// reminders at 50 % and 90 % of each window).
pub fn deadline_policy(
    node: &Node,
) -> Result<tracemark_trace::deadlines::DeadlinePolicy, TraceError> {
    let path = node.dir().join("deadlines.json");
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| TraceError::Damaged(format!("{}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Default::default()),
        Err(e) => Err(TraceError::Damaged(format!("{}: {e}", path.display()))),
    }
}

/// The overdue list and the reminders due at `now` over this node's traces. On the requested
/// side only this node's own obligations count.
pub fn review(
    node: &Node,
    now: OffsetDateTime,
) -> Result<tracemark_trace::deadlines::Review, TraceError> {
    let policy = deadline_policy(node)?;
    let me = own_state(node)?;
    let traces = all(node)?;
    let states: Vec<&TraceState> = traces.iter().map(|t| &t.state).collect();
    let mut review = tracemark_trace::deadlines::review(&policy, states, now);
    let requested: Vec<&str> = traces
        .iter()
        .filter(|t| t.role == Role::Requested)
        .map(|t| t.state.request().id.as_str())
        .collect();
    review
        .overdue
        .retain(|o| !requested.contains(&o.trace.as_str()) || o.counterpart == me);
    review
        .reminders
        .retain(|r| !requested.contains(&r.trace.as_str()) || r.counterpart == me);
    Ok(review)
}

/// The figures this node keeps (requests sent and received, time to acknowledge and answer
/// per state, outcomes, the SDG 16.4.2 share).
pub fn figures(node: &Node) -> Result<tracemark_trace::figures::Figures, TraceError> {
    let me = own_state(node)?;
    let traces = all(node)?;
    Ok(tracemark_trace::figures::figures(
        me,
        traces.iter().map(|t| &t.state),
    ))
}

/// The figures as the JSON document both `trace figures --json` and
/// `GET /api/v1/traces/figures` give, so the two never drift apart. Medians are whole
/// seconds (`null` where nothing was acknowledged or answered yet).
pub fn figures_json(f: &tracemark_trace::figures::Figures) -> Value {
    use tracemark_trace::figures::{OutcomeCounts, Responsiveness};
    use tracemark_trace::lifecycle::OutcomeKind;
    fn outcomes(c: &OutcomeCounts) -> Value {
        let mut m = serde_json::Map::new();
        for k in OutcomeKind::ALL {
            m.insert(k.as_str().into(), c.get(k).into());
        }
        Value::Object(m)
    }
    fn per_state(by: &std::collections::BTreeMap<CountryCode, Responsiveness>) -> Value {
        let mut m = serde_json::Map::new();
        for (state, r) in by {
            m.insert(
                state.as_str().into(),
                serde_json::json!({
                    "requests": r.requests,
                    "acknowledged": r.acknowledged,
                    "answered": r.answered,
                    "median_to_acknowledge_seconds":
                        r.median_to_acknowledge.map(|d| d.whole_seconds()),
                    "median_to_answer_seconds": r.median_to_answer.map(|d| d.whole_seconds()),
                    "outcomes": outcomes(&r.outcomes),
                    "ratings": r.ratings,
                }),
            );
        }
        Value::Object(m)
    }
    serde_json::json!({
        "sent": f.sent,
        "received": f.received,
        "drafts": f.drafts,
        "by_requested_state": per_state(&f.by_requested_state),
        "by_requesting_state": per_state(&f.by_requesting_state),
        "outcomes_received": outcomes(&f.outcomes_received),
        "outcomes_given": outcomes(&f.outcomes_given),
        "sdg_16_4_2": {
            "items": f.sdg_16_4_2.items,
            "established": f.sdg_16_4_2.established,
            "share": f.sdg_16_4_2.share(),
        },
    })
}
