//! Recording (`/record…`): register an item, record events, upload photos and import files.

use crate::AppState;
use axum::Router;

/// This area's routes.
pub(super) fn router() -> Router<AppState> {
    Router::new()
}
