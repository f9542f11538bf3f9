//! The web application officers use: server-rendered HTML pages (askama templates in
//! `crates/http/templates/web/`, translated with Fluent from `crates/http/locales/`), served
//! beside the API by `tracemark serve`. No script is needed: every page is a plain page and
//! every action a plain form.
//!
//! | route | page |
//! | --- | --- |
//! | `GET /` | to `/search` when signed in, else to `/sign-in` (303) |
//! | `GET`/`POST /sign-in` | the sign-in form: account, password, TOTP code |
//! | `POST /sign-out` | ends the session, back to `/sign-in` |
//! | `GET /search?q=` | the serial box; hits grouped by match class, with the reason |
//! | `GET /items/{key}?purpose=` | the item: identification, markings (as seen and normalized), status; with a purpose, the chain of custody |
//! | `POST /language` | remembers the language (`tracemark_lang` cookie), back to the page |
//! | `GET /static/tracemark.css` | the one style sheet |
//!
//! Any page also takes `?lang=en|fr|es|ar`, which it remembers the same way.
//!
//! **Invariants.**
//! - A page reads through the very functions the API's handlers use: sign-in is
//!   [`crate::session_api::sign_in_attempt`] (same audit entry, lockout, session cookie,
//!   rotation), search is [`crate::api::search_document`] (same policy decision, audit entry,
//!   need-to-know filter in the query, lost-or-stolen alerts), an item is
//!   [`crate::api::read_item`] (same decision and audit entry for the item and, with a
//!   purpose, for its custody). A page can show nothing the API would refuse the same person.
//! - Pages without a live session redirect to `/sign-in` (303) rather than answer 401.
//! - Every word on a page comes from the Fluent catalogues, complete in the four languages
//!   (tests/web.rs checks the keys); Arabic pages are `dir="rtl"`.
//! - Forms that change state carry the CSRF token and are checked (see [`csrf`]).
//! - Pages are `Cache-Control: no-store` (they show records and personal data) and carry a
//!   Content-Security-Policy that allows only this server's own style sheet.

pub mod csrf;
pub mod i18n;

use crate::api::{self, SearchParams};
use crate::auth::{self, check_purpose, Caller};
use crate::error::{ApiError, HtmlPage};
use crate::session_api;
use crate::AppState;
use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use i18n::{Locale, Tr, LANG_COOKIE, LOCALES};
use serde::Deserialize;
use serde_json::Value;
use tracemark_access::accounts::LoginError;
use tracemark_access::policy::Action;
use tracemark_registry::query;

/// The style sheet, embedded.
const CSS: &str = include_str!("../../assets/tracemark.css");

/// The match classes, best first, as the search engine names them.
const MATCH_CLASSES: [&str; 4] = ["exact", "normalized", "wildcard", "fuzzy"];

/// The web pages' routes (merged beside `/api/v1` by [`crate::router`]).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/sign-in", get(sign_in_page).post(sign_in_submit))
        .route("/sign-out", post(sign_out))
        .route("/search", get(search_page))
        .route("/items/{key}", get(item_page))
        .route("/language", post(set_language))
        .route("/static/tracemark.css", get(css))
}

/// What every page of one request shares: the language, the CSRF token, who is signed in,
/// and the cookies to set.
struct Ctx {
    tr: Tr,
    csrf: String,
    caller: Option<Caller>,
    /// The path and query of this page (where the language form comes back to).
    here: String,
    cookies: Vec<HeaderValue>,
    request_id: String,
}

#[derive(Deserialize)]
struct LangParam {
    lang: Option<String>,
}

impl Ctx {
    fn new(state: &AppState, headers: &HeaderMap, uri: &Uri) -> Result<Ctx, ApiError> {
        let query_lang = Query::<LangParam>::try_from_uri(uri)
            .ok()
            .and_then(|q| q.0.lang);
        let locale = i18n::negotiate(headers, query_lang.as_deref());
        let mut cookies = Vec::new();
        if query_lang.as_deref().and_then(Locale::parse).is_some() {
            cookies.extend(lang_cookie(locale, state.secure_cookies()));
        }
        let (csrf, set) = csrf::token(headers, state.secure_cookies());
        cookies.extend(set);
        Ok(Ctx {
            tr: Tr::new(locale),
            csrf,
            caller: auth::session_caller(state, headers)?,
            here: local_path(&uri.to_string()).unwrap_or_else(|| "/".into()),
            cookies,
            request_id: auth::request_id(headers),
        })
    }

    /// The layout's data for a page titled by the message `title`.
    fn chrome(&self, title: &str) -> Chrome {
        Chrome {
            tr: self.tr,
            lang: self.tr.locale.code(),
            dir: self.tr.locale.dir(),
            title: self.tr.t(title),
            csrf: self.csrf.clone(),
            user: self.caller.as_ref().map(|c| {
                self.tr.args(
                    "signed-in-as",
                    &[
                        ("name", c.principal.name.clone().into()),
                        ("agency", c.principal.agency.clone().into()),
                    ],
                )
            }),
            here: self.here.clone(),
            locales: LOCALES
                .iter()
                .map(|l| LocaleOption {
                    code: l.code(),
                    name: l.native_name(),
                    selected: *l == self.tr.locale,
                })
                .collect(),
        }
    }

    /// An HTML answer with this request's cookies and the pages' headers.
    fn page(&self, status: StatusCode, html: String) -> Response {
        let mut res = (status, html).into_response();
        let h = res.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
                 frame-ancestors 'none'; base-uri 'none'",
            ),
        );
        h.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        );
        for c in &self.cookies {
            h.append(header::SET_COOKIE, c.clone());
        }
        res.extensions_mut().insert(HtmlPage);
        res
    }

    /// A 303 to `to`, with this request's cookies.
    fn redirect(&self, to: &str) -> Response {
        let mut res = see_other(to);
        for c in &self.cookies {
            res.headers_mut().append(header::SET_COOKIE, c.clone());
        }
        res
    }

    /// The page for an error of the engine or the policy, in the person's language. The
    /// engine's own (English) message is not shown; the request id ties the page to the log.
    fn error_page(&self, e: &ApiError) -> Response {
        let (status, key) = match e.status {
            StatusCode::FORBIDDEN => (StatusCode::FORBIDDEN, "error-forbidden"),
            StatusCode::NOT_FOUND => (StatusCode::NOT_FOUND, "error-not-found"),
            StatusCode::UNAUTHORIZED => return self.redirect("/sign-in"),
            StatusCode::SERVICE_UNAVAILABLE => {
                (StatusCode::SERVICE_UNAVAILABLE, "error-unavailable")
            }
            s if s.is_server_error() => (StatusCode::INTERNAL_SERVER_ERROR, "error-internal"),
            s => (s, "error-bad-request"),
        };
        if status.is_server_error() {
            tracing::error!(request_id = %self.request_id, "{}", e.message);
        }
        let t = ErrorPage {
            c: self.chrome("error-title"),
            message: self.tr.t(key),
            reference: self.tr.arg("error-reference", "id", &self.request_id),
        };
        match t.render() {
            Ok(html) => self.page(status, html),
            Err(_) => status.into_response(),
        }
    }

    fn render(&self, status: StatusCode, t: &impl Template) -> Response {
        match t.render() {
            Ok(html) => self.page(status, html),
            Err(e) => self.error_page(&ApiError::internal(format!("rendering a page: {e}"))),
        }
    }
}

fn see_other(to: &str) -> Response {
    let mut res = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

fn lang_cookie(locale: Locale, secure: bool) -> Option<HeaderValue> {
    // A year: a preference, not a credential.
    HeaderValue::from_str(&format!(
        "{LANG_COOKIE}={}; SameSite=Lax; Path=/; Max-Age=31536000{}",
        locale.code(),
        if secure { "; Secure" } else { "" }
    ))
    .ok()
}

/// A path of this site to go back to: it starts with one `/` (not `//host`, not a scheme),
/// holds no control character or backslash; else `None`.
fn local_path(p: &str) -> Option<String> {
    let ok = p.starts_with('/')
        && !p.starts_with("//")
        && !p.contains('\\')
        && !p.chars().any(char::is_control)
        && p.len() <= 2000;
    ok.then(|| p.to_owned())
}

/// The layout's data (templates/web/base.html).
pub struct Chrome {
    tr: Tr,
    lang: &'static str,
    dir: &'static str,
    title: String,
    csrf: String,
    user: Option<String>,
    here: String,
    locales: Vec<LocaleOption>,
}

/// One entry of the language list.
struct LocaleOption {
    code: &'static str,
    name: &'static str,
    selected: bool,
}

impl Chrome {
    /// The message `id` in the page's language (called from the templates).
    pub fn t(&self, id: &str) -> String {
        self.tr.t(id)
    }
}

#[derive(Template)]
#[template(path = "web/error.html")]
struct ErrorPage {
    c: Chrome,
    message: String,
    reference: String,
}

/// `GET /`.
async fn home(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    match Ctx::new(&state, &headers, &uri) {
        Ok(ctx) if ctx.caller.is_some() => ctx.redirect("/search"),
        Ok(ctx) => ctx.redirect("/sign-in"),
        Err(e) => e.into_response(),
    }
}

/// One field's error: the input's id, its label, the message.
struct FieldError {
    field: &'static str,
    label: String,
    message: String,
}

#[derive(Template)]
#[template(path = "web/sign_in.html")]
struct SignInPage {
    c: Chrome,
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
        return ctx.redirect("/search");
    }
    let t = SignInPage {
        c: ctx.chrome("sign-in-title"),
        account: String::new(),
        errors: Vec::new(),
        notice: None,
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
            Ok(Ok(signed_in)) => {
                let mut res = ctx.redirect("/search");
                res.headers_mut()
                    .append(header::SET_COOKIE, signed_in.cookie);
                return res;
            }
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
                        status = StatusCode::FORBIDDEN;
                        notice = Some(tr.t("error-enrolment-required"));
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
        return ctx.error_page(&ApiError::new(
            StatusCode::FORBIDDEN,
            crate::schema::ErrorCode::Forbidden,
            "CSRF check failed",
        ));
    }
    let mut res = ctx.redirect("/sign-in");
    if let Some(v) = session_api::end_session(&state, &headers) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

#[derive(Deserialize)]
struct LanguageForm {
    #[serde(default)]
    lang: String,
    #[serde(default)]
    back: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /language`: remember the choice, back to the page it was made on.
async fn set_language(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Form(form): Form<LanguageForm>,
) -> Response {
    let ctx = match Ctx::new(&state, &headers, &uri) {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let Some(locale) = Locale::parse(&form.lang).filter(|_| csrf::check(&headers, &form.csrf))
    else {
        return ctx.error_page(&ApiError::bad_request("language form refused"));
    };
    // The page came with `?lang=` perhaps: the new choice wins, so drop it.
    let back = local_path(&form.back).unwrap_or_else(|| "/".into());
    let back = strip_lang(&back);
    let mut res = ctx.redirect(&back);
    if let Some(c) = lang_cookie(locale, state.secure_cookies()) {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

/// `path?a=1&lang=fr&b=2` → `path?a=1&b=2`.
fn strip_lang(p: &str) -> String {
    let Some((path, query)) = p.split_once('?') else {
        return p.to_owned();
    };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|kv| !kv.starts_with("lang=") && *kv != "lang")
        .collect();
    if kept.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", kept.join("&"))
    }
}

/// `GET /static/tracemark.css`.
async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        CSS,
    )
        .into_response()
}

/// One hit as the search page lists it.
struct HitRow {
    item: String,
    marking: String,
    kind: String,
    description: String,
    status: String,
    distance: Option<String>,
    alert: Option<String>,
}

/// The hits of one match class.
struct Group {
    id: &'static str,
    title: String,
    reason: String,
    hits: Vec<HitRow>,
}

#[derive(Template)]
#[template(path = "web/search.html")]
struct SearchPage {
    c: Chrome,
    q: String,
    searched: bool,
    summary: String,
    groups: Vec<Group>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct SearchForm {
    q: Option<String>,
}

/// `GET /search?q=`.
async fn search_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Query(p): Query<SearchForm>,
) -> Response {
    let ctx = match Ctx::new(&state, &headers, &uri) {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let Some(caller) = ctx.caller.clone() else {
        return ctx.redirect("/sign-in");
    };
    let tr = ctx.tr;
    let q = p.q.unwrap_or_default().trim().to_owned();
    let mut page = SearchPage {
        c: ctx.chrome("search-title"),
        q: q.clone(),
        searched: false,
        summary: String::new(),
        groups: Vec::new(),
        error: None,
    };
    if q.is_empty() {
        return ctx.render(StatusCode::OK, &page);
    }
    let params = SearchParams {
        q,
        ..SearchParams::default()
    };
    let doc = match api::search_document(&state, &caller, params).await {
        Ok(d) => d,
        Err(e) if e.status == StatusCode::BAD_REQUEST => {
            page.error = Some(tr.t("error-search-query"));
            return ctx.render(StatusCode::BAD_REQUEST, &page);
        }
        Err(e) => return ctx.error_page(&e),
    };
    page.searched = true;
    let total = doc.get("total").and_then(Value::as_u64).unwrap_or(0);
    page.summary = tr.args("search-total", &[("count", total.into())]);
    let hits = doc
        .get("hits")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let text = |h: &Value, k: &str| h.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    for class in MATCH_CLASSES {
        let rows: Vec<HitRow> = hits
            .iter()
            .filter(|h| h.get("match").and_then(Value::as_str) == Some(class))
            .map(|h| {
                let description = ["make", "model", "calibre"]
                    .iter()
                    .map(|k| text(h, k))
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(" · ");
                let distance = h
                    .get("distance")
                    .and_then(Value::as_u64)
                    .filter(|d| *d > 0)
                    .map(|d| tr.args("search-distance", &[("count", d.into())]));
                let alert = h.get("alert").map(|a| {
                    let report = a
                        .pointer("/report/type")
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    let contact = match a.get("contact_agency").and_then(Value::as_str) {
                        Some(agency) => tr.arg("alert-contact-agency", "agency", agency),
                        None => tr.t("alert-contact-poc"),
                    };
                    tr.args(
                        "alert-missing",
                        &[
                            ("event", tr.code("event", report).into()),
                            ("contact", contact.into()),
                        ],
                    )
                });
                HitRow {
                    item: text(h, "item"),
                    marking: text(h, "marking"),
                    kind: text(h, "kind"),
                    description,
                    status: tr.code("status", &text(h, "status")),
                    distance,
                    alert,
                }
            })
            .collect();
        if !rows.is_empty() {
            page.groups.push(Group {
                id: class,
                title: tr.code("match", class),
                reason: tr.t(&format!("match-{class}-reason")),
                hits: rows,
            });
        }
    }
    ctx.render(StatusCode::OK, &page)
}

/// One marking as seen and normalized.
struct MarkingRow {
    kind: String,
    text: String,
    canonical: String,
    visual: String,
    component: String,
    legibility: String,
}

/// One event of the chain of custody.
struct EventRow {
    date: String,
    /// The machine-readable date, for `<time datetime>`.
    datetime: String,
    what: String,
    from: String,
    to: String,
    place: String,
    status_after: String,
    ledger: String,
    void: bool,
}

#[derive(Template)]
#[template(path = "web/item.html")]
struct ItemPage {
    c: Chrome,
    key: String,
    /// (label, value) rows of the identification.
    facts: Vec<(String, String)>,
    status: String,
    holder: String,
    markings: Vec<MarkingRow>,
    purpose: String,
    purpose_error: Option<String>,
    events: Option<Vec<EventRow>>,
    diversion: Option<String>,
}

#[derive(Deserialize)]
struct PurposeForm {
    purpose: Option<String>,
}

fn actor_name(v: Option<&Value>) -> String {
    match v {
        Some(Value::Object(o)) => {
            let name = o.get("name").and_then(Value::as_str).unwrap_or("");
            match o.get("country").and_then(Value::as_str) {
                Some(c) if !name.is_empty() => format!("{name} ({c})"),
                Some(c) => c.to_owned(),
                None => name.to_owned(),
            }
        }
        _ => String::new(),
    }
}

fn place_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::Object(o)) => ["locality", "admin2", "admin1", "country"]
            .iter()
            .filter_map(|k| o.get(*k).and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(", "),
        _ => String::new(),
    }
}

/// `GET /items/{key}?purpose=`.
async fn item_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Path(key): Path<String>,
    Query(p): Query<PurposeForm>,
) -> Response {
    let ctx = match Ctx::new(&state, &headers, &uri) {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let Some(caller) = ctx.caller.clone() else {
        return ctx.redirect("/sign-in");
    };
    let tr = ctx.tr;
    let asked = p.purpose.as_deref().map(str::trim).unwrap_or("").to_owned();
    // A purpose that is too long or not printable is told in the form; the item is still
    // shown (its read needs no purpose), and recorded without one.
    let (purpose, purpose_error) = match check_purpose(Some(asked.as_str()), false) {
        Ok(p) => (p, None),
        Err(_) => (
            String::new(),
            Some(tr.args(
                "error-purpose-invalid",
                &[("max", (auth::MAX_PURPOSE_CHARS as u64).into())],
            )),
        ),
    };
    let history =
        match api::read_item(&state, &caller, Action::ReadItem, key.clone(), &purpose).await {
            Ok(h) => h,
            Err(e) => return ctx.error_page(&e),
        };
    let item = query::item_json(&history);
    let s = |k: &str| -> String {
        match item.get(k) {
            Some(Value::String(v)) => v.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        }
    };
    let mut facts = Vec::new();
    for (field, label) in [
        ("kind", "item-kind"),
        ("type", "item-type"),
        ("make", "item-make"),
        ("model", "item-model"),
        ("calibre", "item-calibre"),
        ("country_of_manufacture", "item-country"),
        ("year_of_manufacture", "item-year"),
        ("national_id", "item-national-id"),
    ] {
        let v = s(field);
        if !v.is_empty() {
            facts.push((tr.t(label), v));
        }
    }
    let markings = item
        .get("markings")
        .and_then(Value::as_array)
        .map(|ms| {
            ms.iter()
                .map(|m| {
                    let text = m
                        .get("text")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned();
                    let keys = tracemark_search::keys(&text);
                    let kind = m.get("kind").and_then(Value::as_str).unwrap_or("");
                    let legibility = m.get("legibility").and_then(Value::as_str).unwrap_or("");
                    MarkingRow {
                        kind: tr.code("mark", kind),
                        canonical: keys.canonical,
                        visual: keys.visual,
                        text,
                        component: m
                            .get("component")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_owned(),
                        legibility: tr.code("legibility", legibility),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let mut page = ItemPage {
        c: ctx.chrome("item-title"),
        key: key.clone(),
        facts,
        status: tr.code("status", &s("status")),
        holder: actor_name(item.get("holder")),
        markings,
        purpose: purpose.clone(),
        purpose_error,
        events: None,
        diversion: None,
    };
    if !purpose.is_empty() {
        // The custody names possessors: a read of its own, decided and audited with the
        // purpose, as `GET /api/v1/items/{key}/custody` is.
        let history =
            match api::read_item(&state, &caller, Action::ReadCustody, key, &purpose).await {
                Ok(h) => h,
                Err(e) => return ctx.error_page(&e),
            };
        let custody = query::custody_json(&history);
        let events = custody
            .get("events")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        page.events = Some(
            events
                .iter()
                .map(|e| {
                    let t = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
                    EventRow {
                        date: tr.date(&t("date")),
                        datetime: t("date"),
                        what: tr.code("event", &t("type")),
                        from: actor_name(e.get("from")),
                        to: actor_name(e.get("to")),
                        place: place_text(e.get("place")),
                        status_after: tr.code("status", &t("status_after")),
                        ledger: tr.args(
                            "custody-ledger",
                            &[(
                                "index",
                                e.get("seq").and_then(Value::as_u64).unwrap_or(0).into(),
                            )],
                        ),
                        void: e.get("void").and_then(Value::as_bool).unwrap_or(false),
                    }
                })
                .collect(),
        );
        page.diversion = custody.get("diversion").filter(|d| !d.is_null()).map(|d| {
            let reported = d.get("reported").and_then(Value::as_bool).unwrap_or(false);
            let date = d.get("date").and_then(Value::as_str).unwrap_or("");
            tr.arg(
                if reported {
                    "custody-diversion-reported"
                } else {
                    "custody-diversion-seized"
                },
                "date",
                &tr.date(date),
            )
        });
    }
    ctx.render(StatusCode::OK, &page)
}
