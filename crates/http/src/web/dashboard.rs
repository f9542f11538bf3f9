//! The dashboard, where signing in lands: what needs the officer's attention.
//!
//! | route | page |
//! | --- | --- |
//! | `GET /dashboard` | open traces and the overdue ones, recent hits on items the agency reported lost or stolen, recent imports |
//!
//! Each section is shown only to those the policy set lets read it (asked without an audit
//! entry first, so that a clerk's dashboard does not fill the audit log with denials), and
//! then read through the API's own functions, authorized and audited as the API is:
//! - traces: [`crate::traces_api::trace_rows`] (`GET /api/v1/traces`) and
//!   [`crate::traces_api::overdue_doc`] (`GET /api/v1/traces/overdue`, the same deadline
//!   policy and server clock);
//! - hits: [`crate::alerts::notifications_of`] (`GET /api/v1/notifications`, the caller's
//!   own agency only);
//! - imports: [`crate::api::recent_imports`], the ledger's last commits (each leaf keeps
//!   when and by whom it was recorded), read as `GET /api/v1/ledger/leaves/{i}` is.

use super::traces::{key_path, row_status};
use super::Ctx;
use crate::auth::Caller;
use crate::AppState;
use crate::{alerts, api, traces_api};
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::Value;
use tracemark_access::policy::{Action, Resource};

/// Notifications and imports shown.
const RECENT: usize = 10;
/// Ledger leaves looked at for the recent imports.
const IMPORT_SCAN: u64 = 5000;

/// This area's routes.
pub(super) fn router() -> Router<AppState> {
    Router::new().route("/dashboard", get(dashboard))
}

/// One trace as the dashboard lists it.
struct TraceLine {
    href: String,
    key: String,
    case: String,
    /// Its side and life-cycle state, in words.
    state: String,
    updated: String,
    datetime: String,
}

/// One overdue obligation.
struct OverdueLine {
    href: Option<String>,
    trace: String,
    what: String,
    due: String,
    datetime: String,
}

/// One hit on a lost or stolen item.
struct HitLine {
    href: String,
    item: String,
    what: String,
    when: String,
    datetime: String,
}

/// One commit of records.
struct ImportLine {
    href: Option<String>,
    summary: String,
    by: String,
    when: String,
    datetime: String,
}

#[derive(Template)]
#[template(path = "web/dashboard.html")]
struct DashboardPage {
    c: super::Chrome,
    /// `None` when the person may not read traces.
    traces: Option<Vec<TraceLine>>,
    traces_count: String,
    overdue: Vec<OverdueLine>,
    overdue_count: String,
    hits: Option<Vec<HitLine>>,
    imports: Option<Vec<ImportLine>>,
}

/// Whether the policy set lets `caller` take `action` on the registry (no audit entry: the
/// read that follows is authorized and audited again by the API's function).
fn may(state: &AppState, caller: &Caller, action: Action) -> bool {
    state
        .policy()
        .decide(&caller.principal, action, &Resource::Registry, "")
        .is_ok_and(|d| d.allowed)
}

fn plural(tr: &super::i18n::Tr, id: &str, n: usize) -> String {
    tr.args(
        id,
        &[
            ("count", (n as u64).into()),
            ("n", tr.number(n as i64).into()),
        ],
    )
}

/// `GET /dashboard`.
async fn dashboard(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let (ctx, caller) = match Ctx::signed_in(&state, &headers, &uri) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let tr = ctx.tr;
    let mut page = DashboardPage {
        c: ctx.chrome("dash-title"),
        traces: None,
        traces_count: String::new(),
        overdue: Vec::new(),
        overdue_count: String::new(),
        hits: None,
        imports: None,
    };
    if may(&state, &caller, Action::ReadTrace) {
        let rows = match traces_api::trace_rows(&state, &caller, "dashboard").await {
            Ok(r) => r,
            Err(e) => return ctx.error_page(&e),
        };
        let open: Vec<TraceLine> = rows
            .into_iter()
            .filter(|r| r.status != "closed")
            .map(|r| TraceLine {
                href: key_path(&r.key, &r.case_reference),
                state: tr.args(
                    "dash-trace-state",
                    &[
                        ("role", tr.code("trace-role", &r.role).into()),
                        ("status", row_status(&tr, &r.status).into()),
                    ],
                ),
                updated: tr.date(&r.updated_at),
                datetime: r.updated_at,
                case: r.case_reference,
                key: r.key,
            })
            .collect();
        page.traces_count = plural(&tr, "dash-traces-count", open.len());
        let doc = match traces_api::overdue_doc(&state, &caller, "dashboard").await {
            Ok(d) => d,
            Err(e) => return ctx.error_page(&e),
        };
        page.overdue = doc
            .get("overdue")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|o| {
                        let s = |k: &str| o.get(k).and_then(Value::as_str).unwrap_or("");
                        let case = open
                            .iter()
                            .find(|t| t.key == s("key"))
                            .map(|t| t.case.clone())
                            .unwrap_or_default();
                        OverdueLine {
                            href: o
                                .get("key")
                                .and_then(Value::as_str)
                                .map(|k| key_path(k, &case)),
                            trace: o
                                .get("key")
                                .and_then(Value::as_str)
                                .unwrap_or(s("trace"))
                                .to_owned(),
                            what: tr.args(
                                "dash-overdue-what",
                                &[
                                    ("state", s("owed_by").into()),
                                    (
                                        "obligation",
                                        tr.code("trace-obligation", s("obligation")).into(),
                                    ),
                                ],
                            ),
                            due: tr.date(s("due_at")),
                            datetime: s("due_at").to_owned(),
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        page.overdue_count = plural(&tr, "dash-overdue-count", page.overdue.len());
        page.traces = Some(open);
    }
    if may(&state, &caller, Action::ReadNotifications) {
        // Oldest first, page by page: the last ones are the recent ones.
        let mut all = Vec::new();
        let mut after = 0;
        loop {
            let rows = match alerts::notifications_of(&state, &caller, after, 1000).await {
                Ok(r) => r,
                Err(e) => return ctx.error_page(&e),
            };
            let n = rows.len();
            if let Some(last) = rows.last() {
                after = last.id;
            }
            all.extend(rows);
            if all.len() > RECENT {
                all.drain(..all.len() - RECENT);
            }
            if n < 1000 {
                break;
            }
        }
        all.reverse();
        page.hits = Some(
            all.into_iter()
                .map(|n| {
                    let data: Value = serde_json::from_str(&n.data).unwrap_or(Value::Null);
                    let by = data
                        .get("by_agency")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned();
                    HitLine {
                        href: format!("/items/{}", super::traces::enc(&n.item_key)),
                        what: tr.args(
                            if n.kind == "seizure" {
                                "dash-hit-seizure"
                            } else {
                                "dash-hit-search"
                            },
                            &[("agency", by.into())],
                        ),
                        when: tr.date(&n.created_at),
                        datetime: n.created_at,
                        item: n.item_key,
                    }
                })
                .collect(),
        );
    }
    if may(&state, &caller, Action::ReadLedger) {
        let batches = match api::recent_imports(&state, &caller, IMPORT_SCAN, RECENT).await {
            Ok(b) => b,
            Err(e) => return ctx.error_page(&e),
        };
        page.imports = Some(
            batches
                .into_iter()
                .map(|b| ImportLine {
                    href: b
                        .items
                        .first()
                        .map(|k| format!("/items/{}", super::traces::enc(k))),
                    summary: tr.args(
                        "dash-import-summary",
                        &[
                            ("count", b.records().into()),
                            ("n", tr.number(b.records() as i64).into()),
                            ("first", tr.number(b.first as i64).into()),
                            ("last", tr.number(b.last as i64).into()),
                        ],
                    ),
                    by: b.recorded_by.clone(),
                    when: tr.date(&b.recorded_at),
                    datetime: b.recorded_at,
                })
                .collect(),
        );
    }
    ctx.render(StatusCode::OK, &page)
}
