//! The incremental tree builder ("compact range" over `[0, size)`).

use super::{fold_peaks, node_hash, proof::SubtreeSource, Hash, EMPTY_ROOT};
use crate::merkle::TILE_HEIGHT;

/// Most tiles one push can complete: heights 8, 16, …, 64.
const MAX_TILES_PER_PUSH: usize = 64 / TILE_HEIGHT as usize;

/// A stored interior node completed by a push: the root of the perfect
/// subtree of height `height` (covering `2^height` leaves) that is the
/// `index`-th node at that height, i.e. covers leaves
/// `[index << height, (index + 1) << height)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TileNode {
    /// Height above the leaves; always a positive multiple of [`TILE_HEIGHT`].
    pub height: u8,
    /// Position among the nodes of that height, counting from 0.
    pub index: u64,
    /// The subtree root.
    pub hash: Hash,
}

/// Why stored builder state was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompactRangeError {
    /// A tree of `size` leaves has exactly one peak per one bit of `size`.
    #[error("a tree of {size} leaves has {want} peaks, got {got}")]
    PeakCount {
        /// The claimed tree size.
        size: u64,
        /// `size.count_ones()`.
        want: u32,
        /// How many peaks were supplied.
        got: usize,
    },
}

/// Incremental RFC 6962 tree builder.
///
/// Holds only the *peaks*: the roots of the perfect subtrees that make up the
/// tree of the leaves pushed so far, largest (leftmost) first, one per one bit
/// of the size. That is at most 64 hashes whatever the size, so a store can
/// persist `(size, peaks)` after each batch and resume with
/// [`from_size_and_peaks`](Self::from_size_and_peaks), or rebuild them from
/// its own data with [`from_source`](Self::from_source).
///
/// Each [`push`](Self::push) returns the nodes it completed at heights 8, 16,
/// 24, …: those are the "tiles" a store persists so that any perfect subtree
/// can later be recomputed from at most 128 stored hashes (see
/// [`subtree_from_tiles`](super::subtree_from_tiles)).
#[derive(Clone)]
pub struct CompactRange {
    size: u64,
    peaks: Vec<Hash>,
    /// Tiles completed by the last push, by increasing height (8, 16, …).
    /// Kept here rather than returned by value so that the common push (no
    /// tile) copies nothing.
    completed: [Hash; MAX_TILES_PER_PUSH],
    completed_len: u8,
    /// Index of the leaf added by the last push.
    last_leaf: u64,
}

impl std::fmt::Debug for CompactRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompactRange")
            .field("size", &self.size)
            .field("peaks", &self.peaks.len())
            .finish_non_exhaustive()
    }
}

/// Two builders are equal when they describe the same tree; the tiles of the
/// last push are bookkeeping, not state.
impl PartialEq for CompactRange {
    fn eq(&self, other: &Self) -> bool {
        self.size == other.size && self.peaks == other.peaks
    }
}

impl Eq for CompactRange {}

impl Default for CompactRange {
    fn default() -> Self {
        Self::new()
    }
}

impl CompactRange {
    /// An empty tree.
    pub fn new() -> Self {
        Self {
            size: 0,
            peaks: Vec::with_capacity(64),
            completed: [[0; 32]; MAX_TILES_PER_PUSH],
            completed_len: 0,
            last_leaf: 0,
        }
    }

    /// Resumes from a stored size and its peaks (largest subtree first, as
    /// returned by [`peaks`](Self::peaks)).
    ///
    /// Only the count is checkable here; whether the hashes are right is the
    /// store's responsibility (compare [`root`](Self::root) with a signed
    /// checkpoint when in doubt).
    pub fn from_size_and_peaks(size: u64, peaks: Vec<Hash>) -> Result<Self, CompactRangeError> {
        if peaks.len() != size.count_ones() as usize {
            return Err(CompactRangeError::PeakCount {
                size,
                want: size.count_ones(),
                got: peaks.len(),
            });
        }
        let mut range = Self::new();
        range.size = size;
        range.peaks.extend(peaks);
        Ok(range)
    }

    /// Rebuilds the builder for the first `size` leaves of `src`, with one
    /// `perfect_subtree` call per peak.
    pub fn from_source<S: SubtreeSource + ?Sized>(src: &S, size: u64) -> Result<Self, S::Error> {
        let mut range = Self::new();
        for (start, len) in peak_ranges(size) {
            range.peaks.push(src.perfect_subtree(start, len)?);
        }
        range.size = size;
        Ok(range)
    }

    /// Number of leaves pushed so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The peaks, largest (leftmost) subtree first; see
    /// [`peak_ranges`](Self::peak_ranges) for the leaves each one covers.
    pub fn peaks(&self) -> &[Hash] {
        &self.peaks
    }

    /// The `(start, size)` leaf ranges covered by the peaks of a tree of
    /// `size` leaves, in the order of [`peaks`](Self::peaks).
    pub fn peak_ranges(size: u64) -> impl Iterator<Item = (u64, u64)> {
        peak_ranges(size)
    }

    /// The tree root: the empty root for size 0, otherwise the peaks folded
    /// right to left.
    pub fn root(&self) -> Hash {
        if self.peaks.is_empty() {
            return EMPTY_ROOT;
        }
        fold_peaks(&self.peaks)
    }

    /// Appends a leaf hash and returns the tiles (nodes at heights 8, 16, …)
    /// this push completed, lowest first. Most pushes complete none; one in
    /// 256 completes at least one.
    ///
    /// # Panics
    ///
    /// In debug builds, on the 2^64-th leaf (the size would overflow).
    pub fn push(&mut self, leaf: Hash) -> Tiles<'_> {
        // A new leaf at index `size` merges with one peak per trailing one
        // bit of `size`; the i-th merge produces a node of height i.
        let merges = self.size.trailing_ones() as usize;
        let keep = self.peaks.len() - merges;
        let mut h = leaf;
        let mut completed = 0usize;
        for (i, left) in self.peaks[keep..].iter().rev().enumerate() {
            h = node_hash(left, &h);
            let height = i + 1;
            if height % TILE_HEIGHT as usize == 0 {
                self.completed[completed] = h;
                completed += 1;
            }
        }
        self.peaks.truncate(keep);
        self.peaks.push(h);
        self.last_leaf = self.size;
        self.completed_len = completed as u8;
        self.size += 1;
        self.last_tiles()
    }

    /// Appends many leaf hashes, handing every completed tile to `on_tile`.
    pub fn extend<I, F>(&mut self, leaves: I, mut on_tile: F)
    where
        I: IntoIterator<Item = Hash>,
        F: FnMut(TileNode),
    {
        for leaf in leaves {
            for tile in self.push(leaf) {
                on_tile(tile);
            }
        }
    }

    /// The tiles completed by the most recent [`push`](Self::push) (none for a
    /// builder that was just created or restored).
    pub fn last_tiles(&self) -> Tiles<'_> {
        Tiles {
            range: self,
            next: 0,
        }
    }
}

/// Iterator over the tiles completed by one [`CompactRange::push`].
#[derive(Debug, Clone)]
pub struct Tiles<'a> {
    range: &'a CompactRange,
    next: u8,
}

impl Iterator for Tiles<'_> {
    type Item = TileNode;

    fn next(&mut self) -> Option<TileNode> {
        if self.next >= self.range.completed_len {
            return None;
        }
        let hash = self.range.completed[usize::from(self.next)];
        self.next += 1;
        let height = self.next * TILE_HEIGHT;
        Some(TileNode {
            height,
            // The completed node at height h is the one above the new leaf.
            index: self.range.last_leaf >> height,
            hash,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = usize::from(self.range.completed_len - self.next.min(self.range.completed_len));
        (n, Some(n))
    }
}

impl ExactSizeIterator for Tiles<'_> {}

fn peak_ranges(size: u64) -> impl Iterator<Item = (u64, u64)> {
    let mut start = 0u64;
    let mut rest = size;
    std::iter::from_fn(move || {
        if rest == 0 {
            return None;
        }
        let len = 1u64 << (63 - rest.leading_zeros());
        let item = (start, len);
        start += len;
        rest -= len;
        Some(item)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{leaf_hash, root_of_leaf_hashes, MemoryTree};

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    #[test]
    fn root_matches_batch_root_at_every_size() {
        let all = leaves(300);
        let mut range = CompactRange::new();
        assert_eq!(range.root(), EMPTY_ROOT);
        for (i, leaf) in all.iter().enumerate() {
            let _ = range.push(*leaf);
            assert_eq!(range.size(), i as u64 + 1);
            assert_eq!(range.root(), root_of_leaf_hashes(&all[..=i]));
            assert_eq!(range.peaks().len(), range.size().count_ones() as usize);
        }
    }

    #[test]
    fn reports_height_8_tiles() {
        let all = leaves(1024);
        let mut range = CompactRange::new();
        let mut tiles = Vec::new();
        range.extend(all.iter().copied(), |t| tiles.push(t));
        assert_eq!(tiles.len(), 4);
        for (i, t) in tiles.iter().enumerate() {
            assert_eq!(t.height, 8);
            assert_eq!(t.index, i as u64);
            let s = i * 256;
            assert_eq!(t.hash, root_of_leaf_hashes(&all[s..s + 256]));
        }
    }

    #[test]
    fn restores_from_peaks_and_from_source() {
        let all = leaves(777);
        let mut a = CompactRange::new();
        a.extend(all[..500].iter().copied(), |_| {});
        let mut b = CompactRange::from_size_and_peaks(a.size(), a.peaks().to_vec())
            .unwrap_or_else(|e| panic!("{e}"));
        let tree = MemoryTree::from_leaf_hashes(all[..500].to_vec());
        let mut c = CompactRange::from_source(&tree, 500).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(b.peaks(), c.peaks());
        for leaf in &all[500..] {
            let _ = a.push(*leaf);
            let _ = b.push(*leaf);
            let _ = c.push(*leaf);
        }
        assert_eq!(a.root(), root_of_leaf_hashes(&all));
        assert_eq!(b.root(), a.root());
        assert_eq!(c.root(), a.root());
    }

    #[test]
    fn rejects_wrong_peak_count() {
        assert!(CompactRange::from_size_and_peaks(5, vec![[0; 32]]).is_err());
        assert!(CompactRange::from_size_and_peaks(0, vec![]).is_ok());
    }

    #[test]
    fn peak_ranges_cover_the_tree() {
        let r: Vec<_> = CompactRange::peak_ranges(13).collect();
        assert_eq!(r, vec![(0, 8), (8, 4), (12, 1)]);
        assert_eq!(CompactRange::peak_ranges(0).count(), 0);
    }
}
