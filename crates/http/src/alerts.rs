//! Hits on items reported lost or stolen: the iARMS hit notification, inside the state.
//!
//! When a search finds an item whose status is `lost` or `stolen`, the hit says so and whom
//! to contact (the agency that reported it, see `registry::holdings::loss_report`); when the
//! hit is an identification (an `exact` or `normalized` match, not a fuzzy or wildcard guess)
//! and the searcher acts for another agency, that agency is notified at once. Recording a
//! seizure or recovery of such an item through the API notifies the reporting agency too.
//! Notifications are rows in the store, listed by `GET /api/v1/notifications` for the
//! caller's own agency only.
//!
//! Across states the same hit belongs to tracing (issue #5); nothing here leaves the node.

use crate::auth::Caller;
use crate::error::ApiError;
use crate::{schema, AppState};
use axum::extract::{Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use tracemark_access::policy::{Action, Resource};
use tracemark_registry::holdings::{self, LossReport};
use tracemark_registry::query;
use utoipa::IntoParams;

/// Items looked up for alerts per search (the first hits, best first).
pub const MAX_ALERTS_PER_SEARCH: usize = 20;
/// Items looked up for seizure notifications per import.
pub const MAX_SEIZURES_PER_IMPORT: usize = 1000;
/// Largest page of `GET /api/v1/notifications`.
pub const MAX_NOTIFICATIONS_LIMIT: u64 = 1000;

fn is_missing(status: &str) -> bool {
    matches!(status, "lost" | "stolen")
}

/// The loss reports of `keys` (those that have one), read on the reader's connection.
async fn reports(
    state: &AppState,
    keys: Vec<String>,
) -> Result<Vec<(String, LossReport)>, ApiError> {
    state
        .reader()
        .run(move |node| -> Result<Vec<(String, LossReport)>, String> {
            let agencies = node.store.agencies().map_err(|e| e.to_string())?;
            let rules = holdings::rules(&agencies);
            let mut out = Vec::new();
            for key in keys {
                match query::history(node, &key) {
                    Ok(h) => {
                        if let Some(r) = holdings::loss_report(&h, &rules) {
                            out.push((key, r));
                        }
                    }
                    Err(query::QueryError::NotFound(_)) => {}
                    Err(e) => return Err(e.to_string()),
                }
            }
            Ok(out)
        })
        .await?
        .map_err(|m| ApiError::internal(format!("reading loss reports: {m}")))
}

/// Writes one notification per (agency, item), on the auditor's connection (small writes).
async fn notify(
    state: &AppState,
    notes: Vec<(String, String, &'static str, Value)>,
) -> Result<(), ApiError> {
    if notes.is_empty() {
        return Ok(());
    }
    let now = state.clock().now_rfc3339();
    state
        .auditor()
        .run(move |node| -> Result<(), String> {
            for (agency, item, kind, data) in &notes {
                node.store
                    .insert_notification(agency, &now, item, kind, &data.to_string())
                    .map_err(|e| e.to_string())?;
            }
            Ok(())
        })
        .await?
        .map_err(|m| ApiError::internal(format!("writing notifications: {m}")))
}

fn alert_json(r: &LossReport, notified: bool) -> Value {
    json!({
        "report": {
            "type": r.event_type,
            "date": r.date,
            "ledger_index": r.seq,
        },
        "contact_agency": r.agency,
        "contact": match &r.agency {
            Some(a) => format!("the reporting agency, {a}"),
            None => "the national point of contact (tracing officers of this registry)".to_owned(),
        },
        "notified": notified,
    })
}

/// Adds an `alert` to every hit (of the first [`MAX_ALERTS_PER_SEARCH`]) on a lost or stolen
/// item, and notifies the reporting agencies of identifications. `doc` is the search result.
pub(crate) async fn search_hits(
    state: &AppState,
    caller: &Caller,
    query_text: &str,
    doc: &mut Value,
) -> Result<(), ApiError> {
    let Some(hits) = doc.get("hits").and_then(Value::as_array) else {
        return Ok(());
    };
    let mut keys: Vec<String> = Vec::new();
    for h in hits.iter().take(MAX_ALERTS_PER_SEARCH) {
        let status = h.get("status").and_then(Value::as_str).unwrap_or("");
        if let (true, Some(item)) = (is_missing(status), h.get("item").and_then(Value::as_str)) {
            if !keys.iter().any(|k| k == item) {
                keys.push(item.to_owned());
            }
        }
    }
    if keys.is_empty() {
        return Ok(());
    }
    let found = reports(state, keys).await?;
    let mut notes = Vec::new();
    let mut alerts: Vec<(String, Value)> = Vec::new();
    for (item, report) in &found {
        // An identification: at least one hit on this item matched exactly or normalized.
        let identified = hits.iter().any(|h| {
            h.get("item").and_then(Value::as_str) == Some(item.as_str())
                && matches!(
                    h.get("match").and_then(Value::as_str),
                    Some("exact" | "normalized")
                )
        });
        let notify_agency = report
            .agency
            .as_ref()
            .filter(|a| identified && **a != caller.principal.agency);
        if let Some(agency) = notify_agency {
            notes.push((
                agency.clone(),
                item.clone(),
                "search_hit",
                json!({
                    "by": caller.principal.id(),
                    "by_agency": caller.principal.agency,
                    "query": query_text.chars().take(200).collect::<String>(),
                    "report": {"type": report.event_type, "date": report.date, "ledger_index": report.seq},
                    "request_id": caller.request_id,
                }),
            ));
        }
        alerts.push((item.clone(), alert_json(report, notify_agency.is_some())));
    }
    notify(state, notes).await?;
    if let Some(hits) = doc.get_mut("hits").and_then(Value::as_array_mut) {
        for h in hits.iter_mut() {
            let item = h.get("item").and_then(Value::as_str).map(str::to_owned);
            if let Some((_, alert)) = alerts.iter().find(|(k, _)| Some(k) == item.as_ref()) {
                h["alert"] = alert.clone();
            }
        }
    }
    Ok(())
}

/// The item keys of seizure and recovery events in a JSON Lines upload (lines that do not
/// parse are the import's business, not ours).
pub(crate) fn seized_items(path: &std::path::Path) -> Vec<String> {
    use std::io::BufRead;
    let Ok(file) = std::fs::File::open(path) else {
        return Vec::new();
    };
    let mut keys = Vec::new();
    for line in std::io::BufReader::new(file).lines().map_while(Result::ok) {
        // Cheap pre-check before parsing: most lines of a large import are items.
        if !line.contains("seized") && !line.contains("recovered") {
            continue;
        }
        let Ok(Value::Object(record)) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        if collect_seizure(&mut keys, &record) {
            break;
        }
    }
    keys
}

/// Adds the item of `record` to `keys` when the record is a seizure or recovery event (once
/// per item); says whether the cap of items per import is reached.
fn collect_seizure(keys: &mut Vec<String>, record: &serde_json::Map<String, Value>) -> bool {
    let is_seizure = record.get("record").and_then(Value::as_str) == Some("event")
        && matches!(
            record.get("type").and_then(Value::as_str),
            Some("seized" | "recovered")
        );
    if let (true, Some(item)) = (is_seizure, record.get("item").and_then(Value::as_str)) {
        if !keys.iter().any(|k| k == item) {
            keys.push(item.to_owned());
        }
    }
    keys.len() >= MAX_SEIZURES_PER_IMPORT
}

/// The item keys of seizure and recovery events among the ledger leaves `[from, to)` — what
/// an import that does not come as JSON Lines (a register upload) just recorded. A byte
/// pre-check skips the leaves that cannot be one (most are items and other events).
pub(crate) fn seized_in_ledger(node: &tracemark_registry::Node, from: u64, to: u64) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for seq in from..to {
        let Ok(Some(leaf)) = node.store.leaf(seq) else {
            continue;
        };
        let data = &leaf.data;
        let mentions = |w: &[u8]| data.windows(w.len()).any(|x| x == w);
        if !mentions(b"\"seized\"") && !mentions(b"\"recovered\"") {
            continue;
        }
        let Ok(env) = tracemark_registry::envelope::decode(data, false) else {
            continue;
        };
        if collect_seizure(&mut keys, &env.record) {
            break;
        }
    }
    keys
}

/// After an import: notifies the reporting agency of each item reported lost or stolen that
/// the import recorded as seized or recovered. Returns the notifications sent, for the report.
pub(crate) async fn seizures(
    state: &AppState,
    caller: &Caller,
    items: Vec<String>,
) -> Result<Vec<Value>, ApiError> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    // Only items whose record now shows the seizure (the import may have refused the event).
    let keys = items.clone();
    let now_seized: Vec<String> = state
        .reader()
        .run(move |node| {
            keys.into_iter()
                .filter(|k| {
                    query::history(node, k).is_ok_and(|h| {
                        h.projection
                            .events
                            .iter()
                            .rev()
                            .find(|e| !e.void)
                            .is_some_and(|e| {
                                matches!(e.event.event_type.as_str(), "seized" | "recovered")
                            })
                    })
                })
                .collect()
        })
        .await?;
    let found = reports(state, now_seized).await?;
    let mut notes = Vec::new();
    let mut sent = Vec::new();
    for (item, report) in found {
        let Some(agency) = report.agency.clone() else {
            continue;
        };
        if agency == caller.principal.agency {
            continue;
        }
        sent.push(json!({"agency": agency, "item": item}));
        notes.push((
            agency,
            item,
            "seizure",
            json!({
                "by": caller.principal.id(),
                "by_agency": caller.principal.agency,
                "report": {"type": report.event_type, "date": report.date, "ledger_index": report.seq},
                "request_id": caller.request_id,
            }),
        ));
    }
    notify(state, notes).await?;
    Ok(sent)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationParams {
    /// Only notifications with an id above this one (the `next` of the previous page).
    pub after: Option<u64>,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<u64>,
}

/// The notifications of the caller's agency: hits on items it reported lost or stolen.
#[utoipa::path(
    get,
    path = "/api/v1/notifications",
    tag = "registry",
    params(NotificationParams),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Notifications of the caller's agency, oldest first", body = schema::NotificationPage),
        (status = 400, description = "A parameter is not acceptable", body = schema::ErrorBody),
        (status = 401, description = "No valid credential", body = schema::ErrorBody),
        (status = 403, description = "The policy set refuses", body = schema::ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<NotificationParams>,
) -> Result<Json<schema::NotificationPage>, ApiError> {
    let after = p.after.unwrap_or(0);
    let limit = p.limit.unwrap_or(100);
    if limit == 0 || limit > MAX_NOTIFICATIONS_LIMIT {
        return Err(ApiError::bad_request(format!(
            "limit must be 1 to {MAX_NOTIFICATIONS_LIMIT}"
        )));
    }
    let rows = notifications_of(&state, &caller, after, limit).await?;
    let next = rows.last().map(|r| r.id);
    let notifications = rows
        .into_iter()
        .map(|r| schema::Notification {
            id: r.id,
            created_at: r.created_at,
            item: r.item_key,
            kind: r.kind,
            detail: serde_json::from_str(&r.data).unwrap_or(Value::Null),
        })
        .collect();
    Ok(Json(schema::NotificationPage {
        agency: caller.principal.agency.clone(),
        notifications,
        next,
    }))
}

/// The notifications of the caller's agency after `after`, at most `limit`, oldest first, as
/// `GET /api/v1/notifications` reads them (same authorization): shared with the web pages.
pub(crate) async fn notifications_of(
    state: &AppState,
    caller: &Caller,
    after: u64,
    limit: u64,
) -> Result<Vec<tracemark_store::NotificationRow>, ApiError> {
    state
        .authorize(
            caller,
            Action::ReadNotifications,
            &Resource::Registry,
            &format!("notifications:{}", caller.principal.agency),
            "",
        )
        .await?;
    let agency = caller.principal.agency.clone();
    state
        .reader()
        .run(move |node| node.store.notifications(&agency, after, limit))
        .await?
        .map_err(|e| ApiError::internal(format!("reading notifications: {e}")))
}
