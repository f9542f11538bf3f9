//! The search page: the serial box, a position grid for an obliterated serial, the API's
//! filters; hits grouped by match class with the reason and the same-shipment hints the
//! engine gives (`tracemark_registry::search::same_shipment`: consecutive serials of the
//! same make and model, on the first hits).
//!
//! | route | page |
//! | --- | --- |
//! | `GET /search?q=&mode=&kind=&make=&model=&calibre=&country=&status=` | the search; shows the normalized form of `q` |
//! | `GET /search?n=N` | the position grid with N boxes (1–40) |
//! | `GET /search?n=N&g0=…&g{N-1}=…` | the grid searched: each box one character, a blank box (or `?`) unreadable → `?` in the pattern; filters apply too |
//! | `GET /search/normalize?q=` | JSON `{"query","canonical","normalized"}`: the forms the index compares (canonical; look-alike key), made by the index's own normalizer (`tracemark_search::keys`); `tracemark.js` shows them as the officer types |
//! | `GET /static/tracemark.js` | that script (progressive: the page works without it) |

use super::Ctx;
use crate::api::{self, SearchParams};
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;

/// The script of the search page.
const JS: &str = include_str!("../../assets/tracemark.js");
/// Most boxes of the position grid.
const MAX_GRID: usize = 40;
/// The filters of the API's search the page offers (names as `SearchParams`).
const FILTERS: [&str; 5] = ["make", "model", "calibre", "country", "status"];
/// The item statuses a search can filter on.
const STATUSES: [&str; 12] = [
    "recorded",
    "in_stock",
    "in_service",
    "civilian_held",
    "exported",
    "lost",
    "stolen",
    "recovered",
    "seized",
    "surrendered",
    "deactivated",
    "destroyed",
];

/// The match classes, best first, as the search engine names them.
const MATCH_CLASSES: [&str; 4] = ["exact", "normalized", "wildcard", "fuzzy"];

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/search", get(search_page))
        .route("/search/normalize", get(normalize))
        .route("/static/tracemark.js", get(js))
}

/// The forms the index compares `q` in, each run between wildcards through the index's
/// normalizer, the wildcards kept: the canonical form (letters and digits of every script,
/// upper case; the exact match) and the look-alike key (other scripts' look-alikes and
/// common misreadings made equal, e.g. O and 0; the normalized match).
pub(crate) fn normalized_forms(q: &str) -> (String, String) {
    let (mut canonical, mut key) = (String::new(), String::new());
    let mut run = String::new();
    let flush = |run: &mut String, canonical: &mut String, key: &mut String| {
        let k = tracemark_search::keys(run);
        canonical.push_str(&k.canonical);
        key.push_str(&k.visual);
        run.clear();
    };
    for ch in q.chars() {
        if ch == '?' || ch == '*' {
            flush(&mut run, &mut canonical, &mut key);
            canonical.push(ch);
            key.push(ch);
        } else {
            run.push(ch);
        }
    }
    flush(&mut run, &mut canonical, &mut key);
    (canonical, key)
}

#[derive(Deserialize)]
struct NormalizeParams {
    #[serde(default)]
    q: String,
}

/// `GET /search/normalize?q=`: for signed-in people only (401 otherwise).
async fn normalize(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(p): Query<NormalizeParams>,
) -> Response {
    match crate::auth::session_caller(&state, &headers) {
        Ok(Some(_)) => {}
        Ok(None) => return StatusCode::UNAUTHORIZED.into_response(),
        Err(e) => return e.into_response(),
    }
    let q: String = p.q.chars().take(200).collect();
    let (canonical, key) = normalized_forms(&q);
    let body = serde_json::json!({
        "query": q,
        "canonical": canonical,
        "normalized": key,
    });
    let mut res = axum::Json(body).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// `GET /static/tracemark.js`.
async fn js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        JS,
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
    /// Same-shipment hints: (item, serial, offset text, status).
    shipment: Vec<(String, String, String, String)>,
}

/// The hits of one match class.
struct Group {
    id: &'static str,
    title: String,
    reason: String,
    hits: Vec<HitRow>,
}

/// One box of the position grid.
struct GridBox {
    index: usize,
    value: String,
    label: String,
}

#[derive(Template)]
#[template(path = "web/search.html")]
struct SearchPage {
    c: super::Chrome,
    q: String,
    /// What the index compares, for the query searched: the canonical form and the
    /// look-alike key.
    canonical: String,
    normalized: String,
    searched: bool,
    summary: String,
    groups: Vec<Group>,
    error: Option<String>,
    /// The grid's size as given, and its boxes.
    n: String,
    grid: Vec<GridBox>,
    grid_error: Option<String>,
    filters: Vec<(&'static str, String, String)>,
    statuses: Vec<(&'static str, String)>,
    status: String,
    mode: String,
    modes: Vec<(&'static str, String)>,
    any_kind: bool,
}

type SearchForm = HashMap<String, String>;

/// `GET /search?q=`.
async fn search_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Query(form): Query<SearchForm>,
) -> Response {
    let (ctx, caller) = match Ctx::signed_in(&state, &headers, &uri) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let tr = ctx.tr;
    let get = |k: &str| form.get(k).map(|v| v.trim().to_owned()).unwrap_or_default();
    let mut q = get("q");
    // The position grid: `n` boxes, each a character or unreadable.
    let n_text = get("n");
    let mut grid = Vec::new();
    let mut grid_error = None;
    if !n_text.is_empty() {
        match n_text.parse::<usize>() {
            Ok(n) if (1..=MAX_GRID).contains(&n) => {
                let mut pattern = String::new();
                let mut any_box = false;
                for i in 0..n {
                    let v: String = get(&format!("g{i}")).chars().take(1).collect();
                    let v = if v == "*" { String::new() } else { v };
                    any_box |= form.contains_key(&format!("g{i}"));
                    pattern.push(v.chars().next().unwrap_or('?'));
                    grid.push(GridBox {
                        index: i,
                        label: tr.args("search-grid-box", &[("position", ((i + 1) as i64).into())]),
                        value: v,
                    });
                }
                if any_box && q.is_empty() {
                    q = pattern;
                }
            }
            _ => {
                grid_error =
                    Some(tr.args("search-grid-error", &[("max", (MAX_GRID as i64).into())]))
            }
        }
    }
    let mode = get("mode");
    let any_kind = get("kind") == "any";
    let status = get("status");
    let mut page = SearchPage {
        c: ctx.chrome("search-title"),
        q: q.clone(),
        canonical: String::new(),
        normalized: String::new(),
        searched: false,
        summary: String::new(),
        groups: Vec::new(),
        error: None,
        n: n_text,
        grid,
        grid_error,
        filters: FILTERS
            .iter()
            .filter(|f| **f != "status")
            .map(|f| (*f, tr.t(&format!("search-filter-{f}")), get(f)))
            .collect(),
        statuses: STATUSES
            .iter()
            .map(|s| (*s, tr.code("status", s)))
            .collect(),
        status: status.clone(),
        modes: ["auto", "exact", "normalized", "wildcard", "fuzzy"]
            .iter()
            .map(|m| (*m, tr.t(&format!("search-mode-{m}"))))
            .collect(),
        mode: mode.clone(),
        any_kind,
    };
    if page.grid_error.is_some() {
        return ctx.render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    if q.is_empty() {
        return ctx.render(StatusCode::OK, &page);
    }
    (page.canonical, page.normalized) = normalized_forms(&q);
    let opt = |k: &str| Some(get(k)).filter(|v| !v.is_empty());
    let params = SearchParams {
        q,
        mode: Some(mode).filter(|m| !m.is_empty() && m != "auto"),
        make: opt("make"),
        model: opt("model"),
        calibre: opt("calibre"),
        country: opt("country").map(|c| c.to_ascii_uppercase()),
        status: Some(status).filter(|s| !s.is_empty()),
        kind: any_kind.then(|| "any".to_owned()),
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
                let shipment = h
                    .get("same_shipment")
                    .and_then(Value::as_array)
                    .map(|v| {
                        v.iter()
                            .map(|s| {
                                let offset = s.get("offset").and_then(Value::as_i64).unwrap_or(0);
                                (
                                    text(s, "item"),
                                    text(s, "serial"),
                                    tr.args(
                                        "search-shipment-offset",
                                        &[(
                                            "offset",
                                            format!(
                                                "{}{}",
                                                if offset < 0 { "−" } else { "+" },
                                                tr.number(offset.abs())
                                            )
                                            .into(),
                                        )],
                                    ),
                                    tr.code("status", &text(s, "status")),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                HitRow {
                    shipment,
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
