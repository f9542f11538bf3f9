//! Perfect subtrees from stored leaf hashes and tiles.
//!
//! A store keeps the leaf hashes (height 0) and the nodes at heights 8, 16,
//! 24, … that [`CompactRange::push`](super::CompactRange::push) reports. A
//! perfect subtree of height `h = 8a + b` (`0 <= b < 8`) is then the fold of
//! `2^b` consecutive stored nodes of height `8a`: at most 128 hashes read in
//! one contiguous range query and at most 127 node hashes computed. Storage
//! overhead is about 1/255 of the leaf hashes.

use super::{node_hash, Hash};

/// Stored interior nodes are those at heights that are multiples of this.
pub const TILE_HEIGHT: u8 = 8;

/// Why a subtree could not be computed from stored hashes.
#[derive(Debug, thiserror::Error)]
pub enum TileError<E> {
    /// `size` is not a power of two or `start` is not a multiple of it.
    #[error("[{start}, {start}+{size}) is not a perfect, aligned subtree")]
    NotPerfect {
        /// First leaf of the requested subtree.
        start: u64,
        /// Number of leaves requested.
        size: u64,
    },
    /// The store returned a different number of hashes than asked for: the
    /// tiles have not been written (or were lost).
    #[error("asked for {want} stored hashes at height {height}, got {got}")]
    WrongCount {
        /// Height of the stored nodes requested.
        height: u8,
        /// How many were requested.
        want: u64,
        /// How many came back.
        got: usize,
    },
    /// The fetch callback failed.
    #[error("reading stored hashes failed")]
    Fetch(#[source] E),
}

/// Computes the root of the perfect subtree `[start, start + size)` from
/// stored hashes.
///
/// `fetch(height, first_index, count)` must return the `count` stored hashes
/// of the given height (0 = leaf hashes, else a multiple of [`TILE_HEIGHT`])
/// at positions `first_index ..first_index + count` among the nodes of that
/// height, in order. It is called exactly once, with `count <= 128`.
pub fn subtree_from_tiles<E, F>(start: u64, size: u64, mut fetch: F) -> Result<Hash, TileError<E>>
where
    F: FnMut(u8, u64, u64) -> Result<Vec<Hash>, E>,
{
    if !size.is_power_of_two() || !start.is_multiple_of(size) {
        return Err(TileError::NotPerfect { start, size });
    }
    let height = size.trailing_zeros() as u8;
    let stored = height - height % TILE_HEIGHT;
    let count = 1u64 << (height - stored);
    let mut nodes = fetch(stored, start >> stored, count).map_err(TileError::Fetch)?;
    if nodes.len() as u64 != count {
        return Err(TileError::WrongCount {
            height: stored,
            want: count,
            got: nodes.len(),
        });
    }
    // Fold level by level in place: no allocation beyond the fetched vector.
    let mut n = nodes.len();
    while n > 1 {
        for i in 0..n / 2 {
            nodes[i] = node_hash(&nodes[2 * i], &nodes[2 * i + 1]);
        }
        n /= 2;
    }
    Ok(nodes[0])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{leaf_hash, root_of_leaf_hashes};
    use std::convert::Infallible;

    #[test]
    fn rejects_unaligned_and_non_power_of_two() {
        let fetch = |_: u8, _: u64, _: u64| -> Result<Vec<Hash>, Infallible> { Ok(vec![]) };
        assert!(matches!(
            subtree_from_tiles(0, 3, fetch),
            Err(TileError::NotPerfect { .. })
        ));
        assert!(matches!(
            subtree_from_tiles(2, 4, fetch),
            Err(TileError::NotPerfect { .. })
        ));
        assert!(matches!(
            subtree_from_tiles(0, 0, fetch),
            Err(TileError::NotPerfect { .. })
        ));
    }

    #[test]
    fn short_read_is_an_error() {
        let fetch = |_: u8, _: u64, _: u64| -> Result<Vec<Hash>, Infallible> { Ok(vec![[0; 32]]) };
        assert!(matches!(
            subtree_from_tiles(0, 4, fetch),
            Err(TileError::WrongCount {
                want: 4,
                got: 1,
                ..
            })
        ));
    }

    #[test]
    fn small_subtrees_read_leaves_once() {
        let leaves: Vec<Hash> = (0u32..512).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mut calls = Vec::new();
        let got = subtree_from_tiles(128, 128, |h, i, c| -> Result<_, Infallible> {
            calls.push((h, i, c));
            Ok(leaves[i as usize..(i + c) as usize].to_vec())
        });
        assert_eq!(calls, vec![(0, 128, 128)]);
        assert_eq!(
            got.unwrap_or_else(|e| panic!("{e}")),
            root_of_leaf_hashes(&leaves[128..256])
        );
    }
}
