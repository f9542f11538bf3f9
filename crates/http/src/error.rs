//! One JSON error shape for every 4xx and 5xx answer, and the request id that ties an answer
//! to the server's log.
//!
//! Handlers return [`ApiError`], whose response carries the error in its extensions and no
//! body yet. The [`render_errors`] middleware, which sees the request id, writes the body:
//! `{"error":{"code","message","request_id"}}`. Responses that axum or tower-http produce on
//! their own (a malformed query string, an unknown route, a wrong method, a panic) have the
//! same shape: the middleware rewrites any error response it did not get from a handler.

use crate::schema::{ErrorCode, ErrorDetail};
use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

/// The request id header, set on every request and echoed on every response.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Longest client-supplied request id that is echoed; longer ones are replaced.
pub const MAX_REQUEST_ID_LEN: usize = 128;

/// An error answer: status, machine-readable code and a message for people.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
    /// More top-level members of the error document (the import report of a 422).
    pub extra: Option<Map<String, Value>>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            extra: None,
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, message)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, message)
    }

    /// The store does not answer (e.g. the database is down or restarting). The detail goes
    /// to the log only.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Unavailable,
            detail,
        )
    }

    /// A failure of the server or the store. The detail goes to the log only; the client is
    /// told to quote the request id.
    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            detail,
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = self.status.into_response();
        res.extensions_mut().insert(self);
        res
    }
}

/// Marks a response as a web page (see `web`): its error status (a refused sign-in, a page
/// not found) comes with an HTML body for people, which [`render_errors`] leaves alone.
#[derive(Debug, Clone, Copy)]
pub struct HtmlPage;

/// The code of an error response that no handler described.
fn code_for(status: StatusCode) -> ErrorCode {
    match status {
        StatusCode::NOT_FOUND => ErrorCode::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
        StatusCode::UNPROCESSABLE_ENTITY => ErrorCode::Unprocessable,
        StatusCode::UNAUTHORIZED => ErrorCode::Unauthenticated,
        StatusCode::FORBIDDEN => ErrorCode::Forbidden,
        StatusCode::TOO_MANY_REQUESTS => ErrorCode::TooManyRequests,
        StatusCode::CONFLICT => ErrorCode::Conflict,
        StatusCode::SERVICE_UNAVAILABLE => ErrorCode::Unavailable,
        s if s.is_server_error() => ErrorCode::Internal,
        _ => ErrorCode::BadRequest,
    }
}

/// Writes the JSON body of every error response (see the module documentation).
pub async fn render_errors(req: Request, next: Next) -> Response {
    let request_id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let res = next.run(req).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error())
        || res.extensions().get::<HtmlPage>().is_some()
    {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let described = parts.extensions.remove::<ApiError>();
    let (code, mut message, extra) = match described {
        Some(e) => (e.code, e.message, e.extra),
        None => {
            // axum's rejections explain themselves in a short text body.
            let text = axum::body::to_bytes(body, 16 * 1024)
                .await
                .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
                .unwrap_or_default();
            let message = if status == StatusCode::METHOD_NOT_ALLOWED {
                format!("{method} is not allowed on {path}")
            } else if text.is_empty() {
                status
                    .canonical_reason()
                    .unwrap_or("request failed")
                    .to_lowercase()
            } else {
                text
            };
            (code_for(status), message, None)
        }
    };
    if status.is_server_error() {
        tracing::error!(request_id = %request_id, status = status.as_u16(), "{message}");
        message = if status == StatusCode::SERVICE_UNAVAILABLE {
            "the store does not answer; try again later (the server log has the details under this request id)".into()
        } else {
            "internal error; the server log has the details under this request id".into()
        };
    }
    let detail = ErrorDetail {
        code,
        message,
        request_id,
    };
    let mut doc = extra.unwrap_or_default();
    doc.insert(
        "error".into(),
        serde_json::to_value(&detail).unwrap_or(Value::Null),
    );
    let bytes = serde_json::to_vec(&Value::Object(doc)).unwrap_or_default();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, Body::from(bytes))
}

/// Whether a client's request id is echoed as it is: 1 to 128 characters from
/// `A-Z a-z 0-9 - _ . :` (so it is safe in a log line and a header).
pub fn sane_request_id(v: &HeaderValue) -> bool {
    let b = v.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_REQUEST_ID_LEN
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b':'))
}

/// Drops a client's request id that is not sane (or given more than once), so that the
/// request id layer generates a fresh one.
pub async fn sanitize_request_id(mut req: Request, next: Next) -> Response {
    let headers: &mut HeaderMap = req.headers_mut();
    let mut values = headers.get_all(REQUEST_ID_HEADER).iter();
    let keep = match (values.next(), values.next()) {
        (None, _) => true,
        (Some(v), None) => sane_request_id(v),
        (Some(_), Some(_)) => false,
    };
    if !keep {
        headers.remove(REQUEST_ID_HEADER);
    }
    next.run(req).await
}

/// The answer for a route that does not exist.
pub async fn no_route(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!("no route for {method} {}", uri.path()))
}
