//! The audit log's write path: one canonical JSON entry per leaf of the store's second
//! Merkle log, and after each entry a checkpoint signed with the node key.
//!
//! The audit checkpoint's origin is `<ledger origin>/audit`. It is signed by the node key
//! (whose name is the ledger origin), so `open_note` verifies it with the node's verifier
//! key, while `open_checkpoint` — which requires origin = key name — refuses it: an audit
//! checkpoint can never be taken for a ledger checkpoint, nor the reverse.

use crate::Node;
use tracemark_ledger::merkle::Hash;
use tracemark_store::StoreError;

/// Appended to the ledger origin to name the audit log.
pub const AUDIT_ORIGIN_SUFFIX: &str = "/audit";

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("encoding the audit entry: {0}")]
    Encode(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Appends `entry` (a JSON object) durably; returns its index in the audit log.
pub fn append(node: &mut Node, entry: &serde_json::Value) -> Result<u64, AuditError> {
    append_all(node, std::slice::from_ref(entry))
}

/// Appends `entries` (JSON objects) durably in one transaction under one signed
/// checkpoint (the group commit of concurrent requests); returns the first one's index.
pub fn append_all(node: &mut Node, entries: &[serde_json::Value]) -> Result<u64, AuditError> {
    let data = entries
        .iter()
        .map(tracemark_ledger::canonical_json)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| AuditError::Encode(e.to_string()))?;
    let origin = format!("{}{AUDIT_ORIGIN_SUFFIX}", node.info.origin);
    let signer = &node.signer;
    let sign = |size: u64, root: &Hash| {
        let text = tracemark_ledger::Checkpoint {
            origin: origin.clone(),
            size,
            root: *root,
        }
        .to_note_text();
        signer.sign(&text).map_err(|e| e.to_string())
    };
    Ok(node.store.append_audit(&data, &sign)?)
}
