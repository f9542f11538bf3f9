//! Administration (`/admin…`): agencies, users, roles, MFA resets, API tokens, peers,
//! retention. Administrators only, with their second factor: every page and action goes
//! through the API's own functions in [`crate::admin`] (the `administer` policy decision,
//! written to the audit log, allowed or refused); a refusal is the 403 page.
//!
//! | route | page |
//! | --- | --- |
//! | `GET /admin` | agencies, users (second factor, lockout), roles (from the policy), tokens, peers, retention; a form per action |
//! | `POST /admin/agencies` | add an agency: `name`, `kind`, `holder_name`, `holder_kind`, `need_to_know` |
//! | `POST /admin/users` | add an account: `name`, `agency`, `role`; on to its one-time password |
//! | `POST /admin/users/{name}/reset-mfa` | removes the second factor (enrolment again at the next sign-in) |
//! | `POST /admin/users/{name}/unlock` | ends a lockout after failed sign-ins |
//! | `POST /admin/tokens` | create a service token: `service`, `agency`, `role`; on to the token, once |
//! | `POST /admin/tokens/{id}/revoke` | revoke a token |
//! | `POST /admin/peers` | add a peer as `tracemark peer add` does: `peer_url`, `identity` (the peer's `tracemark federation identity --json`), `replace` (new keys for a known state) |
//! | `POST /admin/retention` | retention periods in years, `manufacturing` (≥ 30) and `other` (≥ 20); empty = indefinite (kept as node settings `retention.N`, see [`crate::admin::set_retention`]) |
//! | `GET /admin/shown/{id}` | a one-time password or token, shown once, to the administrator who made it |
//!
//! Every form carries `csrf`. The peers' fingerprints are listed, to compare with each
//! peer's administrator before trusting it.

use super::{csrf, Ctx, FieldError};
use crate::admin;
use crate::error::ApiError;
use crate::{schema, AppState};
use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use tracemark_access::policy::{Action, Principal, PrincipalKind, Resource};
use tracemark_domain::account::Role;

use crate::admin::RETENTION;

/// How long a one-time secret waits to be shown.
const SHOWN_SECONDS: i64 = 300;

/// This area's routes.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(admin_page))
        .route("/admin/agencies", post(add_agency))
        .route("/admin/users", post(add_user))
        .route("/admin/users/{name}/reset-mfa", post(reset_mfa))
        .route("/admin/users/{name}/unlock", post(unlock))
        .route("/admin/tokens", post(add_token))
        .route("/admin/tokens/{id}/revoke", post(revoke_token))
        .route("/admin/retention", post(set_retention))
        .route("/admin/peers", post(add_peer))
        .route("/admin/shown/{id}", get(shown_page))
}

/// A secret waiting for its one showing: (expires, label key, who/what, secret, the
/// administrator who made it — the only one who may see it).
type Shown = (i64, &'static str, String, String, String);

fn shown() -> std::sync::MutexGuard<'static, HashMap<String, Shown>> {
    static TABLE: OnceLock<Mutex<HashMap<String, Shown>>> = OnceLock::new();
    match TABLE.get_or_init(|| Mutex::new(HashMap::new())).lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

struct UserRow {
    name: String,
    agency: String,
    role: String,
    mfa: String,
    locked: Option<String>,
}

struct RoleRow {
    role: String,
    actions: Vec<String>,
}

struct TokenRow {
    id: String,
    service: String,
    agency: String,
    role: String,
    created: String,
    revoked: Option<String>,
}

struct RetentionRow {
    field: &'static str,
    label: String,
    minimum: String,
    value: String,
    current: String,
}

#[derive(Template)]
#[template(path = "web/admin.html")]
struct AdminPage {
    c: super::Chrome,
    agencies: Vec<schema::Agency>,
    users: Vec<UserRow>,
    roles: Vec<RoleRow>,
    role_codes: Vec<(String, String)>,
    kinds: Vec<(String, String)>,
    tokens: Vec<TokenRow>,
    peers: Vec<crate::schema::Peer>,
    retention: Vec<RetentionRow>,
    errors: Vec<FieldError>,
    /// Which form the errors are of.
    form: &'static str,
    values: HashMap<String, String>,
}

impl AdminPage {
    fn error(&self, id: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == id)
            .map(|e| e.message.as_str())
    }
    fn value(&self, id: &str) -> &str {
        self.values.get(id).map(String::as_str).unwrap_or("")
    }
}

/// The roles and what each may do, asked of the policy itself (with and without a second
/// factor, so that what needs one shows).
fn roles(state: &AppState, tr: &super::i18n::Tr) -> Vec<RoleRow> {
    Role::ALL
        .iter()
        .map(|role| {
            let who = |mfa| Principal {
                kind: PrincipalKind::User,
                name: "someone".into(),
                agency: "an-agency".into(),
                role: *role,
                mfa,
            };
            let actions = Action::ALL
                .iter()
                .filter_map(|a| {
                    let resource = match a {
                        Action::ReadItem | Action::ReadCustody => Resource::Item {
                            key: "an-item".into(),
                            holder_agency: None,
                        },
                        _ => Resource::Registry,
                    };
                    let may = |mfa| {
                        state
                            .policy()
                            .decide(&who(mfa), *a, &resource, "a stated purpose")
                            .map(|d| d.allowed)
                            .unwrap_or(false)
                    };
                    let name = tr.code("admin-action", a.as_str());
                    match (may(false), may(true)) {
                        (true, _) => Some(name),
                        (false, true) => Some(tr.arg("admin-action-with-mfa", "action", &name)),
                        _ => None,
                    }
                })
                .collect();
            RoleRow {
                role: tr.code("admin-role", role.as_str()),
                actions,
            }
        })
        .collect()
}

/// The whole page, after the `administer` decision (made, and audited, by the list calls).
async fn page_data(
    state: &AppState,
    ctx: &Ctx,
    caller: &crate::auth::Caller,
) -> Result<AdminPage, ApiError> {
    let tr = ctx.tr;
    let agencies = admin::agencies(state, caller).await?;
    let users = admin::users(state, caller).await?;
    let tokens = admin::tokens(state, caller).await?;
    let peers = admin::peers(state, caller).await?;
    let settings = state
        .reader()
        .run(move |node| admin::retention_in_force(node.store.as_ref()).map(|r| r.0))
        .await?
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let peers = peers
        .into_iter()
        .map(|mut p| {
            p.added_at = tr.date(&p.added_at);
            p.replaced_at = p.replaced_at.map(|r| tr.date(&r));
            p
        })
        .collect();
    let now = state.now_unix()?;
    let users = users
        .into_iter()
        .map(|u| UserRow {
            mfa: tr.t(&format!("admin-mfa-{}", u.second_factor)),
            locked: u
                .locked_until
                .filter(|t| *t > now)
                .map(|t| tr.args("admin-locked", &[("minutes", ((t - now + 59) / 60).into())])),
            role: tr.code("admin-role", &u.role),
            name: u.name,
            agency: u.agency,
        })
        .collect();
    let tokens = tokens
        .into_iter()
        .map(|t| TokenRow {
            created: tr.date(&t.created_at),
            revoked: t.revoked_at.as_deref().map(|r| tr.date(r)),
            role: tr.code("admin-role", &t.role),
            id: t.id,
            service: t.service,
            agency: t.agency,
        })
        .collect();
    let retention = RETENTION
        .iter()
        .zip(settings)
        .map(|((field, min), v)| RetentionRow {
            field,
            label: tr.t(&format!("admin-retention-{field}")),
            minimum: tr.args("admin-retention-minimum", &[("years", (*min).into())]),
            current: match v {
                Some(y) => tr.args("admin-retention-years", &[("years", y.into())]),
                None => tr.t("admin-retention-indefinite"),
            },
            value: v.map(|y| y.to_string()).unwrap_or_default(),
        })
        .collect();
    Ok(AdminPage {
        c: ctx.chrome("admin-title"),
        agencies,
        users,
        roles: roles(state, &tr),
        role_codes: Role::ALL
            .iter()
            .map(|r| (r.as_str().to_owned(), tr.code("admin-role", r.as_str())))
            .collect(),
        kinds: [
            "police",
            "defence",
            "customs",
            "licensing",
            "dealer",
            "other",
        ]
        .iter()
        .map(|k| ((*k).to_owned(), tr.code("admin-kind", k)))
        .collect(),
        tokens,
        peers,
        retention,
        errors: Vec::new(),
        form: "",
        values: HashMap::new(),
    })
}

/// `GET /admin`.
async fn admin_page(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let (ctx, caller) = match Ctx::signed_in(&state, &headers, &uri) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    match page_data(&state, &ctx, &caller).await {
        Ok(p) => ctx.render(StatusCode::OK, &p),
        Err(e) => ctx.error_page(&e),
    }
}

/// The page again with the form's errors (422), or the error page.
async fn with_errors(
    state: &AppState,
    ctx: &Ctx,
    caller: &crate::auth::Caller,
    form: &'static str,
    errors: Vec<FieldError>,
    values: HashMap<String, String>,
) -> Response {
    match page_data(state, ctx, caller).await {
        Ok(mut p) => {
            p.errors = errors;
            p.form = form;
            p.values = values;
            ctx.render(StatusCode::UNPROCESSABLE_ENTITY, &p)
        }
        Err(e) => ctx.error_page(&e),
    }
}

fn field_error(ctx: &Ctx, field: &'static str, label: &str, message: &str) -> FieldError {
    FieldError {
        field,
        label: ctx.tr.t(label),
        message: ctx.tr.t(message),
    }
}

#[derive(Deserialize)]
struct AgencyForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    holder_name: String,
    #[serde(default)]
    holder_kind: String,
    #[serde(default)]
    need_to_know: Option<String>,
    #[serde(default)]
    csrf: String,
}

/// `POST /admin/agencies`.
async fn add_agency(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Form(f): Form<AgencyForm>,
) -> Response {
    let (ctx, caller) = match Ctx::signed_in(&state, &headers, &uri) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    if !csrf::check(&headers, &f.csrf) {
        return ctx.csrf_refused();
    }
    let name = f.name.trim().to_owned();
    let mut errors = Vec::new();
    if tracemark_domain::account::AgencyName::parse(&name).is_err() {
        errors.push(field_error(
            &ctx,
            "agency-name",
            "admin-agency-name",
            "admin-error-name",
        ));
    }
    if tracemark_domain::account::AgencyKind::parse(&f.kind).is_err() {
        errors.push(field_error(
            &ctx,
            "agency-kind",
            "admin-agency-kind",
            "admin-error-choose",
        ));
    }
    let holder_kind = Some(f.holder_kind.trim().to_owned()).filter(|s| !s.is_empty());
    if holder_kind
        .as_deref()
        .is_some_and(|k| tracemark_domain::model::ActorKind::parse(k).is_none())
    {
        errors.push(field_error(
            &ctx,
            "agency-holder-kind",
            "admin-agency-holder-kind",
            "admin-error-holder-kind",
        ));
    }
    let holder_name = Some(f.holder_name.trim().to_owned()).filter(|s| !s.is_empty());
    let need_to_know = f.need_to_know.is_some();
    if need_to_know && holder_name.is_none() && holder_kind.is_none() {
        errors.push(field_error(
            &ctx,
            "agency-holder-name",
            "admin-agency-holder-name",
            "admin-error-need-to-know",
        ));
    }
    let values = HashMap::from([
        ("agency-name".to_owned(), name.clone()),
        ("agency-holder-name".to_owned(), f.holder_name.clone()),
        ("agency-holder-kind".to_owned(), f.holder_kind.clone()),
    ]);
    if errors.is_empty() {
        let a = schema::Agency {
            name,
            kind: f.kind,
            holder_name,
            holder_kind,
            need_to_know,
            created_at: None,
        };
        match admin::new_agency(&state, &caller, a).await {
            Ok(_) => return ctx.redirect("/admin#agencies"),
            Err(e) if e.status == StatusCode::CONFLICT => errors.push(field_error(
                &ctx,
                "agency-name",
                "admin-agency-name",
                "admin-error-taken",
            )),
            Err(e) => return ctx.error_page(&e),
        }
    }
    with_errors(&state, &ctx, &caller, "agency", errors, values).await
}

#[derive(Deserialize)]
struct UserForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    agency: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    csrf: String,
}

/// Stashes a secret for its one showing; the path of the page that shows it.
fn stash(
    state: &AppState,
    caller: &crate::auth::Caller,
    label: &'static str,
    what: String,
    secret: String,
) -> String {
    let now = state.now_unix().unwrap_or(0);
    let id = super::session::random_id();
    let mut t = shown();
    t.retain(|_, s| s.0 > now);
    t.insert(
        id.clone(),
        (
            now + SHOWN_SECONDS,
            label,
            what,
            secret,
            caller.principal.id(),
        ),
    );
    format!("/admin/shown/{id}")
}

/// `POST /admin/users`.
async fn add_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Form(f): Form<UserForm>,
) -> Response {
    let (ctx, caller) = match Ctx::signed_in(&state, &headers, &uri) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    if !csrf::check(&headers, &f.csrf) {
        return ctx.csrf_refused();
    }
    let name = f.name.trim().to_owned();
    let agency = f.agency.trim().to_owned();
    let mut errors = Vec::new();
    if tracemark_domain::account::AccountName::parse(&name).is_err() {
        errors.push(field_error(
            &ctx,
            "user-name",
            "admin-user-name",
            "admin-error-name",
        ));
    }
    if tracemark_domain::account::AgencyName::parse(&agency).is_err() {
        errors.push(field_error(
            &ctx,
            "user-agency",
            "admin-user-agency",
            "admin-error-choose",
        ));
    }
    if Role::parse(&f.role).is_err() {
        errors.push(field_error(
            &ctx,
            "user-role",
            "admin-user-role",
            "admin-error-choose",
        ));
    }
    let values = HashMap::from([("user-name".to_owned(), name.clone())]);
    if errors.is_empty() {
        let u = schema::NewUser {
            name: name.clone(),
            agency,
            role: f.role,
        };
        match admin::new_user(&state, &caller, u).await {
            Ok(created) => {
                let to = stash(
                    &state,
                    &caller,
                    "admin-shown-password",
                    name,
                    created.password,
                );
                return ctx.redirect(&to);
            }
            Err(e) if e.status == StatusCode::CONFLICT => errors.push(field_error(
                &ctx,
                "user-name",
                "admin-user-name",
                "admin-error-taken",
            )),
            Err(e) if e.status == StatusCode::NOT_FOUND => errors.push(field_error(
                &ctx,
                "user-agency",
                "admin-user-agency",
                "admin-error-choose",
            )),
            Err(e) => return ctx.error_page(&e),
        }
    }
    with_errors(&state, &ctx, &caller, "user", errors, values).await
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /admin/users/{name}/reset-mfa`.
async fn reset_mfa(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Path(name): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Response {
    let (ctx, caller) = match Ctx::signed_in(&state, &headers, &uri) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    if !csrf::check(&headers, &f.csrf) {
        return ctx.csrf_refused();
    }
    match admin::reset_user_totp(&state, &caller, name).await {
        Ok(()) => ctx.redirect("/admin#users"),
        Err(e) => ctx.error_page(&e),
    }
}

/// `POST /admin/users/{name}/unlock`.
async fn unlock(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Path(name): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Response {
    let (ctx, caller) = match Ctx::signed_in(&state, &headers, &uri) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    if !csrf::check(&headers, &f.csrf) {
        return ctx.csrf_refused();
    }
    match admin::unlock_user(&state, &caller, name).await {
        Ok(()) => ctx.redirect("/admin#users"),
        Err(e) => ctx.error_page(&e),
    }
}

#[derive(Deserialize)]
struct TokenForm {
    #[serde(default)]
    service: String,
    #[serde(default)]
    agency: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /admin/tokens`.
async fn add_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Form(f): Form<TokenForm>,
) -> Response {
    let (ctx, caller) = match Ctx::signed_in(&state, &headers, &uri) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    if !csrf::check(&headers, &f.csrf) {
        return ctx.csrf_refused();
    }
    let service = f.service.trim().to_owned();
    let agency = f.agency.trim().to_owned();
    let mut errors = Vec::new();
    if tracemark_domain::account::ServiceName::parse(&service).is_err() {
        errors.push(field_error(
            &ctx,
            "token-service",
            "admin-token-service",
            "admin-error-name",
        ));
    }
    if tracemark_domain::account::AgencyName::parse(&agency).is_err() {
        errors.push(field_error(
            &ctx,
            "token-agency",
            "admin-token-agency",
            "admin-error-choose",
        ));
    }
    match Role::parse(&f.role) {
        Ok(r) if r.is_privileged() => errors.push(field_error(
            &ctx,
            "token-role",
            "admin-token-role",
            "admin-error-privileged",
        )),
        Ok(_) => {}
        Err(_) => errors.push(field_error(
            &ctx,
            "token-role",
            "admin-token-role",
            "admin-error-choose",
        )),
    }
    let values = HashMap::from([("token-service".to_owned(), service.clone())]);
    if errors.is_empty() {
        let t = schema::NewToken {
            service: service.clone(),
            agency,
            role: f.role,
        };
        match admin::new_token(&state, &caller, t).await {
            Ok(created) => {
                let to = stash(
                    &state,
                    &caller,
                    "admin-shown-token",
                    service,
                    created.secret,
                );
                return ctx.redirect(&to);
            }
            Err(e) if e.status == StatusCode::NOT_FOUND => errors.push(field_error(
                &ctx,
                "token-agency",
                "admin-token-agency",
                "admin-error-choose",
            )),
            Err(e) => return ctx.error_page(&e),
        }
    }
    with_errors(&state, &ctx, &caller, "token", errors, values).await
}

/// `POST /admin/tokens/{id}/revoke`.
async fn revoke_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Response {
    let (ctx, caller) = match Ctx::signed_in(&state, &headers, &uri) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    if !csrf::check(&headers, &f.csrf) {
        return ctx.csrf_refused();
    }
    match admin::end_token(&state, &caller, id).await {
        Ok(()) => ctx.redirect("/admin#tokens"),
        Err(e) => ctx.error_page(&e),
    }
}

#[derive(Deserialize)]
struct RetentionForm {
    #[serde(default)]
    manufacturing: String,
    #[serde(default)]
    other: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /admin/retention`.
async fn set_retention(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Form(f): Form<RetentionForm>,
) -> Response {
    let (ctx, caller) = match Ctx::signed_in(&state, &headers, &uri) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    if !csrf::check(&headers, &f.csrf) {
        return ctx.csrf_refused();
    }
    let given = [f.manufacturing.trim(), f.other.trim()];
    let mut errors = Vec::new();
    let mut values = HashMap::new();
    let mut periods = Vec::new();
    for ((field, min), v) in RETENTION.iter().zip(given) {
        values.insert(format!("retention-{field}"), v.to_owned());
        if v.is_empty() {
            periods.push(None);
            continue;
        }
        match v.parse::<u32>() {
            Ok(y) if y >= *min && y <= 1000 => periods.push(Some(y)),
            _ => errors.push(FieldError {
                field: if *field == "manufacturing" {
                    "retention-manufacturing"
                } else {
                    "retention-other"
                },
                label: ctx.tr.t(&format!("admin-retention-{field}")),
                message: ctx
                    .tr
                    .args("admin-error-retention", &[("years", (*min).into())]),
            }),
        }
    }
    if !errors.is_empty() {
        return with_errors(&state, &ctx, &caller, "retention", errors, values).await;
    }
    match admin::set_retention(&state, &caller, periods).await {
        Ok(()) => ctx.redirect("/admin#retention"),
        Err(e) => ctx.error_page(&e),
    }
}

#[derive(Template)]
#[template(path = "web/admin_shown.html")]
struct ShownPage {
    c: super::Chrome,
    label: String,
    what: String,
    secret: String,
}

/// `GET /admin/shown/{id}`: the secret, once (the id is gone after).
async fn shown_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> Response {
    let (ctx, caller) = match Ctx::signed_in(&state, &headers, &uri) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let now = state.now_unix().unwrap_or(0);
    let me = caller.principal.id();
    let found = {
        let mut t = shown();
        match t.get(&id) {
            Some(s) if s.4 == me && s.0 > now => t.remove(&id),
            _ => None,
        }
    };
    let Some((_, label, what, secret, _)) = found else {
        return ctx.error_page(&ApiError::not_found("shown already, expired, or not yours"));
    };
    let t = ShownPage {
        c: ctx.chrome("admin-shown-title"),
        label: ctx.tr.t(label),
        what,
        secret,
    };
    ctx.render(StatusCode::OK, &t)
}

#[derive(Deserialize)]
struct PeerForm {
    #[serde(default)]
    peer_url: String,
    #[serde(default)]
    identity: String,
    #[serde(default)]
    replace: Option<String>,
    #[serde(default)]
    csrf: String,
}

/// `POST /admin/peers`.
async fn add_peer(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Form(f): Form<PeerForm>,
) -> Response {
    let (ctx, caller) = match Ctx::signed_in(&state, &headers, &uri) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    if !csrf::check(&headers, &f.csrf) {
        return ctx.csrf_refused();
    }
    let url = f.peer_url.trim().to_owned();
    let values = HashMap::from([
        ("peer-url".to_owned(), url.clone()),
        ("peer-identity".to_owned(), f.identity.clone()),
    ]);
    let mut errors = Vec::new();
    if url.is_empty() {
        errors.push(field_error(
            &ctx,
            "peer-url",
            "admin-peer-url",
            "admin-error-peer-url",
        ));
    }
    if f.identity.trim().is_empty() {
        errors.push(field_error(
            &ctx,
            "peer-identity",
            "admin-peer-identity",
            "admin-error-peer-identity",
        ));
    }
    if errors.is_empty() {
        let outcome = admin::add_peer(&state, &caller, f.identity, url, f.replace.is_some()).await;
        if let Ok(Err(r)) = &outcome {
            tracing::info!(request_id = %ctx.request_id, reason = r.message(), "peer refused");
        }
        match outcome {
            Ok(Ok(_)) => return ctx.redirect("/admin#peers"),
            Ok(Err(admin::PeerRefusal::Url(_))) => errors.push(field_error(
                &ctx,
                "peer-url",
                "admin-peer-url",
                "admin-error-peer-url",
            )),
            Ok(Err(admin::PeerRefusal::Identity(_))) => errors.push(field_error(
                &ctx,
                "peer-identity",
                "admin-peer-identity",
                "admin-error-peer-identity",
            )),
            Ok(Err(admin::PeerRefusal::Conflict(_))) => errors.push(field_error(
                &ctx,
                "peer-identity",
                "admin-peer-identity",
                "admin-error-peer-conflict",
            )),
            Err(e) => return ctx.error_page(&e),
        }
    }
    with_errors(&state, &ctx, &caller, "peer", errors, values).await
}
