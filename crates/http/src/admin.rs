//! Administration over the API (the `administer` action: administrators, with a second
//! factor): agencies, people's accounts and service tokens — what `tracemark agency|user|token`
//! do on the node. Every call, allowed or refused, is in the audit log; secrets (one-time
//! passwords, tokens, TOTP URLs) are in the answer once and nowhere else.

use crate::auth::Caller;
use crate::error::ApiError;
use crate::{schema, AppState};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use tracemark_access::accounts::{self, AccountsError};
use tracemark_access::policy::{Action, Resource};
use tracemark_store::{StoreError, TokenRow, UserRow};

pub(crate) fn failure(e: AccountsError) -> ApiError {
    match e {
        AccountsError::Store(StoreError::Duplicate(what)) => ApiError::new(
            StatusCode::CONFLICT,
            schema::ErrorCode::Conflict,
            format!("{what} already exists"),
        ),
        AccountsError::Store(StoreError::Missing(what)) => {
            ApiError::not_found(format!("no {what}"))
        }
        AccountsError::Store(other) => ApiError::internal(other.to_string()),
        AccountsError::Invalid(_)
        | AccountsError::Password(_)
        | AccountsError::PrivilegedService(_)
        | AccountsError::Refused(_)
        | AccountsError::Totp(_) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            schema::ErrorCode::Unprocessable,
            e.to_string(),
        ),
    }
}

pub(crate) fn user_doc(u: &UserRow) -> schema::User {
    schema::User {
        name: u.name.clone(),
        agency: u.agency.clone(),
        role: u.role.clone(),
        second_factor: match (&u.totp_secret, u.totp_verified) {
            (None, _) => "none",
            (Some(_), false) => "pending",
            (Some(_), true) => "totp",
        }
        .into(),
        locked_until: u.locked_until,
        created_at: u.created_at.clone(),
    }
}

pub(crate) fn token_doc(t: &TokenRow) -> schema::Token {
    schema::Token {
        id: t.id.clone(),
        service: t.service.clone(),
        agency: t.agency.clone(),
        role: t.role.clone(),
        created_at: t.created_at.clone(),
        revoked_at: t.revoked_at.clone(),
    }
}

/// Authorizes (and audits) an administration call described by `detail`.
pub(crate) async fn administer(
    state: &AppState,
    caller: &Caller,
    detail: String,
) -> Result<(), ApiError> {
    state
        .authorize(caller, Action::Administer, &Resource::Registry, &detail, "")
        .await
}

/// Runs an accounts operation on the auditor's connection (small writes).
pub(crate) async fn on_store<R: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&mut dyn tracemark_store::Store) -> Result<R, AccountsError> + Send + 'static,
) -> Result<R, ApiError> {
    state
        .auditor()
        .run(move |node| f(node.store.as_mut()))
        .await?
        .map_err(failure)
}

/// The agencies of the node.
#[utoipa::path(get, path = "/api/v1/agencies", tag = "admin",
    responses(
        (status = 200, description = "Every agency", body = [schema::Agency]),
        (status = 401, description = "No valid credential", body = schema::ErrorBody),
        (status = 403, description = "Only administrators (with a second factor)", body = schema::ErrorBody),
    ))]
pub async fn list_agencies(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<schema::Agency>>, ApiError> {
    agencies(&state, &caller).await.map(Json)
}

/// The agencies, for `GET /api/v1/agencies` and the web's administration.
pub(crate) async fn agencies(
    state: &AppState,
    caller: &Caller,
) -> Result<Vec<schema::Agency>, ApiError> {
    administer(state, caller, "agencies:list".into()).await?;
    let rows = on_store(state, |s| Ok(s.agencies()?)).await?;
    Ok(rows.into_iter().map(agency_doc).collect())
}

fn agency_doc(a: tracemark_store::AgencyRow) -> schema::Agency {
    schema::Agency {
        name: a.name,
        kind: a.kind,
        holder_name: a.holder_name,
        holder_kind: a.holder_kind,
        need_to_know: a.need_to_know,
        created_at: Some(a.created_at),
    }
}

/// Adds an agency (its holdings: holder name and/or kind; need-to-know).
#[utoipa::path(post, path = "/api/v1/agencies", tag = "admin", request_body = schema::Agency,
    responses(
        (status = 201, description = "Added", body = schema::Agency),
        (status = 403, description = "Only administrators (with a second factor)", body = schema::ErrorBody),
        (status = 409, description = "The name is taken", body = schema::ErrorBody),
        (status = 422, description = "A field is not acceptable (the message names it)", body = schema::ErrorBody),
    ))]
pub async fn add_agency(
    State(state): State<AppState>,
    caller: Caller,
    Json(a): Json<schema::Agency>,
) -> Result<(StatusCode, Json<schema::Agency>), ApiError> {
    let row = new_agency(&state, &caller, a).await?;
    Ok((StatusCode::CREATED, Json(row)))
}

/// Adds an agency: `POST /api/v1/agencies` and the web's administration.
pub(crate) async fn new_agency(
    state: &AppState,
    caller: &Caller,
    a: schema::Agency,
) -> Result<schema::Agency, ApiError> {
    administer(state, caller, format!("agencies:add:{}", short(&a.name))).await?;
    let now = state.clock().now_rfc3339();
    let row = on_store(state, move |s| {
        accounts::add_agency(
            s,
            &a.name,
            &a.kind,
            a.holder_name.as_deref(),
            a.holder_kind.as_deref(),
            a.need_to_know,
            &now,
        )
    })
    .await?;
    Ok(agency_doc(row))
}

/// The people's accounts (never their secrets).
#[utoipa::path(get, path = "/api/v1/users", tag = "admin",
    responses(
        (status = 200, description = "Every account", body = [schema::User]),
        (status = 403, description = "Only administrators (with a second factor)", body = schema::ErrorBody),
    ))]
pub async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<schema::User>>, ApiError> {
    users(&state, &caller).await.map(Json)
}

/// The accounts: `GET /api/v1/users` and the web's administration.
pub(crate) async fn users(
    state: &AppState,
    caller: &Caller,
) -> Result<Vec<schema::User>, ApiError> {
    administer(state, caller, "users:list".into()).await?;
    let rows = on_store(state, |s| Ok(s.users()?)).await?;
    Ok(rows.iter().map(user_doc).collect())
}

/// Adds a person's account; the answer holds its one-time password (shown once).
#[utoipa::path(post, path = "/api/v1/users", tag = "admin", request_body = schema::NewUser,
    responses(
        (status = 201, description = "Added", body = schema::CreatedUser),
        (status = 403, description = "Only administrators (with a second factor)", body = schema::ErrorBody),
        (status = 404, description = "No such agency", body = schema::ErrorBody),
        (status = 409, description = "The name is taken", body = schema::ErrorBody),
        (status = 422, description = "A field is not acceptable (the message names it)", body = schema::ErrorBody),
    ))]
pub async fn add_user(
    State(state): State<AppState>,
    caller: Caller,
    Json(u): Json<schema::NewUser>,
) -> Result<(StatusCode, Json<schema::CreatedUser>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(new_user(&state, &caller, u).await?),
    ))
}

/// Adds an account with a one-time password: `POST /api/v1/users` and the web's
/// administration.
pub(crate) async fn new_user(
    state: &AppState,
    caller: &Caller,
    u: schema::NewUser,
) -> Result<schema::CreatedUser, ApiError> {
    administer(state, caller, format!("users:add:{}", short(&u.name))).await?;
    let now = state.clock().now_rfc3339();
    let password = tracemark_access::password::generate_password();
    let given = password.clone();
    let row = on_store(state, move |s| {
        accounts::add_user(s, &u.name, &u.agency, &u.role, &given, &now)
    })
    .await?;
    Ok(schema::CreatedUser {
        user: user_doc(&row),
        password,
    })
}

/// Removes an account's second factor (the person enrols again at the next sign-in, which
/// a privileged role cannot pass without one): the web's administration. Administered and
/// audited as `users:totp-reset:NAME`.
pub(crate) async fn reset_user_totp(
    state: &AppState,
    caller: &Caller,
    name: String,
) -> Result<(), ApiError> {
    administer(state, caller, format!("users:totp-reset:{}", short(&name))).await?;
    let name_for_sessions = name.clone();
    on_store(state, move |s| {
        if s.user(&name)?.is_none() {
            return Err(StoreError::Missing(format!("user '{}'", short(&name))).into());
        }
        Ok(s.set_totp(&name, None, false)?)
    })
    .await?;
    // The sessions opened with the old factor end with it (on this app server: sessions
    // live in each server's memory).
    state.sessions().end_all_of(&name_for_sessions);
    Ok(())
}

/// Ends an account's lockout after failed sign-ins (the failure count back to zero): the
/// web's administration. Administered and audited as `users:unlock:NAME`.
pub(crate) async fn unlock_user(
    state: &AppState,
    caller: &Caller,
    name: String,
) -> Result<(), ApiError> {
    administer(state, caller, format!("users:unlock:{}", short(&name))).await?;
    on_store(state, move |s| {
        if s.user(&name)?.is_none() {
            return Err(StoreError::Missing(format!("user '{}'", short(&name))).into());
        }
        Ok(s.set_login_state(&name, 0, None)?)
    })
    .await
}

/// Removes an account's second factor: the person enrols again at the next sign-in, and the
/// sessions it opened end.
#[utoipa::path(delete, path = "/api/v1/users/{name}/totp", tag = "admin",
    params(("name" = String, Path, description = "The account")),
    responses(
        (status = 204, description = "The second factor is removed"),
        (status = 403, description = "Only administrators (with a second factor)", body = schema::ErrorBody),
        (status = 404, description = "No such account", body = schema::ErrorBody),
    ))]
pub async fn reset_totp(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    reset_user_totp(&state, &caller, name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ends an account's lockout after failed sign-ins.
#[utoipa::path(post, path = "/api/v1/users/{name}/unlock", tag = "admin",
    params(("name" = String, Path, description = "The account")),
    responses(
        (status = 204, description = "The account may sign in again"),
        (status = 403, description = "Only administrators (with a second factor)", body = schema::ErrorBody),
        (status = 404, description = "No such account", body = schema::ErrorBody),
    ))]
pub async fn unlock(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    unlock_user(&state, &caller, name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The node's retention periods in force (`null` = indefinite, the default).
#[utoipa::path(get, path = "/api/v1/retention", tag = "admin",
    responses(
        (status = 200, description = "The periods in force", body = schema::Retention),
        (status = 403, description = "Only administrators (with a second factor)", body = schema::ErrorBody),
    ))]
pub async fn get_retention(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<schema::Retention>, ApiError> {
    administer(&state, &caller, "retention:read".into()).await?;
    let (periods, changes) = on_store(&state, |s| Ok(retention_in_force(s)?)).await?;
    Ok(Json(schema::Retention {
        manufacturing_years: periods.first().copied().flatten(),
        other_years: periods.get(1).copied().flatten(),
        changes,
    }))
}

/// Sets the node's retention periods: each at least the ITI's minimum (manufacturing
/// records 30 years, others 20) or `null` for indefinite. Every change is kept; nothing is
/// purged by Tracemark today.
#[utoipa::path(put, path = "/api/v1/retention", tag = "admin",
    request_body = schema::RetentionPeriods,
    responses(
        (status = 200, description = "The periods now in force", body = schema::Retention),
        (status = 403, description = "Only administrators (with a second factor)", body = schema::ErrorBody),
        (status = 422, description = "A period below the ITI's minimum", body = schema::ErrorBody),
    ))]
pub async fn put_retention(
    State(state): State<AppState>,
    caller: Caller,
    Json(p): Json<schema::RetentionPeriods>,
) -> Result<Json<schema::Retention>, ApiError> {
    set_retention(&state, &caller, vec![p.manufacturing_years, p.other_years]).await?;
    let (periods, changes) = on_store(&state, |s| Ok(retention_in_force(s)?)).await?;
    Ok(Json(schema::Retention {
        manufacturing_years: periods.first().copied().flatten(),
        other_years: periods.get(1).copied().flatten(),
        changes,
    }))
}

/// The federation's peer directory: every other state's node this one exchanges traces with.
#[utoipa::path(get, path = "/api/v1/federation/peers", tag = "admin",
    responses(
        (status = 200, description = "The peers, by state", body = [schema::Peer]),
        (status = 403, description = "Only administrators (with a second factor)", body = schema::ErrorBody),
    ))]
pub async fn list_peers(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<schema::Peer>>, ApiError> {
    peers(&state, &caller).await.map(Json)
}

/// Adds a peer, as `tracemark peer add` does: its public identity (what its
/// `GET /api/v1/federation/identity` answers; compare the fingerprint with its administrator
/// by another channel first) and its base URL. A state known with other keys is refused
/// unless `replace` is true.
#[utoipa::path(post, path = "/api/v1/federation/peers", tag = "admin",
    request_body = schema::NewPeer,
    responses(
        (status = 201, description = "The peer, now in the directory", body = schema::Peer),
        (status = 403, description = "Only administrators (with a second factor)", body = schema::ErrorBody),
        (status = 409, description = "The state is known with other keys (`replace` not asked)", body = schema::ErrorBody),
        (status = 422, description = "Not a public identity, this node's own state, or not a usable URL", body = schema::ErrorBody),
    ))]
pub async fn create_peer(
    State(state): State<AppState>,
    caller: Caller,
    Json(p): Json<schema::NewPeer>,
) -> Result<(StatusCode, Json<schema::Peer>), ApiError> {
    let identity = p.identity.to_string();
    match add_peer(&state, &caller, identity, p.url, p.replace).await? {
        Ok((added, _)) => {
            let peer = peers(&state, &caller)
                .await?
                .into_iter()
                .find(|v| v.state == added)
                .ok_or_else(|| ApiError::internal("a peer just added is not listed"))?;
            Ok((StatusCode::CREATED, Json(peer)))
        }
        Err(PeerRefusal::Conflict(m)) => Err(ApiError::new(
            StatusCode::CONFLICT,
            schema::ErrorCode::Conflict,
            m,
        )),
        Err(PeerRefusal::Identity(m) | PeerRefusal::Url(m)) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            schema::ErrorCode::Unprocessable,
            m,
        )),
    }
}

/// Starts (or restarts) TOTP enrolment of an account: a new secret, as an `otpauth://` URL.
#[utoipa::path(post, path = "/api/v1/users/{name}/totp", tag = "admin",
    params(("name" = String, Path, description = "The account")),
    responses(
        (status = 200, description = "The enrolment URL (shown once)", body = schema::TotpEnrolment),
        (status = 403, description = "Only administrators (with a second factor)", body = schema::ErrorBody),
        (status = 404, description = "No such account", body = schema::ErrorBody),
    ))]
pub async fn enrol_user_totp(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<schema::TotpEnrolment>, ApiError> {
    administer(&state, &caller, format!("users:totp:{}", short(&name))).await?;
    let url = on_store(&state, move |s| accounts::enrol_totp(s, &name)).await?;
    Ok(Json(schema::TotpEnrolment { otpauth_url: url }))
}

/// The service tokens (never their secrets).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "admin",
    responses(
        (status = 200, description = "Every token, live or revoked", body = [schema::Token]),
        (status = 403, description = "Only administrators (with a second factor)", body = schema::ErrorBody),
    ))]
pub async fn list_tokens(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<schema::Token>>, ApiError> {
    tokens(&state, &caller).await.map(Json)
}

/// The service tokens: `GET /api/v1/tokens` and the web's administration.
pub(crate) async fn tokens(
    state: &AppState,
    caller: &Caller,
) -> Result<Vec<schema::Token>, ApiError> {
    administer(state, caller, "tokens:list".into()).await?;
    let rows = on_store(state, |s| Ok(s.tokens()?)).await?;
    Ok(rows.iter().map(token_doc).collect())
}

/// Creates a service account's token; the answer holds it (shown once).
#[utoipa::path(post, path = "/api/v1/tokens", tag = "admin", request_body = schema::NewToken,
    responses(
        (status = 201, description = "Created", body = schema::CreatedToken),
        (status = 403, description = "Only administrators (with a second factor)", body = schema::ErrorBody),
        (status = 404, description = "No such agency", body = schema::ErrorBody),
        (status = 422, description = "A field is not acceptable, or the role is privileged", body = schema::ErrorBody),
    ))]
pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    Json(t): Json<schema::NewToken>,
) -> Result<(StatusCode, Json<schema::CreatedToken>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(new_token(&state, &caller, t).await?),
    ))
}

/// Creates a token (its secret in the answer, once): `POST /api/v1/tokens` and the web's
/// administration.
pub(crate) async fn new_token(
    state: &AppState,
    caller: &Caller,
    t: schema::NewToken,
) -> Result<schema::CreatedToken, ApiError> {
    administer(
        state,
        caller,
        format!("tokens:create:{}", short(&t.service)),
    )
    .await?;
    let now = state.clock().now_rfc3339();
    let (row, secret) = on_store(state, move |s| {
        accounts::create_token(s, &t.service, &t.agency, &t.role, &now)
    })
    .await?;
    Ok(schema::CreatedToken {
        token: token_doc(&row),
        secret,
    })
}

/// Revokes a token at once (its next request answers 401).
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "admin",
    params(("id" = String, Path, description = "The token id (16 hex digits)")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 403, description = "Only administrators (with a second factor)", body = schema::ErrorBody),
        (status = 404, description = "No live token with this id", body = schema::ErrorBody),
    ))]
pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    end_token(&state, &caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revokes a token: `DELETE /api/v1/tokens/{id}` and the web's administration.
pub(crate) async fn end_token(
    state: &AppState,
    caller: &Caller,
    id: String,
) -> Result<(), ApiError> {
    administer(state, caller, format!("tokens:revoke:{}", short(&id))).await?;
    let now = state.clock().now_rfc3339();
    let shown = short(&id);
    let revoked = on_store(state, move |s| Ok(s.revoke_token(&id, &now)?)).await?;
    if revoked {
        Ok(())
    } else {
        Err(ApiError::not_found(format!(
            "no live token with id '{shown}'"
        )))
    }
}

/// A client-given name as it may appear in a message or the audit log: bounded, printable.
pub(crate) fn short(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(64).collect()
}

/// The retention categories: (name, the ITI's minimum in years).
pub(crate) const RETENTION: [(&str, u32); 2] = [("manufacturing", 30), ("other", 20)];

/// The node settings that hold the retention periods: `retention.1`, `retention.2`, … each
/// written once (`Store::setting_once`) with the periods then set, as JSON
/// (`{"manufacturing":40,"other":null}`, `null` = indefinite); the highest is in force. Every
/// change is kept, and the store needs no setter that overwrites.
const RETENTION_KEY: &str = "retention.";

/// The retention periods in force and how many changes there have been.
pub(crate) fn retention_in_force(
    store: &dyn tracemark_store::Store,
) -> Result<(Vec<Option<u32>>, u64), StoreError> {
    let mut n = 0u64;
    let mut current = None;
    while let Some(v) = store.setting(&format!("{RETENTION_KEY}{}", n + 1))? {
        n += 1;
        current = Some(v);
    }
    let doc: serde_json::Value = current
        .and_then(|v| serde_json::from_str(&v).ok())
        .unwrap_or(serde_json::Value::Null);
    Ok((
        RETENTION
            .iter()
            .map(|(name, _)| {
                doc.get(name)
                    .and_then(serde_json::Value::as_u64)
                    .map(|y| y as u32)
            })
            .collect(),
        n,
    ))
}

/// Sets the node's retention periods (years per category of [`RETENTION`], `None` =
/// indefinite, the default): each at least the ITI's minimum (manufacturing records 30
/// years, others 20), else 422 naming the category and nothing stored. Administered and
/// audited as `retention:set:…`. Tracemark purges nothing today: the setting records the
/// node's policy.
pub(crate) async fn set_retention(
    state: &AppState,
    caller: &Caller,
    periods: Vec<Option<u32>>,
) -> Result<(), ApiError> {
    if periods.len() != RETENTION.len() {
        return Err(ApiError::bad_request("one period per retention category"));
    }
    for ((name, min), p) in RETENTION.iter().zip(&periods) {
        if p.is_some_and(|y| y < *min) {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                schema::ErrorCode::Unprocessable,
                format!("{name}: at least {min} years (UN International Tracing Instrument)"),
            ));
        }
    }
    let detail = RETENTION
        .iter()
        .zip(&periods)
        .map(|((name, _), p)| match p {
            Some(y) => format!("{name}={y}"),
            None => format!("{name}=indefinite"),
        })
        .collect::<Vec<_>>()
        .join(",");
    administer(state, caller, format!("retention:set:{detail}")).await?;
    let doc = serde_json::Value::Object(
        RETENTION
            .iter()
            .zip(&periods)
            .map(|((name, _), p)| ((*name).to_owned(), serde_json::json!(p)))
            .collect(),
    )
    .to_string();
    on_store(state, move |s| {
        // The first writer of a key wins: if another server took it, take the next one.
        loop {
            let (_, n) = retention_in_force(s)?;
            let key = format!("{RETENTION_KEY}{}", n + 1);
            if s.setting_once(&key, &doc)? == doc {
                return Ok(());
            }
        }
    })
    .await
}

/// The federation's peer directory (what `tracemark peer list` shows), administered and
/// audited as `peers:list`.
pub(crate) async fn peers(
    state: &AppState,
    caller: &Caller,
) -> Result<Vec<schema::Peer>, ApiError> {
    administer(state, caller, "peers:list".into()).await?;
    state
        .reader()
        .run(|node| {
            tracemark_registry::federation::peers(node).map(|list| {
                list.into_iter()
                    .map(|p| schema::Peer {
                        state: p.row.state.clone(),
                        url: p.peer.url.to_string(),
                        fingerprint: p.peer.identity.fingerprint().grouped(),
                        added_at: p.row.added_at,
                        replaced_at: p.row.replaced_at,
                    })
                    .collect()
            })
        })
        .await?
        .map_err(|e| ApiError::internal(e.to_string()))
}

/// Why a peer was not added, by the field to blame.
pub(crate) enum PeerRefusal {
    Identity(String),
    Url(String),
    /// The state is known with other keys (`replace` not asked).
    Conflict(String),
}

impl PeerRefusal {
    /// The engine's (English) reason, for the log.
    pub(crate) fn message(&self) -> &str {
        match self {
            PeerRefusal::Identity(m) | PeerRefusal::Url(m) | PeerRefusal::Conflict(m) => m,
        }
    }
}

/// Adds (or, with `replace`, re-keys) a peer as `tracemark peer add` does
/// ([`tracemark_registry::federation::add_peer`]): `identity` is the peer's public identity,
/// bare or as `tracemark federation identity --json` prints it (whose fingerprint must then
/// match its keys). Administered and audited as `peers:add:URL`. The answer is the peer's
/// state and fingerprint (to compare with the peer's administrator), or the refusal.
pub(crate) async fn add_peer(
    state: &AppState,
    caller: &Caller,
    identity: String,
    url: String,
    replace: bool,
) -> Result<Result<(String, String), PeerRefusal>, ApiError> {
    use tracemark_registry::federation::FederationError;
    administer(state, caller, format!("peers:add:{}", short(&url))).await?;
    let bare = match bare_identity(&identity) {
        Ok(b) => b,
        Err(m) => return Ok(Err(PeerRefusal::Identity(m))),
    };
    let now = state.clock().now_rfc3339();
    state
        .auditor()
        .run(move |node| {
            match tracemark_registry::federation::add_peer(node, &bare, &url, replace, &now) {
                Ok((peer, _)) => Ok(Ok((
                    peer.state().to_string(),
                    peer.identity.fingerprint().grouped(),
                ))),
                Err(FederationError::PeerUrl(m)) => Ok(Err(PeerRefusal::Url(m))),
                Err(e @ (FederationError::PeerIdentity(_) | FederationError::OwnState(_))) => {
                    Ok(Err(PeerRefusal::Identity(e.to_string())))
                }
                Err(e @ FederationError::KeyConflict(_)) => {
                    Ok(Err(PeerRefusal::Conflict(e.to_string())))
                }
                Err(e) => Err(ApiError::internal(e.to_string())),
            }
        })
        .await?
}

/// The bare public identity JSON from what `tracemark federation identity --json` prints
/// (its fingerprint checked against its keys) or from the bare identity itself (as the CLI's
/// `peer add` reads it).
fn bare_identity(text: &str) -> Result<String, String> {
    let value: serde_json::Value =
        serde_json::from_str(text.trim()).map_err(|e| format!("not JSON: {e}"))?;
    let Some(inner) = value.get("identity") else {
        return Ok(text.trim().to_owned());
    };
    let inner = inner.to_string();
    if let Some(claimed) = value.get("fingerprint") {
        let public =
            tracemark_federation::PublicIdentity::from_json(&inner).map_err(|e| e.to_string())?;
        let actual = public.fingerprint().to_string();
        let claimed = claimed.as_str().unwrap_or_default().replace(' ', "");
        if claimed != actual {
            return Err(format!(
                "the fingerprint given ({claimed}) is not that of the keys given ({actual})"
            ));
        }
    }
    Ok(inner)
}
