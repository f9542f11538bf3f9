//! Preparing an ITI trace request over the API, as `tracemark trace draft|check|print` does:
//! a draft from a registry item, the completeness check with the proposed recipients, and
//! the printable request. Nothing is stored or sent (issue #5: not built yet).
//!
//! The proposal reads the item's chain of custody (who held it, where), so every route that
//! touches a registry item is a custody read: it needs a `purpose` (the case), is audited, and
//! need-to-know applies. A check of a request that names no registry item reads nothing of
//! the registry and needs only the right to search it.

use crate::api::{read_item, PurposeParams};
use crate::auth::{check_purpose, Caller};
use crate::error::ApiError;
use crate::schema;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::Value;
use tracemark_access::policy::{Action, Resource};
use tracemark_registry::tracing::{self, Requester, TracingError};
use tracemark_trace::request::TraceRequest;
use utoipa::IntoParams;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DraftParams {
    /// Your case number; also the purpose of the custody read in the audit log.
    pub case: String,
    /// The request's reference (default `TR-<item key>`).
    pub id: Option<String>,
}

/// A draft trace request for a registry item: its identification and every marking as
/// recorded, the caller as officer and agency; what the registry cannot know is left for the
/// officer (the check says what).
#[utoipa::path(
    get,
    path = "/api/v1/items/{key}/trace-draft",
    tag = "tracing",
    params(("key" = String, Path, description = "The item key"), DraftParams),
    responses(
        (status = 200, description = "The draft request (the interchange form of a trace request)", body = Object),
        (status = 400, description = "No case given", body = schema::ErrorBody),
        (status = 403, description = "The policy set refuses (custody read, need-to-know)", body = schema::ErrorBody),
        (status = 404, description = "No such item", body = schema::ErrorBody),
    )
)]
pub async fn draft(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Query(p): Query<DraftParams>,
) -> Result<Json<Value>, ApiError> {
    let case = check_purpose(Some(&p.case), true)?;
    let draft = draft_request(&state, &caller, key, case, p.id).await?;
    Ok(Json(serde_json::to_value(&draft).map_err(|e| {
        ApiError::internal(format!("encoding the draft: {e}"))
    })?))
}

/// The draft request for the item `key`, as `GET /api/v1/items/{key}/trace-draft` makes it
/// (a custody read with the checked `case` as purpose, audited): shared with the web pages.
pub(crate) async fn draft_request(
    state: &AppState,
    caller: &Caller,
    key: String,
    case: String,
    id: Option<String>,
) -> Result<TraceRequest, ApiError> {
    read_item(state, caller, Action::ReadCustody, key.clone(), &case).await?;
    let who = Requester {
        trace_id: id.unwrap_or_else(|| format!("TR-{key}")),
        agency: caller.principal.agency.clone(),
        officer: caller.principal.name.clone(),
        case_reference: case,
    };
    state
        .reader()
        .run(move |node| tracing::draft_from_item(node, &key, &who))
        .await?
        .map_err(tracing_failure)
}

fn tracing_failure(e: TracingError) -> ApiError {
    match e {
        TracingError::Draft(m) => unprocessable(m),
        TracingError::Query(tracemark_registry::query::QueryError::NotFound(k)) => {
            ApiError::not_found(format!("no item '{k}'"))
        }
        other => ApiError::internal(other.to_string()),
    }
}

fn unprocessable(message: String) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        schema::ErrorCode::Unprocessable,
        message,
    )
}

/// The trace request of a body: 400 when it is not JSON, 422 naming the field when a field
/// is malformed.
fn parse_request(body: &Bytes) -> Result<TraceRequest, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        let message = format!(
            "the trace request (line {}, column {}): {e}",
            e.line(),
            e.column()
        );
        if e.is_data() {
            unprocessable(message)
        } else {
            ApiError::bad_request(message)
        }
    })
}

/// Parses the body and authorizes what the assessment will read.
async fn authorized_request(
    state: &AppState,
    caller: &Caller,
    purpose: Option<&str>,
    body: &Bytes,
) -> Result<TraceRequest, ApiError> {
    let request = parse_request(body)?;
    authorize_assessment(state, caller, purpose, &request).await?;
    Ok(request)
}

/// Authorizes (and audits) what the assessment of `request` reads: its registry item's
/// custody (a purpose is required), or else the right to search.
async fn authorize_assessment(
    state: &AppState,
    caller: &Caller,
    purpose: Option<&str>,
    request: &TraceRequest,
) -> Result<(), ApiError> {
    match &request.registry_item {
        Some(key) => {
            let purpose = check_purpose(purpose, true)?;
            read_item(
                state,
                caller,
                Action::ReadCustody,
                key.as_str().to_owned(),
                &purpose,
            )
            .await?;
        }
        None => {
            let purpose = check_purpose(purpose, false)?;
            state
                .authorize(
                    caller,
                    Action::Search,
                    &Resource::Registry,
                    "trace check",
                    &purpose,
                )
                .await?;
        }
    }
    Ok(())
}

/// The completeness check of `request` and its proposed recipients, as
/// `POST /api/v1/traces/check` gives them (same authorization and audit): shared with the
/// web pages.
pub(crate) async fn assess_request(
    state: &AppState,
    caller: &Caller,
    purpose: Option<&str>,
    request: TraceRequest,
) -> Result<tracing::Assessment, ApiError> {
    authorize_assessment(state, caller, purpose, &request).await?;
    state
        .reader()
        .run(move |node| tracing::assess(node, &request))
        .await?
        .map_err(tracing_failure)
}

/// Check a trace request: its gaps (blocking or weakening, each with why it matters and what
/// would fix it), whether it is ready to send, and the states to send it to with the reasons
/// (country of manufacture, last legal import, previous holders in the registry item's chain
/// of custody).
#[utoipa::path(
    post,
    path = "/api/v1/traces/check",
    tag = "tracing",
    params(PurposeParams),
    request_body(description = "A trace request (as `tracemark trace draft` writes it)", content_type = "application/json", content = Object),
    responses(
        (status = 200, description = "`{ready, gaps, proposed_recipients, custody}`", body = Object),
        (status = 400, description = "Not JSON, or no purpose for a request naming a registry item", body = schema::ErrorBody),
        (status = 403, description = "The policy set refuses", body = schema::ErrorBody),
        (status = 422, description = "A field of the request is malformed (named in the message)", body = schema::ErrorBody),
    )
)]
pub async fn check(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<PurposeParams>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let request = authorized_request(&state, &caller, p.purpose.as_deref(), &body).await?;
    let assessment = state
        .reader()
        .run(move |node| tracing::assess(node, &request))
        .await?
        .map_err(tracing_failure)?;
    Ok(Json(assessment.to_json()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PrintParams {
    /// Why the registry item is read (required when the request names one).
    pub purpose: Option<String>,
    /// The requested states, comma-separated (default: the proposed ones).
    pub to: Option<String>,
    /// `html` (the default) or `pdf`; without it an `Accept: application/pdf` header asks
    /// for the PDF.
    pub format: Option<String>,
    /// The date printed on the PDF (e.g. `2026-03-09`; at most 40 characters); without it the
    /// date is left blank, to write by hand.
    pub date: Option<String>,
}

/// Whether the PDF is asked for: by `format`, else by the `Accept` header.
fn wants_pdf(format: Option<&str>, headers: &HeaderMap) -> Result<bool, ApiError> {
    match format {
        Some("pdf") => Ok(true),
        Some("html") => Ok(false),
        Some(other) => Err(ApiError::bad_request(format!(
            "format must be html or pdf, not '{other}'"
        ))),
        None => Ok(headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|m| {
                m.split(';')
                    .next()
                    .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/pdf"))
            })),
    }
}

/// The request as a printable document for a state that does not run Tracemark: an HTML
/// page, or (`format=pdf`, or `Accept: application/pdf`) a PDF with room for the answer and
/// the signatures.
#[utoipa::path(
    post,
    path = "/api/v1/traces/print",
    tag = "tracing",
    params(PrintParams),
    request_body(description = "A trace request", content_type = "application/json", content = Object),
    responses(
        (status = 200, description = "The printable request: HTML, or PDF when asked for", content(
            (String = "text/html"),
            (Vec<u8> = "application/pdf"),
        )),
        (status = 400, description = "Not JSON, no purpose for a request naming a registry item, or an unknown format", body = schema::ErrorBody),
        (status = 403, description = "The policy set refuses", body = schema::ErrorBody),
        (status = 422, description = "A field of the request is malformed", body = schema::ErrorBody),
    )
)]
pub async fn print(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<PrintParams>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let pdf = wants_pdf(p.format.as_deref(), &headers)?;
    let date = match p.date {
        Some(d) if d.chars().count() > 40 || d.chars().any(char::is_control) => {
            return Err(ApiError::bad_request(
                "date must be at most 40 printable characters",
            ))
        }
        d => d,
    };
    let request = authorized_request(&state, &caller, p.purpose.as_deref(), &body).await?;
    let to: Vec<String> =
        p.to.as_deref()
            .unwrap_or("")
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect();
    let printed = state
        .reader()
        .run(move |node| {
            let a = tracing::assess(node, &request)?;
            let to = if to.is_empty() {
                a.proposals
                    .iter()
                    .map(|p| p.state.as_str().to_owned())
                    .collect()
            } else {
                to
            };
            Ok::<_, TracingError>(if pdf {
                let options = tracing::PdfOptions {
                    waivers: &[],
                    date: date.as_deref(),
                };
                Printed::Pdf(tracing::print_pdf(&request, &a, &to, &options))
            } else {
                Printed::Html(tracing::print_html(&request, &a, &to))
            })
        })
        .await?
        .map_err(tracing_failure)?;
    match printed {
        Printed::Html(html) => {
            Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response())
        }
        Printed::Pdf(Ok(bytes)) => {
            Ok(([(header::CONTENT_TYPE, "application/pdf")], bytes).into_response())
        }
        Printed::Pdf(Err(e)) => Err(ApiError::internal(e.to_string())),
    }
}

enum Printed {
    Html(String),
    Pdf(Result<Vec<u8>, tracing::PdfError>),
}

/// Draft the answer to a trace request received from another state: the records of this
/// registry that match its serials (need-to-know applies, as in a search) and a proposed
/// outcome with findings from the chain of custody, for the officer to review before sending.
#[utoipa::path(
    post,
    path = "/api/v1/traces/answer-draft",
    tag = "tracing",
    params(PurposeParams),
    request_body(description = "The trace request received", content_type = "application/json", content = Object),
    responses(
        (status = 200, description = "`{candidates, answer}`; `answer` has the interchange form of an answer", body = Object),
        (status = 400, description = "Not JSON, or no purpose", body = schema::ErrorBody),
        (status = 403, description = "The policy set refuses", body = schema::ErrorBody),
        (status = 422, description = "A field of the request is malformed", body = schema::ErrorBody),
    )
)]
pub async fn answer_draft(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<PurposeParams>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let purpose = check_purpose(p.purpose.as_deref(), true)?;
    let request = parse_request(&body)?;
    Ok(Json(
        draft_answer(&state, &caller, &purpose, request)
            .await?
            .to_json(),
    ))
}

/// The answer drafted from this registry for a received `request`, as
/// `POST /api/v1/traces/answer-draft` drafts it (same authorization, need-to-know and
/// custody reads on record), `purpose` checked by the caller: shared with the web pages.
pub(crate) async fn draft_answer(
    state: &AppState,
    caller: &Caller,
    purpose: &str,
    request: TraceRequest,
) -> Result<tracing::DraftAnswer, ApiError> {
    // Reading custody is what an answer is made of: the caller must be allowed it at all.
    state
        .authorize(
            caller,
            Action::ReadCustody,
            &Resource::Registry,
            &format!("trace answer draft:{}", request.id.as_str()),
            purpose,
        )
        .await?;
    let index = state.search_index();
    let custodians = state.visible_custodians(caller, &index.index, purpose)?;
    let draft = state
        .reader()
        .run(move |node| tracing::draft_answer(node, &index.index, &request, custodians.as_deref()))
        .await?
        .map_err(tracing_failure)?;
    // Each record the findings come from is a custody read of its own, on record.
    for c in &draft.candidates {
        read_item(state, caller, Action::ReadCustody, c.key.clone(), purpose).await?;
    }
    Ok(draft)
}
