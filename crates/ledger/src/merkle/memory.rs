//! An in-memory tree over a vector of leaf hashes.

use super::{leaf_hash, root_of_leaf_hashes, Hash, SubtreeSource};

/// Why [`MemoryTree`] could not answer a subtree request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MemoryTreeError {
    /// `size` is not a power of two or `start` is not a multiple of it.
    #[error("[{start}, {start}+{size}) is not a perfect, aligned subtree")]
    NotPerfect {
        /// First leaf requested.
        start: u64,
        /// Number of leaves requested.
        size: u64,
    },
    /// The subtree reaches past the last leaf.
    #[error("[{start}, {start}+{size}) is beyond the {len} leaves held")]
    OutOfRange {
        /// First leaf requested.
        start: u64,
        /// Number of leaves requested.
        size: u64,
        /// Leaves held.
        len: u64,
    },
}

/// A Merkle tree held as a plain vector of leaf hashes.
///
/// Meant for tests, for verifying a store, and for small trees: every
/// `perfect_subtree` call rehashes its leaves, so a proof costs `O(n)` hashes.
/// Stores should persist tiles and use
/// [`subtree_from_tiles`](super::subtree_from_tiles) instead.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryTree {
    leaves: Vec<Hash>,
}

impl MemoryTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// A tree over these leaf hashes.
    pub fn from_leaf_hashes(leaves: Vec<Hash>) -> Self {
        Self { leaves }
    }

    /// Appends a leaf given its hash.
    pub fn push(&mut self, leaf: Hash) {
        self.leaves.push(leaf);
    }

    /// Appends a leaf given its data (hashed with [`leaf_hash`]).
    pub fn push_data(&mut self, data: &[u8]) {
        self.leaves.push(leaf_hash(data));
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.leaves.len() as u64
    }

    /// The leaf hashes.
    pub fn leaves(&self) -> &[Hash] {
        &self.leaves
    }

    /// The root over all leaves.
    pub fn root(&self) -> Hash {
        root_of_leaf_hashes(&self.leaves)
    }
}

impl SubtreeSource for MemoryTree {
    type Error = MemoryTreeError;

    fn perfect_subtree(&self, start: u64, size: u64) -> Result<Hash, MemoryTreeError> {
        if !size.is_power_of_two() || !start.is_multiple_of(size) {
            return Err(MemoryTreeError::NotPerfect { start, size });
        }
        let len = self.size();
        match start.checked_add(size) {
            Some(end) if end <= len => Ok(root_of_leaf_hashes(
                &self.leaves[start as usize..end as usize],
            )),
            _ => Err(MemoryTreeError::OutOfRange { start, size, len }),
        }
    }
}
