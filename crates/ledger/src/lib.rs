//! The registry's tamper-evident ledger: an append-only Merkle log whose
//! state is published as signed checkpoints.
//!
//! Every record the registry accepts becomes one leaf of an [RFC 6962] /
//! [RFC 9162] Merkle tree. A log operator periodically signs the tree head
//! (origin, size, root) as a [C2SP checkpoint], a small text format that
//! standard transparency-log tooling (witnesses, monitors, `sumdb`-style
//! clients) already understands. Anyone holding two checkpoints can ask for a
//! consistency proof that the later tree extends the earlier one, and anyone
//! holding a record can ask for an inclusion proof that it is in the tree, so
//! a record cannot be quietly changed or removed after the fact.
//!
//! This crate is pure computation: no I/O, no clock, no database. Stores plug
//! in through [`merkle::SubtreeSource`] and persist what
//! [`merkle::CompactRange`] hands them; the crate never sees a connection.
//!
//! # Modules
//!
//! * [`merkle`]: leaf and node hashing, the incremental tree builder,
//!   inclusion and consistency proofs computed from `O(log n)` perfect
//!   subtrees, the tile scheme stores use to answer those cheaply, and pure
//!   proof verification checked against the transparency-dev conformance
//!   vectors.
//! * [`note`]: [C2SP signed notes] with Ed25519 keys, in the key and
//!   signature encodings of `golang.org/x/mod/sumdb/note`, so our keys and
//!   notes interoperate with the Go ecosystem.
//! * [`checkpoint`]: the checkpoint note body and helpers to sign and open
//!   one.
//! * [`canonical`]: RFC 8785 JSON canonicalization, so that a record has one
//!   byte encoding and therefore one leaf hash.
//!
//! [RFC 6962]: https://www.rfc-editor.org/rfc/rfc6962.html
//! [RFC 9162]: https://www.rfc-editor.org/rfc/rfc9162.html
//! [C2SP checkpoint]: https://c2sp.org/tlog-checkpoint
//! [C2SP signed notes]: https://c2sp.org/signed-note

pub mod canonical;
pub mod checkpoint;
pub mod merkle;
pub mod note;

pub use canonical::{canonical_json, CanonicalError};
pub use checkpoint::{open_checkpoint, sign_checkpoint, Checkpoint, CheckpointError};
pub use merkle::{Hash, SubtreeSource};
pub use note::{open_note, NoteError, NoteSigner, NoteVerifier, VerifiedNote};
