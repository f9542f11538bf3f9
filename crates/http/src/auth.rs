//! Who is asking, may they, and the record of it: authentication of every request,
//! authorization by the policy set, and the audit log.
//!
//! - Every route except `GET /health`, `GET /openapi.json`, `POST /session` and the
//!   federation's `POST /federation/inbox` and `GET /federation/identity` (a peer is
//!   authenticated by the signature on each envelope) needs a credential: the session cookie [`SESSION_COOKIE`] (people, after `POST /session`) or
//!   `Authorization: Bearer tmk_…` (service accounts). [`authenticate`] turns it into a
//!   [`Caller`], or answers 401.
//! - Handlers then call [`AppState::authorize`] with an action and a resource. The Cedar
//!   policy set decides; the decision is appended to the audit log **before** the handler
//!   answers (for every audited action, and for every denial), and a denial answers 403.
//! - The audit log is a second RFC 6962 Merkle log in the store, one canonical JSON leaf per
//!   entry, with a checkpoint signed by the node key after every entry. Its checkpoint origin
//!   is `<ledger origin>/audit`, so a ledger verifier never mistakes it for a ledger
//!   checkpoint (`open_checkpoint` refuses an origin that is not the key's name).

use crate::error::{ApiError, REQUEST_ID_HEADER};
use crate::schema::ErrorCode;
use crate::AppState;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use tracemark_access::accounts;
use tracemark_access::policy::{Action, Principal, Resource};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "tracemark_session";
/// Longest `purpose` accepted, in characters.
pub const MAX_PURPOSE_CHARS: usize = 200;

/// The authenticated principal of a request and its request id.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    pub request_id: String,
}

pub fn unauthenticated(message: impl Into<String>) -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        ErrorCode::Unauthenticated,
        message,
    )
}

pub fn forbidden(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, ErrorCode::Forbidden, message)
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        parts.extensions.get::<Caller>().cloned().ok_or_else(|| {
            unauthenticated("sign in first (POST /api/v1/session) or send a bearer token")
        })
    }
}

pub(crate) fn request_id(headers: &HeaderMap) -> String {
    headers
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The value of the session cookie, if the request carries one.
pub(crate) fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_owned())
}

/// The signed-in person of a request carrying a live session cookie (the idle clock is
/// reset), for the web pages, which have no bearer tokens and redirect rather than answer
/// 401. `None` without a cookie or with an ended or expired session.
pub(crate) fn session_caller(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Caller>, ApiError> {
    let Some(id) = session_cookie(headers) else {
        return Ok(None);
    };
    let now = state.now_unix()?;
    Ok(state.sessions().touch(&id, now).map(|principal| Caller {
        principal,
        request_id: request_id(headers),
    }))
}

/// Routes that answer without a credential. The middleware runs inside the `/api/v1` nest,
/// where the prefix is already stripped from the path.
fn is_open(method: &Method, path: &str) -> bool {
    let path = path.strip_prefix("/api/v1").unwrap_or(path);
    matches!(path, "/health" | "/openapi.json")
        || (path == "/session" && method == Method::POST)
        // Peers: each envelope is authenticated by its signature (see `federation_api`).
        || (path == "/federation/inbox" && method == Method::POST)
        || (path == "/federation/identity" && method == Method::GET)
}

/// The authentication middleware (see the module documentation).
pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    if is_open(req.method(), req.uri().path()) {
        return next.run(req).await;
    }
    let rid = request_id(req.headers());
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or("").to_owned());
    let principal = if let Some(auth) = bearer {
        let Some(token) = auth
            .strip_prefix("Bearer ")
            .map(str::trim)
            .map(str::to_owned)
        else {
            return unauthenticated("the Authorization header must be `Bearer <token>`")
                .into_response();
        };
        let answer = state
            .reader()
            .run(move |node| accounts::authenticate_token(node.store.as_ref(), &token))
            .await;
        match answer {
            Ok(Ok(p)) => p,
            Ok(Err(accounts::TokenError::Invalid)) => {
                let entry = entry_for(
                    &state,
                    "anonymous",
                    "",
                    "",
                    "authenticate",
                    "bearer-token",
                    "",
                    false,
                    &["invalid-token".into()],
                    &rid,
                );
                if let Err(e) = state.audit(entry).await {
                    return e.into_response();
                }
                return unauthenticated(accounts::TokenError::Invalid.to_string()).into_response();
            }
            Ok(Err(e)) => return ApiError::internal(e.to_string()).into_response(),
            Err(e) => return e.into_response(),
        }
    } else if let Some(id) = session_cookie(req.headers()) {
        let now = match state.now_unix() {
            Ok(n) => n,
            Err(e) => return e.into_response(),
        };
        match state.sessions().touch(&id, now) {
            Some(p) => p,
            None => {
                return unauthenticated("the session has expired or ended: sign in again")
                    .into_response()
            }
        }
    } else {
        return unauthenticated(
            "this route needs a session (POST /api/v1/session) or a bearer token",
        )
        .into_response();
    };
    req.extensions_mut().insert(Caller {
        principal,
        request_id: rid,
    });
    next.run(req).await
}

/// Whether an allowed action is written to the audit log (denials always are). Reads of
/// records, searches and writes are; ledger proofs (public by design) and health are not.
fn audited(action: Action) -> bool {
    !matches!(action, Action::ReadLedger)
}

#[allow(clippy::too_many_arguments)] // one flat record; a builder would only hide the fields
pub(crate) fn entry_for(
    state: &AppState,
    principal: &str,
    agency: &str,
    role: &str,
    action: &str,
    resource: &str,
    purpose: &str,
    allowed: bool,
    reasons: &[String],
    request_id: &str,
) -> Value {
    json!({
        "v": 1,
        "time": state.clock().now_rfc3339(),
        "principal": principal,
        "agency": agency,
        "role": role,
        "action": action,
        "resource": resource,
        "purpose": purpose,
        "decision": if allowed { "allow" } else { "deny" },
        "reasons": reasons,
        "request_id": request_id,
    })
}

/// The audit entry's text for a resource.
fn resource_text(resource: &Resource, detail: &str) -> String {
    match resource {
        Resource::Item { key, .. } => format!("item:{key}"),
        Resource::Registry if detail.is_empty() => "registry".into(),
        Resource::Registry => detail.to_owned(),
    }
}

impl AppState {
    /// Writes an audit entry and waits until it is on disk.
    pub(crate) async fn audit(&self, entry: Value) -> Result<u64, ApiError> {
        self.audit_writer().append(entry).await
    }

    /// Asks the policy set whether the caller may do `action` on `resource`, records the
    /// decision in the audit log (before answering), and answers 403 on a denial. `detail`
    /// says more about a registry-wide action (the search query, the import).
    pub(crate) async fn authorize(
        &self,
        caller: &Caller,
        action: Action,
        resource: &Resource,
        detail: &str,
        purpose: &str,
    ) -> Result<(), ApiError> {
        let p = &caller.principal;
        let decision = self
            .policy()
            .decide(p, action, resource, purpose)
            .map_err(|e| ApiError::internal(e.to_string()))?;
        if audited(action) || !decision.allowed {
            let entry = entry_for(
                self,
                &p.id(),
                &p.agency,
                p.role.as_str(),
                action.as_str(),
                &resource_text(resource, detail),
                purpose,
                decision.allowed,
                &decision.reasons,
                &caller.request_id,
            );
            self.audit(entry).await?;
        }
        if decision.allowed {
            Ok(())
        } else {
            tracing::warn!(principal = %p.id(), action = action.as_str(), "access denied by policy");
            Err(forbidden(format!(
                "the {} role of agency {} may not {} here",
                p.role,
                p.agency,
                action.as_str().replace('_', " ")
            )))
        }
    }
}

impl AppState {
    /// The custodian agencies whose need-to-know holdings the caller may see, as the policy
    /// decides for reading an item each holds; `None` when it may see all of them (no
    /// restriction to add to a query).
    pub(crate) fn visible_custodians(
        &self,
        caller: &Caller,
        index: &tracemark_search::Index,
        purpose: &str,
    ) -> Result<Option<Vec<String>>, ApiError> {
        let mut visible = Vec::new();
        let mut all = true;
        for custodian in index.custodians() {
            let resource = Resource::Item {
                key: "(search)".into(),
                holder_agency: Some(custodian.to_owned()),
            };
            let decision = self
                .policy()
                .decide(&caller.principal, Action::ReadItem, &resource, purpose)
                .map_err(|e| ApiError::internal(e.to_string()))?;
            if decision.allowed {
                visible.push(custodian.to_owned());
            } else {
                all = false;
            }
        }
        Ok((!all).then_some(visible))
    }
}

/// Checks a client-given purpose: printable, bounded.
pub(crate) fn check_purpose(purpose: Option<&str>, required: bool) -> Result<String, ApiError> {
    let p = purpose.map(str::trim).unwrap_or("");
    if p.is_empty() {
        if required {
            return Err(ApiError::bad_request(
                "this read names possessors (personal data): state its `purpose` (e.g. purpose=case 2026/114)",
            ));
        }
        return Ok(String::new());
    }
    if p.chars().count() > MAX_PURPOSE_CHARS || p.chars().any(char::is_control) {
        return Err(ApiError::bad_request(format!(
            "purpose must be at most {MAX_PURPOSE_CHARS} printable characters"
        )));
    }
    Ok(p.to_owned())
}

/// Records a sign-in attempt (allowed or refused) on the node running it.
pub(crate) fn sign_in_entry(
    state: &AppState,
    name: &str,
    outcome: Result<&Principal, &accounts::LoginError>,
    request_id: &str,
) -> Value {
    let shown = tracemark_domain::account::AccountName::parse(name)
        .map(|n| format!("user:{n}"))
        .unwrap_or_else(|_| "user:(malformed name)".into());
    match outcome {
        Ok(p) => entry_for(
            state,
            &p.id(),
            &p.agency,
            p.role.as_str(),
            "sign_in",
            "session",
            "",
            true,
            &[if p.mfa { "password+totp" } else { "password" }.into()],
            request_id,
        ),
        Err(e) => {
            let reason = match e {
                accounts::LoginError::BadCredentials => "bad-credentials",
                accounts::LoginError::Locked { .. } => "locked",
                accounts::LoginError::CodeRequired => "totp-required",
                accounts::LoginError::BadCode => "bad-totp",
                accounts::LoginError::CodeReplayed => "totp-replayed",
                accounts::LoginError::EnrolmentRequired(_) => "totp-not-enrolled",
                accounts::LoginError::Store(_) | accounts::LoginError::Damaged(_) => "error",
            };
            entry_for(
                state,
                &shown,
                "",
                "",
                "sign_in",
                "session",
                "",
                false,
                &[reason.into()],
                request_id,
            )
        }
    }
}
