//! Proof verification, transcribed from RFC 9162 §2.1.3.2 and §2.1.4.2.
//!
//! The step numbers in the comments are the RFC's, so the code can be checked
//! against the text line by line.

use super::{node_hash, Hash};

/// Why a proof did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The leaf index is not inside the tree.
    #[error("leaf index {index} is not below tree size {size}")]
    IndexOutOfRange {
        /// The claimed leaf index.
        index: u64,
        /// The claimed tree size.
        size: u64,
    },
    /// The proof has more hashes than the tree shape allows.
    #[error("proof is too long for the tree size")]
    ProofTooLong,
    /// The proof has fewer hashes than the tree shape needs.
    #[error("proof is too short for the tree size")]
    ProofTooShort,
    /// The recomputed root differs from the expected root.
    #[error("recomputed root does not match the expected root")]
    RootMismatch,
    /// The sizes cannot be checked for consistency: `size1` is 0 or larger
    /// than `size2`.
    #[error("no consistency between tree sizes {size1} and {size2}: need 0 < size1 <= size2")]
    InvalidSizes {
        /// The older tree size.
        size1: u64,
        /// The newer tree size.
        size2: u64,
    },
    /// The consistency proof is empty although the sizes differ.
    #[error("consistency proof is empty but the tree sizes differ")]
    EmptyProof,
    /// The sizes are equal but a proof was supplied.
    #[error("tree sizes are equal, so the consistency proof must be empty")]
    UnexpectedProof,
    /// The proof does not lead back to the older root.
    #[error("consistency proof does not match the first root")]
    FirstRootMismatch,
    /// The proof does not lead to the newer root.
    #[error("consistency proof does not match the second root")]
    SecondRootMismatch,
}

/// Recomputes the root implied by an inclusion proof (RFC 9162 §2.1.3.2,
/// steps 1–4 plus the `sn = 0` check of step 5).
pub fn root_from_inclusion_proof(
    leaf_hash: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
) -> Result<Hash, VerifyError> {
    // 1. leaf_index must be below tree_size.
    if index >= size {
        return Err(VerifyError::IndexOutOfRange { index, size });
    }
    // 2. fn = leaf_index, sn = tree_size - 1.
    let (mut fnode, mut snode) = (index, size - 1);
    // 3. r = hash.
    let mut r = *leaf_hash;
    // 4. For each p in the inclusion path:
    for p in proof {
        // a. If sn is 0, the proof is too long.
        if snode == 0 {
            return Err(VerifyError::ProofTooLong);
        }
        // b. If LSB(fn) is set, or fn == sn: r = HASH(0x01 || p || r), and if
        //    LSB(fn) is not set, shift until it is or fn is 0.
        //    Otherwise r = HASH(0x01 || r || p).
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        // c. Shift fn and sn once.
        fnode >>= 1;
        snode >>= 1;
    }
    // 5. sn must be 0 ...
    if snode != 0 {
        return Err(VerifyError::ProofTooShort);
    }
    Ok(r)
}

/// Verifies that `leaf_hash` is the leaf at `index` of the tree of `size`
/// leaves with root `root` (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    leaf_hash: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), VerifyError> {
    let r = root_from_inclusion_proof(leaf_hash, index, size, proof)?;
    // 5. ... and r must equal the root.
    if &r != root {
        return Err(VerifyError::RootMismatch);
    }
    Ok(())
}

/// Verifies that the tree of `size2` leaves with root `root2` extends the tree
/// of `size1` leaves with root `root1` (RFC 9162 §2.1.4.2).
///
/// Edge rules, which RFC 9162 leaves to the caller and which follow the
/// transparency-dev conformance vectors:
///
/// * `size1 = 0` is always an error ([`VerifyError::InvalidSizes`]), even with
///   `size2 = 0`. Every tree extends the empty tree, so such a "proof" carries
///   no information; accepting it would let a caller believe it checked
///   something. Callers that start from nothing should trust the first
///   checkpoint they see instead of asking for a proof.
/// * `size1 > size2` is an error.
/// * `size1 = size2 > 0`: the proof must be empty and `root1` must equal
///   `root2`.
/// * `size1 < size2`: the RFC algorithm, which fails on an empty proof.
pub fn verify_consistency(
    size1: u64,
    size2: u64,
    root1: &Hash,
    root2: &Hash,
    proof: &[Hash],
) -> Result<(), VerifyError> {
    if size1 == 0 || size1 > size2 {
        return Err(VerifyError::InvalidSizes { size1, size2 });
    }
    if size1 == size2 {
        if !proof.is_empty() {
            return Err(VerifyError::UnexpectedProof);
        }
        if root1 != root2 {
            return Err(VerifyError::RootMismatch);
        }
        return Ok(());
    }
    // 1. An empty path fails.
    let Some((first, rest)) = proof.split_first() else {
        return Err(VerifyError::EmptyProof);
    };
    // 2. If `first` is an exact power of 2, prepend first_hash to the path.
    //    Done without copying: the path is then root1 followed by all of
    //    `proof`, otherwise `proof[0]` followed by the rest.
    let (seed, path) = if size1.is_power_of_two() {
        (root1, proof)
    } else {
        (first, rest)
    };
    // 3. fn = first - 1, sn = second - 1.
    let (mut fnode, mut snode) = (size1 - 1, size2 - 1);
    // 4. If LSB(fn) is set, shift both until it is not.
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    // 5. fr and sr start as the first value of the path.
    let (mut fr, mut sr) = (*seed, *seed);
    // 6. For each subsequent value c:
    for c in path {
        // a. If sn is 0, the proof is too long.
        if snode == 0 {
            return Err(VerifyError::ProofTooLong);
        }
        // b. If LSB(fn) is set or fn == sn: fold c into both, then shift
        //    until LSB(fn) is set or fn is 0. Otherwise fold c into sr only.
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        // c. Shift both once.
        fnode >>= 1;
        snode >>= 1;
    }
    // 7. fr == first_hash, sr == second_hash and sn == 0.
    if snode != 0 {
        return Err(VerifyError::ProofTooShort);
    }
    if &fr != root1 {
        return Err(VerifyError::FirstRootMismatch);
    }
    if &sr != root2 {
        return Err(VerifyError::SecondRootMismatch);
    }
    Ok(())
}
