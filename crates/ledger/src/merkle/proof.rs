//! Roots and proofs computed from perfect subtrees (RFC 9162 §2.1.1,
//! §2.1.3.1, §2.1.4.1).

use super::{fold_peaks, split_point, Hash, EMPTY_ROOT};

/// Anything that can return the root of a perfect, aligned subtree of a log.
///
/// `perfect_subtree(start, size)` is the root of the leaves
/// `[start, start + size)`, where `size` is a power of two and `start` a
/// multiple of `size`. Callers in this module only ask for subtrees that lie
/// entirely below the tree size they were given; an implementation should
/// still report an error (not panic) when asked for leaves it does not have.
///
/// This is the only primitive the proof algorithms need, and it is the one a
/// store can answer with a bounded amount of I/O (see
/// [`subtree_from_tiles`](super::subtree_from_tiles)).
pub trait SubtreeSource {
    /// Why a subtree could not be produced (I/O failure, missing data, …).
    type Error;

    /// Returns the root of the perfect subtree over `[start, start + size)`.
    fn perfect_subtree(&self, start: u64, size: u64) -> Result<Hash, Self::Error>;
}

impl<S: SubtreeSource + ?Sized> SubtreeSource for &S {
    type Error = S::Error;

    fn perfect_subtree(&self, start: u64, size: u64) -> Result<Hash, Self::Error> {
        (**self).perfect_subtree(start, size)
    }
}

/// Why a root or proof could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum ProofError<E> {
    /// The leaf index is not inside the tree.
    #[error("leaf index {index} is not below tree size {size}")]
    IndexOutOfRange {
        /// The requested leaf index.
        index: u64,
        /// The tree size the proof was requested for.
        size: u64,
    },
    /// A consistency proof needs `0 < size1 <= size2` (see
    /// [`verify_consistency`](super::verify_consistency) for why 0 is out).
    #[error("no consistency proof from tree size {size1} to {size2}: need 0 < size1 <= size2")]
    InvalidSizes {
        /// The older tree size.
        size1: u64,
        /// The newer tree size.
        size2: u64,
    },
    /// The subtree source failed.
    #[error("reading a subtree failed")]
    Source(#[source] E),
}

/// The root of the tree made of the first `size` leaves of `src`
/// (`MTH(D[0:size])`); the empty root for `size = 0`.
///
/// Costs one `perfect_subtree` call per one bit of `size`.
pub fn root<S: SubtreeSource + ?Sized>(src: &S, size: u64) -> Result<Hash, ProofError<S::Error>> {
    if size == 0 {
        return Ok(EMPTY_ROOT);
    }
    range_root(src, 0, size)
}

/// The inclusion proof (audit path) of leaf `index` in the tree of the first
/// `size` leaves, ordered from the leaf's sibling up to the root's child, as
/// in RFC 9162 §2.1.3.1.
///
/// At most `log2(size) + popcount(size)` `perfect_subtree` calls: the walk
/// down the tree meets at most one sibling that is not itself perfect.
pub fn inclusion_proof<S: SubtreeSource + ?Sized>(
    src: &S,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, ProofError<S::Error>> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    // PATH(m, D[start:start+len]) unrolled top-down; the proof lists the
    // siblings bottom-up, hence the final reverse.
    let mut proof = Vec::with_capacity(64 - size.leading_zeros() as usize);
    let (mut start, mut len) = (0u64, size);
    while len > 1 {
        let k = split_point(len);
        if index - start < k {
            proof.push(range_root(src, start + k, len - k)?);
            len = k;
        } else {
            proof.push(perfect(src, start, k)?);
            start += k;
            len -= k;
        }
    }
    proof.reverse();
    Ok(proof)
}

/// The consistency proof between the trees of the first `size1` and the first
/// `size2` leaves, as in RFC 9162 §2.1.4.1.
///
/// Equal sizes give the empty proof. `size1 = 0` is refused, matching the
/// verifier: a proof from the empty tree proves nothing.
pub fn consistency_proof<S: SubtreeSource + ?Sized>(
    src: &S,
    size1: u64,
    size2: u64,
) -> Result<Vec<Hash>, ProofError<S::Error>> {
    if size1 == 0 || size1 > size2 {
        return Err(ProofError::InvalidSizes { size1, size2 });
    }
    let mut proof = Vec::with_capacity(64 - size2.leading_zeros() as usize + 1);
    if size1 == size2 {
        return Ok(proof);
    }
    // SUBPROOF(m, D[start:start+len], b) unrolled top-down.
    let (mut start, mut len, mut m, mut whole) = (0u64, size2, size1, true);
    loop {
        if m == len {
            // Only reached after a left step (m == n is handled above), so
            // [start, start + len) is perfect here.
            if !whole {
                proof.push(perfect(src, start, len)?);
            }
            break;
        }
        let k = split_point(len);
        if m <= k {
            proof.push(range_root(src, start + k, len - k)?);
            len = k;
        } else {
            proof.push(perfect(src, start, k)?);
            start += k;
            len -= k;
            m -= k;
            whole = false;
        }
    }
    proof.reverse();
    Ok(proof)
}

#[inline]
fn perfect<S: SubtreeSource + ?Sized>(
    src: &S,
    start: u64,
    size: u64,
) -> Result<Hash, ProofError<S::Error>> {
    src.perfect_subtree(start, size).map_err(ProofError::Source)
}

/// `MTH(D[start:start+len])` for a range that the RFC recursion can produce:
/// `start` is a multiple of the smallest power of two `>= len`, so the range
/// is a run of perfect subtrees of decreasing size (one per bit of `len`),
/// combined right to left.
fn range_root<S: SubtreeSource + ?Sized>(
    src: &S,
    start: u64,
    len: u64,
) -> Result<Hash, ProofError<S::Error>> {
    debug_assert!(len > 0);
    let mut peaks = [[0u8; 32]; 64];
    let mut n = 0usize;
    let mut at = start;
    let mut rest = len;
    while rest > 0 {
        let size = 1u64 << (63 - rest.leading_zeros());
        peaks[n] = perfect(src, at, size)?;
        n += 1;
        at += size;
        rest -= size;
    }
    Ok(fold_peaks(&peaks[..n]))
}
