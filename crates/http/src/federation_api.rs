//! The federation's HTTP side on the receiving node: the inbox other states' nodes deliver
//! to, and this node's public identity for their administrators.
//!
//! Neither route takes a session or a token: a peer is authenticated by the signature on
//! each envelope, under the key the administrator put in the peer directory
//! (`tracemark peer add`), and the identity is public by design.
//!
//! `POST /api/v1/federation/inbox` takes one envelope (JSON, at most the server's body
//! limit) and answers 200 with the signed delivery receipt — the same receipt, byte for
//! byte, whenever the same message arrives again. A refusal is the usual error document with
//! one more member, `rejection`, the federation's stable code:
//!
//! | status | `error.code` | `rejection` |
//! | --- | --- | --- |
//! | 400 | `bad_request` | `malformed`, `unsupported_version` |
//! | 401 | `unauthenticated` | `unknown_sender`, `bad_signature` (the sender is not who it claims) |
//! | 403 | `forbidden` | `not_addressed_to_me` (an authentic message for other states) |
//! | 413 | `payload_too_large` | `too_large` |
//! | 422 | `unprocessable` | `too_old`, `too_new`, `cannot_decrypt`, `header_mismatch`; `not_applicable` (the trace step it carries does not apply here: nothing is stored, do not send it again) |
//!
//! Every delivery is written to the audit log before the answer: principal `peer:<state>`
//! (the state the envelope claims to be from, `peer:unknown` when it names none; only an
//! accepted message's is authenticated), action `federation_receive`, resource
//! `message:<id>` (`federation-inbox` when the id is unreadable), decision `allow` with reason
//! `new` or `duplicate`, or `deny` with the rejection code.

use crate::auth::{entry_for, request_id};
use crate::error::ApiError;
use crate::schema::{self, ErrorCode};
use crate::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use tracemark_registry::federation::{self, InboxError};

/// The audit log's action for a delivery to the inbox.
pub const ACTION: &str = "federation_receive";

/// This node's public identity: what a peer's administrator adds with `tracemark peer add`,
/// and its fingerprint, to compare with this node's administrator by another channel before
/// trusting it.
#[utoipa::path(
    get,
    path = "/api/v1/federation/identity",
    tag = "federation",
    security(()),
    responses(
        (status = 200, description = "`{\"identity\":{\"state\",\"sign\",\"encrypt\"},\"fingerprint\"}`", body = schema::FederationIdentity),
    )
)]
pub async fn identity(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let public = state
        .reader()
        .run(|node| federation::identity(node).map(|id| id.public().clone()))
        .await?
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let identity: Value = serde_json::from_str(&public.to_canonical_json())
        .map_err(|e| ApiError::internal(format!("encoding the identity: {e}")))?;
    Ok(Json(json!({
        "identity": identity,
        "fingerprint": public.fingerprint().grouped(),
    })))
}

/// Delivers one envelope from a peer (see the module documentation for the answers).
#[utoipa::path(
    post,
    path = "/api/v1/federation/inbox",
    tag = "federation",
    security(()),
    request_body(content = Object, description = "A sealed, signed envelope `{\"v\",\"id\",\"from\",\"to\",\"created_at\",\"kind\",\"ciphertext\",\"signature\"}`", content_type = "application/json"),
    responses(
        (status = 200, description = "The signed delivery receipt (the same one for a message received before)", body = schema::DeliveryReceipt),
        (status = 400, description = "Not an envelope (`rejection`: `malformed`, `unsupported_version`)", body = schema::ErrorBody),
        (status = 401, description = "Unknown sender or bad signature (`rejection`: `unknown_sender`, `bad_signature`)", body = schema::ErrorBody),
        (status = 403, description = "Not addressed to this node (`rejection`: `not_addressed_to_me`)", body = schema::ErrorBody),
        (status = 413, description = "Larger than the body limit", body = schema::ErrorBody),
        (status = 422, description = "Authentic but not accepted (`rejection`: `too_old`, `too_new`, `cannot_decrypt`, `header_mismatch`; `not_applicable` when the trace step it carries does not apply here — no such trace, a step the sender may not take, or one the life-cycle rules refuse)", body = schema::ErrorBody),
    )
)]
pub async fn inbox(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let rid = request_id(&headers);
    let limit = state.max_body_bytes();
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => {
            let entry = entry_for(
                &state,
                "peer:unknown",
                "",
                "",
                ACTION,
                "federation-inbox",
                "",
                false,
                &["too_large".into()],
                &rid,
            );
            state.audit(entry).await?;
            return Err(refusal(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::PayloadTooLarge,
                "too_large",
                format!("an envelope is at most {limit} bytes"),
            ));
        }
    };
    let text = state.clock().now_rfc3339();
    let now = time::OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339)
        .map_err(|e| ApiError::internal(format!("the clock said '{text}': {e}")))?;
    let claimed_id = message_id_of(&bytes);
    let body = bytes.clone();
    let outcome = state
        .auditor()
        .run(move |node| federation::receive(node, &body, now))
        .await?;
    match outcome {
        Ok(delivered) => {
            let entry = entry_for(
                &state,
                &format!("peer:{}", delivered.sender),
                "",
                "",
                ACTION,
                &format!("message:{}", delivered.message_id),
                "",
                true,
                &[if delivered.duplicate {
                    "duplicate"
                } else {
                    "new"
                }
                .into()],
                &rid,
            );
            state.audit(entry).await?;
            Ok((
                [(header::CONTENT_TYPE, "application/json")],
                delivered.receipt,
            )
                .into_response())
        }
        Err(e @ (InboxError::Rejected { .. } | InboxError::NotApplicable { .. })) => {
            let code = e.code();
            let claimed = match &e {
                InboxError::Rejected { claimed, .. } => *claimed,
                InboxError::NotApplicable { sender, .. } => Some(*sender),
                _ => None,
            };
            let principal = claimed
                .map(|c| format!("peer:{c}"))
                .unwrap_or_else(|| "peer:unknown".into());
            let resource = claimed_id
                .map(|id| format!("message:{id}"))
                .unwrap_or_else(|| "federation-inbox".into());
            let entry = entry_for(
                &state,
                &principal,
                "",
                "",
                ACTION,
                &resource,
                "",
                false,
                &[code.into()],
                &rid,
            );
            state.audit(entry).await?;
            tracing::warn!(principal = %principal, rejection = code, "federation message refused");
            let (status, error) = match code {
                "malformed" | "unsupported_version" => {
                    (StatusCode::BAD_REQUEST, ErrorCode::BadRequest)
                }
                "unknown_sender" | "bad_signature" => {
                    (StatusCode::UNAUTHORIZED, ErrorCode::Unauthenticated)
                }
                "not_addressed_to_me" => (StatusCode::FORBIDDEN, ErrorCode::Forbidden),
                _ => (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::Unprocessable),
            };
            Err(refusal(status, error, code, e.to_string()))
        }
        Err(InboxError::Failed(e)) => Err(ApiError::internal(e.to_string())),
        Err(InboxError::Trace(e)) => Err(ApiError::internal(e.to_string())),
    }
}

/// The error document of a refusal, with the federation's code as `rejection`.
fn refusal(status: StatusCode, code: ErrorCode, rejection: &str, message: String) -> ApiError {
    let mut error = ApiError::new(status, code, message);
    let mut extra = serde_json::Map::new();
    extra.insert("rejection".into(), rejection.into());
    error.extra = Some(extra);
    error
}

/// The message id an envelope claims, when it is one (32 hex digits), for the audit log.
fn message_id_of(bytes: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(bytes).ok()?;
    let id = v.get("id")?.as_str()?;
    (id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())).then(|| id.to_ascii_lowercase())
}
