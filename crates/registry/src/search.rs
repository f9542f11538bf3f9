//! Identification search over the node's markings.
//!
//! The index (`tracemark-search`) is derived from the projections and kept in a snapshot file
//! beside the store, stamped with the ledger size it reflects. Opening it loads the snapshot
//! and catches up with the records accepted since (new items, status changes); a correction
//! since the snapshot may have changed markings, which the index cannot remove, so it is
//! rebuilt from the store instead. Deleting the snapshot is always safe.
//!
//! Each item carries its need-to-know custodian (see [`crate::holdings`]), so that a search
//! leaves out what the searcher may not see inside the query, totals included. The custodian
//! depends on the agencies' holdings rules as well as on the records: the snapshot is stamped
//! with a fingerprint of the rules and rebuilt when they change.

use crate::node::Node;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::PathBuf;
use tracemark_domain::account::AgencyHoldings;
use tracemark_search::{normalize, Index, ItemAttrs, Query, SearchResult};
use tracemark_store::{ItemRow, StoreError};

/// The snapshot file in the data folder.
pub const SNAPSHOT_FILE: &str = "search.idx";
const MAGIC: &[u8; 8] = b"TMSRCH02";

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("search index: {0}")]
    Index(#[from] tracemark_search::IndexError),
    #[error("search index file {0}: {1}")]
    Io(String, std::io::Error),
}

/// The loaded index and the ledger size it reflects.
pub struct SearchIndex {
    pub index: Index,
    pub ledger_size: u64,
    /// The fingerprint of the holdings rules its custodians were computed with.
    pub rules: [u8; 32],
    /// How the index was obtained: `snapshot`, `snapshot+N records`, or `rebuilt`.
    pub source: String,
}

fn attrs(row: &ItemRow, rules: &[AgencyHoldings]) -> ItemAttrs {
    ItemAttrs {
        make: row.attrs.make.clone(),
        model: row.attrs.model.clone(),
        calibre: row.attrs.calibre.clone(),
        country: row.attrs.country.clone(),
        status: row.state.status.clone(),
        custodian: crate::holdings::custodian(rules, row.state.holder.as_deref()),
    }
}

/// The holdings rules in force and their fingerprint.
fn current_rules(node: &Node) -> Result<(Vec<AgencyHoldings>, [u8; 32]), SearchError> {
    let rules = crate::holdings::rules(&node.store.agencies()?);
    let fingerprint = crate::holdings::fingerprint(&rules);
    Ok((rules, fingerprint))
}

fn add_item(index: &mut Index, row: &ItemRow, rules: &[AgencyHoldings]) -> Result<(), SearchError> {
    index.upsert_item(&row.key, attrs(row, rules))?;
    for m in &row.attrs.markings {
        index.add_marking(&row.key, &m.text, &m.kind)?;
    }
    Ok(())
}

fn snapshot_path(node: &Node) -> PathBuf {
    node.dir().join(SNAPSHOT_FILE)
}

/// Builds the index from the store's projections.
pub fn rebuild(node: &Node) -> Result<SearchIndex, SearchError> {
    let ledger_size = node.store.ledger_size()?;
    let (rules, fingerprint) = current_rules(node)?;
    let mut index = Index::new();
    let mut failure = None;
    node.store.scan_items(&mut |row| {
        // Another app server may commit while we scan: what lies beyond the size read above
        // is left for the next catch-up, so that no marking is added twice.
        if row.id >= ledger_size {
            return Ok(());
        }
        if failure.is_none() {
            failure = add_item(&mut index, &row, &rules).err();
        }
        Ok(())
    })?;
    if let Some(e) = failure {
        return Err(e);
    }
    index.compact();
    Ok(SearchIndex {
        index,
        ledger_size,
        rules: fingerprint,
        source: "rebuilt".into(),
    })
}

fn read_snapshot(node: &Node) -> Option<(u64, [u8; 32], Index)> {
    let file = std::fs::File::open(snapshot_path(node)).ok()?;
    let mut r = BufReader::with_capacity(1 << 20, file);
    let mut magic = [0u8; 8];
    r.read_exact(&mut magic).ok()?;
    if &magic != MAGIC {
        return None;
    }
    let mut size = [0u8; 8];
    r.read_exact(&mut size).ok()?;
    let mut rules = [0u8; 32];
    r.read_exact(&mut rules).ok()?;
    let index = Index::read_snapshot(r).ok()?;
    Some((u64::from_le_bytes(size), rules, index))
}

/// Writes the snapshot atomically (temporary file, then rename).
pub fn save(node: &Node, s: &SearchIndex) -> Result<(), SearchError> {
    let path = snapshot_path(node);
    // A temporary name of its own per writer: a server and a CLI may save at the same time.
    static SAVES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = SAVES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_extension(format!("idx.tmp.{}.{n}", std::process::id()));
    let io = |e| SearchError::Io(path.display().to_string(), e);
    let file = std::fs::File::create(&tmp).map_err(io)?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    w.write_all(MAGIC).map_err(io)?;
    w.write_all(&s.ledger_size.to_le_bytes()).map_err(io)?;
    w.write_all(&s.rules).map_err(io)?;
    s.index.write_snapshot(&mut w).map_err(io)?;
    let file = w.into_inner().map_err(|e| io(e.into_error()))?;
    file.sync_all().map_err(io)?;
    std::fs::rename(&tmp, &path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(e)
    })?;
    Ok(())
}

/// For a holder of an in-memory index reflecting `known` ledger records and the holdings
/// rules `known_rules`: `None` when neither has changed, else the index caught up with them
/// (as [`open`] gives it).
pub fn caught_up_since(
    node: &Node,
    known: u64,
    known_rules: [u8; 32],
) -> Result<Option<SearchIndex>, SearchError> {
    if node.store.ledger_size()? == known && current_rules(node)?.1 == known_rules {
        return Ok(None);
    }
    open(node).map(Some)
}

/// Opens the index: the snapshot caught up with the ledger, or a rebuild. Saves the result
/// when it changed.
pub fn open(node: &Node) -> Result<SearchIndex, SearchError> {
    let size = node.store.ledger_size()?;
    let (rules, fingerprint) = current_rules(node)?;
    let loaded = match read_snapshot(node) {
        // Custodians computed under other rules: rebuild.
        Some((_, stamped, _)) if stamped != fingerprint => None,
        Some((at, _, index)) if at == size => {
            return Ok(SearchIndex {
                index,
                ledger_size: size,
                rules: fingerprint,
                source: "snapshot".into(),
            })
        }
        Some((at, _, index)) if at < size => catch_up(node, at, index, &rules, fingerprint)?,
        _ => None,
    };
    let s = match loaded {
        Some(s) => s,
        None => rebuild(node)?,
    };
    save(node, &s)?;
    Ok(s)
}

/// Applies the records accepted since `from` to a snapshot; `None` when a rebuild is needed.
fn catch_up(
    node: &Node,
    from: u64,
    mut index: Index,
    rules: &[AgencyHoldings],
    fingerprint: [u8; 32],
) -> Result<Option<SearchIndex>, SearchError> {
    let size = node.store.ledger_size()?;
    let mut events = node.store.events_from(from)?;
    // Records committed (by another writer) after the size was read wait for the next
    // catch-up, which starts at `size`: nothing is applied twice.
    events.retain(|e| e.seq < size);
    if events.iter().any(|e| e.event_type == "corrected") {
        return Ok(None);
    }
    let mut touched: BTreeSet<u64> = events
        .iter()
        .map(|e| e.item_id)
        .filter(|id| *id < from)
        .collect();
    let mut failure = None;
    node.store.scan_items_from(from, &mut |row| {
        if row.id >= size {
            return Ok(());
        }
        touched.remove(&row.id);
        if failure.is_none() {
            failure = add_item(&mut index, &row, rules).err();
        }
        Ok(())
    })?;
    if let Some(e) = failure {
        return Err(e);
    }
    for id in touched {
        if let Some(row) = node.store.item_by_id(id)? {
            index.upsert_item(&row.key, attrs(&row, rules))?;
        }
    }
    Ok(Some(SearchIndex {
        index,
        ledger_size: size,
        rules: fingerprint,
        source: format!("snapshot+{} records", size - from),
    }))
}

/// How many serial numbers on either side are looked at for the same-shipment hint.
pub const SHIPMENT_WINDOW: u64 = 25;

/// Items of the same make and model whose serial is numerically adjacent to `serial`:
/// consecutive serials often travelled in one shipment (the partial-serial search that makes
/// field documentation useful for tracing). Serial `<prefix><digits>`; neighbours keep the
/// prefix and the width of the number.
pub fn same_shipment(
    index: &Index,
    item: &str,
    serial: &str,
    make: Option<&str>,
    model: Option<&str>,
    custodians: Option<&[String]>,
) -> Vec<Value> {
    let c = normalize::canonical(serial);
    let digits_at = c.len() - c.bytes().rev().take_while(u8::is_ascii_digit).count();
    let (prefix, digits) = c.split_at(digits_at);
    let (Ok(number), width) = (digits.parse::<u64>(), digits.len()) else {
        return Vec::new();
    };
    if width == 0 || width > 18 {
        return Vec::new();
    }
    let mut out = Vec::new();
    let lo = number.saturating_sub(SHIPMENT_WINDOW);
    for n in lo..=number.saturating_add(SHIPMENT_WINDOW) {
        if n == number {
            continue;
        }
        let candidate = format!("{prefix}{n:0width$}");
        if candidate.len() != c.len() {
            continue;
        }
        let mut q = Query::new(candidate);
        q.mode = tracemark_search::Mode::Exact;
        q.make = make.map(str::to_owned);
        q.model = model.map(str::to_owned);
        // The hints obey the same need-to-know as the search that asked for them.
        q.custodians = custodians.map(<[String]>::to_vec);
        q.limit = 10;
        if let Ok(r) = index.search(&q) {
            for h in r.hits {
                if h.item != item && h.kind == "serial" {
                    out.push(json!({
                        "item": h.item,
                        "serial": h.marking,
                        "offset": n as i64 - number as i64,
                        "status": h.status,
                    }));
                }
            }
        }
    }
    out
}

/// The contract's `search --json` document. Same-shipment hints are added to the first
/// `hint_hits` hits (each costs about fifty exact look-ups).
pub fn result_json(index: &Index, query: &Query, r: &SearchResult, hint_hits: usize) -> Value {
    let hits: Vec<Value> = r
        .hits
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let mut v = json!({
                "item": h.item,
                "marking": h.marking,
                "kind": h.kind,
                "match": h.match_class.as_str(),
                "distance": h.distance,
                "make": h.make,
                "model": h.model,
                "calibre": h.calibre,
                "status": h.status,
            });
            if i < hint_hits && h.kind == "serial" {
                v["same_shipment"] = Value::Array(same_shipment(
                    index,
                    &h.item,
                    &h.marking,
                    h.make.as_deref(),
                    h.model.as_deref(),
                    query.custodians.as_deref(),
                ));
            }
            v
        })
        .collect();
    let mut doc = json!({
        "query": query.text,
        "total": r.total,
        "hits": hits,
    });
    if let Some(c) = &r.capped {
        doc["capped"] = json!(c);
    }
    doc
}
