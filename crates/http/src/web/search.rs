//! The search page: `GET /search?q=`, hits grouped by match class with the reason.

use super::Ctx;
use crate::api::{self, SearchParams};
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use serde_json::Value;

/// The match classes, best first, as the search engine names them.
const MATCH_CLASSES: [&str; 4] = ["exact", "normalized", "wildcard", "fuzzy"];

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/search", get(search_page))
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
    c: super::Chrome,
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
