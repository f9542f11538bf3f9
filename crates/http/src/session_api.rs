//! The routes of accounts and audit: sign in and out (`/session`), TOTP enrolment
//! (`/session/totp`) and the audit log (`/audit`).
//!
//! Sign-in answers with a session cookie: `HttpOnly` (no script reads it), `SameSite=Strict`
//! (no cross-site request carries it), `Path=/` (the API and the web pages share it), a fresh random id at every sign-in
//! (the id a client came with is ended: no session fixation), and `Secure` (sent back over
//! HTTPS only) when the server speaks HTTPS.

use crate::auth::{self, Caller, SESSION_COOKIE};
use crate::error::ApiError;
use crate::schema;
use crate::AppState;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde::Deserialize;
use tracemark_access::accounts::{self, LoginError};
use tracemark_access::policy::{Action, PrincipalKind, Resource};
use tracemark_store::AuditFilter;
use utoipa::IntoParams;

/// Largest page of the audit log.
pub const MAX_AUDIT_LIMIT: u64 = 1000;

fn login_failure(e: &LoginError) -> ApiError {
    match e {
        LoginError::Locked { .. } => ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            schema::ErrorCode::TooManyRequests,
            e.to_string(),
        ),
        LoginError::EnrolmentRequired(_) => auth::forbidden(e.to_string()),
        LoginError::Store(_) | LoginError::Damaged(_) => ApiError::internal(e.to_string()),
        _ => auth::unauthenticated(e.to_string()),
    }
}

fn info(p: &tracemark_access::Principal, idle: Option<i64>) -> schema::SessionInfo {
    schema::SessionInfo {
        principal: p.id(),
        agency: p.agency.clone(),
        role: p.role.as_str().to_owned(),
        mfa: p.mfa,
        idle_timeout_seconds: idle,
    }
}

/// Sign in with a password (and a TOTP code): answers a session cookie.
#[utoipa::path(
    post,
    path = "/api/v1/session",
    tag = "session",
    security(()),
    request_body = schema::Login,
    responses(
        (status = 200, description = "Signed in; the `tracemark_session` cookie is set", body = schema::SessionInfo),
        (status = 401, description = "Wrong name, password or code, a replayed code, or a code missing", body = schema::ErrorBody),
        (status = 403, description = "The role needs a second factor and the account has none", body = schema::ErrorBody),
        (status = 429, description = "Locked after repeated failures (`Retry-After`)", body = schema::ErrorBody),
    )
)]
pub async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(login): Json<schema::Login>,
) -> Result<Response, ApiError> {
    let signed_in = match sign_in_attempt(
        &state,
        &headers,
        login.username,
        login.password,
        login.totp,
    )
    .await?
    {
        Ok(s) => s,
        Err(e) => {
            let retry_after = match &e {
                LoginError::Locked { retry_after } => Some(*retry_after),
                _ => None,
            };
            let mut res = login_failure(&e).into_response();
            if let Some(s) = retry_after.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
                res.headers_mut().insert(header::RETRY_AFTER, s);
            }
            return Ok(res);
        }
    };
    let body = info(&signed_in.principal, Some(state.sessions().idle_seconds()));
    let mut res = Json(body).into_response();
    res.headers_mut()
        .insert(header::SET_COOKIE, signed_in.cookie);
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// A successful sign-in: who, and the `Set-Cookie` value of the new session.
pub(crate) struct SignedIn {
    pub principal: tracemark_access::Principal,
    pub cookie: HeaderValue,
}

/// The one sign-in, shared by the API (`POST /api/v1/session`) and the web form
/// (`POST /sign-in`): checks the password and code, writes the attempt to the audit log
/// before anyone hears its outcome, and on success ends whatever session the client came
/// with (rotation: no session fixation) and opens a new one. The outer error is a failure
/// of the server; the inner one is the refusal, for the caller to tell in its own form.
pub(crate) async fn sign_in_attempt(
    state: &AppState,
    headers: &HeaderMap,
    username: String,
    password: String,
    totp: Option<String>,
) -> Result<Result<SignedIn, LoginError>, ApiError> {
    sign_in_with(state, headers, username, move |store, name, now| {
        accounts::login(store, name, &password, totp.as_deref(), now)
    })
    .await
}

/// The sign-in of [`sign_in_attempt`] with another check of the credentials (`check` gets
/// the store, the account name and the time): the audit entry, the rotation and the new
/// session are the same. The web's TOTP enrolment finishes a sign-in with it.
pub(crate) async fn sign_in_with(
    state: &AppState,
    headers: &HeaderMap,
    username: String,
    check: impl FnOnce(
            &mut dyn tracemark_store::Store,
            &str,
            i64,
        ) -> Result<tracemark_access::Principal, LoginError>
        + Send
        + 'static,
) -> Result<Result<SignedIn, LoginError>, ApiError> {
    let now = state.now_unix()?;
    let rid = auth::request_id(headers);
    let audit_state = state.clone();
    let outcome = state
        .auditor()
        .run(move |node| {
            let r = check(node.store.as_mut(), &username, now);
            let entry = auth::sign_in_entry(&audit_state, &username, r.as_ref(), &rid);
            // The attempt is on record before anyone hears its outcome.
            if let Err(e) = tracemark_registry::audit::append(node, &entry) {
                return Err(ApiError::internal(format!("writing the audit log: {e}")));
            }
            if let Err(e) = &r {
                tracing::warn!(reason = %e, "sign-in refused");
            }
            Ok(r)
        })
        .await??;
    let principal = match outcome {
        Ok(p) => p,
        Err(e @ (LoginError::Store(_) | LoginError::Damaged(_))) => {
            return Err(ApiError::internal(e.to_string()))
        }
        Err(e) => return Ok(Err(e)),
    };
    // Rotation: whatever session the client came with ends here.
    if let Some(old) = auth::session_cookie(headers) {
        state.sessions().remove(&old);
    }
    let id = state.sessions().create(principal.clone(), now);
    let cookie = format!(
        "{SESSION_COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{}",
        state.sessions().idle_seconds(),
        secure(state)
    );
    let cookie = HeaderValue::from_str(&cookie).map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(Ok(SignedIn { principal, cookie }))
}

/// Finishes a TOTP enrolment begun with `secret` (from [`fresh_enrolment`], shown to the
/// person): the account must still have no verified factor, the code must be valid for the
/// secret and unspent, exactly as [`accounts::login`] checks a first code, and then the
/// secret is stored as verified (`Store::set_totp(.., true)`, as a first sign-in with a code
/// marks it). A wrong code counts as a failed sign-in (same lockout).
pub(crate) fn finish_enrolment(
    store: &mut dyn tracemark_store::Store,
    name: &str,
    secret: &str,
    code: &str,
    now: i64,
) -> Result<tracemark_access::Principal, LoginError> {
    use tracemark_access::policy::Principal;
    let Some(user) = store.user(name)? else {
        return Err(LoginError::BadCredentials);
    };
    if let Some(until) = user.locked_until {
        if now < until {
            return Err(LoginError::Locked {
                retry_after: until - now,
            });
        }
    }
    // Someone enrolled a factor meanwhile (another enrolment): this one is over.
    if user.totp_verified {
        return Err(LoginError::BadCredentials);
    }
    let role = tracemark_domain::account::Role::parse(&user.role)
        .map_err(|e| LoginError::Damaged(e.to_string()))?;
    let step = tracemark_access::totp::matching_step(secret, code.trim(), now.max(0) as u64)
        .map_err(|e| LoginError::Damaged(e.to_string()))?;
    let failed = |store: &mut dyn tracemark_store::Store, why: LoginError| {
        let failures = user.failed_logins.saturating_add(1);
        let locked_until = (failures >= accounts::LOCKOUT_AFTER).then(|| {
            let doublings = (failures - accounts::LOCKOUT_AFTER).min(16);
            now + (accounts::LOCKOUT_BASE_SECONDS << doublings).min(accounts::LOCKOUT_MAX_SECONDS)
        });
        match store.set_login_state(&user.name, failures, locked_until) {
            Ok(()) => why,
            Err(e) => LoginError::Store(e),
        }
    };
    let Some(step) = step else {
        return Err(failed(store, LoginError::BadCode));
    };
    if !store.use_totp_step(&user.name, step)? {
        return Err(failed(store, LoginError::CodeReplayed));
    }
    store.set_totp(&user.name, Some(secret), true)?;
    if user.failed_logins != 0 || user.locked_until.is_some() {
        store.set_login_state(&user.name, 0, None)?;
    }
    Ok(Principal {
        kind: PrincipalKind::User,
        name: user.name,
        agency: user.agency,
        role,
        mfa: true,
    })
}

/// Ends the session the request carries (if any) and answers the `Set-Cookie` value that
/// removes the cookie: shared by `DELETE /api/v1/session` and the web's `POST /sign-out`.
pub(crate) fn end_session(state: &AppState, headers: &HeaderMap) -> Option<HeaderValue> {
    if let Some(id) = auth::session_cookie(headers) {
        state.sessions().remove(&id);
    }
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0{}",
        secure(state)
    ))
    .ok()
}

/// The cookie attribute `; Secure` when the server speaks HTTPS (a browser then sends the
/// cookie back over HTTPS only), else nothing.
fn secure(state: &AppState) -> &'static str {
    if state.secure_cookies() {
        "; Secure"
    } else {
        ""
    }
}

/// Who is signed in.
#[utoipa::path(
    get,
    path = "/api/v1/session",
    tag = "session",
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The principal of this session or token", body = schema::SessionInfo),
        (status = 401, description = "No valid credential", body = schema::ErrorBody),
    )
)]
pub async fn whoami(State(state): State<AppState>, caller: Caller) -> Json<schema::SessionInfo> {
    let idle =
        (caller.principal.kind == PrincipalKind::User).then(|| state.sessions().idle_seconds());
    Json(info(&caller.principal, idle))
}

/// Sign out: ends the session.
#[utoipa::path(
    delete,
    path = "/api/v1/session",
    tag = "session",
    security(("session" = [])),
    responses(
        (status = 204, description = "The session has ended"),
        (status = 401, description = "No valid session", body = schema::ErrorBody),
    )
)]
pub async fn sign_out(
    State(state): State<AppState>,
    _caller: Caller,
    headers: HeaderMap,
) -> Response {
    let mut res = StatusCode::NO_CONTENT.into_response();
    if let Some(v) = end_session(&state, &headers) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

/// Start TOTP enrolment for the signed-in person (accounts without a verified second factor
/// only; the next sign-in with a valid code finishes it).
#[utoipa::path(
    post,
    path = "/api/v1/session/totp",
    tag = "session",
    security(("session" = [])),
    responses(
        (status = 200, description = "The secret as an otpauth:// URL, shown once", body = schema::TotpEnrolment),
        (status = 401, description = "No valid session", body = schema::ErrorBody),
        (status = 409, description = "Already enrolled: an administrator resets it on the node", body = schema::ErrorBody),
    )
)]
pub async fn enrol_totp(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<schema::TotpEnrolment>, ApiError> {
    if caller.principal.kind != PrincipalKind::User {
        return Err(auth::forbidden("service accounts have no second factor"));
    }
    let url = start_enrolment(&state, caller.principal.name.clone()).await?;
    Ok(Json(schema::TotpEnrolment { otpauth_url: url }))
}

/// Starts TOTP enrolment of the person `name` (a fresh secret, as an `otpauth://` URL),
/// refused (409) when a verified second factor is already enrolled: `POST
/// /api/v1/session/totp`.
pub(crate) async fn start_enrolment(state: &AppState, name: String) -> Result<String, ApiError> {
    state
        .auditor()
        .run(move |node| {
            may_enrol(node.store.as_ref(), &name)?;
            accounts::enrol_totp(node.store.as_mut(), &name)
                .map_err(|e| ApiError::internal(e.to_string()))
        })
        .await?
}

/// The check of [`start_enrolment`]: the account exists and has no verified second factor
/// (a stolen session must not be able to move an enrolled one: 409).
fn may_enrol(store: &dyn tracemark_store::Store, name: &str) -> Result<(), ApiError> {
    let user = store
        .user(name)
        .map_err(|e| ApiError::internal(e.to_string()))?
        .ok_or_else(|| auth::unauthenticated("the account no longer exists"))?;
    if user.totp_verified {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            schema::ErrorCode::BadRequest,
            "a second factor is already enrolled; an administrator can reset it on the node (`tracemark user totp`)",
        ));
    }
    Ok(())
}

/// The web's enrolment: the check of [`start_enrolment`], and a fresh secret with its
/// `otpauth://` URL (as `accounts::enrol_totp` makes them) that is *not yet stored*: it is
/// written, verified, by [`finish_enrolment`] when its first code is right, so an enrolment
/// abandoned halfway leaves the account as it was.
pub(crate) async fn fresh_enrolment(
    state: &AppState,
    name: String,
) -> Result<(String, String), ApiError> {
    state
        .reader()
        .run(move |node| {
            may_enrol(node.store.as_ref(), &name)?;
            let secret = tracemark_access::totp::new_secret();
            let url = tracemark_access::totp::otpauth_url(&secret, &name)
                .map_err(|e| ApiError::internal(e.to_string()))?;
            Ok((secret, url))
        })
        .await?
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// First entry index (default 0).
    pub from: Option<u64>,
    /// Entries per page (default 100, at most 1000).
    pub limit: Option<u64>,
    /// Only entries of this principal (`user:<name>` or `service:<name>`, as entries name them).
    pub principal: Option<String>,
    /// Only entries of this agency.
    pub agency: Option<String>,
    /// Only this action (e.g. `read_item`, `search`, `sign_in`).
    pub action: Option<String>,
    /// Only entries about this resource (e.g. `item:<key>`).
    pub resource: Option<String>,
    /// Only `allow` or only `deny`.
    pub decision: Option<String>,
    /// Only entries at or after this time (RFC 3339, UTC, e.g. `2026-12-04T10:00:00Z`).
    pub since: Option<String>,
    /// Only entries before this time (RFC 3339, UTC).
    pub until: Option<String>,
}

impl AuditParams {
    fn filter(&self) -> Result<AuditFilter, ApiError> {
        let text = |name: &str, v: &Option<String>| -> Result<Option<String>, ApiError> {
            match v.as_deref().map(str::trim) {
                None | Some("") => Ok(None),
                Some(v) if v.len() > 1000 => Err(ApiError::bad_request(format!(
                    "{name} is {} bytes long; at most 1000",
                    v.len()
                ))),
                Some(v) => Ok(Some(v.to_owned())),
            }
        };
        let decision = text("decision", &self.decision)?;
        if let Some(d) = &decision {
            if d != "allow" && d != "deny" {
                return Err(ApiError::bad_request(format!(
                    "decision '{}' is neither 'allow' nor 'deny'",
                    d.chars().take(40).collect::<String>()
                )));
            }
        }
        // Entries carry UTC times as `YYYY-MM-DDTHH:MM:SS[.fff]Z` and are compared as text:
        // a bound is accepted in any RFC 3339 form and rewritten to that one.
        let time = |name: &str, v: &Option<String>| -> Result<Option<String>, ApiError> {
            let Some(v) = text(name, v)? else {
                return Ok(None);
            };
            let t = time::OffsetDateTime::parse(&v, &time::format_description::well_known::Rfc3339)
                .map_err(|e| {
                    ApiError::bad_request(format!(
                        "{name} '{}' is not an RFC 3339 time (e.g. 2026-12-04T10:00:00Z): {e}",
                        v.chars().take(40).collect::<String>()
                    ))
                })?;
            // Entries are stamped in whole seconds.
            let t = t.to_offset(time::UtcOffset::UTC);
            let t = t.replace_nanosecond(0).unwrap_or(t);
            Ok(Some(
                t.format(&time::format_description::well_known::Rfc3339)
                    .map_err(|e| ApiError::internal(e.to_string()))?,
            ))
        };
        Ok(AuditFilter {
            principal: text("principal", &self.principal)?,
            agency: text("agency", &self.agency)?,
            action: text("action", &self.action)?,
            resource: text("resource", &self.resource)?,
            decision,
            since: time("since", &self.since)?,
            until: time("until", &self.until)?,
        })
    }
}

/// The audit log, for auditors: every read of items and custody, search, import, sign-in and
/// denial, in order, with the latest signed audit checkpoint.
#[utoipa::path(
    get,
    path = "/api/v1/audit",
    tag = "audit",
    params(AuditParams),
    security(("session" = [])),
    responses(
        (status = 200, description = "A page of audit entries", body = schema::AuditPage),
        (status = 401, description = "No valid credential", body = schema::ErrorBody),
        (status = 403, description = "Only auditors read the audit log", body = schema::ErrorBody),
    )
)]
pub async fn audit_log(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<AuditParams>,
) -> Result<Json<schema::AuditPage>, ApiError> {
    let from = p.from.unwrap_or(0);
    let limit = p.limit.unwrap_or(100);
    let filter = p.filter()?;
    if limit > MAX_AUDIT_LIMIT {
        return Err(ApiError::bad_request(format!(
            "limit {limit} is above the maximum of {MAX_AUDIT_LIMIT}"
        )));
    }
    state
        .authorize(
            &caller,
            Action::ReadAudit,
            &Resource::Registry,
            &format!("audit:{from}+{limit}"),
            "",
        )
        .await?;
    let (size, checkpoint, rows) = state
        .auditor()
        .run(move |node| {
            Ok::<_, tracemark_store::StoreError>((
                node.store.audit_size()?,
                node.store.latest_audit_checkpoint()?,
                node.store.audit_entries(from, limit, &filter)?,
            ))
        })
        .await?
        .map_err(|e| ApiError::internal(format!("reading the audit log: {e}")))?;
    // With a filter, a page can end before the log does: `next` resumes after its last entry.
    let next = (rows.len() as u64 == limit && limit > 0)
        .then(|| rows.last().map(|r| r.index + 1))
        .flatten();
    let entries = rows
        .into_iter()
        .map(|r| schema::AuditEntry {
            index: r.index,
            leaf_hash: base64::engine::general_purpose::STANDARD.encode(r.leaf_hash),
            entry: serde_json::from_slice(&r.data).unwrap_or(serde_json::Value::Null),
        })
        .collect();
    Ok(Json(schema::AuditPage {
        size,
        checkpoint: checkpoint.map(|c| c.note),
        next,
        entries,
    }))
}
