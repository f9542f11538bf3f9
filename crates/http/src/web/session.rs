//! Signing in and out, enrolling a second factor, and the person's own account.
//!
//! | route | page |
//! | --- | --- |
//! | `GET`/`POST /sign-in` | the sign-in form: `account`, `password`, `totp` (+ `csrf`); a dead session cookie shows "your session has expired" |
//! | `GET`/`POST /sign-in/enrol` | TOTP enrolment after a right password when the role needs a second factor and the account has none: the QR code and the secret, once; field `code` (+ `csrf`); then signed in |
//! | `POST /sign-out` | ends the session, back to `/sign-in` |
//! | `GET /account` | name, agency, role, second factor, when the session expires |
//! | `POST /account/enrol` | starts enrolment of a second factor when none is verified (the check of `POST /api/v1/session/totp`), on to `/sign-in/enrol` |
//!
//! **Enrolment state.** Between the right password and the first right code the person has
//! no session: only a short-lived, single-purpose enrolment (a random id in the
//! `tracemark_enrol` cookie, `HttpOnly`, `SameSite=Strict`, kept in this process's memory for
//! [`ENROL_SECONDS`], at most [`ENROL_ATTEMPTS`] codes). The secret is shown on the first
//! `GET` only. The secret is stored only when its first code is right
//! ([`session_api::fresh_enrolment`], then [`session_api::finish_enrolment`] through
//! [`session_api::sign_in_with`]: the same `sign_in` audit entry, lockout, replay guard and
//! session rotation as the API's sign-in; the factor stored verified, as a first sign-in with
//! a code marks it), so an abandoned enrolment leaves the account as it was and the next
//! sign-in starts a new one.

use super::i18n::Locale;
use super::{csrf, Ctx, FieldError};
use crate::error::ApiError;
use crate::session_api;
use crate::AppState;
use askama::Template;
use axum::extract::{Form, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine;
use rand_core::{OsRng, RngCore};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use tracemark_access::accounts::LoginError;

/// How long an enrolment may take, from the right password to the first right code.
pub const ENROL_SECONDS: i64 = 10 * 60;
/// Codes an enrolment accepts before it ends (each wrong one also counts toward lockout).
pub const ENROL_ATTEMPTS: u32 = 5;
const ENROL_COOKIE: &str = "tracemark_enrol";

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/sign-in", get(sign_in_page).post(sign_in_submit))
        .route("/sign-in/enrol", get(enrol_page).post(enrol_submit))
        .route("/sign-out", post(sign_out))
        .route("/account", get(account_page))
        .route("/account/enrol", post(account_enrol))
}

/// An enrolment under way (see the module documentation).
struct Enrolment {
    user: String,
    secret: String,
    url: String,
    expires: i64,
    shown: bool,
    attempts: u32,
}

fn enrolments() -> std::sync::MutexGuard<'static, HashMap<String, Enrolment>> {
    static TABLE: OnceLock<Mutex<HashMap<String, Enrolment>>> = OnceLock::new();
    match TABLE.get_or_init(|| Mutex::new(HashMap::new())).lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

/// A fresh random id (32 bytes, base64url).
pub(super) fn random_id() -> String {
    let mut raw = [0u8; 32];
    OsRng.fill_bytes(&mut raw);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

/// Starts the enrolment of `user` (a fresh secret: `session_api::fresh_enrolment`, refused
/// if a verified one exists) and answers the redirect to its page with its cookie.
async fn begin_enrolment(state: &AppState, ctx: &Ctx, user: String) -> Result<Response, ApiError> {
    let (secret, url) = session_api::fresh_enrolment(state, user.clone()).await?;
    let now = state.now_unix()?;
    let id = random_id();
    {
        let mut table = enrolments();
        table.retain(|_, e| e.expires > now && e.user != user);
        table.insert(
            id.clone(),
            Enrolment {
                user,
                secret,
                url,
                expires: now + ENROL_SECONDS,
                shown: false,
                attempts: 0,
            },
        );
    }
    let mut res = ctx.redirect("/sign-in/enrol");
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{ENROL_COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={ENROL_SECONDS}{}",
        if state.secure_cookies() {
            "; Secure"
        } else {
            ""
        }
    )) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(res)
}

fn end_enrol_cookie(res: &mut Response) {
    res.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_static("tracemark_enrol=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
}

/// The enrolment the request's cookie names, if live.
fn enrolment_id(state: &AppState, headers: &HeaderMap) -> Option<String> {
    let id = super::i18n::cookie(headers, ENROL_COOKIE)?;
    let now = state.now_unix().ok()?;
    let mut table = enrolments();
    match table.get(&id) {
        Some(e) if e.expires > now && e.attempts < ENROL_ATTEMPTS => Some(id),
        Some(_) => {
            table.remove(&id);
            None
        }
        None => None,
    }
}

/// The otpauth URL as a QR code: an inline SVG (dark on light, scaled by the style sheet).
fn qr_svg(url: &str) -> String {
    match qrcode::QrCode::new(url.as_bytes()) {
        Ok(code) => {
            let svg = code
                .render::<qrcode::render::svg::Color>()
                .min_dimensions(240, 240)
                .quiet_zone(true)
                .build();
            // Inline in HTML: no XML declaration.
            match svg.find("<svg") {
                Some(i) => svg[i..].to_owned(),
                None => svg,
            }
        }
        Err(_) => String::new(),
    }
}

#[derive(Template)]
#[template(path = "web/enrol.html")]
struct EnrolPage {
    c: super::Chrome,
    /// The QR code (inline SVG, made here from the otpauth URL) and the secret, on the
    /// first view only.
    qr: Option<String>,
    secret: Option<String>,
    account: String,
    expires: String,
    errors: Vec<FieldError>,
    notice: Option<String>,
}

impl EnrolPage {
    fn error(&self, id: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == id)
            .map(|e| e.message.as_str())
    }
}

/// The secret in groups of four, for reading aloud or typing.
fn grouped(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn hhmm_utc(tr: &super::i18n::Tr, unix: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(unix) {
        Ok(t) => {
            let day = format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day());
            tr.args(
                "account-time",
                &[
                    ("date", tr.date(&day).into()),
                    ("time", format!("{:02}:{:02}", t.hour(), t.minute()).into()),
                ],
            )
        }
        Err(_) => String::new(),
    }
}

/// `GET /sign-in/enrol`.
async fn enrol_page(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let ctx = match Ctx::new(&state, &headers, &uri) {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let Some(id) = enrolment_id(&state, &headers) else {
        let mut res = ctx.redirect("/sign-in?enrol=expired");
        end_enrol_cookie(&mut res);
        return res;
    };
    let (qr, secret, account, expires) = {
        let mut table = enrolments();
        let Some(e) = table.get_mut(&id) else {
            return ctx.redirect("/sign-in");
        };
        let first = !e.shown;
        e.shown = true;
        (
            first.then(|| qr_svg(&e.url)),
            first.then(|| grouped(&e.secret)),
            e.user.clone(),
            e.expires,
        )
    };
    let notice = secret.is_none().then(|| ctx.tr.t("enrol-already-shown"));
    let t = EnrolPage {
        c: ctx.chrome("enrol-title"),
        qr,
        secret,
        account,
        expires: hhmm_utc(&ctx.tr, expires),
        errors: Vec::new(),
        notice,
    };
    ctx.render(StatusCode::OK, &t)
}

#[derive(Deserialize)]
struct EnrolForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /sign-in/enrol`: the first code; right, and the person is signed in.
async fn enrol_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Form(form): Form<EnrolForm>,
) -> Response {
    let ctx = match Ctx::new(&state, &headers, &uri) {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let tr = ctx.tr;
    if !csrf::check(&headers, &form.csrf) {
        return ctx.csrf_refused();
    }
    let Some(id) = enrolment_id(&state, &headers) else {
        let mut res = ctx.redirect("/sign-in?enrol=expired");
        end_enrol_cookie(&mut res);
        return res;
    };
    let (user, secret, expires) = {
        let mut table = enrolments();
        let Some(e) = table.get_mut(&id) else {
            return ctx.redirect("/sign-in");
        };
        e.attempts += 1;
        (e.user.clone(), e.secret.clone(), e.expires)
    };
    let code = form.code.trim().to_owned();
    let field = |message: &str| FieldError {
        field: "code",
        label: tr.t("enrol-code"),
        message: tr.t(message),
    };
    let mut errors = Vec::new();
    let mut notice = None;
    let mut status = StatusCode::UNPROCESSABLE_ENTITY;
    if code.is_empty() {
        errors.push(field("error-totp-required"));
    } else {
        let check_secret = secret.clone();
        let attempt =
            session_api::sign_in_with(&state, &headers, user.clone(), move |s, n, now| {
                session_api::finish_enrolment(s, n, &check_secret, &code, now)
            })
            .await;
        match attempt {
            Err(e) => return ctx.error_page(&e),
            Ok(Ok(signed_in)) => {
                enrolments().remove(&id);
                let mut res = welcome(&state, &ctx, signed_in).await;
                end_enrol_cookie(&mut res);
                return res;
            }
            Ok(Err(refused)) => match refused {
                LoginError::BadCode => errors.push(field("error-totp-wrong")),
                LoginError::CodeReplayed => errors.push(field("error-totp-replayed")),
                LoginError::Locked { retry_after } => {
                    status = StatusCode::TOO_MANY_REQUESTS;
                    let minutes = (retry_after.max(1) + 59) / 60;
                    notice = Some(tr.args("error-locked", &[("minutes", minutes.into())]));
                }
                _ => {
                    // The secret is no longer the account's: this enrolment is over.
                    enrolments().remove(&id);
                    let mut res = ctx.redirect("/sign-in?enrol=expired");
                    end_enrol_cookie(&mut res);
                    return res;
                }
            },
        }
    }
    let t = EnrolPage {
        c: ctx.chrome("enrol-title"),
        qr: None,
        secret: None,
        account: user,
        expires: hhmm_utc(&tr, expires),
        errors,
        notice,
    };
    ctx.render(status, &t)
}

#[derive(Template)]
#[template(path = "web/account.html")]
struct AccountPage {
    c: super::Chrome,
    name: String,
    agency: String,
    role: String,
    mfa: String,
    /// Whether the person may start an enrolment here (no verified factor).
    may_enrol: bool,
    expires: String,
}

/// `GET /account`.
async fn account_page(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let (ctx, caller) = match Ctx::signed_in(&state, &headers, &uri) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let tr = ctx.tr;
    let name = caller.principal.name.clone();
    let row = state.reader().run(move |node| node.store.user(&name)).await;
    let row = match row {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return ctx.error_page(&ApiError::internal(e.to_string())),
        Err(e) => return ctx.error_page(&e),
    };
    let (mfa, may_enrol) = match row
        .as_ref()
        .map(|u| (u.totp_secret.is_some(), u.totp_verified))
    {
        Some((_, true)) => ("account-mfa-totp", false),
        Some((true, false)) => ("account-mfa-pending", true),
        _ => ("account-mfa-none", true),
    };
    let now = state.now_unix().unwrap_or(0);
    let t = AccountPage {
        c: ctx.chrome("account-title"),
        name: caller.principal.name.clone(),
        agency: caller.principal.agency.clone(),
        role: tr.code("admin-role", caller.principal.role.as_str()),
        mfa: tr.t(mfa),
        may_enrol,
        // The session was just used: it ends after the idle time from now.
        expires: hhmm_utc(&tr, now + state.sessions().idle_seconds()),
    };
    ctx.render(StatusCode::OK, &t)
}

/// `POST /account/enrol`.
async fn account_enrol(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Form(form): Form<TokenForm>,
) -> Response {
    let (ctx, caller) = match Ctx::signed_in(&state, &headers, &uri) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    if !csrf::check(&headers, &form.csrf) {
        return ctx.csrf_refused();
    }
    match begin_enrolment(&state, &ctx, caller.principal.name.clone()).await {
        Ok(r) => r,
        Err(e) if e.status == StatusCode::CONFLICT => ctx.redirect("/account"),
        Err(e) => ctx.error_page(&e),
    }
}

#[derive(Template)]
#[template(path = "web/sign_in.html")]
struct SignInPage {
    c: super::Chrome,
    account: String,
    errors: Vec<FieldError>,
    /// An error of the whole form (a locked account).
    notice: Option<String>,
}

impl SignInPage {
    /// The error of the field `id`, if any (called from the template).
    fn error(&self, id: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == id)
            .map(|e| e.message.as_str())
    }
}

/// `GET /sign-in`.
async fn sign_in_page(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let ctx = match Ctx::new(&state, &headers, &uri) {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    if ctx.caller.is_some() {
        return ctx.redirect("/dashboard");
    }
    // A session cookie that no longer names a live session: sign-out removes the cookie, so
    // the session has expired (or the server restarted, which also ends sessions).
    let expired = crate::auth::session_cookie(&headers).is_some();
    let enrol_expired = uri
        .query()
        .is_some_and(|q| q.split('&').any(|kv| kv == "enrol=expired"));
    let notice = if enrol_expired {
        Some(ctx.tr.t("enrol-expired"))
    } else if expired {
        Some(ctx.tr.t("session-expired"))
    } else {
        None
    };
    let t = SignInPage {
        c: ctx.chrome("sign-in-title"),
        account: String::new(),
        errors: Vec::new(),
        notice,
    };
    ctx.render(StatusCode::OK, &t)
}

#[derive(Deserialize)]
struct SignInForm {
    #[serde(default)]
    account: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    totp: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /sign-in`: the API's sign-in, told in the form.
async fn sign_in_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Form(form): Form<SignInForm>,
) -> Response {
    let ctx = match Ctx::new(&state, &headers, &uri) {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let tr = ctx.tr;
    let field = |field: &'static str, label: &str, message: &str| FieldError {
        field,
        label: tr.t(label),
        message: tr.t(message),
    };
    let account = form.account.trim().to_owned();
    let mut errors = Vec::new();
    let mut notice = None;
    if !csrf::check(&headers, &form.csrf) {
        notice = Some(tr.t("error-csrf"));
    } else {
        if account.is_empty() {
            errors.push(field("account", "field-account", "error-account-required"));
        }
        if form.password.is_empty() {
            errors.push(field(
                "password",
                "field-password",
                "error-password-required",
            ));
        }
    }
    let mut status = StatusCode::UNPROCESSABLE_ENTITY;
    if notice.is_none() && errors.is_empty() {
        let totp = Some(form.totp.trim().to_owned()).filter(|c| !c.is_empty());
        match session_api::sign_in_attempt(&state, &headers, account.clone(), form.password, totp)
            .await
        {
            Err(e) => return ctx.error_page(&e),
            Ok(Ok(signed_in)) => return welcome(&state, &ctx, signed_in).await,
            Ok(Err(refused)) => {
                status = StatusCode::UNAUTHORIZED;
                match refused {
                    LoginError::Locked { retry_after } => {
                        status = StatusCode::TOO_MANY_REQUESTS;
                        let minutes = (retry_after.max(1) + 59) / 60;
                        notice = Some(tr.args("error-locked", &[("minutes", minutes.into())]));
                    }
                    LoginError::CodeRequired => {
                        errors.push(field("totp", "field-totp", "error-totp-required"))
                    }
                    LoginError::BadCode => {
                        errors.push(field("totp", "field-totp", "error-totp-wrong"))
                    }
                    LoginError::CodeReplayed => {
                        errors.push(field("totp", "field-totp", "error-totp-replayed"))
                    }
                    LoginError::EnrolmentRequired(_) => {
                        // The password was right: enrol the second factor now.
                        return match begin_enrolment(&state, &ctx, account).await {
                            Ok(r) => r,
                            Err(e) => ctx.error_page(&e),
                        };
                    }
                    _ => errors.push(field("password", "field-password", "error-bad-credentials")),
                }
            }
        }
    } else if notice.is_some() {
        status = StatusCode::FORBIDDEN;
    }
    let t = SignInPage {
        c: ctx.chrome("sign-in-title"),
        account,
        errors,
        notice,
    };
    ctx.render(status, &t)
}

#[derive(Deserialize)]
struct TokenForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /sign-out`.
async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Form(form): Form<TokenForm>,
) -> Response {
    let ctx = match Ctx::new(&state, &headers, &uri) {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    if !csrf::check(&headers, &form.csrf) {
        return ctx.csrf_refused();
    }
    let mut res = ctx.redirect("/sign-in");
    if let Some(v) = session_api::end_session(&state, &headers) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// The answer to a successful sign-in: to the dashboard with the session cookie, in the
/// language the person chose last time on any device (their account remembers it; see
/// `POST /language`), when they chose one.
async fn welcome(state: &AppState, ctx: &Ctx, signed_in: session_api::SignedIn) -> Response {
    let name = signed_in.principal.name.clone();
    let chosen = state
        .reader()
        .run(move |node| node.store.user_language(&name))
        .await;
    let mut res = ctx.redirect("/dashboard");
    res.headers_mut()
        .append(header::SET_COOKIE, signed_in.cookie);
    match chosen {
        Ok(Ok(Some(code))) => {
            if let Some(c) = Locale::parse(&code)
                .and_then(|locale| super::lang_cookie(locale, state.secure_cookies()))
            {
                res.headers_mut().append(header::SET_COOKIE, c);
            }
        }
        Ok(Ok(None)) => {}
        // The preference is a comfort: a failure to read it must not stop the sign-in.
        Ok(Err(e)) => tracing::warn!(request_id = %ctx.request_id, "reading the language: {e}"),
        Err(e) => {
            tracing::warn!(request_id = %ctx.request_id, "reading the language: {}", e.message)
        }
    }
    res
}
