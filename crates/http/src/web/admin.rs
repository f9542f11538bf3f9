//! Administration (`/admin…`): agencies, users, roles, MFA resets, peers, retention.

use crate::AppState;
use axum::Router;

/// This area's routes.
pub(super) fn router() -> Router<AppState> {
    Router::new()
}
