//! Marking normalization and the identification search index of Tracemark.
//!
//! A weapon is identified by its markings, and markings are read badly: Cyrillic letters that
//! look Latin, Arabic-Indic digits, fullwidth forms, `O` for `0`, a digit filed off. This crate
//! implements the contract's `search` semantics (`/spec/CONTRACT.md` §3):
//!
//! * [`normalize`]: the key functions `C` (canonical), `T` (visual and phonetic transliteration
//!   to Latin) and `F` (misread folding), and the match rule built on them;
//! * [`Index`]: an in-memory index over every marking that answers the four match classes
//!   (`exact`, `normalized`, `wildcard`, `fuzzy`) with the contract's ranking, filters and
//!   `total`, never missing a match the definitions admit, and that snapshots to a file for a
//!   fast restart;
//! * [`Query`], [`SearchResult`], [`Hit`]: the request and the answer.
//!
//! The index is derived data: the registry rebuilds it from its records (or from a snapshot)
//! and feeds it item attributes and markings; it does no I/O of its own besides the snapshot
//! streams it is handed.
//!
//! Architecture invariant: nothing here knows about the store, the ledger or HTTP.

pub mod index;
pub mod normalize;
pub mod query;
pub mod runs;
pub mod snapshot;

pub use index::{Index, IndexError, ItemAttrs, MemoryUsage, SERIAL_LIKE_KINDS};
pub use normalize::{canonical, keys, Keys};
pub use query::{Hit, MatchClass, Mode, Query, QueryError, SearchResult};
pub use runs::{osa_distance, Tuning};
pub use snapshot::SnapshotError;
