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
use serde::Serialize;
use std::collections::HashMap;
use tracemark_domain::interchange::parse_object;
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
    /// The first disagreement found, if any.
    pub error: Option<String>,
    /// With `--against`: the external checkpoint's size, if it was checked.
    pub against_size: Option<u64>,
}

struct ItemRecords {
    seq: u64,
    object: serde_json::Map<String, serde_json::Value>,
    events: Vec<StoredEvent>,
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
            disagree!("checkpoint at size {}: the signed note says size {} and another root", cp.size, opened.size);
        }
        wanted.push((cp.size, cp.root, format!("stored checkpoint at size {}", cp.size)));
    }
    report.checkpoints = stored.len() as u64;
    if let Some(text) = against {
        let cp = check_note(text, &verifier, &node.info.origin)
            .map_err(|m| Failure::Disagree(format!("--against checkpoint: {m}")))?;
        if cp.size > size {
            disagree!("--against checkpoint has size {} but the ledger has only {size} records: records were removed", cp.size);
        }
        report.against_size = Some(cp.size);
        wanted.push((cp.size, cp.root, format!("--against checkpoint at size {}", cp.size)));
    }
    match stored.last() {
        Some(last) if last.size != size => disagree!("the ledger has {size} records but the latest checkpoint covers {}", last.size),
        None if size > 0 => disagree!("the ledger has {size} records and no checkpoint"),
        _ => {}
    }
    wanted.sort_by_key(|w| w.0);

    // One pass over the leaves.
    let mut tree = CompactRange::new();
    let mut tiles: Vec<TileNode> = Vec::new();
    let mut items: HashMap<String, ItemRecords> = HashMap::new();
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
    let mut expected_index = 0u64;
    let mut failure: Option<Failure> = None;
    store.scan_leaves(0, size, &mut |leaf| {
        let mut step = || -> Result<(), Failure> {
            if leaf.index != expected_index {
                disagree!("ledger index {expected_index} is missing");
            }
            expected_index += 1;
            let h = leaf_hash(&leaf.data);
            if h != leaf.leaf_hash {
                disagree!("record #{}: its stored leaf hash does not match its bytes", leaf.index);
            }
            for t in tree.push(h) {
                tiles.push(t);
            }
            check_roots(&tree)?;
            let env = envelope::decode(&leaf.data, true)
                .map_err(|e| Failure::Disagree(format!("record #{}: {e}", leaf.index)))?;
            let parsed = parse_object(env.record.clone()).map_err(|errors| {
                Failure::Disagree(format!(
                    "record #{} is not a valid record: {}: {}",
                    leaf.index,
                    errors.first().map(|e| e.field.as_str()).unwrap_or(""),
                    errors.first().map(|e| e.message.as_str()).unwrap_or("")
                ))
            })?;
            match parsed.record {
                Record::Item(item) => {
                    let key = item.key.as_str().to_owned();
                    if items.contains_key(&key) {
                        disagree!("record #{}: item '{key}' is declared twice", leaf.index);
                    }
                    items.insert(key, ItemRecords { seq: leaf.index, object: env.record, events: Vec::new() });
                }
                Record::Event(event) => match items.get_mut(event.item.as_str()) {
                    Some(i) => i.events.push(StoredEvent { seq: leaf.index, object: env.record }),
                    None => disagree!("record #{}: event for item '{}' declared nowhere before it", leaf.index, event.item),
                },
            }
            Ok(())
        };
        if let Err(f) = step() {
            failure = Some(f);
            return Err(StoreError::Corrupt(String::new()));
        }
        Ok(())
    })
    .or_else(|e| match (&failure, e) {
        (Some(_), _) => Ok(()),
        (None, e) => Err(e),
    })?;
    if let Some(f) = failure {
        return Err(f);
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
        disagree!("{} Merkle nodes are stored, {} recomputed", stored_tiles, tiles.len());
    }

    // Projections.
    let mut seen = 0u64;
    let mut events = 0u64;
    let mut proj_failure: Option<String> = None;
    store.scan_items(&mut |row| {
        if proj_failure.is_some() {
            return Ok(());
        }
        seen += 1;
        let Some(rec) = items.get(&row.key) else {
            proj_failure = Some(format!("projection has item '{}' which no record declares", row.key));
            return Ok(());
        };
        let result = (|| -> Result<(), String> {
            if rec.seq != row.id {
                return Err(format!("item '{}': projection id {} but declared at #{}", row.key, row.id, rec.seq));
            }
            let p = project(rec.seq, &rec.object, &rec.events).map_err(|e| e.to_string())?;
            let digest = envelope::digest(&rec.object).map_err(|e| e.to_string())?;
            if digest != row.digest || p.item.kind.as_str() != row.kind {
                return Err(format!("item '{}': projection differs from its declaration", row.key));
            }
            if p.status.as_str() != row.state.status {
                return Err(format!("item '{}': projection says status {}, the records give {}", row.key, row.state.status, p.status));
            }
            let holder = p.holder.as_ref().map(|h| actor_json(h).to_string());
            if holder != row.state.holder {
                return Err(format!("item '{}': projected holder differs from the records", row.key));
            }
            if attrs_of(&p.item) != row.attrs {
                return Err(format!("item '{}': projected attributes or markings differ from the records", row.key));
            }
            let stored_events = store.item_events(row.id).map_err(|e| e.to_string())?;
            if stored_events.len() != p.events.len() {
                return Err(format!("item '{}': {} events projected, {} recorded", row.key, stored_events.len(), p.events.len()));
            }
            for s in &stored_events {
                let Some(e) = p.events.iter().find(|e| e.seq == s.seq) else {
                    return Err(format!("item '{}': projected event #{} is not a record of the item", row.key, s.seq));
                };
                if s.event_type != e.event.event_type.as_str()
                    || s.date != e.event.date.as_str()
                    || s.date_start != e.event.date.start()
                    || s.void != e.void
                    || s.event_id.as_deref() != e.event.id.as_ref().map(|i| i.as_str())
                {
                    return Err(format!("item '{}': projected event #{} differs from the record", row.key, s.seq));
                }
            }
            events += stored_events.len() as u64;
            Ok(())
        })();
        if let Err(m) = result {
            proj_failure = Some(m);
        }
        Ok(())
    })?;
    if let Some(m) = proj_failure {
        return Err(Failure::Disagree(m));
    }
    if seen != items.len() as u64 {
        disagree!("the records declare {} items but the projection has {seen}", items.len());
    }
    let recorded_events: u64 = items.values().map(|i| i.events.len() as u64).sum();
    if store.event_count()? != recorded_events {
        disagree!("the records hold {recorded_events} events but the projection has {}", store.event_count()?);
    }
    report.items = seen;
    report.events = events;
    Ok(())
}

fn check_note(note: &str, verifier: &NoteVerifier, origin: &str) -> Result<Checkpoint, String> {
    let cp = open_checkpoint(note, verifier).map_err(|e| format!("signature does not verify with this node's key ({e})"))?;
    if cp.origin != origin {
        return Err(format!("origin '{}' is not this log ('{origin}')", cp.origin));
    }
    Ok(cp)
}
