//! Property tests: generated proofs verify, tampering is detected, the
//! incremental builder agrees with the batch root, and the tile scheme a
//! store uses gives the same subtrees as hashing the leaves directly.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::collections::HashMap;

use proptest::prelude::*;
use tracemark_ledger::merkle::{
    consistency_proof, inclusion_proof, leaf_hash, root, root_of_leaf_hashes, subtree_from_tiles,
    verify_consistency, verify_inclusion, CompactRange, Hash, MemoryTree, SubtreeSource, TileError,
    TILE_HEIGHT,
};

/// What a store keeps: leaf hashes plus the tiles reported by CompactRange.
struct TileStore {
    leaves: Vec<Hash>,
    tiles: HashMap<u8, Vec<Hash>>,
    range: CompactRange,
}

impl TileStore {
    fn new() -> Self {
        Self {
            leaves: Vec::new(),
            tiles: HashMap::new(),
            range: CompactRange::new(),
        }
    }

    fn append(&mut self, leaf: Hash) {
        self.leaves.push(leaf);
        for tile in self.range.push(leaf) {
            assert_eq!(tile.height % TILE_HEIGHT, 0);
            assert!(tile.height > 0);
            let level = self.tiles.entry(tile.height).or_default();
            // Tiles arrive in order, each exactly once.
            assert_eq!(tile.index, level.len() as u64);
            level.push(tile.hash);
        }
    }
}

impl SubtreeSource for TileStore {
    type Error = TileError<String>;

    fn perfect_subtree(&self, start: u64, size: u64) -> Result<Hash, Self::Error> {
        subtree_from_tiles(start, size, |height, first, count| {
            let level = if height == 0 {
                &self.leaves
            } else {
                self.tiles
                    .get(&height)
                    .ok_or_else(|| format!("no tiles at height {height}"))?
            };
            let (a, b) = (first as usize, (first + count) as usize);
            level
                .get(a..b)
                .map(<[Hash]>::to_vec)
                .ok_or_else(|| format!("tiles {a}..{b} at height {height} missing"))
        })
    }
}

fn leaves(n: u64, seed: u64) -> Vec<Hash> {
    (0..n)
        .map(|i| leaf_hash(&[seed.to_le_bytes(), i.to_le_bytes()].concat()))
        .collect()
}

fn stores(n: u64, seed: u64) -> (Vec<Hash>, MemoryTree, TileStore) {
    let l = leaves(n, seed);
    let mut tiles = TileStore::new();
    for h in &l {
        tiles.append(*h);
    }
    (l.clone(), MemoryTree::from_leaf_hashes(l), tiles)
}

fn flip(h: &mut Hash, bit: usize) {
    h[(bit / 8) % 32] ^= 1 << (bit % 8);
}

fn ok<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

fn size_and_index() -> impl Strategy<Value = (u64, u64)> {
    (1u64..=2000).prop_flat_map(|n| (Just(n), 0..n))
}

fn sizes_1_to_2() -> impl Strategy<Value = (u64, u64)> {
    (1u64..=2000).prop_flat_map(|n| (1..=n, Just(n)))
}

proptest! {
    #[test]
    fn inclusion_proofs_verify_and_detect_tampering(
        (n, index) in size_and_index(),
        seed in any::<u64>(),
        bit in 0usize..256,
        pick in any::<prop::sample::Index>(),
    ) {
        let (l, mem, tiles) = stores(n, seed);
        let root_hash = ok(root(&tiles, n));
        prop_assert_eq!(root_hash, root_of_leaf_hashes(&l));
        let proof = ok(inclusion_proof(&tiles, index, n));
        prop_assert_eq!(&proof, &ok(inclusion_proof(&mem, index, n)));
        let leaf = l[index as usize];
        prop_assert!(verify_inclusion(&leaf, index, n, &proof, &root_hash).is_ok());

        let mut bad_leaf = leaf;
        flip(&mut bad_leaf, bit);
        prop_assert!(verify_inclusion(&bad_leaf, index, n, &proof, &root_hash).is_err());
        let mut bad_root = root_hash;
        flip(&mut bad_root, bit);
        prop_assert!(verify_inclusion(&leaf, index, n, &proof, &bad_root).is_err());
        if !proof.is_empty() {
            let mut bad = proof.clone();
            let i = pick.index(bad.len());
            flip(&mut bad[i], bit);
            prop_assert!(verify_inclusion(&leaf, index, n, &bad, &root_hash).is_err());
            prop_assert!(verify_inclusion(&leaf, index, n, &proof[1..], &root_hash).is_err());
        }
        let mut longer = proof.clone();
        longer.push(root_hash);
        prop_assert!(verify_inclusion(&leaf, index, n, &longer, &root_hash).is_err());
    }

    #[test]
    fn consistency_proofs_verify_and_detect_tampering(
        (m, n) in sizes_1_to_2(),
        seed in any::<u64>(),
        bit in 0usize..256,
        pick in any::<prop::sample::Index>(),
    ) {
        let (l, mem, tiles) = stores(n, seed);
        let root1 = root_of_leaf_hashes(&l[..m as usize]);
        let root2 = root_of_leaf_hashes(&l);
        prop_assert_eq!(ok(root(&tiles, m)), root1);
        let proof = ok(consistency_proof(&tiles, m, n));
        prop_assert_eq!(&proof, &ok(consistency_proof(&mem, m, n)));
        prop_assert!(verify_consistency(m, n, &root1, &root2, &proof).is_ok());

        let mut bad_root1 = root1;
        flip(&mut bad_root1, bit);
        prop_assert!(verify_consistency(m, n, &bad_root1, &root2, &proof).is_err());
        let mut bad_root2 = root2;
        flip(&mut bad_root2, bit);
        prop_assert!(verify_consistency(m, n, &root1, &bad_root2, &proof).is_err());
        if !proof.is_empty() {
            let mut bad = proof.clone();
            let i = pick.index(bad.len());
            flip(&mut bad[i], bit);
            prop_assert!(verify_consistency(m, n, &root1, &root2, &bad).is_err());
        }
    }

    #[test]
    fn compact_range_matches_batch_root(n in 0u64..=2000, split in any::<prop::sample::Index>(), seed in any::<u64>()) {
        let l = leaves(n, seed);
        let mut a = CompactRange::new();
        a.extend(l.iter().copied(), |_| {});
        prop_assert_eq!(a.size(), n);
        prop_assert_eq!(a.root(), root_of_leaf_hashes(&l));

        // Stop part-way, persist (size, peaks), resume: same result.
        let k = split.index(l.len() + 1);
        let mut b = CompactRange::new();
        b.extend(l[..k].iter().copied(), |_| {});
        let mut c = ok(CompactRange::from_size_and_peaks(b.size(), b.peaks().to_vec()));
        c.extend(l[k..].iter().copied(), |_| {});
        prop_assert_eq!(c.root(), a.root());
        prop_assert_eq!(c, a);
    }

    #[test]
    fn tile_subtrees_equal_memory_tree(
        n in 1u64..=2000,
        seed in any::<u64>(),
        height in 0u32..=10,
        pick in any::<prop::sample::Index>(),
    ) {
        let (_, mem, tiles) = stores(n, seed);
        let height = height.min(63 - n.leading_zeros());
        let size = 1u64 << height;
        let count = n / size;
        let start = pick.index(count as usize) as u64 * size;
        prop_assert_eq!(
            ok(tiles.perfect_subtree(start, size)),
            ok(mem.perfect_subtree(start, size))
        );
    }
}

/// Heights 16 and 17 need more than 2^16 leaves, too many for every proptest
/// case; check them once.
#[test]
fn tiles_above_height_8() {
    let n = (1u64 << 17) + 300;
    let (l, mem, tiles) = stores(n, 42);
    assert_eq!(tiles.tiles.get(&16).map(Vec::len), Some(2));
    assert_eq!(tiles.tiles.get(&8).map(Vec::len), Some(513));
    assert!(!tiles.tiles.contains_key(&24));
    for (start, size) in [
        (0, 1 << 17),
        (1 << 16, 1 << 16),
        (3 << 15, 1 << 15),
        (256 * 300, 256),
        (1 << 17, 256),
        (5 << 9, 1 << 9),
    ] {
        let want = root_of_leaf_hashes(&l[start as usize..(start + size) as usize]);
        assert_eq!(
            ok(tiles.perfect_subtree(start, size)),
            want,
            "[{start}, +{size})"
        );
    }
    assert_eq!(ok(root(&tiles, n)), root_of_leaf_hashes(&l));
    for index in [0, 255, 256, 65_535, 65_536, 100_000, n - 1] {
        let proof = ok(inclusion_proof(&tiles, index, n));
        assert_eq!(proof, ok(inclusion_proof(&mem, index, n)));
    }
    for m in [1, 256, 65_536, 70_000, 1 << 17, n - 1] {
        assert_eq!(
            ok(consistency_proof(&tiles, m, n)),
            ok(consistency_proof(&mem, m, n))
        );
    }
    // Resuming the builder from the store's own data.
    assert_eq!(ok(CompactRange::from_source(&tiles, n)), tiles.range);
}

/// Proof generation asks the source only O(log n) questions.
#[test]
fn proofs_use_logarithmically_many_subtrees() {
    use std::cell::Cell;
    struct Counting<'a>(&'a MemoryTree, Cell<u32>);
    impl SubtreeSource for Counting<'_> {
        type Error = tracemark_ledger::merkle::MemoryTreeError;
        fn perfect_subtree(&self, start: u64, size: u64) -> Result<Hash, Self::Error> {
            self.1.set(self.1.get() + 1);
            self.0.perfect_subtree(start, size)
        }
    }
    let mem = MemoryTree::from_leaf_hashes(leaves(2047, 1));
    let src = Counting(&mem, Cell::new(0));
    for index in [0, 1000, 2046] {
        src.1.set(0);
        let _ = ok(inclusion_proof(&src, index, 2047));
        assert!(src.1.get() <= 2 * 11, "{} calls", src.1.get());
    }
    for m in [1, 5, 1023, 1500, 2046] {
        src.1.set(0);
        let _ = ok(consistency_proof(&src, m, 2047));
        assert!(src.1.get() <= 2 * 11 + 1, "{} calls", src.1.get());
    }
}
