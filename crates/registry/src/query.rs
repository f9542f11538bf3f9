//! Reading items and their chains of custody.
//!
//! Both answers are computed from the ledger records of the one item (its declaration and
//! its events), through the same pure projection that import and verify use, so what is
//! shown is exactly what the ledger proves.

use crate::envelope;
use crate::import::{actor_json, ImportError};
use crate::node::Node;
use serde_json::{json, Map, Value};
use tracemark_domain::projection::{project, Projection, StoredEvent};
use tracemark_store::{ItemRow, Store};

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("no item with key '{0}'")]
    NotFound(String),
    #[error(transparent)]
    Load(#[from] ImportError),
    #[error(transparent)]
    Store(#[from] tracemark_store::StoreError),
    #[error("stored record damaged: {0}")]
    Damaged(String),
}

pub struct ItemHistory {
    pub row: ItemRow,
    /// Parts fitted now: declared with this item as parent or fitted by a
    /// `component_replaced` event, less those a later `component_replaced` removed.
    pub components: Vec<String>,
    pub projection: Projection,
    /// (recorded_at, recorded_by) per ledger index of the item's records.
    pub recorded: std::collections::HashMap<u64, (String, String)>,
}

pub fn history(node: &Node, key: &str) -> Result<ItemHistory, QueryError> {
    let store: &dyn Store = node.store.as_ref();
    let row = store
        .item_by_key(key)?
        .ok_or_else(|| QueryError::NotFound(key.to_owned()))?;
    let mut recorded = std::collections::HashMap::new();
    let mut load = |seq: u64| -> Result<Map<String, Value>, QueryError> {
        let leaf = store
            .leaf(seq)?
            .ok_or_else(|| QueryError::Damaged(format!("record #{seq} missing")))?;
        let env = envelope::decode(&leaf.data, false).map_err(ImportError::from)?;
        recorded.insert(seq, (env.recorded_at, env.recorded_by));
        Ok(env.record)
    };
    let item_object = load(row.id)?;
    let mut events = Vec::new();
    for e in store.item_events(row.id)? {
        events.push(StoredEvent {
            seq: e.seq,
            object: load(e.seq)?,
        });
    }
    let projection =
        project(row.id, &item_object, &events).map_err(|e| QueryError::Damaged(e.to_string()))?;
    let mut components = store.parts_of(&row.key)?;
    for e in projection.events.iter().filter(|e| !e.void) {
        if let Some(removed) = &e.event.removed_part {
            components.retain(|k| k != removed.as_str());
        }
        if let Some(part) = &e.event.part {
            if !components.iter().any(|k| k == part.as_str()) {
                components.push(part.as_str().to_owned());
            }
        }
    }
    Ok(ItemHistory {
        row,
        components,
        projection,
        recorded,
    })
}

fn opt_actor(a: &Option<tracemark_domain::model::Actor>) -> Value {
    a.as_ref().map(actor_json).unwrap_or(Value::Null)
}

/// `item show --json`.
pub fn item_json(h: &ItemHistory) -> Value {
    let p = &h.projection;
    let mut item = p.item_object.clone();
    item.remove("record");
    let markings: Vec<Value> = p
        .item
        .markings
        .iter()
        .map(|m| {
            json!({
                "kind": m.kind.as_str(),
                "text": m.text,
                "component": m.component,
                "legibility": m.legibility.as_str(),
                "note": m.note,
            })
        })
        .collect();
    item.insert("markings".into(), Value::Array(markings));
    item.insert("internal_id".into(), json!(format!("tm:{}", h.row.id)));
    item.insert("ledger_index".into(), json!(h.row.id));
    item.insert("components".into(), json!(h.components));
    item.insert("status".into(), json!(p.status.as_str()));
    item.insert("holder".into(), opt_actor(&p.holder));
    item.insert("last_legal_holder".into(), opt_actor(&p.last_legal_holder));
    item.insert(
        "events".into(),
        json!(p.events.iter().filter(|e| !e.void).count()),
    );
    if let Some((at, by)) = h.recorded.get(&h.row.id) {
        item.insert("recorded_at".into(), json!(at));
        item.insert("recorded_by".into(), json!(by));
    }
    Value::Object(item)
}

/// `custody --json`.
pub fn custody_json(h: &ItemHistory) -> Value {
    let p = &h.projection;
    let events: Vec<Value> = p
        .events
        .iter()
        .map(|e| {
            let o = &e.object;
            let get = |k: &str| o.get(k).cloned().unwrap_or(Value::Null);
            let (at, by) = h.recorded.get(&e.seq).cloned().unwrap_or_default();
            json!({
                "seq": e.seq,
                "id": get("id"),
                "type": e.event.event_type.as_str(),
                "date": e.event.date.as_str(),
                "from": get("from"),
                "to": get("to"),
                "place": get("place"),
                "documents": get("documents"),
                "note": get("note"),
                "corrects": get("corrects"),
                "void": e.void,
                "corrected_by": e.corrected_by,
                "status_after": e.status_after.as_str(),
                "holder_after": opt_actor(&e.holder_after),
                "recorded_at": at,
                "recorded_by": by,
            })
        })
        .collect();
    let diversion = p.diversion.as_ref().map(|d| {
        let event = p.events.iter().find(|e| e.seq == d.seq);
        json!({
            "seq": d.seq,
            "type": d.event_type.as_str(),
            "date": event.map(|e| e.event.date.as_str()),
            "place": event.and_then(|e| e.object.get("place").cloned()),
            "reported": d.reported,
            "last_legal_seq": d.last_legal_seq,
            "last_legal_holder": opt_actor(&d.last_legal_holder),
            "summary": if d.reported {
                format!("control lost: {} (ledger #{})", d.event_type, d.seq)
            } else {
                format!(
                    "seized without a prior report of loss or theft: control was lost between the last legal event{} and the seizure (ledger #{})",
                    d.last_legal_seq.map(|s| format!(" (ledger #{s})")).unwrap_or_default(),
                    d.seq
                )
            },
        })
    });
    json!({
        "item": h.row.key,
        "status": p.status.as_str(),
        "holder": opt_actor(&p.holder),
        "last_legal_holder": opt_actor(&p.last_legal_holder),
        "diversion": diversion,
        "events": events,
    })
}
