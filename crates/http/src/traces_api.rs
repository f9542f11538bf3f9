//! Traces on record over the API: the life cycle of a trace request (issue #5), on the
//! engine of `tracemark_registry::traces`, which keeps every step as a record in the node's
//! trace log and queues the messages a step sends to peers in the same transaction.
//!
//! | route | step |
//! | --- | --- |
//! | `GET /traces?status=&role=&case=&limit=&offset=` | the projection rows, newest first |
//! | `POST /traces` | a draft from a trace request (the body) → 201 |
//! | `GET /traces/{key}?purpose=` | the trace: its state, exchanges and every step |
//! | `PUT /traces/{key}` | amend the draft (the body is the whole new request) |
//! | `POST /traces/{key}/send` | `{"to":["UG"],"waivers":[…]}` |
//! | `POST /traces/{key}/chain` | `{"to":["CD"],"id"?,"waivers"?}` → 201, the new trace |
//! | `POST /traces/{key}/acknowledge` | `{"for"?,"channel"?,"note"?}` |
//! | `POST /traces/{key}/answer` | `{"answer":{…},"for"?,"channel"?,"note"?}` |
//! | `POST /traces/{key}/follow-up` | `{"to":"UG","question":"…"}` |
//! | `POST /traces/{key}/close` | `{"feedback":[…]}` |
//! | `GET /traces/overdue` | the overdue list and the reminders due at the server's clock |
//! | `GET /traces/figures` | the node's trace figures (no case data) |
//! | `GET /federation/outbox?status=&peer=&limit=&offset=` | where each queued message stands |
//!
//! `for` and `channel` go together: on the requesting side they record a requested state's
//! step that came another way (paper, e-mail, …); without them the step is this node's own,
//! on the requested side, and goes to the requesting state as a message.
//!
//! **Access** (policy set, "Tracing"): `read_trace` and `trace` are the tracing officer's (the
//! national point of contact), `read_trace_figures` also the analyst's, `read_outbox` also the
//! administrator's. Every read and every write is authorized and audited before the answer,
//! the resource being `trace:<key>` (`traces` for the list and the overdue list); a read of one
//! trace needs a `purpose` (its answers name holders), and a write's purpose in the audit
//! log is the step it takes.
//!
//! **Answers**: a refusal by the life-cycle rules (a step the trace's state does not allow, a
//! request with unexplained gaps, a step for the other side) is 409 with the engine's
//! message; a body that is not JSON is 400; a field that is missing, unknown or malformed is
//! 422 and the message names it; an unknown key is 404. Keys hold a colon (`KE:TR-1`); send it
//! as it is or percent-encoded (`KE%3ATR-1`).

use crate::auth::{check_purpose, Caller};
use crate::error::ApiError;
use crate::schema::{self, ErrorCode};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tracemark_access::policy::{Action, Resource};
use tracemark_domain::ids::CountryCode;
use tracemark_registry::traces::{self, Actor, Channel, Recorded, StoredTrace, TraceError};
use tracemark_registry::Node;
use tracemark_store::{StoreError, TraceRow};
use tracemark_trace::completeness::Waiver;
use tracemark_trace::lifecycle::{Answer, Feedback};
use tracemark_trace::request::TraceRequest;
use tracemark_trace::text::{Text, TraceId};
use utoipa::IntoParams;

/// Largest `limit` of a page of traces or outbox messages.
pub const MAX_TRACE_LIMIT: usize = 1000;
/// The default `limit`.
pub const DEFAULT_TRACE_LIMIT: usize = 100;

// --- Errors ------------------------------------------------------------------------------

fn conflict(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, ErrorCode::Conflict, message)
}

fn unprocessable(message: impl Into<String>) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::Unprocessable,
        message,
    )
}

fn store_failure(e: StoreError) -> ApiError {
    match e {
        StoreError::Postgres(_) => ApiError::unavailable(e.to_string()),
        other => ApiError::internal(other.to_string()),
    }
}

/// The answer for an engine error (see the module documentation).
fn trace_failure(e: TraceError) -> ApiError {
    match e {
        TraceError::NotFound(key) => ApiError::not_found(format!("no trace '{key}'")),
        TraceError::Exists(_)
        | TraceError::Rules(_)
        | TraceError::NotSendable(_)
        | TraceError::WrongSide(_) => conflict(e.to_string()),
        TraceError::Store(s) => store_failure(s),
        other => ApiError::internal(other.to_string()),
    }
}

// --- Bodies ------------------------------------------------------------------------------

/// A JSON object body whose fields are taken one by one, so that every error names its field.
struct Fields(Map<String, Value>);

impl Fields {
    /// 400 when the body is not JSON or not an object; 422 naming a field not in `known`.
    fn parse(body: &Bytes, known: &[&str]) -> Result<Fields, ApiError> {
        let value: Value = serde_json::from_slice(body).map_err(|e| {
            ApiError::bad_request(format!(
                "the body is not JSON (line {}, column {}): {e}",
                e.line(),
                e.column()
            ))
        })?;
        let Value::Object(map) = value else {
            return Err(ApiError::bad_request("the body must be a JSON object"));
        };
        if let Some(unknown) = map.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(unprocessable(format!(
                "unknown field `{}`; expected one of {}",
                unknown.chars().take(60).collect::<String>(),
                known
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        Ok(Fields(map))
    }

    /// The field `name`, `None` when absent or null; 422 naming it when malformed.
    fn optional<T: DeserializeOwned>(&mut self, name: &str) -> Result<Option<T>, ApiError> {
        match self.0.remove(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => from_value_at(name, v).map(Some),
        }
    }

    /// The field `name`; 422 naming it when absent or malformed.
    fn required<T: DeserializeOwned>(&mut self, name: &str) -> Result<T, ApiError> {
        self.optional(name)?
            .ok_or_else(|| unprocessable(format!("`{name}` is required")))
    }
}

fn country(field: &str, code: &str) -> Result<CountryCode, ApiError> {
    CountryCode::parse(code).map_err(|e| unprocessable(format!("`{field}`: {e}")))
}

fn countries(field: &str, codes: &[String]) -> Result<Vec<CountryCode>, ApiError> {
    codes
        .iter()
        .enumerate()
        .map(|(i, c)| country(&format!("{field}[{i}]"), c))
        .collect()
}

/// A trace request body: 400 when it is not JSON, 422 naming the field when a field is
/// missing, unknown or malformed.
fn parse_request(body: &Bytes) -> Result<TraceRequest, ApiError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!(
            "the trace request is not JSON (line {}, column {}): {e}",
            e.line(),
            e.column()
        ))
    })?;
    if !value.is_object() {
        return Err(ApiError::bad_request(
            "the trace request must be a JSON object",
        ));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            unprocessable(format!("the trace request: {inner}"))
        } else {
            unprocessable(format!("the trace request: `{path}`: {inner}"))
        }
    })
}

/// Deserializes the field `name`; a 422 names the path to what is wrong inside it
/// (`answer.outcome.findings.summary`).
fn from_value_at<T: DeserializeOwned>(name: &str, v: Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            unprocessable(format!("`{name}`: {inner}"))
        } else if path.starts_with('[') {
            unprocessable(format!("`{name}{path}`: {inner}"))
        } else {
            unprocessable(format!("`{name}.{path}`: {inner}"))
        }
    })
}

/// `for` and `channel`: both (a requested state's step recorded by hand) or neither (this
/// node's own step).
fn actor(f: &mut Fields) -> Result<Actor, ApiError> {
    let state: Option<String> = f.optional("for")?;
    let channel: Option<Channel> = f.optional("channel")?;
    match (state, channel) {
        (None, None) => Ok(Actor::ThisNode),
        (Some(s), Some(channel)) => Ok(Actor::Recorded {
            state: country("for", &s)?,
            channel,
        }),
        (Some(_), None) => Err(unprocessable(
            "`channel` is required with `for`: how the requested state's step came \
             (paper, email, fax, phone, interpol)",
        )),
        (None, Some(_)) => Err(unprocessable(
            "`for` is required with `channel`: the requested state whose step is recorded",
        )),
    }
}

// --- Shared steps ------------------------------------------------------------------------

fn now(state: &AppState) -> Result<OffsetDateTime, ApiError> {
    traces::now_of(state.clock().as_ref()).map_err(trace_failure)
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

fn trace_resource(key: &str) -> String {
    format!("trace:{key}")
}

/// Authorizes (and audits) a step of the trace `key`; the step is the purpose on record.
async fn authorize_step(
    state: &AppState,
    caller: &Caller,
    key: &str,
    step: &str,
) -> Result<(), ApiError> {
    state
        .authorize(
            caller,
            Action::Trace,
            &Resource::Registry,
            &trace_resource(key),
            step,
        )
        .await
}

/// Runs a step on the node (small writes share the auditor's connection with sign-ins).
/// Every step but the draft ends here, so this is where a step that queued messages
/// (`queued_for` not empty) tells the server's delivery task to look at the outbox.
async fn run_step(
    state: &AppState,
    step: impl FnOnce(&mut Node) -> Result<Recorded, TraceError> + Send + 'static,
) -> Result<Recorded, ApiError> {
    let recorded = state.auditor().run(step).await?.map_err(trace_failure)?;
    if !recorded.queued_for.is_empty() {
        state.nudge_delivery();
    }
    Ok(recorded)
}

fn recorded_json(r: Recorded) -> schema::TraceRecorded {
    schema::TraceRecorded {
        key: r.key,
        index: r.index,
        status: r.status,
        queued_for: r.queued_for,
        not_federated: r.not_federated,
    }
}

fn created(r: Recorded) -> Response {
    let location = format!("/api/v1/traces/{}", r.key);
    let mut res = (StatusCode::CREATED, Json(recorded_json(r))).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

fn summary(row: TraceRow) -> schema::TraceSummary {
    schema::TraceSummary {
        key: row.key,
        role: row.role,
        requesting_state: row.requesting_state,
        case_reference: row.case_reference,
        parent: row.parent,
        status: row.status,
        priority: row.priority,
        requested_states: row
            .requested_states
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        opened_at: row.opened_at,
        updated_at: row.updated_at,
        records: row.records,
    }
}

fn to_value(v: &impl serde::Serialize) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// The whole trace: its summary, the request, each exchange with a requested state, the
/// closing, and every step on record.
fn trace_view(node: &Node, t: &StoredTrace) -> Result<Value, ApiError> {
    let me = CountryCode::parse(&node.info.state)
        .map_err(|e| ApiError::internal(format!("node state: {e}")))?;
    let row = traces::projection(&t.key, t.role, me, &t.state, t.records.len() as u64);
    let mut doc = to_value(&summary(row));
    let sent = t.state.sent();
    let exchanges: Vec<Value> = sent
        .map(|s| s.exchanges())
        .unwrap_or_default()
        .iter()
        .map(|e| {
            json!({
                "state": e.state().as_str(),
                "status": traces::status_name(e.phase().name()),
                "delivered_at": e.delivered_at().map(rfc3339),
                "acknowledged_at": e.acknowledged_at().map(rfc3339),
                "answers": e.answers().iter().map(|a| json!({
                    "at": rfc3339(a.at),
                    "answer": to_value(&a.answer),
                })).collect::<Vec<_>>(),
                "follow_ups": e.follow_ups().iter().map(|q| json!({
                    "at": rfc3339(q.at),
                    "question": q.question.as_str(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let steps: Vec<Value> = t
        .steps()
        .map(|(index, at, by, record)| {
            json!({
                "index": index,
                "recorded_at": at,
                "recorded_by": by,
                "record": to_value(record),
            })
        })
        .collect();
    if let Value::Object(m) = &mut doc {
        m.insert("request".into(), to_value(t.state.request()));
        m.insert(
            "waivers".into(),
            sent.map(|s| to_value(&s.dispatch().waivers()))
                .unwrap_or_else(|| json!([])),
        );
        m.insert(
            "sent_at".into(),
            sent.map(|s| Value::String(rfc3339(s.sent_at())))
                .unwrap_or(Value::Null),
        );
        m.insert("exchanges".into(), Value::Array(exchanges));
        let closed = t.state.closed();
        m.insert(
            "closed_at".into(),
            closed
                .map(|c| Value::String(rfc3339(c.closed_at())))
                .unwrap_or(Value::Null),
        );
        m.insert(
            "feedback".into(),
            closed
                .map(|c| to_value(&c.feedback()))
                .unwrap_or_else(|| json!([])),
        );
        m.insert("steps".into(), Value::Array(steps));
    }
    Ok(doc)
}

// --- Reads -------------------------------------------------------------------------------

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TraceListParams {
    /// Only traces in this state: `draft`, `sent`, `delivered`, `acknowledged`, `follow_up`,
    /// `answered`, `closed`.
    pub status: Option<String>,
    /// Only `requesting` (this state asked) or `requested` (this state was asked) traces.
    pub role: Option<String>,
    /// Only traces of this case reference (exact).
    pub case: Option<String>,
    /// Traces per page (default 100, at most 1000).
    pub limit: Option<usize>,
    /// Traces to skip (default 0).
    pub offset: Option<usize>,
    /// Why the list is read (recorded in the audit log); optional.
    pub purpose: Option<String>,
}

const STATUSES: [&str; 7] = [
    "draft",
    "sent",
    "delivered",
    "acknowledged",
    "follow_up",
    "answered",
    "closed",
];

fn page_bounds(limit: Option<usize>, offset: Option<usize>) -> Result<(usize, usize), ApiError> {
    let limit = limit.unwrap_or(DEFAULT_TRACE_LIMIT);
    if limit == 0 || limit > MAX_TRACE_LIMIT {
        return Err(ApiError::bad_request(format!(
            "limit must be 1 to {MAX_TRACE_LIMIT}"
        )));
    }
    Ok((limit, offset.unwrap_or(0)))
}

/// The traces of this node (the projection: status, priority, requested states, times),
/// most recently changed first, filtered and paged.
#[utoipa::path(
    get,
    path = "/api/v1/traces",
    tag = "tracing",
    params(TraceListParams),
    responses(
        (status = 200, description = "A page of traces", body = schema::TracePage),
        (status = 400, description = "An unknown status or role, or a limit out of range", body = schema::ErrorBody),
        (status = 401, description = "No valid credential", body = schema::ErrorBody),
        (status = 403, description = "Only tracing officers read traces", body = schema::ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<TraceListParams>,
) -> Result<Json<schema::TracePage>, ApiError> {
    let purpose = check_purpose(p.purpose.as_deref(), false)?;
    let (limit, offset) = page_bounds(p.limit, p.offset)?;
    let status = p.status.filter(|s| !s.is_empty());
    if let Some(s) = &status {
        if !STATUSES.contains(&s.as_str()) {
            return Err(ApiError::bad_request(format!(
                "status must be one of {}",
                STATUSES.join(", ")
            )));
        }
    }
    let role = p.role.filter(|s| !s.is_empty());
    if let Some(r) = &role {
        if r != "requesting" && r != "requested" {
            return Err(ApiError::bad_request(
                "role must be `requesting` or `requested`",
            ));
        }
    }
    let case = p.case.filter(|s| !s.is_empty());
    let rows = trace_rows(&state, &caller, &purpose).await?;
    let matching: Vec<TraceRow> = rows
        .into_iter()
        .filter(|r| status.as_ref().is_none_or(|s| &r.status == s))
        .filter(|r| role.as_ref().is_none_or(|x| &r.role == x))
        .filter(|r| case.as_ref().is_none_or(|c| &r.case_reference == c))
        .collect();
    let total = matching.len();
    let traces = matching
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(summary)
        .collect();
    Ok(Json(schema::TracePage {
        total,
        offset,
        limit,
        traces,
    }))
}

/// Every trace row of this node, most recently changed first, for `caller` (authorized and
/// audited as `GET /api/v1/traces` is): the list's read, shared with the web pages.
pub(crate) async fn trace_rows(
    state: &AppState,
    caller: &Caller,
    purpose: &str,
) -> Result<Vec<TraceRow>, ApiError> {
    state
        .authorize(
            caller,
            Action::ReadTrace,
            &Resource::Registry,
            "traces",
            purpose,
        )
        .await?;
    state
        .reader()
        .run(|node| node.store.traces())
        .await?
        .map_err(store_failure)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TracePurpose {
    /// Why the trace is read (recorded in the audit log): required, its answers name holders.
    pub purpose: Option<String>,
}

/// One trace: its summary, the request (as drafted or as sent, with the recipients and the
/// waivers), each exchange with a requested state (delivery, acknowledgement, answers,
/// follow-up questions), the closing and its feedback, and every step on record (index in
/// the trace log, time, who recorded it, and the record).
#[utoipa::path(
    get,
    path = "/api/v1/traces/{key}",
    tag = "tracing",
    params(("key" = String, Path, description = "The trace key, `<requesting state>:<trace id>` (e.g. `KE:TR-1`, or percent-encoded `KE%3ATR-1`)"), TracePurpose),
    responses(
        (status = 200, description = "The trace", body = Object),
        (status = 400, description = "No purpose", body = schema::ErrorBody),
        (status = 403, description = "Only tracing officers read traces", body = schema::ErrorBody),
        (status = 404, description = "No such trace", body = schema::ErrorBody),
    )
)]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Query(p): Query<TracePurpose>,
) -> Result<Json<Value>, ApiError> {
    let purpose = check_purpose(p.purpose.as_deref(), true)?;
    Ok(Json(trace_doc(&state, &caller, key, &purpose).await?))
}

/// One trace as `GET /api/v1/traces/{key}` shows it, for `caller` (authorized and audited
/// with `purpose`, which the caller must have checked): shared with the web pages.
pub(crate) async fn trace_doc(
    state: &AppState,
    caller: &Caller,
    key: String,
    purpose: &str,
) -> Result<Value, ApiError> {
    state
        .authorize(
            caller,
            Action::ReadTrace,
            &Resource::Registry,
            &trace_resource(&key),
            purpose,
        )
        .await?;
    state
        .reader()
        .run(move |node| -> Result<Value, ApiError> {
            let t = traces::load(node, &key)
                .map_err(trace_failure)?
                .ok_or_else(|| ApiError::not_found(format!("no trace '{key}'")))?;
            trace_view(node, &t)
        })
        .await?
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OptionalPurpose {
    /// Why it is read (recorded in the audit log); optional.
    pub purpose: Option<String>,
}

fn seconds(d: time::Duration) -> i64 {
    d.whole_seconds()
}

/// What is overdue and the reminders due now, by the server's clock, under the node's
/// deadline policy: on the requesting side what each requested state owes (acknowledgement,
/// answer), on the requested side what this state owes.
#[utoipa::path(
    get,
    path = "/api/v1/traces/overdue",
    tag = "tracing",
    params(OptionalPurpose),
    responses(
        (status = 200, description = "`{at, overdue:[{trace, key, owed_by, obligation, due_at, overdue_seconds}], reminders:[{trace, key, owed_by, obligation, level, at}]}`", body = Object),
        (status = 403, description = "Only tracing officers read traces", body = schema::ErrorBody),
    )
)]
pub async fn overdue(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<OptionalPurpose>,
) -> Result<Json<Value>, ApiError> {
    let purpose = check_purpose(p.purpose.as_deref(), false)?;
    Ok(Json(overdue_doc(&state, &caller, &purpose).await?))
}

/// The overdue list and the reminders due now, as `GET /api/v1/traces/overdue` answers them,
/// for `caller` (authorized and audited): shared with the web pages.
pub(crate) async fn overdue_doc(
    state: &AppState,
    caller: &Caller,
    purpose: &str,
) -> Result<Value, ApiError> {
    state
        .authorize(
            caller,
            Action::ReadTrace,
            &Resource::Registry,
            "traces:overdue",
            purpose,
        )
        .await?;
    let at = now(state)?;
    let (review, rows) = state
        .reader()
        .run(move |node| {
            let review = traces::review(node, at)?;
            let rows = node.store.traces()?;
            Ok::<_, TraceError>((review, rows))
        })
        .await?
        .map_err(trace_failure)?;
    // The review names traces by id; the key adds the requesting state (when only one
    // trace has the id, which is the rule: ids are each state's own numbering).
    let key_of = |id: &TraceId| -> Value {
        let suffix = format!(":{}", id.as_str());
        let mut keys = rows.iter().filter(|r| r.key.ends_with(&suffix));
        match (keys.next(), keys.next()) {
            (Some(r), None) => Value::String(r.key.clone()),
            _ => Value::Null,
        }
    };
    let overdue: Vec<Value> = review
        .overdue
        .iter()
        .map(|o| {
            json!({
                "trace": o.trace.as_str(),
                "key": key_of(&o.trace),
                "owed_by": o.counterpart.as_str(),
                "obligation": o.obligation.to_string(),
                "due_at": rfc3339(o.due_at),
                "overdue_seconds": seconds(o.by),
            })
        })
        .collect();
    let reminders: Vec<Value> = review
        .reminders
        .iter()
        .map(|r| {
            let level = match r.level {
                tracemark_trace::deadlines::ReminderLevel::Percent(p) => format!("{p}%"),
                tracemark_trace::deadlines::ReminderLevel::Overdue => "overdue".to_owned(),
            };
            json!({
                "trace": r.trace.as_str(),
                "key": key_of(&r.trace),
                "owed_by": r.counterpart.as_str(),
                "obligation": r.obligation.to_string(),
                "level": level,
                "at": rfc3339(r.at),
            })
        })
        .collect();
    Ok(json!({
        "at": rfc3339(at),
        "overdue": overdue,
        "reminders": reminders,
    }))
}

/// The figures this node keeps over its traces: requests sent, received and in draft; per
/// requested state (and per requesting state) how many were acknowledged and answered and
/// the median times; the outcomes; the usefulness ratings; the SDG 16.4.2 share (items whose
/// origin an answer established). No case data and no holder: analysts read it too.
#[utoipa::path(
    get,
    path = "/api/v1/traces/figures",
    tag = "tracing",
    params(OptionalPurpose),
    responses(
        (status = 200, description = "`{sent, received, drafts, by_requested_state, by_requesting_state, outcomes_received, outcomes_given, sdg_16_4_2:{items, established, share}}`", body = Object),
        (status = 403, description = "Tracing officers and analysts only", body = schema::ErrorBody),
    )
)]
pub async fn figures(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<OptionalPurpose>,
) -> Result<Json<Value>, ApiError> {
    let purpose = check_purpose(p.purpose.as_deref(), false)?;
    state
        .authorize(
            &caller,
            Action::ReadTraceFigures,
            &Resource::Registry,
            "traces:figures",
            &purpose,
        )
        .await?;
    let f = state
        .reader()
        .run(|node| traces::figures(node))
        .await?
        .map_err(trace_failure)?;
    Ok(Json(traces::figures_json(&f)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutboxParams {
    /// Only `pending`, `delivered` or `refused` messages.
    pub status: Option<String>,
    /// Only messages to this peer state.
    pub peer: Option<String>,
    /// Messages per page (default 100, at most 1000).
    pub limit: Option<usize>,
    /// Messages to skip (default 0).
    pub offset: Option<usize>,
}

/// The federation outbox, oldest first: each message a trace step queued for a peer, with
/// its delivery attempts, the last error, and when the peer's signed receipt came (or why
/// the peer refused it for good). Never the message's content.
#[utoipa::path(
    get,
    path = "/api/v1/federation/outbox",
    tag = "federation",
    params(OutboxParams),
    responses(
        (status = 200, description = "A page of outbox messages", body = schema::OutboxPage),
        (status = 400, description = "An unknown status, or a limit out of range", body = schema::ErrorBody),
        (status = 403, description = "Tracing officers and administrators only", body = schema::ErrorBody),
    )
)]
pub async fn outbox(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<OutboxParams>,
) -> Result<Json<schema::OutboxPage>, ApiError> {
    let (limit, offset) = page_bounds(p.limit, p.offset)?;
    let status = p.status.filter(|s| !s.is_empty());
    if let Some(s) = &status {
        if !["pending", "delivered", "refused"].contains(&s.as_str()) {
            return Err(ApiError::bad_request(
                "status must be `pending`, `delivered` or `refused`",
            ));
        }
    }
    let peer = p.peer.filter(|s| !s.is_empty());
    state
        .authorize(
            &caller,
            Action::ReadOutbox,
            &Resource::Registry,
            "federation:outbox",
            "",
        )
        .await?;
    let rows = state
        .reader()
        .run(|node| node.store.outbox())
        .await?
        .map_err(store_failure)?;
    let messages: Vec<schema::OutboxMessage> = rows
        .into_iter()
        .map(|r| schema::OutboxMessage {
            status: if r.delivered_at.is_some() {
                "delivered"
            } else if r.refused.is_some() {
                "refused"
            } else {
                "pending"
            }
            .to_owned(),
            peer: r.peer,
            message_id: r.message_id,
            trace: r.trace,
            kind: r.kind,
            created_at: r.created_at,
            attempts: r.attempts,
            next_attempt_at: r.next_attempt_at,
            last_error: r.last_error,
            delivered_at: r.delivered_at,
            refused: r.refused,
        })
        .filter(|m| status.as_ref().is_none_or(|s| &m.status == s))
        .filter(|m| peer.as_ref().is_none_or(|x| &m.peer == x))
        .collect();
    let total = messages.len();
    Ok(Json(schema::OutboxPage {
        total,
        offset,
        limit,
        messages: messages.into_iter().skip(offset).take(limit).collect(),
    }))
}

// --- Writes ------------------------------------------------------------------------------

/// Starts a trace request as a draft. The body is the request (the interchange form
/// `tracemark trace draft` writes); its requesting state must be this node's.
#[utoipa::path(
    post,
    path = "/api/v1/traces",
    tag = "tracing",
    request_body(description = "A trace request", content_type = "application/json", content = Object),
    responses(
        (status = 201, description = "The draft is on record; `Location` is the trace", body = schema::TraceRecorded),
        (status = 400, description = "Not JSON", body = schema::ErrorBody),
        (status = 403, description = "Only tracing officers take trace steps", body = schema::ErrorBody),
        (status = 409, description = "A trace with this id is on record already", body = schema::ErrorBody),
        (status = 422, description = "A field of the request is missing, unknown or malformed, or the requesting state is not this node's (named in the message)", body = schema::ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request = parse_request(&body)?;
    Ok(created(create_request(&state, &caller, request).await?))
}

/// Puts `request` on record as a draft for `caller`, as `POST /api/v1/traces` does (same
/// authorization, audit entry and refusals): shared with the web pages.
pub(crate) async fn create_request(
    state: &AppState,
    caller: &Caller,
    request: TraceRequest,
) -> Result<Recorded, ApiError> {
    let key = traces::key_of(request.requesting_state, &request.id);
    authorize_step(state, caller, &key, "draft").await?;
    let by = caller.principal.id();
    let at = now(state)?;
    state
        .auditor()
        .run(move |node| traces::draft(node, request, &by, at))
        .await?
        .map_err(|e| match e {
            // The request names another requesting state: the body is wrong, not the step.
            TraceError::WrongSide(m) => unprocessable(format!("`requesting_state`: {m}")),
            other => trace_failure(other),
        })
}

/// Replaces the draft with the body (the whole new request, same id and requesting state).
#[utoipa::path(
    put,
    path = "/api/v1/traces/{key}",
    tag = "tracing",
    params(("key" = String, Path, description = "The trace key")),
    request_body(description = "The amended trace request", content_type = "application/json", content = Object),
    responses(
        (status = 200, description = "The amendment is on record", body = schema::TraceRecorded),
        (status = 400, description = "Not JSON", body = schema::ErrorBody),
        (status = 403, description = "Only tracing officers take trace steps", body = schema::ErrorBody),
        (status = 404, description = "No such trace", body = schema::ErrorBody),
        (status = 409, description = "Not a draft any more", body = schema::ErrorBody),
        (status = 422, description = "A field of the request is malformed, or its id or requesting state is not the trace's (named in the message)", body = schema::ErrorBody),
    )
)]
pub async fn amend(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    body: Bytes,
) -> Result<Json<schema::TraceRecorded>, ApiError> {
    let r = amend_step(&state, &caller, key, body).await?;
    Ok(Json(recorded_json(r)))
}

/// The step of `PUT /api/v1/traces/{key}` for `caller`, from its JSON body (same
/// authorization, audit entry, validation and refusals): shared with the web pages.
pub(crate) async fn amend_step(
    state: &AppState,
    caller: &Caller,
    key: String,
    body: Bytes,
) -> Result<Recorded, ApiError> {
    authorize_step(state, caller, &key, "amend").await?;
    let request = parse_request(&body)?;
    let by = caller.principal.id();
    let at = now(state)?;
    if traces::key_of(request.requesting_state, &request.id) != key {
        return Err(unprocessable(format!(
            "`id`: the body is trace {}, not {key}; a draft keeps its id and requesting state",
            traces::key_of(request.requesting_state, &request.id)
        )));
    }
    run_step(state, move |node| {
        traces::amend(node, &key, request, &by, at)
    })
    .await
}

/// Sends the draft to the confirmed requested states, explaining the gaps that remain in
/// `waivers` (`[{"gap","explanation"}]`): a message to each peer among them, in the same
/// step; the others are listed in `not_federated` (print the request for them, and record
/// their steps by hand).
#[utoipa::path(
    post,
    path = "/api/v1/traces/{key}/send",
    tag = "tracing",
    params(("key" = String, Path, description = "The trace key")),
    request_body(description = "`{\"to\":[\"UG\"],\"waivers\":[{\"gap\",\"explanation\"}]}`", content_type = "application/json", content = Object),
    responses(
        (status = 200, description = "Sent: on record, messages queued", body = schema::TraceRecorded),
        (status = 400, description = "Not a JSON object", body = schema::ErrorBody),
        (status = 403, description = "Only tracing officers take trace steps", body = schema::ErrorBody),
        (status = 404, description = "No such trace", body = schema::ErrorBody),
        (status = 409, description = "Not a draft, unexplained or unwaivable gaps, or recipients the rules refuse", body = schema::ErrorBody),
        (status = 422, description = "A field is missing, unknown or malformed (named)", body = schema::ErrorBody),
    )
)]
pub async fn send(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    body: Bytes,
) -> Result<Json<schema::TraceRecorded>, ApiError> {
    let r = send_step(&state, &caller, key, body).await?;
    Ok(Json(recorded_json(r)))
}

/// The step of `POST /api/v1/traces/{key}/send` for `caller`, from its JSON body
/// (same authorization, audit entry, validation and refusals): shared with the web pages.
pub(crate) async fn send_step(
    state: &AppState,
    caller: &Caller,
    key: String,
    body: Bytes,
) -> Result<Recorded, ApiError> {
    authorize_step(state, caller, &key, "send").await?;
    let mut f = Fields::parse(&body, &["to", "waivers"])?;
    let to: Vec<String> = f.required("to")?;
    let to = countries("to", &to)?;
    let waivers: Vec<Waiver> = f.optional("waivers")?.unwrap_or_default();
    let by = caller.principal.id();
    let at = now(state)?;
    run_step(state, move |node| {
        traces::send(node, &key, &to, waivers, &by, at)
    })
    .await
}

/// Forwards a sent trace to the next state(s) in the chain: a new trace with the same item,
/// case and (unless given) waivers, naming this one as its parent, drafted and sent in one
/// step. `id` defaults to this trace's id, `-`, and the first new recipient.
#[utoipa::path(
    post,
    path = "/api/v1/traces/{key}/chain",
    tag = "tracing",
    params(("key" = String, Path, description = "The parent trace's key")),
    request_body(description = "`{\"to\":[\"CD\"],\"id\":\"TR-1-CD\",\"waivers\":[…]}` (`id` and `waivers` optional)", content_type = "application/json", content = Object),
    responses(
        (status = 201, description = "The chained trace, sent; `Location` is the new trace", body = schema::TraceRecorded),
        (status = 400, description = "Not a JSON object", body = schema::ErrorBody),
        (status = 403, description = "Only tracing officers take trace steps", body = schema::ErrorBody),
        (status = 404, description = "No such trace", body = schema::ErrorBody),
        (status = 409, description = "The parent is a draft or was received, the new id is taken, or the new request may not be sent", body = schema::ErrorBody),
        (status = 422, description = "A field is missing, unknown or malformed (named)", body = schema::ErrorBody),
    )
)]
pub async fn chain(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let r = chain_step(&state, &caller, key, body).await?;
    Ok(created(r))
}

/// The step of `POST /api/v1/traces/{key}/chain` for `caller`, from its JSON body
/// (same authorization, audit entry, validation and refusals): shared with the web pages.
pub(crate) async fn chain_step(
    state: &AppState,
    caller: &Caller,
    key: String,
    body: Bytes,
) -> Result<Recorded, ApiError> {
    authorize_step(state, caller, &key, "chain").await?;
    let mut f = Fields::parse(&body, &["to", "id", "waivers"])?;
    let to: Vec<String> = f.required("to")?;
    let to = countries("to", &to)?;
    let id: Option<TraceId> = f.optional("id")?;
    let waivers: Option<Vec<Waiver>> = f.optional("waivers")?;
    let by = caller.principal.id();
    let at = now(state)?;
    run_step(state, move |node| {
        traces::chain(node, &key, id, &to, waivers, &by, at)
    })
    .await
}

/// Acknowledges a request received from another state (no `for`), or records a requested
/// state's acknowledgement that came another way (`for` and `channel`).
#[utoipa::path(
    post,
    path = "/api/v1/traces/{key}/acknowledge",
    tag = "tracing",
    params(("key" = String, Path, description = "The trace key")),
    request_body(description = "`{\"for\":\"UG\",\"channel\":\"paper\",\"note\":\"…\"}`, every field optional (`for` and `channel` together)", content_type = "application/json", content = Object),
    responses(
        (status = 200, description = "On record (and queued for the requesting state when this node acknowledged)", body = schema::TraceRecorded),
        (status = 400, description = "Not a JSON object", body = schema::ErrorBody),
        (status = 403, description = "Only tracing officers take trace steps", body = schema::ErrorBody),
        (status = 404, description = "No such trace", body = schema::ErrorBody),
        (status = 409, description = "The rules refuse the step (e.g. already answered), or it is the other side's", body = schema::ErrorBody),
        (status = 422, description = "A field is unknown or malformed (named)", body = schema::ErrorBody),
    )
)]
pub async fn acknowledge(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    body: Bytes,
) -> Result<Json<schema::TraceRecorded>, ApiError> {
    let r = acknowledge_step(&state, &caller, key, body).await?;
    Ok(Json(recorded_json(r)))
}

/// The step of `POST /api/v1/traces/{key}/acknowledge` for `caller`, from its JSON body
/// (same authorization, audit entry, validation and refusals): shared with the web pages.
pub(crate) async fn acknowledge_step(
    state: &AppState,
    caller: &Caller,
    key: String,
    body: Bytes,
) -> Result<Recorded, ApiError> {
    authorize_step(state, caller, &key, "acknowledge").await?;
    let body = if body.is_empty() {
        Bytes::from_static(b"{}")
    } else {
        body
    };
    let mut f = Fields::parse(&body, &["for", "channel", "note"])?;
    let who = actor(&mut f)?;
    let note: Option<Text> = f.optional("note")?;
    let by = caller.principal.id();
    let at = now(state)?;
    run_step(state, move |node| {
        traces::acknowledge(node, &key, who, note, &by, at)
    })
    .await
}

/// Answers a request received from another state (no `for`), or records a requested state's
/// answer that came on paper, by e-mail… (`for` and `channel`). `answer` is
/// `{"outcome":{"kind":"full"|"partial"|"no_record"|"restricted"|"refused",…},
/// "conditions_of_use"?,"officer"?}`.
#[utoipa::path(
    post,
    path = "/api/v1/traces/{key}/answer",
    tag = "tracing",
    params(("key" = String, Path, description = "The trace key")),
    request_body(description = "`{\"answer\":{…},\"for\":\"UG\",\"channel\":\"paper\",\"note\":\"…\"}`", content_type = "application/json", content = Object),
    responses(
        (status = 200, description = "On record (and queued for the requesting state when this node answered)", body = schema::TraceRecorded),
        (status = 400, description = "Not a JSON object", body = schema::ErrorBody),
        (status = 403, description = "Only tracing officers take trace steps", body = schema::ErrorBody),
        (status = 404, description = "No such trace", body = schema::ErrorBody),
        (status = 409, description = "The rules refuse the step, or it is the other side's", body = schema::ErrorBody),
        (status = 422, description = "A field is missing, unknown or malformed (named)", body = schema::ErrorBody),
    )
)]
pub async fn answer(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    body: Bytes,
) -> Result<Json<schema::TraceRecorded>, ApiError> {
    let r = answer_step(&state, &caller, key, body).await?;
    Ok(Json(recorded_json(r)))
}

/// The step of `POST /api/v1/traces/{key}/answer` for `caller`, from its JSON body
/// (same authorization, audit entry, validation and refusals): shared with the web pages.
pub(crate) async fn answer_step(
    state: &AppState,
    caller: &Caller,
    key: String,
    body: Bytes,
) -> Result<Recorded, ApiError> {
    authorize_step(state, caller, &key, "answer").await?;
    let mut f = Fields::parse(&body, &["answer", "for", "channel", "note"])?;
    let the_answer: Answer = f.required("answer")?;
    let who = actor(&mut f)?;
    let note: Option<Text> = f.optional("note")?;
    let by = caller.principal.id();
    let at = now(state)?;
    run_step(state, move |node| {
        traces::answer(node, &key, who, the_answer, note, &by, at)
    })
    .await
}

/// Asks a requested state that answered for more (`{"to":"UG","question":"…"}`).
#[utoipa::path(
    post,
    path = "/api/v1/traces/{key}/follow-up",
    tag = "tracing",
    params(("key" = String, Path, description = "The trace key")),
    request_body(description = "`{\"to\":\"UG\",\"question\":\"…\"}`", content_type = "application/json", content = Object),
    responses(
        (status = 200, description = "On record (and queued when the state is a peer)", body = schema::TraceRecorded),
        (status = 400, description = "Not a JSON object", body = schema::ErrorBody),
        (status = 403, description = "Only tracing officers take trace steps", body = schema::ErrorBody),
        (status = 404, description = "No such trace", body = schema::ErrorBody),
        (status = 409, description = "The state has not answered, or the trace was received", body = schema::ErrorBody),
        (status = 422, description = "A field is missing, unknown or malformed (named)", body = schema::ErrorBody),
    )
)]
pub async fn follow_up(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    body: Bytes,
) -> Result<Json<schema::TraceRecorded>, ApiError> {
    let r = follow_up_step(&state, &caller, key, body).await?;
    Ok(Json(recorded_json(r)))
}

/// The step of `POST /api/v1/traces/{key}/follow-up` for `caller`, from its JSON body
/// (same authorization, audit entry, validation and refusals): shared with the web pages.
pub(crate) async fn follow_up_step(
    state: &AppState,
    caller: &Caller,
    key: String,
    body: Bytes,
) -> Result<Recorded, ApiError> {
    authorize_step(state, caller, &key, "follow_up").await?;
    let mut f = Fields::parse(&body, &["to", "question"])?;
    let to: String = f.required("to")?;
    let to = country("to", &to)?;
    let question: Text = f.required("question")?;
    let by = caller.principal.id();
    let at = now(state)?;
    run_step(state, move |node| {
        traces::follow_up(node, &key, to, question, &by, at)
    })
    .await
}

/// Closes the trace with feedback on every answer received
/// (`{"feedback":[{"state","rating":1..5,"comment"?}]}`); each requested state that is a peer
/// is told, with the feedback on its own answer only.
#[utoipa::path(
    post,
    path = "/api/v1/traces/{key}/close",
    tag = "tracing",
    params(("key" = String, Path, description = "The trace key")),
    request_body(description = "`{\"feedback\":[{\"state\":\"UG\",\"rating\":4,\"comment\":\"…\"}]}`", content_type = "application/json", content = Object),
    responses(
        (status = 200, description = "Closed: on record, messages queued", body = schema::TraceRecorded),
        (status = 400, description = "Not a JSON object", body = schema::ErrorBody),
        (status = 403, description = "Only tracing officers take trace steps", body = schema::ErrorBody),
        (status = 404, description = "No such trace", body = schema::ErrorBody),
        (status = 409, description = "Feedback missing for an answer (or given for none), a draft, closed already, or a received trace", body = schema::ErrorBody),
        (status = 422, description = "A field is unknown or malformed (named)", body = schema::ErrorBody),
    )
)]
pub async fn close(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    body: Bytes,
) -> Result<Json<schema::TraceRecorded>, ApiError> {
    let r = close_step(&state, &caller, key, body).await?;
    Ok(Json(recorded_json(r)))
}

/// The step of `POST /api/v1/traces/{key}/close` for `caller`, from its JSON body
/// (same authorization, audit entry, validation and refusals): shared with the web pages.
pub(crate) async fn close_step(
    state: &AppState,
    caller: &Caller,
    key: String,
    body: Bytes,
) -> Result<Recorded, ApiError> {
    authorize_step(state, caller, &key, "close").await?;
    let body = if body.is_empty() {
        Bytes::from_static(b"{}")
    } else {
        body
    };
    let mut f = Fields::parse(&body, &["feedback"])?;
    let feedback: Vec<Feedback> = f.optional("feedback")?.unwrap_or_default();
    let by = caller.principal.id();
    let at = now(state)?;
    run_step(state, move |node| {
        traces::close(node, &key, feedback, &by, at)
    })
    .await
}
