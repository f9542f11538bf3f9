//! `ledger verify`: recompute everything from the stored records and compare.
//!
//! One sequential pass over the ledger recomputes every leaf hash from the record bytes
//! (and checks they are canonical), rebuilds the Merkle tree and its tiles, and collects each
//! item's records. Then it checks: every stored checkpoint's signature, that each one's root
//! is the recomputed root at its size (which also proves them mutually consistent: they are
//! prefixes of one tree), the stored tiles and tree state, and every projection row against
//! a projection recomputed from the records. The first disagreement is named.

use crate::envelope;
use crate::import::{actor_json, attrs_of};
use crate::node::Node;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::HashMap;
use tracemark_domain::interchange::parse_record;
use tracemark_domain::model::Record;
use tracemark_domain::projection::{project, StoredEvent};
use tracemark_ledger::merkle::{leaf_hash, CompactRange, Hash, TileNode};
use tracemark_ledger::{open_checkpoint, Checkpoint, NoteVerifier};
use tracemark_store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Key(String),
    #[error("reading {0}: {1}")]
    Read(String, std::io::Error),
}

#[derive(Debug, Serialize, Default)]
pub struct VerifyReport {
    pub ok: bool,
    pub size: u64,
    pub root: String,
    pub leaves: u64,
    pub checkpoints: u64,
    pub items: u64,
    pub events: u64,
    /// Records in the trace log, and traces recomputed from them.
    pub trace_records: u64,
    pub traces: u64,
    /// The first disagreement found, if any.
    pub error: Option<String>,
    /// With `--against`: the external checkpoint's size, if it was checked.
    pub against_size: Option<u64>,
}

fn b64(h: &Hash) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(h)
}

/// Verifies the node's store; `against` is the text of a checkpoint kept elsewhere.
pub fn verify(node: &Node, against: Option<&str>) -> Result<VerifyReport, VerifyError> {
    let mut report = VerifyReport::default();
    match run(node, against, &mut report) {
        Ok(()) => report.ok = true,
        Err(Failure::Disagree(m)) => report.error = Some(m),
        Err(Failure::Fatal(e)) => return Err(e),
    }
    Ok(report)
}

enum Failure {
    Disagree(String),
    Fatal(VerifyError),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Corrupt(m) => Failure::Disagree(m),
            other => Failure::Fatal(other.into()),
        }
    }
}

macro_rules! disagree {
    ($($t:tt)*) => { return Err(Failure::Disagree(format!($($t)*))) };
}

fn run(node: &Node, against: Option<&str>, report: &mut VerifyReport) -> Result<(), Failure> {
    let store: &dyn Store = node.store.as_ref();
    let verifier = NoteVerifier::new(&node.info.verifier_key)
        .map_err(|e| Failure::Fatal(VerifyError::Key(e.to_string())))?;
    let size = store.ledger_size()?;
    report.size = size;

    // Checkpoints: signed by this node, for this log.
    let stored = store.checkpoints()?;
    let mut wanted: Vec<(u64, Hash, String)> = Vec::new();
    for cp in &stored {
        let opened = check_note(&cp.note, &verifier, &node.info.origin)
            .map_err(|m| Failure::Disagree(format!("checkpoint at size {}: {m}", cp.size)))?;
        if opened.size != cp.size || opened.root != cp.root {
            disagree!(
                "checkpoint at size {}: the signed note says size {} and another root",
                cp.size,
                opened.size
            );
        }
        wanted.push((
            cp.size,
            cp.root,
            format!("stored checkpoint at size {}", cp.size),
        ));
    }
    report.checkpoints = stored.len() as u64;
    if let Some(text) = against {
        let cp = check_note(text, &verifier, &node.info.origin)
            .map_err(|m| Failure::Disagree(format!("--against checkpoint: {m}")))?;
        if cp.size > size {
            disagree!("--against checkpoint has size {} but the ledger has only {size} records: records were removed", cp.size);
        }
        report.against_size = Some(cp.size);
        wanted.push((
            cp.size,
            cp.root,
            format!("--against checkpoint at size {}", cp.size),
        ));
    }
    match stored.last() {
        Some(last) if last.size != size => disagree!(
            "the ledger has {size} records but the latest checkpoint covers {}",
            last.size
        ),
        None if size > 0 => disagree!("the ledger has {size} records and no checkpoint"),
        _ => {}
    }
    wanted.sort_by_key(|w| w.0);

    // One pass over the leaves.
    let mut tree = CompactRange::new();
    let mut tiles: Vec<TileNode> = Vec::new();
    // Only indexes are kept from the scan (not the records), so memory stays near
    // 100 bytes per item and 16 per event whatever the size of the records.
    let mut items: HashMap<String, u64> = HashMap::new();
    let mut event_items: Vec<(u64, u64)> = Vec::new();
    let mut next_check = 0usize;
    let mut check_roots = |tree: &CompactRange| -> Result<(), Failure> {
        while let Some((s, root, what)) = wanted.get(next_check) {
            if *s != tree.size() {
                break;
            }
            if tree.root() != *root {
                disagree!("{what}: its root differs from the root recomputed from the records");
            }
            next_check += 1;
        }
        Ok(())
    };
    check_roots(&tree)?;
    // Leaves are read in chunks; hashing, decoding and validating a chunk runs on every core,
    // then the results are folded into the tree in index order.
    const CHUNK: u64 = 16_384;
    let mut expected_index = 0u64;
    let mut from = 0u64;
    while from < size {
        let to = (from + CHUNK).min(size);
        let mut leaves = Vec::with_capacity((to - from) as usize);
        store.scan_leaves(from, to, &mut |leaf| {
            leaves.push(leaf);
            Ok(())
        })?;
        let checked: Vec<(u64, Hash, Hash, Result<Declared, String>)> = leaves
            .into_par_iter()
            .map(|leaf| {
                let h = leaf_hash(&leaf.data);
                (leaf.index, h, leaf.leaf_hash, check_leaf(&leaf.data))
            })
            .collect();
        for (index, h, stored_hash, outcome) in checked {
            if index != expected_index {
                disagree!("ledger index {expected_index} is missing");
            }
            expected_index += 1;
            if h != stored_hash {
                disagree!("record #{index}: its stored leaf hash does not match its bytes");
            }
            for t in tree.push(h) {
                tiles.push(t);
            }
            check_roots(&tree)?;
            match outcome.map_err(|m| Failure::Disagree(format!("record #{index}: {m}")))? {
                Declared::Item(key) => {
                    if items.insert(key, index).is_some() {
                        disagree!("record #{index}: the item is declared twice");
                    }
                }
                Declared::Event(item) => match items.get(&item) {
                    Some(i) => event_items.push((*i, index)),
                    None => disagree!(
                        "record #{index}: event for item '{item}' declared nowhere before it"
                    ),
                },
            }
        }
        from = to;
    }
    if expected_index != size {
        disagree!("the ledger should have {size} records but has {expected_index}");
    }
    report.leaves = size;
    report.root = b64(&tree.root());
    if let Some((s, _, what)) = wanted.get(next_check) {
        disagree!("{what}: size {s} was not reached by the records");
    }

    // Tiles (collected in completion order, which interleaves heights).
    tiles.sort_by_key(|t| (t.height, t.index));
    let mut stored_tiles = 0usize;
    let mut tile_failure = None;
    store.scan_tiles(&mut |height, index, hash| {
        let ok = tiles.binary_search_by_key(&(height, index), |t| (t.height, t.index))
            .ok()
            .map(|i| tiles[i].hash == hash);
        if ok != Some(true) && tile_failure.is_none() {
            tile_failure = Some(format!("stored Merkle node at height {height}, index {index} differs from the recomputed one"));
        }
        stored_tiles += 1;
        Ok(())
    })?;
    if let Some(m) = tile_failure {
        return Err(Failure::Disagree(m));
    }
    if stored_tiles != tiles.len() {
        disagree!(
            "{} Merkle nodes are stored, {} recomputed",
            stored_tiles,
            tiles.len()
        );
    }

    // Projections: walk the items in id order beside the events grouped by item, load each
    // item's records by index and compare the stored projection with a recomputed one.
    event_items.sort_unstable();
    let recorded_events = event_items.len() as u64;
    let mut next_event = 0usize;
    let mut seen = 0u64;
    let mut events = 0u64;
    let mut proj_failure: Option<String> = None;
    let load = |seq: u64| -> Result<serde_json::Map<String, serde_json::Value>, String> {
        let leaf = store
            .leaf(seq)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("record #{seq} vanished during verification"))?;
        envelope::decode(&leaf.data, false)
            .map(|e| e.record)
            .map_err(|e| e.to_string())
    };
    // Items are loaded in chunks (store reads are sequential), then projected and compared
    // on every core.
    let mut pending: Vec<Loaded> = Vec::new();
    let flush = |pending: &mut Vec<Loaded>, events: &mut u64| -> Result<(), String> {
        let results: Vec<Result<u64, String>> = pending.par_iter().map(check_item).collect();
        pending.clear();
        for r in results {
            *events += r?;
        }
        Ok(())
    };
    store.scan_items(&mut |row| {
        if proj_failure.is_some() {
            return Ok(());
        }
        seen += 1;
        let loaded = (|| -> Result<Loaded, String> {
            if items.get(&row.key) != Some(&row.id) {
                return Err(format!(
                    "projection has item '{}' at id {} which no record declares there",
                    row.key, row.id
                ));
            }
            let object = load(row.id)?;
            let mut stored = Vec::new();
            while let Some((item, seq)) = event_items.get(next_event) {
                if *item < row.id {
                    return Err(format!(
                        "record #{seq} is an event of item #{item}, which has no projection"
                    ));
                }
                if *item > row.id {
                    break;
                }
                stored.push(StoredEvent {
                    seq: *seq,
                    object: load(*seq)?,
                });
                next_event += 1;
            }
            let stored_events = store.item_events(row.id).map_err(|e| e.to_string())?;
            Ok(Loaded {
                row,
                object,
                records: stored,
                stored_events,
            })
        })();
        match loaded {
            Ok(l) => {
                pending.push(l);
                if pending.len() >= 4096 {
                    if let Err(m) = flush(&mut pending, &mut events) {
                        proj_failure = Some(m);
                    }
                }
            }
            Err(m) => proj_failure = Some(m),
        }
        Ok(())
    })?;
    if proj_failure.is_none() {
        if let Err(m) = flush(&mut pending, &mut events) {
            proj_failure = Some(m);
        }
    }
    if let Some(m) = proj_failure {
        return Err(Failure::Disagree(m));
    }
    if seen != items.len() as u64 {
        disagree!(
            "the records declare {} items but the projection has {seen}",
            items.len()
        );
    }
    if store.event_count()? != recorded_events {
        disagree!(
            "the records hold {recorded_events} events but the projection has {}",
            store.event_count()?
        );
    }
    report.items = seen;
    report.events = events;
    verify_traces(node, &verifier, report)
}

/// The trace log: every leaf hash from its bytes, every checkpoint's signature (origin
/// `<ledger origin>/traces`) and root, each record decoded, and each trace's projection row
/// against the state replayed from its records.
fn verify_traces(
    node: &Node,
    verifier: &NoteVerifier,
    report: &mut VerifyReport,
) -> Result<(), Failure> {
    use crate::traces;
    let store: &dyn Store = node.store.as_ref();
    let origin = format!("{}{}", node.info.origin, traces::TRACE_ORIGIN_SUFFIX);
    let size = store.trace_log_size()?;
    let mut wanted: Vec<(u64, Hash)> = Vec::new();
    for cp in store.trace_checkpoints()? {
        let opened = tracemark_ledger::open_note(&cp.note, std::slice::from_ref(verifier))
            .map_err(|e| {
                Failure::Disagree(format!(
                    "trace log checkpoint at size {}: signature does not verify with this node's key ({e})",
                    cp.size
                ))
            })?;
        let parsed = Checkpoint::parse(&opened.text).map_err(|e| {
            Failure::Disagree(format!("trace log checkpoint at size {}: {e}", cp.size))
        })?;
        if parsed.origin != origin || parsed.size != cp.size || parsed.root != cp.root {
            disagree!(
                "trace log checkpoint at size {}: the signed note names another log, size or root",
                cp.size
            );
        }
        wanted.push((cp.size, cp.root));
    }
    match wanted.last() {
        Some((last, _)) if *last != size => {
            disagree!("the trace log has {size} records but its latest checkpoint covers {last}")
        }
        None if size > 0 => disagree!("the trace log has {size} records and no checkpoint"),
        _ => {}
    }
    let mut tree = CompactRange::new();
    let mut next = 0usize;
    let mut keys: Vec<String> = Vec::new();
    const CHUNK: u64 = 4096;
    let mut from = 0u64;
    while from < size {
        let to = (from + CHUNK).min(size);
        for leaf in store.trace_leaves(from, to)? {
            if leaf.index != tree.size() {
                disagree!("trace log record #{} is missing", tree.size());
            }
            if leaf_hash(&leaf.data) != leaf.leaf_hash {
                disagree!(
                    "trace log record #{}: its stored leaf hash does not match its bytes",
                    leaf.index
                );
            }
            envelope::decode(&leaf.data, true)
                .map_err(|e| Failure::Disagree(format!("trace log record #{}: {e}", leaf.index)))?;
            let (_, _, record) = traces::decode_leaf(&leaf.data)
                .map_err(|m| Failure::Disagree(format!("trace log record #{}: {m}", leaf.index)))?;
            if record.trace != leaf.trace {
                disagree!(
                    "trace log record #{} is filed under {} but is about {}",
                    leaf.index,
                    leaf.trace,
                    record.trace
                );
            }
            if !keys.contains(&leaf.trace) {
                keys.push(leaf.trace.clone());
            }
            let _ = tree.push(leaf.leaf_hash);
            while let Some((s, root)) = wanted.get(next) {
                if *s != tree.size() {
                    break;
                }
                if tree.root() != *root {
                    disagree!("trace log checkpoint at size {s}: its root differs from the root recomputed from the records");
                }
                next += 1;
            }
        }
        from = to;
    }
    if tree.size() != size {
        disagree!(
            "the trace log should have {size} records but has {}",
            tree.size()
        );
    }
    if let Some((s, _)) = wanted.get(next) {
        disagree!("trace log checkpoint at size {s} was not reached by the records");
    }
    let me = tracemark_domain::ids::CountryCode::parse(&node.info.state)
        .map_err(|e| Failure::Fatal(VerifyError::Key(e)))?;
    let rows = store.traces()?;
    if rows.len() != keys.len() {
        disagree!(
            "the trace log holds {} traces but the projection has {}",
            keys.len(),
            rows.len()
        );
    }
    for row in rows {
        let t = match traces::load(node, &row.key) {
            Ok(Some(t)) => t,
            Ok(None) => disagree!("projected trace {} has no record", row.key),
            Err(e) => disagree!("trace {}: {e}", row.key),
        };
        let recomputed = traces::projection(&row.key, t.role, me, &t.state, t.records.len() as u64);
        if recomputed != row {
            disagree!(
                "trace {}: its projection differs from the state its records give",
                row.key
            );
        }
    }
    report.trace_records = size;
    report.traces = keys.len() as u64;
    Ok(())
}

/// What a leaf declares, for the cross-record checks.
enum Declared {
    Item(String),
    Event(String),
}

/// Checks one leaf's bytes: a canonical version-1 envelope holding a valid record.
fn check_leaf(data: &[u8]) -> Result<Declared, String> {
    let env = envelope::decode(data, true).map_err(|e| e.to_string())?;
    let (record, _) = parse_record(&env.record).map_err(|errors| {
        format!(
            "not a valid record: {}: {}",
            errors.first().map(|e| e.field.as_str()).unwrap_or(""),
            errors.first().map(|e| e.message.as_str()).unwrap_or("")
        )
    })?;
    Ok(match record {
        Record::Item(item) => Declared::Item(item.key.as_str().to_owned()),
        Record::Event(event) => Declared::Event(event.item.as_str().to_owned()),
    })
}

/// An item's projection row with the records it must be derived from.
struct Loaded {
    row: tracemark_store::ItemRow,
    object: serde_json::Map<String, serde_json::Value>,
    records: Vec<StoredEvent>,
    stored_events: Vec<tracemark_store::EventRow>,
}

/// Recomputes one item's projection and compares; returns its number of events.
fn check_item(l: &Loaded) -> Result<u64, String> {
    let row = &l.row;
    let p = project(row.id, &l.object, &l.records).map_err(|e| e.to_string())?;
    let digest = envelope::digest(&l.object).map_err(|e| e.to_string())?;
    if digest != row.digest || p.item.kind.as_str() != row.kind {
        return Err(format!(
            "item '{}': projection differs from its declaration",
            row.key
        ));
    }
    if p.status.as_str() != row.state.status {
        return Err(format!(
            "item '{}': projection says status {}, the records give {}",
            row.key, row.state.status, p.status
        ));
    }
    let holder = p.holder.as_ref().map(|h| actor_json(h).to_string());
    if holder != row.state.holder {
        return Err(format!(
            "item '{}': projected holder differs from the records",
            row.key
        ));
    }
    if attrs_of(&p.item) != row.attrs {
        return Err(format!(
            "item '{}': projected attributes or markings differ from the records",
            row.key
        ));
    }
    if l.stored_events.len() != p.events.len() {
        return Err(format!(
            "item '{}': {} events projected, {} recorded",
            row.key,
            l.stored_events.len(),
            p.events.len()
        ));
    }
    for s in &l.stored_events {
        let Some(e) = p.events.iter().find(|e| e.seq == s.seq) else {
            return Err(format!(
                "item '{}': projected event #{} is not a record of the item",
                row.key, s.seq
            ));
        };
        let record = l
            .records
            .iter()
            .find(|r| r.seq == s.seq)
            .ok_or("missing record")?;
        let digest = envelope::digest(&record.object).map_err(|e| e.to_string())?;
        if s.event_type != e.event.event_type.as_str()
            || s.date != e.event.date.as_str()
            || s.date_start != e.event.date.start()
            || s.date_end != e.event.date.end()
            || s.void != e.void
            || s.digest != digest
            || s.event_id.as_deref() != e.event.id.as_ref().map(|i| i.as_str())
        {
            return Err(format!(
                "item '{}': projected event #{} differs from the record",
                row.key, s.seq
            ));
        }
    }
    Ok(l.stored_events.len() as u64)
}

fn check_note(note: &str, verifier: &NoteVerifier, origin: &str) -> Result<Checkpoint, String> {
    let cp = open_checkpoint(note, verifier)
        .map_err(|e| format!("signature does not verify with this node's key ({e})"))?;
    if cp.origin != origin {
        return Err(format!(
            "origin '{}' is not this log ('{origin}')",
            cp.origin
        ));
    }
    Ok(cp)
}
