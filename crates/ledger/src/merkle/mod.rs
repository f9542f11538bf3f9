//! RFC 6962 / RFC 9162 Merkle trees: hashing, proofs, verification and the
//! incremental builder a store uses to append leaves.
//!
//! The tree is the one of [RFC 9162 §2.1]: leaves are hashed with a `0x00`
//! prefix and interior nodes with a `0x01` prefix, so a leaf can never be
//! passed off as a node (second-preimage resistance), and the tree over `n`
//! leaves splits at the largest power of two smaller than `n`.
//!
//! Everything that *produces* a root or a proof is written against
//! [`SubtreeSource`], which only has to answer "what is the root of this
//! perfect, aligned subtree?". Every root and proof of an RFC 6962 tree is a
//! combination of `O(log n)` such subtrees, so a store that can answer the
//! question cheaply (from stored leaf hashes plus stored "tiles", see
//! [`subtree_from_tiles`]) gets roots and proofs in `O(log n)` reads without
//! ever holding the tree in memory.
//!
//! Verification ([`verify_inclusion`], [`verify_consistency`]) is pure and
//! follows RFC 9162 §2.1.3.2 and §2.1.4.2 step by step, because that is what
//! independent verifiers will run against our proofs.
//!
//! [RFC 9162 §2.1]: https://www.rfc-editor.org/rfc/rfc9162.html#section-2.1

mod compact;
mod memory;
mod proof;
mod tiles;
mod verify;

use sha2::{Digest, Sha256};

pub use compact::{CompactRange, CompactRangeError, TileNode, Tiles};
pub use memory::{MemoryTree, MemoryTreeError};
pub use proof::{consistency_proof, inclusion_proof, root, ProofError, SubtreeSource};
pub use tiles::{subtree_from_tiles, TileError, TILE_HEIGHT};
pub use verify::{root_from_inclusion_proof, verify_consistency, verify_inclusion, VerifyError};

/// A SHA-256 digest: a leaf hash, a node hash or a tree root.
pub type Hash = [u8; 32];

/// Domain-separation prefix of leaf hashes (RFC 6962 §2.1).
const LEAF_PREFIX: u8 = 0x00;
/// Domain-separation prefix of interior node hashes (RFC 6962 §2.1).
const NODE_PREFIX: u8 = 0x01;

/// The root of the empty tree: `SHA-256("")`.
pub const EMPTY_ROOT: Hash = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

/// Hashes a leaf: `SHA-256(0x00 ‖ data)`.
#[inline]
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([LEAF_PREFIX]);
    h.update(data);
    h.finalize().into()
}

/// Hashes an interior node: `SHA-256(0x01 ‖ left ‖ right)`.
///
/// The 65-byte input is assembled on the stack and hashed in one call: this is
/// the hot path of every root computation, so it must not allocate.
#[inline]
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut buf = [0u8; 65];
    buf[0] = NODE_PREFIX;
    buf[1..33].copy_from_slice(left);
    buf[33..].copy_from_slice(right);
    Sha256::digest(buf).into()
}

/// The root of the empty tree, `SHA-256("")` (RFC 9162 §2.1.1).
#[inline]
pub fn empty_root() -> Hash {
    EMPTY_ROOT
}

/// Computes the root of the tree whose leaf hashes are `leaves`.
///
/// This is the fast path for building a root from scratch (for example over a
/// batch before it is appended, or to check a store). It streams the leaves
/// through a fixed-size stack of peaks, so it does exactly `n - 1` node hashes
/// and never allocates, whatever the size.
pub fn root_of_leaf_hashes(leaves: &[Hash]) -> Hash {
    // One peak per bit of the count; a slice can't hold more than 2^64 items.
    let mut peaks = [[0u8; 32]; 64];
    let mut len = 0usize;
    for (i, leaf) in leaves.iter().enumerate() {
        let mut h = *leaf;
        // Each trailing one bit of `i` is a complete subtree to merge with.
        let mut merges = (i as u64).trailing_ones();
        while merges > 0 {
            len -= 1;
            h = node_hash(&peaks[len], &h);
            merges -= 1;
        }
        peaks[len] = h;
        len += 1;
    }
    fold_peaks(&peaks[..len])
}

/// Folds peaks (largest subtree first) into a root, right to left, which is
/// how RFC 6962 combines the perfect subtrees of an unbalanced tree.
pub(crate) fn fold_peaks(peaks: &[Hash]) -> Hash {
    let Some((last, rest)) = peaks.split_last() else {
        return EMPTY_ROOT;
    };
    rest.iter().rev().fold(*last, |acc, p| node_hash(p, &acc))
}

/// The largest power of two strictly smaller than `n` (`n >= 2`): the split
/// point `k` of RFC 9162 §2.1.1.
#[inline]
pub(crate) fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        let want: Hash = Sha256::digest(b"").into();
        assert_eq!(empty_root(), want);
        assert_eq!(root_of_leaf_hashes(&[]), want);
    }

    #[test]
    fn split_point_is_largest_power_of_two_below() {
        assert_eq!(split_point(2), 1);
        assert_eq!(split_point(3), 2);
        assert_eq!(split_point(4), 2);
        assert_eq!(split_point(5), 4);
        assert_eq!(split_point(8), 4);
        assert_eq!(split_point(9), 8);
        assert_eq!(split_point(u64::MAX), 1 << 63);
    }

    #[test]
    fn known_root_of_rfc6962_test_leaves() {
        // Leaves and root from the RFC 6962 reference test data.
        let leaves: [&[u8]; 8] = [
            b"",
            b"\x00",
            b"\x10",
            b"\x20\x21",
            b"\x30\x31",
            b"\x40\x41\x42\x43",
            b"\x50\x51\x52\x53\x54\x55\x56\x57",
            b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
        ];
        let hashes: Vec<Hash> = leaves.iter().map(|l| leaf_hash(l)).collect();
        let root = root_of_leaf_hashes(&hashes);
        let hex: String = root.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
        );
    }
}
