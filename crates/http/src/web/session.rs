//! Signing in and out: `GET`/`POST /sign-in`, `POST /sign-out`.

use super::{csrf, Ctx, FieldError};
use crate::error::ApiError;
use crate::session_api;
use crate::AppState;
use askama::Template;
use axum::extract::{Form, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use tracemark_access::accounts::LoginError;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/sign-in", get(sign_in_page).post(sign_in_submit))
        .route("/sign-out", post(sign_out))
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
                let mut res = ctx.redirect("/dashboard");
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
