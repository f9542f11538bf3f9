//! The `/api/v1/` handlers and the OpenAPI document generated from them.

use crate::auth::{check_purpose, Caller};
use crate::error::ApiError;
use crate::schema;
use crate::AppState;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use http_body_util::BodyExt;
use serde::Deserialize;
use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tracemark_access::policy::{Action, Resource};
use tracemark_registry::import::{ImportError, ImportOptions, DEFAULT_BATCH_RECORDS};
use tracemark_registry::NodeError;
use tracemark_registry::{proofs, query};
use tracemark_store::StoreError;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi};

/// Largest `limit` of a search page.
pub const MAX_SEARCH_LIMIT: usize = 1000;
/// Largest `offset` of a search page (deeper pages: narrow the query or its filters).
pub const MAX_SEARCH_OFFSET: usize = 10_000;
/// Same-shipment hints are computed for this many hits of each page (the CLI's figure).
const HINT_HITS: usize = 5;
/// How much of an oversized upload is read and discarded before answering 413, so that a
/// client that sends the whole body still reads the answer (closing a socket with unread
/// data resets the connection). Beyond this the connection is simply closed.
const DRAIN_AFTER_LIMIT: usize = 8 << 20;
/// The media types `POST /records` accepts.
const JSONL_TYPES: [&str; 5] = [
    "application/x-ndjson",
    "application/jsonl",
    "application/json-lines",
    "application/jsonlines",
    "text/plain",
];

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tracemark API",
        description = "Marking, record-keeping and tracing of small arms and light weapons (UN ITI). \
Every route but health, this document, `POST /api/v1/session` and the federation's two routes (peers are \
authenticated by the signature on each envelope) needs a credential: the `tracemark_session` \
cookie that sign-in sets (people; a TOTP code is required for administrators, auditors and tracing officers), \
or `Authorization: Bearer tmk_…` (service accounts). Access is decided by the Cedar policy set \
`policies/tracemark.cedar`; reads of items, custody, searches, imports, reads and steps of traces and every \
denial are written to the audit log before the answer.",
    ),
    modifiers(&SecuritySchemes),
    security(("session" = []), ("bearer" = [])),
    paths(
        health,
        item,
        custody,
        search,
        import_records,
        crate::register_api::import_register,
        crate::trace_api::draft,
        crate::trace_api::check,
        crate::trace_api::print,
        crate::trace_api::answer_draft,
        crate::traces_api::list,
        crate::traces_api::create,
        crate::traces_api::show,
        crate::traces_api::amend,
        crate::traces_api::send,
        crate::traces_api::chain,
        crate::traces_api::acknowledge,
        crate::traces_api::answer,
        crate::traces_api::follow_up,
        crate::traces_api::close,
        crate::traces_api::overdue,
        crate::traces_api::figures,
        crate::traces_api::outbox,
        ledger_key,
        ledger_checkpoint,
        ledger_leaf,
        ledger_proof,
        ledger_consistency,
        openapi_json,
        crate::session_api::sign_in,
        crate::session_api::whoami,
        crate::session_api::sign_out,
        crate::session_api::enrol_totp,
        crate::session_api::audit_log,
        crate::alerts::list,
        crate::admin::list_agencies,
        crate::admin::add_agency,
        crate::admin::list_users,
        crate::admin::add_user,
        crate::admin::enrol_user_totp,
        crate::admin::reset_totp,
        crate::admin::unlock,
        crate::admin::get_retention,
        crate::admin::put_retention,
        crate::admin::list_peers,
        crate::admin::create_peer,
        crate::admin::list_tokens,
        crate::admin::create_token,
        crate::admin::revoke_token,
        crate::federation_api::identity,
        crate::federation_api::inbox,
    ),
    components(schemas(
        schema::NotificationPage,
        schema::Notification,
        schema::HitAlert,
        schema::Agency,
        schema::NewUser,
        schema::User,
        schema::CreatedUser,
        schema::NewToken,
        schema::Token,
        schema::Retention,
        schema::RetentionPeriods,
        schema::Peer,
        schema::NewPeer,
        schema::CreatedToken,
        schema::ErrorBody,
        schema::ErrorDetail,
        schema::ErrorCode,
        schema::Health,
        schema::Item,
        schema::Marking,
        schema::Actor,
        schema::Custody,
        schema::CustodyEvent,
        schema::Diversion,
        schema::SearchResult,
        schema::SearchHit,
        schema::ShipmentNeighbour,
        schema::ImportReport,
        schema::RegisterImportReport,
        schema::RegisterProblem,
        schema::LineError,
        schema::Leaf,
        schema::InclusionProof,
        schema::ConsistencyProof,
        schema::Login,
        schema::SessionInfo,
        schema::TotpEnrolment,
        schema::AuditPage,
        schema::AuditEntry,
        schema::PublicIdentity,
        schema::FederationIdentity,
        schema::DeliveryReceipt,
        schema::TraceRecorded,
        schema::TraceSummary,
        schema::TracePage,
        schema::OutboxMessage,
        schema::OutboxPage,
    )),
    tags(
        (name = "registry", description = "Items, chains of custody, search and import"),
        (name = "ledger", description = "The tamper-evident ledger: key, checkpoint, leaves and RFC 9162 proofs"),
        (name = "meta", description = "Health and this document"),
        (name = "session", description = "Sign in and out, TOTP enrolment"),
        (name = "audit", description = "The audit log of reads, searches, imports, sign-ins and denials"),
        (name = "tracing", description = "ITI trace requests: drafting and checking, and the life cycle on record (send, chain, acknowledge, answer, follow up, close; overdue list; figures), for the national point of contact"),
        (name = "federation", description = "Messages from other states' nodes (authenticated by signature) and this node's public identity"),
    )
)]
pub struct ApiDoc;

/// Adds the two credentials to the document: the session cookie and the bearer token.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::SESSION_COOKIE,
                "Set by POST /api/v1/session; HttpOnly, SameSite=Strict; ends after 30 minutes idle",
            ))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("tmk_<id>_<secret>")
                    .description(Some("A service account's token (`tracemark token create`)"))
                    .build(),
            ),
        );
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn text_plain(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

/// Server health and the ledger's size.
#[utoipa::path(
    get,
    path = "/api/v1/health",
    tag = "meta",
    security(()),
    responses(
        (status = 200, description = "The server and its store answer", body = schema::Health),
        (status = 503, description = "The store (database) does not answer", body = schema::ErrorBody),
    )
)]
pub async fn health(State(state): State<AppState>) -> Result<Json<schema::Health>, ApiError> {
    // A query, not a cached figure: the answer says whether the database answers now.
    let size = state
        .reader()
        .run(|node| node.store.ledger_size())
        .await?
        .map_err(|e| ApiError::unavailable(format!("health: the store does not answer: {e}")))?;
    Ok(Json(schema::Health {
        status: "ok".into(),
        ledger_size: size,
    }))
}

fn query_failure(e: query::QueryError) -> ApiError {
    match e {
        query::QueryError::NotFound(_) => ApiError::not_found(e.to_string()),
        other => ApiError::internal(other.to_string()),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PurposeParams {
    /// Why the record is read (recorded in the audit log): required for custody, which names
    /// possessors; optional for an item. At most 200 printable characters.
    pub purpose: Option<String>,
}

/// Reads an item's history with its need-to-know custodian: the agency (if any) holding it
/// whose holdings are need-to-know (`registry::holdings`, the rule search filters by too).
fn history_with_holder_agency(
    node: &tracemark_registry::Node,
    key: &str,
) -> Result<(query::ItemHistory, Option<String>), ApiError> {
    let history = query::history(node, key).map_err(query_failure)?;
    let holder = query::item_json(&history)
        .get("holder")
        .filter(|h| !h.is_null())
        .map(Value::to_string);
    let agencies = node
        .store
        .agencies()
        .map_err(|e| ApiError::internal(format!("reading agencies: {e}")))?;
    let rules = tracemark_registry::holdings::rules(&agencies);
    let agency = tracemark_registry::holdings::custodian(&rules, holder.as_deref());
    Ok((history, agency))
}

/// Reads the item `key` after the policy allowed `action` on it, auditing the read.
pub(crate) async fn read_item(
    state: &AppState,
    caller: &Caller,
    action: Action,
    key: String,
    purpose: &str,
) -> Result<query::ItemHistory, ApiError> {
    let lookup_key = key.clone();
    let found = state
        .reader()
        .run(move |node| history_with_holder_agency(node, &lookup_key))
        .await?;
    match found {
        Ok((history, holder_agency)) => {
            let resource = Resource::Item { key, holder_agency };
            state
                .authorize(caller, action, &resource, "", purpose)
                .await?;
            Ok(history)
        }
        Err(e) => {
            // The attempt is recorded (and refused if the role may not read items at all)
            // before the caller learns whether the key exists.
            let resource = Resource::Item {
                key,
                holder_agency: None,
            };
            state
                .authorize(caller, action, &resource, "", purpose)
                .await?;
            Err(e)
        }
    }
}

/// An item: identification, markings, current status and holder.
#[utoipa::path(
    get,
    path = "/api/v1/items/{key}",
    tag = "registry",
    params(("key" = String, Path, description = "The item key, e.g. KE-2019-000123"), PurposeParams),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The item document (as `tracemark item show --json`)", body = schema::Item),
        (status = 401, description = "No valid credential", body = schema::ErrorBody),
        (status = 403, description = "The policy set refuses (role, or need-to-know of the holder's agency)", body = schema::ErrorBody),
        (status = 404, description = "No item with this key", body = schema::ErrorBody),
    )
)]
pub async fn item(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Query(p): Query<PurposeParams>,
) -> Result<Json<Value>, ApiError> {
    let purpose = check_purpose(p.purpose.as_deref(), false)?;
    let history = read_item(&state, &caller, Action::ReadItem, key, &purpose).await?;
    Ok(Json(query::item_json(&history)))
}

/// An item's chain of custody, last legal holder and point of diversion.
#[utoipa::path(
    get,
    path = "/api/v1/items/{key}/custody",
    tag = "registry",
    params(("key" = String, Path, description = "The item key"), PurposeParams),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The chain of custody (as `tracemark custody --json`)", body = schema::Custody),
        (status = 400, description = "No `purpose` given", body = schema::ErrorBody),
        (status = 401, description = "No valid credential", body = schema::ErrorBody),
        (status = 403, description = "The policy set refuses", body = schema::ErrorBody),
        (status = 404, description = "No item with this key", body = schema::ErrorBody),
    )
)]
pub async fn custody(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Query(p): Query<PurposeParams>,
) -> Result<Json<Value>, ApiError> {
    let purpose = check_purpose(p.purpose.as_deref(), true)?;
    let history = read_item(&state, &caller, Action::ReadCustody, key, &purpose).await?;
    Ok(Json(query::custody_json(&history)))
}

/// Search parameters: the contract's `tracemark search` options, plus `offset`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// The marking as read, in any script; `?` is one unknown character, `*` any run.
    pub q: String,
    /// Why the search is made (recorded in the audit log).
    pub purpose: Option<String>,
    /// `auto` (default), `exact`, `normalized`, `wildcard` or `fuzzy`.
    pub mode: Option<String>,
    /// 0, 1 (default) or 2.
    pub max_edits: Option<u8>,
    pub make: Option<String>,
    pub model: Option<String>,
    pub calibre: Option<String>,
    /// Country of manufacture (ISO alpha-2).
    pub country: Option<String>,
    /// Current status of the item (e.g. `stolen`, `seized`).
    pub status: Option<String>,
    /// `serial` (default: serial-like markings) or `any`.
    pub kind: Option<String>,
    /// Hits per page: 50 by default, at most 1000.
    pub limit: Option<usize>,
    /// Hits to skip (pagination), at most 10000.
    pub offset: Option<usize>,
}

/// Identification search over the markings (exact, normalized across scripts, wildcard, fuzzy).
#[utoipa::path(
    get,
    path = "/api/v1/search",
    tag = "registry",
    params(SearchParams),
    responses(
        (status = 200, description = "Matches, best first (as `tracemark search --json`). Items held by a need-to-know agency the caller may not read are left out of the hits and the total. A hit on an item reported lost or stolen carries an `alert` naming whom to contact; an identification (exact or normalized match) by another agency notifies the reporting agency.", body = schema::SearchResult),
        (status = 400, description = "The query or a parameter is not acceptable", body = schema::ErrorBody),
    )
)]
pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<SearchParams>,
) -> Result<Json<Value>, ApiError> {
    search_document(&state, &caller, p).await.map(Json)
}

/// The search: authorized and audited, need-to-know in the query, lost-or-stolen alerts
/// raised. Shared by `GET /api/v1/search` and the web's `GET /search`, so both answer the
/// same hits to the same caller.
pub(crate) async fn search_document(
    state: &AppState,
    caller: &Caller,
    p: SearchParams,
) -> Result<Value, ApiError> {
    use tracemark_search::{Mode, Query as SearchQuery};
    let purpose = check_purpose(p.purpose.as_deref(), false)?;
    // What was searched for is part of the record (EU SIS: every query is logged).
    let detail = format!("search:{}", p.q.chars().take(200).collect::<String>());
    state
        .authorize(
            caller,
            Action::Search,
            &Resource::Registry,
            &detail,
            &purpose,
        )
        .await?;
    let mode = match p.mode.as_deref() {
        None => Mode::Auto,
        Some(m) => Mode::parse(m).ok_or_else(|| {
            ApiError::bad_request(format!(
                "mode '{m}' is not one of auto, exact, normalized, wildcard, fuzzy"
            ))
        })?,
    };
    let any_kind = match p.kind.as_deref() {
        None | Some("serial") => false,
        Some("any") => true,
        Some(k) => {
            return Err(ApiError::bad_request(format!(
                "kind '{k}' is not one of serial, any"
            )))
        }
    };
    let limit = p.limit.unwrap_or(tracemark_search::query::DEFAULT_LIMIT);
    if limit > MAX_SEARCH_LIMIT {
        return Err(ApiError::bad_request(format!(
            "limit {limit} is above the maximum of {MAX_SEARCH_LIMIT}"
        )));
    }
    let offset = p.offset.unwrap_or(0);
    if offset > MAX_SEARCH_OFFSET {
        return Err(ApiError::bad_request(format!(
            "offset {offset} is above the maximum of {MAX_SEARCH_OFFSET}; narrow the query or add filters"
        )));
    }
    let mut q = SearchQuery::new(p.q);
    q.mode = mode;
    q.max_edits = p
        .max_edits
        .unwrap_or(tracemark_search::query::DEFAULT_MAX_EDITS);
    q.make = p.make;
    q.model = p.model;
    q.calibre = p.calibre;
    q.country = p.country;
    q.status = p.status;
    q.any_kind = any_kind;
    q.limit = limit + offset;
    // Records may have been imported by another process (the CLI) since the index was
    // loaded: compare with the ledger and catch up first, so every search sees every record.
    let (known, rules) = {
        let current = state.search_index();
        (current.ledger_size, current.rules)
    };
    let caught_up = state
        .reader()
        .run(
            move |node| -> Result<Option<tracemark_registry::search::SearchIndex>, String> {
                tracemark_registry::search::caught_up_since(node, known, rules)
                    .map_err(|e| e.to_string())
            },
        )
        .await?
        .map_err(|m| ApiError::internal(format!("updating the search index: {m}")))?;
    if let Some(fresh) = caught_up {
        state.set_search_index(fresh);
    }
    let query_text = q.text.clone();
    let index = state.search_index();
    // Need-to-know, in the query: the holdings of each custodian agency are searched only if
    // the policy would let the caller read an item it holds.
    q.custodians = state.visible_custodians(caller, &index.index, &purpose)?;
    let doc = tokio::task::spawn_blocking(move || {
        let mut r = index
            .index
            .search(&q)
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        r.hits.drain(..offset.min(r.hits.len()));
        let mut doc = tracemark_registry::search::result_json(&index.index, &q, &r, HINT_HITS);
        doc["offset"] = offset.into();
        doc["limit"] = limit.into();
        Ok::<_, ApiError>(doc)
    })
    .await
    .map_err(|e| ApiError::internal(format!("search task: {e}")))??;
    let mut doc = doc;
    crate::alerts::search_hits(state, caller, &query_text, &mut doc).await?;
    Ok(doc)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// Commit the valid records even if some are rejected (default: all or nothing).
    pub accept_valid: Option<bool>,
}

fn is_jsonl(headers: &HeaderMap) -> bool {
    let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    JSONL_TYPES.contains(&essence.as_str())
}

/// Reads and discards up to [`DRAIN_AFTER_LIMIT`] more bytes of a body, then answers 413.
/// Streams a request body to a new file in the data folder (removed when the returned handle
/// is dropped), refusing more than the body limit with 413 — whether the client declared it
/// or not — before anything is imported from it.
pub(crate) async fn receive_upload(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    suffix: &str,
) -> Result<tempfile::NamedTempFile, ApiError> {
    let limit = state.max_body_bytes();
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large(body, limit).await);
    }
    // The body goes to a file in the data folder, which the import reads twice (validate,
    // then commit). The file is removed when the import is over.
    let upload = tempfile::Builder::new()
        .prefix(".upload-")
        .suffix(suffix)
        .tempfile_in(state.data_dir())
        .map_err(|e| ApiError::internal(format!("creating the upload file: {e}")))?;
    let file = upload
        .reopen()
        .map_err(|e| ApiError::internal(format!("opening the upload file: {e}")))?;
    let mut file = tokio::fs::File::from_std(file);
    let mut body = body;
    let mut written = 0usize;
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|e| ApiError::bad_request(format!("reading the request body: {e}")))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        written += data.len();
        if written > limit {
            return Err(too_large(body, limit).await);
        }
        file.write_all(&data)
            .await
            .map_err(|e| ApiError::internal(format!("writing the upload file: {e}")))?;
    }
    file.flush()
        .await
        .map_err(|e| ApiError::internal(format!("writing the upload file: {e}")))?;
    drop(file);
    Ok(upload)
}

async fn too_large(mut body: Body, limit: usize) -> ApiError {
    let mut drained = 0usize;
    while drained <= DRAIN_AFTER_LIMIT {
        match body.frame().await {
            Some(Ok(frame)) => drained += frame.data_ref().map_or(0, |d| d.len()),
            _ => break,
        }
    }
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        schema::ErrorCode::PayloadTooLarge,
        format!("the request body is larger than {limit} bytes; split the file"),
    )
}

/// Import interchange records (JSON Lines, one record per line).
///
/// All or nothing by default: if any record is invalid nothing is committed and every defect
/// is reported. Re-sending the same records adds nothing (idempotent).
#[utoipa::path(
    post,
    path = "/api/v1/records",
    tag = "registry",
    params(ImportParams),
    request_body(
        description = "Interchange records, one JSON object per line (docs/INTERCHANGE.md)",
        content(
            (String = "application/x-ndjson"),
            (String = "text/plain"),
        ),
    ),
    responses(
        (status = 200, description = "Every record accepted (or already present)", body = schema::ImportReport),
        (status = 422, description = "Some records rejected: the report, with an `error` member; nothing committed unless `accept_valid=true`", body = schema::ImportReport),
        (status = 400, description = "A malformed query string or an unreadable body", body = schema::ErrorBody),
        (status = 413, description = "The body is too large", body = schema::ErrorBody),
        (status = 415, description = "The body is not JSON Lines", body = schema::ErrorBody),
    )
)]
pub async fn import_records(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ImportParams>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    authorize_import(&state, &caller).await?;
    if !is_jsonl(&headers) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            schema::ErrorCode::UnsupportedMediaType,
            "send JSON Lines as application/x-ndjson (or text/plain)",
        ));
    }
    let upload = receive_upload(&state, &headers, body, ".jsonl").await?;
    let accept_valid = params.accept_valid.unwrap_or(false);
    let doc = import_upload(&state, &caller, upload, accept_valid, false).await?;
    if doc.errors.is_empty() {
        return Ok(Json(doc).into_response());
    }
    let message = if doc.committed {
        format!(
            "{} record(s) rejected; the {} valid record(s) were committed (accept_valid)",
            doc.rejected, doc.accepted
        )
    } else {
        format!(
            "{} record(s) rejected; nothing was imported (fix them, or send accept_valid=true)",
            doc.rejected
        )
    };
    Err(unprocessable_report(message, &doc))
}

/// The policy decision (and audit entry) of an import of interchange records by `caller`:
/// `POST /api/v1/records` and the web app's recording pages ask the same question.
pub(crate) async fn authorize_import(state: &AppState, caller: &Caller) -> Result<(), ApiError> {
    state
        .authorize(caller, Action::Record, &Resource::Registry, "import", "")
        .await
}

/// Imports the interchange records of `upload` (a file in the data folder, removed when the
/// import is over) for `caller`, who [`authorize_import`] allowed: the registry's
/// validation, the ledger, the search index refreshed, lost-or-stolen seizure alerts. With
/// `dry_run` every record is checked and nothing is written. The report is the API's.
pub(crate) async fn import_upload(
    state: &AppState,
    caller: &Caller,
    upload: tempfile::NamedTempFile,
    accept_valid: bool,
    dry_run: bool,
) -> Result<schema::ImportReport, ApiError> {
    // Who recorded it, and for which agency: the ledger keeps both (and hit notifications
    // find the reporting agency of a loss or theft from it).
    let recorded_by = format!("{}@{}", caller.principal.id(), caller.principal.agency);
    let clock = state.clock();
    let (report, refreshed, seized) = state
        .writer()
        .run(move |node| {
            let opts = ImportOptions {
                accept_valid,
                rejects: None,
                recorded_by,
                batch_records: DEFAULT_BATCH_RECORDS,
                dry_run,
                ..ImportOptions::default()
            };
            let files = vec![upload.path().to_path_buf()];
            let report = tracemark_registry::import::import(node, &files, &opts, clock.as_ref());
            let seized = match &report {
                Ok(r) if r.committed => crate::alerts::seized_items(upload.path()),
                _ => Vec::new(),
            };
            drop(upload);
            let report = report?;
            // Keep the search index current with what was just accepted.
            let refreshed = report
                .committed
                .then(|| tracemark_registry::search::open(node));
            Ok::<_, tracemark_registry::import::ImportError>((report, refreshed, seized))
        })
        .await?
        .map_err(|e| {
            // A database that went away is "try again", not a bug: nothing of this request
            // was acknowledged beyond the batches already committed, and re-sending is safe
            // (imports are idempotent).
            if matches!(
                e,
                ImportError::Store(StoreError::Postgres(_))
                    | ImportError::Node(NodeError::Store(StoreError::Postgres(_)))
            ) {
                ApiError::unavailable(format!("import: {e}"))
            } else {
                ApiError::internal(format!("import: {e}"))
            }
        })?;
    install_refreshed_index(state, refreshed, report.ledger_size)?;
    // Seizures of items another agency reported lost or stolen: that agency is told now.
    crate::alerts::seizures(state, caller, seized).await?;
    let line = |e: &tracemark_registry::import::LineError| schema::LineError {
        file: "body".into(),
        line: e.line,
        field: e.field.clone(),
        message: e.message.clone(),
    };
    Ok(schema::ImportReport {
        accepted: report.accepted,
        rejected: report.rejected,
        duplicates: report.duplicates,
        errors: report.errors.iter().map(line).collect(),
        warnings: report.warnings.iter().map(line).collect(),
        warnings_total: report.warnings_total,
        committed: report.committed,
        ledger_size: report.ledger_size,
        error: None,
    })
}

/// After an import committed: the refreshed search index replaces the served one, so what
/// was accepted is found at once. A refresh that failed is a 500 that says the records are in.
pub(crate) fn install_refreshed_index(
    state: &AppState,
    refreshed: Option<
        Result<tracemark_registry::search::SearchIndex, tracemark_registry::search::SearchError>,
    >,
    ledger_size: u64,
) -> Result<(), ApiError> {
    match refreshed {
        None => Ok(()),
        Some(Ok(index)) => {
            state.set_search_index(index);
            Ok(())
        }
        Some(Err(e)) => Err(ApiError::internal(format!(
            "the records were committed (ledger size {ledger_size}) but the search index could not be refreshed: {e}"
        ))),
    }
}

/// A 422 that carries an import report beside its `error` member.
pub(crate) fn unprocessable_report(message: String, report: &impl serde::Serialize) -> ApiError {
    let mut e = ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        schema::ErrorCode::Unprocessable,
        message,
    );
    e.extra = match serde_json::to_value(report) {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    };
    e
}

/// The node's verifier key in signed-note form (`<name>+<hex key id>+<base64>`).
#[utoipa::path(
    get,
    path = "/api/v1/ledger/key",
    tag = "ledger",
    responses((status = 200, description = "The verifier key", body = String, content_type = "text/plain")),
)]
pub async fn ledger_key(State(state): State<AppState>) -> Result<Response, ApiError> {
    let key = state
        .reader()
        .run(|node| node.info.verifier_key.clone())
        .await?;
    Ok(text_plain(format!("{key}\n")))
}

/// The latest signed checkpoint, a C2SP `tlog-checkpoint` signed note.
#[utoipa::path(
    get,
    path = "/api/v1/ledger/checkpoint",
    tag = "ledger",
    responses((status = 200, description = "The signed note: origin, size, base64 root, blank line, signature lines", body = String, content_type = "text/plain")),
)]
pub async fn ledger_checkpoint(State(state): State<AppState>) -> Result<Response, ApiError> {
    let note = state
        .reader()
        .run(|node| node.store.latest_checkpoint())
        .await?
        .map_err(|e| ApiError::internal(format!("reading the checkpoint: {e}")))?
        .ok_or_else(|| ApiError::internal("the store has no checkpoint"))?
        .note;
    Ok(text_plain(note))
}

fn proof_failure(e: proofs::ProofError) -> ApiError {
    match e {
        proofs::ProofError::NoSuchLeaf { .. } => ApiError::not_found(e.to_string()),
        proofs::ProofError::Store(e) => ApiError::internal(e.to_string()),
        other => ApiError::bad_request(other.to_string()),
    }
}

/// One ledger leaf: its hash and its data.
#[utoipa::path(
    get,
    path = "/api/v1/ledger/leaves/{index}",
    tag = "ledger",
    params(("index" = u64, Path, description = "Leaf index, from 0")),
    responses(
        (status = 200, description = "The leaf", body = schema::Leaf),
        (status = 404, description = "No leaf at this index", body = schema::ErrorBody),
    )
)]
pub async fn ledger_leaf(
    State(state): State<AppState>,
    caller: Caller,
    Path(index): Path<u64>,
) -> Result<Json<schema::Leaf>, ApiError> {
    state
        .authorize(
            &caller,
            Action::ReadLedger,
            &Resource::Registry,
            "ledger",
            "",
        )
        .await?;
    let leaf = state
        .reader()
        .run(move |node| proofs::leaf(node, index))
        .await?
        .map_err(proof_failure)?;
    Ok(Json(schema::Leaf {
        leaf_idx: leaf.index,
        leaf_hash: b64(&leaf.leaf_hash),
        data: b64(&leaf.data),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProofParams {
    /// Leaf index.
    pub index: u64,
    /// Tree size (default: the latest).
    pub size: Option<u64>,
}

/// An RFC 9162 inclusion proof for a leaf.
#[utoipa::path(
    get,
    path = "/api/v1/ledger/proof",
    tag = "ledger",
    params(ProofParams),
    responses(
        (status = 200, description = "The proof", body = schema::InclusionProof),
        (status = 400, description = "The size is beyond the ledger", body = schema::ErrorBody),
        (status = 404, description = "The index is not in the tree of that size", body = schema::ErrorBody),
    )
)]
pub async fn ledger_proof(
    State(state): State<AppState>,
    Query(p): Query<ProofParams>,
) -> Result<Json<schema::InclusionProof>, ApiError> {
    let proof = state
        .reader()
        .run(move |node| proofs::inclusion(node, p.index, p.size))
        .await?
        .map_err(proof_failure)?;
    Ok(Json(schema::InclusionProof {
        leaf_idx: proof.index,
        tree_size: proof.size,
        leaf_hash: b64(&proof.leaf_hash),
        proof: proof.proof.iter().map(|h| b64(h)).collect(),
        root: b64(&proof.root),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConsistencyParams {
    /// The older tree size (at least 1).
    pub from: u64,
    /// The newer tree size (at most the ledger's).
    pub to: u64,
}

/// An RFC 9162 consistency proof between two tree sizes.
#[utoipa::path(
    get,
    path = "/api/v1/ledger/consistency",
    tag = "ledger",
    params(ConsistencyParams),
    responses(
        (status = 200, description = "The proof", body = schema::ConsistencyProof),
        (status = 400, description = "Sizes out of order, zero, or beyond the ledger", body = schema::ErrorBody),
    )
)]
pub async fn ledger_consistency(
    State(state): State<AppState>,
    Query(p): Query<ConsistencyParams>,
) -> Result<Json<schema::ConsistencyProof>, ApiError> {
    if p.from > p.to {
        return Err(ApiError::bad_request(format!(
            "from {} is larger than to {}",
            p.from, p.to
        )));
    }
    if p.from == 0 {
        return Err(ApiError::bad_request(
            "a consistency proof from size 0 proves nothing (RFC 9162 §2.1.4); use from=1 or more",
        ));
    }
    let proof = state
        .reader()
        .run(move |node| proofs::consistency(node, p.from, p.to))
        .await?
        .map_err(proof_failure)?;
    Ok(Json(schema::ConsistencyProof {
        size1: proof.size1,
        size2: proof.size2,
        root1: b64(&proof.root1),
        root2: b64(&proof.root2),
        proof: proof.proof.iter().map(|h| b64(h)).collect(),
    }))
}

/// This document.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    security(()),
    tag = "meta",
    responses((status = 200, description = "The OpenAPI document of this API", body = Object)),
)]
pub async fn openapi_json(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        state.openapi_json(),
    )
        .into_response()
}

/// One commit to the ledger: the records one import (or one batch of a large import)
/// appended, as the ledger's leaves tell it (each leaf keeps when and by whom it was
/// recorded; a batch shares both).
#[derive(Debug, Clone)]
pub(crate) struct ImportBatch {
    pub recorded_at: String,
    pub recorded_by: String,
    /// The ledger indexes of its first and last record.
    pub first: u64,
    pub last: u64,
    /// The items its records declare or concern, in order, each once (at most 5).
    pub items: Vec<String>,
}

impl ImportBatch {
    pub fn records(&self) -> u64 {
        self.last - self.first + 1
    }
}

/// The latest commits to the ledger, newest first (at most `max`), read from its last `scan`
/// leaves, for `caller`: a read of the ledger, authorized as `GET /api/v1/ledger/leaves/{i}`
/// is (leaves hold whole records). The ledger is where the engine records imports, so this
/// is the honest list of them.
pub(crate) async fn recent_imports(
    state: &AppState,
    caller: &Caller,
    scan: u64,
    max: usize,
) -> Result<Vec<ImportBatch>, ApiError> {
    state
        .authorize(
            caller,
            Action::ReadLedger,
            &Resource::Registry,
            "ledger",
            "",
        )
        .await?;
    state
        .reader()
        .run(move |node| -> Result<Vec<ImportBatch>, StoreError> {
            let size = node.store.ledger_size()?;
            let from = size.saturating_sub(scan);
            let mut batches: Vec<ImportBatch> = Vec::new();
            node.store.scan_leaves(from, size, &mut |leaf| {
                let Ok(env) = tracemark_registry::envelope::decode(&leaf.data, false) else {
                    return Ok(());
                };
                let item = env
                    .record
                    .get("key")
                    .or_else(|| env.record.get("item"))
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                match batches.last_mut() {
                    Some(b)
                        if b.recorded_at == env.recorded_at
                            && b.recorded_by == env.recorded_by
                            && b.last + 1 == leaf.index =>
                    {
                        b.last = leaf.index;
                        if let Some(k) = item {
                            if b.items.len() < 5 && !b.items.contains(&k) {
                                b.items.push(k);
                            }
                        }
                    }
                    _ => batches.push(ImportBatch {
                        recorded_at: env.recorded_at,
                        recorded_by: env.recorded_by,
                        first: leaf.index,
                        last: leaf.index,
                        items: item.into_iter().collect(),
                    }),
                }
                Ok(())
            })?;
            batches.reverse();
            batches.truncate(max);
            Ok(batches)
        })
        .await?
        .map_err(|e| ApiError::internal(format!("reading the ledger: {e}")))
}
