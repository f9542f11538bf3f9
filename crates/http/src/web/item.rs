//! The item page: `GET /items/{key}?purpose=`: identification, markings as seen and
//! normalized, photographs, status, the chain of custody (with a purpose), and the ledger
//! badge: each of the item's ledger leaves with its inclusion proof against the latest
//! signed checkpoint, verified here with the ledger crate's verifier (signature of the
//! checkpoint, leaf hash recomputed from the stored record, proof to the root).

use super::Ctx;
use crate::api;
use crate::auth::{self, check_purpose};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use serde_json::Value;
use tracemark_access::policy::Action;
use tracemark_registry::query;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/items/{key}", get(item_page))
}

/// One marking as seen and normalized.
struct MarkingRow {
    kind: String,
    text: String,
    canonical: String,
    visual: String,
    component: String,
    legibility: String,
}

/// One event of the chain of custody.
struct EventRow {
    date: String,
    /// The machine-readable date, for `<time datetime>`.
    datetime: String,
    what: String,
    from: String,
    to: String,
    place: String,
    status_after: String,
    ledger: String,
    void: bool,
}

#[derive(Template)]
#[template(path = "web/item.html")]
struct ItemPage {
    c: super::Chrome,
    key: String,
    /// (label, value) rows of the identification.
    facts: Vec<(String, String)>,
    status: String,
    holder: String,
    markings: Vec<MarkingRow>,
    purpose: String,
    purpose_error: Option<String>,
    events: Option<Vec<EventRow>>,
    diversion: Option<String>,
    /// SHA-256 (hex) of each photograph the ledger records for the item.
    photos: Vec<String>,
    ledger: LedgerBadge,
}

/// One of the item's ledger leaves and its inclusion proof.
struct LeafProof {
    index: u64,
    leaf_hash: String,
    proof: Vec<String>,
    ok: bool,
}

/// "Verified in the ledger": every leaf of the item proven included in the tree of the
/// latest signed checkpoint, whose signature is checked with the node's key.
struct LedgerBadge {
    verified: bool,
    size: u64,
    root: String,
    checkpoint: String,
    leaves: Vec<LeafProof>,
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Proves and verifies the leaves `seqs` against the latest signed checkpoint.
fn ledger_badge(node: &tracemark_registry::Node, seqs: &[u64]) -> Result<LedgerBadge, String> {
    use tracemark_ledger::merkle::{leaf_hash, verify_inclusion};
    use tracemark_registry::proofs;
    let stored = node
        .store
        .latest_checkpoint()
        .map_err(|e| e.to_string())?
        .ok_or("the store has no checkpoint")?;
    let verifier =
        tracemark_ledger::NoteVerifier::new(&node.info.verifier_key).map_err(|e| e.to_string())?;
    let cp = tracemark_ledger::open_checkpoint(&stored.note, &verifier);
    let signed = cp.is_ok();
    let (size, root) = match &cp {
        Ok(c) => (c.size, c.root),
        Err(_) => (stored.size, stored.root),
    };
    let mut leaves = Vec::new();
    for &index in seqs {
        let mut row = LeafProof {
            index,
            leaf_hash: String::new(),
            proof: Vec::new(),
            ok: false,
        };
        if index < size {
            if let (Ok(leaf), Ok(p)) = (
                proofs::leaf(node, index),
                proofs::inclusion(node, index, Some(size)),
            ) {
                // The hash of the stored record, not the one stored beside it.
                let h = leaf_hash(&leaf.data);
                row.ok = signed
                    && h == leaf.leaf_hash
                    && verify_inclusion(&h, index, size, &p.proof, &root).is_ok();
                row.leaf_hash = b64(&h);
                row.proof = p.proof.iter().map(|x| b64(x)).collect();
            }
        }
        leaves.push(row);
    }
    Ok(LedgerBadge {
        verified: signed && !leaves.is_empty() && leaves.iter().all(|l| l.ok),
        size,
        root: b64(&root),
        checkpoint: stored.note,
        leaves,
    })
}

#[derive(Deserialize)]
struct PurposeForm {
    purpose: Option<String>,
}

pub(super) fn actor_name(v: Option<&Value>) -> String {
    match v {
        Some(Value::Object(o)) => {
            let name = o.get("name").and_then(Value::as_str).unwrap_or("");
            match o.get("country").and_then(Value::as_str) {
                Some(c) if !name.is_empty() => format!("{name} ({c})"),
                Some(c) => c.to_owned(),
                None => name.to_owned(),
            }
        }
        _ => String::new(),
    }
}

fn place_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::Object(o)) => ["locality", "admin2", "admin1", "country"]
            .iter()
            .filter_map(|k| o.get(*k).and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(", "),
        _ => String::new(),
    }
}

fn api_internal(e: String) -> crate::error::ApiError {
    crate::error::ApiError::internal(format!("proving the item's ledger leaves: {e}"))
}

/// `GET /items/{key}?purpose=`.
async fn item_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Path(key): Path<String>,
    Query(p): Query<PurposeForm>,
) -> Response {
    let (ctx, caller) = match Ctx::signed_in(&state, &headers, &uri) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let tr = ctx.tr;
    let asked = p.purpose.as_deref().map(str::trim).unwrap_or("").to_owned();
    // A purpose that is too long or not printable is told in the form; the item is still
    // shown (its read needs no purpose), and recorded without one.
    let (purpose, purpose_error) = match check_purpose(Some(asked.as_str()), false) {
        Ok(p) => (p, None),
        Err(_) => (
            String::new(),
            Some(tr.args(
                "error-purpose-invalid",
                &[("max", (auth::MAX_PURPOSE_CHARS as u64).into())],
            )),
        ),
    };
    let history =
        match api::read_item(&state, &caller, Action::ReadItem, key.clone(), &purpose).await {
            Ok(h) => h,
            Err(e) => return ctx.error_page(&e),
        };
    let item = query::item_json(&history);
    let s = |k: &str| -> String {
        match item.get(k) {
            Some(Value::String(v)) => v.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        }
    };
    let mut facts = Vec::new();
    for (field, label) in [
        ("kind", "item-kind"),
        ("type", "item-type"),
        ("make", "item-make"),
        ("model", "item-model"),
        ("calibre", "item-calibre"),
        ("country_of_manufacture", "item-country"),
        ("year_of_manufacture", "item-year"),
        ("national_id", "item-national-id"),
    ] {
        let v = s(field);
        if !v.is_empty() {
            // The kind is a code of the data model: shown in the page's language.
            let v = if field == "kind" {
                tr.code("record-item-kind", &v)
            } else {
                v
            };
            facts.push((tr.t(label), v));
        }
    }
    let markings = item
        .get("markings")
        .and_then(Value::as_array)
        .map(|ms| {
            ms.iter()
                .map(|m| {
                    let text = m
                        .get("text")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned();
                    let keys = tracemark_search::keys(&text);
                    let kind = m.get("kind").and_then(Value::as_str).unwrap_or("");
                    let legibility = m.get("legibility").and_then(Value::as_str).unwrap_or("");
                    MarkingRow {
                        kind: tr.code("mark", kind),
                        canonical: keys.canonical,
                        visual: keys.visual,
                        text,
                        component: m
                            .get("component")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_owned(),
                        legibility: tr.code("legibility", legibility),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let photos = super::record::photos_of(&history);
    let seqs: Vec<u64> = std::iter::once(history.row.id)
        .chain(history.projection.events.iter().map(|e| e.seq))
        .collect();
    let ledger = match state
        .reader()
        .run(move |node| ledger_badge(node, &seqs))
        .await
    {
        Ok(Ok(b)) => b,
        Ok(Err(e)) => return ctx.error_page(&api_internal(e)),
        Err(e) => return ctx.error_page(&e),
    };
    let mut page = ItemPage {
        c: ctx.chrome("item-title"),
        key: key.clone(),
        facts,
        status: tr.code("status", &s("status")),
        holder: actor_name(item.get("holder")),
        markings,
        purpose: purpose.clone(),
        purpose_error,
        events: None,
        diversion: None,
        photos,
        ledger,
    };
    if !purpose.is_empty() {
        // The custody names possessors: a read of its own, decided and audited with the
        // purpose, as `GET /api/v1/items/{key}/custody` is.
        let history =
            match api::read_item(&state, &caller, Action::ReadCustody, key, &purpose).await {
                Ok(h) => h,
                Err(e) => return ctx.error_page(&e),
            };
        let custody = query::custody_json(&history);
        let events = custody
            .get("events")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        page.events = Some(
            events
                .iter()
                .map(|e| {
                    let t = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
                    EventRow {
                        date: tr.date(&t("date")),
                        datetime: t("date"),
                        what: tr.code("event", &t("type")),
                        from: actor_name(e.get("from")),
                        to: actor_name(e.get("to")),
                        place: place_text(e.get("place")),
                        status_after: tr.code("status", &t("status_after")),
                        ledger: tr.args(
                            "custody-ledger",
                            &[(
                                "index",
                                e.get("seq").and_then(Value::as_u64).unwrap_or(0).into(),
                            )],
                        ),
                        void: e.get("void").and_then(Value::as_bool).unwrap_or(false),
                    }
                })
                .collect(),
        );
        page.diversion = custody.get("diversion").filter(|d| !d.is_null()).map(|d| {
            let reported = d.get("reported").and_then(Value::as_bool).unwrap_or(false);
            let date = d.get("date").and_then(Value::as_str).unwrap_or("");
            tr.arg(
                if reported {
                    "custody-diversion-reported"
                } else {
                    "custody-diversion-seized"
                },
                "date",
                &tr.date(date),
            )
        });
    }
    ctx.render(StatusCode::OK, &page)
}
