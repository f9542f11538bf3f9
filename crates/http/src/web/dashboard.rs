//! The dashboard (`/dashboard`): open and overdue traces, recent hits on lost or stolen items, recent imports.

use crate::AppState;
use axum::Router;

/// This area's routes.
pub(super) fn router() -> Router<AppState> {
    Router::new()
}
