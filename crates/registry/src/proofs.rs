//! Leaves, checkpoints and Merkle proofs as the CLI and API serve them.

use crate::node::Node;
use tracemark_ledger::merkle::{self, Hash, SubtreeSource};
use tracemark_store::{LeafRow, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ProofError {
    #[error("index {index} is not in the ledger (size {size})")]
    NoSuchLeaf { index: u64, size: u64 },
    #[error("size {size} is beyond the ledger (size {ledger})")]
    TooLarge { size: u64, ledger: u64 },
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Adapts a store to the ledger crate's proof algorithms.
pub struct StoreTree<'a>(pub &'a dyn Store);

impl SubtreeSource for StoreTree<'_> {
    type Error = StoreError;
    fn perfect_subtree(&self, start: u64, size: u64) -> Result<Hash, StoreError> {
        self.0.perfect_subtree(start, size)
    }
}

fn flatten(e: merkle::ProofError<StoreError>) -> ProofError {
    match e {
        merkle::ProofError::Source(e) => ProofError::Store(e),
        other => ProofError::Invalid(other.to_string()),
    }
}

pub struct InclusionProof {
    pub index: u64,
    pub size: u64,
    pub leaf_hash: Hash,
    pub proof: Vec<Hash>,
    pub root: Hash,
}

pub struct ConsistencyProof {
    pub size1: u64,
    pub size2: u64,
    pub root1: Hash,
    pub root2: Hash,
    pub proof: Vec<Hash>,
}

pub fn leaf(node: &Node, index: u64) -> Result<LeafRow, ProofError> {
    let size = node.store.ledger_size()?;
    node.store
        .leaf(index)?
        .ok_or(ProofError::NoSuchLeaf { index, size })
}

pub fn root(node: &Node, size: u64) -> Result<Hash, ProofError> {
    let ledger = node.store.ledger_size()?;
    if size > ledger {
        return Err(ProofError::TooLarge { size, ledger });
    }
    merkle::root(&StoreTree(node.store.as_ref()), size).map_err(flatten)
}

pub fn inclusion(node: &Node, index: u64, size: Option<u64>) -> Result<InclusionProof, ProofError> {
    let ledger = node.store.ledger_size()?;
    let size = size.unwrap_or(ledger);
    if size > ledger {
        return Err(ProofError::TooLarge { size, ledger });
    }
    if index >= size {
        return Err(ProofError::NoSuchLeaf { index, size });
    }
    let leaf = leaf(node, index)?;
    let tree = StoreTree(node.store.as_ref());
    let proof = merkle::inclusion_proof(&tree, index, size).map_err(flatten)?;
    let root = merkle::root(&tree, size).map_err(flatten)?;
    Ok(InclusionProof {
        index,
        size,
        leaf_hash: leaf.leaf_hash,
        proof,
        root,
    })
}

pub fn consistency(node: &Node, size1: u64, size2: u64) -> Result<ConsistencyProof, ProofError> {
    let ledger = node.store.ledger_size()?;
    if size2 > ledger {
        return Err(ProofError::TooLarge {
            size: size2,
            ledger,
        });
    }
    if size1 > size2 {
        return Err(ProofError::Invalid(format!(
            "--from {size1} is larger than --to {size2}"
        )));
    }
    if size1 == 0 {
        return Err(ProofError::Invalid(
            "a consistency proof from size 0 proves nothing (RFC 9162 §2.1.4); use --from 1 or more".into(),
        ));
    }
    let tree = StoreTree(node.store.as_ref());
    let proof = merkle::consistency_proof(&tree, size1, size2).map_err(flatten)?;
    Ok(ConsistencyProof {
        size1,
        size2,
        root1: merkle::root(&tree, size1).map_err(flatten)?,
        root2: merkle::root(&tree, size2).map_err(flatten)?,
        proof,
    })
}
