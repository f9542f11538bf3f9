//! The web application officers use: server-rendered HTML pages (askama templates in
//! `crates/http/templates/web/`, translated with Fluent from `crates/http/locales/`), served
//! beside the API by `tracemark serve`. No script is needed: every page is a plain page and
//! every action a plain form; one small script (`/static/tracemark.js`) only adds the
//! normalized form of a serial while it is typed.
//!
//! One module per area; each module's documentation has its routes:
//!
//! | module | routes | what |
//! | --- | --- | --- |
//! | here | `GET /`, `POST /language`, `GET /static/tracemark.css` | to `/dashboard` or `/sign-in`; the language switch (the cookie, and the account's own choice when signed in); the style sheet (the layout's and each area's, joined) |
//! | [`session`] | `/sign-in`, `/sign-in/enrol`, `/sign-out`, `/account` | sign-in with the TOTP code, MFA enrolment with a QR code, session expiry |
//! | [`dashboard`] | `/dashboard` | open and overdue traces, hits on lost or stolen items, recent imports |
//! | [`search`] | `/search`, `/search/normalize`, `/static/tracemark.js` | the serial box, position grid, filters, match classes with reasons, same-shipment hints |
//! | [`item`] | `/items/{key}` | identification, markings, photographs, custody timeline, the ledger badge with its proof |
//! | [`record`] | `/record…`, `/items/{key}/events/new`, `/items/{key}/photos`, `/photos/{sha256}` | register an item, record an event, photographs, import a file |
//! | [`traces`] | `/traces…` | the guided request, inbox and outbox, the life-cycle steps, answers, print view |
//! | [`admin`] | `/admin…` | agencies, users, roles, MFA resets, tokens, peers, retention |
//!
//! Any page also takes `?lang=en|fr|es|ar`, which it remembers the same way.
//!
//! **Invariants.**
//! - A page reads and writes through the very functions the API's handlers use (sign-in is
//!   [`crate::session_api::sign_in_attempt`], search [`crate::api::search_document`], an
//!   item [`crate::api::read_item`], recording [`crate::api::import_upload`], traces the
//!   `*_step` functions of [`crate::traces_api`], administration [`crate::admin`]): the same
//!   policy decision, validation and audit entry. A page can show or do nothing the API
//!   would refuse the same person.
//! - Pages without a live session redirect to `/sign-in` (303) rather than answer 401.
//! - Every word on a page comes from the Fluent catalogues, complete in the four languages
//!   (tests/web.rs checks the keys); Arabic pages are `dir="rtl"`. Where the engine refuses
//!   with its own (English) reason, the page says what happened in the person's language
//!   first and may add the engine's reason after it.
//! - Forms that change state carry the CSRF token and are checked (see [`csrf`]).
//! - Pages are `Cache-Control: no-store` (they show records and personal data) and carry a
//!   Content-Security-Policy that allows only this server's own style sheet, script,
//!   images and `fetch`.

mod admin;
pub mod csrf;
mod dashboard;
pub mod i18n;
mod item;
mod record;
mod search;
mod session;
mod traces;

use crate::auth::{self, Caller};
use crate::error::{ApiError, HtmlPage};
use crate::AppState;
use askama::Template;
use axum::extract::{Form, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use i18n::{Locale, Tr, LANG_COOKIE, LOCALES};
use serde::Deserialize;

/// The style sheet, embedded: the layout's, then each area's.
const CSS: &str = concat!(
    include_str!("../../assets/tracemark.css"),
    include_str!("../../assets/dashboard.css"),
    include_str!("../../assets/traces.css"),
    include_str!("../../assets/record.css"),
    include_str!("../../assets/admin.css"),
);

/// The web pages' routes (merged beside `/api/v1` by [`crate::router`]); each area's
/// module adds its own.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/language", post(set_language))
        .route("/static/tracemark.css", get(css))
        .merge(session::router())
        .merge(search::router())
        .merge(item::router())
        .merge(dashboard::router())
        .merge(record::router())
        .merge(traces::router())
        .merge(admin::router())
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
            admin: self.caller.as_ref().is_some_and(|c| {
                c.principal.role == tracemark_domain::account::Role::Administrator
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
                "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; \
                 img-src 'self'; form-action 'self'; \
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

    /// This request's context with the signed-in person, or the answer to give instead (to
    /// `/sign-in` without a live session).
    fn signed_in(
        state: &AppState,
        headers: &HeaderMap,
        uri: &Uri,
    ) -> Result<(Ctx, Caller), Box<Response>> {
        let ctx = Ctx::new(state, headers, uri).map_err(|e| Box::new(e.into_response()))?;
        match ctx.caller.clone() {
            Some(c) => Ok((ctx, c)),
            None => Err(Box::new(ctx.redirect("/sign-in"))),
        }
    }

    /// The page for a form that failed the CSRF check (403).
    fn csrf_refused(&self) -> Response {
        self.error_page(&ApiError::new(
            StatusCode::FORBIDDEN,
            crate::schema::ErrorCode::Forbidden,
            "CSRF check failed",
        ))
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
    /// Whether the signed-in person administers this node (the layout links to /admin).
    admin: bool,
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
        Ok(ctx) if ctx.caller.is_some() => ctx.redirect("/dashboard"),
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
    // Signed in, the choice is the person's own: their account remembers it, and the next
    // sign-in (on any device) comes back in it.
    if let Some(caller) = &ctx.caller {
        let name = caller.principal.name.clone();
        let saved = state
            .writer()
            .run(move |node| node.store.set_user_language(&name, locale.code()))
            .await;
        match saved {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                return ctx.error_page(&ApiError::internal(format!("saving the language: {e}")))
            }
            Err(e) => return ctx.error_page(&e),
        }
    }
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
