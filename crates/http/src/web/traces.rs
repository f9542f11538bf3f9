//! Traces (`/traces…`): the guided request form, inbox and outbox, answers, print view.

use crate::AppState;
use axum::Router;

/// This area's routes.
pub(super) fn router() -> Router<AppState> {
    Router::new()
}
