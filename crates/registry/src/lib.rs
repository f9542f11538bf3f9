//! The registry engine: what Tracemark does, independent of how it is asked.
//!
//! The CLI (and the HTTP API to come) call this crate; it combines the pure domain, the
//! ledger and a [`Store`](tracemark_store::Store). It owns the node's signing key.
//!
//! - [`node`]: creating and opening a node (store + signing key).
//! - [`envelope`]: the ledger's leaf format (canonical JSON, versioned).
//! - [`federation`]: the node's federation identity (`federation.key`), its peer directory, and
//!   the inbox that receives peers' envelopes ([`federation::receive`]).
//! - [`import`]: validated, idempotent, all-or-nothing import of JSON Lines.
//! - [`query`]: items and chains of custody.
//! - [`register`]: import of register exports (CSV, spreadsheets) through the same engine,
//!   with a validation report by row and column.
//! - [`proofs`]: leaves, checkpoints, inclusion and consistency proofs.
//! - [`search`]: the identification search index, kept beside the store and caught up.
//! - [`verify`]: recompute everything from the ledger and compare.
//!
//! **Architecture invariant:** time comes from a [`Clock`] given by the caller; nothing here
//! reads the system clock, so tests control every timestamp that reaches the ledger.

pub mod audit;
pub mod envelope;
pub mod federation;
pub mod holdings;
pub mod import;
mod lines;
pub mod node;
pub mod proofs;
pub mod query;
pub mod register;
pub mod search;
pub mod traces;
pub mod tracing;
pub mod verify;

pub use node::{Location, Node, NodeError};

/// Where the time of acceptance comes from.
pub trait Clock {
    /// The current instant as RFC 3339 UTC (`2026-11-25T15:13:01Z`).
    fn now_rfc3339(&self) -> String;
}

/// The wall clock. Only binaries construct it; everything below them takes a `Clock`.
/// Reading the system clock anywhere else is refused by clippy (`clippy.toml`).
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the one place the wall clock is read
    fn now_rfc3339(&self) -> String {
        let now = time::OffsetDateTime::now_utc();
        let now = now.replace_nanosecond(0).unwrap_or(now);
        now.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
    }
}

/// A clock that always says the same instant, for tests and reproducible runs.
pub struct FixedClock(pub String);

impl Clock for FixedClock {
    fn now_rfc3339(&self) -> String {
        self.0.clone()
    }
}
